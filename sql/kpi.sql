--
-- kpi: the KPI measures on a small hand-computed fixture (each measure, each
-- grain, each dimension, subtotals, the tenant-local day boundary), the
-- rollups against a recomputation (check_rollups, kpi_from_source), late
-- data reaching the rollups through kpi_touch and the refresh, deals, and
-- bad input.
--
\set SHOW_CONTEXT never
SET datestyle = 'ISO, YMD';
SET timezone = 'UTC';
SET extra_float_digits = 0;

CREATE SCHEMA kpi_test;
-- a visit written as the visit API leaves it (the fixture's days are in the
-- past): check-in at a tenant-local time, p_min minutes on site, verified
-- unless p_ok is false (check-in outside the geofence); the day is touched
-- as check_out() touches it
CREATE FUNCTION kpi_test.visit(p_t bigint, p_worker bigint, p_customer bigint, p_local timestamp, p_min int, p_ok boolean DEFAULT true)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    v bigint;
BEGIN
    INSERT INTO fieldops.visit (tenant_id, worker_id, customer_id, checkin_at, checkout_at, radius_m, checkin_geofence, checkout_geofence,
                                checkin_band, checkout_band)
    VALUES (p_t, p_worker, p_customer, p_local AT TIME ZONE 'Asia/Shanghai', (p_local + p_min * interval '1 minute') AT TIME ZONE 'Asia/Shanghai',
            200, CASE WHEN p_ok THEN 'inside' ELSE 'outside' END, 'inside', 'green', 'green')
    RETURNING visit_id INTO v;
    PERFORM fieldops.kpi_touch(p_t, p_local::date, 'visit');
    RETURN v;
END $$;
-- an expense claim of one line for a visit, submitted and approved by the
-- worker's manager (so counted)
CREATE FUNCTION kpi_test.expense(p_t bigint, p_worker bigint, p_manager bigint, p_visit bigint, p_day date, p_type text,
                                 p_amount numeric, p_currency text DEFAULT 'CNY')
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    c bigint;
BEGIN
    c := fieldops.create_expense_claim(p_t, p_worker, 'claim ' || p_day);
    PERFORM fieldops.add_expense_line(p_t, c, p_worker, p_type, p_day, p_amount, p_currency, p_visit_id => p_visit);
    RETURN fieldops.submit_expense_claim(p_t, c, p_worker) || ' ' || fieldops.approve_expense_claim(p_t, c, p_manager, 'manager');
END $$;
-- a day's vehicle claim with one trip of p_trip_min minutes (written as
-- vehicle_claim() leaves them: the fixture has no fixes to build from)
CREATE FUNCTION kpi_test.vehicle_day(p_t bigint, p_worker bigint, p_day date, p_km numeric, p_trip_min int)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    c bigint;
    t0 timestamptz := (p_day + time '10:00') AT TIME ZONE 'Asia/Shanghai';
BEGIN
    INSERT INTO fieldops.vehicle_claim (tenant_id, worker_id, day, vehicle_type, rate_id, rate_per_km, currency, measured_km, trip_km,
                                        gap_km, tolerance_km, payable_km, amount, flags, evidence, built_at, built_by)
    SELECT p_t, p_worker, p_day, 'car', r.rate_id, r.rate_per_km, r.currency, p_km, p_km, 0, 1, p_km, round(p_km * r.rate_per_km, 2),
           '{}', '{}', now(), current_user
      FROM fieldops.vehicle_rate r WHERE r.tenant_id = p_t ORDER BY r.valid_from DESC LIMIT 1
    RETURNING claim_id INTO c;
    INSERT INTO fieldops.trip (tenant_id, claim_id, worker_id, range_no, seq, kind, counted, started_at, ended_at, start_geom, end_geom,
                               distance_m, mileage)
    SELECT p_t, c, p_worker, 1, 1, 'trip', true, t0, t0 + p_trip_min * interval '1 minute', g0, g1, p_km * 1000,
           fieldops.mileage(ST_SetSRID(ST_MakeLine(ST_MakePointM(ST_X(g0), ST_Y(g0), extract(epoch FROM t0)),
                                                   ST_MakePointM(ST_X(g1), ST_Y(g1), extract(epoch FROM t0) + p_trip_min * 60)), 4326))
      FROM (SELECT ST_SetSRID(ST_MakePoint(121.47, 31.23), 4326) AS g0, ST_SetSRID(ST_MakePoint(121.47, 31.23 + p_km / 111.195), 4326) AS g1) x;
    PERFORM fieldops.kpi_touch(p_t, p_day, 'vehicle_claim');
