/*-------------------------------------------------------------------------
 *
 * manifest_core.c
 *		The signed photo manifest, version 1: a strict codec between its
 *		196 bytes and a PhotoManifest, and the Hamming distance and band
 *		helpers of the perceptual-hash near-duplicate search.
 *
 * A phone proves where and when a photo was taken by having its hardware
 * key sign a manifest: who (tenant, worker, device), where (position and
 * accuracy), when (capture time), what (SHA-256 of the uploaded bytes and,
 * optionally, of the raw capture), and freshness (a server-issued nonce and
 * a per-key counter).  The key signs bytes, so the bytes are the contract:
 * a fixed layout of fixed-width big-endian fields with no optional parts,
 * no text and no padding, which a phone can produce with a few shifts and
 * the server can check without a parser that could disagree with the
 * phone's.
 *
 * The decoder is strict on purpose.  Every byte has exactly one accepted
 * meaning: reserved flag bits must be zero, every integer must lie in its
 * documented range, and the length must be exact.  So there is exactly one
 * encoding per manifest (decode then encode gives back the input, byte for
 * byte; the fuzz harness checks it), and a signature can never be reused
 * for a "different" manifest that decodes alike, nor can a later version
 * give a new meaning to bits that an old server silently ignored.  Encode
 * applies the same checks (one function, manifest_check, serves both), so
 * the server never produces a manifest it would refuse.
 *
 * Byte order is handled only with shifts on bytes, never by casting a
 * buffer to a wider type: the layout is independent of the host, and the
 * buffer needs no alignment.
 *
 * Messages are lower-case without a trailing period, name the field, its
 * byte offset and the accepted range, and fit MANIFEST_ERR_LEN; the SQL
 * layer reports them as SQLSTATE 22023 from parse_photo_manifest() and
 * stores the short status code as the reason of a rejected submit_photo().
 *
 * Copyright (c) 2026, fieldops developers
 *
 * IDENTIFICATION
 *		src/manifest_core.c
 *
 *-------------------------------------------------------------------------
 */
#include "manifest_core.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const status_codes[MANIFEST__COUNT] = {
	"ok", "bad_length", "bad_magic", "bad_version", "bad_algorithm",
	"bad_flags", "bad_field"
};

/*
 * The stable short code of a status, for SQL to store; "unknown" rather
 * than a crash if a caller passes a value from a newer enum.
 */
const char *
manifest_status_code(ManifestStatus st)
{
	if ((int) st < 0 || st >= MANIFEST__COUNT)
		return "unknown";
	return status_codes[st];
}

/*
 * The name SQL shows for an algorithm byte, NULL for a byte the codec
 * refuses, so that callers cannot print a name for an unchecked value.
 */
const char *
manifest_algorithm_name(int algorithm)
{
	switch (algorithm)
	{
		case MANIFEST_ALG_ES256:
			return "es256";
		case MANIFEST_ALG_ED25519:
			return "ed25519";
		default:
			return NULL;
	}
}

/*
 * Read n bytes as a big-endian unsigned integer one byte at a time, which
 * is right on every host and needs no alignment.
 */
