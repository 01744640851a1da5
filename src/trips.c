/*-------------------------------------------------------------------------
 *
 * trips.c
 *		fmgr wrappers of the trip splitter: the aggregate
 *		fieldops.track_segments(...) and fieldops.trip_params(jsonb).
 *
 * track_segments collects fixes with mileage_agg's transition function;
 * its final function sorts them, runs them through the mileage core and
 * the splitter side by side, and returns one fieldops.track_segment per
 * trip, stop and gap, each with its own fieldops.mileage record.
 *
 * Copyright (c) 2026, fieldops developers
 *
 * IDENTIFICATION
 *		src/trips.c
 *
 *-------------------------------------------------------------------------
 */
#include "fieldops.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

#include "mileage.h"

PG_FUNCTION_INFO_V1(fieldops_track_segments_finalfn);
PG_FUNCTION_INFO_V1(fieldops_trip_params);

/*
 * Trip parameters from jsonb (NULL: all defaults), validated; 22023 for
 * unknown keys and values out of range.
 */
void
trip_parse_params(Jsonb *jb, TripParams *p)
{
	static const ParamKey keys[] = {
#define K(f) {#f, offsetof(TripParams, f), false}
		K(min_trip_m), K(min_trip_s), K(min_stop_s), K(stop_radius_m), K(long_gap_s),
		K(stay_speed_mps)
#undef K
	};
	const char *bad;

	trip_params_default(p);
	parse_param_object(jb, "trip", keys, lengthof(keys), p, NULL);
	if ((bad = trip_params_check(p)) != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid trip parameter: %s", bad)));
}

/* The trip parameters as jsonb, every one of them */
static Datum
trip_params_jsonb(const TripParams *p)
{
	StringInfoData b;

	initStringInfo(&b);
	appendStringInfo(&b,
					 "{\"min_trip_m\": %g, \"min_trip_s\": %g, \"min_stop_s\": %g, "
					 "\"stop_radius_m\": %g, \"long_gap_s\": %g, \"stay_speed_mps\": %g}",
					 p->min_trip_m, p->min_trip_s, p->min_stop_s,
					 p->stop_radius_m, p->long_gap_s, p->stay_speed_mps);
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(b.data));
}

/* fieldops.trip_params(p_params jsonb DEFAULT NULL): the effective parameters */
Datum
fieldops_trip_params(PG_FUNCTION_ARGS)
{
	TripParams	p;

	trip_parse_params(PG_ARGISNULL(0) ? NULL : PG_GETARG_JSONB_P(0), &p);
	PG_RETURN_DATUM(trip_params_jsonb(&p));
}

/* where the final function collects segments */
typedef struct SegOut
{
	TupleDesc	segdesc;		/* fieldops.track_segment */
	TupleDesc	mdesc;			/* fieldops.mileage */
	const MileageParams *mp;
	Datum	   *items;
	int			n;
	int			cap;
}			SegOut;

/* TripEmit callback: one fieldops.track_segment composite per segment */
static void
seg_emit(void *arg, const TripSegment *g)
{
	SegOut	   *o = arg;
	MileageResult r;
	Datum		values[9];
	bool		nulls[9] = {false};

	if (o->n == o->cap)
	{
		o->cap = o->cap ? o->cap * 2 : 16;
		o->items = o->items ? repalloc(o->items, o->cap * sizeof(Datum)) : palloc(o->cap * sizeof(Datum));
	}
	mileage_result(&g->tally, o->mp, &r);
	/*
	 * Sampling only matters where distance is measured: a silence or a
	 * stop has no meaningful interval between fixes (a one-fix gap would
	 * always look "undersampled").
	 */
	if (g->kind != TRIP_TRIP)
		r.flags &= ~MFL_UNDERSAMPLED;
	values[0] = Int32GetDatum(o->n + 1);
	values[1] = CStringGetTextDatum(trip_kind_names[g->kind]);
	values[2] = TimestampTzGetDatum(g->start_us);
	values[3] = TimestampTzGetDatum(g->end_us);
	values[4] = Float8GetDatum(g->start_lon);
	values[5] = Float8GetDatum(g->start_lat);
	values[6] = Float8GetDatum(g->end_lon);
	values[7] = Float8GetDatum(g->end_lat);
	values[8] = mileage_datum(o->mdesc, &r, o->mp);
	o->items[o->n++] = HeapTupleGetDatum(heap_form_tuple(o->segdesc, values, nulls));
}

/*
 * track_segments final function: sort the fixes, stream them through the
 * mileage core and the splitter, return the segments (an empty array when
 * no fix placed the vehicle).
 */
Datum
fieldops_track_segments_finalfn(PG_FUNCTION_ARGS)
{
	MileageAgg *st = PG_ARGISNULL(0) ? NULL : (MileageAgg *) PG_GETARG_POINTER(0);
	MileageParams mp;
	TripParams	tp;
	Oid			segtype = result_row_type(fcinfo, "track_segments", "fieldops.track_segment");
	SegOut		out;

	mileage_parse_params(st ? st->params : NULL, &mp);
	trip_parse_params(st ? st->trip_params : NULL, &tp);

	memset(&out, 0, sizeof(out));
	out.segdesc = BlessTupleDesc(lookup_rowtype_tupdesc_copy(segtype, -1));
	out.mdesc = BlessTupleDesc(lookup_rowtype_tupdesc_copy(TupleDescAttr(out.segdesc, 8)->atttypid, -1));
	out.mp = &mp;

	if (st != NULL && st->n > 0)
	{
		MileageState ms;
		TripState	ts;
		MileageFixOut fo;
		int64		i;

		/* FINALFUNC_MODIFY = READ_WRITE: the fixes are sorted in place */
		mileage_sort(st->fixes, st->n);
		mileage_init(&ms, &mp);
		trip_init(&ts, &tp, seg_emit, &out);
		for (i = 0; i < st->n; i++)
		{
			mileage_push(&ms, &st->fixes[i], &fo);
			trip_push(&ts, &st->fixes[i], &fo);
		}
		trip_finish(&ts);
	}

	PG_RETURN_DATUM(composite_array(out.items, out.n, segtype));
}
