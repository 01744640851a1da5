# Copyright (c) 2026, fieldops developers
#
# The launcher and streaming replication.  The launcher is registered with
# BgWorkerStart_RecoveryFinished: a hot standby that preloads fieldops has no
# launcher and runs nothing; the primary's job runs replicate to it; after
# promotion the launcher starts on the promoted node and runs jobs there.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FieldopsTest;

my $conf = q{
shared_preload_libraries = 'fieldops'
fieldops.database = 'postgres'
fieldops.naptime = 1
};

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', $conf);
$primary->start;

# ---------------------------------------------------------------------------
# helpers (shared ones come from FieldopsTest.pm)

sub poll_ok { my $n = shift; unshift @_, $n, 'postgres'; goto &FieldopsTest::poll_ok; }

sub launcher_pid { return FieldopsTest::launcher_pid($_[0]); }

# ---------------------------------------------------------------------------
# primary: extension and a job that runs every second

$primary->safe_psql('postgres', <<'EOSQL');
CREATE EXTENSION fieldops CASCADE;
CREATE SCHEMA tap;
CREATE TABLE tap.beats (
    beat_id bigserial PRIMARY KEY,
    in_recovery boolean NOT NULL,
    pid integer NOT NULL
);
CREATE FUNCTION tap.heartbeat(p_args jsonb) RETURNS jsonb
LANGUAGE sql AS $$
    INSERT INTO tap.beats (in_recovery, pid) VALUES (pg_is_in_recovery(), pg_backend_pid())
    RETURNING jsonb_build_object('beat', beat_id)
$$;
SELECT fieldops.schedule_job('tap_heartbeat', 'tap.heartbeat', '1 second', 'global');
EOSQL

poll_ok($primary,
	q{SELECT count(*) >= 2 FROM fieldops.job_run r JOIN fieldops.job j USING (job_id)
	   WHERE j.job_name = 'tap_heartbeat' AND r.status = 'succeeded'},
	'the primary\'s launcher runs the job');
my $primary_pid = launcher_pid($primary);
like($primary_pid, qr/^\d+$/, 'the primary has a launcher');

# ---------------------------------------------------------------------------
# standby (postgresql.conf comes with the backup: it preloads fieldops too)

$primary->backup('bkp');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'bkp', has_streaming => 1);
$standby->start;
$primary->wait_for_catchup($standby);

is($standby->safe_psql('postgres', 'SELECT pg_is_in_recovery()'), 't', 'the standby is in recovery');
is( $standby->safe_psql('postgres', q{SHOW shared_preload_libraries}),
	'fieldops', 'the standby preloads fieldops');
is( $standby->safe_psql(
		'postgres',
		q{SELECT format('%s|%s|%s', pid IS NULL, state, calls) FROM fieldops.launcher_status()}),
	't|not started|0',
	'launcher_status() on the standby: no launcher pid, not started, no call');
is( $standby->safe_psql(
		'postgres',
		q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'fieldops launcher'}),
	'0',
	'no fieldops launcher process on the standby');
is($standby->safe_psql('postgres', 'SELECT fieldops.wake()'),
	'f', 'wake() on the standby returns false');

# an external scheduler (cron on every node) calling run_due_jobs() on the
# standby runs nothing and gets a notice, not an error
my ($ret, $stdout, $stderr) = $standby->psql('postgres', 'CALL fieldops.run_due_jobs()');
is($ret, 0, 'run_due_jobs() on the standby succeeds');
like($stderr, qr/NOTICE:  this server is a standby: jobs run on the primary/, 'and says that jobs run on the primary');
is($stdout, '0', 'having run nothing');

# the primary keeps running the job and its runs replicate
my $max_run = $primary->safe_psql('postgres', 'SELECT max(run_id) FROM fieldops.job_run');
poll_ok($primary,
	qq{SELECT count(*) >= 3 FROM fieldops.job_run WHERE run_id > $max_run AND status = 'succeeded'},
	'job_run keeps growing on the primary');
$max_run = $primary->safe_psql('postgres', 'SELECT max(run_id) FROM fieldops.job_run');
$primary->wait_for_catchup($standby);
is( $standby->safe_psql(
		'postgres',
		qq{SELECT format('%s|%s', status, pid) FROM fieldops.job_run WHERE run_id = $max_run}),
	"succeeded|$primary_pid",
	'the primary\'s latest run has replicated to the standby');

# nothing ran on the standby: every beat was written by the primary's launcher
is( $standby->safe_psql(
		'postgres',
		qq{SELECT count(*) FROM tap.beats WHERE in_recovery OR pid <> $primary_pid}),
	'0',
	'every replicated beat was written on the primary by its launcher');
is( $standby->safe_psql(
		'postgres', q{SELECT count(*) FROM fieldops.launcher_status() WHERE pid IS NOT NULL OR loops > 0}),
	'0',
	'still no launcher on the standby after the primary ran more jobs');

# ---------------------------------------------------------------------------
# promotion: the launcher starts on the promoted node

$primary->stop;
my $last_primary_run = $standby->safe_psql('postgres', 'SELECT max(run_id) FROM fieldops.job_run');
$standby->promote;
is($standby->safe_psql('postgres', 'SELECT pg_is_in_recovery()'), 'f', 'the standby is promoted');

poll_ok($standby,
	q{SELECT pid IS NOT NULL AND calls > 0 FROM fieldops.launcher_status()},
	'a launcher starts on the promoted node and calls run_due_jobs()');
my $promoted_pid = launcher_pid($standby);
is( $standby->safe_psql(
		'postgres',
		qq{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'fieldops launcher' AND pid = $promoted_pid}),
	'1',
	'the promoted node\'s launcher is in its pg_stat_activity');
poll_ok($standby,
	qq{SELECT count(*) >= 2 FROM fieldops.job_run
	    WHERE run_id > $last_primary_run AND status = 'succeeded' AND pid = $promoted_pid
	      AND runner = 'fieldops launcher'},
	'the promoted node runs the job with its own launcher');
is( $standby->safe_psql(
		'postgres',
		qq{SELECT (SELECT count(*) FROM tap.beats WHERE pid = $promoted_pid AND NOT in_recovery)
		        = (SELECT count(*) FROM fieldops.job_run r JOIN fieldops.job j USING (job_id)
		            WHERE j.job_name = 'tap_heartbeat' AND r.status = 'succeeded' AND r.pid = $promoted_pid)}),
	't',
	'each run on the promoted node did its work there');
# a run the primary's launcher left running when it was stopped is an orphan
# on the promoted node, and the first run_due_jobs() there fails it
is( $standby->safe_psql(
		'postgres',
		qq{SELECT count(*) FROM fieldops.job_run WHERE status = 'running' AND pid <> $promoted_pid}),
	'0',
	'no run of the old primary is left running');
is( $standby->safe_psql(
		'postgres',
		qq{SELECT count(*) FROM fieldops.job_run WHERE run_id > $last_primary_run AND pid <> $promoted_pid}),
	'0',
	'after promotion only the promoted node\'s launcher runs jobs');

$standby->stop;
my @errors = (slurp_file($standby->logfile) =~ /\bERROR:  (.*)/g);
is_deeply(\@errors, [], 'no ERROR in the standby\'s log');

done_testing();
