# Copyright (c) 2026, fieldops developers
#
# pg_dump / pg_restore of a database using fieldops.
#
# The extension's tables are registered with pg_extension_config_dump(), so
# a dump holds CREATE EXTENSION plus the user-data rows of those tables (and
# the positions of their sequences).  This test fills a database with two
# generated tenants (test/generators/sample_tenant.sql), job runs, a custom
# job and tenant access grants, dumps it with pg_dump -Fc, restores it into
# a new database and checks:
#
#   (a) pg_dump and pg_restore exit 0, pg_restore prints no error;
#   (b) every table of schema fieldops is identical (row count + md5 of the
#       ordered rows) and every sequence is at the same position;
#   (c) the API inserts new rows after the restore (no duplicate key: the
#       sequences were restored), and the custom job runs there;
#   (d) row-level security still isolates tenants: a role granted tenant 1
#       only (SET ROLE, as psql would) can choose tenant 1 and see only its
#       rows, and set_tenant(2) fails with 42501;
#   (e) DROP EXTENSION fieldops removes everything: no object of schema
#       fieldops is left and the schema is gone.
use strict;
use warnings;

use File::Basename qw(dirname);
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $test_dir = $ENV{FIELDOPS_TEST_DIR} // dirname(dirname(__FILE__));
my $generator = "$test_dir/generators/sample_tenant.sql";
-f $generator or BAIL_OUT("generator not found: $generator (set FIELDOPS_TEST_DIR)");

my $node = PostgreSQL::Test::Cluster->new('dump_restore');
$node->init;
$node->append_conf(
	'postgresql.conf', q{
shared_preload_libraries = 'fieldops'
fieldops.scheduler = external
});
$node->start;

my $src = 'fieldops_src';
my $dst = 'fieldops_restored';

sub sql { my ($db, $query) = @_; return $node->safe_psql($db, $query); }

sub create_db
{
	my ($db) = @_;
	sql('postgres',
		"CREATE DATABASE $db TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C'");
}

