# Copyright (c) 2026, fieldops developers
#
# The customer pool's release job under the launcher, and a crash in the
# middle of a release.
#
#   1. On schedule: with the launcher running (fieldops.naptime = 1) and the
#      pool_release job every 2 seconds, nobody calls anything.  Pool OPEN
#      releases after 2 days without follow-up, warns 1 day before, all
#      day.  STALE (idle 3 days, warned 25 hours ago) is released; OVERDUE
#      (idle 3 days, never warned: the rule came late) is warned, not
#      released (no release without a warning warn_days old); WARN (idle 36
#      hours) is warned once, however many runs pass; FRESH is left alone;
#      LATE (warned 25 hours ago, due a few seconds into the test) is
#      released by a later run, not before it is due.  Pool NIGHT has the
#      same rules but a release window of one hour starting three hours
#      from now (tenant-local): its stale customer is neither warned nor
#      released.
#   2. kill -9 mid-release: 3000 stale customers of pool FAST (no
#      warning: warn_days 0), the job in batches of
#      200 (each batch its own transaction).  A statement trigger on
#      fieldops.pool_event (test instrumentation) makes the sixth batch wait
#      on an advisory lock the test holds, after it has changed its
#      customers, ledger, holdings and events but before it commits; the
#      test kills that backend with SIGKILL; the postmaster restarts.  The
#      five committed batches are kept (1000 released), the sixth is gone
#      as a whole; the interrupted run is failed with 57P01; the launcher
#      runs the job again and releases the other 2000: every customer is
#      released exactly once (one released event, one customer.released
#      outbox event, one ended ownership row), and check_pool_invariants()
#      is empty.
#
# Backdating: a customer becomes stale only with time; the test moves its
# owned_since and the start of its ownership row back, and gives some a
# warning in the past (warned_at and a warned event): direct writes to the
# extension's tables, superuser only, as a generator of sample data does.
# Runtime: about 40 s.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FieldopsTest;

my $node = PostgreSQL::Test::Cluster->new('pool_release');
$node->init;
$node->append_conf(
	'postgresql.conf', q{
shared_preload_libraries = 'fieldops'
fieldops.database = 'postgres'
fieldops.scheduler = 'internal'
fieldops.naptime = 1
restart_after_crash = on
});
$node->start;

sub sql { return $node->safe_psql('postgres', $_[0]); }

sub poll_ok { unshift @_, $node, 'postgres'; goto &FieldopsTest::poll_ok; }

sql(q{CREATE EXTENSION postgis; CREATE EXTENSION fieldops;});
my $t = sql(q{SELECT fieldops.create_tenant('pool tap', 'Asia/Shanghai')});
like($t, qr/^\d+$/, 'tenant created');

# the job waits while the launcher would run it before the customers exist
sql(q{SELECT fieldops.alter_job('pool_release', p_enabled => false)});

sql(<<"EOSQL");
SELECT fieldops.set_tenant($t, false);
SELECT fieldops.upsert_worker($t, 'W' || i, 'Rep ' || i) FROM generate_series(1, 4) i;
SELECT fieldops.create_pool($t, 'OPEN', 'Open pool', p_rules => '{"no_followup_days": 2, "warn_days": 1, "window_start": "00:00", "window_end": "00:00"}');
SELECT fieldops.create_pool($t, 'FAST', 'Fast pool', p_rules => '{"no_followup_days": 2, "warn_days": 0, "window_start": "00:00", "window_end": "00:00"}');
SELECT fieldops.create_pool($t, 'NIGHT', 'Night pool', p_rules => jsonb_build_object('no_followup_days', 2, 'warn_days', 1,
           'window_start', to_char(now() AT TIME ZONE 'Asia/Shanghai' + interval '3 hours', 'HH24:00'),
           'window_end', to_char(now() AT TIME ZONE 'Asia/Shanghai' + interval '4 hours', 'HH24:00')));

