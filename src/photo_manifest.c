/*-------------------------------------------------------------------------
 *
 * photo_manifest.c
 *		SQL wrappers of the manifest codec and the perceptual-hash helpers:
 *		fieldops.photo_manifest(), parse_photo_manifest(),
 *		photo_manifest_problem(), hamming64() and phash_bands().
 *
 * The codec itself (manifest_core.c) is pure C and shared with the unit
 * tests and the fuzzer; this file only converts between SQL values and
 * its struct: timestamps to milliseconds since the Unix epoch, degrees to
 * 1e-7 degree, metres to centimetres, booleans to flag bits.
 *
 * Copyright (c) 2026, fieldops developers
 *
 * IDENTIFICATION
 *		src/photo_manifest.c
 *
 *-------------------------------------------------------------------------
 */
#include "fieldops.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "manifest_core.h"
#include "sig_core.h"

StaticAssertDecl(MANIFEST_ALG_ES256 == SIG_ES256 && MANIFEST_ALG_ED25519 == SIG_ED25519,
				 "the manifest numbers algorithms as the signature core does");

PG_FUNCTION_INFO_V1(fieldops_photo_manifest);
PG_FUNCTION_INFO_V1(fieldops_parse_photo_manifest);
PG_FUNCTION_INFO_V1(fieldops_photo_manifest_problem);
PG_FUNCTION_INFO_V1(fieldops_hamming64);
PG_FUNCTION_INFO_V1(fieldops_phash_bands);

/* bands of the near-duplicate index: 8 x 8 bits, so distances up to 7 */
#define PHASH_SQL_BANDS 8

/* a required argument, or 22004 naming it */
static void
require_arg(FunctionCallInfo fcinfo, int n, const char *name)
{
	if (PG_ARGISNULL(n))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", name)));
}

