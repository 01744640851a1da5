#!/usr/bin/env bash
# test/calib/run.sh -- the seeded calibration harness of the spoof scorer,
# end to end, against the INSTALLED extension (it does not build):
#
#   1. generate the worlds (citygen.py): the training seeds, a held-out
#      seed and a shifted-world seed, two at a time;
#   2. on two private servers (one per core, each under libfaketime so the
#      server's clock can be set to each upload's arrival time, see
#      load.sql), load and score the training seeds with the model in
#      force, export their check-ins (export.sql);
#   3. fit the points, prior and thresholds (fit.py);
#   4. on fresh servers, add the fitted model (fieldops.add_spoof_model)
#      in each evaluation database, load and score the held-out seed and
#      the shifted world, export;
#   5. write the report (metrics.py): to stdout, to $WORK/report.md and,
#      if CALIB_REPORT is set, there too; the fitted model is
#      $WORK/model.json.  Exits 1 if an acceptance figure of the held-out
#      seed fails (CALIB_NO_CHECK=1 reports only).
#
# Knobs (environment): CALIB_TRAIN_SEEDS ("101 102"), CALIB_TEST_SEED (201),
# CALIB_SHIFT_SEED (301), CALIB_TRAIN_WORKERS (24), CALIB_TEST_WORKERS (40),
# CALIB_SHIFT_WORKERS (24), CALIB_WARMUP_DAYS (3), CALIB_TRAIN_DAYS (5),
# CALIB_TEST_DAYS (8, also the shifted world), CALIB_TRAIN_ATTACK_RATE (0.12),
# CALIB_TEST_ATTACK_RATE (0.04), CALIB_BOOT (1000 bootstrap replicates),
# CALIB_END_DATE (the day after the last generated day, default today in
# Asia/Shanghai), CALIB_KEEP=1 keeps the servers' data directories.
# CALIB_SHIPPED=1 skips the training seeds and the fit: the held-out seed
# and the shifted world are scored with the model in force of the installed
# build (the shipped one) and reported against it.
#
# As root it runs the servers as user postgres (test/lib.sh), and needs
# the Debian package libfaketime (installed if missing).
set -uo pipefail
cd "$(dirname "$0")/../.."
. test/lib.sh

TRAIN_SEEDS=${CALIB_TRAIN_SEEDS:-"101 102"}
TEST_SEED=${CALIB_TEST_SEED:-201}
SHIFT_SEED=${CALIB_SHIFT_SEED:-301}
TRAIN_WORKERS=${CALIB_TRAIN_WORKERS:-24}
TEST_WORKERS=${CALIB_TEST_WORKERS:-40}
SHIFT_WORKERS=${CALIB_SHIFT_WORKERS:-24}
WARMUP=${CALIB_WARMUP_DAYS:-3}
TRAIN_DAYS=${CALIB_TRAIN_DAYS:-5}
TEST_DAYS=${CALIB_TEST_DAYS:-8}
TRAIN_RATE=${CALIB_TRAIN_ATTACK_RATE:-0.12}
TEST_RATE=${CALIB_TEST_ATTACK_RATE:-0.04}
BOOT=${CALIB_BOOT:-1000}
END_DATE=${CALIB_END_DATE:-$(TZ=Asia/Shanghai date +%F)}
FAKETIME_LIB=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1

ensure_packages libfaketime
[ -r "$FAKETIME_LIB" ] || FAKETIME_LIB=$(dpkg -L libfaketime 2>/dev/null | grep '/libfaketime.so.1$' | head -1)
[ -n "$FAKETIME_LIB" ] && [ -r "$FAKETIME_LIB" ] || die "libfaketime.so.1 not found"

WORK=$(make_work_dir calib)
say "work directory $WORK"
T0=$(date +%s)
LANES=()
STAGE=train

# A private server for one lane, under libfaketime: the clock offset is the
# content of $dir/clock (re-read on every call; load.sql writes it).
lane_start() {  # name
    local name=$1 dir=$WORK/$1 port
    port=$(free_port $((56400 + RANDOM % 2000)))
    mkdir -p "$dir" && chmod 755 "$dir"
    [ "$(id -u)" -eq 0 ] && chown "$(test_user)" "$dir"
    private_server_init "$dir/data" "$port" "$dir" "full_page_writes = off
autovacuum = off
shared_buffers = 256MB
max_wal_size = 4GB"
    as_test_user sh -c "echo '+0s' > '$dir/clock'"
    as_test_user env LD_PRELOAD="$FAKETIME_LIB" FAKETIME_TIMESTAMP_FILE="$dir/clock" FAKETIME_NO_CACHE=1 \
        FAKETIME_DONT_FAKE_MONOTONIC=1 DONT_FAKE_MONOTONIC=1 \
        pg_ctl -D "$dir/data" -l "$dir/server.log" -w start >/dev/null || die "server $name did not start (see $dir/server.log)"
    echo "$port" > "$dir/port"
    LANES+=("$name")
}

