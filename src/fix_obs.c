/*-------------------------------------------------------------------------
 *
 * fix_obs.c
 *		fieldops.fix_observations(): check and normalise what one element of
 *		an ingest_fixes() batch reports besides its position.
 *
 * A phone's fix may carry its GNSS status, a Wi-Fi scan of up to 200
 * access points, up to 32 cells, the client address and the app-integrity
 * summary.  Every item of every list is checked, and the first mistake is
 * returned as a message that names the element and the field
 * ("p_fixes[3].wifi[1].bssid must be a MAC address ...") instead of being
 * raised, so that ingest can either fail the batch or skip the element.
 * This was PL/pgSQL; walking each scan item by item there cost about
 * 150 us per fix, most of the time of an ingest.  Here it is one pass
 * over the jsonb, with the same rules and the same messages.
 *
 * Copyright (c) 2026, fieldops developers
 *
 * IDENTIFICATION
 *		src/fix_obs.c
 *
 *-------------------------------------------------------------------------
 */
#include "fieldops.h"

#include <math.h>
#include <sys/socket.h>

#include "access/htup_details.h"
#include "catalog/pg_collation_d.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/varlena.h"
#include "utils/inet.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/numeric.h"

#include "fix_obs.h"

#include <openssl/evp.h>

PG_FUNCTION_INFO_V1(fieldops_fix_observations);

/* the columns of fieldops.fix_observations */
enum
{
	OBS_PROBLEM, OBS_SATELLITES, OBS_CN0_MEAN, OBS_CN0_SD, OBS_WIFI, OBS_CELLS,
	OBS_CLIENT_IP, OBS_INTEGRITY, OBS__N
};

static const char *const ap_keys[] = {"bssid", "rssi_dbm", "age_s"};
static const char *const cell_keys[] = {"mcc", "mnc", "lac", "cid", "signal_dbm", "serving", "radio"};
static const char *const radios[] = {"gsm", "cdma", "wcdma", "lte", "nr"};

/* a JSON value as text, cut to 60 characters, as the messages quote it */
char *
fix_obs_quote60(JsonbValue *v)
{
	char	   *s;
	int			len;

	if (v->type == jbvBinary)
		s = JsonbToCString(NULL, v->val.binary.data, v->val.binary.len);
	else
		s = JsonbToCString(NULL, &JsonbValueToJsonb(v)->root, 0);
	len = strlen(s);
	s[pg_mbcharcliplen(s, len, 60)] = '\0';
	return s;
}

/* the value of key in an object container, NULL when absent */
JsonbValue *
fix_obs_key(JsonbContainer *jc, const char *key)
{
	return getKeyJsonValueFromContainer(jc, key, strlen(key), NULL);
}

/*
 * The numeric of an integer bound, made once per backend: every element of
 * every batch is checked against the same few bounds, and making them
 * anew was a tenth of the time of a check.
 */
static Datum
bound_numeric(int64 v)
{
	static struct
	{
		int64		v;
		Numeric		n;
	}			cache[64];
	static int	ncache = 0;
	MemoryContext old;
	Numeric		n;

	for (int i = 0; i < ncache; i++)
		if (cache[i].v == v)
			return NumericGetDatum(cache[i].n);
	if (ncache == (int) lengthof(cache))
		return NumericGetDatum(int64_to_numeric(v));
	old = MemoryContextSwitchTo(TopMemoryContext);
	n = int64_to_numeric(v);
	MemoryContextSwitchTo(old);
	cache[ncache].v = v;
	cache[ncache].n = n;
	ncache++;
	return NumericGetDatum(n);
}

/*
 * A JSON number's decimal text, read once: its sign, its integer part (when
 * it has at most 18 digits) and whether a non-zero fraction follows.
 * Comparisons with integer bounds are exact on these; numeric arithmetic
 * (two comparisons, a truncation) cost several times more, for every
 * number of every element.  False when v is not a number.
 */
bool
fix_obs_num(JsonbValue *v, FixNum *out)
{
	const char *p;
	int			digits = 0;

	memset(out, 0, sizeof(*out));
	if (v == NULL || v->type != jbvNumeric)
		return false;
	out->text = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v->val.numeric)));
	p = out->text;
	if (*p == '-')
	{
		out->neg = true;
		p++;
	}
	for (; *p >= '0' && *p <= '9'; p++)
	{
		if (++digits > 18)
			out->big = true;
		else
			out->ipart = out->ipart * 10 + (*p - '0');
	}
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
		{
			out->ndec++;
			if (*p != '0')
				out->frac = true;
		}
	if (*p != '\0')
		out->big = true;		/* (numeric_out never writes exponents; be safe) */
	return true;
}

