--
-- Location fixes: every position a phone reports, stored once, attributed
-- to the worker the phone was bound to at that instant.  The foundation of
-- trips and mileage now and of spoof scoring later (which adds columns to
-- fieldops.fix and steps to ingest_fixes()).
--
-- Part of the install script and of the 0.1.0 -> 0.2.0 upgrade script: it
-- creates, secures and grants everything it needs itself.
--

INSERT INTO fieldops.setting_def (key, kind, default_value, min_value, max_value, description) VALUES
    ('fix_retention_days', 'integer', '400', 1, 3650,
     'Days a location fix is kept: ingest_fixes() does not store older fixes (status expired) and the fix_purge job deletes them.'),
    ('store_off_duty_fixes', 'boolean', 'false', NULL, NULL,
     'Whether ingest_fixes() stores fixes recorded outside the worker''s working hours (status off_duty either way). Off by default: workers'' positions off duty are private.');

-- ingest attributes each fix to the binding of its device at recorded_at
CREATE INDEX device_binding_device_idx ON fieldops.device_binding (tenant_id, device_id, bound_at);

--
-- The table: range-partitioned by recorded_at, one partition per UTC day
-- (fix_pYYYYMMDD, made by ensure_fix_partitions()), and a default partition
-- for days that have none yet.
--
-- The primary key (tenant_id, device_id, recorded_at) and the track index
-- are defined on each partition, not on the parent.  Daily partitions are
-- created after CREATE EXTENSION, so they are not members of the extension
-- and pg_dump dumps them as ordinary tables; restoring one re-attaches it
-- (pre-data) before it creates its indexes (post-data).  Were the indexes
-- defined on the parent, the re-attach would already create them and the
-- restore would fail on "multiple primary keys".  Since every primary key
-- contains the partition key, uniqueness per partition is uniqueness of
-- the whole table.
--
CREATE TABLE fieldops.fix (
    tenant_id    bigint NOT NULL,
    fix_id       bigserial NOT NULL,
    device_id    bigint NOT NULL,
    worker_id    bigint NOT NULL,
    recorded_at  timestamptz NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    geom         geometry(Point, 4326) NOT NULL,
    accuracy_m   real,
    altitude_m   real,
    speed_mps    real,
    bearing_deg  real,
    provider     text NOT NULL,
    is_mock      boolean,
    satellites   smallint,
    cn0_mean_dbhz real,
    cn0_sd_dbhz  real,
    wifi         jsonb,
    cells        jsonb,
    client_ip    inet,
    integrity    jsonb,
    customer_id  bigint,
    score        smallint,
    band         text,
    reasons      jsonb,
    model_version text,
    CONSTRAINT fix_device_fkey FOREIGN KEY (tenant_id, device_id) REFERENCES fieldops.device (tenant_id, device_id),
    CONSTRAINT fix_worker_fkey FOREIGN KEY (tenant_id, worker_id) REFERENCES fieldops.worker (tenant_id, worker_id),
    CONSTRAINT fix_customer_fkey FOREIGN KEY (tenant_id, customer_id) REFERENCES fieldops.customer (tenant_id, customer_id),
    CONSTRAINT fix_accuracy_range CHECK (accuracy_m OPERATOR(pg_catalog.>=) 0),
    CONSTRAINT fix_speed_range CHECK (speed_mps OPERATOR(pg_catalog.>=) 0),
    CONSTRAINT fix_bearing_range CHECK (bearing_deg OPERATOR(pg_catalog.>=) 0 AND bearing_deg OPERATOR(pg_catalog.<) 360),
    CONSTRAINT fix_provider_known CHECK (provider IN ('gps', 'network', 'fused', 'wifi', 'cell', 'passive')),
    CONSTRAINT fix_score_range CHECK (score BETWEEN 0 AND 100),
    CONSTRAINT fix_band_known CHECK (band IN ('green', 'amber', 'red'))
) PARTITION BY RANGE (recorded_at);
COMMENT ON TABLE fieldops.fix IS
'Location fixes as phones reported them, one per device and instant (primary key (tenant_id, device_id, recorded_at) on every partition), attributed to the worker the device was bound to at recorded_at. Written by ingest_fixes() only. Partitioned by UTC day of recorded_at.';
COMMENT ON COLUMN fieldops.fix.fix_id IS 'Surrogate id from a sequence: unique by construction (not by an index; the key is (tenant_id, device_id, recorded_at)).';
COMMENT ON COLUMN fieldops.fix.recorded_at IS 'When the phone took the fix, by the phone''s clock.';
COMMENT ON COLUMN fieldops.fix.received_at IS 'When the server stored it (transaction time of ingest_fixes()).';
COMMENT ON COLUMN fieldops.fix.geom IS 'WGS-84 point (longitude, latitude); GCJ-02 coordinates must be converted by the client.';
COMMENT ON COLUMN fieldops.fix.provider IS 'Location source as the phone reports it: gps, network, fused, wifi, cell or passive.';
COMMENT ON COLUMN fieldops.fix.is_mock IS 'The OS flagged the fix as coming from a mock location provider (NULL: not reported).';
COMMENT ON COLUMN fieldops.fix.satellites IS 'GNSS satellites used in the fix, as the phone reports them (NULL: not reported).';
COMMENT ON COLUMN fieldops.fix.cn0_mean_dbhz IS 'Mean carrier-to-noise density of the satellites used, dB-Hz (NULL: not reported).';
COMMENT ON COLUMN fieldops.fix.cn0_sd_dbhz IS 'Standard deviation of that C/N0 across satellites, dB-Hz: real skies vary, simulators often do not.';
COMMENT ON COLUMN fieldops.fix.wifi IS 'The Wi-Fi scan with the fix: [{"bssid": "aa:bb:cc:dd:ee:ff", "rssi_dbm": -61, "age_s": 2}, ...], BSSIDs normalised to lower case with colons.';
COMMENT ON COLUMN fieldops.fix.cells IS 'Observed cells: [{"mcc": 460, "mnc": 0, "lac": 6209, "cid": 123456789, "signal_dbm": -85, "serving": true, "radio": "lte"}, ...].';
COMMENT ON COLUMN fieldops.fix.client_ip IS 'The IP address the upload came from, as the mobile back end saw it.';
COMMENT ON COLUMN fieldops.fix.integrity IS 'A summary of the app integrity verdict (Play Integrity, App Attest) the mobile back end checked, as a JSON object.';
COMMENT ON COLUMN fieldops.fix.customer_id IS 'The customer a check-in fix was sent for (the visit''s customer), when the app said so: the scorer compares the fix with that customer''s pin and its stable Wi-Fi access points.';
COMMENT ON COLUMN fieldops.fix.score IS 'Spoof score 0 (surely genuine) to 100 (surely spoofed); NULL until the fix is scored.';
COMMENT ON COLUMN fieldops.fix.band IS 'green, amber (review) or red (alert); NULL until scored.';
COMMENT ON COLUMN fieldops.fix.reasons IS 'The signals that moved the score: [{"code": ..., "points": ..., numbers}, ...]; NULL until scored.';
COMMENT ON COLUMN fieldops.fix.model_version IS 'The scoring model that produced score, band and reasons.';

SELECT fieldops.secure_tenant_table('fieldops.fix');

