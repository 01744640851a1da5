/*-------------------------------------------------------------------------
 *
 * sig_test.c
 *		Unit tests of the signature core (sig_core.c): the RFC 8032 Ed25519
 *		vectors, ES256 vectors made by the openssl command line
 *		(test/generators/es256_vectors.sh), every malformed key and
 *		signature form the core must refuse, the key cache, and failed
 *		allocations inside OpenSSL.
 *
 * Usage: sig_test [test/fixtures/es256_vectors.txt]
 * The RFC 8032 vectors are read from ed25519_rfc8032.txt in the same
 * directory.  Without an argument the fixtures are looked for relative to
 * the working directory (the repository root, where make and
 * test/run-tests.sh run the tests) and then relative to the program.
 *
 * The r||s and high-S forms of the ES256 signatures, the keys for the cache
 * tests and the expected key ids are computed here with OpenSSL and
 * libsodium directly, not with the code under test.
 *
 * Copyright (c) 2026, fieldops developers
 *
 * IDENTIFICATION
 *		test/unit/sig_test.c
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <libgen.h>
#include <stdlib.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "unit.h"
#include "sig_core.h"

#define MAX_KEYS	4
#define MAX_OTHERS	8
#define MAX_VECS	64

typedef struct Bytes
{
	uint8_t    *p;
	size_t		n;
} Bytes;

typedef struct P256Key
{
	char		name[16];
	Bytes		spki;
	Bytes		sec1;
	Bytes		sec1_compressed;
	Bytes		spki_compressed;
	Bytes		spki_explicit;
} P256Key;

typedef struct OtherKey
{
	char		name[16];
	char		form[16];
	Bytes		bytes;
} OtherKey;

typedef struct Es256Vec
{
	int			key;
	Bytes		msg;
	Bytes		der;
} Es256Vec;

typedef struct EdVec
{
	char		name[32];
	Bytes		secret;
	Bytes		pub;
	Bytes		msg;
	Bytes		sig;
} EdVec;

static P256Key keys[MAX_KEYS];
static int	nkeys = 0;
static OtherKey others[MAX_OTHERS];
static int	nothers = 0;
static Es256Vec vecs[MAX_VECS];
static int	nvecs = 0;
static EdVec edvecs[8];
static int	nedvecs = 0;

/* calls after which OpenSSL's error queue was not empty */
static int	dirty_queue = 0;
/* error messages that looked like they quote bytes */
static int	leaky_messages = 0;

static BIGNUM *p256_n = NULL;

/* OpenSSL allocations left before one fails; -1: none fails */
static long oom_countdown = -1;
static long oom_failed = 0;

/* OpenSSL's allocator for the tests: can fail one allocation on demand */
static void *
test_malloc(size_t n, const char *file, int line)
{
	(void) file;
	(void) line;
	if (oom_countdown == 0)
	{
		oom_countdown = -1;
		oom_failed++;
		return NULL;
	}
	if (oom_countdown > 0)
		oom_countdown--;
	return malloc(n);
}

static void *
test_realloc(void *p, size_t n, const char *file, int line)
{
	(void) file;
	(void) line;
	if (oom_countdown == 0)
	{
		oom_countdown = -1;
		oom_failed++;
		return NULL;
	}
	if (oom_countdown > 0)
		oom_countdown--;
	return realloc(p, n);
}

static void
test_free(void *p, const char *file, int line)
{
	(void) file;
	(void) line;
	free(p);
}

/* hex to bytes; "-" is empty.  Returns false on odd length or non-hex. */
static bool
unhex(const char *s, Bytes *out)
{
	size_t		len = strlen(s);
	size_t		i;

	out->p = NULL;
	out->n = 0;
	if (strcmp(s, "-") == 0)
		return true;
	if (len % 2 != 0)
		return false;
	out->p = malloc(len / 2 + 1);
	if (out->p == NULL)
		return false;
	for (i = 0; i < len / 2; i++)
	{
		unsigned int v;

		if (!isxdigit((unsigned char) s[2 * i]) || !isxdigit((unsigned char) s[2 * i + 1]) ||
			sscanf(s + 2 * i, "%2x", &v) != 1)
			return false;
		out->p[i] = (uint8_t) v;
	}
	out->n = len / 2;
	return true;
}

static Bytes
copy_bytes(const uint8_t *p, size_t n)
{
	Bytes		b;

	b.p = malloc(n + 1);
	b.n = n;
	if (n > 0)
		memcpy(b.p, p, n);
	return b;
}

static Bytes
filled_bytes(uint8_t fill, size_t n)
{
	Bytes		b;

	b.p = malloc(n + 1);
	b.n = n;
	memset(b.p, fill, n);
	return b;
}

static void
free_bytes(Bytes *b)
{
	free(b->p);
	b->p = NULL;
	b->n = 0;
}

/* a message quoting key bytes would show a long run of hex digits */
static void
check_message(const char *msg)
{
	int			run = 0;

	for (; *msg; msg++)
	{
		run = isxdigit((unsigned char) *msg) ? run + 1 : 0;
		if (run >= 8)
		{
			leaky_messages++;
			printf("# message looks like it quotes bytes: %s\n", msg);
			return;
		}
	}
}

static void
note_queue(void)
{
	if (ERR_peek_error() != 0)
	{
		dirty_queue++;
		ERR_clear_error();
	}
}

/* the message of the last verify() */
static char last_msg[SIG_ERRMSG_SIZE];

/* verify: 1 true, 0 false, -1 any error status */
static int
verify(SigAlg alg, const Bytes *msg, const uint8_t *sig, size_t sig_len, const Bytes *key)
{
	bool		valid = true;
	char	   *err = last_msg;
	SigStatus	st;

	st = sig_verify(alg, msg->p, msg->n, sig, sig_len, key->p, key->n, &valid, err, sizeof(last_msg));
	note_queue();
	check_message(err);
	if (st != SIG_OK)
		return -1;
	if (valid && err[0] != '\0')
		printf("# a true verification left a message: %s\n", err);
	return valid ? 1 : 0;
}

/*
 * 1 when an ES256 signature is false because the core refused its form
 * (not merely because it did not verify): OpenSSL refuses most of these
 * too, and this shows that the core does not rely on it.
 */
static int
refused(const Bytes *msg, const uint8_t *sig, size_t sig_len, const Bytes *key)
{
	int			rc = verify(SIG_ES256, msg, sig, sig_len, key);

	if (rc == 0 && strstr(last_msg, "neither a DER") != NULL)
		return 1;
	printf("# verify gave %d: %s\n", rc, last_msg);
	return 0;
}

/*
 * The status of a key as every entry point sees it; they must agree, and
 * a bad key must come with a message.  msg receives the message.
 */
static SigStatus
key_status(SigAlg alg, const uint8_t *key, size_t len, char *msg, size_t msg_size)
{
	uint8_t		canon[SIG_CANONICAL_KEY_MAX];
	uint8_t		id[SIG_KEY_ID_LEN];
	size_t		canon_len;
	bool		valid;
	SigStatus	a,
				b,
				c;
	char		err[SIG_ERRMSG_SIZE];
	static const uint8_t sig[64] = {1};

	a = sig_canonical_key(alg, key, len, canon, &canon_len, msg, msg_size);
	note_queue();
	check_message(msg);
	b = sig_key_id(alg, key, len, id, err, sizeof(err));
	note_queue();
	c = sig_verify(alg, (const uint8_t *) "m", 1, sig, sizeof(sig), key, len, &valid, err, sizeof(err));
	note_queue();
	if (a != b || a != c)
		printf("# entry points disagree about a key: %d %d %d\n", a, b, c);
	if (a != SIG_OK && msg[0] == '\0')
		printf("# a refused key came without a message\n");
	return (a == b && a == c && (a == SIG_OK || msg[0] != '\0')) ? a : (SigStatus) 99;
}

/* --- fixtures ---------------------------------------------------------- */

