--
-- Trips and vehicle reimbursement (module 5): a worker's stored fixes split
-- into trips, stops and gaps (trips.c, trips_core.c), effective-dated
-- vehicle rates, and the day's vehicle claim built from the trips inside
-- working hours, with the evidence to reproduce it.
--

--
-- Splitting a track
--

CREATE TYPE fieldops.track_segment AS (
    seq         integer,
    kind        text,                -- trip, stop or gap
    started_at  timestamptz,
    ended_at    timestamptz,
    start_lon   double precision,
    start_lat   double precision,
    end_lon     double precision,
    end_lat     double precision,
    mileage     fieldops.mileage     -- the segment's own share of the accounting
);
COMMENT ON TYPE fieldops.track_segment IS
'One trip, stop or gap of a track. Segments are contiguous in time and their mileage records add up to the track''s.';

CREATE FUNCTION fieldops.trip_params(p_params jsonb DEFAULT NULL)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'fieldops_trip_params'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION fieldops.trip_params(jsonb) IS
'The trip parameters in effect: the defaults overridden by p_params; 22023 for unknown keys or out-of-range values.';

CREATE FUNCTION fieldops.track_segments_transfn(internal, timestamptz, geometry, real, real, text, jsonb, jsonb)
RETURNS internal
AS 'MODULE_PATHNAME', 'fieldops_mileage_transfn'
LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION fieldops.track_segments_transfn(internal, timestamptz, geometry, real, real, text, jsonb, jsonb) IS
'Internal: transition function of track_segments (collects fixes, like mileage_agg).';

CREATE FUNCTION fieldops.track_segments_finalfn(internal)
RETURNS fieldops.track_segment[]
AS 'MODULE_PATHNAME', 'fieldops_track_segments_finalfn'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION fieldops.track_segments_finalfn(internal) IS
'Internal: final function of track_segments (sorts the fixes in place, runs the filter and the splitter).';