CREATE SCHEMA tap;
-- owned customers of a pool, idle for a given time, warned some time ago
-- or not (backdated, see above)
CREATE FUNCTION tap.owned(p_ref text, p_pool text, p_worker int, p_idle interval, p_warned interval DEFAULT NULL)
RETURNS bigint LANGUAGE plpgsql AS \$\$
DECLARE
    c bigint;
    t bigint := (SELECT tenant_id FROM fieldops.tenant WHERE name = 'pool tap');
BEGIN
    PERFORM fieldops.set_tenant(t);
    c := fieldops.upsert_customer(t, p_ref, 'Shop ' || p_ref,
             p_owner_worker_id => (SELECT worker_id FROM fieldops.worker WHERE tenant_id = t AND external_ref = 'W' || p_worker));
    PERFORM fieldops.set_customer_state(t, c, p_home_pool_id => (SELECT pool_id FROM fieldops.customer_pool WHERE tenant_id = t AND code = p_pool));
    UPDATE fieldops.customer SET owned_since = now() - p_idle WHERE tenant_id = t AND customer_id = c;
    UPDATE fieldops.customer_ownership SET started_at = now() - p_idle WHERE tenant_id = t AND customer_id = c AND ended_at IS NULL;
    IF p_warned IS NOT NULL THEN
        UPDATE fieldops.customer SET warned_at = now() - p_warned WHERE tenant_id = t AND customer_id = c;
        INSERT INTO fieldops.pool_event (tenant_id, customer_id, at, kind, pool_id, worker_id, actor, rule, days)
        SELECT t, c, now() - p_warned, 'warned', home_pool_id, owner_worker_id, 'tap', 'no_followup', 1
          FROM fieldops.customer WHERE tenant_id = t AND customer_id = c;
    END IF;
    RETURN c;
END \$\$;
-- the customers of this test by reference
CREATE VIEW tap.c AS SELECT external_ref AS ref, c.* FROM fieldops.customer c;
-- the gate of part 2: armed, the sixth batch since arming waits on advisory lock 4711
CREATE TABLE tap.gate_cfg (armed boolean NOT NULL, armed_at timestamptz);
INSERT INTO tap.gate_cfg VALUES (false, NULL);
CREATE FUNCTION tap.gate() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS \$\$
BEGIN
    IF (SELECT armed FROM tap.gate_cfg)
       AND (SELECT count(*) FROM fieldops.job_run r JOIN fieldops.job j USING (job_id)
             WHERE j.job_name = 'pool_release' AND r.status = 'succeeded' AND r.started_at >= (SELECT armed_at FROM tap.gate_cfg)) >= 5 THEN
        PERFORM pg_advisory_xact_lock_shared(4711);
    END IF;
    RETURN NULL;
END \$\$;
CREATE TRIGGER tap_gate AFTER INSERT ON fieldops.pool_event FOR EACH STATEMENT EXECUTE FUNCTION tap.gate();
EOSQL

# ---------------------------------------------------------------------------
# 1. on schedule

sql(<<"EOSQL");
SELECT tap.owned('STALE', 'OPEN', 1, interval '3 days', interval '25 hours');
SELECT tap.owned('OVERDUE', 'OPEN', 2, interval '3 days');
SELECT tap.owned('WARN', 'OPEN', 2, interval '36 hours');
SELECT tap.owned('FRESH', 'OPEN', 3, interval '2 hours');
SELECT tap.owned('LATE', 'OPEN', 1, interval '2 days' - interval '8 seconds', interval '25 hours');
SELECT tap.owned('NIGHT', 'NIGHT', 4, interval '3 days');
SELECT fieldops.alter_job('pool_release', p_schedule => '2 seconds', p_enabled => true, p_next_run_at => now());
EOSQL
my $due = sql(q{SELECT idle_since + interval '2 days' FROM tap.c WHERE ref = 'LATE'});

