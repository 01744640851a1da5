/*-------------------------------------------------------------------------
 *
 * sig_bench.c
 *		Inputs and baseline of make bench-photo: signed messages, and a
 *		plain C loop verifying them with the crypto libraries directly.
 *
 *   sig_bench gen N SEED FILE    write N ES256 and N Ed25519 signed messages
 *                                (COPY text format: alg, message, signature,
 *                                public key as \x hex) to FILE
 *   sig_bench loop FILE ALG      verify every ALG row of FILE once with the
 *                                libraries (keys parsed once and cached, as
 *                                fieldops caches them), print "ms valid"
 *
 * Messages are 196 bytes (a manifest's size) from a seeded xorshift
 * generator; 64 keys per algorithm, each signing N/64 messages (a company's
 * phones).  Ed25519 keys come from seeded seeds; ES256 keys and signatures
 * use OpenSSL's random generator (ECDSA signing is randomised), so the
 * signatures differ between runs but both sides of one run verify the same
 * file.  The baseline is what fieldops does minus SQL: for ES256 a SHA-256
 * digest and EVP_PKEY_verify on a context initialised once per key, for
 * Ed25519 crypto_sign_verify_detached.
 *
 * Copyright (c) 2026, fieldops developers
 *
 * IDENTIFICATION
 *		test/bench/sig_bench.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <sodium.h>

#define MSG_LEN		196
#define NKEYS		64
#define MAX_SIG		80
#define MAX_LINE	4096

static uint64_t rng_state;

/* xorshift64*: seeded, reproducible message bytes */
static uint64_t
rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * UINT64_C(2685821657736338717);
}

static void
put_hex(FILE *f, const uint8_t *p, size_t n)
{
	fputs("\\\\x", f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%02x", p[i]);
}

static void
die(const char *what)
{
	fprintf(stderr, "sig_bench: %s\n", what);
	exit(2);
}

/* write n rows per algorithm */
static void
generate(long n, uint64_t seed, const char *path)
{
	FILE	   *f = fopen(path, "w");
	EVP_PKEY   *es[NKEYS];
	uint8_t		es_pub[NKEYS][65];
	uint8_t		ed_pub[NKEYS][crypto_sign_PUBLICKEYBYTES];
	uint8_t		ed_sk[NKEYS][crypto_sign_SECRETKEYBYTES];
	uint8_t		msg[MSG_LEN];
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	if (f == NULL || md == NULL)
		die("cannot open the output file");
	rng_state = seed ? seed : 1;
	for (int k = 0; k < NKEYS; k++)
	{
		uint8_t		s[crypto_sign_SEEDBYTES];
		size_t		len = 0;

		es[k] = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		if (es[k] == NULL ||
			EVP_PKEY_get_octet_string_param(es[k], OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, es_pub[k], 65, &len) != 1 ||
			len != 65)
			die("ES256 key generation failed");
		for (size_t i = 0; i < sizeof(s); i++)
			s[i] = (uint8_t) rng();
		crypto_sign_seed_keypair(ed_pub[k], ed_sk[k], s);
	}
	for (long i = 0; i < 2 * n; i++)
	{
		int			k = (int) (i % NKEYS);
		uint8_t		sig[MAX_SIG];
		size_t		sig_len = sizeof(sig);

		for (int j = 0; j < MSG_LEN; j++)
			msg[j] = (uint8_t) rng();
		if (i < n)
		{
			/* a fresh context per key: a reused one keeps its first key */
			if (EVP_MD_CTX_reset(md) != 1 ||
				EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, es[k]) != 1 ||
				EVP_DigestSign(md, sig, &sig_len, msg, MSG_LEN) != 1)
				die("ES256 signing failed");
			fputs("es256\t", f);
		}
		else
		{
			crypto_sign_detached(sig, NULL, msg, MSG_LEN, ed_sk[k]);
			sig_len = crypto_sign_BYTES;
			fputs("ed25519\t", f);
		}
		put_hex(f, msg, MSG_LEN);
		fputc('\t', f);
		put_hex(f, sig, sig_len);
		fputc('\t', f);
		if (i < n)
			put_hex(f, es_pub[k], 65);
		else
			put_hex(f, ed_pub[k], crypto_sign_PUBLICKEYBYTES);
		fputc('\n', f);
	}
	for (int k = 0; k < NKEYS; k++)
		EVP_PKEY_free(es[k]);
	EVP_MD_CTX_free(md);
	if (fclose(f) != 0)
		die("cannot write the output file");
}

/* parse "\\x..." hex (as written above) into out; returns the length */
static size_t
get_hex(const char *s, uint8_t *out, size_t max)
{
	size_t		n = 0;

	if (strncmp(s, "\\\\x", 3) != 0)
		die("bad field");
	s += 3;
	while (s[0] && s[1] && s[0] != '\t' && s[0] != '\n')
	{
		unsigned	v;

		if (n == max || sscanf(s, "%2x", &v) != 1)
			die("bad hex");
		out[n++] = (uint8_t) v;
		s += 2;
	}
	return n;
}