static Bytes *
key_form(P256Key *k, const char *form)
{
	if (strcmp(form, "spki") == 0)
		return &k->spki;
	if (strcmp(form, "sec1") == 0)
		return &k->sec1;
	if (strcmp(form, "sec1_compressed") == 0)
		return &k->sec1_compressed;
	if (strcmp(form, "spki_compressed") == 0)
		return &k->spki_compressed;
	if (strcmp(form, "spki_explicit") == 0)
		return &k->spki_explicit;
	return NULL;
}

static int
find_key(const char *name)
{
	int			i;

	for (i = 0; i < nkeys; i++)
		if (strcmp(keys[i].name, name) == 0)
			return i;
	if (nkeys == MAX_KEYS)
		return -1;
	snprintf(keys[nkeys].name, sizeof(keys[nkeys].name), "%s", name);
	return nkeys++;
}

/* Read es256_vectors.txt (format: test/generators/es256_vectors.sh) */
static bool
read_es256(const char *path)
{
	FILE	   *f = fopen(path, "r");
	char	   *line = NULL;
	size_t		cap = 0;
	bool		ok = true;

	if (f == NULL)
		return false;
	while (getline(&line, &cap, f) > 0)
	{
		char	   *tok[5];
		int			n = 0;
		char	   *save = NULL;
		char	   *t;

		if (line[0] == '#')
			continue;
		for (t = strtok_r(line, " \t\r\n", &save); t != NULL && n < 5; t = strtok_r(NULL, " \t\r\n", &save))
			tok[n++] = t;
		if (n == 0)
			continue;
		if (n == 4 && strcmp(tok[0], "key") == 0)
		{
			int			k = find_key(tok[1]);
			Bytes	   *b = k >= 0 ? key_form(&keys[k], tok[2]) : NULL;

			ok = ok && b != NULL && b->p == NULL && unhex(tok[3], b);
		}
		else if (n == 4 && strcmp(tok[0], "other") == 0 && nothers < MAX_OTHERS)
		{
			OtherKey   *o = &others[nothers++];

			snprintf(o->name, sizeof(o->name), "%s", tok[1]);
			snprintf(o->form, sizeof(o->form), "%s", tok[2]);
			ok = ok && unhex(tok[3], &o->bytes);
		}
		else if (n == 4 && strcmp(tok[0], "sig") == 0 && nvecs < MAX_VECS)
		{
			Es256Vec   *v = &vecs[nvecs++];

			v->key = find_key(tok[1]);
			ok = ok && v->key >= 0 && unhex(tok[2], &v->msg) && unhex(tok[3], &v->der);
		}
		else
		{
			printf("# unexpected fixture line starting \"%s\"\n", tok[0]);
			ok = false;
		}
	}
	free(line);
	fclose(f);
	return ok;
}

/* Read ed25519_rfc8032.txt */
static bool
read_ed25519(const char *path)
{
	FILE	   *f = fopen(path, "r");
	char	   *line = NULL;
	size_t		cap = 0;
	bool		ok = true;

	if (f == NULL)
		return false;
	while (getline(&line, &cap, f) > 0)
	{
		char	   *tok[6];
		int			n = 0;
		char	   *save = NULL;
		char	   *t;

		if (line[0] == '#')
			continue;
		for (t = strtok_r(line, " \t\r\n", &save); t != NULL && n < 6; t = strtok_r(NULL, " \t\r\n", &save))
			tok[n++] = t;
		if (n == 0)
			continue;
		if (n == 6 && strcmp(tok[0], "vector") == 0 && nedvecs < 8)
		{
			EdVec	   *v = &edvecs[nedvecs++];

			snprintf(v->name, sizeof(v->name), "%s", tok[1]);
			ok = ok && unhex(tok[2], &v->secret) && unhex(tok[3], &v->pub) &&
				unhex(tok[4], &v->msg) && unhex(tok[5], &v->sig);
		}
		else
			ok = false;
	}
	free(line);
	fclose(f);
	return ok;
}

/* --- ES256 helpers (OpenSSL directly, not the core) -------------------- */

/* DER signature to r||s, or the high-S twin (r, n - s) in either form */
static bool
der_to_forms(const Bytes *der, Bytes *raw, Bytes *der_hi, Bytes *raw_hi, bool *was_high)
{
	const unsigned char *p = der->p;
	ECDSA_SIG  *sig = d2i_ECDSA_SIG(NULL, &p, (long) der->n);
	const BIGNUM *r,
			   *s;
	BIGNUM	   *half = BN_new();
	BIGNUM	   *s2 = BN_new();
	ECDSA_SIG  *hi = ECDSA_SIG_new();
	unsigned char *enc = NULL;
	uint8_t		buf[64];
	int			len;
	bool		ok = false;

	if (sig == NULL || half == NULL || s2 == NULL || hi == NULL)
		goto done;
	ECDSA_SIG_get0(sig, &r, &s);
	if (BN_bn2binpad(r, buf, 32) != 32 || BN_bn2binpad(s, buf + 32, 32) != 32)
		goto done;
	*raw = copy_bytes(buf, 64);
	if (!BN_rshift1(half, p256_n) || !BN_sub(s2, p256_n, s))
		goto done;
	*was_high = BN_cmp(s, half) > 0;
	if (BN_bn2binpad(s2, buf + 32, 32) != 32)
		goto done;
	*raw_hi = copy_bytes(buf, 64);
	if (!ECDSA_SIG_set0(hi, BN_dup(r), s2))
		goto done;
	s2 = NULL;
	len = i2d_ECDSA_SIG(hi, &enc);
	if (len <= 0)
		goto done;
	*der_hi = copy_bytes(enc, (size_t) len);
	ok = true;
done:
	OPENSSL_free(enc);
	ECDSA_SIG_free(sig);
	ECDSA_SIG_free(hi);
	BN_free(half);
	BN_free(s2);
	return ok;
}

/* SEQUENCE { INTEGER r, INTEGER s } from arbitrary INTEGER contents */
static Bytes
der_build(const uint8_t *r, size_t rn, const uint8_t *s, size_t sn)
{
	uint8_t		buf[256];
	size_t		n = 0;

	buf[n++] = 0x30;
	buf[n++] = (uint8_t) (4 + rn + sn);
	buf[n++] = 0x02;
	buf[n++] = (uint8_t) rn;
	memcpy(buf + n, r, rn);
	n += rn;
	buf[n++] = 0x02;
	buf[n++] = (uint8_t) sn;
	memcpy(buf + n, s, sn);
	n += sn;
	return copy_bytes(buf, n);
}

/* the DER INTEGER contents of r and s of a strict DER signature */
static void
der_split(const Bytes *der, const uint8_t **r, size_t *rn, const uint8_t **s, size_t *sn)
{
	*rn = der->p[3];
	*r = der->p + 4;
	*sn = der->p[5 + *rn];
	*s = der->p + 6 + *rn;
}

/* --- tests ------------------------------------------------------------- */