/* floor and ceiling of a number read by fix_obs_num() (not big) */
static int64
num_floor(const FixNum *n)
{
	return n->neg ? -n->ipart - (n->frac ? 1 : 0) : n->ipart;
}

static int64
num_ceil(const FixNum *n)
{
	return n->frac ? num_floor(n) + 1 : num_floor(n);
}

/* a number read by fix_obs_num() within [lo, hi] (and integral when asked); false when big */
bool
fix_obs_num_in(const FixNum *n, int64 lo, int64 hi, bool integral)
{
	return !n->big && num_floor(n) >= lo && num_ceil(n) <= hi && !(integral && n->frac);
}

/* a JSON number within [lo, hi] (and integral when asked), compared exactly */
bool
fix_obs_num_ok(JsonbValue *v, int64 lo, int64 hi, bool integral)
{
	FixNum		n;
	Datum		d;

	if (!fix_obs_num(v, &n))
		return false;
	if (!n.big)
		return fix_obs_num_in(&n, lo, hi, integral);
	/* (more than 18 integer digits: numeric arithmetic) */
	d = NumericGetDatum(v->val.numeric);
	if (integral &&
		!DatumGetBool(DirectFunctionCall2(numeric_eq, d,
										  DirectFunctionCall2(numeric_trunc, d, Int32GetDatum(0)))))
		return false;
	return DatumGetInt32(DirectFunctionCall2(numeric_cmp, d, bound_numeric(lo))) >= 0 &&
		DatumGetInt32(DirectFunctionCall2(numeric_cmp, d, bound_numeric(hi))) <= 0;
}

/* is the number (read by fix_obs_num()) below the integer hi, exactly? */
bool
fix_obs_num_below(JsonbValue *v, const FixNum *n, int64 hi)
{
	if (!n->big)
		return num_floor(n) < hi;
	return DatumGetInt32(DirectFunctionCall2(numeric_cmp, NumericGetDatum(v->val.numeric), bound_numeric(hi))) < 0;
}

/*
 * A range-checked JSON number as a double.  Through its text and strtod():
 * numeric_float8 raises "out of range" on an underflow such as 1e-400,
 * which must read as 0 here, not fail the batch.
 */
double
fix_obs_num_double(JsonbValue *v)
{
	char	   *s = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v->val.numeric)));

	return strtod(s, NULL);
}

/*
 * The smallest key of an object that is not among keys (as the database
 * sorts text, so messages name the same key the SQL version named), or
 * NULL when it has none: the one check of unknown keys that elements,
 * their lists and the options share.
 */
char *
fix_obs_unknown_key(JsonbContainer *obj, const char *const *keys, int nkeys)
{
	JsonbIterator *it = JsonbIteratorInit(obj);
	JsonbValue	k;
	JsonbIteratorToken tok;
	char	   *worst = NULL;

	while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
	{
		char	   *name;
		int			i;

		if (tok != WJB_KEY)
			continue;
		for (i = 0; i < nkeys; i++)
			if (strlen(keys[i]) == (size_t) k.val.string.len &&
				strncmp(keys[i], k.val.string.val, k.val.string.len) == 0)
				break;
		if (i < nkeys)
			continue;
		name = pnstrdup(k.val.string.val, k.val.string.len);
		if (worst == NULL || varstr_cmp(name, strlen(name), worst, strlen(worst), DEFAULT_COLLATION_OID) < 0)
			worst = name;
	}
	return worst;
}

/* "key1, key2, ...": the known keys as messages list them */
char *
fix_obs_key_list(const char *const *keys, int nkeys)
{
	StringInfoData known;

	initStringInfo(&known);
	for (int i = 0; i < nkeys; i++)
		appendStringInfo(&known, "%s%s", i ? ", " : "", keys[i]);
	return known.data;
}

/*
 * The problem with one item of a reported list, or NULL: it must be an
 * object with known keys only (the smallest unknown key is named, as the
 * database sorts text).
 */
