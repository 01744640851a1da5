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
 * particularly fast.
 *
 * Method.  Each point is turned once into Earth-centred Cartesian
 * coordinates on the ellipsoid (x, y, z in metres; exact, no singularity
 * at the poles or the antimeridian), together with the Gaussian curvature
 * k = 1/(M N) = (1 - e^2 sin^2 lat)^2 / (a^2 (1 - e^2)) there.  A step is
 * the straight chord c between two such points, and the chord becomes the
 * arc through the series for a circle of radius 1/sqrt(k),
 *   s = c (1 + c^2 k/24 + 3 c^4 k^2/640),
 * k being the mean of the two points' curvatures (so that a step has the
 * same length both ways, bit for bit).  For chords up to 20 km the
 * curvature's variation with direction and along the step changes the
 * result by less than 1e-8 relative; longer chords, and points the fast
 * path cannot take, go to Karney's algorithm (PROJ's geodesic.h;
 * C. F. F. Karney, "Algorithms for geodesics", J. Geodesy 87, 2013).
 *
 * Why per point: a caller can keep the converted form (GeoPoint) of the
 * fixes it remembers, so that a step costs one conversion (for the new fix)
 * and a dozen flops, and a batch of steps runs as one branch-free loop the
 * compiler vectorises.
 *
 * Precision.  The Cartesian coordinates are about 6.4e6 m, so each carries
 * a rounding error of about 1e-9 m that does not cancel between two points;
 * that is the error floor of the method (nanometres per step, whatever its
 * length).  Everything else is kept below it.  Errors that vary smoothly
 * along the ellipsoid displace neighbouring points alike and barely change
 * the chord; what must be avoided is a jump.  So the latitude's sine and
 * cosine come from those of its half, which is within 45 degrees and needs
 * no reduction; the longitude's come from an exact reduction to within 45
 * degrees of a multiple of 90 and polynomials accurate to 1e-17, so that
 * where the reduction switches quadrant the jump is below rounding; and
 * the prime vertical radius N = a / sqrt(1 - e^2 sin^2 lat) is a binomial
 * series, exact to rounding since e^2 sin^2 lat < 0.0067 (and cheaper than
 * a square root and a division).
 *
 * Reproducibility.  The scalar functions and the batch give the same
 * doubles, bit for bit, and so do all builds and CPUs with IEEE binary64
 * arithmetic (x86-64, whichever of the batch loop's SSE2, AVX2 and AVX-512
 * versions is picked at run time, or AArch64): the fast path uses only
 * correctly rounded operations (+, -, *, sqrt; no library calls), and this
 * file is compiled without floating-point contraction (-ffp-contract=off in
 * the Makefile, and the pragmas below), since a fused multiply-add rounds
 * differently.  (clang's -ffp-contract=fast overrides the pragma: do not
 * build this file with it.)
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
#include <stdint.h>
#include <string.h>

#include <geodesic.h>

/*
 * No floating-point contraction (see Reproducibility above), even in a
 * build that forgets -ffp-contract=off.
 */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize ("fp-contract=off")
#endif

/*
 * The batch loop gets one version per vector width, chosen when the
 * library is loaded (GNU ifunc, so x86-64 with glibc only).  With
 * contraction off, all versions compute the same doubles.  GCC only:
 * clang 14 names the dispatcher differently, and the program does not
 * link.
 */
#if defined(__x86_64__) && defined(__GLIBC__) && !defined(__clang__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define GEO_TARGET_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#endif
#endif
#ifndef GEO_TARGET_CLONES
#define GEO_TARGET_CLONES
#endif

#define DEG2RAD		(M_PI / 180.0)

/* adding and subtracting 1.5 * 2^52 rounds a double to an integer */
#define ROUND_MAGIC	0x1.8p52

/*
 * Longitudes beyond this go to Karney: the rounding above needs
 * |lon / 90| < 2^51.
 */
#define GEO_LON_LIMIT	0x1p50

/* Gaussian curvature k = w^2 * GEO_K_SCALE, w = 1 - e^2 sin^2 lat */
#define GEO_K_SCALE	(1.0 / (GEO_A * GEO_A * (1.0 - GEO_E2)))

/*
 * sin(x) = x + x^3 (S1 + x^2 S2 + ...) and cos(x) = 1 + x^2 (C1 + ...) on
 * |x| <= 0.79 (pi/4 and a margin): Taylor series economised with
 * Chebyshev polynomials, absolute error below 6e-18 (sine) and 5e-18
 * (cosine), that is below the rounding of the results.
 */
#define S1	-0x1.5555555555542p-3
#define S2	0x1.111111110f21dp-7
#define S3	-0x1.a01a019b7351dp-13
#define S4	0x1.71de35020152ep-19
#define S5	-0x1.ae5e13218476fp-26
#define S6	0x1.5d7ca1fcd4e53p-33

