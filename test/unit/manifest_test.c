/*-------------------------------------------------------------------------
 *
 * manifest_test.c
 *		Unit tests of the photo manifest codec and the perceptual-hash
 *		helpers (manifest_core.c): a worked example whose bytes are written
 *		out field by field, every rejection rule on both sides of its
 *		boundary, seeded random round trips and mutations checked against
 *		an independent reading of the layout, and the pigeonhole property
 *		of the hash bands.
 *
 * Run with --example to print the worked example as TAP comments, in the
 * form the README shows it.
 *
 * Copyright (c) 2026, fieldops developers
 *
 * IDENTIFICATION
 *		test/unit/manifest_test.c
 *
 *-------------------------------------------------------------------------
 */
#include <inttypes.h>
#include <stdlib.h>

#include "unit.h"
#include "manifest_core.h"

/*
 * The worked example, one field per line: tenant 1, worker 42, device 7,
 * visit 1001, captured 2026-11-27 09:30:00 UTC, at 31.2304 N 121.4737 E
 * within 8.5 m, counter 17, fixed byte patterns for the hashes and nonce.
 */
#define EXAMPLE_CAPTURE_MS INT64_C(1795771800000)	/* 2026-11-27T09:30:00Z */

static const struct
{
	int			off;
	const char *hex;
	const char *what;
}			example_fields[] = {
	{0, "464f504d", "magic \"FOPM\""},
	{4, "01", "version 1"},
	{5, "01", "algorithm 1 = es256"},
	{6, "0000", "flags: none"},
	{8, "5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c", "key id (0x5c x 32)"},
	{40, "0000000000000001", "tenant id 1"},
	{48, "000000000000002a", "worker id 42"},
	{56, "0000000000000007", "device id 7"},
	{64, "00000000000003e9", "visit id 1001"},
	{72, "000001a21c5719c0", "capture 1795771800000 ms = 2026-11-27T09:30:00Z"},
	{80, "129d6180", "latitude 312304000 = 31.2304"},
	{84, "48676a68", "longitude 1214737000 = 121.4737"},
	{88, "00000352", "accuracy 850 cm = 8.5 m"},
	{92, "0000000000000011", "counter 17"},
	{100, "1111111111111111111111111111111111111111111111111111111111111111", "photo SHA-256 (0x11 x 32)"},
	{132, "0000000000000000000000000000000000000000000000000000000000000000", "raw SHA-256: not provided"},
	{164, "a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5", "nonce (0xa5 x 32)"},
};

#define N_EXAMPLE_FIELDS ((int) (sizeof(example_fields) / sizeof(example_fields[0])))

/* splitmix64: a seeded generator, so every run tests the same cases */
static uint64_t rng_state = UINT64_C(0x6669656c646f7073);