CREATE AGGREGATE fieldops.track_segments(recorded_at timestamptz, geom geometry, accuracy_m real, speed_mps real,
                                         source text, mileage_params jsonb, trip_params jsonb) (
    SFUNC = fieldops.track_segments_transfn,
    STYPE = internal,
    FINALFUNC = fieldops.track_segments_finalfn,
    FINALFUNC_MODIFY = READ_WRITE,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE fieldops.track_segments(timestamptz, geometry, real, real, text, jsonb, jsonb) IS
'One device''s fixes (any row order) split into trips, stops and gaps, each with its mileage record; the parameters of the first row apply (NULL: defaults, see mileage_params() and trip_params()).';

CREATE FUNCTION fieldops.work_schedule_ranges(p_schedule jsonb, p_day date,
    OUT start_local timestamp, OUT end_local timestamp)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'fieldops_work_schedule_ranges'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fieldops.work_schedule_ranges(jsonb, date) IS
'The working ranges of a local day in a work schedule, as local timestamps (a night shift ends on the next day).';

--
-- Tenant settings of trips and claims
--
INSERT INTO fieldops.setting_def (key, kind, default_value, min_value, max_value, description) VALUES
    ('trip_min_distance_m', 'integer', '200', 0, 100000,
     'A trip covers at least this many metres; shorter moves are part of a stop.'),
    ('trip_min_duration_s', 'integer', '120', 0, 86400,
     'A trip lasts at least this many seconds; briefer moves are part of a stop.'),
    ('stop_min_duration_s', 'integer', '300', 1, 86400,
     'Staying this many seconds within stop_radius_m is a stop (shorter halts, like traffic lights, are part of the trip).'),
    ('stop_radius_m', 'integer', '50', 1, 10000,
     'Radius in metres within which a vehicle at rest counts as staying.'),
    ('trip_long_gap_s', 'integer', '900', 1, 86400,
     'No fix for this many seconds is a silence: a stop if the vehicle stood, a gap (its chord counted and flagged) if it moved on.'),
    ('claim_tolerance_pct', 'integer', '10', 0, 100,
     'A stated vehicle distance may differ from the measured one by this percentage ...'),
    ('claim_tolerance_m', 'integer', '1000', 0, 100000,
     '... or by this many metres, whichever is larger, before the claim is flagged.');

CREATE FUNCTION fieldops.tenant_trip_params(p_tenant_id bigint)
RETURNS jsonb
LANGUAGE sql STABLE
AS $$
    SELECT pg_catalog.jsonb_build_object(
        'min_trip_m', fieldops.tenant_setting(p_tenant_id, 'trip_min_distance_m'),
        'min_trip_s', fieldops.tenant_setting(p_tenant_id, 'trip_min_duration_s'),
        'min_stop_s', fieldops.tenant_setting(p_tenant_id, 'stop_min_duration_s'),
        'stop_radius_m', fieldops.tenant_setting(p_tenant_id, 'stop_radius_m'),
        'long_gap_s', fieldops.tenant_setting(p_tenant_id, 'trip_long_gap_s'))
$$;
COMMENT ON FUNCTION fieldops.tenant_trip_params(bigint) IS
'Internal: the trip parameters of a tenant, from its settings.';

CREATE FUNCTION fieldops.check_worker(p_tenant_id bigint, p_worker_id bigint)
RETURNS fieldops.worker
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    w fieldops.worker;
BEGIN
    IF p_worker_id IS NULL THEN
        RAISE EXCEPTION 'p_worker_id must not be null' USING ERRCODE = '22004';
    END IF;
    SELECT * INTO w FROM fieldops.worker
     WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND worker_id OPERATOR(pg_catalog.=) p_worker_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'p_worker_id % is not a worker of tenant %', p_worker_id, p_tenant_id USING ERRCODE = '23503';
    END IF;
    RETURN w;
END
$$;
COMMENT ON FUNCTION fieldops.check_worker(bigint, bigint) IS
'Internal: the worker row (active or not); 22004 for NULL, 23503 if the tenant has no such worker.';

CREATE FUNCTION fieldops.check_track_range(p_tenant_id bigint, p_worker_id bigint, p_from timestamptz, p_to timestamptz)
RETURNS void
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    PERFORM fieldops.check_worker(p_tenant_id, p_worker_id);
    IF p_from IS NULL OR p_to IS NULL THEN
        RAISE EXCEPTION 'p_from and p_to must not be null' USING ERRCODE = '22004';
    END IF;
    IF NOT pg_catalog.isfinite(p_from) OR NOT pg_catalog.isfinite(p_to) OR p_to OPERATOR(pg_catalog.<=) p_from THEN
        RAISE EXCEPTION 'p_to must be a finite time after p_from, got [%, %)', p_from, p_to USING ERRCODE = '22023';
    END IF;
    IF p_to OPERATOR(pg_catalog.-) p_from OPERATOR(pg_catalog.>) interval '31 days' THEN
        RAISE EXCEPTION 'the range [p_from, p_to) must be at most 31 days, got %', p_to OPERATOR(pg_catalog.-) p_from
            USING ERRCODE = '22023';
    END IF;
END
$$;
COMMENT ON FUNCTION fieldops.check_track_range(bigint, bigint, timestamptz, timestamptz) IS
'Internal: the arguments of a worker''s track query (a worker of the tenant, a finite range of at most 31 days); raises 22004, 23503 or 22023.';

CREATE FUNCTION fieldops.worker_segments(p_tenant_id bigint, p_worker_id bigint, p_from timestamptz, p_to timestamptz,
                                         p_mileage_params jsonb, p_trip_params jsonb)
RETURNS SETOF fieldops.track_segment
LANGUAGE sql STABLE
AS $$
    SELECT s.*
      FROM pg_catalog.unnest((
             SELECT fieldops.track_segments(f.recorded_at, f.geom, f.accuracy_m, f.speed_mps, f.provider,
                                            p_mileage_params, p_trip_params)
               FROM fieldops.fix f
              WHERE f.tenant_id OPERATOR(pg_catalog.=) p_tenant_id
                AND f.worker_id OPERATOR(pg_catalog.=) p_worker_id
                AND f.recorded_at OPERATOR(pg_catalog.>=) p_from
                AND f.recorded_at OPERATOR(pg_catalog.<) p_to)) s
$$;
COMMENT ON FUNCTION fieldops.worker_segments(bigint, bigint, timestamptz, timestamptz, jsonb, jsonb) IS
'Internal: the segments of a worker''s stored fixes in [p_from, p_to) with the given parameters.';

CREATE FUNCTION fieldops.trips(p_tenant_id bigint, p_worker_id bigint, p_from timestamptz, p_to timestamptz)
RETURNS TABLE (seq integer, kind text, started_at timestamptz, ended_at timestamptz, duration interval,
               start_geom geometry, end_geom geometry, distance_m double precision, mileage fieldops.mileage)
LANGUAGE plpgsql STABLE SECURITY DEFINER
AS $$
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    PERFORM fieldops.check_track_range(p_tenant_id, p_worker_id, p_from, p_to);
    RETURN QUERY
        SELECT s.seq, s.kind, s.started_at, s.ended_at, s.ended_at OPERATOR(pg_catalog.-) s.started_at,
               ST_SetSRID(ST_MakePoint(s.start_lon, s.start_lat), 4326),
               ST_SetSRID(ST_MakePoint(s.end_lon, s.end_lat), 4326),
               (s.mileage).distance_m, s.mileage
          FROM fieldops.worker_segments(p_tenant_id, p_worker_id, p_from, p_to, NULL,
                                        fieldops.tenant_trip_params(p_tenant_id)) s
         ORDER BY s.seq;
END
$$;
COMMENT ON FUNCTION fieldops.trips(bigint, bigint, timestamptz, timestamptz) IS
'A worker''s stored fixes in [p_from, p_to) (at most 31 days) split into trips, stops and gaps, each with its audited mileage, using the tenant''s trip settings.';

CREATE FUNCTION fieldops.mileage_detail(p_tenant_id bigint, p_worker_id bigint, p_from timestamptz, p_to timestamptz)
RETURNS SETOF fieldops.mileage_fix
LANGUAGE plpgsql STABLE SECURITY DEFINER
AS $$
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    PERFORM fieldops.check_track_range(p_tenant_id, p_worker_id, p_from, p_to);
    RETURN QUERY
        SELECT d.*
          FROM pg_catalog.unnest((
                 SELECT fieldops.mileage_detail_agg(f.recorded_at, f.geom, f.accuracy_m, f.speed_mps, f.provider)
                   FROM fieldops.fix f
                  WHERE f.tenant_id OPERATOR(pg_catalog.=) p_tenant_id
                    AND f.worker_id OPERATOR(pg_catalog.=) p_worker_id
                    AND f.recorded_at OPERATOR(pg_catalog.>=) p_from
                    AND f.recorded_at OPERATOR(pg_catalog.<) p_to)) d;
END
$$;
COMMENT ON FUNCTION fieldops.mileage_detail(bigint, bigint, timestamptz, timestamptz) IS
'A worker''s stored fixes in [p_from, p_to) (at most 31 days), one row per fix in time order: what the mileage filter did with it and why, the metres it added and the running total.';

--
-- Vehicles and rates
--

CREATE TABLE fieldops.vehicle_rate (
    tenant_id     bigint NOT NULL REFERENCES fieldops.tenant (tenant_id),
    rate_id       bigserial NOT NULL,
    vehicle_type  text NOT NULL CHECK (vehicle_type ~ '^[a-z][a-z0-9_]{0,31}$'),
    valid_from    date NOT NULL,
    rate_per_km   numeric(12, 4) NOT NULL CHECK (rate_per_km OPERATOR(pg_catalog.>=) 0),
    currency      text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    created_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    created_by    name NOT NULL DEFAULT SESSION_USER,
    PRIMARY KEY (tenant_id, rate_id),
    UNIQUE (tenant_id, vehicle_type, valid_from)
);
COMMENT ON TABLE fieldops.vehicle_rate IS
'Reimbursement per km by vehicle type, effective-dated: the row with the latest valid_from on or before a day applies. A rate used by a claim is never changed; a later valid_from supersedes it.';

CREATE TABLE fieldops.worker_vehicle (
    tenant_id     bigint NOT NULL REFERENCES fieldops.tenant (tenant_id),
    worker_id     bigint NOT NULL,
    valid_from    date NOT NULL,
    vehicle_type  text CHECK (vehicle_type ~ '^[a-z][a-z0-9_]{0,31}$'),
    plate         text CHECK (pg_catalog.length(plate) BETWEEN 1 AND 20),
    created_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (tenant_id, worker_id, valid_from),
    FOREIGN KEY (tenant_id, worker_id) REFERENCES fieldops.worker (tenant_id, worker_id)
);
COMMENT ON TABLE fieldops.worker_vehicle IS
'Which vehicle type (and plate) a worker drives for work, effective-dated; vehicle_type NULL: no vehicle from valid_from on.';

CREATE FUNCTION fieldops.set_vehicle_rate(p_tenant_id bigint, p_vehicle_type text, p_valid_from date,
                                          p_rate_per_km numeric, p_currency text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    v_currency text;
    r fieldops.vehicle_rate;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    IF p_vehicle_type IS NULL OR p_vehicle_type !~ '^[a-z][a-z0-9_]{0,31}$' THEN
        RAISE EXCEPTION 'p_vehicle_type must be a lower-case code such as car, motorbike or ev (1 to 32 letters, digits, _), got %',
            COALESCE(pg_catalog.quote_literal(p_vehicle_type), 'NULL') USING ERRCODE = '22023';
    END IF;
    IF p_valid_from IS NULL OR NOT pg_catalog.isfinite(p_valid_from) THEN
        RAISE EXCEPTION 'p_valid_from must be a finite date' USING ERRCODE = '22023';
    END IF;
    IF p_rate_per_km IS NULL OR p_rate_per_km OPERATOR(pg_catalog.<) 0 OR p_rate_per_km OPERATOR(pg_catalog.>) 1000
       OR p_rate_per_km OPERATOR(pg_catalog.<>) pg_catalog.round(p_rate_per_km, 4) THEN
        RAISE EXCEPTION 'p_rate_per_km must be between 0 and 1000 with at most 4 decimals, got %', p_rate_per_km
            USING ERRCODE = '22023';
    END IF;
    v_currency := COALESCE(p_currency, fieldops.tenant_setting(p_tenant_id, 'currency') #>> '{}');
    IF v_currency !~ '^[A-Z]{3}$' THEN
        RAISE EXCEPTION 'p_currency must be an ISO 4217 code such as CNY, got %', pg_catalog.quote_literal(v_currency)
            USING ERRCODE = '22023';
    END IF;

    SELECT * INTO r FROM fieldops.vehicle_rate x
     WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.vehicle_type OPERATOR(pg_catalog.=) p_vehicle_type
       AND x.valid_from OPERATOR(pg_catalog.=) p_valid_from
       FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO fieldops.vehicle_rate (tenant_id, vehicle_type, valid_from, rate_per_km, currency)
        VALUES (p_tenant_id, p_vehicle_type, p_valid_from, p_rate_per_km, v_currency)
        ON CONFLICT (tenant_id, vehicle_type, valid_from) DO NOTHING
        RETURNING * INTO r;
        IF r.rate_id IS NULL THEN
            RAISE EXCEPTION 'a rate for % from % was set concurrently', p_vehicle_type, p_valid_from
                USING ERRCODE = '40001', HINT = 'Retry the call.';
        END IF;
        RETURN r.rate_id;
    END IF;
    IF r.rate_per_km OPERATOR(pg_catalog.=) p_rate_per_km AND r.currency OPERATOR(pg_catalog.=) v_currency THEN
        RETURN r.rate_id;
    END IF;
    IF EXISTS (SELECT 1 FROM fieldops.vehicle_claim c
                WHERE c.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND c.rate_id OPERATOR(pg_catalog.=) r.rate_id) THEN
        RAISE EXCEPTION 'the % rate from % is used by vehicle claims and cannot change', p_vehicle_type, p_valid_from
            USING ERRCODE = '55000', HINT = 'Set a new rate with a later p_valid_from.';
    END IF;
    UPDATE fieldops.vehicle_rate
       SET rate_per_km = p_rate_per_km, currency = v_currency, created_at = pg_catalog.now(), created_by = SESSION_USER
     WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND rate_id OPERATOR(pg_catalog.=) r.rate_id;
    RETURN r.rate_id;
END
$$;
COMMENT ON FUNCTION fieldops.set_vehicle_rate(bigint, text, date, numeric, text) IS
'Set the reimbursement per km of a vehicle type from a date on (currency: the tenant''s by default); returns rate_id. A rate already used by a claim cannot change (55000): add one with a later date.';

CREATE FUNCTION fieldops.set_worker_vehicle(p_tenant_id bigint, p_worker_id bigint, p_valid_from date,
                                            p_vehicle_type text, p_plate text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    PERFORM fieldops.check_worker(p_tenant_id, p_worker_id);
    IF p_valid_from IS NULL OR NOT pg_catalog.isfinite(p_valid_from) THEN
        RAISE EXCEPTION 'p_valid_from must be a finite date' USING ERRCODE = '22023';
    END IF;
    IF p_vehicle_type IS NOT NULL AND p_vehicle_type !~ '^[a-z][a-z0-9_]{0,31}$' THEN
        RAISE EXCEPTION 'p_vehicle_type must be a lower-case code such as car, motorbike or ev (or NULL: no vehicle), got %',
            pg_catalog.quote_literal(p_vehicle_type) USING ERRCODE = '22023';
    END IF;
    IF p_vehicle_type IS NULL AND p_plate IS NOT NULL THEN
        RAISE EXCEPTION 'p_plate needs a p_vehicle_type' USING ERRCODE = '22023';
    END IF;
    INSERT INTO fieldops.worker_vehicle (tenant_id, worker_id, valid_from, vehicle_type, plate)
    VALUES (p_tenant_id, p_worker_id, p_valid_from, p_vehicle_type, fieldops.check_text(p_plate, 'p_plate', 20, false))
    ON CONFLICT (tenant_id, worker_id, valid_from)
    DO UPDATE SET vehicle_type = EXCLUDED.vehicle_type, plate = EXCLUDED.plate, created_at = pg_catalog.now();
END
$$;
COMMENT ON FUNCTION fieldops.set_worker_vehicle(bigint, bigint, date, text, text) IS
'Record the vehicle type (and plate) a worker drives from p_valid_from on; p_vehicle_type NULL ends it.';

--
-- Vehicle claims
--

CREATE TABLE fieldops.vehicle_claim (
    tenant_id      bigint NOT NULL REFERENCES fieldops.tenant (tenant_id),
    claim_id       bigserial NOT NULL,
    worker_id      bigint NOT NULL,
    day            date NOT NULL,
    status         text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft')),
    revision       integer NOT NULL DEFAULT 1,
    vehicle_type   text NOT NULL,
    plate          text,
    rate_id        bigint NOT NULL,
    rate_per_km    numeric(12, 4) NOT NULL,
    currency       text NOT NULL,
    measured_km    numeric(10, 3) NOT NULL,   -- trip_km + gap_km
    trip_km        numeric(10, 3) NOT NULL,
    gap_km         numeric(10, 3) NOT NULL,   -- chords over silences while moving
    claimed_km     numeric(10, 3),            -- as the worker stated it
    difference_km  numeric(10, 3),            -- claimed_km - measured_km
    tolerance_km   numeric(10, 3) NOT NULL,
    payable_km     numeric(10, 3) NOT NULL,   -- measured, or the claimed figure when lower
    amount         numeric(12, 2) NOT NULL,
    flags          text[] NOT NULL,
    evidence       jsonb NOT NULL,
    built_at       timestamptz NOT NULL,
    built_by       name NOT NULL,
    PRIMARY KEY (tenant_id, claim_id),
    UNIQUE (tenant_id, worker_id, day),
    FOREIGN KEY (tenant_id, worker_id) REFERENCES fieldops.worker (tenant_id, worker_id),
    FOREIGN KEY (tenant_id, rate_id) REFERENCES fieldops.vehicle_rate (tenant_id, rate_id)
);
CREATE INDEX vehicle_claim_rate_idx ON fieldops.vehicle_claim (tenant_id, rate_id);
COMMENT ON TABLE fieldops.vehicle_claim IS
'A worker''s vehicle reimbursement for one local day, built by vehicle_claim() from the trips inside working hours; evidence holds what reproduces it (verify_vehicle_claim()).';

CREATE TABLE fieldops.trip (
    tenant_id    bigint NOT NULL REFERENCES fieldops.tenant (tenant_id),
    trip_id      bigserial NOT NULL,
    claim_id     bigint NOT NULL,
    worker_id    bigint NOT NULL,
    range_no     integer NOT NULL,           -- which working range of the day
    seq          integer NOT NULL,           -- order within the range
    kind         text NOT NULL CHECK (kind IN ('trip', 'stop', 'gap')),
    counted      boolean NOT NULL,           -- part of measured_km (trips and gaps)
    started_at   timestamptz NOT NULL,
    ended_at     timestamptz NOT NULL,
    start_geom   geometry(Point, 4326) NOT NULL,
    end_geom     geometry(Point, 4326) NOT NULL,
    distance_m   double precision NOT NULL,
    mileage      fieldops.mileage NOT NULL,
    PRIMARY KEY (tenant_id, trip_id),
    UNIQUE (tenant_id, claim_id, range_no, seq),
    FOREIGN KEY (tenant_id, claim_id) REFERENCES fieldops.vehicle_claim (tenant_id, claim_id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, worker_id) REFERENCES fieldops.worker (tenant_id, worker_id),
    CONSTRAINT trip_order CHECK (ended_at OPERATOR(pg_catalog.>=) started_at)
);
CREATE INDEX trip_worker_idx ON fieldops.trip (tenant_id, worker_id, started_at);
COMMENT ON TABLE fieldops.trip IS
'The segments (trips, stops, gaps) a vehicle claim was built from, each with its mileage record; rebuilt with the claim.';

CREATE FUNCTION fieldops.claim_windows(p_tenant_id bigint, w fieldops.worker, p_day date)
RETURNS TABLE (range_no integer, from_at timestamptz, to_at timestamptz)
LANGUAGE sql STABLE
AS $$
    SELECT (pg_catalog.row_number() OVER (ORDER BY r.start_local))::integer,
           r.start_local AT TIME ZONE fieldops.tenant_time_zone(p_tenant_id),
           r.end_local AT TIME ZONE fieldops.tenant_time_zone(p_tenant_id)
      FROM fieldops.work_schedule_ranges(COALESCE(w.work_schedule, fieldops.tenant_setting(p_tenant_id, 'work_schedule')), p_day) r
     WHERE (w.hired_on IS NULL OR p_day OPERATOR(pg_catalog.>=) w.hired_on)
       AND (w.left_on IS NULL OR p_day OPERATOR(pg_catalog.<) w.left_on)
$$;
COMMENT ON FUNCTION fieldops.claim_windows(bigint, fieldops.worker, date) IS
'Internal: a worker''s working ranges of a local day as timestamptz, numbered (none before hiring or after leaving).';

CREATE FUNCTION fieldops.fix_digest(p_tenant_id bigint, p_worker_id bigint, p_from timestamptz, p_to timestamptz)
RETURNS TABLE (n_fixes bigint, digest text)
LANGUAGE sql STABLE
AS $$
    SELECT pg_catalog.count(*),
           pg_catalog.md5(COALESCE(pg_catalog.string_agg(
               pg_catalog.concat_ws(',', f.device_id, (extract(epoch FROM f.recorded_at) * 1000000)::bigint,
                                    ST_X(f.geom), ST_Y(f.geom), f.accuracy_m, f.speed_mps, f.provider),
               ';' ORDER BY f.recorded_at, f.device_id), ''))
      FROM fieldops.fix f
     WHERE f.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND f.worker_id OPERATOR(pg_catalog.=) p_worker_id
       AND f.recorded_at OPERATOR(pg_catalog.>=) p_from AND f.recorded_at OPERATOR(pg_catalog.<) p_to
$$;
COMMENT ON FUNCTION fieldops.fix_digest(bigint, bigint, timestamptz, timestamptz) IS
'Internal: how many fixes of a worker lie in [p_from, p_to) and an MD5 digest of what the mileage uses of them, so an auditor can tell whether they changed.';

CREATE FUNCTION fieldops.vehicle_claim(p_tenant_id bigint, p_worker_id bigint, p_day date, p_claimed_km numeric DEFAULT NULL)
RETURNS fieldops.vehicle_claim
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    w fieldops.worker;
    v record;
    r fieldops.vehicle_rate;
    c fieldops.vehicle_claim;
    win record;
    seg fieldops.track_segment;
    v_tz text := fieldops.tenant_time_zone(p_tenant_id);
    v_today date;
    v_mparams jsonb := fieldops.mileage_params(NULL);
    v_tparams jsonb := fieldops.trip_params(fieldops.tenant_trip_params(p_tenant_id));
    v_trip_m numeric := 0;
    v_gap_m numeric := 0;
    v_flags text[] := '{}';
    v_windows jsonb := '[]';
    v_ids bigint[] := '{}';
    v_id bigint;
    v_n bigint;
    v_digest text;
    v_n_total bigint := 0;
    v_measured numeric;
    v_tol numeric;
    v_diff numeric;
    v_payable numeric;
    v_ref record;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    w := fieldops.check_worker(p_tenant_id, p_worker_id);
    IF p_day IS NULL OR NOT pg_catalog.isfinite(p_day) THEN
        RAISE EXCEPTION 'p_day must be a finite date' USING ERRCODE = '22023';
    END IF;
    v_today := (pg_catalog.now() AT TIME ZONE v_tz)::date;
    IF p_day OPERATOR(pg_catalog.>) v_today THEN
        RAISE EXCEPTION 'p_day % is in the future (today is % in %)', p_day, v_today, v_tz USING ERRCODE = '22023';
    END IF;
    IF p_claimed_km IS NOT NULL AND (p_claimed_km OPERATOR(pg_catalog.<) 0 OR p_claimed_km OPERATOR(pg_catalog.>) 5000) THEN
        RAISE EXCEPTION 'p_claimed_km must be between 0 and 5000, got %', p_claimed_km USING ERRCODE = '22023';
    END IF;

    SELECT x.vehicle_type, x.plate INTO v FROM fieldops.worker_vehicle x
     WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.worker_id OPERATOR(pg_catalog.=) p_worker_id
       AND x.valid_from OPERATOR(pg_catalog.<=) p_day
     ORDER BY x.valid_from DESC LIMIT 1;
    IF v.vehicle_type IS NULL THEN
        RAISE EXCEPTION 'worker % has no vehicle on %', p_worker_id, p_day
            USING ERRCODE = '55000', HINT = 'Record it with fieldops.set_worker_vehicle().';
    END IF;
    SELECT * INTO r FROM fieldops.vehicle_rate x
     WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.vehicle_type OPERATOR(pg_catalog.=) v.vehicle_type
       AND x.valid_from OPERATOR(pg_catalog.<=) p_day
     ORDER BY x.valid_from DESC LIMIT 1;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no % rate is in effect on %', v.vehicle_type, p_day
            USING ERRCODE = '55000', HINT = 'Set one with fieldops.set_vehicle_rate().';
    END IF;

    -- one claim per worker and day: insert it, or take the existing one's
    -- row lock, so concurrent builds of the same claim run one after the other
    INSERT INTO fieldops.vehicle_claim AS x (tenant_id, worker_id, day, vehicle_type, rate_id, rate_per_km, currency,
                                             measured_km, trip_km, gap_km, tolerance_km, payable_km, amount,
                                             flags, evidence, built_at, built_by)
    VALUES (p_tenant_id, p_worker_id, p_day, v.vehicle_type, r.rate_id, r.rate_per_km, r.currency,
            0, 0, 0, 0, 0, 0, '{}', '{}', pg_catalog.now(), SESSION_USER)
    ON CONFLICT (tenant_id, worker_id, day) DO UPDATE SET revision = x.revision OPERATOR(pg_catalog.+) 1
    RETURNING * INTO c;
    IF c.status OPERATOR(pg_catalog.<>) 'draft' THEN
        RAISE EXCEPTION 'the vehicle claim of worker % for % is % and cannot be rebuilt', p_worker_id, p_day, c.status
            USING ERRCODE = '55000';
    END IF;
    -- an expense claim relies on it (fieldops.expense_line, 80_expense.sql,
    -- later in the script): a trip named by a line would vanish with the
    -- rebuild; a claim submitted or later is frozen for its approvers
    SELECT l.line_id, l.claim_id, e.state, l.trip_id IS NOT NULL AS by_trip INTO v_ref
      FROM fieldops.expense_line l
      JOIN fieldops.expense_claim e ON e.tenant_id OPERATOR(pg_catalog.=) l.tenant_id AND e.claim_id OPERATOR(pg_catalog.=) l.claim_id
     WHERE l.tenant_id OPERATOR(pg_catalog.=) p_tenant_id
       AND (l.trip_id IN (SELECT t.trip_id FROM fieldops.trip t
                           WHERE t.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND t.claim_id OPERATOR(pg_catalog.=) c.claim_id)
            OR (l.vehicle_claim_id OPERATOR(pg_catalog.=) c.claim_id AND e.state NOT IN ('draft', 'rejected', 'cancelled')))
     ORDER BY (l.trip_id IS NOT NULL) DESC, l.line_id LIMIT 1;
    IF v_ref.line_id IS NOT NULL THEN
        RAISE EXCEPTION 'the vehicle claim of worker % for % cannot be rebuilt: expense line % (claim %, %) names %', p_worker_id, p_day,
            v_ref.line_id, v_ref.claim_id, v_ref.state, CASE WHEN v_ref.by_trip THEN 'one of its trips' ELSE 'it' END
            USING ERRCODE = '55000',
                  HINT = CASE WHEN v_ref.by_trip THEN 'Trips are rebuilt with the claim: remove the line, or have it name the vehicle claim.'
                              ELSE 'Its approvers saw these kilometres: reject or withdraw that expense claim first.' END;
    END IF;
    DELETE FROM fieldops.trip t
     WHERE t.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND t.claim_id OPERATOR(pg_catalog.=) c.claim_id;

    FOR win IN SELECT * FROM fieldops.claim_windows(p_tenant_id, w, p_day) LOOP
        SELECT d.n_fixes, d.digest INTO v_n, v_digest
          FROM fieldops.fix_digest(p_tenant_id, p_worker_id, win.from_at, win.to_at) d;
        v_n_total := v_n_total OPERATOR(pg_catalog.+) v_n;
        v_windows := v_windows OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
            'range_no', win.range_no, 'from', win.from_at, 'to', win.to_at, 'fixes', v_n, 'fix_digest', v_digest));
        FOR seg IN SELECT * FROM fieldops.worker_segments(p_tenant_id, p_worker_id, win.from_at, win.to_at, v_mparams, v_tparams) LOOP
            INSERT INTO fieldops.trip (tenant_id, claim_id, worker_id, range_no, seq, kind, counted, started_at, ended_at,
                                       start_geom, end_geom, distance_m, mileage)
            VALUES (p_tenant_id, c.claim_id, p_worker_id, win.range_no, seg.seq, seg.kind, seg.kind IN ('trip', 'gap'),
                    seg.started_at, seg.ended_at,
                    ST_SetSRID(ST_MakePoint(seg.start_lon, seg.start_lat), 4326),
                    ST_SetSRID(ST_MakePoint(seg.end_lon, seg.end_lat), 4326),
                    (seg.mileage).distance_m, seg.mileage)
            RETURNING trip_id INTO v_id;
            IF seg.kind OPERATOR(pg_catalog.=) 'trip' THEN
                v_trip_m := v_trip_m OPERATOR(pg_catalog.+) (seg.mileage).distance_m::numeric;
                v_ids := v_ids OPERATOR(pg_catalog.||) v_id;
                v_flags := v_flags OPERATOR(pg_catalog.||) (seg.mileage).flags;
            ELSIF seg.kind OPERATOR(pg_catalog.=) 'gap' THEN
                v_gap_m := v_gap_m OPERATOR(pg_catalog.+) (seg.mileage).distance_m::numeric;
                v_ids := v_ids OPERATOR(pg_catalog.||) v_id;
                v_flags := v_flags OPERATOR(pg_catalog.||) ARRAY['has_gaps'];
            END IF;
        END LOOP;
    END LOOP;

    v_measured := pg_catalog.round((v_trip_m OPERATOR(pg_catalog.+) v_gap_m) OPERATOR(pg_catalog./) 1000, 3);
    v_tol := pg_catalog.round(GREATEST(v_measured OPERATOR(pg_catalog.*) (fieldops.tenant_setting(p_tenant_id, 'claim_tolerance_pct') #>> '{}')::numeric OPERATOR(pg_catalog./) 100,
                                       (fieldops.tenant_setting(p_tenant_id, 'claim_tolerance_m') #>> '{}')::numeric OPERATOR(pg_catalog./) 1000), 3);
    v_diff := p_claimed_km OPERATOR(pg_catalog.-) v_measured;
    v_payable := LEAST(v_measured, COALESCE(p_claimed_km, v_measured));
    IF v_windows OPERATOR(pg_catalog.=) '[]'::jsonb THEN
        v_flags := v_flags OPERATOR(pg_catalog.||) ARRAY['not_a_working_day'];
    ELSIF v_n_total OPERATOR(pg_catalog.=) 0 THEN
        v_flags := v_flags OPERATOR(pg_catalog.||) ARRAY['no_data'];
    END IF;
    IF p_day OPERATOR(pg_catalog.=) v_today THEN
        v_flags := v_flags OPERATOR(pg_catalog.||) ARRAY['day_in_progress'];
    END IF;
    IF v_diff OPERATOR(pg_catalog.>) v_tol THEN
        v_flags := v_flags OPERATOR(pg_catalog.||) ARRAY['over_claimed'];
    ELSIF v_diff OPERATOR(pg_catalog.<) (OPERATOR(pg_catalog.-) v_tol) THEN
        v_flags := v_flags OPERATOR(pg_catalog.||) ARRAY['under_claimed'];
    END IF;

    UPDATE fieldops.vehicle_claim x
       SET vehicle_type = v.vehicle_type, plate = v.plate,
           rate_id = r.rate_id, rate_per_km = r.rate_per_km, currency = r.currency,
           measured_km = v_measured,
           trip_km = pg_catalog.round(v_trip_m OPERATOR(pg_catalog./) 1000, 3),
           gap_km = pg_catalog.round(v_gap_m OPERATOR(pg_catalog./) 1000, 3),
           claimed_km = p_claimed_km, difference_km = v_diff, tolerance_km = v_tol,
           payable_km = v_payable,
           amount = pg_catalog.round(v_payable OPERATOR(pg_catalog.*) r.rate_per_km, 2),
           flags = ARRAY(SELECT DISTINCT u FROM pg_catalog.unnest(v_flags) u ORDER BY u),
           evidence = pg_catalog.jsonb_build_object(
               'algo_version', fieldops.mileage_algo_version(),
               'mileage_params', v_mparams,
               'trip_params', v_tparams,
               'time_zone', v_tz,
               'windows', v_windows,
               'trip_ids', pg_catalog.to_jsonb(v_ids),
               'tolerance', pg_catalog.jsonb_build_object(
                   'pct', fieldops.tenant_setting(p_tenant_id, 'claim_tolerance_pct'),
                   'm', fieldops.tenant_setting(p_tenant_id, 'claim_tolerance_m'))),
           built_at = pg_catalog.now(), built_by = SESSION_USER
     WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.claim_id OPERATOR(pg_catalog.=) c.claim_id
    RETURNING * INTO c;

    PERFORM fieldops.kpi_touch(p_tenant_id, c.day, 'vehicle_claim');
    PERFORM fieldops.emit_event(p_tenant_id, 'vehicle_claim.built', 'vehicle_claim', c.claim_id,
                                pg_catalog.jsonb_build_object('worker_id', p_worker_id, 'day', p_day, 'revision', c.revision,
                                                              'measured_km', c.measured_km, 'amount', c.amount,
                                                              'currency', c.currency, 'flags', c.flags));
    RETURN c;
END
$$;
COMMENT ON FUNCTION fieldops.vehicle_claim(bigint, bigint, date, numeric) IS
'Build (or rebuild, while a draft) a worker''s vehicle claim for a local day from the trips inside working hours: measured km (trips plus gap chords), the rate in effect, payable km (the claimed figure when lower), amount, flags (undersampled, low_gps_share, has_gaps, no_data, not_a_working_day, day_in_progress, over_claimed, under_claimed) and the evidence to reproduce it. Event vehicle_claim.built.';

CREATE FUNCTION fieldops.verify_vehicle_claim(p_tenant_id bigint, p_claim_id bigint)
RETURNS TABLE (reproduced boolean, fixes_unchanged boolean, stored_km numeric, recomputed_km numeric, details jsonb)
LANGUAGE plpgsql STABLE SECURITY DEFINER
AS $$
DECLARE
    c fieldops.vehicle_claim;
    win jsonb;
    v_m numeric := 0;
    v_same boolean := true;
    v_n bigint;
    v_digest text;
    v_changed jsonb := '[]';
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    IF p_claim_id IS NULL THEN
        RAISE EXCEPTION 'p_claim_id must not be null' USING ERRCODE = '22004';
    END IF;
    SELECT * INTO c FROM fieldops.vehicle_claim x
     WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.claim_id OPERATOR(pg_catalog.=) p_claim_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'p_claim_id % is not a vehicle claim of tenant %', p_claim_id, p_tenant_id USING ERRCODE = '23503';
    END IF;
    FOR win IN SELECT * FROM pg_catalog.jsonb_array_elements(c.evidence -> 'windows') LOOP
        SELECT d.n_fixes, d.digest INTO v_n, v_digest
          FROM fieldops.fix_digest(p_tenant_id, c.worker_id, (win ->> 'from')::timestamptz, (win ->> 'to')::timestamptz) d;
        IF v_digest OPERATOR(pg_catalog.<>) (win ->> 'fix_digest') THEN
            v_same := false;
            v_changed := v_changed OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
                'range_no', win -> 'range_no', 'fixes_then', win -> 'fixes', 'fixes_now', v_n));
        END IF;
        SELECT v_m OPERATOR(pg_catalog.+) COALESCE(pg_catalog.sum((s.mileage).distance_m::numeric), 0) INTO v_m
          FROM fieldops.worker_segments(p_tenant_id, c.worker_id, (win ->> 'from')::timestamptz, (win ->> 'to')::timestamptz,
                                        c.evidence -> 'mileage_params', c.evidence -> 'trip_params') s
         WHERE s.kind IN ('trip', 'gap');
    END LOOP;
    v_m := pg_catalog.round(v_m OPERATOR(pg_catalog./) 1000, 3);
    RETURN QUERY SELECT v_m OPERATOR(pg_catalog.=) c.measured_km, v_same, c.measured_km, v_m,
        pg_catalog.jsonb_build_object('changed_ranges', v_changed,
                                      'algo_version_then', c.evidence -> 'algo_version',
                                      'algo_version_now', fieldops.mileage_algo_version());
END
$$;
COMMENT ON FUNCTION fieldops.verify_vehicle_claim(bigint, bigint) IS
'Auditors: recompute a vehicle claim''s measured km from the stored fixes with the parameters in its evidence; reports whether it is reproduced and whether the fixes changed since.';

--
-- Security
--
SELECT fieldops.secure_tenant_table(t::regclass)
  FROM pg_catalog.unnest(ARRAY['fieldops.vehicle_rate', 'fieldops.worker_vehicle',
                               'fieldops.vehicle_claim', 'fieldops.trip']) AS t;

GRANT EXECUTE ON FUNCTION
    fieldops.trip_params(jsonb),
    fieldops.track_segments(timestamptz, geometry, real, real, text, jsonb, jsonb),
    fieldops.work_schedule_ranges(jsonb, date)
TO fieldops_app, fieldops_analyst, fieldops_api;

GRANT EXECUTE ON FUNCTION
    fieldops.trips(bigint, bigint, timestamptz, timestamptz),
    fieldops.mileage_detail(bigint, bigint, timestamptz, timestamptz),
    fieldops.verify_vehicle_claim(bigint, bigint)
TO fieldops_app, fieldops_analyst;

GRANT EXECUTE ON FUNCTION
    fieldops.set_vehicle_rate(bigint, text, date, numeric, text),
    fieldops.set_worker_vehicle(bigint, bigint, date, text, text),
    fieldops.vehicle_claim(bigint, bigint, date, numeric)
TO fieldops_app;

GRANT EXECUTE ON FUNCTION
    fieldops.tenant_trip_params(bigint),
    fieldops.check_worker(bigint, bigint),
    fieldops.check_track_range(bigint, bigint, timestamptz, timestamptz),
    fieldops.worker_segments(bigint, bigint, timestamptz, timestamptz, jsonb, jsonb),
    fieldops.claim_windows(bigint, fieldops.worker, date),
    fieldops.fix_digest(bigint, bigint, timestamptz, timestamptz)
TO fieldops_api;
