# Copyright (c) 2026, fieldops developers
#
# Invariants under a concurrent workload.  pgbench runs 6 clients, each
# running 550 transactions drawn from custom scripts that collide on
# purpose, while the launcher (fieldops.naptime = 1) also runs jobs:
#
#   register   register_device() of 15 device_uids to 12 workers (rebinds);
#              the devices are bound before the run, so ingest knows them all
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
#   ingest     ingest_fixes() of a batch of 5-20 fixes of random devices
#              among the 15, recorded at instants of the last 2 seconds on a
#              250 ms grid (so batches overlap: retransmissions and
#              duplicates, in and across batches, and fixes that arrive after
#              their device was rebound), as epoch milliseconds or ISO 8601;
#              every device drives the same road in convoy (the position is a
#              function of the instant), so a worker's track is one drive
#              whichever devices reported it.  Half the batches take the
#              default (an invalid element fails the call), half pass
#              {"on_error": "skip"} (it comes back as rejected)
#   claim      vehicle_claim() of one of the 12 workers (all with a car, at a
#              rate) for yesterday, today or tomorrow in UTC-11 (today or
#              tomorrow is the day of the fixes arriving, depending on the
#              time zone; tomorrow is refused while it is in the future), so
#              claims are rebuilt while fixes arrive
#   photo      a phone uploads a signed photo: a fresh nonce, or (one time
#              in three) the phone's latest nonce again, which another
#              client may be using or have used; the manifest names the
#              phone's current worker, a counter from one sequence (so
#              concurrent uploads of one phone may commit out of counter
#              order), and is signed with the phone's Ed25519 key
#
# The tenant works every hour of every day, so a fix is off duty only on or
# after its worker's leaving day; trips need only 20 m and 2 s.
#
# Each API call goes through a PL/pgSQL wrapper (schema bench) that catches
# the errors the API documents for these inputs (55000 "has left", 22023
# manager cycle, 22023 device not bound at recorded_at, 22023 claim day in
# the future) and records every failure in bench.calls: expected ones as
# refusals, deadlocks (reported with note(), not asserted: the isolation
# specs leave_rebind_deadlock and leave_chain_deadlock pin them down; those
# of ingest_fixes(), seen against departures, which update a leaver's
# devices in no particular order while ingest locks them in device_id
# order, no spec pins down yet) and anything else as an unexpected error,
# which fails the test; so does a fix that ingest_fixes() rejects (with
# "skip") for any other reason than its device being bound to nobody.  So no
# client aborts, and every failure is visible afterwards.  What
# ingest_fixes() reported for each element and what vehicle_claim() returned
# are kept (bench.ingested, bench.claims).  Triggers on fieldops.outbox and
# fieldops.device (test instrumentation) log every change of published_at
# and of last_seen_at.
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
-- what ingest_fixes() reported for each element of a batch that went through
CREATE TABLE bench.ingested (device_uid text NOT NULL, recorded_at timestamptz NOT NULL, status text NOT NULL,
                             fix_id bigint, reason text);
-- every change of device.last_seen_at, seen by a trigger (test instrumentation),
-- and whether ingest_fixes() made it (else register_device() did)
CREATE TABLE bench.seen_log (tenant_id bigint NOT NULL, device_id bigint NOT NULL, old_seen timestamptz,
                             new_seen timestamptz, by_ingest boolean NOT NULL);
-- every vehicle claim build: the row vehicle_claim() returned
CREATE TABLE bench.claims (claim_id bigint NOT NULL, revision integer NOT NULL, measured_km numeric NOT NULL);

CREATE FUNCTION bench.log_publish() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog AS $$
BEGIN
    INSERT INTO bench.publish_log VALUES (NEW.tenant_id, NEW.event_id, OLD.published_at, NEW.published_at);
    RETURN NULL;
END $$;
CREATE TRIGGER bench_log_publish AFTER UPDATE OF published_at ON fieldops.outbox
    FOR EACH ROW EXECUTE FUNCTION bench.log_publish();

