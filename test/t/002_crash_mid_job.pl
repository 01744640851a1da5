# Copyright (c) 2026, fieldops developers
#
# Job runs that fail or are interrupted.
#
#   1. A job that raises is recorded as failed with its SQLSTATE and message;
#      the launcher keeps going and the other jobs keep running.
#   2. kill -9 of the launcher while it runs a tenant job (blocked on an
#      advisory lock the test holds, after the first tenant's run committed):
#      after the crash restart the interrupted run is failed with 57P01 and
#      the job is run again; the job is idempotent, so the rerun of the tenant
#      that had already succeeded changes nothing.
#   3. pg_terminate_backend() of an ordinary session running
#      CALL fieldops.run_due_jobs() (fieldops.scheduler = external): the run
#      is left 'running' and unlocked; the launcher, back to internal, fails
#      it with 57P01 and runs the job again.
#   4. pg_cancel_backend() of the launcher mid-job: the run is recorded as
#      failed with 57014 at once, the cancel escapes run_due_jobs(), the
#      launcher reports it, survives (same pid) and finishes the job later.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FieldopsTest;

my $node = PostgreSQL::Test::Cluster->new('crash');
$node->init;
$node->append_conf(
	'postgresql.conf', q{
shared_preload_libraries = 'fieldops'
fieldops.database = 'postgres'
fieldops.naptime = 1
restart_after_crash = on
});
$node->start;

# ---------------------------------------------------------------------------
# helpers (shared ones come from FieldopsTest.pm)

sub sql { return $node->safe_psql('postgres', $_[0]); }

sub poll_ok { unshift @_, $node, 'postgres'; goto &FieldopsTest::poll_ok; }

sub launcher_pid { return FieldopsTest::launcher_pid($node); }

# close a background psql whose server session may already be gone
sub close_session
{
	my ($session) = @_;
	eval { $session->quit; };
	return;
}

sub set_and_reload { return FieldopsTest::set_and_reload($node, @_); }

# the runs of tap_slow as "tenant|status|runner|result.inserted|error_code", in order
sub slow_runs
{
	my ($after) = @_;
	$after //= 0;
	return sql(
		qq{SELECT string_agg(format('%s|%s|%s|%s|%s', r.tenant_id, r.status, r.runner,
		                            r.result ->> 'inserted', r.error_code), ',' ORDER BY r.run_id)
		     FROM fieldops.job_run r JOIN fieldops.job j USING (job_id)
		    WHERE j.job_name = 'tap_slow' AND r.run_id > $after});
}

# ---------------------------------------------------------------------------
# set-up

sql(<<'EOSQL');
CREATE EXTENSION fieldops CASCADE;
CREATE SCHEMA tap;

-- the work of tap_slow: idempotent
CREATE TABLE tap.items (
    tenant_id bigint NOT NULL,
    k         integer NOT NULL,
    PRIMARY KEY (tenant_id, k)
);
-- every attempt of tap_slow that committed: not idempotent, so it shows
-- which runs really happened
CREATE TABLE tap.attempts (
    attempt_id bigserial PRIMARY KEY,
    tenant_id  bigint NOT NULL
);
CREATE TABLE tap.beats (beat_id bigserial PRIMARY KEY);