poll_ok(q{SELECT count(*) = 1 FROM tap.c WHERE ref = 'STALE' AND pool_id IS NOT NULL},
	'the launcher released the stale customer');
poll_ok(q{SELECT EXISTS (SELECT 1 FROM fieldops.pool_event e JOIN tap.c USING (tenant_id, customer_id)
                         WHERE c.ref = 'LATE' AND e.kind = 'released')},
	'the customer that became due during the test was released by a later run');
# a few more runs, to show nothing repeats
my $runs = sql(q{SELECT count(*) FROM fieldops.job_run r JOIN fieldops.job j USING (job_id) WHERE j.job_name = 'pool_release'});
poll_ok(qq{SELECT count(*) >= $runs + 2 FROM fieldops.job_run r JOIN fieldops.job j USING (job_id) WHERE j.job_name = 'pool_release'},
	'the job keeps running every 2 seconds');
sql(q{SELECT fieldops.alter_job('pool_release', p_enabled => false)});

is( sql(q{SELECT string_agg(format('%s %s %s %s', c.ref, e.kind, e.rule, e.actor), ', ' ORDER BY c.ref, e.event_id)
            FROM fieldops.pool_event e JOIN tap.c USING (tenant_id, customer_id) WHERE e.kind IN ('warned', 'released')}),
	'LATE warned no_followup tap, LATE released no_followup job:pool_release, '
	  . 'OVERDUE warned no_followup job:pool_release, '
	  . 'STALE warned no_followup tap, STALE released no_followup job:pool_release, WARN warned no_followup job:pool_release',
	'events: STALE released, OVERDUE and WARN warned once, LATE released when due, FRESH and NIGHT nothing');
is( sql(qq{SELECT min(e.at) >= '$due' FROM fieldops.pool_event e JOIN tap.c USING (tenant_id, customer_id)
            WHERE c.ref = 'LATE' AND e.kind = 'released'}),
	't', 'LATE was released no earlier than it was due');
is( sql(q{SELECT string_agg(format('%s %s %s', ref, owner_worker_id IS NOT NULL, warned_at IS NOT NULL), ', ' ORDER BY ref) FROM tap.c}),
	'FRESH t f, LATE f f, NIGHT t f, OVERDUE t t, STALE f f, WARN t t',
	'customers: FRESH and NIGHT owned, not warned; OVERDUE and WARN owned and warned; STALE and LATE pooled');
is( sql(q{SELECT count(*) FROM fieldops.job_run r JOIN fieldops.job j USING (job_id)
           WHERE j.job_name = 'pool_release' AND (r.status <> 'succeeded' OR r.runner <> 'fieldops launcher')}),
	'0', 'every run was the launcher\'s, and succeeded');
is(sql(qq{SELECT count(*) FROM fieldops.check_pool_invariants($t)}), '0', 'invariants hold after part 1');

# ---------------------------------------------------------------------------
# 2. kill -9 in the middle of a release

sql(<<"EOSQL");
SELECT tap.owned('K' || lpad(i::text, 4, '0'), 'FAST', 1 + i % 4, interval '5 days' + i * interval '1 minute') FROM generate_series(1, 3000) i;
SELECT fieldops.alter_job('pool_release', p_schedule => '10 minutes', p_args => '{"batch": 200}');
EOSQL
my $gate = $node->background_psql('postgres', on_error_stop => 1);
$gate->query_safe('SELECT pg_advisory_lock(4711)');
sql(q{UPDATE tap.gate_cfg SET armed = true, armed_at = now();
      SELECT fieldops.alter_job('pool_release', p_enabled => true, p_next_run_at => now());});

poll_ok(q{SELECT count(*) = 1 FROM pg_locks WHERE locktype = 'advisory' AND objid = 4711 AND mode = 'ShareLock' AND NOT granted},
	'the sixth batch waits at the gate, uncommitted');