static char *
item_problem(JsonbValue *e, const char *where, const char *const *keys, int nkeys, const char *example)
{
	char	   *worst;

	if (e->type != jbvBinary || !JsonContainerIsObject(e->val.binary.data))
		return psprintf("%s must be an object such as %s, got %s", where, example, fix_obs_quote60(e));
	worst = fix_obs_unknown_key(e->val.binary.data, keys, nkeys);
	if (worst == NULL)
		return NULL;
	worst[pg_mbcharcliplen(worst, strlen(worst), 40)] = '\0';
	return psprintf("%s has an unknown key \"%s\" (known keys: %s)", where, worst, fix_obs_key_list(keys, nkeys));
}

/* "aa:bb:cc:dd:ee:ff" or with dashes, as 17 characters in out (lower case, colons) */
static bool
bssid_normal(JsonbValue *v, char out[18])
{
	const char *s;
	char		sep;

	if (v == NULL || v->type != jbvString || v->val.string.len != 17)
		return false;
	s = v->val.string.val;
	sep = s[2];
	if (sep != ':' && sep != '-')
		return false;
	for (int i = 0; i < 17; i++)
	{
		if (i % 3 == 2)
		{
			if (s[i] != sep)
				return false;
			out[i] = ':';
		}
		else
		{
			if (!isxdigit((unsigned char) s[i]))
				return false;
			out[i] = (char) tolower((unsigned char) s[i]);
		}
	}
	out[17] = '\0';
	return true;
}

/* the problem with the Wi-Fi scan, or NULL with *out the normalised scan */
static char *
check_wifi(JsonbValue *v, int n, Jsonb **out)
{
	JsonbIterator *it;
	JsonbValue	e;
	JsonbIteratorToken tok;
	JsonbParseState *ps = NULL;
	char	  (*seen)[18];
	int			count,
				i = 0;
	bool		normal = true;

	if (v->type != jbvBinary || !JsonContainerIsArray(v->val.binary.data) ||
		JsonContainerSize(v->val.binary.data) > 200)
		return psprintf("p_fixes[%d].wifi must be an array of at most 200 access points or null, got %s", n, fix_obs_quote60(v));
	count = JsonContainerSize(v->val.binary.data);
	seen = palloc(sizeof(*seen) * Max(count, 1));
	it = JsonbIteratorInit(v->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &e, true)) != WJB_DONE)
	{
		char		where[48];
		char	   *problem;
		JsonbValue *x;

		if (tok != WJB_ELEM)
			continue;
		snprintf(where, sizeof(where), "p_fixes[%d].wifi[%d]", n, i);
		problem = item_problem(&e, where, ap_keys, lengthof(ap_keys), "{\"bssid\": \"a4:5e:60:12:34:56\", \"rssi_dbm\": -61}");
		if (problem)
			return problem;
		x = fix_obs_key(e.val.binary.data, "bssid");
		if (!bssid_normal(x, seen[i]))
			return psprintf("%s.bssid must be a MAC address such as \"a4:5e:60:12:34:56\", got %s", where,
							x ? fix_obs_quote60(x) : "nothing");
		if (memcmp(x->val.string.val, seen[i], 17) != 0)
			normal = false;
		for (int j = 0; j < i; j++)
			if (strcmp(seen[j], seen[i]) == 0)
				return psprintf("%s.bssid %s appears twice in the scan", where, seen[i]);
		x = fix_obs_key(e.val.binary.data, "rssi_dbm");
		if (x && !fix_obs_num_ok(x, -127, 0, false))
			return psprintf("%s.rssi_dbm must be a number between -127 and 0 (dBm), got %s", where, fix_obs_quote60(x));
		x = fix_obs_key(e.val.binary.data, "age_s");
		if (x && !fix_obs_num_ok(x, 0, 86400, false))
			return psprintf("%s.age_s must be a number of seconds between 0 and 86400, got %s", where, fix_obs_quote60(x));
		i++;
	}

	/* as sent when every BSSID is already lower case with colons (as apps send them) */
	if (normal)
	{
		*out = JsonbValueToJsonb(v);
		return NULL;
	}

	/* else the scan again, its BSSIDs normalised */
	i = 0;
	pushJsonbValue(&ps, WJB_BEGIN_ARRAY, NULL);
	it = JsonbIteratorInit(v->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &e, true)) != WJB_DONE)
	{
		JsonbIterator *it2;
		JsonbValue	k,
					val;
		JsonbIteratorToken t2;

		if (tok != WJB_ELEM)
			continue;
		pushJsonbValue(&ps, WJB_BEGIN_OBJECT, NULL);
		it2 = JsonbIteratorInit(e.val.binary.data);
		while ((t2 = JsonbIteratorNext(&it2, &k, true)) != WJB_DONE)
		{
			if (t2 != WJB_KEY)
				continue;
			(void) JsonbIteratorNext(&it2, &val, true);
			pushJsonbValue(&ps, WJB_KEY, &k);
			if (k.val.string.len == 5 && strncmp(k.val.string.val, "bssid", 5) == 0)
			{
				val.type = jbvString;
				val.val.string.val = seen[i];
				val.val.string.len = 17;
			}
			pushJsonbValue(&ps, WJB_VALUE, &val);
		}
		pushJsonbValue(&ps, WJB_END_OBJECT, NULL);
		i++;
	}
	*out = JsonbValueToJsonb(pushJsonbValue(&ps, WJB_END_ARRAY, NULL));
	return NULL;
}

