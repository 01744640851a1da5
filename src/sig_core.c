/*-------------------------------------------------------------------------
 *
 * sig_core.c
 *		Verification of device signatures: ES256 (ECDSA on P-256 with
 *		SHA-256, OpenSSL 3) and Ed25519 (libsodium), over untrusted bytes,
 *		with a per-process cache of parsed public keys.
 *
 * Phones sign what they upload with a key kept in their secure hardware
 * (Android Keystore and the iOS Secure Enclave give ECDSA P-256; some
 * clients use Ed25519), and the server checks the signature against the
 * public key registered for the device.  Everything here takes bytes as the
 * client sent them and is strict about their form, because a key or a
 * signature with two spellings makes two key ids, or lets one signature be
 * told apart from "the same" signature:
 *
 *	 - ES256 public key: the 65-byte uncompressed SEC1 point 0x04||X||Y, or
 *	   the DER SubjectPublicKeyInfo (id-ecPublicKey, namedCurve prime256v1)
 *	   of such a point.  DER has exactly one encoding of that structure, a
 *	   fixed 26-byte prefix followed by the point, 91 bytes in all (OpenSSL's
 *	   d2i_PUBKEY consumes all of it and i2d_PUBKEY gives back the same
 *	   bytes; the unit tests and the fuzzer check this against OpenSSL), so
 *	   the form is checked byte for byte and both forms are imported alike.
 *	   Non-minimal DER lengths, explicit curve parameters, compressed or
 *	   hybrid points, other curves and algorithms and trailing bytes are
 *	   all refused; OpenSSL decodes refused input only to name the reason.
 *	   Compressed points (33 bytes) are refused in both forms: the key id
 *	   would depend on the form, and no phone platform needs them.  The
 *	   point must be on the curve (EVP_PKEY_fromdata checks it on import,
 *	   EVP_PKEY_public_check again).
 *	 - Ed25519 public key: exactly crypto_sign_PUBLICKEYBYTES raw bytes that
 *	   crypto_core_ed25519_is_valid_point() accepts: canonical, on the
 *	   curve, in the prime-order subgroup and not of small order.  A
 *	   small-order key would make signatures that verify for every message,
 *	   so it is refused as a malformed key, not merely as a false signature.
 *	 - Canonical key bytes are the 65-byte point (ES256) or the 32 raw bytes
 *	   (Ed25519); the key id is SHA-256 of them, so one key registered as a
 *	   SEC1 point and as a SubjectPublicKeyInfo has one id.
 *	 - ES256 signature: a strict DER ECDSA-Sig-Value (SEQUENCE of two
 *	   INTEGERs, short-form lengths, minimal non-negative integers, nothing
 *	   after it), or exactly 64 bytes r||s (JOSE/WebCrypto); in both, 1 <= r,
 *	   s < n.  Anything else is a false signature, not an error.  A 64-byte
 *	   string that is also strict DER (possible when r and s are short) is
 *	   tried both ways: either reading is a signature of the same message.
 *	   High-S signatures (s > n/2) are valid: Android Keystore and iOS do
 *	   not normalise s, so refusing them would refuse about half of all
 *	   genuine signatures.  Consequently a signature (r, s) has a second
 *	   valid form (r, n - s); do not use signature bytes as a unique id.
 *	 - Ed25519 signature: exactly crypto_sign_BYTES, checked by
 *	   crypto_sign_verify_detached() (which refuses non-canonical S and
 *	   small-order R).
 *
 * Importing a key (an EVP_PKEY, its point checked, a verification
 * context) costs more than the verification itself, so parsed keys are
 * kept in a fixed table of SIG_CACHE_SIZE entries keyed by the bytes given
 * (a cheap hash and a full comparison), least recently used out first.
 * The mapping from bytes to parsed key never changes, so the cache needs
 * no invalidation to be correct; sig_cache_reset() frees it all (the SQL
 * layer calls it when a device key changes status, so that no parsed form
 * of a revoked key outlives it, and the tests use it).  Each entry keeps
 * an EVP_PKEY_CTX initialised for verification, one EVP_MD_CTX serves
 * every digest and the DER handed to OpenSSL is built on the stack, so a
 * verification with a cached key allocates nothing of its own (OpenSSL's
 * ECDSA still allocates its temporaries).  Only well-formed keys are
 * cached.  The state is per process and not thread-safe, as a PostgreSQL
 * backend is single-threaded.
 *
 * A failure inside the libraries (out of memory) is SIG_FAILURE, never a
 * malformed key or a false signature: a key is malformed only when OpenSSL
 * names a fault of its point, and a signature is false only when OpenSSL
 * reports no allocation failure while checking it.
 *
 * Messages never quote key or signature bytes (only lengths and the names
 * OpenSSL gives to curves and key types), and the OpenSSL error queue is
 * cleared after every failure so that it cannot leak into a later,
 * unrelated call (pgcrypto, libpq's SSL) in the same process.
 *
 * Copyright (c) 2026, fieldops developers
 *
 * IDENTIFICATION
 *		src/sig_core.c
 *
 *-------------------------------------------------------------------------
 */
