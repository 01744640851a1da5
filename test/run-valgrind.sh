#!/usr/bin/env bash
# make valgrind: the pg_regress suite against a private server whose every
# process runs under valgrind memcheck, then the C unit tests under valgrind.
# Fails if valgrind reports an error in a stack that passes through fieldops.
#
# Debian's server is not built with USE_VALGRIND, so palloc'd chunks are not
# tracked one by one; valgrind still sees reads of uninitialised memory,
# invalid reads and writes of malloc'd memory (OpenSSL, libsodium, the
# launcher's own state) and jumps on undefined values anywhere in the
# module.  Slow: expect several minutes.
set -uo pipefail
cd "$(dirname "$0")/.."
. test/lib.sh

ensure_packages valgrind
[ -n "${FIELDOPS_SKIP_BUILD:-}" ] || build_and_install
PGXS_DIR=$(cd "$(dirname "$($PG_CONFIG --pgxs)")/../.." && pwd)

WORK=$(make_work_dir valgrind)
cp -r sql expected test "$WORK"/
[ "$(id -u)" -eq 0 ] && chown -R "$(test_user)" "$WORK"
add_receipt_key "$WORK"
PORT=$(free_port 56432)
DATA=$WORK/data
VGLOG=$WORK/valgrind

as_test_user initdb -D "$DATA" -A trust --no-sync >/dev/null || die "initdb failed"
cat "$WORK/test/fieldops.conf" >> "$DATA/postgresql.conf"
cat >> "$DATA/postgresql.conf" <<EOF
port = $PORT
listen_addresses = ''
unix_socket_directories = '$WORK'
max_connections = 20
shared_buffers = 32MB
fsync = off
EOF
as_test_user mkdir -p "$VGLOG"

say "starting postgres under valgrind (port $PORT, logs in $VGLOG)"
as_test_user bash -c "valgrind --quiet --trace-children=yes --track-origins=yes --leak-check=no \
    --error-markers=VALGRINDERROR-BEGIN,VALGRINDERROR-END \
    --suppressions='$WORK/test/valgrind.supp' \
    --log-file='$VGLOG/%p.log' \
    postgres -D '$DATA' > '$WORK/server.log' 2>&1 &"
for i in $(seq 1 120); do
    as_test_user pg_isready -q -h "$WORK" -p "$PORT" && break
    sleep 1
done
as_test_user pg_isready -q -h "$WORK" -p "$PORT" || die "server did not start (see $WORK/server.log)"

say "regress suite under valgrind"
st=0
as_test_user "$PGXS_DIR/src/test/regress/pg_regress" \
    --bindir="$PG_BINDIR" --inputdir="$WORK" --outputdir="$WORK/regress" \
    --host="$WORK" --port="$PORT" --dbname=contrib_regression \
    --schedule="$WORK/test/schedule" || st=$?
as_test_user pg_ctl -D "$DATA" -m fast -w -t 300 stop >/dev/null || true

say "unit tests under valgrind"
UNIT_CFLAGS="-std=gnu99 -O1 -g -Wall -Wextra -Werror -Isrc"
for t in worktime tenant_id mileage trips; do
    case $t in
        worktime) srcs=src/worktime_core.c ;;
        tenant_id) srcs=src/tenant_id.c ;;
        mileage) srcs="src/mileage_core.c src/geo_kernel.c -lproj -lm" ;;
        trips) srcs="-Itest/bench src/trips_core.c src/mileage_core.c src/geo_kernel.c test/bench/drivegen.c -lproj -lm" ;;
    esac
    gcc $UNIT_CFLAGS -o "$WORK/${t}_test" "test/unit/${t}_test.c" $srcs || die "unit build failed"
    valgrind --quiet --error-exitcode=3 --leak-check=full "$WORK/${t}_test" > "$WORK/${t}_test.log" 2>&1 || {
        echo "valgrind: $t unit test failed"; cat "$WORK/${t}_test.log"; st=1; }
done

say "valgrind reports"
errors=$(grep -l VALGRINDERROR-BEGIN "$VGLOG"/*.log 2>/dev/null | wc -l)
ours=0
for f in "$VGLOG"/*.log; do
    [ -f "$f" ] || continue
    # print each error whose stack mentions the module
    if awk '/VALGRINDERROR-BEGIN/{b="";inerr=1} inerr{b=b"\n"$0} /VALGRINDERROR-END/{inerr=0; if (b ~ /fieldops/) {print b; found=1}} END{exit !found}' "$f"; then
        ours=$((ours + 1))
    fi
done
echo "processes with valgrind errors: $errors; with errors in fieldops code: $ours"
[ "$errors" -gt 0 ] && [ "$ours" -eq 0 ] && echo "(errors outside fieldops are listed in $VGLOG)"
if [ $st -ne 0 ] || [ $ours -gt 0 ]; then
    echo "valgrind: FAILED (work directory $WORK)"
    exit 1
fi
echo "valgrind: no error in fieldops code"
