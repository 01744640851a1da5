--
-- test/bench/ingest_gen.sql — the input of test/bench/ingest_bench.sh: a
-- tenant with W workers and one phone each, and N location fixes as the
-- phones would upload them, cut into batches, in schema bench.
--
-- Not run by itself: ingest_bench.sh feeds it to psql (as a superuser, in a
-- fresh database with CREATE EXTENSION fieldops done) with the variables
--
--   workers      W, workers (one phone each)                 (ingest: 50)
--   fixes        N, fixes in all (N / W per phone, the first   (100000)
--                N mod W phones one more)
--   batch        elements per batch                             (100)
--   seed         setseed() argument, in [-1, 1]                 (0.2026)
--   time_format  recorded_at as epoch milliseconds (ms), as Android's
--                Location.getTime(), or ISO 8601 with +08:00 (iso)  (ms)
--
-- What it makes:
--
--   the tenant  "ingest bench", Asia/Shanghai, settings
--               store_off_duty_fixes = true (every fix is stored) and a
--               work_schedule of 07:00-21:00 every day (so the fixes are
--               also on duty: status stored, not off_duty);
--   W workers   BW0001 ... (fieldops.upsert_worker) and one Android phone
--               each, bench-phone-0001 ... (fieldops.register_device).
--               register_device() binds a phone at now(); the fixes are of
--               past days, so the bindings (fieldops.device_binding.bound_at,
--               fieldops.device.bound_at and registered_at) are backdated to
--               30 days before the first fix, and last_seen_at cleared
--               (the phones were not heard of yet): a direct UPDATE of the
--               extension's tables, superuser only, as
--               test/generators/sample_fixes.sql does;
--   the tracks  each phone's working day from 08:30 + 0-45 min (tenant
--               local) of yesterday, one fix every 5-10 s (uniform, whole
--               seconds, plus 0-999 ms); a phone with more fixes than fit
--               in 10 hours continues on the next day, its last day being
--               yesterday.  The day is cut into segments of 60 fixes
--               (5-10 minutes), each stopped (30 %; indoors with
--               probability 0.6), walking (45 %, 1.1-1.6 m/s) or driving
--               (25 %, 6-14 m/s): a base heading plus a slow sinusoidal
--               turn of +-25 degrees, the speed of each step the segment's
--               times 0.85-1.15.  Positions are the cumulative sum of the
--               steps from a start within about 14 x 14 km of central
--               Shanghai (WGS-84).  Each fix reports
--                 provider     gps (network when indoors with probability
--                              0.7, outdoors 0.03)
--                 accuracy_m   gps 3-12 (skewed low), network 15-30
--                 lat, lon     the true position plus uniform noise of
--                              +-0.4 accuracy_m on each axis, 7 decimals
--                 altitude_m   4-10 outdoors, 4-31 indoors (a floor)
--                 speed_mps    the step's speed (0 when stopped),
--                 bearing_deg  the heading, absent when stopped
--                 mock         false
--                 satellites   gps 10-24, network 3-8
--                 cn0_mean_dbhz gps 28-42, network 18-28; cn0_sd_dbhz 4-9
--                 wifi         3-8 access points of the 40 m grid square
--                              of the true position: {"bssid" (lower
--                              case, globally administered unicast,
--                              from md5 of the square and the rank),
--                              "rssi_dbm" -45 to -89, "age_s" 0-7}
--                 cells        one serving LTE cell of China Mobile
--                              (mcc 460, mnc 0) of the 600 m grid square:
--                              {"mcc", "mnc", "lac" (of the 3 km square),
--                              "cid", "signal_dbm" -60 to -109,
--                              "serving": true}
--               Uniform draws come from random() after setseed(seed), in
--               a fixed order (phones, then segments, then fixes); Wi-Fi
--               and cell identities and RSSIs from md5() of the grid square
--               or fix.  So a seed gives the same tracks relative to
--               yesterday; only the dates follow the clock.
--   bench.batch each phone's fixes in time order cut into batches of
--               `batch` elements (the last of a phone may be shorter),
--               numbered 1, 2, ... round-robin over the phones (batch k of
--               every phone before batch k + 1 of any), as a mobile back
--               end forwards many phones' uploads: batch_no, device_uid,
--               device_id, worker_id, n, payload (the JSON array that
--               ingest_fixes() takes);
--   bench.fix_key  (device_id, recorded_at) of every fix, as ingest_fixes()
--               must store it (checked after each run);
--   bench.config   tenant_id, fixes, batches, first and last fix.
--