#include "sig_core.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ecerr.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/x509.h>
#include <sodium.h>

/* the accepted lengths are libsodium's, not ours */
_Static_assert(SIG_ED25519_KEY_LEN == crypto_sign_PUBLICKEYBYTES,
			   "Ed25519 public key length");
_Static_assert(crypto_core_ed25519_BYTES == crypto_sign_PUBLICKEYBYTES,
			   "an Ed25519 public key is an encoded point");
_Static_assert(SIG_ED25519_KEY_LEN <= SIG_CANONICAL_KEY_MAX &&
			   SIG_ES256_SEC1_LEN <= SIG_CANONICAL_KEY_MAX,
			   "canonical key buffer");

#define P256_SCALAR_LEN		32
#define ES256_RAW_SIG_LEN	(2 * P256_SCALAR_LEN)
/* SEQUENCE { INTEGER (33), INTEGER (33) } */
#define ES256_DER_SIG_MAX	(2 + 2 * (2 + P256_SCALAR_LEN + 1))
#define SHA256_LEN			32
/* longer input cannot be a P-256 SubjectPublicKeyInfo: refuse undecoded */
#define SPKI_DECODE_MAX		1024
/* the largest input a cache entry holds */
#define CACHE_INPUT_MAX		SIG_ES256_SPKI_LEN

/*
 * DER of SEQUENCE { SEQUENCE { id-ecPublicKey, prime256v1 }, BIT STRING }
 * up to the point: every canonical P-256 SubjectPublicKeyInfo starts so.
 */
static const uint8_t p256_spki_prefix[SIG_ES256_SPKI_LEN - SIG_ES256_SEC1_LEN] = {
	0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02,
	0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03,
	0x42, 0x00
};

/* n, the order of the P-256 base point (SEC 2, big-endian) */
static const uint8_t p256_order[P256_SCALAR_LEN] = {
	0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84,
	0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51
};

#define ES256_KEY_FORMS \
	"a 65-byte uncompressed SEC1 point (0x04||X||Y) or a DER SubjectPublicKeyInfo for P-256"

typedef struct SigKeyEntry
{
	uint64_t	hash;			/* of alg and input */
	uint64_t	last_used;		/* cache clock at the last hit; 0 = free */
	SigAlg		alg;
	uint8_t		input_len;
	uint8_t		canonical_len;
	uint8_t		input[CACHE_INPUT_MAX];
	uint8_t		canonical[SIG_CANONICAL_KEY_MAX];
	EVP_PKEY   *pkey;			/* ES256 only */
	EVP_PKEY_CTX *verify_ctx;	/* ES256 only: after EVP_PKEY_verify_init */
} SigKeyEntry;

static SigKeyEntry key_cache[SIG_CACHE_SIZE];
static uint64_t cache_clock = 0;
static SigCacheStats cache_stats = {0, 0, 0, 0, 0, SIG_CACHE_SIZE};

static EVP_MD *sha256_md = NULL;
static EVP_MD_CTX *sha256_ctx = NULL;
static bool sodium_ready = false;

/* stands in for NULL pointers of zero-length inputs */
static const uint8_t no_bytes[1] = {0};

static void set_msg(char *buf, size_t size, const char *fmt,...)
			__attribute__((format(printf, 3, 4)));

/*
 * Format a message into the caller's buffer, if any.  snprintf truncates
 * and terminates, so a short buffer costs words, never memory safety.
 */
