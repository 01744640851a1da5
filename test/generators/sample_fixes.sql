--
-- test/generators/sample_fixes.sql — working days of location fixes, vehicles
-- and vehicle claims for a tenant made by sample_tenant.sql
--
-- Not loaded by itself: test/generators/sample_fixes.sh prints it, followed
-- by the drives (drivegen runs) as rows of fieldops_sample.drive_segment and
-- COPY data of fieldops_sample.drive_fix.  Then
--
--   SELECT * FROM fieldops_sample.generate_fixes(p_tenant_id)
--       picks a sample worker for each story (fieldops_sample.drive_story),
--       a day (the Wednesday of last week, tenant-local, or the working day
--       before it), shifts the drives to that day and ingests them through
--       fieldops.ingest_fixes() in batches of at most 10000; returns what
--       ingest said per worker (stored, duplicate, off_duty, ...), also kept
--       in fieldops_sample.mileage_worker with the true distances.
--   SELECT * FROM fieldops_sample.build_vehicle_claims(p_tenant_id)
--       sets the vehicle rates (car, ev), the workers' vehicles and builds
--       each worker's fieldops.vehicle_claim() for the day, with a stated
--       distance that is honest, padded, lower, or none (see drive_story).
--
-- Determinism.  No random(): the drives are fixed by their drivegen seeds,
-- the workers by rules on the (seeded) sample tenant, the day by the
-- current date.  The same seeds give the same fixes relative to the day,
-- so the same distances, drops, trips and claims on every fresh run.
--
-- One shortcut a real back end could not take: fieldops.register_device()
-- binds a phone at now(), and ingest_fixes() attributes a fix to the worker
-- the phone was bound to at recorded_at.  The sample tenant's phones were
-- registered just now, so generate_fixes() backdates the binding of each
-- sample worker's phone (fieldops.device_binding.bound_at and
-- fieldops.device.bound_at) to before the day: a direct UPDATE of the
-- extension's tables, which only a superuser (as in make demo) may do.
--

SET client_min_messages = warning;
CREATE SCHEMA IF NOT EXISTS fieldops_sample;

-- the stories, and how a worker is chosen for each
DROP TABLE IF EXISTS fieldops_sample.drive_story CASCADE;
CREATE TABLE fieldops_sample.drive_story (
    story         int PRIMARY KEY,
    name          text NOT NULL UNIQUE,
    label         text NOT NULL,         -- for the report
    team_like     text NOT NULL,         -- preferred team code (LIKE)
    titles        text[] NOT NULL,       -- preferred titles
    vehicle_type  text NOT NULL,
    plate         text NOT NULL,
    claim         text CHECK (claim IN ('honest', 'padded', 'lower'))  -- NULL: no stated distance
);
COMMENT ON TABLE fieldops_sample.drive_story IS
'Sample working days (test/generators/sample_fixes.sh): who is chosen for each, the vehicle, and how the worker states the distance.';
INSERT INTO fieldops_sample.drive_story VALUES
    (1, 'sales_city',   'city shop visits',       'PX-SALES', '{销售代表,高级销售代表}', 'car', '沪A·5K2M7',  'honest'),
    (2, 'svc_highway',  'expressway, tunnels',    'XQ-SVC',   '{服务工程师,高级服务工程师}', 'car', '沪B·93E61',  'padded'),
    (3, 'svc_garage',   'underground car parks',  'PD-SVC',   '{服务工程师,高级服务工程师}', 'ev',  '沪AD·38615', 'lower'),
    (4, 'merch_parked', 'parked for hours',       '%-SVC',    '{陈列专员}',                  'ev',  '沪AD·71520', NULL);

