--
-- test/bench/kpi_gen.sql — a year of a field-force tenant for make bench-kpi
--
--   psql -v workers=500 -v seed=0.42 -f test/bench/kpi_gen.sql <db>
--
-- One tenant (Asia/Shanghai) and the year of tenant-local days that ends
-- yesterday (bench.config holds the tenant, the first and last day):
--   org        5 regions, 5 teams per region, :workers workers spread
--              evenly over the teams, the first of each team its lead and
--              the others' manager; default hours (Mon-Fri 09:00-18:00);
--              hired a year before the first day (API: upsert_*)
--   customers  100 per worker (owned by him; written directly), levels
--              A 10 %, B 25 %, C 40 %, D 25 %, positions uniform in a
--              40 x 40 km square around People's Square; owned since
--              before the first day (the ownership's start is backdated)
--   visits     on every working day (Mon-Fri) 6 per worker, at 09:00 +
--              75 min per slot (+- up to 20 min), 15-50 min on site, at a
--              customer of his drawn uniformly; 85 % verified, the others
--              checked in outside the geofence (8 %), with a red check-in
--              (4 %) or never checked out (3 %)
--   deals      on a working day with probability 0.3 per worker, at one
--              of his customers, 200-20000 CNY (uniform)
--   expenses   per worker and month one claim (the month's lines: one per
--              working day, meal 30-80 CNY, or with probability 0.3 a
--              fuel line 100-300 instead), each tied to that day's first
--              visit; claims of every month but the last are paid, the
--              last month's approved by the manager
--   km         for one worker in three (the drivers), per working day a
--              vehicle claim of 20-120 km with one trip of 30-180 min
-- Visits, deals, expense claims and vehicle claims are written directly
-- (INSERT ... SELECT, as the API leaves them), not through the API: a year
-- through the API takes hours and the benchmark measures the reading side.
-- Seeded: setseed(:seed) once, then random() in a fixed order.
--
\set ON_ERROR_STOP on
SET client_min_messages = warning;
SELECT setseed(:seed);

CREATE SCHEMA bench;
SELECT fieldops.create_tenant('KPI bench', 'Asia/Shanghai') AS tenant \gset
SELECT fieldops.set_tenant(:tenant, false) IS NOT NULL AS chosen;
CREATE TABLE bench.config AS
SELECT :tenant::bigint AS tenant_id, fieldops.tenant_local_date(:tenant) - 365 AS first_day,
       fieldops.tenant_local_date(:tenant) - 1 AS last_day, fieldops.tenant_local_date(:tenant) AS new_day;

-- the organisation
CREATE TABLE bench.region AS
SELECT r, fieldops.upsert_region(c.tenant_id, 'R' || r, 'Region ' || r) AS region_id
  FROM bench.config c, generate_series(1, 5) r;
CREATE TABLE bench.team AS
SELECT r.r, t, fieldops.upsert_team(c.tenant_id, 'T' || r.r || '-' || t, 'Team ' || r.r || '-' || t, r.region_id) AS team_id
  FROM bench.config c, bench.region r, generate_series(1, 5) t ORDER BY r.r, t;
CREATE TABLE bench.worker (n int PRIMARY KEY, team_id bigint, worker_id bigint, lead boolean);
SELECT set_config('bench.workers', :'workers', false) IS NOT NULL AS workers_set;
DO $$
DECLARE
    c bench.config;
    t record;
    v_lead bigint;
    v_n int := 0;
    v_per int;
BEGIN
    SELECT * INTO c FROM bench.config;
    v_per := GREATEST(current_setting('bench.workers')::int / 25, 2);
    FOR t IN SELECT * FROM bench.team ORDER BY r, t LOOP
        v_lead := NULL;
        FOR i IN 1 .. v_per LOOP
            v_n := v_n + 1;
            INSERT INTO bench.worker VALUES (v_n, t.team_id,
                fieldops.upsert_worker(c.tenant_id, 'W' || v_n, 'Worker ' || v_n, t.team_id, v_lead, p_hired_on => c.first_day - 365),
                v_lead IS NULL);
            IF v_lead IS NULL THEN
                SELECT worker_id INTO v_lead FROM bench.worker WHERE n = v_n;
            END IF;
        END LOOP;
    END LOOP;
END $$;

-- customers, owned since before the year
-- (written directly, as upsert_customer() leaves an owned customer: the
-- API takes minutes for 50 000 and the benchmark measures the reading side)
CREATE TABLE bench.customer AS
SELECT w.n, i, nextval(pg_get_serial_sequence('fieldops.customer', 'customer_id')) AS customer_id, w.worker_id,
       CASE WHEN r.x < 0.10 THEN 'A' WHEN r.x < 0.35 THEN 'B' WHEN r.x < 0.75 THEN 'C' ELSE 'D' END AS level,
       ST_SetSRID(ST_MakePoint(121.4737 + (random() - 0.5) * 0.42, 31.2304 + (random() - 0.5) * 0.36), 4326) AS geom
  FROM bench.worker w, generate_series(1, 100) i, LATERAL (SELECT random() + 0 * i AS x) r
 ORDER BY w.n, i;
INSERT INTO fieldops.customer (tenant_id, customer_id, external_ref, name, geom, level, owner_worker_id, owned_since, home_pool_id)
SELECT c.tenant_id, b.customer_id, 'C' || b.n || '-' || b.i, 'Shop ' || b.n || '-' || b.i, b.geom, b.level, b.worker_id,
       (c.first_day - 30)::timestamp AT TIME ZONE 'Asia/Shanghai', fieldops.default_pool(c.tenant_id)
  FROM bench.config c, bench.customer b;
INSERT INTO fieldops.customer_ownership (tenant_id, customer_id, worker_id, started_at, start_reason)
SELECT c.tenant_id, b.customer_id, b.worker_id, (c.first_day - 30)::timestamp AT TIME ZONE 'Asia/Shanghai', 'created'
  FROM bench.config c, bench.customer b;
CREATE INDEX ON bench.customer (n, i);
UPDATE fieldops.customer_ownership o SET started_at = (c.first_day - 30)::timestamp AT TIME ZONE 'Asia/Shanghai'
  FROM bench.config c WHERE o.tenant_id = c.tenant_id;

-- the working days and the visits
CREATE TABLE bench.day AS
SELECT d::date AS day FROM bench.config c, generate_series(c.first_day::timestamp, c.last_day::timestamp, interval '1 day') d
 WHERE extract(isodow FROM d) < 6;
INSERT INTO fieldops.visit (tenant_id, worker_id, customer_id, checkin_at, checkout_at, radius_m, checkin_geofence, checkout_geofence,
                            checkin_band, checkout_band)
SELECT c.tenant_id, w.worker_id, cu.customer_id, t0, CASE WHEN x >= 0.97 THEN NULL ELSE t0 + (15 + floor(random() * 36)) * interval '1 minute' END,
       200, CASE WHEN x >= 0.85 AND x < 0.93 THEN 'outside' ELSE 'inside' END, 'inside',
       CASE WHEN x >= 0.93 AND x < 0.97 THEN 'red' ELSE 'green' END, 'green'
  FROM bench.config c, bench.day d, bench.worker w, generate_series(0, 5) s,
       LATERAL (SELECT random() AS x, 1 + floor(random() * 100)::int AS i,
                       ((d.day + time '09:00') + (s * 75 + floor(random() * 41) - 20) * interval '1 minute') AT TIME ZONE 'Asia/Shanghai' AS t0) r
  CROSS JOIN LATERAL (SELECT x.customer_id FROM bench.customer x WHERE x.n = w.n AND x.i = r.i) cu;

-- deals
INSERT INTO fieldops.deal (tenant_id, external_ref, customer_id, worker_id, amount, currency, won_on)
SELECT q.tenant_id, 'D' || q.n || '-' || q.day, cu.customer_id, q.worker_id, q.amount, 'CNY', q.day
  FROM (SELECT c.tenant_id, d.day, w.n, w.worker_id, random() AS x, 1 + floor(random() * 100)::int AS i,
               round((200 + random() * 19800)::numeric, 2) AS amount
          FROM bench.config c, bench.day d, bench.worker w) q
  JOIN bench.customer cu ON cu.n = q.n AND cu.i = q.i
 WHERE q.x < 0.3;

-- expense claims: one per worker and month, a line per working day tied to its first visit
INSERT INTO fieldops.expense_claim (tenant_id, worker_id, title, state, created_at, state_changed_at, submitted_at, submit_count,
                                    manager_approved_at, finance_approved_at, paid_at)
SELECT c.tenant_id, w.worker_id, 'Expenses ' || to_char(m, 'YYYY-MM'),
       CASE WHEN m = date_trunc('month', c.last_day) THEN 'manager_approved' ELSE 'paid' END,
       m + interval '1 month', m + interval '1 month', m + interval '1 month', 1, m + interval '1 month',
       CASE WHEN m < date_trunc('month', c.last_day) THEN m + interval '1 month' END,
       CASE WHEN m < date_trunc('month', c.last_day) THEN m + interval '1 month' END
  FROM bench.config c, bench.worker w,
       generate_series(date_trunc('month', c.first_day), date_trunc('month', c.last_day), interval '1 month') m;
INSERT INTO fieldops.expense_line (tenant_id, claim_id, expense_type, spent_on, amount, currency, visit_id, created_at, updated_at)
SELECT c.tenant_id, ec.claim_id, CASE WHEN r.x < 0.3 THEN 'fuel' ELSE 'meal' END, d.day,
       CASE WHEN r.x < 0.3 THEN round((100 + 200 * r.y)::numeric, 2) ELSE round((30 + 50 * r.y)::numeric, 2) END, 'CNY',
       v.visit_id, now(), now()
  FROM bench.config c, bench.day d, bench.worker w, LATERAL (SELECT random() + 0 * w.n AS x, random() + 0 * w.n AS y) r,
       LATERAL (SELECT x.visit_id FROM fieldops.visit x
                 WHERE x.tenant_id = c.tenant_id AND x.worker_id = w.worker_id
                   AND x.checkin_at >= (d.day::timestamp AT TIME ZONE 'Asia/Shanghai')
                   AND x.checkin_at < ((d.day + 1)::timestamp AT TIME ZONE 'Asia/Shanghai')
                 ORDER BY x.checkin_at LIMIT 1) v
  CROSS JOIN LATERAL (SELECT x.claim_id FROM fieldops.expense_claim x
                       WHERE x.tenant_id = c.tenant_id AND x.worker_id = w.worker_id AND x.title = 'Expenses ' || to_char(d.day, 'YYYY-MM')) ec;

-- the drivers' vehicle claims and trips
SELECT fieldops.set_vehicle_rate(tenant_id, 'car', first_day - 400, 0.80) IS NOT NULL AS rate FROM bench.config;
INSERT INTO fieldops.vehicle_claim (tenant_id, worker_id, day, vehicle_type, rate_id, rate_per_km, currency, measured_km, trip_km, gap_km,
                                    tolerance_km, payable_km, amount, flags, evidence, built_at, built_by)
SELECT c.tenant_id, w.worker_id, d.day, 'car', vr.rate_id, vr.rate_per_km, 'CNY', km, km, 0, 1, km, round(km * vr.rate_per_km, 2), '{}', '{}',
       now(), current_user
  FROM bench.config c, bench.day d, bench.worker w, LATERAL (SELECT round((20 + random() * 100 + 0 * w.n)::numeric, 3) AS km) r,
       LATERAL (SELECT * FROM fieldops.vehicle_rate x WHERE x.tenant_id = c.tenant_id ORDER BY x.valid_from DESC LIMIT 1) vr
 WHERE w.n % 3 = 0;
INSERT INTO fieldops.trip (tenant_id, claim_id, worker_id, range_no, seq, kind, counted, started_at, ended_at, start_geom, end_geom,
                           distance_m, mileage)
SELECT vc.tenant_id, vc.claim_id, vc.worker_id, 1, 1, 'trip', true, t0, t1, g0, g1, vc.measured_km * 1000,
       fieldops.mileage(ST_SetSRID(ST_MakeLine(ST_MakePointM(ST_X(g0), ST_Y(g0), extract(epoch FROM t0)),
                                               ST_MakePointM(ST_X(g1), ST_Y(g1), extract(epoch FROM t1))), 4326))
  FROM fieldops.vehicle_claim vc, bench.config c,
       LATERAL (SELECT (vc.day + time '09:30') AT TIME ZONE 'Asia/Shanghai' AS t0,
                       (vc.day + time '09:30') AT TIME ZONE 'Asia/Shanghai' + (30 + floor(random() * 150)) * interval '1 minute' AS t1,
                       ST_SetSRID(ST_MakePoint(121.47, 31.23), 4326) AS g0,
                       ST_SetSRID(ST_MakePoint(121.47, 31.23 + vc.measured_km::float8 / 111.195), 4326) AS g1) g
 WHERE vc.tenant_id = c.tenant_id;

-- one new day of data, kept aside: what "a day of new data" inserts (today, bench.config.new_day)
CREATE TABLE bench.new_visit AS
SELECT c.tenant_id, w.worker_id, cu.customer_id, t0, t0 + interval '30 minutes' AS t1
  FROM bench.config c, bench.worker w, generate_series(0, 5) s,
       LATERAL (SELECT 1 + floor(random() * 100)::int AS i,
                       ((c.new_day + time '00:05') + s * interval '5 minutes') AT TIME ZONE 'Asia/Shanghai' AS t0) r
  CROSS JOIN LATERAL (SELECT x.customer_id FROM bench.customer x WHERE x.n = w.n AND x.i = r.i) cu;

ANALYZE;
SELECT (SELECT count(*) FROM fieldops.worker) AS workers, (SELECT count(*) FROM fieldops.customer) AS customers,
       (SELECT count(*) FROM fieldops.visit) AS visits, (SELECT count(*) FROM fieldops.deal) AS deals,
       (SELECT count(*) FROM fieldops.expense_line) AS expense_lines, (SELECT count(*) FROM fieldops.vehicle_claim) AS vehicle_claims;
