/*-------------------------------------------------------------------------
 *
 * trips_core.c
 *		Split a filtered track into trips, stops and gaps, each with its own
 *		exact share of the mileage accounting.
 *
 * The mileage core decides, fix by fix, where the vehicle is (its anchor)
 * and what each fix adds.  This splitter follows that position, not the
 * raw fixes, so parked jitter that the filter held cannot fake a trip.
 *
 * A stop is a stay: the vehicle comes to rest (the filter holds its
 * position) and the position remains within stop_radius_m of where it came
 * to rest for at least min_stop_s (stay-point detection in the sense of
 * Li et al., "Mining user similarity based on location history", 2008,
 * on the filtered position).  While the stay is shorter it is only a
 * candidate, and its fixes are tallied apart; if the vehicle leaves in
 * time they are given back to the trip (traffic lights and queues do not
 * split trips), if not they become the stop's.  A stop lasts from the
 * first to the last fix at rest: the arrival and the departure, even
 * inside the radius, are travel and belong to the trips.
 *
 * A trip must cover min_trip_m and last min_trip_s; a shorter one (moving
 * the car across a car park) is a stop, and consecutive stops merge, so the
 * short hop and the stops around it become one stop.  A stop is therefore
 * held back until the next real trip or gap shows that it has ended.
 *
 * When no fix arrives for long_gap_s, the open segment ends at the last
 * fix before the silence, and the silence becomes a segment of its own.
 * What happened in it is judged by the mean speed it implies (chord over
 * time): under stay_speed_mps the vehicle mostly stood (an underground
 * car park, whose exit may be far from its entrance; a phone switched off
 * while parked) and the silence is a stop; otherwise it moved on (phone
 * off while driving) and the silence is a gap, carrying the chord the
 * filter booked if that was plausible.
 *
 * Segments are contiguous in time and every fix is tallied in exactly one
 * of them -- a dropped fix (Wi-Fi in a garage, an outlier) in the segment
 * whose time it arrived in, the silence included -- so the tallies add up
 * to the whole track's exactly.
 *
 * Copyright (c) 2026, fieldops developers
 *
 * IDENTIFICATION
 *		src/trips_core.c
 *
 *-------------------------------------------------------------------------
 */
#include "trips_core.h"

#include <math.h>
#include <string.h>

#include "geo_kernel.h"

#define USEC_PER_SEC 1000000.0

const char *const trip_kind_names[TRIP__COUNT] = {"trip", "stop", "gap"};

/* The documented defaults */
void
trip_params_default(TripParams *p)
{
	p->min_trip_m = 200.0;
	p->min_trip_s = 120.0;
	p->min_stop_s = 300.0;
	p->stop_radius_m = 50.0;
	p->long_gap_s = 900.0;
	p->stay_speed_mps = 0.5;
}

/* NULL when every parameter is usable, else a message naming the first bad one */
const char *
trip_params_check(const TripParams *p)
{
#define RANGE(f, lo, hi) \
	if (!(p->f >= (lo) && p->f <= (hi))) \
		return #f " must be between " #lo " and " #hi
	RANGE(min_trip_m, 0, 100000);
	RANGE(min_trip_s, 0, 86400);
	RANGE(min_stop_s, 1, 86400);
	RANGE(stop_radius_m, 1, 10000);
	RANGE(long_gap_s, 1, 86400);
	RANGE(stay_speed_mps, 0, 100);
#undef RANGE
	return NULL;
}

/* Start a track */
void
trip_init(TripState *s, const TripParams *p, TripEmit emit, void *emit_arg)
{
	memset(s, 0, sizeof(*s));
	s->p = *p;
	s->emit = emit;
	s->emit_arg = emit_arg;
}

/* seconds from a to b */
static double
secs(int64_t a, int64_t b)
{
	return (double) (b - a) / USEC_PER_SEC;
}

/* the segment now ends at t, lat, lon */
static void
seg_end(TripSegment *g, int64_t t, double lat, double lon)
{
	g->end_us = t;
	g->end_lat = lat;
	g->end_lon = lon;
}

/* a segment of the given kind starting (and, for now, ending) at t, lat, lon */
static void
seg_open(TripSegment *g, TripKind kind, int64_t t, double lat, double lon)
{
	memset(g, 0, sizeof(*g));
	g->kind = kind;
	g->start_us = t;
	g->start_lat = lat;
	g->start_lon = lon;
	seg_end(g, t, lat, lon);
}

/*
 * A finished segment goes out through the held stop: stops merge into the
 * held one; a trip or gap first releases it.
 */
