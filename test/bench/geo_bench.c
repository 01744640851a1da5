/*-------------------------------------------------------------------------
 *
 * geo_bench.c
 *		Accuracy and speed of the step kernel (src/geo_kernel.c) against
 *		Karney's geodesic (PROJ geod_inverse) on the same pairs, same run.
 *
 * Pairs (seeded, default 1,000,000): the first point uniform on the sphere
 * (40 %), within 0.1 degree of a pole, poles included exactly (20 %), within
 * 0.1 degree of the antimeridian (20 %), or anywhere with sub-metre steps
 * (20 %); the second point is placed exactly with geod_direct at a
 * log-uniform distance from 1 cm to 10 km (1 cm to 1 m for the last group)
 * in a uniform direction.  Reports the maximum and mean relative error
 * (absolute error for steps under 1 m), and the time per pair of each way
 * to call the kernel (geo_distance; geo_point for one new point and
 * geo_step, as a track does; geo_step on converted points;
 * geo_distance_batch) and of geod_inverse, best of
 * several interleaved rounds (the machine may be shared and noisy), with
 * each one's speed-up over geod_inverse.  Exit status 1 if the accuracy
 * goal (1e-6 relative, 1e-6 m under 1 m) is missed, if the batch does not
 * give the scalar results bit for bit (on the pairs and on edge cases:
 * poles, antimeridian, long steps, bad input) or if a step's length
 * depends on its direction, so the benchmark doubles as a check; speed is
 * only reported.
 *
 * Copyright (c) 2026, fieldops developers
 *
 * IDENTIFICATION
 *		test/bench/geo_bench.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <geodesic.h>

#include "geo_kernel.h"

static uint64_t rng_state;

/* splitmix64: a small, seeded, portable generator */
static uint64_t
rng_next(void)
{
	uint64_t	z = (rng_state += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

/* uniform in [0, 1) */
static double
rng_unit(void)
{
	return (rng_next() >> 11) * (1.0 / 9007199254740992.0);
}

/* wall-clock seconds */
static double
now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

/* same double, bit for bit (NaN included) */
static int
same_bits(double a, double b)
{
	return memcmp(&a, &b, sizeof(double)) == 0;
}

/*
 * Edge cases the random pairs rarely hit: the batch must still give the
 * scalar results bit for bit, in a batch whose length is not a multiple of
 * any vector width, and both must be Karney's distance (1e-6 relative, or
 * 1e-6 m), or NaN for bad input.  Returns the number of failures.
 */
static int
check_edges(void)
{
	static const double e[][4] = {
		{90, 0, 90, 123},				/* the pole, two longitudes */
		{-90, 17, -89.99999, -163},		/* from the south pole */
		{89.9999, 0, 89.9999, 180},		/* across the pole */
		{-33.9, 179.9999, -33.9, -179.9999},	/* across the antimeridian */
		{10, 180, 10, -180},			/* the same point twice */
		{45, 45, 45.00001, 45.00001},	/* on quadrant seams */
		{-45, -135, -44.99999, -134.99999},
		{12, 540.5, 12, -179.5},		/* longitudes beyond +-180 */
		{12, 1e16, 12.0001, 1e16},		/* absurd longitude: Karney */
		{45, 7, 45.3, 7.4},				/* 45 km: Karney */
		{0, 0, 0, 180},					/* antipodes: Karney */
		{91, 0, 90, 0},					/* beyond the pole: NaN */
		{NAN, 0, 0, 0},
		{0, INFINITY, 0, 0},
		{0, 0, -INFINITY, 0},
		{0, 0, 0, NAN},
		{0, 0, 0, 0},
	};
	enum
	{
		NE = sizeof(e) / sizeof(e[0])
	};
	double		a[NE],
				b[NE],
				c[NE],
				d[NE],
				out[NE];
	int			i,
				bad = 0;

	for (i = 0; i < NE; i++)
	{
		a[i] = e[i][0];
		b[i] = e[i][1];
		c[i] = e[i][2];
		d[i] = e[i][3];
	}
	geo_distance_batch(NE, a, b, c, d, out);
	for (i = 0; i < NE; i++)
	{
		double		s = geo_distance(a[i], b[i], c[i], d[i]);
		double		ref = NAN;

		if (isfinite(a[i]) && isfinite(b[i]) && isfinite(c[i]) && isfinite(d[i]) &&
			fabs(a[i]) <= 90 && fabs(c[i]) <= 90)
			ref = geo_distance_karney(a[i], b[i], c[i], d[i]);
		if (!same_bits(s, out[i]))
		{
			printf("edge case %d: batch %.17g, scalar %.17g\n", i, out[i], s);
			bad++;
		}
		else if (isnan(ref) ? !isnan(s) : !(fabs(s - ref) <= 1e-6 * ref + 1e-6))
		{
			printf("edge case %d: %.17g, Karney %.17g\n", i, s, ref);
			bad++;
		}
	}
	return bad;
}

int
main(int argc, char **argv)
{
	long		n = argc > 1 ? atol(argv[1]) : 1000000;
	int			rounds = argc > 2 ? atoi(argv[2]) : 7;
	struct geod_geodesic g;
	double	   *la1 = malloc(n * sizeof(double)),
			   *lo1 = malloc(n * sizeof(double)),
			   *la2 = malloc(n * sizeof(double)),
			   *lo2 = malloc(n * sizeof(double)),
			   *ref = malloc(n * sizeof(double)),
			   *batch = malloc(n * sizeof(double));
	GeoPoint   *p1 = malloc(n * sizeof(GeoPoint)),
			   *p2 = malloc(n * sizeof(GeoPoint));
	double		max_rel = 0,
				sum_rel = 0,
				max_abs_small = 0;
	long		n_rel = 0,
				worst = -1,
				n_batch_diff = 0,
				n_asym = 0;
	int			n_edge_diff;
	double		best_scalar = 1e9,
				best_point_step = 1e9,
				best_step = 1e9,
				best_batch = 1e9,
				best_karney = 1e9,
				sink = 0;
	int			round;
	long		i;

	rng_state = 20261127;
	geod_init(&g, GEO_A, GEO_F);
	for (i = 0; i < n; i++)
	{
		int			kind = (int) (rng_unit() * 5);
		double		az = rng_unit() * 360.0 - 180.0;
		double		s = exp(log(0.01) + rng_unit() * (log(10000.0) - log(0.01)));

		la1[i] = asin(2 * rng_unit() - 1) / M_PI * 180.0;
		lo1[i] = rng_unit() * 360.0 - 180.0;
		if (kind == 2)			/* near a pole, sometimes exactly on it */
			la1[i] = (rng_unit() < 0.5 ? 1 : -1) * (rng_unit() < 0.05 ? 90.0 : 90.0 - rng_unit() * 0.1);
		else if (kind == 3)		/* near the antimeridian */
			lo1[i] = (rng_unit() < 0.5 ? 180.0 : -180.0) - (lo1[i] > 0 ? 1 : -1) * rng_unit() * 0.1;
		else if (kind == 4)		/* sub-metre steps */
			s = exp(log(0.01) + rng_unit() * (log(1.0) - log(0.01)));
		geod_direct(&g, la1[i], lo1[i], az, s, &la2[i], &lo2[i], NULL);
		geod_inverse(&g, la1[i], lo1[i], la2[i], lo2[i], &ref[i], NULL, NULL);
	}

	/* accuracy, and the batch and both directions against the scalar */
	geo_distance_batch(n, la1, lo1, la2, lo2, batch);
	for (i = 0; i < n; i++)
	{
		double		d = geo_distance(la1[i], lo1[i], la2[i], lo2[i]);
		double		e = fabs(d - ref[i]);

		geo_point(la1[i], lo1[i], &p1[i]);
		geo_point(la2[i], lo2[i], &p2[i]);
		if (!same_bits(d, batch[i]))
			n_batch_diff++;
		if (!same_bits(geo_step(&p1[i], &p2[i]), d) ||
			!same_bits(geo_step(&p2[i], &p1[i]), d))
			n_asym++;
		if (ref[i] >= 1.0)
		{
			double		rel = e / ref[i];

			sum_rel += rel;
			n_rel++;
			if (rel > max_rel)
			{
				max_rel = rel;
				worst = i;
			}
		}
		else if (e > max_abs_small)
			max_abs_small = e;
	}
	n_edge_diff = check_edges();

	/* speed: the ways to call the kernel and geod_inverse, interleaved */
	for (round = 0; round < rounds; round++)
	{
		double		t0,
					t1;

		t0 = now_s();
		for (i = 0; i < n; i++)
			sink += geo_distance(la1[i], lo1[i], la2[i], lo2[i]);
		t1 = now_s();
		if (t1 - t0 < best_scalar)
			best_scalar = t1 - t0;

		/* as in a track: the previous fix is kept converted */
		t0 = now_s();
		for (i = 0; i < n; i++)
		{
			GeoPoint	b;

			geo_point(la2[i], lo2[i], &b);
			sink += geo_step(&p1[i], &b);
		}
		t1 = now_s();
		if (t1 - t0 < best_point_step)
			best_point_step = t1 - t0;

		t0 = now_s();
		for (i = 0; i < n; i++)
			sink += geo_step(&p1[i], &p2[i]);
		t1 = now_s();
		if (t1 - t0 < best_step)
			best_step = t1 - t0;

		t0 = now_s();
		geo_distance_batch(n, la1, lo1, la2, lo2, batch);
		t1 = now_s();
		sink += batch[n / 2];
		if (t1 - t0 < best_batch)
			best_batch = t1 - t0;

		t0 = now_s();
		for (i = 0; i < n; i++)
		{
			double		s12;

			geod_inverse(&g, la1[i], lo1[i], la2[i], lo2[i], &s12, NULL, NULL);
			sink += s12;
		}
		t1 = now_s();
		if (t1 - t0 < best_karney)
			best_karney = t1 - t0;
	}

	printf("pairs: %ld (steps 1 cm - 10 km; poles, antimeridian, sub-metre included)\n", n);
	printf("accuracy vs Karney: max relative error %.3g, mean %.3g (steps >= 1 m); max absolute error %.3g m (steps < 1 m)\n",
		   max_rel, sum_rel / (n_rel ? n_rel : 1), max_abs_small);
	if (worst >= 0)
		printf("  worst pair: (%.9f, %.9f) -> (%.9f, %.9f), %.3f m\n",
			   la1[worst], lo1[worst], la2[worst], lo2[worst], ref[worst]);
	printf("batch vs scalar: %ld of %ld pairs differ; edge cases failed: %d; steps depending on direction: %ld\n",
		   n_batch_diff, n, n_edge_diff, n_asym);
	printf("speed (best of %d rounds, ns/pair, speed-up over geod_inverse):\n", rounds);
	printf("  geo_distance (scalar)      %6.1f  %5.1fx\n",
		   best_scalar / n * 1e9, best_karney / best_scalar);
	printf("  geo_point + geo_step       %6.1f  %5.1fx   (one new point per step, as in a track)\n",
		   best_point_step / n * 1e9, best_karney / best_point_step);
	printf("  geo_step                   %6.1f  %5.1fx   (both points converted)\n",
		   best_step / n * 1e9, best_karney / best_step);
	printf("  geo_distance_batch         %6.1f  %5.1fx\n",
		   best_batch / n * 1e9, best_karney / best_batch);
	printf("  geod_inverse (PROJ)        %6.1f\n", best_karney / n * 1e9);
	if (sink == 12345.0)
		printf("\n");
	return (max_rel <= 1e-6 && max_abs_small <= 1e-6 &&
			n_batch_diff == 0 && n_edge_diff == 0 && n_asym == 0) ? 0 : 1;
}