/* copy a 32-byte argument (or zeros for NULL when allowed) */
static void
hash_arg(FunctionCallInfo fcinfo, int n, const char *name, bool nullable, uint8_t out[MANIFEST_HASH_LEN])
{
	bytea	   *b;

	if (PG_ARGISNULL(n))
	{
		if (!nullable)
			require_arg(fcinfo, n, name);
		memset(out, 0, MANIFEST_HASH_LEN);
		return;
	}
	b = PG_GETARG_BYTEA_PP(n);
	if (VARSIZE_ANY_EXHDR(b) != MANIFEST_HASH_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be %d bytes, got %d", name, MANIFEST_HASH_LEN, (int) VARSIZE_ANY_EXHDR(b))));
	memcpy(out, VARDATA_ANY(b), MANIFEST_HASH_LEN);
}

/* degrees to 1e-7 degree, refusing what cannot be a coordinate */
static int32_t
degrees_e7(double deg, double limit, const char *name)
{
	if (!isfinite(deg) || fabs(deg) > limit)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be between -%g and %g degrees, got %g", name, limit, limit, deg)));
	return (int32_t) rint(deg * 1e7);
}

/*
 * fieldops.photo_manifest(...): the bytes a phone signs, for servers that
 * build or check manifests in SQL and for tests.
 */
Datum
fieldops_photo_manifest(PG_FUNCTION_ARGS)
{
	PhotoManifest m;
	uint8_t		out[MANIFEST_V1_LEN];
	char		err[MANIFEST_ERR_LEN];
	TimestampTz ts;
	int64		unix_us;
	ManifestStatus st;

	require_arg(fcinfo, 0, "p_algorithm");
	for (int i = 2; i <= 10; i++)
	{
		static const char *const names[] = {"p_tenant_id", "p_worker_id", "p_device_id", "p_visit_id",
		"p_captured_at", "p_latitude", "p_longitude", NULL, "p_counter"};

		if (names[i - 2] != NULL)
			require_arg(fcinfo, i, names[i - 2]);
	}
	memset(&m, 0, sizeof(m));
	m.version = MANIFEST_VERSION;
	m.algorithm = (uint8_t) fieldops_algorithm_arg(PG_GETARG_TEXT_PP(0), "p_algorithm");
	hash_arg(fcinfo, 1, "p_key_id", false, m.key_id);
	m.tenant_id = PG_GETARG_INT64(2);
	m.worker_id = PG_GETARG_INT64(3);
	m.device_id = PG_GETARG_INT64(4);
	m.visit_id = PG_GETARG_INT64(5);

	ts = PG_GETARG_TIMESTAMPTZ(6);
	if (TIMESTAMP_NOT_FINITE(ts))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("p_captured_at must be a finite time")));
	/* floor to the millisecond, also before 1970 (refused below anyway) */
	unix_us = ts + FIELDOPS_UNIX_TO_PG_US;
	m.capture_ms = unix_us >= 0 ? unix_us / 1000 : -((-unix_us + 999) / 1000);

	m.lat_e7 = degrees_e7(PG_GETARG_FLOAT8(7), 90.0, "p_latitude");
	m.lon_e7 = degrees_e7(PG_GETARG_FLOAT8(8), 180.0, "p_longitude");
	if (!PG_ARGISNULL(9))
	{
		float4		acc = PG_GETARG_FLOAT4(9);

		if (!isfinite(acc) || acc < 0 || acc > 4.0e7)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("p_accuracy_m must be between 0 and 40000000 metres, got %g", acc)));
		m.accuracy_cm = (uint32_t) rint((double) acc * 100.0);
	}
	if (PG_GETARG_INT64(10) < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("p_counter must be at least 1, got " INT64_FORMAT, PG_GETARG_INT64(10))));
	m.counter = (uint64_t) PG_GETARG_INT64(10);
	hash_arg(fcinfo, 11, "p_photo_sha256", false, m.photo_sha256);
	hash_arg(fcinfo, 12, "p_raw_sha256", true, m.raw_sha256);
	hash_arg(fcinfo, 13, "p_nonce", false, m.nonce);
	if (!PG_ARGISNULL(14) && PG_GETARG_BOOL(14))
		m.flags |= MANIFEST_FLAG_OFFLINE_NONCE;
	if (!PG_ARGISNULL(15) && PG_GETARG_BOOL(15))
		m.flags |= MANIFEST_FLAG_MOCK_LOCATION;
	if (!PG_ARGISNULL(16) && PG_GETARG_BOOL(16))
		m.flags |= MANIFEST_FLAG_STAMPED;

	st = manifest_check(&m, err, sizeof(err));
	if (st != MANIFEST_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot encode photo manifest: %s", err)));
	if (manifest_encode(&m, out) != MANIFEST_OK)
		elog(ERROR, "fieldops: manifest_encode refused a checked manifest");
	PG_RETURN_BYTEA_P(fieldops_bytea(out, MANIFEST_V1_LEN));
}

