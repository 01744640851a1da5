#!/usr/bin/env bash
# make bench-mileage-sql: the speed of the mileage aggregate against the raw
# baseline on the same rows, in the same run, on the same server.
#
#   case      SELECT fieldops.mileage_agg(recorded_at, geom, accuracy_m, speed_mps, source) FROM track
#   baseline  SELECT ST_Length(ST_MakeLine(geom ORDER BY recorded_at)::geography) FROM track
#
# Input: one device's drive from test/bench/drivegen (mixed scenario,
# suburban, tau 60 s, all faults but shuffling, seed 7), sampled every
# densely enough over 48 h and cut to the first 1,000,000 fixes in time
# (BENCH_ROWS changes the count).  Both
# queries run BENCH_ROUNDS (default 3) times, alternating, in one session
# after a warm-up run of each; the median times are compared.  Neither
# query runs in parallel: the baseline is an ordered aggregate, and
# mileage_agg has no combine function (its final function sorts and
# streams all fixes; partial states only cost copying, measured 2x slower).
set -uo pipefail
cd "$(dirname "$0")/../.."
. test/lib.sh

ROUNDS=${BENCH_ROUNDS:-3}
ROWS=${BENCH_ROWS:-1000000}

ensure_packages
[ -n "${FIELDOPS_SKIP_BUILD:-}" ] || build_and_install
make -s PG_CONFIG="$PG_CONFIG" test/bench/bin/drivegen || die "drivegen build failed"

WORK=$(make_work_dir msql)
PORT=$(free_port 58432)
private_server_start "$WORK/data" "$PORT" "$WORK" "shared_buffers = 512MB
work_mem = 512MB"
trap 'private_server_stop "$WORK/data"' EXIT

say "generating $ROWS fixes"
SAMPLE=$(awk -v n="$ROWS" 'BEGIN { printf "%.6f", 172800 / (n * 1.6) }')   # parking and tunnels give no GNSS fix: oversample, then keep the first ROWS by time
test/bench/bin/drivegen --scenario mixed --env suburban --tau 60 --sample "$SAMPLE" --lat 45 --lon 7 \
    --duration 172800 --faults multipath,outliers,stale,zero-first,duplicates,wifi-cell --seed 7 \
    > "$WORK/fixes.csv" 2> "$WORK/truth.txt" || die "drivegen failed"
[ "$(id -u)" -eq 0 ] && chown "$(test_user)" "$WORK/fixes.csv"
cat "$WORK/truth.txt"

PSQL -d postgres -c "CREATE DATABASE msql" || die "createdb failed"
PSQL -d msql -c "CREATE EXTENSION fieldops CASCADE" 2>/dev/null || die "CREATE EXTENSION failed"
PSQL -d msql <<SQL || die "loading failed"
CREATE TABLE raw (t_us bigint, lat float8, lon float8, acc_m real, speed_mps real, source int);
\copy raw FROM '$WORK/fixes.csv' (FORMAT csv, HEADER true)
CREATE TABLE track AS
SELECT timestamptz '2000-01-01 00:00+00' + t_us * interval '1 microsecond' AS recorded_at,
       ST_SetSRID(ST_MakePoint(lon, lat), 4326) AS geom, acc_m AS accuracy_m, speed_mps,
       (ARRAY['gps', 'fused', 'network', 'wifi', 'cell', 'passive'])[source + 1] AS source
  FROM raw ORDER BY t_us LIMIT $ROWS;
DROP TABLE raw;
VACUUM ANALYZE track;
SQL
PSQL -d msql -At -c "SELECT 'rows: ' || count(*) FROM track"


CASE_Q="SELECT (fieldops.mileage_agg(recorded_at, geom, accuracy_m, speed_mps, source)).distance_m FROM track;"
BASE_Q="SELECT ST_Length(ST_MakeLine(geom ORDER BY recorded_at)::geography) FROM track;"

# One session per setting: a warm-up run of each query (caches, library
# loading), then ROUNDS alternating runs; prints "base ms" and "case ms"
# lines in order.
times() {
    {
        echo "SET max_parallel_workers_per_gather = $1;"
        echo "$BASE_Q"; echo "$CASE_Q"
        echo "\\timing on"
        for r in $(seq 1 "$ROUNDS"); do echo "$BASE_Q"; echo "$CASE_Q"; done
    } | PSQL -d msql -At | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p'
}

say "results (median of $ROUNDS runs each, alternating; ratio = baseline time / case time)"
PSQL -d msql -At -c "SELECT 'mileage_agg: ' || round((m).distance_m) || ' m, raw ' || round((m).raw_length_m) || ' m, ' || (m).n_fixes || ' fixes' FROM (SELECT fieldops.mileage_agg(recorded_at, geom, accuracy_m, speed_mps, source) m FROM track) x"
PSQL -d msql -At -c "SELECT 'ST_Length: ' || round(ST_Length(ST_MakeLine(geom ORDER BY recorded_at)::geography)) || ' m' FROM track"
printf '%-28s %12s %12s %8s\n' "parallel workers per gather" "baseline ms" "case ms" ratio
for par in 0; do
    t=$(times $par | tr '\n' ' ')
    b=$(echo "$t" | awk '{for (i = 1; i <= NF; i += 2) printf "%s ", $i}')
    c=$(echo "$t" | awk '{for (i = 2; i <= NF; i += 2) printf "%s ", $i}')
    mb=$(echo "$b" | median); mc=$(echo "$c" | median)
    printf '%-28s %12.1f %12.1f %8.2f\n' "$par" "$mb" "$mc" "$(awk -v a="$mb" -v b="$mc" 'BEGIN {print (b > 0) ? a / b : 0}')"
done
echo "(work directory $WORK)"
