/*-------------------------------------------------------------------------
 *
 * mileage.c
 *		fmgr wrappers of the mileage core: the aggregate
 *		fieldops.mileage_agg(...), fieldops.mileage(track) for LINESTRING M,
 *		fieldops.mileage_detail(...) and fieldops.clean_track(...).
 *
 * Geometry enters through stable PostGIS entry points only: per fix the
 * geometry -> point cast and ST_SRID (both cheap header reads), per track
 * ST_AsEWKB, whose format is public; PostGIS's internal serialisation is
 * never parsed.  The functions are looked up once per call site, in the
 * schema of the geometry type, and kept in fn_extra.
 *
 * The aggregate only collects fixes; the final function sorts them into the
 * core's total order and streams them through the core, so the result does
 * not depend on the order rows arrive in.  There is no combine function:
 * the per-row work is a couple of header reads, and shipping partial
 * states of millions of fixes between processes costs more than it saves
 * (measured: twice as slow with two workers).  Metres are reported rounded to millimetres, and the
 * per-status raw metres are rounded first and then summed, so that they add
 * up to raw_length_m exactly.
 *
 * Copyright (c) 2026, fieldops developers
 *
 * IDENTIFICATION
 *		src/mileage.c
 *
 *-------------------------------------------------------------------------
 */
#include "fieldops.h"

#include <math.h>

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "nodes/makefuncs.h"
#include "parser/parse_func.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/geo_decls.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

#include "mileage.h"

PG_FUNCTION_INFO_V1(fieldops_mileage_transfn);
PG_FUNCTION_INFO_V1(fieldops_mileage_finalfn);
PG_FUNCTION_INFO_V1(fieldops_mileage_track);
PG_FUNCTION_INFO_V1(fieldops_mileage_detail_track);
PG_FUNCTION_INFO_V1(fieldops_mileage_detail_finalfn);
PG_FUNCTION_INFO_V1(fieldops_clean_track);
PG_FUNCTION_INFO_V1(fieldops_mileage_params);

#define SRID_WGS84 4326

/* PostGIS entry points, resolved once per call site */
struct GeomFns
{
	Oid			geom_type;
	FmgrInfo	to_point;		/* point(geometry): the geometry -> point cast */
	FmgrInfo	srid;			/* st_srid(geometry) */
	FmgrInfo	asewkb;			/* st_asewkb(geometry) */
	FmgrInfo	from_ewkb;		/* st_geomfromewkb(bytea) */
};

/* Schema of a type (where PostGIS lives) */
static Oid
type_namespace(Oid type)
{
	HeapTuple	tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(type));
	Oid			nsp;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for type %u", type);
	nsp = ((Form_pg_type) GETSTRUCT(tup))->typnamespace;
	ReleaseSysCache(tup);
	return nsp;
}

/* Look up a PostGIS function by name in the geometry type's schema */
static void
lookup_postgis(Oid geom_type, const char *name, Oid argtype, FmgrInfo *fi, MemoryContext cxt)
{
	Oid			nsp = type_namespace(geom_type);
	List	   *qname = list_make2(makeString(get_namespace_name(nsp)), makeString(pstrdup(name)));
	Oid			fn = LookupFuncName(qname, 1, &argtype, false);

	fmgr_info_cxt(fn, fi, cxt);
}

/* Resolve the PostGIS functions for the geometry type of a call */
static GeomFns *
geom_fns(FunctionCallInfo fcinfo, Oid geom_type)
{
	GeomFns    *g = palloc0(sizeof(GeomFns));
	MemoryContext cxt = fcinfo->flinfo->fn_mcxt;

	g->geom_type = geom_type;
	lookup_postgis(geom_type, "point", geom_type, &g->to_point, cxt);
	lookup_postgis(geom_type, "st_srid", geom_type, &g->srid, cxt);
	lookup_postgis(geom_type, "st_asewkb", geom_type, &g->asewkb, cxt);
	lookup_postgis(geom_type, "st_geomfromewkb", BYTEAOID, &g->from_ewkb, cxt);
	return g;
}

/*
 * Longitude and latitude of a point geometry, checking the SRID.  The
 * point cast raises PostGIS's own error for other geometry types; it is
 * replaced by one that names the argument.
 */
