/*-------------------------------------------------------------------------
 *
 * receipt_core.h
 *		Server receipts for photo submissions: layout v1, signing and
 *		checking with Ed25519 (pure C over libsodium).
 *
 * Copyright (c) 2026, fieldops developers
 *
 * IDENTIFICATION
 *		src/receipt_core.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECEIPT_CORE_H
#define RECEIPT_CORE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Receipt v1, big-endian, 160 bytes:
 *   0  "FOPR"   4  version 1   5  verdict (1 accepted, 2 review, 3 rejected)
 *   6  two zero bytes          8  tenant id   16  photo id
 *  24  receive time, microseconds since the Unix epoch
 *  32  SHA-256 of the manifest 64  chain hash of the photo's entry
 *  96  Ed25519 signature over bytes 0..95
 */
#define RECEIPT_V1_SIGNED_LEN	96
#define RECEIPT_V1_LEN			160
#define RECEIPT_SEED_LEN		32
#define RECEIPT_PUBLIC_KEY_LEN	32
#define RECEIPT_SECRET_KEY_LEN	64

typedef struct Receipt
{
	int			verdict;		/* 1 accepted, 2 review, 3 rejected */
	int64_t		tenant_id;
	int64_t		photo_id;
	int64_t		received_us;	/* since 1970-01-01 00:00 UTC */
	uint8_t		manifest_sha256[32];
	uint8_t		chain_hash[32];
} Receipt;

typedef enum ReceiptCheck
{
	RECEIPT_VALID,
	RECEIPT_MALFORMED,			/* length, magic, version or field range */
	RECEIPT_BAD_SIGNATURE		/* well formed, but not signed by this key */
} ReceiptCheck;

extern int	receipt_verdict_code(const char *verdict);
extern const char *receipt_verdict_name(int code);
extern void receipt_encode(const Receipt *r, uint8_t out[RECEIPT_V1_SIGNED_LEN]);
extern int	receipt_sign(const Receipt *r, const uint8_t *secret_key, uint8_t out[RECEIPT_V1_LEN]);
extern ReceiptCheck receipt_check(const uint8_t *buf, size_t len, const uint8_t *public_key, Receipt *r);
extern int	receipt_parse_key_file(const char *text, size_t len, uint8_t seed[RECEIPT_SEED_LEN]);

#endif							/* RECEIPT_CORE_H */
