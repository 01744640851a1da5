#!/usr/bin/env bash
# test/generators/es256_vectors.sh — ES256 test vectors from the openssl command line
#
#   test/generators/es256_vectors.sh [--seed N] [OUTPUT]
#
# Writes OUTPUT (default test/fixtures/es256_vectors.txt), which
# test/unit/sig_test.c reads.  The vectors come from the openssl command-line
# tool, not from the code under test, so the unit test checks src/sig_core.c
# against an independent signer:
#
#   - two P-256 keys (a, b) made by `openssl genpkey`, each written as a DER
#     SubjectPublicKeyInfo, as the uncompressed point printed by
#     `openssl pkey -text_pub` (SEC1), and in the forms the core must refuse:
#     compressed point (SEC1 and SubjectPublicKeyInfo) and explicit curve
#     parameters;
#   - keys that are not P-256: secp384r1, secp256k1 (also its bare SEC1
#     point, which is not on P-256), Ed25519 and RSA, as SubjectPublicKeyInfo;
#   - DER signatures by `openssl dgst -sha256 -sign` of seeded messages of
#     0 to 1000 bytes (message i is the first bytes of
#     SHA-512("fieldops-es256/<seed>/<i>/0") || SHA-512(".../1") || ...), each
#     checked with `openssl dgst -verify` before it is written;
#   - for each key one signature whose r or s is shorter than 32 bytes
#     (signing again until one is, about one try in 128), so the DER and
#     r||s conversions meet a leading zero.
#
# The messages depend on the seed only; keys and signatures are random
# (ECDSA signing is), so every run writes new vectors, all equally valid.
# The committed file is one such run: regenerate it only when the format
# changes.  The unit test derives the r||s and high-S forms itself.
#
# Format, one item a line, lowercase hex, "-" for an empty message:
#   key <name> <form> <hex>        form: spki sec1 sec1_compressed
#                                        spki_compressed spki_explicit
#   other <name> <form> <hex>      not a P-256 key (form spki or sec1)
#   sig <key> <message hex> <DER signature hex>
set -euo pipefail
cd "$(dirname "$0")/../.."

SEED=2026
OUT=test/fixtures/es256_vectors.txt
while [ $# -gt 0 ]; do
    case "$1" in
        --seed) SEED=$2; shift 2 ;;
        -h|--help) sed -n '2,40p' "$0"; exit 0 ;;
        *) OUT=$1; shift ;;
    esac
done

command -v openssl >/dev/null || { echo "es256_vectors.sh: openssl not found" >&2; exit 1; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

hex() { od -An -v -tx1 | tr -d ' \n'; }

# the point printed after "pub:" by openssl's text output, as bare hex
text_point() { sed -n '/^pub:/,/^[A-Z]/p' | sed '1d;$d' | tr -d ' :\n'; }

# message <i> <length>: the seeded message, in $TMP/msg
message() {
    local i=$1 len=$2 b=0
    : > "$TMP/msg"
    while [ "$(stat -c %s "$TMP/msg")" -lt "$len" ]; do
        printf 'fieldops-es256/%s/%d/%d' "$SEED" "$i" "$b" | openssl dgst -sha512 -binary >> "$TMP/msg"
        b=$((b + 1))
    done
    truncate -s "$len" "$TMP/msg"
}

# sign <key>: a DER signature of $TMP/msg in $TMP/sig, verified by openssl
sign() {
    openssl dgst -sha256 -sign "$TMP/$1.pem" -out "$TMP/sig" "$TMP/msg"
    openssl dgst -sha256 -verify "$TMP/$1.pub.pem" -signature "$TMP/sig" "$TMP/msg" >/dev/null
}

# short_scalar <DER hex>: true when r or s has fewer than 32 significant bytes
short_scalar() {
    local h=$1 pos=4 k len first
    for k in r s; do
        len=$((16#${h:pos+2:2}))
        first=${h:pos+4:2}
        [ "$first" = 00 ] && len=$((len - 1))
        [ "$len" -lt 32 ] && return 0
        pos=$((pos + 4 + 2 * 16#${h:pos+2:2}))
    done
    return 1
}

{
    echo "# ES256 (ECDSA P-256, SHA-256) test vectors, written by test/generators/es256_vectors.sh"
    echo "# (seed $SEED) with $(openssl version | cut -d' ' -f1-2).  Do not edit; see the script for the format."
} > "$TMP/out"

for k in a b; do
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
        -pkeyopt ec_param_enc:named_curve -out "$TMP/$k.pem" 2>/dev/null
    openssl pkey -in "$TMP/$k.pem" -pubout -out "$TMP/$k.pub.pem"
    {
        echo "key $k spki $(openssl pkey -in "$TMP/$k.pem" -pubout -outform DER | hex)"
        echo "key $k sec1 $(openssl pkey -in "$TMP/$k.pub.pem" -pubin -text_pub -noout | text_point)"
        echo "key $k sec1_compressed $(openssl ec -in "$TMP/$k.pem" -conv_form compressed -text -noout 2>/dev/null | text_point)"
        echo "key $k spki_compressed $(openssl ec -in "$TMP/$k.pem" -pubout -conv_form compressed -outform DER 2>/dev/null | hex)"
        echo "key $k spki_explicit $(openssl ec -in "$TMP/$k.pem" -pubout -param_enc explicit -outform DER 2>/dev/null | hex)"
    } >> "$TMP/out"
done

openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:secp384r1 -out "$TMP/p384.pem" 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:secp256k1 -out "$TMP/k256.pem" 2>/dev/null
openssl genpkey -algorithm ED25519 -out "$TMP/ed25519.pem" 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$TMP/rsa.pem" 2>/dev/null
{
    for k in p384 k256 ed25519 rsa; do
        echo "other $k spki $(openssl pkey -in "$TMP/$k.pem" -pubout -outform DER | hex)"
    done
    echo "other k256 sec1 $(openssl pkey -in "$TMP/k256.pem" -text_pub -noout | text_point)"
} >> "$TMP/out"

# seeded messages: empty, short, around one SHA-256 block (55/56/64/65), long
i=0
for k in a b; do
    for len in 0 1 3 32 55 56 64 65 200 1000; do
        i=$((i + 1))
        message "$i" "$len"
        sign "$k"
        m=$(hex < "$TMP/msg"); [ -n "$m" ] || m=-
        echo "sig $k $m $(hex < "$TMP/sig")" >> "$TMP/out"
    done
done

# one signature per key with a short r or s
for k in a b; do
    i=$((i + 1))
    message "$i" 20
    m=$(hex < "$TMP/msg")
    for try in $(seq 1 4000); do
        sign "$k"
        s=$(hex < "$TMP/sig")
        if short_scalar "$s"; then
            echo "sig $k $m $s" >> "$TMP/out"
            break
        fi
        [ "$try" -lt 4000 ] || { echo "es256_vectors.sh: no short scalar in 4000 signatures" >&2; exit 1; }
    done
done

# every line must have its hex
if grep -Eq '^(key|other) [^ ]+ [^ ]+ *$' "$TMP/out"; then
    echo "es256_vectors.sh: openssl printed no key bytes:" >&2
    grep -E '^(key|other) [^ ]+ [^ ]+ *$' "$TMP/out" >&2
    exit 1
fi
mkdir -p "$(dirname "$OUT")"
mv "$TMP/out" "$OUT"
echo "es256_vectors.sh: wrote $(grep -c '^sig ' "$OUT") signatures to $OUT" >&2