static void
output(TripState *s, const TripSegment *g)
{
	if (g->kind == TRIP_STOP)
	{
		if (s->have_held)
		{
			seg_end(&s->held, g->end_us, g->end_lat, g->end_lon);
			mileage_tally_merge(&s->held.tally, &g->tally);
		}
		else
		{
			s->held = *g;
			s->have_held = true;
		}
		return;
	}
	if (s->have_held)
	{
		s->emit(s->emit_arg, &s->held);
		s->have_held = false;
	}
	s->emit(s->emit_arg, g);
}

/*
 * A new candidate stay begins at the current position; at_rest when the
 * vehicle is already at rest there (the first fix of a track).
 */
static void
cand_start(TripState *s, bool at_rest)
{
	s->have_cand = true;
	s->cand_lat = s->cand_last_lat = s->pos_lat;
	s->cand_lon = s->cand_last_lon = s->pos_lon;
	s->cand_last_us = s->pos_t_us;
	memset(&s->cand_arrive, 0, sizeof(s->cand_arrive));
	memset(&s->cand, 0, sizeof(s->cand));
	s->have_rest = at_rest;
	s->rest_t_us = s->pos_t_us;
	s->rest_lat = s->pos_lat;
	s->rest_lon = s->pos_lon;
}

/* the trip's fixes so far include the candidate's: it was no stop */
static void
cand_to_trip(TripState *s)
{
	mileage_tally_merge(&s->cur.tally, &s->cand_arrive);
	mileage_tally_merge(&s->cur.tally, &s->cand);
	s->have_cand = false;
}

/* Finish the open segment; a trip too short or too brief counts as a stop */
static void
close_cur(TripState *s)
{
	TripSegment *g = &s->cur;

	if (g->kind == TRIP_TRIP)
	{
		if (s->have_cand)
			cand_to_trip(s);
		if ((g->tally.moving_um + g->tally.gap_um) / 1e6 < s->p.min_trip_m ||
			secs(g->start_us, g->end_us) < s->p.min_trip_s)
			g->kind = TRIP_STOP;
	}
	output(s, g);
}

/*
 * The data ends (or falls silent) with the vehicle last seen at t, lat,
 * lon: the open segment ends there, and a stop keeps any moving within
 * its radius since its last rest, as nothing followed it.
 */
static void
end_open(TripState *s, int64_t t, double lat, double lon)
{
	if (s->cur.kind == TRIP_STOP && s->leaving)
	{
		mileage_tally_merge(&s->cur.tally, &s->leave);
		memset(&s->leave, 0, sizeof(s->leave));
		s->leaving = false;
	}
	seg_end(&s->cur, t, lat, lon);
	close_cur(s);
}

/*
 * The dropped fixes since the last position report belong where the time
 * they arrived in belongs: before the first position, to the first
 * segment; in a trip, to the candidate stop (arrival or rest); in a stop
 * being left, to the departure; else to the open segment.
 */
static void
place_loose(TripState *s)
{
	MileageTally *to;

	if (!s->have_pos)
		to = &s->pending;
	else if (s->cur.kind == TRIP_TRIP && s->have_cand)
		to = s->have_rest ? &s->cand : &s->cand_arrive;
	else if (s->cur.kind == TRIP_STOP && s->leaving)
		to = &s->leave;
	else
		to = &s->cur.tally;
	mileage_tally_merge(to, &s->loose);
	memset(&s->loose, 0, sizeof(s->loose));
}

