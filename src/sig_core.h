/*-------------------------------------------------------------------------
 *
 * sig_core.h
 *		Pure C verification of device signatures (ES256 and Ed25519) with a
 *		per-process cache of parsed public keys (no server headers).
 *
 * Copyright (c) 2026, fieldops developers
 *
 * IDENTIFICATION
 *		src/sig_core.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SIG_CORE_H
#define SIG_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* accepted public key forms, in bytes */
#define SIG_ED25519_KEY_LEN		32	/* crypto_sign_PUBLICKEYBYTES */
#define SIG_ES256_SEC1_LEN		65	/* 0x04 || X || Y */
#define SIG_ES256_SPKI_LEN		91	/* DER SubjectPublicKeyInfo of a P-256 point */

/* canonical key bytes: the SEC1 point (ES256) or the 32 raw bytes (Ed25519) */
#define SIG_CANONICAL_KEY_MAX	65
/* a key id is SHA-256 of the canonical key bytes */
#define SIG_KEY_ID_LEN			32
/* parsed keys kept per process */
#define SIG_CACHE_SIZE			128
/* a message buffer of this size never truncates a message */
#define SIG_ERRMSG_SIZE			256

typedef enum SigAlg
{
	SIG_ES256 = 1,				/* ECDSA on P-256 with SHA-256 */
	SIG_ED25519 = 2				/* Ed25519 (RFC 8032, pure) */
} SigAlg;

typedef enum SigStatus
{
	SIG_OK = 0,					/* done; for verify, *valid holds the answer */
	SIG_BAD_KEY,				/* malformed public key (SQLSTATE 22023) */
	SIG_BAD_ARGUMENT,			/* unknown algorithm or NULL with a length */
	SIG_FAILURE					/* the crypto library failed (out of memory) */
} SigStatus;

typedef struct SigCacheStats
{
	uint64_t	hits;			/* lookups answered from the cache */
	uint64_t	misses;			/* well-formed keys parsed and inserted */
	uint64_t	evictions;		/* entries dropped to make room */
	uint64_t	resets;			/* calls of sig_cache_reset() */
	int			entries;		/* entries in use now */
	int			capacity;		/* SIG_CACHE_SIZE */
} SigCacheStats;

/*
 * Every function below fills errbuf (when errbuf_size > 0) with a
 * NUL-terminated message in English that never contains key bytes: why the
 * key is malformed (SIG_BAD_KEY), why a signature is false (SIG_OK with
 * *valid false; for logs only), or "" when all is well.
 */
extern SigStatus sig_verify(SigAlg alg,
							const uint8_t *msg, size_t msg_len,
							const uint8_t *sig, size_t sig_len,
							const uint8_t *key, size_t key_len,
							bool *valid, char *errbuf, size_t errbuf_size);
extern SigStatus sig_es256_verify(const uint8_t *msg, size_t msg_len,
								  const uint8_t *sig, size_t sig_len,
								  const uint8_t *key, size_t key_len,
								  bool *valid, char *errbuf, size_t errbuf_size);
extern SigStatus sig_ed25519_verify(const uint8_t *msg, size_t msg_len,
									const uint8_t *sig, size_t sig_len,
									const uint8_t *key, size_t key_len,
									bool *valid, char *errbuf, size_t errbuf_size);

extern SigStatus sig_canonical_key(SigAlg alg, const uint8_t *key, size_t key_len,
								   uint8_t out[SIG_CANONICAL_KEY_MAX], size_t *out_len,
								   char *errbuf, size_t errbuf_size);
extern SigStatus sig_key_id(SigAlg alg, const uint8_t *key, size_t key_len,
							uint8_t out[SIG_KEY_ID_LEN],
							char *errbuf, size_t errbuf_size);

extern void sig_cache_reset(void);
extern void sig_cache_stats(SigCacheStats *stats);
extern const char *sig_status_name(SigStatus status);

#endif							/* SIG_CORE_H */
