# Copyright (c) 2026, fieldops developers
#
# pg_dump / pg_restore of a database using fieldops.
#
# The extension's tables are registered with pg_extension_config_dump(), so
# a dump holds CREATE EXTENSION plus the user-data rows of those tables (and
# the positions of their sequences).  The daily partitions of fieldops.fix
# are created after CREATE EXTENSION (by the fix_partitions job or
# ensure_fix_partitions()), so they are not members of the extension:
# pg_dump dumps them as ordinary tables, definition and rows, and the
# restore attaches them to the extension's fieldops.fix again.  This test
# fills a database with two generated tenants
# (test/generators/sample_tenant.sql), job runs, a custom job, tenant access
# grants and location fixes (in daily partitions made by the job and by
# ensure_fix_partitions(), and in the default partition), dumps it with
# pg_dump -Fc, restores it into a new database and checks:
#
#   (a) pg_dump and pg_restore exit 0, pg_restore prints no error;
#   (b) every table of schema fieldops is identical (row count + md5 of the
#       ordered rows) and every sequence is at the same position; the daily
#       partitions are partitions of fieldops.fix again, with their key,
#       index and row-level security;
#   (c) the API inserts new rows after the restore (no duplicate key: the
#       sequences were restored), ingest_fixes() stores new fixes and
#       recognises the restored ones as duplicates, and the custom job runs
#       there;
#   (d) row-level security still isolates tenants: a role granted tenant 1
#       only (SET ROLE, as psql would) can choose tenant 1 and see only its
#       rows, and set_tenant(2) fails with 42501;
#   (e) DROP EXTENSION fieldops removes everything: no object of schema
#       fieldops is left (the daily partitions included) and the schema is
#       gone.
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

# location fixes of both tenants.  One phone per tenant; its binding is
# moved back 30 days (the API stamps bindings with the current time), and
# the tenants store off-duty fixes so that the time of day does not matter.
# Fixes 1 hour ago land in a partition the fix_partitions job made (it ran
# above), fixes 3 days ago in one made by ensure_fix_partitions() (which
# moves them out of the default partition), fixes 5 days ago stay in the
# default partition.
my %phone;
for my $t ($t1, $t2)
{
	$phone{$t} = sql($src,
		qq{SELECT device_uid FROM fieldops.device WHERE tenant_id = $t AND worker_id IS NOT NULL
		    ORDER BY device_id LIMIT 1});
	sql($src,
		qq{SELECT fieldops.alter_tenant($t, p_settings => '{"store_off_duty_fixes": true}');
		   UPDATE fieldops.device_binding b SET bound_at = now() - interval '30 days'
		     FROM fieldops.device d
		    WHERE d.tenant_id = $t AND d.device_uid = '$phone{$t}'
		      AND b.tenant_id = d.tenant_id AND b.device_id = d.device_id AND b.unbound_at IS NULL;});
}

# a batch of fixes of one phone, recorded at now() minus each interval;
# an interval of days counts back from today's noon (UTC), so that the
# fixes of one day share a daily partition at any time of day
sub fix_batch
{
	my ($uid, @ago) = @_;
	my $items = join(', ', map { "'$_'" } @ago);
	return qq{(SELECT jsonb_agg(jsonb_build_object(
	            'device_uid', '$uid',
	            'recorded_at', to_char(CASE WHEN a LIKE '%day%'
	                                        THEN (date_trunc('day', now() AT TIME ZONE 'UTC') + interval '12 hours') AT TIME ZONE 'UTC'
	                                        ELSE now() END - a::interval, 'YYYY-MM-DD"T"HH24:MI:SS.USOF'),
	            'lat', 31.2304 + 0.001 * n, 'lon', 121.4737, 'provider', 'gps', 'accuracy_m', 8) ORDER BY n)
	          FROM unnest(ARRAY[$items]) WITH ORDINALITY AS x(a, n))};
}

# ingest a batch: the statuses, off_duty counted as stored when it was
# (the tenants store off-duty fixes; which it is depends on the time of day)
sub ingest
{
	my ($db, $t, $batch) = @_;
	return sql($db,
		qq{BEGIN;
		   SELECT fieldops.set_tenant($t) IS NULL;
		   SELECT string_agg(CASE WHEN status = 'off_duty' AND fix_id IS NOT NULL THEN 'stored' ELSE status END, ','
		                     ORDER BY idx)
		     FROM fieldops.ingest_fixes($t, $batch);
		   COMMIT;});
}

