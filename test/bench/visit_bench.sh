#!/usr/bin/env bash
# test/bench/visit_bench.sh — `make bench-visit`: a realistic day of visits
# through the enforced process against the same rows inserted without any
# check, same run, same server.  As root (the server runs as postgres) or
# as a user who can run PostgreSQL:
#
#   test/bench/visit_bench.sh                        # builds and installs first
#   FIELDOPS_SKIP_BUILD=1 BENCH_SECONDS=10 test/bench/visit_bench.sh
#
# Input: test/bench/visit_gen.sql (its header documents every draw):
# BENCH_CLIENTS (default 32) reps, one per pgbench client, each with a
# phone and BENCH_SHOPS (default 50) shops in a 2 x 2 km territory; the
# form STORE_AUDIT (10 fields, a condition); the SOP check-in,
# preparation, the form, presentation, check-out; seeded (BENCH_SEED,
# default 0.7).
#
# One pgbench transaction is one visit of the client's rep at a uniformly
# drawn shop of his, as the app makes it, each call its own transaction
# (autocommit):
#   case      check_in (the fix through ingest_fixes: validation,
#             attribution, spoof scoring against the phone's last fixes,
#             the geofence decision), complete_step (preparation),
#             submit_form (the STORE_AUDIT answers validated),
#             complete_step (the form step, its submission checked),
#             complete_step (presentation), check_out (its fix the same
#             way, then the verification and the pool's follow-up)
#   baseline  the same rows written without any check, in as many
#             statements: INSERT the check-in fix (its fields from the same
#             JSON), INSERT the visit, INSERT its first two steps, INSERT the
#             form submission (answers as given), INSERT the next two
#             steps, then one statement that INSERTs the check-out fix,
#             UPDATEs the visit and INSERTs the last step
# Both also advance the rep's visit counter (an UPDATE of a bench row the
# client alone touches) that places the visit in time: the k-th visit of a
# rep starts 15 k minutes after a base 20 days ago.
#
# Every run starts from a fresh copy of the generated database (CREATE
# DATABASE ... TEMPLATE, CHECKPOINT); BENCH_ROUNDS (default 3) rounds of
# BENCH_SECONDS (default 30) s each way, the order alternating; the server
# has fsync and synchronous_commit off (test/lib.sh), shared_buffers
# 512MB.  Reported: visits per second of each, and the median of the
# rounds' ratios case / baseline.  Checked after every case run: every
# visit checked out, two fixes and five steps per visit, one submission,
# and every visit verified unless the spoof scorer called a fix red (the
# share and the red fixes' reason codes are reported: the synthetic phones
# report little besides GPS); after every baseline run the same row counts.
#
# Exit status: non-zero when a run or check fails.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
. test/lib.sh

W=${BENCH_CLIENTS:-32}
S=${BENCH_SHOPS:-50}
SEED=${BENCH_SEED:-0.7}
ROUNDS=${BENCH_ROUNDS:-3}
SECONDS_RUN=${BENCH_SECONDS:-30}
for v in "$W" "$S" "$ROUNDS" "$SECONDS_RUN"; do
    [[ "$v" =~ ^[0-9]+$ ]] && [ "$v" -ge 1 ] || die "BENCH_CLIENTS, BENCH_SHOPS, BENCH_ROUNDS and BENCH_SECONDS must be positive whole numbers, got '$v'"
done

ensure_packages
[ -n "${FIELDOPS_SKIP_BUILD:-}" ] || build_and_install

WORK=$(make_work_dir visit)
PORT=$(free_port 58832)
private_server_start "$WORK/data" "$PORT" "$WORK" "shared_buffers = 512MB
max_connections = $((W + 10))
max_wal_size = 4GB
checkpoint_timeout = 30min"
trap 'private_server_stop "$WORK/data"' EXIT

PSQL -d postgres -c "CREATE DATABASE visit" || die "createdb failed"
PSQL -d visit -c "CREATE EXTENSION fieldops CASCADE" 2>/dev/null || die "CREATE EXTENSION failed"
say "generating $W reps with $S shops each (seed $SEED)"
PSQL -d visit -v workers="$W" -v shops="$S" -v seed="$SEED" <test/bench/visit_gen.sql >/dev/null || die "generating the input failed"
TENANT=$(PSQL -d visit -At -c "SELECT tenant_id FROM bench.config") || die "no bench.config"
PSQL -d visit -c "UPDATE fieldops.job SET enabled = false" >/dev/null

