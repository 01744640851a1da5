--
-- Trajectory mileage (module 5): distance from raw GPS fixes, filtered and
-- audited, trips, and vehicle reimbursement built on them.
--

--
-- Mileage of a track (mileage.c, mileage_core.c, geo_kernel.c)
--

CREATE TYPE fieldops.mileage AS (
    distance_m    double precision,   -- moving_m + gap_chord_m
    moving_m      double precision,
    gap_chord_m   double precision,   -- straight chords over gaps (tunnels, phone off)
    raw_length_m  double precision,   -- naive length of the same fixes in time order
    n_fixes       bigint,
    n_used        bigint,
    drops         jsonb,              -- per status: count and raw metres (summing to raw_length_m)
    flags         text[],             -- undersampled, low_gps_share, has_gaps, no_data
    params        jsonb,              -- every parameter as used
    algo_version  text,
    first_at      timestamptz,        -- first and last usable fix
    last_at       timestamptz
);
COMMENT ON TYPE fieldops.mileage IS
'Audited mileage of a track: distance (moving plus gap chords), the raw length of the same fixes, what happened to every fix and its raw metres, quality flags and the parameters.';

CREATE FUNCTION fieldops.mileage_params(p_params jsonb DEFAULT NULL)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'fieldops_mileage_params'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION fieldops.mileage_params(jsonb) IS
'The mileage parameters in effect: the defaults overridden by p_params; 22023 for unknown keys or out-of-range values.';

CREATE FUNCTION fieldops.mileage_transfn(internal, timestamptz, geometry, real, real, text)
RETURNS internal
AS 'MODULE_PATHNAME', 'fieldops_mileage_transfn'
LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION fieldops.mileage_transfn(internal, timestamptz, geometry, real, real, text) IS
'Internal: transition function of mileage_agg (collects fixes).';

CREATE FUNCTION fieldops.mileage_transfn(internal, timestamptz, geometry, real, real, text, jsonb)
RETURNS internal
AS 'MODULE_PATHNAME', 'fieldops_mileage_transfn'
LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION fieldops.mileage_transfn(internal, timestamptz, geometry, real, real, text, jsonb) IS
'Internal: transition function of mileage_agg with parameters.';

CREATE FUNCTION fieldops.mileage_finalfn(internal)
RETURNS fieldops.mileage
AS 'MODULE_PATHNAME', 'fieldops_mileage_finalfn'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION fieldops.mileage_finalfn(internal) IS
'Internal: final function of mileage_agg (sorts the fixes in place and runs the filter).';

