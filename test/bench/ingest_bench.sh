#!/usr/bin/env bash
# test/bench/ingest_bench.sh: fieldops.ingest_fixes() (validation,
# attribution, spoof scoring) against a plain INSERT ... SELECT of the same
# rows into the same table, same run, same server.  As root (the server
# runs as postgres) or as a user who can run PostgreSQL:
#
#   test/bench/ingest_bench.sh                       # builds and installs first
#   FIELDOPS_SKIP_BUILD=1 BENCH_ROUNDS=5 test/bench/ingest_bench.sh
#
# Input: test/bench/ingest_gen.sql (its header documents every
# distribution) makes a tenant (Asia/Shanghai, store_off_duty_fixes on, a
# 07:00-21:00 schedule every day: every fix is stored), BENCH_WORKERS
# (default 50) workers with one phone each, bound 30 days before the first
# fix, and BENCH_FIXES (default 100,000) fixes, seeded (BENCH_SEED, default
# 0.2026): each phone's working day of yesterday (tenant-local) at one fix
# every 5-10 s, stopped / walking / driving, with accuracy, altitude,
# speed, bearing, provider gps or network, satellites, C/N0 mean and
# spread, a Wi-Fi scan of 3-8 access points and one serving cell; recorded_at
# as epoch milliseconds (BENCH_TIME_FORMAT=ms, as Android reports it; iso
# for ISO 8601 strings with +08:00).  Each phone's fixes are cut in time
# order into batches of BENCH_BATCH (default 100) JSON elements, numbered
# round-robin over the phones (batch k of every phone before batch k + 1 of
# any), in a staging table bench.batch (batch_no, device, payload jsonb).
# The daily partitions of the fixes' UTC days exist before the first run,
# with the BENCH_HISTORY_DAYS (default 90) days before them and the 7 after,
# as the fix_partitions job leaves them for a tenant keeping 90 days (empty
# here; their number is what matters to the plans).
# What the input does not exercise: the fixes are uploaded a day after they
# were taken (a backlog, so the scorer may call them stale); none is
# spoofed, so red fixes and their alerts are rare or absent; no element
# has client_ip, integrity or customer_id; one tenant; no bad elements.
#
# Method: each run starts from the same state: a fresh copy (CREATE
# DATABASE run TEMPLATE ingest STRATEGY FILE_COPY) of the database made
# above, so fieldops.fix is empty with the same daily partitions and
# indexes, and so is whatever else ingest derives from fixes (alerts,
# outbox events, replay fingerprints, devices' last_seen_at, ...) in
# whichever version of the extension is installed (truncating only the
# tables known today would let the state of one run leak into the
# next).  CHECKPOINT, then all N fixes
# are stored with pgbench -n -c C -t ceil(B / C), one statement per
# transaction (autocommit), every client taking the next batch number
# from a shared sequence (evaluated once per statement), so that the B
# batches are each sent once, in the order above, and concurrent clients
# work on different phones:
#   case      SELECT count(*) FROM bench.batch b,
#                    LATERAL fieldops.ingest_fixes(tenant, b.payload)
#              WHERE b.batch_no = (SELECT nextval(...))
#             (scoring is always on: ingest_fixes() scores every new fix
#             against the phone's previous 16 fixes, the radio map and the
#             replay fingerprints before storing it, raises alerts for red
#             ones, records fingerprints, updates last_seen_at)
#   baseline  INSERT INTO fieldops.fix (tenant_id, device_id, worker_id,
#             recorded_at, geom, accuracy_m, altitude_m, speed_mps,
#             bearing_deg, provider, is_mock, satellites, cn0_mean_dbhz,
#             cn0_sd_dbhz, wifi, cells) SELECT <the same fields parsed from
#             the same JSON elements> FROM bench.batch b,
#             jsonb_array_elements(b.payload) WHERE b.batch_no = (same)
#             (device and worker ids taken from the staging row: no lookup,
#             no validation, no scoring)
# Both as the superuser that owns the database (row-level security does
# not apply to either; ingest_fixes() is SECURITY DEFINER anyway), the
# tenant chosen by ALTER DATABASE run SET fieldops.tenant_id.  For each
# client count in BENCH_CLIENTS (default "1 4"; the -c 1 run is the same as
# a single psql loop over the batches), after a warm-up of both over
# BENCH_WARMUP batches (default 2 per phone, each in its own copy), BENCH_ROUNDS
# (default 3) rounds, case first in odd rounds and baseline first in even
# ones.  fixes/s = N / (transactions / pgbench's tps without connection
# time); a client count's ratio is the median of the rounds' case/baseline
# ratios (the goal: >= 0.5).  pgbench -j is min(C, CPUs); the server runs
# with fsync and synchronous_commit off (test/lib.sh), shared_buffers
# 256MB, max_wal_size 4GB, autovacuum on.
#
# Checked after every run: exactly N rows in fieldops.fix, one for each
# (device, recorded_at) of the input, each attributed to the worker the
# phone is bound to; after every case run also that every row has score,
# band, reasons and model_version (scoring really ran); and that every run,
# case or baseline, stored the same values in the columns the baseline
# writes (an md5 over the rows).  Reported: a table
# of the runs, the bands and alerts of the first case run, and per client
# count the medians; fieldops.so and the install script are fingerprinted
# before and after (another build installed meanwhile is reported: the
# database keeps the SQL of its CREATE EXTENSION, but new backends may
# load a replaced library).
#
# Exit status: non-zero on a failed run or check; a ratio below the goal
# only with BENCH_ENFORCE=1 (a benchmark measures, it is not a timed test).
set -uo pipefail
cd "$(dirname "$0")/../.."
. test/lib.sh