/* decode or fail with the codec's message */
static void
decode_or_error(bytea *in, PhotoManifest *m)
{
	char		err[MANIFEST_ERR_LEN];

	if (manifest_decode((const uint8_t *) VARDATA_ANY(in), VARSIZE_ANY_EXHDR(in), m, err, sizeof(err)) != MANIFEST_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid photo manifest: %s", err)));
}

/* fieldops.parse_photo_manifest(bytes): the fields, or 22023 */
Datum
fieldops_parse_photo_manifest(PG_FUNCTION_ARGS)
{
	bytea	   *in = PG_GETARG_BYTEA_PP(0);
	PhotoManifest m;
	TupleDesc	desc;
	Datum		values[18];
	bool		nulls[18];

	decode_or_error(in, &m);
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "parse_photo_manifest must return fieldops.photo_manifest_fields");
	desc = BlessTupleDesc(desc);
	if (desc->natts != 18)
		elog(ERROR, "fieldops.photo_manifest_fields has %d attributes, expected 18", desc->natts);

	memset(nulls, false, sizeof(nulls));
	values[0] = Int32GetDatum(m.version);
	values[1] = CStringGetTextDatum(manifest_algorithm_name(m.algorithm));
	values[2] = BoolGetDatum((m.flags & MANIFEST_FLAG_OFFLINE_NONCE) != 0);
	values[3] = BoolGetDatum((m.flags & MANIFEST_FLAG_MOCK_LOCATION) != 0);
	values[4] = BoolGetDatum((m.flags & MANIFEST_FLAG_STAMPED) != 0);
	values[5] = PointerGetDatum(fieldops_bytea(m.key_id, MANIFEST_HASH_LEN));
	values[6] = Int64GetDatum(m.tenant_id);
	values[7] = Int64GetDatum(m.worker_id);
	values[8] = Int64GetDatum(m.device_id);
	values[9] = Int64GetDatum(m.visit_id);
	values[10] = TimestampTzGetDatum(m.capture_ms * 1000 - FIELDOPS_UNIX_TO_PG_US);
	values[11] = Float8GetDatum(m.lat_e7 / 1e7);
	values[12] = Float8GetDatum(m.lon_e7 / 1e7);
	values[13] = Float4GetDatum((float4) (m.accuracy_cm / 100.0));
	nulls[13] = (m.accuracy_cm == 0);
	values[14] = Int64GetDatum((int64) m.counter);
	values[15] = PointerGetDatum(fieldops_bytea(m.photo_sha256, MANIFEST_HASH_LEN));
	values[16] = PointerGetDatum(fieldops_bytea(m.raw_sha256, MANIFEST_HASH_LEN));
	nulls[16] = !manifest_has_raw_hash(&m);
	values[17] = PointerGetDatum(fieldops_bytea(m.nonce, MANIFEST_HASH_LEN));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

/*
 * fieldops.photo_manifest_problem(bytes): NULL, or {code, message}.  Lets
 * submit_photo() record a malformed manifest as a rejection without the
 * cost of a subtransaction to catch the error.
 */
Datum
fieldops_photo_manifest_problem(PG_FUNCTION_ARGS)
{
	bytea	   *in = PG_GETARG_BYTEA_PP(0);
	PhotoManifest m;
	char		err[MANIFEST_ERR_LEN];
	ManifestStatus st;
	Datum		items[2];

	st = manifest_decode((const uint8_t *) VARDATA_ANY(in), VARSIZE_ANY_EXHDR(in), &m, err, sizeof(err));
	if (st == MANIFEST_OK)
		PG_RETURN_NULL();
	items[0] = CStringGetTextDatum(manifest_status_code(st));
	items[1] = CStringGetTextDatum(err);
	PG_RETURN_ARRAYTYPE_P(construct_array(items, 2, TEXTOID, -1, false, TYPALIGN_INT));
}

/* fieldops.hamming64(a, b) */
Datum
fieldops_hamming64(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(hamming64((uint64_t) PG_GETARG_INT64(0), (uint64_t) PG_GETARG_INT64(1)));
}

/*
 * fieldops.phash_bands(h): 8 keys (256 * band + value) that the
 * near-duplicate index stores and searches.
 */
Datum
fieldops_phash_bands(PG_FUNCTION_ARGS)
{
	PhashBand	bands[PHASH_MAX_BANDS];
	Datum		keys[PHASH_SQL_BANDS];
	int			n = phash_bands((uint64_t) PG_GETARG_INT64(0), PHASH_SQL_BANDS, bands);

	if (n != PHASH_SQL_BANDS)
		elog(ERROR, "fieldops: phash_bands returned %d bands, expected %d", n, PHASH_SQL_BANDS);
	for (int i = 0; i < n; i++)
		keys[i] = Int32GetDatum(bands[i].index * 256 + (int32) bands[i].value);
	PG_RETURN_ARRAYTYPE_P(construct_array(keys, n, INT4OID, sizeof(int32), true, TYPALIGN_INT));
}
