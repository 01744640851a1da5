/*-------------------------------------------------------------------------
 *
 * mileage_test.c
 *		Unit tests of the step kernel (geo_kernel.c) and the mileage core
 *		(mileage_core.c) on small hand-made tracks whose right answer is
 *		known.
 *
 * Copyright (c) 2026, fieldops developers
 *
 * IDENTIFICATION
 *		test/unit/mileage_test.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdlib.h>

#include <geodesic.h>

#include "unit.h"
#include "geo_kernel.h"
#include "mileage_core.h"

#define T0 ((int64_t) 848390400 * 1000000)	/* 2026-11-20 08:00 UTC in PG epoch */

static struct geod_geodesic g;

/* a point d metres from (lat, lon) at azimuth az, exactly (Karney) */
static void
move(double lat, double lon, double az, double d, double *lat2, double *lon2)
{
	geod_direct(&g, lat, lon, az, d, lat2, lon2, NULL);
}

static MileageFix
fix(double t_s, double lat, double lon, float acc, float speed, int source)
{
	MileageFix	f;

	f.t_us = T0 + (int64_t) llround(t_s * 1e6);
	f.lat = lat;
	f.lon = lon;
	f.acc_m = acc;
	f.speed_mps = speed;
	f.source = (uint8_t) source;
	return f;
}

static double
rel_err(double a, double b)
{
	return fabs(a - b) / b;
}

static void
test_kernel(void)
{
	static const double cases[][4] = {
		{31.23, 121.47, 31.2301, 121.4701},		/* Shanghai, ~14 m */
		{0, 0, 0, 0.0001},						/* equator, 11 m */
		{60, 10, 60.05, 10.1},					/* 60 N, ~7.6 km */
		{80, -45, 80.001, -44.99},				/* 80 N */
		{89.9999, 0, 89.9999, 180},				/* across the pole, 22 m */
		{90, 0, 89.99, 37},						/* from the pole */
		{-33.9, 179.9999, -33.9, -179.9999},		/* across the antimeridian, 18 m */
		{45, 7, 45.3, 7.4},						/* 45 km: Karney fallback */
		{10, 20, 10, 20},						/* zero */
	};
	int			i;
	char		name[80];

	for (i = 0; i < (int) (sizeof(cases) / sizeof(cases[0])); i++)
	{
		double		s12,
					d;

		geod_inverse(&g, cases[i][0], cases[i][1], cases[i][2], cases[i][3], &s12, NULL, NULL);
		d = geo_distance(cases[i][0], cases[i][1], cases[i][2], cases[i][3]);
		snprintf(name, sizeof(name), "kernel matches Karney within 1e-8 (case %d, %.1f m)", i, s12);
		if (s12 == 0)
			OK(d == 0, name);
		else if (!OK(rel_err(d, s12) < 1e-8, name))
			printf("#   kernel %.9f, Karney %.9f\n", d, s12);
	}
	OK(isnan(geo_distance(NAN, 0, 0, 0)), "kernel: NaN in, NaN out");
	OK(fabs(geo_distance(10, 170, 10, -170) - geo_distance(10, -10, 10, 10)) < 1e-6,
	   "kernel: the antimeridian is not special");
}

/* run a track (copied, so callers keep their array) */
static MileageResult
run(const MileageFix *in, size_t n, const MileageParams *p)
{
	MileageFix *f = malloc(n * sizeof(MileageFix));
	MileageResult r;

	memcpy(f, in, n * sizeof(MileageFix));
	mileage_compute(f, n, p, &r, NULL);
	free(f);
	return r;
}

static void
test_straight(void)
{
	MileageParams p;
	MileageFix	f[121];
	double		lat = 45,
				lon = 7,
				truth = 0;
	int			i;
	MileageResult r;

	mileage_params_default(&p);
	/* 120 s at 10 m/s due east, exact positions */
	for (i = 0; i <= 120; i++)
	{
		double		la,
					lo;

		move(45, 7, 90, 10.0 * i, &la, &lo);
		f[i] = fix(i, la, lo, 4, 10, MS_GPS);
	}
	move(45, 7, 90, 1200.0, &lat, &lon);
	geod_inverse(&g, 45, 7, lat, lon, &truth, NULL, NULL);
	r = run(f, 121, &p);
	if (!OK(rel_err(r.distance_m, truth) < 1e-6, "straight drive: exact distance"))
		printf("#   %.6f vs %.6f\n", r.distance_m, truth);
	OK(r.gap_chord_m == 0 && r.flags == 0, "straight drive: no gap, no flag");
	OK(fabs(r.raw_length_m - truth) < 1e-6, "straight drive: raw length is the same");
	EQ_INT(r.n_used, 121, "straight drive: every fix used");
}