static uint64_t
rnd(void)
{
	uint64_t	z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* uniform in lo..hi (inclusive), any 64-bit span */
static int64_t
rnd_range(int64_t lo, int64_t hi)
{
	uint64_t	span = (uint64_t) hi - (uint64_t) lo;

	if (span == UINT64_MAX)
		return (int64_t) rnd();
	return (int64_t) ((uint64_t) lo + rnd() % (span + 1));
}

/* like rnd_range, but a boundary one time in four */
static int64_t
rnd_edge(int64_t lo, int64_t hi)
{
	switch (rnd() % 8)
	{
		case 0:
			return lo;
		case 1:
			return hi;
		default:
			return rnd_range(lo, hi);
	}
}

static void
to_hex(const uint8_t *p, size_t n, char *out)
{
	size_t		i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
	out[2 * n] = '\0';
}

/* the test's own big-endian writer, independent of the codec's */
static void
be_put(uint8_t *p, int width, uint64_t v)
{
	while (width-- > 0)
	{
		p[width] = (uint8_t) v;
		v >>= 8;
	}
}

static uint64_t
be_get(const uint8_t *p, int width)
{
	uint64_t	v = 0;
	int			i;

	for (i = 0; i < width; i++)
		v = v << 8 | p[i];
	return v;
}

static int64_t
bits_i64(uint64_t u)
{
	int64_t		v;

	memcpy(&v, &u, sizeof(v));
	return v;
}

static int32_t
bits_i32(uint64_t u)
{
	uint32_t	w = (uint32_t) u;
	int32_t		v;

	memcpy(&v, &w, sizeof(v));
	return v;
}

static void
example(PhotoManifest *m)
{
	memset(m, 0, sizeof(*m));
	m->version = MANIFEST_VERSION;
	m->algorithm = MANIFEST_ALG_ES256;
	m->flags = 0;
	memset(m->key_id, 0x5c, MANIFEST_HASH_LEN);
	m->tenant_id = 1;
	m->worker_id = 42;
	m->device_id = 7;
	m->visit_id = 1001;
	m->capture_ms = EXAMPLE_CAPTURE_MS;
	m->lat_e7 = 312304000;
	m->lon_e7 = 1214737000;
	m->accuracy_cm = 850;
	m->counter = 17;
	memset(m->photo_sha256, 0x11, MANIFEST_HASH_LEN);
	memset(m->raw_sha256, 0, MANIFEST_HASH_LEN);
	memset(m->nonce, 0xa5, MANIFEST_HASH_LEN);
}

static void
example_bytes(uint8_t *out)
{
	PhotoManifest m;

	example(&m);
	if (manifest_encode(&m, out) != MANIFEST_OK)
		abort();
}

/* field-by-field equality (the struct has padding, so no memcmp) */
static int
same_manifest(const PhotoManifest *a, const PhotoManifest *b)
{
	return a->version == b->version && a->algorithm == b->algorithm &&
		a->flags == b->flags &&
		memcmp(a->key_id, b->key_id, MANIFEST_HASH_LEN) == 0 &&
		a->tenant_id == b->tenant_id && a->worker_id == b->worker_id &&
		a->device_id == b->device_id && a->visit_id == b->visit_id &&
		a->capture_ms == b->capture_ms && a->lat_e7 == b->lat_e7 &&
		a->lon_e7 == b->lon_e7 && a->accuracy_cm == b->accuracy_cm &&
		a->counter == b->counter &&
		memcmp(a->photo_sha256, b->photo_sha256, MANIFEST_HASH_LEN) == 0 &&
		memcmp(a->raw_sha256, b->raw_sha256, MANIFEST_HASH_LEN) == 0 &&
		memcmp(a->nonce, b->nonce, MANIFEST_HASH_LEN) == 0;
}

/*
 * The rules of the layout read straight from the specification, with none
 * of the codec's code: the oracle the random mutations are judged by.
 */
static ManifestStatus
oracle(const uint8_t *b, size_t len)
{
	int64_t		v;
	int			i,
				nz;

	if (len >= 5 && memcmp(b, "FOPM", 4) != 0)
		return MANIFEST_BAD_MAGIC;
	if (len >= 5 && b[4] != 1)
		return MANIFEST_BAD_VERSION;
	if (len != 196)
		return MANIFEST_BAD_LENGTH;
	if (b[5] != 1 && b[5] != 2)
		return MANIFEST_BAD_ALGORITHM;
	if (be_get(b + 6, 2) & 0xfff8)
		return MANIFEST_BAD_FLAGS;
	for (i = 40; i <= 56; i += 8)
		if (bits_i64(be_get(b + i, 8)) <= 0)
			return MANIFEST_BAD_FIELD;
	if (bits_i64(be_get(b + 64, 8)) < 0)
		return MANIFEST_BAD_FIELD;
	v = bits_i64(be_get(b + 72, 8));
	if (v <= 0 || v >= INT64_C(7258118400000))
		return MANIFEST_BAD_FIELD;
	v = bits_i32(be_get(b + 80, 4));
	if (v < -900000000 || v > 900000000)
		return MANIFEST_BAD_FIELD;
	v = bits_i32(be_get(b + 84, 4));
	if (v < -1800000000 || v > 1800000000)
		return MANIFEST_BAD_FIELD;
	if (be_get(b + 92, 8) == 0 || be_get(b + 92, 8) > (uint64_t) INT64_MAX)
		return MANIFEST_BAD_FIELD;
	for (nz = 0, i = 100; i < 132; i++)
		nz |= b[i];
	if (!nz)
		return MANIFEST_BAD_FIELD;
	for (nz = 0, i = 164; i < 196; i++)
		nz |= b[i];
	if (!nz)
		return MANIFEST_BAD_FIELD;
	return MANIFEST_OK;
}

static void
print_example(void)
{
	uint8_t		b[MANIFEST_V1_LEN];
	char		hex[2 * MANIFEST_V1_LEN + 1];
	int			i;

	example_bytes(b);
	to_hex(b, MANIFEST_V1_LEN, hex);
	printf("# worked example, %d bytes:\n# %s\n#\n", MANIFEST_V1_LEN, hex);
	for (i = 0; i < MANIFEST_V1_LEN; i += 16)
	{
		int			n = MANIFEST_V1_LEN - i < 16 ? MANIFEST_V1_LEN - i : 16;

		to_hex(b + i, n, hex);
		printf("# %04x  %s\n", i, hex);
	}
	printf("#\n# | offset | bytes | field |\n# |---|---|---|\n");
	for (i = 0; i < N_EXAMPLE_FIELDS; i++)
		printf("# | %d | `%s` | %s |\n", example_fields[i].off,
			   example_fields[i].hex, example_fields[i].what);
}

static void
test_example(void)
{
	uint8_t		b[MANIFEST_V1_LEN],
				b2[MANIFEST_V1_LEN];
	char		want[2 * MANIFEST_V1_LEN + 1] = "",
				got[2 * MANIFEST_V1_LEN + 1];
	char		err[MANIFEST_ERR_LEN];
	PhotoManifest m,
				d;
	int			i,
				off = 0;

	for (i = 0; i < N_EXAMPLE_FIELDS; i++)
	{
		OK(example_fields[i].off == off, example_fields[i].what);
		off += (int) strlen(example_fields[i].hex) / 2;
		strcat(want, example_fields[i].hex);
	}
	EQ_INT(off, MANIFEST_V1_LEN, "example: the fields cover exactly 196 bytes");

	example(&m);
	EQ_INT(manifest_encode(&m, b), MANIFEST_OK, "example: encodes");
	to_hex(b, MANIFEST_V1_LEN, got);
	EQ_STR(got, want, "example: exact bytes");
	EQ_INT(manifest_decode(b, sizeof(b), &d, err, sizeof(err)), MANIFEST_OK, "example: decodes");
	OK(same_manifest(&m, &d), "example: decodes to the same fields");
	OK(d.capture_ms == EXAMPLE_CAPTURE_MS && d.lat_e7 == 312304000 && d.lon_e7 == 1214737000,
	   "example: time and position come back");
	OK(!manifest_has_raw_hash(&d), "example: no raw hash");
	EQ_INT(manifest_encode(&d, b2), MANIFEST_OK, "example: re-encodes");
	OK(memcmp(b, b2, MANIFEST_V1_LEN) == 0, "example: decode then encode gives the input");
}

/* apply a wire value to the struct field at a byte offset */
static void
set_field(PhotoManifest *m, int off, uint64_t bits)
{
	switch (off)
	{
		case MANIFEST_OFF_VERSION:
			m->version = (uint8_t) bits;
			break;
		case MANIFEST_OFF_ALGORITHM:
			m->algorithm = (uint8_t) bits;
			break;
		case MANIFEST_OFF_FLAGS:
			m->flags = (uint16_t) bits;
			break;
		case MANIFEST_OFF_TENANT:
			m->tenant_id = bits_i64(bits);
			break;
		case MANIFEST_OFF_WORKER:
			m->worker_id = bits_i64(bits);
			break;
		case MANIFEST_OFF_DEVICE:
			m->device_id = bits_i64(bits);
			break;
		case MANIFEST_OFF_VISIT:
			m->visit_id = bits_i64(bits);
			break;
		case MANIFEST_OFF_CAPTURE:
			m->capture_ms = bits_i64(bits);
			break;
		case MANIFEST_OFF_LAT:
			m->lat_e7 = bits_i32(bits);
			break;
		case MANIFEST_OFF_LON:
			m->lon_e7 = bits_i32(bits);
			break;
		case MANIFEST_OFF_ACCURACY:
			m->accuracy_cm = (uint32_t) bits;
			break;
		case MANIFEST_OFF_COUNTER:
			m->counter = bits;
			break;
		default:
			abort();
	}
}

#define I64(v) ((uint64_t) (int64_t) (v))
#define I32(v) ((uint64_t) (uint32_t) (int32_t) (v))

static const struct
{
	int			off;
	int			width;
	uint64_t	bits;			/* the value as written on the wire */
	ManifestStatus expect;
	const char *what;
}			field_cases[] = {
	{4, 1, 1, MANIFEST_OK, "version 1"},
	{4, 1, 0, MANIFEST_BAD_VERSION, "version 0"},
	{4, 1, 2, MANIFEST_BAD_VERSION, "version 2"},
	{4, 1, 255, MANIFEST_BAD_VERSION, "version 255"},
	{5, 1, 0, MANIFEST_BAD_ALGORITHM, "algorithm 0"},
	{5, 1, 1, MANIFEST_OK, "algorithm 1 (es256)"},
	{5, 1, 2, MANIFEST_OK, "algorithm 2 (ed25519)"},
	{5, 1, 3, MANIFEST_BAD_ALGORITHM, "algorithm 3"},
	{5, 1, 255, MANIFEST_BAD_ALGORITHM, "algorithm 255"},
	{6, 2, 0x0001, MANIFEST_OK, "flags offline nonce"},
	{6, 2, 0x0002, MANIFEST_OK, "flags mock location"},
	{6, 2, 0x0004, MANIFEST_OK, "flags stamped"},
	{6, 2, 0x0007, MANIFEST_OK, "flags all known bits"},
	{6, 2, 0x0008, MANIFEST_BAD_FLAGS, "flags bit 3"},
	{6, 2, 0x0100, MANIFEST_BAD_FLAGS, "flags bit 8"},
	{6, 2, 0x8000, MANIFEST_BAD_FLAGS, "flags bit 15"},
	{6, 2, 0xffff, MANIFEST_BAD_FLAGS, "flags all bits"},
	{40, 8, I64(0), MANIFEST_BAD_FIELD, "tenant 0"},
	{40, 8, I64(1), MANIFEST_OK, "tenant 1"},
	{40, 8, I64(INT64_MAX), MANIFEST_OK, "tenant INT64_MAX"},
	{40, 8, I64(-1), MANIFEST_BAD_FIELD, "tenant -1"},
	{40, 8, I64(INT64_MIN), MANIFEST_BAD_FIELD, "tenant INT64_MIN"},
	{48, 8, I64(0), MANIFEST_BAD_FIELD, "worker 0"},
	{48, 8, I64(1), MANIFEST_OK, "worker 1"},
	{48, 8, I64(INT64_MAX), MANIFEST_OK, "worker INT64_MAX"},
	{48, 8, I64(-1), MANIFEST_BAD_FIELD, "worker -1"},
	{56, 8, I64(0), MANIFEST_BAD_FIELD, "device 0"},
	{56, 8, I64(1), MANIFEST_OK, "device 1"},
	{56, 8, I64(INT64_MAX), MANIFEST_OK, "device INT64_MAX"},
	{56, 8, I64(-1), MANIFEST_BAD_FIELD, "device -1"},
	{64, 8, I64(-1), MANIFEST_BAD_FIELD, "visit -1"},
	{64, 8, I64(0), MANIFEST_OK, "visit 0 (no visit)"},
	{64, 8, I64(INT64_MAX), MANIFEST_OK, "visit INT64_MAX"},
	{64, 8, I64(INT64_MIN), MANIFEST_BAD_FIELD, "visit INT64_MIN"},
	{72, 8, I64(0), MANIFEST_BAD_FIELD, "capture 0"},
	{72, 8, I64(1), MANIFEST_OK, "capture 1 ms"},
	{72, 8, I64(INT64_C(7258118399999)), MANIFEST_OK, "capture 2199-12-31T23:59:59.999Z"},
	{72, 8, I64(INT64_C(7258118400000)), MANIFEST_BAD_FIELD, "capture 2200-01-01T00:00:00Z"},
	{72, 8, I64(-1), MANIFEST_BAD_FIELD, "capture -1"},
	{72, 8, I64(INT64_MAX), MANIFEST_BAD_FIELD, "capture INT64_MAX"},
	{80, 4, I32(900000000), MANIFEST_OK, "latitude 90"},
	{80, 4, I32(900000001), MANIFEST_BAD_FIELD, "latitude 90.0000001"},
	{80, 4, I32(-900000000), MANIFEST_OK, "latitude -90"},
	{80, 4, I32(-900000001), MANIFEST_BAD_FIELD, "latitude -90.0000001"},
	{80, 4, I32(0), MANIFEST_OK, "latitude 0"},
	{80, 4, I32(INT32_MAX), MANIFEST_BAD_FIELD, "latitude INT32_MAX"},
	{80, 4, I32(INT32_MIN), MANIFEST_BAD_FIELD, "latitude INT32_MIN"},
	{84, 4, I32(1800000000), MANIFEST_OK, "longitude 180"},
	{84, 4, I32(1800000001), MANIFEST_BAD_FIELD, "longitude 180.0000001"},
	{84, 4, I32(-1800000000), MANIFEST_OK, "longitude -180"},
	{84, 4, I32(-1800000001), MANIFEST_BAD_FIELD, "longitude -180.0000001"},
	{84, 4, I32(INT32_MAX), MANIFEST_BAD_FIELD, "longitude INT32_MAX"},
	{84, 4, I32(INT32_MIN), MANIFEST_BAD_FIELD, "longitude INT32_MIN"},
	{88, 4, 0, MANIFEST_OK, "accuracy 0 (not reported)"},
	{88, 4, UINT32_MAX, MANIFEST_OK, "accuracy UINT32_MAX"},
	{92, 8, 0, MANIFEST_BAD_FIELD, "counter 0"},
	{92, 8, 1, MANIFEST_OK, "counter 1"},
	{92, 8, (uint64_t) INT64_MAX, MANIFEST_OK, "counter INT64_MAX"},
	{92, 8, (uint64_t) INT64_MAX + 1, MANIFEST_BAD_FIELD, "counter INT64_MAX + 1"},
	{92, 8, UINT64_MAX, MANIFEST_BAD_FIELD, "counter UINT64_MAX"},
};

/*
 * A refused manifest's message must name the field's offset; an accepted
 * one must encode to exactly the bytes written by hand.
 */
static void
test_fields(void)
{
	int			i;

	for (i = 0; i < (int) (sizeof(field_cases) / sizeof(field_cases[0])); i++)
	{
		uint8_t		want[MANIFEST_V1_LEN],
					got[MANIFEST_V1_LEN],
					again[MANIFEST_V1_LEN];
		char		err[MANIFEST_ERR_LEN] = "",
					offset[32],
					name[128];
		PhotoManifest m,
					d;
		ManifestStatus st;
		int			good;

		example_bytes(want);
		be_put(want + field_cases[i].off, field_cases[i].width, field_cases[i].bits);
		snprintf(offset, sizeof(offset), "(offset %d)", field_cases[i].off);

		/* encode side */
		example(&m);
		set_field(&m, field_cases[i].off, field_cases[i].bits);
		memset(got, 0xee, sizeof(got));
		st = manifest_encode(&m, got);
		if (field_cases[i].expect == MANIFEST_OK)
			good = st == MANIFEST_OK && memcmp(got, want, MANIFEST_V1_LEN) == 0;
		else
		{
			ManifestStatus st2 = manifest_check(&m, err, sizeof(err));

			good = st == field_cases[i].expect && st2 == st &&
				strstr(err, offset) != NULL && got[0] == 0xee;
		}
		snprintf(name, sizeof(name), "encode %s: %s", field_cases[i].what,
				 manifest_status_code(field_cases[i].expect));
		if (!OK(good, name))
			printf("#   status %s, message \"%s\"\n", manifest_status_code(st), err);

		/* decode side, from the hand-written bytes */
		err[0] = '\0';
		st = manifest_decode(want, MANIFEST_V1_LEN, &d, err, sizeof(err));
		if (field_cases[i].expect == MANIFEST_OK)
			good = st == MANIFEST_OK && same_manifest(&d, &m) &&
				manifest_encode(&d, again) == MANIFEST_OK &&
				memcmp(again, want, MANIFEST_V1_LEN) == 0;
		else
			good = st == field_cases[i].expect && strstr(err, offset) != NULL &&
				(st != MANIFEST_BAD_FIELD || strstr(err, "accepted range") != NULL) &&
				(st != MANIFEST_BAD_FLAGS || strstr(err, "accepted bits") != NULL);
		snprintf(name, sizeof(name), "decode %s: %s", field_cases[i].what,
				 manifest_status_code(field_cases[i].expect));
		if (!OK(good, name))
			printf("#   status %s, message \"%s\"\n", manifest_status_code(st), err);
	}
}

/* messages are part of the interface: check a few word for word */
static void
test_messages(void)
{
	uint8_t		b[MANIFEST_V1_LEN + 8];
	char		err[MANIFEST_ERR_LEN];
	PhotoManifest m;

	example_bytes(b);
	b[4] = 2;
	manifest_decode(b, MANIFEST_V1_LEN, &m, err, sizeof(err));
	EQ_STR(err, "unsupported manifest version 2 (offset 4); supported versions: 1",
		   "message: version");
	example_bytes(b);
	manifest_decode(b, 195, &m, err, sizeof(err));
	EQ_STR(err, "manifest is 195 bytes; expected exactly 196 (version 1)", "message: length");
	b[0] = 'f';
	manifest_decode(b, MANIFEST_V1_LEN, &m, err, sizeof(err));
	EQ_STR(err, "bad magic (offset 0): got 66 4f 50 4d, expected 46 4f 50 4d (\"FOPM\")",
		   "message: magic");
	example_bytes(b);
	b[5] = 9;
	manifest_decode(b, MANIFEST_V1_LEN, &m, err, sizeof(err));
	EQ_STR(err, "unknown algorithm 9 (offset 5); accepted: 1 (es256), 2 (ed25519)",
		   "message: algorithm");
	example_bytes(b);
	b[6] = 0x80;
	b[7] = 0x09;
	manifest_decode(b, MANIFEST_V1_LEN, &m, err, sizeof(err));
	EQ_STR(err, "reserved flag bits 0x8008 set in flags (offset 6); accepted bits: 0x0007 (offline nonce, mock location, stamped)",
		   "message: flags");
	example_bytes(b);
	be_put(b + 72, 8, I64(INT64_C(7258118400000)));
	manifest_decode(b, MANIFEST_V1_LEN, &m, err, sizeof(err));
	EQ_STR(err, "capture time (offset 72) is 7258118400000; accepted range 1..7258118399999 (ms since 1970-01-01 UTC, before 2200-01-01)",
		   "message: capture time");
	example_bytes(b);
	be_put(b + 84, 4, I32(-1800000001));
	manifest_decode(b, MANIFEST_V1_LEN, &m, err, sizeof(err));
	EQ_STR(err, "longitude (offset 84) is -1800000001; accepted range -1800000000..1800000000 (degrees x 1e7)",
		   "message: longitude");
	example_bytes(b);
	be_put(b + 92, 8, UINT64_MAX);
	manifest_decode(b, MANIFEST_V1_LEN, &m, err, sizeof(err));
	EQ_STR(err, "counter (offset 92) is 18446744073709551615; accepted range 1..9223372036854775807 (must fit a bigint)",
		   "message: counter");
	example_bytes(b);
	be_put(b + 40, 8, I64(INT64_MIN));
	manifest_decode(b, MANIFEST_V1_LEN, &m, err, sizeof(err));
	EQ_STR(err, "tenant id (offset 40) is -9223372036854775808; accepted range 1..9223372036854775807",
		   "message: tenant id");

	/* several faults: the first in byte order is reported */
	example_bytes(b);
	b[5] = 0;
	be_put(b + 40, 8, 0);
	memset(b + 164, 0, 32);
	EQ_INT(manifest_decode(b, MANIFEST_V1_LEN, &m, err, sizeof(err)), MANIFEST_BAD_ALGORITHM,
		   "several faults: the first by offset wins");

	/* short and absent message buffers */
	example_bytes(b);
	b[4] = 7;
	EQ_INT(manifest_decode(b, MANIFEST_V1_LEN, &m, NULL, 0), MANIFEST_BAD_VERSION,
		   "no message buffer: status only");
	err[0] = 'x';
	manifest_decode(b, MANIFEST_V1_LEN, &m, err, 1);
	EQ_STR(err, "", "one-byte message buffer: empty string");
	memset(err, 'x', sizeof(err));
	manifest_decode(b, MANIFEST_V1_LEN, &m, err, 12);
	EQ_STR(err, "unsupported", "short message buffer: truncated, terminated");
}

static void
test_bytes(void)
{
	uint8_t		b[MANIFEST_V1_LEN + 64],
				w[MANIFEST_V1_LEN];
	char		err[MANIFEST_ERR_LEN];
	PhotoManifest m,
				d,
				before;
	int			i,
				good;

	/* magic: every byte */
	for (good = 1, i = 0; i < 4; i++)
	{
		example_bytes(b);
		b[i] ^= 0x20;
		good &= manifest_decode(b, MANIFEST_V1_LEN, &m, err, sizeof(err)) == MANIFEST_BAD_MAGIC;
	}
	OK(good, "each magic byte is checked");

	/* hashes, nonce and key id */
	example(&m);
	memset(m.photo_sha256, 0, MANIFEST_HASH_LEN);
	EQ_INT(manifest_encode(&m, w), MANIFEST_BAD_FIELD, "encode: all-zero photo hash refused");
	example_bytes(b);
	memset(b + 100, 0, 32);
	EQ_INT(manifest_decode(b, MANIFEST_V1_LEN, &m, err, sizeof(err)), MANIFEST_BAD_FIELD,
		   "decode: all-zero photo hash refused");
	OK(strstr(err, "(offset 100)") != NULL, "all-zero photo hash: message names offset 100");
	b[131] = 1;
	EQ_INT(manifest_decode(b, MANIFEST_V1_LEN, &m, err, sizeof(err)), MANIFEST_OK,
		   "photo hash with one non-zero last byte accepted");
	memset(b + 100, 0, 32);
	b[100] = 0x80;
	EQ_INT(manifest_decode(b, MANIFEST_V1_LEN, &m, err, sizeof(err)), MANIFEST_OK,
		   "photo hash with one non-zero first byte accepted");

	example(&m);
	memset(m.nonce, 0, MANIFEST_HASH_LEN);
	EQ_INT(manifest_encode(&m, w), MANIFEST_BAD_FIELD, "encode: all-zero nonce refused");
	example_bytes(b);
	memset(b + 164, 0, 32);
	EQ_INT(manifest_decode(b, MANIFEST_V1_LEN, &m, err, sizeof(err)), MANIFEST_BAD_FIELD,
		   "decode: all-zero nonce refused");
	OK(strstr(err, "(offset 164)") != NULL, "all-zero nonce: message names offset 164");
	b[195] = 1;
	EQ_INT(manifest_decode(b, MANIFEST_V1_LEN, &m, err, sizeof(err)), MANIFEST_OK,
		   "nonce with one non-zero last byte accepted");

	example_bytes(b);
	memset(b + 132, 0x22, 32);
	OK(manifest_decode(b, MANIFEST_V1_LEN, &m, err, sizeof(err)) == MANIFEST_OK &&
	   manifest_has_raw_hash(&m), "raw hash present: accepted and reported");
	example_bytes(b);
	memset(b + 8, 0, 32);
	EQ_INT(manifest_decode(b, MANIFEST_V1_LEN, &m, err, sizeof(err)), MANIFEST_OK,
		   "key id carries no rule (all zero accepted; it simply matches no key)");

	/* byte order */
	example(&m);
	m.tenant_id = INT64_C(0x0102030405060708);
	m.lat_e7 = -1;
	m.flags = 0x0005;
	manifest_encode(&m, w);
	OK(memcmp(w + 40, "\x01\x02\x03\x04\x05\x06\x07\x08", 8) == 0, "int64 is big-endian");
	OK(memcmp(w + 80, "\xff\xff\xff\xff", 4) == 0, "negative int32 is two's complement");
	OK(w[6] == 0x00 && w[7] == 0x05, "flags are big-endian");

	/* truncated and extended buffers */
	example_bytes(b);
	for (good = 1, i = 0; i < MANIFEST_V1_LEN; i++)
	{
		uint8_t    *copy = malloc(i > 0 ? i : 1);	/* exact size, so ASan sees overreads */

		memcpy(copy, b, i);
		good &= manifest_decode(copy, i, &m, err, sizeof(err)) == MANIFEST_BAD_LENGTH;
		free(copy);
	}
	OK(good, "every truncation (0..195 bytes) is bad_length");
	EQ_INT(manifest_decode(NULL, 0, &m, err, sizeof(err)), MANIFEST_BAD_LENGTH,
		   "NULL buffer of length 0 is bad_length");
	for (good = 1, i = 1; i <= 64; i++)
	{
		memset(b + MANIFEST_V1_LEN, 0, 64);
		good &= manifest_decode(b, MANIFEST_V1_LEN + i, &m, err, sizeof(err)) == MANIFEST_BAD_LENGTH;
	}
	OK(good, "every extension by 1..64 bytes is bad_length");
	OK(strstr(err, "260 bytes") != NULL, "length message says what was received");
	b[4] = 2;
	EQ_INT(manifest_decode(b, MANIFEST_V1_LEN + 20, &m, err, sizeof(err)), MANIFEST_BAD_VERSION,
		   "a longer version 2 manifest is told its version, not its length");
	memcpy(b, "JFIF", 4);
	EQ_INT(manifest_decode(b, 100, &m, err, sizeof(err)), MANIFEST_BAD_MAGIC,
		   "not a manifest at all: bad_magic before length");
	EQ_INT(manifest_decode(b, 4, &m, err, sizeof(err)), MANIFEST_BAD_LENGTH,
		   "four bytes are too short even for a verdict on the magic");

	/* failure writes nothing */
	example_bytes(b);
	b[80] = 0x7f;
	memset(&d, 0xee, sizeof(d));
	before = d;
	manifest_decode(b, MANIFEST_V1_LEN, &d, err, sizeof(err));
	OK(memcmp(&d, &before, sizeof(d)) == 0, "failed decode leaves the manifest untouched");
	example(&m);
	m.counter = 0;
	memset(w, 0xee, sizeof(w));
	manifest_encode(&m, w);
	for (good = 1, i = 0; i < MANIFEST_V1_LEN; i++)
		good &= w[i] == 0xee;
	OK(good, "failed encode leaves the output untouched");
}

static void
test_codes(void)
{
	EQ_STR(manifest_status_code(MANIFEST_OK), "ok", "code ok");
	EQ_STR(manifest_status_code(MANIFEST_BAD_LENGTH), "bad_length", "code bad_length");
	EQ_STR(manifest_status_code(MANIFEST_BAD_MAGIC), "bad_magic", "code bad_magic");
	EQ_STR(manifest_status_code(MANIFEST_BAD_VERSION), "bad_version", "code bad_version");
	EQ_STR(manifest_status_code(MANIFEST_BAD_ALGORITHM), "bad_algorithm", "code bad_algorithm");
	EQ_STR(manifest_status_code(MANIFEST_BAD_FLAGS), "bad_flags", "code bad_flags");
	EQ_STR(manifest_status_code(MANIFEST_BAD_FIELD), "bad_field", "code bad_field");
	EQ_STR(manifest_status_code(MANIFEST__COUNT), "unknown", "code of an unknown status");
	EQ_STR(manifest_status_code((ManifestStatus) -1), "unknown", "code of a negative status");
	EQ_INT(MANIFEST_BAD_FIELD, 6, "status values are stable");
	EQ_STR(manifest_algorithm_name(1), "es256", "algorithm 1 is es256");
	EQ_STR(manifest_algorithm_name(2), "ed25519", "algorithm 2 is ed25519");
	OK(manifest_algorithm_name(0) == NULL && manifest_algorithm_name(3) == NULL,
	   "no name for other algorithms");
}

static void
random_manifest(PhotoManifest *m)
{
	int			i;

	m->version = MANIFEST_VERSION;
	m->algorithm = (uint8_t) (1 + rnd() % 2);
	m->flags = (uint16_t) (rnd() & MANIFEST_FLAGS_KNOWN);
	for (i = 0; i < MANIFEST_HASH_LEN; i++)
	{
		m->key_id[i] = (uint8_t) rnd();
		m->photo_sha256[i] = (uint8_t) rnd();
		m->raw_sha256[i] = (uint8_t) rnd();
		m->nonce[i] = (uint8_t) rnd();
	}
	if (rnd() % 2)
		memset(m->raw_sha256, 0, MANIFEST_HASH_LEN);
	if (rnd() % 4 == 0)
	{
		/* one non-zero byte somewhere: still valid */
		memset(m->photo_sha256, 0, MANIFEST_HASH_LEN);
		m->photo_sha256[rnd() % MANIFEST_HASH_LEN] = (uint8_t) (1 + rnd() % 255);
	}
	m->tenant_id = rnd_edge(1, INT64_MAX);
	m->worker_id = rnd_edge(1, INT64_MAX);
	m->device_id = rnd_edge(1, INT64_MAX);
	m->visit_id = rnd_edge(0, INT64_MAX);
	m->capture_ms = rnd_edge(1, MANIFEST_CAPTURE_MS_MAX);
	m->lat_e7 = (int32_t) rnd_edge(-MANIFEST_LAT_E7_MAX, MANIFEST_LAT_E7_MAX);
	m->lon_e7 = (int32_t) rnd_edge(-MANIFEST_LON_E7_MAX, MANIFEST_LON_E7_MAX);
	m->accuracy_cm = (uint32_t) rnd_edge(0, UINT32_MAX);
	m->counter = (uint64_t) rnd_edge(1, INT64_MAX);
}

/*
 * Seeded random valid manifests must survive both round trips; random
 * corruptions of them must be judged exactly as the independent oracle
 * judges them, and an accepted corruption must re-encode to itself.
 */
static void
test_random(void)
{
	int			i,
				rt = 1,
				agree = 1,
				canon = 1,
				fits = 1,
				accepted = 0;

	for (i = 0; i < 20000; i++)
	{
		PhotoManifest m,
					d;
		uint8_t		b[MANIFEST_V1_LEN],
					b2[MANIFEST_V1_LEN];

		random_manifest(&m);
		rt &= manifest_encode(&m, b) == MANIFEST_OK &&
			manifest_decode(b, MANIFEST_V1_LEN, &d, NULL, 0) == MANIFEST_OK &&
			same_manifest(&m, &d) &&
			manifest_encode(&d, b2) == MANIFEST_OK &&
			memcmp(b, b2, MANIFEST_V1_LEN) == 0 &&
			oracle(b, MANIFEST_V1_LEN) == MANIFEST_OK;
	}
	OK(rt, "20000 random valid manifests: encode, decode, encode round trip");

	for (i = 0; i < 200000; i++)
	{
		PhotoManifest m,
					d;
		uint8_t		b[MANIFEST_V1_LEN],
					b2[MANIFEST_V1_LEN];
		char		err[512];
		int			k,
					nmut = 1 + (int) (rnd() % 3);
		ManifestStatus st;

		random_manifest(&m);
		manifest_encode(&m, b);
		for (k = 0; k < nmut; k++)
		{
			int			pos = (int) (rnd() % MANIFEST_V1_LEN);

			/* mostly the integer fields and edges, where the rules are */
			if (rnd() % 2)
				pos = 4 + (int) (rnd() % 96);
			switch (rnd() % 4)
			{
				case 0:
					b[pos] = 0;
					break;
				case 1:
					b[pos] = 0xff;
					break;
				case 2:
					b[pos] ^= (uint8_t) (1u << (rnd() % 8));
					break;
				default:
					b[pos] = (uint8_t) rnd();
			}
		}
		if (rnd() % 16 == 0)
			memset(b + (rnd() % 2 ? 100 : 164), 0, 32);
		err[0] = '\0';
		st = manifest_decode(b, MANIFEST_V1_LEN, &d, err, sizeof(err));
		agree &= st == oracle(b, MANIFEST_V1_LEN);
		if (st == MANIFEST_OK)
		{
			accepted++;
			canon &= manifest_encode(&d, b2) == MANIFEST_OK &&
				memcmp(b, b2, MANIFEST_V1_LEN) == 0;
		}
		else
			fits &= strlen(err) > 0 && strlen(err) < MANIFEST_ERR_LEN - 1 &&
				strstr(err, "(offset ") != NULL;
	}
	OK(agree, "200000 random corruptions: decode agrees with the oracle");
	OK(canon, "accepted corruptions re-encode to the same bytes");
	OK(fits, "every refusal message names an offset and fits MANIFEST_ERR_LEN");
	if (!OK(accepted > 1000 && accepted < 199000, "corruptions are a mix of accepted and refused"))
		printf("#   %d accepted\n", accepted);
}

static void
test_hamming(void)
{
	int			i,
				good = 1;

	EQ_INT(hamming64(0, 0), 0, "hamming: equal hashes");
	EQ_INT(hamming64(0, UINT64_MAX), 64, "hamming: complement");
	EQ_INT(hamming64(UINT64_C(1) << 63, 0), 1, "hamming: top bit");
	EQ_INT(hamming64(1, 0), 1, "hamming: bottom bit");
	EQ_INT(hamming64(0xff, 0x0f), 4, "hamming: a nibble");
	EQ_INT(hamming64(UINT64_C(0xf0f0f0f0f0f0f0f0), UINT64_C(0x0f0f0f0f0f0f0f0f)), 64,
		   "hamming: alternating nibbles");
	for (i = 0; i < 10000; i++)
	{
		uint64_t	a = rnd(),
					b = rnd(),
					x = a ^ b;
		int			n = 0;

		for (; x; x >>= 1)
			n += (int) (x & 1);
		good &= hamming64(a, b) == n && hamming64(b, a) == n;
	}
	OK(good, "hamming: 10000 random pairs match a bit-by-bit count, symmetric");
}

static int
share_band(uint64_t a, uint64_t b, int nbands)
{
	PhashBand	ba[PHASH_MAX_BANDS],
				bb[PHASH_MAX_BANDS];
	int			i;

	phash_bands(a, nbands, ba);
	phash_bands(b, nbands, bb);
	for (i = 0; i < nbands; i++)
		if (ba[i].index == bb[i].index && ba[i].value == bb[i].value)
			return 1;
	return 0;
}

static void
test_bands(void)
{
	PhashBand	b[PHASH_MAX_BANDS + 1];
	int			n,
				i,
				good;
	char		name[96];

	EQ_INT(phash_bands(1, 0, b), -1, "bands: 0 bands refused");
	EQ_INT(phash_bands(1, 17, b), -1, "bands: 17 bands refused");
	EQ_INT(phash_bands(1, -3, b), -1, "bands: negative refused");
	EQ_INT(phash_bands(1, 4, NULL), -1, "bands: no output refused");

	/* layout: partition of the 64 bits, widths as equal as can be */
	for (good = 1, n = 1; n <= PHASH_MAX_BANDS; n++)
	{
		int			k,
					top = 64;

		good &= phash_bands(rnd(), n, b) == n;
		for (i = 0; i < n; i++)
		{
			good &= b[i].index == i && b[i].shift == top - b[i].width &&
				(b[i].width == 64 / n || b[i].width == 64 / n + 1) &&
				(i == 0 || b[i].width <= b[i - 1].width);
			top = b[i].shift;
		}
		good &= top == 0;
		for (k = 0; k < 1000; k++)
		{
			uint64_t	h = rnd(),
						r = 0;

			phash_bands(h, n, b);
			for (i = 0; i < n; i++)
			{
				good &= b[i].width == 64 || b[i].value >> b[i].width == 0;
				r |= b[i].value << b[i].shift;
			}
			good &= r == h;
		}
	}
	OK(good, "bands 1..16: contiguous, equal to one bit, wider first, rebuild the hash");

	phash_bands(UINT64_C(0x0123456789abcdef), 16, b);
	OK(b[0].value == 0x0 && b[1].value == 0x1 && b[10].value == 0xa && b[15].value == 0xf &&
	   b[15].shift == 0 && b[0].shift == 60, "16 bands are the hex digits, band 0 first");
	phash_bands(UINT64_C(0x0123456789abcdef), 1, b);
	OK(b[0].value == UINT64_C(0x0123456789abcdef) && b[0].width == 64 && b[0].shift == 0,
	   "1 band is the whole hash");
	phash_bands(UINT64_MAX, 9, b);
	OK(b[0].width == 8 && b[0].value == 0xff && b[1].width == 7 && b[8].width == 7 &&
	   b[8].shift == 0 && b[1].value == 0x7f, "9 bands: one of 8 bits, then eight of 7");
	phash_bands(0, 3, b);
	OK(b[0].width == 22 && b[1].width == 21 && b[2].width == 21, "3 bands: 22, 21, 21 bits");

	/*
	 * Pigeonhole: any two hashes closer than nbands share a band.  Flip d
	 * distinct random bits, d uniform in 0..nbands-1.
	 */
	for (n = 1; n <= PHASH_MAX_BANDS; n++)
	{
		int			k;

		for (good = 1, k = 0; k < 100000; k++)
		{
			uint64_t	a = rnd(),
						flip = 0;
			int			d = (int) (rnd() % n);

			while (hamming64(flip, 0) < d)
				flip |= UINT64_C(1) << (rnd() % 64);
			good &= hamming64(a, a ^ flip) == d && share_band(a, a ^ flip, n);
		}
		snprintf(name, sizeof(name),
				 "pigeonhole, %d band%s: 100000 pairs within distance %d share a band",
				 n, n > 1 ? "s" : "", n - 1);
		OK(good, name);
	}

	/* and the bound is tight: one flipped bit per band shares none */
	for (good = 1, n = 1; n <= PHASH_MAX_BANDS; n++)
	{
		uint64_t	a = rnd(),
					flip = 0;

		phash_bands(a, n, b);
		for (i = 0; i < n; i++)
			flip |= UINT64_C(1) << (b[i].shift + (int) (rnd() % b[i].width));
		good &= hamming64(a, a ^ flip) == n && !share_band(a, a ^ flip, n);
	}
	OK(good, "pigeonhole is tight: distance nbands can share no band");
}

int
main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--example") == 0)
		print_example();
	test_example();
	test_codes();
	test_fields();
	test_messages();
	test_bytes();
	test_random();
	test_hamming();
	test_bands();
	return unit_done();
}
