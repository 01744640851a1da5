# Copyright (c) 2026, fieldops developers
#
# Invariants under a concurrent workload.  pgbench runs 6 clients, each
# running 400 transactions drawn from custom scripts that collide on
# purpose, while the launcher (fieldops.naptime = 1) also runs jobs:
#
#   register   register_device() of 15 device_uids to 12 workers (rebinds)
#   sync       a mobile sync: register_device() and upsert_customer() in one
#              explicit transaction
#   worker     upsert_worker() of 16 external_refs (4 new ones collide),
#              often with a manager
#   leave      worker_leave() now or on a later day (scheduled), reinstate_worker()
#   customer   upsert_customer() of 40 refs with colliding owners
#   relay      outbox_fetch(t, 10) + outbox_ack() in one transaction
#   jobs       makes apply_departures due (as run_job_now() does), then
#              CALL fieldops.run_due_jobs(); a cheap global job (bench.tick)
#              is also due every second
#   tz         flips the tenant's time zone between UTC-11 and UTC+14, so
#              that a scheduled leaving day comes and apply_departures
#              applies departures while the other scripts run
#
# Each API call goes through a PL/pgSQL wrapper (schema bench) that catches
# the errors the API documents for these inputs (55000 "has left", 22023
# manager cycle) and records every failure in bench.calls: expected ones as
# refusals, deadlocks (reported with note(), not asserted: the isolation
# specs leave_rebind_deadlock and leave_chain_deadlock pin them down) and
# anything else as an unexpected error, which fails the test.  So no client
# aborts, and every failure is visible afterwards.  A trigger on
# fieldops.outbox (test instrumentation) logs every change of published_at.
#
# Then the invariants are checked, each as a count of violations that must
# be 0, and the workload is checked to have really done what it is meant to
# do (counts > 0), so the test cannot pass vacuously.  Runtime: about 20 s.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('pgbench_invariants');
$node->init;
$node->append_conf(
	'postgresql.conf', q{
shared_preload_libraries = 'fieldops'
fieldops.database = 'postgres'
fieldops.scheduler = 'internal'
fieldops.naptime = 1
max_connections = 40
log_statement = 'none'
deadlock_timeout = '50ms'
});
$node->start;

sub sql { return $node->safe_psql('postgres', $_[0]); }

# ---------------------------------------------------------------------------
# schema, tenant, workers, the bench wrappers and the cheap job

sql(q{CREATE EXTENSION postgis; CREATE EXTENSION fieldops;});

my $tid = sql(q{SELECT fieldops.create_tenant('bench', 'Pacific/Pago_Pago')});
like($tid, qr/^\d+$/, 'tenant created');

sql(<<'EOSQL');
SELECT fieldops.set_tenant((SELECT tenant_id FROM fieldops.tenant WHERE name = 'bench'), false);
SELECT fieldops.upsert_worker(fieldops.current_tenant_id(), 'W-' || i, 'Worker ' || i) FROM generate_series(1, 12) i;

CREATE SCHEMA bench;

-- every wrapped API call: its outcome, and for errors the SQLSTATE and message
CREATE TABLE bench.calls (script text NOT NULL, outcome text NOT NULL, sqlstate text, message text,
                          at timestamptz NOT NULL DEFAULT clock_timestamp());
-- what upsert_worker() / upsert_customer() returned for which reference
CREATE TABLE bench.worker_calls (external_ref text NOT NULL, worker_id bigint NOT NULL);
CREATE TABLE bench.customer_calls (external_ref text NOT NULL, customer_id bigint NOT NULL);
-- every event a relay acknowledged, with its batch: size and outbox_ack()'s count
CREATE TABLE bench.acks (relay integer NOT NULL, event_id bigint NOT NULL, batch_size integer NOT NULL,
                         batch_acked integer NOT NULL, drain boolean NOT NULL DEFAULT false);
-- every change of outbox.published_at, seen by a trigger (test instrumentation)
CREATE TABLE bench.publish_log (tenant_id bigint NOT NULL, event_id bigint NOT NULL,
                                old_published_at timestamptz, new_published_at timestamptz);
-- every execution of the cheap job's body
CREATE TABLE bench.ticks (tick_id bigserial PRIMARY KEY, pid integer NOT NULL, seen_next_run_at timestamptz,
                          started_at timestamptz NOT NULL, finished_at timestamptz);

