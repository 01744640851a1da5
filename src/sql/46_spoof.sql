--
-- Spoofed-location scoring: the deterministic scorecard of a fix (C,
-- src/spoof_core.c) and the versioned models it is run with.
--
-- fieldops.spoof_score() is a pure function of the fix, its context (the
-- device's previous fixes, the radio environment, history facts) and the
-- model, all as jsonb: no clock, no table access, byte-identical results
-- for the same inputs.  spoof_score_track() is the same core over one
-- device's fixes as arrays.  ingest_fixes() (C, src/fix_ingest.c) calls the
-- core directly with the context it gathers: previous fixes, the radio map
-- learned by refresh_radio_map(), replay fingerprints, device bindings.
--
-- Part of the install script and of the 0.1.0 -> 0.2.0 upgrade script.
--

INSERT INTO fieldops.setting_def (key, kind, default_value, min_value, max_value, description) VALUES
    ('radio_map_max_accuracy_m', 'integer', '25', 1, 1000,
     'The radio map learns only from green GNSS fixes at least this accurate (metres).'),
    ('radio_map_mobile_spread_m', 'integer', '250', 20, 100000,
     'An access point heard over a spread (RMS, metres) above this moves (bus Wi-Fi, hotspots): the radio map ignores it.');

CREATE FUNCTION fieldops.spoof_score(p_fix jsonb, p_prev jsonb DEFAULT NULL, p_radio jsonb DEFAULT NULL,
                                     p_history jsonb DEFAULT NULL, p_model jsonb DEFAULT NULL,
                                     OUT score integer, OUT band text, OUT reasons jsonb, OUT coverage integer,
                                     OUT hard_reject boolean, OUT model_version text)
RETURNS record
AS 'MODULE_PATHNAME', 'fieldops_spoof_score'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION fieldops.spoof_score(jsonb, jsonb, jsonb, jsonb, jsonb) IS
'Score one location fix for spoofing: 0 (genuine) to 100, band green/amber/red, the reasons with their points and numbers, how many of the 9 signal groups had data, whether a hard rule rejects it, and the model version. p_fix: {t_ms, received_ms, lat, lon, accuracy_m, altitude_m, speed_mps, bearing_deg, provider, mock, satellites, cn0_mean_dbhz, cn0_sd_dbhz, integrity, external_receiver}; p_prev: the device''s previous fixes (same keys, any order, the latest 16 count); p_radio, p_history: see the README; p_model: the built-in model''s keys to override (spoof_model_defaults()). 22023 naming the key for anything malformed.';

CREATE FUNCTION fieldops.spoof_model_defaults()
RETURNS jsonb
AS 'MODULE_PATHNAME', 'fieldops_spoof_model_defaults'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION fieldops.spoof_model_defaults() IS
'The built-in scoring model (weights in points, +10 points double the odds; thresholds; physical limits) as the jsonb spoof_score() and fieldops.spoof_model take.';

-- Global dictionary (not per tenant): the models.  Versions are only ever
-- added: no role may update or delete one (a score names the version that
-- made it, so the version must keep meaning the same weights).
CREATE TABLE fieldops.spoof_model (
    version     text PRIMARY KEY CHECK (pg_catalog.length(version) BETWEEN 1 AND 63),
    model       jsonb NOT NULL CHECK (model ->> 'version' IS NOT DISTINCT FROM version),
    note        text,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    created_by  name NOT NULL DEFAULT SESSION_USER
);
COMMENT ON TABLE fieldops.spoof_model IS
'Global dictionary: the versions of the spoof-scoring model (a scorecard: weights in points, thresholds, limits), added by add_spoof_model() and never changed; a stored score names the version that made it.';
-- (a fixed created_at: the built-in row is the same in every database,
-- also after a dump is restored into a fresh CREATE EXTENSION)
INSERT INTO fieldops.spoof_model (version, model, note, created_at, created_by)
SELECT m ->> 'version', m, 'built-in defaults of this release', '2026-11-27 00:00:00+00', 'fieldops'
  FROM fieldops.spoof_model_defaults() AS m;
-- The calibrated model in force: the built-in defaults with the points,
-- prior and thresholds fitted by test/calib/fit.py on the training seeds
-- 101 and 102 (test/calib/fitted-model-2026-11-27.json; the held-out and
-- shifted-world figures are in test/calib/RESULTS.md).  The prior is
-- calibrated to a 2 % base rate, so a score is a probability in percent:
-- red from 3 % (the lowest score whose false-positive rate is <= 0.1 % in
-- sample and out of fold), which no single signal seen on an honest
-- training check-in reaches alone.  Added one second after the built-in row
-- (the latest version is the one in force), by 'fieldops' with a fixed time
-- like it, so it is the same in every database and not dumped as user data.
INSERT INTO fieldops.spoof_model (version, model, note, created_at, created_by)
SELECT 'calib-2026-11-27', m, 'calibrated: test/calib seeds 101 102 (fit.py), see test/calib/RESULTS.md',
       '2026-11-27 00:00:01+00', 'fieldops'
  FROM (SELECT fieldops.spoof_model_defaults() OPERATOR(pg_catalog.||) $model${
    "prior_log_odds": -6.196988, "amber_score": 2, "red_score": 3,
    "impossible_extra_points": 30.0, "hard": ["wifi_scan_replay"],
    "weights": {
        "cell_far": 18.52,
        "cell_foreign_mcc": 9.74,
        "clock_future": 15.0,
        "clock_skew_jump": 10.0,
        "constant_accuracy": 11.48,
        "constant_bearing_while_moving": 15.0,
        "fresh_rebind": 95.64,
        "frozen_position": 89.33,
        "implausible_accuracy": 5.24,
        "implausible_speed": 38.35,
        "integrity_failed": 19.09,
        "no_satellites": 1.07,
        "os_mock": 100.26,
        "pin_drop": 65.99,
        "same_coords_earlier_day": 79.55,
        "shared_device": 9.81,
        "speed_mismatch": 0.0,
        "stale_fix": 10.0,
        "teleport_round_trip": 45.0,
        "uniform_cn0": 13.71,
        "wifi_far": 21.17,
        "wifi_no_site_overlap": 52.84,
        "wifi_scan_replay": 95.81,
        "zero_altitude": 21.31,
        "zero_speed_while_moving": 20.0
    }
}$model$::jsonb
               OPERATOR(pg_catalog.||) '{"version": "calib-2026-11-27"}'::jsonb AS m) x
 -- (scoring a fix with it checks every key and the thresholds, 22023 otherwise)
 WHERE (fieldops.spoof_score('{"lat": 0, "lon": 0, "t_ms": 0}', NULL, NULL, NULL, x.m)).score IS NOT NULL;
-- models added by administrators are user data for pg_dump
SELECT pg_catalog.pg_extension_config_dump('fieldops.spoof_model', 'WHERE created_by <> ''fieldops''');
REVOKE ALL ON fieldops.spoof_model FROM PUBLIC;
GRANT SELECT ON fieldops.spoof_model TO fieldops_app, fieldops_analyst, fieldops_api;
GRANT SELECT, INSERT ON fieldops.spoof_model TO fieldops_admin;

CREATE FUNCTION fieldops.add_spoof_model(p_version text, p_model jsonb, p_note text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    v_model jsonb;
BEGIN
    IF p_version IS NULL OR p_version !~ '^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$' THEN
        RAISE EXCEPTION 'p_version must be 1 to 63 letters, digits or . _ / - (such as "city-2027-01"), got %',
            COALESCE(pg_catalog.quote_literal(p_version), 'NULL') USING ERRCODE = '22023';
    END IF;
    IF p_model IS NULL OR pg_catalog.jsonb_typeof(p_model) OPERATOR(pg_catalog.<>) 'object' THEN
        RAISE EXCEPTION 'p_model must be a JSON object of the keys of fieldops.spoof_model_defaults() to change'
            USING ERRCODE = '22023';
    END IF;
    -- the defaults, overridden by p_model, under the new version; scoring a
    -- fix with it checks every key and the thresholds (22023 otherwise)
    v_model := fieldops.spoof_model_defaults() OPERATOR(pg_catalog.||) p_model
               OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('version', p_version);
    PERFORM fieldops.spoof_score('{"lat": 0, "lon": 0, "t_ms": 0}', NULL, NULL, NULL, v_model);
    INSERT INTO fieldops.spoof_model (version, model, note) VALUES (p_version, v_model, fieldops.check_text(p_note, 'p_note', 500, false));
    RETURN p_version;
EXCEPTION WHEN unique_violation THEN
    RAISE EXCEPTION 'spoof model version % exists already; versions are never changed', p_version
        USING ERRCODE = '23505', HINT = 'Add the new weights under a new version.';
END
$$;
COMMENT ON FUNCTION fieldops.add_spoof_model(text, jsonb, text) IS
'Administrators (runs with the caller''s privileges; INSERT on the table is theirs alone): add a scoring model version: the built-in defaults with p_model''s keys changed (weights, thresholds, limits). Existing versions are never changed (23505).';

--
-- Scoring a device's fixes in one pass, the context ingest gathers for it
-- (device flags, the radio map, replay fingerprints), and the alerts red
-- fixes raise
--

CREATE FUNCTION fieldops.spoof_score_track(
    p_t_ms bigint[], p_received_ms bigint[], p_lat float8[], p_lon float8[], p_accuracy_m real[],
    p_altitude_m real[], p_speed_mps real[], p_bearing_deg real[], p_provider text[], p_mock boolean[],
    p_satellites smallint[], p_cn0_mean_dbhz real[], p_cn0_sd_dbhz real[], p_integrity integer[],
    p_score boolean[], p_radio jsonb[], p_history jsonb[], p_external_receiver boolean, p_model jsonb,
    OUT ord integer, OUT score integer, OUT band text, OUT reasons jsonb, OUT coverage integer,
    OUT hard_reject boolean, OUT model_version text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'fieldops_spoof_score_track'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION fieldops.spoof_score_track(bigint[], bigint[], float8[], float8[], real[], real[], real[], real[], text[], boolean[], smallint[], real[], real[], integer[], boolean[], jsonb[], jsonb[], boolean, jsonb) IS
'Score a device''s fixes in one pass: parallel arrays of one device''s fixes in fix-time order (t_ms ascending); each element with p_score true is scored, as spoof_score() would, against the (up to 16) elements before it, with its own p_radio and p_history; returns ord (1-based element), score, band, reasons, coverage, hard_reject, model_version. Pure, like spoof_score(): the way to re-score a stored track in SQL (ingest_fixes() calls the same core directly).';

--
-- Device facts the scorer needs
--
ALTER TABLE fieldops.device
    ADD COLUMN shared_pool boolean NOT NULL DEFAULT false,
    ADD COLUMN external_gnss boolean NOT NULL DEFAULT false,
    ADD COLUMN clock_skew_ms bigint;
COMMENT ON COLUMN fieldops.device.shared_pool IS 'A pool phone several workers use by design: the shared_device signal does not apply to it.';
COMMENT ON COLUMN fieldops.device.external_gnss IS 'Fixes come from an allowlisted external GNSS receiver (e.g. RTK): its OS mock flag and sub-metre accuracy are legitimate.';
COMMENT ON COLUMN fieldops.device.clock_skew_ms IS 'Server time minus the phone''s clock at its last upload that said when it was sent (ingest_fixes() option sent_at), ms.';

CREATE FUNCTION fieldops.set_device_flags(p_tenant_id bigint, p_device_id bigint, p_shared_pool boolean DEFAULT NULL,
                                          p_external_gnss boolean DEFAULT NULL)
RETURNS fieldops.device
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    d fieldops.device;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    IF p_device_id IS NULL THEN
        RAISE EXCEPTION 'p_device_id must not be null' USING ERRCODE = '22004';
    END IF;
    UPDATE fieldops.device x
       SET shared_pool = COALESCE(p_shared_pool, x.shared_pool), external_gnss = COALESCE(p_external_gnss, x.external_gnss)
     WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.device_id OPERATOR(pg_catalog.=) p_device_id
    RETURNING x.* INTO d;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'p_device_id % is not a device of tenant %', p_device_id, p_tenant_id USING ERRCODE = '23503';
    END IF;
    RETURN d;
END
$$;
COMMENT ON FUNCTION fieldops.set_device_flags(bigint, bigint, boolean, boolean) IS
'Mark a device as a shared pool phone (several workers a day is normal for it) and/or as using an allowlisted external GNSS receiver (its mock flag and sub-metre accuracy are legitimate); NULL leaves a flag as it is. Returns the device row.';

--
-- The radio map: where each Wi-Fi access point and each cell is, learned
-- from trusted fixes only (green, GNSS, accuracy within radio_map_max_accuracy_m).
-- Positions are kept as weighted sums of east/north offsets in metres from
-- the first observation (numerically stable, updated incrementally); the
-- centroid and the spread follow from the sums.
--
CREATE TABLE fieldops.radio_ap (
    tenant_id   bigint NOT NULL REFERENCES fieldops.tenant (tenant_id),
    bssid       macaddr NOT NULL,
    ref_lat     float8 NOT NULL,
    ref_lon     float8 NOT NULL,
    sw          float8 NOT NULL DEFAULT 0,
    sx          float8 NOT NULL DEFAULT 0,
    sy          float8 NOT NULL DEFAULT 0,
    sxx         float8 NOT NULL DEFAULT 0,
    syy         float8 NOT NULL DEFAULT 0,
    n_obs       integer NOT NULL DEFAULT 0,
    n_days      integer NOT NULL DEFAULT 0,
    last_day    date,
    geom        geometry(Point, 4326) NOT NULL,
    spread_m    real NOT NULL DEFAULT 0,
    mobile      boolean NOT NULL DEFAULT false,
    first_seen  timestamptz NOT NULL,
    last_seen   timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, bssid)
);
CREATE INDEX radio_ap_geom_idx ON fieldops.radio_ap USING gist (geom);
COMMENT ON TABLE fieldops.radio_ap IS
'Radio map: each Wi-Fi access point''s learned position (RSSI-weighted centroid of trusted fixes that heard it), its spread (weighted RMS distance, m), observations and distinct tenant-local days seen; mobile when the spread exceeds radio_map_mobile_spread_m (buses, hotspots): such points are not used. Locally administered BSSIDs (phone hotspots, randomised) are never learned.';

CREATE TABLE fieldops.radio_cell (
    tenant_id   bigint NOT NULL REFERENCES fieldops.tenant (tenant_id),
    mcc         integer NOT NULL,
    mnc         integer NOT NULL,
    lac         integer NOT NULL,
    cid         bigint NOT NULL,
    ref_lat     float8 NOT NULL,
    ref_lon     float8 NOT NULL,
    sw          float8 NOT NULL DEFAULT 0,
    sx          float8 NOT NULL DEFAULT 0,
    sy          float8 NOT NULL DEFAULT 0,
    sxx         float8 NOT NULL DEFAULT 0,
    syy         float8 NOT NULL DEFAULT 0,
    n_obs       integer NOT NULL DEFAULT 0,
    geom        geometry(Point, 4326) NOT NULL,
    radius_m    real NOT NULL DEFAULT 0,
    first_seen  timestamptz NOT NULL,
    last_seen   timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, mcc, mnc, lac, cid)
);
CREATE INDEX radio_cell_geom_idx ON fieldops.radio_cell USING gist (geom);
COMMENT ON TABLE fieldops.radio_cell IS
'Radio map: each serving cell''s learned centroid (of the trusted fixes it served) and radius (twice the RMS distance, at least 200 m).';

CREATE TABLE fieldops.radio_map_state (
    tenant_id      bigint PRIMARY KEY REFERENCES fieldops.tenant (tenant_id),
    learned_until  timestamptz NOT NULL,
    refreshed_at   timestamptz NOT NULL
);
COMMENT ON TABLE fieldops.radio_map_state IS
'How far the radio map of a tenant has learned: fixes received up to learned_until are in it.';

-- Exact-replay detection: each fix's Wi-Fi scan (3 or more access points,
-- RSSIs included) and position (1e-7 degrees) as MD5 digests, one row per
-- fix that has either.  Ingest looks a new fix's digests up by equality
-- only, so hash indexes serve them: an entry is a 4-byte hash code wherever
-- the digest falls, where a B-tree on random 16-byte digests costs a descent
-- and a comparison per level for every fix (one row per fix with two hash
-- indexes instead of two rows under a B-tree key of the digest and the fix
-- cut the fingerprints' share of a batch by a third: make bench-ingest).
-- A hash index skips NULLs: a fix without a scan adds no scan entry.
CREATE TABLE fieldops.fix_fingerprint (
    -- (no foreign key: derived from fixes and purged with them; a key
    -- check per row was a tenth of ingest's time)
    tenant_id    bigint NOT NULL,
    device_id    bigint NOT NULL,
    recorded_at  timestamptz NOT NULL,
    -- (the 16-byte MD5s as uuid: fixed width, compared with one memcmp)
    scan_digest  uuid,
    scanned_at   timestamptz,
    point_digest uuid,
    PRIMARY KEY (tenant_id, device_id, recorded_at),
    CONSTRAINT fix_fingerprint_scan_time CHECK ((scan_digest IS NULL) = (scanned_at IS NULL)),
    CONSTRAINT fix_fingerprint_not_empty CHECK (scan_digest IS NOT NULL OR point_digest IS NOT NULL)
);
CREATE INDEX fix_fingerprint_scan_hash ON fieldops.fix_fingerprint USING hash (scan_digest);
CREATE INDEX fix_fingerprint_point_hash ON fieldops.fix_fingerprint USING hash (point_digest);
-- (the hourly fix_purge job deletes by recorded_at; rows arrive roughly in
-- time order, so a BRIN index finds the old ones at almost no insert cost)
CREATE INDEX fix_fingerprint_recorded_brin ON fieldops.fix_fingerprint USING brin (recorded_at);
COMMENT ON TABLE fieldops.fix_fingerprint IS
'Per stored fix, the digests replays are found by (stored as uuid: fix_scan_digest() and fix_point_digest() give the same 16 bytes as bytea): scan_digest, the exact Wi-Fi scan (3+ access points with RSSIs), and scanned_at, when that scan was taken (the fix time less the age_s of its freshest access point; the fix time without ages); point_digest, the exact position (1e-7 degrees) of GNSS fixes and of fixes with a scan of 3+ access points. A fix with the scan of another device, or of a scan of its own taken more than 10 minutes apart, or with the position of a fix of an earlier local day, is a replay. Purged with the fixes.';
COMMENT ON COLUMN fieldops.fix_fingerprint.scanned_at IS
'When the scan was taken: a phone that cannot scan again (Android throttles scans; a phone idle in a pocket hardly scans) reports its last results with growing ages, and the same scan of the same phone is no replay however many fixes carry it.';

-- the digests of one fix (C, src/fix_obs.c): its scan and its GNSS position
CREATE FUNCTION fieldops.fix_scan_digest(p_wifi jsonb)
RETURNS bytea
AS 'MODULE_PATHNAME', 'fieldops_fix_scan_digest'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fieldops.fix_scan_digest(jsonb) IS
'Internal: the MD5 digest of a normalised Wi-Fi scan ("s" and the bssid/rssi pairs sorted by BSSID), NULL for scans of fewer than 3 access points or without RSSIs (too common to mean a replay).';

CREATE FUNCTION fieldops.fix_point_digest(p_lat float8, p_lon float8)
RETURNS bytea
AS 'MODULE_PATHNAME', 'fieldops_fix_point_digest'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fieldops.fix_point_digest(float8, float8) IS
'Internal: the MD5 digest of a position in units of 1e-7 degree (about 1 cm), rounded half away from zero.';

-- east/north offsets in metres of (lat, lon) from a reference point
-- (equirectangular: exact enough for the few kilometres a radio reaches)
CREATE FUNCTION fieldops.radio_offset(p_ref_lat float8, p_ref_lon float8, p_lat float8, p_lon float8, OUT x float8, OUT y float8)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT (p_lon OPERATOR(pg_catalog.-) p_ref_lon) OPERATOR(pg_catalog.*) pg_catalog.cosd(p_ref_lat) OPERATOR(pg_catalog.*) 111319.49079327357,
           (p_lat OPERATOR(pg_catalog.-) p_ref_lat) OPERATOR(pg_catalog.*) 111319.49079327357
$$;
COMMENT ON FUNCTION fieldops.radio_offset(float8, float8, float8, float8) IS
'Internal: east and north offsets (m) of a point from a reference point, equirectangular.';

-- the weighted centroid and RMS distance (m) of the observations of a
-- radio map entry, from its sums of east/north offsets (radio_offset())
-- around its reference point
CREATE FUNCTION fieldops.radio_centroid(p_ref_lat float8, p_ref_lon float8, p_sw float8, p_sx float8, p_sy float8)
RETURNS geometry
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT public.ST_SetSRID(public.ST_MakePoint(
        p_ref_lon OPERATOR(pg_catalog.+) ((p_sx OPERATOR(pg_catalog./) p_sw) OPERATOR(pg_catalog./) (111319.49079327357 OPERATOR(pg_catalog.*) pg_catalog.cosd(p_ref_lat))),
        p_ref_lat OPERATOR(pg_catalog.+) ((p_sy OPERATOR(pg_catalog./) p_sw) OPERATOR(pg_catalog./) 111319.49079327357)), 4326)
$$;
COMMENT ON FUNCTION fieldops.radio_centroid(float8, float8, float8, float8, float8) IS
'Internal: the weighted centroid of a radio map entry from its offset sums around its reference point.';

CREATE FUNCTION fieldops.radio_rms_m(p_sw float8, p_sx float8, p_sy float8, p_sxx float8, p_syy float8)
RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT pg_catalog.sqrt(GREATEST(0,
               ((p_sxx OPERATOR(pg_catalog./) p_sw) OPERATOR(pg_catalog.-) ((p_sx OPERATOR(pg_catalog./) p_sw) OPERATOR(pg_catalog.^) 2))
               OPERATOR(pg_catalog.+) ((p_syy OPERATOR(pg_catalog./) p_sw) OPERATOR(pg_catalog.-) ((p_sy OPERATOR(pg_catalog./) p_sw) OPERATOR(pg_catalog.^) 2))))
$$;
COMMENT ON FUNCTION fieldops.radio_rms_m(float8, float8, float8, float8, float8) IS
'Internal: the weighted RMS distance (m) of a radio map entry''s observations from their centroid, from its offset sums.';

-- the cell a fix was served by: the one marked serving, else the first
-- reported (C, src/fix_obs.c: the rule ingest scores with)
CREATE FUNCTION fieldops.serving_cell(p_cells jsonb)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'fieldops_serving_cell'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fieldops.serving_cell(jsonb) IS
'Internal: the serving cell of a fix''s reported cells (the one with "serving": true, else the first), NULL when none; what the radio map learns and the scorer checks.';

CREATE FUNCTION fieldops.refresh_radio_map(p_tenant_id bigint, p_until timestamptz DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET jit = off
AS $$
DECLARE
    v_tz text := fieldops.tenant_time_zone(p_tenant_id);
    v_max_acc float8 := (fieldops.tenant_setting(p_tenant_id, 'radio_map_max_accuracy_m') #>> '{}')::float8;
    v_mobile float8 := (fieldops.tenant_setting(p_tenant_id, 'radio_map_mobile_spread_m') #>> '{}')::float8;
    v_from timestamptz;
    v_until timestamptz;
    v_fixes integer;
    v_aps integer;
    v_cells integer;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    -- one refresh of a tenant at a time; the state row is the lock
    INSERT INTO fieldops.radio_map_state AS s (tenant_id, learned_until, refreshed_at)
    VALUES (p_tenant_id, '-infinity', pg_catalog.now()) ON CONFLICT (tenant_id) DO NOTHING;
    SELECT s.learned_until INTO v_from FROM fieldops.radio_map_state s
     WHERE s.tenant_id OPERATOR(pg_catalog.=) p_tenant_id FOR UPDATE;
    -- received_at is the ingesting transaction's start: a batch still in
    -- flight can commit with an earlier one, so by default the map stays
    -- 5 minutes behind (a caller that knows nothing is in flight, such as a
    -- loader, passes p_until)
    v_until := COALESCE(p_until, pg_catalog.now() OPERATOR(pg_catalog.-) interval '5 minutes');
    IF v_until OPERATOR(pg_catalog.<=) v_from THEN
        RETURN pg_catalog.jsonb_build_object('fixes', 0, 'aps', 0, 'cells', 0, 'learned_until', v_from);
    END IF;

    CREATE TEMP TABLE IF NOT EXISTS pg_temp.radio_obs (kind "char", bssid macaddr, mcc integer, mnc integer, lac integer, cid bigint,
                                               lat float8, lon float8, w float8, day date, at timestamptz) ON COMMIT DROP;
    TRUNCATE pg_temp.radio_obs;
    -- trusted fixes received in the window (fixes uploaded more than 14
    -- days after they were taken are not learned from: partitions pruned)
    INSERT INTO pg_temp.radio_obs
    SELECT 'w', (e ->> 'bssid')::macaddr, NULL, NULL, NULL, NULL, public.ST_Y(f.geom), public.ST_X(f.geom),
           -- stronger is nearer: weight 1 at -100 dBm, 61 at -40 dBm
           GREATEST(1, COALESCE((e ->> 'rssi_dbm')::float8, -90) OPERATOR(pg_catalog.+) 101),
           (f.recorded_at AT TIME ZONE v_tz)::date, f.recorded_at
      FROM fieldops.fix f
     CROSS JOIN LATERAL pg_catalog.jsonb_array_elements(f.wifi) AS e
     WHERE f.tenant_id OPERATOR(pg_catalog.=) p_tenant_id
       AND f.received_at OPERATOR(pg_catalog.>) v_from AND f.received_at OPERATOR(pg_catalog.<=) v_until
       AND f.recorded_at OPERATOR(pg_catalog.>) (v_from OPERATOR(pg_catalog.-) interval '14 days')
       AND f.band OPERATOR(pg_catalog.=) 'green' AND f.provider OPERATOR(pg_catalog.=) 'gps'
       AND f.accuracy_m OPERATOR(pg_catalog.<=) v_max_acc AND f.wifi IS NOT NULL
       -- only what was heard there: a cached scan (age_s) was made elsewhere
       AND COALESCE((e ->> 'age_s')::float8, 0) OPERATOR(pg_catalog.<=) 10
       -- locally administered addresses (bit 1 of the first octet): phone
       -- hotspots and randomised MACs move with their owners
       AND (pg_catalog.get_byte(pg_catalog.decode(pg_catalog.substr(e ->> 'bssid', 1, 2), 'hex'), 0) OPERATOR(pg_catalog.&) 2) OPERATOR(pg_catalog.=) 0;
    INSERT INTO pg_temp.radio_obs
    SELECT 'c', NULL, (e ->> 'mcc')::integer, (e ->> 'mnc')::integer, (e ->> 'lac')::integer, (e ->> 'cid')::bigint,
           public.ST_Y(f.geom), public.ST_X(f.geom), 1, NULL, f.recorded_at
      FROM fieldops.fix f
     CROSS JOIN LATERAL (SELECT fieldops.serving_cell(f.cells)) AS s(e)
     WHERE f.tenant_id OPERATOR(pg_catalog.=) p_tenant_id
       AND f.received_at OPERATOR(pg_catalog.>) v_from AND f.received_at OPERATOR(pg_catalog.<=) v_until
       AND f.recorded_at OPERATOR(pg_catalog.>) (v_from OPERATOR(pg_catalog.-) interval '14 days')
       AND f.band OPERATOR(pg_catalog.=) 'green' AND f.provider OPERATOR(pg_catalog.=) 'gps'
       AND f.accuracy_m OPERATOR(pg_catalog.<=) v_max_acc AND s.e IS NOT NULL;
    -- (statistics, so that joins to the map are planned for what is there)
    ANALYZE pg_temp.radio_obs;
    SELECT pg_catalog.count(DISTINCT o.at) INTO v_fixes FROM pg_temp.radio_obs o;

    -- access points: new ones start at their first observation
    INSERT INTO fieldops.radio_ap AS a (tenant_id, bssid, ref_lat, ref_lon, geom, first_seen, last_seen)
    SELECT DISTINCT ON (o.bssid) p_tenant_id, o.bssid, o.lat, o.lon, public.ST_SetSRID(public.ST_MakePoint(o.lon, o.lat), 4326), o.at, o.at
      FROM pg_temp.radio_obs o WHERE o.kind OPERATOR(pg_catalog.=) 'w'
     ORDER BY o.bssid, o.at
    ON CONFLICT (tenant_id, bssid) DO NOTHING;
    WITH agg AS MATERIALIZED (
        SELECT a.bssid, pg_catalog.sum(o.w) AS sw, pg_catalog.sum(o.w OPERATOR(pg_catalog.*) (off).x) AS sx,
               pg_catalog.sum(o.w OPERATOR(pg_catalog.*) (off).y) AS sy,
               pg_catalog.sum(o.w OPERATOR(pg_catalog.*) (off).x OPERATOR(pg_catalog.*) (off).x) AS sxx,
               pg_catalog.sum(o.w OPERATOR(pg_catalog.*) (off).y OPERATOR(pg_catalog.*) (off).y) AS syy,
               pg_catalog.count(*)::integer AS n,
               pg_catalog.count(DISTINCT o.day) FILTER (WHERE a.last_day IS NULL OR o.day OPERATOR(pg_catalog.>) a.last_day)::integer AS new_days,
               pg_catalog.max(o.day) AS last_day, pg_catalog.max(o.at) AS last_at
          FROM pg_temp.radio_obs o
          JOIN fieldops.radio_ap a ON a.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND a.bssid OPERATOR(pg_catalog.=) o.bssid
         CROSS JOIN LATERAL (SELECT fieldops.radio_offset(a.ref_lat, a.ref_lon, o.lat, o.lon) AS off) r
         WHERE o.kind OPERATOR(pg_catalog.=) 'w'
         GROUP BY a.bssid
    ), upd AS (
        UPDATE fieldops.radio_ap a
           SET sw = a.sw OPERATOR(pg_catalog.+) g.sw, sx = a.sx OPERATOR(pg_catalog.+) g.sx, sy = a.sy OPERATOR(pg_catalog.+) g.sy,
               sxx = a.sxx OPERATOR(pg_catalog.+) g.sxx, syy = a.syy OPERATOR(pg_catalog.+) g.syy,
               n_obs = a.n_obs OPERATOR(pg_catalog.+) g.n, n_days = a.n_days OPERATOR(pg_catalog.+) g.new_days,
               last_day = GREATEST(a.last_day, g.last_day), last_seen = GREATEST(a.last_seen, g.last_at)
          FROM agg g
         WHERE a.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND a.bssid OPERATOR(pg_catalog.=) g.bssid
        RETURNING a.bssid
    )
    SELECT pg_catalog.count(*) INTO v_aps FROM upd;
    -- centroid and spread from the sums
    UPDATE fieldops.radio_ap a
       SET geom = fieldops.radio_centroid(a.ref_lat, a.ref_lon, a.sw, a.sx, a.sy),
           spread_m = fieldops.radio_rms_m(a.sw, a.sx, a.sy, a.sxx, a.syy),
           mobile = fieldops.radio_rms_m(a.sw, a.sx, a.sy, a.sxx, a.syy) OPERATOR(pg_catalog.>) v_mobile
     WHERE a.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND a.sw OPERATOR(pg_catalog.>) 0
       AND a.bssid IN (SELECT o.bssid FROM pg_temp.radio_obs o WHERE o.kind OPERATOR(pg_catalog.=) 'w');

    -- cells, the same way
    INSERT INTO fieldops.radio_cell AS c (tenant_id, mcc, mnc, lac, cid, ref_lat, ref_lon, geom, first_seen, last_seen)
    SELECT DISTINCT ON (o.mcc, o.mnc, o.lac, o.cid) p_tenant_id, o.mcc, o.mnc, o.lac, o.cid, o.lat, o.lon,
           public.ST_SetSRID(public.ST_MakePoint(o.lon, o.lat), 4326), o.at, o.at
      FROM pg_temp.radio_obs o WHERE o.kind OPERATOR(pg_catalog.=) 'c'
     ORDER BY o.mcc, o.mnc, o.lac, o.cid, o.at
    ON CONFLICT (tenant_id, mcc, mnc, lac, cid) DO NOTHING;
    WITH agg AS MATERIALIZED (
        SELECT c.mcc, c.mnc, c.lac, c.cid, pg_catalog.sum(o.w) AS sw, pg_catalog.sum((off).x) AS sx, pg_catalog.sum((off).y) AS sy,
               pg_catalog.sum((off).x OPERATOR(pg_catalog.*) (off).x) AS sxx, pg_catalog.sum((off).y OPERATOR(pg_catalog.*) (off).y) AS syy,
               pg_catalog.count(*)::integer AS n, pg_catalog.max(o.at) AS last_at
          FROM pg_temp.radio_obs o
          JOIN fieldops.radio_cell c ON c.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND c.mcc OPERATOR(pg_catalog.=) o.mcc
           AND c.mnc OPERATOR(pg_catalog.=) o.mnc AND c.lac OPERATOR(pg_catalog.=) o.lac AND c.cid OPERATOR(pg_catalog.=) o.cid
         CROSS JOIN LATERAL (SELECT fieldops.radio_offset(c.ref_lat, c.ref_lon, o.lat, o.lon) AS off) r
         WHERE o.kind OPERATOR(pg_catalog.=) 'c'
         GROUP BY c.mcc, c.mnc, c.lac, c.cid
    ), upd AS (
        UPDATE fieldops.radio_cell c
           SET sw = c.sw OPERATOR(pg_catalog.+) g.sw, sx = c.sx OPERATOR(pg_catalog.+) g.sx, sy = c.sy OPERATOR(pg_catalog.+) g.sy,
               sxx = c.sxx OPERATOR(pg_catalog.+) g.sxx, syy = c.syy OPERATOR(pg_catalog.+) g.syy,
               n_obs = c.n_obs OPERATOR(pg_catalog.+) g.n, last_seen = GREATEST(c.last_seen, g.last_at)
          FROM agg g
         WHERE c.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND c.mcc OPERATOR(pg_catalog.=) g.mcc AND c.mnc OPERATOR(pg_catalog.=) g.mnc
           AND c.lac OPERATOR(pg_catalog.=) g.lac AND c.cid OPERATOR(pg_catalog.=) g.cid
        RETURNING c.cid
    )
    SELECT pg_catalog.count(*) INTO v_cells FROM upd;
    UPDATE fieldops.radio_cell c
       SET geom = fieldops.radio_centroid(c.ref_lat, c.ref_lon, c.sw, c.sx, c.sy),
           radius_m = GREATEST(200, 2 OPERATOR(pg_catalog.*) fieldops.radio_rms_m(c.sw, c.sx, c.sy, c.sxx, c.syy))
     WHERE c.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND c.sw OPERATOR(pg_catalog.>) 0
       AND (c.mcc, c.mnc, c.lac, c.cid) IN (SELECT o.mcc, o.mnc, o.lac, o.cid FROM pg_temp.radio_obs o WHERE o.kind OPERATOR(pg_catalog.=) 'c');

    UPDATE fieldops.radio_map_state s SET learned_until = v_until, refreshed_at = pg_catalog.now()
     WHERE s.tenant_id OPERATOR(pg_catalog.=) p_tenant_id;
    TRUNCATE pg_temp.radio_obs;
    RETURN pg_catalog.jsonb_build_object('fixes', v_fixes, 'aps', v_aps, 'cells', v_cells, 'learned_until', v_until);
END
$$;
COMMENT ON FUNCTION fieldops.refresh_radio_map(bigint, timestamptz) IS
'Learn from the tenant''s trusted fixes (band green, provider gps, accuracy <= radio_map_max_accuracy_m) received since the last refresh and up to p_until (default: 5 minutes ago, so no batch still in flight is skipped): each heard access point''s RSSI-weighted position and spread, each serving cell''s centroid and radius. Incremental and idempotent (the same fixes are never counted twice). Returns {"fixes", "aps", "cells", "learned_until"}. Run by the radio_map job.';

CREATE FUNCTION fieldops.job_radio_map(p_tenant_id bigint, p_args jsonb)
RETURNS jsonb
LANGUAGE sql VOLATILE
AS $$
    SELECT fieldops.refresh_radio_map(p_tenant_id)
$$;
COMMENT ON FUNCTION fieldops.job_radio_map(bigint, jsonb) IS
'Job (per tenant): refresh_radio_map() with the default lag.';

--
-- Scoring a batch at ingest
--
CREATE TABLE fieldops.fix_alert (
    tenant_id    bigint NOT NULL REFERENCES fieldops.tenant (tenant_id),
    alert_id     bigserial NOT NULL,
    fix_id       bigint NOT NULL,
    device_id    bigint NOT NULL,
    worker_id    bigint NOT NULL,
    recorded_at  timestamptz NOT NULL,
    score        smallint NOT NULL,
    reasons      jsonb NOT NULL,
    model_version text NOT NULL,
    raised_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    acked_at     timestamptz,
    acked_by     name,
    ack_note     text,
    PRIMARY KEY (tenant_id, alert_id),
    UNIQUE (tenant_id, device_id, recorded_at),
    FOREIGN KEY (tenant_id, device_id) REFERENCES fieldops.device (tenant_id, device_id),
    FOREIGN KEY (tenant_id, worker_id) REFERENCES fieldops.worker (tenant_id, worker_id),
    CONSTRAINT fix_alert_ack CHECK ((acked_at IS NULL) = (acked_by IS NULL))
);
CREATE INDEX fix_alert_open_idx ON fieldops.fix_alert (tenant_id, raised_at) WHERE acked_at IS NULL;
COMMENT ON TABLE fieldops.fix_alert IS
'A red location fix, raised when ingest_fixes() scored it (with an outbox event fix.alert), until a manager acknowledges it with ack_fix_alert().';

CREATE FUNCTION fieldops.raise_fix_alerts(p_tenant_id bigint, p_dev bigint[], p_at timestamptz[])
RETURNS integer
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    a record;
    n integer := 0;
BEGIN
    -- red fixes raise an alert (once per fix) and an event
    FOR a IN
        INSERT INTO fieldops.fix_alert AS t (tenant_id, fix_id, device_id, worker_id, recorded_at, score, reasons, model_version)
        SELECT f.tenant_id, f.fix_id, f.device_id, f.worker_id, f.recorded_at, f.score, f.reasons, f.model_version
          FROM unnest(p_dev, p_at) AS u(dev, at)  -- (the several-array form cannot be schema-qualified)
          JOIN fieldops.fix f
            ON f.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND f.device_id OPERATOR(pg_catalog.=) u.dev
           AND f.recorded_at OPERATOR(pg_catalog.=) u.at
         WHERE f.band OPERATOR(pg_catalog.=) 'red'
        ON CONFLICT DO NOTHING
        RETURNING t.alert_id, t.fix_id, t.device_id, t.worker_id, t.recorded_at, t.score, t.reasons
    LOOP
        PERFORM fieldops.emit_event(p_tenant_id, 'fix.alert', 'fix_alert', a.alert_id,
            pg_catalog.jsonb_build_object('fix_id', a.fix_id, 'device_id', a.device_id, 'worker_id', a.worker_id,
                                          'recorded_at', a.recorded_at, 'score', a.score,
                                          'codes', (SELECT pg_catalog.jsonb_agg(r -> 'code') FROM pg_catalog.jsonb_array_elements(a.reasons) r)));
        n := n OPERATOR(pg_catalog.+) 1;
    END LOOP;
    RETURN n;
END
$$;
COMMENT ON FUNCTION fieldops.raise_fix_alerts(bigint, bigint[], timestamptz[]) IS
'Internal (ingest_fixes()): raise an alert and a fix.alert event for each of the given stored fixes that is red (once per fix).';

CREATE FUNCTION fieldops.fix_alerts(p_tenant_id bigint, p_open_only boolean DEFAULT true, p_limit integer DEFAULT 100)
RETURNS SETOF fieldops.fix_alert
LANGUAGE plpgsql STABLE SECURITY DEFINER
AS $$
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    IF p_limit IS NULL OR p_limit NOT BETWEEN 1 AND 10000 THEN
        RAISE EXCEPTION 'p_limit must be between 1 and 10000, got %', p_limit USING ERRCODE = '22023';
    END IF;
    RETURN QUERY SELECT * FROM fieldops.fix_alert a
                  WHERE a.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND (NOT COALESCE(p_open_only, true) OR a.acked_at IS NULL)
                  ORDER BY a.raised_at DESC, a.alert_id DESC LIMIT p_limit;
END
$$;
COMMENT ON FUNCTION fieldops.fix_alerts(bigint, boolean, integer) IS
'The tenant''s alerts of red location fixes, newest first: the open ones by default, all with p_open_only => false.';

CREATE FUNCTION fieldops.ack_fix_alert(p_tenant_id bigint, p_alert_id bigint, p_note text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    v_note text := fieldops.check_text(p_note, 'p_note', 500, false);
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    IF p_alert_id IS NULL THEN
        RAISE EXCEPTION 'p_alert_id must not be null' USING ERRCODE = '22004';
    END IF;
    UPDATE fieldops.fix_alert
       SET acked_at = pg_catalog.now(), acked_by = SESSION_USER, ack_note = v_note
     WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND alert_id OPERATOR(pg_catalog.=) p_alert_id AND acked_at IS NULL;
    IF FOUND THEN
        RETURN 'acked';
    END IF;
    IF EXISTS (SELECT 1 FROM fieldops.fix_alert a
                WHERE a.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND a.alert_id OPERATOR(pg_catalog.=) p_alert_id) THEN
        RETURN 'already_acked';
    END IF;
    RAISE EXCEPTION 'p_alert_id % is not an alert of tenant %', p_alert_id, p_tenant_id USING ERRCODE = '23503';
END
$$;
COMMENT ON FUNCTION fieldops.ack_fix_alert(bigint, bigint, text) IS
'Acknowledge an alert (who and when are recorded, with an optional note): acked, or already_acked when someone did first.';

SELECT fieldops.secure_tenant_table('fieldops.fix_alert');

SELECT fieldops.secure_tenant_table(t::regclass)
  FROM pg_catalog.unnest(ARRAY['fieldops.radio_ap', 'fieldops.radio_cell', 'fieldops.radio_map_state', 'fieldops.fix_fingerprint']) AS t;

GRANT EXECUTE ON FUNCTION
    fieldops.spoof_score(jsonb, jsonb, jsonb, jsonb, jsonb),
    fieldops.spoof_score_track(bigint[], bigint[], float8[], float8[], real[], real[], real[], real[], text[], boolean[], smallint[], real[], real[], integer[], boolean[], jsonb[], jsonb[], boolean, jsonb),
    fieldops.spoof_model_defaults()
TO fieldops_app, fieldops_analyst, fieldops_api;
GRANT EXECUTE ON FUNCTION
    fieldops.fix_alerts(bigint, boolean, integer)
TO fieldops_app, fieldops_analyst;
GRANT EXECUTE ON FUNCTION
    fieldops.ack_fix_alert(bigint, bigint, text),
    fieldops.set_device_flags(bigint, bigint, boolean, boolean),
    fieldops.refresh_radio_map(bigint, timestamptz)
TO fieldops_app;
GRANT EXECUTE ON FUNCTION
    fieldops.fix_scan_digest(jsonb),
    fieldops.fix_point_digest(float8, float8),
    fieldops.radio_offset(float8, float8, float8, float8),
    fieldops.radio_centroid(float8, float8, float8, float8, float8),
    fieldops.serving_cell(jsonb),
    fieldops.radio_rms_m(float8, float8, float8, float8, float8),
    fieldops.raise_fix_alerts(bigint, bigint[], timestamptz[])
TO fieldops_api;
