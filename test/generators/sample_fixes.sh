#!/usr/bin/env bash
# test/generators/sample_fixes.sh — seeded working days of location fixes
#
#   test/generators/sample_fixes.sh [--drivegen PATH] [--seed N] | psql -v ON_ERROR_STOP=1 mydb
#   psql -c "SELECT * FROM fieldops_sample.generate_fixes(<tenant>)" mydb
#   psql -c "SELECT * FROM fieldops_sample.build_vehicle_claims(<tenant>)" mydb
#
# Writes a psql script on stdout: test/generators/sample_fixes.sql (the
# tables and functions of schema fieldops_sample that turn the drives into
# fixes, vehicles and claims of a tenant made by sample_tenant.sql), then one
# row of fieldops_sample.drive_segment per segment below and, for each
# segment during which the phone reports, its fixes as COPY data for
# fieldops_sample.drive_fix.  Nothing here knows the tenant, the workers or
# the day: generate_fixes() picks those and shifts the times.
#
# The fixes come from test/bench/drivegen (make test/bench/bin/drivegen),
# which simulates a vehicle whose true path, and so whose true distance, is
# known, and what a phone in it reports (GNSS noise, multipath, Wi-Fi and
# cell fixes, outliers, stale and duplicate fixes, out-of-order arrival; see
# test/bench/README-drivegen.md).  A working day is a chain of drivegen
# runs: each segment starts where the previous one's true path ended (its
# --track file's last point), at the local time the minutes before it add up
# to.  Segment k of story s is drivegen seed  N * 10000 + s * 100 + k  (N =
# --seed, default 2026), so the same N always gives the same bytes (same
# glibc and PROJ, see the drivegen README).
#
# Stories (the day starts at the first segment's time; the sample tenant
# works 08:30-12:00 and 13:00-17:30, so the commutes and the lunch break are
# off duty and ingest_fixes() does not store them):
#   1 sales_city    a sales rep in Puxi: city driving between shop visits, a
#                   stop-and-go stretch, lunch out; 5 s fixes, urban sky
#   2 svc_highway   a service engineer in the west: expressway legs with
#                   tunnels to Songjiang and Qingpu; in the afternoon the phone
#                   is silent for 20 minutes on the expressway (the app was
#                   killed by a battery saver); 5 s, suburban
#   3 svc_garage    a service engineer in Pudong whose car stands in
#                   underground car parks (no GNSS: Wi-Fi and cell fixes only)
#                   for about 50 and 80 minutes; 5 s, urban
#   4 merch_parked  a merchandiser who sets up displays in a hypermarket from
#                   08:42 to 15:30 while her phone lies on the dashboard in the
#                   open car park and jitters; 1 s, urban
# Faults: the first segment of each day (the commute, off duty) has all of
# drivegen's faults, the (0, 0) first fix of a starting app included; the
# others have all but that one.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)

DRIVEGEN=$ROOT/test/bench/bin/drivegen
SEED=2026
while [ $# -gt 0 ]; do
    case "$1" in
        --drivegen) DRIVEGEN=$2; shift 2 ;;
        --seed) SEED=$2; shift 2 ;;
        *) echo "usage: $0 [--drivegen PATH] [--seed N]" >&2; exit 2 ;;
    esac
done
[ -x "$DRIVEGEN" ] || { echo "sample_fixes.sh: $DRIVEGEN is missing (make test/bench/bin/drivegen)" >&2; exit 1; }
case "$SEED" in ''|*[!0-9]*) echo "sample_fixes.sh: --seed must be a whole number" >&2; exit 2 ;; esac

