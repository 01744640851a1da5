--
-- jobs: the scheduler's SQL side.  fieldops.run_due_jobs() runs due jobs
-- (per active tenant for tenant jobs), records every run, isolates failures,
-- marks orphaned runs failed, and never runs a job twice at once.  The
-- launcher only CALLs it; here it is called directly.
--
\set SHOW_CONTEXT never
SET datestyle = 'ISO, YMD';
SET timezone = 'UTC';

-- no job rows before first use: built-ins are created lazily (so that
-- pg_dump keeps administrators' changes to them)
SELECT count(*) AS jobs_before FROM fieldops.job;
SELECT job_name, function_name, scope, schedule FROM fieldops.builtin_jobs() ORDER BY 1;

-- a job of our own: counts its calls per tenant
CREATE SCHEMA jobtest;
CREATE TABLE jobtest.calls (tenant_id bigint, n int, args jsonb);
CREATE FUNCTION jobtest.count_calls(p_tenant_id bigint, p_args jsonb) RETURNS jsonb LANGUAGE sql AS $$
    INSERT INTO jobtest.calls VALUES (p_tenant_id, 1, p_args);
    SELECT jsonb_build_object('tenant', p_tenant_id = fieldops.current_tenant_id());
$$;
CREATE FUNCTION jobtest.fail(p_args jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO jobtest.calls VALUES (NULL, -1, p_args);     -- rolled back with the failure
    RAISE EXCEPTION 'the warehouse API is down' USING ERRCODE = '08006';
END $$;
CREATE FUNCTION jobtest.in_batches(p_args jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    done int := (SELECT count(*) FROM jobtest.calls WHERE n = 2);
BEGIN
    INSERT INTO jobtest.calls VALUES (NULL, 2, p_args);
    RETURN jsonb_build_object('batch', done + 1, 'more', done + 1 < 3);
END $$;
CREATE FUNCTION jobtest.wrong_type(p_args jsonb) RETURNS int LANGUAGE sql AS 'SELECT 1';

-- registration checks the function and the schedule
SELECT fieldops.schedule_job('count_calls', 'jobtest.count_calls', '1 hour') AS count_job \gset
SELECT fieldops.schedule_job('count_calls_global', 'jobtest.count_calls', '1 hour', 'global');
SELECT fieldops.schedule_job('bad', 'jobtest.nope', '1 hour');
SELECT fieldops.schedule_job('bad', 'count_calls', '1 hour');
SELECT fieldops.schedule_job('bad', 'jobtest.wrong_type', '1 hour', 'global');
SELECT fieldops.schedule_job('bad', 'jobtest.count_calls', '1 month');
SELECT fieldops.schedule_job('bad', 'jobtest.count_calls', '0.5 seconds');
SELECT fieldops.schedule_job('bad', 'jobtest.count_calls', '1 hour', 'cluster');
SELECT fieldops.schedule_job('Bad Name', 'jobtest.count_calls', '1 hour');
SELECT fieldops.schedule_job('outbox_purge', 'jobtest.count_calls', '1 hour');
SELECT fieldops.schedule_job('bad', 'jobtest.count_calls', '1 hour', p_args => '[]');
SELECT fieldops.schedule_job('fails', 'jobtest.fail', '1 hour', 'global', '{"attempt": 1}');
SELECT fieldops.schedule_job('batches', 'jobtest.in_batches', '1 day', 'global');
SELECT job_name, scope, schedule, builtin, enabled FROM fieldops.job ORDER BY job_id;

-- one call runs every due job: built-ins and ours, per active tenant
CALL fieldops.run_due_jobs();
SELECT j.job_name, r.tenant_id IS NOT NULL AS per_tenant, r.status, r.error_code, r.error_message, count(*)
  FROM fieldops.job_run r JOIN fieldops.job j USING (job_id)
 GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3;
-- the tenant job ran once for each active tenant, with that tenant chosen
SELECT count(*) AS calls, count(DISTINCT tenant_id) AS tenants FROM jobtest.calls WHERE n = 1 AND tenant_id IS NOT NULL;
SELECT bool_and((result ->> 'tenant')::boolean) AS tenant_was_chosen
  FROM fieldops.job_run WHERE job_id = :count_job;
-- the failed job's own writes were rolled back, the others' were kept
SELECT count(*) AS failed_job_writes FROM jobtest.calls WHERE n = -1;
-- "more": the batch job ran until it said it was done
SELECT array_agg((result ->> 'batch')::int ORDER BY run_id) AS batches
  FROM fieldops.job_run r JOIN fieldops.job j USING (job_id) WHERE j.job_name = 'batches';
-- every run finished, and next runs are on the job's grid
SELECT count(*) AS unfinished FROM fieldops.job_run WHERE status = 'running' OR finished_at IS NULL;
SELECT job_name, next_run_at > now() AS later FROM fieldops.job ORDER BY job_id;

-- nothing is due now: a second call runs nothing
CALL fieldops.run_due_jobs();

-- suspended tenants are skipped
SELECT tenant_id AS beta FROM fieldops.tenant WHERE name = 'Beta NYC' \gset
SELECT (fieldops.alter_tenant(:beta, p_status => 'suspended')).status;
SELECT (fieldops.alter_job('count_calls', p_next_run_at => now() - interval '1 minute')).next_run_at < now() AS made_due;
CALL fieldops.run_due_jobs();
SELECT (fieldops.alter_tenant(:beta, p_status => 'active')).status;

-- disabled jobs do not run; alter_job validates
SELECT (fieldops.alter_job('count_calls', p_enabled => false, p_next_run_at => now() - interval '1 minute')).enabled;
CALL fieldops.run_due_jobs();
SELECT fieldops.alter_job('count_calls', p_schedule => '2 months');
SELECT fieldops.alter_job('count_calls', p_args => '"x"');
SELECT fieldops.alter_job('no_such_job', p_enabled => true);
SELECT (fieldops.alter_job('outbox_purge', p_schedule => '30 minutes')).schedule AS builtin_rescheduled;

-- a run left 'running' by a dead runner (nobody holds the job's lock) is
-- marked failed by the next call, and the job runs again normally
SELECT job_id AS fails_job FROM fieldops.job WHERE job_name = 'fails' \gset
INSERT INTO fieldops.job_run (job_id, status, runner, pid, started_at)
VALUES (:fails_job, 'running', 'crashed runner', 1, now() - interval '1 hour');
CALL fieldops.run_due_jobs();
SELECT status, error_code, error_message FROM fieldops.job_run WHERE runner = 'crashed runner';

-- a cancel (pg_cancel_backend, statement_timeout) stops the call, but the
-- run is recorded as failed with 57014 and the job is free to run again
CREATE FUNCTION jobtest.slow(p_args jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
    IF (p_args ->> 'cancel')::boolean THEN
        PERFORM pg_cancel_backend(pg_backend_pid());     -- as if a DBA cancelled it
        PERFORM pg_sleep(30);
    END IF;
    RETURN '{}';
END $$;
SELECT fieldops.schedule_job('slow', 'jobtest.slow', '1 day', 'global', '{"cancel": true}') IS NOT NULL AS scheduled;
CALL fieldops.run_due_jobs();
SELECT status, error_code, error_message FROM fieldops.job_run r JOIN fieldops.job j USING (job_id) WHERE j.job_name = 'slow';
SELECT (fieldops.alter_job('slow', p_args => '{"cancel": false}', p_next_run_at => now())).enabled AS due_again;
CALL fieldops.run_due_jobs();
SELECT status, count(*) FROM fieldops.job_run r JOIN fieldops.job j USING (job_id) WHERE j.job_name = 'slow' GROUP BY 1 ORDER BY 1;
SELECT fieldops.unschedule_job('slow');

-- the procedure refuses bad limits (fieldops.scheduler = off is shown by the TAP suite)
CALL fieldops.run_due_jobs(interval '0 seconds');
CALL fieldops.run_due_jobs(NULL);

-- run_job_now makes the job due (and wakes the launcher if one runs)
SELECT fieldops.run_job_now('count_calls') IS NOT NULL AS asked;
SELECT next_run_at <= now() AS due FROM fieldops.job WHERE job_name = 'count_calls';
SELECT fieldops.run_job_now('no_such_job');

-- removing jobs: ours yes (with their history), built-ins no
SELECT count(*) > 0 AS batches_history FROM fieldops.job_run r JOIN fieldops.job j USING (job_id) WHERE j.job_name = 'batches';
SELECT fieldops.unschedule_job('batches') AS removed, fieldops.unschedule_job('batches') AS removed_again;
SELECT fieldops.unschedule_job('job_run_purge');

-- the purge job keeps recent history
UPDATE fieldops.job_run SET started_at = started_at - interval '40 days', finished_at = finished_at - interval '40 days'
 WHERE run_id IN (SELECT run_id FROM fieldops.job_run ORDER BY run_id LIMIT 3);
SELECT fieldops.job_run_purge('{"keep_days": 30}');
SELECT fieldops.job_run_purge('{"keep_days": 0}');

-- the status view
SELECT job_name, scope, enabled, last_status, failures_24h FROM fieldops.job_status ORDER BY job_name;

-- clean up our jobs so later tests start from the built-ins
SELECT fieldops.unschedule_job(j) FROM unnest(ARRAY['count_calls', 'fails']) AS j;
DROP SCHEMA jobtest CASCADE;