my $victim = sql(q{SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objid = 4711 AND mode = 'ShareLock' AND NOT granted});
is( sql(q{SELECT count(*) FROM fieldops.customer_ownership o JOIN tap.c USING (tenant_id, customer_id)
           WHERE c.ref LIKE 'K%' AND o.ended_at IS NOT NULL}),
	'1000', 'five batches of 200 committed before the crash');

kill 'KILL', $victim;
# the victim's entry goes only when the postmaster has reset shared memory
$node->poll_query_until('postgres', qq{SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $victim})
  or die 'the server did not restart after the crash';
eval { $gate->quit; };
# the postmaster restarts every backend; stop the launcher from rerunning
# the job before the state after the crash is looked at
$node->poll_query_until('postgres', q{SELECT fieldops.alter_job('pool_release', p_enabled => false) IS NOT NULL})
  or die 'the server did not come back after the crash';
sql(q{UPDATE tap.gate_cfg SET armed = false});
# (the launcher may have rerun a batch between the restart and the disabling)
my $after_crash = sql(q{SELECT count(*) FROM fieldops.pool_event e JOIN tap.c USING (tenant_id, customer_id)
                        WHERE c.ref LIKE 'K%' AND e.kind = 'released'});
ok($after_crash % 200 == 0 && $after_crash >= 1000 && $after_crash < 3000,
	"after the crash: whole batches only ($after_crash released), the interrupted one rolled back");
is(sql(qq{SELECT count(*) FROM fieldops.check_pool_invariants($t)}), '0', 'invariants hold right after the crash');

sql(q{SELECT fieldops.alter_job('pool_release', p_enabled => true, p_next_run_at => now())});
poll_ok(q{SELECT count(*) = 3000 FROM tap.c WHERE ref LIKE 'K%' AND pool_id IS NOT NULL},
	'the launcher released the rest after the restart');
poll_ok(q{SELECT count(*) = 0 FROM fieldops.job_run r JOIN fieldops.job j USING (job_id) WHERE j.job_name = 'pool_release' AND r.status = 'running'},
	'no run left running');
is( sql(q{SELECT count(*) FROM fieldops.job_run r JOIN fieldops.job j USING (job_id)
           WHERE j.job_name = 'pool_release' AND r.status = 'failed' AND r.error_code = '57P01'}),
	'1', 'the interrupted run is recorded as failed (57P01)');
is( sql(q{SELECT format('%s %s %s', count(*), count(DISTINCT customer_id), min(n) || '-' || max(n)) FROM (
            SELECT e.customer_id, count(*) AS n FROM fieldops.pool_event e JOIN tap.c USING (tenant_id, customer_id)
             WHERE c.ref LIKE 'K%' AND e.kind = 'released' GROUP BY 1) x}),
	'3000 3000 1-1', 'every customer released exactly once (one released event each)');
is( sql(q{SELECT count(*) FROM fieldops.outbox o JOIN tap.c ON c.tenant_id = o.tenant_id AND c.customer_id = o.aggregate_id
           WHERE c.ref LIKE 'K%' AND o.topic = 'customer.released'}),
	'3000', 'one customer.released outbox event each');
is( sql(q{SELECT count(*) FILTER (WHERE o.end_reason = 'released') || ' ' || count(*) FILTER (WHERE o.ended_at IS NULL)
            FROM fieldops.customer_ownership o JOIN tap.c USING (tenant_id, customer_id) WHERE c.ref LIKE 'K%'}),
	'3000 0', 'every ownership row ended once, none open');
is( sql(qq{SELECT string_agg(format('%s %s', w.external_ref, h.held), ', ' ORDER BY w.external_ref)
             FROM fieldops.worker_holding h JOIN fieldops.worker w USING (tenant_id, worker_id) WHERE h.tenant_id = $t}),
	'W1 0, W2 2, W3 1, W4 1', 'holdings: what part 1 left, nothing of part 2');
is(sql(qq{SELECT count(*) FROM fieldops.check_pool_invariants($t)}), '0', 'invariants hold after the rerun');

$node->stop;
done_testing();