END $$;
-- the measures that matter, compact
CREATE FUNCTION kpi_test.show(p_t bigint, p_grain text, p_dims text[], p_from date, p_to date, p_source boolean DEFAULT false)
RETURNS TABLE (period date, "group" text, visits bigint, verified bigint, customers bigint, assigned bigint, coverage numeric,
               work_h numeric, per_h numeric, site_h numeric, travel_h numeric, km numeric, expenses numeric, other_cur bigint,
               per_visit numeric, revenue numeric, deals bigint, roi numeric, ratio numeric)
LANGUAGE sql AS $$
    SELECT k.period, concat_ws(' ', w.external_ref, t.code, r.code, k.customer_level,
                               CASE WHEN k.grouped_by = '{}' THEN 'TOTAL' WHEN k.grouped_by = '{period}' THEN 'period' END),
           k.visits, k.verified_visits, k.customers_visited, k.assigned_customers, k.coverage, k.working_hours,
           k.verified_visits_per_working_hour, k.on_site_hours, k.travel_hours, k.measured_km, k.expense_total,
           k.expense_lines_other_currency, k.cost_per_verified_visit, k.revenue, k.deals, k.roi, k.expense_ratio
      FROM (SELECT * FROM fieldops.kpi(p_t, p_grain, p_dims, p_from, p_to) WHERE NOT p_source
            UNION ALL SELECT * FROM fieldops.kpi_from_source(p_t, p_grain, p_dims, p_from, p_to) WHERE p_source) k
      LEFT JOIN fieldops.worker w ON w.tenant_id = p_t AND w.worker_id = k.worker_id
      LEFT JOIN fieldops.team t ON t.tenant_id = p_t AND t.team_id = k.team_id
      LEFT JOIN fieldops.region r ON r.tenant_id = p_t AND r.region_id = k.region_id
$$;
-- the rollups and a recomputation agree (no row: consistent)
CREATE FUNCTION kpi_test.consistent(p_t bigint, p_from date, p_to date) RETURNS text LANGUAGE sql AS $$
    SELECT COALESCE(string_agg(rollup || ' ' || day || ' ' || worker_id || ' ' || key || ' ' || measure || ': '
                               || COALESCE(stored::text, '-') || ' vs ' || COALESCE(computed::text, '-'), E'\n'), 'consistent')
      FROM fieldops.check_rollups(p_t, p_from, p_to)
$$;
-- an error with the tenant ids masked (they depend on the tests before)
CREATE FUNCTION kpi_test.err(p_sql text) RETURNS text LANGUAGE sql AS $$
    SELECT regexp_replace(regress.sqlerr(p_sql), '(tenant |p_tenant_id |transaction \()[0-9]+', '\1N', 'g')
$$;
-- kpi() from the rollups and kpi_from_source() give the same rows
CREATE FUNCTION kpi_test.same(p_t bigint, p_grain text, p_dims text[], p_from date, p_to date) RETURNS boolean LANGUAGE sql AS $$
    SELECT NOT EXISTS ((SELECT * FROM fieldops.kpi(p_t, p_grain, p_dims, p_from, p_to)
                        EXCEPT ALL SELECT * FROM fieldops.kpi_from_source(p_t, p_grain, p_dims, p_from, p_to))
                       UNION ALL
                       (SELECT * FROM fieldops.kpi_from_source(p_t, p_grain, p_dims, p_from, p_to)
                        EXCEPT ALL SELECT * FROM fieldops.kpi(p_t, p_grain, p_dims, p_from, p_to)))