/* Feed the next fix and what the mileage core made of it */
void
trip_push(TripState *s, const MileageFix *f, const MileageFixOut *o)
{
	bool		presence = mileage_status_used(o->status) || o->status == MST_GAP_IMPLAUSIBLE;
	double		lat,
				lon,
				d;
	int64_t		prev_t;
	double		prev_lat,
				prev_lon;

	if (!presence)
	{
		/*
		 * A dropped fix: kept aside until the next position report shows
		 * whether the time it arrived in was a silence (then it is the
		 * silence's) or part of the open segment.
		 */
		mileage_tally_add(&s->loose, f->t_us, o);
		return;
	}

	/* the vehicle's position after this fix */
	if (mileage_status_anchors(o->status) || !s->have_pos)
	{
		lat = f->lat;
		lon = f->lon;
	}
	else
	{
		lat = s->pos_lat;
		lon = s->pos_lon;
	}
	prev_t = s->pos_t_us;
	prev_lat = s->pos_lat;
	prev_lon = s->pos_lon;
	s->pos_lat = lat;
	s->pos_lon = lon;
	s->pos_t_us = f->t_us;

	if (!s->have_pos)
	{
		place_loose(s);
		s->have_pos = true;
		seg_open(&s->cur, TRIP_TRIP, f->t_us, lat, lon);
		s->cur.tally = s->pending;
		mileage_tally_add(&s->cur.tally, f->t_us, o);
		cand_start(s, true);
		return;
	}

	/* a long silence: a segment of its own, a stop or a gap */
	if (secs(prev_t, f->t_us) >= s->p.long_gap_s)
	{
		TripSegment quiet;
		bool		stayed = geo_distance(prev_lat, prev_lon, lat, lon) <
			s->p.stay_speed_mps * secs(prev_t, f->t_us);

		end_open(s, prev_t, prev_lat, prev_lon);
		seg_open(&quiet, stayed ? TRIP_STOP : TRIP_GAP, prev_t, prev_lat, prev_lon);
		seg_end(&quiet, f->t_us, lat, lon);
		quiet.tally = s->loose;	/* what arrived during the silence */
		memset(&s->loose, 0, sizeof(s->loose));
		mileage_tally_add(&quiet.tally, f->t_us, o);
		output(s, &quiet);
		/* after a stop the vehicle is at rest; after a gap it is moving */
		seg_open(&s->cur, TRIP_TRIP, f->t_us, lat, lon);
		cand_start(s, stayed);
		return;
	}

	place_loose(s);
	if (s->cur.kind == TRIP_STOP)
	{
		d = geo_distance(s->cur.start_lat, s->cur.start_lon, lat, lon);
		if (d <= s->p.stop_radius_m)
		{
			if (o->status == MST_HOLD || o->status == MST_STATIONARY)
			{
				/* at rest again: any moving since was within the stop */
				mileage_tally_merge(&s->cur.tally, &s->leave);
				memset(&s->leave, 0, sizeof(s->leave));
				s->leaving = false;
				mileage_tally_add(&s->cur.tally, f->t_us, o);
				seg_end(&s->cur, f->t_us, lat, lon);
			}
			else
			{
				mileage_tally_add(&s->leave, f->t_us, o);
				s->leaving = true;
			}
			return;
		}
		/* left: the stop ended at its last fix at rest, the trip starts there */
		{
			TripSegment stop = s->cur;

			output(s, &stop);
			seg_open(&s->cur, TRIP_TRIP, stop.end_us, stop.end_lat, stop.end_lon);
		}
		s->cur.tally = s->leave;
		memset(&s->leave, 0, sizeof(s->leave));
		s->leaving = false;
		mileage_tally_add(&s->cur.tally, f->t_us, o);
		seg_end(&s->cur, f->t_us, lat, lon);
		cand_start(s, false);
		return;
	}

	/* in a trip */
	d = geo_distance(s->have_rest ? s->rest_lat : s->cand_lat,
					 s->have_rest ? s->rest_lon : s->cand_lon, lat, lon);
	if (d <= s->p.stop_radius_m)
	{
		if (!s->have_rest && (o->status == MST_HOLD || o->status == MST_STATIONARY))
		{
			/* came to rest: from here on it may be a stop */
			s->have_rest = true;
			s->rest_t_us = f->t_us;
			s->rest_lat = lat;
			s->rest_lon = lon;
		}
		mileage_tally_add(s->have_rest ? &s->cand : &s->cand_arrive, f->t_us, o);
		s->cand_last_us = f->t_us;
		s->cand_last_lat = lat;
		s->cand_last_lon = lon;
		if (s->have_rest && secs(s->rest_t_us, s->cand_last_us) >= s->p.min_stop_s)
		{
			/* a stop: the trip (with the arrival) ended where the rest began */
			TripSegment stop;

			seg_open(&stop, TRIP_STOP, s->rest_t_us, s->rest_lat, s->rest_lon);
			seg_end(&stop, s->cand_last_us, s->cand_last_lat, s->cand_last_lon);
			stop.tally = s->cand;
			memset(&s->cand, 0, sizeof(s->cand));
			cand_to_trip(s);
			seg_end(&s->cur, s->rest_t_us, s->rest_lat, s->rest_lon);
			close_cur(s);
			s->cur = stop;
		}
		return;
	}
	/* moving on: the candidate's fixes were part of the trip */
	cand_to_trip(s);
	mileage_tally_add(&s->cur.tally, f->t_us, o);
	seg_end(&s->cur, f->t_us, lat, lon);
	cand_start(s, false);
}

/* Close the track: the open segment ends at the last position */
void
trip_finish(TripState *s)
{
	place_loose(s);
	if (s->have_pos)
	{
		end_open(s, s->pos_t_us, s->pos_lat, s->pos_lon);
	}
	if (s->have_held)
	{
		s->emit(s->emit_arg, &s->held);
		s->have_held = false;
	}
}
