#!/usr/bin/env bash
# test/bench/pool_bench.sh — `make bench-pool`: the customer pool at a
# million customers, each measurement against its baseline in the same run
# on the same server.  As root (the server runs as postgres) or as a user
# who can run PostgreSQL:
#
#   test/bench/pool_bench.sh                        # builds and installs first
#   FIELDOPS_SKIP_BUILD=1 BENCH_CUSTOMERS=100000 test/bench/pool_bench.sh
#
# Input: test/bench/pool_gen.sql (its header documents every distribution):
# one tenant, BENCH_WORKERS (default 2000) workers, BENCH_CUSTOMERS
# (default 1,000,000; a multiple of 10) customers around Shanghai, 70 %
# owned and fresh, 10 % owned and stale (no follow-up for 31-400 days; the
# pool releases after 30), 20 % pooled; seeded (BENCH_SEED, default 0.6).
# The generated state must pass fieldops.check_pool_invariants() before
# anything is measured.
#
# Every run starts from a fresh copy (CREATE DATABASE ... TEMPLATE pool
# STRATEGY FILE_COPY, then CHECKPOINT) of the generated database; only the
# pool_release job is enabled there.  The server: fsync and
# synchronous_commit off (test/lib.sh), shared_buffers 1GB, max_wal_size
# 8GB, autovacuum on.
#
# 1. Release of the stale 10 % (BENCH_ROUNDS rounds, default 3, the order
#    alternating):
#      case      CALL fieldops.run_due_jobs('1 hour'): the pool_release job
#                as the launcher runs it, in batches of 1000, each its own
#                transaction (the job returns {"more": true} and the
#                scheduler runs it again at once), each batch locking the
#                owners' holdings and the customers (SKIP LOCKED), ending
#                the ownership rows, decrementing holdings, updating the
#                customers, appending a pool_event and an outbox event per
#                customer, and recording a job_run;
#      baseline  one UPDATE fieldops.customer setting the same columns
#                (owner, owned_since, pool, pooled_since, previous owner,
#                released_at, warned_at) of the same customers: no ledger,
#                no holdings, no events, no batches.
#    Checked: both leave the same owner/pool/previous owner on every
#    customer (an md5 over them); the case released exactly the stale
#    count, wrote one released event each, and (first round)
#    check_pool_invariants() is empty.  Reported: seconds and the ratio
#    case / baseline (the issue's goal: <= 5).
# 2. Claim throughput, BENCH_CLIENTS (default 32) clients for
#    BENCH_CLAIM_SECONDS (default 30) s each way, pgbench -j min(clients,
#    CPUs), every transaction drawing a pooled customer and a worker
#    uniformly:
#      case      SELECT fieldops.claim_customer(tenant, customer, worker)
#                (worker and holding locked, customer locked, rules of the
#                day, claim counter, ownership, holding, event, outbox);
#      baseline  the minimal correct claim without rules or ledger: one
#                guarded UPDATE ... SET owner, pool NULL WHERE customer_id
#                = ... AND pool_id IS NOT NULL.
#    Both draw the same way, so a customer claimed earlier in the run is
#    refused (taken) by both.  Checked after the first case run:
#    check_pool_invariants() is empty.  Reported: transactions per second
#    and successful claims per second, and the ratio case / baseline.
# 3. Map latency, one client, with the GiST index on customer.geom and,
#    in another copy, without it (DROP INDEX): customers_near() around a
#    uniformly drawn point of the core (radius 2 km and 20 km, 50
#    nearest), customers_mvt() of a uniformly drawn zoom-14 tile among
#    those holding customers.  BENCH_GEO_SECONDS (default 10) s with the
#    index, BENCH_GEO_NOINDEX (default 10) calls without it.  Reported:
#    mean latency (ms) and the ratio without / with.
#
# Exit status: non-zero when a run or check fails; a ratio beyond the
# goal only with BENCH_ENFORCE=1 (a benchmark measures, it is not a test).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
. test/lib.sh

N=${BENCH_CUSTOMERS:-1000000}
W=${BENCH_WORKERS:-2000}
SEED=${BENCH_SEED:-0.6}
ROUNDS=${BENCH_ROUNDS:-3}
CLIENTS=${BENCH_CLIENTS:-32}
CLAIM_SECONDS=${BENCH_CLAIM_SECONDS:-30}
GEO_SECONDS=${BENCH_GEO_SECONDS:-10}
GEO_NOINDEX=${BENCH_GEO_NOINDEX:-10}
GOAL=5

