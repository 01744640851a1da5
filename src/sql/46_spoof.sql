--
-- Spoofed-location scoring: the deterministic scorecard of a fix (C,
-- src/spoof_core.c) and the versioned models it is run with.
--
-- fieldops.spoof_score() is a pure function of the fix, its context (the
-- device's previous fixes, the radio environment, history facts) and the
-- model, all as jsonb: no clock, no table access, byte-identical results
-- for the same inputs.  Gathering the context from the tables and storing
-- scores at ingest is the next step of the scoring module (issue 5).
--
-- Part of the install script and of the 0.1.0 -> 0.2.0 upgrade script.
--

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
-- Scoring stored fixes (ingest_fixes() calls score_fixes() for the fixes it
-- stored) and the alerts red fixes raise
--

CREATE FUNCTION fieldops.spoof_prev_json(f fieldops.fix)
RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT pg_catalog.jsonb_build_object(
        't_ms', pg_catalog.floor(pg_catalog.extract('epoch', f.recorded_at) OPERATOR(pg_catalog.*) 1000)::bigint,
        'received_ms', pg_catalog.floor(pg_catalog.extract('epoch', f.received_at) OPERATOR(pg_catalog.*) 1000)::bigint,
        'lat', public.ST_Y(f.geom), 'lon', public.ST_X(f.geom), 'accuracy_m', f.accuracy_m, 'altitude_m', f.altitude_m,
        'speed_mps', f.speed_mps, 'bearing_deg', f.bearing_deg, 'provider', f.provider)
$$;
COMMENT ON FUNCTION fieldops.spoof_prev_json(fieldops.fix) IS
'Internal: a stored fix as an element of the p_prev of spoof_score().';

CREATE FUNCTION fieldops.spoof_fix_json(f fieldops.fix)
RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT fieldops.spoof_prev_json(f) OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object(
        'mock', f.is_mock, 'satellites', f.satellites, 'cn0_mean_dbhz', f.cn0_mean_dbhz, 'cn0_sd_dbhz', f.cn0_sd_dbhz,
        -- the verdict summary as the core's bits: booleans basic, device,
        -- strong, or Play Integrity's device_recognition labels
        'integrity', CASE WHEN f.integrity ?| ARRAY['basic', 'device', 'strong'] THEN
                         (CASE WHEN f.integrity -> 'basic' OPERATOR(pg_catalog.=) 'true' THEN 1 ELSE 0 END)
                         OPERATOR(pg_catalog.+) (CASE WHEN f.integrity -> 'device' OPERATOR(pg_catalog.=) 'true' THEN 2 ELSE 0 END)
                         OPERATOR(pg_catalog.+) (CASE WHEN f.integrity -> 'strong' OPERATOR(pg_catalog.=) 'true' THEN 4 ELSE 0 END)
                     WHEN pg_catalog.jsonb_typeof(f.integrity -> 'device_recognition') OPERATOR(pg_catalog.=) 'array' THEN
                         (CASE WHEN f.integrity -> 'device_recognition' OPERATOR(pg_catalog.@>) '["MEETS_BASIC_INTEGRITY"]' THEN 1 ELSE 0 END)
                         OPERATOR(pg_catalog.+) (CASE WHEN f.integrity -> 'device_recognition' OPERATOR(pg_catalog.@>) '["MEETS_DEVICE_INTEGRITY"]' THEN 2 ELSE 0 END)
                         OPERATOR(pg_catalog.+) (CASE WHEN f.integrity -> 'device_recognition' OPERATOR(pg_catalog.@>) '["MEETS_STRONG_INTEGRITY"]' THEN 4 ELSE 0 END)
                    END)
$$;
COMMENT ON FUNCTION fieldops.spoof_fix_json(fieldops.fix) IS
'Internal: a stored fix as the p_fix of spoof_score() (integrity bits from the booleans basic, device and strong of its verdict summary, or from Play Integrity''s device_recognition labels MEETS_*_INTEGRITY; neither: unknown).';

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

CREATE FUNCTION fieldops.score_fixes(p_tenant_id bigint, p_dev bigint[], p_at timestamptz[])
RETURNS integer
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    v_model jsonb;
    v_tz text := fieldops.tenant_time_zone(p_tenant_id);
    n integer;
    a record;
BEGIN
    -- the model in force: the latest version added
    SELECT m.model INTO v_model FROM fieldops.spoof_model m ORDER BY m.created_at DESC, m.version DESC LIMIT 1;
    -- Each fix against the device's 16 fixes before it in fix time (those
    -- of this batch included: they were stored by an earlier statement), so
    -- a late, out-of-order upload is scored as if it had come in order.
    WITH todo AS MATERIALIZED (
        SELECT f AS fx, f.device_id, f.recorded_at,
               (pg_catalog.date_trunc('day', f.recorded_at AT TIME ZONE v_tz) AT TIME ZONE v_tz) AS day_start
          FROM unnest(p_dev, p_at) AS u(dev, at)  -- (the several-array form cannot be schema-qualified)
          JOIN fieldops.fix f
            ON f.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND f.device_id OPERATOR(pg_catalog.=) u.dev
           AND f.recorded_at OPERATOR(pg_catalog.=) u.at
    ), days AS MATERIALIZED (
        -- how many workers each device served on each local day concerned:
        -- once per device and day, not once per fix
        SELECT d.device_id, d.day_start,
               (SELECT pg_catalog.count(DISTINCT w.worker_id) FROM fieldops.fix w
                 WHERE w.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND w.device_id OPERATOR(pg_catalog.=) d.device_id
                   AND w.recorded_at OPERATOR(pg_catalog.>=) d.day_start
                   AND w.recorded_at OPERATOR(pg_catalog.<) (((d.day_start AT TIME ZONE v_tz) OPERATOR(pg_catalog.+) interval '1 day') AT TIME ZONE v_tz)) AS workers
          FROM (SELECT DISTINCT t.device_id, t.day_start FROM todo t) d
    ), s AS (
        SELECT t.device_id, t.recorded_at, r.score, r.band, r.reasons, r.model_version
          FROM todo t
          JOIN days d ON d.device_id OPERATOR(pg_catalog.=) t.device_id AND d.day_start OPERATOR(pg_catalog.=) t.day_start
         CROSS JOIN LATERAL fieldops.spoof_score(
               fieldops.spoof_fix_json(t.fx),
               (SELECT pg_catalog.jsonb_agg(fieldops.spoof_prev_json(p))
                  FROM (SELECT * FROM fieldops.fix p
                         WHERE p.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND p.device_id OPERATOR(pg_catalog.=) t.device_id
                           AND p.recorded_at OPERATOR(pg_catalog.<) t.recorded_at
                         ORDER BY p.recorded_at DESC LIMIT 16) p),
               NULL,
               pg_catalog.jsonb_build_object('workers_on_device_today', d.workers),
               v_model) r
    )
    UPDATE fieldops.fix x
       SET score = s.score, band = s.band, reasons = s.reasons, model_version = s.model_version
      FROM s
     WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.device_id OPERATOR(pg_catalog.=) s.device_id
       AND x.recorded_at OPERATOR(pg_catalog.=) s.recorded_at;
    GET DIAGNOSTICS n = ROW_COUNT;

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
    END LOOP;
    RETURN n;
END
$$;
COMMENT ON FUNCTION fieldops.score_fixes(bigint, bigint[], timestamptz[]) IS
'Internal (ingest_fixes()): score the given stored fixes with the latest spoof model against each device''s previous fixes in fix time, store score, band, reasons and model version, and raise an alert and a fix.alert event for each red one.';

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

GRANT EXECUTE ON FUNCTION
    fieldops.spoof_score(jsonb, jsonb, jsonb, jsonb, jsonb),
    fieldops.spoof_model_defaults()
TO fieldops_app, fieldops_analyst, fieldops_api;
GRANT EXECUTE ON FUNCTION
    fieldops.fix_alerts(bigint, boolean, integer)
TO fieldops_app, fieldops_analyst;
GRANT EXECUTE ON FUNCTION
    fieldops.ack_fix_alert(bigint, bigint, text)
TO fieldops_app;
GRANT EXECUTE ON FUNCTION
    fieldops.spoof_fix_json(fieldops.fix),
    fieldops.spoof_prev_json(fieldops.fix),
    fieldops.score_fixes(bigint, bigint[], timestamptz[])
TO fieldops_api;
