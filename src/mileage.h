/*-------------------------------------------------------------------------
 *
 * mileage.h
 *		What the fmgr wrappers of mileage (mileage.c) share with those of
 *		trips (trips.c): the aggregate's state, parameter parsing and the
 *		fieldops.mileage composite.
 *
 * Copyright (c) 2026, fieldops developers
 *
 * IDENTIFICATION
 *		src/mileage.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef FIELDOPS_MILEAGE_H
#define FIELDOPS_MILEAGE_H

#include "postgres.h"

#include "access/tupdesc.h"
#include "fmgr.h"
#include "utils/jsonb.h"

#include "mileage_core.h"
#include "trips_core.h"

typedef struct GeomFns GeomFns;

/*
 * Transition state of mileage_agg and track_segments: the collected fixes
 * and the parameters (as given, copied; NULL for the defaults)
 */
typedef struct MileageAgg
{
	MileageFix *fixes;
	int64		n;
	int64		cap;
	bool		have_params;
	Jsonb	   *params;
	bool		have_trip_params;
	Jsonb	   *trip_params;
	GeomFns    *fns;
} MileageAgg;

/* a numeric parameter: its jsonb key and where it goes in the struct */
typedef struct ParamKey
{
	const char *name;
	size_t		off;
	bool		is_int;
} ParamKey;

extern void parse_param_object(Jsonb *jb, const char *what, const ParamKey *keys, int nkeys,
							   void *base, bool (*special) (const char *name, JsonbValue *v, void *base));
extern void mileage_parse_params(Jsonb *jb, MileageParams *p);
extern Datum mileage_params_jsonb(const MileageParams *p);
extern Datum mileage_datum(TupleDesc tupdesc, const MileageResult *r, const MileageParams *p);
extern Oid	result_row_type(FunctionCallInfo fcinfo, const char *what, const char *type);
extern Datum composite_array(Datum *items, int n, Oid rowtype);

/* trips.c */
extern void trip_parse_params(Jsonb *jb, TripParams *p);

#endif							/* FIELDOPS_MILEAGE_H */