-- one drivegen run (sample_fixes.sh writes these rows)
DROP TABLE IF EXISTS fieldops_sample.drive_segment CASCADE;
CREATE TABLE fieldops_sample.drive_segment (
    story        int NOT NULL,
    story_name   text NOT NULL,
    seg          int NOT NULL,
    start_local  time NOT NULL,          -- on the day, tenant-local
    duration_s   float8 NOT NULL,
    scenario     text NOT NULL,
    env          text NOT NULL,
    sample_s     float8 NOT NULL,
    faults       text NOT NULL,
    heading      float8,
    phone        boolean NOT NULL,       -- false: the phone is silent (no fixes loaded)
    seed         bigint NOT NULL,
    origin_lat   float8 NOT NULL,
    origin_lon   float8 NOT NULL,
    end_lat      float8 NOT NULL,        -- where the true path ends
    end_lon      float8 NOT NULL,
    true_m       float8 NOT NULL,        -- drivegen's true distance
    parked_s     float8 NOT NULL,
    tunnels      int NOT NULL,
    tunnel_m     float8 NOT NULL,
    t0_us        bigint NOT NULL,        -- drivegen's start (microseconds since 2000-01-01 UTC)
    n_fixes      int NOT NULL,
    note         text,
    PRIMARY KEY (story, seg)
);
COMMENT ON TABLE fieldops_sample.drive_segment IS
'The drivegen runs that make the sample working days, with their true distances (sample_fixes.sh).';