static void
set_msg(char *buf, size_t size, const char *fmt,...)
{
	va_list		ap;

	if (buf == NULL || size == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
}

/*
 * Report a library failure.  The error queue is emptied so that a stale
 * entry cannot be mistaken later for a failure of someone else's call.
 */
static SigStatus
library_failure(char *errbuf, size_t errbuf_size, const char *what)
{
	ERR_clear_error();
	set_msg(errbuf, errbuf_size, "crypto library failure: %s", what);
	return SIG_FAILURE;
}

/*
 * After an OpenSSL call failed: was it for want of memory?  This decides
 * between SIG_FAILURE and a verdict on the input, so that a key is not
 * called malformed, nor a signature false, because malloc failed.  Empties
 * the error queue either way.
 */
static bool
openssl_out_of_memory(void)
{
	unsigned long e;
	bool		oom = false;

	while ((e = ERR_get_error()) != 0)
	{
		if (ERR_GET_REASON(e) == ERR_R_MALLOC_FAILURE)
			oom = true;
	}
	return oom;
}

/*
 * Fetch SHA-256 once and keep one digest context: an implicit fetch and a
 * fresh context per call would be allocations on every verification.
 */
static bool
digest_ready(void)
{
	if (sha256_ctx != NULL)
		return true;
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
	sha256_ctx = EVP_MD_CTX_new();
	if (sha256_md == NULL || sha256_ctx == NULL)
	{
		EVP_MD_CTX_free(sha256_ctx);
		EVP_MD_free(sha256_md);
		sha256_ctx = NULL;
		sha256_md = NULL;
		ERR_clear_error();
		return false;
	}
	return true;
}

/*
 * SHA-256 through OpenSSL, which does the rest of ES256 too, reusing the
 * process's digest context; key ids use it as well, so that one
 * implementation defines them.
 */
static bool
sha256(const uint8_t *data, size_t len, uint8_t out[SHA256_LEN])
{
	unsigned int n = 0;

	if (!digest_ready())
		return false;
	if (EVP_DigestInit_ex2(sha256_ctx, sha256_md, NULL) != 1 ||
		EVP_DigestUpdate(sha256_ctx, data, len) != 1 ||
		EVP_DigestFinal_ex(sha256_ctx, out, &n) != 1 ||
		n != SHA256_LEN)
	{
		ERR_clear_error();
		return false;
	}
	return true;
}

/*
 * FNV-1a over the algorithm and the bytes: only a filter before memcmp,
 * so it needs to be cheap rather than strong; a collision costs one
 * comparison, never a wrong key.
 */
static uint64_t
key_hash(SigAlg alg, const uint8_t *p, size_t len)
{
	uint64_t	h = UINT64_C(0xcbf29ce484222325) ^ (uint64_t) alg;
	size_t		i;

	for (i = 0; i < len; i++)
	{
		h ^= p[i];
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

/* Release what an entry owns; used on eviction, reset and failed parses */
static void
entry_release(SigKeyEntry *e)
{
	EVP_PKEY_CTX_free(e->verify_ctx);
	EVP_PKEY_free(e->pkey);
	memset(e, 0, sizeof(*e));
}

/*
 * After a P-256 point failed to import or to pass the key check: was the
 * point at fault?  Only OpenSSL's own reasons for a bad point make a
 * malformed key.  Any other failure is the library's: allocation failures
 * are not always reported as such (an import can fail with an empty error
 * queue when malloc does), and memory pressure must never make a
 * registered key look malformed.  Empties the error queue.
 */
static bool
openssl_bad_point(void)
{
	unsigned long e;
	bool		bad = false;
	bool		oom = false;

	while ((e = ERR_get_error()) != 0)
	{
		int			reason = ERR_GET_REASON(e);

		if (reason == ERR_R_MALLOC_FAILURE)
			oom = true;
		else if (ERR_GET_LIB(e) == ERR_LIB_EC &&
				 (reason == EC_R_POINT_IS_NOT_ON_CURVE ||
				  reason == EC_R_INVALID_ENCODING ||
				  reason == EC_R_POINT_AT_INFINITY ||
				  reason == EC_R_WRONG_ORDER))
			bad = true;
	}
	return bad && !oom;
}

/*
 * Wrap a 65-byte point as a P-256 EVP_PKEY through the provider interface
 * (EVP_PKEY_fromdata), which checks that the point is on the curve; the
 * EC_KEY functions that would do the same are deprecated in OpenSSL 3.
 * Leaves OpenSSL's errors in the queue for the caller to classify.
 */
static EVP_PKEY *
p256_from_point(const uint8_t *point)
{
	static char group[] = "prime256v1";
	OSSL_PARAM	params[3];
	EVP_PKEY_CTX *ctx;
	EVP_PKEY   *pkey = NULL;

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
												  (void *) point, SIG_ES256_SEC1_LEN);
	params[2] = OSSL_PARAM_construct_end();
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (ctx == NULL ||
		EVP_PKEY_fromdata_init(ctx) != 1 ||
		EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
	{
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
	EVP_PKEY_CTX_free(ctx);
	return pkey;
}

/*
 * Make the EVP_PKEY of a 65-byte point, check it once more and prepare
 * the context every verification with it reuses: EVP_PKEY_verify() on an
 * initialised context keeps no state between calls, so one context per
 * cached key makes verification free of allocations of its own.  Both key
 * forms come here, so they give identical keys.
 */
static SigStatus
es256_import_point(SigKeyEntry *e, const uint8_t *point, char *errbuf, size_t errbuf_size)
{
	EVP_PKEY   *pkey;
	EVP_PKEY_CTX *ctx;

	if (!digest_ready())
		return library_failure(errbuf, errbuf_size, "cannot fetch SHA-256");
	pkey = p256_from_point(point);
	if (pkey == NULL)
	{
		if (!openssl_bad_point())
			return library_failure(errbuf, errbuf_size, "cannot import a P-256 key");
		set_msg(errbuf, errbuf_size, "ES256 public key is not a point on the P-256 curve");
		return SIG_BAD_KEY;
	}
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	if (ctx == NULL)
	{
		EVP_PKEY_free(pkey);
		return library_failure(errbuf, errbuf_size, "cannot allocate a key context");
	}
	if (EVP_PKEY_public_check(ctx) != 1)
	{
		EVP_PKEY_CTX_free(ctx);
		EVP_PKEY_free(pkey);
		if (!openssl_bad_point())
			return library_failure(errbuf, errbuf_size, "cannot check a P-256 key");
		set_msg(errbuf, errbuf_size, "ES256 public key is not a valid point on the P-256 curve");
		return SIG_BAD_KEY;
	}
	if (EVP_PKEY_verify_init(ctx) != 1 ||
		EVP_PKEY_CTX_set_signature_md(ctx, sha256_md) != 1)
	{
		EVP_PKEY_CTX_free(ctx);
		EVP_PKEY_free(pkey);
		return library_failure(errbuf, errbuf_size, "cannot initialise ECDSA verification");
	}
	memcpy(e->canonical, point, SIG_ES256_SEC1_LEN);
	e->canonical_len = SIG_ES256_SEC1_LEN;
	e->pkey = pkey;
	e->verify_ctx = ctx;
	return SIG_OK;
}

/*
 * Say why a DER-looking ES256 key that is not the canonical
 * SubjectPublicKeyInfo of a P-256 point is refused.  The verdict is taken
 * already; OpenSSL decodes the input (d2i_PUBKEY) only to name the reason,
 * since a developer registering a key from a phone platform needs to know
 * what to send instead.  Whatever happens here, the key is malformed.
 */
static SigStatus
es256_explain_spki(const uint8_t *key, size_t len, char *errbuf, size_t errbuf_size)
{
	const unsigned char *p = key;
	EVP_PKEY   *pkey;
	char		name[64];
	const char *type;

	/* the fallback, true of every input that comes here */
	set_msg(errbuf, errbuf_size,
			"ES256 public key is not in canonical DER: a SubjectPublicKeyInfo for P-256 holds an uncompressed point, uses minimal lengths and is exactly %d bytes; got %zu bytes",
			SIG_ES256_SPKI_LEN, len);
	if (len > SPKI_DECODE_MAX)
	{
		set_msg(errbuf, errbuf_size, "ES256 public key must be " ES256_KEY_FORMS "; got %zu bytes", len);
		return SIG_BAD_KEY;
	}
	pkey = d2i_PUBKEY(NULL, &p, (long) len);
	if (pkey == NULL)
	{
		ERR_clear_error();
		set_msg(errbuf, errbuf_size,
				"ES256 public key is neither a 65-byte uncompressed SEC1 point (0x04||X||Y) nor a valid DER SubjectPublicKeyInfo; got %zu bytes",
				len);
		return SIG_BAD_KEY;
	}
	if (p != key + len)
		set_msg(errbuf, errbuf_size,
				"ES256 public key has %zu bytes after the end of its DER SubjectPublicKeyInfo",
				(size_t) (key + len - p));
	else if (!EVP_PKEY_is_a(pkey, "EC"))
	{
		type = EVP_PKEY_get0_type_name(pkey);
		set_msg(errbuf, errbuf_size,
				"ES256 public key is a SubjectPublicKeyInfo for the key type %.40s, not for an EC key on P-256",
				type != NULL ? type : "(unknown)");
	}
	else if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_EC_ENCODING,
											name, sizeof(name), NULL) == 1 &&
			 strcmp(name, OSSL_PKEY_EC_ENCODING_EXPLICIT) == 0)
		set_msg(errbuf, errbuf_size,
				"ES256 public key uses explicit curve parameters; only the named curve P-256 (prime256v1) is accepted");
	else if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME,
											name, sizeof(name), NULL) == 1 &&
			 strcmp(name, "prime256v1") != 0)
		set_msg(errbuf, errbuf_size, "ES256 public key is on the curve %.40s, not on P-256 (prime256v1)", name);
	else if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
											name, sizeof(name), NULL) == 1 &&
			 strcmp(name, OSSL_PKEY_EC_POINT_CONVERSION_FORMAT_UNCOMPRESSED) != 0)
		set_msg(errbuf, errbuf_size,
				"ES256 public key holds a %.20s point; only uncompressed points (0x04||X||Y) are accepted",
				name);
	EVP_PKEY_free(pkey);
	ERR_clear_error();
	return SIG_BAD_KEY;
}