$$;

--
-- 1. The fixture: two regions, two teams, a lead and three reps on the
-- default hours (Mon-Fri 09:00-18:00, Asia/Shanghai), four customers of
-- levels A, B, B, C owned since October
--
SELECT fieldops.create_tenant('KPI Test Co', 'Asia/Shanghai') AS kt \gset
SELECT fieldops.set_tenant(:kt, false) IS NOT NULL AS kt_chosen;
SELECT fieldops.upsert_region(:kt, 'N', 'North') AS rn \gset
SELECT fieldops.upsert_region(:kt, 'S', 'South') AS rs \gset
SELECT fieldops.upsert_team(:kt, 'TN', 'Team North', :rn) AS tn \gset
SELECT fieldops.upsert_team(:kt, 'TS', 'Team South', :rs) AS ts \gset
SELECT fieldops.upsert_worker(:kt, 'LEAD', 'Lead', :tn, p_hired_on => '2026-01-01') AS lead \gset
SELECT fieldops.upsert_worker(:kt, 'W1', 'Rep One', :tn, :lead, p_hired_on => '2026-01-01') AS w1 \gset
SELECT fieldops.upsert_worker(:kt, 'W2', 'Rep Two', :tn, :lead, p_hired_on => '2026-01-01') AS w2 \gset
SELECT fieldops.upsert_worker(:kt, 'W3', 'Rep Three', :ts, :lead, p_hired_on => '2026-11-04') AS w3 \gset
SELECT fieldops.upsert_customer(:kt, 'C1', 'Shop 1', ST_SetSRID(ST_MakePoint(121.47, 31.23), 4326), p_level => 'A', p_owner_worker_id => :w1) AS c1 \gset
SELECT fieldops.upsert_customer(:kt, 'C2', 'Shop 2', ST_SetSRID(ST_MakePoint(121.48, 31.23), 4326), p_level => 'B', p_owner_worker_id => :w1) AS c2 \gset
SELECT fieldops.upsert_customer(:kt, 'C3', 'Shop 3', ST_SetSRID(ST_MakePoint(121.49, 31.23), 4326), p_level => 'B', p_owner_worker_id => :w2) AS c3 \gset
SELECT fieldops.upsert_customer(:kt, 'C4', 'Shop 4', ST_SetSRID(ST_MakePoint(121.50, 31.23), 4326), p_level => 'C', p_owner_worker_id => :w3) AS c4 \gset
-- (fixture history: owned since October, not since today)
UPDATE fieldops.customer_ownership SET started_at = '2026-10-01 00:00+08' WHERE tenant_id = :kt;
SELECT fieldops.set_vehicle_rate(:kt, 'car', '2026-01-01', 0.80) IS NOT NULL AS rate;

-- week 1 (Mon 2 - Sun 8 November); W1's second Monday visit starts at
-- 23:30 (Monday, local), his third at 00:30 on Tuesday (still Monday in UTC)
SELECT kpi_test.visit(:kt, :w1, :c1, '2026-11-02 10:00', 30) AS v11 \gset
SELECT kpi_test.visit(:kt, :w1, :c2, '2026-11-02 23:30', 20) IS NOT NULL AS v,
       kpi_test.visit(:kt, :w1, :c2, '2026-11-03 00:30', 20, false) IS NOT NULL AS v_unverified;
SELECT kpi_test.visit(:kt, :w2, :c3, '2026-11-03 14:00', 60) AS v21 \gset
SELECT kpi_test.visit(:kt, :w3, :c4, '2026-11-06 16:00', 15) AS v31 \gset
-- week 2 (Mon 9 - Sun 15 November)
SELECT kpi_test.visit(:kt, :w1, :c1, '2026-11-11 10:00', 45) AS v12 \gset
SELECT kpi_test.visit(:kt, :w2, :c3, '2026-11-12 09:00', 30, false) IS NOT NULL AS v_unverified;
-- expense claims, each approved by the lead: they count from the manager's approval on
SELECT kpi_test.expense(:kt, :w1, :lead, :v11, '2026-11-02', 'meal', 50) AS meal,
       kpi_test.expense(:kt, :w1, :lead, :v12, '2026-11-11', 'fuel', 120) AS fuel,
       kpi_test.expense(:kt, :w3, :lead, :v31, '2026-11-06', 'toll', 30) AS toll,
       kpi_test.expense(:kt, :w2, :lead, :v21, '2026-11-03', 'meal', 10, 'USD') AS meal_in_usd;
