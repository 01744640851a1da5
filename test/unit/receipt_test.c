/*-------------------------------------------------------------------------
 *
 * receipt_test.c
 *		Unit tests of the receipt core: layout, signing, checking, and the
 *		key file parser.
 *
 * Copyright (c) 2026, fieldops developers
 *
 * IDENTIFICATION
 *		test/unit/receipt_test.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "receipt_core.h"
#include "unit.h"

/* a receipt with recognisable fields */
static void
sample(Receipt *r)
{
	memset(r, 0, sizeof(*r));
	r->verdict = 2;
	r->tenant_id = 7;
	r->photo_id = INT64_C(123456789012);
	r->received_us = INT64_C(1795772200123456);
	memset(r->manifest_sha256, 0xab, 32);
	memset(r->chain_hash, 0xcd, 32);
}

static void
test_layout(void)
{
	Receipt		r;
	uint8_t		buf[RECEIPT_V1_SIGNED_LEN];

	sample(&r);
	receipt_encode(&r, buf);
	OK(memcmp(buf, "FOPR", 4) == 0, "magic FOPR");
	EQ_INT(buf[4], 1, "version 1");
	EQ_INT(buf[5], 2, "verdict byte");
	EQ_INT(buf[6] | buf[7], 0, "reserved bytes are zero");
	EQ_INT(buf[15], 7, "tenant id big-endian, low byte last");
	EQ_INT(buf[8], 0, "tenant id high byte first");
	/* 123456789012 = 0x1CBE991A14 */
	OK(buf[19] == 0x1c && buf[20] == 0xbe && buf[21] == 0x99 && buf[22] == 0x1a && buf[23] == 0x14,
	   "photo id big-endian at offset 16");
	OK(buf[32] == 0xab && buf[63] == 0xab && buf[64] == 0xcd && buf[95] == 0xcd, "hashes at 32 and 64");
}

static void
test_sign_check(void)
{
	uint8_t		seed[RECEIPT_SEED_LEN];
	uint8_t		pk[RECEIPT_PUBLIC_KEY_LEN];
	uint8_t		sk[RECEIPT_SECRET_KEY_LEN];
	uint8_t		pk2[RECEIPT_PUBLIC_KEY_LEN];
	uint8_t		sk2[RECEIPT_SECRET_KEY_LEN];
	uint8_t		out[RECEIPT_V1_LEN];
	uint8_t		bad[RECEIPT_V1_LEN + 1];
	Receipt		r,
				got;

	memset(seed, 0x42, sizeof(seed));
	crypto_sign_seed_keypair(pk, sk, seed);
	seed[0] = 0x43;
	crypto_sign_seed_keypair(pk2, sk2, seed);
	sample(&r);

	EQ_INT(receipt_sign(&r, sk, out), 0, "signing succeeds");
	EQ_INT(receipt_check(out, sizeof(out), pk, &got), RECEIPT_VALID, "the receipt verifies");
	OK(got.verdict == r.verdict && got.tenant_id == r.tenant_id && got.photo_id == r.photo_id &&
	   got.received_us == r.received_us && memcmp(got.manifest_sha256, r.manifest_sha256, 32) == 0 &&
	   memcmp(got.chain_hash, r.chain_hash, 32) == 0, "its fields decode as signed");
	EQ_INT(receipt_check(out, sizeof(out), pk2, &got), RECEIPT_BAD_SIGNATURE, "another key: bad signature");
	OK(got.photo_id == r.photo_id, "the fields of a receipt with a bad signature are still decoded");

	/* every single-bit change of the signed part or the signature is caught */
	{
		int			caught = 0;

		for (int i = 0; i < RECEIPT_V1_LEN * 8; i++)
		{
			memcpy(bad, out, RECEIPT_V1_LEN);
			bad[i / 8] ^= (uint8_t) (1 << (i % 8));
			if (receipt_check(bad, RECEIPT_V1_LEN, pk, &got) != RECEIPT_VALID)
				caught++;
		}
		EQ_INT(caught, RECEIPT_V1_LEN * 8, "every flipped bit invalidates the receipt");
	}

	memcpy(bad, out, RECEIPT_V1_LEN);
	EQ_INT(receipt_check(bad, RECEIPT_V1_LEN - 1, pk, &got), RECEIPT_MALFORMED, "short: malformed");
	bad[RECEIPT_V1_LEN] = 0;
	EQ_INT(receipt_check(bad, RECEIPT_V1_LEN + 1, pk, &got), RECEIPT_MALFORMED, "long: malformed");
	OK(got.photo_id == 0 && got.verdict == 0, "a malformed receipt decodes nothing");
	bad[4] = 2;
	EQ_INT(receipt_check(bad, RECEIPT_V1_LEN, pk, &got), RECEIPT_MALFORMED, "version 2: malformed");
	memcpy(bad, out, RECEIPT_V1_LEN);
	bad[5] = 4;
	EQ_INT(receipt_check(bad, RECEIPT_V1_LEN, pk, &got), RECEIPT_MALFORMED, "verdict 4: malformed");
	memcpy(bad, out, RECEIPT_V1_LEN);
	bad[7] = 1;
	EQ_INT(receipt_check(bad, RECEIPT_V1_LEN, pk, &got), RECEIPT_MALFORMED, "reserved byte set: malformed");

	r.verdict = 0;
	EQ_INT(receipt_sign(&r, sk, out), -1, "an unknown verdict is not signed");
}

static void
test_verdicts(void)
{
	EQ_INT(receipt_verdict_code("accepted"), 1, "accepted is 1");
	EQ_INT(receipt_verdict_code("review"), 2, "review is 2");
	EQ_INT(receipt_verdict_code("rejected"), 3, "rejected is 3");
	EQ_INT(receipt_verdict_code("Accepted"), 0, "names are exact");
	EQ_STR(receipt_verdict_name(3), "rejected", "3 is rejected");
	OK(receipt_verdict_name(0) == NULL && receipt_verdict_name(4) == NULL, "no name outside 1..3");
}

static void
test_key_file(void)
{
	uint8_t		seed[RECEIPT_SEED_LEN];
	const char *hex = "000102030405060708090a0b0c0d0e0f101112131415161718191A1B1C1D1E1F";
	char		buf[200];

	EQ_INT(receipt_parse_key_file(hex, strlen(hex), seed), 0, "64 hex digits parse");
	OK(seed[0] == 0 && seed[15] == 15 && seed[31] == 31, "into the 32 bytes they spell (either case)");
	snprintf(buf, sizeof(buf), " \t%s\r\n\n", hex);
	EQ_INT(receipt_parse_key_file(buf, strlen(buf), seed), 0, "surrounding white space is allowed");
	EQ_INT(receipt_parse_key_file(hex, 63, seed), -1, "63 digits are refused");
	snprintf(buf, sizeof(buf), "%s0", hex);
	EQ_INT(receipt_parse_key_file(buf, strlen(buf), seed), -1, "65 digits are refused");
	snprintf(buf, sizeof(buf), "%s", hex);
	buf[10] = 'g';
	EQ_INT(receipt_parse_key_file(buf, strlen(buf), seed), -1, "a non-hex digit is refused");
	snprintf(buf, sizeof(buf), "%.32s %.31s", hex, hex + 32);
	EQ_INT(receipt_parse_key_file(buf, strlen(buf), seed), -1, "inner white space is refused");
	EQ_INT(receipt_parse_key_file("", 0, seed), -1, "an empty file is refused");
}

int
main(void)
{
	if (sodium_init() < 0)
		return 2;
	test_layout();
	test_sign_check();
	test_verdicts();
	test_key_file();
	return unit_done();
}