ROUNDS=${BENCH_ROUNDS:-3}
N=${BENCH_FIXES:-100000}
W=${BENCH_WORKERS:-50}
BATCH=${BENCH_BATCH:-100}
CLIENTS=${BENCH_CLIENTS:-"1 4"}
SEED=${BENCH_SEED:-0.2026}
HISTORY=${BENCH_HISTORY_DAYS:-90}
TIME_FORMAT=${BENCH_TIME_FORMAT:-ms}
WARMUP=${BENCH_WARMUP:-$((2 * W))}
GOAL=0.5

case "$TIME_FORMAT" in ms|iso) ;; *) die "BENCH_TIME_FORMAT must be ms or iso, got $TIME_FORMAT" ;; esac
for v in "$ROUNDS" "$N" "$W" "$BATCH" "$WARMUP" "$HISTORY" $CLIENTS; do
    [[ "$v" =~ ^[0-9]+$ ]] || die "BENCH_ROUNDS, BENCH_FIXES, BENCH_WORKERS, BENCH_BATCH, BENCH_WARMUP and BENCH_CLIENTS must be whole numbers, got '$v'"
done
[ "$N" -ge "$W" ] && [ "$W" -ge 1 ] && [ "$BATCH" -ge 1 ] && [ "$BATCH" -le 10000 ] && [ "$ROUNDS" -ge 1 ] \
    || die "need BENCH_FIXES >= BENCH_WORKERS >= 1, 1 <= BENCH_BATCH <= 10000, BENCH_ROUNDS >= 1"

ensure_packages
[ -n "${FIELDOPS_SKIP_BUILD:-}" ] || build_and_install

fingerprint() {
    sha256sum "$($PG_CONFIG --pkglibdir)/fieldops.so" "$($PG_CONFIG --sharedir)/extension/fieldops--0.2.0.sql" 2>/dev/null \
        | cut -c1-12 | paste -sd/
}
FP_BEFORE=$(fingerprint)