-- a claim still waiting for its manager does not count
SELECT fieldops.submit_expense_claim(:kt, c, :w1) AS submitted_only
  FROM (SELECT fieldops.create_expense_claim(:kt, :w1, 'not yet approved') AS c) x,
       LATERAL fieldops.add_expense_line(:kt, x.c, :w1, 'lodging', '2026-11-02', 400, p_visit_id => :v11) l;
SELECT kpi_test.vehicle_day(:kt, :w1, '2026-11-02', 42.5, 90), kpi_test.vehicle_day(:kt, :w2, '2026-11-12', 18, 40);
SELECT fieldops.upsert_deal(:kt, 'D1', :c1, :w1, 1000, '2026-11-02') IS NOT NULL AS d1,
       fieldops.upsert_deal(:kt, 'D2', :c3, :w2, 500, '2026-11-12') IS NOT NULL AS d2,
       fieldops.upsert_deal(:kt, 'D3', :c4, :w3, 300, '2026-11-06') IS NOT NULL AS d3;

-- before any refresh the rollups are empty: check_rollups says so, row by row
SELECT count(*) AS missing_rows, count(DISTINCT day) AS days FROM fieldops.check_rollups(:kt, '2026-11-02', '2026-11-15') WHERE measure = '(row)';
SELECT count(DISTINCT day) AS dirty_days FROM fieldops.kpi_dirty WHERE tenant_id = :kt;
-- the refresh recomputes the days that changed, oldest first, and the days
-- since the tenant was created (yesterday and today)
SELECT r ->> 'days' AS days, r ->> 'days_left' AS days_left, r ->> 'more' AS more FROM fieldops.kpi_refresh(:kt) r;
SELECT count(*) AS dirty_rows_left FROM fieldops.kpi_dirty WHERE tenant_id = :kt;
-- the quiet days of the fixture (before the tenant was created: nothing
-- changed on them) have no rows yet: a backfill is kpi_rebuild()'s job
SELECT array_agg(DISTINCT day ORDER BY day) AS days_without_rows FROM fieldops.check_rollups(:kt, '2026-11-02', '2026-11-15') WHERE measure = '(row)';
SELECT r ->> 'days' AS days FROM fieldops.kpi_rebuild(:kt, '2026-11-02', '2026-11-15') r;
SELECT kpi_test.consistent(:kt, '2026-11-02', '2026-11-15');
-- run again: the same rows
CREATE TEMP TABLE before AS SELECT * FROM fieldops.kpi_day WHERE tenant_id = :kt;
SELECT (fieldops.kpi_refresh(:kt)) ->> 'days' AS days_again;
SELECT count(*) AS changed FROM ((SELECT * FROM fieldops.kpi_day WHERE tenant_id = :kt AND day < '2026-11-20' EXCEPT SELECT * FROM before)
                                 UNION ALL (SELECT * FROM before WHERE day < '2026-11-20' EXCEPT SELECT * FROM fieldops.kpi_day WHERE tenant_id = :kt)) x;

--
-- 2. Each measure, per week, per worker (hand-computed in the comments)
--
-- week 1: W1 3 visits (2 verified: C1 30 min, C2 20 min), customers C1 C2
--   of the 2 he owns, 45 h scheduled, 1.5 h in his trip, 42.5 km, meal 50,
--   deal 1000: 50 / 2 = 25 per verified visit, ROI (1000 - 50) / 50 = 19,
--   ratio 50 / 1000 = 0.05; W2 1 visit (60 min) and a meal in USD (counted,
--   not summed); W3 hired on Wednesday: 27 h, 1 visit, toll 30, deal 300;
--   LEAD only hours.  week 2: W1 1 visit (45 min, C1: coverage 1/2), fuel
--   120; W2 1 unverified visit, a trip of 40 min, 18 km, deal 500.
SELECT * FROM kpi_test.show(:kt, 'week', '{worker}', '2026-11-02', '2026-11-15');