\set ON_ERROR_STOP 1
SET client_min_messages = warning;
CREATE SCHEMA bench;
CREATE TABLE bench.config (tenant_id bigint, fixes int, batches int, first_at timestamptz, last_at timestamptz);

SELECT fieldops.create_tenant('ingest bench', 'Asia/Shanghai',
    jsonb_build_object('store_off_duty_fixes', true,
                       'work_schedule', jsonb_build_object('mon', '["07:00-21:00"]'::jsonb, 'tue', '["07:00-21:00"]'::jsonb,
                                                           'wed', '["07:00-21:00"]'::jsonb, 'thu', '["07:00-21:00"]'::jsonb,
                                                           'fri', '["07:00-21:00"]'::jsonb, 'sat', '["07:00-21:00"]'::jsonb,
                                                           'sun', '["07:00-21:00"]'::jsonb))) AS tenant \gset
SELECT fieldops.set_tenant(:tenant, false);

CREATE TABLE bench.device (dev_no int PRIMARY KEY, device_uid text NOT NULL, device_id bigint, worker_id bigint);
INSERT INTO bench.device (dev_no, device_uid, worker_id)
SELECT d, format('bench-phone-%s', lpad(d::text, 4, '0')),
       fieldops.upsert_worker(:tenant, format('BW%s', lpad(d::text, 4, '0')), format('Bench worker %s', d))
  FROM generate_series(1, :workers) d;
UPDATE bench.device b
   SET device_id = (SELECT r.device_id FROM fieldops.register_device(:tenant, b.device_uid, b.worker_id, 'android', 'Bench Phone', '14', '3.2.0') r);

-- the draws: phones, segments, fixes, each in a fixed order
SELECT setseed(:seed);
CREATE TABLE bench.gen_phone AS
SELECT d.dev_no,
       d.n_fixes,
       31.2304 + (random() - 0.5) * 0.125 AS lat0,    -- ~14 km
       121.4737 + (random() - 0.5) * 0.15 AS lon0,    -- ~14 km
       floor(random() * 46)::int AS start_min         -- 08:30 + 0..45 min
  FROM (SELECT g AS dev_no, :fixes / :workers + CASE WHEN g <= :fixes % :workers THEN 1 ELSE 0 END AS n_fixes
          FROM generate_series(1, :workers) g) d
 ORDER BY d.dev_no;
CREATE TABLE bench.gen_seg AS
SELECT p.dev_no, s.seg,
       random() AS r_mode, random() * 360 AS heading0, random() AS r_speed, random() AS r_indoor, random() * 6.283 AS phase
  FROM bench.gen_phone p, LATERAL generate_series(0, (p.n_fixes - 1) / 60) s(seg)
 ORDER BY p.dev_no, s.seg;
CREATE TABLE bench.gen_draw AS
SELECT p.dev_no, i.i,
       5 + floor(random() * 6)::int AS dt_s, floor(random() * 1000)::int AS ms,
       random() AS r_spd, random() AS r_nx, random() AS r_ny, random() AS r_prov, random() AS r_acc,
       random() AS r_alt, random() AS r_sat, random() AS r_cn0, random() AS r_cn0sd, random() AS r_nap,
       random() AS r_sig
  FROM bench.gen_phone p, LATERAL generate_series(0, p.n_fixes - 1) i(i)
 ORDER BY p.dev_no, i.i;