lane_stop() {
    local name
    for name in "${LANES[@]}"; do
        as_test_user pg_ctl -D "$WORK/$name/data" -m fast -w stop >/dev/null 2>&1 || true
        # (kept data directories move aside: the next stage starts its
        # servers in the same lanes)
        if [ -n "${CALIB_KEEP:-}" ]; then
            mv "$WORK/$name/data" "$WORK/$name/data.$STAGE"
        else
            rm -rf "$WORK/$name/data"
        fi
    done
    LANES=()
}
trap lane_stop EXIT

lpsql() {  # lane db args...
    local name=$1 db=$2
    shift 2
    as_test_user psql -X -q -v ON_ERROR_STOP=1 -h "$WORK/$name" -p "$(cat "$WORK/$name/port")" -d "$db" "$@"
}

# A database with the extension; another engineer may be reinstalling it,
# so a failed CREATE EXTENSION is retried for a few minutes.
make_db() {  # lane db
    local i
    lpsql "$1" postgres -c "CREATE DATABASE $2" || return 1
    for i in 1 2 3 4 5 6; do
        lpsql "$1" "$2" -c "CREATE EXTENSION fieldops CASCADE" 2>"$WORK/$1/create_ext.err" && return 0
        echo "  ($1: CREATE EXTENSION failed: $(head -1 "$WORK/$1/create_ext.err"); retrying in 60 s)" >&2
        sleep 60
    done
    return 1
}

gen() {  # seed world workers days attack_rate dir
    python3 test/calib/citygen.py --seed "$1" --world "$2" --workers "$3" --days "$5" --warmup-days "$WARMUP" \
        --attack-rate "$4" --end-date "$END_DATE" --out "$6" >"$6.gen.json" &&
        python3 test/calib/stage.py "$6" >"$6.stage.json"
}

# load one staged world into a new database of a lane and export its check-ins
load_world() {  # lane db dir [model.json version]
    local lane=$1 db=$2 dir=$3
    make_db "$lane" "$db" || { echo "CREATE EXTENSION failed on $lane" >"$dir.fail"; return 1; }
    if [ -n "${4:-}" ]; then
        lpsql "$lane" "$db" -c "SELECT fieldops.add_spoof_model('$5', pg_read_file('$4')::jsonb, 'calibration harness: fit.py on seeds $TRAIN_SEEDS')" \
            >/dev/null || { echo "add_spoof_model failed" >"$dir.fail"; return 1; }
    fi
    lpsql "$lane" "$db" -v stage="$dir/stage" -v tenant_name="calib $db" -v clock_file="$WORK/$lane/clock" \
        -f test/calib/load.sql >"$dir.load.log" 2>&1 || { echo "load.sql failed, see $dir.load.log" >"$dir.fail"; return 1; }
    lpsql "$lane" "$db" -v out="$dir.scored.csv" -f test/calib/export.sql >/dev/null 2>>"$dir.load.log" ||
        { echo "export.sql failed, see $dir.load.log" >"$dir.fail"; return 1; }
    lpsql "$lane" "$db" -At -c "SELECT key || ': ' || value FROM calib.info ORDER BY key" >"$dir.info"
}