-- the rows drivegen printed, in its (arrival) order
DROP TABLE IF EXISTS fieldops_sample.drive_fix CASCADE;
CREATE TABLE fieldops_sample.drive_fix (
    row_no     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    story      int,                      -- (set after each segment's COPY)
    seg        int,
    t_us       bigint NOT NULL,
    lat        float8 NOT NULL,
    lon        float8 NOT NULL,
    acc_m      real,
    speed_mps  real,
    provider   text NOT NULL
);
COMMENT ON TABLE fieldops_sample.drive_fix IS
'Staging: drivegen''s fixes before generate_fixes() shifts them to the sample day and ingests them (emptied afterwards).';

-- what came of it, per tenant (kept when the drives are loaded again)
CREATE TABLE IF NOT EXISTS fieldops_sample.mileage_worker (
    tenant_id        bigint NOT NULL,
    story            int NOT NULL,
    story_name       text NOT NULL,
    label            text NOT NULL,
    worker_id        bigint NOT NULL,
    device_id        bigint NOT NULL,
    day              date NOT NULL,
    sample_s         float8 NOT NULL,
    sent             int NOT NULL,        -- elements passed to ingest_fixes()
    stored           int NOT NULL,
    duplicate        int NOT NULL,
    off_duty         int NOT NULL,        -- outside working hours: not stored
    other            int NOT NULL,        -- expired, rejected
    true_km          numeric NOT NULL,    -- drivegen's truth inside the working hours
    true_km_day      numeric NOT NULL,    -- ... and over the whole day (commutes, lunch)
    silent_true_km   numeric NOT NULL,    -- ... of it while the phone was silent (working hours)
    tunnel_km        numeric NOT NULL,    -- ... of it in tunnels (working hours)
    claim            text,
    PRIMARY KEY (tenant_id, story)
);
COMMENT ON TABLE fieldops_sample.mileage_worker IS
'Sample working days per tenant: the chosen worker and phone, the day, what ingest_fixes() said, and drivegen''s true distances.';
RESET client_min_messages;

-- The sample day of a tenant: the Wednesday of last week (tenant-local), or
-- the latest working day of the tenant's default schedule before it.
CREATE OR REPLACE FUNCTION fieldops_sample.mileage_day(p_tenant_id bigint)
RETURNS date
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    v_today date := fieldops.tenant_local_date(p_tenant_id);
    v_schedule jsonb := fieldops.tenant_setting(p_tenant_id, 'work_schedule');
    d date;
BEGIN
    d := date_trunc('week', v_today::timestamp)::date - 5;
    FOR i IN 1 .. 21 LOOP
        IF EXISTS (SELECT 1 FROM fieldops.work_schedule_ranges(v_schedule, d)) THEN
            RETURN d;
        END IF;
        d := d - 1;
    END LOOP;
    RAISE EXCEPTION 'tenant % has no working day in the three weeks before %', p_tenant_id, d + 21;
END
$$;

CREATE OR REPLACE FUNCTION fieldops_sample.generate_fixes(p_tenant_id bigint)
RETURNS TABLE (story text, worker text, phone text, day date, sent int, stored int, duplicate int,
               off_duty int, other int, true_km numeric)
LANGUAGE plpgsql VOLATILE
SET search_path FROM CURRENT
AS $$
#variable_conflict use_column
DECLARE
    v_tz text;
    v_day date;
    v_schedule jsonb;
    v_picked bigint[] := '{}';
    v_bound timestamptz;
    st fieldops_sample.drive_story;
    w record;
    b record;
    r record;
    v_sent int;
    v_n jsonb;
    v_true record;
BEGIN
    IF EXISTS (SELECT 1 FROM fieldops_sample.mileage_worker m
                WHERE m.tenant_id = p_tenant_id
                  AND EXISTS (SELECT 1 FROM fieldops.fix f
                               WHERE f.tenant_id = p_tenant_id AND f.worker_id = m.worker_id
                                 AND f.recorded_at >= m.day - 1 AND f.recorded_at < m.day + 2)) THEN
        RAISE NOTICE 'tenant % has its sample working days already', p_tenant_id;
    ELSE
        -- (days whose fixes are gone, e.g. purged after fix_retention_days, are made again)
        DELETE FROM fieldops_sample.mileage_worker m WHERE m.tenant_id = p_tenant_id;
        IF NOT EXISTS (SELECT 1 FROM fieldops_sample.drive_fix) THEN
            RAISE EXCEPTION 'fieldops_sample.drive_fix is empty: load test/generators/sample_fixes.sh first';
        END IF;
        PERFORM fieldops.set_tenant(p_tenant_id);
        v_tz := fieldops.tenant_time_zone(p_tenant_id);
        v_schedule := fieldops.tenant_setting(p_tenant_id, 'work_schedule');
        v_day := fieldops_sample.mileage_day(p_tenant_id);
        -- the daily partitions of those UTC days, as the fix_partitions job
        -- would have made them at the time
        PERFORM fieldops.ensure_fix_partitions(v_day - 1, v_day);

        FOR st IN SELECT * FROM fieldops_sample.drive_story s ORDER BY s.story LOOP
            -- an active worker on the tenant's default hours, hired a month
            -- before the day, with exactly one phone that nobody else had;
            -- the story's team and titles first, team leads last
            SELECT x.worker_id, x.name, x.hired_on, d.device_id, d.device_uid, d.model INTO w
              FROM fieldops.worker x
              JOIN fieldops.team t ON t.tenant_id = x.tenant_id AND t.team_id = x.team_id
              JOIN fieldops.device d ON d.tenant_id = x.tenant_id AND d.worker_id = x.worker_id
                                    AND d.status = 'active' AND COALESCE(d.model, '') !~ 'Pad'
             WHERE x.tenant_id = p_tenant_id AND x.status = 'active' AND x.left_on IS NULL
               AND x.work_schedule IS NULL
               AND COALESCE(x.hired_on, v_day - 365) <= v_day - 30
               AND x.worker_id <> ALL (v_picked)
               AND (SELECT count(*) FROM fieldops.device y
                     WHERE y.tenant_id = p_tenant_id AND y.worker_id = x.worker_id AND COALESCE(y.model, '') !~ 'Pad') = 1
               AND (SELECT count(*) FROM fieldops.device_binding y
                     WHERE y.tenant_id = p_tenant_id AND y.device_id = d.device_id) = 1
             ORDER BY (t.code LIKE st.team_like AND x.title = ANY (st.titles)) DESC,
                      x.title = ANY (st.titles) DESC, t.code LIKE st.team_like DESC, x.is_team_lead, x.worker_id
             LIMIT 1;
            IF w.worker_id IS NULL THEN
                RAISE EXCEPTION 'no worker of tenant % fits story %', p_tenant_id, st.name;
            END IF;
            v_picked := v_picked || w.worker_id;

            -- the phone was issued two months before the day (or on hiring);
            -- sample-generator shortcut, superuser only (see the header)
            v_bound := (greatest(COALESCE(w.hired_on, v_day - 60), v_day - 60) + time '09:00') AT TIME ZONE v_tz;
            UPDATE fieldops.device_binding x SET bound_at = v_bound
             WHERE x.tenant_id = p_tenant_id AND x.device_id = w.device_id AND x.unbound_at IS NULL
               AND x.bound_at > v_bound;
            UPDATE fieldops.device x SET bound_at = v_bound, registered_at = least(x.registered_at, v_bound)
             WHERE x.tenant_id = p_tenant_id AND x.device_id = w.device_id AND x.bound_at > v_bound;

            -- ingest, in drivegen's arrival order, at most 10000 per call
            v_sent := 0;
            v_n := '{}';
            FOR b IN
                SELECT (f.n - 1) / 10000 AS batch, count(*)::int AS n,
                       jsonb_agg(jsonb_build_object(
                           'device_uid', w.device_uid,
                           -- epoch milliseconds, as Android's Location.getTime()
                           'recorded_at', (f.start_us + f.t_us - f.t0_us + 946684800000000) / 1000,
                           'lat', f.lat, 'lon', f.lon, 'accuracy_m', f.acc_m, 'speed_mps', f.speed_mps,
                           'provider', f.provider) ORDER BY f.n) AS fixes
                  FROM (SELECT x.*, s.t0_us,
                               extract(epoch FROM (v_day + s.start_local) AT TIME ZONE v_tz)::bigint * 1000000
                                   - 946684800000000 AS start_us,
                               row_number() OVER (ORDER BY x.seg, x.row_no) AS n
                          FROM fieldops_sample.drive_fix x
                          JOIN fieldops_sample.drive_segment s ON s.story = x.story AND s.seg = x.seg
                         WHERE x.story = st.story) f
                 GROUP BY 1 ORDER BY 1
            LOOP
                v_sent := v_sent + b.n;
                FOR r IN SELECT i.status, count(*)::int AS n
                           FROM fieldops.ingest_fixes(p_tenant_id, b.fixes) i GROUP BY i.status LOOP
                    v_n := jsonb_set(v_n, ARRAY[r.status], to_jsonb(COALESCE((v_n ->> r.status)::int, 0) + r.n));
                END LOOP;
            END LOOP;

            -- the truth: segments inside the working hours (a drive may not
            -- straddle their ends; parked ones may, they add nothing)
            SELECT COALESCE(sum(s.true_m) FILTER (WHERE r0.inside), 0) / 1000 AS on_duty,
                   COALESCE(sum(s.true_m), 0) / 1000 AS whole_day,
                   COALESCE(sum(s.true_m) FILTER (WHERE r0.inside AND NOT s.phone), 0) / 1000 AS silent,
                   COALESCE(sum(s.tunnel_m) FILTER (WHERE r0.inside), 0) / 1000 AS tunnels,
                   count(*) FILTER (WHERE r0.straddles AND s.true_m > 0) AS straddling
              INTO v_true
              FROM fieldops_sample.drive_segment s
             CROSS JOIN LATERAL (
                   SELECT bool_or(v_day + s.start_local >= g.start_local
                                  AND v_day + s.start_local + make_interval(secs => s.duration_s) <= g.end_local) AS inside,
                          bool_or(v_day + s.start_local < g.end_local
                                  AND v_day + s.start_local + make_interval(secs => s.duration_s) > g.start_local
                                  AND NOT (v_day + s.start_local >= g.start_local
                                           AND v_day + s.start_local + make_interval(secs => s.duration_s) <= g.end_local)) AS straddles
                     FROM fieldops.work_schedule_ranges(v_schedule, v_day) g) r0
             WHERE s.story = st.story;
            IF v_true.straddling > 0 THEN
                RAISE EXCEPTION 'story %: % drive(s) straddle the start or end of working hours; fix the plan in sample_fixes.sh',
                    st.name, v_true.straddling;
            END IF;

            INSERT INTO fieldops_sample.mileage_worker
            VALUES (p_tenant_id, st.story, st.name, st.label, w.worker_id, w.device_id, v_day,
                    (SELECT min(s.sample_s) FROM fieldops_sample.drive_segment s WHERE s.story = st.story), v_sent,
                    COALESCE((v_n ->> 'stored')::int, 0), COALESCE((v_n ->> 'duplicate')::int, 0),
                    COALESCE((v_n ->> 'off_duty')::int, 0),
                    v_sent - COALESCE((v_n ->> 'stored')::int, 0) - COALESCE((v_n ->> 'duplicate')::int, 0)
                           - COALESCE((v_n ->> 'off_duty')::int, 0),
                    round(v_true.on_duty::numeric, 3), round(v_true.whole_day::numeric, 3), round(v_true.silent::numeric, 3),
                    round(v_true.tunnels::numeric, 3), st.claim);
        END LOOP;
        TRUNCATE fieldops_sample.drive_fix;
    END IF;

    RETURN QUERY
        SELECT m.story_name, x.name || ' (' || x.title || ')', d.model, m.day,
               m.sent, m.stored, m.duplicate, m.off_duty, m.other, m.true_km
          FROM fieldops_sample.mileage_worker m
          JOIN fieldops.worker x ON x.tenant_id = m.tenant_id AND x.worker_id = m.worker_id
          JOIN fieldops.device d ON d.tenant_id = m.tenant_id AND d.device_id = m.device_id
         WHERE m.tenant_id = p_tenant_id
         ORDER BY m.story;
END
$$;
COMMENT ON FUNCTION fieldops_sample.generate_fixes(bigint) IS
'Pick a sample worker per story, shift the loaded drives to last week''s sample day and ingest them through fieldops.ingest_fixes(); once per tenant. Returns what ingest said per worker.';

CREATE OR REPLACE FUNCTION fieldops_sample.build_vehicle_claims(p_tenant_id bigint)
RETURNS TABLE (story text, worker text, vehicle text, stated_km numeric, measured_km numeric, amount numeric,
               currency text, flags text[], revision int)
LANGUAGE plpgsql VOLATILE
SET search_path FROM CURRENT
AS $$
#variable_conflict use_column
DECLARE
    m record;
    v_from date;
    v_stated numeric;
    c fieldops.vehicle_claim;
BEGIN
    PERFORM fieldops.set_tenant(p_tenant_id);
    FOR m IN SELECT x.*, s.vehicle_type, s.plate, w.name, w.hired_on
               FROM fieldops_sample.mileage_worker x
               JOIN fieldops_sample.drive_story s ON s.story = x.story
               JOIN fieldops.worker w ON w.tenant_id = x.tenant_id AND w.worker_id = x.worker_id
              WHERE x.tenant_id = p_tenant_id ORDER BY x.story LOOP
        -- rates from the first of January before the day (car: raised from 0.70)
        v_from := date_trunc('year', (m.day - 60)::timestamp)::date;
        PERFORM fieldops.set_vehicle_rate(p_tenant_id, 'car', (v_from - interval '1 year')::date, 0.70);
        PERFORM fieldops.set_vehicle_rate(p_tenant_id, 'car', v_from, 0.80);
        PERFORM fieldops.set_vehicle_rate(p_tenant_id, 'ev', v_from, 0.45);
        PERFORM fieldops.set_worker_vehicle(p_tenant_id, m.worker_id, greatest(v_from, m.hired_on), m.vehicle_type, m.plate);
        -- what the worker states, from the car's trip meter (the truth)
        v_stated := CASE m.claim
                    WHEN 'honest' THEN round(m.true_km, 1)
                    WHEN 'padded' THEN ceil(m.true_km * 1.3 / 5) * 5
                    WHEN 'lower' THEN floor(m.true_km * 0.6)
                    END;
        c := fieldops.vehicle_claim(p_tenant_id, m.worker_id, m.day, v_stated);
        story := m.story_name;
        worker := m.name;
        vehicle := m.vehicle_type || ' ' || m.plate;
        stated_km := c.claimed_km;
        measured_km := c.measured_km;
        amount := c.amount;
        currency := c.currency;
        flags := c.flags;
        revision := c.revision;
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION fieldops_sample.build_vehicle_claims(bigint) IS
'Vehicle rates, the sample workers'' vehicles and their vehicle claims for the sample day (a new revision when run again).';