static void
test_ed25519(void)
{
	int			i;
	char		name[160];
	char		msg[SIG_ERRMSG_SIZE];

	for (i = 0; i < nedvecs; i++)
	{
		EdVec	   *v = &edvecs[i];
		uint8_t		pk[crypto_sign_PUBLICKEYBYTES];
		uint8_t		sk[crypto_sign_SECRETKEYBYTES];
		uint8_t		sig[crypto_sign_BYTES];
		uint8_t		id[SIG_KEY_ID_LEN],
					want_id[SIG_KEY_ID_LEN];
		int			bad = 0;
		size_t		bit;
		Bytes		m2;

		snprintf(name, sizeof(name), "Ed25519 %s: vector transcribed right (libsodium derives the key and the signature)", v->name);
		OK(v->secret.n == crypto_sign_SEEDBYTES && v->pub.n == crypto_sign_PUBLICKEYBYTES &&
		   v->sig.n == crypto_sign_BYTES &&
		   crypto_sign_seed_keypair(pk, sk, v->secret.p) == 0 &&
		   memcmp(pk, v->pub.p, sizeof(pk)) == 0 &&
		   crypto_sign_detached(sig, NULL, v->msg.p, v->msg.n, sk) == 0 &&
		   memcmp(sig, v->sig.p, sizeof(sig)) == 0, name);
		sodium_memzero(sk, sizeof(sk));

		snprintf(name, sizeof(name), "Ed25519 %s: verifies", v->name);
		EQ_INT(verify(SIG_ED25519, &v->msg, v->sig.p, v->sig.n, &v->pub), 1, name);

		for (bit = 0; bit < v->msg.n * 8; bit++)
		{
			v->msg.p[bit / 8] ^= (uint8_t) (1 << (bit % 8));
			bad += verify(SIG_ED25519, &v->msg, v->sig.p, v->sig.n, &v->pub) != 0;
			v->msg.p[bit / 8] ^= (uint8_t) (1 << (bit % 8));
		}
		snprintf(name, sizeof(name), "Ed25519 %s: false after flipping any of the %zu message bits", v->name, v->msg.n * 8);
		EQ_INT(bad, 0, name);

		bad = 0;
		for (bit = 0; bit < v->sig.n * 8; bit++)
		{
			v->sig.p[bit / 8] ^= (uint8_t) (1 << (bit % 8));
			bad += verify(SIG_ED25519, &v->msg, v->sig.p, v->sig.n, &v->pub) != 0;
			v->sig.p[bit / 8] ^= (uint8_t) (1 << (bit % 8));
		}
		snprintf(name, sizeof(name), "Ed25519 %s: false after flipping any of the 512 signature bits", v->name);
		EQ_INT(bad, 0, name);

		m2 = copy_bytes(v->msg.p, v->msg.n);
		m2.p[m2.n++] = 0;		/* copy_bytes leaves room for one more */
		snprintf(name, sizeof(name), "Ed25519 %s: false with a byte appended to the message", v->name);
		EQ_INT(verify(SIG_ED25519, &m2, v->sig.p, v->sig.n, &v->pub), 0, name);
		free_bytes(&m2);

		snprintf(name, sizeof(name), "Ed25519 %s: false with 63 and with 0 signature bytes", v->name);
		OK(verify(SIG_ED25519, &v->msg, v->sig.p, 63, &v->pub) == 0 &&
		   verify(SIG_ED25519, &v->msg, v->sig.p, 0, &v->pub) == 0, name);
		{
			uint8_t		long_sig[65];

			memcpy(long_sig, v->sig.p, 64);
			long_sig[64] = 0;
			OK(verify(SIG_ED25519, &v->msg, long_sig, 65, &v->pub) == 0, "  ... and 65 bytes");
		}

		crypto_hash_sha256(want_id, v->pub.p, v->pub.n);
		snprintf(name, sizeof(name), "Ed25519 %s: key id is SHA-256 of the 32 key bytes", v->name);
		OK(sig_key_id(SIG_ED25519, v->pub.p, v->pub.n, id, msg, sizeof(msg)) == SIG_OK &&
		   memcmp(id, want_id, sizeof(id)) == 0, name);
	}
	OK(nedvecs == 5, "all five RFC 8032 section 7.1 Ed25519 vectors were run");

	/* NULL message of length zero is the empty message (TEST 1) */
	if (nedvecs > 0 && edvecs[0].msg.n == 0)
	{
		bool		valid = false;

		OK(sig_ed25519_verify(NULL, 0, edvecs[0].sig.p, 64, edvecs[0].pub.p, 32, &valid, msg, sizeof(msg)) == SIG_OK && valid,
		   "Ed25519: a NULL empty message is the empty message");
	}
}

static void
test_ed25519_keys(void)
{
	char		msg[SIG_ERRMSG_SIZE];
	uint8_t		k[33];
	uint8_t		mixed[32];
	/* the point of order 2, (0, -1): y = p - 1 */
	uint8_t		order2[32];
	int			i;

	if (nedvecs == 0)
		return;
	memcpy(k, edvecs[0].pub.p, 32);
	k[32] = 0;
	EQ_INT(key_status(SIG_ED25519, k, 31, msg, sizeof(msg)), SIG_BAD_KEY, "Ed25519: 31-byte key is malformed");
	EQ_INT(key_status(SIG_ED25519, k, 33, msg, sizeof(msg)), SIG_BAD_KEY, "Ed25519: 33-byte key is malformed");
	OK(strstr(msg, "32") != NULL && strstr(msg, "33") != NULL, "  ... and the message says 32 expected, 33 got");
	EQ_INT(key_status(SIG_ED25519, k, 0, msg, sizeof(msg)), SIG_BAD_KEY, "Ed25519: empty key is malformed");
	EQ_INT(key_status(SIG_ED25519, NULL, 0, msg, sizeof(msg)), SIG_BAD_KEY, "Ed25519: NULL key of length 0 is malformed");

	memset(k, 0, 32);
	k[0] = 1;
	EQ_INT(key_status(SIG_ED25519, k, 32, msg, sizeof(msg)), SIG_BAD_KEY, "Ed25519: the neutral element (small order) is malformed");
	memset(k, 0, 32);
	EQ_INT(key_status(SIG_ED25519, k, 32, msg, sizeof(msg)), SIG_BAD_KEY, "Ed25519: all-zero key (a point of order 4) is malformed");
	memset(order2, 0xff, 32);
	order2[0] = 0xec;
	order2[31] = 0x7f;
	EQ_INT(key_status(SIG_ED25519, order2, 32, msg, sizeof(msg)), SIG_BAD_KEY, "Ed25519: the point of order 2 is malformed");
	memset(k, 0xff, 32);
	k[31] = 0x7f;
	EQ_INT(key_status(SIG_ED25519, k, 32, msg, sizeof(msg)), SIG_BAD_KEY, "Ed25519: non-canonical y (>= p) is malformed");

	/* a valid key plus the order-2 point: on the curve, not in the subgroup */
	OK(crypto_core_ed25519_add(mixed, edvecs[0].pub.p, order2) == 0, "Ed25519: made a mixed-order point");
	EQ_INT(key_status(SIG_ED25519, mixed, 32, msg, sizeof(msg)), SIG_BAD_KEY, "Ed25519: a point outside the prime-order subgroup is malformed");

	/* a y whose x^2 is not a square: not on the curve */
	{
		int			found = 0;

		for (i = 2; i < 64 && !found; i++)
		{
			uint8_t		out[32];

			memset(k, 0, 32);
			k[0] = (uint8_t) i;
			/* crypto_core_ed25519_add decodes its operands: -1 when not on the curve */
			if (crypto_core_ed25519_add(out, k, edvecs[0].pub.p) != 0)
			{
				found = 1;
				EQ_INT(key_status(SIG_ED25519, k, 32, msg, sizeof(msg)), SIG_BAD_KEY, "Ed25519: a point not on the curve is malformed");
			}
		}
		OK(found, "Ed25519: found a y not on the curve");
	}
	for (i = 0; i < nedvecs; i++)
		if (key_status(SIG_ED25519, edvecs[i].pub.p, 32, msg, sizeof(msg)) != SIG_OK)
			break;
	OK(i == nedvecs, "Ed25519: every RFC key is well-formed");
}

