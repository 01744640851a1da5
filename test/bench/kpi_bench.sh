#!/usr/bin/env bash
# test/bench/kpi_bench.sh — `make bench-kpi`: the KPI rollups on a year of a
# 500-worker tenant, against the same answers computed from the source
# rows, same run, same server.  As root (the server runs as postgres) or as
# a user who can run PostgreSQL:
#
#   test/bench/kpi_bench.sh                              # builds and installs first
#   FIELDOPS_SKIP_BUILD=1 BENCH_WORKERS=100 test/bench/kpi_bench.sh
#
# Input: test/bench/kpi_gen.sql (its header documents every draw):
# BENCH_WORKERS (default 500) workers in 25 teams and 5 regions, 100
# customers each, the year of tenant-local days ending yesterday: 6 visits
# per worker and working day (85 % verified), deals, a monthly expense claim
# per worker with a line per working day, vehicle claims and trips for a
# third of them; seeded (BENCH_SEED, default 0.42).
#
# Measured, BENCH_ROUNDS (default 3) rounds:
#   refresh   full     fieldops.kpi_rebuild() of the 366 days (the year and
#                      today): every day recomputed from the source rows
#             incr.    one day of new data (6 visits per worker, today)
#                      marked with kpi_touch(), then fieldops.kpi_refresh():
#                      what the kpi_rollup job does (today and yesterday)
#             goal     incr. / full <= 5 % (1 day in 365 is 0.3 %)
#   query     rollups  fieldops.kpi(tenant, 'month', '{region,team,worker}',
#                      the year): 13 months x 525 workers with subtotals
#             source   fieldops.kpi_from_source(): the same rows computed
#                      from the source rows
#             goal     source / rollups >= 20
# Checked: kpi() and kpi_from_source() return the same rows, and
# check_rollups() finds no difference over the year.  The server has fsync
# and synchronous_commit off (test/lib.sh), shared_buffers 1GB.
#
# Exit status: non-zero when a run or a check fails (not when a goal is
# missed: the numbers are reported).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
. test/lib.sh

W=${BENCH_WORKERS:-500}
SEED=${BENCH_SEED:-0.42}
ROUNDS=${BENCH_ROUNDS:-3}
for v in "$W" "$ROUNDS"; do
    [[ "$v" =~ ^[0-9]+$ ]] && [ "$v" -ge 1 ] || die "BENCH_WORKERS and BENCH_ROUNDS must be positive whole numbers, got '$v'"
done

ensure_packages
[ -n "${FIELDOPS_SKIP_BUILD:-}" ] || build_and_install

WORK=$(make_work_dir kpi)
PORT=$(free_port 58932)
private_server_start "$WORK/data" "$PORT" "$WORK" "shared_buffers = 1GB
work_mem = 64MB
max_wal_size = 8GB
checkpoint_timeout = 30min"
trap 'private_server_stop "$WORK/data"' EXIT

PSQL -d postgres -c "CREATE DATABASE kpi" || die "createdb failed"
PSQL -d kpi -c "CREATE EXTENSION fieldops CASCADE" 2>/dev/null || die "CREATE EXTENSION failed"
say "generating a year of $W workers (seed $SEED)"
t0=$SECONDS
PSQL -d kpi -v workers="$W" -v seed="$SEED" <test/bench/kpi_gen.sql || die "generating the input failed"
echo "   generated in $((SECONDS - t0)) s"
PSQL -d kpi -c "UPDATE fieldops.job SET enabled = false" >/dev/null

PSQL -d kpi <<'SQL' || die "setting up the timers failed"
ALTER DATABASE kpi SET fieldops.tenant_id = '';
CREATE FUNCTION bench.ms(q text) RETURNS numeric LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz := clock_timestamp();
BEGIN
    EXECUTE q;
    RETURN round((extract(epoch FROM clock_timestamp() - t0) * 1000)::numeric, 1);
END $$;
CREATE TABLE bench.result (round int, what text, ms numeric);
SQL

for r in $(seq 1 "$ROUNDS"); do
    say "round $r of $ROUNDS"
    PSQL -d kpi -At -v r="$r" <<'SQL' || die "round $r failed"
SELECT fieldops.set_tenant(tenant_id, false) IS NOT NULL AS chosen FROM bench.config \gset
-- the full rebuild: the year and today
INSERT INTO bench.result SELECT :r, 'refresh full', bench.ms(format('SELECT fieldops.kpi_rebuild(%s, %L, %L)', tenant_id, first_day, new_day))
  FROM bench.config;
-- a day of new data, then what the job does
INSERT INTO fieldops.visit (tenant_id, worker_id, customer_id, checkin_at, checkout_at, radius_m, checkin_geofence, checkout_geofence,
                            checkin_band, checkout_band)