CREATE FUNCTION fieldops.fix_partition_prepare(p_partition regclass, p_comment text)
RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    v_name text;
BEGIN
    -- everything a partition of fieldops.fix has beyond what the parent
    -- gives it: the key and the track index (see the table's comment for
    -- why they are per partition), row-level security for direct access,
    -- and privileges: administrators only; applications and the API go
    -- through the parent
    SELECT c.relname INTO v_name FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) p_partition;
    EXECUTE pg_catalog.format('ALTER TABLE %s ADD CONSTRAINT %I PRIMARY KEY (tenant_id, device_id, recorded_at)',
                              p_partition, v_name OPERATOR(pg_catalog.||) '_pkey');
    EXECUTE pg_catalog.format('CREATE INDEX %I ON %s (tenant_id, worker_id, recorded_at)',
                              v_name OPERATOR(pg_catalog.||) '_worker_idx', p_partition);
    EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', p_partition);
    EXECUTE pg_catalog.format(
        'CREATE POLICY tenant_isolation ON %s TO fieldops_app, fieldops_analyst, fieldops_api'
        ' USING (tenant_id OPERATOR(pg_catalog.=) fieldops.current_tenant_id())'
        ' WITH CHECK (tenant_id OPERATOR(pg_catalog.=) fieldops.current_tenant_id())', p_partition);
    EXECUTE pg_catalog.format(
        'CREATE POLICY administrators ON %s TO fieldops_admin USING (true) WITH CHECK (true)', p_partition);
    EXECUTE pg_catalog.format('REVOKE ALL ON %s FROM PUBLIC', p_partition);
    EXECUTE pg_catalog.format('GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO fieldops_admin', p_partition);
    EXECUTE pg_catalog.format('COMMENT ON TABLE %s IS %L', p_partition, p_comment);
END
$$;
COMMENT ON FUNCTION fieldops.fix_partition_prepare(regclass, text) IS
'Internal: give a (new, not yet attached) partition of fieldops.fix its primary key, track index, row-level security, privileges (administrators only) and comment.';

CREATE TABLE fieldops.fix_default PARTITION OF fieldops.fix DEFAULT;
SELECT fieldops.fix_partition_prepare('fieldops.fix_default',
    'Default partition of fieldops.fix: fixes of UTC days that have no daily partition yet. ensure_fix_partitions() moves them into the daily partition it creates.');
SELECT pg_catalog.pg_extension_config_dump('fieldops.fix_default', '');

--
-- Partitions
--

CREATE FUNCTION fieldops.ensure_fix_partitions(p_from date, p_to date)
RETURNS TABLE (partition_name text, day date, rows_moved bigint)
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    v_owner regrole;
    v_cols text;
    v_day date;
    v_name text;
    v_lower text;
    v_upper text;
    v_part regclass;
    v_locked boolean := false;
    n bigint;
BEGIN
    IF p_from IS NULL OR p_to IS NULL THEN
        RAISE EXCEPTION 'p_from and p_to must not be null' USING ERRCODE = '22004';
    END IF;
    IF NOT pg_catalog.isfinite(p_from) OR NOT pg_catalog.isfinite(p_to) THEN
        RAISE EXCEPTION 'p_from and p_to must be finite dates, got % and %', p_from, p_to USING ERRCODE = '22023';
    END IF;
    IF p_to OPERATOR(pg_catalog.<) p_from THEN
        RAISE EXCEPTION 'p_to % is before p_from %', p_to, p_from USING ERRCODE = '22023';
    END IF;
    IF p_to OPERATOR(pg_catalog.-) p_from OPERATOR(pg_catalog.>=) 366 THEN
        RAISE EXCEPTION 'p_from..p_to must span at most 366 days, got %', p_to OPERATOR(pg_catalog.-) p_from OPERATOR(pg_catalog.+) 1
            USING ERRCODE = '22023';
    END IF;
    -- creating and attaching partitions needs the ownership of the parent
    SELECT c.relowner::regrole INTO v_owner FROM pg_catalog.pg_class c
     WHERE c.oid OPERATOR(pg_catalog.=) 'fieldops.fix'::regclass;
    IF NOT pg_catalog.pg_has_role(CURRENT_USER, v_owner, 'USAGE') THEN
        RAISE EXCEPTION 'only the owner of fieldops.fix (%) or a superuser can create its partitions', v_owner
            USING ERRCODE = '42501',
                  HINT = 'The built-in job fix_partitions does it when the launcher runs jobs (as a superuser).';
    END IF;
    -- columns by name: the default partition and a new one may order them differently
    SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO v_cols
      FROM pg_catalog.pg_attribute a
     WHERE a.attrelid OPERATOR(pg_catalog.=) 'fieldops.fix'::regclass AND a.attnum OPERATOR(pg_catalog.>) 0
       AND NOT a.attisdropped;

    FOR v_day IN SELECT g::date FROM pg_catalog.generate_series(p_from::timestamp, p_to::timestamp, interval '1 day') AS g LOOP
        v_name := 'fix_p' OPERATOR(pg_catalog.||) pg_catalog.to_char(v_day, 'YYYYMMDD');
        IF NOT v_locked THEN
            IF EXISTS (SELECT 1 FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) i.inhrelid
                        WHERE i.inhparent OPERATOR(pg_catalog.=) 'fieldops.fix'::regclass
                          AND c.relname OPERATOR(pg_catalog.=) v_name) THEN
                CONTINUE;
            END IF;
            -- From here until the commit no row can enter the default
            -- partition: a row of the day being moved would make the ATTACH
            -- fail.  Also serialises two callers (the second re-checks).
            -- The parent first, in the mode ATTACH needs (it lets inserts
            -- through): an INSERT locks the parent, then the partition it
            -- routes to, and the other order could deadlock with it.
            LOCK TABLE fieldops.fix IN SHARE UPDATE EXCLUSIVE MODE;
            LOCK TABLE fieldops.fix_default IN ACCESS EXCLUSIVE MODE;
            v_locked := true;
        END IF;
        IF EXISTS (SELECT 1 FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) i.inhrelid
                    WHERE i.inhparent OPERATOR(pg_catalog.=) 'fieldops.fix'::regclass
                      AND c.relname OPERATOR(pg_catalog.=) v_name) THEN
            CONTINUE;
        END IF;
        IF pg_catalog.to_regclass('fieldops.' OPERATOR(pg_catalog.||) pg_catalog.quote_ident(v_name)) IS NOT NULL THEN
            RAISE EXCEPTION 'table fieldops.% exists but is not a partition of fieldops.fix', v_name
                USING ERRCODE = '42P07', HINT = 'Rename or drop it, then call ensure_fix_partitions() again.';
        END IF;
        -- bounds as ISO literals in UTC, whatever the session's DateStyle and TimeZone
        v_lower := pg_catalog.to_char(v_day, 'YYYY-MM-DD') OPERATOR(pg_catalog.||) ' 00:00:00+00';
        v_upper := pg_catalog.to_char(v_day OPERATOR(pg_catalog.+) 1, 'YYYY-MM-DD') OPERATOR(pg_catalog.||) ' 00:00:00+00';

        -- create the table, move the day's rows out of the default partition,
        -- index it, then attach it (cheap: the CHECK spares the validation scan)
        EXECUTE pg_catalog.format('CREATE TABLE fieldops.%I (LIKE fieldops.fix INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', v_name);
        v_part := ('fieldops.' OPERATOR(pg_catalog.||) pg_catalog.quote_ident(v_name))::regclass;
        EXECUTE pg_catalog.format('ALTER TABLE %s ADD CONSTRAINT %I CHECK (recorded_at >= %L AND recorded_at < %L)',
                                  v_part, v_name OPERATOR(pg_catalog.||) '_bounds', v_lower, v_upper);
        EXECUTE pg_catalog.format(
            'WITH moved AS (DELETE FROM fieldops.fix_default WHERE recorded_at >= %L AND recorded_at < %L RETURNING %s)'
            ' INSERT INTO %s (%s) SELECT %s FROM moved',
            v_lower, v_upper, v_cols, v_part, v_cols, v_cols);
        GET DIAGNOSTICS n = ROW_COUNT;
        PERFORM fieldops.fix_partition_prepare(v_part,
            pg_catalog.format('Daily partition of fieldops.fix: fixes recorded on %s (UTC). Created by ensure_fix_partitions(); dropped by the fix_partitions job once older than every tenant''s fix_retention_days.',
                              pg_catalog.to_char(v_day, 'YYYY-MM-DD')));
        EXECUTE pg_catalog.format('ALTER TABLE fieldops.fix ATTACH PARTITION %s FOR VALUES FROM (%L) TO (%L)', v_part, v_lower, v_upper);
        EXECUTE pg_catalog.format('ALTER TABLE %s DROP CONSTRAINT %I', v_part, v_name OPERATOR(pg_catalog.||) '_bounds');
        IF (SELECT c.relowner FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) v_part) OPERATOR(pg_catalog.<>) v_owner THEN
            EXECUTE pg_catalog.format('ALTER TABLE %s OWNER TO %s', v_part, v_owner);
        END IF;
        partition_name := v_name;
        day := v_day;
        rows_moved := n;
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION fieldops.ensure_fix_partitions(date, date) IS
'Administrators and jobs (as the owner of fieldops.fix or a superuser): create the missing daily partitions fieldops.fix_pYYYYMMDD for the UTC days p_from..p_to (at most 366), moving their rows out of the default partition first. Returns one row per partition created.';