static void
test_parked(void)
{
	MileageParams p;
	MileageFix	f[3600];
	int			i;
	MileageResult r;
	double		sum = 0;

	mileage_params_default(&p);
	/* an hour parked: +-6 m jitter, zero speeds with a spike now and then */
	srand(7);
	for (i = 0; i < 3600; i++)
	{
		double		la,
					lo;

		move(31.23, 121.47, rand() % 360, (rand() % 600) / 100.0, &la, &lo);
		f[i] = fix(i, la, lo, 8, (i % 97 == 0) ? 2.5f : 0.1f, MS_GPS);
	}
	r = run(f, 3600, &p);
	for (i = 0; i < MST__COUNT; i++)
		sum += r.status_raw_m[i];
	OK(r.distance_m == 0, "parked hour: no distance");
	OK(r.raw_length_m > 10000, "parked hour: the raw length is kilometres");
	OK(fabs(sum - r.raw_length_m) < 1e-6, "raw metres per status add up to the raw length");
	OK(r.status_n[MST_STATIONARY] + r.status_n[MST_HOLD] == 3599, "parked hour: every fix held");
}

static void
test_faults(void)
{
	MileageParams p;
	MileageFix	f[200],
				g2[200];
	int			n = 0,
				i;
	double		la,
				lo;
	MileageResult clean,
				r;

	mileage_params_default(&p);
	for (i = 0; i < 100; i++)
	{
		move(52.5, 13.4, 0, 12.0 * i, &la, &lo);
		f[n++] = fix(i, la, lo, 5, 12, MS_GPS);
	}
	clean = run(f, n, &p);

	/* an outlier 5 km away claiming 5 m accuracy */
	memcpy(g2, f, n * sizeof(MileageFix));
	move(52.5, 13.4, 90, 5000, &g2[50].lat, &g2[50].lon);
	r = run(g2, n, &p);
	OK(r.status_n[MST_IMPLAUSIBLE] == 1, "outlier: rejected by the gate");
	OK(rel_err(r.distance_m, clean.distance_m) < 0.01, "outlier: distance unchanged (within the fix it replaced)");
	OK(r.raw_length_m > clean.raw_length_m + 9000, "outlier: the raw length shows the 10 km detour");

	/* (0, 0), invalid, future, duplicate, Wi-Fi */
	memcpy(g2, f, n * sizeof(MileageFix));
	g2[0].lat = 0;
	g2[0].lon = 0;
	g2[10].lat = NAN;
	g2[20].lon = 181;
	g2[30].source = MS_WIFI;
	g2[n] = g2[40];				/* identical duplicate */
	g2[n + 1] = g2[41];
	g2[n + 1].lat += 0.00001;	/* same time, other position */
	p.ref_time_us = T0 + (int64_t) 50 * 1000000;
	p.future_s = 600;
	g2[n + 2] = fix(5000, 52.6, 13.4, 5, 12, MS_GPS);	/* 83 min after ref */
	r = run(g2, n + 3, &p);
	EQ_INT(r.status_n[MST_ZERO], 1, "(0, 0) dropped");
	EQ_INT(r.status_n[MST_INVALID], 2, "NaN and out-of-range dropped");
	EQ_INT(r.status_n[MST_NON_GNSS], 1, "Wi-Fi fix dropped");
	EQ_INT(r.status_n[MST_DUPLICATE], 2, "duplicate timestamps dropped");
	EQ_INT(r.status_n[MST_FUTURE], 1, "far-future fix dropped");
	OK(rel_err(r.distance_m, clean.distance_m - 12.0) < 0.001, "faults: distance unchanged but for the first 12 m (the (0, 0) fix)");
	mileage_params_default(&p);

	/* shuffled arrival gives a bit-identical result */
	memcpy(g2, f, n * sizeof(MileageFix));
	for (i = n - 1; i > 0; i--)
	{
		int			j = (i * 7919) % (i + 1);
		MileageFix	t = g2[i];

		g2[i] = g2[j];
		g2[j] = t;
	}
	r = run(g2, n, &p);
	OK(memcmp(&r, &clean, sizeof(r)) == 0, "shuffled arrival: bit-identical result");
}