CREATE FUNCTION bench.log_seen() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog AS $$
BEGIN
    INSERT INTO bench.seen_log
    VALUES (NEW.tenant_id, NEW.device_id, OLD.last_seen_at, NEW.last_seen_at,
            coalesce(current_setting('bench.caller', true), '') = 'ingest');
    RETURN NULL;
END $$;
CREATE TRIGGER bench_log_seen AFTER UPDATE OF last_seen_at ON fieldops.device
    FOR EACH ROW WHEN (OLD.last_seen_at IS DISTINCT FROM NEW.last_seen_at) EXECUTE FUNCTION bench.log_seen();

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

-- one element of a batch: device p_dev at instant p_at, driving east at
-- 20 m/s on the same road as every other device (the position depends on
-- the instant only); recorded_at as epoch milliseconds or ISO 8601 in UTC
CREATE FUNCTION bench.fix(p_dev integer, p_at timestamptz, p_iso boolean) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'device_uid', 'DEV-' || lpad(p_dev::text, 6, '0'),
        'recorded_at', CASE WHEN p_iso THEN to_jsonb(to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
                            ELSE to_jsonb((extract(epoch FROM p_at) * 1000)::bigint) END,
        'lat', 39.9, 'lon', round(100 + (extract(epoch FROM p_at) % 86400) * 20 / 85400.0, 7),
        'provider', 'gps', 'accuracy_m', 5, 'speed_mps', 20, 'bearing_deg', 90)
$$;

-- a batch of p_n fixes of random devices at random instants of the last 2
-- seconds on a 250 ms grid (never in the future); the results are kept in
-- bench.ingested.  With p_skip, an element rejected for any other reason
-- than its device being bound to nobody at recorded_at (the refusal the
-- workload provokes: workers leave) counts as an unexpected error.
CREATE FUNCTION bench.ingest(p_t bigint, p_n integer, p_skip boolean) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v_grid timestamptz := to_timestamp(floor(extract(epoch FROM clock_timestamp()) * 4) / 4);
    a_dev integer[];
    a_at timestamptz[];
    v_fixes jsonb;
    v_bad text;
    d text;
    c text;
BEGIN
    PERFORM fieldops.set_tenant(p_t);
    PERFORM set_config('bench.caller', 'ingest', true);
    SELECT array_agg(1 + floor(random() * 15)::integer), array_agg(v_grid - floor(random() * 8) * interval '250 ms')
      INTO a_dev, a_at FROM generate_series(1, p_n);
    SELECT jsonb_agg(bench.fix(a_dev[i], a_at[i], random() < 0.5) ORDER BY i) INTO v_fixes
      FROM generate_subscripts(a_dev, 1) i;
    BEGIN
        WITH kept AS (
            INSERT INTO bench.ingested (device_uid, recorded_at, status, fix_id, reason)
            SELECT 'DEV-' || lpad(a_dev[r.idx + 1]::text, 6, '0'), a_at[r.idx + 1], r.status, r.fix_id, r.reason
              FROM fieldops.ingest_fixes(p_t, v_fixes, CASE WHEN p_skip THEN '{"on_error": "skip"}' ELSE '{}' END::jsonb) r
            RETURNING status, reason)
        SELECT string_agg(DISTINCT kept.status || ': ' || coalesce(kept.reason, ''), E'\n') INTO v_bad
          FROM kept
         WHERE kept.status NOT IN ('stored', 'duplicate', 'off_duty', 'rejected')
            OR (kept.status = 'rejected' AND kept.reason NOT LIKE '%was not bound to a worker at recorded_at%');
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL, c = PG_EXCEPTION_CONTEXT;
        RETURN bench.failed('ingest', SQLSTATE, SQLERRM,
                            NOT p_skip AND SQLSTATE = '22023' AND SQLERRM LIKE '%was not bound to a worker at recorded_at%',
                            d, c);
    END;
    IF v_bad IS NOT NULL THEN
        RETURN bench.failed('ingest', 'status', 'unexpected statuses', false, v_bad);
    END IF;
    INSERT INTO bench.calls (script, outcome) VALUES ('ingest', CASE WHEN p_skip THEN 'ok (skip)' ELSE 'ok' END);
    RETURN 'ok';
