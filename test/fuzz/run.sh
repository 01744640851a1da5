#!/usr/bin/env bash
# make fuzz: build the libFuzzer harnesses (clang; installed when missing and
# run as root), seed each corpus, and run every harness for FUZZ_SECONDS
# (default 600) with one job.  Corpora and any crash files stay in the work
# directory it prints; it exits non-zero when a harness finds something.
# FUZZERS="fuzz_sig" runs a subset.  Details of each harness:
# test/fuzz/README.md.
set -uo pipefail
cd "$(dirname "$0")/../.."
. test/lib.sh

SECONDS_EACH=${FUZZ_SECONDS:-600}
WHICH=${FUZZERS:-"fuzz_manifest fuzz_sig fuzz_ingest"}
# fuzz_ingest runs in a server: batches of 100 mutated elements
INGEST_ROUNDS=${FUZZ_INGEST_ROUNDS:-300}

if ! command -v clang >/dev/null; then
    [ "$(id -u)" -eq 0 ] || die "clang is missing (apt-get install clang)"
    say "installing clang"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q clang >/dev/null || die "apt-get install clang failed"
fi
make -s fuzz-build || die "building the fuzzers failed"
make -s test/unit/manifest_test || die "building test/unit/manifest_test failed"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/fieldops-fuzz.XXXXXX")
say "work directory: $WORK"

# manifest: the README's worked example
seed_manifest() {
    test/unit/manifest_test --example | sed -n 2p | cut -c3- | xxd -r -p > "$1/example"
}

# signatures: a 4-byte control header (algorithm and key source, key
# length, signature length, how to reshape the signature; see fuzz_sig.c)
# before key, signature and message
seed_sig() {
    local out=$1 n=0 kind k m s name sk pk spki sec1
    seed() {
        local msg=$4
        [ "$msg" = - ] && msg=
        printf '%02x%02x%02x00%s%s%s' "$1" $((${#2} / 2)) $((${#3} / 2)) "$2" "$3" "$msg" | xxd -r -p > "$out/seed-$n"
        n=$((n + 1))
    }
    spki=$(awk '$1 == "key" && $2 == "a" && $3 == "spki" {print $4}' test/fixtures/es256_vectors.txt)
    sec1=$(awk '$1 == "key" && $2 == "a" && $3 == "sec1" {print $4}' test/fixtures/es256_vectors.txt)
    while read -r kind k m s; do
        [ "$kind" = sig ] && [ "$k" = a ] || continue
        seed 2 "" "$s" "$m"; seed 34 "" "$s" "$m"; seed 4 "" "$s" "$m"; seed 0 "$spki" "$s" "$m"; seed 6 "$sec1" "$s" "$m"
    done < test/fixtures/es256_vectors.txt
    while read -r kind name sk pk m s; do
        [ "$kind" = vector ] && seed 1 "$pk" "$s" "$m"
    done < test/fixtures/ed25519_rfc8032.txt
}

found=0
printf '%-14s %8s %14s %10s\n' harness seconds executions findings
for f in $WHICH; do
    [ "$f" = fuzz_ingest ] && continue     # below: it needs a server
    corpus=$WORK/$f.corpus
    mkdir -p "$corpus"
    case $f in
        fuzz_manifest) seed_manifest "$corpus" ;;
        fuzz_sig) seed_sig "$corpus" ;;
        *) die "unknown harness $f" ;;
    esac
    log=$WORK/$f.log
    "test/fuzz/bin/$f" -max_total_time="$SECONDS_EACH" -print_final_stats=1 \
        -artifact_prefix="$WORK/$f-" "$corpus" >"$log" 2>&1
    st=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    crashes=$(ls "$WORK/$f-"* 2>/dev/null | wc -l)
    printf '%-14s %8s %14s %10s\n' "$f" "$SECONDS_EACH" "${execs:-?}" "$crashes"
    if [ $st -ne 0 ] || [ "$crashes" -gt 0 ]; then
        found=1
        tail -30 "$log"
    fi
done
# fuzz_ingest: mutated ingest batches through SQL (test/fuzz/fuzz_ingest.sql)
case " $WHICH " in *" fuzz_ingest "*)
    [ -n "${FIELDOPS_SKIP_BUILD:-}" ] || build_and_install
    chmod 755 "$WORK"; [ "$(id -u)" -eq 0 ] && chown "$(test_user)" "$WORK"
    port=$(free_port 58631)
    private_server_start "$WORK/data" "$port" "$WORK"
    PSQL -d postgres -c "CREATE DATABASE fuzz" >/dev/null && PSQL -d fuzz -c "CREATE EXTENSION fieldops CASCADE" >/dev/null 2>&1
    start=$SECONDS
    PSQL -d fuzz -v seed=0.2026 -v rounds="$INGEST_ROUNDS" < test/fuzz/fuzz_ingest.sql > "$WORK/fuzz_ingest.log" 2>&1
    st=$?
    private_server_stop "$WORK/data"
    printf '%-14s %8s %14s %10s\n' fuzz_ingest "$((SECONDS - start))" "$((INGEST_ROUNDS * 100))" "$([ $st -eq 0 ] && echo 0 || echo 1)"
    if [ $st -ne 0 ]; then
        found=1
        tail -30 "$WORK/fuzz_ingest.log"
    else
        grep 'fuzz_ingest:' "$WORK/fuzz_ingest.log"
    fi
    ;;
esac
[ $found -eq 0 ] || die "a fuzzer found a problem (inputs in $WORK)"
say "no finding"
