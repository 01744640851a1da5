/*-------------------------------------------------------------------------
 *
 * photo_receipt.c
 *		The server's receipt key and the SQL functions around it:
 *		fieldops.receipt_public_key(), receipt_key_status(),
 *		photo_receipt() (for submit_photo) and verify_receipt(), plus
 *		random_bytes() for nonces.
 *
 * The Ed25519 seed is read once, in the postmaster while
 * shared_preload_libraries is processed, from the file named by the
 * superuser-only setting fieldops.receipt_key_file.  The secret key lives
 * in libsodium's guarded memory (sodium_malloc: guard pages, locked against
 * swapping), is made inaccessible (sodium_mprotect_noaccess) except for the
 * instant of signing, and is inherited by every backend through fork; no
 * SQL function returns it and no message includes it or the file's
 * contents.  A missing or unusable file leaves the server running without
 * receipts, and receipt_key_status() says why.
 *
 * Copyright (c) 2026, fieldops developers
 *
 * IDENTIFICATION
 *		src/photo_receipt.c
 *
 *-------------------------------------------------------------------------
 */
#include "fieldops.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "access/htup_details.h"
#include "datatype/timestamp.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "receipt_core.h"

PG_FUNCTION_INFO_V1(fieldops_receipt_public_key);
PG_FUNCTION_INFO_V1(fieldops_receipt_key_status);
PG_FUNCTION_INFO_V1(fieldops_photo_receipt);
PG_FUNCTION_INFO_V1(fieldops_verify_receipt);
PG_FUNCTION_INFO_V1(fieldops_random_bytes);

static char *receipt_key_file = NULL;

/* set in the postmaster, inherited by the backends */
static uint8_t *receipt_secret = NULL;	/* sodium_malloc'd, normally no access */
static uint8_t receipt_public[RECEIPT_PUBLIC_KEY_LEN];
static char receipt_status[200] = "not configured (fieldops.receipt_key_file is empty)";

/*
 * Read and check the key file.  Only the file's name and the kind of
 * problem are ever reported, never its contents.
 */
static void
receipt_load_key(const char *path)
{
	char	   *text;
	uint8_t    *seed;
	struct stat st;
	ssize_t		n;
	int			fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
	{
		snprintf(receipt_status, sizeof(receipt_status), "unusable: cannot open the key file (%s)", strerror(errno));
		return;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
	{
		close(fd);
		snprintf(receipt_status, sizeof(receipt_status), "unusable: the key file is not a regular file");
		return;
	}
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
	{
		close(fd);
		snprintf(receipt_status, sizeof(receipt_status),
				 "unusable: the key file must not be accessible to group or others (chmod 600)");
		return;
	}

	/* guarded buffers, so the secret never sits in ordinary heap memory */
	text = sodium_malloc(256);
	seed = sodium_malloc(RECEIPT_SEED_LEN);
	receipt_secret = sodium_malloc(RECEIPT_SECRET_KEY_LEN);
	if (text == NULL || seed == NULL || receipt_secret == NULL)
	{
		close(fd);
		snprintf(receipt_status, sizeof(receipt_status), "unusable: out of guarded memory");
		receipt_secret = NULL;
		return;
	}
	n = read(fd, text, 256);
	close(fd);
	if (n < 0 || n >= 256 || receipt_parse_key_file(text, (size_t) n, seed) != 0)
	{
		sodium_free(text);
		sodium_free(seed);
		sodium_free(receipt_secret);
		receipt_secret = NULL;
		snprintf(receipt_status, sizeof(receipt_status),
				 "unusable: the key file must hold exactly 64 hex digits (a 32-byte Ed25519 seed, e.g. from openssl rand -hex 32)");
		return;
	}
	crypto_sign_seed_keypair(receipt_public, receipt_secret, seed);
	sodium_free(text);			/* sodium_free wipes before freeing */
	sodium_free(seed);
	sodium_mprotect_noaccess(receipt_secret);
	snprintf(receipt_status, sizeof(receipt_status), "loaded");
}

/*
 * Define fieldops.receipt_key_file and load the key.  Called from _PG_init
 * only while preloading: the key is read once at server start.
 */
void
photo_receipt_init_preload(void)
{
	DefineCustomStringVariable("fieldops.receipt_key_file",
							   "File holding the Ed25519 seed (64 hex digits) that signs photo receipts.",
							   "Read once at server start; relative paths are relative to the data directory. "
							   "Empty: no receipts.",
							   &receipt_key_file,
							   "",
							   PGC_POSTMASTER,
							   GUC_SUPERUSER_ONLY,
							   NULL, NULL, NULL);
	if (receipt_key_file != NULL && receipt_key_file[0] != '\0')
	{
		receipt_load_key(receipt_key_file);
		if (receipt_secret == NULL)
			ereport(WARNING,
					(errmsg("fieldops: photo receipts are disabled: receipt key %s", receipt_status),
					 errdetail("fieldops.receipt_key_file is \"%s\".", receipt_key_file)));
	}
}

/* the status line: loaded, not configured, not preloaded, or unusable: why */
static const char *
receipt_key_state(void)
{
	if (!fieldops_preloaded)
		return "not loaded (fieldops is not in shared_preload_libraries)";
	return receipt_status;
}

/*
 * fieldops.receipt_public_key(): the public half, so anyone can check
 * receipts with any Ed25519 library.
 */
Datum
fieldops_receipt_public_key(PG_FUNCTION_ARGS)
{
	if (receipt_secret == NULL)
		PG_RETURN_NULL();
	PG_RETURN_BYTEA_P(fieldops_bytea(receipt_public, RECEIPT_PUBLIC_KEY_LEN));
}

/* fieldops.receipt_key_status(): why there are (no) receipts */
Datum
fieldops_receipt_key_status(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(receipt_key_state()));
}