CREATE FUNCTION bench.log_publish() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog AS $$
BEGIN
    INSERT INTO bench.publish_log VALUES (NEW.tenant_id, NEW.event_id, OLD.published_at, NEW.published_at);
    RETURN NULL;
END $$;
CREATE TRIGGER bench_log_publish AFTER UPDATE OF published_at ON fieldops.outbox
    FOR EACH ROW EXECUTE FUNCTION bench.log_publish();

CREATE FUNCTION bench.wid(p_t bigint, p_n integer) RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT worker_id FROM fieldops.worker WHERE tenant_id = p_t AND external_ref = 'W-' || p_n
$$;

-- record a failed call: an expected refusal, a deadlock, or an unexpected error
-- (GET STACKED DIAGNOSTICS works only in the handler itself, so the caller
-- passes the detail and the context: the API statement that failed)
CREATE FUNCTION bench.failed(p_script text, p_state text, p_msg text, p_expected boolean, p_detail text DEFAULT NULL,
                             p_context text DEFAULT NULL)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v text := CASE WHEN p_expected THEN 'refused ' || p_state
                   WHEN p_state = '40P01' THEN 'deadlock'
                   ELSE 'error ' || p_state END;
BEGIN
    INSERT INTO bench.calls (script, outcome, sqlstate, message)
    VALUES (p_script, v, p_state,
            CASE WHEN NOT p_expected THEN p_msg || coalesce(E'\n' || nullif(p_detail, ''), '')
                                                || coalesce(E'\nin ' || substring(p_context FROM 'PL/pgSQL function [^\n]*'), '') END);
    RETURN v;
END $$;

CREATE FUNCTION bench.register(p_t bigint, p_dev integer, p_w integer) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v text;
    d text;
    c text;
BEGIN
    PERFORM fieldops.set_tenant(p_t);
    BEGIN
        SELECT r.status INTO v
          FROM fieldops.register_device(p_t, 'DEV-' || lpad(p_dev::text, 6, '0'), bench.wid(p_t, p_w), 'android') r;
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL, c = PG_EXCEPTION_CONTEXT;
        RETURN bench.failed('register', SQLSTATE, SQLERRM, SQLSTATE = '55000' AND SQLERRM LIKE '%has left on%', d, c);
    END;
    INSERT INTO bench.calls (script, outcome) VALUES ('register', v);
    RETURN v;
END $$;

CREATE FUNCTION bench.upsert_worker(p_t bigint, p_w integer, p_m integer) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v bigint;
    m bigint;
    d text;
    c text;
BEGIN
    PERFORM fieldops.set_tenant(p_t);
    IF p_m <> p_w THEN
        m := bench.wid(p_t, p_m);    -- NULL when there is no such worker: no manager
    END IF;
    BEGIN
        v := fieldops.upsert_worker(p_t, 'W-' || p_w, 'Worker ' || p_w, p_manager_id => m,
                                    p_phone => '+86 138 0000 ' || lpad(p_w::text, 4, '0'));
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL, c = PG_EXCEPTION_CONTEXT;
        RETURN bench.failed('worker', SQLSTATE, SQLERRM,
                            (SQLSTATE = '55000' AND SQLERRM LIKE '%has left on%')
                            OR (SQLSTATE = '22023' AND SQLERRM LIKE '%their own manager%'), d, c);
    END;
    INSERT INTO bench.worker_calls VALUES ('W-' || p_w, v);
    INSERT INTO bench.calls (script, outcome) VALUES ('worker', 'ok');
    RETURN 'ok';
END $$;

-- p_action 1-3: leave today; 4-7: leave on the day after today in UTC-11 (when
-- the tenant is in UTC+14 that day has begun: an immediate departure; in
-- UTC-11 a scheduled one, which comes due when the time zone flips to UTC+14
-- and is then applied by the apply_departures job); 8-10: reinstate.  A
-- worker with a scheduled departure is left alone, for the job to apply.
CREATE FUNCTION bench.leave(p_t bigint, p_w integer, p_action integer) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v text;
    d text;
    c text;
