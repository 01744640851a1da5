/*-------------------------------------------------------------------------
 *
 * trips_test.c
 *		Unit tests of the trip splitter (trips_core.c) on hand-made days
 *		whose trips and stops are known: drives, a parking stop, a traffic
 *		light, a hop across a car park, a phone switched off while driving
 *		and while parked, outliers and Wi-Fi fixes.  Every test also checks
 *		that the segments are contiguous and that their tallies add up to
 *		the whole track's exactly.
 *
 * Copyright (c) 2026, fieldops developers
 *
 * IDENTIFICATION
 *		test/unit/trips_test.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdlib.h>

#include <geodesic.h>

#include "unit.h"
#include "drivegen.h"
#include "mileage_core.h"
#include "trips_core.h"

#define T0 ((int64_t) 848390400 * 1000000)	/* 2026-11-20 08:00 UTC in PG epoch */
#define MAXF 20000
#define MAXSEG 32

static struct geod_geodesic g;

/* a day under construction: fixes and the vehicle's true position */
typedef struct Day
{
	MileageFix	f[MAXF];
	int			n;
	double		t,
				lat,
				lon;
} Day;

static void
day_init(Day *d)
{
	d->n = 0;
	d->t = 0;
	d->lat = 31.2;
	d->lon = 121.4;
}

static void
add_fix(Day *d, double lat, double lon, float acc, float speed, int source)
{
	MileageFix *f = &d->f[d->n++];

	f->t_us = T0 + (int64_t) llround(d->t * 1e6);
	f->lat = lat;
	f->lon = lon;
	f->acc_m = acc;
	f->speed_mps = speed;
	f->source = (uint8_t) source;
}

/* drive for secs seconds at v m/s on azimuth az, one GPS fix a second */
static void
drive(Day *d, double secs, double v, double az)
{
	int			i;

	for (i = 0; i < (int) secs; i++)
	{
		geod_direct(&g, d->lat, d->lon, az, v, &d->lat, &d->lon, NULL);
		d->t += 1;
		add_fix(d, d->lat, d->lon, 5, (float) v, MS_GPS);
	}
}

/* stand still for secs seconds: fixes with a few metres of jitter */
static void
park(Day *d, double secs)
{
	int			i;

	for (i = 0; i < (int) secs; i++)
	{
		double		la,
					lo;

		geod_direct(&g, d->lat, d->lon, (i * 97) % 360, 1.0 + (i % 3), &la, &lo, NULL);
		d->t += 1;
		add_fix(d, la, lo, 8, 0.0f, MS_GPS);
	}
}

typedef struct Out
{
	TripSegment seg[MAXSEG];
	int			n;
} Out;

static void
collect(void *arg, const TripSegment *s)
{
	Out		   *o = arg;

	if (o->n < MAXSEG)
		o->seg[o->n] = *s;
	o->n++;
}

static double
seg_m(const TripSegment *s)
{
	return (s->tally.moving_um + s->tally.gap_um) / 1e6;
}

/*
 * Run a day through the mileage core and the splitter; check contiguity
 * and that the segment tallies add up to the track's.
 */
static void
run(Day *d, const TripParams *tp, Out *o, MileageResult *total, const char *name)
{
	MileageParams mp;
	MileageState ms;
	TripState	ts;
	MileageFixOut fo;
	MileageTally sum;
	int			i,
				k;
	bool		contiguous = true,
				adds_up;
	char		what[160];

	mileage_params_default(&mp);
	mileage_init(&ms, &mp);
	memset(o, 0, sizeof(*o));
	trip_init(&ts, tp, collect, o);
	mileage_sort(d->f, d->n);
	for (i = 0; i < d->n; i++)
	{
		mileage_push(&ms, &d->f[i], &fo);
		trip_push(&ts, &d->f[i], &fo);
	}
	trip_finish(&ts);
	mileage_finish(&ms, total);

	memset(&sum, 0, sizeof(sum));
	for (i = 0; i < o->n && i < MAXSEG; i++)
	{
		mileage_tally_merge(&sum, &o->seg[i].tally);
		if (i > 0 && o->seg[i].start_us != o->seg[i - 1].end_us)
			contiguous = false;
		if (o->seg[i].end_us < o->seg[i].start_us)
			contiguous = false;
	}
	adds_up = sum.moving_um == total->tally.moving_um && sum.gap_um == total->tally.gap_um &&
		sum.n_fixes == total->tally.n_fixes && sum.n_valid == total->tally.n_valid &&
		sum.n_gnss == total->tally.n_gnss;
	for (k = 0; k < MST__COUNT; k++)
		adds_up = adds_up && sum.status_n[k] == total->tally.status_n[k] &&
			sum.status_raw_um[k] == total->tally.status_raw_um[k];
	for (k = 0; k < MILEAGE_IVL_BINS; k++)
		adds_up = adds_up && sum.ivl_hist[k] == total->tally.ivl_hist[k];
	snprintf(what, sizeof(what), "%s: segments are contiguous in time", name);
	OK(contiguous, what);
	snprintf(what, sizeof(what), "%s: segment tallies add up to the track's exactly", name);
	OK(adds_up, what);
}