WORK=$(make_work_dir ingest)
PORT=$(free_port 58632)
private_server_start "$WORK/data" "$PORT" "$WORK" "shared_buffers = 256MB
max_connections = 20
max_wal_size = 4GB
checkpoint_timeout = 30min"
trap 'private_server_stop "$WORK/data"' EXIT

PSQL -d postgres -c "CREATE DATABASE ingest" || die "createdb failed"
PSQL -d ingest -c "CREATE EXTENSION fieldops CASCADE" 2>/dev/null || die "CREATE EXTENSION failed"

say "generating $N fixes of $W phones (seed $SEED, batches of $BATCH, recorded_at as $TIME_FORMAT)"
t0=$(date +%s)
PSQL -d ingest -v workers="$W" -v fixes="$N" -v batch="$BATCH" -v seed="$SEED" -v time_format="$TIME_FORMAT" -v history_days="$HISTORY" \
    < test/bench/ingest_gen.sql >/dev/null || die "generating the fixes failed"
read -r TENANT NFIX B FIRST LAST < <(PSQL -d ingest -At -F ' ' \
    -c "SELECT tenant_id, fixes, batches, to_char(first_at, 'YYYY-MM-DD\"T\"HH24:MI'), to_char(last_at, 'YYYY-MM-DD\"T\"HH24:MI') FROM bench.config")
[ "${NFIX:-}" = "$N" ] || die "generated ${NFIX:-no} fixes, expected $N"
echo "tenant $TENANT: $N fixes in $B batches, $FIRST .. $LAST (UTC), $(( $(date +%s) - t0 )) s;" \
     "staging $(PSQL -d ingest -At -c "SELECT pg_size_pretty(pg_total_relation_size('bench.batch'))")," \
     "$(PSQL -d ingest -At -c "SELECT round(avg(pg_column_size(payload))) FROM bench.batch") bytes per payload (compressed)"

cat > "$WORK/case.sql" <<'SQL'
SELECT count(*) FROM bench.batch b, LATERAL fieldops.ingest_fixes(:tenant, b.payload) i WHERE b.batch_no = (SELECT nextval('bench.next_batch'));
SQL
if [ "$TIME_FORMAT" = ms ]; then
    AT="to_timestamp(0) + (e ->> 'recorded_at')::bigint * interval '1 millisecond'"
else
    AT="(e ->> 'recorded_at')::timestamptz"
fi
cat > "$WORK/baseline.sql" <<SQL
INSERT INTO fieldops.fix (tenant_id, device_id, worker_id, recorded_at, geom, accuracy_m, altitude_m, speed_mps, bearing_deg, provider, is_mock, satellites, cn0_mean_dbhz, cn0_sd_dbhz, wifi, cells) SELECT :tenant, b.device_id, b.worker_id, $AT, ST_SetSRID(ST_MakePoint((e ->> 'lon')::float8, (e ->> 'lat')::float8), 4326), (e ->> 'accuracy_m')::real, (e ->> 'altitude_m')::real, (e ->> 'speed_mps')::real, (e ->> 'bearing_deg')::real, e ->> 'provider', (e ->> 'mock')::boolean, (e ->> 'satellites')::smallint, (e ->> 'cn0_mean_dbhz')::real, (e ->> 'cn0_sd_dbhz')::real, e -> 'wifi', e -> 'cells' FROM bench.batch b, jsonb_array_elements(b.payload) e WHERE b.batch_no = (SELECT nextval('bench.next_batch'));
SQL
[ "$(id -u)" -eq 0 ] && chown "$(test_user)" "$WORK/case.sql" "$WORK/baseline.sql"

# a fresh copy of the prepared database, with the tenant chosen
fresh_run_db() {
    PSQL -d postgres >/dev/null <<SQL || die "copying the prepared database failed"
SET client_min_messages = warning;
DROP DATABASE IF EXISTS run;
CREATE DATABASE run TEMPLATE ingest STRATEGY FILE_COPY;
ALTER DATABASE run SET fieldops.tenant_id = '$TENANT';
CHECKPOINT;
SQL
}