static void
geom_point(GeomFns *g, Datum geom, const char *arg, double *lon, double *lat)
{
	int32		srid = DatumGetInt32(FunctionCall1(&g->srid, geom));
	MemoryContext oldcxt = CurrentMemoryContext;
	Point	   *pt = NULL;

	if (srid != SRID_WGS84)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be in SRID 4326 (WGS-84), got SRID %d", arg, srid),
				 errhint("Use ST_SetSRID(ST_MakePoint(lon, lat), 4326) or ST_Transform(geom, 4326).")));
	PG_TRY();
	{
		pt = DatumGetPointP(FunctionCall1(&g->to_point, geom));
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(oldcxt);
		FlushErrorState();
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a POINT geometry", arg)));
	}
	PG_END_TRY();
	*lon = pt->x;
	*lat = pt->y;
}

/*
 * MileageSource of a provider name (case-insensitive); 22023 for names we
 * do not know.  Called for every row, so it compares in place instead of
 * copying the text.
 */
static uint8
parse_source(text *t)
{
	static const char *const names[] = {"gps", "fused", "network", "wifi", "cell", "passive"};
	const char *s = VARDATA_ANY(t);
	int			len = VARSIZE_ANY_EXHDR(t);
	int			i;

	for (i = 0; i < (int) lengthof(names); i++)
		if ((int) strlen(names[i]) == len && pg_strncasecmp(s, names[i], len) == 0)
			return (uint8) i;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("source must be one of gps, fused, network, wifi, cell, passive (or NULL), got \"%s\"",
					text_to_cstring(t))));
	return MS_UNKNOWN;
}

/*
 * Override numeric parameters (a struct of doubles and ints described by
 * keys) from a jsonb object.  Unknown keys and non-numbers are 22023
 * errors naming the key; "what" names the family ("mileage", "trip") and
 * the function that lists them.  special, if given, handles keys that are
 * not numbers and returns whether it did.
 */
typedef struct ParamParse
{
	const char *what;
	const ParamKey *keys;
	int			nkeys;
	void	   *base;
	bool		(*special) (const char *name, JsonbValue *v, void *base);
} ParamParse;

/* one key of a parameter object */
static void
param_key(const char *name, JsonbValue *v, void *arg)
{
	ParamParse *pp = arg;
	int			i;

	if (pp->special && pp->special(name, v, pp->base))
		return;
	for (i = 0; i < pp->nkeys; i++)
		if (strcmp(name, pp->keys[i].name) == 0)
			break;
	if (i == pp->nkeys)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown %s parameter \"%s\"", pp->what, name),
				 errhint("See fieldops.%s_params() for the parameters and their defaults.", pp->what)));
	if (v->type != jbvNumeric)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s parameter \"%s\" must be a number", pp->what, name)));
	if (pp->keys[i].is_int)
		*(int *) ((char *) pp->base + pp->keys[i].off) =
			DatumGetInt32(DirectFunctionCall1(numeric_int4, NumericGetDatum(v->val.numeric)));
	else
		*(double *) ((char *) pp->base + pp->keys[i].off) =
			DatumGetFloat8(DirectFunctionCall1(numeric_float8, NumericGetDatum(v->val.numeric)));
}

void
parse_param_object(Jsonb *jb, const char *what, const ParamKey *keys, int nkeys,
				   void *base, bool (*special) (const char *name, JsonbValue *v, void *base))
{
	ParamParse	pp = {what, keys, nkeys, base, special};

	if (jb == NULL)
		return;
	if (!JB_ROOT_IS_OBJECT(jb))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s parameters must be a JSON object", what)));
	fieldops_jsonb_each_key(&jb->root, param_key, &pp);
}

/* the one mileage parameter that is not a number: ref_time */
static bool
mileage_special_param(const char *name, JsonbValue *v, void *base)
{
	MileageParams *p = base;

	if (strcmp(name, "ref_time") != 0)
		return false;
	if (v->type != jbvString)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("mileage parameter ref_time must be a timestamp string")));
	p->ref_time_us = DatumGetTimestampTz(DirectFunctionCall3(timestamptz_in,
															 CStringGetDatum(pnstrdup(v->val.string.val, v->val.string.len)),
															 ObjectIdGetDatum(InvalidOid),
															 Int32GetDatum(-1)));
	return true;
}