/* a bytea argument of exactly 32 bytes, or an error naming it */
static const uint8_t *
arg_hash32(bytea *b, const char *name)
{
	if (VARSIZE_ANY_EXHDR(b) != 32)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be 32 bytes, got %d", name, (int) VARSIZE_ANY_EXHDR(b))));
	return (const uint8_t *) VARDATA_ANY(b);
}

/*
 * fieldops.photo_receipt(tenant, photo, received_at, verdict, manifest
 * hash, chain hash): sign a receipt, or NULL without a key.  The secret is
 * readable only for the duration of the signature.
 */
Datum
fieldops_photo_receipt(PG_FUNCTION_ARGS)
{
	Receipt		r;
	bytea	   *out;
	char	   *verdict = text_to_cstring(PG_GETARG_TEXT_PP(3));
	int			rc;

	if (receipt_secret == NULL)
		PG_RETURN_NULL();
	r.tenant_id = PG_GETARG_INT64(0);
	r.photo_id = PG_GETARG_INT64(1);
	r.received_us = PG_GETARG_TIMESTAMPTZ(2) + FIELDOPS_UNIX_TO_PG_US;
	r.verdict = receipt_verdict_code(verdict);
	if (r.verdict == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("p_verdict must be accepted, review or rejected, got \"%s\"", verdict)));
	memcpy(r.manifest_sha256, arg_hash32(PG_GETARG_BYTEA_PP(4), "p_manifest_sha256"), 32);
	memcpy(r.chain_hash, arg_hash32(PG_GETARG_BYTEA_PP(5), "p_chain_hash"), 32);

	out = (bytea *) palloc(VARHDRSZ + RECEIPT_V1_LEN);
	SET_VARSIZE(out, VARHDRSZ + RECEIPT_V1_LEN);
	sodium_mprotect_readonly(receipt_secret);
	rc = receipt_sign(&r, receipt_secret, (uint8_t *) VARDATA(out));
	sodium_mprotect_noaccess(receipt_secret);
	if (rc != 0)
		elog(ERROR, "fieldops: signing a receipt failed");
	PG_RETURN_BYTEA_P(out);
}

/*
 * fieldops.verify_receipt(receipt): valid or not, and what it says.  An
 * error only when this server has no key to check with.
 */
Datum
fieldops_verify_receipt(PG_FUNCTION_ARGS)
{
	bytea	   *in = PG_GETARG_BYTEA_PP(0);
	TupleDesc	desc;
	Datum		values[7];
	bool		nulls[7] = {false, true, true, true, true, true, true};
	Receipt		r;
	ReceiptCheck check;

	if (receipt_secret == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("this server has no receipt key, so it cannot check receipts"),
				 errdetail("Receipt key: %s.", receipt_key_state()),
				 errhint("Check a receipt elsewhere with fieldops.ed25519_verify() and the public key that signed it.")));
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "verify_receipt must return a record");
	desc = BlessTupleDesc(desc);

	check = receipt_check((const uint8_t *) VARDATA_ANY(in), VARSIZE_ANY_EXHDR(in), receipt_public, &r);
	values[0] = BoolGetDatum(check == RECEIPT_VALID);
	if (check != RECEIPT_MALFORMED)
	{
		values[1] = Int64GetDatum(r.tenant_id);
		values[2] = Int64GetDatum(r.photo_id);
		values[3] = TimestampTzGetDatum(r.received_us - FIELDOPS_UNIX_TO_PG_US);
		values[4] = CStringGetTextDatum(receipt_verdict_name(r.verdict));
		values[5] = PointerGetDatum(fieldops_bytea(r.manifest_sha256, 32));
		values[6] = PointerGetDatum(fieldops_bytea(r.chain_hash, 32));
		memset(nulls, false, sizeof(nulls));
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

/* fieldops.random_bytes(n): nonces come from libsodium's CSPRNG */
Datum
fieldops_random_bytes(PG_FUNCTION_ARGS)
{
	int32		n = PG_GETARG_INT32(0);
	bytea	   *out;

	if (n < 1 || n > 1024)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("p_length must be between 1 and 1024, got %d", n)));
	out = (bytea *) palloc(VARHDRSZ + n);
	SET_VARSIZE(out, VARHDRSZ + n);
	randombytes_buf(VARDATA(out), (size_t) n);
	PG_RETURN_BYTEA_P(out);
}
