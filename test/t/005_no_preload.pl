# Copyright (c) 2026, fieldops developers
#
# fieldops without shared_preload_libraries: no launcher, but everything
# else works and jobs are run by whoever calls fieldops.run_due_jobs()
# (pg_cron, cron, an application).  fieldops.scheduler = off, set in
# postgresql.conf and reloaded, makes run_due_jobs() run nothing.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('nopreload');
$node->init;
$node->start;

# ---------------------------------------------------------------------------
# helpers

sub sql { return $node->safe_psql('postgres', $_[0]); }

sub job_runs
{
	my ($job) = @_;
	return sql(
		qq{SELECT count(*) FROM fieldops.job_run r JOIN fieldops.job j USING (job_id)
		    WHERE j.job_name = '$job'});
}

# ---------------------------------------------------------------------------

is(sql('SHOW shared_preload_libraries'), '', 'fieldops is not preloaded');

sql(<<'EOSQL');
CREATE EXTENSION fieldops CASCADE;
CREATE SCHEMA tap;
CREATE TABLE tap.hits (
    hit_id    bigserial PRIMARY KEY,
    job       text NOT NULL,
    tenant_id bigint
);
CREATE FUNCTION tap.tenant_job(p_tenant_id bigint, p_args jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO tap.hits (job, tenant_id) VALUES ('tenant_job', p_tenant_id);
    RETURN jsonb_build_object('tenant', p_tenant_id);
END
$$;
CREATE FUNCTION tap.global_job(p_args jsonb) RETURNS jsonb
LANGUAGE sql AS $$
    INSERT INTO tap.hits (job) VALUES ('global_job') RETURNING jsonb_build_object('hit', hit_id)
$$;
EOSQL
pass('CREATE EXTENSION works without preloading');

is(sql(q{SELECT fieldops.library_info() ->> 'preloaded'}), 'false',
	'library_info() says fieldops is not preloaded');
is(sql('SELECT fieldops.wake()'), 'f', 'wake() returns false: there is no launcher');
like(sql('SELECT fieldops.receipt_key_status()'), qr/^not loaded \(fieldops is not in shared_preload_libraries\)/,
	'receipt_key_status() says photo receipts need preloading');
is(sql('SELECT fieldops.receipt_public_key() IS NULL'), 't', 'and there is no receipt key');
is(sql('SELECT count(*) FROM fieldops.launcher_status()'), '0', 'launcher_status() returns no row');
is( sql(
		q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'fieldops launcher'}),
	'0',
	'no launcher process');
# the GUCs exist once the library is loaded (a C function of the extension
# or LOAD loads it)
is(sql(q{LOAD 'fieldops'; SHOW fieldops.scheduler}), 'internal',
	'fieldops.scheduler defaults to internal');

my $t1 = sql(q{SELECT fieldops.create_tenant('alpha', 'Asia/Shanghai')});
my $t2 = sql(q{SELECT fieldops.create_tenant('beta', 'Asia/Shanghai')});
sql(q{SELECT fieldops.schedule_job('tap_tenant_job', 'tap.tenant_job', '1 hour', 'tenant')});
sql(q{SELECT fieldops.schedule_job('tap_global_job', 'tap.global_job', '1 hour', 'global')});
is(sql(q{SELECT fieldops.run_job_now('tap_global_job')}),
	'f', 'run_job_now() returns false: no launcher was woken');

# nobody runs the jobs by themselves (there is no launcher to wait for, so
# this is only a snapshot: the jobs have been due since schedule_job())
is(sql('SELECT count(*) FROM fieldops.job_run'), '0', 'no job has run by itself');

# ---------------------------------------------------------------------------
# CALL run_due_jobs() runs what is due, as the session's application_name

my $out = sql(
	q{SET application_name = 'tap_cron';
	  CALL fieldops.run_due_jobs();
	  SELECT pg_backend_pid();});
