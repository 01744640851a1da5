# Copyright (c) 2026, fieldops developers
#
# fieldops.database names a database where the extension is not installed:
# the launcher waits there without touching anything and without errors, and
# leaves alone another database that has the extension.  CREATE EXTENSION in
# its database is noticed at its next wake-up; DROP EXTENSION sends it back to
# waiting; a second CREATE EXTENSION works again.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FieldopsTest;

my $node = PostgreSQL::Test::Cluster->new('noext');
$node->init;

# fieldops.database is PGC_POSTMASTER: create the databases first, then
# restart with the launcher
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE jobsdb');
$node->safe_psql('postgres', 'CREATE DATABASE otherdb');
$node->stop;
$node->append_conf(
	'postgresql.conf', q{
shared_preload_libraries = 'fieldops'
fieldops.database = 'jobsdb'
fieldops.naptime = 1
});
my $log_offset = -s $node->logfile;
$node->start;

# ---------------------------------------------------------------------------
# helpers (shared ones come from FieldopsTest.pm)

sub poll_ok { unshift @_, $node; goto &FieldopsTest::poll_ok; }

# launcher_status() needs the extension somewhere: ask otherdb
sub status
{
	my ($expr) = @_;
	return $node->safe_psql('otherdb', "SELECT $expr FROM fieldops.launcher_status()");
}

sub set_and_reload { return FieldopsTest::set_and_reload($node, @_); }

my $job_sql = <<'EOSQL';
CREATE SCHEMA tap;
CREATE TABLE tap.beats (beat_id bigserial PRIMARY KEY, db text NOT NULL DEFAULT current_database());
CREATE FUNCTION tap.heartbeat(p_args jsonb) RETURNS jsonb
LANGUAGE sql AS $$ INSERT INTO tap.beats DEFAULT VALUES RETURNING jsonb_build_object('beat', beat_id) $$;
EOSQL

# ---------------------------------------------------------------------------
# jobsdb without the extension

$node->wait_for_log(qr/fieldops launcher started in database "jobsdb"/, $log_offset);
pass('the launcher starts in fieldops.database');
poll_ok('postgres',
	q{SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'fieldops launcher' AND datname = 'jobsdb'},
	'the launcher is connected to jobsdb');

# otherdb has the extension and a due job, but nobody calls run_due_jobs() there
$node->safe_psql('otherdb', 'CREATE EXTENSION fieldops CASCADE');
$node->safe_psql('otherdb', $job_sql);
$node->safe_psql('otherdb',
	q{SELECT fieldops.schedule_job('tap_heartbeat', 'tap.heartbeat', '1 second', 'global')});

poll_ok('otherdb',
	q{SELECT state = 'waiting for CREATE EXTENSION fieldops' AND database = 'jobsdb' AND pid IS NOT NULL
	   FROM fieldops.launcher_status()},
	'launcher_status() says the launcher waits for CREATE EXTENSION in jobsdb');
my $pid = status('pid');
my $loops = status('loops');
poll_ok('otherdb', "SELECT loops >= $loops + 3 FROM fieldops.launcher_status()",
	'the waiting launcher keeps checking');
is(status(q{format('%s|%s|%s', pid, calls, errors)}), "$pid|0|0",
	'it never called run_due_jobs() and never failed');

is( $node->safe_psql(
		'jobsdb',
		q{SELECT format('%s|%s|%s',
		      (SELECT count(*) FROM pg_namespace WHERE nspname IN ('fieldops', 'tap')),
		      (SELECT count(*) FROM pg_extension WHERE extname <> 'plpgsql'),
		      (SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace))}),
	'0|0|0',
	'nothing was created in jobsdb');
is( $node->safe_psql(
		'otherdb', q{SELECT format('%s|%s', (SELECT count(*) FROM fieldops.job_run),
		                                     (SELECT count(*) FROM tap.beats))}),
	'0|0',
	'the due job of otherdb is not run by the launcher');
is($node->safe_psql('otherdb', 'SELECT fieldops.wake()'),
	't', 'wake() from otherdb reaches the launcher');
$loops = status('loops');
poll_ok('otherdb', "SELECT loops > $loops FROM fieldops.launcher_status()",
	'the launcher went round its loop');
is($node->safe_psql('otherdb', 'SELECT count(*) FROM fieldops.job_run'),
	'0', 'even when woken from otherdb it does not run otherdb\'s jobs');

# ---------------------------------------------------------------------------
# CREATE EXTENSION in jobsdb, noticed at the next wake-up

set_and_reload('fieldops.naptime', '3600');
poll_ok('otherdb',
	q{SELECT naptime_s = 3600 AND state = 'waiting for CREATE EXTENSION fieldops'
	   FROM fieldops.launcher_status()},
	'the launcher waits with a one-hour naptime');