static void
test_es256_vectors(void)
{
	int			i;
	int			high = 0,
				low = 0;
	int			short_scalars = 0;
	char		name[160];

	OK(nvecs >= 20 && nkeys == 2, "ES256: fixture has two keys and at least 20 signatures");
	for (i = 0; i < nvecs; i++)
	{
		Es256Vec   *v = &vecs[i];
		P256Key    *k = &keys[v->key];
		P256Key    *other = &keys[1 - v->key];
		Bytes		raw = {0},
					der_hi = {0},
					raw_hi = {0};
		bool		was_high = false;
		int			bad = 0;
		size_t		bit,
					n;
		const uint8_t *r,
				   *s;
		size_t		rn,
					sn;

		if (!OK(der_to_forms(&v->der, &raw, &der_hi, &raw_hi, &was_high), "ES256: OpenSSL decodes the fixture signature"))
			continue;
		if (was_high)
			high++;
		else
			low++;
		der_split(&v->der, &r, &rn, &s, &sn);
		if (rn - (r[0] == 0) < 32 || sn - (s[0] == 0) < 32)
			short_scalars++;

		snprintf(name, sizeof(name), "ES256 #%d (key %s, %zu-byte message): DER verifies with SPKI and SEC1 keys",
				 i + 1, k->name, v->msg.n);
		OK(verify(SIG_ES256, &v->msg, v->der.p, v->der.n, &k->spki) == 1 &&
		   verify(SIG_ES256, &v->msg, v->der.p, v->der.n, &k->sec1) == 1, name);
		snprintf(name, sizeof(name), "ES256 #%d: r||s verifies; high-S twin (%s-S original) verifies as DER and r||s",
				 i + 1, was_high ? "high" : "low");
		OK(verify(SIG_ES256, &v->msg, raw.p, raw.n, &k->spki) == 1 &&
		   verify(SIG_ES256, &v->msg, der_hi.p, der_hi.n, &k->sec1) == 1 &&
		   verify(SIG_ES256, &v->msg, raw_hi.p, raw_hi.n, &k->spki) == 1, name);
		snprintf(name, sizeof(name), "ES256 #%d: false with the other key, in all forms", i + 1);
		OK(verify(SIG_ES256, &v->msg, v->der.p, v->der.n, &other->spki) == 0 &&
		   verify(SIG_ES256, &v->msg, raw.p, raw.n, &other->sec1) == 0 &&
		   verify(SIG_ES256, &v->msg, raw_hi.p, raw_hi.n, &other->spki) == 0, name);

		/* every bit of short messages, a spread of bits of long ones */
		for (bit = 0; bit < v->msg.n * 8; bit += (v->msg.n <= 65 ? 1 : 29))
		{
			v->msg.p[bit / 8] ^= (uint8_t) (1 << (bit % 8));
			bad += verify(SIG_ES256, &v->msg, v->der.p, v->der.n, &k->sec1) != 0;
			v->msg.p[bit / 8] ^= (uint8_t) (1 << (bit % 8));
		}
		snprintf(name, sizeof(name), "ES256 #%d: false after flipping message bits", i + 1);
		EQ_INT(bad, 0, name);

		bad = 0;
		for (bit = 0; bit < v->der.n * 8; bit++)
		{
			v->der.p[bit / 8] ^= (uint8_t) (1 << (bit % 8));
			bad += verify(SIG_ES256, &v->msg, v->der.p, v->der.n, &k->sec1) != 0;
			v->der.p[bit / 8] ^= (uint8_t) (1 << (bit % 8));
		}
		for (bit = 0; bit < raw.n * 8; bit++)
		{
			raw.p[bit / 8] ^= (uint8_t) (1 << (bit % 8));
			bad += verify(SIG_ES256, &v->msg, raw.p, raw.n, &k->sec1) != 0;
			raw.p[bit / 8] ^= (uint8_t) (1 << (bit % 8));
		}
		snprintf(name, sizeof(name), "ES256 #%d: false after flipping any bit of the DER or r||s signature", i + 1);
		EQ_INT(bad, 0, name);

		bad = 0;
		for (n = 0; n < v->der.n; n++)
			bad += verify(SIG_ES256, &v->msg, v->der.p, n, &k->sec1) != 0;
		for (n = 0; n < raw.n; n++)
			bad += verify(SIG_ES256, &v->msg, raw.p, n, &k->sec1) != 0;
		snprintf(name, sizeof(name), "ES256 #%d: false for every truncation", i + 1);
		EQ_INT(bad, 0, name);

		free_bytes(&raw);
		free_bytes(&der_hi);
		free_bytes(&raw_hi);
	}
	printf("# %d low-S and %d high-S originals, %d with a short r or s\n", low, high, short_scalars);
	OK(short_scalars >= 1, "ES256: fixture has a signature with r or s shorter than 32 bytes");
}