--
-- 3. Grains and the tenant-local day: W1's Tuesday 00:30 visit is Tuesday's
--
SELECT period, "group", visits, verified, customers, site_h FROM kpi_test.show(:kt, 'day', '{worker}', '2026-11-02', '2026-11-04')
 WHERE "group" LIKE 'W1%' OR "group" = 'period';
SELECT * FROM kpi_test.show(:kt, 'month', '{}', '2026-11-02', '2026-11-15');
-- the whole range as one period (the rows a ranking wants), and weeks from Sunday (week_start 7)
SELECT period, "group", visits, verified, customers, assigned, work_h, revenue FROM kpi_test.show(:kt, 'range', '{team}', '2026-11-04', '2026-11-12');
SELECT (fieldops.alter_tenant(:kt, p_settings => '{"week_start": 7}')).settings ->> 'week_start' AS week_start;
SELECT period, to_char(period, 'Dy') AS starts, visits, verified, work_h FROM kpi_test.show(:kt, 'week', '{}', '2026-11-02', '2026-11-15');
SELECT (fieldops.alter_tenant(:kt, p_settings => '{"week_start": null}')).settings ? 'week_start' AS week_start_overridden;

--
-- 4. Dimensions and subtotals: region > team > worker, customer level
--
SELECT * FROM kpi_test.show(:kt, 'month', '{region,team,worker}', '2026-11-02', '2026-11-15');
SELECT period, "group", visits, verified, customers, assigned, coverage, revenue, deals
  FROM kpi_test.show(:kt, 'month', '{customer_level}', '2026-11-02', '2026-11-15');
SELECT DISTINCT grouped_by FROM fieldops.kpi(:kt, 'week', '{team,customer_level}', '2026-11-02', '2026-11-15') ORDER BY 1;

-- the rollups and the source rows give the same answer for every grain and dimension
SELECT g, d, kpi_test.same(:kt, g, d::text[], '2026-11-02', '2026-11-15') AS same
  FROM unnest(ARRAY['day', 'week', 'month']) g,
       unnest(ARRAY['{}', '{worker}', '{team,worker}', '{region,customer_level}', '{customer_level,worker,team,region}']::text[]) d
 ORDER BY 1, 2;

--
-- 5. Late data: last week's offline upload, a corrected deal, a cancelled one
--
SELECT kpi_test.visit(:kt, :w3, :c4, '2026-11-09 11:00', 25) IS NOT NULL AS late_visit;
SELECT fieldops.upsert_deal(:kt, 'D2', :c3, :w2, 650, '2026-11-13') IS NOT NULL AS d2_corrected,
       fieldops.upsert_deal(:kt, 'D3', :c4, :w3, 300, '2026-11-06', p_cancelled => true) IS NOT NULL AS d3_cancelled;
-- stale until the refresh, and check_rollups says where
SELECT day, worker_id = :w3 AS w3, measure, stored, computed FROM fieldops.check_rollups(:kt, '2026-11-02', '2026-11-15')
 WHERE rollup = 'kpi_day' ORDER BY day, measure;
SELECT (SELECT array_agg(DISTINCT day ORDER BY day) FROM fieldops.kpi_dirty WHERE tenant_id = :kt) AS dirty_days;
SELECT r ->> 'days' AS days FROM fieldops.kpi_refresh(:kt) r;
SELECT kpi_test.consistent(:kt, '2026-11-02', '2026-11-15');
SELECT period, "group", visits, verified, customers, revenue, deals FROM kpi_test.show(:kt, 'week', '{worker}', '2026-11-02', '2026-11-15')
 WHERE "group" IN ('W2', 'W3', 'period');