/*
 * Parse an ES256 public key in either accepted form into e.
 *
 * The canonical DER SubjectPublicKeyInfo of a P-256 point is the 26-byte
 * prefix p256_spki_prefix followed by the 65-byte point: DER allows no
 * other spelling of it (OpenSSL's d2i_PUBKEY then i2d_PUBKEY gives back
 * exactly these bytes; the tests and the fuzzer check it).  So a
 * SubjectPublicKeyInfo is accepted when it is 91 bytes, starts with the
 * prefix and ends with a valid uncompressed point, and both forms are
 * imported the same way.  This refuses, without decoding anything, every
 * non-canonical encoding (non-minimal lengths, explicit parameters,
 * compressed or hybrid points, other curves and algorithms, trailing
 * bytes); the decoder is used only to explain refusals, so memory
 * pressure inside it cannot make a good key look malformed.
 */
static SigStatus
es256_parse_key(const uint8_t *key, size_t len, SigKeyEntry *e,
				char *errbuf, size_t errbuf_size)
{
	const size_t prefix_len = sizeof(p256_spki_prefix);

	if (len == SIG_ES256_SEC1_LEN && key[0] == 0x04)
		return es256_import_point(e, key, errbuf, errbuf_size);
	if (len == SIG_ES256_SPKI_LEN && memcmp(key, p256_spki_prefix, prefix_len) == 0 &&
		key[prefix_len] == 0x04)
		return es256_import_point(e, key + prefix_len, errbuf, errbuf_size);
	if (len > 0 && key[0] == 0x30)
		return es256_explain_spki(key, len, errbuf, errbuf_size);

	if (len == 1 + P256_SCALAR_LEN && (key[0] == 0x02 || key[0] == 0x03))
		set_msg(errbuf, errbuf_size,
				"ES256 public key is a compressed SEC1 point (33 bytes); it must be " ES256_KEY_FORMS);
	else if (len == 2 * P256_SCALAR_LEN)
		set_msg(errbuf, errbuf_size,
				"ES256 public key must be " ES256_KEY_FORMS "; got 64 bytes (X||Y without the 0x04 prefix?)");
	else if (len == SIG_ES256_SEC1_LEN)
		set_msg(errbuf, errbuf_size,
				"ES256 public key must be " ES256_KEY_FORMS "; got 65 bytes not starting with 0x04");
	else
		set_msg(errbuf, errbuf_size, "ES256 public key must be " ES256_KEY_FORMS "; got %zu bytes", len);
	return SIG_BAD_KEY;
}