static void
expect_kinds(const Out *o, const char *kinds, const char *name)
{
	char		got[MAXSEG + 1];
	char		what[160];
	int			i;

	for (i = 0; i < o->n && i < MAXSEG; i++)
		got[i] = trip_kind_names[o->seg[i].kind][0];
	got[i] = 0;
	snprintf(what, sizeof(what), "%s: segments %s", name, kinds);
	EQ_STR(got, kinds, what);
}

static int
near(double a, double b, double tol)
{
	return fabs(a - b) <= tol;
}

static void
test_drive_park_drive(void)
{
	static Day	d;
	Out			o;
	MileageResult r;
	TripParams	tp;

	trip_params_default(&tp);
	day_init(&d);
	park(&d, 120);
	drive(&d, 300, 10, 90);
	park(&d, 900);
	drive(&d, 300, 10, 0);
	park(&d, 600);
	run(&d, &tp, &o, &r, "drive-park-drive");
	/* two minutes of waiting are too short for a stop: the first trip has them */
	expect_kinds(&o, "tsts", "drive-park-drive");
	if (o.n == 4)
	{
		OK(near(seg_m(&o.seg[0]), 3000, 30), "drive-park-drive: first trip is 3 km");
		OK(near(seg_m(&o.seg[2]), 3000, 30), "drive-park-drive: second trip is 3 km");
		OK(seg_m(&o.seg[1]) < 20, "drive-park-drive: the parking stop adds (almost) nothing");
		OK(near((o.seg[1].end_us - o.seg[1].start_us) / 1e6, 900, 15),
		   "drive-park-drive: the stop lasts the 15 minutes parked");
		OK(near((o.seg[0].end_us - o.seg[0].start_us) / 1e6, 420, 15),
		   "drive-park-drive: the first trip lasts its 7 minutes");
		OK(near((o.seg[3].end_us - o.seg[3].start_us) / 1e6, 600, 15),
		   "drive-park-drive: the last stop lasts to the last fix");
	}
}

static void
test_traffic_light(void)
{
	static Day	d;
	Out			o;
	MileageResult r;
	TripParams	tp;

	trip_params_default(&tp);
	day_init(&d);
	drive(&d, 300, 10, 90);
	park(&d, 120);				/* a long red light */
	drive(&d, 300, 10, 90);
	run(&d, &tp, &o, &r, "traffic light");
	expect_kinds(&o, "t", "traffic light (one trip)");
	if (o.n == 1)
		OK(near(seg_m(&o.seg[0]), 6000, 60), "traffic light: the trip is 6 km");
}

static void
test_car_park_hop(void)
{
	static Day	d;
	Out			o;
	MileageResult r;
	TripParams	tp;

	trip_params_default(&tp);
	day_init(&d);
	park(&d, 600);
	drive(&d, 30, 3, 180);		/* 90 m across the car park */
	park(&d, 600);
	drive(&d, 300, 10, 270);
	run(&d, &tp, &o, &r, "car park hop");
	expect_kinds(&o, "st", "car park hop (the hop merges the stops)");
	if (o.n == 2)
	{
		OK(seg_m(&o.seg[0]) > 60 && seg_m(&o.seg[0]) < 120, "car park hop: the stop holds the hop's metres");
		OK(near(seg_m(&o.seg[1]), 3000, 30), "car park hop: the trip is 3 km");
	}
}

