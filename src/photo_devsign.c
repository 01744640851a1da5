/*-------------------------------------------------------------------------
 *
 * photo_devsign.c
 *		A phone's side of photo signing, for tests, the demo and the
 *		benchmarks: derive a key pair from a 32-byte seed and sign.
 *
 * Phones sign with keys that never leave their secure hardware; the server
 * only verifies.  But the suites, the demo and pgbench need signed
 * manifests made inside SQL, with nonces the server issues at run time.
 * These two C functions are in the module for that purpose only: the
 * extension's script does not declare them, so no role can call them until
 * a superuser binds them explicitly, e.g.
 *
 *   CREATE FUNCTION test_public_key(text, bytea) RETURNS bytea
 *       AS 'fieldops', 'fieldops_dev_public_key' LANGUAGE C STRICT;
 *   CREATE FUNCTION test_sign(text, bytea, bytea) RETURNS bytea
 *       AS 'fieldops', 'fieldops_dev_sign' LANGUAGE C STRICT;
 *
 * ES256 takes the seed as the private scalar (big-endian, 1..n-1) and signs
 * with OpenSSL (random k, DER output); Ed25519 uses libsodium's seeded key.
 *
 * Copyright (c) 2026, fieldops developers
 *
 * IDENTIFICATION
 *		src/photo_devsign.c
 *
 *-------------------------------------------------------------------------
 */
#include "fieldops.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <sodium.h>

#include "fmgr.h"
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(fieldops_dev_public_key);
PG_FUNCTION_INFO_V1(fieldops_dev_sign);

#define DEV_SEED_LEN 32

/* the seed argument, exactly 32 bytes */
static const uint8_t *
seed_arg(bytea *b)
{
	if (VARSIZE_ANY_EXHDR(b) != DEV_SEED_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the seed must be %d bytes, got %d", DEV_SEED_LEN, (int) VARSIZE_ANY_EXHDR(b))));
	return (const uint8_t *) VARDATA_ANY(b);
}

/* true for es256, false for ed25519, error otherwise */
static bool
is_es256(text *t)
{
	return fieldops_algorithm_arg(t, "algorithm") == 1;
}

/*
 * An EVP_PKEY for the P-256 scalar in seed, and its uncompressed public
 * point in pub.  OpenSSL 3 does not derive the public key from a private
 * one given as parameters, hence the explicit point multiplication.
 */
static EVP_PKEY *
es256_key(const uint8_t *seed, uint8_t pub[65])
{
	EC_GROUP   *group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
	BIGNUM	   *priv = BN_bin2bn(seed, DEV_SEED_LEN, NULL);
	EC_POINT   *point = group ? EC_POINT_new(group) : NULL;
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	EVP_PKEY   *pkey = NULL;
	bool		ok;

	ok = group && priv && point && bld && ctx &&
		!BN_is_zero(priv) && BN_cmp(priv, EC_GROUP_get0_order(group)) < 0 &&
		EC_POINT_mul(group, point, priv, NULL, NULL, NULL) == 1 &&
		EC_POINT_point2oct(group, point, POINT_CONVERSION_UNCOMPRESSED, pub, 65, NULL) == 65 &&
		OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) == 1 &&
		OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, priv) == 1 &&
		OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, 65) == 1 &&
		(params = OSSL_PARAM_BLD_to_param(bld)) != NULL &&
		EVP_PKEY_fromdata_init(ctx) == 1 &&
		EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_KEYPAIR, params) == 1;
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);
	EC_POINT_free(point);
	BN_clear_free(priv);
	EC_GROUP_free(group);
	ERR_clear_error();
	if (!ok)
	{
		EVP_PKEY_free(pkey);
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the seed is not a valid P-256 private key (it must be 1..n-1 as a big-endian number)")));
	}
	return pkey;
}

/* test_public_key(algorithm, seed): the public key phones would enrol */
Datum
fieldops_dev_public_key(PG_FUNCTION_ARGS)
{
	const uint8_t *seed = seed_arg(PG_GETARG_BYTEA_PP(1));
	uint8_t		pub[65];

	if (is_es256(PG_GETARG_TEXT_PP(0)))
	{
		EVP_PKEY_free(es256_key(seed, pub));
		PG_RETURN_BYTEA_P(fieldops_bytea(pub, 65));
	}
	else
	{
		uint8_t		sk[crypto_sign_SECRETKEYBYTES];

		crypto_sign_seed_keypair(pub, sk, seed);
		sodium_memzero(sk, sizeof(sk));
		PG_RETURN_BYTEA_P(fieldops_bytea(pub, crypto_sign_PUBLICKEYBYTES));
	}
}

/* test_sign(algorithm, seed, message): a signature as a phone makes it */
Datum
fieldops_dev_sign(PG_FUNCTION_ARGS)
{
	const uint8_t *seed = seed_arg(PG_GETARG_BYTEA_PP(1));
	bytea	   *msg = PG_GETARG_BYTEA_PP(2);
	uint8_t		pub[65];

	if (is_es256(PG_GETARG_TEXT_PP(0)))
	{
		EVP_PKEY   *pkey = es256_key(seed, pub);
		EVP_MD_CTX *md = EVP_MD_CTX_new();
		uint8_t		sig[80];
		size_t		sig_len = sizeof(sig);
		bool		ok;

		ok = md && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, pkey) == 1 &&
			EVP_DigestSign(md, sig, &sig_len, (const uint8_t *) VARDATA_ANY(msg), VARSIZE_ANY_EXHDR(msg)) == 1;
		EVP_MD_CTX_free(md);
		EVP_PKEY_free(pkey);
		ERR_clear_error();
		if (!ok)
			elog(ERROR, "fieldops: ES256 signing failed");
		PG_RETURN_BYTEA_P(fieldops_bytea(sig, sig_len));
	}
	else
	{
		uint8_t		sk[crypto_sign_SECRETKEYBYTES];
		uint8_t		sig[crypto_sign_BYTES];

		crypto_sign_seed_keypair(pub, sk, seed);
		crypto_sign_detached(sig, NULL, (const uint8_t *) VARDATA_ANY(msg), VARSIZE_ANY_EXHDR(msg), sk);
		sodium_memzero(sk, sizeof(sk));
		PG_RETURN_BYTEA_P(fieldops_bytea(sig, crypto_sign_BYTES));
	}
}