END $$;

-- p_day: days after today in UTC-11 (when the tenant is in UTC-11, day 1
-- is in the future: refused); p_claimed: tenths of a km, 0 for none
CREATE FUNCTION bench.claim(p_t bigint, p_w integer, p_day integer, p_claimed integer) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    r fieldops.vehicle_claim;
    d text;
    c text;
BEGIN
    PERFORM fieldops.set_tenant(p_t);
    BEGIN
        r := fieldops.vehicle_claim(p_t, bench.wid(p_t, p_w), (now() AT TIME ZONE 'Pacific/Pago_Pago')::date + p_day,
                                    nullif(p_claimed, 0) / 10.0);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL, c = PG_EXCEPTION_CONTEXT;
        RETURN bench.failed('claim', SQLSTATE, SQLERRM, SQLSTATE = '22023' AND SQLERRM LIKE '%is in the future%', d, c);
    END;
    INSERT INTO bench.claims VALUES (r.claim_id, r.revision, r.measured_km);
    INSERT INTO bench.calls (script, outcome) VALUES ('claim', CASE WHEN r.revision = 1 THEN 'built' ELSE 'rebuilt' END);
    RETURN 'ok';
END $$;

-- verify_vehicle_claim() of every claim (in the tenant)
CREATE FUNCTION bench.verify(p_t bigint) RETURNS TABLE (claim_id bigint, reproduced boolean, fixes_unchanged boolean,
                                                       stored_km numeric, recomputed_km numeric) LANGUAGE plpgsql AS $$
BEGIN
    PERFORM fieldops.set_tenant(p_t);
    RETURN QUERY SELECT c.claim_id, v.reproduced, v.fixes_unchanged, v.stored_km, v.recomputed_km
                   FROM fieldops.vehicle_claim c, fieldops.verify_vehicle_claim(c.tenant_id, c.claim_id) v
                  WHERE c.tenant_id = p_t;
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

-- no daily partition of fieldops.fix yet: the first fixes go to the default
-- partition, and the fix_partitions job (the launcher runs it during the
-- workload) attaches today's partition while ingest_fixes() runs -- which
-- ingest_fixes() survives by running its INSERT again (23514 on
-- fix_default) and the job by locking the parent first
-- the 15 devices, bound before the run (so ingest knows them all)
SELECT fieldops.register_device(fieldops.current_tenant_id(), 'DEV-' || lpad(i::text, 6, '0'),
                                bench.wid(fieldops.current_tenant_id(), 1 + (i - 1) % 12), 'android')
  FROM generate_series(1, 15) i;
-- every hour of every day is working time; short trips count
SELECT fieldops.alter_tenant(fieldops.current_tenant_id(), p_settings => jsonb_build_object(
    'work_schedule', (SELECT jsonb_object_agg(d, '["00:00-24:00"]'::jsonb)
                        FROM unnest(ARRAY['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']) d),
    'trip_min_distance_m', 20, 'trip_min_duration_s', 2));
-- every worker has a car since a month ago, at a rate
SELECT fieldops.set_vehicle_rate(fieldops.current_tenant_id(), 'car', (now() AT TIME ZONE 'Pacific/Pago_Pago')::date - 30, 0.8);
SELECT fieldops.set_worker_vehicle(fieldops.current_tenant_id(), bench.wid(fieldops.current_tenant_id(), i),
                                   (now() AT TIME ZONE 'Pacific/Pago_Pago')::date - 30, 'car', 'B-' || lpad(i::text, 5, '0'))
  FROM generate_series(1, 12) i;

