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

/* WGS-84 */
#define GEO_A		6378137.0
#define GEO_F		(1.0 / 298.257223563)
#define GEO_E2		(GEO_F * (2.0 - GEO_F))

/* chords at least this long go to Karney's exact geodesic */
#define GEO_FAST_MAX_M	20000.0

extern double geo_distance(double lat1, double lon1, double lat2, double lon2);
extern double geo_distance_karney(double lat1, double lon1, double lat2, double lon2);

#endif							/* GEO_KERNEL_H */