/* the problem with the cells, or NULL */
static char *
check_cells(JsonbValue *v, int n)
{
	static const char *const ids[] = {"mcc", "mnc", "lac", "cid"};
	static const int64 lo[] = {1, 0, 0, 0};
	static const int64 hi[] = {999, 999, 16777215, INT64CONST(68719476735)};
	JsonbIterator *it;
	JsonbValue	e;
	JsonbIteratorToken tok;
	int			i = 0;

	if (v->type != jbvBinary || !JsonContainerIsArray(v->val.binary.data) ||
		JsonContainerSize(v->val.binary.data) > 32)
		return psprintf("p_fixes[%d].cells must be an array of at most 32 cells or null, got %s", n, fix_obs_quote60(v));
	it = JsonbIteratorInit(v->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &e, true)) != WJB_DONE)
	{
		char		where[48];
		char	   *problem;
		JsonbValue *x;

		if (tok != WJB_ELEM)
			continue;
		snprintf(where, sizeof(where), "p_fixes[%d].cells[%d]", n, i++);
		problem = item_problem(&e, where, cell_keys, lengthof(cell_keys), "{\"mcc\": 460, \"mnc\": 0, \"lac\": 6209, \"cid\": 123456789}");
		if (problem)
			return problem;
		for (int k = 0; k < (int) lengthof(ids); k++)
		{
			x = fix_obs_key(e.val.binary.data, ids[k]);
			if (!fix_obs_num_ok(x, lo[k], hi[k], true))
				return psprintf("%s.%s must be an integer between " INT64_FORMAT " and " INT64_FORMAT ", got %s",
								where, ids[k], lo[k], hi[k], x ? fix_obs_quote60(x) : "nothing");
		}
		x = fix_obs_key(e.val.binary.data, "signal_dbm");
		if (x && !fix_obs_num_ok(x, -160, 0, false))
			return psprintf("%s.signal_dbm must be a number between -160 and 0 (dBm), got %s", where, fix_obs_quote60(x));
		x = fix_obs_key(e.val.binary.data, "serving");
		if (x && x->type != jbvBool)
			return psprintf("%s.serving must be true or false, got %s", where, fix_obs_quote60(x));
		x = fix_obs_key(e.val.binary.data, "radio");
		if (x)
		{
			bool		ok = false;
			char	   *s = NULL;

			/* as ->> reads it: a string's text, a number's digits, null none */
			if (x->type == jbvString)
				s = pnstrdup(x->val.string.val, x->val.string.len);
			else if (x->type == jbvNumeric || x->type == jbvBool)
				s = fix_obs_quote60(x);
			for (int r = 0; s != NULL && r < (int) lengthof(radios); r++)
				if (strcmp(s, radios[r]) == 0)
					ok = true;
			if (!ok)
				return psprintf("%s.radio must be one of gsm, cdma, wcdma, lte, nr, got %s", where, fix_obs_quote60(x));
		}
	}
	return NULL;
}

/* the problem with client_ip, or NULL with *out the inet */
static char *
check_client_ip(JsonbValue *v, int n, Datum *out)
{
	char	   *s;
	unsigned char buf[16];
	int			bits;
	bool		v6;

	if (v->type == jbvString && v->val.string.len >= 2 && v->val.string.len <= 45)
	{
		s = pnstrdup(v->val.string.val, v->val.string.len);
		if (strspn(s, "0123456789abcdefABCDEF.:") == strlen(s))
		{
			/* the test inet_in makes, so the cast below cannot fail */
			v6 = strchr(s, ':') != NULL;
			bits = pg_inet_net_pton(v6 ? PGSQL_AF_INET6 : PGSQL_AF_INET, s, buf, -1);
			if (bits >= 0 && bits <= (v6 ? 128 : 32))
			{
				*out = DirectFunctionCall1(inet_in, CStringGetDatum(s));
				return NULL;
			}
		}
	}
	return psprintf("p_fixes[%d].client_ip must be an IPv4 or IPv6 address as a string, got %s", n, fix_obs_quote60(v));
}