#define C1	-0x1.0000000000000p-1
#define C2	0x1.5555555555534p-5
#define C3	-0x1.6c16c16c13706p-10
#define C4	0x1.a01a019ae16f0p-16
#define C5	-0x1.27e4f700cb595p-22
#define C6	0x1.1ee9542575da4p-29
#define C7	-0x1.8f69d28512775p-37

/* bits of a double, and back (compilers turn these into register moves) */
static inline uint64_t
dbits(double d)
{
	uint64_t	u;

	memcpy(&u, &d, sizeof(u));
	return u;
}

static inline double
bitsd(uint64_t u)
{
	double		d;

	memcpy(&d, &u, sizeof(d));
	return d;
}

/*
 * Sine and cosine of x, |x| <= 0.79.  The terms are grouped in pairs
 * (Estrin's scheme) rather than nested (Horner's): the same number of
 * operations, but a much shorter chain of dependent ones, which is what
 * limits the scalar path.
 */
static inline void
sincos_poly(double x, double *sp, double *cp)
{
	double		y = x * x;
	double		y2 = y * y;
	double		y4 = y2 * y2;

	*sp = x + (x * y) * ((S1 + S2 * y) + (y2 * (S3 + S4 * y) + y4 * (S5 + S6 * y)));
	*cp = 1.0 + (C1 * y + (y2 * (C2 + C3 * y) + y4 * ((C4 + C5 * y) + y2 * (C6 + C7 * y))));
}

/*
 * A longitude in degrees, as its remainder r (|r| <= 45, in radians) of a
 * division by 90 degrees and the quotient q, rounded with the 1.5 * 2^52
 * trick: the low mantissa bits of the returned sum are q mod 4.  90 q and
 * lon - 90 q are exact, so the reduction adds no error, and the longitudes
 * of a meridian (180 and -180, or 10 and 370) give the same sine and
 * cosine.
 */
static inline double
reduce_lon(double lon, double *r)
{
	double		m = lon * (1.0 / 90.0) + ROUND_MAGIC;

	*r = (lon - (m - ROUND_MAGIC) * 90.0) * DEG2RAD;
	return m;
}

/*
 * sin and cos of the longitude from those of r and the quadrant q in the
 * low bits of m: swap them if q is odd, and set their signs.  Bit
 * operations rather than conditionals, so that loops over this vectorise.
 */
static inline void
quadrant(double m, double s, double c, double *sl, double *cl)
{
	uint64_t	qb = dbits(m);
	uint64_t	swap = (uint64_t) 0 - (qb & 1);
	uint64_t	sb = dbits(s);
	uint64_t	cb = dbits(c);

	*sl = bitsd(((sb & ~swap) | (cb & swap)) ^ ((qb & 2) << 62));
	*cl = bitsd(((cb & ~swap) | (sb & swap)) ^ (((qb + 1) & 2) << 62));
}

/*
 * Earth-centred coordinates and Gaussian curvature of a point.  The
 * latitude's sine and cosine come from those of its half (within 45
 * degrees, so no reduction is needed, and no seam either), the
 * longitude's from the reduction above.  A point the fast path cannot take
 * (latitude beyond the poles, longitude beyond GEO_LON_LIMIT, or not
 * finite) gets k = NaN or NaN coordinates, which make every step from or
 * to it NaN, so that the caller's single test sends it to step_slow.
 */
static inline void
point_xyzk(double lat, double lon, double *x, double *y, double *z, double *k)
{
	double		ang[2],
				sn[2],
				cs[2],
				m,
				sp,
				cp,
				sl,
				cl,
				q,
				q2,
				q4,
				w,
				n,
				rho;
	uint64_t	bad;
	int			j;

	/* both polynomials side by side, so that compilers can pair them up */
	ang[0] = lat * (M_PI / 360.0);
	m = reduce_lon(lon, &ang[1]);
	for (j = 0; j < 2; j++)
		sincos_poly(ang[j], &sn[j], &cs[j]);
	sp = 2.0 * sn[0] * cs[0];
	cp = (cs[0] - sn[0]) * (cs[0] + sn[0]);
	quadrant(m, sn[1], cs[1], &sl, &cl);

	/*
	 * N = a (1 - q)^(-1/2) by its binomial series; q < 0.0067, so the terms
	 * after q^7 are below 1e-18.
	 */
	q = GEO_E2 * (sp * sp);
	w = 1.0 - q;
	q2 = q * q;
	q4 = q2 * q2;
	n = GEO_A + (GEO_A * q) * (((1.0 / 2) + (3.0 / 8) * q) + (q2 * ((5.0 / 16) + (35.0 / 128) * q) + q4 * (((63.0 / 256) + (231.0 / 1024) * q) + q2 * (429.0 / 2048))));
	rho = n * cp;
	*x = rho * cl;
	*y = rho * sl;
	*z = (n * (1.0 - GEO_E2)) * sp;

	/*
	 * k, or NaN if a finite input is out of range: the sign bit of
	 * 90 - |lat| or of the longitude limit - |lon| says so, and becomes a
	 * mask of the exponent and quiet bits.  (Bit operations rather than a
	 * conditional, which compilers will not vectorise while floating-point
	 * comparisons may trap.)  Infinite and NaN inputs need no test: they
	 * make the coordinates NaN.
	 */
	bad = (dbits(90.0 - fabs(lat)) | dbits(GEO_LON_LIMIT - fabs(lon))) >> 63;
	*k = bitsd(dbits((w * w) * GEO_K_SCALE) | ((0 - bad) & UINT64_C(0x7ff8000000000000)));
}