/*
 * Mileage parameters from jsonb (NULL: all defaults), validated.  ref_time
 * ("now" for the future check) defaults to the start of the transaction,
 * so a result is stable within a transaction.
 */
void
mileage_parse_params(Jsonb *jb, MileageParams *p)
{
	static const ParamKey keys[] = {
#define K(f, i) {#f, offsetof(MileageParams, f), i}
		K(max_speed_mps, false), K(gate_k, false), K(recover_fixes, true),
		K(accuracy_cap_m, false), K(default_accuracy_m, false), K(gap_s, false),
		K(hold_k, false), K(hold_min_m, false), K(hold_max_m, false),
		K(stop_speed_mps, false), K(go_speed_mps, false), K(go_for_s, false), K(stop_after_s, false),
		K(future_s, false), K(undersampled_s, false), K(min_gps_share, false),
		K(doppler_k, false), K(doppler_max_dt_s, false)
#undef K
	};
	const char *bad;

	mileage_params_default(p);
	p->ref_time_us = GetCurrentTransactionStartTimestamp();
	parse_param_object(jb, "mileage", keys, lengthof(keys), p, mileage_special_param);
	if ((bad = mileage_params_check(p)) != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid mileage parameter: %s", bad)));
}

/* The parameters as jsonb, every one of them, as the result echoes them */
Datum
mileage_params_jsonb(const MileageParams *p)
{
	StringInfoData b;

	initStringInfo(&b);
	appendStringInfo(&b,
					 "{\"max_speed_mps\": %g, \"gate_k\": %g, \"recover_fixes\": %d, "
					 "\"accuracy_cap_m\": %g, \"default_accuracy_m\": %g, \"gap_s\": %g, "
					 "\"hold_k\": %g, \"hold_min_m\": %g, \"hold_max_m\": %g, "
					 "\"stop_speed_mps\": %g, \"go_speed_mps\": %g, \"go_for_s\": %g, \"stop_after_s\": %g, "
					 "\"future_s\": %g, \"undersampled_s\": %g, \"min_gps_share\": %g, "
					 "\"doppler_k\": %g, \"doppler_max_dt_s\": %g",
					 p->max_speed_mps, p->gate_k, p->recover_fixes,
					 p->accuracy_cap_m, p->default_accuracy_m, p->gap_s,
					 p->hold_k, p->hold_min_m, p->hold_max_m,
					 p->stop_speed_mps, p->go_speed_mps, p->go_for_s, p->stop_after_s,
					 p->future_s, p->undersampled_s, p->min_gps_share,
					 p->doppler_k, p->doppler_max_dt_s);
	if (p->ref_time_us != PG_INT64_MAX)
		appendStringInfo(&b, ", \"ref_time\": \"%s\"", timestamptz_to_str(p->ref_time_us));
	appendStringInfoChar(&b, '}');
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(b.data));
}

/* micrometres to millimetres, rounding half away from zero */
static int64
mm_of_um(int64 um)
{
	return (um + (um >= 0 ? 500 : -500)) / 1000;
}

/* micrometres as metres, rounded to the millimetre */
static double
um_to_m_mm(int64 um)
{
	return (double) mm_of_um(um) / 1000.0;
}

/* append "<mm as metres with 3 decimals>" */
static void
append_metres(StringInfo b, int64 v)
{
	appendStringInfo(b, "%s" INT64_FORMAT ".%03d", v < 0 ? "-" : "",
					 (v < 0 ? -v : v) / 1000, (int) ((v < 0 ? -v : v) % 1000));
}

/*
 * Build a fieldops.mileage composite (tupdesc, blessed) from a result.
 * Millimetres are derived from the exact micrometre tally: distance_m and
 * moving_m are rounded, gap_chord_m is their difference, and each
 * status's raw metres are rounded before they are summed into
 * raw_length_m, so the reported figures add up exactly.
 */