/* malformed DER, each a correct (r, s) otherwise */
static void
test_es256_malformed(void)
{
	Es256Vec   *v = NULL;
	P256Key    *k;
	const uint8_t *r,
			   *s;
	size_t		rn,
				sn;
	uint8_t		buf[160];
	uint8_t		rv[34],
				sv[34];
	uint8_t		n_bytes[32];
	Bytes		t;
	int			i;

	/* a signature whose r has its high bit set (a 0x00 pad), for the negative case */
	for (i = 0; i < nvecs && v == NULL; i++)
	{
		der_split(&vecs[i].der, &r, &rn, &s, &sn);
		if (rn == 33 && sn <= 33)
			v = &vecs[i];
	}
	if (!OK(v != NULL, "ES256: fixture has a signature with a padded r"))
		return;
	k = &keys[v->key];
	der_split(&v->der, &r, &rn, &s, &sn);
	EQ_INT(verify(SIG_ES256, &v->msg, v->der.p, v->der.n, &k->sec1), 1, "ES256 malformed: the base signature verifies");

	/* extra leading zero in s */
	sv[0] = 0;
	memcpy(sv + 1, s, sn);
	t = der_build(r, rn, sv, sn + 1);
	EQ_INT(refused(&v->msg, t.p, t.n, &k->sec1), 1, "ES256 malformed: non-minimal INTEGER (extra 0x00) is false");
	free_bytes(&t);
	/* two leading zeros in r */
	rv[0] = 0;
	memcpy(rv + 1, r, rn);
	t = der_build(rv, rn + 1, s, sn);
	EQ_INT(refused(&v->msg, t.p, t.n, &k->sec1), 1, "ES256 malformed: non-minimal INTEGER (00 00 prefix) is false");
	free_bytes(&t);
	/* r without its 0x00 pad: a negative INTEGER */
	t = der_build(r + 1, rn - 1, s, sn);
	EQ_INT(refused(&v->msg, t.p, t.n, &k->sec1), 1, "ES256 malformed: negative INTEGER is false");
	free_bytes(&t);

	/* long-form outer length */
	buf[0] = 0x30;
	buf[1] = 0x81;
	memcpy(buf + 2, v->der.p + 1, v->der.n - 1);
	EQ_INT(refused(&v->msg, buf, v->der.n + 1, &k->sec1), 1, "ES256 malformed: long-form SEQUENCE length is false");
	/* long-form INTEGER length */
	{
		size_t		n = 0;

		buf[n++] = 0x30;
		buf[n++] = (uint8_t) (v->der.p[1] + 1);
		buf[n++] = 0x02;
		buf[n++] = 0x81;
		buf[n++] = (uint8_t) rn;
		memcpy(buf + n, r, rn);
		n += rn;
		memcpy(buf + n, s - 2, sn + 2);
		n += sn + 2;
		EQ_INT(refused(&v->msg, buf, n, &k->sec1), 1, "ES256 malformed: long-form INTEGER length is false");
	}
	/* indefinite length */
	buf[0] = 0x30;
	buf[1] = 0x80;
	memcpy(buf + 2, v->der.p + 2, v->der.n - 2);
	buf[v->der.n] = 0;
	buf[v->der.n + 1] = 0;
	EQ_INT(refused(&v->msg, buf, v->der.n + 2, &k->sec1), 1, "ES256 malformed: indefinite length is false");
	/* trailing bytes */
	memcpy(buf, v->der.p, v->der.n);
	buf[v->der.n] = 0;
	EQ_INT(refused(&v->msg, buf, v->der.n + 1, &k->sec1), 1, "ES256 malformed: a trailing 0x00 after the DER is false");
	buf[v->der.n] = 0x05;
	buf[v->der.n + 1] = 0x00;
	EQ_INT(refused(&v->msg, buf, v->der.n + 2, &k->sec1), 1, "ES256 malformed: a trailing NULL after the DER is false");
	/* SEQUENCE length one too long, covering a trailing byte */
	buf[1] = (uint8_t) (v->der.p[1] + 1);
	buf[v->der.n] = 0;
	EQ_INT(refused(&v->msg, buf, v->der.n + 1, &k->sec1), 1, "ES256 malformed: a trailing byte inside the SEQUENCE is false");
	/* wrong tags */
	memcpy(buf, v->der.p, v->der.n);
	buf[0] = 0x31;
	EQ_INT(refused(&v->msg, buf, v->der.n, &k->sec1), 1, "ES256 malformed: SET instead of SEQUENCE is false");
	memcpy(buf, v->der.p, v->der.n);
	buf[2] = 0x03;
	EQ_INT(refused(&v->msg, buf, v->der.n, &k->sec1), 1, "ES256 malformed: BIT STRING instead of INTEGER is false");
	/* three INTEGERs */
	{
		size_t		n = v->der.n;

		memcpy(buf, v->der.p, n);
		buf[n++] = 0x02;
		buf[n++] = 0x01;
		buf[n++] = 0x01;
		buf[1] = (uint8_t) (buf[1] + 3);
		EQ_INT(refused(&v->msg, buf, n, &k->sec1), 1, "ES256 malformed: a third INTEGER is false");
	}

	/* r = 0, s = 0, r = n, s = n, s = n + 1 */
	if (BN_bn2binpad(p256_n, n_bytes, 32) != 32)
		return;
	{
		uint8_t		zero = 0;
		uint8_t		n_pad[33];
		uint8_t		n_plus[33];
		uint8_t		raw[64];
		int			c;

		n_pad[0] = 0;
		memcpy(n_pad + 1, n_bytes, 32);
		memcpy(n_plus, n_pad, 33);
		for (c = 32; c > 0; c--)
			if (++n_plus[c] != 0)
				break;

		t = der_build(&zero, 1, s, sn);
		EQ_INT(refused(&v->msg, t.p, t.n, &k->sec1), 1, "ES256 malformed: r = 0 is false");
		free_bytes(&t);
		t = der_build(r, rn, &zero, 1);
		EQ_INT(refused(&v->msg, t.p, t.n, &k->sec1), 1, "ES256 malformed: s = 0 is false");
		free_bytes(&t);
		t = der_build(n_pad, 33, s, sn);
		EQ_INT(refused(&v->msg, t.p, t.n, &k->sec1), 1, "ES256 malformed: r = n is false");
		free_bytes(&t);
		t = der_build(r, rn, n_pad, 33);
		EQ_INT(refused(&v->msg, t.p, t.n, &k->sec1), 1, "ES256 malformed: s = n is false");
		free_bytes(&t);
		t = der_build(r, rn, n_plus, 33);
		EQ_INT(refused(&v->msg, t.p, t.n, &k->sec1), 1, "ES256 malformed: s = n + 1 is false");
		free_bytes(&t);

		/* s + n: the same residue, which a lax verifier would reduce and accept */
		{
			BIGNUM	   *sb = BN_bin2bn(s, (int) sn, NULL);
			uint8_t		big[34];
			int			len;

			bool		pad;

			BN_add(sb, sb, p256_n);
			len = BN_num_bytes(sb);
			big[0] = 0;
			BN_bn2bin(sb, big + 1);
			pad = (big[1] & 0x80) != 0;
			t = der_build(r, rn, pad ? big : big + 1, (size_t) len + (pad ? 1 : 0));
			EQ_INT(refused(&v->msg, t.p, t.n, &k->sec1), 1, "ES256 malformed: s + n (same residue, too large) is false");
			free_bytes(&t);
			BN_free(sb);
		}

		/* raw: r = 0, s = n, r = n */
		memcpy(raw, r + (rn - 32), 32);
		memcpy(raw + 32, s + (sn > 32 ? sn - 32 : 0), 32);
		if (sn < 32)
		{
			memset(raw + 32, 0, 32 - sn);
			memcpy(raw + 64 - sn, s, sn);
		}
		EQ_INT(verify(SIG_ES256, &v->msg, raw, 64, &k->sec1), 1, "ES256 raw: the base signature verifies as r||s");
		memset(raw, 0, 32);
		EQ_INT(refused(&v->msg, raw, 64, &k->sec1), 1, "ES256 raw: r = 0 is false");
		memcpy(raw, r + (rn - 32), 32);
		memcpy(raw + 32, n_bytes, 32);
		EQ_INT(refused(&v->msg, raw, 64, &k->sec1), 1, "ES256 raw: s = n is false");
		memcpy(raw, n_bytes, 32);
		EQ_INT(refused(&v->msg, raw, 64, &k->sec1), 1, "ES256 raw: r = s = n is false");
		memset(raw, 0xff, 64);
		EQ_INT(refused(&v->msg, raw, 64, &k->sec1), 1, "ES256 raw: all ones is false");
	}

	/* odd shapes */
	EQ_INT(verify(SIG_ES256, &v->msg, NULL, 0, &k->sec1), 0, "ES256: empty signature is false");
	buf[0] = 0x30;
	buf[1] = 0x00;
	EQ_INT(verify(SIG_ES256, &v->msg, buf, 2, &k->sec1), 0, "ES256: empty SEQUENCE is false");
	/* 64 bytes shaped like DER but r, s garbage: false either way, no error */
	memset(buf, 0x11, 64);
	buf[0] = 0x30;
	buf[1] = 62;
	buf[2] = 0x02;
	buf[3] = 29;
	buf[33] = 0x02;
	buf[34] = 29;
	EQ_INT(verify(SIG_ES256, &v->msg, buf, 64, &k->sec1), 0, "ES256: a 64-byte string that is both DER and r||s is false when neither verifies");
	{
		Bytes		big = filled_bytes(0x30, 4096);
		Bytes		emsg = {NULL, 0};

		EQ_INT(verify(SIG_ES256, &v->msg, big.p, big.n, &k->sec1), 0, "ES256: 4096 bytes of 0x30 are false");
		EQ_INT(verify(SIG_ES256, &emsg, v->der.p, v->der.n, &k->sec1), 0, "ES256: the right signature of another (empty) message is false");
		free_bytes(&big);
	}
}

/*
 * A signature (r, s) with r = -e/d mod n makes u1 G + u2 Q the point at
 * infinity, where OpenSSL's verification fails with an error rather than
 * a mismatch.  Anyone holding a private key can make one, so it must be an
 * ordinary false, not a library failure.
 */
static void
test_es256_infinity(void)
{
	EVP_PKEY   *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	BIGNUM	   *d = NULL;
	BIGNUM	   *e = NULL;
	BIGNUM	   *r = BN_new();
	BN_CTX	   *bn = BN_CTX_new();
	unsigned char *enc = NULL;
	uint8_t		digest[32];
	uint8_t		raw[64];
	Bytes		m = copy_bytes((const uint8_t *) "infinity", 8);
	Bytes		key = {NULL, 0};
	int			len = 0;
	bool		made;

	crypto_hash_sha256(digest, m.p, m.n);
	made = pkey != NULL && r != NULL && bn != NULL &&
		EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY, &d) == 1 &&
		(e = BN_bin2bn(digest, 32, NULL)) != NULL &&
		BN_mod_inverse(r, d, p256_n, bn) != NULL &&
		BN_mod_mul(r, r, e, p256_n, bn) == 1 &&
		BN_mod_sub(r, p256_n, r, p256_n, bn) == 1 &&
		!BN_is_zero(r) &&
		BN_bn2binpad(r, raw, 32) == 32 &&
		(len = i2d_PUBKEY(pkey, &enc)) > 0;
	if (OK(made, "ES256: made a signature whose check reaches the point at infinity"))
	{
		memset(raw + 32, 0, 32);
		raw[63] = 1;			/* s = 1 */
		key = copy_bytes(enc, (size_t) len);
		EQ_INT(verify(SIG_ES256, &m, raw, 64, &key), 0, "ES256: ... it is false, not an error");
		free_bytes(&key);
	}
	OPENSSL_free(enc);
	BN_free(d);
	BN_free(e);
	BN_free(r);
	BN_CTX_free(bn);
	EVP_PKEY_free(pkey);
	free_bytes(&m);
}