/*
 * Check and normalise what element n of a batch (the object elem) reports
 * besides its position: the first problem as a message naming the element
 * and the field, or NULL with *out filled.  ingest_fixes() calls this for
 * every element that reports any of these keys.
 */
char *
fix_obs_check(JsonbContainer *elem, int n, FixObs *out)
{
	JsonbValue *v;
	static const char *const cn0[] = {"cn0_mean_dbhz", "cn0_sd_dbhz"};

	memset(out, 0, sizeof(*out));
	if (!JsonContainerIsObject(elem))
		return NULL;

	/* GNSS status */
	v = fix_obs_key(elem, "satellites");
	if (v && v->type != jbvNull)
	{
		if (!fix_obs_num_ok(v, 0, 255, true))
			return psprintf("p_fixes[%d].satellites must be an integer between 0 and 255 or null, got %s", n, fix_obs_quote60(v));
		out->sats = (int16) fix_obs_num_double(v);
		out->has_sats = true;
	}
	for (int k = 0; k < 2; k++)
	{
		int			max = k == 0 ? 70 : 50;

		v = fix_obs_key(elem, cn0[k]);
		if (v == NULL || v->type == jbvNull)
			continue;
		if (!fix_obs_num_ok(v, 0, max, false))
			return psprintf("p_fixes[%d].%s must be a number between 0 and %d (dB-Hz) or null, got %s",
							n, cn0[k], max, fix_obs_quote60(v));
		out->cn0[k] = (float4) fix_obs_num_double(v);
		out->has_cn0[k] = true;
	}

	/* the Wi-Fi scan and the cells */
	v = fix_obs_key(elem, "wifi");
	if (v && v->type != jbvNull)
	{
		char	   *problem = check_wifi(v, n, &out->wifi);

		if (problem != NULL)
			return problem;
	}
	v = fix_obs_key(elem, "cells");
	if (v && v->type != jbvNull)
	{
		char	   *problem = check_cells(v, n);

		if (problem != NULL)
			return problem;
		out->cells = JsonbValueToJsonb(v);
	}

	/* where the upload came from, and the app's integrity verdict */
	v = fix_obs_key(elem, "client_ip");
	if (v && v->type != jbvNull)
	{
		char	   *problem = check_client_ip(v, n, &out->client_ip);

		if (problem != NULL)
			return problem;
		out->has_client_ip = true;
	}
	v = fix_obs_key(elem, "integrity");
	if (v && v->type != jbvNull)
	{
		Jsonb	   *integrity = JsonbValueToJsonb(v);

		if (v->type != jbvBinary || !JsonContainerIsObject(v->val.binary.data) ||
			pg_mbstrlen(JsonbToCString(NULL, &integrity->root, VARSIZE(integrity))) > 4096)
			return psprintf("p_fixes[%d].integrity must be a JSON object of at most 4 kB (a summary of the verdict) or null", n);
		out->integrity = integrity;
	}
	return NULL;
}

/*
 * fieldops.fix_observations(p_elem jsonb, p_n integer)
 * -> fieldops.fix_observations: the checked values, or the first problem
 * (the SQL face of fix_obs_check(), for tests and hand checks).
 */
