--
-- test/generators/sample_spoofers.sql — a working day of honest workers and
-- spoofers, for the spoof scoring of a tenant made by sample_tenant.sql
--
--   psql -v ON_ERROR_STOP=1 -f test/generators/sample_spoofers.sql mydb
--   psql -c "SELECT * FROM fieldops_sample.generate_spoof_day(<tenant>)" mydb     -- ~10 s
--
-- fieldops_sample.generate_spoof_day(p_tenant_id bigint, p_workers int DEFAULT 10)
-- picks p_workers sales reps, gives their shops a radio environment, sends
-- three earlier working days of honest visits through fieldops.ingest_fixes(),
-- lets the radio map learn them (fieldops.refresh_radio_map()), then sends
-- "the demo day" on which four of them cheat, and returns one row per worker:
-- story, phone, fixes and bands.  Once per tenant (a second call only returns
-- the summary); fieldops_sample.spoof_worker keeps who told which story.
--
-- The days (tenant-local, from the tenant's default work_schedule: for the
-- sample tenant Asia/Shanghai, Mon-Fri 08:30-12:00 and 13:00-17:30):
--   the demo day     the last working day before today;
--   earlier days     the three working days before it.
-- Their fix partitions are created first (fieldops.ensure_fix_partitions).
--
-- The workers (rules on the seeded tenant, not ids): active workers of the
-- sales teams (team code %-SALES) on the tenant's default hours, not
-- leaving, hired 30 days before the first day, with at least 8 located
-- customers of their own, no fixes yet (so not the mileage sample's
-- workers), and exactly one phone, never re-bound, running Android or
-- HarmonyOS (iOS apps may neither scan Wi-Fi nor read GNSS status); the
-- first p_workers by external_ref, members before leads (with the sample
-- tenant's defaults all 10 are members).  Their phones' bindings are
-- backdated to two months before the first day, as sample_fixes.sql does: a
-- direct UPDATE of fieldops.device_binding and fieldops.device, superuser
-- only.
--
-- The stories (at least 5 workers; with 10: 6 honest, 4 spoofers):
--   honest        every day the same route;
--   mock_at_home  the 2nd worker: a rooted phone with a hidden mock-location
--                 app (the OS flag reads false).  On the demo day he stays
--                 at home and opens the app only to check in, at 4 of his
--                 shops: 3 fixes 10 s apart exactly on the customer's pin,
--                 accuracy 10 m (a whole number, every time), altitude 0,
--                 speed 0; the real GNSS receiver indoors sees 5-7
--                 satellites; the check-in's scan hears the home router and
--                 the neighbours' (access points the map never learned) and
--                 the serving cell is the home's (which the map knows from
--                 the mornings he left home).  Home is 3 km or more from
--                 every shop of his.
--   teleport      the first worker from the 3rd on with a customer 5.5 to
--                 15 km from his other shops (that far shop is part of his
--                 route): on the demo day he skips the drive, waits at the
--                 shop before it, and at the time he would have arrived
--                 switches a (hidden) mock app on for 20 s: 3 fixes at the
--                 far shop (8-14 m off its pin, decimals as a joystick app
--                 makes them), the 2nd the check-in; then the real track
--                 goes on where it was.  The check-in's scan and cell are
--                 the real place's.
--   replay        the 6th worker (or the next free one): a replay app plays
--                 back what his phone recorded at his first three check-ins
--                 of the first earlier day (the stored fixes, read back from
--                 fieldops.fix): the last 90 s of the approach, the check-in
--                 and the fix after it, with the same coordinates, accuracy,
--                 Wi-Fi scan and cells, times moved to the demo day (plus
--                 7-23 minutes); nothing in between (the app is closed).
--   emulator      the 8th worker (or the next free one) runs the app in an
--                 Android emulator on a PC at home: a new device
--                 "sdk_gphone64_x86_64" bound to him that morning (backdated
--                 like the phones); 2 fixes 10 s apart at 3 customers, at
--                 points clicked on a map 8-25 m from the pins (6 decimals),
--                 accuracy 5, altitude 0, the emulator's GNSS: 8 satellites
--                 all at 30 dB-Hz (sd 0), its virtual Wi-Fi (one access point,
--                 02:15:b2:00:01:00, locally administered) and its test
--                 network's cell (MCC 310, MNC 260); integrity
--                 {"basic": false, "device": false, "strong": false}.
--
-- A working day of a worker (honest, and the spoofers' earlier days): 5
-- visits (the teleporter: 4 near shops and the far one), spread over the
-- working ranges in proportion to their length (2 before lunch and 3 after
-- for the sample tenant), each in its slot: the range divided evenly.  The
-- shops' order turns by one every day (the far shop stays 4th).  The app
-- tracks on the way to a visit and during it, not in between (nor at lunch):
--   leaving home  at the start of the first range + 2-8 min: 6-9 fixes 10 s
--                 apart at home (an apartment: altitude ~31 m, indoor);
--   leg           at the slot's start + 2-8 min, from where he is to the
--                 shop: along city blocks (east-west then north-south or the
--                 other way), walking 1.2-1.5 m/s under 900 m, otherwise
--                 driving 6-9 m/s; a fix every 10 s;
--   visit         12-22 minutes (less if the slot is short), a fix every
--                 30 s (a still phone), the check-in (with "customer_id")
--                 30 s after arrival; a Wi-Fi scan at the check-in, every
--                 5 minutes and at the last fix.
-- Every fix: provider gps, mock false,
--   position     the true one (on the path; at a shop within ~2 m of its
--                entrance) plus Gaussian noise of 0.55 x accuracy per axis
--                (0.8 of it changing every minute, 0.6 every fix: GNSS
--                errors drift), 7 decimals;
--   accuracy_m   moving 3-7 (6 more on 5 % of fixes), indoors 7-13, at home
--                8-15, one decimal;
--   altitude_m   ellipsoidal: ~13 outdoors, ~14 in shops, ~31 at home
--                (sd 2.5-4), one decimal;
--   speed_mps    moving: the speed over the last 10 s +-6 % (about 0 when
--                setting off, less on arrival); still: |N(0, 0.15)|;
--   bearing_deg  moving: the street's direction +-2.5 degrees; still (and
--                when setting off): none;
--   satellites   moving 14-20, indoors 8-12, home 9-13;
--   cn0          mean moving 34-40, indoors 28-32, home 27-31; sd 3-7;
--   cells        the serving LTE cell and one neighbour of the worker's
--                carrier (MCC 460; MNC 0, 1 or 11 from the prefix of his
--                mobile number): a grid of sites 0.006 x 0.005 degrees
--                (~570 x 555 m, shifted per carrier), three sectors each;
--                ECI = eNB id x 256 + sector, the TAC of a 6 x 6 block of
--                sites; signal -65 - 30 log10(d / 100 m) +- 4 dB;
--   wifi         (scans only) every access point of the place with
--                RSSI = tx - 10 n log10(d) + N(0, 4 dB) (log-distance path
--                loss with shadowing: tx -30 to -38 dBm at 1 m, n = 3.0 in
--                shops, 3.5 through a home's walls) of -90 dBm or more,
--                strongest first, age_s 0-4;
--   integrity    {"basic": true, "device": true, "strong": <60 % of the
--                phones>}: the mobile back end's summary of its attestation
--                check; the phones of the mock, teleport and replay stories
--                are rooted with the root hidden: never strong;
--   client_ip    an address of the carrier's mobile range (illustrative).
-- A shop: its entrance 0-12 m from the customer's pin (pins are geocoded),
-- 2-4 access points of its own 2-10 m from the entrance and 2-4 of its
-- neighbours 20-55 m away; BSSIDs globally administered unicast (first
-- octet & 0xfc) from md5 of the customer's external_ref.  A home: 2.5-4.5 km
-- from the worker's shops (1.5 km or more from each), its router and 3-6
-- neighbours' 4-25 m away.
--
-- Ingest: every phone's day goes to fieldops.ingest_fixes() in one call
-- (fix time order), the earlier days first, then fieldops.refresh_radio_map
-- (p_tenant_id, now()) learns the shops (each heard on 3 days: the sites'
-- stable access points) and the cells, then the demo day: the honest
-- workers, then the spoofers (mock, teleport, replay, emulator: the newest
-- alerts are the emulator's).  Everything runs in one transaction: ingest
-- stamps received_at = now(), so the newest fix of each upload, taken days
-- ago, carries stale_fix (10 points: still green); the others are an
-- offline queue and are spared.
--
-- Determinism.  No random(): every draw is md5 of a fixed key (worker and
-- customer external_ref, day number, segment, fix) mapped to [0, 1)
-- (fieldops_sample.h01) or to N(0, 1) (fieldops_sample.hgauss, Box-Muller).
-- The same seeded tenant gives the same routes, tracks, scans and scores
-- relative to the current date.
--

SET client_min_messages = warning;
CREATE SCHEMA IF NOT EXISTS fieldops_sample;

-- the stories (the report reads the labels)
DROP TABLE IF EXISTS fieldops_sample.spoof_story CASCADE;
CREATE TABLE fieldops_sample.spoof_story (
    story  text PRIMARY KEY,
    ord    int NOT NULL UNIQUE,
    label  text NOT NULL
);
COMMENT ON TABLE fieldops_sample.spoof_story IS
'The stories of the sample spoof day (test/generators/sample_spoofers.sql).';
INSERT INTO fieldops_sample.spoof_story VALUES
    ('honest',       1, 'honest'),
    ('mock_at_home', 2, 'mock app at home'),
    ('teleport',     3, 'teleport and back'),
    ('replay',       4, 'replayed visits'),
    ('emulator',     5, 'app in an emulator');

-- who told which story, per tenant (kept when the script is loaded again)
CREATE TABLE IF NOT EXISTS fieldops_sample.spoof_worker (
    tenant_id   bigint NOT NULL,
    worker_id   bigint NOT NULL,
    ord         int NOT NULL,          -- order of the pick (external_ref)
    story       text NOT NULL,
    device_id   bigint NOT NULL,       -- the device of the demo day (the emulator's for story emulator)
    day         date NOT NULL,         -- the demo day, tenant-local
    first_day   date NOT NULL,         -- the first earlier day
    route       bigint[] NOT NULL,     -- customer ids, in the first day's order
    home_lat    float8 NOT NULL,
    home_lon    float8 NOT NULL,
    PRIMARY KEY (tenant_id, worker_id)
);
COMMENT ON TABLE fieldops_sample.spoof_worker IS
'The sample spoof day per tenant: the chosen workers, their story, route, home and the demo day.';
RESET client_min_messages;

--
-- Deterministic draws, geometry, radio
--

-- (fieldops_sample.h01: a number in [0, 1) from md5 of a key, sample_tenant.sql)

-- a standard normal number from a key (Box-Muller over two h01 draws)
CREATE OR REPLACE FUNCTION fieldops_sample.hgauss(p_key text)
RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT sqrt(-2.0 * ln(1.0 - fieldops_sample.h01(p_key || '/u1'))) * cos(2 * pi() * fieldops_sample.h01(p_key || '/u2'))
$$;

-- metres between two points (equirectangular: exact enough within a city)
CREATE OR REPLACE FUNCTION fieldops_sample.dist_m(p_lat1 float8, p_lon1 float8, p_lat2 float8, p_lon2 float8)
RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT 111319.49 * sqrt((p_lat2 - p_lat1) ^ 2 + ((p_lon2 - p_lon1) * cosd((p_lat1 + p_lat2) / 2)) ^ 2)
$$;

-- a point moved by east/north metres, as [lat, lon]
CREATE OR REPLACE FUNCTION fieldops_sample.move_m(p_lat float8, p_lon float8, p_east float8, p_north float8)
RETURNS float8[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT ARRAY[p_lat + p_north / 111319.49, p_lon + p_east / (111319.49 * cosd(p_lat))]
$$;

-- a globally administered unicast MAC address from a key
CREATE OR REPLACE FUNCTION fieldops_sample.mac(p_key text)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT lpad(to_hex(get_byte(decode(h, 'hex'), 0) & 252), 2, '0') || ':' || substr(h, 3, 2) || ':' || substr(h, 5, 2)
           || ':' || substr(h, 7, 2) || ':' || substr(h, 9, 2) || ':' || substr(h, 11, 2)
      FROM md5(p_key) AS h
$$;

-- the access points around a point: p_n_own at p_own_lo..p_own_hi m, p_n_nb at p_nb_lo..p_nb_hi m
CREATE OR REPLACE FUNCTION fieldops_sample.access_points(p_key text, p_lat float8, p_lon float8,
                                                         p_n_own int, p_own_lo float8, p_own_hi float8,
                                                         p_n_nb int, p_nb_lo float8, p_nb_hi float8)
RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT jsonb_agg(jsonb_build_object('bssid', fieldops_sample.mac(k), 'lat', p[1], 'lon', p[2],
                                        'tx', -30 - 8 * fieldops_sample.h01(k || '/tx'), 'own', g.i <= p_n_own)
                     ORDER BY g.i)
      FROM generate_series(1, p_n_own + p_n_nb) AS g(i)
     CROSS JOIN LATERAL (SELECT p_key || '/ap' || g.i AS k) kk
     CROSS JOIN LATERAL (SELECT CASE WHEN g.i <= p_n_own THEN p_own_lo + (p_own_hi - p_own_lo) * fieldops_sample.h01(k || '/r')
                                     ELSE p_nb_lo + (p_nb_hi - p_nb_lo) * fieldops_sample.h01(k || '/r') END AS r,
                                2 * pi() * fieldops_sample.h01(k || '/a') AS a) ra
     CROSS JOIN LATERAL (SELECT fieldops_sample.move_m(p_lat, p_lon, ra.r * sin(ra.a), ra.r * cos(ra.a)) AS p) pp
$$;

-- a shop: its entrance (0-12 m from the pin) and its access points
CREATE OR REPLACE FUNCTION fieldops_sample.shop_env(p_ref text, p_pin_lat float8, p_pin_lon float8)
RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT jsonb_build_object('lat', e[1], 'lon', e[2],
               'aps', fieldops_sample.access_points('shop ' || p_ref, e[1], e[2],
                          2 + floor(3 * fieldops_sample.h01('shop ' || p_ref || '/own'))::int, 2, 10,
                          2 + floor(3 * fieldops_sample.h01('shop ' || p_ref || '/nb'))::int, 20, 55))
      FROM (SELECT fieldops_sample.move_m(p_pin_lat, p_pin_lon,
                       12 * fieldops_sample.h01('shop ' || p_ref || '/door') * sin(2 * pi() * fieldops_sample.h01('shop ' || p_ref || '/door a')),
                       12 * fieldops_sample.h01('shop ' || p_ref || '/door') * cos(2 * pi() * fieldops_sample.h01('shop ' || p_ref || '/door a'))) AS e) x
$$;

-- a Wi-Fi scan at a true position: log-distance path loss with shadowing, -90 dBm or more
CREATE OR REPLACE FUNCTION fieldops_sample.scan(p_aps jsonb, p_lat float8, p_lon float8, p_key text, p_exp float8 DEFAULT 3.0)
RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT jsonb_agg(jsonb_build_object('bssid', a ->> 'bssid', 'rssi_dbm', r.rssi,
                                        'age_s', floor(5 * fieldops_sample.h01(p_key || '/age ' || (a ->> 'bssid')))::int)
                     ORDER BY r.rssi DESC, a ->> 'bssid')
      FROM jsonb_array_elements(p_aps) AS a
     CROSS JOIN LATERAL (
           SELECT least(-20, round((a ->> 'tx')::float8
                     - 10 * p_exp * log(greatest(1.0, fieldops_sample.dist_m(p_lat, p_lon, (a ->> 'lat')::float8, (a ->> 'lon')::float8)))
                     + 4 * fieldops_sample.hgauss(p_key || '/rssi ' || (a ->> 'bssid'))))::int AS rssi) r
     WHERE r.rssi >= -90
$$;

-- the cells a phone of carrier p_mnc hears at a true position: the serving
-- one (its site's sector) and the neighbour site across the nearest edge
CREATE OR REPLACE FUNCTION fieldops_sample.cells(p_mnc int, p_lat float8, p_lon float8, p_key text)
RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    WITH g AS (
        SELECT (p_lon + p_mnc * 0.0011) / 0.006 AS gx, (p_lat + p_mnc * 0.0009) / 0.005 AS gy
    ), s AS (
        SELECT floor(gx)::int AS ix, floor(gy)::int AS iy,
               (gx - floor(gx) - 0.5) * 0.006 * 111319.49 * cosd(p_lat) AS dx, (gy - floor(gy) - 0.5) * 0.005 * 111319.49 AS dy
          FROM g
    ), two AS (
        SELECT true AS serving, s.ix, s.iy, s.dx, s.dy FROM s
        UNION ALL
        SELECT false, s.ix + CASE WHEN abs(s.dx) >= abs(s.dy) THEN sign(s.dx)::int ELSE 0 END,
               s.iy + CASE WHEN abs(s.dx) < abs(s.dy) THEN sign(s.dy)::int ELSE 0 END,
               s.dx - CASE WHEN abs(s.dx) >= abs(s.dy) THEN sign(s.dx) * 0.006 * 111319.49 * cosd(p_lat) ELSE 0 END,
               s.dy - CASE WHEN abs(s.dx) < abs(s.dy) THEN sign(s.dy) * 0.005 * 111319.49 ELSE 0 END
          FROM s
    )
    SELECT jsonb_agg(jsonb_build_object(
               'mcc', 460, 'mnc', p_mnc,
               'lac', 20000 + floor(9000 * fieldops_sample.h01('tac ' || p_mnc || '/' || floor(t.ix / 6.0) || '/' || floor(t.iy / 6.0)))::int,
               'cid', (100000 + floor(900000 * fieldops_sample.h01('enb ' || p_mnc || '/' || t.ix || '/' || t.iy))::bigint) * 256
                      + 1 + floor(((degrees(atan2(t.dx, t.dy)) + 360)::numeric % 360) / 120)::int,
               'signal_dbm', greatest(-120, least(-50, round(-65 - 30 * log(greatest(30, sqrt(t.dx ^ 2 + t.dy ^ 2)) / 100)
                                                         + 4 * fieldops_sample.hgauss(p_key || '/cell ' || t.serving))::int
                                                  - CASE WHEN t.serving THEN 0 ELSE 6 END)),
               'serving', t.serving, 'radio', 'lte') ORDER BY t.serving DESC)
      FROM two t
$$;

--
-- The day
--

-- the plan: one row per stretch of fixes (temporary, made by generate_spoof_day)
CREATE OR REPLACE FUNCTION fieldops_sample.spoof_plan_table()
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    CREATE TEMP TABLE IF NOT EXISTS spoof_seg (
        pick      int NOT NULL,        -- the worker (order of the pick)
        day_no    int NOT NULL,        -- 1..3 earlier days, 4 the demo day
        seg       int NOT NULL,
        kind      text NOT NULL,       -- home, move, visit, wait, mock, teleport, emulator
        t0        timestamptz NOT NULL,
        dt_s      float8 NOT NULL,
        n         int NOT NULL,
        lat0      float8 NOT NULL,     -- true position (stays), start (move)
        lon0      float8 NOT NULL,
        latc      float8,              -- move: the corner and the end
        lonc      float8,
        lat1      float8,
        lon1      float8,
        speed     float8,
        rep_lat   float8,              -- mock, teleport, emulator: the position reported
        rep_lon   float8,
        aps       jsonb,               -- the access points around the true position
        wall_exp  float8 NOT NULL DEFAULT 3.0,
        checkin   int,                 -- index of the check-in fix
        customer  bigint,
        key       text NOT NULL,
        PRIMARY KEY (pick, day_no, seg)
    ) ON COMMIT DROP;
END
$$;

-- one phone's upload; anything not stored is a mistake of the generator
CREATE OR REPLACE FUNCTION fieldops_sample.spoof_ingest(p_tenant_id bigint, p_fixes jsonb)
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT i.status, min(i.reason) AS reason, count(*) AS n
               FROM fieldops.ingest_fixes(p_tenant_id, p_fixes) i GROUP BY i.status LOOP
        IF r.status <> 'stored' THEN
            RAISE EXCEPTION '% of the % fixes of device % came back %: %', r.n, jsonb_array_length(p_fixes),
                p_fixes -> 0 ->> 'device_uid', r.status, r.reason;
        END IF;
    END LOOP;
END
$$;

-- the generation (generate_spoof_day() calls it once per tenant)
CREATE OR REPLACE FUNCTION fieldops_sample.spoof_generate(p_tenant_id bigint, p_workers int)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path FROM CURRENT
-- (JIT would compile the large expressions of the fixes for 20 seconds)
SET jit = off
AS $$
#variable_conflict use_column
DECLARE
    v_tz text;
    v_schedule jsonb;
    v_today date;
    v_days date[] := '{}';
    d date;
    v_n int;
    p record;
    r record;
    v_picks int;
    v_stories text[];
    v_near bigint[];
    v_cent float8[];
    v_home float8[];
    v_best float8[];
    v_bestd float8;
    v_mind float8;
    v_bound timestamptz;
    v_ranges record;
    v_rs timestamptz[];
    v_re timestamptz[];
    v_k int[];
    v_total float8;
    v_cum float8;
    v_visit int;
    v_order bigint[];
    v_seg int;
    v_t timestamptz;
    v_slot interval;
    v_lim timestamptz;
    v_pos float8[];
    v_env jsonb;
    v_dist float8;
    v_speed float8;
    v_nm int;
    v_ns int;
    v_key text;
    v_cust bigint;
    v_pin float8[];
    v_tp timestamptz;
    v_emu_uid text;
    v_emu bigint;
    v_map jsonb;
BEGIN
    DELETE FROM fieldops_sample.spoof_worker s WHERE s.tenant_id = p_tenant_id;
    PERFORM fieldops.set_tenant(p_tenant_id);
    v_tz := fieldops.tenant_time_zone(p_tenant_id);
    v_schedule := fieldops.tenant_setting(p_tenant_id, 'work_schedule');
    v_today := fieldops.tenant_local_date(p_tenant_id);

    -- the demo day and the three working days before it (oldest first)
    d := v_today - 1;
    FOR i IN 1 .. 60 LOOP
        IF EXISTS (SELECT 1 FROM fieldops.work_schedule_ranges(v_schedule, d)) THEN
            v_days := d || v_days;
            EXIT WHEN cardinality(v_days) = 4;
        END IF;
        d := d - 1;
    END LOOP;
    IF cardinality(v_days) < 4 THEN
        RAISE EXCEPTION 'tenant % has fewer than 4 working days in the 60 days before %', p_tenant_id, v_today;
    END IF;
    PERFORM fieldops.ensure_fix_partitions(v_days[1] - 1, v_days[4]);

    ------------------------------------------------------------------------
    -- the workers (the working tables are temporary; a second tenant in the
    -- same transaction starts afresh)
    IF to_regclass('pg_temp.spoof_pick') IS NOT NULL THEN
        DROP TABLE pg_temp.spoof_pick, pg_temp.spoof_cust, pg_temp.spoof_fix;
    END IF;
    CREATE TEMP TABLE spoof_pick ON COMMIT DROP AS
    SELECT (row_number() OVER (ORDER BY x.is_team_lead, x.external_ref))::int AS pick, x.worker_id, x.external_ref AS ref, x.name, x.hired_on,
           dv.device_id, dv.device_uid, dv.model, dv.app_version,
           CASE WHEN substr(regexp_replace(x.phone, '[^0-9]', '', 'g'), 3, 3) IN
                     ('130', '131', '132', '155', '156', '166', '185', '186') THEN 1
                WHEN substr(regexp_replace(x.phone, '[^0-9]', '', 'g'), 3, 3) IN
                     ('133', '153', '173', '177', '180', '181', '189', '199') THEN 11
                ELSE 0 END AS mnc,
           fieldops_sample.h01('strong ' || dv.device_uid) < 0.6 AS strong,
           'honest'::text AS story, NULL::bigint[] AS route, NULL::bigint AS far,
           NULL::float8 AS home_lat, NULL::float8 AS home_lon
      FROM fieldops.worker x
      JOIN fieldops.team t ON t.tenant_id = x.tenant_id AND t.team_id = x.team_id
      JOIN fieldops.device dv ON dv.tenant_id = x.tenant_id AND dv.worker_id = x.worker_id AND dv.status = 'active'
                             AND COALESCE(dv.model, '') !~ 'Pad' AND dv.platform IN ('android', 'harmonyos')
     WHERE x.tenant_id = p_tenant_id AND x.status = 'active' AND x.left_on IS NULL
       AND x.work_schedule IS NULL AND t.code LIKE '%-SALES'
       AND COALESCE(x.hired_on, v_days[1] - 365) <= v_days[1] - 30
       AND (SELECT count(*) FROM fieldops.device y
             WHERE y.tenant_id = p_tenant_id AND y.worker_id = x.worker_id AND COALESCE(y.model, '') !~ 'Pad') = 1
       AND (SELECT count(*) FROM fieldops.device_binding y
             WHERE y.tenant_id = p_tenant_id AND y.device_id = dv.device_id) = 1
       AND NOT EXISTS (SELECT 1 FROM fieldops.fix f WHERE f.tenant_id = p_tenant_id AND f.worker_id = x.worker_id)
       AND (SELECT count(*) FROM fieldops.customer cu
             WHERE cu.tenant_id = p_tenant_id AND cu.owner_worker_id = x.worker_id AND cu.geom IS NOT NULL) >= 8
     ORDER BY x.is_team_lead, x.external_ref
     LIMIT p_workers;
    SELECT count(*) INTO v_picks FROM spoof_pick;
    IF v_picks < 5 THEN
        RAISE EXCEPTION 'tenant % has % sales workers that fit (at least 5 needed)', p_tenant_id, v_picks;
    END IF;

    -- routes: the densest shop of the worker and its 4 nearest, in
    -- nearest-neighbour order; a far shop (5.5-15 km from all of them)
    -- when there is one, for the teleport story
    CREATE TEMP TABLE spoof_cust (customer_id bigint, ref text, lat float8, lon float8) ON COMMIT DROP;
    FOR p IN SELECT * FROM spoof_pick ORDER BY pick LOOP
        TRUNCATE spoof_cust;
        INSERT INTO spoof_cust
        SELECT cu.customer_id, COALESCE(cu.external_ref, cu.customer_id::text), ST_Y(cu.geom), ST_X(cu.geom)
          FROM fieldops.customer cu
         WHERE cu.tenant_id = p_tenant_id AND cu.owner_worker_id = p.worker_id AND cu.geom IS NOT NULL;
        SELECT a.customer_id INTO v_cust
          FROM spoof_cust a JOIN spoof_cust b ON fieldops_sample.dist_m(a.lat, a.lon, b.lat, b.lon) <= 1500
         GROUP BY a.customer_id, a.ref ORDER BY count(*) DESC, a.ref LIMIT 1;
        v_near := ARRAY[v_cust];
        FOR i IN 2 .. 5 LOOP
            SELECT b.customer_id INTO v_cust
              FROM spoof_cust a, spoof_cust b
             WHERE a.customer_id = v_near[i - 1] AND b.customer_id <> ALL (v_near)
               AND fieldops_sample.dist_m(b.lat, b.lon, (SELECT x.lat FROM spoof_cust x WHERE x.customer_id = v_near[1]),
                                          (SELECT x.lon FROM spoof_cust x WHERE x.customer_id = v_near[1])) <= 3000
             ORDER BY fieldops_sample.dist_m(a.lat, a.lon, b.lat, b.lon), b.ref LIMIT 1;
            EXIT WHEN v_cust IS NULL;
            v_near := v_near || v_cust;
        END LOOP;
        IF cardinality(v_near) < 5 THEN
            -- a scattered worker: the 5 nearest to the densest shop, however far
            SELECT array_agg(b.customer_id ORDER BY fieldops_sample.dist_m(a.lat, a.lon, b.lat, b.lon), b.ref) INTO v_near
              FROM spoof_cust a, spoof_cust b WHERE a.customer_id = v_near[1];
            v_near := v_near[1:5];
        END IF;
        SELECT ARRAY[avg(x.lat), avg(x.lon)] INTO v_cent FROM spoof_cust x WHERE x.customer_id = ANY (v_near[1:4]);
        SELECT b.customer_id INTO v_cust
          FROM spoof_cust b
         WHERE (SELECT min(fieldops_sample.dist_m(b.lat, b.lon, x.lat, x.lon)) FROM spoof_cust x WHERE x.customer_id = ANY (v_near[1:4])) >= 5500
           AND fieldops_sample.dist_m(b.lat, b.lon, v_cent[1], v_cent[2]) <= 15000
         ORDER BY fieldops_sample.dist_m(b.lat, b.lon, v_cent[1], v_cent[2]), b.ref LIMIT 1;
        UPDATE spoof_pick x SET route = v_near, far = v_cust WHERE x.pick = p.pick;
    END LOOP;

    -- the stories: teleport first (it needs a far shop), then the others
    v_stories := array_fill('honest'::text, ARRAY[v_picks]);
    SELECT min(x.pick) INTO v_n FROM spoof_pick x WHERE x.pick >= 3 AND x.far IS NOT NULL;
    IF v_n IS NULL THEN
        RAISE EXCEPTION 'no picked worker of tenant % has a customer 5.5-15 km from his other shops', p_tenant_id;
    END IF;
    v_stories[v_n] := 'teleport';
    FOR r IN SELECT * FROM (VALUES ('mock_at_home', 2), ('replay', 6), ('emulator', 8)) AS v(s, want) LOOP
        v_n := least(r.want, v_picks);
        WHILE v_stories[v_n] <> 'honest' LOOP
            v_n := CASE WHEN v_n >= v_picks THEN 2 ELSE v_n + 1 END;
        END LOOP;
        v_stories[v_n] := r.s;
    END LOOP;
    UPDATE spoof_pick x SET story = v_stories[x.pick],
                            route = CASE WHEN v_stories[x.pick] = 'teleport' THEN x.route[1:4] || x.far ELSE x.route END;

    -- homes: 2.5-4.5 km from the centre of the shops, 1.5 km (the mock
    -- story: 3 km) or more from each of them; eight directions are tried
    FOR p IN SELECT * FROM spoof_pick ORDER BY pick LOOP
        SELECT ARRAY[avg(ST_Y(cu.geom)), avg(ST_X(cu.geom))] INTO v_cent
          FROM fieldops.customer cu WHERE cu.tenant_id = p_tenant_id AND cu.customer_id = ANY (p.route[1:4]);
        v_best := NULL;
        v_bestd := -1;
        FOR k IN 0 .. 7 LOOP
            v_dist := 2500 + 2000 * fieldops_sample.h01('home ' || p.ref || '/r');
            v_home := fieldops_sample.move_m(v_cent[1], v_cent[2],
                          v_dist * sin(2 * pi() * (fieldops_sample.h01('home ' || p.ref || '/a') + k / 8.0)),
                          v_dist * cos(2 * pi() * (fieldops_sample.h01('home ' || p.ref || '/a') + k / 8.0)));
            SELECT min(fieldops_sample.dist_m(v_home[1], v_home[2], ST_Y(cu.geom), ST_X(cu.geom))) INTO v_mind
              FROM fieldops.customer cu WHERE cu.tenant_id = p_tenant_id AND cu.customer_id = ANY (p.route);
            IF v_mind > v_bestd THEN
                v_best := v_home;
                v_bestd := v_mind;
            END IF;
            EXIT WHEN v_mind >= CASE WHEN p.story = 'mock_at_home' THEN 3000 ELSE 1500 END;
        END LOOP;
        UPDATE spoof_pick x SET home_lat = v_best[1], home_lon = v_best[2] WHERE x.pick = p.pick;

        -- the phone was issued two months before the first day (or on
        -- hiring); sample-generator shortcut, superuser only (see the header)
        v_bound := (greatest(COALESCE(p.hired_on, v_days[1] - 60), v_days[1] - 60) + time '09:00') AT TIME ZONE v_tz;
        UPDATE fieldops.device_binding x SET bound_at = v_bound
         WHERE x.tenant_id = p_tenant_id AND x.device_id = p.device_id AND x.unbound_at IS NULL AND x.bound_at > v_bound;
        UPDATE fieldops.device x SET bound_at = v_bound, registered_at = least(x.registered_at, v_bound)
         WHERE x.tenant_id = p_tenant_id AND x.device_id = p.device_id AND x.bound_at > v_bound;
    END LOOP;

    ------------------------------------------------------------------------
    -- the plan of every working day
    PERFORM fieldops_sample.spoof_plan_table();
    TRUNCATE spoof_seg;
    FOR p IN SELECT * FROM spoof_pick ORDER BY pick LOOP
        FOR dn IN 1 .. 4 LOOP
            CONTINUE WHEN dn = 4 AND p.story IN ('replay');          -- (made from the stored fixes below)
            -- the working ranges and how many of the 5 visits each gets
            v_rs := '{}'; v_re := '{}'; v_k := '{}';
            FOR v_ranges IN SELECT g.start_local, g.end_local FROM fieldops.work_schedule_ranges(v_schedule, v_days[dn]) g
                             ORDER BY g.start_local LOOP
                v_rs := v_rs || (v_ranges.start_local AT TIME ZONE v_tz);
                v_re := v_re || (v_ranges.end_local AT TIME ZONE v_tz);
            END LOOP;
            v_total := 0;
            FOR i IN 1 .. cardinality(v_rs) LOOP
                v_total := v_total + extract(epoch FROM v_re[i] - v_rs[i]);
            END LOOP;
            v_cum := 0;
            FOR i IN 1 .. cardinality(v_rs) LOOP
                v_k := v_k || (round(5 * (v_cum + extract(epoch FROM v_re[i] - v_rs[i])) / v_total) - round(5 * v_cum / v_total))::int;
                v_cum := v_cum + extract(epoch FROM v_re[i] - v_rs[i]);
            END LOOP;
            -- the shops in today's order: turned by one a day (the far one stays 4th)
            v_order := '{}';
            FOR i IN 0 .. CASE WHEN p.story = 'teleport' THEN 3 ELSE 4 END LOOP
                v_order := v_order || p.route[1 + (i + dn - 1) % CASE WHEN p.story = 'teleport' THEN 4 ELSE 5 END];
            END LOOP;
            IF p.story = 'teleport' THEN
                v_order := v_order[1:3] || p.route[5] || v_order[4:4];
            END IF;

            v_seg := 0;
            v_visit := 0;
            v_pos := ARRAY[p.home_lat, p.home_lon];
            FOR ri IN 1 .. cardinality(v_rs) LOOP
                CONTINUE WHEN v_k[ri] = 0;
                v_slot := (v_re[ri] - v_rs[ri]) / v_k[ri];
                FOR j IN 0 .. v_k[ri] - 1 LOOP
                    v_visit := v_visit + 1;
                    EXIT WHEN v_visit > cardinality(v_order);
                    v_key := p.ref || '/' || dn || '/' || v_visit;
                    v_cust := v_order[v_visit];
                    SELECT fieldops_sample.shop_env(COALESCE(cu.external_ref, cu.customer_id::text), ST_Y(cu.geom), ST_X(cu.geom)),
                           ARRAY[ST_Y(cu.geom), ST_X(cu.geom)]
                      INTO v_env, v_pin
                      FROM fieldops.customer cu WHERE cu.tenant_id = p_tenant_id AND cu.customer_id = v_cust;
                    v_t := v_rs[ri] + v_slot * j + make_interval(secs => 120 + 360 * fieldops_sample.h01(v_key || '/start'));
                    v_lim := least(v_rs[ri] + v_slot * (j + 1) - interval '2 minutes', v_re[ri] - interval '1 minute');

                    IF dn = 4 AND p.story = 'mock_at_home' THEN
                        -- at home: the mock app on the pin, the app open for 20 s
                        EXIT WHEN v_visit > 4;
                        v_t := v_t + make_interval(secs => 600 + 300 * fieldops_sample.h01(v_key || '/late'));
                        v_seg := v_seg + 1;
                        INSERT INTO spoof_seg (pick, day_no, seg, kind, t0, dt_s, n, lat0, lon0, rep_lat, rep_lon, aps, wall_exp,
                                               checkin, customer, key)
                        VALUES (p.pick, dn, v_seg, 'mock', v_t, 10, 3, p.home_lat, p.home_lon, v_pin[1], v_pin[2],
                                fieldops_sample.access_points('home ' || p.ref, p.home_lat, p.home_lon, 1, 4, 6,
                                    3 + floor(4 * fieldops_sample.h01('home ' || p.ref || '/nb'))::int, 6, 25),
                                3.5, 2, v_cust, v_key);
                        CONTINUE;
                    ELSIF dn = 4 AND p.story = 'emulator' THEN
                        EXIT WHEN v_visit > 3;
                        v_t := v_t + make_interval(secs => 600 + 300 * fieldops_sample.h01(v_key || '/late'));
                        v_seg := v_seg + 1;
                        INSERT INTO spoof_seg (pick, day_no, seg, kind, t0, dt_s, n, lat0, lon0, rep_lat, rep_lon, checkin, customer, key)
                        SELECT p.pick, dn, v_seg, 'emulator', v_t, 10, 2, p.home_lat, p.home_lon,
                               round(q[1]::numeric, 6)::float8, round(q[2]::numeric, 6)::float8, 1, v_cust, v_key
                          FROM (SELECT fieldops_sample.move_m(v_pin[1], v_pin[2],
                                           (8 + 17 * fieldops_sample.h01(v_key || '/click')) * sin(2 * pi() * fieldops_sample.h01(v_key || '/click a')),
                                           (8 + 17 * fieldops_sample.h01(v_key || '/click')) * cos(2 * pi() * fieldops_sample.h01(v_key || '/click a'))) AS q) z;
                        CONTINUE;
                    END IF;

                    IF v_seg = 0 THEN
                        -- leaving home
                        v_seg := v_seg + 1;
                        v_n := 6 + floor(4 * fieldops_sample.h01(v_key || '/home'))::int;
                        INSERT INTO spoof_seg (pick, day_no, seg, kind, t0, dt_s, n, lat0, lon0, key)
                        VALUES (p.pick, dn, v_seg, 'home', v_t, 10, v_n, p.home_lat, p.home_lon, v_key || '/home');
                        v_t := v_t + make_interval(secs => 10 * v_n);
                    END IF;

                    IF dn = 4 AND p.story = 'teleport' AND v_cust = p.route[5] THEN
                        -- instead of driving there: wait where he is, and at the
                        -- time he would have arrived check in with the mock app
                        v_dist := fieldops_sample.dist_m(v_pos[1], v_pos[2], (v_env ->> 'lat')::float8, (v_env ->> 'lon')::float8);
                        v_tp := v_t + make_interval(secs => 20 * 60 + v_dist / 8);
                        v_n := floor(extract(epoch FROM v_tp - v_t) / 30)::int;
                        SELECT fieldops_sample.shop_env(COALESCE(cu.external_ref, cu.customer_id::text), ST_Y(cu.geom), ST_X(cu.geom))
                          INTO v_map
                          FROM fieldops.customer cu WHERE cu.tenant_id = p_tenant_id AND cu.customer_id = v_order[v_visit - 1];
                        v_seg := v_seg + 1;
                        INSERT INTO spoof_seg (pick, day_no, seg, kind, t0, dt_s, n, lat0, lon0, key)
                        VALUES (p.pick, dn, v_seg, 'wait', v_t, 30, v_n, v_pos[1], v_pos[2], v_key || '/wait1');
                        v_seg := v_seg + 1;
                        INSERT INTO spoof_seg (pick, day_no, seg, kind, t0, dt_s, n, lat0, lon0, rep_lat, rep_lon, aps, checkin, customer, key)
                        SELECT p.pick, dn, v_seg, 'teleport', v_t + make_interval(secs => 30 * v_n), 10, 3, v_pos[1], v_pos[2],
                               q[1], q[2], v_map -> 'aps', 1, v_cust, v_key
                          FROM (SELECT fieldops_sample.move_m(v_pin[1], v_pin[2],
                                           (8 + 6 * fieldops_sample.h01(v_key || '/joy')) * sin(2 * pi() * fieldops_sample.h01(v_key || '/joy a')),
                                           (8 + 6 * fieldops_sample.h01(v_key || '/joy')) * cos(2 * pi() * fieldops_sample.h01(v_key || '/joy a'))) AS q) z;
                        v_t := v_t + make_interval(secs => 30 * v_n + 40);
                        v_n := floor(extract(epoch FROM least(v_lim, v_tp + interval '15 minutes') - v_t) / 30)::int;
                        v_seg := v_seg + 1;
                        INSERT INTO spoof_seg (pick, day_no, seg, kind, t0, dt_s, n, lat0, lon0, key)
                        VALUES (p.pick, dn, v_seg, 'wait', v_t, 30, v_n, v_pos[1], v_pos[2], v_key || '/wait2');
                        CONTINUE;
                    END IF;

                    -- the leg, along the blocks
                    v_dist := abs((v_env ->> 'lat')::float8 - v_pos[1]) * 111319.49
                              + abs((v_env ->> 'lon')::float8 - v_pos[2]) * 111319.49 * cosd(v_pos[1]);
                    v_speed := CASE WHEN v_dist < 900 THEN 1.2 + 0.3 * fieldops_sample.h01(v_key || '/v')
                                    ELSE 6 + 3 * fieldops_sample.h01(v_key || '/v') END;
                    v_nm := ceil(v_dist / (10 * v_speed))::int + 1;
                    -- a visit of 12-22 minutes, at least 5, within the slot
                    v_ns := least(24 + floor(20 * fieldops_sample.h01(v_key || '/stay'))::int,
                                  floor(extract(epoch FROM v_lim - v_t - make_interval(secs => 10 * v_nm)) / 30)::int);
                    IF v_ns < 10 THEN
                        RAISE NOTICE '%: visit % on % does not fit its slot, skipped', p.name, v_visit, v_days[dn];
                        CONTINUE;
                    END IF;
                    v_seg := v_seg + 1;
                    INSERT INTO spoof_seg (pick, day_no, seg, kind, t0, dt_s, n, lat0, lon0, latc, lonc, lat1, lon1, speed, key)
                    VALUES (p.pick, dn, v_seg, 'move', v_t, 10, v_nm, v_pos[1], v_pos[2],
                            CASE WHEN fieldops_sample.h01(v_key || '/corner') < 0.5 THEN v_pos[1] ELSE (v_env ->> 'lat')::float8 END,
                            CASE WHEN fieldops_sample.h01(v_key || '/corner') < 0.5 THEN (v_env ->> 'lon')::float8 ELSE v_pos[2] END,
                            (v_env ->> 'lat')::float8, (v_env ->> 'lon')::float8, v_speed, v_key || '/leg');
                    v_t := v_t + make_interval(secs => 10 * v_nm);
                    v_seg := v_seg + 1;
                    INSERT INTO spoof_seg (pick, day_no, seg, kind, t0, dt_s, n, lat0, lon0, aps, checkin, customer, key)
                    VALUES (p.pick, dn, v_seg, 'visit', v_t, 30, v_ns, (v_env ->> 'lat')::float8, (v_env ->> 'lon')::float8,
                            v_env -> 'aps', 1, v_cust, v_key);
                    v_t := v_t + make_interval(secs => 30 * v_ns);
                    v_pos := ARRAY[(v_env ->> 'lat')::float8, (v_env ->> 'lon')::float8];
                END LOOP;
            END LOOP;
        END LOOP;
    END LOOP;

    ------------------------------------------------------------------------
    -- the fixes of the plan
    CREATE TEMP TABLE spoof_fix (pick int, day_no int, t timestamptz, fix jsonb) ON COMMIT DROP;
    INSERT INTO spoof_fix
    SELECT s.pick, s.day_no, x.t,
           jsonb_strip_nulls(jsonb_build_object(
               'device_uid', pk.device_uid,
               'recorded_at', (extract(epoch FROM x.t) * 1000)::bigint,
               'lat', round(o.lat::numeric, 7), 'lon', round(o.lon::numeric, 7), 'provider', 'gps', 'mock', false,
               'accuracy_m', o.acc, 'altitude_m', o.alt, 'speed_mps', o.spd, 'bearing_deg', o.brg,
               'satellites', o.sats, 'cn0_mean_dbhz', o.cn0m, 'cn0_sd_dbhz', o.cn0sd,
               'wifi', CASE WHEN s.kind = 'visit' AND (g.i >= s.checkin AND (g.i - s.checkin) % 10 = 0 OR g.i = s.n - 1)
                              OR (s.kind IN ('mock', 'teleport') AND g.i = s.checkin) THEN
                                fieldops_sample.scan(s.aps, tp.lat, tp.lon, k.k, s.wall_exp) END,
               'cells', fieldops_sample.cells(pk.mnc, tp.lat, tp.lon, k.k),
               'client_ip', (CASE pk.mnc WHEN 0 THEN '117.136.' WHEN 1 THEN '112.65.' ELSE '101.80.' END
                             || floor(256 * fieldops_sample.h01(pk.ref || '/' || s.day_no || '/ip3')) || '.'
                             || (1 + floor(254 * fieldops_sample.h01(pk.ref || '/' || s.day_no || '/ip4')))),
               'integrity', jsonb_build_object('basic', true, 'device', true,
                                               'strong', pk.strong AND pk.story NOT IN ('mock_at_home', 'teleport', 'replay')),
               'customer_id', CASE WHEN g.i = s.checkin THEN s.customer END))
      FROM spoof_seg s
      JOIN spoof_pick pk ON pk.pick = s.pick
     CROSS JOIN LATERAL generate_series(0, s.n - 1) AS g(i)
     CROSS JOIN LATERAL (SELECT s.key || '/' || g.i AS k, s.t0 + make_interval(secs => g.i * s.dt_s) AS t) k
     CROSS JOIN LATERAL (SELECT k.t) x
     -- the true position, heading and speed
     CROSS JOIN LATERAL (
           SELECT fieldops_sample.dist_m(s.lat0, s.lon0, s.latc, s.lonc) AS l1,
                  fieldops_sample.dist_m(s.latc, s.lonc, s.lat1, s.lon1) AS l2) l
     CROSS JOIN LATERAL (
           SELECT CASE WHEN s.kind <> 'move' THEN NULL::float8
                       ELSE least(s.speed * g.i * s.dt_s, l.l1 + l.l2) END AS sd) sd
     CROSS JOIN LATERAL (
           SELECT CASE WHEN s.kind <> 'move' THEN w[1] WHEN sd.sd <= l.l1 THEN s.lat0 + (s.latc - s.lat0) * sd.sd / greatest(l.l1, 1e-9)
                       ELSE s.latc + (s.lat1 - s.latc) * (sd.sd - l.l1) / greatest(l.l2, 1e-9) END AS lat,
                  CASE WHEN s.kind <> 'move' THEN w[2] WHEN sd.sd <= l.l1 THEN s.lon0 + (s.lonc - s.lon0) * sd.sd / greatest(l.l1, 1e-9)
                       ELSE s.lonc + (s.lon1 - s.lonc) * (sd.sd - l.l1) / greatest(l.l2, 1e-9) END AS lon,
                  CASE WHEN s.kind <> 'move' THEN NULL
                       WHEN sd.sd <= l.l1 AND l.l1 > 0 THEN degrees(atan2((s.lonc - s.lon0) * cosd(s.lat0), s.latc - s.lat0))
                       ELSE degrees(atan2((s.lon1 - s.lonc) * cosd(s.lat0), s.lat1 - s.latc)) END AS hd
             FROM (SELECT fieldops_sample.move_m(s.lat0, s.lon0, 2 * fieldops_sample.hgauss(k.k || '/we'),
                                                 2 * fieldops_sample.hgauss(k.k || '/wn')) AS w) ww) tp
     -- what the phone reports
     CROSS JOIN LATERAL (
           SELECT CASE s.kind WHEN 'move' THEN round((3 + 4 * fieldops_sample.h01(k.k || '/acc')
                                                     + CASE WHEN fieldops_sample.h01(k.k || '/spike') < 0.05 THEN 6 ELSE 0 END)::numeric, 1)
                              WHEN 'home' THEN round((8 + 7 * fieldops_sample.h01(k.k || '/acc'))::numeric, 1)
                              WHEN 'mock' THEN 10
                              WHEN 'emulator' THEN 5
                              WHEN 'teleport' THEN round((3.5 + 2 * fieldops_sample.h01(k.k || '/acc'))::numeric, 1)
                              ELSE round((7 + 6 * fieldops_sample.h01(k.k || '/acc'))::numeric, 1) END AS acc) a
     CROSS JOIN LATERAL (
           SELECT CASE WHEN s.kind IN ('mock', 'emulator') THEN s.rep_lat
                       WHEN s.kind = 'teleport' THEN s.rep_lat + 0.5 * fieldops_sample.hgauss(k.k || '/en') / 111319.49
                       ELSE tp.lat + 0.55 * a.acc::float8 * (0.8 * fieldops_sample.hgauss(s.key || '/en ' || floor(g.i * s.dt_s / 60))
                                                             + 0.6 * fieldops_sample.hgauss(k.k || '/en')) / 111319.49 END AS lat,
                  CASE WHEN s.kind IN ('mock', 'emulator') THEN s.rep_lon
                       WHEN s.kind = 'teleport' THEN s.rep_lon + 0.5 * fieldops_sample.hgauss(k.k || '/ee') / (111319.49 * cosd(s.rep_lat))
                       ELSE tp.lon + 0.55 * a.acc::float8 * (0.8 * fieldops_sample.hgauss(s.key || '/ee ' || floor(g.i * s.dt_s / 60))
                                                             + 0.6 * fieldops_sample.hgauss(k.k || '/ee'))
                                     / (111319.49 * cosd(tp.lat)) END AS lon,
                  a.acc,
                  CASE s.kind WHEN 'move' THEN round((13 + 2.5 * fieldops_sample.hgauss(k.k || '/alt'))::numeric, 1)
                              WHEN 'home' THEN round((31 + 4 * fieldops_sample.hgauss(k.k || '/alt'))::numeric, 1)
                              WHEN 'mock' THEN 0 WHEN 'emulator' THEN 0
                              WHEN 'teleport' THEN round((12 + 1.5 * fieldops_sample.hgauss(k.k || '/alt'))::numeric, 1)
                              ELSE round((14 + 4 * fieldops_sample.hgauss(k.k || '/alt'))::numeric, 1) END AS alt,
                  -- (moving: the speed over the last 10 s, so about 0 at the start and less on arrival)
                  CASE s.kind WHEN 'move' THEN round((CASE WHEN g.i = 0 THEN 0.3 * fieldops_sample.h01(k.k || '/spd')
                                                            ELSE (sd.sd - least(s.speed * (g.i - 1) * s.dt_s, l.l1 + l.l2)) / s.dt_s
                                                                 * (1 + 0.06 * fieldops_sample.hgauss(k.k || '/spd')) END)::numeric, 2)
                              WHEN 'mock' THEN 0 WHEN 'emulator' THEN 0
                              WHEN 'teleport' THEN round((0.3 * fieldops_sample.h01(k.k || '/spd'))::numeric, 2)
                              ELSE round(abs(0.15 * fieldops_sample.hgauss(k.k || '/spd'))::numeric, 2) END AS spd,
                  CASE WHEN s.kind = 'move' AND g.i > 0 THEN round(((tp.hd + 2.5 * fieldops_sample.hgauss(k.k || '/brg') + 720)::numeric % 360), 1) % 360 END AS brg,
                  CASE s.kind WHEN 'move' THEN 14 + floor(7 * fieldops_sample.h01(k.k || '/sats'))::int
                              WHEN 'home' THEN 9 + floor(5 * fieldops_sample.h01(k.k || '/sats'))::int
                              WHEN 'mock' THEN 5 + floor(3 * fieldops_sample.h01(k.k || '/sats'))::int
                              WHEN 'emulator' THEN 8
                              ELSE 8 + floor(5 * fieldops_sample.h01(k.k || '/sats'))::int END AS sats,
                  CASE s.kind WHEN 'move' THEN round((34 + 6 * fieldops_sample.h01(k.k || '/cn0'))::numeric, 1)
                              WHEN 'home' THEN round((27 + 4 * fieldops_sample.h01(k.k || '/cn0'))::numeric, 1)
                              WHEN 'mock' THEN round((22 + 4 * fieldops_sample.h01(k.k || '/cn0'))::numeric, 1)
                              WHEN 'emulator' THEN 30.0
                              ELSE round((28 + 4 * fieldops_sample.h01(k.k || '/cn0'))::numeric, 1) END AS cn0m,
                  CASE WHEN s.kind = 'emulator' THEN 0.0
                       ELSE round((3 + 4 * fieldops_sample.h01(k.k || '/cn0 sd'))::numeric, 1) END AS cn0sd) o;

    -- the emulator: its own device, its own radio, no integrity
    FOR p IN SELECT * FROM spoof_pick WHERE story = 'emulator' LOOP
        v_emu_uid := substr(md5('emulator ' || p.ref), 1, 16);
        SELECT r0.device_id INTO v_emu
          FROM fieldops.register_device(p_tenant_id, v_emu_uid, p.worker_id, 'android', 'sdk_gphone64_x86_64',
                                        'Android 13 (emulator)', p.app_version) r0;
        v_bound := (v_days[4] + time '08:05') AT TIME ZONE v_tz;
        UPDATE fieldops.device_binding x SET bound_at = v_bound
         WHERE x.tenant_id = p_tenant_id AND x.device_id = v_emu AND x.unbound_at IS NULL;
        UPDATE fieldops.device x SET bound_at = v_bound, registered_at = v_bound, last_seen_at = NULL
         WHERE x.tenant_id = p_tenant_id AND x.device_id = v_emu;
        UPDATE spoof_fix f
           SET fix = f.fix || jsonb_build_object(
                   'device_uid', v_emu_uid,
                   'wifi', CASE WHEN f.fix ? 'customer_id' THEN '[{"bssid": "02:15:b2:00:01:00", "rssi_dbm": -50, "age_s": 0}]'::jsonb END,
                   'cells', '[{"mcc": 310, "mnc": 260, "lac": 1, "cid": 1, "signal_dbm": -51, "serving": true, "radio": "lte"}]'::jsonb,
                   'client_ip', '180.168.' || floor(256 * fieldops_sample.h01(p.ref || '/home ip3')) || '.'
                                || (1 + floor(254 * fieldops_sample.h01(p.ref || '/home ip4'))),
                   'integrity', '{"basic": false, "device": false, "strong": false}'::jsonb)
         WHERE f.pick = p.pick AND f.day_no = 4;
        UPDATE spoof_fix f SET fix = jsonb_strip_nulls(f.fix) WHERE f.pick = p.pick AND f.day_no = 4;
        UPDATE spoof_pick x SET device_id = v_emu WHERE x.pick = p.pick;
    END LOOP;

    ------------------------------------------------------------------------
    -- ingest: the earlier days, the radio map, the demo day
    FOR dn IN 1 .. 3 LOOP
        FOR r IN SELECT f.pick, jsonb_agg(f.fix ORDER BY f.t) AS fixes
                   FROM spoof_fix f WHERE f.day_no = dn GROUP BY f.pick ORDER BY f.pick LOOP
            PERFORM fieldops_sample.spoof_ingest(p_tenant_id, r.fixes);
        END LOOP;
    END LOOP;
    PERFORM fieldops.refresh_radio_map(p_tenant_id, now());

    -- the replays: what the phone stored at its first three check-ins of
    -- the first day, 90 s before each to the fix after it, moved to the demo day
    FOR p IN SELECT * FROM spoof_pick WHERE story = 'replay' LOOP
        INSERT INTO spoof_fix
        SELECT p.pick, 4, x.at,
               jsonb_strip_nulls(jsonb_build_object(
                   'device_uid', p.device_uid, 'recorded_at', (extract(epoch FROM x.at) * 1000)::bigint,
                   'lat', ST_Y(f.geom), 'lon', ST_X(f.geom), 'provider', f.provider, 'mock', false,
                   'accuracy_m', f.accuracy_m, 'altitude_m', f.altitude_m, 'speed_mps', f.speed_mps, 'bearing_deg', f.bearing_deg,
                   'satellites', f.satellites, 'cn0_mean_dbhz', f.cn0_mean_dbhz, 'cn0_sd_dbhz', f.cn0_sd_dbhz,
                   'wifi', f.wifi, 'cells', f.cells,
                   -- (the address the upload comes from is today's, whatever the app replays)
                   'client_ip', (CASE p.mnc WHEN 0 THEN '117.136.' WHEN 1 THEN '112.65.' ELSE '101.80.' END
                                 || floor(256 * fieldops_sample.h01(p.ref || '/4/ip3')) || '.'
                                 || (1 + floor(254 * fieldops_sample.h01(p.ref || '/4/ip4')))),
                   'integrity', '{"basic": true, "device": true, "strong": false}'::jsonb,
                   'customer_id', f.customer_id))
          FROM (SELECT ci.recorded_at AS ci_at, row_number() OVER (ORDER BY ci.recorded_at) AS nth
                  FROM fieldops.fix ci
                 WHERE ci.tenant_id = p_tenant_id AND ci.worker_id = p.worker_id AND ci.customer_id IS NOT NULL
                   AND ci.recorded_at >= (v_days[1]::timestamp AT TIME ZONE v_tz)
                   AND ci.recorded_at < ((v_days[1] + 1)::timestamp AT TIME ZONE v_tz)
                 ORDER BY ci.recorded_at LIMIT 3) c3
          JOIN fieldops.fix f ON f.tenant_id = p_tenant_id AND f.worker_id = p.worker_id
                             AND f.recorded_at BETWEEN c3.ci_at - interval '90 seconds' AND c3.ci_at + interval '30 seconds'
         CROSS JOIN LATERAL (SELECT f.recorded_at + (v_days[4] - v_days[1]) * interval '1 day'
                                    + make_interval(secs => 420 + 960 * fieldops_sample.h01(p.ref || '/replay ' || c3.nth)) AS at) x;
    END LOOP;

    FOR r IN SELECT f.pick, jsonb_agg(f.fix ORDER BY f.t) AS fixes
               FROM spoof_fix f JOIN spoof_pick pk ON pk.pick = f.pick
              WHERE f.day_no = 4
              GROUP BY f.pick, pk.story
              ORDER BY array_position(ARRAY['honest', 'mock_at_home', 'teleport', 'replay', 'emulator'], pk.story), f.pick LOOP
        PERFORM fieldops_sample.spoof_ingest(p_tenant_id, r.fixes);
    END LOOP;

    INSERT INTO fieldops_sample.spoof_worker
    SELECT p_tenant_id, pk.worker_id, pk.pick, pk.story, pk.device_id, v_days[4], v_days[1], pk.route, pk.home_lat, pk.home_lon
      FROM spoof_pick pk;
END
$$;

CREATE OR REPLACE FUNCTION fieldops_sample.generate_spoof_day(p_tenant_id bigint, p_workers int DEFAULT 10)
RETURNS TABLE (worker text, story text, phone text, day date, earlier_fixes int, earlier_not_green int,
               fixes int, checkins int, green int, amber int, red int)
LANGUAGE plpgsql VOLATILE
SET search_path FROM CURRENT
AS $$
#variable_conflict use_column
BEGIN
    IF EXISTS (SELECT 1 FROM fieldops_sample.spoof_worker s
                WHERE s.tenant_id = p_tenant_id
                  AND EXISTS (SELECT 1 FROM fieldops.fix f
                               WHERE f.tenant_id = p_tenant_id AND f.worker_id = s.worker_id AND f.customer_id IS NOT NULL
                                 AND f.recorded_at >= s.day - 1 AND f.recorded_at < s.day + 2)) THEN
        RAISE NOTICE 'tenant % has its sample spoof day already', p_tenant_id;
    ELSE
        PERFORM fieldops_sample.spoof_generate(p_tenant_id, p_workers);
    END IF;
    RETURN QUERY
        SELECT x.name, s.story, dv.model, s.day,
               (SELECT count(*)::int FROM fieldops.fix f
                 WHERE f.tenant_id = s.tenant_id AND f.worker_id = s.worker_id
                   AND f.recorded_at >= (s.first_day::timestamp AT TIME ZONE t.time_zone)
                   AND f.recorded_at < (s.day::timestamp AT TIME ZONE t.time_zone)),
               (SELECT count(*)::int FROM fieldops.fix f
                 WHERE f.tenant_id = s.tenant_id AND f.worker_id = s.worker_id AND f.band <> 'green'
                   AND f.recorded_at >= (s.first_day::timestamp AT TIME ZONE t.time_zone)
                   AND f.recorded_at < (s.day::timestamp AT TIME ZONE t.time_zone)),
               count(f.fix_id)::int, (count(*) FILTER (WHERE f.customer_id IS NOT NULL))::int,
               (count(*) FILTER (WHERE f.band = 'green'))::int, (count(*) FILTER (WHERE f.band = 'amber'))::int,
               (count(*) FILTER (WHERE f.band = 'red'))::int
          FROM fieldops_sample.spoof_worker s
          JOIN fieldops.tenant t ON t.tenant_id = s.tenant_id
          JOIN fieldops.worker x ON x.tenant_id = s.tenant_id AND x.worker_id = s.worker_id
          JOIN fieldops.device dv ON dv.tenant_id = s.tenant_id AND dv.device_id = s.device_id
          LEFT JOIN fieldops.fix f ON f.tenant_id = s.tenant_id AND f.worker_id = s.worker_id
                                  AND f.recorded_at >= (s.day::timestamp AT TIME ZONE t.time_zone)
                                  AND f.recorded_at < ((s.day + 1)::timestamp AT TIME ZONE t.time_zone)
         WHERE s.tenant_id = p_tenant_id
         GROUP BY s.tenant_id, s.worker_id, s.ord, s.story, s.day, s.first_day, x.name, x.title, dv.model, t.time_zone
         ORDER BY (SELECT o.ord FROM fieldops_sample.spoof_story o WHERE o.story = s.story), s.ord;
END
$$;
COMMENT ON FUNCTION fieldops_sample.generate_spoof_day(bigint, int) IS
'Sample spoof day: three earlier working days of honest visits by p_workers sales reps, the radio map learned from them, then the demo day (the last working day before today) with four spoofers (hidden mock app at home, teleport round trip, replay of an earlier visit, emulator), all through fieldops.ingest_fixes(); once per tenant. Returns per worker the story and the bands of the demo day.';