/*
 * Check an Ed25519 key once: the point check costs about as much as a
 * verification (a multiplication by the group order), which is why valid
 * keys are cached although there is nothing to parse.
 */
static SigStatus
ed25519_parse_key(const uint8_t *key, size_t len, SigKeyEntry *e,
				  char *errbuf, size_t errbuf_size)
{
	if (len != crypto_sign_PUBLICKEYBYTES)
	{
		set_msg(errbuf, errbuf_size, "Ed25519 public key must be %u raw bytes; got %zu bytes",
				(unsigned int) crypto_sign_PUBLICKEYBYTES, len);
		return SIG_BAD_KEY;
	}
	if (crypto_core_ed25519_is_valid_point(key) != 1)
	{
		set_msg(errbuf, errbuf_size,
				"Ed25519 public key is not a valid point: it must be canonical, on the curve, in the prime-order subgroup and not of small order");
		return SIG_BAD_KEY;
	}
	memcpy(e->canonical, key, crypto_sign_PUBLICKEYBYTES);
	e->canonical_len = crypto_sign_PUBLICKEYBYTES;
	return SIG_OK;
}

/*
 * Find the parsed form of a key, parsing and caching it on a miss.  Only
 * lengths a valid key can have are looked up, so junk of other lengths
 * never costs a scan, and only keys that parsed are inserted.  The entry
 * returned is valid until the next call of this file.
 */
static SigStatus
lookup_key(SigAlg alg, const uint8_t *key, size_t len, const SigKeyEntry **out,
		   char *errbuf, size_t errbuf_size)
{
	SigKeyEntry parsed;
	SigKeyEntry *slot = NULL;
	SigStatus	st;
	uint64_t	h = 0;
	bool		cacheable;
	int			i;

	*out = NULL;
	if (alg == SIG_ES256)
		cacheable = (len == SIG_ES256_SEC1_LEN || len == SIG_ES256_SPKI_LEN);
	else if (alg == SIG_ED25519)
		cacheable = (len == SIG_ED25519_KEY_LEN);
	else
	{
		set_msg(errbuf, errbuf_size, "unknown signature algorithm %d", (int) alg);
		return SIG_BAD_ARGUMENT;
	}

	if (cacheable)
	{
		h = key_hash(alg, key, len);
		for (i = 0; i < SIG_CACHE_SIZE; i++)
		{
			SigKeyEntry *e = &key_cache[i];

			if (e->last_used != 0 && e->hash == h && e->alg == alg &&
				e->input_len == len && memcmp(e->input, key, len) == 0)
			{
				e->last_used = ++cache_clock;
				cache_stats.hits++;
				*out = e;
				return SIG_OK;
			}
		}
	}

	if (alg == SIG_ED25519 && !sodium_ready)
	{
		if (sodium_init() < 0)
			return library_failure(errbuf, errbuf_size, "sodium_init() failed");
		sodium_ready = true;
	}

	memset(&parsed, 0, sizeof(parsed));
	if (alg == SIG_ES256)
		st = es256_parse_key(key, len, &parsed, errbuf, errbuf_size);
	else
		st = ed25519_parse_key(key, len, &parsed, errbuf, errbuf_size);
	if (st != SIG_OK)
	{
		entry_release(&parsed);
		return st;
	}
	if (!cacheable)
	{
		/* cannot happen: every accepted form has a cacheable length */
		entry_release(&parsed);
		set_msg(errbuf, errbuf_size, "internal error: a %zu-byte key was accepted", len);
		return SIG_FAILURE;
	}

	/* a free slot, else the least recently used one */
	for (i = 0; i < SIG_CACHE_SIZE; i++)
	{
		if (key_cache[i].last_used == 0)
		{
			slot = &key_cache[i];
			break;
		}
		if (slot == NULL || key_cache[i].last_used < slot->last_used)
			slot = &key_cache[i];
	}
	if (slot->last_used != 0)
	{
		entry_release(slot);
		cache_stats.evictions++;
	}
	*slot = parsed;
	slot->hash = h;
	slot->alg = alg;
	slot->input_len = (uint8_t) len;
	memcpy(slot->input, key, len);
	slot->last_used = ++cache_clock;
	cache_stats.misses++;
	*out = slot;
	return SIG_OK;
}