-- photos: every phone has an Ed25519 key (its seed from its uid); the
-- phone's side is the module's development signing functions
CREATE FUNCTION bench.phone_key(text, bytea) RETURNS bytea AS 'fieldops', 'fieldops_dev_public_key' LANGUAGE C STRICT;
CREATE FUNCTION bench.phone_sign(text, bytea, bytea) RETURNS bytea AS 'fieldops', 'fieldops_dev_sign' LANGUAGE C STRICT;
SELECT fieldops.register_device_key(d.tenant_id, d.device_id, 'ed25519',
                                    bench.phone_key('ed25519', sha256(convert_to(d.device_uid, 'UTF8'))))
  FROM fieldops.device d;
CREATE SEQUENCE bench.photo_counter;
CREATE TABLE bench.photo_nonce (device_id bigint NOT NULL, nonce bytea NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp());
CREATE FUNCTION bench.photo(p_t bigint, p_dev integer, p_reuse boolean) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    dv fieldops.device;
    k bytea;
    n bytea;
    m bytea;
    r record;
    x text;
    d text;
    c text;
BEGIN
    PERFORM fieldops.set_tenant(p_t);
    SELECT * INTO dv FROM fieldops.device WHERE tenant_id = p_t AND device_uid = 'DEV-' || lpad(p_dev::text, 6, '0');
    SELECT key_id INTO k FROM fieldops.device_key WHERE tenant_id = p_t AND device_id = dv.device_id;
    IF p_reuse THEN
        SELECT nonce INTO n FROM bench.photo_nonce WHERE device_id = dv.device_id ORDER BY at DESC LIMIT 1;
    END IF;
    BEGIN
        IF n IS NULL THEN
            n := fieldops.issue_photo_nonce(p_t, dv.device_id);
            INSERT INTO bench.photo_nonce (device_id, nonce) VALUES (dv.device_id, n);
        END IF;
        m := fieldops.photo_manifest('ed25519', k, p_t, COALESCE(dv.worker_id, 1), dv.device_id, 0, clock_timestamp(),
                                     -14.28, -170.7, 5, nextval('bench.photo_counter'),
                                     sha256(convert_to('photo ' || currval('bench.photo_counter'), 'UTF8')), NULL, n);
        SELECT * INTO r FROM fieldops.submit_photo(p_t, m, bench.phone_sign('ed25519', sha256(convert_to(dv.device_uid, 'UTF8')), m));
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL, c = PG_EXCEPTION_CONTEXT;
        -- a phone bound to nobody (its worker left) gets no nonce
        RETURN bench.failed('photo', SQLSTATE, SQLERRM, SQLSTATE = '55000' AND SQLERRM LIKE '%is not bound to a worker%', d, c);
    END;
    SELECT string_agg(e ->> 'code', ',') INTO x FROM jsonb_array_elements(r.reasons) e WHERE e ->> 'severity' = 'reject';
    INSERT INTO bench.calls (script, outcome) VALUES ('photo', r.verdict || COALESCE(' ' || x, ''));
    RETURN r.verdict;
END $$;
EOSQL

is( sql(q{SELECT count(*) FROM fieldops.worker}), '12', '12 workers to start with');
is( sql(q{SELECT count(*) FROM fieldops.device_binding WHERE unbound_at IS NULL}),
	'15', '15 devices bound to start with');

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
},
	'fieldops_ingest@5' => q{
\set n random(5, 20)
\set skip random(0, 1)
SELECT bench.ingest(:tenant, :n, :skip = 1);
},
	'fieldops_photo@4' => q{
\set dev random(1, 15)
\set reuse random(0, 2)
SELECT bench.photo(:tenant, :dev, :reuse = 0);
},
	'fieldops_claim@2' => q{
\set w random(1, 12)
\set day random(-1, 1)
\set claimed random(0, 20)
SELECT bench.claim(:tenant, :w, :day, :claimed);
},);