cat > "$WORK/case.sql" <<SQL
UPDATE bench.worker SET k = k + 1 WHERE n = :client_id + 1 RETURNING k AS k \gset
\set i random(1, $S)
SELECT (fieldops.check_in($TENANT, bench.wid(:client_id + 1), bench.cid(:client_id + 1, :i), bench.fix(:client_id + 1, :k, :i, 0))) ->> 'visit_id' AS vid \gset
SELECT fieldops.complete_step($TENANT, :vid, bench.wid(:client_id + 1), 2, '{}', bench.at(:client_id + 1, :k, 2)) ->> 'status' AS s2 \gset
SELECT fieldops.submit_form($TENANT, 'STORE_AUDIT', NULL, bench.wid(:client_id + 1), bench.answers(:k), :vid) AS sid \gset
SELECT fieldops.complete_step($TENANT, :vid, bench.wid(:client_id + 1), 3, jsonb_build_object('submission_id', :sid), bench.at(:client_id + 1, :k, 5)) ->> 'status' AS s3 \gset
SELECT fieldops.complete_step($TENANT, :vid, bench.wid(:client_id + 1), 4, '{}', bench.at(:client_id + 1, :k, 8)) ->> 'status' AS s4 \gset
SELECT fieldops.check_out($TENANT, :vid, bench.wid(:client_id + 1), bench.fix(:client_id + 1, :k, :i, 10)) ->> 'verified' AS verified \gset
SQL
FIXROW="SELECT $TENANT, d.device_id, w.worker_id, (f ->> 'recorded_at')::timestamptz,
           ST_SetSRID(ST_MakePoint((f ->> 'lon')::float8, (f ->> 'lat')::float8), 4326), (f ->> 'accuracy_m')::real, f ->> 'provider',
           (f ->> 'satellites')::smallint, (f ->> 'cn0_mean_dbhz')::real, (f ->> 'cn0_sd_dbhz')::real, s.customer_id
      FROM bench.worker w JOIN bench.shop s ON s.n = w.n AND s.i = :i
      JOIN fieldops.device d ON d.tenant_id = $TENANT AND d.device_uid = w.device_uid"
FIXCOLS="tenant_id, device_id, worker_id, recorded_at, geom, accuracy_m, provider, satellites, cn0_mean_dbhz, cn0_sd_dbhz, customer_id"
cat > "$WORK/baseline.sql" <<SQL
UPDATE bench.worker SET k = k + 1 WHERE n = :client_id + 1 RETURNING k AS k \gset
\set i random(1, $S)
INSERT INTO fieldops.fix ($FIXCOLS) $FIXROW CROSS JOIN LATERAL bench.fix(w.n, :k, :i, 0) f WHERE w.n = :client_id + 1 RETURNING fix_id AS fid, recorded_at AS t0 \gset
INSERT INTO fieldops.visit (tenant_id, worker_id, customer_id, checkin_at, checkin_fix_id) VALUES ($TENANT, bench.wid(:client_id + 1), bench.cid(:client_id + 1, :i), bench.at(:client_id + 1, :k, 0), :fid) RETURNING visit_id AS vid \gset
INSERT INTO fieldops.visit_step (tenant_id, visit_id, step_no, kind, done_at, duration_s, evidence) VALUES ($TENANT, :vid, 1, 'checkin', bench.at(:client_id + 1, :k, 0), 0, jsonb_build_object('fix_id', :fid)), ($TENANT, :vid, 2, 'preparation', bench.at(:client_id + 1, :k, 2), 120, '{}');
INSERT INTO fieldops.form_submission (tenant_id, form_id, version, worker_id, visit_id, answers, input_sha256) SELECT $TENANT, f.form_id, f.current_version, bench.wid(:client_id + 1), :vid, bench.answers(:k), sha256(convert_to(bench.answers(:k)::text, 'UTF8')) FROM fieldops.form f WHERE f.tenant_id = $TENANT AND f.code = 'STORE_AUDIT' RETURNING submission_id AS sid \gset
INSERT INTO fieldops.visit_step (tenant_id, visit_id, step_no, kind, done_at, duration_s, evidence) VALUES ($TENANT, :vid, 3, 'form', bench.at(:client_id + 1, :k, 5), 180, jsonb_build_object('submission_id', :sid)), ($TENANT, :vid, 4, 'presentation', bench.at(:client_id + 1, :k, 8), 180, '{}');
WITH f AS (INSERT INTO fieldops.fix ($FIXCOLS) $FIXROW CROSS JOIN LATERAL bench.fix(w.n, :k, :i, 10) f WHERE w.n = :client_id + 1 RETURNING fix_id, recorded_at), v AS (UPDATE fieldops.visit SET checkout_at = f.recorded_at, checkout_fix_id = f.fix_id FROM f WHERE tenant_id = $TENANT AND visit_id = :vid) INSERT INTO fieldops.visit_step (tenant_id, visit_id, step_no, kind, done_at, duration_s, evidence) SELECT $TENANT, :vid, 5, 'checkout', f.recorded_at, 120, jsonb_build_object('fix_id', f.fix_id) FROM f;
SQL
[ "$(id -u)" -eq 0 ] && chown "$(test_user)" "$WORK/case.sql" "$WORK/baseline.sql"

