# Copyright (c) 2026, fieldops developers
#
# The fieldops launcher: a preloaded background worker that CALLs
# fieldops.run_due_jobs() every fieldops.naptime in fieldops.database.
#
#   (a) it starts by itself and runs due jobs: a custom tenant job once per
#       active tenant, a custom global job, as runner 'fieldops launcher';
#   (b) fieldops.launcher_status() reports it; a reload changes the naptime
#       it applies; fieldops.scheduler = external makes it idle, internal
#       makes it resume;
#   (c) with a one-hour naptime, fieldops.wake() and fieldops.run_job_now()
#       make a due job run at once, also when run_job_now() is called in a
#       transaction that commits later;
#   (d) SIGTERM: the postmaster starts a new launcher (bgw_restart_time);
#   (e) SIGKILL: crash restart of the whole server, the launcher comes back.
#
# Every wait is a poll with the default (generous) timeout; nothing depends
# on how fast the machine is.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FieldopsTest;
use Time::HiRes qw(usleep);

my $node = PostgreSQL::Test::Cluster->new('launcher');
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

# the same, for what should happen at once: still generous (poll_query_until
# tries 10 times per second of timeout_default, each try at least 0.1 s), but
# a failure does not hold the file for the default several minutes
sub poll_soon_ok
{
	my ($query, $name) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	local $PostgreSQL::Test::Utils::timeout_default = 30;
	ok($node->poll_query_until('postgres', $query), $name);
}

# the launcher's pid as it reports it ('' when none)
sub launcher_pid { return FieldopsTest::launcher_pid($node); }

# how many times the launcher has gone round its loop
sub launcher_loops { return sql('SELECT loops FROM fieldops.launcher_status()'); }

# succeeded runs of one job
sub succeeded_runs
{
	my ($job) = @_;
	return sql(
		qq{SELECT count(*) FROM fieldops.job_run r JOIN fieldops.job j USING (job_id)
		    WHERE j.job_name = '$job' AND r.status = 'succeeded'});
}

# apply a setting with ALTER SYSTEM and reload
sub set_and_reload { return FieldopsTest::set_and_reload($node, @_); }

# ---------------------------------------------------------------------------
# before CREATE EXTENSION: the launcher is there and waits

$node->wait_for_log(
	qr/fieldops launcher started in database "postgres" \(scheduler internal, naptime 1 s\)/);
pass('the launcher logs its start with database, scheduler and naptime');

poll_ok(
	q{SELECT count(*) = 1 FROM pg_stat_activity
	   WHERE backend_type = 'fieldops launcher' AND datname = 'postgres'},
	'launcher is connected to fieldops.database');

# launcher_status() is a function of the extension: create it in another
# database to look at the launcher before the extension exists in postgres
$node->safe_psql('postgres', 'CREATE DATABASE observer');
$node->safe_psql('observer', 'CREATE EXTENSION fieldops CASCADE');
ok( $node->poll_query_until(
		'observer',
		q{SELECT state = 'waiting for CREATE EXTENSION fieldops' AND database = 'postgres'
		   FROM fieldops.launcher_status()}),
	'without the extension in fieldops.database the launcher waits for CREATE EXTENSION');
# (run_due_jobs() there would have created the built-in jobs and run one)
is( $node->safe_psql(
		'observer', 'SELECT (SELECT count(*) FROM fieldops.job) + (SELECT count(*) FROM fieldops.job_run)'),
	'0',
	'the launcher does not run run_due_jobs() in another database');

# ---------------------------------------------------------------------------
# (a) the launcher runs due jobs