CREATE FUNCTION fieldops.job_int_arg(p_args jsonb, p_key text, p_min integer, p_max integer, p_default integer)
RETURNS integer
LANGUAGE plpgsql IMMUTABLE
AS $$
DECLARE
    v jsonb := p_args -> p_key;
BEGIN
    IF v IS NULL THEN
        RETURN p_default;
    END IF;
    IF pg_catalog.jsonb_typeof(v) IS DISTINCT FROM 'number'
       OR (v #>> '{}')::numeric NOT BETWEEN p_min AND p_max
       OR (v #>> '{}')::numeric OPERATOR(pg_catalog.<>) pg_catalog.trunc((v #>> '{}')::numeric) THEN
        RAISE EXCEPTION 'args.% must be an integer between % and %, got %', p_key, p_min, p_max, v
            USING ERRCODE = '22023';
    END IF;
    RETURN (v #>> '{}')::integer;
END
$$;
COMMENT ON FUNCTION fieldops.job_int_arg(jsonb, text, integer, integer, integer) IS
'Internal: an integer argument of a job (p_args ->> p_key) within [p_min, p_max], p_default when absent; 22023 naming the key otherwise.';

CREATE FUNCTION fieldops.job_fix_partitions(p_args jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
-- the DDL needs strong locks: rather fail and retry at the next run than
-- queue every reader and writer of fieldops.fix behind a long transaction
SET lock_timeout = '5s'
AS $$
DECLARE
    v_ahead integer;
    v_today date := (pg_catalog.now() AT TIME ZONE 'UTC')::date;
    v_keep integer;
    v_limit timestamptz;
    v_created integer;
    v_moved bigint;
    v_dropped text[] := ARRAY[]::text[];
    v_try integer;
    p record;
BEGIN
    v_ahead := fieldops.job_int_arg(p_args, 'days_ahead', 0, 365, 7);

    -- Whole days older than the longest retention of any tenant (plus a day
    -- of margin) are dropped; younger fixes of tenants with a shorter
    -- retention are deleted by the fix_purge job.  Dropping comes first: it
    -- locks fieldops.fix itself (ACCESS EXCLUSIVE), creating locks the
    -- default partition first, and an ingest waiting for the default
    -- partition while holding fieldops.fix would otherwise deadlock with us.
    SELECT pg_catalog.max(COALESCE(t.settings -> 'fix_retention_days', d.default_value)::text::integer) INTO v_keep
      FROM fieldops.tenant t, fieldops.setting_def d
     WHERE d.key OPERATOR(pg_catalog.=) 'fix_retention_days';
    IF v_keep IS NULL THEN
        SELECT d.default_value::text::integer INTO v_keep FROM fieldops.setting_def d
         WHERE d.key OPERATOR(pg_catalog.=) 'fix_retention_days';
    END IF;
    v_limit := pg_catalog.now() OPERATOR(pg_catalog.-) pg_catalog.make_interval(days => v_keep OPERATOR(pg_catalog.+) 1);
    FOR p IN SELECT c.oid::regclass AS part, c.relname::text AS name,
                    pg_catalog.to_date(pg_catalog.substr(c.relname, 6), 'YYYYMMDD') AS day
               FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) i.inhrelid
              WHERE i.inhparent OPERATOR(pg_catalog.=) 'fieldops.fix'::regclass
                AND c.relname ~ '^fix_p[0-9]{8}$'
              ORDER BY c.relname
    LOOP
        -- the partition's upper bound: its newest fix is older than that
        IF ((p.day OPERATOR(pg_catalog.+) 1)::timestamp AT TIME ZONE 'UTC') OPERATOR(pg_catalog.<=) v_limit THEN
            EXECUTE pg_catalog.format('DROP TABLE %s', p.part);
            v_dropped := v_dropped OPERATOR(pg_catalog.||) p.name;
        END IF;
    END LOOP;

    -- An ingest that stored fixes and now scores them (an UPDATE through
    -- fieldops.fix) can hold partitions this attach needs while waiting for
    -- one it holds: when the deadlock detector picks this job, give the
    -- locks back (the subtransaction) and try again once the ingest is done.
    FOR v_try IN 1..3 LOOP
        BEGIN
            SELECT pg_catalog.count(*), COALESCE(pg_catalog.sum(e.rows_moved), 0) INTO v_created, v_moved
              FROM fieldops.ensure_fix_partitions(v_today OPERATOR(pg_catalog.-) 1, v_today OPERATOR(pg_catalog.+) v_ahead) e;
            EXIT;
        EXCEPTION WHEN deadlock_detected THEN
            IF v_try OPERATOR(pg_catalog.=) 3 THEN
                RAISE;
            END IF;
            PERFORM pg_catalog.pg_sleep(0.1 OPERATOR(pg_catalog.*) v_try);
        END;
    END LOOP;
    RETURN pg_catalog.jsonb_build_object('created', v_created, 'rows_moved', v_moved,
                                         'from', v_today OPERATOR(pg_catalog.-) 1, 'to', v_today OPERATOR(pg_catalog.+) v_ahead,
                                         'retention_days', v_keep, 'dropped', pg_catalog.to_jsonb(v_dropped));
END
$$;
COMMENT ON FUNCTION fieldops.job_fix_partitions(jsonb) IS
'Job (global): create the daily partitions of fieldops.fix for yesterday to args.days_ahead (default 7) days ahead (UTC), and drop the partitions whose fixes are all older than the longest fix_retention_days of any tenant plus one day.';

CREATE FUNCTION fieldops.job_fix_purge(p_tenant_id bigint, p_args jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    v_days integer := (fieldops.tenant_setting(p_tenant_id, 'fix_retention_days') #>> '{}')::integer;
    v_batch integer;
    v_limit timestamptz;
    n integer;
BEGIN
    v_batch := fieldops.job_int_arg(p_args, 'batch', 1, 1000000, 10000);
    v_limit := pg_catalog.now() OPERATOR(pg_catalog.-) pg_catalog.make_interval(days => v_days);
    DELETE FROM fieldops.fix f
     WHERE f.tenant_id OPERATOR(pg_catalog.=) p_tenant_id
       AND f.recorded_at OPERATOR(pg_catalog.<) v_limit
       AND (f.device_id, f.recorded_at) IN (SELECT x.device_id, x.recorded_at FROM fieldops.fix x
                                             WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id
                                               AND x.recorded_at OPERATOR(pg_catalog.<) v_limit
                                             LIMIT v_batch);
    GET DIAGNOSTICS n = ROW_COUNT;
    -- the replay fingerprints of fixes that old go with them
    DELETE FROM fieldops.fix_fingerprint g
     WHERE g.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND g.recorded_at OPERATOR(pg_catalog.<) v_limit;
    RETURN pg_catalog.jsonb_build_object('deleted', n, 'retention_days', v_days, 'more', n OPERATOR(pg_catalog.=) v_batch);
END
$$;
COMMENT ON FUNCTION fieldops.job_fix_purge(bigint, jsonb) IS
'Job (per tenant): delete the tenant''s fixes older than its fix_retention_days, at most args.batch (default 10000) per run ({"more": true} when the batch was full).';

--
-- Ingest
--

CREATE TYPE fieldops.fix_observations AS (
    problem        text,
    satellites     smallint,
    cn0_mean_dbhz  real,
    cn0_sd_dbhz    real,
    wifi           jsonb,
    cells          jsonb,
    client_ip      inet,
    integrity      jsonb
);
COMMENT ON TYPE fieldops.fix_observations IS
'Internal: what a fix element reports besides its position (GNSS status, Wi-Fi scan, cells, client IP, integrity verdict), checked and normalised by fix_observations(); problem is the first mistake, NULL when none.';

CREATE FUNCTION fieldops.fix_observations(p_elem jsonb, p_n integer)
RETURNS fieldops.fix_observations
AS 'MODULE_PATHNAME', 'fieldops_fix_observations'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fieldops.fix_observations(jsonb, integer) IS
'Internal (ingest_fixes(); C, src/fix_obs.c): check and normalise what element p_n of p_fixes reports besides its position: satellites, cn0_mean_dbhz, cn0_sd_dbhz, wifi [{bssid, rssi_dbm, age_s}], cells [{mcc, mnc, lac, cid, signal_dbm, serving, radio}], client_ip, integrity.';

CREATE FUNCTION fieldops.ingest_fixes(p_tenant_id bigint, p_fixes jsonb, p_options jsonb DEFAULT '{}')
RETURNS TABLE (idx integer, fix_id bigint, status text, reason text, score integer, band text, reasons jsonb)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
-- (JIT would compile these large statements on every call: seconds for
-- a batch that takes milliseconds to run)
SET jit = off
AS $$
DECLARE
    c_keys constant text[] := ARRAY['device_uid', 'recorded_at', 'lat', 'lon', 'accuracy_m', 'altitude_m',
                                    'speed_mps', 'bearing_deg', 'provider', 'mock', 'satellites', 'cn0_mean_dbhz',
                                    'cn0_sd_dbhz', 'wifi', 'cells', 'client_ip', 'integrity', 'customer_id'];
    v_skip boolean;
    v_count integer;
    v_tz text;
    v_schedule jsonb;
    v_retention integer;
    v_store_off boolean;
    v_expired_before timestamptz;
    v_future_after timestamptz;
    v_err text;
    v_bad integer;
    v_try integer;
    v_table text;
    v_sent_at timestamptz;
    v_skew_ms bigint;
    -- the batch between statements, one entry per element of p_fixes in order
    a_err text[];
    a_status text[];
    a_reason text[];
    a_first integer[];
    a_store boolean[];
    a_dev bigint[];
    a_worker bigint[];
    a_at timestamptz[];
    a_lon float8[];
    a_lat float8[];
    a_acc real[];
    a_alt real[];
    a_spd real[];
    a_brg real[];
    a_prov text[];
    a_mock boolean[];
    a_obs fieldops.fix_observations[];
    a_cust bigint[];
    -- the scores of the new fixes, by element
    s_score integer[];
    s_band text[];
    s_reasons jsonb[];
    s_model text[];
    s_sdig bytea[];
    s_pdig bytea[];
    -- what the INSERT stored, and the stored fix of every element
    i_dev bigint[];
    i_at timestamptz[];
    i_id bigint[];
    a_fix bigint[];
    a_dup boolean[];
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);

    -- options
    p_options := COALESCE(p_options, '{}');
    IF pg_catalog.jsonb_typeof(p_options) OPERATOR(pg_catalog.<>) 'object' THEN
        RAISE EXCEPTION 'p_options must be a JSON object such as {"on_error": "skip"}, got %', pg_catalog.jsonb_typeof(p_options)
            USING ERRCODE = '22023';
    END IF;
    SELECT pg_catalog.min(k) INTO v_err FROM pg_catalog.jsonb_object_keys(p_options) AS k
     WHERE k NOT IN ('on_error', 'sent_at');
    IF v_err IS NOT NULL THEN
        RAISE EXCEPTION 'p_options has an unknown key "%" (known keys: on_error, sent_at)', v_err USING ERRCODE = '22023';
    END IF;
    IF COALESCE(p_options -> 'on_error', 'null') NOT IN ('null', '"fail"', '"skip"') THEN
        RAISE EXCEPTION 'p_options.on_error must be "fail" or "skip", got %', p_options -> 'on_error' USING ERRCODE = '22023';
    END IF;
    -- sent_at: the phone's clock when it sent the batch, so the server
    -- learns the device's clock offset and sees it jump
    IF COALESCE(p_options -> 'sent_at', 'null') OPERATOR(pg_catalog.<>) 'null' THEN
        BEGIN
            v_sent_at := CASE pg_catalog.jsonb_typeof(p_options -> 'sent_at')
                         WHEN 'number' THEN pg_catalog.to_timestamp(0) OPERATOR(pg_catalog.+)
                                            ((p_options -> 'sent_at')::numeric::bigint OPERATOR(pg_catalog.*) interval '1 millisecond')
                         WHEN 'string' THEN CASE WHEN (p_options ->> 'sent_at') ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)$'
                                                 THEN (p_options ->> 'sent_at')::timestamptz END
                         END;
        EXCEPTION WHEN OTHERS THEN
            v_sent_at := NULL;
        END;
        IF v_sent_at IS NULL OR pg_catalog.abs(pg_catalog.extract('epoch', pg_catalog.now() OPERATOR(pg_catalog.-) v_sent_at)) OPERATOR(pg_catalog.>) 31622400 THEN
            RAISE EXCEPTION 'p_options.sent_at must be the phone''s clock when it sent the batch, as an ISO 8601 timestamp with an offset or epoch milliseconds within a year of the server''s clock, got %',
                pg_catalog.left((p_options -> 'sent_at')::text, 60) USING ERRCODE = '22023';
        END IF;
        v_skew_ms := pg_catalog.floor(pg_catalog.extract('epoch', pg_catalog.now() OPERATOR(pg_catalog.-) v_sent_at) OPERATOR(pg_catalog.*) 1000)::bigint;
    END IF;
    v_skip := (p_options ->> 'on_error') IS NOT DISTINCT FROM 'skip';

    -- the batch
    IF p_fixes IS NULL THEN
        RAISE EXCEPTION 'p_fixes must not be null' USING ERRCODE = '22004';
    END IF;
    IF pg_catalog.jsonb_typeof(p_fixes) OPERATOR(pg_catalog.<>) 'array' THEN
        RAISE EXCEPTION 'p_fixes must be a JSON array of fix objects, got %', pg_catalog.jsonb_typeof(p_fixes)
            USING ERRCODE = '22023';
    END IF;
    v_count := pg_catalog.jsonb_array_length(p_fixes);
    IF v_count OPERATOR(pg_catalog.>) 10000 THEN
        RAISE EXCEPTION 'p_fixes must have at most 10000 elements, got %', v_count
            USING ERRCODE = '22023', HINT = 'Send larger backlogs in several calls.';
    END IF;
    IF v_count OPERATOR(pg_catalog.=) 0 THEN
        RETURN;
    END IF;

    v_tz := fieldops.tenant_time_zone(p_tenant_id);
    v_schedule := fieldops.tenant_setting(p_tenant_id, 'work_schedule');
    v_retention := (fieldops.tenant_setting(p_tenant_id, 'fix_retention_days') #>> '{}')::integer;
    v_store_off := (fieldops.tenant_setting(p_tenant_id, 'store_off_duty_fixes') #>> '{}')::boolean;
    v_expired_before := pg_catalog.now() OPERATOR(pg_catalog.-) pg_catalog.make_interval(days => v_retention);
    v_future_after := pg_catalog.now() OPERATOR(pg_catalog.+) interval '10 minutes';

    -- Lock the batch's devices, in device_id order, before reading their
    -- bindings: a concurrent register_device() (which holds the device row)
    -- finishes first and its binding is seen, two batches of the same
    -- device are serialised (the second sees the first's fixes as
    -- duplicates), and last_seen_at is updated without deadlocks.  (The
    -- foreign-key checks of the INSERT then take KEY SHARE locks on the
    -- workers, which conflict with no lock the API takes on a worker, so
    -- taking the device first cannot deadlock with departures.)
    PERFORM 1 FROM fieldops.device d
      WHERE d.tenant_id OPERATOR(pg_catalog.=) p_tenant_id
        AND d.device_uid IN (SELECT e ->> 'device_uid' FROM pg_catalog.jsonb_array_elements(p_fixes) AS e
                              WHERE pg_catalog.jsonb_typeof(e) OPERATOR(pg_catalog.=) 'object'
                                AND pg_catalog.jsonb_typeof(e -> 'device_uid') OPERATOR(pg_catalog.=) 'string')
      ORDER BY d.device_id
        FOR NO KEY UPDATE;

    -- Parse, validate and classify every element in one statement.  Casts
    -- are applied only to values whose shape was checked, so bad input
    -- yields a message here instead of an exception; err is the first
    -- problem of the element, NULL when it has none.  (The CTEs are
    -- materialised: inlined, each step would repeat the expressions of the
    -- steps before it, the regular expression dozens of times per element.)
    WITH raw AS (
        SELECT (o.ord OPERATOR(pg_catalog.-) 1)::integer AS n, pg_catalog.jsonb_typeof(o.elem) AS te,
               CASE WHEN pg_catalog.jsonb_typeof(o.elem) OPERATOR(pg_catalog.=) 'object' THEN o.elem ELSE '{}'::jsonb END AS j
          FROM pg_catalog.jsonb_array_elements(p_fixes) WITH ORDINALITY AS o(elem, ord)
    ), typed AS MATERIALIZED (
        SELECT r.n, r.te, r.j,
               r.j OPERATOR(pg_catalog.-) c_keys AS unknown,
               COALESCE(pg_catalog.jsonb_typeof(r.j -> 'device_uid'), 'null') AS t_uid,
               COALESCE(pg_catalog.jsonb_typeof(r.j -> 'recorded_at'), 'null') AS t_at,
               COALESCE(pg_catalog.jsonb_typeof(r.j -> 'lat'), 'null') AS t_lat,
               COALESCE(pg_catalog.jsonb_typeof(r.j -> 'lon'), 'null') AS t_lon,
               COALESCE(pg_catalog.jsonb_typeof(r.j -> 'accuracy_m'), 'null') AS t_acc,
               COALESCE(pg_catalog.jsonb_typeof(r.j -> 'altitude_m'), 'null') AS t_alt,
               COALESCE(pg_catalog.jsonb_typeof(r.j -> 'speed_mps'), 'null') AS t_spd,
               COALESCE(pg_catalog.jsonb_typeof(r.j -> 'bearing_deg'), 'null') AS t_brg,
               COALESCE(pg_catalog.jsonb_typeof(r.j -> 'provider'), 'null') AS t_prov,
               COALESCE(pg_catalog.jsonb_typeof(r.j -> 'mock'), 'null') AS t_mock,
               COALESCE(pg_catalog.jsonb_typeof(r.j -> 'customer_id'), 'null') AS t_cust
          FROM raw r
    ), num AS MATERIALIZED (
        SELECT t.*,
               CASE WHEN t.t_uid OPERATOR(pg_catalog.=) 'string' THEN t.j ->> 'device_uid' END AS uid,
               -- ISO 8601 with an offset: 1 year, 2 month, 3 day, 4 hour, 5 minute, 6 second, 7 offset
               CASE WHEN t.t_at OPERATOR(pg_catalog.=) 'string' THEN pg_catalog.regexp_match(t.j ->> 'recorded_at',
                   '^([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.[0-9]{1,9})?)?([Zz]|[+-][0-9]{2}(?::?[0-9]{2})?)$') END AS at_m,
               CASE WHEN t.t_at OPERATOR(pg_catalog.=) 'number' THEN (t.j -> 'recorded_at')::numeric END AS at_ms,
               CASE WHEN t.t_lat OPERATOR(pg_catalog.=) 'number' THEN (t.j -> 'lat')::numeric END AS lat,
               CASE WHEN t.t_lon OPERATOR(pg_catalog.=) 'number' THEN (t.j -> 'lon')::numeric END AS lon,
               CASE WHEN t.t_acc OPERATOR(pg_catalog.=) 'number' THEN (t.j -> 'accuracy_m')::numeric END AS acc,
               CASE WHEN t.t_alt OPERATOR(pg_catalog.=) 'number' THEN (t.j -> 'altitude_m')::numeric END AS alt,
               CASE WHEN t.t_spd OPERATOR(pg_catalog.=) 'number' THEN (t.j -> 'speed_mps')::numeric END AS spd,
               CASE WHEN t.t_brg OPERATOR(pg_catalog.=) 'number' THEN (t.j -> 'bearing_deg')::numeric END AS brg,
               CASE WHEN t.t_prov OPERATOR(pg_catalog.=) 'string' THEN t.j ->> 'provider' END AS prov,
               CASE WHEN t.t_mock OPERATOR(pg_catalog.=) 'boolean' THEN (t.j -> 'mock')::boolean END AS mock,
               CASE WHEN t.t_cust OPERATOR(pg_catalog.=) 'number' THEN (t.j -> 'customer_id')::numeric END AS cust
          FROM typed t
    ), parsed AS MATERIALIZED (
        SELECT m.*,
               CASE
               WHEN m.at_m IS NOT NULL THEN
                   CASE WHEN m.at_m[1]::integer BETWEEN 1970 AND 9999
                         AND m.at_m[2]::integer BETWEEN 1 AND 12
                         AND m.at_m[3]::integer BETWEEN 1 AND
                             CASE WHEN m.at_m[2]::integer OPERATOR(pg_catalog.=) 2 THEN
                                      CASE WHEN (m.at_m[1]::integer OPERATOR(pg_catalog.%) 4 OPERATOR(pg_catalog.=) 0
                                                 AND m.at_m[1]::integer OPERATOR(pg_catalog.%) 100 OPERATOR(pg_catalog.<>) 0)
                                                OR m.at_m[1]::integer OPERATOR(pg_catalog.%) 400 OPERATOR(pg_catalog.=) 0
                                           THEN 29 ELSE 28 END
                                  WHEN m.at_m[2]::integer IN (4, 6, 9, 11) THEN 30
                                  ELSE 31 END
                         AND m.at_m[4]::integer OPERATOR(pg_catalog.<=) 23
                         AND m.at_m[5]::integer OPERATOR(pg_catalog.<=) 59
                         AND COALESCE(m.at_m[6]::integer, 0) OPERATOR(pg_catalog.<=) 59
                         AND (m.at_m[7] IN ('Z', 'z')
                              OR (pg_catalog.substr(m.at_m[7], 2, 2)::integer OPERATOR(pg_catalog.<=) 14
                                  AND (pg_catalog.length(m.at_m[7]) OPERATOR(pg_catalog.=) 3
                                       OR pg_catalog.right(m.at_m[7], 2)::integer OPERATOR(pg_catalog.<=) 59)))
                        THEN (m.j ->> 'recorded_at')::timestamptz END
               WHEN m.at_ms IS NOT NULL THEN
                   CASE WHEN m.at_ms OPERATOR(pg_catalog.=) pg_catalog.trunc(m.at_ms) AND m.at_ms BETWEEN 0 AND 253402300799999
                        THEN pg_catalog.to_timestamp(0) OPERATOR(pg_catalog.+) (m.at_ms::bigint OPERATOR(pg_catalog.*) interval '1 millisecond') END
               END AS at
          FROM num m
    ), bound AS MATERIALIZED (
        SELECT p.*, d.device_id AS dev, d.status AS dev_status, b.worker_id AS worker,
               w.hired_on, w.left_on, w.work_schedule, cu.customer_id AS cust_found
          FROM parsed p
          LEFT JOIN fieldops.customer cu
                 ON cu.tenant_id OPERATOR(pg_catalog.=) p_tenant_id
                AND cu.customer_id OPERATOR(pg_catalog.=) (CASE WHEN p.cust OPERATOR(pg_catalog.=) pg_catalog.trunc(p.cust)
                                                                 AND p.cust BETWEEN 1 AND 9223372036854775807 THEN p.cust::bigint END)
          LEFT JOIN fieldops.device d
                 ON d.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND d.device_uid OPERATOR(pg_catalog.=) p.uid
          LEFT JOIN LATERAL (
                SELECT x.worker_id FROM fieldops.device_binding x
                 WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.device_id OPERATOR(pg_catalog.=) d.device_id
                   AND x.bound_at OPERATOR(pg_catalog.<=) p.at
                   AND (x.unbound_at IS NULL OR x.unbound_at OPERATOR(pg_catalog.>) p.at)
                 ORDER BY x.bound_at DESC LIMIT 1) b ON p.at IS NOT NULL
          LEFT JOIN fieldops.worker w
                 ON w.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND w.worker_id OPERATOR(pg_catalog.=) b.worker_id
    ), observed AS MATERIALIZED (
        -- (only elements that report any of these: most position reports do not)
        SELECT b.*, CASE WHEN b.j ?| ARRAY['satellites', 'cn0_mean_dbhz', 'cn0_sd_dbhz', 'wifi', 'cells', 'client_ip', 'integrity']
                         THEN fieldops.fix_observations(b.j, b.n) END AS obs
          FROM bound b
    ), checked AS MATERIALIZED (
        SELECT v.n, v.dev, v.worker, v.at, v.lon, v.lat, v.acc, v.alt, v.spd, v.brg, v.prov, v.mock, v.obs, v.cust_found,
               v.hired_on, v.left_on, v.work_schedule,
               CASE
               WHEN v.te OPERATOR(pg_catalog.<>) 'object' THEN
                   pg_catalog.format('p_fixes[%s] must be a JSON object, got %s', v.n, v.te)
               WHEN v.unknown OPERATOR(pg_catalog.<>) '{}'::jsonb THEN
                   pg_catalog.format('p_fixes[%s] has an unknown key "%s" (known keys: %s)', v.n,
                                     pg_catalog.left((SELECT pg_catalog.min(k) FROM pg_catalog.jsonb_object_keys(v.unknown) AS k), 40),
                                     pg_catalog.array_to_string(c_keys, ', '))
               WHEN v.t_uid OPERATOR(pg_catalog.=) 'null' THEN
                   pg_catalog.format('p_fixes[%s].device_uid is required', v.n)
               WHEN v.t_uid OPERATOR(pg_catalog.<>) 'string' THEN
                   pg_catalog.format('p_fixes[%s].device_uid must be a string, got %s', v.n, pg_catalog.left((v.j -> 'device_uid')::text, 60))
               WHEN v.t_at OPERATOR(pg_catalog.=) 'null' THEN
                   pg_catalog.format('p_fixes[%s].recorded_at is required', v.n)
               WHEN v.at IS NULL THEN
                   pg_catalog.format('p_fixes[%s].recorded_at must be an ISO 8601 timestamp with an offset or Z (such as "2026-11-09T10:30:00+08:00") or epoch milliseconds, got %s',
                                     v.n, pg_catalog.left((v.j -> 'recorded_at')::text, 60))
               WHEN v.at OPERATOR(pg_catalog.>) v_future_after THEN
                   pg_catalog.format('p_fixes[%s].recorded_at is in the future (more than 10 minutes after the server''s clock), got %s',
                                     v.n, pg_catalog.left((v.j -> 'recorded_at')::text, 60))
               WHEN v.t_lat OPERATOR(pg_catalog.=) 'null' THEN
                   pg_catalog.format('p_fixes[%s].lat is required', v.n)
               WHEN v.lat IS NULL OR v.lat NOT BETWEEN -90 AND 90 THEN
                   pg_catalog.format('p_fixes[%s].lat must be a number between -90 and 90, got %s', v.n, pg_catalog.left((v.j -> 'lat')::text, 60))
               WHEN v.t_lon OPERATOR(pg_catalog.=) 'null' THEN
                   pg_catalog.format('p_fixes[%s].lon is required', v.n)
               WHEN v.lon IS NULL OR v.lon NOT BETWEEN -180 AND 180 THEN
                   pg_catalog.format('p_fixes[%s].lon must be a number between -180 and 180, got %s', v.n, pg_catalog.left((v.j -> 'lon')::text, 60))
               WHEN v.t_acc OPERATOR(pg_catalog.<>) 'null' AND (v.acc IS NULL OR v.acc NOT BETWEEN 0 AND 100000) THEN
                   pg_catalog.format('p_fixes[%s].accuracy_m must be a number between 0 and 100000 (metres) or null, got %s', v.n, pg_catalog.left((v.j -> 'accuracy_m')::text, 60))
               WHEN v.t_alt OPERATOR(pg_catalog.<>) 'null' AND (v.alt IS NULL OR v.alt NOT BETWEEN -1000 AND 100000) THEN
                   pg_catalog.format('p_fixes[%s].altitude_m must be a number between -1000 and 100000 (metres) or null, got %s', v.n, pg_catalog.left((v.j -> 'altitude_m')::text, 60))
               WHEN v.t_spd OPERATOR(pg_catalog.<>) 'null' AND (v.spd IS NULL OR v.spd NOT BETWEEN 0 AND 500) THEN
                   pg_catalog.format('p_fixes[%s].speed_mps must be a number between 0 and 500 (metres per second) or null, got %s', v.n, pg_catalog.left((v.j -> 'speed_mps')::text, 60))
               WHEN v.t_brg OPERATOR(pg_catalog.<>) 'null' AND (v.brg IS NULL OR v.brg OPERATOR(pg_catalog.<) 0 OR v.brg OPERATOR(pg_catalog.>=) 360) THEN
                   pg_catalog.format('p_fixes[%s].bearing_deg must be a number from 0 up to (not including) 360 or null, got %s', v.n, pg_catalog.left((v.j -> 'bearing_deg')::text, 60))
               WHEN v.t_prov OPERATOR(pg_catalog.=) 'null' THEN
                   pg_catalog.format('p_fixes[%s].provider is required', v.n)
               WHEN v.prov IS NULL OR v.prov NOT IN ('gps', 'network', 'fused', 'wifi', 'cell', 'passive') THEN
                   pg_catalog.format('p_fixes[%s].provider must be one of gps, network, fused, wifi, cell, passive, got %s', v.n, pg_catalog.left((v.j -> 'provider')::text, 60))
               WHEN v.t_mock NOT IN ('null', 'boolean') THEN
                   pg_catalog.format('p_fixes[%s].mock must be true, false or null, got %s', v.n, pg_catalog.left((v.j -> 'mock')::text, 60))
               WHEN (v.obs).problem IS NOT NULL THEN
                   (v.obs).problem
               WHEN v.t_cust OPERATOR(pg_catalog.<>) 'null' AND (v.cust IS NULL OR v.cust OPERATOR(pg_catalog.<>) pg_catalog.trunc(v.cust) OR v.cust OPERATOR(pg_catalog.<) 1) THEN
                   pg_catalog.format('p_fixes[%s].customer_id must be a positive integer (the customer a check-in fix is for) or null, got %s', v.n, pg_catalog.left((v.j -> 'customer_id')::text, 60))
               WHEN v.t_cust OPERATOR(pg_catalog.<>) 'null' AND v.cust_found IS NULL THEN
                   pg_catalog.format('p_fixes[%s].customer_id %s is not a customer of tenant %s', v.n, pg_catalog.left((v.j -> 'customer_id')::text, 30), p_tenant_id)
               WHEN v.dev IS NULL THEN
                   pg_catalog.format('p_fixes[%s].device_uid "%s" is not a device of tenant %s', v.n, pg_catalog.left(v.uid, 60), p_tenant_id)
               WHEN v.dev_status OPERATOR(pg_catalog.<>) 'active' THEN
                   pg_catalog.format('p_fixes[%s].device_uid "%s" is a retired device', v.n, pg_catalog.left(v.uid, 60))
               -- (an expired fix is not stored anyway: whom it belonged to does not matter)
               WHEN v.worker IS NULL AND v.at OPERATOR(pg_catalog.>=) v_expired_before THEN
                   pg_catalog.format('p_fixes[%s]: device "%s" was not bound to a worker at recorded_at %s', v.n, pg_catalog.left(v.uid, 60),
                                     pg_catalog.left((v.j -> 'recorded_at')::text, 60))
               END AS err,
               (v.at AT TIME ZONE v_tz) AS local_at
          FROM observed v
    ), classified AS MATERIALIZED (
        SELECT c.*,
               -- the first valid element with the same device and instant is the one that counts
               pg_catalog.min(c.n) FILTER (WHERE c.err IS NULL) OVER (PARTITION BY c.dev, c.at) AS first_n,
               CASE WHEN c.err IS NOT NULL THEN NULL
                    WHEN c.hired_on IS NOT NULL AND c.local_at::date OPERATOR(pg_catalog.<) c.hired_on THEN
                        pg_catalog.format('before worker %s was hired (%s)', c.worker, pg_catalog.to_char(c.hired_on, 'YYYY-MM-DD'))
                    WHEN c.left_on IS NOT NULL AND c.local_at::date OPERATOR(pg_catalog.>=) c.left_on THEN
                        pg_catalog.format('on or after the day worker %s left (%s)', c.worker, pg_catalog.to_char(c.left_on, 'YYYY-MM-DD'))
                    WHEN NOT COALESCE(fieldops.work_schedule_contains(COALESCE(c.work_schedule, v_schedule), c.local_at), true) THEN
                        pg_catalog.format('outside the working hours of worker %s (%s in %s)', c.worker,
                                          pg_catalog.to_char(c.local_at, 'Dy YYYY-MM-DD HH24:MI'), v_tz)
               END AS off_duty
          FROM checked c
    )
    SELECT pg_catalog.array_agg(x.err ORDER BY x.n),
           pg_catalog.array_agg(x.st ORDER BY x.n),
           pg_catalog.array_agg(x.why ORDER BY x.n),
           pg_catalog.array_agg(x.first_n ORDER BY x.n),
           pg_catalog.array_agg(x.st IN ('stored', 'off_duty_stored') ORDER BY x.n),
           pg_catalog.array_agg(x.dev ORDER BY x.n),
           pg_catalog.array_agg(x.worker ORDER BY x.n),
           pg_catalog.array_agg(x.at ORDER BY x.n),
           -- (converted only when valid: 1e400 is a JSON number, not a
           -- float8; rounded first: 1e-400 would underflow the cast)
           pg_catalog.array_agg(CASE WHEN x.err IS NULL THEN pg_catalog.round(x.lon, 12)::float8 END ORDER BY x.n),
           pg_catalog.array_agg(CASE WHEN x.err IS NULL THEN pg_catalog.round(x.lat, 12)::float8 END ORDER BY x.n),
           pg_catalog.array_agg(CASE WHEN x.err IS NULL THEN pg_catalog.round(x.acc, 6)::real END ORDER BY x.n),
           pg_catalog.array_agg(CASE WHEN x.err IS NULL THEN pg_catalog.round(x.alt, 6)::real END ORDER BY x.n),
           pg_catalog.array_agg(CASE WHEN x.err IS NULL THEN pg_catalog.round(x.spd, 6)::real END ORDER BY x.n),
           pg_catalog.array_agg(CASE WHEN x.err IS NULL THEN pg_catalog.round(x.brg, 6)::real END ORDER BY x.n),
           pg_catalog.array_agg(x.prov ORDER BY x.n),
           pg_catalog.array_agg(x.mock ORDER BY x.n),
           pg_catalog.array_agg(x.obs ORDER BY x.n),
           pg_catalog.array_agg(x.cust_found ORDER BY x.n)
      INTO a_err, a_status, a_reason, a_first, a_store, a_dev, a_worker, a_at, a_lon, a_lat,
           a_acc, a_alt, a_spd, a_brg, a_prov, a_mock, a_obs, a_cust
      FROM (SELECT c.n, c.err, c.first_n, c.dev, c.worker, c.at, c.lon, c.lat, c.acc, c.alt, c.spd, c.brg, c.prov, c.mock, c.obs, c.cust_found,
                   CASE WHEN c.err IS NOT NULL THEN 'rejected'
                        WHEN c.first_n OPERATOR(pg_catalog.<>) c.n THEN 'duplicate'
                        WHEN c.at OPERATOR(pg_catalog.<) v_expired_before THEN 'expired'
                        WHEN c.off_duty IS NOT NULL AND v_store_off THEN 'off_duty_stored'
                        WHEN c.off_duty IS NOT NULL THEN 'off_duty'
                        ELSE 'stored' END AS st,
                   CASE WHEN c.err IS NOT NULL THEN c.err
                        WHEN c.first_n OPERATOR(pg_catalog.<>) c.n THEN
                            pg_catalog.format('same device and recorded_at as p_fixes[%s]', c.first_n)
                        WHEN c.at OPERATOR(pg_catalog.<) v_expired_before THEN
                            pg_catalog.format('older than the tenant''s fix_retention_days (%s days)', v_retention)
                        WHEN c.off_duty IS NOT NULL AND v_store_off THEN
                            c.off_duty OPERATOR(pg_catalog.||) '; stored (store_off_duty_fixes is on)'
                        WHEN c.off_duty IS NOT NULL THEN
                            c.off_duty OPERATOR(pg_catalog.||) '; not stored (store_off_duty_fixes is off)'
                   END AS why
              FROM classified c) x;

    -- Bad elements: by default the call fails on the first one (nothing is
    -- stored); with {"on_error": "skip"} they are reported as rejected.
    IF NOT v_skip THEN
        SELECT u.err, pg_catalog.count(*) OVER () INTO v_err, v_bad
          FROM pg_catalog.unnest(a_err) WITH ORDINALITY AS u(err, ord)
         WHERE u.err IS NOT NULL
         ORDER BY u.ord LIMIT 1;
        IF v_err IS NOT NULL THEN
            RAISE EXCEPTION '%', v_err
                USING ERRCODE = '22023',
                      DETAIL = pg_catalog.format('%s of the %s elements of p_fixes are invalid; nothing was stored.', v_bad, v_count),
                      HINT = 'Correct the element, or pass p_options => ''{"on_error": "skip"}'' to store the valid fixes and get the others back as rejected.';
        END IF;
    END IF;

    -- Score the new fixes before storing them (fieldops.score_batch: one
    -- pass per device over its fixes in fix time, so a late, out-of-order
    -- upload is scored as if it had come in order); element i's result is
    -- s_*[i], NULL for elements not stored or already stored.
    SELECT pg_catalog.array_agg(r.score ORDER BY g.i), pg_catalog.array_agg(r.band ORDER BY g.i),
           pg_catalog.array_agg(r.reasons ORDER BY g.i), pg_catalog.array_agg(r.model_version ORDER BY g.i),
           pg_catalog.array_agg(r.scan_digest ORDER BY g.i), pg_catalog.array_agg(r.point_digest ORDER BY g.i)
      INTO s_score, s_band, s_reasons, s_model, s_sdig, s_pdig
      FROM pg_catalog.generate_series(1, v_count) AS g(i)
      LEFT JOIN fieldops.score_batch(p_tenant_id, a_store, a_dev, a_worker, a_at, a_lon, a_lat, a_acc, a_alt, a_spd, a_brg,
                                     a_prov, a_mock, a_obs, a_cust, v_skew_ms) r ON r.ord OPERATOR(pg_catalog.=) g.i;

    -- Store (unnest with several arrays is the FROM-clause form, which
    -- cannot be schema-qualified).  A fix of the same device and instant that is already there
    -- (a retransmission, or a concurrent batch that committed first) is
    -- left alone and reported as a duplicate below.
    --
    -- When the fix_partitions job attaches a day's partition while this
    -- statement routes that day's rows into the default partition, the
    -- default partition's new constraint rejects them (23514 on
    -- fix_default).  Nothing was stored; the next statement sees the new
    -- partition, so the INSERT is simply run again.
    FOR v_try IN 1..3 LOOP
        BEGIN
            WITH ins AS (
                INSERT INTO fieldops.fix AS f (tenant_id, device_id, worker_id, recorded_at, geom, accuracy_m, altitude_m,
                                               speed_mps, bearing_deg, provider, is_mock, satellites, cn0_mean_dbhz,
                                               cn0_sd_dbhz, wifi, cells, client_ip, integrity, customer_id,
                                               score, band, reasons, model_version)
                SELECT p_tenant_id, u.dev, u.worker, u.at, ST_SetSRID(ST_MakePoint(u.lon, u.lat), 4326), u.acc, u.alt,
                       u.spd, u.brg, u.prov, u.mock, u.satellites, u.cn0_mean_dbhz, u.cn0_sd_dbhz, u.wifi, u.cells, u.client_ip,
                       u.integrity, u.cust, u.score, u.band, u.reasons, u.model_version
                  -- (zipped with ROWS FROM, which spreads the composite a_obs
                  -- over its columns; indexing a_obs[i] would copy the whole
                  -- array for every element)
                  FROM ROWS FROM (pg_catalog.unnest(a_store), pg_catalog.unnest(a_dev), pg_catalog.unnest(a_worker), pg_catalog.unnest(a_at),
                                  pg_catalog.unnest(a_lon), pg_catalog.unnest(a_lat), pg_catalog.unnest(a_acc), pg_catalog.unnest(a_alt),
                                  pg_catalog.unnest(a_spd), pg_catalog.unnest(a_brg), pg_catalog.unnest(a_prov), pg_catalog.unnest(a_mock),
                                  pg_catalog.unnest(a_obs), pg_catalog.unnest(a_cust), pg_catalog.unnest(s_score), pg_catalog.unnest(s_band),
                                  pg_catalog.unnest(s_reasons), pg_catalog.unnest(s_model))
                       WITH ORDINALITY AS u(store, dev, worker, at, lon, lat, acc, alt, spd, brg, prov, mock,
                                            problem, satellites, cn0_mean_dbhz, cn0_sd_dbhz, wifi, cells, client_ip, integrity,
                                            cust, score, band, reasons, model_version, ord)
                 WHERE u.store
                 ORDER BY u.ord
                ON CONFLICT DO NOTHING
                RETURNING f.device_id, f.recorded_at, f.fix_id)
            SELECT pg_catalog.array_agg(ins.device_id), pg_catalog.array_agg(ins.recorded_at), pg_catalog.array_agg(ins.fix_id)
              INTO i_dev, i_at, i_id
              FROM ins;
            EXIT;
        EXCEPTION WHEN check_violation THEN
            GET STACKED DIAGNOSTICS v_table = TABLE_NAME;
            IF v_table IS DISTINCT FROM 'fix_default' OR v_try OPERATOR(pg_catalog.=) 3 THEN
                RAISE;
            END IF;
        END;
    END LOOP;

    -- The fix of every element: the row just inserted, or (for a conflict)
    -- the row that was there first; a new statement, so it also sees a
    -- concurrent batch's row that committed while the INSERT waited for it.
    SELECT pg_catalog.array_agg(COALESCE(i.id, old.fix_id) ORDER BY u.ord),
           pg_catalog.array_agg(u.store AND i.id IS NULL ORDER BY u.ord)
      INTO a_fix, a_dup
      FROM unnest(a_store, a_dev, a_at) WITH ORDINALITY AS u(store, dev, at, ord)
      LEFT JOIN unnest(i_dev, i_at, i_id) AS i(dev, at, id)
             ON u.store AND i.dev OPERATOR(pg_catalog.=) u.dev AND i.at OPERATOR(pg_catalog.=) u.at
      LEFT JOIN LATERAL (SELECT x.fix_id FROM fieldops.fix x
                          WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.device_id OPERATOR(pg_catalog.=) u.dev
                            AND x.recorded_at OPERATOR(pg_catalog.=) u.at) old
             ON u.store AND i.id IS NULL;

    IF i_dev IS NOT NULL THEN
        -- the fingerprints of the new fixes (scan and GNSS position), and
        -- alerts for the red ones
        INSERT INTO fieldops.fix_fingerprint AS g (tenant_id, digest, device_id, recorded_at)
        SELECT p_tenant_id, d.digest, u.dev, u.at
          FROM unnest(a_dev, a_at, s_sdig, s_pdig, a_dup) AS u(dev, at, sdig, pdig, dup)
         CROSS JOIN LATERAL (VALUES (u.sdig), (u.pdig)) AS d(digest)
         WHERE d.digest IS NOT NULL AND NOT COALESCE(u.dup, true)
        ON CONFLICT DO NOTHING;
        PERFORM fieldops.raise_fix_alerts(p_tenant_id, i_dev, i_at);
    END IF;

    -- derived state, in the same transaction: when each device was last heard of
    -- and, with sent_at, its clock offset
    UPDATE fieldops.device d
       SET last_seen_at = GREATEST(d.last_seen_at, m.last_at),
           clock_skew_ms = COALESCE(v_skew_ms, d.clock_skew_ms)
      FROM (SELECT i.dev, pg_catalog.max(i.at) AS last_at
              FROM unnest(i_dev, i_at) AS i(dev, at) GROUP BY i.dev) m
     WHERE d.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND d.device_id OPERATOR(pg_catalog.=) m.dev
       AND (d.last_seen_at IS NULL OR d.last_seen_at OPERATOR(pg_catalog.<) m.last_at
            OR d.clock_skew_ms IS DISTINCT FROM COALESCE(v_skew_ms, d.clock_skew_ms));

    RETURN QUERY
        SELECT (u.ord OPERATOR(pg_catalog.-) 1)::integer,
               CASE WHEN u.st OPERATOR(pg_catalog.=) 'duplicate' THEN a_fix[u.first OPERATOR(pg_catalog.+) 1]
                    ELSE a_fix[u.ord] END,
               CASE WHEN a_dup[u.ord] THEN 'duplicate'
                    WHEN u.st OPERATOR(pg_catalog.=) 'off_duty_stored' THEN 'off_duty'
                    ELSE u.st END,
               CASE WHEN a_dup[u.ord] THEN 'already stored' ELSE u.why END,
               x.score::integer, x.band, x.reasons
          FROM unnest(a_status, a_reason, a_first) WITH ORDINALITY AS u(st, why, first, ord)
          -- the stored fix's score (for a duplicate: the fix stored first)
          LEFT JOIN fieldops.fix x
                 ON x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id
                AND x.device_id OPERATOR(pg_catalog.=) a_dev[CASE WHEN u.st OPERATOR(pg_catalog.=) 'duplicate' THEN u.first OPERATOR(pg_catalog.+) 1 ELSE u.ord END]
                AND x.recorded_at OPERATOR(pg_catalog.=) a_at[CASE WHEN u.st OPERATOR(pg_catalog.=) 'duplicate' THEN u.first OPERATOR(pg_catalog.+) 1 ELSE u.ord END]
                AND a_fix[CASE WHEN u.st OPERATOR(pg_catalog.=) 'duplicate' THEN u.first OPERATOR(pg_catalog.+) 1 ELSE u.ord END] IS NOT NULL
         ORDER BY u.ord;
END
$$;
COMMENT ON FUNCTION fieldops.ingest_fixes(bigint, jsonb, jsonb) IS
'Store a batch (JSON array, at most 10000) of location fixes as a mobile back end forwards them: {"device_uid", "recorded_at" (ISO 8601 with offset, or epoch ms), "lat", "lon", "provider" (gps|network|fused|wifi|cell|passive), optional "accuracy_m", "altitude_m", "speed_mps", "bearing_deg", "mock"}. One row per element: stored (fix_id), duplicate (fix_id of the fix already stored), off_duty (stored only if store_off_duty_fixes), expired (older than fix_retention_days), rejected (with p_options {"on_error": "skip"}; otherwise a bad element fails the call with 22023 naming p_fixes[i] and the field). Optional observations: satellites, cn0_mean_dbhz, cn0_sd_dbhz, wifi, cells, client_ip, integrity. Every stored fix is scored for spoofing (score, band, reasons; red ones raise an alert).';

GRANT EXECUTE ON FUNCTION fieldops.ingest_fixes(bigint, jsonb, jsonb) TO fieldops_app;
GRANT EXECUTE ON FUNCTION fieldops.fix_observations(jsonb, integer)
TO fieldops_api;