my $started = time;
$node->pgbench(
	"--no-vacuum --client=6 --jobs=2 --transactions=550 --define=tenant=$tid",
	0,
	[
		qr{number of transactions actually processed: 3300/3300},
		qr{number of failed transactions: 0 }
	],
	[qr{^(?:(?!aborted).)*$}s],
	'pgbench: 6 clients x 550 transactions, no client aborted',
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

# every claim verified once the workload is over (by an auditor, as it were)
sql(qq{CREATE TABLE bench.verified AS SELECT * FROM bench.verify($tid)});

# ---------------------------------------------------------------------------
# what happened (for the log)

note(sql(q{SELECT string_agg(script || ' ' || outcome || ': ' || n, E'\n' ORDER BY script, outcome)
             FROM (SELECT script, outcome, count(*) n FROM bench.calls GROUP BY 1, 2) x}));
note(sql(q{SELECT string_agg('ingested ' || status || ': ' || n, E'\n' ORDER BY status)
             FROM (SELECT status, count(*) n FROM bench.ingested GROUP BY 1) x}));
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
positive(q{SELECT count(*) FROM fieldops.outbox WHERE topic IN ('customer.assigned', 'customer.transferred')},
	'customers changed owner');
positive(q{SELECT count(*) FROM bench.calls WHERE script = 'customer' AND outcome = 'refused 55000'},
	'customers were refused to owners who had left');
positive(q{SELECT count(*) FROM bench.acks WHERE NOT drain}, 'relays acknowledged events during the run');
positive(q{SELECT count(DISTINCT relay) - 1 FROM bench.acks WHERE NOT drain}, 'several relays acknowledged events');
positive(q{SELECT count(*) - 2 FROM bench.ticks}, 'the cheap job ran at least 3 times');
positive(q{SELECT count(DISTINCT pid) - 1 FROM bench.ticks}, 'the cheap job ran in several sessions');
positive(q{SELECT count(*) FROM fieldops.job_run WHERE runner <> 'fieldops launcher'}, 'pgbench clients ran jobs');
positive(q{SELECT count(DISTINCT pid) - 1 FROM fieldops.job_run}, 'jobs ran in several sessions');
positive(q{SELECT count(*) FROM fieldops.fix}, 'fixes were stored');
positive(q{SELECT count(*) FROM bench.ingested WHERE status = 'duplicate' AND reason = 'already stored'},
	'ingest_fixes() reported fixes already stored (retransmissions, concurrent batches) as duplicates');
positive(q{SELECT count(*) FROM bench.ingested WHERE status = 'duplicate' AND reason <> 'already stored'},
	'ingest_fixes() reported fixes repeated in a batch as duplicates');
positive(q{SELECT count(*) FROM bench.calls WHERE script = 'ingest' AND outcome = 'refused 22023'},
	'batches were refused for a device bound to nobody at recorded_at');
positive(q{SELECT count(*) FROM bench.ingested WHERE status = 'rejected'},
	'fixes of devices bound to nobody at recorded_at were rejected (on_error skip)');
positive(
	q{SELECT count(*) FROM (SELECT device_id FROM fieldops.fix GROUP BY tenant_id, device_id
	                         HAVING count(DISTINCT worker_id) > 1) x},
	'devices\' fixes went to several workers (rebinds between them)');
positive(
	q{SELECT count(*) FROM fieldops.fix f JOIN fieldops.device_binding b USING (tenant_id, device_id)
	   WHERE b.bound_at <= f.recorded_at AND f.recorded_at < b.unbound_at AND b.unbound_at < f.received_at},
	'fixes arrived after their device had been bound to someone else');
positive(q{SELECT count(*) FROM fieldops.vehicle_claim}, 'vehicle claims were built');
positive(q{SELECT count(*) FROM fieldops.vehicle_claim WHERE revision > 1}, 'vehicle claims were rebuilt');
positive(q{SELECT count(*) FROM fieldops.vehicle_claim WHERE measured_km > 0}, 'vehicle claims measured a distance');
positive(q{SELECT count(*) FROM bench.verified WHERE NOT fixes_unchanged},
	'fixes arrived for vehicle claims after they were built');

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

# --- the customer pool: concurrent upserts with owners and departures went through its ledger
none(
	q{SELECT count(*) FROM fieldops.check_pool_invariants()},
	'the customer pool invariants hold after the load',
	q{SELECT string_agg(invariant || ' ' || coalesce(customer_id::text, '') || ' ' || detail, E'\n') FROM fieldops.check_pool_invariants()});

# --- photos
positive(q{SELECT count(*) FROM fieldops.photo WHERE verdict = 'accepted'}, 'photos were accepted');
positive(q{SELECT count(*) FROM bench.calls WHERE script = 'photo' AND outcome LIKE '%nonce_used%'},
	'photos raced for a nonce and lost');
none(
	q{SELECT count(*) FROM (SELECT tenant_id, nonce FROM fieldops.photo WHERE verdict <> 'rejected'
	                         GROUP BY 1, 2 HAVING count(*) > 1) x},
	'no nonce served two photos that were not rejected');
none(
	q{SELECT count(*) FROM fieldops.photo p WHERE p.verdict = 'accepted'
	   AND NOT EXISTS (SELECT 1 FROM fieldops.photo_nonce n
	                    WHERE n.tenant_id = p.tenant_id AND n.nonce = p.nonce AND n.photo_id = p.photo_id)},
	'every accepted photo consumed its nonce');
none(
	q{SELECT count(*) FROM fieldops.photo_nonce n WHERE n.used_at IS NOT NULL
	   AND NOT EXISTS (SELECT 1 FROM fieldops.photo p
	                    WHERE p.tenant_id = n.tenant_id AND p.photo_id = n.photo_id AND p.nonce = n.nonce)},
	'every used nonce names the photo that used it');
none(
	q{SELECT count(*) FROM (SELECT counter, lag(counter) OVER (PARTITION BY tenant_id, key_id ORDER BY chain_seq) AS prev
	                          FROM fieldops.photo
	                         WHERE signature_ok AND NOT reasons @> '[{"code": "counter_not_increasing"}]') x
	   WHERE counter <= prev},
	'each key\'s counter went up with every photo it was allowed to sign');
none(
	q{SELECT count(*) FROM fieldops.device_key k
	   WHERE k.last_counter <> COALESCE((SELECT max(p.counter) FROM fieldops.photo p
	                                      WHERE p.tenant_id = k.tenant_id AND p.key_id = k.key_id AND p.signature_ok), 0)},
	'each key\'s last counter is the highest counter it signed');
none(
	q{SELECT count(*) FROM fieldops.tenant t, LATERAL (SELECT fieldops.set_tenant(t.tenant_id, true)) s,
	                       LATERAL fieldops.verify_photo_chain(t.tenant_id) v WHERE NOT v.ok},
	'the photo chain is intact');

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

# --- fixes
none(
	q{SELECT count(*) FROM fieldops.fix f
	   WHERE ARRAY[f.worker_id] IS DISTINCT FROM
	         (SELECT array_agg(b.worker_id) FROM fieldops.device_binding b
	           WHERE b.tenant_id = f.tenant_id AND b.device_id = f.device_id
	             AND b.bound_at <= f.recorded_at AND f.recorded_at < coalesce(b.unbound_at, 'infinity'))},
	'every fix belongs to the worker its device was bound to at recorded_at',
	q{SELECT string_agg(format('fix %s of device %s at %s (received %s): worker %s, bindings %s', f.fix_id, f.device_id,
	                           f.recorded_at, f.received_at, f.worker_id,
	                           (SELECT string_agg(format('%s [%s, %s)', b.worker_id, b.bound_at, b.unbound_at), ', '
	                                              ORDER BY b.bound_at)
	                              FROM fieldops.device_binding b
	                             WHERE b.tenant_id = f.tenant_id AND b.device_id = f.device_id
	                               AND b.bound_at <= f.recorded_at + interval '1 second'
	                               AND f.recorded_at - interval '1 second' < coalesce(b.unbound_at, 'infinity'))), E'\n')
	    FROM fieldops.fix f
	   WHERE ARRAY[f.worker_id] IS DISTINCT FROM
	         (SELECT array_agg(b.worker_id) FROM fieldops.device_binding b
	           WHERE b.tenant_id = f.tenant_id AND b.device_id = f.device_id
	             AND b.bound_at <= f.recorded_at AND f.recorded_at < coalesce(b.unbound_at, 'infinity'))});
none(
	q{SELECT count(*) - count(DISTINCT (tenant_id, device_id, recorded_at)) FROM fieldops.fix},
	'no two fixes have the same device and recorded_at');
none(
	q{SELECT count(*) FROM bench.ingested i
	   WHERE (i.status = 'stored' OR (i.status = 'duplicate' AND i.fix_id IS NOT NULL))
	     AND NOT EXISTS (SELECT FROM fieldops.fix f JOIN fieldops.device d USING (tenant_id, device_id)
	                      WHERE f.fix_id = i.fix_id AND d.device_uid = i.device_uid AND f.recorded_at = i.recorded_at)},
	'every stored or duplicate fix_id ingest_fixes() reported is the fix of that device and instant');
none(
	q{SELECT count(*) FROM fieldops.fix f
	    FULL JOIN (SELECT fix_id, count(*) AS n FROM bench.ingested WHERE status = 'stored' GROUP BY 1) i USING (fix_id)
	   WHERE f.fix_id IS NULL OR i.n IS DISTINCT FROM 1},
	'every fix was reported stored exactly once, and every fix reported stored is there');
# ingest_fixes() promises that last_seen_at is the latest stored recorded_at
# and only moves forward; register_device() also sets it (to the time of the
# registration), so exactly: ingest moves it forward only, to a recorded_at
# it stored, and in the end it is the latest of both
none(
	q{SELECT count(*) FROM bench.seen_log l
	   WHERE l.by_ingest
	     AND (l.new_seen < l.old_seen
	          OR NOT EXISTS (SELECT FROM fieldops.fix f
	                          WHERE f.tenant_id = l.tenant_id AND f.device_id = l.device_id AND f.recorded_at = l.new_seen))},
	'ingest_fixes() moved last_seen_at only forward, and only to the recorded_at of a fix it stored');
none(
	q{SELECT count(*) FROM fieldops.device d
	   WHERE d.last_seen_at IS DISTINCT FROM
	         greatest((SELECT max(f.recorded_at) FROM fieldops.fix f WHERE f.tenant_id = d.tenant_id AND f.device_id = d.device_id),
	                  (SELECT max(l.new_seen) FROM bench.seen_log l
	                    WHERE l.tenant_id = d.tenant_id AND l.device_id = d.device_id AND NOT l.by_ingest))},
	'device.last_seen_at is the latest stored recorded_at of the device, or its last registration when that is later',
	q{SELECT string_agg(format('device %s: last_seen_at %s, latest fix %s, last registration %s', device_id,
	                           last_seen_at, latest_fix, last_registration), E'\n')
	    FROM (SELECT d.device_id, d.last_seen_at,
	                 (SELECT max(f.recorded_at) FROM fieldops.fix f
	                   WHERE f.tenant_id = d.tenant_id AND f.device_id = d.device_id) AS latest_fix,
	                 (SELECT max(l.new_seen) FROM bench.seen_log l
	                   WHERE l.tenant_id = d.tenant_id AND l.device_id = d.device_id AND NOT l.by_ingest) AS last_registration
	            FROM fieldops.device d) x
	   WHERE last_seen_at IS DISTINCT FROM greatest(latest_fix, last_registration)});

# --- vehicle claims
none(
	q{SELECT count(*) - count(DISTINCT (tenant_id, worker_id, day)) FROM fieldops.vehicle_claim},
	'at most one vehicle claim per worker and day');
# (the key (claim_id, range_no, seq) of fieldops.trip would make a mix of two
# builds fail the second with 23505, an unexpected error, or leave segments
# that the next checks do not find in measured_km and the evidence)
none(
	q{SELECT count(*) FROM (SELECT claim_id FROM fieldops.trip GROUP BY tenant_id, claim_id
	                         HAVING count(*) <> count(DISTINCT (range_no, seq))) x},
	'the segments of every claim come from one build');
none(
	q{SELECT count(*) FROM fieldops.vehicle_claim c
	    LEFT JOIN (SELECT tenant_id, claim_id,
	                      sum(distance_m::numeric) FILTER (WHERE counted) AS counted_m,
	                      sum(distance_m::numeric) FILTER (WHERE kind = 'trip') AS trip_m,
	                      sum(distance_m::numeric) FILTER (WHERE kind = 'gap') AS gap_m
	                 FROM fieldops.trip GROUP BY 1, 2) t USING (tenant_id, claim_id)
	   WHERE c.measured_km <> round(coalesce(t.counted_m, 0) / 1000, 3)
	      OR c.trip_km <> round(coalesce(t.trip_m, 0) / 1000, 3)
	      OR c.gap_km <> round(coalesce(t.gap_m, 0) / 1000, 3)},
	'every claim\'s measured_km (trip_km, gap_km) is the sum of its counted (trip, gap) segments');
none(
	q{SELECT count(*) FROM fieldops.vehicle_claim c
	   WHERE c.evidence -> 'trip_ids'
	         IS DISTINCT FROM (SELECT coalesce(jsonb_agg(t.trip_id ORDER BY t.range_no, t.seq), '[]')
	                             FROM fieldops.trip t
	                            WHERE t.tenant_id = c.tenant_id AND t.claim_id = c.claim_id AND t.counted)},
	'every claim\'s evidence lists the ids of its counted segments');
none(
	q{SELECT count(*) FROM fieldops.vehicle_claim c
	   WHERE c.revision <> (SELECT count(*) FROM fieldops.outbox o
	                         WHERE o.tenant_id = c.tenant_id AND o.topic = 'vehicle_claim.built'
	                           AND o.aggregate_id = c.claim_id)
	      OR (SELECT o.payload -> 'revision' = to_jsonb(c.revision) AND o.payload -> 'measured_km' = to_jsonb(c.measured_km)
	            FROM fieldops.outbox o
	           WHERE o.tenant_id = c.tenant_id AND o.topic = 'vehicle_claim.built' AND o.aggregate_id = c.claim_id
	           ORDER BY o.event_id DESC LIMIT 1) IS NOT TRUE},
	'every claim has one vehicle_claim.built event per revision, the latest with its revision and measured_km');
none(
	q{SELECT count(*) FROM fieldops.vehicle_claim c
	   WHERE (SELECT array_agg(b.revision ORDER BY b.revision) FROM bench.claims b WHERE b.claim_id = c.claim_id)
	         IS DISTINCT FROM ARRAY(SELECT generate_series(1, c.revision))},
	'the builds of every claim returned the revisions 1, 2, ... its revision, each once');
none(
	q{SELECT count(*) FROM bench.verified WHERE fixes_unchanged AND NOT reproduced},
	'verify_vehicle_claim() reproduces every claim whose fixes did not change since it was built',
	q{SELECT string_agg(format('claim %s: stored %s, recomputed %s', claim_id, stored_km, recomputed_km), E'\n')
	    FROM bench.verified WHERE fixes_unchanged AND NOT reproduced});

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