my ($runs, $session_pid) = split /\n/, $out;
# due: tap_tenant_job and the built-in apply_departures, outbox_purge,
# fix_purge, radio_map, pool_release, photo_nonce_purge, work_order_sla and
# kpi_rollup for two tenants each,
# tap_global_job and the built-in job_run_purge and fix_partitions once
is($runs, '21', 'run_due_jobs() reports 21 runs');
is(sql('SELECT count(*) FROM fieldops.job_run'), $runs, 'one job_run row per reported run');
is( sql(
		q{SELECT format('%s|%s|%s', count(DISTINCT pid), bool_and(status = 'succeeded'),
		                string_agg(DISTINCT runner, ','))
		    FROM fieldops.job_run}),
	"1|t|tap_cron",
	'all runs succeeded, in one session, with the application_name as runner');
is(sql('SELECT DISTINCT pid FROM fieldops.job_run'), $session_pid, 'the runs carry the session\'s pid');
is( sql(
		q{SELECT string_agg(format('%s:%s', h.job, h.tenant_id), ',' ORDER BY h.hit_id) FROM tap.hits h}),
	"tenant_job:$t1,tenant_job:$t2,global_job:",
	'the custom jobs ran once per tenant and once globally');
is(sql(q{SELECT count(*) FROM fieldops.job WHERE next_run_at <= now()}),
	'0', 'no job is due any more');

is(sql('CALL fieldops.run_due_jobs()'), '0', 'a second call runs nothing');
is(sql('SELECT count(*) FROM fieldops.job_run'), '21', 'and records nothing');

# without application_name the runner is the session user
sql(q{SELECT fieldops.alter_job('tap_global_job', p_next_run_at => now())});
$out = sql(
	q{SET application_name = '';
	  CALL fieldops.run_due_jobs();
	  SELECT session_user;});
my ($runs2, $user) = split /\n/, $out;
is($runs2, '1', 'the job made due again runs once');
is( sql(
		q{SELECT r.runner FROM fieldops.job_run r JOIN fieldops.job j USING (job_id)
		   WHERE j.job_name = 'tap_global_job' ORDER BY r.run_id DESC LIMIT 1}),
	$user,
	'without application_name the runner is the session user');

# ---------------------------------------------------------------------------
# fieldops.scheduler = off (postgresql.conf + reload)

$node->append_conf('postgresql.conf', "fieldops.scheduler = off\n");
$node->reload;
ok($node->poll_query_until('postgres', q{SELECT current_setting('fieldops.scheduler') = 'off'}),
	'the reload sets fieldops.scheduler to off');

sql(q{SELECT fieldops.alter_job('tap_global_job', p_next_run_at => now())});
sql(q{SELECT fieldops.alter_job('tap_tenant_job', p_next_run_at => now())});
my $before = sql('SELECT count(*) FROM fieldops.job_run');
my ($ret, $stdout, $stderr) = $node->psql('postgres', 'CALL fieldops.run_due_jobs()');
is($ret, 0, 'run_due_jobs() succeeds with scheduler off');
is($stdout, '0', 'it reports 0 runs');
like($stderr, qr/NOTICE:  fieldops\.scheduler is off: no job was run/, 'it says why with a NOTICE');
is(sql('SELECT count(*) FROM fieldops.job_run'), $before, 'no run was recorded');
is( sql(
		q{SELECT count(*) FROM fieldops.job WHERE job_name IN ('tap_global_job', 'tap_tenant_job')
		   AND next_run_at <= now()}),
	'2',
	'the due jobs are still due');

# the same in a session that has not loaded the library itself yet (the
# setting is then read as a placeholder)
($ret, $stdout, $stderr) = $node->psql('postgres',
	q{SELECT count(*) FROM pg_stat_activity WHERE false; CALL fieldops.run_due_jobs()});
is($stdout, "0\n0", 'a fresh session runs nothing either');

# back on: the due jobs run
$node->adjust_conf('postgresql.conf', 'fieldops.scheduler', 'internal');
$node->reload;
ok($node->poll_query_until('postgres', q{SELECT current_setting('fieldops.scheduler') = 'internal'}),
	'the reload sets fieldops.scheduler back to internal');
is(sql('CALL fieldops.run_due_jobs()'), '3', 'the due jobs run again (1 global + 2 tenant runs)');
is(job_runs('tap_tenant_job'), '4', 'the tenant job has run twice for each of the two tenants');

$node->stop;

done_testing();