Datum
mileage_datum(TupleDesc tupdesc, const MileageResult *r, const MileageParams *p)
{
	Datum		values[12];
	bool		nulls[12];
	StringInfoData drops;
	int64		raw_mm = 0,
				dist = mm_of_um(r->tally.moving_um + r->tally.gap_um),
				moving = mm_of_um(r->tally.moving_um);
	int			st,
				nflags = 0,
				i;
	Datum		flags[MFL__COUNT];

	initStringInfo(&drops);
	appendStringInfoChar(&drops, '{');
	for (st = 0; st < MST__COUNT; st++)
	{
		int64		v = mm_of_um(r->tally.status_raw_um[st]);

		raw_mm += v;
		if (r->status_n[st] == 0)
			continue;
		appendStringInfo(&drops, "%s\"%s\": {\"count\": " INT64_FORMAT ", \"raw_m\": ",
						 drops.len > 1 ? ", " : "", mileage_status_names[st], r->status_n[st]);
		append_metres(&drops, v);
		appendStringInfoChar(&drops, '}');
	}
	appendStringInfoChar(&drops, '}');

	for (i = 0; i < MFL__COUNT; i++)
		if (r->flags & (1u << i))
			flags[nflags++] = CStringGetTextDatum(mileage_flag_names[i]);

	memset(nulls, 0, sizeof(nulls));
	values[0] = Float8GetDatum(dist / 1000.0);
	values[1] = Float8GetDatum(moving / 1000.0);
	values[2] = Float8GetDatum((dist - moving) / 1000.0);
	values[3] = Float8GetDatum(raw_mm / 1000.0);
	values[4] = Int64GetDatum(r->n_fixes);
	values[5] = Int64GetDatum(r->n_used);
	values[6] = DirectFunctionCall1(jsonb_in, CStringGetDatum(drops.data));
	values[7] = PointerGetDatum(construct_array(flags, nflags, TEXTOID, -1, false, TYPALIGN_INT));
	values[8] = mileage_params_jsonb(p);
	values[9] = CStringGetTextDatum(MILEAGE_ALGO_VERSION);
	if (r->have_used)
	{
		values[10] = TimestampTzGetDatum(r->first_t_us);
		values[11] = TimestampTzGetDatum(r->last_t_us);
	}
	else
		nulls[10] = nulls[11] = true;
	return HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls));
}

/* The fieldops.mileage result of a function returning that type */
static Datum
result_datum(FunctionCallInfo fcinfo, const MileageResult *r, const MileageParams *p)
{
	TupleDesc	tupdesc;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "mileage must return the composite type fieldops.mileage");
	return mileage_datum(BlessTupleDesc(tupdesc), r, p);
}

/* ---------------------------------------------------------------------
 * The aggregate
 * --------------------------------------------------------------------- */

/* Append a fix, growing the array (beyond 1 GB if need be) */
static void
agg_append(MileageAgg *st, const MileageFix *f, MemoryContext cxt)
{
	if (st->n == st->cap)
	{
		int64		cap = st->cap ? st->cap * 2 : 8192;

		if (st->fixes == NULL)
			st->fixes = MemoryContextAllocHuge(cxt, cap * sizeof(MileageFix));
		else
			st->fixes = repalloc_huge(st->fixes, cap * sizeof(MileageFix));
		st->cap = cap;
	}
	st->fixes[st->n++] = *f;
}

/*
 * The parameters argument argno of the first row, validated at once (so a
 * mistake is reported before millions of rows are collected) and copied
 * into the aggregate's context; NULL for SQL NULL.
 */
static Jsonb *
keep_params(FunctionCallInfo fcinfo, int argno, MemoryContext aggcxt, bool trip)
{
	Jsonb	   *jb,
			   *copy;

	if (PG_ARGISNULL(argno))
		return NULL;
	jb = PG_GETARG_JSONB_P(argno);
	if (trip)
	{
		TripParams	tp;

		trip_parse_params(jb, &tp);
	}
	else
	{
		MileageParams mp;

		mileage_parse_params(jb, &mp);
	}
	copy = MemoryContextAlloc(aggcxt, VARSIZE(jb));
	memcpy(copy, jb, VARSIZE(jb));
	return copy;
}

/*
 * mileage_agg(recorded_at, geom, accuracy_m, speed_mps, source [, params])
 * transition: validate and collect one fix.  A NULL time or geometry is
 * kept as an invalid fix (it is counted, and booked as invalid).
 */