-- random late inserts (seeded): visits, deals and expenses on random days of
-- the fortnight, then one refresh: consistent again
SELECT setseed(0.7);
SELECT count(kpi_test.visit(:kt, (ARRAY[:w1, :w2, :w3])[1 + floor(random() * 3)::int], (ARRAY[:c1, :c2, :c3, :c4])[1 + floor(random() * 4)::int],
                            '2026-11-02'::timestamp + floor(random() * 14 * 24 * 60) * interval '1 minute', 5 + floor(random() * 60)::int, random() < 0.7))
       AS late_visits FROM generate_series(1, 40);
SELECT count(fieldops.upsert_deal(:kt, 'R' || i, (ARRAY[:c1, :c2, :c3, :c4])[1 + floor(random() * 4)::int], :w1,
                                  round((random() * 900)::numeric, 2), '2026-11-02'::date + floor(random() * 14)::int)) AS late_deals
  FROM generate_series(1, 15) i;
SELECT count(*) AS late_expenses FROM (SELECT kpi_test.expense(:kt, :w2, :lead, :v21, '2026-11-02'::date + floor(random() * 14)::int,
                                              (ARRAY['fuel', 'parking', 'meal'])[1 + floor(random() * 3)::int],
                                              round((1 + random() * 200)::numeric, 2)) FROM generate_series(1, 20)) x;
SELECT count(*) > 0 AS stale_before FROM fieldops.check_rollups(:kt, '2026-11-02', '2026-11-15');
SELECT (r ->> 'days')::int >= 3 AS refreshed FROM fieldops.kpi_refresh(:kt) r;
SELECT kpi_test.consistent(:kt, '2026-11-02', '2026-11-15');
SELECT kpi_test.same(:kt, 'week', '{team,worker,customer_level}', '2026-11-02', '2026-11-15') AS same_after_late_data;

-- a full rebuild gives the same rows as the incremental refresh
CREATE TEMP TABLE incremental AS SELECT * FROM fieldops.kpi_day WHERE tenant_id = :kt AND day BETWEEN '2026-11-02' AND '2026-11-15';
SELECT r ->> 'days' AS days FROM fieldops.kpi_rebuild(:kt, '2026-11-02', '2026-11-15') r;
SELECT count(*) AS differ FROM ((SELECT * FROM fieldops.kpi_day WHERE tenant_id = :kt AND day BETWEEN '2026-11-02' AND '2026-11-15' EXCEPT SELECT * FROM incremental)
                                UNION ALL (SELECT * FROM incremental EXCEPT SELECT * FROM fieldops.kpi_day WHERE tenant_id = :kt AND day BETWEEN '2026-11-02' AND '2026-11-15')) x;

-- the job
SELECT job_name, function_name, scope, schedule, args FROM fieldops.builtin_jobs() WHERE job_name = 'kpi_rollup';
SELECT (fieldops.job_kpi_rollup(:kt, '{"max_days": 2}')) ->> 'days' AS job_days;

--
-- 6. Every tenant the earlier tests changed through the API: after a
-- refresh, each day the rollups hold agrees with a recomputation (days
-- nobody marked, with rows the tests wrote directly, are not computed)
--
CREATE FUNCTION kpi_test.all_tenants() RETURNS TABLE (tenants bigint, days_checked bigint, differences bigint) LANGUAGE plpgsql AS $$
DECLARE
    t bigint;
    d0 date;
    v_days bigint := 0;
    v_diff bigint := 0;
    v_n bigint := 0;
BEGIN
    FOR t IN SELECT tenant_id FROM fieldops.tenant ORDER BY 1 LOOP
        PERFORM fieldops.set_tenant(t, true);
        PERFORM fieldops.kpi_refresh(t, 3660);
        SELECT min(day) INTO d0 FROM fieldops.kpi_day WHERE tenant_id = t;
        CONTINUE WHEN d0 IS NULL;
        v_n := v_n + 1;
        v_days := v_days + (SELECT count(DISTINCT day) FROM fieldops.kpi_day WHERE tenant_id = t);
        v_diff := v_diff + (SELECT count(*) FROM fieldops.check_rollups(t, d0, fieldops.tenant_local_date(t)) x
                             WHERE EXISTS (SELECT 1 FROM fieldops.kpi_day y WHERE y.tenant_id = t AND y.day = x.day));
    END LOOP;
    RETURN QUERY SELECT v_n, v_days, v_diff;