fresh_db() {
    PSQL -d postgres >/dev/null <<SQL || die "copying the generated database failed"
SET client_min_messages = warning;
DROP DATABASE IF EXISTS run;
CREATE DATABASE run TEMPLATE visit STRATEGY FILE_COPY;
ALTER DATABASE run SET fieldops.tenant_id = '$TENANT';
CHECKPOINT;
SQL
}
# kind -> problems of the stored visits (empty: none)
check_run() {
    PSQL -d run -At -v kind="$1" <<SQL
SELECT concat_ws('; ',
    (SELECT format('%s of %s visits not checked out', count(*) FILTER (WHERE checkout_at IS NULL), count(*)) FROM fieldops.visit
      HAVING count(*) FILTER (WHERE checkout_at IS NULL) > 0 OR count(*) = 0),
    (SELECT format('%s fixes for %s visits', (SELECT count(*) FROM fieldops.fix), count(*)) FROM fieldops.visit
      HAVING (SELECT count(*) FROM fieldops.fix) <> 2 * count(*)),
    (SELECT format('%s steps for %s visits', (SELECT count(*) FROM fieldops.visit_step), count(*)) FROM fieldops.visit
      HAVING (SELECT count(*) FROM fieldops.visit_step) <> 5 * count(*)),
    (SELECT format('%s submissions for %s visits', (SELECT count(*) FROM fieldops.form_submission), count(*)) FROM fieldops.visit
      HAVING (SELECT count(*) FROM fieldops.form_submission) <> count(*)),
    CASE WHEN :'kind' = 'case' THEN
        (SELECT format('%s of %s visits not verified for another reason than a red fix (%s)', count(*), (SELECT count(*) FROM fieldops.visit),
                       min(reasons::text))
           FROM fieldops.visit_verified
          WHERE NOT verified AND EXISTS (SELECT 1 FROM jsonb_array_elements(reasons) r WHERE r ->> 'code' NOT IN ('checkin_red', 'checkout_red'))
         HAVING count(*) > 0) END)
SQL
}
# the case run's verification: verified visits, and the spoof reasons of the red fixes
verdicts() {
    PSQL -d run -At <<'SQL'
SELECT format('%s of %s visits verified; red fixes %s (%s)', count(*) FILTER (WHERE verified), count(*),
              (SELECT count(*) FROM fieldops.fix WHERE band = 'red'),
              (SELECT string_agg(format('%s %s', code, n), ', ' ORDER BY n DESC)
                 FROM (SELECT r ->> 'code' AS code, count(*) AS n FROM fieldops.fix f, jsonb_array_elements(f.reasons) r
                        WHERE f.band = 'red' GROUP BY 1) x))
  FROM fieldops.visit_verified
SQL
}

J=$(( W < $(nproc) ? W : $(nproc) ))
say "runs: $W clients, $SECONDS_RUN s each way, $ROUNDS rounds"
printf '%-6s %-9s %12s %8s\n' round run "visits/s" ratio
RATIOS=""; CASES=""; BASES=""; VERDICTS=""
for r in $(seq 1 "$ROUNDS"); do
    if [ $((r % 2)) -eq 1 ]; then order="case baseline"; else order="baseline case"; fi
    declare -A tps=()
    for kind in $order; do
        fresh_db
        out=$(as_test_user pgbench -n -h "$WORK" -p "$PORT" -c "$W" -j "$J" -T "$SECONDS_RUN" -f "$WORK/$kind.sql" run 2>&1) \
            || die "pgbench ($kind) failed: $out"
        tps[$kind]=$(echo "$out" | sed -n 's/^tps = \([0-9.]*\) .*/\1/p')
        fails=$(echo "$out" | sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p')
        [ -n "${tps[$kind]}" ] && [ "${fails:-0}" = 0 ] || die "pgbench ($kind): $out"
        bad=$(check_run "$kind") || die "checking the $kind run failed"
        [ -z "$bad" ] || die "$kind run (round $r): $bad"
        printf '%-6s %-9s %12.1f\n' "$r" "$kind" "${tps[$kind]}"
        [ "$kind" = case ] && VERDICTS=$(verdicts)
    done
    ratio=$(awk -v a="${tps[case]}" -v b="${tps[baseline]}" 'BEGIN { printf "%.3f", a / b }')
    printf '%-6s %-9s %12s %8s\n' "$r" ratio "" "$ratio"
    RATIOS="$RATIOS $ratio"; CASES="$CASES ${tps[case]}"; BASES="$BASES ${tps[baseline]}"
    unset tps
done
say "summary"
printf 'a visit through the enforced process: %.1f visits/s; the same rows without checks: %.1f visits/s; ratio %s (median of %s rounds, %s clients)\n' \
    "$(echo "$CASES" | median)" "$(echo "$BASES" | median)" "$(echo "$RATIOS" | median)" "$ROUNDS" "$W"
echo "every case run: every visit checked out with 2 fixes, 5 steps and 1 submission, and verified unless a fix was red"
echo "last case run: $VERDICTS"
echo "(work directory $WORK)"
exit 0
