/*-------------------------------------------------------------------------
 *
 * geo_kernel.c
 *		Step lengths on the WGS-84 ellipsoid: a fast exact-enough formula for
 *		the short steps of a trajectory, Karney's geodesic for the rest.
 *
 * Mileage sums millions of steps of a few metres, so the step formula must
 * be both fast and right everywhere: at any latitude, across the
 * antimeridian and at the poles.  Haversine is neither right (it assumes a
 * sphere and is off by up to 0.5 % depending on latitude and heading) nor
 * particularly fast.  Here each point is turned once into Earth-centred
 * Cartesian coordinates on the ellipsoid (exact, no singularity at the
 * poles or the antimeridian), a step is the straight chord between two such
 * points, and the chord becomes the arc through the series
 *   s = c (1 + c^2 k/24 + 3 c^4 k^2/640),
 * k being the Gaussian curvature at the first point.  For chords up to
 * 20 km the curvature's variation with direction and along the step
 * changes the result by less than 1e-8 relative; longer chords go to
 * Karney's algorithm (PROJ's geodesic.h; C. F. F. Karney, "Algorithms for
 * geodesics", J. Geodesy 87, 2013).
 *
 * The chord only depends on the longitude difference, so the first point
 * is put on the prime meridian; one latitude's sine and cosine come from a
 * polynomial, everything else from short series in the small differences
 * of a step, so a step costs a few dozen nanoseconds, an order of
 * magnitude less than Karney's iteration.
 *
 * Copyright (c) 2026, fieldops developers
 *
 * IDENTIFICATION
 *		src/geo_kernel.c
 *
 *-------------------------------------------------------------------------
 */
#include "geo_kernel.h"

#include <math.h>
#include <stddef.h>

#include <geodesic.h>

#define DEG2RAD		(M_PI / 180.0)

/* Horner coefficients of sin(x)/x and cos(x) in x^2, Taylor to x^18 */
static const double sin_c[] = {
	1.0, -1.0 / 6, 1.0 / 120, -1.0 / 5040, 1.0 / 362880, -1.0 / 39916800,
	1.0 / 6227020800.0, -1.0 / 1307674368000.0, 1.0 / 355687428096000.0
};
static const double cos_c[] = {
	1.0, -1.0 / 2, 1.0 / 24, -1.0 / 720, 1.0 / 40320, -1.0 / 3628800,
	1.0 / 479001600.0, -1.0 / 87178291200.0, 1.0 / 20922789888000.0,
	-1.0 / 6402373705728000.0
};

/* sin(x) for |x| <= pi/4 (truncation below 1e-19) */
static inline double
poly_sin(double x)
{
	double		x2 = x * x;
	double		r = sin_c[8];
	int			i;

	for (i = 7; i >= 0; i--)
		r = r * x2 + sin_c[i];
	return r * x;
}

/* cos(x) for |x| <= pi/4 (truncation below 1e-19) */
static inline double
poly_cos(double x)
{
	double		x2 = x * x;
	double		r = cos_c[9];
	int			i;

	for (i = 8; i >= 0; i--)
		r = r * x2 + cos_c[i];
	return r;
}

/*
 * sin and cos of a latitude in radians (|x| <= pi/2): the polynomials on
 * [-pi/4, pi/4], the complementary angle beyond.
 */
static inline void
sincos_lat(double x, double *s, double *c)
{
	if (fabs(x) <= M_PI_4)
	{
		*s = poly_sin(x);
		*c = poly_cos(x);
	}
	else
	{
		double		sign = x > 0 ? 1.0 : -1.0;
		double		y = sign * M_PI_2 - x;

		*s = sign * poly_cos(y);
		*c = sign * poly_sin(y);
	}
}

/*
 * sin and cos of a small angle (|x| < 0.05 rad): series exact to rounding
 * (the first omitted terms are below 1e-19).
 */