static void
test_es256_keys(void)
{
	char		msg[SIG_ERRMSG_SIZE];
	uint8_t		canon_a[SIG_CANONICAL_KEY_MAX],
				canon_b[SIG_CANONICAL_KEY_MAX];
	size_t		na = 0,
				nb = 0;
	uint8_t		id_a[SIG_KEY_ID_LEN],
				id_b[SIG_KEY_ID_LEN],
				want[SIG_KEY_ID_LEN];
	uint8_t		buf[512];
	int			i;

	for (i = 0; i < nkeys; i++)
	{
		P256Key    *k = &keys[i];
		char		name[160];

		snprintf(name, sizeof(name), "ES256 key %s: fixture forms have the expected sizes (91, 65, 33)", k->name);
		if (!OK(k->spki.n == 91 && k->sec1.n == 65 && k->sec1_compressed.n == 33 &&
				memcmp(k->spki.p + 26, k->sec1.p, 65) == 0, name))
			continue;

		/* the property the core's byte-exact check rests on */
		{
			const unsigned char *p = k->spki.p;
			EVP_PKEY   *pkey = d2i_PUBKEY(NULL, &p, (long) k->spki.n);
			unsigned char *enc = NULL;
			int			len = pkey != NULL ? i2d_PUBKEY(pkey, &enc) : -1;

			snprintf(name, sizeof(name), "ES256 key %s: OpenSSL decodes the SPKI whole and re-encodes the same 91 bytes", k->name);
			OK(pkey != NULL && p == k->spki.p + k->spki.n && len == 91 && memcmp(enc, k->spki.p, 91) == 0, name);
			OPENSSL_free(enc);
			EVP_PKEY_free(pkey);
		}
		snprintf(name, sizeof(name), "ES256 key %s: SEC1 and SPKI give the same canonical bytes (the point)", k->name);
		OK(sig_canonical_key(SIG_ES256, k->spki.p, k->spki.n, canon_a, &na, msg, sizeof(msg)) == SIG_OK &&
		   sig_canonical_key(SIG_ES256, k->sec1.p, k->sec1.n, canon_b, &nb, msg, sizeof(msg)) == SIG_OK &&
		   na == 65 && nb == 65 && memcmp(canon_a, canon_b, 65) == 0 && memcmp(canon_a, k->sec1.p, 65) == 0, name);
		crypto_hash_sha256(want, k->sec1.p, 65);
		snprintf(name, sizeof(name), "ES256 key %s: both forms have the key id SHA-256(point)", k->name);
		OK(sig_key_id(SIG_ES256, k->spki.p, k->spki.n, id_a, msg, sizeof(msg)) == SIG_OK &&
		   sig_key_id(SIG_ES256, k->sec1.p, k->sec1.n, id_b, msg, sizeof(msg)) == SIG_OK &&
		   memcmp(id_a, want, 32) == 0 && memcmp(id_b, want, 32) == 0, name);

		snprintf(name, sizeof(name), "ES256 key %s: compressed SEC1 point (33 bytes) is malformed", k->name);
		EQ_INT(key_status(SIG_ES256, k->sec1_compressed.p, k->sec1_compressed.n, msg, sizeof(msg)), SIG_BAD_KEY, name);
		OK(strstr(msg, "compressed") != NULL, "  ... and the message says compressed");
		snprintf(name, sizeof(name), "ES256 key %s: SPKI with a compressed point is malformed", k->name);
		EQ_INT(key_status(SIG_ES256, k->spki_compressed.p, k->spki_compressed.n, msg, sizeof(msg)), SIG_BAD_KEY, name);
		OK(strstr(msg, "compressed") != NULL, "  ... and the message says compressed");
		snprintf(name, sizeof(name), "ES256 key %s: SPKI with explicit curve parameters is malformed", k->name);
		EQ_INT(key_status(SIG_ES256, k->spki_explicit.p, k->spki_explicit.n, msg, sizeof(msg)), SIG_BAD_KEY, name);
		OK(strstr(msg, "explicit") != NULL, "  ... and the message says explicit parameters");

		snprintf(name, sizeof(name), "ES256 key %s: X||Y without 0x04 (64 bytes) is malformed", k->name);
		EQ_INT(key_status(SIG_ES256, k->sec1.p + 1, 64, msg, sizeof(msg)), SIG_BAD_KEY, name);
		OK(strstr(msg, "got 64 bytes") != NULL, "  ... and the message gives the length");

		memcpy(buf, k->sec1.p, 65);
		buf[64] ^= 1;
		snprintf(name, sizeof(name), "ES256 key %s: SEC1 point off the curve (Y changed) is malformed", k->name);
		EQ_INT(key_status(SIG_ES256, buf, 65, msg, sizeof(msg)), SIG_BAD_KEY, name);
		memcpy(buf, k->spki.p, 91);
		buf[90] ^= 1;
		snprintf(name, sizeof(name), "ES256 key %s: SPKI with a point off the curve is malformed", k->name);
		EQ_INT(key_status(SIG_ES256, buf, 91, msg, sizeof(msg)), SIG_BAD_KEY, name);
		memcpy(buf, k->sec1.p, 65);
		buf[0] = 0x06 | (k->sec1.p[64] & 1);
		snprintf(name, sizeof(name), "ES256 key %s: hybrid SEC1 point (0x06/0x07) is malformed", k->name);
		EQ_INT(key_status(SIG_ES256, buf, 65, msg, sizeof(msg)), SIG_BAD_KEY, name);

		memcpy(buf, k->spki.p, 91);
		buf[91] = 0;
		snprintf(name, sizeof(name), "ES256 key %s: SPKI with a trailing byte is malformed", k->name);
		EQ_INT(key_status(SIG_ES256, buf, 92, msg, sizeof(msg)), SIG_BAD_KEY, name);
		OK(strstr(msg, "after the end") != NULL, "  ... and the message says so");
		snprintf(name, sizeof(name), "ES256 key %s: truncated SPKI (90 bytes) is malformed", k->name);
		EQ_INT(key_status(SIG_ES256, k->spki.p, 90, msg, sizeof(msg)), SIG_BAD_KEY, name);
		/* the outer length in the long form 0x81 0x59: valid BER, not DER */
		buf[0] = 0x30;
		buf[1] = 0x81;
		memcpy(buf + 2, k->spki.p + 1, 90);
		snprintf(name, sizeof(name), "ES256 key %s: SPKI with a non-minimal length is malformed", k->name);
		EQ_INT(key_status(SIG_ES256, buf, 92, msg, sizeof(msg)), SIG_BAD_KEY, name);
		/* SEC1 with a trailing byte */
		memcpy(buf, k->sec1.p, 65);
		buf[65] = 0;
		snprintf(name, sizeof(name), "ES256 key %s: SEC1 with a trailing byte (66 bytes) is malformed", k->name);
		EQ_INT(key_status(SIG_ES256, buf, 66, msg, sizeof(msg)), SIG_BAD_KEY, name);
	}

	for (i = 0; i < nothers; i++)
	{
		char		name[160];
		SigStatus	st = key_status(SIG_ES256, others[i].bytes.p, others[i].bytes.n, msg, sizeof(msg));

		snprintf(name, sizeof(name), "ES256: a %s key (%s, %zu bytes) is malformed", others[i].name, others[i].form,
				 others[i].bytes.n);
		EQ_INT(st, SIG_BAD_KEY, name);
		printf("#   %s\n", msg);
		{
			const char *want = strcmp(others[i].form, "sec1") == 0 ? "not a point" :
				strcmp(others[i].name, "p384") == 0 ? "secp384r1" :
				strcmp(others[i].name, "k256") == 0 ? "secp256k1" :
				strcmp(others[i].name, "ed25519") == 0 ? "ED25519" : "RSA";

			snprintf(name, sizeof(name), "  ... and the message names the reason (%s)", want);
			OK(strstr(msg, want) != NULL, name);
		}
	}
	OK(nothers >= 5, "ES256: fixture has secp384r1, secp256k1, Ed25519 and RSA keys");

	/* hand-made points */
	memset(buf, 0, 65);
	buf[0] = 0x04;
	EQ_INT(key_status(SIG_ES256, buf, 65, msg, sizeof(msg)), SIG_BAD_KEY, "ES256: the point (0, 0) is malformed");
	memset(buf + 1, 0xff, 64);
	EQ_INT(key_status(SIG_ES256, buf, 65, msg, sizeof(msg)), SIG_BAD_KEY, "ES256: coordinates >= p are malformed");
	buf[0] = 0x00;
	EQ_INT(key_status(SIG_ES256, buf, 1, msg, sizeof(msg)), SIG_BAD_KEY, "ES256: the SEC1 point at infinity (0x00) is malformed");
	if (nkeys > 0)
	{
		memcpy(buf, keys[0].spki.p, 26);
		memset(buf + 26, 0, 65);
		buf[26] = 0x04;
		EQ_INT(key_status(SIG_ES256, buf, 91, msg, sizeof(msg)), SIG_BAD_KEY, "ES256: SPKI of the point (0, 0) is malformed");
		memcpy(buf, keys[0].spki.p, 26);
		memcpy(buf + 26, keys[0].sec1.p, 65);
		buf[26] = 0x05;
		EQ_INT(key_status(SIG_ES256, buf, 91, msg, sizeof(msg)), SIG_BAD_KEY, "ES256: SPKI with point tag 0x05 is malformed");
	}
	EQ_INT(key_status(SIG_ES256, buf, 0, msg, sizeof(msg)), SIG_BAD_KEY, "ES256: empty key is malformed");
	OK(strstr(msg, "got 0 bytes") != NULL, "  ... and the message gives the length");
	EQ_INT(key_status(SIG_ES256, NULL, 0, msg, sizeof(msg)), SIG_BAD_KEY, "ES256: NULL key of length 0 is malformed");
	memset(buf, 0x30, sizeof(buf));
	EQ_INT(key_status(SIG_ES256, buf, sizeof(buf), msg, sizeof(msg)), SIG_BAD_KEY, "ES256: 512 bytes of 0x30 are malformed");
	{
		Bytes		huge = filled_bytes(0x30, 100000);

		EQ_INT(key_status(SIG_ES256, huge.p, huge.n, msg, sizeof(msg)), SIG_BAD_KEY, "ES256: 100000 bytes are malformed");
		OK(strstr(msg, "got 100000 bytes") != NULL, "  ... and the message gives the length");
		free_bytes(&huge);
	}
}