# the column values of every stored fix, as one md5
digest() {
    PSQL -d run -At -c "SELECT md5(string_agg(md5(ROW(f.tenant_id, f.device_id, f.worker_id, f.recorded_at, f.geom, f.accuracy_m,
            f.altitude_m, f.speed_mps, f.bearing_deg, f.provider, f.is_mock, f.satellites, f.cn0_mean_dbhz, f.cn0_sd_dbhz,
            f.wifi, f.cells)::text), '' ORDER BY f.device_id, f.recorded_at)) FROM fieldops.fix f"
}

# kind (case|baseline) -> the problems of the stored fixes (empty: none)
check_fixes() {
    PSQL -d run -At -v kind="$1" <<SQL
SELECT concat_ws('; ',
    (SELECT format('%s fixes stored, expected $N', n) FROM (SELECT count(*) AS n FROM fieldops.fix) x WHERE n <> $N),
    (SELECT format('%s of the $N input fixes found in fieldops.fix', n)
       FROM (SELECT count(*) AS n FROM bench.fix_key k JOIN fieldops.fix f
               ON f.tenant_id = $TENANT AND f.device_id = k.device_id AND f.recorded_at = k.recorded_at) x WHERE n <> $N),
    (SELECT format('%s fixes attributed to a worker the phone is not bound to', n)
       FROM (SELECT count(*) AS n FROM fieldops.fix f JOIN bench.device d ON d.device_id = f.device_id
              WHERE f.worker_id <> d.worker_id) x WHERE n > 0),
    CASE WHEN :'kind' = 'case' THEN
        (SELECT format('%s stored fixes lack a score, band, reasons or model_version', n)
           FROM (SELECT count(*) AS n FROM fieldops.fix
                  WHERE score IS NULL OR band IS NULL OR reasons IS NULL OR model_version IS NULL) x WHERE n > 0) END)
SQL
}

