/*-------------------------------------------------------------------------
 *
 * fuzz_manifest.c
 *		libFuzzer harness of the photo manifest codec and the perceptual-hash
 *		band helpers (manifest_core.c).
 *
 * The manifest decoder reads bytes that come straight from phones, before
 * any signature is checked, so it must survive anything and its idea of a
 * valid manifest must be exact.  For every input: decoding must not crash
 * or read out of bounds (ASan, UBSan); a refusal must come with a status
 * code and a message that fits MANIFEST_ERR_LEN and names a byte offset or
 * the length; and an accepted input must re-encode to itself byte for
 * byte, which is what makes the encoding canonical (one encoding per
 * manifest, so a signature cannot be carried over to a different-looking
 * but equivalent manifest).  Any violation aborts, which libFuzzer records
 * as a crash with the input that caused it.
 *
 * The first nine bytes also drive phash_bands: the bands must rebuild the
 * hash and lie within their widths, so the layout the near-duplicate
 * index depends on is checked for every band count, valid or not.
 *
 * Copyright (c) 2026, fieldops developers
 *
 * IDENTIFICATION
 *		test/fuzz/fuzz_manifest.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "manifest_core.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Bands of a hash taken from the input; any band count from -1 to 17, so
 * that the refusals at both ends are exercised too.
 */
static void
check_bands(const uint8_t *data, size_t size)
{
	PhashBand	b[PHASH_MAX_BANDS];
	uint64_t	h = 0,
				r = 0;
	int			nbands,
				n,
				i;

	if (size < 9)
		return;
	for (i = 0; i < 8; i++)
		h = h << 8 | data[i];
	nbands = (int) (data[8] % 19) - 1;
	n = phash_bands(h, nbands, b);
	if (nbands < 1 || nbands > PHASH_MAX_BANDS)
	{
		if (n != -1)
			abort();
		return;
	}
	if (n != nbands)
		abort();
	for (i = 0; i < n; i++)
	{
		if (b[i].width < 64 / n || b[i].width > 64 / n + 1)
			abort();
		if (b[i].width < 64 && b[i].value >> b[i].width != 0)
			abort();
		r |= b[i].value << b[i].shift;
	}
	if (r != h || hamming64(h, r) != 0 || hamming64(h, ~h) != 64)
		abort();
}

/* One input: decode, and hold every accepted manifest to canonical form */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	PhotoManifest m;
	uint8_t		again[MANIFEST_V1_LEN];
	char		err[512];
	ManifestStatus st;

	err[0] = '\0';
	st = manifest_decode(data, size, &m, err, sizeof(err));
	if (st == MANIFEST_OK)
	{
		if (size != MANIFEST_V1_LEN)
			abort();
		if (manifest_encode(&m, again) != MANIFEST_OK)
			abort();
		if (memcmp(again, data, MANIFEST_V1_LEN) != 0)
			abort();
		if (manifest_check(&m, NULL, 0) != MANIFEST_OK)
			abort();
	}
	else
	{
		size_t		len = strlen(err);

		if (st <= MANIFEST_OK || st >= MANIFEST__COUNT)
			abort();
		if (strcmp(manifest_status_code(st), "unknown") == 0)
			abort();
		if (len == 0 || len >= MANIFEST_ERR_LEN - 1)
			abort();
		if (st == MANIFEST_BAD_LENGTH ? strstr(err, "bytes; expected exactly") == NULL
			: strstr(err, "(offset ") == NULL)
			abort();
	}
	check_bands(data, size);
	return 0;
}