/*
 * Read one DER INTEGER into 32 big-endian bytes, accepting only the
 * minimal encoding of a non-negative value below 2^256 with a short-form
 * length.  Anything laxer would give one signature several spellings.
 */
static bool
der_scalar(const uint8_t **pp, const uint8_t *end, uint8_t out[P256_SCALAR_LEN])
{
	const uint8_t *p = *pp;
	size_t		len;

	if (end - p < 2 || p[0] != 0x02 || (p[1] & 0x80) != 0)
		return false;
	len = p[1];
	p += 2;
	if (len == 0 || (size_t) (end - p) < len)
		return false;
	if ((p[0] & 0x80) != 0)
		return false;			/* negative */
	if (p[0] == 0x00)
	{
		if (len > 1 && (p[1] & 0x80) == 0)
			return false;		/* superfluous leading zero */
		p++;
		len--;
	}
	if (len > P256_SCALAR_LEN)
		return false;
	memset(out, 0, P256_SCALAR_LEN - len);
	if (len > 0)
		memcpy(out + P256_SCALAR_LEN - len, p, len);
	*pp = p + len;
	return true;
}

/*
 * 1 <= v < n.  OpenSSL checks this too, but a raw r||s must be checked
 * before it is encoded, and one check for both forms keeps them alike.
 */
static bool
scalar_in_range(const uint8_t v[P256_SCALAR_LEN])
{
	bool		nonzero = false;
	int			i;

	for (i = 0; i < P256_SCALAR_LEN; i++)
		nonzero |= (v[i] != 0);
	if (!nonzero)
		return false;
	for (i = 0; i < P256_SCALAR_LEN; i++)
	{
		if (v[i] != p256_order[i])
			return v[i] < p256_order[i];
	}
	return false;				/* v == n */
}

/*
 * Strict DER ECDSA-Sig-Value.  Short-form lengths only: no ECDSA P-256
 * signature needs more than 72 bytes, so a long form is never minimal.
 */
static bool
es256_sig_from_der(const uint8_t *sig, size_t len,
				   uint8_t r[P256_SCALAR_LEN], uint8_t s[P256_SCALAR_LEN])
{
	const uint8_t *p;
	const uint8_t *end = sig + len;

	if (len < 2 || sig[0] != 0x30 || (sig[1] & 0x80) != 0 || (size_t) sig[1] != len - 2)
		return false;
	p = sig + 2;
	return der_scalar(&p, end, r) && der_scalar(&p, end, s) && p == end &&
		scalar_in_range(r) && scalar_in_range(s);
}

/* r||s as JOSE (RFC 7518) and WebCrypto write it, each exactly 32 bytes */
static bool
es256_sig_from_raw(const uint8_t *sig, size_t len,
				   uint8_t r[P256_SCALAR_LEN], uint8_t s[P256_SCALAR_LEN])
{
	if (len != ES256_RAW_SIG_LEN)
		return false;
	memcpy(r, sig, P256_SCALAR_LEN);
	memcpy(s, sig + P256_SCALAR_LEN, P256_SCALAR_LEN);
	return scalar_in_range(r) && scalar_in_range(s);
}

/* Append one minimal DER INTEGER; v is in range, so it is not zero */
static size_t
der_put_scalar(uint8_t *out, const uint8_t v[P256_SCALAR_LEN])
{
	size_t		skip = 0;
	size_t		n;
	size_t		pad;

	while (skip < P256_SCALAR_LEN - 1 && v[skip] == 0)
		skip++;
	n = P256_SCALAR_LEN - skip;
	pad = (v[skip] & 0x80) ? 1 : 0;
	out[0] = 0x02;
	out[1] = (uint8_t) (n + pad);
	if (pad)
		out[2] = 0x00;
	memcpy(out + 2 + pad, v + skip, n);
	return 2 + pad + n;
}

/*
 * Encode (r, s) as the DER OpenSSL verifies.  Done here, on the stack,
 * rather than through ECDSA_SIG and two BIGNUMs: four allocations per
 * verification for forty lines of encoding.  OpenSSL re-encodes what it
 * decodes and refuses a mismatch, so a mistake here could only make a
 * valid signature false, never the reverse.
 */