Datum
fieldops_mileage_transfn(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	MileageAgg *st;
	MileageFix	f;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		elog(ERROR, "fieldops_mileage_transfn called in non-aggregate context");

	st = PG_ARGISNULL(0) ? NULL : (MileageAgg *) PG_GETARG_POINTER(0);
	if (st == NULL)
	{
		st = MemoryContextAllocZero(aggcxt, sizeof(MileageAgg));
		st->fns = (GeomFns *) fcinfo->flinfo->fn_extra;
		if (st->fns == NULL)
		{
			MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);

			st->fns = geom_fns(fcinfo, get_fn_expr_argtype(fcinfo->flinfo, 2));
			fcinfo->flinfo->fn_extra = st->fns;
			MemoryContextSwitchTo(old);
		}
	}
	if (!st->have_params && PG_NARGS() > 6)
	{
		st->params = keep_params(fcinfo, 6, aggcxt, false);
		st->have_params = true;
	}
	if (!st->have_trip_params && PG_NARGS() > 7)
	{
		st->trip_params = keep_params(fcinfo, 7, aggcxt, true);
		st->have_trip_params = true;
	}

	memset(&f, 0, sizeof(f));
	f.acc_m = PG_ARGISNULL(3) ? NAN : PG_GETARG_FLOAT4(3);
	f.speed_mps = PG_ARGISNULL(4) ? NAN : PG_GETARG_FLOAT4(4);
	f.source = PG_ARGISNULL(5) ? MS_UNKNOWN : parse_source(PG_GETARG_TEXT_PP(5));
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2) || TIMESTAMP_NOT_FINITE(PG_GETARG_TIMESTAMPTZ(1)))
	{
		f.t_us = PG_ARGISNULL(1) || TIMESTAMP_NOT_FINITE(PG_GETARG_TIMESTAMPTZ(1)) ? PG_INT64_MAX : PG_GETARG_TIMESTAMPTZ(1);
		f.lat = f.lon = NAN;
	}
	else
	{
		f.t_us = PG_GETARG_TIMESTAMPTZ(1);
		geom_point(st->fns, PG_GETARG_DATUM(2), "geom", &f.lon, &f.lat);
	}
	if (!isnan(f.acc_m) && (f.acc_m < 0 || isinf(f.acc_m)))
		f.acc_m = NAN;
	if (!isnan(f.speed_mps) && (f.speed_mps < 0 || isinf(f.speed_mps)))
		f.speed_mps = NAN;
	agg_append(st, &f, aggcxt);
	PG_RETURN_POINTER(st);
}

/* final: sort, stream through the core, build the composite */
Datum
fieldops_mileage_finalfn(PG_FUNCTION_ARGS)
{
	MileageAgg *st = PG_ARGISNULL(0) ? NULL : (MileageAgg *) PG_GETARG_POINTER(0);
	MileageParams p;
	MileageResult r;

	mileage_parse_params(st ? st->params : NULL, &p);
	if (st == NULL || st->n == 0)
	{
		MileageState s;

		mileage_init(&s, &p);
		mileage_finish(&s, &r);
		PG_RETURN_DATUM(result_datum(fcinfo, &r, &p));
	}
	/*
	 * The aggregate is declared FINALFUNC_MODIFY = READ_WRITE, so the fixes
	 * are sorted in place (sorting again gives the same order).
	 */
	mileage_compute(st->fixes, st->n, &p, &r, NULL);
	PG_RETURN_DATUM(result_datum(fcinfo, &r, &p));
}

/* ---------------------------------------------------------------------
 * Tracks as LINESTRING M (PostGIS's trajectory convention)
 * --------------------------------------------------------------------- */

/* read a little- or big-endian value from EWKB */
static uint32
ewkb_u32(const unsigned char *p, bool le)
{
	return le ? (uint32) p[0] | ((uint32) p[1] << 8) | ((uint32) p[2] << 16) | ((uint32) p[3] << 24)
		: (uint32) p[3] | ((uint32) p[2] << 8) | ((uint32) p[1] << 16) | ((uint32) p[0] << 24);
}