TMP=$(mktemp -d "${TMPDIR:-/tmp}/sample_fixes.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
exec 4>/dev/null

# story number, name, start of the day (local), start position (WGS-84)
STORIES="
1 sales_city   07:55 31.2550 121.4520
2 svc_highway  08:05 31.1120 121.3850
3 svc_garage   08:02 31.2050 121.5450
4 merch_parked 08:06 31.3450 121.4600
"

# One line per segment, in order: story, minutes, scenario, sky, fix
# interval (s), phone (on: reports; off: silent), heading (degrees from
# north; - for a parked car), what happens.
PLAN="
1 30  city    urban    5 on  160 commute to the first shop (off duty)
1 37  parked  urban    5 on  -   好邻居便利店: order and shelf check
1 14  city    urban    5 on  200 to the next shop
1 28  parked  urban    5 on  -   烟杂店 visit
1 10  creep   urban    5 on  250 stop-and-go on 延安中路
1 12  city    urban    5 on  250 on to the supermarket
1 42  parked  urban    5 on  -   鑫联超市: promotion set-up
1 16  city    urban    5 on  330 to the next shop
1 30  parked  urban    5 on  -   烟酒店 visit
1 9   city    urban    5 on  30  to the next shop
1 17  parked  urban    5 on  -   便利店 visit until noon
1 8   city    urban    5 on  90  to lunch (off duty)
1 52  parked  urban    5 on  -   lunch in a noodle shop (off duty)
1 18  city    urban    5 on  120 to the afternoon's first shop
1 33  parked  urban    5 on  -   药房 visit
1 15  city    urban    5 on  60  to the next shop
1 36  parked  urban    5 on  -   超市 visit
1 20  city    urban    5 on  0   to the next shop
1 44  parked  urban    5 on  -   key account: quarterly review
1 14  city    urban    5 on  290 to the next shop
1 31  parked  urban    5 on  -   便利店 visit
1 21  city    urban    5 on  200 to the last shop
1 38  parked  urban    5 on  -   烟杂店 visit, orders typed in
1 28  city    urban    5 on  340 home (off duty)
2 25  city    suburban 5 on  60  commute to the depot (off duty)
2 28  parked  suburban 5 on  -   depot: spare parts
2 8   city    suburban 5 on  240 to the expressway
2 17  highway suburban 5 on  235 expressway west to 松江, tunnels
2 9   city    suburban 5 on  200 to the customer
2 88  parked  suburban 5 on  -   repairs a cold-storage unit
2 11  city    suburban 5 on  20  to the next customer
2 49  parked  suburban 5 on  -   maintenance visit until noon
2 60  parked  suburban 5 on  -   lunch (off duty)
2 7   city    suburban 5 on  330 to the expressway
2 22  highway suburban 5 on  10  expressway north to 青浦, tunnels
2 10  city    suburban 5 on  300 to the customer
2 62  parked  suburban 5 on  -   installs a display freezer
2 20  highway suburban 5 off 95  expressway back east: the phone is silent
2 12  city    suburban 5 on  60  to the last customer
2 55  parked  suburban 5 on  -   maintenance visit
2 24  city    suburban 5 on  150 back to the depot
2 58  parked  suburban 5 on  -   depot: paperwork
2 30  city    suburban 5 on  60  home (off duty)
3 28  city    urban    5 on  45  commute (off duty)
3 14  city    urban    5 on  100 to the first customer
3 80  parking urban    5 on  20  mall: into the car park, repairs in B2, out
3 26  parked  urban    5 on  -   便利店: checks a fridge
3 10  city    urban    5 on  150 to the customer before lunch
3 80  parked  urban    5 on  -   maintenance visit until noon
3 60  parked  urban    5 on  -   lunch (off duty)
3 100 parking urban    5 on  300 office tower: into the car park, works there, out
3 22  parked  urban    5 on  -   supermarket: quick check
3 16  city    urban    5 on  200 to the next customer
3 50  parked  urban    5 on  -   maintenance visit
3 14  city    urban    5 on  80  to the last customer
3 68  parked  urban    5 on  -   last visit of the day
3 28  city    urban    5 on  110 home (off duty)
4 24  city    urban    1 on  200 commute (off duty)
4 12  city    urban    1 on  170 to the hypermarket
4 408 parked  urban    1 on  -   displays in the hypermarket; phone on the dashboard
4 16  city    urban    1 on  250 to a convenience store
4 50  parked  urban    1 on  -   shelf set-up
4 14  city    urban    1 on  20  to the branch office
4 40  parked  urban    1 on  -   branch office: photo report
4 20  city    urban    1 on  0   home (off duty)
"

# (no command substitutions in the loop: a fork costs more than a drivegen run on some machines)
sql_text() { local v=${2//\'/\'\'}; printf -v "$1" "'%s'" "$v"; }

echo '\set ON_ERROR_STOP on'
cat "$ROOT/test/generators/sample_fixes.sql"
echo
echo 'BEGIN;'

while read -r story name start lat lon; do
    [ -n "$story" ] || continue
    t=$(( 10#${start%%:*} * 60 + 10#${start##*:} ))     # minutes after midnight
    seg=0
    while read -r s minutes scenario env sample phone heading note; do
        [ "$s" = "$story" ] || continue
        seg=$((seg + 1))
        seed=$((SEED * 10000 + story * 100 + seg))
        faults=multipath,outliers,stale,duplicates,shuffle,wifi-cell
        [ "$seg" -eq 1 ] && faults=all
        # a second short of the next segment's start, so their fixes never collide
        duration=$((minutes * 60 - 1))
        args=(--scenario "$scenario" --env "$env" --tau 60 --sample "$sample" --lat "$lat" --lon "$lon"
              --duration "$duration" --faults "$faults" --seed "$seed" --source-names)
        sql_heading=NULL
        if [ "$heading" != - ]; then
            args+=(--heading "$heading")
            sql_heading=$heading
        fi
        [ "$scenario" != parked ] && args+=(--track "$TMP/track.csv")
        # the fixes go straight into the output as COPY data (unless the phone is silent)
        out=4                                   # /dev/null
        if [ "$phone" = on ]; then
            echo "COPY fieldops_sample.drive_fix (t_us, lat, lon, acc_m, speed_mps, provider) FROM STDIN WITH (FORMAT csv, HEADER true);"
            out=1
        fi
        "$DRIVEGEN" "${args[@]}" >&"$out" 2>"$TMP/truth.txt" \
            || { cat "$TMP/truth.txt" >&2; echo "sample_fixes.sh: drivegen failed (story $story, segment $seg)" >&2; exit 1; }
        if [ "$phone" = on ]; then
            echo '\.'
            echo "UPDATE fieldops_sample.drive_fix SET story = $story, seg = $seg WHERE story IS NULL;"
        fi
        truth=
        while read -r line; do truth=$line; done <"$TMP/truth.txt"
        [[ $truth =~ true_m=([^,]*),\ parked_s=([^,]*),.*\ fixes=([^,]*),\ tunnels=([^,]*),\ tunnel_m=([^,]*),\ t0_us=([^,]*), ]] \
            || { echo "sample_fixes.sh: cannot read drivegen's summary: $truth" >&2; exit 1; }
        end_lat=$lat end_lon=$lon
        if [ "$scenario" != parked ]; then
            IFS=, read -r _ end_lat end_lon _ < <(tail -n 1 "$TMP/track.csv")
        fi
        sql_text q_name "$name"; sql_text q_scenario "$scenario"; sql_text q_env "$env"
        sql_text q_faults "$faults"; sql_text q_note "$note"
        phone_on=false; [ "$phone" = on ] && phone_on=true
        printf "INSERT INTO fieldops_sample.drive_segment VALUES (%s, %s, %s, '%02d:%02d', %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s);\n" \
            "$story" "$q_name" "$seg" $((t / 60)) $((t % 60)) "$duration" "$q_scenario" "$q_env" "$sample" "$q_faults" \
            "$sql_heading" "$phone_on" "$seed" "$lat" "$lon" "$end_lat" "$end_lon" "${BASH_REMATCH[1]}" \
            "${BASH_REMATCH[2]}" "${BASH_REMATCH[4]}" "${BASH_REMATCH[5]}" "${BASH_REMATCH[6]}" "${BASH_REMATCH[3]}" "$q_note"
        lat=$end_lat lon=$end_lon
        t=$((t + minutes))
    done <<<"$PLAN"
done <<<"$STORIES"

echo 'COMMIT;'