END $$;
SELECT tenants > 5 AS several_tenants, days_checked > 20 AS many_days, differences FROM kpi_test.all_tenants();

--
-- 7. Bad input
--
SELECT kpi_test.err(q) AS result FROM (VALUES
    (format('SELECT * FROM fieldops.kpi(%s, %L, %L, %L, %L)', :kt, 'year', '{}', '2026-11-01', '2026-11-30')),
    (format('SELECT * FROM fieldops.kpi(%s, NULL, %L, %L, %L)', :kt, '{}', '2026-11-01', '2026-11-30')),
    (format('SELECT * FROM fieldops.kpi(%s, %L, %L, %L, %L)', :kt, 'day', '{shop}', '2026-11-01', '2026-11-30')),
    (format('SELECT * FROM fieldops.kpi(%s, %L, %L, %L, %L)', :kt, 'day', '{worker,worker}', '2026-11-01', '2026-11-30')),
    (format('SELECT * FROM fieldops.kpi(%s, %L, %L, %L, %L)', :kt, 'day', '{worker,NULL}', '2026-11-01', '2026-11-30')),
    (format('SELECT * FROM fieldops.kpi(%s, %L, %L, %L, %L)', :kt, 'day', '{}', '2026-11-30', '2026-11-01')),
    (format('SELECT * FROM fieldops.kpi(%s, %L, %L, NULL, %L)', :kt, 'day', '{}', '2026-11-30')),
    (format('SELECT * FROM fieldops.kpi(%s, %L, %L, %L, %L)', :kt, 'day', '{}', '2016-01-01', '2026-11-30')),
    (format('SELECT * FROM fieldops.kpi(%s, %L, %L, %L, %L)', :kt + 1000000, 'day', '{}', '2026-11-01', '2026-11-30')),
    (format('SELECT fieldops.kpi_refresh(%s, 0)', :kt)),
    (format('SELECT fieldops.kpi_rebuild(%s, %L, %L)', :kt, '2026-11-30', '2026-11-01')),
    (format('SELECT fieldops.upsert_deal(%s, %L, %s, %s, %s, %L)', :kt, 'has space', :c1, :w1, 10, '2026-11-02')),
    (format('SELECT fieldops.upsert_deal(%s, %L, %s, %s, %s, %L)', :kt, 'X1', :c1, :w1, -1, '2026-11-02')),
    (format('SELECT fieldops.upsert_deal(%s, %L, %s, %s, %s, %L)', :kt, 'X1', :c1, :w1, 1.005, '2026-11-02')),
    (format('SELECT fieldops.upsert_deal(%s, %L, %s, %s, %s, %L)', :kt, 'X1', :c1, :w1, 10, '2099-01-01')),
    (format('SELECT fieldops.upsert_deal(%s, %L, %s, %s, %s, %L, %L)', :kt, 'X1', :c1, :w1, 10, '2026-11-02', 'yuan')),
    (format('SELECT fieldops.upsert_deal(%s, %L, %s, %s, %s, %L)', :kt, 'X1', 987654321, :w1, 10, '2026-11-02')),
    (format('SELECT fieldops.upsert_deal(%s, %L, %s, %s, %s, %L)', :kt, 'X1', :c1, 987654321, 10, '2026-11-02')),
    (format('SELECT fieldops.upsert_deal(%s, %L, %s, NULL, %s, %L)', :kt, 'X1', :c1, 10, '2026-11-02'))
) AS t(q);
SELECT count(*) AS nothing_written FROM fieldops.deal WHERE tenant_id = :kt AND external_ref = 'X1';
