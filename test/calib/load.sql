--
-- test/calib/load.sql -- load one staged world (test/calib/stage.py) into a
-- fresh database with the fieldops extension, through the public API, and
-- score every fix as ingest_fixes() does.
--
--   psql -v stage=DIR/stage -v tenant_name=NAME -v clock_file=FILE -f test/calib/load.sql DB
--
-- Run as a superuser, in a throwaway database on a private server that
-- run.sh started under libfaketime with FAKETIME_TIMESTAMP_FILE=FILE (or
-- clock_file='' for no simulated clock).  The simulated history lies in
-- the past, but ingest_fixes() takes the server's clock as the time a batch
-- arrives (received_at, the age of a fix, the phone's clock offset from
-- sent_at, the radio map's lag): so before each call this script moves the
-- server's clock to the time the simulated server received that upload,
-- by writing the offset into FILE (which libfaketime reads on every clock
-- call) and committing (a transaction's now() is its start time).  Without
-- it every fix would look days old.
--
-- Two more shortcuts a real back end could not take:
--   1. bindings are written straight into fieldops.device_binding (as
--      test/generators/sample_fixes.sql does), each when the simulated
--      clock passes its start and its end: register_device() binds at the
--      real now();
--   2. uploads are grouped into one ingest_fixes() call per group (see
--      stage.py: at most 3 minutes of server time, each device once;
--      an upload with a check-in is a call of its own, with its sent_at).
-- The radio map is refreshed when the upload stream passes a local
-- midnight and device flags are set, each only when the installed
-- extension has the function (fieldops.refresh_radio_map,
-- fieldops.set_device_flags); the check-in fixes carry "customer_id" and
-- check-in uploads "sent_at" only when ingest_fixes() accepts them.
--
\set ON_ERROR_STOP 1
SET client_min_messages = warning;

DROP SCHEMA IF EXISTS calib CASCADE;
CREATE SCHEMA calib;

CREATE TABLE calib.setup (doc jsonb NOT NULL);
CREATE TABLE calib.upload (seq integer PRIMARY KEY, grp integer NOT NULL, at timestamptz NOT NULL,
                           local_day date NOT NULL, device_uid text NOT NULL, n integer NOT NULL, sent_at bigint,
                           fixes jsonb NOT NULL);
CREATE TABLE calib.checkin (device_uid text, recorded_at_ms bigint, worker_ref text, site_ref text, label text,
                            is_attack integer, day integer, split text, variant text, platform text,
                            received_ms bigint, fold integer);
CREATE TABLE calib.ingest_log (grp integer PRIMARY KEY, local_day date, at timestamptz, now timestamptz,
                               fixes integer, stored integer, duplicate integer, off_duty integer, expired integer,
                               rejected integer, first_reject text, ms double precision);
CREATE TABLE calib.info (key text PRIMARY KEY, value text);

\set f :stage '/setup.csv'
COPY calib.setup FROM :'f' WITH (FORMAT csv);
\set f :stage '/uploads.csv'
COPY calib.upload FROM :'f' WITH (FORMAT csv);
\set f :stage '/checkins.csv'
COPY calib.checkin FROM :'f' WITH (FORMAT csv, HEADER);
CREATE INDEX ON calib.upload (grp);
ANALYZE calib.upload;

-- The bindings of the generated history: each row is written into
-- fieldops.device_binding when the simulated clock reaches its bound_at
-- (open), and its end when the clock reaches its unbound_at, as
-- register_device() would have done at the time; so the scorer never sees
-- a binding of the future (a buddy's rebind later that day).
CREATE TABLE calib.binding (device_id bigint NOT NULL, worker_id bigint NOT NULL, bound_at timestamptz NOT NULL,
                            unbound_at timestamptz, reason text, binding_id bigint, closed boolean NOT NULL DEFAULT false);
CREATE FUNCTION calib.apply_bindings(p_tenant bigint, p_until timestamptz) RETURNS timestamptz
LANGUAGE plpgsql AS $$
DECLARE
    e record;
    v_id bigint;
BEGIN
    FOR e IN
        SELECT * FROM (
            SELECT 0 AS kind, b.ctid AS rid, b.unbound_at AS at, b.* FROM calib.binding b
             WHERE b.binding_id IS NOT NULL AND NOT b.closed AND b.unbound_at <= p_until
            UNION ALL
            SELECT 1, b.ctid, b.bound_at, b.* FROM calib.binding b
             WHERE b.binding_id IS NULL AND b.bound_at <= p_until) x
         ORDER BY x.at, x.kind
    LOOP
        IF e.kind = 0 THEN
            UPDATE fieldops.device_binding SET unbound_at = e.unbound_at, unbound_reason = e.reason
             WHERE tenant_id = p_tenant AND binding_id = e.binding_id;
            UPDATE calib.binding SET closed = true WHERE ctid = e.rid;
        ELSE
            INSERT INTO fieldops.device_binding (tenant_id, device_id, worker_id, bound_at, unbound_at, unbound_reason)
            VALUES (p_tenant, e.device_id, e.worker_id, e.bound_at,
                    CASE WHEN e.unbound_at <= p_until THEN e.unbound_at END,
                    CASE WHEN e.unbound_at <= p_until THEN e.reason END)
            RETURNING binding_id INTO v_id;
            UPDATE calib.binding SET binding_id = v_id, closed = COALESCE(e.unbound_at <= p_until, false) WHERE ctid = e.rid;
        END IF;
        UPDATE fieldops.device d SET worker_id = o.worker_id, bound_at = o.bound_at
          FROM (SELECT e.device_id AS device_id, (SELECT x.worker_id FROM fieldops.device_binding x
                                                   WHERE x.tenant_id = p_tenant AND x.device_id = e.device_id AND x.unbound_at IS NULL) AS worker_id,
                       (SELECT x.bound_at FROM fieldops.device_binding x
                         WHERE x.tenant_id = p_tenant AND x.device_id = e.device_id AND x.unbound_at IS NULL) AS bound_at) o
         WHERE d.tenant_id = p_tenant AND d.device_id = o.device_id;
    END LOOP;
    -- the next change still to come
    RETURN (SELECT min(at) FROM (SELECT min(bound_at) AS at FROM calib.binding WHERE binding_id IS NULL
                                 UNION ALL
                                 SELECT min(unbound_at) FROM calib.binding WHERE binding_id IS NOT NULL AND NOT closed) x);
END
$$;

-- The tenant, its workers, customers and devices through the API; the
-- binding history staged in calib.binding (shortcut 1).  Returns the tenant id.
CREATE FUNCTION calib.setup_tenant(p_name text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    s jsonb := (SELECT doc FROM calib.setup);
    t bigint;
    e jsonb;
    d jsonb;
    v_dev bigint;
    v_first jsonb;
    v_all_day constant jsonb := '{"mon": ["00:00-24:00"], "tue": ["00:00-24:00"], "wed": ["00:00-24:00"],
        "thu": ["00:00-24:00"], "fri": ["00:00-24:00"], "sat": ["00:00-24:00"], "sun": ["00:00-24:00"]}';
BEGIN
    -- every generated hour is working time, and off-duty fixes would be kept anyway
    t := fieldops.create_tenant(p_name, 'Asia/Shanghai',
                                jsonb_build_object('work_schedule', v_all_day, 'store_off_duty_fixes', true));
    PERFORM fieldops.set_tenant(t, false);
    FOR e IN SELECT x FROM jsonb_array_elements(s -> 'workers') x LOOP
        PERFORM fieldops.upsert_worker(t, e ->> 'external_ref', e ->> 'name');
    END LOOP;
    FOR e IN SELECT x FROM jsonb_array_elements(s -> 'sites') x LOOP
        PERFORM fieldops.upsert_customer(t, e ->> 'external_ref', e ->> 'name',
                                         ST_SetSRID(ST_MakePoint((e ->> 'lon')::float8, (e ->> 'lat')::float8), 4326));
    END LOOP;
    FOR d IN SELECT x FROM jsonb_array_elements(s -> 'devices') x LOOP
        SELECT b INTO v_first FROM jsonb_array_elements(s -> 'bindings') b
         WHERE b ->> 'device_uid' = d ->> 'device_uid' ORDER BY (b ->> 'bound_at')::timestamptz LIMIT 1;
        SELECT r.device_id INTO v_dev FROM fieldops.register_device(t, d ->> 'device_uid',
            (SELECT worker_id FROM fieldops.worker WHERE tenant_id = t AND external_ref = v_first ->> 'worker_ref'),
            d ->> 'platform', d ->> 'model') r;
        -- shortcut 1: the device's binding history, written as the
        -- simulated clock passes each change (calib.apply_bindings)
        DELETE FROM fieldops.device_binding WHERE tenant_id = t AND device_id = v_dev;
        INSERT INTO calib.binding (device_id, worker_id, bound_at, unbound_at, reason)
        SELECT v_dev, w.worker_id, (b ->> 'bound_at')::timestamptz, (b ->> 'unbound_at')::timestamptz, b ->> 'unbound_reason'
          FROM jsonb_array_elements(s -> 'bindings') b
          JOIN fieldops.worker w ON w.tenant_id = t AND w.external_ref = b ->> 'worker_ref'
         WHERE b ->> 'device_uid' = d ->> 'device_uid';
        UPDATE fieldops.device SET worker_id = NULL, bound_at = NULL, registered_at = (v_first ->> 'bound_at')::timestamptz
         WHERE tenant_id = t AND device_id = v_dev;
        IF (d ->> 'shared_pool')::boolean OR (d ->> 'external_gnss')::boolean THEN
            IF to_regprocedure('fieldops.set_device_flags(bigint,bigint,boolean,boolean)') IS NOT NULL THEN
                EXECUTE 'SELECT fieldops.set_device_flags($1, $2, $3, $4)'
                    USING t, v_dev, (d ->> 'shared_pool')::boolean, (d ->> 'external_gnss')::boolean;
                INSERT INTO calib.info VALUES ('device_flags', 'set') ON CONFLICT (key) DO NOTHING;
            ELSE
                INSERT INTO calib.info VALUES ('device_flags', 'unsupported (no fieldops.set_device_flags)') ON CONFLICT (key) DO NOTHING;
            END IF;
        END IF;
    END LOOP;
    -- the daily partitions of the generated days (the fix_partitions job
    -- would have made them at the time)
    PERFORM fieldops.ensure_fix_partitions((SELECT min(x::date) FROM jsonb_array_elements_text(s -> 'dates') x) - 1,
                                           current_date + 1);
    RETURN t;
END
$$;

SELECT calib.setup_tenant(:'tenant_name') AS tenant \gset
SELECT fieldops.set_tenant(:tenant, false);
SELECT calib.apply_bindings(:tenant, (SELECT min(at) FROM calib.upload)) IS NOT NULL AS more_bindings \gset

-- Does ingest_fixes() accept "customer_id" on an element?  One trial
-- element in a subtransaction that is always rolled back.
CREATE FUNCTION calib.customer_key_supported(p_tenant bigint) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    v_ok boolean;
    r record;
BEGIN
    BEGIN
        SELECT * INTO r FROM fieldops.ingest_fixes(p_tenant, jsonb_build_array(jsonb_build_object(
            'device_uid', (SELECT device_uid FROM fieldops.device WHERE tenant_id = p_tenant ORDER BY device_id LIMIT 1),
            'recorded_at', (extract(epoch FROM now() - interval '1 hour') * 1000)::bigint,
            'lat', 31.23, 'lon', 121.47, 'provider', 'gps',
            'customer_id', (SELECT min(customer_id) FROM fieldops.customer WHERE tenant_id = p_tenant))),
            '{"on_error": "skip"}');
        v_ok := NOT (r.status = 'rejected' AND r.reason LIKE '%customer_id%');
        RAISE EXCEPTION 'calib: trial rolled back';
    EXCEPTION WHEN raise_exception THEN
        NULL;
    END;
    RETURN v_ok;
END
$$;
SELECT calib.customer_key_supported(:tenant) AS customer_key \gset
INSERT INTO calib.info VALUES ('customer_id_key', :'customer_key');

-- Does ingest_fixes() accept the option "sent_at"?  (An empty batch: the
-- options are checked before anything is done.)
CREATE FUNCTION calib.sent_at_supported(p_tenant bigint) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM * FROM fieldops.ingest_fixes(p_tenant, '[]',
        jsonb_build_object('sent_at', (extract(epoch FROM now()) * 1000)::bigint));
    RETURN true;
EXCEPTION WHEN invalid_parameter_value THEN
    RETURN false;
END
$$;
INSERT INTO calib.info VALUES ('sent_at_option', calib.sent_at_supported(:tenant)::text);
INSERT INTO calib.info VALUES ('radio_map',
    CASE WHEN EXISTS (SELECT 1 FROM pg_proc WHERE proname = 'refresh_radio_map' AND pronamespace = 'fieldops'::regnamespace)
         THEN 'refreshed when the upload stream passes a local midnight'
         ELSE 'unsupported (no fieldops.refresh_radio_map)' END);

-- The simulated server clock: write the offset that makes the server's
-- clock read p_target now (libfaketime re-reads the file on every call;
-- the offset in force is read back from it).  '' = no simulated clock.
SELECT set_config('calib.clock_file', :'clock_file', false);
CREATE FUNCTION calib.set_clock(p_target timestamptz) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    f text := current_setting('calib.clock_file');
    o float8;
    o2 float8;
BEGIN
    IF f = '' THEN
        RETURN;
    END IF;
    o := COALESCE(NULLIF(rtrim(btrim(pg_read_file(f), E' \n'), 's'), '')::float8, 0);
    o2 := extract(epoch FROM p_target - (clock_timestamp() - o * interval '1 second'));
    EXECUTE format('COPY (SELECT %L) TO %L',
                   CASE WHEN o2 < 0 THEN '-' ELSE '+' END || btrim(to_char(abs(o2), '9999999990.000')) || 's', f);
END
$$;

-- the check-in fixes' "customer_ref" becomes "customer_id", or goes
UPDATE calib.upload u
   SET fixes = (SELECT jsonb_agg(CASE WHEN e ? 'customer_ref' THEN
                                     (e - 'customer_ref') || CASE WHEN :'customer_key'::boolean THEN
                                         jsonb_build_object('customer_id', (SELECT c.customer_id FROM fieldops.customer c
                                                                             WHERE c.tenant_id = :tenant AND c.external_ref = e ->> 'customer_ref'))
                                         ELSE '{}'::jsonb END
                                     ELSE e END ORDER BY o.ord)
                  FROM jsonb_array_elements(u.fixes) WITH ORDINALITY o(e, ord))
 WHERE u.fixes::text LIKE '%"customer_ref"%';

-- Ingest the groups in order, each in its own transaction at the time the
-- simulated server received it, refreshing the radio map whenever the
-- upload stream passes a local midnight.
CREATE PROCEDURE calib.ingest_all(p_tenant bigint)
LANGUAGE plpgsql AS $$
DECLARE
    g integer;
    v_day date;
    v_prev date;
    v_at timestamptz;
    v_nup integer;
    v_sent bigint;
    v_batch jsonb;
    v_opts jsonb;
    v_refresh boolean := EXISTS (SELECT 1 FROM pg_proc WHERE proname = 'refresh_radio_map'
                                                        AND pronamespace = 'fieldops'::regnamespace);
    v_sent_ok boolean := (SELECT value::boolean FROM calib.info WHERE key = 'sent_at_option');
    v_clock_checked boolean := current_setting('calib.clock_file') = '';
    v_t0 timestamptz;
    v_n integer := 0;
    v_r jsonb;
    v_next_binding timestamptz := (SELECT min(at) FROM (SELECT min(bound_at) AS at FROM calib.binding WHERE binding_id IS NULL
                                                        UNION ALL
                                                        SELECT min(unbound_at) FROM calib.binding
                                                         WHERE binding_id IS NOT NULL AND NOT closed) x);
BEGIN
    PERFORM fieldops.set_tenant(p_tenant, false);
    FOR g IN SELECT DISTINCT grp FROM calib.upload ORDER BY grp LOOP
        SELECT max(at), min(local_day), count(*), max(sent_at) INTO v_at, v_day, v_nup, v_sent
          FROM calib.upload WHERE grp = g;
        PERFORM calib.set_clock(v_at);
        COMMIT;
        PERFORM fieldops.set_tenant(p_tenant, false);
        IF NOT v_clock_checked THEN
            v_clock_checked := true;
            IF abs(extract(epoch FROM now() - v_at)) > 5 THEN
                RAISE WARNING 'calib: the server clock did not move (libfaketime not active?): now() is %, wanted %', now(), v_at;
                PERFORM set_config('calib.clock_file', '', false);
                INSERT INTO calib.info VALUES ('clock', 'NOT simulated: received times are the replay''s') ON CONFLICT (key) DO NOTHING;
            ELSE
                INSERT INTO calib.info VALUES ('clock', 'simulated (libfaketime): each call at its upload time') ON CONFLICT (key) DO NOTHING;
            END IF;
        END IF;
        IF v_prev IS NOT NULL AND v_day <> v_prev THEN
            RAISE NOTICE 'calib: % done (% calls so far)', v_prev, v_n;
            IF v_refresh THEN
                v_t0 := clock_timestamp();
                EXECUTE 'SELECT fieldops.refresh_radio_map($1)::jsonb' INTO v_r USING p_tenant;
                RAISE NOTICE 'calib: radio map refreshed in % ms: %',
                    round(extract(epoch FROM clock_timestamp() - v_t0) * 1000), v_r;
            END IF;
        END IF;
        v_prev := v_day;
        IF v_next_binding <= v_at THEN
            v_next_binding := calib.apply_bindings(p_tenant, v_at);
        END IF;
        SELECT jsonb_agg(e ORDER BY u.seq, o.ord) INTO v_batch
          FROM calib.upload u CROSS JOIN LATERAL jsonb_array_elements(u.fixes) WITH ORDINALITY o(e, ord)
         WHERE u.grp = g;
        v_opts := '{"on_error": "skip"}';
        IF v_nup = 1 AND v_sent IS NOT NULL AND v_sent_ok THEN
            v_opts := v_opts || jsonb_build_object('sent_at', v_sent);
        END IF;
        v_t0 := clock_timestamp();
        INSERT INTO calib.ingest_log
        SELECT g, v_day, v_at, now(), count(*), count(*) FILTER (WHERE r.status = 'stored'),
               count(*) FILTER (WHERE r.status = 'duplicate'), count(*) FILTER (WHERE r.status = 'off_duty'),
               count(*) FILTER (WHERE r.status = 'expired'), count(*) FILTER (WHERE r.status = 'rejected'),
               min(r.reason) FILTER (WHERE r.status = 'rejected'),
               extract(epoch FROM clock_timestamp() - v_t0) * 1000
          FROM fieldops.ingest_fixes(p_tenant, v_batch, v_opts) r;
        v_n := v_n + 1;
        COMMIT;
        PERFORM fieldops.set_tenant(p_tenant, false);
    END LOOP;
    RAISE NOTICE 'calib: % done (% calls)', v_prev, v_n;
    -- back to the real clock
    IF current_setting('calib.clock_file') <> '' THEN
        EXECUTE format('COPY (SELECT %L) TO %L', '+0s', current_setting('calib.clock_file'));
    END IF;
    COMMIT;
END
$$;

SET client_min_messages = notice;
CALL calib.ingest_all(:tenant);
SET client_min_messages = warning;

SELECT format('calib: ingested %s fixes in %s calls (%s s): %s stored, %s duplicate, %s off duty, %s expired, %s rejected%s',
              sum(fixes), count(*), round(sum(ms)::numeric / 1000, 1), sum(stored), sum(duplicate), sum(off_duty),
              sum(expired), sum(rejected),
              COALESCE(' (first: ' || min(first_reject) || ')', '')) AS summary
  FROM calib.ingest_log \gset
\echo :summary
INSERT INTO calib.info VALUES ('tenant', :'tenant'), ('ingest', :'summary');
