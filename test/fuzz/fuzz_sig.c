/*-------------------------------------------------------------------------
 *
 * fuzz_sig.c
 *		libFuzzer harness of the signature core (src/sig_core.c): untrusted
 *		keys, signatures and messages for ES256 and Ed25519, with OpenSSL
 *		itself as the oracle for every ES256 answer.
 *
 * Input layout (short inputs are padded with nothing: fields just end):
 *
 *	 byte 0		mode: bit 0 algorithm (0 ES256, 1 Ed25519); bits 1-2 key
 *				source (0 the key field as it is, 1 a built-in valid key as
 *				SEC1 point / raw bytes, 2 the built-in key as a
 *				SubjectPublicKeyInfo, 3 the key field behind the P-256
 *				SubjectPublicKeyInfo prefix, so that fuzzed points reach the
 *				DER decoder in canonical shape); bit 3 empty the key cache
 *				first; bit 4 hand the signature over as a 64-byte r||s built
 *				from the signature field; bit 5 hand it over as DER built by
 *				the harness from the (r, s) of the signature field (decoded as
 *				DER if it is, else read as r||s) in the shape of byte 3
 *	 byte 1		length of the key field
 *	 byte 2		length of the signature field
 *	 byte 3		shape of the harness's DER: bits 0/1 an extra leading 0x00 in
 *				r/s, bits 2/3 no sign pad in r/s (a negative INTEGER when the
 *				high bit is set), bit 4 long-form INTEGER lengths, bit 5
 *				long-form SEQUENCE length, bit 6 a trailing 0x00, bit 7 s
 *				before r; 0 is the canonical encoding, so mutating this byte
 *				of a valid seed makes every malformed spelling of a valid
 *				signature
 *	 then		the key field, the signature field, and the message (the
 *				rest)
 *
 * The harness aborts (a finding) when the core crashes, leaks or reads out
 * of bounds (ASan, LSan, UBSan), and when:
 *	 - a status is neither SIG_OK nor SIG_BAD_KEY, or the three entry points
 *	   (verify, canonical key, key id) disagree about a key;
 *	 - a message is not terminated, quotes bytes (a run of 8 hex digits), or
 *	   a refused key comes without one;
 *	 - OpenSSL's error queue is not empty after a call;
 *	 - a key id is not SHA-256 (libsodium) of the canonical bytes, or the
 *	   canonical bytes are not a fixed point (canonical of canonical, and of
 *	   its SubjectPublicKeyInfo, is itself);
 *	 - an ES256 key is accepted or refused unlike OpenSSL would: decoded
 *	   whole by d2i_PUBKEY (a SEC1 point inside the canonical prefix), an
 *	   EC key on the named curve prime256v1 with an uncompressed point,
 *	   re-encoded by i2d_PUBKEY to the same bytes;
 *	 - an ES256 answer differs from OpenSSL's own: the key rebuilt from the
 *	   canonical point with d2i_PUBKEY, the signature checked with
 *	   EVP_DigestVerify as DER (which OpenSSL decodes strictly) and, for 64
 *	   bytes, as r||s put into an ECDSA_SIG.
 *
 * Copyright (c) 2026, fieldops developers
 *
 * IDENTIFICATION
 *		test/fuzz/fuzz_sig.c
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "sig_core.h"

int			LLVMFuzzerInitialize(int *argc, char ***argv);
int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond, what) \
	do { if (!(cond)) { fprintf(stderr, "fuzz_sig: %s\n", (what)); abort(); } } while (0)

/* the P-256 SubjectPublicKeyInfo prefix before the 65-byte point */
static const uint8_t spki_prefix[26] = {
	0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02,
	0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03,
	0x42, 0x00
};

/* key a of test/fixtures/es256_vectors.txt (any valid point would do) */
static const char p256_point_hex[] =
"045b73bb6b7c38ace6821a07e0ff14d264f5df4359f28286a9e825e6a3015a04d4"
"05fbf14d3d3588defb87ae24f11007be337b4f25529d27a9d454374e0de032d9";

/* RFC 8032 section 7.1, TEST 1 */
static const char ed25519_hex[] =
"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

static uint8_t p256_sec1[65];
static uint8_t p256_spki[91];
static uint8_t ed25519_pub[32];