-- the tracks (no draws from here on)
CREATE TABLE bench.gen_fix AS
WITH f AS (
    SELECT x.*, p.lat0, p.lon0, p.start_min,
           CASE WHEN s.r_mode < 0.30 THEN 'stop' WHEN s.r_mode < 0.75 THEN 'walk' ELSE 'drive' END AS mode,
           s.r_mode < 0.30 AND s.r_indoor < 0.6 AS indoor,
           CASE WHEN s.r_mode < 0.30 THEN 0
                WHEN s.r_mode < 0.75 THEN 1.1 + 0.5 * s.r_speed
                ELSE 6 + 8 * s.r_speed END * (0.85 + 0.3 * x.r_spd) AS speed,
           (s.heading0 + 25 * sin(x.i / 7.0 + s.phase) + 360)::numeric % 360 AS heading
      FROM bench.gen_draw x
      JOIN bench.gen_phone p ON p.dev_no = x.dev_no
      JOIN bench.gen_seg s ON s.dev_no = x.dev_no AND s.seg = x.i / 60
), c AS (
    SELECT f.*,
           sum(f.dt_s) OVER w AS t_s,
           sum(f.speed * f.dt_s * sin(radians(f.heading::float8))) OVER w AS x_m,
           sum(f.speed * f.dt_s * cos(radians(f.heading::float8))) OVER w AS y_m
      FROM f
    WINDOW w AS (PARTITION BY f.dev_no ORDER BY f.i)
), a AS (
    SELECT c.*,
           c.lat0 + c.y_m / 111320.0 AS lat_true,
           c.lon0 + c.x_m / (111320.0 * cos(radians(c.lat0))) AS lon_true,
           CASE WHEN c.r_prov < CASE WHEN c.indoor THEN 0.7 ELSE 0.03 END THEN 'network' ELSE 'gps' END AS provider
      FROM c
)
SELECT a.dev_no, a.i, a.t_s, a.ms, a.start_min, a.mode, a.indoor, a.provider, a.speed, a.heading,
       a.lat_true, a.lon_true, a.r_nx, a.r_ny, a.r_alt, a.r_sat, a.r_cn0, a.r_cn0sd, a.r_nap, a.r_sig,
       CASE WHEN a.provider = 'gps' THEN 3 + 9 * a.r_acc * a.r_acc ELSE 15 + 15 * a.r_acc END AS acc,
       -- metres east and north of a fixed point, for the radio grids
       floor((a.lon_true - 121.0) * 111320.0 * cos(radians(31.2)) / 40)::bigint AS wx,
       floor((a.lat_true - 31.0) * 111320.0 / 40)::bigint AS wy,
       floor((a.lon_true - 121.0) * 111320.0 * cos(radians(31.2)) / 600)::bigint AS cx,
       floor((a.lat_true - 31.0) * 111320.0 / 600)::bigint AS cy
  FROM a;