static uint64_t
get_be(const uint8_t *p, int n)
{
	uint64_t	v = 0;
	int			i;

	for (i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

/* The inverse of get_be, for the same reasons */
static void
put_be(uint8_t *p, uint64_t v, int n)
{
	int			i;

	for (i = n - 1; i >= 0; i--)
	{
		p[i] = (uint8_t) (v & 0xff);
		v >>= 8;
	}
}

/*
 * Two's complement bits to a signed value without the implementation-
 * defined conversion of an out-of-range unsigned value to a signed type.
 */
static int64_t
to_i64(uint64_t u)
{
	if (u <= (uint64_t) INT64_MAX)
		return (int64_t) u;
	return -(int64_t) (~u) - 1;
}

/* As to_i64, for the 32-bit coordinates */
static int32_t
to_i32(uint32_t u)
{
	if (u <= (uint32_t) INT32_MAX)
		return (int32_t) u;
	return -(int32_t) (~u) - 1;
}

/* True when all n bytes are zero: an absent or forgotten hash */
static bool
all_zero(const uint8_t *p, size_t n)
{
	uint8_t		acc = 0;
	size_t		i;

	for (i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

/*
 * Write a message if the caller wants one; every caller of the codec may
 * pass err = NULL when only the status matters (manifest_encode does).
 */
static void
set_err(char *err, size_t errlen, const char *fmt,...)
__attribute__((format(printf, 3, 4)));

static void
set_err(char *err, size_t errlen, const char *fmt,...)
{
	va_list		ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/*
 * One range check with one message shape, so that every signed field is
 * reported alike: its name, its offset, the value and the accepted range.
 */
static bool
check_range(int64_t v, int64_t lo, int64_t hi, const char *name, int off,
			const char *note, char *err, size_t errlen)
{
	if (v >= lo && v <= hi)
		return true;
	set_err(err, errlen, "%s (offset %d) is %" PRId64 "; accepted range %" PRId64 "..%" PRId64 "%s",
			name, off, v, lo, hi, note);
	return false;
}

/*
 * Every rule of a v1 manifest that the struct can break, in byte-offset
 * order so that a manifest with several faults always reports the same
 * (first) one.  Serves encode and decode alike, so that the server can
 * neither produce a manifest it would refuse nor accept one it could not
 * produce.
 */
ManifestStatus
manifest_check(const PhotoManifest *m, char *err, size_t errlen)
{
	if (m->version != MANIFEST_VERSION)
	{
		set_err(err, errlen, "unsupported manifest version %u (offset %d); supported versions: %d",
				(unsigned) m->version, MANIFEST_OFF_VERSION, MANIFEST_VERSION);
		return MANIFEST_BAD_VERSION;
	}
	if (manifest_algorithm_name(m->algorithm) == NULL)
	{
		set_err(err, errlen, "unknown algorithm %u (offset %d); accepted: %d (es256), %d (ed25519)",
				(unsigned) m->algorithm, MANIFEST_OFF_ALGORITHM,
				MANIFEST_ALG_ES256, MANIFEST_ALG_ED25519);
		return MANIFEST_BAD_ALGORITHM;
	}
	if ((m->flags & ~MANIFEST_FLAGS_KNOWN) != 0)
	{
		set_err(err, errlen, "reserved flag bits 0x%04x set in flags (offset %d); accepted bits: 0x%04x (offline nonce, mock location, stamped)",
				(unsigned) (m->flags & ~MANIFEST_FLAGS_KNOWN), MANIFEST_OFF_FLAGS,
				(unsigned) MANIFEST_FLAGS_KNOWN);
		return MANIFEST_BAD_FLAGS;
	}
	if (!check_range(m->tenant_id, 1, INT64_MAX, "tenant id", MANIFEST_OFF_TENANT, "", err, errlen) ||
		!check_range(m->worker_id, 1, INT64_MAX, "worker id", MANIFEST_OFF_WORKER, "", err, errlen) ||
		!check_range(m->device_id, 1, INT64_MAX, "device id", MANIFEST_OFF_DEVICE, "", err, errlen) ||
		!check_range(m->visit_id, 0, INT64_MAX, "visit id", MANIFEST_OFF_VISIT,
					 " (0 = no visit)", err, errlen) ||
		!check_range(m->capture_ms, 1, MANIFEST_CAPTURE_MS_MAX, "capture time", MANIFEST_OFF_CAPTURE,
					 " (ms since 1970-01-01 UTC, before 2200-01-01)", err, errlen) ||
		!check_range(m->lat_e7, -MANIFEST_LAT_E7_MAX, MANIFEST_LAT_E7_MAX, "latitude", MANIFEST_OFF_LAT,
					 " (degrees x 1e7)", err, errlen) ||
		!check_range(m->lon_e7, -MANIFEST_LON_E7_MAX, MANIFEST_LON_E7_MAX, "longitude", MANIFEST_OFF_LON,
					 " (degrees x 1e7)", err, errlen))
		return MANIFEST_BAD_FIELD;
	/* accuracy: every uint32 is a valid number of centimetres */
	if (m->counter < 1 || m->counter > MANIFEST_COUNTER_MAX)
	{
		set_err(err, errlen, "counter (offset %d) is %" PRIu64 "; accepted range 1..%" PRIu64 " (must fit a bigint)",
				MANIFEST_OFF_COUNTER, m->counter, MANIFEST_COUNTER_MAX);
		return MANIFEST_BAD_FIELD;
	}
	if (all_zero(m->photo_sha256, MANIFEST_HASH_LEN))
	{
		set_err(err, errlen, "photo hash (offset %d) is all zero; it must be the SHA-256 of the uploaded photo",
				MANIFEST_OFF_PHOTO_HASH);
		return MANIFEST_BAD_FIELD;
	}
	/* raw hash: all zero means "not provided", anything else is a hash */
	if (all_zero(m->nonce, MANIFEST_HASH_LEN))
	{
		set_err(err, errlen, "nonce (offset %d) is all zero; it must be the 32 bytes the server issued",
				MANIFEST_OFF_NONCE);
		return MANIFEST_BAD_FIELD;
	}
	return MANIFEST_OK;
}

/*
 * The one canonical encoding of a manifest.  Refuses (and leaves out
 * untouched) whatever manifest_decode would refuse, so bytes the server
 * writes for tests, fixtures or a reference phone are always accepted;
 * manifest_check gives the message.
 */
ManifestStatus
manifest_encode(const PhotoManifest *m, uint8_t out[MANIFEST_V1_LEN])
{
	ManifestStatus st = manifest_check(m, NULL, 0);

	if (st != MANIFEST_OK)
		return st;
	memcpy(out + MANIFEST_OFF_MAGIC, MANIFEST_MAGIC, 4);
	out[MANIFEST_OFF_VERSION] = m->version;
	out[MANIFEST_OFF_ALGORITHM] = m->algorithm;
	put_be(out + MANIFEST_OFF_FLAGS, m->flags, 2);
	memcpy(out + MANIFEST_OFF_KEY_ID, m->key_id, MANIFEST_HASH_LEN);
	put_be(out + MANIFEST_OFF_TENANT, (uint64_t) m->tenant_id, 8);
	put_be(out + MANIFEST_OFF_WORKER, (uint64_t) m->worker_id, 8);
	put_be(out + MANIFEST_OFF_DEVICE, (uint64_t) m->device_id, 8);
	put_be(out + MANIFEST_OFF_VISIT, (uint64_t) m->visit_id, 8);
	put_be(out + MANIFEST_OFF_CAPTURE, (uint64_t) m->capture_ms, 8);
	put_be(out + MANIFEST_OFF_LAT, (uint32_t) m->lat_e7, 4);
	put_be(out + MANIFEST_OFF_LON, (uint32_t) m->lon_e7, 4);
	put_be(out + MANIFEST_OFF_ACCURACY, m->accuracy_cm, 4);
	put_be(out + MANIFEST_OFF_COUNTER, m->counter, 8);
	memcpy(out + MANIFEST_OFF_PHOTO_HASH, m->photo_sha256, MANIFEST_HASH_LEN);
	memcpy(out + MANIFEST_OFF_RAW_HASH, m->raw_sha256, MANIFEST_HASH_LEN);
	memcpy(out + MANIFEST_OFF_NONCE, m->nonce, MANIFEST_HASH_LEN);
	return MANIFEST_OK;
}

/*
 * Bytes to a manifest, refusing anything that is not the canonical
 * encoding of a valid v1 manifest; *m is written only on success, so a
 * caller can never act on half a manifest.
 *
 * Magic and version are checked before the length when there are enough
 * bytes for them: a phone that sends a later, longer format is told
 * "unsupported manifest version 2", which says what to fix, rather than
 * that the length is wrong.
 */
ManifestStatus
manifest_decode(const uint8_t *buf, size_t len, PhotoManifest *m,
				char *err, size_t errlen)
{
	PhotoManifest t;

	if (len > MANIFEST_OFF_VERSION)
	{
		if (memcmp(buf + MANIFEST_OFF_MAGIC, MANIFEST_MAGIC, 4) != 0)
		{
			set_err(err, errlen, "bad magic (offset %d): got %02x %02x %02x %02x, expected 46 4f 50 4d (\"FOPM\")",
					MANIFEST_OFF_MAGIC, buf[0], buf[1], buf[2], buf[3]);
			return MANIFEST_BAD_MAGIC;
		}
		if (buf[MANIFEST_OFF_VERSION] != MANIFEST_VERSION)
		{
			set_err(err, errlen, "unsupported manifest version %u (offset %d); supported versions: %d",
					(unsigned) buf[MANIFEST_OFF_VERSION], MANIFEST_OFF_VERSION, MANIFEST_VERSION);
			return MANIFEST_BAD_VERSION;
		}
	}
	if (len != MANIFEST_V1_LEN)
	{
		set_err(err, errlen, "manifest is %zu bytes; expected exactly %d (version %d)",
				len, MANIFEST_V1_LEN, MANIFEST_VERSION);
		return MANIFEST_BAD_LENGTH;
	}

	t.version = buf[MANIFEST_OFF_VERSION];
	t.algorithm = buf[MANIFEST_OFF_ALGORITHM];
	t.flags = (uint16_t) get_be(buf + MANIFEST_OFF_FLAGS, 2);
	memcpy(t.key_id, buf + MANIFEST_OFF_KEY_ID, MANIFEST_HASH_LEN);
	t.tenant_id = to_i64(get_be(buf + MANIFEST_OFF_TENANT, 8));
	t.worker_id = to_i64(get_be(buf + MANIFEST_OFF_WORKER, 8));
	t.device_id = to_i64(get_be(buf + MANIFEST_OFF_DEVICE, 8));
	t.visit_id = to_i64(get_be(buf + MANIFEST_OFF_VISIT, 8));
	t.capture_ms = to_i64(get_be(buf + MANIFEST_OFF_CAPTURE, 8));
	t.lat_e7 = to_i32((uint32_t) get_be(buf + MANIFEST_OFF_LAT, 4));
	t.lon_e7 = to_i32((uint32_t) get_be(buf + MANIFEST_OFF_LON, 4));
	t.accuracy_cm = (uint32_t) get_be(buf + MANIFEST_OFF_ACCURACY, 4);
	t.counter = get_be(buf + MANIFEST_OFF_COUNTER, 8);
	memcpy(t.photo_sha256, buf + MANIFEST_OFF_PHOTO_HASH, MANIFEST_HASH_LEN);
	memcpy(t.raw_sha256, buf + MANIFEST_OFF_RAW_HASH, MANIFEST_HASH_LEN);
	memcpy(t.nonce, buf + MANIFEST_OFF_NONCE, MANIFEST_HASH_LEN);

	{
		ManifestStatus st = manifest_check(&t, err, errlen);

		if (st != MANIFEST_OK)
			return st;
	}
	*m = t;
	return MANIFEST_OK;
}

/*
 * Whether the phone sent the raw capture's hash; SQL needs this to tell
 * "not provided" (all zero bytes) from a hash to compare.
 */
bool
manifest_has_raw_hash(const PhotoManifest *m)
{
	return !all_zero(m->raw_sha256, MANIFEST_HASH_LEN);
}

/*
 * Number of differing bits between two perceptual hashes: the distance
 * the near-duplicate search ranks by and confirms band candidates with.
 * One popcount instruction where the CPU has one.
 */
int
hamming64(uint64_t a, uint64_t b)
{
	return __builtin_popcountll((unsigned long long) (a ^ b));
}

/*
 * Split a 64-bit perceptual hash into nbands (1..PHASH_MAX_BANDS)
 * contiguous bands of bits, for an index of (band index, band value) pairs
 * that finds near-duplicates without comparing against every stored hash.
 *
 * Why it works (pigeonhole): the bands partition the 64 bits, so d
 * differing bits fall into at most d bands.  If d < nbands, at least one
 * band holds no differing bit and its value is the same in both hashes.
 * So a lookup of a hash's nbands pairs finds every stored hash within
 * Hamming distance nbands - 1; to search up to distance D, use
 * nbands = D + 1 (more bands find the same hashes, but each band is
 * shorter, so less selective).  The converse does not hold: sharing a band
 * says nothing about the other bits, so candidates must be confirmed with
 * hamming64.
 *
 * Layout: band 0 holds the most significant bits; widths are 64 / nbands,
 * and the first 64 % nbands bands get one bit more (nbands = 9 gives one
 * band of 8 bits, then eight of 7).  Stored band values depend on this
 * layout, so changing it means rebuilding every band index.
 *
 * Returns nbands, or -1 (writing nothing) when nbands is out of range.
 */
int
phash_bands(uint64_t h, int nbands, PhashBand *out)
{
	int			base,
				extra,
				top = 64,
				i;

	if (nbands < 1 || nbands > PHASH_MAX_BANDS || out == NULL)
		return -1;
	base = 64 / nbands;
	extra = 64 % nbands;
	for (i = 0; i < nbands; i++)
	{
		int			width = base + (i < extra ? 1 : 0);
		int			shift = top - width;
		uint64_t	mask = width >= 64 ? UINT64_MAX : (UINT64_C(1) << width) - 1;

		out[i].index = i;
		out[i].shift = shift;
		out[i].width = width;
		out[i].value = (h >> shift) & mask;
		top = shift;
	}
	return nbands;
}
