--
-- Scheduler.  Jobs are SQL functions; fieldops.run_due_jobs() runs what is
-- due, one job run per transaction, and the launcher (or pg_cron, or cron)
-- only calls it.  A job never runs twice at once: its runner holds a
-- session advisory lock (class 4604943, key job_id) while it runs it.
--

-- Global: what to run and when.
CREATE TABLE fieldops.job (
    job_id         bigserial PRIMARY KEY,
    job_name       text NOT NULL UNIQUE CHECK (job_name ~ '^[a-z][a-z0-9_]{0,62}$'),
    function_name  text NOT NULL,
    scope          text NOT NULL CHECK (scope IN ('global', 'tenant')),
    schedule       interval NOT NULL
                   CHECK (schedule OPERATOR(pg_catalog.>=) '1 second'
                          AND pg_catalog.date_part('month', schedule) OPERATOR(pg_catalog.=) 0
                          AND pg_catalog.date_part('year', schedule) OPERATOR(pg_catalog.=) 0),
    args           jsonb NOT NULL DEFAULT '{}' CHECK (pg_catalog.jsonb_typeof(args) = 'object'),
    enabled        boolean NOT NULL DEFAULT true,
    next_run_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    builtin        boolean NOT NULL DEFAULT false,
    description    text,
    created_at     timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE fieldops.job IS
'Global: scheduled jobs. A tenant-scope job calls function_name(p_tenant_id bigint, p_args jsonb) once per active tenant; a global one calls function_name(p_args jsonb). Both return jsonb; {"more": true} asks to run again at once.';

-- Global: one row per run (per tenant for tenant-scope jobs).
CREATE TABLE fieldops.job_run (
    run_id         bigserial PRIMARY KEY,
    job_id         bigint NOT NULL REFERENCES fieldops.job (job_id) ON DELETE CASCADE,
    tenant_id      bigint,
    status         text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
    runner         text NOT NULL,
    pid            integer NOT NULL,
    started_at     timestamptz NOT NULL,
    finished_at    timestamptz,
    result         jsonb,
    error_code     text,
    error_message  text,
    CONSTRAINT job_run_finished CHECK ((status OPERATOR(pg_catalog.=) 'running') = (finished_at IS NULL)),
    CONSTRAINT job_run_failed_has_error CHECK ((status OPERATOR(pg_catalog.=) 'failed') = (error_code IS NOT NULL))
);
CREATE INDEX job_run_job_idx ON fieldops.job_run (job_id, started_at DESC);
CREATE INDEX job_run_running_idx ON fieldops.job_run (job_id) WHERE status = 'running';
COMMENT ON TABLE fieldops.job_run IS
'Global: every job run with its status, timing, result or error. A run left running by a crash is marked failed by the next run_due_jobs().';

-- The list of built-in jobs, fieldops.builtin_jobs(), is in 95_builtin_jobs.sql:
-- every release that adds a job redefines it there.


CREATE FUNCTION fieldops.ensure_builtin_jobs()
RETURNS integer
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    n integer;
BEGIN
    INSERT INTO fieldops.job (job_name, function_name, scope, schedule, args, builtin, description)
    SELECT b.job_name, b.function_name, b.scope, b.schedule, b.args, true, b.description
      FROM fieldops.builtin_jobs() b
     WHERE NOT EXISTS (SELECT 1 FROM fieldops.job j WHERE j.job_name OPERATOR(pg_catalog.=) b.job_name)
    ON CONFLICT (job_name) DO NOTHING;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;
COMMENT ON FUNCTION fieldops.ensure_builtin_jobs() IS 'Create the built-in jobs that are missing from fieldops.job; returns how many were created.';

CREATE FUNCTION fieldops.job_function(p_function_name text, p_scope text)
RETURNS regprocedure
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    v_proc regprocedure;
    v_sig text := CASE p_scope WHEN 'tenant' THEN '(bigint, jsonb)' ELSE '(jsonb)' END;
BEGIN
    IF p_scope IS NULL OR p_scope NOT IN ('global', 'tenant') THEN
        RAISE EXCEPTION 'p_scope must be ''tenant'' or ''global'', got %', COALESCE(pg_catalog.quote_literal(p_scope), 'NULL')
            USING ERRCODE = '22023';
    END IF;
    IF p_function_name IS NULL OR p_function_name !~ '^[A-Za-z_][A-Za-z0-9_$]*\.[A-Za-z_][A-Za-z0-9_$]*$' THEN
        RAISE EXCEPTION 'p_function must be a schema-qualified function name such as myschema.nightly_sync, got %',
            COALESCE(pg_catalog.quote_literal(p_function_name), 'NULL')
            USING ERRCODE = '22023';
    END IF;
    v_proc := pg_catalog.to_regprocedure(p_function_name || v_sig);
    IF v_proc IS NULL THEN
        RAISE EXCEPTION 'function % does not exist', p_function_name || v_sig
            USING ERRCODE = '42883',
                  HINT = CASE p_scope WHEN 'tenant' THEN 'A tenant job takes (p_tenant_id bigint, p_args jsonb) and returns jsonb.'
                                      ELSE 'A global job takes (p_args jsonb) and returns jsonb.' END;
    END IF;
    IF (SELECT prorettype FROM pg_catalog.pg_proc WHERE oid OPERATOR(pg_catalog.=) v_proc) OPERATOR(pg_catalog.<>) 'jsonb'::regtype
       OR (SELECT prokind FROM pg_catalog.pg_proc WHERE oid OPERATOR(pg_catalog.=) v_proc) OPERATOR(pg_catalog.<>) 'f' THEN
        RAISE EXCEPTION 'job function % must be a function returning jsonb', v_proc USING ERRCODE = '22023';
    END IF;
    RETURN v_proc;
END
$$;
COMMENT ON FUNCTION fieldops.job_function(text, text) IS
'Resolve and check the function a job calls: (bigint, jsonb) for tenant jobs, (jsonb) for global ones, returning jsonb; 42883 or 22023 otherwise.';

CREATE FUNCTION fieldops.schedule_job(p_job_name text, p_function text, p_schedule interval,
                                      p_scope text DEFAULT 'tenant', p_args jsonb DEFAULT '{}',
                                      p_description text DEFAULT NULL, p_first_run_at timestamptz DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    v_id bigint;
BEGIN
    PERFORM fieldops.ensure_builtin_jobs();
    IF p_job_name IS NULL OR p_job_name !~ '^[a-z][a-z0-9_]{0,62}$' THEN
        RAISE EXCEPTION 'p_job_name must be 1 to 63 lower-case letters, digits or underscores, starting with a letter, got %',
            COALESCE(pg_catalog.quote_literal(p_job_name), 'NULL')
            USING ERRCODE = '22023';
    END IF;
    IF EXISTS (SELECT 1 FROM fieldops.builtin_jobs() b WHERE b.job_name OPERATOR(pg_catalog.=) p_job_name) THEN
        RAISE EXCEPTION 'job "%" is built in', p_job_name
            USING ERRCODE = '42710', HINT = 'Change it with fieldops.alter_job().';
    END IF;
    PERFORM fieldops.check_job_schedule(p_schedule);
    IF p_args IS NULL OR pg_catalog.jsonb_typeof(p_args) OPERATOR(pg_catalog.<>) 'object' THEN
        RAISE EXCEPTION 'p_args must be a JSON object' USING ERRCODE = '22023';
    END IF;
    PERFORM fieldops.job_function(p_function, p_scope);

    INSERT INTO fieldops.job AS j (job_name, function_name, scope, schedule, args, description, next_run_at)
    VALUES (p_job_name, p_function, p_scope, p_schedule, p_args, p_description,
            COALESCE(p_first_run_at, pg_catalog.now()))
    ON CONFLICT (job_name) DO UPDATE
       SET function_name = EXCLUDED.function_name, scope = EXCLUDED.scope, schedule = EXCLUDED.schedule,
           args = EXCLUDED.args, description = EXCLUDED.description,
           next_run_at = COALESCE(p_first_run_at, j.next_run_at)
    RETURNING j.job_id INTO v_id;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION fieldops.schedule_job(text, text, interval, text, jsonb, text, timestamptz) IS
'Administrators: create or replace a job that calls p_function every p_schedule, per tenant (p_scope tenant) or once (global). Returns job_id.';

CREATE FUNCTION fieldops.check_job_schedule(p_schedule interval)
RETURNS interval
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
BEGIN
    IF p_schedule IS NULL OR p_schedule OPERATOR(pg_catalog.<) '1 second'
       OR pg_catalog.date_part('month', p_schedule) OPERATOR(pg_catalog.<>) 0
       OR pg_catalog.date_part('year', p_schedule) OPERATOR(pg_catalog.<>) 0 THEN
        RAISE EXCEPTION 'p_schedule must be an interval of at least 1 second made of days, hours, minutes and seconds, got %',
            COALESCE(p_schedule::text, 'NULL')
            USING ERRCODE = '22023', HINT = 'Months have no fixed length; use ''30 days'' for example.';
    END IF;
    RETURN p_schedule;
END
$$;
COMMENT ON FUNCTION fieldops.check_job_schedule(interval) IS 'Check a job interval: at least 1 second, no months or years; 22023 otherwise.';

CREATE FUNCTION fieldops.alter_job(p_job_name text, p_schedule interval DEFAULT NULL, p_enabled boolean DEFAULT NULL,
                                   p_args jsonb DEFAULT NULL, p_next_run_at timestamptz DEFAULT NULL)
RETURNS fieldops.job
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    j fieldops.job;
BEGIN
    PERFORM fieldops.ensure_builtin_jobs();
    IF p_schedule IS NOT NULL THEN
        PERFORM fieldops.check_job_schedule(p_schedule);
    END IF;
    IF p_args IS NOT NULL AND pg_catalog.jsonb_typeof(p_args) OPERATOR(pg_catalog.<>) 'object' THEN
        RAISE EXCEPTION 'p_args must be a JSON object' USING ERRCODE = '22023';
    END IF;
    UPDATE fieldops.job
       SET schedule = COALESCE(p_schedule, schedule),
           enabled = COALESCE(p_enabled, enabled),
           args = COALESCE(p_args, args),
           next_run_at = COALESCE(p_next_run_at, next_run_at)
     WHERE job_name OPERATOR(pg_catalog.=) p_job_name
    RETURNING * INTO j;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'job % does not exist', COALESCE(pg_catalog.quote_literal(p_job_name), 'NULL')
            USING ERRCODE = '42704';
    END IF;
    RETURN j;
END
$$;
COMMENT ON FUNCTION fieldops.alter_job(text, interval, boolean, jsonb, timestamptz) IS
'Administrators: change a job''s schedule, enabled flag, arguments or next run time (NULL keeps the current value).';

CREATE FUNCTION fieldops.unschedule_job(p_job_name text)
RETURNS boolean
LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM fieldops.builtin_jobs() b WHERE b.job_name OPERATOR(pg_catalog.=) p_job_name) THEN
        RAISE EXCEPTION 'job "%" is built in and cannot be removed', p_job_name
            USING ERRCODE = '55000', HINT = 'Disable it with fieldops.alter_job(p_job_name, p_enabled => false).';
    END IF;
    DELETE FROM fieldops.job WHERE job_name OPERATOR(pg_catalog.=) p_job_name;
    RETURN FOUND;
END
$$;
COMMENT ON FUNCTION fieldops.unschedule_job(text) IS 'Administrators: remove a job and its run history; returns whether it existed.';

CREATE FUNCTION fieldops.next_run_after(p_previous timestamptz, p_schedule interval, p_now timestamptz)
RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    -- the first point of the job's grid (previous + k * schedule) after now:
    -- no drift, and missed runs are not caught up one by one
    SELECT CASE
             WHEN (p_previous OPERATOR(pg_catalog.+) p_schedule) OPERATOR(pg_catalog.>) p_now
             THEN p_previous OPERATOR(pg_catalog.+) p_schedule
             ELSE p_previous OPERATOR(pg_catalog.+) (p_schedule OPERATOR(pg_catalog.*)
                  (pg_catalog.floor(pg_catalog.date_part('epoch', p_now OPERATOR(pg_catalog.-) p_previous)
                                    OPERATOR(pg_catalog./) pg_catalog.date_part('epoch', p_schedule)) OPERATOR(pg_catalog.+) 1))
           END
$$;
COMMENT ON FUNCTION fieldops.next_run_after(timestamptz, interval, timestamptz) IS
'Next run time on the job''s grid strictly after p_now: no drift, no catch-up storm after downtime.';

CREATE FUNCTION fieldops.fail_interrupted_runs(p_job_id bigint)
RETURNS integer
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    n integer;
BEGIN
    -- only for a job whose lock the caller holds: then nobody is running it,
    -- and a run still marked running was interrupted
    UPDATE fieldops.job_run
       SET status = 'failed', finished_at = pg_catalog.clock_timestamp(), error_code = '57P01',
           error_message = 'interrupted: the run did not finish (its session ended: server crash, kill, shutdown or disconnection)'
     WHERE job_id OPERATOR(pg_catalog.=) p_job_id AND status OPERATOR(pg_catalog.=) 'running';
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;
COMMENT ON FUNCTION fieldops.fail_interrupted_runs(bigint) IS
'Internal: mark the running runs of a job whose lock the caller holds as failed (57P01); returns how many.';

CREATE FUNCTION fieldops.fail_orphaned_runs()
RETURNS integer
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    v_job bigint;
    n integer := 0;
BEGIN
    -- a run is orphaned when nobody holds its job's lock: its runner died
    FOR v_job IN SELECT DISTINCT r.job_id FROM fieldops.job_run r WHERE r.status OPERATOR(pg_catalog.=) 'running' LOOP
        IF pg_catalog.pg_try_advisory_lock(4604943, v_job::integer) THEN
            n := n OPERATOR(pg_catalog.+) fieldops.fail_interrupted_runs(v_job);
            PERFORM pg_catalog.pg_advisory_unlock(4604943, v_job::integer);
        END IF;
    END LOOP;
    RETURN n;
END
$$;
COMMENT ON FUNCTION fieldops.fail_orphaned_runs() IS
'Mark as failed the runs whose runner is gone (nobody holds the job''s lock); returns how many.';

CREATE FUNCTION fieldops.claim_due_job()
RETURNS fieldops.job
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    j fieldops.job;
BEGIN
    FOR j IN SELECT * FROM fieldops.job
              WHERE enabled AND next_run_at OPERATOR(pg_catalog.<=) pg_catalog.clock_timestamp()
              ORDER BY next_run_at, job_id
    LOOP
        IF pg_catalog.pg_try_advisory_lock(4604943, j.job_id::integer) THEN
            -- re-read: another runner may have run it between our scan and our lock
            SELECT * INTO j FROM fieldops.job x
             WHERE x.job_id OPERATOR(pg_catalog.=) j.job_id AND x.enabled
               AND x.next_run_at OPERATOR(pg_catalog.<=) pg_catalog.clock_timestamp();
            IF FOUND THEN
                RETURN j;
            END IF;
            PERFORM pg_catalog.pg_advisory_unlock(4604943, j.job_id::integer);
        END IF;
    END LOOP;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION fieldops.claim_due_job() IS
'Internal: lock (session advisory lock) and return the most overdue enabled job nobody else is running, or NULL.';

CREATE PROCEDURE fieldops.run_due_jobs(p_max_runtime interval DEFAULT '5 minutes', INOUT runs integer DEFAULT 0)
LANGUAGE plpgsql
AS $$
-- No SET clause here: a procedure with one cannot COMMIT; every name is qualified instead.
DECLARE
    v_deadline timestamptz := pg_catalog.clock_timestamp() OPERATOR(pg_catalog.+) p_max_runtime;
    v_mode text;
    v_runner text := pg_catalog.left(COALESCE(NULLIF(pg_catalog.current_setting('application_name'), ''), SESSION_USER::text), 64);
    v_job fieldops.job;
    v_call text;
    v_tenants bigint[];
    v_tenant bigint;
    v_run bigint;
    v_result jsonb;
    v_state text;
    v_msg text;
    v_more boolean;
    v_complete boolean;
BEGIN
    runs := 0;
    -- load the module first, so that fieldops.scheduler is the validated
    -- setting and not a raw placeholder string from postgresql.conf
    PERFORM fieldops.current_tenant_id();
    v_mode := pg_catalog.current_setting('fieldops.scheduler', true);
    IF v_mode OPERATOR(pg_catalog.=) 'off' THEN
        RAISE NOTICE 'fieldops.scheduler is off: no job was run';
        RETURN;
    END IF;
    IF pg_catalog.pg_is_in_recovery() THEN
        RAISE NOTICE 'this server is a standby: jobs run on the primary';
        RETURN;
    END IF;
    IF p_max_runtime IS NULL OR p_max_runtime OPERATOR(pg_catalog.<=) '0' THEN
        RAISE EXCEPTION 'p_max_runtime must be a positive interval, got %', COALESCE(p_max_runtime::text, 'NULL')
            USING ERRCODE = '22023';
    END IF;
    -- a previous call in this session that failed outside a job may have
    -- left job locks behind; this session is not running any job now
    PERFORM pg_catalog.pg_advisory_unlock(4604943, l.objid::integer)
       FROM pg_catalog.pg_locks l
      WHERE l.locktype OPERATOR(pg_catalog.=) 'advisory' AND l.pid OPERATOR(pg_catalog.=) pg_catalog.pg_backend_pid()
        AND l.classid OPERATOR(pg_catalog.=) 4604943 AND l.objsubid OPERATOR(pg_catalog.=) 2;
    PERFORM fieldops.ensure_builtin_jobs();
    PERFORM fieldops.fail_orphaned_runs();
    COMMIT;

    WHILE pg_catalog.clock_timestamp() OPERATOR(pg_catalog.<) v_deadline LOOP
        v_job := fieldops.claim_due_job();
        EXIT WHEN v_job.job_id IS NULL;

        -- we hold the job's lock, so a run still marked running is an orphan
        PERFORM fieldops.fail_interrupted_runs(v_job.job_id);

        IF v_job.scope OPERATOR(pg_catalog.=) 'tenant' THEN
            v_tenants := ARRAY(SELECT t.tenant_id FROM fieldops.tenant t
                                WHERE t.status OPERATOR(pg_catalog.=) 'active' ORDER BY t.tenant_id);
        ELSE
            v_tenants := ARRAY[NULL::bigint];
        END IF;
        v_more := false;
        v_complete := true;

        FOREACH v_tenant IN ARRAY v_tenants LOOP
            IF pg_catalog.clock_timestamp() OPERATOR(pg_catalog.>=) v_deadline THEN
                v_complete := false;
                EXIT;
            END IF;
            INSERT INTO fieldops.job_run (job_id, tenant_id, status, runner, pid, started_at)
            VALUES (v_job.job_id, v_tenant, 'running', v_runner, pg_catalog.pg_backend_pid(), pg_catalog.clock_timestamp())
            RETURNING run_id INTO v_run;
            COMMIT;   -- the run is visible while it runs, and a crash leaves it behind as an orphan

            v_result := NULL;
            v_state := NULL;
            BEGIN
                SELECT pg_catalog.format('%I.%I', n.nspname, p.proname) INTO v_call
                  FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) p.pronamespace
                 WHERE p.oid OPERATOR(pg_catalog.=) fieldops.job_function(v_job.function_name, v_job.scope);
                IF v_tenant IS NULL THEN
                    EXECUTE pg_catalog.format('SELECT %s($1)', v_call) INTO v_result USING v_job.args;
                ELSE
                    PERFORM fieldops.set_tenant(v_tenant);
                    EXECUTE pg_catalog.format('SELECT %s($1, $2)', v_call) INTO v_result USING v_tenant, v_job.args;
                END IF;
                UPDATE fieldops.job_run
                   SET status = 'succeeded', finished_at = pg_catalog.clock_timestamp(), result = v_result
                 WHERE run_id OPERATOR(pg_catalog.=) v_run;
            EXCEPTION WHEN OTHERS OR QUERY_CANCELED THEN
                GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_msg = MESSAGE_TEXT;
                UPDATE fieldops.job_run
                   SET status = 'failed', finished_at = pg_catalog.clock_timestamp(),
                       error_code = v_state, error_message = v_msg
                 WHERE run_id OPERATOR(pg_catalog.=) v_run;
            END;
            IF v_state OPERATOR(pg_catalog.=) '57014' THEN
                -- a cancel (pg_cancel_backend, statement_timeout) stops the
                -- whole call: record the run, free the job, then pass it on
                COMMIT;
                PERFORM pg_catalog.pg_advisory_unlock(4604943, v_job.job_id::integer);
                RAISE EXCEPTION '%', v_msg USING ERRCODE = '57014';
            END IF;
            v_more := v_more OR COALESCE(v_result OPERATOR(pg_catalog.@>) '{"more": true}', false);
            runs := runs OPERATOR(pg_catalog.+) 1;
            COMMIT;
        END LOOP;

        UPDATE fieldops.job
           SET next_run_at = CASE WHEN v_more OR NOT v_complete THEN pg_catalog.clock_timestamp()
                                  ELSE fieldops.next_run_after(next_run_at, schedule, pg_catalog.clock_timestamp()) END
         WHERE job_id OPERATOR(pg_catalog.=) v_job.job_id;
        -- commit the new next_run_at before letting another runner claim the
        -- job: it re-reads next_run_at once it holds the lock
        COMMIT;
        PERFORM pg_catalog.pg_advisory_unlock(4604943, v_job.job_id::integer);
    END LOOP;
