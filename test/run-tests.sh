#!/usr/bin/env bash
# make test: install missing Debian packages (as root), build with warnings
# as errors, install, and run every suite as an unprivileged user:
#   regress    sql/ + expected/, private temp instance preloading fieldops
#   isolation  test/isolation/specs, private temp instance
#   tap        test/t/*.pl (PostgreSQL::Test::Cluster): launcher, standby, dump
#   release    src/released/: frozen scripts of released versions are unchanged
#   unit       test/unit: pure C cores, built with ASan and UBSan
# Ends with one line "N passed, N failed" and a non-zero status on failure.
#
# FIELDOPS_SUITES="regress tap" runs a subset; PROVE_TESTS="t/001_x.pl" a TAP
# subset; FIELDOPS_SPECS="a b" some isolation specs; FIELDOPS_SKIP_BUILD=1 uses
# the installed build as it is (for parallel runs while nobody edits src/).
set -uo pipefail
cd "$(dirname "$0")/.."
. test/lib.sh

SUITES=${FIELDOPS_SUITES:-"release unit regress isolation tap"}

ensure_packages
case " $SUITES " in *" tap "*) ensure_optional_packages $FIELDOPS_TAP_PACKAGES ;; esac
[ -n "${FIELDOPS_SKIP_BUILD:-}" ] || build_and_install
PGXS_DIR=$(cd "$(dirname "$($PG_CONFIG --pgxs)")/../.." && pwd)   # .../lib/pgxs

WORK=$(make_work_dir test)
# the suites read a copy, so the checkout may live where the test user cannot go
cp -r sql expected test README.md "$WORK"/
[ "$(id -u)" -eq 0 ] && chown -R "$(test_user)" "$WORK"
add_receipt_key "$WORK"
say "work directory: $WORK"

PASSED=0
FAILED=0
FAILED_SUITES=()

count() {  # suite passed failed
    PASSED=$((PASSED + $2)); FAILED=$((FAILED + $3))
    printf '%-10s %d passed, %d failed\n' "$1:" "$2" "$3" >> "$WORK/summary"
    [ "$3" -gt 0 ] && FAILED_SUITES+=("$1")
}

# pg_regress and pg_isolation_regress print "All N tests passed." or
# "M of N tests failed."
count_pg_regress() {  # suite log status
    local all fail
    all=$(sed -n 's/.*All \([0-9]*\) tests passed.*/\1/p' "$2")
    if [ -n "$all" ] && [ "$3" -eq 0 ]; then count "$1" "$all" 0; return; fi
    fail=$(sed -n 's/.* \([0-9]*\) of \([0-9]*\) tests failed.*/\1 \2/p' "$2")
    if [ -n "$fail" ]; then
        set -- "$1" $fail
        count "$1" $(($3 - $2)) "$2"
    else
        count "$1" 0 1
    fi
}

# TAP streams: count "ok" and "not ok" lines; a stream that died counts one failure
count_tap() {  # suite log status
    local ok notok
    ok=$(grep -Ec '^\s*ok [0-9]+' "$2")
    notok=$(grep -Ec '^\s*not ok [0-9]+' "$2")
    if [ "$3" -ne 0 ] && [ "$notok" -eq 0 ]; then notok=1; fi
    count "$1" "$ok" "$notok"
}

# Released scripts are frozen: each is listed in src/released/SHA256SUMS and
# unchanged (the build itself checks that src/sql/ still produces the
# current version's script when that version is released).
run_release() {
    say "release: frozen scripts of released versions"
    local log=$WORK/release.log ok=0 bad=0 f
    for f in src/released/fieldops--*.sql; do
        [ -f "$f" ] || continue
        if (cd src/released && grep -q " $(basename "$f")\$" SHA256SUMS && grep " $(basename "$f")\$" SHA256SUMS | sha256sum -c --quiet -) >>"$log" 2>&1; then
            ok=$((ok + 1))
        else
            echo "not ok: $f is not listed in src/released/SHA256SUMS or was edited after its release" | tee -a "$log"
            bad=$((bad + 1))
        fi
    done
    count release "$ok" "$bad"
}