static void
test_phone_off_driving(void)
{
	static Day	d;
	Out			o;
	MileageResult r;
	TripParams	tp;
	double		la,
				lo,
				chord;

	trip_params_default(&tp);
	day_init(&d);
	drive(&d, 300, 10, 90);
	/* 20 minutes without fixes, 6 km further east */
	geod_direct(&g, d.lat, d.lon, 90, 6000, &la, &lo, NULL);
	geod_inverse(&g, d.lat, d.lon, la, lo, &chord, NULL, NULL);
	d.lat = la;
	d.lon = lo;
	d.t += 1200;
	add_fix(&d, d.lat, d.lon, 5, 10, MS_GPS);
	drive(&d, 300, 10, 90);
	run(&d, &tp, &o, &r, "phone off while driving");
	expect_kinds(&o, "tgt", "phone off while driving (trip, gap, trip)");
	if (o.n == 3)
	{
		OK(near(seg_m(&o.seg[1]), chord, 1), "phone off while driving: the gap carries the chord");
		OK(o.seg[1].tally.gap_um > 0 && o.seg[0].tally.gap_um == 0,
		   "phone off while driving: the chord is booked as a gap chord");
		OK(near((o.seg[1].end_us - o.seg[1].start_us) / 1e6, 1201, 1),
		   "phone off while driving: the gap spans the silence");
	}
}

static void
test_phone_off_parked(void)
{
	static Day	d;
	Out			o;
	MileageResult r;
	TripParams	tp;

	trip_params_default(&tp);
	day_init(&d);
	drive(&d, 300, 10, 90);
	park(&d, 60);
	d.t += 1800;				/* phone off for half an hour, same place */
	park(&d, 60);
	drive(&d, 300, 10, 90);
	run(&d, &tp, &o, &r, "phone off while parked");
	expect_kinds(&o, "tst", "phone off while parked (the silence is a stop)");
}

static void
test_dropped_fixes(void)
{
	static Day	d;
	Out			o;
	MileageResult r;
	TripParams	tp;
	int			i;

	trip_params_default(&tp);
	day_init(&d);
	add_fix(&d, NAN, 0, 5, 0, MS_GPS);	/* before any position */
	add_fix(&d, 0, 0, 5, 0, MS_GPS);
	drive(&d, 200, 10, 45);
	/* outliers and Wi-Fi fixes while driving and parked */
	for (i = 0; i < 5; i++)
	{
		d.t += 0.5;
		add_fix(&d, d.lat + 0.05, d.lon, 5, 10, MS_GPS);
		drive(&d, 10, 10, 45);
	}
	park(&d, 400);
	for (i = 0; i < 10; i++)
	{
		d.t += 0.5;
		add_fix(&d, d.lat + 0.001, d.lon, 60, NAN, MS_WIFI);
		park(&d, 10);
	}
	drive(&d, 300, 10, 225);
	run(&d, &tp, &o, &r, "dropped fixes");
	expect_kinds(&o, "tst", "dropped fixes (outliers and Wi-Fi change nothing)");
	if (o.n == 3)
	{
		OK(o.seg[0].tally.status_n[MST_INVALID] == 1 && o.seg[0].tally.status_n[MST_ZERO] == 1,
		   "dropped fixes: those before the first position go to the first segment");
		OK(o.seg[0].tally.status_n[MST_IMPLAUSIBLE] == 5, "dropped fixes: the outliers are the trip's");
		OK(o.seg[1].tally.status_n[MST_NON_GNSS] == 10, "dropped fixes: the Wi-Fi fixes are the stop's");
	}
}

/*
 * An underground car park: no GNSS for 20 minutes, only Wi-Fi fixes.  The
 * silence is a stop, and the Wi-Fi fixes are the stop's, not the trip's
 * before it.
 */
static void
test_garage_wifi(void)
{
	static Day	d;
	Out			o;
	MileageResult r;
	TripParams	tp;
	int			i;

	trip_params_default(&tp);
	day_init(&d);
	drive(&d, 300, 10, 90);
	for (i = 0; i < 120; i++)
	{
		d.t += 10;
		add_fix(&d, d.lat + 0.0003, d.lon, 40, NAN, MS_WIFI);
	}
	d.t += 10;
	drive(&d, 300, 10, 270);
	run(&d, &tp, &o, &r, "garage");
	expect_kinds(&o, "tst", "garage (the silence is a stop)");
	if (o.n == 3)
	{
		EQ_INT(o.seg[1].tally.status_n[MST_NON_GNSS], 120, "garage: the Wi-Fi fixes are the stop's");
		EQ_INT(o.seg[0].tally.status_n[MST_NON_GNSS], 0, "garage: none of them is the trip's before");
	}
}