/* Decode the built-in keys once */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	size_t		n;

	(void) argc;
	(void) argv;
	CHECK(sodium_init() >= 0, "sodium_init");
	CHECK(sodium_hex2bin(p256_sec1, sizeof(p256_sec1), p256_point_hex, strlen(p256_point_hex),
						 NULL, &n, NULL) == 0 && n == 65, "built-in P-256 key");
	CHECK(sodium_hex2bin(ed25519_pub, sizeof(ed25519_pub), ed25519_hex, strlen(ed25519_hex),
						 NULL, &n, NULL) == 0 && n == 32, "built-in Ed25519 key");
	memcpy(p256_spki, spki_prefix, 26);
	memcpy(p256_spki + 26, p256_sec1, 65);
	return 0;
}

/* a message must be terminated, short, and quote no bytes */
static void
check_message(const char *buf, size_t size)
{
	size_t		len = strnlen(buf, size);
	int			run = 0;
	size_t		i;

	CHECK(len < size, "message not terminated");
	for (i = 0; i < len; i++)
	{
		run = isxdigit((unsigned char) buf[i]) ? run + 1 : 0;
		CHECK(run < 8, "message quotes bytes");
	}
}

static void
check_queue(void)
{
	CHECK(ERR_peek_error() == 0, "OpenSSL error queue not empty");
}

/*
 * OpenSSL's verdict on an ES256 key: a DER SubjectPublicKeyInfo must be
 * decoded whole, be an EC key on the named curve prime256v1 with an
 * uncompressed point and re-encode to the same bytes; a SEC1 point must
 * decode inside the canonical prefix.
 */
static bool
openssl_accepts_key(const uint8_t *key, size_t len)
{
	uint8_t		spki[91];
	const unsigned char *p;
	EVP_PKEY   *pkey;
	unsigned char *der = NULL;
	char		name[64];
	bool		ok = false;

	if (len == 65 && key[0] == 0x04)
	{
		memcpy(spki, spki_prefix, 26);
		memcpy(spki + 26, key, 65);
		key = spki;
		len = sizeof(spki);
	}
	else if (len == 0 || key[0] != 0x30)
		return false;
	p = key;
	pkey = d2i_PUBKEY(NULL, &p, (long) len);
	if (pkey != NULL && p == key + len && EVP_PKEY_is_a(pkey, "EC") &&
		EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof(name), NULL) == 1 &&
		strcmp(name, "prime256v1") == 0 &&
		EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_EC_ENCODING, name, sizeof(name), NULL) == 1 &&
		strcmp(name, OSSL_PKEY_EC_ENCODING_GROUP) == 0 &&
		EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, name, sizeof(name), NULL) == 1 &&
		strcmp(name, OSSL_PKEY_EC_POINT_CONVERSION_FORMAT_UNCOMPRESSED) == 0)
	{
		int			n = i2d_PUBKEY(pkey, &der);

		ok = n >= 0 && (size_t) n == len && memcmp(der, key, len) == 0;
	}
	OPENSSL_free(der);
	EVP_PKEY_free(pkey);
	ERR_clear_error();
	return ok;
}

/* OpenSSL's verdict on a DER signature, with a key it decodes itself */
static bool
openssl_verify_der(EVP_PKEY *pkey, const uint8_t *msg, size_t msg_len,
				   const uint8_t *der, size_t der_len)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int			rc = 0;

	CHECK(md != NULL, "EVP_MD_CTX_new");
	if (EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pkey) == 1)
		rc = EVP_DigestVerify(md, der, der_len, msg, msg_len);
	EVP_MD_CTX_free(md);
	ERR_clear_error();
	return rc == 1;
}

/* OpenSSL's verdict on 64 bytes read as r||s */
static bool
openssl_verify_raw(EVP_PKEY *pkey, const uint8_t *msg, size_t msg_len, const uint8_t *raw)
{
	ECDSA_SIG  *sig = ECDSA_SIG_new();
	BIGNUM	   *r = BN_bin2bn(raw, 32, NULL);
	BIGNUM	   *s = BN_bin2bn(raw + 32, 32, NULL);
	unsigned char *der = NULL;
	int			len;
	bool		ok = false;

	CHECK(sig != NULL && r != NULL && s != NULL && ECDSA_SIG_set0(sig, r, s) == 1, "ECDSA_SIG");
	len = i2d_ECDSA_SIG(sig, &der);
	if (len > 0)
		ok = openssl_verify_der(pkey, msg, msg_len, der, (size_t) len);
	OPENSSL_free(der);
	ECDSA_SIG_free(sig);
	ERR_clear_error();
	return ok;
}

