/*-------------------------------------------------------------------------
 *
 * fieldops.c
 *		Module entry point of the fieldops extension.
 *
 * _PG_init only dispatches: GUCs that SQL functions need are defined in
 * every backend that loads the library; what needs shared memory or a
 * background worker is set up only while shared_preload_libraries is being
 * processed.  libsodium is initialised here once per process, because the
 * signature and hashing functions of later modules call into it.
 *
 * Copyright (c) 2026, fieldops developers
 *
 * IDENTIFICATION
 *		src/fieldops.c
 *
 *-------------------------------------------------------------------------
 */
#include "fieldops.h"

#include <sodium.h>
#include <openssl/crypto.h>
#include <openssl/opensslv.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"

PG_MODULE_MAGIC;

/* true in the postmaster and its children when loaded by preloading */
bool		fieldops_preloaded = false;

PG_FUNCTION_INFO_V1(fieldops_library_info);

/*
 * Load-time initialisation.  The order follows what the server allows:
 * user-settable GUCs first (they must exist in every backend), then, only
 * when preloading, postmaster-level settings, the reserved prefix, shared
 * memory and the launcher.
 */
void
_PG_init(void)
{
	/*
	 * sodium_init() is idempotent and thread-safe; a negative result means
	 * the library could not initialise its random source, in which case no
	 * cryptographic function may be used.
	 */
	if (sodium_init() < 0)
		ereport(ERROR,
				(errcode(ERRCODE_SYSTEM_ERROR),
				 errmsg("fieldops: libsodium could not be initialised")));

	tenant_context_init();
	jobs_launcher_init_gucs();
	photo_sig_init();

	if (process_shared_preload_libraries_in_progress && !IsBinaryUpgrade)
	{
		fieldops_preloaded = true;
		jobs_launcher_init_preload();
		photo_receipt_init_preload();
	}

	MarkGUCPrefixReserved(FIELDOPS_GUC_PREFIX);
}

/*
 * fieldops.library_info(): versions of the libraries the module was built
 * against and runs with, so a DBA can tell which build is loaded and support
 * can tell a packaging mismatch from a bug.
 */
Datum
fieldops_library_info(PG_FUNCTION_ARGS)
{
	char		buf[256];

	snprintf(buf, sizeof(buf),
			 "{\"libsodium\": \"%s\", \"openssl_built\": \"%s\", \"openssl_runtime\": \"%s\", \"preloaded\": %s}",
			 sodium_version_string(),
			 OPENSSL_VERSION_TEXT,
			 OpenSSL_version(OPENSSL_VERSION),
			 fieldops_preloaded ? "true" : "false");
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf)));
}

/*
 * A bytea copy of some bytes: the wrappers return digests, keys and encoded
 * records this way.
 */
bytea *
fieldops_bytea(const void *data, size_t len)
{
	bytea	   *out = (bytea *) palloc(VARHDRSZ + len);

	SET_VARSIZE(out, VARHDRSZ + len);
	memcpy(VARDATA(out), data, len);
	return out;
}

/*
 * Call fn for every key of a jsonb object, with its value (containers are
 * not descended into: fn gets them as jbvBinary).  The one loop over
 * object keys that the parameter and scoring parsers share; each keeps its
 * own messages.
 */
void
fieldops_jsonb_each_key(JsonbContainer *jc, void (*fn) (const char *name, JsonbValue *v, void *arg), void *arg)
{
	JsonbIterator *it = JsonbIteratorInit(jc);
	JsonbValue	k,
				v;
	JsonbIteratorToken tok;

	while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
	{
		char	   *name;

		if (tok != WJB_KEY)
			continue;
		name = pnstrdup(k.val.string.val, k.val.string.len);
		(void) JsonbIteratorNext(&it, &v, true);
		fn(name, &v, arg);
	}
}