typedef struct Row
{
	uint8_t		msg[MSG_LEN];
	uint8_t		sig[MAX_SIG];
	size_t		sig_len;
	int			key;
} Row;

/* time one pass of the library calls over the file's ALG rows */
static void
loop(const char *path, const char *alg)
{
	FILE	   *f = fopen(path, "r");
	char		line[MAX_LINE];
	uint8_t		pubs[NKEYS][65];
	EVP_PKEY_CTX *ctx[NKEYS];
	int			nkeys = 0;
	Row		   *rows = NULL;
	long		nrows = 0,
				cap = 0,
				valid = 0;
	bool		es = strcmp(alg, "es256") == 0;
	size_t		pub_len = es ? 65 : crypto_sign_PUBLICKEYBYTES;
	struct timespec t0,
				t1;

	if (f == NULL)
		die("cannot open the input file");
	while (fgets(line, sizeof(line), f))
	{
		char	   *tab1 = strchr(line, '\t'),
				   *tab2,
				   *tab3;
		uint8_t		pub[65];
		int			k;

		if (tab1 == NULL || strncmp(line, alg, (size_t) (tab1 - line)) != 0 || strlen(alg) != (size_t) (tab1 - line))
			continue;
		tab2 = strchr(tab1 + 1, '\t');
		tab3 = tab2 ? strchr(tab2 + 1, '\t') : NULL;
		if (tab3 == NULL)
			die("bad line");
		if (nrows == cap)
		{
			cap = cap ? 2 * cap : 1024;
			rows = realloc(rows, (size_t) cap * sizeof(Row));
			if (rows == NULL)
				die("out of memory");
		}
		if (get_hex(tab1 + 1, rows[nrows].msg, MSG_LEN) != MSG_LEN)
			die("bad message");
		rows[nrows].sig_len = get_hex(tab2 + 1, rows[nrows].sig, MAX_SIG);
		if (get_hex(tab3 + 1, pub, sizeof(pub)) != pub_len)
			die("bad key");
		for (k = 0; k < nkeys && memcmp(pubs[k], pub, pub_len) != 0; k++)
			;
		if (k == nkeys)
		{
			if (nkeys == NKEYS)
				die("too many keys");
			memcpy(pubs[k], pub, pub_len);
			ctx[k] = NULL;
			if (es)
			{
				OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
				OSSL_PARAM *params;
				EVP_PKEY_CTX *kctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
				EVP_PKEY   *pkey = NULL;

				OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
				OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, 65);
				params = OSSL_PARAM_BLD_to_param(bld);
				if (EVP_PKEY_fromdata_init(kctx) != 1 || EVP_PKEY_fromdata(kctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
					die("cannot parse an ES256 key");
				ctx[k] = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
				if (ctx[k] == NULL || EVP_PKEY_verify_init(ctx[k]) != 1 ||
					EVP_PKEY_CTX_set_signature_md(ctx[k], EVP_sha256()) != 1)
					die("cannot prepare an ES256 key");
				EVP_PKEY_free(pkey);
				OSSL_PARAM_free(params);
				OSSL_PARAM_BLD_free(bld);
				EVP_PKEY_CTX_free(kctx);
			}
			nkeys++;
		}
		rows[nrows].key = k;
		nrows++;
	}
	fclose(f);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < nrows; i++)
	{
		Row		   *r = &rows[i];

		if (es)
		{
			uint8_t		digest[32];

			EVP_Digest(r->msg, MSG_LEN, digest, NULL, EVP_sha256(), NULL);
			valid += EVP_PKEY_verify(ctx[r->key], r->sig, r->sig_len, digest, sizeof(digest)) == 1;
		}
		else
			valid += crypto_sign_verify_detached(r->sig, r->msg, MSG_LEN, pubs[r->key]) == 0;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%.3f %ld %ld\n", (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6, valid, nrows);
	for (int k = 0; k < nkeys; k++)
		EVP_PKEY_CTX_free(ctx[k]);
	free(rows);
}

int
main(int argc, char **argv)
{
	if (sodium_init() < 0)
		die("libsodium did not initialise");
	if (argc == 5 && strcmp(argv[1], "gen") == 0)
		generate(atol(argv[2]), strtoull(argv[3], NULL, 10), argv[4]);
	else if (argc == 4 && strcmp(argv[1], "loop") == 0)
		loop(argv[2], argv[3]);
	else
	{
		fprintf(stderr, "usage: sig_bench gen N SEED FILE | sig_bench loop FILE es256|ed25519\n");
		return 2;
	}
	return 0;
}