run_unit() {
    say "unit: C unit tests of the pure cores (ASan + UBSan)"
    local log=$WORK/unit.log st=0 t
    make -s PG_CONFIG="$PG_CONFIG" unit-build >"$log" 2>&1 || st=1
    for t in test/unit/*_test; do
        [ -x "$t" ] || continue
        "./$t" >>"$log" 2>&1 || st=1
    done
    grep -E '^(not ok|# )' "$log" | head -40
    count_tap unit "$log" $st
}

run_regress() {
    say "regress: pg_regress (sql/, expected/)"
    local log=$WORK/regress.log st=0
    as_test_user "$PGXS_DIR/src/test/regress/pg_regress" \
        --bindir="$PG_BINDIR" \
        --inputdir="$WORK" --outputdir="$WORK/regress" \
        --temp-instance="$WORK/regress/tmp_check" \
        --temp-config="$WORK/test/fieldops.conf" \
        --dbname=contrib_regression \
        --schedule="$WORK/test/schedule" >"$log" 2>&1 || st=$?
    cat "$log"
    if [ $st -ne 0 ] && [ -f "$WORK/regress/regression.diffs" ]; then
        say "regress: differences"; cat "$WORK/regress/regression.diffs"
    fi
    count_pg_regress regress "$log" $st
}

run_isolation() {
    say "isolation: pg_isolation_regress (test/isolation/specs)"
    local log=$WORK/isolation.log st=0 specs
    specs=${FIELDOPS_SPECS:-$(cd test/isolation/specs && ls *.spec 2>/dev/null | sed 's/\.spec$//' | sort)}
    if [ -z "$specs" ]; then count isolation 0 0; return; fi
    as_test_user "$PGXS_DIR/src/test/isolation/pg_isolation_regress" \
        --bindir="$PG_BINDIR" \
        --inputdir="$WORK/test/isolation" --outputdir="$WORK/isolation" \
        --temp-instance="$WORK/isolation/tmp_check" \
        --temp-config="$WORK/test/fieldops.conf" \
        --dbname=isolation_regression \
        --load-extension=postgis --load-extension=fieldops \
        $specs >"$log" 2>&1 || st=$?
    cat "$log"
    if [ $st -ne 0 ] && [ -f "$WORK/isolation/regression.diffs" ]; then
        say "isolation: differences"; cat "$WORK/isolation/regression.diffs"
    fi
    count_pg_regress isolation "$log" $st
}

run_tap() {
    say "tap: prove test/t (PostgreSQL::Test::Cluster)"
    local log=$WORK/tap.log st=0
    mkdir -p "$WORK/tap"; [ "$(id -u)" -eq 0 ] && chown "$(test_user)" "$WORK/tap"
    (cd "$WORK/test" && as_test_user env \
        PERL5LIB="$PGXS_DIR/src/test/perl:$WORK/test/t" \
        TESTDIR="$WORK/tap" \
        PG_REGRESS="$PGXS_DIR/src/test/regress/pg_regress" \
        FIELDOPS_TEST_DIR="$WORK/test" \
        prove -v ${PROVE_FLAGS:-} ${PROVE_TESTS:-t/*.pl}) >"$log" 2>&1 || st=$?
    grep -Ev '^\s*ok [0-9]+' "$log" | grep -Ev '^#' | head -200
    if [ $st -ne 0 ]; then
        say "tap: failures"; grep -E -B2 -A12 '^\s*not ok' "$log" | head -200
        for f in "$WORK"/tap/tmp_check/log/*.log; do
            [ -f "$f" ] || continue
            grep -q -E 'ERROR|FATAL|PANIC|TRAP' "$f" && { echo "--- $f"; grep -E 'ERROR|FATAL|PANIC|TRAP' "$f" | tail -20; }
        done
    fi
    count_tap tap "$log" $st
}

for s in $SUITES; do
    case $s in
        release) run_release ;;
        unit) run_unit ;;
        regress) run_regress ;;
        isolation) run_isolation ;;
        tap) run_tap ;;
        *) die "unknown suite $s" ;;
    esac
done

say "summary"
cat "$WORK/summary"
if [ "$FAILED" -gt 0 ]; then
    echo "failed suites: ${FAILED_SUITES[*]} (logs in $WORK)"
fi
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