for v in "$N" "$W" "$ROUNDS" "$CLIENTS" "$CLAIM_SECONDS" "$GEO_SECONDS" "$GEO_NOINDEX"; do
    [[ "$v" =~ ^[0-9]+$ ]] && [ "$v" -ge 1 ] \
        || die "BENCH_CUSTOMERS, BENCH_WORKERS, BENCH_ROUNDS, BENCH_CLIENTS and the BENCH_*_SECONDS must be positive whole numbers, got '$v'"
done
[ $((N % 10)) -eq 0 ] && [ "$N" -ge 1000 ] || die "BENCH_CUSTOMERS must be a multiple of 10, at least 1000"

ensure_packages
[ -n "${FIELDOPS_SKIP_BUILD:-}" ] || build_and_install

WORK=$(make_work_dir pool)
PORT=$(free_port 58732)
private_server_start "$WORK/data" "$PORT" "$WORK" "shared_buffers = 1GB
max_connections = $((CLIENTS + 10))
max_wal_size = 8GB
checkpoint_timeout = 30min"
trap 'private_server_stop "$WORK/data"' EXIT

PSQL -d postgres -c "CREATE DATABASE pool" || die "createdb failed"
PSQL -d pool -c "CREATE EXTENSION fieldops CASCADE" 2>/dev/null || die "CREATE EXTENSION failed"

say "generating $N customers and $W workers (seed $SEED)"
t0=$SECONDS
PSQL -d pool -v customers="$N" -v workers="$W" -v seed="$SEED" <test/bench/pool_gen.sql >/dev/null \
    || die "generating the customers failed"
read -r TENANT POOL NC NP STALE NT < <(PSQL -d pool -At -F ' ' -c "SELECT tenant_id, pool_id, customers, pooled, stale, tiles FROM bench.config")
[ "${NC:-}" = "$N" ] && [ "$STALE" = $((N / 10)) ] || die "generated ${NC:-no} customers with ${STALE:-no} stale, expected $N and $((N / 10))"
echo "tenant $TENANT: $N customers ($NP pooled, $STALE stale), $W workers, $NT zoom-14 tiles, $((SECONDS - t0)) s;" \
     "database $(PSQL -d pool -At -c "SELECT pg_size_pretty(pg_database_size('pool'))")"

# seconds a command takes, to the millisecond
timed() {
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >/dev/null || return 1
    t1=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'
}

# the invariants of a database: prints the violations (none: nothing)
invariants() {
    PSQL -d "$1" -At -c "SELECT format('%s %s', invariant, count(*)) FROM fieldops.check_pool_invariants($TENANT) GROUP BY invariant"
}

say "the generated state: fieldops.check_pool_invariants()"
s=$(timed invariants pool) || die "check_pool_invariants() failed"
bad=$(invariants pool)
[ -z "$bad" ] || die "the generated state violates the pool's invariants: $bad"
echo "empty ($s s for $N customers)"

# only the pool_release job runs in the copies
PSQL -d pool -c "UPDATE fieldops.job SET enabled = (job_name = 'pool_release')" >/dev/null || die "disabling the other jobs failed"

# a fresh copy of the generated database, named $1, with the tenant chosen
fresh_db() {
    PSQL -d postgres >/dev/null <<SQL || die "copying the generated database failed"
SET client_min_messages = warning;
DROP DATABASE IF EXISTS $1;
CREATE DATABASE $1 TEMPLATE pool STRATEGY FILE_COPY;
ALTER DATABASE $1 SET fieldops.tenant_id = '$TENANT';
CHECKPOINT;
SQL
}

# every customer's owner, pool and previous owner, as one md5
state_digest() {
    PSQL -d run -At -c "SELECT md5(string_agg(format('%s:%s:%s:%s', customer_id, owner_worker_id, pool_id, previous_owner_id), ',' ORDER BY customer_id))
                          FROM fieldops.customer WHERE tenant_id = $TENANT"
}


release_case() {
    PSQL -d run -c "SELECT fieldops.alter_job('pool_release', p_next_run_at => now())" >/dev/null || return 1
    PSQL -d run -c "CALL fieldops.run_due_jobs('1 hour')"
}
release_baseline() {
    PSQL -d run -c "UPDATE fieldops.customer c
                       SET owner_worker_id = NULL, owned_since = NULL, pool_id = c.home_pool_id, pooled_since = now(),
                           previous_owner_id = c.owner_worker_id, released_at = now(), warned_at = NULL, updated_at = now()
                     WHERE c.tenant_id = $TENANT AND c.home_pool_id = $POOL AND c.owner_worker_id IS NOT NULL
                       AND c.idle_since < now() - interval '30 days' AND NOT c.locked AND c.deal_state <> 'won'"
}

