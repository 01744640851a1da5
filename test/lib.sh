# test/lib.sh — shared set-up for `make test`, `make demo`, `make valgrind`
# and `make bench`: Debian packages, build and install, and the unprivileged
# user that runs PostgreSQL (the server refuses to run as root).
#
# Source it from bash with the repository root as the current directory.

FIELDOPS_ROOT=$(pwd)
PG_MAJOR=15
# (FIELDOPS_PG_BINDIR: another installation, e.g. a relocated copy of this
# one, so a long calibration run keeps its build while another is installed)
PG_BINDIR=${FIELDOPS_PG_BINDIR:-/usr/lib/postgresql/$PG_MAJOR/bin}
PG_CONFIG=$PG_BINDIR/pg_config
export PG_CONFIG

# Debian packages every suite needs.  Build tools are listed too, so a
# minimal image works.
FIELDOPS_PACKAGES="postgresql-$PG_MAJOR postgresql-server-dev-$PG_MAJOR postgresql-$PG_MAJOR-postgis-3
libsodium-dev libssl-dev libproj-dev pkg-config libipc-run-perl make gcc libc6-dev perl"

say() { printf '\n== %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Install whatever is missing (as root), or tell a non-root user what to install.
ensure_packages() {
    local missing=() p
    for p in $FIELDOPS_PACKAGES $*; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        die "missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})"
    fi
    say "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # (the packaged cluster that postgresql-15 may create on port 5432 is
    # never used: every suite and the demo start private servers)
    apt-get update -qq || die "apt-get update failed"
    apt-get install -y -qq --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
        "${missing[@]}" >/dev/null || die "apt-get install failed"
}

# Debian packages only some tests need; those tests skip, saying why, when
# the package is missing: chromium renders the SVG charts
# (test/t/080_svg_render.pl).
FIELDOPS_TAP_PACKAGES="chromium"

# Install them when we are root and apt works; otherwise say so and go on
# (unlike ensure_packages, a failure here stops nothing).
ensure_optional_packages() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        say "not installed: ${missing[*]} (the tests that need them skip; as root: apt-get install ${missing[*]})"
        return 0
    fi
    say "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends \
               -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
               "${missing[@]}" >/dev/null; }; then
        say "could not install ${missing[*]}: the tests that need them skip"
    fi
    return 0
}

# The user that runs servers and suites: postgres when we are root, else us.
test_user() {
    if [ "$(id -u)" -eq 0 ]; then
        getent passwd postgres >/dev/null || die "no user 'postgres' (the postgresql-common package creates it)"
        echo postgres
    else
        id -un
    fi
}

# Run a command as the test user, with the server binaries first on PATH.
as_test_user() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- env PATH="$PG_BINDIR:$PATH" LANG=C.UTF-8 "$@"
    else
        env PATH="$PG_BINDIR:$PATH" LANG=C.UTF-8 "$@"
    fi
}

# Build with warnings as errors and install into the packaged server.
build_and_install() {
    say "building fieldops"
    make -s PG_CONFIG="$PG_CONFIG" ${FIELDOPS_ASSERT:+FIELDOPS_ASSERT=1} all || die "build failed"
    if [ -w "$($PG_CONFIG --pkglibdir)" ] && [ -w "$($PG_CONFIG --sharedir)/extension" ]; then
        make -s PG_CONFIG="$PG_CONFIG" install >/dev/null || die "make install failed"
    else
        die "cannot write to $($PG_CONFIG --pkglibdir); run as root (or sudo make install first)"
    fi
}

# A directory the test user owns.
make_work_dir() {
    local d
    d=$(mktemp -d "${TMPDIR:-/tmp}/fieldops-$1.XXXXXX")
    chmod 755 "$d"
    [ "$(id -u)" -eq 0 ] && chown "$(test_user)" "$d"
    echo "$d"
}

# Give the servers started from $1/test/fieldops.conf a receipt key: the
# test-only seed in test/fixtures (private to the test user, as the server
# requires), so expected outputs can show its public key.
add_receipt_key() {
    local key=$1/test/receipt.key
    cp test/fixtures/receipt_test.key "$key"
    chmod 600 "$key"
    [ "$(id -u)" -eq 0 ] && chown "$(test_user)" "$key"
    printf "fieldops.receipt_key_file = '%s'\n" "$key" >> "$1/test/fieldops.conf"
}

# A TCP port nobody listens on (the servers use Unix sockets, but the port
# also names the socket file and must not collide with another server).
free_port() {
    local p
    for p in $(seq "${1:-55432}" 65000); do
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && [ ! -e "/tmp/.s.PGSQL.$p" ]; then
            echo "$p"; return 0
        fi
    done
    die "no free port"
}

# The data directory of such a server, not started (for callers that start
# it their own way, e.g. under libfaketime): same arguments.
private_server_init() {
    local data=$1 port=$2 sock=$3 extra=${4:-}
    as_test_user initdb -D "$data" -A trust --no-sync >/dev/null || die "initdb failed ($data)"
    cat >> "$data/postgresql.conf" <<CONF
port = $port
listen_addresses = ''
unix_socket_directories = '$sock'
shared_preload_libraries = 'fieldops'
fieldops.scheduler = external
fsync = off
synchronous_commit = off
$extra
CONF
}

# A private server for benchmarks: initdb in $1 (owned by the test user),
# port $2, Unix socket in $3, fieldops preloaded with the scheduler
# external, plus any postgresql.conf lines in $4.  Started; call
# private_server_stop "$1" when done.  PSQL runs psql against it.
private_server_start() {
    local data=$1 port=$2 sock=$3 extra=${4:-}
    private_server_init "$data" "$port" "$sock" "$extra"
    as_test_user pg_ctl -D "$data" -l "$data/../server.log" -w start >/dev/null || die "server did not start"
    PSQL_SOCK=$sock
    PSQL_PORT=$port
}

private_server_stop() {
    as_test_user pg_ctl -D "$1" -m fast -w stop >/dev/null 2>&1 || true
}

PSQL() { as_test_user psql -X -q -v ON_ERROR_STOP=1 -h "$PSQL_SOCK" -p "$PSQL_PORT" "$@"; }

# The median of the whitespace-separated numbers on standard input (the
# benchmarks report the median of their rounds).
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
