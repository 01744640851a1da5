#!/usr/bin/env bash
# test/demo/demo.sh start|stop|status — `make demo` and `make demo-stop`.
#
# start: install missing Debian packages (as root), build and install
#   fieldops (skipped with FIELDOPS_SKIP_BUILD=1), then run a private server
#   as the unprivileged test user (postgres when run as root):
#     data directory  .demo/data under the repository root (git-ignored), or
#                     /tmp/fieldops-demo.<hash> when that user cannot reach
#                     the repository (e.g. a checkout under /root)
#     socket          in .demo/ (the data directory's parent), no TCP
#     port            a free one (it also names the socket file)
#     settings        shared_preload_libraries = 'fieldops',
#                     fieldops.database = 'fieldops_demo', fieldops.naptime = 5
#   creates the database fieldops_demo with the extension, generates the
#   sample tenant (test/generators/sample_tenant.sql), runs the jobs,
#   generates last week's working day of four of its workers (location
#   fixes from test/bench/drivegen through fieldops.ingest_fixes(), their
#   vehicles and vehicle claims: test/generators/sample_fixes.sh), lets two
#   phones upload signed photos (test/generators/sample_photos.sql), sends
#   three earlier working days of ten sales reps' visits and then the last
#   working day, on which four of them spoof their locations
#   (test/generators/sample_spoofers.sql), plays a day of the customer pool
#   (test/generators/sample_pool.sql: a district's pool with rules, the
#   release job's warnings and releases, a rep leaving, claims with every
#   status), plays a day of the process module (test/generators/
#   sample_process.sql: SOPs and forms, visits by the book, one skipping
#   steps, one with a spoofed check-in, tasks, a work order with parts and
#   the customer's signature), writes the eight weeks before today
#   (test/generators/sample_history.sql: the sales reps' visits, deals and
#   expense claims, some flagged, then the KPI rollups), prints
#   test/demo/report.sql (section 14: the cockpit), writes the cockpit's
#   charts (SVG from the database) to cockpit.html in the demo directory
#   (test/demo/cockpit_html.sql) and the
#   customers as GeoJSON coloured by owner or pool
#   (test/demo/customers_geojson.sql) to customers.geojson in the demo
#   directory.
#   Run again, it finds the server (starting it if it was stopped), the
#   tenant, its fixes, photos, check-ins, pool and process day, prints the
#   report again and writes the GeoJSON afresh.
# stop: stop the server; the data directory stays (rm -rf it to reset).
# status: say whether the server runs and how to connect.
#
# FIELDOPS_DEMO_SEED, FIELDOPS_DEMO_WORKERS, FIELDOPS_DEMO_CUSTOMERS change
# the generated tenant (defaults 0.42, 48, 3000) when it is first created;
# FIELDOPS_DEMO_FIX_SEED (default 2026) the drives of the working days.
# The packaged Debian cluster is never used or touched.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
. test/lib.sh

DEMO_DB=fieldops_demo
DEMO_TENANT='沪上优选快消 (demo)'
SEED=${FIELDOPS_DEMO_SEED:-0.42}
WORKERS=${FIELDOPS_DEMO_WORKERS:-48}
CUSTOMERS=${FIELDOPS_DEMO_CUSTOMERS:-3000}
FIX_SEED=${FIELDOPS_DEMO_FIX_SEED:-2026}
STARTED=$SECONDS

# Where the demo lives.  The same answer for start and stop: .demo/ in the
# repository when the test user can get there, else a fixed directory in
# /tmp named after the repository path.
demo_dir() {
    if as_test_user sh -c 'cd "$1"' sh "$FIELDOPS_ROOT" 2>/dev/null; then
        echo "$FIELDOPS_ROOT/.demo"
    else
        echo "${TMPDIR:-/tmp}/fieldops-demo.$(printf '%s' "$FIELDOPS_ROOT" | md5sum | cut -c1-8)"
    fi
}

