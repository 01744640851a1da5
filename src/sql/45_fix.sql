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
    -- (and the newest fixes ingest keeps of their devices: read again next time)
    WITH gone AS (
        DELETE FROM fieldops.fix f
         WHERE f.tenant_id OPERATOR(pg_catalog.=) p_tenant_id
           AND f.recorded_at OPERATOR(pg_catalog.<) v_limit
           AND (f.device_id, f.recorded_at) IN (SELECT x.device_id, x.recorded_at FROM fieldops.fix x
                                                 WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id
                                                   AND x.recorded_at OPERATOR(pg_catalog.<) v_limit
                                                 LIMIT v_batch)
        RETURNING f.device_id
    ), forget AS (
        DELETE FROM fieldops.device_recent r
         WHERE r.tenant_id OPERATOR(pg_catalog.=) p_tenant_id
           AND r.device_id OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT DISTINCT g.device_id FROM gone g))
    )
    SELECT pg_catalog.count(*) INTO n FROM gone;
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

-- The newest fixes of each device (at most 16, as ingest_fixes() scores a
-- fix against them), kept by ingest_fixes() in the statement that stores
-- the fixes: a batch newer than all of them (the usual upload) is scored
-- and checked for duplicates without reading fieldops.fix, whose generic
-- plan locks every daily partition (PG 15).  Derived data, written by the
-- API like the rest (no triggers): job_fix_purge() forgets the devices whose
-- fixes it deletes, and their next batch reads their newest fixes again.
CREATE TABLE fieldops.device_recent (
    tenant_id  bigint NOT NULL,
    device_id  bigint NOT NULL,
    fixes      bytea NOT NULL,
    PRIMARY KEY (tenant_id, device_id),
    FOREIGN KEY (tenant_id, device_id) REFERENCES fieldops.device (tenant_id, device_id) ON DELETE CASCADE
) WITH (fillfactor = 50);  -- (rewritten by every batch: room for HOT updates)
COMMENT ON TABLE fieldops.device_recent IS
'Internal (ingest_fixes(), src/fix_ingest.c): the newest stored fixes of each device (up to 16: time, receive time, position, accuracy, altitude, speed, bearing, provider) in a binary layout of this build; a missing row means "read them from fieldops.fix".';
SELECT fieldops.secure_tenant_table('fieldops.device_recent');

-- (C, src/fix_ingest.c: the elements are read once into structs, the
-- tables are asked one prepared statement per kind of fact for the whole
-- batch, the scorer's context is filled directly and the fixes are stored
-- by one INSERT from arrays.  SECURITY DEFINER C functions get their
-- search_path pinned in 99_finish.sql like the SQL ones; JIT would compile
-- the large statements on every call.)
CREATE FUNCTION fieldops.ingest_fixes(p_tenant_id bigint, p_fixes jsonb, p_options jsonb DEFAULT '{}')
RETURNS TABLE (idx integer, fix_id bigint, status text, reason text, score integer, band text, reasons jsonb)
AS 'MODULE_PATHNAME', 'fieldops_ingest_fixes'
LANGUAGE C VOLATILE SECURITY DEFINER
SET jit = off;
COMMENT ON FUNCTION fieldops.ingest_fixes(bigint, jsonb, jsonb) IS
'Store a batch (JSON array, at most 10000) of location fixes as a mobile back end forwards them: {"device_uid", "recorded_at" (ISO 8601 with offset, or epoch ms), "lat", "lon", "provider" (gps|network|fused|wifi|cell|passive), optional "accuracy_m", "altitude_m", "speed_mps", "bearing_deg", "mock"}. One row per element: stored (fix_id), duplicate (fix_id of the fix already stored), off_duty (stored only if store_off_duty_fixes), expired (older than fix_retention_days), rejected (with p_options {"on_error": "skip"}; otherwise a bad element fails the call with 22023 naming p_fixes[i] and the field). Optional observations: satellites, cn0_mean_dbhz, cn0_sd_dbhz, wifi, cells, client_ip, integrity. Every stored fix is scored for spoofing (score, band, reasons; red ones raise an alert). p_options: on_error (fail|skip), sent_at (the phone''s clock at sending), store_off_duty (true: store off-duty fixes whatever the tenant setting, as check_in() does).';

GRANT EXECUTE ON FUNCTION fieldops.ingest_fixes(bigint, jsonb, jsonb) TO fieldops_app;
GRANT EXECUTE ON FUNCTION fieldops.fix_observations(jsonb, integer)
TO fieldops_api;