static size_t
es256_der_encode(const uint8_t r[P256_SCALAR_LEN], const uint8_t s[P256_SCALAR_LEN],
				 uint8_t out[ES256_DER_SIG_MAX])
{
	size_t		n = 2;

	n += der_put_scalar(out + n, r);
	n += der_put_scalar(out + n, s);
	out[0] = 0x30;
	out[1] = (uint8_t) (n - 2);
	return n;
}

/*
 * One ECDSA verification with the cached context: 1 valid, 0 not, -1 out
 * of memory (an error, so that a genuine signature is never reported false
 * because malloc failed).
 */
static int
es256_check(const SigKeyEntry *e, const uint8_t digest[SHA256_LEN],
			const uint8_t r[P256_SCALAR_LEN], const uint8_t s[P256_SCALAR_LEN])
{
	uint8_t		der[ES256_DER_SIG_MAX];
	size_t		der_len = es256_der_encode(r, s, der);

	if (EVP_PKEY_verify(e->verify_ctx, der, der_len, digest, SHA256_LEN) == 1)
		return 1;
	return openssl_out_of_memory() ? -1 : 0;
}

/*
 * ES256 with a parsed key.  The signature is decoded before the message is
 * hashed, so malformed signatures cost no hashing; a 64-byte signature is
 * read as r||s first, the form most clients send.
 */
static SigStatus
es256_verify_entry(const SigKeyEntry *e, const uint8_t *msg, size_t msg_len,
				   const uint8_t *sig, size_t sig_len, bool *valid,
				   char *errbuf, size_t errbuf_size)
{
	uint8_t		r_raw[P256_SCALAR_LEN],
				s_raw[P256_SCALAR_LEN];
	uint8_t		r_der[P256_SCALAR_LEN],
				s_der[P256_SCALAR_LEN];
	uint8_t		digest[SHA256_LEN];
	bool		raw = es256_sig_from_raw(sig, sig_len, r_raw, s_raw);
	bool		der = es256_sig_from_der(sig, sig_len, r_der, s_der);
	int			rc;

	*valid = false;
	if (!raw && !der)
	{
		set_msg(errbuf, errbuf_size,
				"ES256 signature is neither a DER ECDSA-Sig-Value nor 64 bytes r||s with 1 <= r, s < n; got %zu bytes",
				sig_len);
		return SIG_OK;
	}
	if (!sha256(msg, msg_len, digest))
		return library_failure(errbuf, errbuf_size, "SHA-256 failed");
	rc = raw ? es256_check(e, digest, r_raw, s_raw) : 0;
	if (rc == 0 && der)
		rc = es256_check(e, digest, r_der, s_der);
	if (rc < 0)
		return library_failure(errbuf, errbuf_size, "out of memory verifying a signature");
	if (rc == 1)
		*valid = true;
	else
		set_msg(errbuf, errbuf_size, "ES256 signature does not match the message and the key");
	return SIG_OK;
}

/* Ed25519 with a checked key; libsodium does the rest */
static SigStatus
ed25519_verify_entry(const SigKeyEntry *e, const uint8_t *msg, size_t msg_len,
					 const uint8_t *sig, size_t sig_len, bool *valid,
					 char *errbuf, size_t errbuf_size)
{
	*valid = false;
	if (sig_len != crypto_sign_BYTES)
	{
		set_msg(errbuf, errbuf_size, "Ed25519 signature must be %u bytes; got %zu bytes",
				(unsigned int) crypto_sign_BYTES, sig_len);
		return SIG_OK;
	}
	if (crypto_sign_verify_detached(sig, msg, (unsigned long long) msg_len, e->canonical) == 0)
		*valid = true;
	else
		set_msg(errbuf, errbuf_size, "Ed25519 signature does not match the message and the key");
	return SIG_OK;
}

/*
 * Refuse NULL with a length (a caller's bug, not bad input) and give the
 * libraries a real pointer for empty input, which some of them want.
 */
static bool
normalise_input(const uint8_t **p, size_t len)
{
	if (*p == NULL)
	{
		if (len > 0)
			return false;
		*p = no_bytes;
	}
	return true;
}

/*
 * Verify a signature: SIG_OK with *valid telling the answer, or an error
 * status when the key is malformed (the SQL functions es256_verify and
 * ed25519_verify raise 22023 then).  A malformed signature is only false.
 */