# after ensure_packages: on a fresh machine the user postgres comes with them
set_paths() {
    USER_NAME=$(test_user) || exit 1
    DEMO_DIR=$(demo_dir)
    DATA=$DEMO_DIR/data
    LOG=$DEMO_DIR/server.log
}

# as the test user, from a directory it can enter (the checkout may not be one)
pg() { (cd / && as_test_user "$@"); }
running() { [ -f "$DATA/PG_VERSION" ] && pg pg_ctl -D "$DATA" status >/dev/null 2>&1; }
# the port of the running server, from postmaster.pid (line 4)
server_port() { sed -n 4p "$DATA/postmaster.pid" 2>/dev/null; }
# psql on the demo database; SQL from stdin, so the test user need not read the checkout
dpsql() { pg psql -X -q -v ON_ERROR_STOP=1 -h "$DEMO_DIR" -p "$PORT" "$@"; }

connect_help() {
    say "connect"
    echo "  psql -h $DEMO_DIR -p $PORT -U $USER_NAME $DEMO_DB"
    if [ "$(id -u)" -eq 0 ]; then
        echo "  as root or as OS user postgres (runuser -u postgres -- psql ...): only they can reach the"
        echo "  socket, which trusts them; you are database role postgres, a superuser."
    else
        echo "  as $USER_NAME: only you can reach the socket, which trusts you; you are database role"
        echo "  $USER_NAME, a superuser."
    fi
    echo "  report again:  make demo        stop:  make demo-stop"
}

# The server's photo receipt key: a random Ed25519 seed in the data
# directory, private to the server's user, named in postgresql.conf.
# Returns 0 when it was added just now (a running server must restart).
ensure_receipt_key() {
    grep -q '^fieldops.receipt_key_file' "$DATA/postgresql.conf" && return 1
    head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$DATA/receipt.key"
    chmod 600 "$DATA/receipt.key"
    [ "$(id -u)" -eq 0 ] && chown "$USER_NAME" "$DATA/receipt.key"
    echo "fieldops.receipt_key_file = 'receipt.key'   # photo receipts (a random seed made by make demo)" >>"$DATA/postgresql.conf"
    return 0
}

