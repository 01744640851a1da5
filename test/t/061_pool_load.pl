# Copyright (c) 2026, fieldops developers
#
# The customer pool under a mixed load: pgbench with 32 clients for
# FIELDOPS_POOL_LOAD_SECONDS (default 150) seconds, while the launcher runs
# the pool_release job every second; then fieldops.check_pool_invariants()
# must return nothing.
#
# One tenant, 40 workers, pool HOT (no follow-up for 2 days releases,
# warning 1 day before, window all day, 100 claims a day per worker, a hold
# limit of 12, cooldown 1 day, no protection), worker W1 its administrator;
# 400 customers, half owned at the start.  Every script draws its customers
# zipfian (pgbench random_zipfian(1, 400, 1.1): customer 1 is drawn about
# 60 times as often as customer 100), so clients collide on the same hot
# customers all the time:
#
#   claim      claim_customer() by a random worker
#   batch      claim_customers() of 4 customers (in draw order, so two
#              batches often lock overlapping sets in opposite orders)
#   admin      claim_customer() for a random worker by W1 (bypasses limits)
#   followup   record_followup() by a random worker (often not the owner:
#              "released")
#   release    release_customer() by the current owner (read first, so it
#              races with whoever changes it meanwhile)
#   transfer   transfer_customer() from the owner read first to another
#              random worker
#   sweep      release_stale_customers(tenant, now() + 2 days - k s): the
#              customers idle for more than k = 0-30 s and warned by an
#              earlier sweep are released, the others warned (more
#              releasers next to the launcher's job)
#   age        time passes for one owned customer (test instrumentation, a
#              direct UPDATE as superuser): its owned_since and last
#              follow-up move 3 days back and it was warned 2 days ago, so
#              the launcher's job, which runs on the real clock, finds it
#              due
#   state      set_customer_state() locking or unlocking a customer
#
# Every call goes through a wrapper (schema bench) that records its status
# (or the SQLSTATE of an error) in bench.calls; errors are not caught, so a
# deadlock or any other error aborts its pgbench client and fails the test.
# After the load: no invariant violated, the statuses the load must produce
# were produced (claimed, taken, quota, hold_limit, cooldown, released
# refusals...), and the event log has every kind of change.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FieldopsTest;

my $seconds = $ENV{FIELDOPS_POOL_LOAD_SECONDS} || 150;
my $clients = 32;

my $node = PostgreSQL::Test::Cluster->new('pool_load');
$node->init;
$node->append_conf(
	'postgresql.conf', qq{
shared_preload_libraries = 'fieldops'
fieldops.database = 'postgres'
fieldops.scheduler = 'internal'
fieldops.naptime = 1
max_connections = @{[$clients + 10]}
deadlock_timeout = '50ms'
log_lock_waits = off
});
$node->start;

sub sql { return $node->safe_psql('postgres', $_[0]); }

sql(q{CREATE EXTENSION postgis; CREATE EXTENSION fieldops;});
my $t = sql(q{SELECT fieldops.create_tenant('pool load', 'Asia/Shanghai')});
like($t, qr/^\d+$/, 'tenant created');

sql(<<"EOSQL");
SELECT fieldops.alter_job(job_name, p_enabled => false) FROM fieldops.job WHERE job_name <> 'pool_release';
SELECT fieldops.alter_job('pool_release', p_schedule => '1 second', p_args => '{"batch": 50}');
SELECT fieldops.set_tenant($t, false);
SELECT fieldops.upsert_worker($t, 'W' || i, 'Rep ' || i) FROM generate_series(1, 40) i;
CREATE SCHEMA bench;
CREATE TABLE bench.w AS SELECT row_number() OVER (ORDER BY worker_id) AS n, worker_id FROM fieldops.worker WHERE tenant_id = $t;
SELECT fieldops.create_pool($t, 'HOT', 'Hot pool', p_rules => '{"no_followup_days": 2, "warn_days": 1, "window_start": "00:00",
    "window_end": "00:00", "daily_claim_limit": 100, "hold_limit": 12, "cooldown_days": 1, "protect_minutes": 0}') AS pool \\gset