static double
ewkb_f64(const unsigned char *p, bool le)
{
	uint64		u = 0;
	double		d;
	int			i;

	for (i = 0; i < 8; i++)
		u |= (uint64) p[le ? i : 7 - i] << (8 * i);
	memcpy(&d, &u, sizeof(d));
	return d;
}

#define EWKB_Z		0x80000000u
#define EWKB_M		0x40000000u
#define EWKB_SRID	0x20000000u

/*
 * Fixes of a LINESTRING M (or ZM) whose M is Unix epoch seconds, through
 * ST_AsEWKB.  Errors (22023): not a linestring, not SRID 4326, no M,
 * decreasing M.  Non-finite or out-of-range points stay in, to be booked
 * as invalid by the core.
 */
static MileageFix *
track_fixes(FunctionCallInfo fcinfo, Datum geom, int64 *n_out)
{
	GeomFns    *g = (GeomFns *) fcinfo->flinfo->fn_extra;
	bytea	   *ewkb;
	const unsigned char *p,
			   *end;
	bool		le;
	uint32		type,
				npts,
				i;
	int			dims;
	MileageFix *fixes;
	double		prev_m = -INFINITY;

	if (g == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);

		g = geom_fns(fcinfo, get_fn_expr_argtype(fcinfo->flinfo, 0));
		fcinfo->flinfo->fn_extra = g;
		MemoryContextSwitchTo(old);
	}
	ewkb = DatumGetByteaPP(FunctionCall1(&g->asewkb, geom));
	p = (const unsigned char *) VARDATA_ANY(ewkb);
	end = p + VARSIZE_ANY_EXHDR(ewkb);
	if (end - p < 9)
		elog(ERROR, "EWKB too short");
	le = p[0] == 1;
	type = ewkb_u32(p + 1, le);
	p += 5;
	if ((type & 0xffff) != 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("track must be a LINESTRING M (M = Unix epoch seconds), got geometry type %u", type & 0xffff)));
	if (!(type & EWKB_SRID) || ewkb_u32(p, le) != SRID_WGS84)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("track must be in SRID 4326 (WGS-84), got SRID %d",
						(type & EWKB_SRID) ? (int) ewkb_u32(p, le) : 0)));
	p += 4;
	if (!(type & EWKB_M))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("track must have M values (Unix epoch seconds of each point)"),
				 errhint("Build it with ST_MakeLine(ST_MakePointM(lon, lat, extract(epoch from t)) ORDER BY t).")));
	dims = 2 + ((type & EWKB_Z) ? 1 : 0) + 1;
	npts = ewkb_u32(p, le);
	p += 4;
	if ((uint64) (end - p) < (uint64) npts * dims * 8)
		elog(ERROR, "EWKB truncated");
	fixes = MemoryContextAllocHuge(CurrentMemoryContext, Max(npts, 1) * sizeof(MileageFix));
	for (i = 0; i < npts; i++, p += dims * 8)
	{
		double		m = ewkb_f64(p + (dims - 1) * 8, le);
		MileageFix *f = &fixes[i];

		if (!isfinite(m))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("track point %u has a non-finite M", i + 1)));
		if (m < prev_m)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("track M values must not decrease: point %u has M %.3f after %.3f", i + 1, m, prev_m),
					 errhint("M is the time of each point; build the line ordered by time.")));
		prev_m = m;
		f->lon = ewkb_f64(p, le);
		f->lat = ewkb_f64(p + 8, le);
		f->t_us = (int64) llround((m - ((double) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY)) * 1e6);
		f->acc_m = NAN;
		f->speed_mps = NAN;
		f->source = MS_GPS;
	}
	*n_out = npts;
	return fixes;
}

/* the columns of fieldops.mileage_fix */
#define DETAIL_COLS 8

/*
 * One fieldops.mileage_fix row: the fix (in time order), its status and
 * the reason in words, the metres it added and the running total (in
 * millimetres, so the total ends exactly at distance_m), its position.
 */