-- the instants: 10-hour days, the last one yesterday (tenant-local)
CREATE TABLE bench.gen_elem AS
WITH t AS (
    SELECT g.*,
           (SELECT max(floor(t_s / 36000)) FROM bench.gen_fix) AS last_day,
           ((now() AT TIME ZONE 'Asia/Shanghai')::date - 1) AS yesterday
      FROM bench.gen_fix g
), r AS (
    SELECT t.*,
           ((t.yesterday - (t.last_day - floor(t.t_s / 36000))::int) + time '08:30'
               + make_interval(mins => t.start_min, secs => (t.t_s::bigint % 36000) + t.ms / 1000.0))
               AT TIME ZONE 'Asia/Shanghai' AS at
      FROM t
)
SELECT r.dev_no, r.i, d.device_uid, d.device_id, d.worker_id, r.at,
       jsonb_build_object(
           'device_uid', d.device_uid,
           'recorded_at', CASE :'time_format'
                          WHEN 'iso' THEN to_jsonb(to_char(r.at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD"T"HH24:MI:SS.MS') || '+08:00')
                          ELSE to_jsonb((extract(epoch FROM r.at) * 1000)::bigint) END,
           'lat', round((r.lat_true + (r.r_ny - 0.5) * 0.8 * r.acc / 111320.0)::numeric, 7),
           'lon', round((r.lon_true + (r.r_nx - 0.5) * 0.8 * r.acc / (111320.0 * cos(radians(r.lat_true))))::numeric, 7),
           'accuracy_m', round(r.acc::numeric, 1),
           'altitude_m', round((CASE WHEN r.indoor THEN 4 + 3 * floor(r.r_alt * 10) ELSE 4 + 6 * r.r_alt END)::numeric, 1),
           'speed_mps', round(r.speed::numeric, 2),
           'provider', r.provider,
           'mock', false,
           'satellites', CASE WHEN r.provider = 'gps' THEN 10 + floor(r.r_sat * 15) ELSE 3 + floor(r.r_sat * 6) END,
           'cn0_mean_dbhz', round((CASE WHEN r.provider = 'gps' THEN 28 + 14 * r.r_cn0 ELSE 18 + 10 * r.r_cn0 END)::numeric, 1),
           'cn0_sd_dbhz', round((4 + 5 * r.r_cn0sd)::numeric, 1),
           'wifi', (SELECT jsonb_agg(jsonb_build_object(
                               'bssid', lpad(to_hex(('x' || substr(h.h, 1, 2))::bit(8)::int & 252), 2, '0')
                                        || regexp_replace(substr(h.h, 3, 10), '(..)', ':\1', 'g'),
                               'rssi_dbm', -45 - ('x' || substr(md5(format('rssi %s %s %s', r.dev_no, r.i, k)), 1, 4))::bit(16)::int % 45,
                               'age_s', ('x' || substr(md5(format('age %s %s %s', r.dev_no, r.i, k)), 1, 4))::bit(16)::int % 8)
                           ORDER BY k)
                      FROM generate_series(0, 2 + floor(r.r_nap * 6)::int) k,
                           LATERAL (SELECT md5(format('ap %s %s %s', r.wx, r.wy, k))) h(h)),
           'cells', jsonb_build_array(jsonb_build_object(
                        'mcc', 460, 'mnc', 0,
                        'lac', 20000 + ((r.cx / 5) * 37 + (r.cy / 5)) % 5000,
                        'cid', ('x' || substr(md5(format('cell %s %s', r.cx, r.cy)), 1, 7))::bit(28)::int,
                        'signal_dbm', -60 - floor(r.r_sig * 50),
                        'serving', true)))
       || CASE WHEN r.speed > 0 THEN jsonb_build_object('bearing_deg', round(r.heading, 1) % 360) ELSE '{}' END AS elem
  FROM r JOIN bench.device d ON d.dev_no = r.dev_no;

-- batches: each phone's fixes in time order, round-robin over the phones
CREATE TABLE bench.batch AS
SELECT row_number() OVER (ORDER BY x.k, x.dev_no)::int AS batch_no, x.dev_no, x.device_uid, x.device_id, x.worker_id,
       x.n, x.payload
  FROM (SELECT e.dev_no, e.i / :batch AS k, e.device_uid, e.device_id, e.worker_id, count(*)::int AS n,
               jsonb_agg(e.elem ORDER BY e.i) AS payload
          FROM bench.gen_elem e
         GROUP BY e.dev_no, e.i / :batch, e.device_uid, e.device_id, e.worker_id) x;
ALTER TABLE bench.batch ADD PRIMARY KEY (batch_no);
CREATE TABLE bench.fix_key AS SELECT device_id, at AS recorded_at FROM bench.gen_elem;
ALTER TABLE bench.fix_key ADD PRIMARY KEY (device_id, recorded_at);
INSERT INTO bench.config
SELECT :tenant, (SELECT count(*) FROM bench.gen_elem), (SELECT count(*) FROM bench.batch),
       (SELECT min(at) FROM bench.gen_elem), (SELECT max(at) FROM bench.gen_elem);
DROP TABLE bench.gen_draw, bench.gen_seg, bench.gen_fix, bench.gen_elem;

-- the phones were bound 30 days before the first fix (superuser shortcut, see the header)
UPDATE fieldops.device_binding x SET bound_at = c.first_at - interval '30 days'
  FROM bench.config c, bench.device d
 WHERE x.tenant_id = c.tenant_id AND x.device_id = d.device_id AND x.unbound_at IS NULL;
UPDATE fieldops.device x SET bound_at = c.first_at - interval '30 days', registered_at = c.first_at - interval '30 days',
                             last_seen_at = NULL
  FROM bench.config c, bench.device d
 WHERE x.tenant_id = c.tenant_id AND x.device_id = d.device_id;

-- the daily partitions (UTC days) as the fix_partitions job would have
-- made them: the fixes' days, the :history_days days before them (a tenant
-- that keeps its fixes for months has as many partitions; they are empty
-- here) and the 7 days after
SELECT count(*) AS partitions_created
  FROM bench.config c, fieldops.ensure_fix_partitions((c.first_at AT TIME ZONE 'UTC')::date - :history_days,
                                                      (c.last_at AT TIME ZONE 'UTC')::date + 7);

-- the cursor both cases draw batch numbers from
CREATE SEQUENCE bench.next_batch;
VACUUM ANALYZE bench.batch, bench.fix_key, bench.device;