sql(<<'EOSQL');
CREATE EXTENSION fieldops CASCADE;
CREATE SCHEMA tap;
CREATE TABLE tap.hits (
    hit_id    bigserial PRIMARY KEY,
    job       text NOT NULL,
    tenant_id bigint,
    at        timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE FUNCTION tap.tenant_job(p_tenant_id bigint, p_args jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO tap.hits (job, tenant_id) VALUES ('tenant_job', p_tenant_id);
    RETURN jsonb_build_object('tenant', p_tenant_id, 'tag', p_args ->> 'tag',
                              'current_tenant', fieldops.current_tenant_id());
END
$$;
CREATE FUNCTION tap.heartbeat(p_args jsonb) RETURNS jsonb
LANGUAGE sql AS $$
    INSERT INTO tap.hits (job) VALUES ('heartbeat') RETURNING jsonb_build_object('hit', hit_id)
$$;
EOSQL

my $t1 = sql(q{SELECT fieldops.create_tenant('alpha', 'Asia/Shanghai')});
my $t2 = sql(q{SELECT fieldops.create_tenant('beta', 'Asia/Shanghai')});
my $t3 = sql(q{SELECT fieldops.create_tenant('gamma', 'Asia/Shanghai')});
sql(qq{SELECT fieldops.alter_tenant($t3, p_status => 'suspended')});

poll_ok(
	q{SELECT state <> 'waiting for CREATE EXTENSION fieldops' AND calls > 0
	   FROM fieldops.launcher_status()},
	'the launcher notices CREATE EXTENSION and calls run_due_jobs()');
poll_ok(
	q{SELECT count(*) = (SELECT count(*) FROM fieldops.builtin_jobs()) AND count(*) >= 5
	    FROM fieldops.job WHERE builtin},
	'the launcher creates the built-in jobs');

sql(q{SELECT fieldops.schedule_job('tap_tenant_job', 'tap.tenant_job', '1 hour', 'tenant', '{"tag": "t1"}')});
poll_ok(q{SELECT count(*) = 2 FROM fieldops.job_run r JOIN fieldops.job j USING (job_id)
           WHERE j.job_name = 'tap_tenant_job' AND r.status = 'succeeded'},
	'the tenant job runs for the two active tenants');

my $pid = launcher_pid();
like($pid, qr/^\d+$/, 'launcher_status() reports a pid');
is( sql(
		qq{SELECT string_agg(format('%s|%s|%s|%s', r.tenant_id, r.runner, r.pid, r.result ->> 'tag'), ',' ORDER BY r.tenant_id)
		     FROM fieldops.job_run r JOIN fieldops.job j USING (job_id)
		    WHERE j.job_name = 'tap_tenant_job'}),
	"$t1|fieldops launcher|$pid|t1,$t2|fieldops launcher|$pid|t1",
	'one run per active tenant (not the suspended one), by the launcher, with the job args');
is( sql(
		q{SELECT bool_and((r.result ->> 'tenant')::bigint = r.tenant_id
		                  AND (r.result ->> 'current_tenant')::bigint = r.tenant_id
		                  AND r.finished_at >= r.started_at AND r.error_code IS NULL)
		    FROM fieldops.job_run r JOIN fieldops.job j USING (job_id)
		   WHERE j.job_name = 'tap_tenant_job'}),
	't',
	'each tenant run gets its tenant as argument and as current tenant, and records its result');
is(sql(q{SELECT string_agg(tenant_id::text, ',' ORDER BY tenant_id) FROM tap.hits WHERE job = 'tenant_job'}),
	"$t1,$t2", 'the job function ran exactly once per active tenant');
is( sql(
		q{SELECT next_run_at > now() + interval '50 minutes' FROM fieldops.job WHERE job_name = 'tap_tenant_job'}),
	't',
	'the next run of the tenant job is one schedule later');

sql(q{SELECT fieldops.schedule_job('tap_heartbeat', 'tap.heartbeat', '1 second', 'global')});
poll_ok(q{SELECT count(*) >= 3 FROM tap.hits WHERE job = 'heartbeat'},
	'a global job with a one-second schedule runs again and again');
is( sql(
		qq{SELECT count(*) FILTER (WHERE r.tenant_id IS NOT NULL OR r.runner <> 'fieldops launcher'
		                            OR r.pid <> $pid OR r.status <> 'succeeded')
		     FROM fieldops.job_run r JOIN fieldops.job j USING (job_id)
		    WHERE j.job_name = 'tap_heartbeat'}),
	'0',
	'global runs have no tenant and are all succeeded runs of the launcher');

# the tenant job is not due again: after several more loops it still ran twice
my $loops = launcher_loops();
poll_ok("SELECT loops >= $loops + 3 FROM fieldops.launcher_status()",
	'the launcher keeps looping');
is(succeeded_runs('tap_tenant_job'), '2', 'a job that is not due is not run');

# ---------------------------------------------------------------------------
# (b) launcher_status(), reload, scheduler = external

is( sql(
		qq{SELECT format('%s|%s|%s|%s|%s', s.pid = a.pid, s.database, s.scheduler, s.naptime_s,
		                 s.started_at <= s.last_loop_at AND s.errors = 0)
		     FROM fieldops.launcher_status() s
		     JOIN pg_stat_activity a ON a.backend_type = 'fieldops launcher'}),
	't|postgres|internal|1|t',
	'launcher_status() matches pg_stat_activity and reports database, scheduler and naptime');
is( sql(
		q{SELECT application_name FROM pg_stat_activity WHERE backend_type = 'fieldops launcher'}),
	'fieldops launcher',
	'the launcher sets its application_name');

set_and_reload('fieldops.naptime', '7');
poll_ok(q{SELECT naptime_s = 7 FROM fieldops.launcher_status()},
	'a reload changes the naptime the launcher applies');

set_and_reload('fieldops.naptime', '1');
set_and_reload('fieldops.scheduler', 'external');
poll_ok(
	q{SELECT scheduler = 'external' AND naptime_s = 1
	     AND state = 'idle: fieldops.scheduler is external'
	   FROM fieldops.launcher_status()},
	'with fieldops.scheduler = external the launcher idles');

# the state is written at the top of a loop, after any run_due_jobs() call of
# the previous loop finished: from here on nothing may run
my $beats = sql(q{SELECT count(*) FROM tap.hits WHERE job = 'heartbeat'});
my $runs = sql(q{SELECT count(*) FROM fieldops.job_run});
sql(q{SELECT fieldops.alter_job('tap_tenant_job', p_next_run_at => now())});
$loops = launcher_loops();
poll_ok("SELECT loops >= $loops + 3 FROM fieldops.launcher_status()",
	'the idle launcher still loops (and would see a reload)');
is(sql(q{SELECT count(*) FROM tap.hits WHERE job = 'heartbeat'}),
	$beats, 'the idle launcher runs no job (heartbeat stopped)');
is(sql(q{SELECT count(*) FROM fieldops.job_run}),
	$runs, 'the idle launcher records no run');
is(succeeded_runs('tap_tenant_job'), '2', 'the due tenant job waits');

set_and_reload('fieldops.scheduler', 'off');
poll_ok(
	q{SELECT scheduler = 'off' AND state = 'idle: fieldops.scheduler is off'
	   FROM fieldops.launcher_status()},
	'with fieldops.scheduler = off the launcher idles too');
is(succeeded_runs('tap_tenant_job'), '2', 'the due tenant job still waits');

set_and_reload('fieldops.scheduler', 'internal');
poll_ok(q{SELECT count(*) = 4 FROM fieldops.job_run r JOIN fieldops.job j USING (job_id)
           WHERE j.job_name = 'tap_tenant_job' AND r.status = 'succeeded'},
	'back to internal: the launcher runs the job that became due meanwhile');
poll_ok(
	qq{SELECT count(*) > $beats FROM tap.hits WHERE job = 'heartbeat'},
	'back to internal: the heartbeat resumes');
is(sql(q{SELECT scheduler FROM fieldops.launcher_status()}),
	'internal', 'launcher_status() reports scheduler internal again');

# ---------------------------------------------------------------------------
# (c) long naptime: wake() and run_job_now()

set_and_reload('fieldops.naptime', '3600');
poll_ok(q{SELECT naptime_s = 3600 AND state = 'sleeping' FROM fieldops.launcher_status()},
	'the launcher sleeps with a one-hour naptime');

# it is asleep for an hour: a job made due now is not run by itself, but
# wake() makes it run at once (any wait shorter than the poll timeout, far
# below an hour, proves it)
$loops = launcher_loops();
my $wakes = sql('SELECT wakes FROM fieldops.launcher_status()');
sql(q{SELECT fieldops.alter_job('tap_tenant_job', p_next_run_at => now())});
is(sql('SELECT fieldops.wake()'), 't', 'wake() returns true while a launcher runs');
poll_ok(q{SELECT count(*) = 6 FROM fieldops.job_run r JOIN fieldops.job j USING (job_id)
           WHERE j.job_name = 'tap_tenant_job' AND r.status = 'succeeded'},
	'wake() makes the due job run long before the naptime is over');
is( sql(
		qq{SELECT wakes = $wakes + 1 AND loops > $loops FROM fieldops.launcher_status()}),
	't',
	'launcher_status() counts the wake-up and the extra loop');

# run_job_now() makes the job due and wakes the launcher in one statement;
# the launcher must see the change, so the wake-up has to take effect at
# commit, not before
is(sql(q{SELECT fieldops.run_job_now('tap_tenant_job')}),
	't', 'run_job_now() returns true (a launcher was woken)');
poll_soon_ok(q{SELECT count(*) = 8 FROM fieldops.job_run r JOIN fieldops.job j USING (job_id)
           WHERE j.job_name = 'tap_tenant_job' AND r.status = 'succeeded'},
	'run_job_now() makes the job run at once');
is( sql(
		q{SELECT next_run_at > now() + interval '50 minutes' FROM fieldops.job WHERE job_name = 'tap_tenant_job'}),
	't',
	'after run_job_now() the job is scheduled one period later again');

# the same inside a longer transaction: the launcher may be woken before the
# transaction commits, but the job must still run once it has committed.
# A job of its own, due in a day, so nothing else makes it run.
sql(q{SELECT fieldops.schedule_job('tap_manual', 'tap.heartbeat', '1 day', 'global',
                                   p_first_run_at => now() + interval '1 day')});
$loops = launcher_loops();
my $tx = $node->background_psql('postgres');
$tx->query_safe('BEGIN');
is($tx->query_safe(q{SELECT fieldops.run_job_now('tap_manual')}), 't',
	'run_job_now() in an open transaction');
# give a launcher woken too early the time to look (and find nothing due);
# this bounded wait only makes a wrong implementation fail reliably, the
# right one passes whatever happens here
for (my $i = 0; $i < 50; $i++)
{
	last if launcher_loops() > $loops;
	usleep(100_000);
}
$tx->query_safe('COMMIT');
$tx->quit;
poll_soon_ok(q{SELECT count(*) = 1 FROM fieldops.job_run r JOIN fieldops.job j USING (job_id)
           WHERE j.job_name = 'tap_manual' AND r.status = 'succeeded'},
	'run_job_now() in a transaction makes the job run once it commits');

# ---------------------------------------------------------------------------
# (d) SIGTERM: the postmaster restarts the launcher

set_and_reload('fieldops.naptime', '1');
poll_ok(q{SELECT naptime_s = 1 FROM fieldops.launcher_status()}, 'naptime back to 1 s');

$pid = launcher_pid();
my $log_offset = -s $node->logfile;
ok(kill('TERM', $pid), "SIGTERM sent to launcher $pid");
$node->wait_for_log(
	qr/background worker "fieldops launcher" \(PID $pid\) exited with exit code 1/,
	$log_offset);
pass('the launcher exits on SIGTERM with exit code 1');
poll_ok(
	qq{SELECT pid IS NOT NULL AND pid <> $pid FROM fieldops.launcher_status()},
	'a new launcher is started after bgw_restart_time');
my $pid2 = launcher_pid();
is( sql(
		qq{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'fieldops launcher' AND pid = $pid2}),
	'1',
	'the new launcher is the one in pg_stat_activity');
poll_ok(
	qq{SELECT count(*) >= 2 FROM fieldops.job_run r JOIN fieldops.job j USING (job_id)
	    WHERE j.job_name = 'tap_heartbeat' AND r.status = 'succeeded' AND r.pid = $pid2},
	'the new launcher runs jobs');
is( sql(
		qq{SELECT count(*) FROM fieldops.job_run WHERE status = 'running' AND pid <> $pid2}),
	'0',
	'no run of the old launcher is left running');

# ---------------------------------------------------------------------------
# (e) SIGKILL: crash restart of the whole server

$log_offset = -s $node->logfile;
ok(kill('KILL', $pid2), "SIGKILL sent to launcher $pid2");
$node->wait_for_log(
	qr/background worker "fieldops launcher" \(PID $pid2\) was terminated by signal 9/,
	$log_offset);
$node->wait_for_log(qr/all server processes terminated; reinitializing/, $log_offset);
pass('SIGKILL of the launcher makes the postmaster reinitialize');
poll_ok(
	qq{SELECT pid IS NOT NULL AND pid NOT IN ($pid, $pid2) FROM fieldops.launcher_status()},
	'a launcher is back after the crash restart');
my $pid3 = launcher_pid();
poll_ok(
	qq{SELECT count(*) >= 2 FROM fieldops.job_run r JOIN fieldops.job j USING (job_id)
	    WHERE j.job_name = 'tap_heartbeat' AND r.status = 'succeeded' AND r.pid = $pid3},
	'the launcher runs jobs again after the crash restart');
is( sql(
		q{SELECT count(*) FROM fieldops.job_run WHERE status = 'running'
		    AND pid <> (SELECT pid FROM fieldops.launcher_status())}),
	'0',
	'no run is left running by a dead launcher');
is(sql(q{SELECT errors FROM fieldops.launcher_status()}),
	'0', 'the launcher never saw run_due_jobs() fail');

$node->stop;

# the launcher never reported an error (crash-restart messages are LOG,
# WARNING or FATAL, not ERROR)
unlike(slurp_file($node->logfile), qr/\bERROR:/, 'no ERROR in the server log');

done_testing();