say "1. releasing the $STALE stale customers: the pool_release job (batches of 1000) vs one naive UPDATE; $ROUNDS rounds"
printf '%-6s %-9s %10s %8s\n' round run seconds ratio
DIGEST=""
RATIOS=""; CASES=""; BASES=""
for r in $(seq 1 "$ROUNDS"); do
    if [ $((r % 2)) -eq 1 ]; then order="case baseline"; else order="baseline case"; fi
    declare -A secs=()
    for kind in $order; do
        fresh_db run
        secs[$kind]=$(timed "release_$kind") || die "the $kind release failed"
        d=$(state_digest) || die "reading the customers failed"
        [ -z "$DIGEST" ] && DIGEST=$d
        [ "$d" = "$DIGEST" ] || die "the $kind release (round $r) left other owners or pools than the first run"
        if [ "$kind" = case ]; then
            read -r ev batches < <(PSQL -d run -At -F ' ' -c "SELECT (SELECT count(*) FROM fieldops.pool_event WHERE tenant_id = $TENANT AND kind = 'released'),
                (SELECT count(*) FROM fieldops.job_run r JOIN fieldops.job j USING (job_id) WHERE j.job_name = 'pool_release' AND r.status = 'succeeded')")
            [ "$ev" = "$STALE" ] || die "the job wrote $ev released events, expected $STALE"
            if [ "$r" = 1 ]; then
                bad=$(invariants run)
                [ -z "$bad" ] || die "after the release job: $bad"
                BATCHES=$batches
            fi
        fi
        printf '%-6s %-9s %10s\n' "$r" "$kind" "${secs[$kind]}"
    done
    ratio=$(awk -v a="${secs[case]}" -v b="${secs[baseline]}" 'BEGIN { printf "%.2f", a / b }')
    printf '%-6s %-9s %10s %8s\n' "$r" ratio "" "$ratio"
    RATIOS="$RATIOS $ratio"; CASES="$CASES ${secs[case]}"; BASES="$BASES ${secs[baseline]}"
    unset secs
done
REL_RATIO=$(echo "$RATIOS" | median)
REL_LINE=$(printf 'release %s of %s: job %s s in %s batches, naive UPDATE %s s, ratio %s (median of %s; goal <= %s)' \
    "$STALE" "$N" "$(echo "$CASES" | median)" "$BATCHES" "$(echo "$BASES" | median)" "$REL_RATIO" "$ROUNDS" "$GOAL")
echo "$REL_LINE"
echo "every run left the same owners and pools (md5 $DIGEST); the job's ledger passed check_pool_invariants()"

say "2. claims: $CLIENTS clients, $CLAIM_SECONDS s each way, a uniformly drawn pooled customer ($NP) and worker ($W)"
cat > "$WORK/claim_case.sql" <<SQL
\set k random(1, $NP)
\set w random(1, $W)
SELECT fieldops.claim_customer($TENANT, (SELECT customer_id FROM bench.pooled WHERE n = :k), (SELECT worker_id FROM bench.worker WHERE n = :w));
SQL
cat > "$WORK/claim_baseline.sql" <<SQL
\set k random(1, $NP)
\set w random(1, $W)
UPDATE fieldops.customer SET owner_worker_id = (SELECT worker_id FROM bench.worker WHERE n = :w), owned_since = now(), pool_id = NULL, pooled_since = NULL
 WHERE tenant_id = $TENANT AND customer_id = (SELECT customer_id FROM bench.pooled WHERE n = :k) AND pool_id IS NOT NULL;
SQL
[ "$(id -u)" -eq 0 ] && chown "$(test_user)" "$WORK"/claim_*.sql
J=$(( CLIENTS < $(nproc) ? CLIENTS : $(nproc) ))
printf '%-6s %-9s %10s %14s %8s\n' round run "tx/s" "claims/s" ratio
CRATIOS=""; CCASES=""; CBASES=""
for r in $(seq 1 "$ROUNDS"); do
    if [ $((r % 2)) -eq 1 ]; then order="case baseline"; else order="baseline case"; fi
    declare -A tps=()
    for kind in $order; do
        fresh_db run
        out=$(as_test_user pgbench -n -h "$WORK" -p "$PORT" -c "$CLIENTS" -j "$J" -T "$CLAIM_SECONDS" -f "$WORK/claim_$kind.sql" run 2>&1) \
            || die "pgbench (claims, $kind) failed: $out"
        tps[$kind]=$(echo "$out" | sed -n 's/^tps = \([0-9.]*\) .*/\1/p')
        tx=$(echo "$out" | sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p')
        fails=$(echo "$out" | sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p')
        [ -n "${tps[$kind]}" ] && [ "${fails:-0}" = 0 ] || die "pgbench (claims, $kind): $out"
        won=$(PSQL -d run -At -c "SELECT count(*) FROM fieldops.customer WHERE tenant_id = $TENANT AND pool_id IS NULL" )
        won=$((won - (N - NP)))
        if [ "$kind" = case ]; then
            ev=$(PSQL -d run -At -c "SELECT count(*) FROM fieldops.pool_event WHERE tenant_id = $TENANT AND kind = 'claimed'")
            [ "$ev" = "$won" ] || die "$won customers claimed but $ev claimed events"
            if [ "$r" = 1 ]; then
                bad=$(invariants run)
                [ -z "$bad" ] || die "after the claims: $bad"
            fi
        fi
        cps=$(awk -v w="$won" -v tx="$tx" -v tps="${tps[$kind]}" 'BEGIN { printf "%.0f", w * tps / tx }')
        printf '%-6s %-9s %10.0f %14s\n' "$r" "$kind" "${tps[$kind]}" "$cps ($won of $tx)"
    done
    ratio=$(awk -v a="${tps[case]}" -v b="${tps[baseline]}" 'BEGIN { printf "%.2f", a / b }')
    printf '%-6s %-9s %10s %14s %8s\n' "$r" ratio "" "" "$ratio"
    CRATIOS="$CRATIOS $ratio"; CCASES="$CCASES ${tps[case]}"; CBASES="$CBASES ${tps[baseline]}"
    unset tps
done
CLAIM_LINE=$(printf 'claims at %s clients: claim_customer() %.0f tx/s, guarded UPDATE %.0f tx/s, ratio %s (median of %s)' \
    "$CLIENTS" "$(echo "$CCASES" | median)" "$(echo "$CBASES" | median)" "$(echo "$CRATIOS" | median)" "$ROUNDS")
echo "$CLAIM_LINE"

say "3. map latency at $N customers, with and without the GiST index on customer.geom"
# points uniform in the 12 x 12 km core; a uniformly drawn tile with customers
for q in near2 near20 mvt; do
    case $q in
        near2)  call="SELECT count(*) FROM fieldops.customers_near($TENANT, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), 2000, 50);" ;;
        near20) call="SELECT count(*) FROM fieldops.customers_near($TENANT, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), 20000, 50);" ;;
        mvt)    call="SELECT length(fieldops.customers_mvt($TENANT, 14, (SELECT x FROM bench.tile WHERE n = :t), (SELECT y FROM bench.tile WHERE n = :t)));" ;;
    esac
    cat > "$WORK/geo_$q.sql" <<SQL