static void
test_arguments(void)
{
	char		msg[SIG_ERRMSG_SIZE];
	char		tiny[8];
	bool		valid = true;
	uint8_t		key[33] = {0x02};
	uint8_t		out[SIG_CANONICAL_KEY_MAX];
	size_t		out_len;

	EQ_INT(sig_verify((SigAlg) 7, (const uint8_t *) "", 0, key, 1, key, 1, &valid, msg, sizeof(msg)), SIG_BAD_ARGUMENT,
		   "unknown algorithm is a bad argument");
	EQ_INT(sig_verify(SIG_ES256, NULL, 5, key, 1, key, 1, &valid, msg, sizeof(msg)), SIG_BAD_ARGUMENT,
		   "NULL message with a length is a bad argument");
	EQ_INT(sig_verify(SIG_ES256, NULL, 0, key, 1, key, 33, NULL, msg, sizeof(msg)), SIG_BAD_ARGUMENT,
		   "no result pointer is a bad argument");
	EQ_INT(sig_canonical_key(SIG_ES256, NULL, 65, out, &out_len, msg, sizeof(msg)), SIG_BAD_ARGUMENT,
		   "NULL key with a length is a bad argument");
	EQ_INT(sig_es256_verify(NULL, 0, NULL, 0, key, 33, &valid, tiny, sizeof(tiny)), SIG_BAD_KEY,
		   "a message buffer of 8 bytes takes a truncated message");
	OK(strlen(tiny) == sizeof(tiny) - 1, "  ... NUL-terminated within its size");
	EQ_INT(sig_es256_verify(NULL, 0, NULL, 0, key, 33, &valid, NULL, 0), SIG_BAD_KEY, "no message buffer at all is fine");
	EQ_INT(sig_ed25519_verify(NULL, 0, NULL, 0, key, 33, &valid, msg, 1), SIG_BAD_KEY, "a 1-byte buffer gets \"\"");
	OK(msg[0] == '\0', "  ... empty");
	OK(strcmp(sig_status_name(SIG_BAD_KEY), "bad key") == 0, "status names");
}

/* many keys: beyond the capacity, LRU order, reset; ASan/LSan watch it */
static void
test_cache(void)
{
	enum
	{
		N_ES = 300, N_ED = 200
	};
	Bytes		spki[N_ES],
				der[N_ES];
	uint8_t		edpk[N_ED][crypto_sign_PUBLICKEYBYTES];
	uint8_t		edsig[N_ED][crypto_sign_BYTES];
	Bytes		m = copy_bytes((const uint8_t *) "cache test message", 18);
	SigCacheStats st0,
				st1,
				st2;
	int			i,
				bad = 0,
				made = 0;
	char		msg[SIG_ERRMSG_SIZE];

	sig_cache_reset();
	sig_cache_stats(&st0);
	EQ_INT(st0.entries, 0, "cache: empty after reset");
	EQ_INT(st0.capacity, SIG_CACHE_SIZE, "cache: capacity reported");

	for (i = 0; i < N_ES; i++)
	{
		EVP_PKEY   *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		EVP_MD_CTX *md = EVP_MD_CTX_new();
		unsigned char *enc = NULL;
		size_t		siglen = 0;
		int			len;

		spki[i].p = NULL;
		der[i].p = NULL;
		if (pkey == NULL || md == NULL ||
			(len = i2d_PUBKEY(pkey, &enc)) <= 0 ||
			EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, pkey) != 1 ||
			EVP_DigestSign(md, NULL, &siglen, m.p, m.n) != 1)
		{
			EVP_PKEY_free(pkey);
			EVP_MD_CTX_free(md);
			OPENSSL_free(enc);
			break;
		}
		spki[i] = copy_bytes(enc, (size_t) len);
		der[i].p = malloc(siglen);
		if (EVP_DigestSign(md, der[i].p, &siglen, m.p, m.n) == 1)
			made++;
		der[i].n = siglen;
		OPENSSL_free(enc);
		EVP_MD_CTX_free(md);
		EVP_PKEY_free(pkey);
	}
	EQ_INT(made, N_ES, "cache: OpenSSL made 300 P-256 keys and signatures");
	for (i = 0; i < N_ED; i++)
	{
		uint8_t		sk[crypto_sign_SECRETKEYBYTES];

		crypto_sign_keypair(edpk[i], sk);
		crypto_sign_detached(edsig[i], NULL, m.p, m.n, sk);
		sodium_memzero(sk, sizeof(sk));
	}

	for (i = 0; i < made; i++)
		bad += verify(SIG_ES256, &m, der[i].p, der[i].n, &spki[i]) != 1;
	for (i = 0; i < N_ED; i++)
	{
		Bytes		pk = {edpk[i], sizeof(edpk[i])};

		bad += verify(SIG_ED25519, &m, edsig[i], sizeof(edsig[i]), &pk) != 1;
	}
	EQ_INT(bad, 0, "cache: 300 ES256 and 200 Ed25519 keys verify through a 128-entry cache");
	sig_cache_stats(&st1);
	EQ_INT(st1.entries, SIG_CACHE_SIZE, "cache: full");
	EQ_INT(st1.misses - st0.misses, made + N_ED, "cache: one miss per new key");
	EQ_INT(st1.evictions - st0.evictions, made + N_ED - SIG_CACHE_SIZE, "cache: the overflow was evicted");

	/* the most recent key is a hit; the first was evicted and comes back */
	{
		Bytes		pk = {edpk[N_ED - 1], sizeof(edpk[0])};

		EQ_INT(verify(SIG_ED25519, &m, edsig[N_ED - 1], 64, &pk), 1, "cache: the newest key verifies again");
	}
	EQ_INT(verify(SIG_ES256, &m, der[0].p, der[0].n, &spki[0]), 1, "cache: the first (evicted) key verifies again");
	sig_cache_stats(&st2);
	EQ_INT(st2.hits - st1.hits, 1, "cache: the newest key was a hit");
	EQ_INT(st2.misses - st1.misses, 1, "cache: the evicted key was a miss");

	/* LRU: keep touching key 0 while 200 more keys pass: it stays */
	for (i = 1; i < 201 && i < made; i++)
	{
		verify(SIG_ES256, &m, der[0].p, der[0].n, &spki[0]);
		verify(SIG_ES256, &m, der[i].p, der[i].n, &spki[i]);
	}
	sig_cache_stats(&st1);
	EQ_INT(verify(SIG_ES256, &m, der[0].p, der[0].n, &spki[0]), 1, "cache: a key in constant use ...");
	sig_cache_stats(&st2);
	EQ_INT(st2.hits - st1.hits, 1, "  ... is never evicted (LRU)");

	/* malformed keys are not cached */
	sig_cache_stats(&st1);
	for (i = 0; i < 50; i++)
	{
		uint8_t		junk[65];

		memset(junk, i, sizeof(junk));
		junk[0] = 0x04;
		key_status(SIG_ES256, junk, sizeof(junk), msg, sizeof(msg));
	}
	sig_cache_stats(&st2);
	OK(st2.misses == st1.misses && st2.evictions == st1.evictions, "cache: malformed keys take no entry");

	sig_cache_reset();
	sig_cache_stats(&st1);
	EQ_INT(st1.entries, 0, "cache: reset empties it");
	EQ_INT(verify(SIG_ES256, &m, der[5].p, der[5].n, &spki[5]), 1, "cache: verification works after a reset");
	bad = 0;
	for (i = 0; i < 3; i++)
	{
		sig_cache_reset();
		bad += verify(SIG_ES256, &m, der[i].p, der[i].n, &spki[i]) != 1;
	}
	EQ_INT(bad, 0, "cache: reset between calls is harmless");

	for (i = 0; i < N_ES; i++)
	{
		free_bytes(&spki[i]);
		free_bytes(&der[i]);
	}
	free_bytes(&m);
}