static void
test_parameters(void)
{
	static Day	d;
	Out			o;
	MileageResult r;
	TripParams	tp;

	trip_params_default(&tp);
	OK(trip_params_check(&tp) == NULL, "defaults are valid");
	tp.stop_radius_m = 0;
	OK(trip_params_check(&tp) != NULL, "a zero stop radius is refused");
	trip_params_default(&tp);
	tp.min_trip_m = 5000;		/* a 3 km drive is no longer a trip */
	day_init(&d);
	park(&d, 400);
	drive(&d, 300, 10, 90);
	park(&d, 400);
	run(&d, &tp, &o, &r, "min_trip_m");
	expect_kinds(&o, "s", "min_trip_m 5000: a 3 km drive is part of one stop");

	trip_params_default(&tp);
	day_init(&d);
	run(&d, &tp, &o, &r, "no fixes");
	EQ_INT(o.n, 0, "no fixes: no segments");
}

/*
 * Generated drives with realistic noise and every fault (test/bench
 * drivegen, 90 minutes each): a parked phone makes no trip, a garage visit
 * is a stop between two trips, traffic lights and creeping traffic do not
 * split a trip, and the trips hold (nearly) all the distance measured.
 */
static void
test_generated(void)
{
	static const int envs[] = {DG_OPEN, DG_SUBURBAN, DG_URBAN};
	static const int scen[] = {DG_PARKED_ONLY, DG_PARKING_INDOOR, DG_MIXED, DG_CITY, DG_CREEP};
	/* parked: one stop; a garage visit (20-90 min): trip, stop, trip; traffic lights: one trip */
	static const char *const expect[] = {"s", "tst", "tst", "t", "t"};
	TripParams	tp;
	int			e,
				k,
				seed;

	trip_params_default(&tp);
	for (k = 0; k < 5; k++)
		for (e = 0; e < 3; e++)
			for (seed = 1; seed <= 3; seed++)
			{
				DriveSpec	spec;
				Drive		dr;
				static Day	d;
				Out			o;
				MileageResult r;
				char		name[120],
							kinds[MAXSEG + 1];
				double		trip_m = 0;
				int			i;

				drive_spec_init(&spec);
				spec.seed = (uint64_t) seed;
				spec.scenario = scen[k];
				spec.environment = envs[e];
				spec.faults = DG_F_ALL;
				spec.duration_s = 5400;
				if (drive_generate(&spec, &dr) != DG_OK || dr.n > MAXF)
				{
					OK(0, "drivegen");
					continue;
				}
				memcpy(d.f, dr.fixes, dr.n * sizeof(MileageFix));
				d.n = (int) dr.n;
				snprintf(name, sizeof(name), "%s %s seed %d", drive_scenario_name(scen[k]),
						 drive_environment_name(envs[e]), seed);
				run(&d, &tp, &o, &r, name);
				for (i = 0; i < o.n && i < MAXSEG; i++)
				{
					kinds[i] = trip_kind_names[o.seg[i].kind][0];
					if (o.seg[i].kind != TRIP_STOP)
						trip_m += seg_m(&o.seg[i]);
				}
				kinds[i] = 0;
				EQ_STR(kinds, expect[k], name);
				if (scen[k] != DG_PARKED_ONLY &&
					!OK(trip_m >= 0.99 * r.distance_m, "... and its trips hold at least 99 % of the distance"))
					printf("#   trips %.0f m of %.0f m\n", trip_m, r.distance_m);
				drive_free(&dr);
			}
}

int
main(void)
{
	geod_init(&g, 6378137.0, 1 / 298.257223563);
	test_drive_park_drive();
	test_traffic_light();
	test_car_park_hop();
	test_phone_off_driving();
	test_phone_off_parked();
	test_dropped_fixes();
	test_garage_wifi();
	test_parameters();
	test_generated();
	return unit_done();
}