SigStatus
sig_verify(SigAlg alg, const uint8_t *msg, size_t msg_len,
		   const uint8_t *sig, size_t sig_len,
		   const uint8_t *key, size_t key_len,
		   bool *valid, char *errbuf, size_t errbuf_size)
{
	const SigKeyEntry *e;
	SigStatus	st;

	set_msg(errbuf, errbuf_size, "%s", "");
	if (valid == NULL)
	{
		set_msg(errbuf, errbuf_size, "no place for the result");
		return SIG_BAD_ARGUMENT;
	}
	*valid = false;
	if (!normalise_input(&msg, msg_len) || !normalise_input(&sig, sig_len) ||
		!normalise_input(&key, key_len))
	{
		set_msg(errbuf, errbuf_size, "NULL input with a non-zero length");
		return SIG_BAD_ARGUMENT;
	}
	st = lookup_key(alg, key, key_len, &e, errbuf, errbuf_size);
	if (st == SIG_OK)
	{
		if (alg == SIG_ES256)
			st = es256_verify_entry(e, msg, msg_len, sig, sig_len, valid, errbuf, errbuf_size);
		else
			st = ed25519_verify_entry(e, msg, msg_len, sig, sig_len, valid, errbuf, errbuf_size);
	}
	if (ERR_peek_error() != 0)
		ERR_clear_error();
	return st;
}

/* fieldops.es256_verify(message, signature, public_key) */
SigStatus
sig_es256_verify(const uint8_t *msg, size_t msg_len,
				 const uint8_t *sig, size_t sig_len,
				 const uint8_t *key, size_t key_len,
				 bool *valid, char *errbuf, size_t errbuf_size)
{
	return sig_verify(SIG_ES256, msg, msg_len, sig, sig_len, key, key_len,
					  valid, errbuf, errbuf_size);
}

/* fieldops.ed25519_verify(message, signature, public_key) */
SigStatus
sig_ed25519_verify(const uint8_t *msg, size_t msg_len,
				   const uint8_t *sig, size_t sig_len,
				   const uint8_t *key, size_t key_len,
				   bool *valid, char *errbuf, size_t errbuf_size)
{
	return sig_verify(SIG_ED25519, msg, msg_len, sig, sig_len, key, key_len,
					  valid, errbuf, errbuf_size);
}

/*
 * The one byte string that stands for a key whatever form it came in, so
 * that registering a key twice in two forms is recognised as one key.
 */
SigStatus
sig_canonical_key(SigAlg alg, const uint8_t *key, size_t key_len,
				  uint8_t out[SIG_CANONICAL_KEY_MAX], size_t *out_len,
				  char *errbuf, size_t errbuf_size)
{
	const SigKeyEntry *e;
	SigStatus	st;

	set_msg(errbuf, errbuf_size, "%s", "");
	if (out == NULL || out_len == NULL || !normalise_input(&key, key_len))
	{
		set_msg(errbuf, errbuf_size, "NULL argument");
		return SIG_BAD_ARGUMENT;
	}
	*out_len = 0;
	st = lookup_key(alg, key, key_len, &e, errbuf, errbuf_size);
	if (st == SIG_OK)
	{
		memcpy(out, e->canonical, e->canonical_len);
		*out_len = e->canonical_len;
	}
	if (ERR_peek_error() != 0)
		ERR_clear_error();
	return st;
}

/*
 * SHA-256 of the canonical key bytes: a fixed-size id for a device key
 * that does not depend on the form the key was sent in.
 */
SigStatus
sig_key_id(SigAlg alg, const uint8_t *key, size_t key_len,
		   uint8_t out[SIG_KEY_ID_LEN], char *errbuf, size_t errbuf_size)
{
	const SigKeyEntry *e;
	SigStatus	st;

	set_msg(errbuf, errbuf_size, "%s", "");
	if (out == NULL || !normalise_input(&key, key_len))
	{
		set_msg(errbuf, errbuf_size, "NULL argument");
		return SIG_BAD_ARGUMENT;
	}
	st = lookup_key(alg, key, key_len, &e, errbuf, errbuf_size);
	if (st == SIG_OK && !sha256(e->canonical, e->canonical_len, out))
		st = library_failure(errbuf, errbuf_size, "SHA-256 failed");
	if (ERR_peek_error() != 0)
		ERR_clear_error();
	return st;
}

/*
 * Free every cached key and the digest objects.  Not needed for
 * correctness (the cache maps bytes to their parse), but it bounds what a
 * revoked key leaves behind and lets leak checkers see a clean process.
 */
void
sig_cache_reset(void)
{
	int			i;

	for (i = 0; i < SIG_CACHE_SIZE; i++)
		entry_release(&key_cache[i]);
	EVP_MD_CTX_free(sha256_ctx);
	EVP_MD_free(sha256_md);
	sha256_ctx = NULL;
	sha256_md = NULL;
	cache_stats.resets++;
}

/* Counters for tests and for a monitoring view */
void
sig_cache_stats(SigCacheStats *stats)
{
	int			i;

	*stats = cache_stats;
	stats->entries = 0;
	for (i = 0; i < SIG_CACHE_SIZE; i++)
		if (key_cache[i].last_used != 0)
			stats->entries++;
	stats->capacity = SIG_CACHE_SIZE;
}

/* Names for log lines and test output */
const char *
sig_status_name(SigStatus status)
{
	switch (status)
	{
		case SIG_OK:
			return "ok";
		case SIG_BAD_KEY:
			return "bad key";
		case SIG_BAD_ARGUMENT:
			return "bad argument";
		case SIG_FAILURE:
			return "failure";
	}
	return "unknown status";
}