static void
detail_values(int64 seq, const MileageFix *f, const MileageFixOut *o, Datum *values, bool *nulls)
{
	memset(nulls, 0, DETAIL_COLS * sizeof(bool));
	values[0] = Int64GetDatum(seq);
	values[1] = TimestampTzGetDatum(f->t_us);
	if (f->t_us == PG_INT64_MAX)
		nulls[1] = true;		/* a fix without a time */
	values[2] = CStringGetTextDatum(mileage_status_names[o->status]);
	values[3] = CStringGetTextDatum(mileage_status_reasons[o->status]);
	values[4] = Float8GetDatum(um_to_m_mm(o->step_um));
	values[5] = Float8GetDatum(um_to_m_mm(o->cum_um));
	values[6] = Float8GetDatum(f->lon);
	values[7] = Float8GetDatum(f->lat);
	if (!isfinite(f->lon) || !isfinite(f->lat))
		nulls[6] = nulls[7] = true;
}

/* fieldops.mileage(track geometry [, params jsonb]) */
Datum
fieldops_mileage_track(PG_FUNCTION_ARGS)
{
	MileageParams p;
	MileageResult r;
	int64		n;
	MileageFix *fixes;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	mileage_parse_params(PG_NARGS() > 1 && !PG_ARGISNULL(1) ? PG_GETARG_JSONB_P(1) : NULL, &p);
	fixes = track_fixes(fcinfo, PG_GETARG_DATUM(0), &n);
	mileage_compute(fixes, n, &p, &r, NULL);
	PG_RETURN_DATUM(result_datum(fcinfo, &r, &p));
}

/*
 * fieldops.mileage_detail(track geometry [, params jsonb]): one row per
 * point (in time order): time, status, step metres, cumulative metres
 * (ending at distance_m), position.
 */
Datum
fieldops_mileage_detail_track(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MileageParams p;
	MileageResult r;
	MileageFixOut *det;
	MileageFix *fixes;
	int64		n,
				i;

	InitMaterializedSRF(fcinfo, 0);
	if (PG_ARGISNULL(0))
		return (Datum) 0;
	mileage_parse_params(PG_NARGS() > 1 && !PG_ARGISNULL(1) ? PG_GETARG_JSONB_P(1) : NULL, &p);
	fixes = track_fixes(fcinfo, PG_GETARG_DATUM(0), &n);
	det = palloc_extended(Max(n, 1) * sizeof(MileageFixOut), MCXT_ALLOC_HUGE);
	mileage_compute(fixes, n, &p, &r, det);
	for (i = 0; i < n; i++)
	{
		Datum		values[DETAIL_COLS];
		bool		nulls[DETAIL_COLS];

		detail_values(i + 1, &fixes[i], &det[i], values, nulls);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * mileage_detail_agg(recorded_at, geom, accuracy_m, speed_mps, source
 * [, params]) final function: the fixes in time order as an array of
 * fieldops.mileage_fix, what the filter did with each and why.
 */
Datum
fieldops_mileage_detail_finalfn(PG_FUNCTION_ARGS)
{
	MileageAgg *st = PG_ARGISNULL(0) ? NULL : (MileageAgg *) PG_GETARG_POINTER(0);
	Oid			rowtype = result_row_type(fcinfo, "mileage_detail_agg", "fieldops.mileage_fix");
	MileageParams p;
	MileageResult r;
	MileageFixOut *det;
	TupleDesc	desc;
	Datum	   *items;
	int64		i;

	mileage_parse_params(st ? st->params : NULL, &p);
	if (st == NULL || st->n == 0)
		PG_RETURN_DATUM(composite_array(NULL, 0, rowtype));
	if (st->n > (int64) (MaxAllocSize / sizeof(Datum)))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("mileage_detail_agg takes at most %d fixes, got " INT64_FORMAT,
						(int) (MaxAllocSize / sizeof(Datum)), st->n),
				 errhint("Ask for a shorter time range, or use mileage_agg for the totals.")));
	desc = BlessTupleDesc(lookup_rowtype_tupdesc_copy(rowtype, -1));
	det = palloc_extended(st->n * sizeof(MileageFixOut), MCXT_ALLOC_HUGE);
	/* FINALFUNC_MODIFY = READ_WRITE: the fixes are sorted in place */
	mileage_compute(st->fixes, st->n, &p, &r, det);
	items = palloc(st->n * sizeof(Datum));
	for (i = 0; i < st->n; i++)
	{
		Datum		values[DETAIL_COLS];
		bool		nulls[DETAIL_COLS];

		detail_values(i + 1, &st->fixes[i], &det[i], values, nulls);
		items[i] = HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
	}
	PG_RETURN_DATUM(composite_array(items, (int) st->n, rowtype));
}