# -- 1. the worlds --------------------------------------------------------------
[ -n "${CALIB_SHIPPED:-}" ] && TRAIN_SEEDS=""
say "1. generating: training seeds $TRAIN_SEEDS, held-out seed $TEST_SEED, shifted world seed $SHIFT_SEED (days up to $END_DATE)"
TRAIN_DIRS=()
pids=()
for s in $TRAIN_SEEDS; do
    gen "$s" default "$TRAIN_WORKERS" "$TRAIN_RATE" "$TRAIN_DAYS" "$WORK/train$s" & pids+=($!)
    TRAIN_DIRS+=("$WORK/train$s")
    if [ ${#pids[@]} -ge 2 ]; then wait "${pids[0]}" || die "generation failed"; pids=("${pids[@]:1}"); fi
done
gen "$TEST_SEED" default "$TEST_WORKERS" "$TEST_RATE" "$TEST_DAYS" "$WORK/heldout" & pids+=($!)
gen "$SHIFT_SEED" shifted "$SHIFT_WORKERS" "$TEST_RATE" "$TEST_DAYS" "$WORK/shifted" & pids+=($!)
for p in "${pids[@]}"; do wait "$p" || die "generation failed"; done
for d in "${TRAIN_DIRS[@]}" "$WORK/heldout" "$WORK/shifted"; do
    echo "  $(basename "$d"): $(cat "$d.gen.json")"
done
[ "$(id -u)" -eq 0 ] && chown -R "$(test_user)" "$WORK"
chmod -R a+rX "$WORK"

# -- 2. training seeds, scored with the model in force ---------------------------
if [ -n "${CALIB_SHIPPED:-}" ]; then
    say "2./3. (CALIB_SHIPPED: no training seeds, no fit: the installed model in force is evaluated)"
    lane_start laneA
    make_db laneA defaults_probe >/dev/null 2>&1 || true
    lpsql laneA defaults_probe -At -c "SELECT fieldops.spoof_model_defaults()" >"$WORK/defaults.json" || die "spoof_model_defaults() failed"
    lpsql laneA defaults_probe -At -c "SELECT model FROM fieldops.spoof_model ORDER BY created_at DESC, version DESC LIMIT 1" \
        >"$WORK/model.json" || die "no model in force"
    VERSION=$(lpsql laneA defaults_probe -At -c "SELECT version FROM fieldops.spoof_model ORDER BY created_at DESC, version DESC LIMIT 1")
    EXT_VERSION=$(lpsql laneA defaults_probe -At -c "SELECT extversion FROM pg_extension WHERE extname = 'fieldops'")
    lane_stop
else
say "2. loading the training seeds (model in force: the installed default)"
lane_start laneA
lane_start laneB
lpsql laneA postgres -At -c "SELECT 1" >/dev/null || die "lane A does not answer"
pids=()
k=0
for d in "${TRAIN_DIRS[@]}"; do
    lane=$([ $((k % 2)) -eq 0 ] && echo laneA || echo laneB)
    load_world "$lane" "train$k" "$d" & pids+=($!)
    k=$((k + 1))
    if [ ${#pids[@]} -ge 2 ]; then wait "${pids[@]}"; pids=(); fi
done
[ ${#pids[@]} -gt 0 ] && wait "${pids[@]}"
for d in "${TRAIN_DIRS[@]}"; do
    [ -e "$d.fail" ] && die "$(cat "$d.fail")"
    echo "  $(basename "$d"): $(grep '^ingest' "$d.info" | sed 's/^ingest: calib: //')"
done
make_db laneA defaults_probe >/dev/null 2>&1 || true
lpsql laneA defaults_probe -At -c "SELECT fieldops.spoof_model_defaults()" >"$WORK/defaults.json" || die "spoof_model_defaults() failed"
EXT_VERSION=$(lpsql laneA defaults_probe -At -c "SELECT extversion FROM pg_extension WHERE extname = 'fieldops'")
lane_stop

# -- 3. fit ------------------------------------------------------------------------
say "3. fitting"
python3 test/calib/fit.py "${TRAIN_DIRS[@]/%/.scored.csv}" --defaults "$WORK/defaults.json" \
    --out "$WORK/model.json" --report "$WORK/fit.md" >/dev/null || die "fit.py failed"
chmod a+r "$WORK/model.json"
VERSION="calib-$(echo "$TRAIN_SEEDS" | tr ' ' '-')-$(date +%Y%m%d%H%M)"
fi

# -- 4. held-out and shifted, scored with the fitted model ----------------------------
say "4. loading the held-out seed and the shifted world with model $VERSION"
STAGE=eval
lane_start laneA
lane_start laneB
if [ -n "${CALIB_SHIPPED:-}" ]; then
    load_world laneA heldout "$WORK/heldout" & p1=$!
    load_world laneB shifted "$WORK/shifted" & p2=$!
else
    load_world laneA heldout "$WORK/heldout" "$WORK/model.json" "$VERSION" & p1=$!
    load_world laneB shifted "$WORK/shifted" "$WORK/model.json" "$VERSION" & p2=$!
fi
wait $p1 $p2
for d in "$WORK/heldout" "$WORK/shifted"; do
    [ -e "$d.fail" ] && die "$(cat "$d.fail")"
    echo "  $(basename "$d"): $(grep '^ingest' "$d.info" | sed 's/^ingest: calib: //')"
done
lane_stop

# -- 5. report ---------------------------------------------------------------------------
say "5. report"
INFO=(--info "fieldops $EXT_VERSION (installed build), $([ -n "${CALIB_SHIPPED:-}" ] && echo "shipped model in force" || echo "fitted model") $VERSION ($WORK/model.json)"
      --info "seeds: training $TRAIN_SEEDS ($TRAIN_WORKERS workers, $WARMUP + $TRAIN_DAYS days, attack rate $TRAIN_RATE), held-out $TEST_SEED ($TEST_WORKERS workers, $WARMUP + $TEST_DAYS days, attack rate $TEST_RATE), shifted world $SHIFT_SEED ($SHIFT_WORKERS workers); days before $END_DATE"
      --info "held-out load: $(tr '\n' ';' < "$WORK/heldout.info" | sed 's/;$//; s/;/; /g')"
      --info "run time $(( $(date +%s) - T0 )) s")
CHECK=--check
[ -n "${CALIB_NO_CHECK:-}" ] && CHECK=
python3 test/calib/metrics.py --heldout "$WORK/heldout.scored.csv" --shifted "$WORK/shifted.scored.csv" \
    --model "$WORK/model.json" --defaults "$WORK/defaults.json" $([ -e "$WORK/fit.md" ] && echo --fit-report "$WORK/fit.md") \
    --reps "$BOOT" --out "$WORK/report.md" "${INFO[@]}" $CHECK
rc=$?
[ -n "${CALIB_REPORT:-}" ] && cp "$WORK/report.md" "$CALIB_REPORT"
echo "(work directory $WORK; report $WORK/report.md; fitted model $WORK/model.json)"
exit $rc
