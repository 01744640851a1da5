/*-------------------------------------------------------------------------
 *
 * photo_sig.c
 *		SQL wrappers of the signature core: fieldops.es256_verify(),
 *		ed25519_verify(), canonical_public_key() and device_keys_changed().
 *
 * The core (sig_core.c) keeps parsed public keys per process, keyed by
 * their bytes.  That cache is pure — the same bytes always parse to the
 * same key — so a revoked key can never be "used from the cache": whether a
 * key may sign is decided in SQL from fieldops.device_key on every call.
 * The cache is still emptied whenever a device key is rotated or revoked
 * (device_keys_changed() sends a relcache invalidation of
 * fieldops.device_key, which every backend receives at the other's
 * commit), so keys that no longer sign do not stay parsed in memory.
 *
 * Copyright (c) 2026, fieldops developers
 *
 * IDENTIFICATION
 *		src/photo_sig.c
 *
 *-------------------------------------------------------------------------
 */
#include "fieldops.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"

#include "sig_core.h"

StaticAssertDecl(SIG_ES256 == 1 && SIG_ED25519 == 2, "algorithm numbers are shared with the manifest");

PG_FUNCTION_INFO_V1(fieldops_es256_verify);
PG_FUNCTION_INFO_V1(fieldops_ed25519_verify);
PG_FUNCTION_INFO_V1(fieldops_canonical_public_key);
PG_FUNCTION_INFO_V1(fieldops_device_keys_changed);
PG_FUNCTION_INFO_V1(fieldops_signature_cache_stats);

/* fieldops.device_key, once this backend has looked it up */
static Oid	device_key_relid = InvalidOid;

/*
 * Relcache callback: drop the parsed keys when fieldops.device_key is
 * invalidated (or everything is).  Runs at transaction boundaries, so it
 * must not look anything up itself.
 */
static void
photo_sig_relcache_callback(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == device_key_relid)
		sig_cache_reset();
}

/* Register the callback; called from _PG_init in every backend */
void
photo_sig_init(void)
{
	CacheRegisterRelcacheCallback(photo_sig_relcache_callback, (Datum) 0);
}

/*
 * Remember fieldops.device_key's oid, so the callback recognises it.  Done
 * on the first verification, when catalog access is safe; a backend that
 * never verified has nothing cached.
 */
static void
remember_device_key_relid(void)
{
	Oid			nsp;

	if (OidIsValid(device_key_relid))
		return;
	nsp = get_namespace_oid("fieldops", true);
	if (OidIsValid(nsp))
		device_key_relid = get_relname_relid("device_key", nsp);
}

/*
 * The algorithm named by SQL text (1 = es256, 2 = ed25519, as SigAlg and
 * the manifest number them), or 22023 listing both.  Shared by every
 * wrapper that takes an algorithm name.
 */
int
fieldops_algorithm_arg(text *t, const char *argname)
{
	char	   *name = text_to_cstring(t);

	if (strcmp(name, "es256") == 0)
		return SIG_ES256;
	if (strcmp(name, "ed25519") == 0)
		return SIG_ED25519;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s must be es256 or ed25519, got \"%s\"", argname, name)));
	return SIG_ES256;			/* not reached */
}

/* turn a core status into the SQL error it stands for */
static void
check_status(SigStatus st, const char *errbuf)
{
	if (st == SIG_OK)
		return;
	if (st == SIG_BAD_KEY)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("malformed public key: %s", errbuf)));
	if (st == SIG_FAILURE)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("%s", errbuf)));
	elog(ERROR, "fieldops: signature core refused its arguments: %s (%s)", sig_status_name(st), errbuf);
}

/* the body of both verify functions */
static Datum
verify(FunctionCallInfo fcinfo, SigAlg alg)
{
	bytea	   *msg = PG_GETARG_BYTEA_PP(0);
	bytea	   *sig = PG_GETARG_BYTEA_PP(1);
	bytea	   *key = PG_GETARG_BYTEA_PP(2);
	char		errbuf[SIG_ERRMSG_SIZE];
	bool		valid = false;
	SigStatus	st;

	remember_device_key_relid();
	st = sig_verify(alg,
					(const uint8_t *) VARDATA_ANY(msg), VARSIZE_ANY_EXHDR(msg),
					(const uint8_t *) VARDATA_ANY(sig), VARSIZE_ANY_EXHDR(sig),
					(const uint8_t *) VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key),
					&valid, errbuf, sizeof(errbuf));
	check_status(st, errbuf);
	PG_FREE_IF_COPY(msg, 0);
	PG_FREE_IF_COPY(sig, 1);
	PG_FREE_IF_COPY(key, 2);
	PG_RETURN_BOOL(valid);
}

/* fieldops.es256_verify(message, signature, public_key) */
Datum
fieldops_es256_verify(PG_FUNCTION_ARGS)
{
	return verify(fcinfo, SIG_ES256);
}

/* fieldops.ed25519_verify(message, signature, public_key) */
Datum
fieldops_ed25519_verify(PG_FUNCTION_ARGS)
{
	return verify(fcinfo, SIG_ED25519);
}

/*
 * fieldops.canonical_public_key(algorithm, key): one byte string per key
 * whatever form it arrived in, so its SHA-256 (the key id) is too.
 */
Datum
fieldops_canonical_public_key(PG_FUNCTION_ARGS)
{
	SigAlg		alg = (SigAlg) fieldops_algorithm_arg(PG_GETARG_TEXT_PP(0), "p_algorithm");
	bytea	   *key = PG_GETARG_BYTEA_PP(1);
	uint8_t		canon[SIG_CANONICAL_KEY_MAX];
	size_t		canon_len = 0;
	char		errbuf[SIG_ERRMSG_SIZE];

	check_status(sig_canonical_key(alg, (const uint8_t *) VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key),
								   canon, &canon_len, errbuf, sizeof(errbuf)), errbuf);
	PG_RETURN_BYTEA_P(fieldops_bytea(canon, canon_len));
}

/*
 * fieldops.device_keys_changed(): invalidate fieldops.device_key's relcache
 * entry, which reaches every backend's callback at commit (and this one's
 * at once).
 */
Datum
fieldops_device_keys_changed(PG_FUNCTION_ARGS)
{
	remember_device_key_relid();
	if (OidIsValid(device_key_relid))
		CacheInvalidateRelcacheByRelid(device_key_relid);
	PG_RETURN_VOID();
}

/*
 * fieldops.signature_cache_stats(): this backend's cache of parsed keys,
 * so a DBA can see it working (hits) and being emptied (resets).
 */
Datum
fieldops_signature_cache_stats(PG_FUNCTION_ARGS)
{
	SigCacheStats st;
	TupleDesc	desc;
	Datum		values[6];
	bool		nulls[6] = {false, false, false, false, false, false};

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "signature_cache_stats must return a record");
	sig_cache_stats(&st);
	values[0] = Int64GetDatum((int64) st.hits);
	values[1] = Int64GetDatum((int64) st.misses);
	values[2] = Int64GetDatum((int64) st.evictions);
	values[3] = Int64GetDatum((int64) st.resets);
	values[4] = Int32GetDatum(st.entries);
	values[5] = Int32GetDatum(st.capacity);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls)));
}