/*
 * The composite type of the array an aggregate's final function returns
 * (its declared result type); "what" and "type" name them in the error.
 */
Oid
result_row_type(FunctionCallInfo fcinfo, const char *what, const char *type)
{
	Oid			rowtype = get_element_type(get_fn_expr_rettype(fcinfo->flinfo));

	if (!OidIsValid(rowtype))
		elog(ERROR, "%s must return an array of %s", what, type);
	return rowtype;
}

/* An array of n composites of rowtype (empty when n is 0) */
Datum
composite_array(Datum *items, int n, Oid rowtype)
{
	int16		typlen;
	bool		typbyval;
	char		typalign;

	if (n == 0)
		return PointerGetDatum(construct_empty_array(rowtype));
	get_typlenbyvalalign(rowtype, &typlen, &typbyval, &typalign);
	return PointerGetDatum(construct_array(items, n, rowtype, typlen, typbyval, typalign));
}

/* write a little-endian uint32 / double into EWKB */
static void
put_u32(StringInfo b, uint32 v)
{
	char		c[4] = {(char) (v & 0xff), (char) ((v >> 8) & 0xff), (char) ((v >> 16) & 0xff), (char) (v >> 24)};

	appendBinaryStringInfo(b, c, 4);
}

static void
put_f64(StringInfo b, double d)
{
	uint64		u;
	char		c[8];
	int			i;

	memcpy(&u, &d, sizeof(u));
	for (i = 0; i < 8; i++)
		c[i] = (char) ((u >> (8 * i)) & 0xff);
	appendBinaryStringInfo(b, c, 8);
}

/*
 * fieldops.clean_track(track geometry [, params jsonb]): the fixes the
 * distance was measured between (moved, gap, first, relocated), as a
 * LINESTRING M for display, built as EWKB and handed to ST_GeomFromEWKB.
 */
Datum
fieldops_clean_track(PG_FUNCTION_ARGS)
{
	MileageParams p;
	MileageResult r;
	MileageFixOut *det;
	MileageFix *fixes;
	int64		n,
				i,
				kept = 0;
	StringInfoData b;
	bytea	   *ewkb;
	GeomFns    *g;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	mileage_parse_params(PG_NARGS() > 1 && !PG_ARGISNULL(1) ? PG_GETARG_JSONB_P(1) : NULL, &p);
	fixes = track_fixes(fcinfo, PG_GETARG_DATUM(0), &n);
	g = (GeomFns *) fcinfo->flinfo->fn_extra;
	det = palloc_extended(Max(n, 1) * sizeof(MileageFixOut), MCXT_ALLOC_HUGE);
	mileage_compute(fixes, n, &p, &r, det);
	for (i = 0; i < n; i++)
		if (det[i].status <= MST_RELOCATED)
			kept++;

	initStringInfo(&b);
	appendStringInfoSpaces(&b, VARHDRSZ);
	appendStringInfoChar(&b, 1);
	put_u32(&b, 2 | EWKB_M | EWKB_SRID);
	put_u32(&b, SRID_WGS84);
	put_u32(&b, (uint32) kept);
	for (i = 0; i < n; i++)
	{
		if (det[i].status > MST_RELOCATED)
			continue;
		put_f64(&b, fixes[i].lon);
		put_f64(&b, fixes[i].lat);
		put_f64(&b, (double) fixes[i].t_us / 1e6 + (double) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY);
	}
	ewkb = (bytea *) b.data;
	SET_VARSIZE(ewkb, b.len);
	PG_RETURN_DATUM(FunctionCall1(&g->from_ewkb, PointerGetDatum(ewkb)));
}

/* fieldops.mileage_params(p_params jsonb DEFAULT NULL): the effective parameters */
Datum
fieldops_mileage_params(PG_FUNCTION_ARGS)
{
	MileageParams p;

	mileage_parse_params(PG_ARGISNULL(0) ? NULL : PG_GETARG_JSONB_P(0), &p);
	PG_RETURN_DATUM(mileage_params_jsonb(&p));
}
