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
 * (absolute error for steps under 1 m) and the time per pair of both, as a
 * ratio.  Exit status 1 if the accuracy goal (1e-6 relative) is missed, so
 * the benchmark doubles as a check; speed is only reported.
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

int
main(int argc, char **argv)
{
	long		n = argc > 1 ? atol(argv[1]) : 1000000;
	struct geod_geodesic g;
	double	   *la1 = malloc(n * sizeof(double)),
			   *lo1 = malloc(n * sizeof(double)),
			   *la2 = malloc(n * sizeof(double)),
			   *lo2 = malloc(n * sizeof(double)),
			   *ref = malloc(n * sizeof(double));
	double		max_rel = 0,
				sum_rel = 0,
				max_abs_small = 0;
	long		n_rel = 0,
				worst = -1;
	double		best_fast = 1e9,
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

	for (i = 0; i < n; i++)
	{
		double		d = geo_distance(la1[i], lo1[i], la2[i], lo2[i]);
		double		e = fabs(d - ref[i]);

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

	for (round = 0; round < 3; round++)
	{
		double		t0 = now_s(),
					t1,
					t2;

		for (i = 0; i < n; i++)
			sink += geo_distance(la1[i], lo1[i], la2[i], lo2[i]);
		t1 = now_s();
		for (i = 0; i < n; i++)
		{
			double		s12;

			geod_inverse(&g, la1[i], lo1[i], la2[i], lo2[i], &s12, NULL, NULL);
			sink += s12;
		}
		t2 = now_s();
		if (t1 - t0 < best_fast)
			best_fast = t1 - t0;
		if (t2 - t1 < best_karney)
			best_karney = t2 - t1;
	}

	printf("pairs: %ld (steps 1 cm - 10 km; poles, antimeridian, sub-metre included)\n", n);
	printf("accuracy vs Karney: max relative error %.3g, mean %.3g (steps >= 1 m); max absolute error %.3g m (steps < 1 m)\n",
		   max_rel, sum_rel / (n_rel ? n_rel : 1), max_abs_small);
	if (worst >= 0)
		printf("  worst pair: (%.9f, %.9f) -> (%.9f, %.9f), %.3f m\n",
			   la1[worst], lo1[worst], la2[worst], lo2[worst], ref[worst]);
	printf("speed (best of 3): kernel %.1f ns/pair, geod_inverse %.1f ns/pair, ratio %.1fx\n",
		   best_fast / n * 1e9, best_karney / n * 1e9, best_karney / best_fast);
	if (sink == 12345.0)
		printf("\n");
	return (max_rel <= 1e-6 && max_abs_small <= 1e-6) ? 0 : 1;
}
