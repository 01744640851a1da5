#!/usr/bin/env bash
# make bench-photo: signature verification through SQL against a plain C
# loop over the same signed messages, same run, same machine; then
# submit_photo() end to end with 8 concurrent clients (pgbench).
#
# 1. Verification.  Input: test/bench/bin/sig_bench gen writes 100,000
#    ES256 and 100,000 Ed25519 signatures over 196-byte messages (seeded;
#    64 keys per algorithm; see sig_bench.c).  For each algorithm, in
#    alternating rounds (BENCH_ROUNDS, default 3, after a warm-up):
#      baseline  sig_bench loop: the library calls in a C loop, keys
#                parsed once (OpenSSL EVP_PKEY_verify on a prepared context
#                after SHA-256; libsodium crypto_sign_verify_detached)
#      case      SELECT count(*) FILTER (WHERE fieldops.<alg>_verify(msg, sig, pub))
#                FROM sigs WHERE alg = '<alg>'   (no parallel workers)
#    and the ratio of throughputs, case / baseline (goal: >= 0.8).
#
# 2. submit_photo().  BENCH_UPLOADS (default 4000) uploads are prepared
#    first: for each, a nonce is issued to one of 8 phones (ES256 keys, 8
#    workers on visits at one customer) and the manifest is signed as the
#    phone would.  pgbench -c 8 -j 2 then submits each exactly once, client
#    c uploading phone c's photos in counter order (BENCH_UPLOADS / 8
#    transactions per client), twice: all phones in one
#    tenant (submissions of one tenant are chained, so they serialise on
#    the tenant's chain head), and the phones spread over 8 tenants.
#    Receipts are signed (the server has a random receipt key).  Reported:
#    transactions per second.  Checked afterwards: every upload recorded
#    once and accepted with a receipt that verifies, every nonce used once,
#    every chain intact.
set -uo pipefail
cd "$(dirname "$0")/../.."
. test/lib.sh

ROUNDS=${BENCH_ROUNDS:-3}
N=${BENCH_SIGS:-100000}
UPLOADS=${BENCH_UPLOADS:-4000}

ensure_packages
[ -n "${FIELDOPS_SKIP_BUILD:-}" ] || build_and_install
make -s PG_CONFIG="$PG_CONFIG" test/bench/bin/sig_bench || die "sig_bench build failed"

WORK=$(make_work_dir photo)
PORT=$(free_port 58532)
# receipts are signed, as in production (a random key for this run)
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$WORK/receipt.key"
chmod 600 "$WORK/receipt.key"
[ "$(id -u)" -eq 0 ] && chown "$(test_user)" "$WORK/receipt.key"
private_server_start "$WORK/data" "$PORT" "$WORK" "shared_buffers = 256MB
max_connections = 40
fieldops.receipt_key_file = '$WORK/receipt.key'"
trap 'private_server_stop "$WORK/data"' EXIT

say "generating $N signed messages per algorithm"
test/bench/bin/sig_bench gen "$N" 20261127 "$WORK/sigs.tsv" || die "sig_bench gen failed"
[ "$(id -u)" -eq 0 ] && chown "$(test_user)" "$WORK/sigs.tsv"

PSQL -d postgres -c "CREATE DATABASE photo" || die "createdb failed"
PSQL -d photo -c "CREATE EXTENSION fieldops CASCADE" 2>/dev/null || die "CREATE EXTENSION failed"
PSQL -d photo <<SQL || die "loading failed"
CREATE TABLE sigs (alg text, msg bytea, sig bytea, pub bytea);
\copy sigs FROM '$WORK/sigs.tsv'
VACUUM ANALYZE sigs;
SQL


sql_ms() {  # alg: one timed run of the case query (after the session's warm-up)
    { echo "SET max_parallel_workers_per_gather = 0;"
      echo "SELECT count(*) FILTER (WHERE fieldops.$1_verify(msg, sig, pub)) FROM sigs WHERE alg = '$1';"
      echo "\\timing on"
      echo "SELECT count(*) FILTER (WHERE fieldops.$1_verify(msg, sig, pub)) FROM sigs WHERE alg = '$1';"
    } | PSQL -d photo -At | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p'
}