SELECT fieldops.set_pool_admin($t, :pool, (SELECT worker_id FROM bench.w WHERE n = 1));
CREATE TABLE bench.c (n int PRIMARY KEY, customer_id bigint NOT NULL);
INSERT INTO bench.c
SELECT i, fieldops.upsert_customer($t, 'C' || i, 'Shop ' || i, ST_SetSRID(ST_MakePoint(121.4 + i * 0.0001, 31.2), 4326),
                                   p_owner_worker_id => CASE WHEN i % 2 = 0 THEN (SELECT worker_id FROM bench.w WHERE n = 1 + i % 40) END)
  FROM generate_series(1, 400) i;
SELECT fieldops.set_customer_state($t, customer_id, p_home_pool_id => :pool) FROM bench.c;

CREATE UNLOGGED TABLE bench.calls (script text NOT NULL, status text NOT NULL);
CREATE FUNCTION bench.wid(p_n int) RETURNS bigint LANGUAGE sql STABLE AS \$\$ SELECT worker_id FROM bench.w WHERE n = p_n \$\$;
CREATE FUNCTION bench.cid(p_n int) RETURNS bigint LANGUAGE sql STABLE AS \$\$ SELECT customer_id FROM bench.c WHERE n = p_n \$\$;
CREATE FUNCTION bench.owner(p_t bigint, p_n int) RETURNS bigint LANGUAGE sql STABLE AS \$\$
    SELECT owner_worker_id FROM fieldops.customer WHERE tenant_id = p_t AND customer_id = bench.cid(p_n) \$\$;
CREATE FUNCTION bench.rec(p_script text, p_status text) RETURNS text LANGUAGE sql AS \$\$
    INSERT INTO bench.calls VALUES (p_script, p_status) RETURNING status \$\$;
EOSQL

is(sql(qq{SELECT count(*) FROM fieldops.check_pool_invariants($t)}), '0', 'invariants hold before the load');
sql(qq{ALTER DATABASE postgres SET fieldops.tenant_id = '$t'});
sql(q{SELECT fieldops.alter_job('pool_release', p_next_run_at => now())});

my $z = 'random_zipfian(1, 400, 1.1)';
my %scripts = (
	'pool_claim@6' => qq{
\\set c $z
\\set w random(1, 40)
SELECT bench.rec('claim', fieldops.claim_customer(:t, bench.cid(:c), bench.wid(:w)));
},
	'pool_batch@2' => qq{
\\set a $z
\\set b $z
\\set c $z
\\set d $z
\\set w random(1, 40)
SELECT bench.rec('batch', s.status) FROM fieldops.claim_customers(:t, ARRAY[bench.cid(:a), bench.cid(:b), bench.cid(:c), bench.cid(:d)], bench.wid(:w)) s;
},
	'pool_admin@1' => qq{
\\set c $z
\\set w random(2, 40)
SELECT bench.rec('admin', fieldops.claim_customer(:t, bench.cid(:c), bench.wid(:w), bench.wid(1)));
},
	'pool_followup@4' => qq{
\\set c $z
\\set w random(1, 40)
\\set own random(0, 2)
SELECT bench.rec('followup', fieldops.record_followup(:t, bench.cid(:c), CASE WHEN :own > 0 THEN coalesce(bench.owner(:t, :c), bench.wid(:w)) ELSE bench.wid(:w) END));
},
	'pool_release@3' => qq{
\\set c $z
\\set w random(1, 40)
SELECT bench.rec('release', fieldops.release_customer(:t, bench.cid(:c), coalesce(bench.owner(:t, :c), bench.wid(:w))));
},
	'pool_transfer@2' => qq{
\\set c $z
\\set w random(1, 40)
SELECT bench.rec('transfer', fieldops.transfer_customer(:t, bench.cid(:c), f, CASE WHEN f = bench.wid(:w) THEN bench.wid(:w % 40 + 1) ELSE bench.wid(:w) END))
  FROM coalesce(bench.owner(:t, :c), bench.wid(:w)) f;
},
	'pool_sweep@1' => q{
\set k random(0, 30)
SELECT bench.rec('sweep', 'released ' || fieldops.release_stale_customers(:t, now() + interval '2 days' - :k * interval '1 second'));
},
	'pool_age@1' => qq{
\\set c $z
UPDATE fieldops.customer SET owned_since = owned_since - interval '3 days', last_followup_at = last_followup_at - interval '3 days',
       warned_at = idle_since - interval '2 days'
 WHERE tenant_id = :t AND customer_id = bench.cid(:c) AND owner_worker_id IS NOT NULL;
},
	'pool_state@1' => qq{
\\set c $z
\\set l random(0, 1)
SELECT bench.rec('state', CASE WHEN (fieldops.set_customer_state(:t, bench.cid(:c), p_locked => :l = 1)).locked THEN 'locked' ELSE 'unlocked' END);
},);