/*
 * Fail each OpenSSL allocation of a verification in turn, with the key
 * parsed afresh (or cached): the answer must be right or SIG_FAILURE,
 * never "malformed key" or "false", and nothing may leak (LSan).
 */
static void
test_out_of_memory(const Bytes *msg, const Bytes *sig, const Bytes *key, bool cached, const char *what)
{
	long		k;
	int			wrong = 0,
				failures = 0;
	char		name[160];
	char		err[SIG_ERRMSG_SIZE];

	for (k = 0; k < 100000; k++)
	{
		bool		valid = false;
		SigStatus	st;

		sig_cache_reset();
		if (cached)
			verify(SIG_ES256, msg, sig->p, sig->n, key);
		oom_failed = 0;
		oom_countdown = k;
		st = sig_verify(SIG_ES256, msg->p, msg->n, sig->p, sig->n, key->p, key->n, &valid, err, sizeof(err));
		oom_countdown = -1;
		note_queue();
		if (st == SIG_FAILURE)
			failures++;
		else if (st != SIG_OK || !valid)
		{
			if (wrong++ < 3)
				printf("# allocation %ld failed: %s, valid %d: %s\n", k, sig_status_name(st), (int) valid, err);
		}
		if (oom_failed == 0)
			break;				/* every allocation of the call was passed */
	}
	snprintf(name, sizeof(name), "out of memory at each of %ld OpenSSL allocations (%s): right answer or SIG_FAILURE (%d)",
			 k, what, failures);
	EQ_INT(wrong, 0, name);
	/* and all is well afterwards */
	snprintf(name, sizeof(name), "  ... and the next verification (%s) is true", what);
	EQ_INT(verify(SIG_ES256, msg, sig->p, sig->n, key), 1, name);
}

/* the fixture next to the given one, or relative to the repository root */
static FILE *
open_fixture(const char *given, const char *argv0, char *path, size_t size)
{
	char		tmp[4096];

	if (given != NULL)
	{
		snprintf(path, size, "%s", given);
		return fopen(path, "r");
	}
	snprintf(path, size, "test/fixtures/es256_vectors.txt");
	if (access(path, R_OK) == 0)
		return fopen(path, "r");
	snprintf(tmp, sizeof(tmp), "%s", argv0);
	snprintf(path, size, "%s/../fixtures/es256_vectors.txt", dirname(tmp));
	return fopen(path, "r");
}

int
main(int argc, char **argv)
{
	char		es_path[4096];
	char		ed_path[4096];
	char		tmp[4096];
	FILE	   *f;
	EC_GROUP   *group;
	int			i;

	/* before OpenSSL allocates anything */
	CRYPTO_set_mem_functions(test_malloc, test_realloc, test_free);
	OK(sodium_init() >= 0, "libsodium initialised");
	group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
	p256_n = group != NULL ? BN_dup(EC_GROUP_get0_order(group)) : NULL;
	EC_GROUP_free(group);
	if (!OK(p256_n != NULL, "OpenSSL gives the P-256 order"))
		return unit_done();

	f = open_fixture(argc > 1 ? argv[1] : NULL, argv[0], es_path, sizeof(es_path));
	if (f != NULL)
		fclose(f);
	snprintf(tmp, sizeof(tmp), "%s", es_path);
	snprintf(ed_path, sizeof(ed_path), "%s/ed25519_rfc8032.txt", dirname(tmp));
	printf("# fixtures: %s, %s\n", es_path, ed_path);
	OK(f != NULL && read_es256(es_path), "ES256 fixture read");
	OK(read_ed25519(ed_path), "Ed25519 fixture read");

	test_ed25519();
	test_ed25519_keys();
	if (nkeys == 2)
	{
		test_es256_keys();
		test_es256_vectors();
		test_es256_malformed();
		test_es256_infinity();
	}
	test_arguments();
	test_cache();
	if (nvecs > 0)
	{
		P256Key    *k = &keys[vecs[0].key];

		test_out_of_memory(&vecs[0].msg, &vecs[0].der, &k->spki, false, "SPKI key parsed");
		test_out_of_memory(&vecs[0].msg, &vecs[0].der, &k->sec1, false, "SEC1 key parsed");
		test_out_of_memory(&vecs[0].msg, &vecs[0].der, &k->sec1, true, "key cached");
	}

	EQ_INT(dirty_queue, 0, "OpenSSL's error queue was empty after every call");
	EQ_INT(leaky_messages, 0, "no message quotes key or signature bytes");

	sig_cache_reset();
	for (i = 0; i < nkeys; i++)
	{
		free_bytes(&keys[i].spki);
		free_bytes(&keys[i].sec1);
		free_bytes(&keys[i].sec1_compressed);
		free_bytes(&keys[i].spki_compressed);
		free_bytes(&keys[i].spki_explicit);
	}
	for (i = 0; i < nothers; i++)
		free_bytes(&others[i].bytes);
	for (i = 0; i < nvecs; i++)
	{
		free_bytes(&vecs[i].msg);
		free_bytes(&vecs[i].der);
	}
	for (i = 0; i < nedvecs; i++)
	{
		free_bytes(&edvecs[i].secret);
		free_bytes(&edvecs[i].pub);
		free_bytes(&edvecs[i].msg);
		free_bytes(&edvecs[i].sig);
	}
	BN_free(p256_n);
	return unit_done();
}