/* one INTEGER of shaped_der() */
static size_t
shaped_integer(const uint8_t v[32], bool extra_zero, bool no_pad, bool long_form, uint8_t *out)
{
	size_t		skip = 0;
	size_t		n,
				len,
				o = 0;
	bool		pad;

	while (skip < 31 && v[skip] == 0)
		skip++;
	n = 32 - skip;
	pad = (v[skip] & 0x80) != 0 && !no_pad;
	len = n + (pad ? 1 : 0) + (extra_zero ? 1 : 0);
	out[o++] = 0x02;
	if (long_form)
		out[o++] = 0x81;
	out[o++] = (uint8_t) len;
	if (extra_zero)
		out[o++] = 0x00;
	if (pad)
		out[o++] = 0x00;
	memcpy(out + o, v + skip, n);
	return o + n;
}

/*
 * DER of the (r, s) in sig, in the given shape (see the file header); out
 * must hold 2 * 38 + 4 bytes.
 */
static size_t
shaped_der(const uint8_t *sig, size_t sig_len, uint8_t shape, uint8_t *out)
{
	uint8_t		rs[64];
	uint8_t		body[80];
	const unsigned char *p = sig;
	ECDSA_SIG  *es = d2i_ECDSA_SIG(NULL, &p, (long) sig_len);
	const BIGNUM *r,
			   *s;
	size_t		n = 0,
				o = 0;
	int			first = (shape & 0x80) ? 1 : 0;
	int			i;

	memset(rs, 0, sizeof(rs));
	if (es != NULL)
	{
		ECDSA_SIG_get0(es, &r, &s);
		if (BN_bn2binpad(r, rs, 32) != 32 || BN_bn2binpad(s, rs + 32, 32) != 32)
			memset(rs, 0, sizeof(rs));
		ECDSA_SIG_free(es);
	}
	else
		memcpy(rs, sig, sig_len < 64 ? sig_len : 64);
	ERR_clear_error();
	for (i = 0; i < 2; i++)
	{
		int			which = i ^ first;	/* 0 r, 1 s */

		n += shaped_integer(rs + 32 * which, (shape >> which) & 1, (shape >> (2 + which)) & 1,
							(shape & 0x10) != 0, body + n);
	}
	out[o++] = 0x30;
	if (shape & 0x20)
		out[o++] = 0x81;
	out[o++] = (uint8_t) n;
	memcpy(out + o, body, n);
	o += n;
	if (shape & 0x40)
		out[o++] = 0x00;
	return o;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t		mode;
	size_t		key_len,
				sig_len;
	const uint8_t *key_field,
			   *sig,
			   *msg;
	size_t		msg_len;
	uint8_t		keybuf[26 + 255];
	const uint8_t *key;
	uint8_t		raw[64];
	uint8_t		shaped[2 * 38 + 4];
	uint8_t		shape;
	SigAlg		alg;
	char		e1[SIG_ERRMSG_SIZE],
				e2[SIG_ERRMSG_SIZE],
				e3[SIG_ERRMSG_SIZE];
	uint8_t		canon[SIG_CANONICAL_KEY_MAX],
				canon2[SIG_CANONICAL_KEY_MAX];
	size_t		canon_len = 0,
				canon2_len = 0;
	uint8_t		id[SIG_KEY_ID_LEN],
				want_id[SIG_KEY_ID_LEN];
	bool		valid = false;
	SigStatus	s_verify,
				s_canon,
				s_id;

	if (size < 4)
		return 0;
	mode = data[0];
	key_len = data[1];
	sig_len = data[2];
	shape = data[3];
	data += 4;
	size -= 4;
	if (key_len > size)
		key_len = size;
	key_field = data;
	data += key_len;
	size -= key_len;
	if (sig_len > size)
		sig_len = size;
	sig = data;
	msg = data + sig_len;
	msg_len = size - sig_len;

	alg = (mode & 1) ? SIG_ED25519 : SIG_ES256;
	switch ((mode >> 1) & 3)
	{
		case 0:
			key = key_field;
			break;
		case 1:
			key = alg == SIG_ES256 ? p256_sec1 : ed25519_pub;
			key_len = alg == SIG_ES256 ? sizeof(p256_sec1) : sizeof(ed25519_pub);
			break;
		case 2:
			key = alg == SIG_ES256 ? p256_spki : ed25519_pub;
			key_len = alg == SIG_ES256 ? sizeof(p256_spki) : sizeof(ed25519_pub);
			break;
		default:
			memcpy(keybuf, spki_prefix, sizeof(spki_prefix));
			memcpy(keybuf + sizeof(spki_prefix), key_field, key_len);
			key = keybuf;
			key_len += sizeof(spki_prefix);
			break;
	}
	if (mode & 8)
		sig_cache_reset();
	if (mode & 16)
	{
		/* r||s from the signature field, zero-padded */
		memset(raw, 0, sizeof(raw));
		memcpy(raw, sig, sig_len < 64 ? sig_len : 64);
		sig = raw;
		sig_len = 64;
	}
	else if (mode & 32)
	{
		sig_len = shaped_der(sig, sig_len, shape, shaped);
		sig = shaped;
	}

	/* the key as each entry point sees it */
	s_verify = sig_verify(alg, msg, msg_len, sig, sig_len, key, key_len, &valid, e1, sizeof(e1));
	check_queue();
	check_message(e1, sizeof(e1));
	s_canon = sig_canonical_key(alg, key, key_len, canon, &canon_len, e2, sizeof(e2));
	check_queue();
	check_message(e2, sizeof(e2));
	s_id = sig_key_id(alg, key, key_len, id, e3, sizeof(e3));
	check_queue();
	check_message(e3, sizeof(e3));
	CHECK(s_verify == SIG_OK || s_verify == SIG_BAD_KEY, "unexpected status");
	CHECK(s_verify == s_canon && s_canon == s_id, "entry points disagree about a key");
	if (alg == SIG_ES256 && key_len <= 1024)
		CHECK((s_verify == SIG_OK) == openssl_accepts_key(key, key_len),
			  "ES256 key verdict differs from OpenSSL's");
	if (s_verify != SIG_OK)
	{
		CHECK(!valid, "valid with a bad key");
		CHECK(e1[0] != '\0' && strcmp(e1, e2) == 0 && strcmp(e2, e3) == 0, "refusal without the same message");
		return 0;
	}
	CHECK(!valid || e1[0] == '\0', "a true verification with a message");
	CHECK(valid || e1[0] != '\0', "a false verification without a reason");

	/* canonical bytes: a fixed point, and their SHA-256 is the id */
	crypto_hash_sha256(want_id, canon, canon_len);
	CHECK(memcmp(id, want_id, sizeof(id)) == 0, "key id is not SHA-256 of the canonical bytes");
	CHECK(sig_canonical_key(alg, canon, canon_len, canon2, &canon2_len, e2, sizeof(e2)) == SIG_OK &&
		  canon2_len == canon_len && memcmp(canon, canon2, canon_len) == 0, "canonical bytes not canonical");
	if (alg == SIG_ED25519)
	{
		CHECK(canon_len == 32 && key_len == 32 && memcmp(canon, key, 32) == 0, "Ed25519 canonical bytes");
		return 0;
	}
	CHECK(canon_len == 65 && canon[0] == 0x04, "ES256 canonical bytes are not an uncompressed point");
	CHECK((key_len == 65 && memcmp(key, canon, 65) == 0) ||
		  (key_len == 91 && memcmp(key, spki_prefix, 26) == 0 && memcmp(key + 26, canon, 65) == 0),
		  "an accepted ES256 key is not in one of the two canonical forms");

	/* OpenSSL as the oracle */
	{
		uint8_t		spki[91];
		const unsigned char *p = spki;
		EVP_PKEY   *pkey;
		bool		expect;

		memcpy(spki, spki_prefix, 26);
		memcpy(spki + 26, canon, 65);
		CHECK(sig_canonical_key(alg, spki, sizeof(spki), canon2, &canon2_len, e2, sizeof(e2)) == SIG_OK &&
			  canon2_len == 65 && memcmp(canon, canon2, 65) == 0, "SPKI of the canonical point");
		pkey = d2i_PUBKEY(NULL, &p, (long) sizeof(spki));
		CHECK(pkey != NULL, "OpenSSL refuses a key the core accepted");
		expect = openssl_verify_der(pkey, msg, msg_len, sig, sig_len) ||
			(sig_len == 64 && openssl_verify_raw(pkey, msg, msg_len, sig));
		EVP_PKEY_free(pkey);
		ERR_clear_error();
		if (expect != valid)
			fprintf(stderr, "fuzz_sig: core says %d, OpenSSL says %d (sig %zu bytes, msg %zu bytes)\n",
					(int) valid, (int) expect, sig_len, msg_len);
		CHECK(expect == valid, "ES256 verdict differs from OpenSSL's");
	}
	return 0;
}