$node->safe_psql('jobsdb', 'CREATE EXTENSION fieldops CASCADE');
$node->safe_psql('jobsdb', $job_sql);
$node->safe_psql('jobsdb',
	q{SELECT fieldops.schedule_job('tap_heartbeat', 'tap.heartbeat', '1 second', 'global')});

# (whether it notices before the wake-up is not tested: any signal that sets
# its latch, e.g. a sinval catch-up after the many catalog changes of CREATE
# EXTENSION, ends its nap early)
is($node->safe_psql('jobsdb', 'SELECT fieldops.wake()'), 't', 'wake the launcher');
poll_ok('jobsdb',
	q{SELECT count(*) >= 1 FROM fieldops.job_run r JOIN fieldops.job j USING (job_id)
	   WHERE j.job_name = 'tap_heartbeat' AND r.status = 'succeeded' AND r.runner = 'fieldops launcher'},
	'woken, the launcher finds the extension and runs the due job');
poll_ok('jobsdb',
	q{SELECT state = 'sleeping' AND calls >= 1 AND errors = 0 FROM fieldops.launcher_status()},
	'the launcher called run_due_jobs() without error and sleeps');
is( $node->safe_psql(
		'jobsdb',
		q{SELECT count(*) FROM fieldops.job_run r, fieldops.launcher_status() s
		   WHERE r.pid <> s.pid OR r.runner <> 'fieldops launcher'}),
	'0',
	'every run in jobsdb is the launcher\'s');
is($node->safe_psql('otherdb', 'SELECT count(*) FROM fieldops.job_run'),
	'0', 'otherdb is still left alone');

# ---------------------------------------------------------------------------
# DROP EXTENSION: back to waiting, without errors

my $calls = status('calls');
my $beats = $node->safe_psql('jobsdb', 'SELECT count(*) FROM tap.beats');
$node->safe_psql('jobsdb', 'DROP EXTENSION fieldops');
is($node->safe_psql('otherdb', 'SELECT fieldops.wake()'), 't', 'wake the launcher after DROP EXTENSION');
poll_ok('otherdb',
	q{SELECT state = 'waiting for CREATE EXTENSION fieldops' FROM fieldops.launcher_status()},
	'after DROP EXTENSION the launcher waits again');
$loops = status('loops');
is($node->safe_psql('otherdb', 'SELECT fieldops.wake()'), 't', 'wake it once more');
poll_ok('otherdb', "SELECT loops > $loops FROM fieldops.launcher_status()",
	'the launcher went round its loop again');
is(status(q{format('%s|%s|%s|%s', pid, calls, errors, state)}),
	"$pid|$calls|0|waiting for CREATE EXTENSION fieldops",
	'same launcher, no new call of run_due_jobs(), no error, still waiting');

# ---------------------------------------------------------------------------
# CREATE EXTENSION again: the launcher runs jobs again (no stale state)

$node->safe_psql('jobsdb', 'CREATE EXTENSION fieldops');
$node->safe_psql('jobsdb',
	q{SELECT fieldops.schedule_job('tap_heartbeat', 'tap.heartbeat', '1 second', 'global')});
is($node->safe_psql('jobsdb', q{SELECT fieldops.run_job_now('tap_heartbeat')}),
	't', 'run_job_now() wakes the launcher');
poll_ok('jobsdb',
	q{SELECT count(*) >= 1 FROM fieldops.job_run r JOIN fieldops.job j USING (job_id)
	   WHERE j.job_name = 'tap_heartbeat' AND r.status = 'succeeded' AND r.runner = 'fieldops launcher'},
	'after a second CREATE EXTENSION the launcher runs jobs again');
is( $node->safe_psql(
		'jobsdb',
		qq{SELECT (SELECT count(*) FROM tap.beats) - $beats
		        = (SELECT count(*) FROM fieldops.job_run r JOIN fieldops.job j USING (job_id)
		            WHERE j.job_name = 'tap_heartbeat' AND r.status = 'succeeded')}),
	't',
	'the job function ran once per recorded run');
poll_ok('otherdb',
	qq{SELECT pid = $pid AND calls > $calls AND errors = 0 AND state = 'sleeping' FROM fieldops.launcher_status()},
	'same launcher, new calls, still no error');
is($node->safe_psql('otherdb', 'SELECT count(*) FROM fieldops.job_run'),
	'0', 'otherdb was left alone throughout');

$node->stop;
unlike(slurp_file($node->logfile, $log_offset), qr/\b(ERROR|WARNING):/,
	'no ERROR or WARNING in the log since the launcher started');

done_testing();
