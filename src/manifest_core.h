/*-------------------------------------------------------------------------
 *
 * manifest_core.h
 *		Pure C codec of the signed photo manifest (v1), and the Hamming
 *		distance and band helpers of the perceptual-hash near-duplicate
 *		search: types shared by the core, its fmgr wrappers, the unit tests
 *		and the fuzz harness.
 *
 * Copyright (c) 2026, fieldops developers
 *
 * IDENTIFICATION
 *		src/manifest_core.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MANIFEST_CORE_H
#define MANIFEST_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* the only layout there is so far: 196 bytes, big-endian */
#define MANIFEST_V1_LEN		196
#define MANIFEST_VERSION	1
#define MANIFEST_MAGIC		"FOPM"	/* 0x46 0x4F 0x50 0x4D */
#define MANIFEST_HASH_LEN	32	/* key id, both photo hashes, nonce */

/* byte offsets of the fields, for messages and for callers that slice */
#define MANIFEST_OFF_MAGIC		0
#define MANIFEST_OFF_VERSION	4
#define MANIFEST_OFF_ALGORITHM	5
#define MANIFEST_OFF_FLAGS		6
#define MANIFEST_OFF_KEY_ID		8
#define MANIFEST_OFF_TENANT		40
#define MANIFEST_OFF_WORKER		48
#define MANIFEST_OFF_DEVICE		56
#define MANIFEST_OFF_VISIT		64
#define MANIFEST_OFF_CAPTURE	72
#define MANIFEST_OFF_LAT		80
#define MANIFEST_OFF_LON		84
#define MANIFEST_OFF_ACCURACY	88
#define MANIFEST_OFF_COUNTER	92
#define MANIFEST_OFF_PHOTO_HASH	100
#define MANIFEST_OFF_RAW_HASH	132
#define MANIFEST_OFF_NONCE		164

/* signature algorithm of the device key */
#define MANIFEST_ALG_ES256		1	/* ECDSA P-256 with SHA-256 */
#define MANIFEST_ALG_ED25519	2

/* flag bits; every other bit must be zero */
#define MANIFEST_FLAG_OFFLINE_NONCE	0x0001	/* nonce from an offline batch */
#define MANIFEST_FLAG_MOCK_LOCATION	0x0002	/* the OS said the location is mocked */
#define MANIFEST_FLAG_STAMPED		0x0004	/* uploaded image has a burned-in stamp */
#define MANIFEST_FLAGS_KNOWN		0x0007

/* accepted ranges (inclusive) */
#define MANIFEST_CAPTURE_MS_MAX	INT64_C(7258118399999)	/* before 2200-01-01 UTC */
#define MANIFEST_LAT_E7_MAX		900000000
#define MANIFEST_LON_E7_MAX		1800000000
#define MANIFEST_COUNTER_MAX	((uint64_t) INT64_MAX)	/* fits a SQL bigint */

/*
 * A decoded manifest.  Integers are host values; the codec alone knows
 * the byte order.  A successful manifest_decode guarantees every range
 * below, so counter can be cast to int64_t and the hashes compared as they
 * are.
 */
typedef struct PhotoManifest
{
	uint8_t		version;		/* MANIFEST_VERSION */
	uint8_t		algorithm;		/* MANIFEST_ALG_* */
	uint16_t	flags;			/* MANIFEST_FLAG_* */
	uint8_t		key_id[MANIFEST_HASH_LEN];	/* SHA-256 of the public key */
	int64_t		tenant_id;		/* > 0 */
	int64_t		worker_id;		/* > 0 */
	int64_t		device_id;		/* > 0 */
	int64_t		visit_id;		/* >= 0; 0 = no visit */
	int64_t		capture_ms;		/* ms since 1970-01-01 UTC, 1..CAPTURE_MS_MAX */
	int32_t		lat_e7;			/* degrees x 1e7 */
	int32_t		lon_e7;			/* degrees x 1e7 */
	uint32_t	accuracy_cm;	/* horizontal accuracy; 0 = not reported */
	uint64_t	counter;		/* per key, 1..INT64_MAX */
	uint8_t		photo_sha256[MANIFEST_HASH_LEN];	/* uploaded bytes; not all 0 */
	uint8_t		raw_sha256[MANIFEST_HASH_LEN];	/* raw capture; all 0 = absent */
	uint8_t		nonce[MANIFEST_HASH_LEN];	/* server-issued; not all 0 */
} PhotoManifest;

/*
 * Outcome of encode and decode.  The numeric values and the short codes
 * (manifest_status_code) are stable: SQL stores the codes as reasons.
 */
typedef enum ManifestStatus
{
	MANIFEST_OK = 0,			/* "ok" */
	MANIFEST_BAD_LENGTH,		/* "bad_length": not exactly 196 bytes */
	MANIFEST_BAD_MAGIC,			/* "bad_magic": does not start with FOPM */
	MANIFEST_BAD_VERSION,		/* "bad_version": not version 1 */
	MANIFEST_BAD_ALGORITHM,		/* "bad_algorithm": neither es256 nor ed25519 */
	MANIFEST_BAD_FLAGS,			/* "bad_flags": a reserved flag bit is set */
	MANIFEST_BAD_FIELD,			/* "bad_field": a field is out of range */
	MANIFEST__COUNT
} ManifestStatus;

/* room for any message of the codec, with the terminating NUL */
#define MANIFEST_ERR_LEN	160

extern const char *manifest_status_code(ManifestStatus st);
extern const char *manifest_algorithm_name(int algorithm);

extern ManifestStatus manifest_check(const PhotoManifest *m,
									 char *err, size_t errlen);
extern ManifestStatus manifest_encode(const PhotoManifest *m,
									  uint8_t out[MANIFEST_V1_LEN]);
extern ManifestStatus manifest_decode(const uint8_t *buf, size_t len,
									  PhotoManifest *m,
									  char *err, size_t errlen);
extern bool manifest_has_raw_hash(const PhotoManifest *m);

/* --- perceptual-hash helpers ------------------------------------------- */

#define PHASH_MAX_BANDS 16

/* one band of a 64-bit perceptual hash: what the near-duplicate index keys */
typedef struct PhashBand
{
	int			index;			/* 0 .. nbands - 1; band 0 holds the top bits */
	int			shift;			/* position of the band's lowest bit in the hash */
	int			width;			/* bits in the band */
	uint64_t	value;			/* the band's bits, right-aligned */
} PhashBand;

extern int	hamming64(uint64_t a, uint64_t b);
extern int	phash_bands(uint64_t h, int nbands, PhashBand *out);

#endif							/* MANIFEST_CORE_H */