start() {
    ensure_packages
    set_paths
    if [ -n "${FIELDOPS_SKIP_BUILD:-}" ]; then
        say "FIELDOPS_SKIP_BUILD is set: using the installed fieldops as it is"
    else
        build_and_install
    fi

    if [ "$DEMO_DIR" != "$FIELDOPS_ROOT/.demo" ]; then
        say "user $USER_NAME cannot reach $FIELDOPS_ROOT (a parent directory is not searchable by it),"
        echo "   so the demo lives in $DEMO_DIR instead of $FIELDOPS_ROOT/.demo"
    fi
    mkdir -p "$DEMO_DIR" || die "cannot create $DEMO_DIR"
    [ "$(id -u)" -eq 0 ] && chown "$USER_NAME" "$DEMO_DIR"
    chmod 750 "$DEMO_DIR"

    if running; then
        PORT=$(server_port)
        say "the demo server is already running (port $PORT, data $DATA): reusing it"
        if ensure_receipt_key; then
            say "restarting it to load the new photo receipt key"
            pg pg_ctl -D "$DATA" -l "$LOG" -w -t 60 restart >/dev/null || { tail -20 "$LOG"; die "server did not restart"; }
        fi
    else
        if [ ! -f "$DATA/PG_VERSION" ]; then
            say "initdb $DATA (as $USER_NAME)"
            pg initdb -D "$DATA" -U "$USER_NAME" -A trust -E UTF8 --locale=C.UTF-8 >"$DEMO_DIR/initdb.log" 2>&1 \
                || { cat "$DEMO_DIR/initdb.log"; die "initdb failed"; }
            # the launcher connects to fieldops.database at server start: create it
            # first, in single-user mode, so the launcher never finds it missing
            echo "CREATE DATABASE $DEMO_DB;" | pg postgres --single -D "$DATA" postgres >>"$DEMO_DIR/initdb.log" 2>&1 \
                || { cat "$DEMO_DIR/initdb.log"; die "could not create database $DEMO_DB"; }
            cat >>"$DATA/postgresql.conf" <<EOF

# --- fieldops demo (test/demo/demo.sh) ---
listen_addresses = ''
unix_socket_directories = '$DEMO_DIR'
unix_socket_permissions = 0700
shared_preload_libraries = 'fieldops'
fieldops.database = '$DEMO_DB'
fieldops.naptime = 5
log_line_prefix = '%m [%p] %q%a '
EOF
        fi
        ensure_receipt_key
        # a free port, the previous one if it still is
        PORT=$(sed -n 's/^port = \([0-9]*\).*/\1/p' "$DATA/postgresql.conf" | tail -1)
        if [ -z "$PORT" ] || [ "$(free_port "$PORT")" != "$PORT" ] || [ -e "$DEMO_DIR/.s.PGSQL.$PORT" ]; then
            PORT=$(free_port 55432)
            sed -i '/^port = /d' "$DATA/postgresql.conf"
            echo "port = $PORT" >>"$DATA/postgresql.conf"
        fi
        say "starting the demo server (port $PORT, socket in $DEMO_DIR, log $LOG)"
        pg pg_ctl -D "$DATA" -l "$LOG" -w -t 60 start >/dev/null || { tail -20 "$LOG"; die "server did not start"; }
    fi

    # database, extension, tenant: each only if missing
    if [ -z "$(dpsql -At -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$DEMO_DB'")" ]; then
        dpsql -d postgres -c "CREATE DATABASE $DEMO_DB" || die "createdb failed"
    fi
    # (an older demo database is updated to the installed build's version)
    dpsql -d "$DEMO_DB" -c "SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS fieldops CASCADE; ALTER EXTENSION fieldops UPDATE" \
        || die "CREATE EXTENSION fieldops (or ALTER EXTENSION fieldops UPDATE) failed"
    dpsql -d "$DEMO_DB" -At -c "SELECT extversion FROM pg_extension WHERE extname = 'fieldops'" \
        | sed 's/^/   fieldops version /'

    TENANT=$(dpsql -d "$DEMO_DB" -At -c "SELECT min(tenant_id) FROM fieldops.tenant WHERE name = '$DEMO_TENANT'")
    if [ -z "$TENANT" ]; then
        say "generating the sample tenant (seed $SEED, $WORKERS workers, $CUSTOMERS customers)"
        dpsql -d "$DEMO_DB" <test/generators/sample_tenant.sql || die "loading test/generators/sample_tenant.sql failed"
        local t0=$SECONDS
        TENANT=$(dpsql -d "$DEMO_DB" -At -c \
            "SELECT fieldops_sample.generate_tenant('$DEMO_TENANT', $SEED, $WORKERS, $CUSTOMERS)") \
            || die "generate_tenant failed"
        echo "   tenant $TENANT generated in $((SECONDS - t0)) s"

        say "jobs: make every job due and CALL fieldops.run_due_jobs()"
        dpsql -d "$DEMO_DB" <<'EOF' || die "running the jobs failed"
\pset footer off
\pset linestyle unicode
SELECT fieldops.ensure_builtin_jobs() AS builtin_jobs_created \gset
SELECT count(fieldops.alter_job(job_name, p_next_run_at => now())) AS jobs_made_due FROM fieldops.job \gset
CALL fieldops.run_due_jobs();
EOF
    else
        say "tenant $TENANT ('$DEMO_TENANT') exists already: not generating it again (rm -rf $DEMO_DIR to start afresh)"
    fi

    # last week's working days of a few workers: fixes, vehicles, claims
    if [ "$(dpsql -d "$DEMO_DB" -At -c "SELECT count(*) FROM fieldops.fix WHERE tenant_id = $TENANT")" = 0 ]; then
        say "generating last week's sample working days (test/generators/sample_fixes.sh, drivegen seed $FIX_SEED)"
        local t1=$SECONDS
        make -s PG_CONFIG="$PG_CONFIG" test/bench/bin/drivegen || die "building test/bench/bin/drivegen failed"
        bash test/generators/sample_fixes.sh --seed "$FIX_SEED" | dpsql -d "$DEMO_DB" >/dev/null \
            || die "loading the drives (test/generators/sample_fixes.sh) failed"
        dpsql -d "$DEMO_DB" -v tenant="$TENANT" <<'EOF' || die "generating the sample working days failed"
\pset footer off
\pset linestyle unicode
\pset border 1
\echo '   fieldops.ingest_fixes(), per worker: off_duty = recorded outside working hours, so not stored (privacy)'
SELECT story, worker, phone, day, sent, off_duty, duplicate, stored, other AS rejected
  FROM fieldops_sample.generate_fixes(:tenant);
\echo '   vehicle rates, the workers'' vehicles and fieldops.vehicle_claim() for the day'
SELECT story, worker, vehicle, stated_km, measured_km, amount, currency, flags
  FROM fieldops_sample.build_vehicle_claims(:tenant);
EOF
        echo "   sample working days generated in $((SECONDS - t1)) s"
    else
        say "the tenant has location fixes already: not generating the sample working days again"
    fi

    # signed photos: eight uploads of two sample workers
    if [ "$(dpsql -d "$DEMO_DB" -At -c "SELECT count(*) FROM fieldops.photo WHERE tenant_id = $TENANT")" = 0 ]; then
        say "signed photos: two phones enrol their keys and upload eight photos (test/generators/sample_photos.sql)"
        dpsql -d "$DEMO_DB" <test/generators/sample_photos.sql || die "loading test/generators/sample_photos.sql failed"
        dpsql -d "$DEMO_DB" -v tenant="$TENANT" <<'EOF' || die "generating the sample photos failed"
\pset footer off
\pset linestyle unicode
\pset border 1
SELECT * FROM fieldops_sample.generate_photos(:tenant);
EOF
    else
        say "the tenant has photos already: not uploading the sample photos again"
    fi

    # spoofed locations: ten sales reps, three earlier days of honest visits,
    # then the last working day, on which four of them cheat (once: a
    # check-in fix, one sent with a visit's customer, is the marker)
    if [ "$(dpsql -d "$DEMO_DB" -At -c "SELECT count(*) FROM fieldops.fix WHERE tenant_id = $TENANT AND customer_id IS NOT NULL")" = 0 ]; then
        say "spoof day: ten sales reps, four cheat on the last working day (test/generators/sample_spoofers.sql)"
        local t2=$SECONDS
        dpsql -d "$DEMO_DB" <test/generators/sample_spoofers.sql || die "loading test/generators/sample_spoofers.sql failed"
        dpsql -d "$DEMO_DB" -v tenant="$TENANT" <<'EOF' || die "generating the spoof day failed"
\pset footer off
\pset linestyle unicode
\pset border 1
CREATE TEMP TABLE spoof_day AS SELECT * FROM fieldops_sample.generate_spoof_day(:tenant);
SELECT to_char(min(day), 'Dy YYYY-MM-DD') AS spoof_day FROM spoof_day \gset
\echo '   per worker, as fieldops.ingest_fixes() scored them: the three earlier days (fixes, not green),'
\echo '   then the demo day,' :spoof_day '(fixes, check-ins, bands green/amber/red)'
SELECT worker, story, phone, earlier_fixes AS earlier, earlier_not_green AS "not green",
       fixes, checkins AS "check-ins", green || '/' || amber || '/' || red AS bands
  FROM spoof_day;
EOF
        echo "   spoof day generated in $((SECONDS - t2)) s"
    else
        say "the tenant has check-in fixes already: not generating the spoof day again"
    fi

    # the customer pool: a district's pool with rules, back-dated sample
    # history, the release job, follow-ups, a rep leaving, claims with every
    # status (once: the sample tenant has no pool but its default one before)
    if [ "$(dpsql -d "$DEMO_DB" -At -c "SELECT count(*) FROM fieldops.customer_pool WHERE tenant_id = $TENANT AND NOT is_default")" = 0 ]; then
        say "the customer pool: a district's pool, the release job, a rep leaving, claims (test/generators/sample_pool.sql)"
        local t3=$SECONDS
        dpsql -d "$DEMO_DB" <test/generators/sample_pool.sql || die "loading test/generators/sample_pool.sql failed"
        dpsql -d "$DEMO_DB" -v tenant="$TENANT" <<'EOF' || die "playing the pool day failed"
\pset footer off
\pset linestyle unicode
\pset border 1
\echo '   each step through the pool API and the status it answered (the report explains them: section 12)'
SELECT step AS "#", who, call, customer, status FROM fieldops_sample.generate_pool_day(:tenant);
EOF
        echo "   pool day played in $((SECONDS - t3)) s"
    else
        say "the tenant has a pool besides its default one already: not playing the pool day again"
    fi

    # the process module: SOPs and forms, a day of visits (one skipping
    # steps, one with a spoofed check-in), tasks, a work order with parts and
    # the customer's signature (once: the sample tenant has no SOP before)
    if [ "$(dpsql -d "$DEMO_DB" -At -c "SELECT count(*) FROM fieldops.sop WHERE tenant_id = $TENANT")" = 0 ]; then
        say "the process day: visits and their SOPs, forms, tasks, a work order (test/generators/sample_process.sql)"
        local t4=$SECONDS
        dpsql -d "$DEMO_DB" <test/generators/sample_process.sql || die "loading test/generators/sample_process.sql failed"
        dpsql -d "$DEMO_DB" -v tenant="$TENANT" <<'EOF' || die "playing the process day failed"
\pset footer off
\pset linestyle unicode
\pset border 1
CREATE TEMP TABLE process_day AS SELECT * FROM fieldops_sample.generate_process_day(:tenant);
\echo '   API calls per kind, and how many answered what the story expected (the report shows them: section 13)'
SELECT s.kind, count(*) AS calls, count(*) FILTER (WHERE d.status = d.expected) AS "as expected"
  FROM process_day d JOIN fieldops_sample.process_step s ON s.tenant_id = :tenant AND s.step = d.step
 GROUP BY s.kind ORDER BY min(d.step);
EOF
        echo "   process day played in $((SECONDS - t4)) s"
    else
        say "the tenant has SOPs already: not playing the process day again"
    fi

    # the weeks before today: visits, deals and expense claims of the sales
    # reps, for the cockpit (once: the tenant has no KPI rollups before)
    if [ "$(dpsql -d "$DEMO_DB" -At -c "SELECT count(*) FROM fieldops.deal WHERE tenant_id = $TENANT")" = 0 ]; then
        say "the weeks before today: visits, deals, expense claims, then the KPI rollups (test/generators/sample_history.sql)"
        local t5=$SECONDS
        dpsql -d "$DEMO_DB" <test/generators/sample_history.sql || die "loading test/generators/sample_history.sql failed"
        dpsql -d "$DEMO_DB" -v tenant="$TENANT" <<'EOF' || die "writing the sample history failed"
\pset footer off
\pset linestyle unicode
\pset border 1
SELECT kind AS "written", rows FROM fieldops_sample.generate_history(:tenant);
EOF
        echo "   history written in $((SECONDS - t5)) s"
    else
        say "the tenant has deals already: not writing the sample history again"
    fi

    say "job runs"
    dpsql -d "$DEMO_DB" <<'EOF'
\pset footer off
\pset linestyle unicode
SELECT r.run_id, j.job_name, r.tenant_id AS tenant, r.status, r.runner,
       r.started_at::timestamp(0) AS started,
       round(extract(epoch FROM r.finished_at - r.started_at) * 1000) AS ms,
       COALESCE(r.result::text, r.error_code || ' ' || r.error_message) AS result
  FROM fieldops.job_run r JOIN fieldops.job j USING (job_id)
 ORDER BY r.run_id DESC LIMIT 20;
EOF

    say "the launcher (fieldops.launcher_status())"
    dpsql -d "$DEMO_DB" -At -c "SELECT fieldops.wake()" >/dev/null
    # give it a moment to connect and go round its loop once
    for _ in $(seq 1 30); do
        [ "$(dpsql -d "$DEMO_DB" -At -c "SELECT count(*) FROM fieldops.launcher_status() WHERE pid > 0 AND calls > 0")" = 1 ] && break
        sleep 0.5
    done
    dpsql -d "$DEMO_DB" <<'EOF'
\pset footer off
\pset linestyle unicode
\x on
SELECT pid, database, scheduler, naptime_s, state, started_at::timestamp(0) AS started_at,
       last_loop_at::timestamp(0) AS last_loop_at, loops, calls, errors, wakes,
       CASE WHEN pid > 0 AND calls > 0 THEN 'alive: it has called run_due_jobs() ' || calls || ' time(s)'
            WHEN pid > 0 THEN 'running, has not called run_due_jobs() yet'
            ELSE 'NOT RUNNING (see the server log)' END AS verdict
  FROM fieldops.launcher_status();
EOF

    say "report"
    dpsql -d "$DEMO_DB" -v tenant="$TENANT" <test/demo/report.sql || die "the report failed"

    # the customers on a map: GeoJSON written by the test user into the demo directory
    GEOJSON=$DEMO_DIR/customers.geojson
    say "the customers as GeoJSON, coloured by owner or pool (fieldops.customers_geojson(), test/demo/customers_geojson.sql)"
    dpsql -d "$DEMO_DB" -At -v tenant="$TENANT" <test/demo/customers_geojson.sql \
        | pg sh -c 'cat > "$1"' sh "$GEOJSON" || die "writing $GEOJSON failed"
    echo "   $GEOJSON ($(wc -c <"$GEOJSON") bytes, $(grep -c '^{"id"' "$GEOJSON") customers): open it in geojson.io,"
    echo "   QGIS or any GeoJSON viewer.  Property marker-color colours each customer by its owner (grey: the"
    echo "   default pool, black: the district's pool), owner_or_pool names it, the member \"legend\" lists them."

    # the cockpit's charts: SVG drawn by the database, in one HTML page
    HTML=$DEMO_DIR/cockpit.html
    say "the cockpit's charts as an HTML page (fieldops.svg_kpi_trend(), fieldops.svg_worker_day(), test/demo/cockpit_html.sql)"
    dpsql -d "$DEMO_DB" -At -v tenant="$TENANT" <test/demo/cockpit_html.sql \
        | pg sh -c 'cat > "$1"' sh "$HTML" || die "writing $HTML failed"
    echo "   $HTML ($(wc -c <"$HTML") bytes, $(grep -o '<svg ' "$HTML" | wc -l) charts): open it in a browser."
    echo "   Visits vs verified visits per week, cost per verified visit by region, coverage by team, and the"
    echo "   map of a rep's day (cleaned track, visits green when verified, check-ins by spoof band, customers)."

    say "the demo is up ($((SECONDS - STARTED)) s)"
    echo "  data directory  $DATA"
    echo "  server log      $LOG"
    echo "  customers map   $GEOJSON"
    echo "  cockpit         $HTML"
    connect_help
}

stop() {
    set_paths
    if [ ! -f "$DATA/PG_VERSION" ]; then
        say "no demo data directory at $DATA: nothing to stop"
        return 0
    fi
    if running; then
        say "stopping the demo server"
        pg pg_ctl -D "$DATA" -m fast -w stop >/dev/null || die "pg_ctl stop failed (log: $LOG)"
    else
        say "the demo server is not running"
    fi
    echo "  the data directory stays in $DATA"
    echo "  make demo starts it again; rm -rf $DEMO_DIR resets the demo"
}

status() {
    set_paths
    if running; then
        PORT=$(server_port)
        say "the demo server is running (port $PORT, data $DATA)"
        connect_help
    else
        say "the demo server is not running (data directory: $DATA)"
        return 3
    fi
}

case "${1:-start}" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    *) die "usage: $0 start|stop|status" ;;
esac