# kind, clients, transactions per client: one run in a fresh copy;
# sets RUN_TPS and RUN_TX (transactions processed)
run() {
    local kind=$1 c=$2 t=$3 j out
    j=$(( c < $(nproc) ? c : $(nproc) ))
    fresh_run_db
    out=$(as_test_user pgbench -n -h "$WORK" -p "$PORT" -c "$c" -j "$j" -t "$t" -D tenant="$TENANT" \
            -f "$WORK/$kind.sql" run 2>&1) || die "pgbench ($kind, $c clients) failed: $out"
    RUN_TPS=$(echo "$out" | sed -n 's/^tps = \([0-9.]*\) .*/\1/p')
    RUN_TX=$(echo "$out" | sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p')
    [ -n "$RUN_TPS" ] && [ "$RUN_TX" = $((c * t)) ] || die "pgbench ($kind, $c clients) did not run all transactions: $out"
}


if [ "$WARMUP" -gt 0 ]; then
    say "warm-up: $(( WARMUP < B ? WARMUP : B )) batches each way, 1 client"
    for kind in case baseline; do
        run "$kind" 1 "$(( WARMUP < B ? WARMUP : B ))"
    done
fi

say "runs: $N fixes in $B batches of up to $BATCH each run; $ROUNDS rounds per client count"
printf '%-8s %-6s %-9s %10s %12s %8s\n' clients round run seconds "fixes/s" ratio
DIGEST=""
BANDS=""
SUMMARY=""
BELOW=0
for c in $CLIENTS; do
    [ "$c" -ge 1 ] || die "a client count must be at least 1"
    t=$(( (B + c - 1) / c ))   # (the last clients' surplus transactions find no batch and store nothing)
    ratios=""; cases=""; bases=""
    for r in $(seq 1 "$ROUNDS"); do
        if [ $((r % 2)) -eq 1 ]; then order="case baseline"; else order="baseline case"; fi
        declare -A rate=()
        for kind in $order; do
            run "$kind" "$c" "$t"
            bad=$(check_fixes "$kind") || die "checking the $kind run failed"
            [ -z "$bad" ] || die "$kind run ($c clients, round $r): $bad"
            d=$(digest) || die "reading the stored fixes failed"
            [ -z "$DIGEST" ] && DIGEST=$d
            [ "$d" = "$DIGEST" ] || die "$kind run ($c clients, round $r) stored other values than the first run (md5 $d, not $DIGEST)"
            if [ "$kind" = case ] && [ -z "$BANDS" ]; then
                BANDS=$(PSQL -d run -At <<'SQL'
SELECT (SELECT string_agg(format('%s %s', band, n), ', ' ORDER BY band)
          FROM (SELECT band, count(*) AS n FROM fieldops.fix GROUP BY band) x)
       || format('; score median %s, max %s; %s alerts; model %s',
                 percentile_disc(0.5) WITHIN GROUP (ORDER BY score), max(score),
                 (SELECT count(*) FROM fieldops.fix_alert), min(model_version))
  FROM fieldops.fix
SQL
) || die "reading the scores failed"
            fi
            rate[$kind]=$(awk -v n="$N" -v tps="$RUN_TPS" -v tx="$RUN_TX" 'BEGIN { printf "%.0f", n * tps / tx }')
            secs=$(awk -v tps="$RUN_TPS" -v tx="$RUN_TX" 'BEGIN { printf "%.2f", tx / tps }')
            printf '%-8s %-6s %-9s %10s %12s\n' "$c" "$r" "$kind" "$secs" "${rate[$kind]}"
        done
        ratio=$(awk -v a="${rate[case]}" -v b="${rate[baseline]}" 'BEGIN { printf "%.3f", a / b }')
        printf '%-8s %-6s %-9s %10s %12s %8s\n' "$c" "$r" "ratio" "" "" "$ratio"
        ratios="$ratios $ratio"; cases="$cases ${rate[case]}"; bases="$bases ${rate[baseline]}"
        unset rate
    done
    mr=$(echo "$ratios" | median)
    line=$(awk -v c="$c" -v a="$(echo "$cases" | median)" -v b="$(echo "$bases" | median)" -v r="$mr" -v g="$GOAL" \
        'BEGIN { printf "%-8s %16.0f %20.0f %14.3f   %s", c, a, b, r, (r >= g) ? "meets the goal" : "BELOW the goal" }')
    SUMMARY="$SUMMARY$line"$'\n'
    awk -v r="$mr" -v g="$GOAL" 'BEGIN { exit !(r < g) }' && BELOW=1
done

FP_AFTER=$(fingerprint)
say "summary: ingest_fixes() (batches of $BATCH, scoring on) vs plain INSERT ... SELECT, $N fixes, $W phones, median of $ROUNDS rounds"
printf '%-8s %16s %20s %14s\n' clients "ingest fixes/s" "INSERT...SELECT /s" "case/baseline"
printf '%s' "$SUMMARY"
echo "goal: case/baseline >= $GOAL (median of the rounds' ratios)"
echo "scores of the first case run: $BANDS"
echo "every run stored the same $N rows (md5 $DIGEST); every case run scored them all"
echo "fieldops.so/install script: $FP_BEFORE"
if [ "${FP_AFTER%%/*}" != "${FP_BEFORE%%/*}" ]; then
    echo "warning: fieldops.so was replaced during the run (now $FP_AFTER): runs may have used different builds; run again"
elif [ "$FP_AFTER" != "$FP_BEFORE" ]; then
    echo "note: the install script was replaced during the run (now $FP_AFTER); the runs used the one CREATE EXTENSION read at the start"
fi
echo "(work directory $WORK)"
if [ "$BELOW" -eq 1 ] && [ "${BENCH_ENFORCE:-}" = 1 ]; then
    die "the ratio is below $GOAL (BENCH_ENFORCE=1)"
fi
exit 0