# (the recent fixes are minutes old: in the first minutes of a UTC day
# they would fall on two days, so wait until they cannot)
my $utc_s = sql($src, q{SELECT extract(epoch FROM now() - date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')::int});
sleep(240 - $utc_s) if $utc_s < 240;
like(ingest($src, $t1, fix_batch($phone{$t1}, '3 minutes', '2 minutes', '1 minutes',
	'3 days', '3 days 10 minutes', '5 days', '5 days 10 minutes')),
	qr/^f\nstored(,stored){6}$/, 'tenant 1 stores 7 fixes');
like(ingest($src, $t2, fix_batch($phone{$t2}, '2 minutes', '5 days')),
	qr/^f\nstored,stored$/, 'tenant 2 stores 2 fixes');
is( sql($src,
		q{SELECT string_agg(partition_name || ':' || rows_moved, ',')
		    FROM fieldops.ensure_fix_partitions((now() AT TIME ZONE 'UTC')::date - 3, (now() AT TIME ZONE 'UTC')::date - 3)}),
	'fix_p' . sql($src, q{SELECT to_char((now() AT TIME ZONE 'UTC')::date - 3, 'YYYYMMDD')}) . ':2',
	'ensure_fix_partitions() creates the partition of 3 days ago and moves its 2 fixes out of the default partition');
my $fix_places = sql($src,
	q{SELECT count(*) FILTER (WHERE tableoid = 'fieldops.fix_default'::regclass) || ' '
	      || count(DISTINCT tableoid) FILTER (WHERE tableoid <> 'fieldops.fix_default'::regclass)
	    FROM fieldops.fix});
is($fix_places, '3 2', 'fixes in the default partition (3) and in two daily partitions');
my @daily = split /\n/, sql($src,
	q{SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
	   WHERE i.inhparent = 'fieldops.fix'::regclass AND c.relname <> 'fix_default' ORDER BY 1});
ok(@daily >= 10, 'daily partitions exist (' . scalar(@daily) . ': the job made 9, ensure_fix_partitions() one)');
is( sql($src,
		q{SELECT count(*) FROM pg_depend d
		   WHERE d.classid = 'pg_class'::regclass AND d.deptype = 'e'
		     AND d.objid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = 'fieldops.fix'::regclass)}),
	'1', 'of the partitions only fix_default is a member of the extension');

my $before = fingerprint($src);
for my $t ('tenant', 'region', 'team', 'worker', 'device', 'device_binding',
	'customer', 'outbox', 'job', 'job_run', 'tenant_access', 'fix', 'fix_default')
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
# (a partitioned table has no data of its own: fieldops.fix is registered,
# its rows are in the partitions)
my @config = split /\n/, sql($src,
	q{SELECT c.relname FROM pg_extension e, unnest(e.extconfig) AS x(oid) JOIN pg_class c ON c.oid = x.oid
	   WHERE e.extname = 'fieldops' AND c.relkind = 'r' ORDER BY 1});
ok(@config >= 12, 'fieldops registers its tables with pg_extension_config_dump (' . scalar(@config) . ')');
for my $t (@config)
{
	like($out, qr/^\d+; \d+ \d+ TABLE DATA fieldops $t /m, "the archive has the data of fieldops.$t");
}
# the daily partitions are not members: definition, attachment and rows
for my $t (@daily)
{
	like($out, qr/^\d+; \d+ \d+ TABLE fieldops $t /m, "the archive defines fieldops.$t");
	like($out, qr/^\d+; \d+ \d+ TABLE ATTACH fieldops $t /m, "the archive attaches fieldops.$t");
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

# the partitions of fieldops.fix, as partitions: bounds, key and track
# index, row-level security with both policies, privileges, membership
my $partitions_query = q{
	SELECT string_agg(format('%s %s %s rls=%s policies=%s acl=%s member=%s', c.relname,
	                         pg_get_expr(c.relpartbound, c.oid),
	                         (SELECT string_agg(pg_get_indexdef(x.indexrelid), ';' ORDER BY pg_get_indexdef(x.indexrelid)) FROM pg_index x WHERE x.indrelid = c.oid),
	                         c.relrowsecurity,
	                         (SELECT string_agg(polname, ',' ORDER BY polname) FROM pg_policy WHERE polrelid = c.oid),
	                         (SELECT string_agg(a::text, ',' ORDER BY a::text) FROM unnest(c.relacl) a),
	                         EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')),
	                  E'\n' ORDER BY c.relname)
	  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
	 WHERE i.inhparent = 'fieldops.fix'::regclass};
is(sql($dst, $partitions_query), sql($src, $partitions_query),
	'the partitions of fieldops.fix are restored as partitions, with key, index, row-level security and privileges');

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

# ingest after the restore: new fixes get new ids; the restored fixes, in a
# daily partition and in the default partition, are duplicates
my $old_fix = sql($dst, 'SELECT max(fix_id) FROM fieldops.fix');
my $restored = sql($dst,
	qq{SELECT string_agg(to_char(recorded_at, 'YYYY-MM-DD"T"HH24:MI:SS.USOF'), ',' ORDER BY recorded_at)
	     FROM fieldops.fix f JOIN fieldops.device d USING (tenant_id, device_id)
	    WHERE f.tenant_id = $t1 AND d.device_uid = '$phone{$t1}'
	      AND f.recorded_at IN ((SELECT min(recorded_at) FROM fieldops.fix WHERE tenant_id = $t1),
	                            (SELECT max(recorded_at) FROM fieldops.fix WHERE tenant_id = $t1))});
my ($oldest, $newest) = split /,/, $restored;
is( sql($dst,
		qq{BEGIN;
		   SELECT fieldops.set_tenant($t1) IS NULL;
		   SELECT string_agg(CASE WHEN r.status = 'off_duty' AND r.fix_id IS NOT NULL THEN 'stored' ELSE r.status END
		                     || ':' || CASE WHEN r.fix_id > $old_fix THEN 'new' ELSE 'old' END, ',' ORDER BY r.idx)
		     FROM fieldops.ingest_fixes($t1, jsonb_build_array(
		            jsonb_build_object('device_uid', '$phone{$t1}', 'recorded_at', '$oldest', 'lat', 31.3, 'lon', 121.5, 'provider', 'gps'),
		            jsonb_build_object('device_uid', '$phone{$t1}', 'recorded_at', '$newest', 'lat', 31.3, 'lon', 121.5, 'provider', 'gps'),
		            jsonb_build_object('device_uid', '$phone{$t1}', 'recorded_at', to_char(now() - interval '30 minutes', 'YYYY-MM-DD"T"HH24:MI:SS.USOF'),
		                               'lat', 31.3, 'lon', 121.5, 'provider', 'gps'))) r;
		   COMMIT;}),
	"f\nduplicate:old,duplicate:old,stored:new",
	'after the restore ingest_fixes() knows the restored fixes (default and daily partition) and stores new ones with new ids');
is( sql($dst,
		q{SELECT tableoid::regclass FROM fieldops.fix WHERE recorded_at = (SELECT max(recorded_at) FROM fieldops.fix)}),
	sql($dst, q{SELECT 'fieldops.fix_p' || to_char(max(recorded_at) AT TIME ZONE 'UTC', 'YYYYMMDD') FROM fieldops.fix}),
	'the new fix lands in its restored daily partition');

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
my $t1_fixes = sql($dst, "SELECT count(*) FROM fieldops.fix WHERE tenant_id = $t1");
ok(sql($dst, "SELECT count(*) FROM fieldops.fix WHERE tenant_id = $t2") > 0, 'tenant 2 has fixes too');
is( sql($dst,
		qq{SET ROLE tap_tenant1_app;
		   SELECT fieldops.set_tenant($t1, false);
		   SELECT count(*) || ' ' || count(*) FILTER (WHERE tenant_id <> $t1) FROM fieldops.fix;}),
	"$t1\n$t1_fixes 0",
	'a role granted tenant 1 sees only the fixes of tenant 1 in the restored partitions');

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