CREATE AGGREGATE fieldops.mileage_agg(recorded_at timestamptz, geom geometry, accuracy_m real, speed_mps real, source text) (
    SFUNC = fieldops.mileage_transfn,
    STYPE = internal,
    FINALFUNC = fieldops.mileage_finalfn,
    FINALFUNC_MODIFY = READ_WRITE,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE fieldops.mileage_agg(timestamptz, geometry, real, real, text) IS
'Audited driven distance of one device''s fixes (any row order): validity, duplicates, non-GNSS sources, accuracy cap, kinematic gate with relocation, gaps, hold radius and stop lock, geodesic steps. geom: WGS-84 points; source: gps, fused, network, wifi, cell, passive or NULL.';

CREATE AGGREGATE fieldops.mileage_agg(recorded_at timestamptz, geom geometry, accuracy_m real, speed_mps real, source text, params jsonb) (
    SFUNC = fieldops.mileage_transfn,
    STYPE = internal,
    FINALFUNC = fieldops.mileage_finalfn,
    FINALFUNC_MODIFY = READ_WRITE,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE fieldops.mileage_agg(timestamptz, geometry, real, real, text, jsonb) IS
'mileage_agg with parameters (see fieldops.mileage_params()); the params of the first row apply.';

CREATE FUNCTION fieldops.mileage(track geometry, params jsonb DEFAULT NULL)
RETURNS fieldops.mileage
AS 'MODULE_PATHNAME', 'fieldops_mileage_track'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION fieldops.mileage(geometry, jsonb) IS
'Audited mileage of a LINESTRING M (or ZM) in SRID 4326 whose M is Unix epoch seconds (PostGIS''s trajectory convention); accuracy and speed unknown.';

CREATE TYPE fieldops.mileage_fix AS (
    seq          bigint,             -- position in time order
    recorded_at  timestamptz,
    status       text,               -- moved, gap, first, relocated, hold, stationary, invalid, zero, future,
                                     -- duplicate, non_gnss, low_accuracy, implausible, gap_implausible
    reason       text,               -- the status in words
    step_m       double precision,   -- metres this fix added
    cum_m        double precision,   -- running total, ending at distance_m
    lon          double precision,
    lat          double precision
);
COMMENT ON TYPE fieldops.mileage_fix IS
'What the mileage filter did with one fix, and why.';

CREATE FUNCTION fieldops.mileage_detail(track geometry, params jsonb DEFAULT NULL)
RETURNS SETOF fieldops.mileage_fix
AS 'MODULE_PATHNAME', 'fieldops_mileage_detail_track'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION fieldops.mileage_detail(geometry, jsonb) IS
'One row per point of a LINESTRING M track, in time order: what the filter did with it (status and reason), the metres it added and the running total (ending at distance_m).';

CREATE FUNCTION fieldops.mileage_detail_finalfn(internal)
RETURNS fieldops.mileage_fix[]
AS 'MODULE_PATHNAME', 'fieldops_mileage_detail_finalfn'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION fieldops.mileage_detail_finalfn(internal) IS
'Internal: final function of mileage_detail_agg (sorts the fixes in place and runs the filter).';

CREATE AGGREGATE fieldops.mileage_detail_agg(recorded_at timestamptz, geom geometry, accuracy_m real, speed_mps real, source text) (
    SFUNC = fieldops.mileage_transfn,
    STYPE = internal,
    FINALFUNC = fieldops.mileage_detail_finalfn,
    FINALFUNC_MODIFY = READ_WRITE,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE fieldops.mileage_detail_agg(timestamptz, geometry, real, real, text) IS
'mileage_agg fix by fix: an array of fieldops.mileage_fix in time order (unnest it).';

CREATE AGGREGATE fieldops.mileage_detail_agg(recorded_at timestamptz, geom geometry, accuracy_m real, speed_mps real, source text, params jsonb) (
    SFUNC = fieldops.mileage_transfn,
    STYPE = internal,
    FINALFUNC = fieldops.mileage_detail_finalfn,
    FINALFUNC_MODIFY = READ_WRITE,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE fieldops.mileage_detail_agg(timestamptz, geometry, real, real, text, jsonb) IS
'mileage_detail_agg with parameters (see fieldops.mileage_params()).';

CREATE FUNCTION fieldops.clean_track(track geometry, params jsonb DEFAULT NULL)
RETURNS geometry
AS 'MODULE_PATHNAME', 'fieldops_clean_track'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION fieldops.clean_track(geometry, jsonb) IS
'The points the distance was measured between, as a LINESTRING M (SRID 4326, M = epoch seconds), for display.';

CREATE FUNCTION fieldops.mileage_algo_version()
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT (fieldops.mileage_agg(NULL::timestamptz, NULL::geometry, NULL::real, NULL::real, NULL::text)
              FILTER (WHERE false)).algo_version
$$;
COMMENT ON FUNCTION fieldops.mileage_algo_version() IS
'The version of the mileage algorithm (echoed in every mileage record), for evidence that must be reproduced later.';

-- (an aggregate's support functions run with its owner's rights: only the
-- aggregates themselves are granted)
GRANT EXECUTE ON FUNCTION
    fieldops.mileage_params(jsonb),
    fieldops.mileage_agg(timestamptz, geometry, real, real, text),
    fieldops.mileage_agg(timestamptz, geometry, real, real, text, jsonb),
    fieldops.mileage(geometry, jsonb),
    fieldops.mileage_detail(geometry, jsonb),
    fieldops.mileage_detail_agg(timestamptz, geometry, real, real, text),
    fieldops.mileage_detail_agg(timestamptz, geometry, real, real, text, jsonb),
    fieldops.clean_track(geometry, jsonb),
    fieldops.mileage_algo_version()
TO fieldops_app, fieldops_analyst, fieldops_api;