\set lon 121.4737 + (random(0, 1000000) - 500000) * 0.0000000631
\set lat 31.2304 + (random(0, 1000000) - 500000) * 0.0000000543
\set t random(1, $NT)
$call
SQL
done
[ "$(id -u)" -eq 0 ] && chown "$(test_user)" "$WORK"/geo_*.sql
# database, script, -T or -t and its value -> mean latency in ms
latency() {
    local out
    out=$(as_test_user pgbench -n -h "$WORK" -p "$PORT" -c 1 "$3" "$4" -f "$WORK/geo_$2.sql" "$1" 2>&1) || die "pgbench ($2 on $1) failed: $out"
    echo "$out" | sed -n 's/^latency average = \([0-9.]*\) ms.*/\1/p'
}
fresh_db run
fresh_db noidx
PSQL -d noidx -c "DROP INDEX fieldops.customer_geom_idx" >/dev/null || die "dropping the index failed"
printf '%-32s %14s %14s %10s\n' query "indexed (ms)" "no index (ms)" ratio
GEO_LINES=""
for q in near2 near20 mvt; do
    latency run "$q" -t 3 >/dev/null   # warm the cache
    a=$(latency run "$q" -T "$GEO_SECONDS")
    latency noidx "$q" -t 1 >/dev/null
    b=$(latency noidx "$q" -t "$GEO_NOINDEX")
    case $q in
        near2) label="customers_near 2 km, 50" ;; near20) label="customers_near 20 km, 50" ;; mvt) label="customers_mvt zoom 14" ;;
    esac
    line=$(awk -v l="$label" -v a="$a" -v b="$b" 'BEGIN { printf "%-32s %14.2f %14.2f %10.1f", l, a, b, b / a }')
    echo "$line"
    GEO_LINES="$GEO_LINES$line"$'\n'
done

say "summary ($N customers, $W workers)"
echo "$REL_LINE"
echo "$CLAIM_LINE"
printf '%s' "$GEO_LINES"
echo "(work directory $WORK)"
if [ "${BENCH_ENFORCE:-}" = 1 ] && awk -v r="$REL_RATIO" -v g="$GOAL" 'BEGIN { exit !(r > g) }'; then
    die "the release costs more than $GOAL times the naive UPDATE (BENCH_ENFORCE=1)"
fi
exit 0