static void
test_relocation_and_gap(void)
{
	MileageParams p;
	MileageFix	f[300];
	int			n = 0,
				i;
	double		la,
				lo;
	MileageResult r;

	mileage_params_default(&p);
	/* drive 60 s, then the phone is off for 10 min and reappears 300 km away */
	for (i = 0; i < 60; i++)
	{
		move(40, -3.7, 45, 10.0 * i, &la, &lo);
		f[n++] = fix(i, la, lo, 5, 10, MS_GPS);
	}
	for (i = 0; i < 60; i++)
	{
		move(41.4, 2.2, 45, 10.0 * i, &la, &lo);
		f[n++] = fix(660 + i, la, lo, 5, 10, MS_GPS);
	}
	r = run(f, n, &p);
	OK(r.status_n[MST_GAP_IMPLAUSIBLE] + r.status_n[MST_RELOCATED] >= 1, "300 km in 10 min: not counted as a gap chord");
	OK(r.distance_m > 1100 && r.distance_m < 1200, "relocation: only the two drives count");

	/* a 1 km tunnel: no fix for 80 s at 12.5 m/s */
	n = 0;
	for (i = 0; i <= 100; i++)
	{
		if (i > 10 && i < 90)
			continue;
		move(48.1, 11.5, 90, 12.5 * i, &la, &lo);
		f[n++] = fix(i, la, lo, 5, 12.5f, MS_GPS);
	}
	p.gap_s = 30;
	r = run(f, n, &p);
	OK(r.flags & MFL_HAS_GAPS, "tunnel: has_gaps");
	OK(fabs(r.gap_chord_m - 12.5 * 80) < 1, "tunnel: the chord is booked as gap_chord_m");
	OK(fabs(r.distance_m - 1250) < 1, "tunnel: the distance includes it");
}

static void
test_lock_recovery(void)
{
	MileageParams p;
	MileageFix	f[200];
	int			n = 0,
				i;
	double		la,
				lo;
	MileageResult r;

	mileage_params_default(&p);
	/* a stale first fix 20 km away: the real track must not be locked out */
	move(35.68, 139.76, 180, 20000, &la, &lo);
	f[n++] = fix(0, la, lo, 5, 0, MS_GPS);
	for (i = 1; i < 120; i++)
	{
		move(35.68, 139.76, 90, 10.0 * i, &la, &lo);
		f[n++] = fix(i, la, lo, 5, 10, MS_GPS);
	}
	r = run(f, n, &p);
	OK(r.status_n[MST_RELOCATED] == 1, "stale first fix: the track relocates");
	OK(r.distance_m > 1100 && r.distance_m < 1200, "stale first fix: the real drive counts, the jump does not");
}

static void
test_params(void)
{
	MileageParams p;

	mileage_params_default(&p);
	OK(mileage_params_check(&p) == NULL, "defaults are valid");
	p.hold_min_m = 50;
	OK(mileage_params_check(&p) != NULL, "hold_min_m above hold_max_m refused");
	mileage_params_default(&p);
	p.max_speed_mps = 0;
	OK(mileage_params_check(&p) != NULL, "max_speed_mps 0 refused");
	mileage_params_default(&p);
	p.go_speed_mps = 0.1;
	OK(mileage_params_check(&p) != NULL, "go below stop refused");
}

static void
test_undersampled(void)
{
	MileageParams p;
	MileageFix	f[61];
	int			i;
	double		la,
				lo;
	MileageResult r;

	mileage_params_default(&p);
	for (i = 0; i <= 60; i++)
	{
		move(45, 7, 0, 300.0 * i, &la, &lo);
		f[i] = fix(30.0 * i, la, lo, 5, 10, MS_GPS);
	}
	r = run(f, 61, &p);
	OK(r.flags & MFL_UNDERSAMPLED, "30 s sampling: undersampled");
	OK(!(r.flags & MFL_HAS_GAPS), "30 s sampling: not gaps");
	r = run(f, 0, &p);
	OK(r.flags & MFL_NO_DATA, "no fixes: no_data");
}

int
main(void)
{
	geod_init(&g, GEO_A, GEO_F);
	test_kernel();
	test_straight();
	test_parked();
	test_faults();
	test_relocation_and_gap();
	test_lock_recovery();
	test_params();
	test_undersampled();
	return unit_done();
}