Datum
fieldops_fix_observations(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	Datum		values[OBS__N];
	bool		nulls[OBS__N];
	FixObs		obs;
	char	   *problem;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "fix_observations must return a composite");
	memset(values, 0, sizeof(values));
	memset(nulls, true, sizeof(nulls));
	problem = fix_obs_check(&PG_GETARG_JSONB_P(0)->root, PG_GETARG_INT32(1), &obs);
	if (problem)
	{
		values[OBS_PROBLEM] = CStringGetTextDatum(problem);
		nulls[OBS_PROBLEM] = false;
	}
	else
	{
		values[OBS_SATELLITES] = Int16GetDatum(obs.sats);
		nulls[OBS_SATELLITES] = !obs.has_sats;
		for (int k = 0; k < 2; k++)
		{
			values[OBS_CN0_MEAN + k] = Float4GetDatum(obs.cn0[k]);
			nulls[OBS_CN0_MEAN + k] = !obs.has_cn0[k];
		}
		values[OBS_WIFI] = PointerGetDatum(obs.wifi);
		nulls[OBS_WIFI] = obs.wifi == NULL;
		values[OBS_CELLS] = PointerGetDatum(obs.cells);
		nulls[OBS_CELLS] = obs.cells == NULL;
		values[OBS_CLIENT_IP] = obs.client_ip;
		nulls[OBS_CLIENT_IP] = !obs.has_client_ip;
		values[OBS_INTEGRITY] = PointerGetDatum(obs.integrity);
		nulls[OBS_INTEGRITY] = obs.integrity == NULL;
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls)));
}

/*
 * An MD5 digest as a bytea, or an error naming what it was for.  OpenSSL
 * directly, with the algorithm fetched once per backend: pg_md5_binary()
 * fetches it anew for every digest (OpenSSL 3's implicit fetch), which was
 * most of the cost of two digests per ingested fix.
 */
static bytea *
digest_md5(const char *s, size_t len, const char *what)
{
	static EVP_MD *md5 = NULL;
	static EVP_MD_CTX *ctx = NULL;
	bytea	   *out = palloc(VARHDRSZ + 16);
	unsigned int outlen = 0;

	if (md5 == NULL)
		md5 = EVP_MD_fetch(NULL, "MD5", NULL);
	if (ctx == NULL)
		ctx = EVP_MD_CTX_new();
	if (md5 == NULL || ctx == NULL ||
		!EVP_DigestInit_ex2(ctx, md5, NULL) || !EVP_DigestUpdate(ctx, s, len) ||
		!EVP_DigestFinal_ex(ctx, (unsigned char *) VARDATA(out), &outlen) || outlen != 16)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not compute the MD5 digest of %s", what),
				 errhint("MD5 must be available from OpenSSL's default provider (it is not in FIPS mode).")));
	SET_VARSIZE(out, VARHDRSZ + 16);
	return out;
}

typedef struct ScanItem
{
	char	   *bssid;
	char	   *rssi;
} ScanItem;

static int
scan_item_cmp(const void *a, const void *b)
{
	return strcmp(((const ScanItem *) a)->bssid, ((const ScanItem *) b)->bssid);
}

/*
 * fieldops.fix_scan_digest(p_wifi jsonb) -> bytea: the MD5 of a normalised
 * scan as "s" and its "bssid/rssi" pairs sorted by BSSID, joined by
 * commas; NULL for fewer than 3 access points or any without an RSSI (so
 * common a scan proves nothing when it repeats).  *age_s (when not NULL)
 * is set to the smallest age_s of its access points, NAN if none says: how
 * long before the fix the scan was taken (a cached scan is reported again
 * with older ages).
 */
bytea *
fix_obs_scan_digest(Jsonb *wifi, double *age_s)
{
	JsonbIterator *it;
	JsonbValue	e;
	JsonbIteratorToken tok;
	ScanItem   *items;
	int			n = 0;
	StringInfoData buf;

	if (age_s != NULL)
		*age_s = NAN;
	if (!JB_ROOT_IS_ARRAY(wifi) || JB_ROOT_IS_SCALAR(wifi) || JB_ROOT_COUNT(wifi) < 3)
		return NULL;
	items = palloc(sizeof(ScanItem) * JB_ROOT_COUNT(wifi));
	it = JsonbIteratorInit(&wifi->root);
	while ((tok = JsonbIteratorNext(&it, &e, true)) != WJB_DONE)
	{
		JsonbValue *b,
				   *r;

		if (tok != WJB_ELEM)
			continue;
		if (e.type != jbvBinary || !JsonContainerIsObject(e.val.binary.data))
			return NULL;
		b = fix_obs_key(e.val.binary.data, "bssid");
		r = fix_obs_key(e.val.binary.data, "rssi_dbm");
		if (b == NULL || b->type != jbvString || r == NULL || r->type != jbvNumeric)
			return NULL;
		items[n].bssid = pnstrdup(b->val.string.val, b->val.string.len);
		items[n].rssi = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(r->val.numeric)));
		n++;
		if (age_s != NULL)
		{
			JsonbValue *a = fix_obs_key(e.val.binary.data, "age_s");
			double		v;

			if (a != NULL && a->type == jbvNumeric && (v = fix_obs_num_double(a)) >= 0 &&
				(isnan(*age_s) || v < *age_s))
				*age_s = v;
		}
	}
	qsort(items, n, sizeof(ScanItem), scan_item_cmp);
	initStringInfo(&buf);
	appendStringInfoChar(&buf, 's');
	for (int i = 0; i < n; i++)
		appendStringInfo(&buf, "%s%s/%s", i ? "," : "", items[i].bssid, items[i].rssi);
	return digest_md5(buf.data, buf.len, "a scan");
}