my $started = time;
$node->pgbench(
	"--no-vacuum --client=$clients --jobs=2 --time=$seconds --define=t=$t",
	0,
	[ qr{number of failed transactions: 0 } ],
	[qr{^(?:(?!aborted).)*$}s],
	"pgbench: $clients clients for $seconds s, no client aborted (no deadlock, no error)",
	\%scripts,
	'postgres');
note('pgbench ran for ' . (time - $started) . ' s');
sql(q{SELECT fieldops.alter_job('pool_release', p_enabled => false)});
$node->poll_query_until('postgres',
	q{SELECT count(*) = 0 FROM fieldops.job_run r JOIN fieldops.job j USING (job_id) WHERE j.job_name = 'pool_release' AND r.status = 'running'})
  or die 'the release job did not finish';

note(sql(q{SELECT string_agg(format('%s %s: %s', script, status, n), E'\n' ORDER BY script, status)
             FROM (SELECT script, CASE WHEN script = 'sweep' THEN 'calls' ELSE status END AS status, count(*) AS n
                     FROM bench.calls GROUP BY 1, 2) x}));
note(sql(qq{SELECT string_agg(format('%s %s', kind, n), ', ' ORDER BY kind)
              FROM (SELECT kind, count(*) AS n FROM fieldops.pool_event WHERE tenant_id = $t GROUP BY 1) x}));

my $bad = sql(qq{SELECT string_agg(format('%s customer %s worker %s: %s', invariant, customer_id, worker_id, detail), E'\n')
                   FROM fieldops.check_pool_invariants($t)});
is($bad, '', 'check_pool_invariants() returns nothing after the load');

# the load did what it is meant to do
for my $s ('claim claimed', 'claim taken', 'claim quota', 'claim hold_limit', 'claim cooldown',
	'batch claimed', 'batch taken', 'admin claimed', 'followup recorded', 'followup released',
	'release released', 'release not_owner', 'transfer transferred', 'transfer not_owner', 'state locked')
{
	my ($script, $status) = split / /, $s;
	is(sql(qq{SELECT count(*) > 0 FROM bench.calls WHERE script = '$script' AND status = '$status'}),
		't', "the load produced $script: $status");
}
for my $k ('claimed', 'released', 'transferred', 'warned')
{
	is(sql(qq{SELECT count(*) > 0 FROM fieldops.pool_event WHERE tenant_id = $t AND kind = '$k'}), 't', "events of kind $k");
}
is(sql(qq{SELECT count(*) > 0 FROM fieldops.pool_event WHERE tenant_id = $t AND kind = 'released' AND actor = 'job:pool_release'}),
	't', 'the launcher\'s job and the sweeps released customers');
is(sql(q{SELECT count(*) > 0 FROM fieldops.job_run r JOIN fieldops.job j USING (job_id)
          WHERE j.job_name = 'pool_release' AND r.runner = 'fieldops launcher' AND (r.result ->> 'released')::int > 0}),
	't', 'the launcher\'s own runs released customers');
is(sql(q{SELECT count(*) > 10 FROM fieldops.job_run r JOIN fieldops.job j USING (job_id) WHERE j.job_name = 'pool_release' AND r.status = 'succeeded' AND r.runner = 'fieldops launcher'}),
	't', 'the launcher ran the release job during the load');
is(sql(q{SELECT count(*) FROM fieldops.job_run r JOIN fieldops.job j USING (job_id) WHERE j.job_name = 'pool_release' AND r.status <> 'succeeded'}),
	'0', 'no run of the release job failed');

$node->stop;
done_testing();
