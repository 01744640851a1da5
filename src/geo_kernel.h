/*-------------------------------------------------------------------------
 *
 * geo_kernel.h
 *		Distances on the WGS-84 ellipsoid for trajectory steps (pure C).
 *
 * Copyright (c) 2026, fieldops developers
 *
 * IDENTIFICATION
 *		src/geo_kernel.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef GEO_KERNEL_H
#define GEO_KERNEL_H

#include <stddef.h>

/* WGS-84 */
#define GEO_A		6378137.0
#define GEO_F		(1.0 / 298.257223563)
#define GEO_E2		(GEO_F * (2.0 - GEO_F))

/* chords at least this long go to Karney's exact geodesic */
#define GEO_FAST_MAX_M	20000.0

/*
 * A point converted once for geo_step (by geo_point): Earth-centred
 * coordinates in metres and the Gaussian curvature there (k or the
 * coordinates are NaN if the fast path cannot take the point), and the
 * degrees, which the exact fallback needs.
 */
typedef struct GeoPoint
{
	double		x;
	double		y;
	double		z;
	double		k;
	double		lat;
	double		lon;
} GeoPoint;

/*
 * Distances in metres, points in degrees; NaN if an input is not finite or
 * a latitude is beyond the poles.  geo_distance, geo_step and
 * geo_distance_batch give the same doubles, bit for bit.
 */
extern void geo_point(double lat, double lon, GeoPoint *p);
extern double geo_step(const GeoPoint *a, const GeoPoint *b);
extern double geo_distance(double lat1, double lon1, double lat2, double lon2);
extern void geo_distance_batch(size_t n, const double *restrict lat1,
							   const double *restrict lon1,
							   const double *restrict lat2,
							   const double *restrict lon2,
							   double *restrict out);
extern double geo_distance_karney(double lat1, double lon1, double lat2, double lon2);

#endif							/* GEO_KERNEL_H */