say "1. verification: $N messages per algorithm, median of $ROUNDS alternating rounds"
printf '%-9s %14s %14s %12s %12s %8s\n' algorithm "C loop ms" "SQL ms" "C verif/s" "SQL verif/s" "SQL/C"
for alg in es256 ed25519; do
    test/bench/bin/sig_bench loop "$WORK/sigs.tsv" "$alg" >/dev/null   # warm-up
    cs=""; ss=""
    for r in $(seq 1 "$ROUNDS"); do
        out=$(test/bench/bin/sig_bench loop "$WORK/sigs.tsv" "$alg")
        [ "$(echo "$out" | awk '{print $2}')" = "$N" ] || die "the C loop did not verify all $N $alg signatures: $out"
        cs="$cs $(echo "$out" | awk '{print $1}')"
        ss="$ss $(sql_ms "$alg")"
    done
    valid=$(PSQL -d photo -At -c "SELECT count(*) FILTER (WHERE fieldops.${alg}_verify(msg, sig, pub)) FROM sigs WHERE alg = '$alg'")
    [ "$valid" = "$N" ] || die "SQL verified $valid of $N $alg signatures"
    mc=$(echo "$cs" | median); ms=$(echo "$ss" | median)
    awk -v a="$alg" -v c="$mc" -v s="$ms" -v n="$N" \
        'BEGIN { printf "%-9s %14.1f %14.1f %12.0f %12.0f %8.2f\n", a, c, s, n / c * 1000, n / s * 1000, c / s }'
done

say "2. submit_photo(): preparing $UPLOADS uploads"
PSQL -d photo <<'SQL' || die "preparing uploads failed"
CREATE SCHEMA bench;
CREATE FUNCTION bench.public_key(text, bytea) RETURNS bytea AS 'fieldops', 'fieldops_dev_public_key' LANGUAGE C STRICT;
CREATE FUNCTION bench.sign(text, bytea, bytea) RETURNS bytea AS 'fieldops', 'fieldops_dev_sign' LANGUAGE C STRICT;
CREATE TABLE bench.phone (tenants int, phone int, tenant_id bigint, worker_id bigint, device_id bigint, visit_id bigint,
                          key_id bytea, seed bytea);
CREATE TABLE bench.upload (tenants int, phone int, n int, tenant_id bigint, manifest bytea, signature bytea,
                           PRIMARY KEY (tenants, phone, n));
CREATE TABLE bench.cursor (phone int PRIMARY KEY, n int);
-- 8 phones: in one tenant (tenants = 1) or one in each of 8 tenants (tenants = 8)
DO $$
DECLARE
    t bigint;
    w bigint;
    d bigint;
    c bigint;
    v bigint;
    s bytea;
BEGIN
    FOR cfg IN 1..2 LOOP
        FOR i IN 1..8 LOOP
            IF cfg = 2 OR i = 1 THEN
                t := fieldops.create_tenant(format('bench %s/%s', cfg, i), 'Asia/Shanghai');
                PERFORM fieldops.set_tenant(t, false);
                c := fieldops.upsert_customer(t, 'SHOP', 'Shop', ST_SetSRID(ST_MakePoint(121.4737, 31.2304), 4326));
            END IF;
            w := fieldops.upsert_worker(t, 'W' || i, 'Worker ' || i);
            SELECT device_id INTO d FROM fieldops.register_device(t, format('phone-%s-%s', cfg, i), w, 'android');
            INSERT INTO fieldops.visit (tenant_id, worker_id, customer_id, checkin_at)
            VALUES (t, w, c, now() - interval '1 min') RETURNING visit_id INTO v;
            s := sha256(convert_to(format('bench phone %s %s', cfg, i), 'UTF8'));
            INSERT INTO bench.phone VALUES (CASE cfg WHEN 1 THEN 1 ELSE 8 END, i, t, w, d, v,
                fieldops.register_device_key(t, d, 'es256', bench.public_key('es256', s)), s);
        END LOOP;
    END LOOP;
END $$;
SQL
PSQL -d photo <<'SQL' || die "preparing uploads failed"
-- an upload: a nonce issued to the next phone, the manifest signed as the phone would
CREATE FUNCTION bench.prepare(p_tenants int, p_uploads int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    p bench.phone;
    n bytea;
    m bytea;
BEGIN
    FOR k IN 1..p_uploads LOOP
        SELECT * INTO p FROM bench.phone WHERE tenants = p_tenants AND phone = 1 + k % 8;
        PERFORM fieldops.set_tenant(p.tenant_id, true);
        n := fieldops.issue_photo_nonce(p.tenant_id, p.device_id, p.visit_id);
        m := fieldops.photo_manifest('es256', p.key_id, p.tenant_id, p.worker_id, p.device_id, p.visit_id, clock_timestamp(),
                                     31.2304, 121.4737, 6, k, sha256(convert_to(format('photo %s %s', p_tenants, k), 'UTF8')),
                                     NULL, n);
        INSERT INTO bench.upload (tenants, phone, n, tenant_id, manifest, signature)
        VALUES (p_tenants, p.phone, (k - 1) / 8 + 1, p.tenant_id, m, bench.sign('es256', p.seed, m));
    END LOOP;
END $$;
SQL
for tenants in 1 8; do
    PSQL -d photo -c "SELECT bench.prepare($tenants, $UPLOADS)" >/dev/null || die "preparing uploads failed"
done
PSQL -d photo <<'SQL' || die "preparing uploads failed"
-- client c plays phone c + 1 and uploads its photos in counter order, as a
-- phone's upload queue does (a key's counter must only go up, so a phone
-- that uploaded in parallel would see its late lower counters refused)
CREATE FUNCTION bench.submit(p_tenants int, p_client int) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    u bench.upload;
    v text;