# run a client program against the node: (exit status, stdout, stderr)
sub run_client
{
	my (@cmd) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run(\@cmd, '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err);
}

# every table of schema fieldops: "rows md5", and every sequence: "last_value is_called"
sub fingerprint
{
	my ($db) = @_;
	my %fp;
	my @tables = split /\n/, sql($db,
		q{SELECT relname FROM pg_class
		   WHERE relnamespace = 'fieldops'::regnamespace AND relkind IN ('r', 'p')
		   ORDER BY relname});
	for my $t (@tables)
	{
		$fp{"table $t"} = sql($db,
			"SELECT count(*) || ' ' || COALESCE(md5(string_agg(t::text, '|' ORDER BY t::text)), '-')
			   FROM fieldops.$t t");
	}
	my @seqs = split /\n/, sql($db,
		q{SELECT relname FROM pg_class
		   WHERE relnamespace = 'fieldops'::regnamespace AND relkind = 'S'
		   ORDER BY relname});
	for my $s (@seqs)
	{
		$fp{"sequence $s"} =
		  sql($db, "SELECT last_value || ' ' || is_called FROM fieldops.$s");
	}
	return \%fp;
}

# ---------------------------------------------------------------------------
# the source database: two tenants, jobs and their runs, grants

create_db($src);
sql($src, 'SET client_min_messages = warning; CREATE EXTENSION fieldops CASCADE');
sql($src, slurp_file($generator));
my $t1 = sql($src,
	q{SELECT fieldops_sample.generate_tenant('沪上优选快消 (TAP)', 0.42, 16, 300)});
my $t2 = sql($src,
	q{SELECT fieldops_sample.generate_tenant('浦江便利 (TAP)', -0.3, 10, 120)});
ok($t1 > 0 && $t2 > $t1, "two tenants generated ($t1, $t2)");

sql($src, 'CALL fieldops.run_due_jobs()');

# a custom tenant job calling a function outside the extension
sql(
	$src, q{
CREATE SCHEMA ops;
CREATE FUNCTION ops.nightly_kpi(p_tenant_id bigint, p_args jsonb) RETURNS jsonb
LANGUAGE sql AS $$
    SELECT jsonb_build_object('workers', (SELECT count(*) FROM fieldops.worker w WHERE w.tenant_id = p_tenant_id),
                              'customers', (SELECT count(*) FROM fieldops.customer c WHERE c.tenant_id = p_tenant_id),
                              'args', p_args)
$$;
SELECT fieldops.schedule_job('nightly_kpi', 'ops.nightly_kpi', '1 day', 'tenant',
                             '{"window": "1 day"}', 'KPI snapshot per tenant');
});
sql($src, 'CALL fieldops.run_due_jobs()');
is( sql($src,
		q{SELECT count(*) FROM fieldops.job_run r JOIN fieldops.job j USING (job_id)
		   WHERE j.job_name = 'nightly_kpi' AND r.status = 'succeeded'}),
	'2',
	'the custom job ran once per tenant');

# tenant access grants: one tenant, and every tenant (tenant_id NULL)
sql(
	$src, qq{
CREATE ROLE tap_relay NOLOGIN;
GRANT fieldops_app TO tap_relay;
SELECT fieldops.grant_tenant_access('tap_relay', $t2);
CREATE ROLE tap_app_server NOLOGIN;
GRANT fieldops_app TO tap_app_server;
SELECT fieldops.grant_tenant_access('tap_app_server', NULL);
});

# some events published, so published_at is not always NULL
sql(
	$src, qq{
BEGIN;
SELECT fieldops.set_tenant($t1);
SELECT fieldops.outbox_ack($t1, ARRAY(SELECT event_id FROM fieldops.outbox_fetch($t1, 50)));
COMMIT;
});
is(sql($src, 'SELECT count(*) FROM fieldops.outbox WHERE published_at IS NOT NULL'),
	'50', 'a relay has published 50 events');

my $before = fingerprint($src);
for my $t ('tenant', 'region', 'team', 'worker', 'device', 'device_binding',
	'customer', 'outbox', 'job', 'job_run', 'tenant_access')
{
	my ($rows) = split / /, $before->{"table $t"};
	ok($rows > 0, "source table $t has rows ($rows)");
}

# ---------------------------------------------------------------------------
# (a) dump and restore

my $dump = $PostgreSQL::Test::Utils::tmp_check . '/fieldops_src.dump';
my @conn = ('-h', $node->host, '-p', $node->port);

my ($rc, $out, $err) = run_client('pg_dump', '-Fc', @conn, '-f', $dump, $src);
is($rc, 0, 'pg_dump -Fc exits 0') or diag($err);
note("pg_dump said:\n$err") if $err ne '';

# the archive holds CREATE EXTENSION and the data of every configuration table
($rc, $out, $err) = run_client('pg_restore', '-l', $dump);
like($out, qr/^\d+; \d+ \d+ EXTENSION - fieldops\s*$/m, 'the archive has CREATE EXTENSION fieldops');
my @config = split /\n/, sql($src,
	q{SELECT c.relname FROM pg_extension e, unnest(e.extconfig) AS x(oid) JOIN pg_class c ON c.oid = x.oid
	   WHERE e.extname = 'fieldops' AND c.relkind IN ('r', 'p') ORDER BY 1});
ok(@config >= 11, 'fieldops registers its tables with pg_extension_config_dump (' . scalar(@config) . ')');
for my $t (@config)
{
	like($out, qr/^\d+; \d+ \d+ TABLE DATA fieldops $t /m, "the archive has the data of fieldops.$t");
}

create_db($dst);
($rc, $out, $err) = run_client('pg_restore', @conn, '-d', $dst, $dump);
is($rc, 0, 'pg_restore exits 0');
unlike($err, qr/error/i, 'pg_restore prints no error') or diag("pg_restore said:\n$err");

is(sql($dst, q{SELECT extversion FROM pg_extension WHERE extname = 'fieldops'}),
	sql($src, q{SELECT extversion FROM pg_extension WHERE extname = 'fieldops'}),
	'the restored database has the extension, same version');

# ---------------------------------------------------------------------------
# (b) identical tables and sequences

my $after = fingerprint($dst);
is_deeply([ sort keys %$after ], [ sort keys %$before ],
	'same tables and sequences in schema fieldops');
for my $k (sort keys %$before)
{
	is($after->{$k}, $before->{$k}, "$k identical after restore");
}

# ---------------------------------------------------------------------------
# (c) the API works after the restore: new ids above the restored ones

my $api = sql(
	$dst, qq{
CREATE TEMP TABLE old_max AS
SELECT (SELECT max(region_id) FROM fieldops.region) AS region,
       (SELECT max(team_id) FROM fieldops.team) AS team,
       (SELECT max(worker_id) FROM fieldops.worker) AS worker,
       (SELECT max(device_id) FROM fieldops.device) AS device,
       (SELECT max(binding_id) FROM fieldops.device_binding) AS binding,
       (SELECT max(customer_id) FROM fieldops.customer) AS customer,
       (SELECT max(event_id) FROM fieldops.outbox) AS event,
       (SELECT max(tenant_id) FROM fieldops.tenant) AS tenant,
       (SELECT max(job_id) FROM fieldops.job) AS job,
       (SELECT max(run_id) FROM fieldops.job_run) AS run;
BEGIN;
SELECT fieldops.set_tenant($t1) AS selected_tenant \\gset
CREATE TEMP TABLE new_ids AS
WITH r AS (SELECT fieldops.upsert_region($t1, 'SH-TAP', '测试区', NULL) AS id),
     tm AS (SELECT fieldops.upsert_team($t1, 'TAP-SALES', '测试销售组', (SELECT id FROM r)) AS id),
     w AS (SELECT fieldops.upsert_worker($t1, 'TAP0001', '测试员', (SELECT id FROM tm), NULL,
                                         '+86 138 0000 0001', '销售代表', 'P1', '2026-01-05') AS id),
     d AS (SELECT * FROM fieldops.register_device($t1, 'tap-device-0001', (SELECT id FROM w), 'android', 'Xiaomi 14')),
     c AS (SELECT fieldops.upsert_customer($t1, 'TAP-C000001', '测试便利店（人民广场店）',
                                           ST_SetSRID(ST_MakePoint(121.4737, 31.2304), 4326),
                                           '上海市黄浦区人民大道1号', 'A', '便利店',
                                           (SELECT id FROM r), (SELECT id FROM w)) AS id)
SELECT (SELECT id FROM r) AS region, (SELECT id FROM tm) AS team, (SELECT id FROM w) AS worker,
       (SELECT device_id FROM d) AS device, (SELECT status FROM d) AS device_status,
       (SELECT id FROM c) AS customer;
COMMIT;
SELECT n.region > o.region, n.team > o.team, n.worker > o.worker, n.device > o.device,
       n.device_status = 'bound', n.customer > o.customer,
       (SELECT max(binding_id) FROM fieldops.device_binding) > o.binding,
       (SELECT max(event_id) FROM fieldops.outbox) > o.event,
       fieldops.create_tenant('TAP after restore') > o.tenant,
       fieldops.schedule_job('tap_after_restore', 'ops.nightly_kpi', '1 hour') > o.job
  FROM new_ids n, old_max o;
});
is($api, 't|t|t|t|t|t|t|t|t|t',
	'upsert_region/team/worker, register_device, upsert_customer, create_tenant and schedule_job insert new rows after the restore'
);

my $old_run = sql($dst, 'SELECT max(run_id) FROM fieldops.job_run');
sql($dst, q{SELECT fieldops.alter_job('nightly_kpi', p_next_run_at => now())});
sql($dst, 'CALL fieldops.run_due_jobs()');
is( sql($dst,
		qq{SELECT count(*) FILTER (WHERE j.job_name = 'nightly_kpi' AND r.status = 'succeeded')
		           || ' ' || count(*) FILTER (WHERE r.status <> 'succeeded')
		     FROM fieldops.job_run r JOIN fieldops.job j USING (job_id)
		    WHERE r.run_id > $old_run}),
	'3 0',
	'after the restore the custom job runs for each active tenant (3), no run fails');

# ---------------------------------------------------------------------------
# (d) row-level security in the restored database

sql(
	$dst, qq{
CREATE ROLE tap_tenant1_app LOGIN;
GRANT fieldops_app TO tap_tenant1_app;
SELECT fieldops.grant_tenant_access('tap_tenant1_app', $t1);
});
my ($t1_workers, $t1_customers) = split /\|/, sql($dst,
	"SELECT (SELECT count(*) FROM fieldops.worker WHERE tenant_id = $t1),
	        (SELECT count(*) FROM fieldops.customer WHERE tenant_id = $t1)");

is( sql($dst,
		qq{SET ROLE tap_tenant1_app;
		   SELECT count(*) FROM fieldops.worker;
		   SELECT fieldops.set_tenant($t1, false);
		   SELECT count(*) || ' ' || count(DISTINCT tenant_id) FROM fieldops.worker;
		   SELECT count(*) FROM fieldops.customer;
		   SELECT count(*) FROM fieldops.customer WHERE tenant_id = $t2;
		   SELECT fieldops.upsert_region($t1, 'SH-RLS', 'RLS 测试区') > 0;}),
	"0\n$t1\n$t1_workers 1\n$t1_customers\n0\nt",
	'a role granted tenant 1: no rows before set_tenant, then only tenant 1 rows, and the API works'
);

my ($stdout, $stderr);
$node->psql(
	$dst,
	qq{\\set VERBOSITY verbose
SET ROLE tap_tenant1_app;
SELECT fieldops.set_tenant($t2);},
	stdout => \$stdout,
	stderr => \$stderr);
like($stderr, qr/ERROR:\s+42501: permission denied for tenant $t2/,
	'set_tenant(tenant 2) fails with 42501 for a role granted tenant 1 only');

$node->psql(
	$dst,
	qq{\\set VERBOSITY verbose
SET ROLE tap_tenant1_app;
BEGIN;
SELECT fieldops.set_tenant($t1);
SELECT fieldops.upsert_region($t2, 'SH-X', 'x');},
	stdout => \$stdout,
	stderr => \$stderr);
like($stderr, qr/ERROR:\s+42501: p_tenant_id $t2 is not the tenant selected/,
	'an API call for tenant 2 fails with 42501 while tenant 1 is selected');

# ---------------------------------------------------------------------------
# (e) DROP EXTENSION removes everything

sql($dst, 'DROP EXTENSION fieldops');
is(sql($dst, q{SELECT count(*) FROM pg_extension WHERE extname = 'fieldops'}),
	'0', 'DROP EXTENSION fieldops: the extension is gone');
is( sql($dst,
		q{WITH n AS (SELECT oid FROM pg_namespace WHERE nspname = 'fieldops')
		  SELECT (SELECT count(*) FROM pg_class WHERE relnamespace IN (SELECT oid FROM n))
		       + (SELECT count(*) FROM pg_proc WHERE pronamespace IN (SELECT oid FROM n))
		       + (SELECT count(*) FROM pg_type WHERE typnamespace IN (SELECT oid FROM n))
		       + (SELECT count(*) FROM pg_constraint WHERE connamespace IN (SELECT oid FROM n))
		       + (SELECT count(*) FROM pg_operator WHERE oprnamespace IN (SELECT oid FROM n))
		       + (SELECT count(*) FROM pg_opclass WHERE opcnamespace IN (SELECT oid FROM n))
		       + (SELECT count(*) FROM pg_opfamily WHERE opfnamespace IN (SELECT oid FROM n))
		       + (SELECT count(*) FROM pg_collation WHERE collnamespace IN (SELECT oid FROM n))
		       + (SELECT count(*) FROM pg_conversion WHERE connamespace IN (SELECT oid FROM n))
		       + (SELECT count(*) FROM pg_statistic_ext WHERE stxnamespace IN (SELECT oid FROM n))
		       + (SELECT count(*) FROM pg_ts_config WHERE cfgnamespace IN (SELECT oid FROM n))
		       + (SELECT count(*) FROM pg_ts_dict WHERE dictnamespace IN (SELECT oid FROM n))
		       + (SELECT count(*) FROM pg_default_acl WHERE defaclnamespace IN (SELECT oid FROM n))}),
	'0',
	'DROP EXTENSION fieldops: no object of schema fieldops is left');
is(sql($dst, q{SELECT count(*) FROM pg_namespace WHERE nspname = 'fieldops'}),
	'0', 'DROP EXTENSION fieldops: schema fieldops is gone');
is( sql($dst,
		q{SELECT count(*) FROM pg_roles
		   WHERE rolname IN ('fieldops_admin', 'fieldops_app', 'fieldops_analyst', 'fieldops_api')}),
	'4',
	'the cluster-wide roles stay (other databases may use them)');

# the source database is untouched by all this
is_deeply(fingerprint($src), $before, 'the source database is unchanged');

$node->stop;
done_testing();