static inline void
sincos_small(double x, double *s, double *c)
{
	double		x2 = x * x;

	*s = x * (1.0 - x2 * ((1.0 / 6) - x2 * ((1.0 / 120) - x2 * ((1.0 / 5040) - x2 * (1.0 / 362880)))));
	*c = 1.0 - x2 * (0.5 - x2 * ((1.0 / 24) - x2 * ((1.0 / 720) - x2 * ((1.0 / 40320) - x2 * (1.0 / 3628800)))));
}

/*
 * Distance in metres between two points given in degrees; NaN if an input
 * is not finite.  Only the longitude difference matters, so the first point
 * is put on the prime meridian.  One sine/cosine pair of latitude is a
 * polynomial; the second latitude and the longitude difference come from
 * short series in the (small) differences, unless they are large (long
 * steps, or near the poles).
 */
double
geo_distance(double lat1, double lon1, double lat2, double lon2)
{
	double		dlon,
				dphi,
				s1,
				c1,
				s2,
				c2,
				sl,
				cl,
				w1,
				n1,
				n2,
				dx,
				dy,
				dz,
				cc,
				ck;

	if (!isfinite(lat1) || !isfinite(lon1) || !isfinite(lat2) || !isfinite(lon2))
		return NAN;

	dlon = lon2 - lon1;
	if (dlon > 180.0)
		dlon -= 360.0;
	else if (dlon <= -180.0)
		dlon += 360.0;
	if (dlon > 180.0 || dlon <= -180.0)
		dlon = remainder(dlon, 360.0);	/* inputs outside [-180, 180] */
	if (fabs(dlon) < 0.05 / DEG2RAD)
		sincos_small(dlon * DEG2RAD, &sl, &cl);
	else
	{
		sl = sin(dlon * DEG2RAD);
		cl = cos(dlon * DEG2RAD);
	}

	sincos_lat(lat1 * DEG2RAD, &s1, &c1);
	dphi = (lat2 - lat1) * DEG2RAD;
	if (fabs(dphi) < 0.01)
	{
		double		sd,
					cd;

		sincos_small(dphi, &sd, &cd);
		s2 = s1 * cd + c1 * sd;
		c2 = c1 * cd - s1 * sd;
	}
	else
		sincos_lat(lat2 * DEG2RAD, &s2, &c2);

	/* Earth-centred chord, the first point on the prime meridian */
	w1 = 1.0 - GEO_E2 * s1 * s1;
	n1 = GEO_A / sqrt(w1);
	n2 = GEO_A / sqrt(1.0 - GEO_E2 * s2 * s2);
	dx = n2 * c2 * cl - n1 * c1;
	dy = n2 * c2 * sl;
	dz = (1.0 - GEO_E2) * (n2 * s2 - n1 * s1);
	cc = dx * dx + dy * dy + dz * dz;
	if (cc >= GEO_FAST_MAX_M * GEO_FAST_MAX_M)
		return geo_distance_karney(lat1, lon1, lat2, lon2);

	/* chord to arc, with the Gaussian curvature k = 1/(M N) at point 1 */
	ck = cc * w1 * w1 * (1.0 / (GEO_A * GEO_A * (1.0 - GEO_E2)));
	return sqrt(cc) * (1.0 + ck * ((1.0 / 24.0) + ck * (3.0 / 640.0)));
}

static struct geod_geodesic wgs84;
static int	wgs84_ready = 0;

/*
 * Karney's geodesic distance (PROJ), for long steps and as the reference
 * the fast formula is tested against.
 */
double
geo_distance_karney(double lat1, double lon1, double lat2, double lon2)
{
	double		s12;

	if (!wgs84_ready)
	{
		geod_init(&wgs84, GEO_A, GEO_F);
		wgs84_ready = 1;
	}
	geod_inverse(&wgs84, lat1, lon1, lat2, lon2, &s12, NULL, NULL);
	return s12;
}
