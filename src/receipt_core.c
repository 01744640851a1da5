/*-------------------------------------------------------------------------
 *
 * receipt_core.c
 *		Server receipts for photo submissions (pure C over libsodium).
 *
 * A receipt is what the server hands back for every photo it judged: a
 * fixed 96-byte statement (which photo, which manifest, when received, the
 * verdict, and the photo's place in the tenant's hash chain) signed with the
 * server's Ed25519 key.  A client that keeps its receipts can later prove
 * what the server said, and a chain rewritten in the database no longer
 * matches them.  The layout is fixed and big-endian for the same reason as
 * the manifest's: anyone can check it with any Ed25519 library.
 *
 * Copyright (c) 2026, fieldops developers
 *
 * IDENTIFICATION
 *		src/receipt_core.c
 *
 *-------------------------------------------------------------------------
 */
#include "receipt_core.h"

#include <string.h>

#include <sodium.h>

static const uint8_t receipt_magic[4] = {'F', 'O', 'P', 'R'};

/* 1, 2 or 3 for a verdict name, 0 for anything else */
int
receipt_verdict_code(const char *verdict)
{
	if (strcmp(verdict, "accepted") == 0)
		return 1;
	if (strcmp(verdict, "review") == 0)
		return 2;
	if (strcmp(verdict, "rejected") == 0)
		return 3;
	return 0;
}

/* the verdict name of a code, NULL if the code is not one */
const char *
receipt_verdict_name(int code)
{
	switch (code)
	{
		case 1:
			return "accepted";
		case 2:
			return "review";
		case 3:
			return "rejected";
	}
	return NULL;
}

static void
put64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--)
	{
		p[i] = (uint8_t) (v & 0xff);
		v >>= 8;
	}
}

static uint64_t
get64(const uint8_t *p)
{
	uint64_t	v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

/* the signed part of a receipt; explicit shifts keep it host-independent */
void
receipt_encode(const Receipt *r, uint8_t out[RECEIPT_V1_SIGNED_LEN])
{
	memcpy(out, receipt_magic, 4);
	out[4] = 1;
	out[5] = (uint8_t) r->verdict;
	out[6] = 0;
	out[7] = 0;
	put64(out + 8, (uint64_t) r->tenant_id);
	put64(out + 16, (uint64_t) r->photo_id);
	put64(out + 24, (uint64_t) r->received_us);
	memcpy(out + 32, r->manifest_sha256, 32);
	memcpy(out + 64, r->chain_hash, 32);
}

/*
 * Encode and sign.  Returns 0, or -1 for a verdict code out of range (the
 * caller maps names with receipt_verdict_code and must not sign garbage).
 */
int
receipt_sign(const Receipt *r, const uint8_t *secret_key, uint8_t out[RECEIPT_V1_LEN])
{
	if (receipt_verdict_name(r->verdict) == NULL)
		return -1;
	receipt_encode(r, out);
	return crypto_sign_detached(out + RECEIPT_V1_SIGNED_LEN, NULL, out, RECEIPT_V1_SIGNED_LEN, secret_key);
}

/*
 * Decode a receipt and check its signature.  The fields are filled for a
 * well-formed receipt even when the signature fails, so an auditor sees
 * what a forged or altered receipt claims.
 */
ReceiptCheck
receipt_check(const uint8_t *buf, size_t len, const uint8_t *public_key, Receipt *r)
{
	memset(r, 0, sizeof(*r));
	if (len != RECEIPT_V1_LEN || memcmp(buf, receipt_magic, 4) != 0 || buf[4] != 1 ||
		receipt_verdict_name(buf[5]) == NULL || buf[6] != 0 || buf[7] != 0)
		return RECEIPT_MALFORMED;
	r->verdict = buf[5];
	r->tenant_id = (int64_t) get64(buf + 8);
	r->photo_id = (int64_t) get64(buf + 16);
	r->received_us = (int64_t) get64(buf + 24);
	memcpy(r->manifest_sha256, buf + 32, 32);
	memcpy(r->chain_hash, buf + 64, 32);
	if (crypto_sign_verify_detached(buf + RECEIPT_V1_SIGNED_LEN, buf, RECEIPT_V1_SIGNED_LEN, public_key) != 0)
		return RECEIPT_BAD_SIGNATURE;
	return RECEIPT_VALID;
}

/*
 * The receipt key file holds the 32-byte Ed25519 seed as 64 hex digits,
 * optionally surrounded by white space (what `openssl rand -hex 32` writes).
 * Returns 0, or -1 for anything else.  The caller wipes the text.
 */
int
receipt_parse_key_file(const char *text, size_t len, uint8_t seed[RECEIPT_SEED_LEN])
{
	size_t		start = 0;
	size_t		end = len;
	size_t		bin_len = 0;

	while (start < end && (text[start] == ' ' || text[start] == '\t' || text[start] == '\n' || text[start] == '\r'))
		start++;
	while (end > start && (text[end - 1] == ' ' || text[end - 1] == '\t' || text[end - 1] == '\n' || text[end - 1] == '\r'))
		end--;
	if (end - start != 2 * RECEIPT_SEED_LEN)
		return -1;
	if (sodium_hex2bin(seed, RECEIPT_SEED_LEN, text + start, end - start, NULL, &bin_len, NULL) != 0 ||
		bin_len != RECEIPT_SEED_LEN)
	{
		sodium_memzero(seed, RECEIPT_SEED_LEN);
		return -1;
	}
	return 0;
}