/*
 * Chord to arc between two converted points.  Symmetric in its two points
 * bit for bit (the differences only change sign, the mean curvature is a
 * sum).  NaN if either point was refused by point_xyzk.
 */
static inline double
chord_arc(double x1, double y1, double z1, double k1,
		  double x2, double y2, double z2, double k2)
{
	double		dx = x2 - x1,
				dy = y2 - y1,
				dz = z2 - z1,
				cc = dx * dx + dy * dy + dz * dz,
				ck = cc * (0.5 * (k1 + k2));

	return sqrt(cc) * (1.0 + ck * ((1.0 / 24.0) + ck * (3.0 / 640.0)));
}

/*
 * The steps the fast path does not take: NaN for a non-finite input or a
 * latitude beyond the poles, Karney's geodesic for the rest (long steps,
 * absurd longitudes).  Kept out of line, so the fast path stays small.
 */
static double
step_slow(double lat1, double lon1, double lat2, double lon2)
{
	if (!isfinite(lat1) || !isfinite(lon1) || !isfinite(lat2) || !isfinite(lon2) ||
		fabs(lat1) > 90.0 || fabs(lat2) > 90.0)
		return NAN;
	return geo_distance_karney(lat1, lon1, lat2, lon2);
}

/*
 * Convert a point (degrees) for geo_step; done once per point, so a track
 * pays for it once per fix rather than twice per step.
 */
void
geo_point(double lat, double lon, GeoPoint *p)
{
	p->lat = lat;
	p->lon = lon;
	point_xyzk(lat, lon, &p->x, &p->y, &p->z, &p->k);
}

/*
 * Distance in metres between two converted points; NaN if an input is not
 * finite or a latitude is beyond the poles.  The same for (a, b) and
 * (b, a), bit for bit.
 */
double
geo_step(const GeoPoint *a, const GeoPoint *b)
{
	double		s = chord_arc(a->x, a->y, a->z, a->k, b->x, b->y, b->z, b->k);

	if (!(s < GEO_FAST_MAX_M))
		return step_slow(a->lat, a->lon, b->lat, b->lon);
	return s;
}

/*
 * Distance in metres between two points given in degrees; NaN if an input
 * is not finite or a latitude is beyond the poles.  Same result as
 * geo_step and geo_distance_batch, bit for bit.
 */
double
geo_distance(double lat1, double lon1, double lat2, double lon2)
{
	GeoPoint	a,
				b;

	geo_point(lat1, lon1, &a);
	geo_point(lat2, lon2, &b);
	return geo_step(&a, &b);
}

/* pairs per block: the fix-up pass re-reads out[] while it is in cache */
#define GEO_BATCH_BLOCK 512

/*
 * geo_distance for n pairs (out[i] for the pair i), much faster than n
 * calls: the main loop is branch-free and vectorised (one version per
 * vector width, see GEO_TARGET_CLONES), and the rare pairs it cannot do
 * (long steps, bad input) are redone by a scalar pass over each block.
 */
GEO_TARGET_CLONES
void
geo_distance_batch(size_t n, const double *restrict lat1,
				   const double *restrict lon1,
				   const double *restrict lat2,
				   const double *restrict lon2,
				   double *restrict out)
{
	size_t		base;

	for (base = 0; base < n; base += GEO_BATCH_BLOCK)
	{
		size_t		end = n - base < GEO_BATCH_BLOCK ? n : base + GEO_BATCH_BLOCK;
		size_t		i;

		for (i = base; i < end; i++)
		{
			double		x1,
						y1,
						z1,
						k1,
						x2,
						y2,
						z2,
						k2;

			point_xyzk(lat1[i], lon1[i], &x1, &y1, &z1, &k1);
			point_xyzk(lat2[i], lon2[i], &x2, &y2, &z2, &k2);
			out[i] = chord_arc(x1, y1, z1, k1, x2, y2, z2, k2);
		}
		for (i = base; i < end; i++)
		{
			if (!(out[i] < GEO_FAST_MAX_M))
				out[i] = step_slow(lat1[i], lon1[i], lat2[i], lon2[i]);
		}
	}
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