SELECT tenant_id, worker_id, customer_id, t0, t1, 200, 'inside', 'inside', 'green', 'green' FROM bench.new_visit;
SELECT fieldops.kpi_touch(tenant_id, new_day, 'visit') FROM bench.config;
INSERT INTO bench.result SELECT :r, 'refresh incremental', bench.ms(format('SELECT fieldops.kpi_refresh(%s)', tenant_id)) FROM bench.config;
-- (taken out again for the next round)
DELETE FROM fieldops.visit v USING bench.config c WHERE v.tenant_id = c.tenant_id AND v.checkin_at >= (c.new_day::timestamp AT TIME ZONE 'Asia/Shanghai');
-- the drill-down query, from the rollups (5 times) and from the source rows
INSERT INTO bench.result SELECT :r, 'query rollups', bench.ms(format('SELECT count(*) FROM fieldops.kpi(%s, %L, %L, %L, %L)',
                                                                     tenant_id, 'month', '{region,team,worker}', first_day, last_day))
  FROM bench.config, generate_series(1, 5);
INSERT INTO bench.result SELECT :r, 'query source', bench.ms(format('SELECT count(*) FROM fieldops.kpi_from_source(%s, %L, %L, %L, %L)',
                                                                    tenant_id, 'month', '{region,team,worker}', first_day, last_day))
  FROM bench.config;
SELECT what, round(avg(ms)) || ' ms' FROM bench.result WHERE round = :r GROUP BY what ORDER BY what;
SQL
done

say "checks"
PSQL -d kpi -At <<'SQL' >"$WORK/checks.txt" || die "the checks failed"
SELECT fieldops.set_tenant(tenant_id, false) IS NOT NULL AS chosen FROM bench.config \gset
SELECT fieldops.kpi_rebuild(tenant_id, first_day, new_day) IS NOT NULL AS rebuilt FROM bench.config \gset
SELECT 'rows that differ between kpi() and kpi_from_source(): ' || count(*) FROM (
    (SELECT * FROM bench.config c, fieldops.kpi(c.tenant_id, 'month', '{region,team,worker}', c.first_day, c.last_day)
     EXCEPT ALL SELECT * FROM bench.config c, fieldops.kpi_from_source(c.tenant_id, 'month', '{region,team,worker}', c.first_day, c.last_day))
    UNION ALL
    (SELECT * FROM bench.config c, fieldops.kpi_from_source(c.tenant_id, 'month', '{region,team,worker}', c.first_day, c.last_day)
     EXCEPT ALL SELECT * FROM bench.config c, fieldops.kpi(c.tenant_id, 'month', '{region,team,worker}', c.first_day, c.last_day))) x;
SELECT 'differences found by check_rollups() over the year: ' || count(*) FROM bench.config c, fieldops.check_rollups(c.tenant_id, c.first_day, c.last_day);
SELECT 'rows of the drill-down: ' || count(*) FROM bench.config c, fieldops.kpi(c.tenant_id, 'month', '{region,team,worker}', c.first_day, c.last_day);
SQL
cat "$WORK/checks.txt"
grep -q "kpi_from_source(): 0$" "$WORK/checks.txt" || die "kpi() and kpi_from_source() disagree"
grep -q "over the year: 0$" "$WORK/checks.txt" || die "check_rollups() found differences"

say "result (medians of $ROUNDS rounds; input: $W workers, a year, seed $SEED)"
PSQL -d kpi <<'SQL'
\pset footer off
WITH per_round AS (
    SELECT round,
           avg(ms) FILTER (WHERE what = 'refresh full') AS full_ms,
           avg(ms) FILTER (WHERE what = 'refresh incremental') AS incr_ms,
           avg(ms) FILTER (WHERE what = 'query rollups') AS rollup_ms,
           avg(ms) FILTER (WHERE what = 'query source') AS source_ms
      FROM bench.result GROUP BY round
)
SELECT 'refresh: incremental / full rebuild' AS measure,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY incr_ms)::numeric) || ' / ' ||
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY full_ms)::numeric) || ' ms' AS times,
       round(100 * percentile_cont(0.5) WITHIN GROUP (ORDER BY incr_ms / full_ms)::numeric, 2) || ' %' AS ratio, '<= 5 %' AS goal
  FROM per_round
UNION ALL
SELECT 'query: source rows / rollups',
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY source_ms)::numeric) || ' / ' ||
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY rollup_ms)::numeric, 1) || ' ms',
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY source_ms / rollup_ms)::numeric, 1) || ' x', '>= 20 x'
  FROM per_round;
SQL