BEGIN
    PERFORM fieldops.set_tenant(p_t);
    IF EXISTS (SELECT FROM fieldops.worker w
                WHERE w.tenant_id = p_t AND w.worker_id = bench.wid(p_t, p_w)
                  AND w.status = 'active' AND w.left_on IS NOT NULL) THEN
        INSERT INTO bench.calls (script, outcome) VALUES ('leave', 'skipped (scheduled)');
        RETURN 'skipped';
    END IF;
    BEGIN
        IF p_action <= 3 THEN
            v := fieldops.worker_leave(p_t, bench.wid(p_t, p_w), p_reason => 'bench') ->> 'status';
        ELSIF p_action <= 7 THEN
            v := fieldops.worker_leave(p_t, bench.wid(p_t, p_w), (now() AT TIME ZONE 'Pacific/Pago_Pago')::date + 1,
                                       'bench') ->> 'status';
        ELSE
            v := fieldops.reinstate_worker(p_t, bench.wid(p_t, p_w)) ->> 'status';
        END IF;
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL, c = PG_EXCEPTION_CONTEXT;
        RETURN bench.failed('leave', SQLSTATE, SQLERRM, false, d, c);
    END;
    INSERT INTO bench.calls (script, outcome) VALUES ('leave', v);
    RETURN v;
END $$;

-- owner: worker p_w when it is one of the 12, else no owner
CREATE FUNCTION bench.customer(p_t bigint, p_c integer, p_w integer) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v bigint;
    d text;
    c text;
BEGIN
    PERFORM fieldops.set_tenant(p_t);
    BEGIN
        v := fieldops.upsert_customer(p_t, 'CRM-' || p_c, 'Customer ' || p_c,
                                      p_location => ST_SetSRID(ST_MakePoint(116.3 + p_c / 1000.0, 39.9), 4326),
                                      p_owner_worker_id => CASE WHEN p_w <= 12 THEN bench.wid(p_t, p_w) END);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL, c = PG_EXCEPTION_CONTEXT;
        RETURN bench.failed('customer', SQLSTATE, SQLERRM, SQLSTATE = '55000' AND SQLERRM LIKE '%has left on%', d, c);
    END;
    INSERT INTO bench.customer_calls VALUES ('CRM-' || p_c, v);
    INSERT INTO bench.calls (script, outcome) VALUES ('customer', 'ok');
    RETURN 'ok';
END $$;

-- a relay: fetch a batch, "publish" it, acknowledge it, in one transaction
CREATE FUNCTION bench.relay(p_t bigint, p_relay integer, p_limit integer, p_drain boolean DEFAULT false)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    ids bigint[];
    n integer;
    d text;
    c text;
BEGIN
    PERFORM fieldops.set_tenant(p_t);
    BEGIN
        SELECT array_agg(o.event_id ORDER BY o.event_id) INTO ids FROM fieldops.outbox_fetch(p_t, p_limit) o;
        IF ids IS NULL THEN
            INSERT INTO bench.calls (script, outcome) VALUES ('relay', 'empty');
            RETURN 0;
        END IF;
        n := fieldops.outbox_ack(p_t, ids);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL, c = PG_EXCEPTION_CONTEXT;
        PERFORM bench.failed('relay', SQLSTATE, SQLERRM, false, d, c);
        RETURN 0;
    END;
    INSERT INTO bench.acks (relay, event_id, batch_size, batch_acked, drain)
    SELECT p_relay, e, cardinality(ids), n, p_drain FROM unnest(ids) e;
    INSERT INTO bench.calls (script, outcome) VALUES ('relay', 'acked');
    RETURN n;
END $$;

-- UTC-11 <-> UTC+14: the tenant's "today" jumps a day or two
CREATE FUNCTION bench.flip_tz(p_t bigint) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v text;
    d text;
    c text;
BEGIN
    BEGIN
        SELECT (fieldops.alter_tenant(p_t, p_time_zone => CASE t.time_zone WHEN 'Pacific/Pago_Pago' THEN 'Pacific/Kiritimati'
                                                                          ELSE 'Pacific/Pago_Pago' END)).time_zone
          INTO v FROM fieldops.tenant t WHERE t.tenant_id = p_t;
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL, c = PG_EXCEPTION_CONTEXT;
        RETURN bench.failed('tz', SQLSTATE, SQLERRM, false, d, c);
    END;
    INSERT INTO bench.calls (script, outcome) VALUES ('tz', v);
    RETURN v;
END $$;