PG_FUNCTION_INFO_V1(fieldops_fix_scan_digest);
Datum
fieldops_fix_scan_digest(PG_FUNCTION_ARGS)
{
	bytea	   *d = fix_obs_scan_digest(PG_GETARG_JSONB_P(0), NULL);

	if (d == NULL)
		PG_RETURN_NULL();
	PG_RETURN_BYTEA_P(d);
}

/*
 * fieldops.fix_point_digest(p_lat float8, p_lon float8) -> bytea: the MD5
 * of "p<lat>,<lon>" in units of 1e-7 degree (about 1 cm), rounded half
 * away from zero: identical GNSS positions, whatever their float noise
 * below a centimetre.
 */
bytea *
fix_obs_point_digest(double lat, double lon)
{
	char		s[64];
	int			len;

	if (!isfinite(lat) || !isfinite(lon) || fabs(lat) > 90 || fabs(lon) > 180)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("p_lat and p_lon must be a position in degrees, got %g, %g", lat, lon)));
	len = snprintf(s, sizeof(s), "p%lld,%lld", (long long) llround(lat * 1e7), (long long) llround(lon * 1e7));
	return digest_md5(s, len, "a position");
}

PG_FUNCTION_INFO_V1(fieldops_fix_point_digest);
Datum
fieldops_fix_point_digest(PG_FUNCTION_ARGS)
{
	PG_RETURN_BYTEA_P(fix_obs_point_digest(PG_GETARG_FLOAT8(0), PG_GETARG_FLOAT8(1)));
}

/*
 * The serving cell of a fix's reported cells: the one marked "serving":
 * true, else the first; false when none.  *cell gets it (a jbvBinary
 * object), key (when not NULL) its mcc, mnc, lac and cid (ingest has
 * checked every cell has them).  The one rule the scorer (fix_ingest.c)
 * and the radio map (serving_cell() in SQL) use.
 */
bool
fix_obs_serving_cell(Jsonb *cells, int64 key[4], JsonbValue *cell)
{
	static const char *const ids[] = {"mcc", "mnc", "lac", "cid"};
	JsonbIterator *it;
	JsonbValue	x;
	JsonbIteratorToken tok;
	bool		found = false;

	if (cells == NULL || !JB_ROOT_IS_ARRAY(cells) || JB_ROOT_IS_SCALAR(cells))
		return false;
	it = JsonbIteratorInit(&cells->root);
	while ((tok = JsonbIteratorNext(&it, &x, true)) != WJB_DONE)
	{
		JsonbValue *s;

		if (tok != WJB_ELEM || x.type != jbvBinary || !JsonContainerIsObject(x.val.binary.data))
			continue;
		if (!found)
			*cell = x;
		found = true;
		s = fix_obs_key(x.val.binary.data, "serving");
		if (s != NULL && s->type == jbvBool && s->val.boolean)
		{
			*cell = x;
			break;
		}
	}
	if (!found || key == NULL)
		return found;
	for (int i = 0; i < 4; i++)
	{
		JsonbValue *v = fix_obs_key(cell->val.binary.data, ids[i]);

		if (v == NULL || !fix_obs_num_ok(v, 0, PG_INT64_MAX, true))
			return false;
		key[i] = DatumGetInt64(DirectFunctionCall1(numeric_int8, NumericGetDatum(v->val.numeric)));
	}
	return true;
}

/* fieldops.serving_cell(p_cells jsonb) -> jsonb: the serving cell, NULL when none */
PG_FUNCTION_INFO_V1(fieldops_serving_cell);
Datum
fieldops_serving_cell(PG_FUNCTION_ARGS)
{
	JsonbValue	cell;

	if (!fix_obs_serving_cell(PG_GETARG_JSONB_P(0), NULL, &cell))
		PG_RETURN_NULL();
	PG_RETURN_JSONB_P(JsonbValueToJsonb(&cell));
}