END
$$;
COMMENT ON PROCEDURE fieldops.run_due_jobs(interval, integer) IS
'Run every due job (per active tenant for tenant jobs), committing after each run, for at most p_max_runtime; returns the number of runs. Call it with CALL outside a transaction block: the launcher does, and pg_cron or cron can.';

CREATE FUNCTION fieldops.job_run_purge(p_args jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    v_days integer := COALESCE((p_args ->> 'keep_days')::integer, 30);
    v_batch integer := COALESCE((p_args ->> 'batch')::integer, 10000);
    n integer;
BEGIN
    IF v_days OPERATOR(pg_catalog.<) 1 THEN
        RAISE EXCEPTION 'args.keep_days must be at least 1, got %', v_days USING ERRCODE = '22023';
    END IF;
    DELETE FROM fieldops.job_run
     WHERE run_id IN (SELECT r.run_id FROM fieldops.job_run r
                       WHERE r.status OPERATOR(pg_catalog.<>) 'running'
                         AND r.finished_at OPERATOR(pg_catalog.<) (pg_catalog.now() OPERATOR(pg_catalog.-) pg_catalog.make_interval(days => v_days))
                       ORDER BY r.run_id LIMIT v_batch);
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN pg_catalog.jsonb_build_object('deleted', n, 'keep_days', v_days, 'more', n OPERATOR(pg_catalog.=) v_batch);
END
$$;
COMMENT ON FUNCTION fieldops.job_run_purge(jsonb) IS 'Job (global): delete finished job runs older than args.keep_days (default 30).';

CREATE FUNCTION fieldops.wake()
RETURNS boolean
AS 'MODULE_PATHNAME', 'fieldops_wake'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION fieldops.wake() IS
'Make the launcher run due jobs as soon as this transaction commits; false when no launcher will (not preloaded, not running, scheduler not internal).';

CREATE FUNCTION fieldops.launcher_status(
    OUT pid integer, OUT database text, OUT scheduler text, OUT naptime_s integer, OUT state text,
    OUT started_at timestamptz, OUT last_loop_at timestamptz, OUT loops bigint, OUT calls bigint,
    OUT errors bigint, OUT wakes bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'fieldops_launcher_status'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION fieldops.launcher_status() IS
'The launcher as it sees itself (scheduler mode and naptime it applies, state, counters); no row when fieldops is not preloaded.';

CREATE FUNCTION fieldops.run_job_now(p_job_name text)
RETURNS boolean
LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
    PERFORM fieldops.alter_job(p_job_name, p_next_run_at => pg_catalog.now());
    RETURN fieldops.wake();
END
$$;
COMMENT ON FUNCTION fieldops.run_job_now(text) IS
'Administrators: make a job due now and wake the launcher; returns whether a launcher was woken (else CALL fieldops.run_due_jobs()).';

CREATE VIEW fieldops.job_status WITH (security_invoker = true) AS
SELECT j.job_name, j.scope, j.schedule, j.enabled, j.next_run_at,
       last.started_at AS last_started_at, last.finished_at AS last_finished_at, last.status AS last_status,
       last.error_message AS last_error,
       (SELECT pg_catalog.count(*) FROM fieldops.job_run r
         WHERE r.job_id OPERATOR(pg_catalog.=) j.job_id AND r.status OPERATOR(pg_catalog.=) 'failed'
           AND r.started_at OPERATOR(pg_catalog.>) (pg_catalog.now() OPERATOR(pg_catalog.-) interval '1 day')) AS failures_24h
  FROM fieldops.job j
  LEFT JOIN LATERAL (SELECT r.* FROM fieldops.job_run r WHERE r.job_id OPERATOR(pg_catalog.=) j.job_id
                      ORDER BY r.started_at DESC LIMIT 1) last ON true;
COMMENT ON VIEW fieldops.job_status IS 'Administrators: each job with its next run, its last run and its failures in the last 24 hours.';