BEGIN
    UPDATE bench.cursor SET n = n + 1 WHERE phone = p_client + 1;
    SELECT b.* INTO u FROM bench.upload b JOIN bench.cursor c ON c.phone = b.phone AND c.n = b.n
     WHERE b.tenants = p_tenants AND b.phone = p_client + 1;
    PERFORM fieldops.set_tenant(u.tenant_id, true);
    SELECT verdict INTO v FROM fieldops.submit_photo(u.tenant_id, u.manifest, u.signature);
    RETURN v;
END $$;
VACUUM ANALYZE;
SQL

printf '%-34s %10s %10s\n' configuration transactions tps
for tenants in 1 8; do
    PSQL -d photo -c "DELETE FROM bench.cursor; INSERT INTO bench.cursor SELECT g, 0 FROM generate_series(1, 8) g" >/dev/null
    echo "SELECT bench.submit($tenants, :client_id);" > "$WORK/submit.sql"
    [ "$(id -u)" -eq 0 ] && chown "$(test_user)" "$WORK/submit.sql"
    out=$(as_test_user pgbench -n -h "$WORK" -p "$PORT" -c 8 -j 2 -t $((UPLOADS / 8)) -f "$WORK/submit.sql" photo 2>&1) \
        || die "pgbench failed: $out"
    tps=$(echo "$out" | sed -n 's/^tps = \([0-9.]*\) .*/\1/p')
    done_tx=$(echo "$out" | sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p')
    printf '%-34s %10s %10.0f\n' "8 clients, 8 phones in $tenants tenant(s)" "$done_tx" "$tps"
    bad=$(PSQL -d photo -At -v tenants="$tenants" <<'SQL'
SELECT concat_ws('; ',
    CASE WHEN (SELECT count(*) FROM fieldops.photo p JOIN bench.upload u ON u.tenant_id = p.tenant_id AND u.manifest = p.manifest
                WHERE u.tenants = :tenants) <> (SELECT count(*) FROM bench.upload WHERE tenants = :tenants)
         THEN 'not every upload was recorded exactly once' END,
    CASE WHEN EXISTS (SELECT 1 FROM fieldops.photo p JOIN bench.phone b ON b.tenant_id = p.tenant_id
                       WHERE b.tenants = :tenants AND p.verdict <> 'accepted')
         THEN 'uploads not accepted, by first reason: ' ||
              (SELECT string_agg(format('%s x %s', r, n), ', ') FROM (
                  SELECT p.reasons -> 0 ->> 'code' AS r, count(*) AS n FROM fieldops.photo p
                    JOIN (SELECT DISTINCT tenant_id FROM bench.phone WHERE tenants = :tenants) b ON b.tenant_id = p.tenant_id
                   WHERE p.verdict <> 'accepted' GROUP BY 1) x) END,
    CASE WHEN EXISTS (SELECT 1 FROM fieldops.photo p JOIN (SELECT DISTINCT tenant_id FROM bench.phone WHERE tenants = :tenants) b
                        ON b.tenant_id = p.tenant_id
                       WHERE p.receipt IS NULL OR NOT (fieldops.verify_receipt(p.receipt)).valid)
         THEN 'a photo has no valid receipt' END,
    CASE WHEN EXISTS (SELECT 1 FROM fieldops.photo_nonce n JOIN bench.phone b ON b.tenant_id = n.tenant_id
                       WHERE b.tenants = :tenants AND n.used_at IS NULL)
         THEN 'a nonce was not used' END,
    CASE WHEN EXISTS (SELECT 1 FROM (SELECT DISTINCT tenant_id FROM bench.phone WHERE tenants = :tenants) t,
                                    LATERAL (SELECT fieldops.set_tenant(t.tenant_id, true)) s,
                                    LATERAL fieldops.verify_photo_chain(t.tenant_id) c WHERE NOT c.ok)
         THEN 'a photo chain is broken' END)
SQL
)
    [ -z "$bad" ] || die "invariant violated ($tenants tenants): $bad"
done
say "invariants hold: every upload recorded once and accepted with a valid receipt, every nonce used once, every chain intact"
echo "(work directory $WORK)"