-- the cheap job: remembers which due time (the job's next_run_at) it ran for
CREATE FUNCTION bench.tick(p_args jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_seen timestamptz;
    v_id bigint;
BEGIN
    SELECT next_run_at INTO v_seen FROM fieldops.job WHERE job_name = 'bench_tick';
    INSERT INTO bench.ticks (pid, seen_next_run_at, started_at)
    VALUES (pg_backend_pid(), v_seen, clock_timestamp()) RETURNING tick_id INTO v_id;
    PERFORM pg_sleep(0.02);
    UPDATE bench.ticks SET finished_at = clock_timestamp() WHERE tick_id = v_id;
    RETURN jsonb_build_object('tick', v_id);
END $$;

SELECT fieldops.schedule_job('bench_tick', 'bench.tick', interval '1 second', 'global');
-- the launcher may have run the built-in jobs already (before the tenant
-- existed): make apply_departures due now, and every second from then on
-- (the jobs script also makes it due before each run_due_jobs())
SELECT fieldops.alter_job('apply_departures', p_schedule => interval '1 second', p_next_run_at => now());
EOSQL

is( sql(q{SELECT count(*) FROM fieldops.worker}), '12', '12 workers to start with');

# ---------------------------------------------------------------------------
# the workload

my %scripts = (
	'fieldops_register@5' => q{
\set dev random(1, 15)
\set w random(1, 12)
SELECT bench.register(:tenant, :dev, :w);
},
	'fieldops_sync@2' => q{
\set dev random(1, 15)
\set w random(1, 12)
\set c random(1, 40)
BEGIN;
SELECT bench.register(:tenant, :dev, :w);
SELECT bench.customer(:tenant, :c, :w);
COMMIT;
},
	'fieldops_worker@2' => q{
\set w random(1, 16)
\set m random(1, 40)
SELECT bench.upsert_worker(:tenant, :w, :m);
},
	'fieldops_leave@2' => q{
\set w random(1, 12)
\set action random(1, 10)
SELECT bench.leave(:tenant, :w, :action);
},
	'fieldops_customer@2' => q{
\set c random(1, 40)
\set w random(1, 16)
SELECT bench.customer(:tenant, :c, :w);
},
	'fieldops_relay@3' => q{
SELECT bench.relay(:tenant, :client_id, 10);
},
	'fieldops_jobs@2' => q{
SELECT (fieldops.alter_job('apply_departures', p_next_run_at => now())).enabled;
CALL fieldops.run_due_jobs();
},
	'fieldops_tz@1' => q{
SELECT bench.flip_tz(:tenant);
},);

my $started = time;
$node->pgbench(
	"--no-vacuum --client=6 --jobs=2 --transactions=400 --define=tenant=$tid",
	0,
	[
		qr{number of transactions actually processed: 2400/2400},
		qr{number of failed transactions: 0 }
	],
	[qr{^(?:(?!aborted).)*$}s],
	'pgbench: 6 clients x 400 transactions, no client aborted',
	\%scripts,
	'postgres');
note('pgbench ran for ' . (time - $started) . ' s');

# ---------------------------------------------------------------------------
# quiesce: stop the launcher, then drain the outbox as one more relay

sql(q{ALTER SYSTEM SET fieldops.scheduler = 'off'});
$node->reload;
ok( $node->poll_query_until(
		'postgres',
		q{SELECT state = 'idle: fieldops.scheduler is off' FROM fieldops.launcher_status()}),
	'the launcher stops running jobs');

my $drained = 0;
for (my $i = 0; $i < 100; $i++)
{
	my $n = sql(qq{SELECT bench.relay($tid, 0, 1000, true)});
	last if $n == 0;
	$drained += $n;
}
note("drained $drained events after the run");

# ---------------------------------------------------------------------------
# what happened (for the log)

note(sql(q{SELECT string_agg(script || ' ' || outcome || ': ' || n, E'\n' ORDER BY script, outcome)
             FROM (SELECT script, outcome, count(*) n FROM bench.calls GROUP BY 1, 2) x}));
note(sql(q{SELECT string_agg(j.job_name || ' ' || r.runner || ' ' || r.status || ': ' || n, E'\n' ORDER BY 1)
             FROM (SELECT job_id, runner, status, count(*) n FROM fieldops.job_run GROUP BY 1, 2, 3) r
             JOIN fieldops.job j USING (job_id)}));

# ---------------------------------------------------------------------------
# the workload really did something

sub count_of { return sql($_[0]) + 0; }

sub positive
{
	my ($query, $name) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	my $n = count_of($query);
	cmp_ok($n, '>', 0, "$name ($n)");
}

positive(q{SELECT count(*) FROM bench.calls WHERE script = 'register' AND outcome = 'bound'},
	'devices were bound');
positive(q{SELECT count(*) FROM bench.calls WHERE script = 'register' AND outcome = 'rebound'},
	'devices were rebound from one worker to another');
positive(q{SELECT count(*) FROM bench.calls WHERE script = 'register' AND outcome = 'refused 55000'},
	'devices were refused to workers who had left');
positive(q{SELECT count(*) FROM bench.calls WHERE script = 'leave' AND outcome = 'left'},
	'workers left');
positive(q{SELECT count(*) FROM bench.calls WHERE script = 'leave' AND outcome = 'scheduled'},
	'departures were scheduled');
positive(q{SELECT count(*) FROM bench.calls WHERE script = 'leave' AND outcome = 'reinstated'},
	'workers were reinstated');
positive(q{SELECT count(*) FROM bench.calls WHERE script = 'tz'}, 'the time zone was flipped');
positive(
	q{SELECT coalesce(sum((r.result ->> 'departed')::int), 0) FROM fieldops.job_run r
	   JOIN fieldops.job j USING (job_id) WHERE j.job_name = 'apply_departures' AND r.status = 'succeeded'},
	'the apply_departures job applied scheduled departures');
positive(q{SELECT count(*) - 12 FROM fieldops.worker}, 'upsert_worker created new workers');
positive(q{SELECT count(*) FROM fieldops.worker WHERE manager_id IS NOT NULL}, 'workers have managers');
positive(q{SELECT count(*) FROM fieldops.customer}, 'customers were created');
positive(q{SELECT count(*) FROM fieldops.outbox WHERE topic = 'customer.owner_changed'},
	'customers changed owner');
positive(q{SELECT count(*) FROM bench.calls WHERE script = 'customer' AND outcome = 'refused 55000'},
	'customers were refused to owners who had left');
positive(q{SELECT count(*) FROM bench.acks WHERE NOT drain}, 'relays acknowledged events during the run');
positive(q{SELECT count(DISTINCT relay) - 1 FROM bench.acks WHERE NOT drain}, 'several relays acknowledged events');
positive(q{SELECT count(*) - 2 FROM bench.ticks}, 'the cheap job ran at least 3 times');
positive(q{SELECT count(DISTINCT pid) - 1 FROM bench.ticks}, 'the cheap job ran in several sessions');
positive(q{SELECT count(*) FROM fieldops.job_run WHERE runner <> 'fieldops launcher'}, 'pgbench clients ran jobs');
positive(q{SELECT count(DISTINCT pid) - 1 FROM fieldops.job_run}, 'jobs ran in several sessions');

# ---------------------------------------------------------------------------
# invariants: each a count of violations

sub none
{
	my ($query, $name, $details) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	my $n = count_of($query);
	my $ok = is($n, 0, $name);
	diag(sql($details)) if !$ok && defined $details;
	return $ok;
}

# --- API calls
none(
	q{SELECT count(*) FROM bench.calls WHERE outcome LIKE 'error%'},
	'no API call failed with an unexpected error',
	q{SELECT string_agg(DISTINCT script || ': ' || sqlstate || ' ' || message, E'\n') FROM bench.calls
	   WHERE outcome LIKE 'error%'});
note('deadlocks between API calls: '
	  . sql(q{SELECT count(*) FROM bench.calls WHERE outcome = 'deadlock'}) . "\n"
	  . sql(q{SELECT coalesce(string_agg(script || ': ' || message, E'\n'), '') FROM bench.calls WHERE outcome = 'deadlock'}));

# --- devices
none(
	q{SELECT count(*) FROM (SELECT tenant_id, device_id FROM fieldops.device_binding WHERE unbound_at IS NULL
	                         GROUP BY 1, 2 HAVING count(*) > 1) x},
	'every device has at most one open binding');
none(
	q{SELECT count(*) FROM fieldops.device d
	   WHERE d.worker_id IS DISTINCT FROM (SELECT b.worker_id FROM fieldops.device_binding b
	                                        WHERE b.tenant_id = d.tenant_id AND b.device_id = d.device_id
	                                          AND b.unbound_at IS NULL)},
	'device.worker_id is the worker of its open binding (NULL when none)');
none(
	q{SELECT count(*) FROM fieldops.device d JOIN fieldops.worker w USING (tenant_id)
	   WHERE w.worker_id = d.worker_id AND d.status = 'active' AND w.status = 'left'},
	'no active device is bound to a worker who left');
none(
	q{SELECT count(*) FROM fieldops.device_binding b JOIN fieldops.worker w USING (tenant_id)
	   WHERE w.worker_id = b.worker_id AND b.unbound_at IS NULL AND w.status = 'left'},
	'no open binding belongs to a worker who left');
none(
	q{SELECT count(*) FROM (SELECT b.bound_at, b.unbound_at,
	                               lead(b.bound_at) OVER (PARTITION BY b.tenant_id, b.device_id
	                                                      ORDER BY b.bound_at, b.binding_id) AS next_bound_at
	                          FROM fieldops.device_binding b) h
	   WHERE h.unbound_at < h.bound_at OR h.unbound_at > h.next_bound_at
	      OR (h.unbound_at IS NULL AND h.next_bound_at IS NOT NULL)},
	'each device\'s bindings follow one another in time',
	q{SELECT string_agg(format('device %s: [%s, %s] %s, next bound at %s', device_id, bound_at, unbound_at,
	                           unbound_reason, next_bound_at), E'\n')
	    FROM (SELECT b.*, lead(b.bound_at) OVER (PARTITION BY b.tenant_id, b.device_id
	                                             ORDER BY b.bound_at, b.binding_id) AS next_bound_at
	            FROM fieldops.device_binding b) h
	   WHERE h.unbound_at < h.bound_at OR h.unbound_at > h.next_bound_at
	      OR (h.unbound_at IS NULL AND h.next_bound_at IS NOT NULL)});

# --- workers
none(
	q{SELECT count(*) - count(DISTINCT (tenant_id, external_ref)) FROM fieldops.worker},
	'worker external_refs are unique');
none(
	q{SELECT count(*) FROM fieldops.worker w
	   WHERE (SELECT count(*) FROM fieldops.outbox o
	           WHERE o.tenant_id = w.tenant_id AND o.topic = 'worker.created' AND o.aggregate_id = w.worker_id) <> 1},
	'every worker has exactly one worker.created event');
none(
	q{SELECT count(*) FROM fieldops.outbox o
	   WHERE o.topic = 'worker.created'
	     AND (SELECT count(*) FROM fieldops.worker w
	           WHERE w.tenant_id = o.tenant_id AND w.worker_id = o.aggregate_id
	             AND w.external_ref = o.payload ->> 'external_ref') <> 1},
	'every worker.created event names exactly one worker, by id and external_ref');
none(
	q{SELECT count(*) FROM bench.worker_calls c
	   WHERE c.worker_id IS DISTINCT FROM (SELECT w.worker_id FROM fieldops.worker w
	                                        WHERE w.tenant_id = (SELECT tenant_id FROM fieldops.tenant WHERE name = 'bench')
	                                          AND w.external_ref = c.external_ref)},
	'every upsert_worker() call returned the id of the one worker with its external_ref');
none(
	q{WITH RECURSIVE up AS (
	      SELECT w.tenant_id, w.worker_id AS start, w.manager_id AS cur, 1 AS depth FROM fieldops.worker w
	       WHERE w.manager_id IS NOT NULL
	      UNION ALL
	      SELECT up.tenant_id, up.start, w.manager_id, up.depth + 1 FROM up
	        JOIN fieldops.worker w ON w.tenant_id = up.tenant_id AND w.worker_id = up.cur
	       WHERE w.manager_id IS NOT NULL AND up.cur <> up.start AND up.depth < 100)
	  SELECT count(DISTINCT start) FROM up WHERE cur = start},
	'no worker is their own manager, directly or through others');

# --- customers
none(
	q{SELECT count(*) - count(DISTINCT (tenant_id, external_ref)) FROM fieldops.customer},
	'customer external_refs are unique');
none(
	q{SELECT count(*) FROM fieldops.customer c
	   WHERE (SELECT count(*) FROM fieldops.outbox o
	           WHERE o.tenant_id = c.tenant_id AND o.topic = 'customer.created' AND o.aggregate_id = c.customer_id) <> 1},
	'every customer has exactly one customer.created event');
none(
	q{SELECT count(*) FROM fieldops.outbox o
	   WHERE o.topic = 'customer.created'
	     AND NOT EXISTS (SELECT FROM fieldops.customer c WHERE c.tenant_id = o.tenant_id AND c.customer_id = o.aggregate_id)},
	'every customer.created event names a customer');
none(
	q{SELECT count(*) FROM bench.customer_calls x
	   WHERE x.customer_id IS DISTINCT FROM (SELECT c.customer_id FROM fieldops.customer c
	                                          WHERE c.tenant_id = (SELECT tenant_id FROM fieldops.tenant WHERE name = 'bench')
	                                            AND c.external_ref = x.external_ref)},
	'every upsert_customer() call returned the id of the one customer with its external_ref');

# --- outbox
positive(q{SELECT count(*) FROM fieldops.outbox}, 'the outbox has events');
none(q{SELECT count(*) FROM fieldops.outbox WHERE published_at IS NULL},
	'no event is left unpublished after the drain');
none(
	q{SELECT count(*) FROM fieldops.outbox o
	   WHERE (SELECT count(*) FROM bench.acks a WHERE a.event_id = o.event_id) <> 1},
	'every event was acknowledged by exactly one relay, exactly once (none lost, none twice)');
none(
	q{SELECT count(*) FROM bench.acks a WHERE NOT EXISTS (SELECT FROM fieldops.outbox o WHERE o.event_id = a.event_id)},
	'every acknowledged event is still in the outbox');
none(q{SELECT count(*) FROM bench.acks WHERE batch_acked <> batch_size},
	'outbox_ack() counted every event of the batch its relay had fetched and locked');
none(
	q{SELECT count(*) FROM bench.publish_log WHERE old_published_at IS NOT NULL},
	'published_at was never changed once set');
none(
	q{SELECT count(*) FROM (SELECT tenant_id, event_id FROM bench.publish_log GROUP BY 1, 2 HAVING count(*) <> 1) x},
	'published_at was set exactly once per event');
is( count_of(q{SELECT count(*) FROM bench.publish_log}),
	count_of(q{SELECT count(*) FROM fieldops.outbox}),
	'one publication per event');

# --- jobs
none(
	q{SELECT count(*) FROM (SELECT r.finished_at,
	                               lead(r.started_at) OVER (PARTITION BY r.job_id ORDER BY r.started_at, r.run_id) AS next_start
	                          FROM fieldops.job_run r) x
	   WHERE x.next_start IS NOT NULL AND (x.finished_at IS NULL OR x.finished_at > x.next_start)},
	'runs of the same job never overlap in time',
	);
none(
	q{SELECT count(*) FROM (SELECT t.finished_at, lead(t.started_at) OVER (ORDER BY t.started_at, t.tick_id) AS next_start
	                          FROM bench.ticks t) x
	   WHERE x.next_start IS NOT NULL AND (x.finished_at IS NULL OR x.finished_at > x.next_start)},
	'the cheap job\'s bodies never overlap in time');
none(q{SELECT count(*) FROM fieldops.job_run WHERE status = 'running'}, 'no job run is left running');
none(
	q{SELECT count(*) FROM fieldops.job_run WHERE status = 'failed'},
	'no job run failed',
	q{SELECT string_agg(j.job_name || ': ' || r.error_code || ' ' || r.error_message, E'\n')
	    FROM fieldops.job_run r JOIN fieldops.job j USING (job_id) WHERE r.status = 'failed'});
none(
	q{SELECT count(*) FROM fieldops.job_run r JOIN fieldops.job j USING (job_id)
	   WHERE j.job_name = 'bench_tick' AND r.status = 'succeeded'
	     AND NOT EXISTS (SELECT FROM bench.ticks t WHERE t.tick_id = (r.result ->> 'tick')::bigint)},
	'every succeeded run of the cheap job has its body recorded');
none(
	q{SELECT count(*) - count(DISTINCT seen_next_run_at) FROM bench.ticks},
	'the cheap job ran once per due time (no second run for the same next_run_at)',
	q{SELECT string_agg(seen_next_run_at || ' x' || n, ', ') FROM
	   (SELECT seen_next_run_at, count(*) n FROM bench.ticks GROUP BY 1 HAVING count(*) > 1) x});

$node->stop;
done_testing();