-- waits on advisory lock (777, tenant) so the test can hold a run mid-job
CREATE FUNCTION tap.slow_job(p_tenant_id bigint, p_args jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    INSERT INTO tap.attempts (tenant_id) VALUES (p_tenant_id);
    INSERT INTO tap.items (tenant_id, k)
    SELECT p_tenant_id, g FROM generate_series(1, 3) g
    ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS n = ROW_COUNT;
    PERFORM pg_advisory_xact_lock(777, p_tenant_id::integer);
    RETURN jsonb_build_object('inserted', n);
END
$$;

CREATE FUNCTION tap.bad_job(p_args jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'tap bad job failed (%)', p_args ->> 'why'
        USING ERRCODE = 'TP001', DETAIL = 'raised on purpose';
END
$$;

CREATE FUNCTION tap.div_job(p_args jsonb) RETURNS jsonb
LANGUAGE sql AS $$ SELECT jsonb_build_object('x', 1 / (p_args ->> 'zero')::integer) $$;

CREATE FUNCTION tap.heartbeat(p_args jsonb) RETURNS jsonb
LANGUAGE sql AS $$ INSERT INTO tap.beats DEFAULT VALUES RETURNING jsonb_build_object('beat', beat_id) $$;
EOSQL

my $t1 = sql(q{SELECT fieldops.create_tenant('alpha', 'Asia/Shanghai')});
my $t2 = sql(q{SELECT fieldops.create_tenant('beta', 'Asia/Shanghai')});
cmp_ok($t1, '<', $t2, 'tenants are run in id order: alpha, then beta');

poll_ok(q{SELECT calls > 0 FROM fieldops.launcher_status()},
	'the launcher runs run_due_jobs()');
my $pid = launcher_pid();

# ---------------------------------------------------------------------------
# 1. failing jobs

sql(q{SELECT fieldops.schedule_job('tap_heartbeat', 'tap.heartbeat', '1 second', 'global')});
sql(q{SELECT fieldops.schedule_job('tap_bad', 'tap.bad_job', '1 second', 'global', '{"why": "on purpose"}')});
sql(q{SELECT fieldops.schedule_job('tap_div', 'tap.div_job', '1 second', 'global', '{"zero": 0}')});

poll_ok(
	q{SELECT count(*) >= 2 FROM fieldops.job_run r JOIN fieldops.job j USING (job_id)
	   WHERE j.job_name = 'tap_bad' AND r.status = 'failed'},
	'a job that raises is run again at its next due time');
is( sql(
		q{SELECT string_agg(DISTINCT format('%s|%s|%s|%s', r.status, r.error_code, r.error_message,
		                                    r.result IS NULL AND r.finished_at IS NOT NULL), ',')
		    FROM fieldops.job_run r JOIN fieldops.job j USING (job_id)
		   WHERE j.job_name = 'tap_bad'}),
	'failed|TP001|tap bad job failed (on purpose)|t',
	'its runs are failed with the SQLSTATE and message it raised');
poll_ok(
	q{SELECT count(*) >= 1 FROM fieldops.job_run r JOIN fieldops.job j USING (job_id)
	   WHERE j.job_name = 'tap_div' AND r.status = 'failed'},
	'a job with a run-time error fails too');
is( sql(
		q{SELECT string_agg(DISTINCT format('%s|%s', r.error_code, r.error_message), ',')
		    FROM fieldops.job_run r JOIN fieldops.job j USING (job_id)
		   WHERE j.job_name = 'tap_div'}),
	'22012|division by zero',
	'a run-time error is recorded with its SQLSTATE and message');

# after failures were recorded the heartbeat still succeeds, by the same launcher
poll_ok(
	q{SELECT count(*) >= 2 FROM fieldops.job_run r JOIN fieldops.job j USING (job_id)
	   WHERE j.job_name = 'tap_heartbeat' AND r.status = 'succeeded'
	     AND r.started_at > (SELECT min(f.finished_at) FROM fieldops.job_run f
	                          JOIN fieldops.job fj USING (job_id)
	                         WHERE fj.job_name = 'tap_bad')},
	'the other jobs keep running after failures');
is( sql(q{SELECT format('%s|%s', pid, errors) FROM fieldops.launcher_status()}),
	"$pid|0",
	'job failures do not reach the launcher: same pid, no error');

sql(q{SELECT fieldops.alter_job('tap_bad', p_enabled => false)});
sql(q{SELECT fieldops.alter_job('tap_div', p_enabled => false)});
sql(q{SELECT fieldops.alter_job('tap_heartbeat', p_enabled => false)});

# ---------------------------------------------------------------------------
# 2. kill -9 of the launcher in the middle of a tenant job

my $holder = $node->background_psql('postgres');
$holder->query_safe("SELECT pg_advisory_lock(777, $t2)");

sql(q{SELECT fieldops.schedule_job('tap_slow', 'tap.slow_job', '1 day', 'tenant')});
poll_ok(
	qq{SELECT count(*) = 1 FROM fieldops.job_run r
	     JOIN fieldops.job j USING (job_id)
	     JOIN pg_stat_activity a ON a.pid = r.pid
	    WHERE j.job_name = 'tap_slow' AND r.status = 'running' AND r.tenant_id = $t2
	      AND a.backend_type = 'fieldops launcher' AND a.wait_event = 'advisory'},
	'the launcher is stuck in the run of the second tenant');
is(slow_runs(), "$t1|succeeded|fieldops launcher|3|,$t2|running|fieldops launcher||",
	'the first tenant run committed, the second one is running');
my $interrupted = sql(
	q{SELECT r.run_id FROM fieldops.job_run r JOIN fieldops.job j USING (job_id)
	   WHERE j.job_name = 'tap_slow' AND r.status = 'running'});

$pid = launcher_pid();
my $log_offset = -s $node->logfile;
ok(kill('KILL', $pid), "SIGKILL sent to launcher $pid");
$node->wait_for_log(qr/all server processes terminated; reinitializing/, $log_offset);
pass('crash restart');
close_session($holder);    # its backend was killed too: lock (777, t2) is free

poll_ok(
	qq{SELECT count(*) = 1 FROM fieldops.job_run r JOIN fieldops.job j USING (job_id)
	    WHERE j.job_name = 'tap_slow' AND r.status = 'succeeded' AND r.tenant_id = $t2},
	'after the restart the job is run again and finishes');
is( sql(
		qq{SELECT format('%s|%s|%s', status, error_code, finished_at IS NOT NULL)
		     FROM fieldops.job_run WHERE run_id = $interrupted}),
	'failed|57P01|t',
	'the interrupted run is failed with 57P01');
like(
	sql(qq{SELECT error_message FROM fieldops.job_run WHERE run_id = $interrupted}),
	qr/^interrupted: the run did not finish/,
	'the interrupted run says why');
is( slow_runs($interrupted),
	"$t1|succeeded|fieldops launcher|0|,$t2|succeeded|fieldops launcher|3|",
	'the rerun ran both tenants again: nothing new for the first, everything for the second');
is(sql('SELECT count(*) FROM tap.items'), '6', 'the job did its work exactly once (3 items per tenant)');
is( sql(q{SELECT string_agg(tenant_id::text, ',' ORDER BY attempt_id) FROM tap.attempts}),
	"$t1,$t1,$t2",
	'the interrupted attempt left nothing behind (its transaction was rolled back)');
is( sql(q{SELECT next_run_at > now() + interval '23 hours' FROM fieldops.job WHERE job_name = 'tap_slow'}),
	't', 'the job is scheduled for its next period');
is(sql(q{SELECT count(*) FROM fieldops.job_run WHERE status = 'running'}),
	'0', 'no run is left running');

# ---------------------------------------------------------------------------
# 3. an ordinary session running run_due_jobs() is terminated mid-job

set_and_reload('fieldops.scheduler', 'external');
poll_ok(q{SELECT state = 'idle: fieldops.scheduler is external' FROM fieldops.launcher_status()},
	'the launcher idles (scheduler external)');

$holder = $node->background_psql('postgres');
$holder->query_safe("SELECT pg_advisory_lock(777, $t2)");
sql(q{SELECT fieldops.alter_job('tap_slow', p_next_run_at => now())});
my $last_run = sql('SELECT max(run_id) FROM fieldops.job_run');

my $cron = $node->background_psql('postgres', on_error_stop => 0);
my $cron_pid = $cron->query_safe(q{SET application_name = 'tap_cron'; SELECT pg_backend_pid()});
$cron->query_until(qr/calling/, "\\echo calling\nCALL fieldops.run_due_jobs();\n");
poll_ok(
	qq{SELECT count(*) = 1 FROM fieldops.job_run r JOIN pg_stat_activity a ON a.pid = r.pid
	    WHERE r.run_id > $last_run AND r.status = 'running' AND r.tenant_id = $t2
	      AND r.pid = $cron_pid AND a.wait_event = 'advisory'},
	'the session is stuck in the run of the second tenant');
is(slow_runs($last_run), "$t1|succeeded|tap_cron|0|,$t2|running|tap_cron||",
	'its runs are recorded with the session\'s application_name as runner');

is(sql("SELECT pg_terminate_backend($cron_pid)"), 't', 'terminate the session');
close_session($cron);
poll_ok(qq{SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $cron_pid},
	'the session is gone');
is( sql(
		q{SELECT count(*) FROM pg_locks l JOIN fieldops.job j ON j.job_id = l.objid
		   WHERE l.locktype = 'advisory' AND l.classid = 4604943 AND j.job_name = 'tap_slow'}),
	'0',
	'nobody holds the job lock any more');
is(slow_runs($last_run), "$t1|succeeded|tap_cron|0|,$t2|running|tap_cron||",
	'the orphaned run still says running (the launcher is idle)');
my $orphan = sql(qq{SELECT max(run_id) FROM fieldops.job_run WHERE run_id > $last_run});

$holder->quit;    # lock (777, t2) free again
set_and_reload('fieldops.scheduler', 'internal');
poll_ok(
	qq{SELECT count(*) = 1 FROM fieldops.job_run r JOIN fieldops.job j USING (job_id)
	    WHERE j.job_name = 'tap_slow' AND r.run_id > $orphan AND r.status = 'succeeded'
	      AND r.tenant_id = $t2},
	'back to internal, the launcher runs the job again');
is(sql(qq{SELECT format('%s|%s', status, error_code) FROM fieldops.job_run WHERE run_id = $orphan}),
	'failed|57P01', 'the run of the terminated session is failed with 57P01');
is( slow_runs($orphan),
	"$t1|succeeded|fieldops launcher|0|,$t2|succeeded|fieldops launcher|0|",
	'the rerun by the launcher changes nothing');
is(sql('SELECT count(*) FROM tap.items'), '6', 'still exactly 3 items per tenant');

# ---------------------------------------------------------------------------
# 4. the launcher's CALL is cancelled mid-job

$holder = $node->background_psql('postgres');
$holder->query_safe("SELECT pg_advisory_lock(777, $t2)");
$last_run = sql('SELECT max(run_id) FROM fieldops.job_run');
sql(q{SELECT fieldops.alter_job('tap_slow', p_next_run_at => now())});
poll_ok(
	qq{SELECT count(*) = 1 FROM fieldops.job_run r JOIN pg_stat_activity a ON a.pid = r.pid
	    WHERE r.run_id > $last_run AND r.status = 'running' AND r.tenant_id = $t2
	      AND a.backend_type = 'fieldops launcher' AND a.wait_event = 'advisory'},
	'the launcher is stuck in the run of the second tenant again');
$pid = launcher_pid();
my $cancelled = sql(qq{SELECT max(run_id) FROM fieldops.job_run WHERE run_id > $last_run});
$log_offset = -s $node->logfile;
is(sql("SELECT pg_cancel_backend($pid)"), 't', 'cancel the launcher\'s CALL');
$node->wait_for_log(qr/ERROR:  canceling statement due to user request/, $log_offset);
pass('the launcher reports the cancelled CALL');
poll_ok(q{SELECT errors = 1 FROM fieldops.launcher_status()},
	'launcher_status() counts the error');

# the cancelled run was recorded by run_due_jobs itself before the cancel
# went on (and its job lock was released)
is(sql(qq{SELECT format('%s|%s|%s', status, error_code, error_message) FROM fieldops.job_run WHERE run_id = $cancelled}),
	'failed|57014|canceling statement due to user request',
	'the cancelled run is recorded as failed with 57014');
$holder->quit;
poll_ok(
	qq{SELECT count(*) = 1 FROM fieldops.job_run r
	    WHERE r.run_id > $cancelled AND r.status = 'succeeded' AND r.tenant_id = $t2},
	'the launcher finishes the job afterwards');
is(launcher_pid(), $pid, 'the launcher survived the cancel (same pid)');
is(sql('SELECT count(*) FROM tap.items'), '6', 'still exactly 3 items per tenant');
is(sql(q{SELECT count(*) FROM fieldops.job_run WHERE status = 'running'}),
	'0', 'no run is left running');

# the launcher reported exactly one error: the cancel
$node->stop;
my @errors = (slurp_file($node->logfile) =~ /\bERROR:  (.*)/g);
is_deeply(\@errors, ['canceling statement due to user request'],
	'the only ERROR in the log is the cancelled CALL (job failures are not logged as errors)');

done_testing();
