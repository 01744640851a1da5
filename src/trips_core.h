/*-------------------------------------------------------------------------
 *
 * trips_core.h
 *		Pure C split of a filtered track into trips, stops and gaps.
 *
 * Copyright (c) 2026, fieldops developers
 *
 * IDENTIFICATION
 *		src/trips_core.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TRIPS_CORE_H
#define TRIPS_CORE_H

#include "mileage_core.h"

/* Parameters, each echoed; trip_params_default() sets the documented defaults */
typedef struct TripParams
{
	double		min_trip_m;		/* a trip covers at least this distance ... */
	double		min_trip_s;		/* ... and lasts at least this long */
	double		min_stop_s;		/* staying this long within stop_radius_m is a stop */
	double		stop_radius_m;
	double		long_gap_s;		/* no fix for this long is a silence ... */
	double		stay_speed_mps; /* ... a stop if its chord implies less speed, else a gap */
} TripParams;

extern void trip_params_default(TripParams *p);
extern const char *trip_params_check(const TripParams *p);

typedef enum TripKind
{
	TRIP_TRIP = 0,				/* moving from one place to another */
	TRIP_STOP,					/* staying (or moving too little to be a trip) */
	TRIP_GAP,					/* a silence while the vehicle moved on */
	TRIP__COUNT
} TripKind;

extern const char *const trip_kind_names[TRIP__COUNT];

/*
 * One segment.  Segments are contiguous in time (each starts when the one
 * before ended) and every fix of the track is tallied in exactly one of
 * them, so their tallies add up to the track's.
 */
typedef struct TripSegment
{
	TripKind	kind;
	int64_t		start_us;
	int64_t		end_us;
	double		start_lat,
				start_lon,
				end_lat,
				end_lon;
	MileageTally tally;
} TripSegment;

/* receives the finished segments, in time order */
typedef void (*TripEmit) (void *arg, const TripSegment *seg);

/* Streaming state: constant size */
typedef struct TripState
{
	TripParams	p;
	TripEmit	emit;
	void	   *emit_arg;
	MileageTally pending;		/* fixes before the first position */
	MileageTally loose;			/* dropped fixes since the last position report */
	/* the vehicle's position (the filter's anchor) and its last report */
	bool		have_pos;
	double		pos_lat,
				pos_lon;
	int64_t		pos_t_us;
	/* the open segment: a trip, or a confirmed stop */
	TripSegment cur;
	/* in a stop: fixes since the vehicle last was at rest (perhaps leaving) */
	bool		leaving;
	MileageTally leave;
	/*
	 * While in a trip: a possible stop.  It began where the position last
	 * moved away from the previous one (cand_lat, cand_lon); the fixes
	 * until the vehicle first came to rest there are the arrival
	 * (cand_arrive, still travel); from the rest on they are cand.
	 */
	bool		have_cand;
	double		cand_lat,
				cand_lon;
	MileageTally cand_arrive;
	bool		have_rest;
	int64_t		rest_t_us;
	double		rest_lat,
				rest_lon;
	int64_t		cand_last_us;
	double		cand_last_lat,
				cand_last_lon;
	MileageTally cand;
	/* the last stop, held back until we know whether the next stop merges */
	bool		have_held;
	TripSegment held;
} TripState;

extern void trip_init(TripState *s, const TripParams *p, TripEmit emit, void *emit_arg);
extern void trip_push(TripState *s, const MileageFix *f, const MileageFixOut *o);
extern void trip_finish(TripState *s);

#endif							/* TRIPS_CORE_H */
