/*-------------------------------------------------------------------------
 *
 * drivegen.c
 *		Seeded synthetic ground-truth drives: a simulated vehicle, its true
 *		distance on the WGS-84 ellipsoid, and the fixes a phone would report.
 *
 * Why this exists: the mileage core must be measured against a distance
 * that is known exactly, under the conditions that make phone mileage hard
 * (correlated GNSS error that looks like motion when parked, multipath,
 * tunnels, indoor Wi-Fi/cell fixes, outliers, stale and duplicated fixes,
 * late out-of-order uploads).  Real traces have no exact truth; this file
 * makes traces that do.
 *
 * How: a 10 Hz kinematic simulation in a local east/north plane (a queue
 * of straight, arc and stop elements produced by per-scenario generators,
 * driven with acceleration and braking limits and a look-ahead speed
 * planner), mapped to the ellipsoid with PROJ's geodesic routines
 * (azimuthal-equidistant from the origin, exact across the antimeridian
 * and at high latitude).  The true distance is the sum of geodesic steps
 * of 0.1 s.  The phone side adds an Ornstein-Uhlenbeck error per axis,
 * discretised exactly at 10 Hz, multipath bursts, reacquisition after
 * outages, Doppler speed, and network fixes; faults are applied last.
 * Each purpose draws from its own xoshiro256** stream (see drivegen.h).
 *
 * Copyright (c) 2026, fieldops developers
 *
 * IDENTIFICATION
 *		test/bench/drivegen.c
 *
 *-------------------------------------------------------------------------
 */
#include "drivegen.h"

/*
 * Bit-identical output needs every multiply and add rounded separately:
 * a compiler allowed to fuse them into FMA instructions (GNU C mode with
 * -march=native, say) produces other bits.  ISO C mode (-std=c99) already
 * forbids fusing; this keeps it so under any flags.
 */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include <geodesic.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DG_PI		3.14159265358979323846
#define RAD			(DG_PI / 180.0)
#define DEG			(180.0 / DG_PI)

#define STEP_US		INT64_C(100000) /* simulation step: 10 Hz */
#define STEP_S		0.1

/* 2026-11-02 08:00 UTC in microseconds since 2000-01-01 00:00 UTC */
#define T0_BASE_US	INT64_C(846921600000000)

#define BRAKE_MAX	4.0			/* m/s^2, hard limit on deceleration */
#define LOOKAHEAD_M 800.0		/* route elements kept queued ahead */

/* fault rates */
#define P_OUTLIER	0.003		/* of GPS fixes */
#define P_STALE		0.003		/* of GPS fixes */
#define P_DUP		0.02		/* of all rows */
#define P_NEARDUP	0.005		/* of all rows */

/* independent random streams, one per purpose */
enum
{
	ST_ROUTE = 1, ST_OU, ST_GNSS, ST_MPATH, ST_DOPPLER, ST_REPORT,
	ST_WIFI, ST_CELL, ST_OUTLIER, ST_STALE, ST_DUP, ST_SHUFFLE, ST_CLOCK
};

/* ---------------------------------------------------------------------
 * PRNG: splitmix64 to expand (seed, stream) into a xoshiro256** state.
 * Own implementation of the published algorithms (Blackman and Vigna), so
 * that output does not depend on the C library's rand().
 * ---------------------------------------------------------------------
 */
typedef struct Rng
{
	uint64_t	s[4];
	int			has_spare;
	double		spare;
} Rng;

/* splitmix64's output function: a bijective 64-bit mixer */
static uint64_t
mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* seed one stream: mixing seed and stream id separately keeps streams of
 * one seed (and the same stream of neighbouring seeds) unrelated */
static void
rng_seed(Rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t	x = mix64(seed) ^ mix64(stream * UINT64_C(0x9e3779b97f4a7c15) +
									UINT64_C(0x632be59bd9b4e019));
	int			i;

	for (i = 0; i < 4; i++)
	{
		x += UINT64_C(0x9e3779b97f4a7c15);
		r->s[i] = mix64(x);
	}
	r->has_spare = 0;
	r->spare = 0.0;
}

/* rotate left: part of the xoshiro step */
static inline uint64_t
rotl64(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* next 64 random bits (xoshiro256**) */
static uint64_t
rng_next(Rng *r)
{
	uint64_t   *s = r->s;
	uint64_t	result = rotl64(s[1] * 5, 7) * 9;
	uint64_t	t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl64(s[3], 45);
	return result;
}

/* uniform in [0, 1) with 53 random bits: exact in binary floating point */
static double
rng_unif(Rng *r)
{
	return (double) (rng_next(r) >> 11) * 0x1.0p-53;
}

/* uniform in [a, b) */
static double
rng_range(Rng *r, double a, double b)
{
	return a + (b - a) * rng_unif(r);
}

/* standard normal by Box-Muller; the second value of a pair is kept for the
 * next call, so draws stay in step whatever the caller does with them */
static double
rng_normal(Rng *r)
{
	double		u1,
				u2,
				rad;

	if (r->has_spare)
	{
		r->has_spare = 0;
		return r->spare;
	}
	u1 = 1.0 - rng_unif(r);		/* (0, 1]: log is finite */
	u2 = rng_unif(r);
	rad = sqrt(-2.0 * log(u1));
	r->spare = rad * sin(2.0 * DG_PI * u2);
	r->has_spare = 1;
	return rad * cos(2.0 * DG_PI * u2);
}

/* exponential with the given mean: waiting times of Poisson events */
static double
rng_exp(Rng *r, double mean)
{
	return -mean * log(1.0 - rng_unif(r));
}

/* log-uniform in [a, b): scale-free quantities (displacements, accuracy) */
static double
rng_logrange(Rng *r, double a, double b)
{
	return a * exp(rng_unif(r) * log(b / a));
}

/* -1 or +1 with equal probability */
static double
rng_sign(Rng *r)
{
	return rng_unif(r) < 0.5 ? -1.0 : 1.0;
}

/* angle wrapped to (-pi, pi]: heading comparisons */
static double
wrap_pi(double a)
{
	return remainder(a, 2.0 * DG_PI);
}

/* ---------------------------------------------------------------------
 * Route: a queue of path elements and the vehicle driving along it.
 * ---------------------------------------------------------------------
 */
enum
{
	EL_LINE, EL_ARC, EL_STOP
};

typedef struct Elem
{
	int			kind;
	double		len;			/* m; 0 for a stop */
	double		curv;			/* 1/radius, > 0 turns right (clockwise) */
	double		vmax;			/* speed cap on the element */
	double		acc;			/* driver's acceleration (at low speed) */
	double		brake;			/* planned (comfortable) deceleration */
	double		dwell;			/* stop: seconds, when until < 0 */
	double		until;			/* stop: absolute end time, or < 0 */
	uint8_t		cover;			/* DG_COVER_* */
} Elem;

enum
{
	PH_CITY, PH_HIGHWAY, PH_CREEP, PH_GARAGE, PH_PARKED
};

typedef struct Phase
{
	int			kind;
	double		t_end;			/* planned end (s since start) */
} Phase;

typedef struct Route
{
	Rng			rng;
	Elem	   *q;				/* elements q[head .. len) are ahead */
	size_t		head,
				len,
				cap;
	int			oom;
	Phase		ph[8];
	int			nph,
				iph,
				started,
				sub;
	double		corridor;		/* azimuth (rad) the drive tends to keep */
	double		gen_psi;		/* heading at the end of the queue */
	double		grid;			/* city grid orientation */
	double		hw_since_tunnel,
				hw_next_tunnel;
	double		acc,
				brake;			/* style of the phase being generated */
	/* the vehicle */
	double		t;				/* time at the start of the current step */
	double		e,
				n,
				psi,
				v,
				u;				/* u: distance into q[head] */
	int			stopped;
	double		stop_until;
	int			moved_any;
} Route;

/* append an element; the queue grows (and compacts) as needed */
static void
q_push(Route *r, const Elem *el)
{
	if (r->oom)
		return;
	if (r->head > 256 && r->head * 2 > r->len)
	{
		memmove(r->q, r->q + r->head, (r->len - r->head) * sizeof(Elem));
		r->len -= r->head;
		r->head = 0;
	}
	if (r->len == r->cap)
	{
		size_t		ncap = r->cap ? r->cap * 2 : 64;
		Elem	   *nq = realloc(r->q, ncap * sizeof(Elem));

		if (!nq)
		{
			r->oom = 1;
			return;
		}
		r->q = nq;
		r->cap = ncap;
	}
	r->q[r->len++] = *el;
}

/* a straight road of len metres at most vmax */
static void
push_line(Route *r, double len, double vmax, int cover)
{
	Elem		el;

	memset(&el, 0, sizeof(el));
	el.kind = EL_LINE;
	el.len = len;
	el.vmax = vmax;
	el.acc = r->acc;
	el.brake = r->brake;
	el.until = -1.0;
	el.cover = (uint8_t) cover;
	q_push(r, &el);
}

/* a circular arc turning by angle (rad, > 0 right) at the given radius */
static void
push_arc(Route *r, double radius, double angle, double vmax, int cover)
{
	Elem		el;

	memset(&el, 0, sizeof(el));
	el.kind = EL_ARC;
	el.len = radius * fabs(angle);
	el.curv = (angle >= 0 ? 1.0 : -1.0) / radius;
	el.vmax = vmax;
	el.acc = r->acc;
	el.brake = r->brake;
	el.until = -1.0;
	el.cover = (uint8_t) cover;
	q_push(r, &el);
	r->gen_psi = wrap_pi(r->gen_psi + angle);
}

/* stand still for dwell seconds, or until an absolute time when until >= 0 */
static void
push_stop(Route *r, double dwell, double until, int cover)
{
	Elem		el;

	memset(&el, 0, sizeof(el));
	el.kind = EL_STOP;
	el.dwell = dwell;
	el.until = until;
	el.vmax = 0.0;
	el.acc = r->acc;
	el.brake = r->brake;
	el.cover = (uint8_t) cover;
	q_push(r, &el);
}

/* turn direction: towards the corridor with probability p_toward, so a
 * drive makes progress instead of circling (ties are random) */
static double
turn_sign(Route *r, double angle, double p_toward)
{
	double		dp = fabs(wrap_pi(r->gen_psi + angle - r->corridor));
	double		dm = fabs(wrap_pi(r->gen_psi - angle - r->corridor));
	double		u = rng_unif(&r->rng);
	double		s = rng_sign(&r->rng);

	if (fabs(dp - dm) < 1e-9)
		return s;
	s = dp < dm ? 1.0 : -1.0;
	return u < p_toward ? s : -s;
}

/* start of a city phase: driver style and a grid along the current heading */
static void
city_start(Route *r)
{
	r->acc = rng_range(&r->rng, 1.8, 2.5);
	r->brake = 2.5;
	r->grid = r->gen_psi;
}

/* one city block: road, maybe a red light, then straight on or a turn */
static void
city_block(Route *r)
{
	double		cruise = rng_range(&r->rng, 8.0, 14.0);
	double		len = rng_range(&r->rng, 80.0, 250.0);
	double		x,
				k,
				ang,
				radius,
				vturn;
	int			diagonal;

	push_line(r, len, cruise, DG_COVER_SKY);
	if (rng_unif(&r->rng) < 0.2)
		push_stop(r, rng_range(&r->rng, 15.0, 90.0), -1.0, DG_COVER_SKY);
	x = rng_unif(&r->rng);
	k = wrap_pi(r->gen_psi - r->grid) / (DG_PI / 4.0);
	diagonal = ((long) floor(k + 0.5)) % 2 != 0;
	r->corridor = wrap_pi(r->corridor + rng_normal(&r->rng) * 3.0 * RAD);
	if (x < 0.45)
		return;					/* straight across the intersection */
	if (diagonal)
		ang = x < 0.75 ? 45.0 : 90.0;
	else
		ang = x < 0.90 ? 90.0 : 45.0;
	if (ang == 90.0)
	{
		radius = rng_range(&r->rng, 8.0, 20.0);
		vturn = fmin(rng_range(&r->rng, 3.0, 6.0), sqrt(2.5 * radius));
	}
	else
	{
		radius = rng_range(&r->rng, 10.0, 20.0);
		vturn = fmin(rng_range(&r->rng, 4.0, 6.0), sqrt(2.5 * radius));
	}
	ang *= RAD;
	push_arc(r, radius, turn_sign(r, ang, 0.75) * ang, vturn, DG_COVER_SKY);
}

/* start of a highway: an on-ramp curve and an acceleration lane */
static void
highway_start(Route *r)
{
	double		ramp = rng_range(&r->rng, 60.0, 120.0) * RAD;
	double		radius = rng_range(&r->rng, 60.0, 120.0);

	ramp *= rng_sign(&r->rng);

	r->acc = 1.5;
	r->brake = 1.5;
	if (!r->moved_any && r->len == r->head)
	{
		/* the drive starts on the ramp: aim it so the highway keeps the
		 * requested heading */
		r->psi = r->gen_psi = wrap_pi(r->corridor - ramp);
	}
	push_arc(r, radius, ramp, fmin(sqrt(1.5 * radius), 14.0), DG_COVER_SKY);
	r->corridor = r->gen_psi;
	push_line(r, 300.0, rng_range(&r->rng, 25.0, 33.0), DG_COVER_SKY);
	r->hw_since_tunnel = 0.0;
	r->hw_next_tunnel = rng_range(&r->rng, 1000.0, 5000.0);
}

/* one highway stretch: a tunnel when due, an interchange, a straight or a
 * gentle curve that steers back towards the corridor */
static void
highway_stretch(Route *r)
{
	double		cruise = rng_range(&r->rng, 25.0, 33.0);
	double		x = rng_unif(&r->rng);
	double		len,
				radius,
				ang,
				dev,
				s;

	if (r->hw_since_tunnel >= r->hw_next_tunnel)
	{
		len = rng_logrange(&r->rng, 300.0, 3000.0);
		push_line(r, len, cruise, DG_COVER_TUNNEL);
		r->hw_since_tunnel = 0.0;
		r->hw_next_tunnel = rng_range(&r->rng, 3000.0, 15000.0);
		return;
	}
	if (x < 0.08)
	{
		/* cloverleaf: deceleration lane, 270 degree loop, on-ramp */
		radius = rng_range(&r->rng, 50.0, 90.0);
		push_line(r, 250.0, 20.0, DG_COVER_SKY);
		push_arc(r, radius, rng_sign(&r->rng) * 270.0 * RAD,
				 sqrt(1.5 * radius), DG_COVER_SKY);
		push_line(r, 300.0, cruise, DG_COVER_SKY);
		r->corridor = r->gen_psi;
		r->hw_since_tunnel += 550.0 + 1.5 * DG_PI * radius;
	}
	else if (x < 0.55)
	{
		len = rng_range(&r->rng, 500.0, 3000.0);
		push_line(r, len, cruise, DG_COVER_SKY);
		r->hw_since_tunnel += len;
	}
	else
	{
		radius = rng_range(&r->rng, 500.0, 2000.0);
		ang = rng_range(&r->rng, 5.0, 35.0) * RAD;
		dev = wrap_pi(r->gen_psi - r->corridor);
		s = rng_sign(&r->rng);
		if (fabs(dev) > 10.0 * RAD)
			s = dev > 0 ? -1.0 : 1.0;
		push_arc(r, radius, s * ang, fmin(cruise, sqrt(2.0 * radius)), DG_COVER_SKY);
		r->hw_since_tunnel += radius * ang;
	}
}

/* leaving the highway: deceleration lane and a tight off-ramp */
static void
highway_end(Route *r)
{
	double		radius = rng_range(&r->rng, 40.0, 80.0);

	push_line(r, 250.0, 20.0, DG_COVER_SKY);
	push_arc(r, radius, rng_sign(&r->rng) * 90.0 * RAD, sqrt(1.5 * radius),
			 DG_COVER_SKY);
}

/* start of creeping traffic: gentle pedal */
static void
creep_start(Route *r)
{
	r->acc = 0.8;
	r->brake = 1.2;
}

/*
 * One creep cycle: roll 3-40 m at 1-3 m/s, then stop 5-30 s or roll
 * slowly.  (Here and everywhere, one draw per statement: the order in
 * which C evaluates function arguments is unspecified, and compilers
 * differ, so two draws in one call would make the output compiler-
 * dependent.)
 */
static void
creep_cycle(Route *r)
{
	double		x = rng_unif(&r->rng);
	double		len = rng_range(&r->rng, 3.0, 40.0);
	double		v = rng_range(&r->rng, 1.0, 3.0);
	double		radius = rng_range(&r->rng, 200.0, 800.0);
	double		ang = rng_range(&r->rng, 5.0, 20.0) * RAD;
	double		s = rng_sign(&r->rng);
	double		y = rng_unif(&r->rng);
	double		dwell = rng_range(&r->rng, 5.0, 30.0);
	double		len2 = rng_range(&r->rng, 5.0, 25.0);
	double		v2 = rng_range(&r->rng, 0.5, 1.2);

	if (x < 0.1)
		push_arc(r, radius, s * ang, v, DG_COVER_SKY);
	else
		push_line(r, len, v, DG_COVER_SKY);
	if (y < 0.55)
		push_stop(r, dwell, -1.0, DG_COVER_SKY);
	else
		push_line(r, len2, v2, DG_COVER_SKY);
}

/* into a multi-storey garage (GNSS fades at the entrance) and park until
 * the phase's end; sub-step 1 drives back out */
static void
garage_unit(Route *r, Phase *p)
{
	double		s = rng_sign(&r->rng);

	r->acc = 1.0;
	r->brake = 1.5;
	if (r->sub == 0)
	{
		push_line(r, 30.0, 5.0, DG_COVER_SKY);
		push_line(r, 30.0, 3.0, DG_COVER_DEGRADED);
		push_arc(r, 8.0, s * DG_PI, 3.0, DG_COVER_GARAGE);
		push_line(r, rng_range(&r->rng, 20.0, 60.0), 4.0, DG_COVER_GARAGE);
		push_arc(r, 6.0, s * DG_PI / 2.0, 2.5, DG_COVER_GARAGE);
		push_line(r, rng_range(&r->rng, 5.0, 20.0), 2.0, DG_COVER_GARAGE);
		push_stop(r, 0.0, p->t_end, DG_COVER_GARAGE);
		r->sub = 1;
	}
	else if (r->sub == 1)
	{
		push_line(r, rng_range(&r->rng, 5.0, 20.0), 2.0, DG_COVER_GARAGE);
		push_arc(r, 6.0, s * DG_PI / 2.0, 2.5, DG_COVER_GARAGE);
		push_line(r, rng_range(&r->rng, 20.0, 60.0), 4.0, DG_COVER_GARAGE);
		push_arc(r, 8.0, s * DG_PI, 3.0, DG_COVER_GARAGE);
		push_line(r, 30.0, 3.0, DG_COVER_DEGRADED);
		push_line(r, 30.0, 5.0, DG_COVER_SKY);
		r->sub = 2;
	}
	else
		push_stop(r, 0.0, 1e300, DG_COVER_GARAGE);	/* garage was the last
													 * phase: stay */
}

/* may the current phase hand over to the next one? */
static int
phase_done(const Route *r, const Phase *p)
{
	if (r->iph + 1 >= r->nph)
		return 0;
	if (p->kind == PH_GARAGE)
		return r->sub == 2;
	return r->t >= p->t_end;
}

/* generate the next piece of route for the current phase */
static void
gen_next(Route *r)
{
	Phase	   *p = &r->ph[r->iph];

	if (!r->started)
	{
		r->started = 1;
		r->sub = 0;
		switch (p->kind)
		{
			case PH_CITY:
				city_start(r);
				break;
			case PH_HIGHWAY:
				highway_start(r);
				break;
			case PH_CREEP:
				creep_start(r);
				break;
			default:
				break;
		}
		return;
	}
	if (phase_done(r, p))
	{
		if (p->kind == PH_HIGHWAY)
			highway_end(r);
		r->iph++;
		r->started = 0;
		return;
	}
	switch (p->kind)
	{
		case PH_CITY:
			city_block(r);
			break;
		case PH_HIGHWAY:
			highway_stretch(r);
			break;
		case PH_CREEP:
			creep_cycle(r);
			break;
		case PH_GARAGE:
			garage_unit(r, p);
			break;
		default:
			push_stop(r, 0.0, 1e300, DG_COVER_SKY);
			break;
	}
}

/* keep enough route queued for the speed planner to see its constraints:
 * up to the next stop, or LOOKAHEAD_M metres */
static void
ensure_ahead(Route *r)
{
	int			guard;

	for (guard = 0; guard < 1000 && !r->oom; guard++)
	{
		double		d = -r->u;
		size_t		j;
		int			stop = 0;

		for (j = r->head; j < r->len; j++)
		{
			if (r->q[j].kind == EL_STOP)
			{
				stop = 1;
				break;
			}
			d += r->q[j].len;
		}
		if (stop || d >= LOOKAHEAD_M)
			return;
		gen_next(r);
	}
	r->oom = 1;					/* a generator that produces nothing: a bug */
}

/*
 * Highest speed at the end of this step from which the vehicle can still
 * slow to vc within d metres braking at b, allowing for the distance the
 * step itself covers (trapezoid): solves v1^2 + b dt v1 = vc^2 + 2 b d -
 * b v0 dt.  Using the end-of-step distance lets stops be reached exactly,
 * without overshoot and without creeping up to the line.
 */
static double
v_allow(double vc, double d, double b, double v0)
{
	double		c = vc * vc + 2.0 * b * d - b * v0 * STEP_S;
	double		bd = b * STEP_S;

	if (c <= 0.0)
		return 0.0;
	return 0.5 * (-bd + sqrt(bd * bd + 4.0 * c));
}

/* move the vehicle s metres along element el (arcs exactly, by chord) */
static void
move_along(Route *r, const Elem *el, double s)
{
	if (el->kind == EL_ARC)
	{
		double		dpsi = el->curv * s;
		double		chord = 2.0 * sin(0.5 * dpsi) / el->curv;
		double		dir = r->psi + 0.5 * dpsi;

		r->e += chord * sin(dir);
		r->n += chord * cos(dir);
		r->psi = wrap_pi(r->psi + dpsi);
	}
	else
	{
		r->e += s * sin(r->psi);
		r->n += s * cos(r->psi);
	}
}

/*
 * Advance the vehicle by one 0.1 s step starting at r->t; returns the
 * distance moved in the plane (0 when standing).  Speed: the current
 * element's cap, lowered by every constraint ahead (speed caps of coming
 * elements, stops) through v_allow, then limited by the driver's
 * acceleration (falling with speed) and by BRAKE_MAX.
 */
static double
route_step(Route *r)
{
	Elem	   *cur;
	double		v,
				vn,
				target,
				d,
				horizon,
				amax,
				ds,
				moved = 0.0;
	size_t		j;

	ensure_ahead(r);
	if (r->oom)
		return 0.0;
	while (r->q[r->head].kind == EL_STOP)
	{
		cur = &r->q[r->head];
		if (!r->stopped)
		{
			r->stopped = 1;
			r->v = 0.0;
			r->stop_until = cur->until >= 0.0 ? cur->until : r->t + cur->dwell;
		}
		if (r->t < r->stop_until)
			return 0.0;
		r->head++;
		r->stopped = 0;
		r->u = 0.0;
		ensure_ahead(r);
		if (r->oom)
			return 0.0;
	}

	cur = &r->q[r->head];
	v = r->v;
	target = cur->vmax;
	d = cur->len - r->u;
	horizon = v * v / (2.0 * cur->brake) + 3.0 * v * STEP_S + 20.0;
	for (j = r->head + 1; j < r->len && d <= horizon; j++)
	{
		const Elem *el = &r->q[j];

		if (el->kind == EL_STOP)
		{
			target = fmin(target, v_allow(0.0, d, cur->brake, v));
			break;
		}
		target = fmin(target, v_allow(el->vmax, d, cur->brake, v));
		d += el->len;
	}
	amax = cur->acc * fmax(0.3, 1.0 - v / 45.0);
	vn = target;
	if (vn > v + amax * STEP_S)
		vn = v + amax * STEP_S;
	if (vn < v - BRAKE_MAX * STEP_S)
		vn = v - BRAKE_MAX * STEP_S;
	if (vn < 0.0)
		vn = 0.0;

	ds = 0.5 * (v + vn) * STEP_S;
	while (ds > 0.0)
	{
		double		rem;

		cur = &r->q[r->head];
		rem = cur->len - r->u;
		if (ds < rem - 1e-9)
		{
			move_along(r, cur, ds);
			r->u += ds;
			moved += ds;
			break;
		}
		move_along(r, cur, rem);
		moved += rem;
		ds -= rem;
		r->head++;
		r->u = 0.0;
		if (r->head >= r->len)
		{
			ensure_ahead(r);
			if (r->oom)
				break;
		}
		if (r->q[r->head].kind == EL_STOP)
		{
			vn = 0.0;			/* arrived at the stop line */
			break;
		}
	}
	r->v = vn;
	if (moved > 0.0)
		r->moved_any = 1;
	return moved;
}

/* append a phase to the plan */
static void
add_phase(Route *r, int kind, double t_end)
{
	r->ph[r->nph].kind = kind;
	r->ph[r->nph].t_end = t_end;
	r->nph++;
}

/*
 * The scenario as a list of phases with planned end times.  Mixed is a
 * field worker's hour(s): city 22 %, highway 25 %, creeping 10 %, a stop
 * in a garage 33 %, city 10 %, each share jittered by 0.8-1.25.
 */
static void
plan_phases(Route *r, int scenario, double dur)
{
	const double inf = 1e300;

	switch (scenario)
	{
		case DG_CITY:
			add_phase(r, PH_CITY, inf);
			break;
		case DG_HIGHWAY_TUNNELS:
			add_phase(r, PH_HIGHWAY, inf);
			break;
		case DG_CREEP:
			add_phase(r, PH_CREEP, inf);
			break;
		case DG_PARKED_ONLY:
			add_phase(r, PH_PARKED, inf);
			break;
		case DG_PARKING_INDOOR:
			{
				double		park = fmin(rng_range(&r->rng, 1200.0, 5400.0), 0.8 * dur);
				double		before = rng_range(&r->rng, 0.3, 0.7) * (dur - park);

				add_phase(r, PH_CITY, before);
				add_phase(r, PH_GARAGE, before + park);
				add_phase(r, PH_CITY, inf);
				break;
			}
		default:				/* DG_MIXED */
			{
				static const int kinds[5] = {PH_CITY, PH_HIGHWAY, PH_CREEP, PH_GARAGE, PH_CITY};
				static const double share[5] = {0.22, 0.25, 0.10, 0.33, 0.10};
				double		w[5],
							sum = 0.0,
							acc = 0.0;
				int			i;

				for (i = 0; i < 5; i++)
				{
					w[i] = share[i] * rng_range(&r->rng, 0.8, 1.25);
					sum += w[i];
				}
				for (i = 0; i < 5; i++)
				{
					acc += w[i] / sum * dur;
					add_phase(r, kinds[i], i == 4 ? inf : acc);
				}
				break;
			}
	}
}

/* ---------------------------------------------------------------------
 * Phone side: GNSS error, multipath, reacquisition, Doppler spikes.
 * ---------------------------------------------------------------------
 */
typedef struct Noise
{
	Rng			ou,
				gnss,
				mp,
				dop;
	double		sigma;			/* per-axis GNSS sigma of the environment */
	double		a,
				b;				/* OU step: x' = a x + b N(0,1) */
	double		x,
				y;				/* OU state in sigma units (east, north) */
	int			env,
				mp_enabled;
	double		mp_start,
				mp_end,
				mp_ramp,
				mp_mag,
				mp_dir;
	int			mp_apply;
	int			blocked;
	double		blocked_since,
				avail_from,
				rq_e,
				rq_n;
	double		sp_start,
				sp_end,
				sp_mag;
} Noise;

/* the truth and the GNSS error at one simulation step */
typedef struct StepState
{
	double		e,
				n,				/* plane position */
				lat,
				lon,
				v;
	int			cover;
	int			gnss;			/* a GNSS fix can be taken */
	double		err_e,
				err_n;			/* total GNSS error, m */
	double		sig;			/* sigma times the cover's multiplier */
	double		mp;				/* multipath offset magnitude */
	double		rq;				/* reacquisition offset magnitude */
	double		odo;			/* true distance driven so far */
} StepState;

/*
 * Multipath offset at time t: bursts separated by exponential gaps (mean
 * 150 s), 5-40 s long, 15-60 m in a fixed random direction, with
 * raised-cosine ramps of 1-4 s.  The schedule is drawn whatever the
 * environment, so that it does not depend on it; bursts apply in urban
 * areas, and one in four in suburban ones.
 */
static void
multipath_at(Noise *nz, double t, double *de, double *dn)
{
	double		w,
				k;

	while (t >= nz->mp_end)
	{
		double		dur,
					u;

		nz->mp_start = nz->mp_end + rng_exp(&nz->mp, 150.0);
		dur = rng_range(&nz->mp, 5.0, 40.0);
		nz->mp_end = nz->mp_start + dur;
		nz->mp_ramp = fmin(rng_range(&nz->mp, 1.0, 4.0), 0.5 * dur);
		nz->mp_mag = rng_range(&nz->mp, 15.0, 60.0);
		nz->mp_dir = rng_range(&nz->mp, 0.0, 2.0 * DG_PI);
		u = rng_unif(&nz->mp);	/* drawn always: keeps the schedule fixed */
		nz->mp_apply = nz->mp_enabled &&
			(nz->env == DG_URBAN || (nz->env == DG_SUBURBAN && u < 0.25));
	}
	*de = *dn = 0.0;
	if (!nz->mp_apply || t <= nz->mp_start)
		return;
	k = fmin(1.0, fmin((t - nz->mp_start) / nz->mp_ramp, (nz->mp_end - t) / nz->mp_ramp));
	w = 0.5 * (1.0 - cos(DG_PI * k));
	*de = w * nz->mp_mag * sin(nz->mp_dir);
	*dn = w * nz->mp_mag * cos(nz->mp_dir);
}

/* Doppler speed spike (m/s) active at time t while the vehicle stands:
 * about two a minute, 0.5-2 s long, 1-3 m/s */
static double
spike_at(Noise *nz, double t)
{
	while (t >= nz->sp_end)
	{
		nz->sp_start = nz->sp_end + rng_exp(&nz->dop, 30.0);
		nz->sp_end = nz->sp_start + rng_range(&nz->dop, 0.5, 2.0);
		nz->sp_mag = rng_range(&nz->dop, 1.0, 3.0);
	}
	return t >= nz->sp_start ? nz->sp_mag : 0.0;
}

/*
 * Advance the GNSS error to step state st (time t) and decide whether a
 * fix is possible.  The OU process runs at every step (exact
 * discretisation); after an outage (garage, tunnel) the receiver needs 1-5
 * s to reacquire and, after outages of 5 s or more, starts with an extra
 * error of (2 sigma + 3 m) per axis decaying with a 4 s time constant.
 */
static void
noise_step(Noise *nz, StepState *st, double t)
{
	int			blocked = st->cover == DG_COVER_GARAGE || st->cover == DG_COVER_TUNNEL;
	double		mpe,
				mpn,
				rqe = 0.0,
				rqn = 0.0,
				mult = st->cover == DG_COVER_DEGRADED ? 3.0 : 1.0;

	nz->x = nz->a * nz->x + nz->b * rng_normal(&nz->ou);
	nz->y = nz->a * nz->y + nz->b * rng_normal(&nz->ou);

	if (blocked && !nz->blocked)
		nz->blocked_since = t;
	if (!blocked && nz->blocked)
	{
		double		outage = t - nz->blocked_since;
		double		delay = rng_range(&nz->gnss, 1.0, 5.0);
		double		sr = 2.0 * nz->sigma + 3.0;
		double		ze = rng_normal(&nz->gnss);
		double		zn = rng_normal(&nz->gnss);

		nz->avail_from = t + delay;
		nz->rq_e = outage >= 5.0 ? sr * ze : 0.0;
		nz->rq_n = outage >= 5.0 ? sr * zn : 0.0;
	}
	nz->blocked = blocked;
	st->gnss = !blocked && t >= nz->avail_from;
	if (t >= nz->avail_from)
	{
		double		decay = exp(-(t - nz->avail_from) / 4.0);

		rqe = nz->rq_e * decay;
		rqn = nz->rq_n * decay;
	}
	multipath_at(nz, t, &mpe, &mpn);
	st->sig = nz->sigma * mult;
	st->err_e = st->sig * nz->x + mpe + rqe;
	st->err_n = st->sig * nz->y + mpn + rqn;
	st->mp = hypot(mpe, mpn);
	st->rq = hypot(rqe, rqn);
}

/* ---------------------------------------------------------------------
 * Network (Wi-Fi, cell) fixes: candidate times at the highest rate,
 * thinned by where the phone is; error is a slow OU per axis (the same
 * access points or towers are heard for minutes), advanced exactly over
 * the irregular gaps.
 * ---------------------------------------------------------------------
 */
typedef struct NetProc
{
	Rng			rng;
	int			source;
	double		gap_min,
				gap_mean;		/* candidate gap = gap_min + Exp(gap_mean) */
	double		sigma,
				tau;
	double		acc_lo,
				acc_hi;
	double		p_outdoor;		/* acceptance outside garages */
	double		next_t,
				last_t,
				x,
				y;
} NetProc;

/* set up one network source and draw its first candidate time */
static void
net_init(NetProc *np, uint64_t seed, int stream, int source, double gap_min,
		 double gap_mean, double sigma, double tau, double acc_lo,
		 double acc_hi, double p_outdoor)
{
	rng_seed(&np->rng, seed, (uint64_t) stream);
	np->source = source;
	np->gap_min = gap_min;
	np->gap_mean = gap_mean;
	np->sigma = sigma;
	np->tau = tau;
	np->acc_lo = acc_lo;
	np->acc_hi = acc_hi;
	np->p_outdoor = p_outdoor;
	np->x = sigma * rng_normal(&np->rng);
	np->y = sigma * rng_normal(&np->rng);
	np->last_t = 0.0;
	np->next_t = rng_range(&np->rng, 0.0, gap_min + gap_mean);
}

/* ---------------------------------------------------------------------
 * Output rows
 * ---------------------------------------------------------------------
 */
typedef struct Rec
{
	MileageFix	f;
	DriveFixTruth tr;
} Rec;

typedef struct RecBuf
{
	Rec		   *r;
	size_t		n,
				cap;
	int			oom;
} RecBuf;

/* append a row (the buffer doubles as needed) */
static void
rec_push(RecBuf *b, const Rec *rec)
{
	if (b->oom)
		return;
	if (b->n == b->cap)
	{
		size_t		ncap = b->cap ? b->cap * 2 : 1024;
		Rec		   *nr = realloc(b->r, ncap * sizeof(Rec));

		if (!nr)
		{
			b->oom = 1;
			return;
		}
		b->r = nr;
		b->cap = ncap;
	}
	b->r[b->n++] = *rec;
}

/* the plane point (e, n) around the origin on the ellipsoid: the plane is
 * azimuthal equidistant, so distance and azimuth from the origin are kept */
static void
plane_to_ll(const struct geod_geodesic *g, double lat0, double lon0,
			double e, double n, double *lat, double *lon)
{
	double		s = hypot(e, n);

	if (s == 0.0)
	{
		*lat = lat0;
		*lon = lon0;
		return;
	}
	geod_direct(g, lat0, lon0, atan2(e, n) * DEG, s, lat, lon, NULL);
}

/* a point displaced by (de east, dn north) metres: applies an error */
static void
offset_ll(const struct geod_geodesic *g, double lat, double lon,
		  double de, double dn, double *olat, double *olon)
{
	plane_to_ll(g, lat, lon, de, dn, olat, olon);
}

/* microsecond time of a simulated instant */
static int64_t
t_us_of(int64_t t0_us, double t)
{
	return t0_us + (int64_t) llround(t * 1e6);
}

/* ordering of rows in time; stable insertion sort (rows are nearly in order
 * already, so this is linear in practice) */
static void
sort_by_time(Rec *r, size_t n)
{
	size_t		i;

	for (i = 1; i < n; i++)
	{
		Rec			x = r[i];
		size_t		j = i;

		while (j > 0 && r[j - 1].f.t_us > x.f.t_us)
		{
			r[j] = r[j - 1];
			j--;
		}
		r[j] = x;
	}
}

/* is the row a satellite fix (the kind outliers and stale fixes affect)? */
static int
is_gnss(const Rec *r)
{
	return r->f.source == MS_GPS || r->f.source == MS_FUSED;
}

/*
 * Outliers: runs of 1 (70 %), 2 or 3 consecutive GNSS fixes moved to one
 * wrong place 1-20 km away (log-uniform), keeping their own small error
 * around it and their normal accuracy, like a spurious relocation.
 */
static void
apply_outliers(const struct geod_geodesic *g, Rec *r, size_t n, uint64_t seed)
{
	Rng			rng;
	size_t		i;
	int			left = 0;
	double		wlat = 0.0,
				wlon = 0.0;
	const double p_start = P_OUTLIER / (0.7 * 1.0 + 0.15 * 2.0 + 0.15 * 3.0);

	rng_seed(&rng, seed, ST_OUTLIER);
	for (i = 0; i < n; i++)
	{
		double		u,
					s,
					azi;

		if (!is_gnss(&r[i]))
			continue;
		u = rng_unif(&rng);
		if (left == 0)
		{
			double		u_len,
						az,
						dist;

			if (u >= p_start)
				continue;
			u_len = rng_unif(&rng);
			az = rng_range(&rng, -180.0, 180.0);
			dist = rng_logrange(&rng, 1000.0, 20000.0);
			left = u_len < 0.7 ? 1 : u_len < 0.85 ? 2 : 3;
			geod_direct(g, r[i].tr.lat, r[i].tr.lon, az, dist, &wlat, &wlon, NULL);
		}
		/* keep this fix's own error, around the wrong place */
		geod_inverse(g, r[i].tr.lat, r[i].tr.lon, r[i].f.lat, r[i].f.lon, &s, &azi, NULL);
		geod_direct(g, wlat, wlon, azi, s, &r[i].f.lat, &r[i].f.lon, NULL);
		r[i].tr.kinds |= DG_K_OUTLIER;
		left--;
	}
}

/*
 * Stale fixes: a GNSS fix replaced by an earlier one (30-600 s older,
 * position, accuracy, speed and source) with the current timestamp, as a
 * platform handing out a cached location.  r is sorted by time.
 */
static void
apply_stale(Rec *r, size_t n, uint64_t seed)
{
	Rng			rng;
	size_t		i;

	rng_seed(&rng, seed, ST_STALE);
	for (i = 0; i < n; i++)
	{
		double		age;
		int64_t		want,
					oldest;
		size_t		j;

		if (!is_gnss(&r[i]) || (r[i].tr.kinds & DG_K_OUTLIER))
			continue;
		if (rng_unif(&rng) >= P_STALE)
			continue;
		age = rng_range(&rng, 30.0, 600.0);
		want = r[i].f.t_us - (int64_t) llround(age * 1e6);
		oldest = r[i].f.t_us - INT64_C(600000000);
		for (j = i; j-- > 0 && r[j].f.t_us >= oldest;)
		{
			if (r[j].f.t_us > want || !is_gnss(&r[j]) ||
				(r[j].tr.kinds & (DG_K_OUTLIER | DG_K_STALE)))
				continue;
			r[i].f.lat = r[j].f.lat;
			r[i].f.lon = r[j].f.lon;
			r[i].f.acc_m = r[j].f.acc_m;
			r[i].f.speed_mps = r[j].f.speed_mps;
			r[i].f.source = r[j].f.source;
			r[i].tr.kinds |= DG_K_STALE;
			break;
		}
	}
}

/*
 * Duplicates, as retried uploads and double listeners produce them: 2 % of
 * rows twice identically, 0.5 % with a second row at the same t_us moved
 * 0.5-5 m with a slightly different accuracy.  Returns a new buffer.
 */
static int
apply_duplicates(const struct geod_geodesic *g, RecBuf *b, uint64_t seed)
{
	Rng			rng;
	RecBuf		nb;
	size_t		i;

	memset(&nb, 0, sizeof(nb));
	rng_seed(&rng, seed, ST_DUP);
	for (i = 0; i < b->n; i++)
	{
		Rec			x = b->r[i];
		double		u1 = rng_unif(&rng),
					u2 = rng_unif(&rng);

		rec_push(&nb, &x);
		if (u1 < P_DUP)
		{
			Rec			d = x;

			d.tr.kinds |= DG_K_DUP;
			rec_push(&nb, &d);
		}
		if (u2 < P_NEARDUP)
		{
			Rec			d = x;
			double		az = rng_range(&rng, -180.0, 180.0);
			double		dist = rng_range(&rng, 0.5, 5.0);
			double		scale = rng_range(&rng, 0.8, 1.25);

			geod_direct(g, x.f.lat, x.f.lon, az, dist, &d.f.lat, &d.f.lon, NULL);
			if (!isnan(d.f.acc_m))
				d.f.acc_m = (float) (d.f.acc_m * scale);
			d.tr.kinds |= DG_K_NEARDUP;
			rec_push(&nb, &d);
		}
	}
	if (nb.oom)
	{
		free(nb.r);
		return DG_ENOMEM;
	}
	free(b->r);
	*b = nb;
	return DG_OK;
}

/* random arrival order (Fisher-Yates) */
static void
apply_shuffle(Rec *r, size_t n, uint64_t seed)
{
	Rng			rng;
	size_t		i;

	rng_seed(&rng, seed, ST_SHUFFLE);
	for (i = n; i > 1; i--)
	{
		size_t		j = (size_t) (rng_unif(&rng) * (double) i);
		Rec			t;

		if (j >= i)
			j = i - 1;
		t = r[i - 1];
		r[i - 1] = r[j];
		r[j] = t;
	}
}

/* environment sigma per axis (m) */
static double
env_sigma(int env)
{
	return env == DG_OPEN ? 2.0 : env == DG_SUBURBAN ? 4.0 : 7.0;
}

/* reject specs the simulation cannot honour */
static int
spec_valid(const DriveSpec *s)
{
	if (s->scenario < 0 || s->scenario >= DG_N_SCENARIOS)
		return 0;
	if (s->environment < 0 || s->environment >= DG_N_ENVIRONMENTS)
		return 0;
	if (!(s->tau_s > 0.0) || !isfinite(s->tau_s))
		return 0;
	if (!(s->distance_filter_m >= 0.0) || !isfinite(s->distance_filter_m))
		return 0;
	if (!(s->sample_s == 0.0 || (s->sample_s >= 0.1 && s->sample_s <= 86400.0)))
		return 0;
	if (s->sample_s == 0.0 && !(s->distance_filter_m > 0.0))
		return 0;
	if (!(s->origin_lat >= -90.0 && s->origin_lat <= 90.0) || !isfinite(s->origin_lon))
		return 0;
	if (!isnan(s->heading_deg) && !isfinite(s->heading_deg))
		return 0;
	if (!(s->duration_s >= 1.0 && s->duration_s <= 172800.0))
		return 0;
	if (s->faults & ~DG_F_ALL)
		return 0;
	return 1;
}

/* defaults, so callers only set what they vary */
void
drive_spec_init(DriveSpec *spec)
{
	memset(spec, 0, sizeof(*spec));
	spec->seed = 1;
	spec->scenario = DG_MIXED;
	spec->environment = DG_SUBURBAN;
	spec->tau_s = 60.0;
	spec->sample_s = 1.0;
	spec->distance_filter_m = 0.0;
	spec->origin_lat = 45.0;
	spec->origin_lon = 7.0;
	spec->heading_deg = NAN;
	spec->duration_s = 3600.0;
	spec->faults = 0;
	spec->keep_track = 0;
}

/* fill a truth record for an instant between two steps */
static void
truth_at(const struct geod_geodesic *g, const DriveSpec *spec,
		 const StepState *a, const StepState *b, double f, Rec *rec,
		 double *e, double *n)
{
	const StepState *near = f < 0.5 ? a : b;

	rec->tr.odo_m = a->odo + f * (b->odo - a->odo);
	*e = a->e + f * (b->e - a->e);
	*n = a->n + f * (b->n - a->n);
	plane_to_ll(g, spec->origin_lat, spec->origin_lon, *e, *n, &rec->tr.lat, &rec->tr.lon);
	rec->tr.speed_mps = (float) (a->v + f * (b->v - a->v));
	rec->tr.cover = (uint8_t) near->cover;
}

/*
 * The whole simulation.  One pass over the 10 Hz steps: move the vehicle,
 * extend the true distance, advance the noise, and emit the GNSS ticks and
 * network candidates that fall inside the step (truth and error linearly
 * interpolated to the jittered fix time).  Faults are applied afterwards
 * to the rows sorted by time.
 */
int
drive_generate(const DriveSpec *spec, Drive *out)
{
	struct geod_geodesic g;
	Route		rt;
	Noise		nz;
	NetProc		net[2];
	Rng			rep,
				clk;
	RecBuf		buf;
	StepState	prev,
				cur;
	int64_t		nsteps,
				i,
				sample_us,
				tick_us,
				k = 0,
				t0_us,
				parked_steps = 0,
				moving_steps = 0;
	double		r68 = sqrt(-2.0 * log(0.32));
	double		last_lat = 0.0,
				last_lon = 0.0,
				heading;
	int			have_last = 0,
				rc = DG_OK,
				outdoor_net;
	size_t		ntrack = 0;
	DriveSpec	s;

	memset(out, 0, sizeof(*out));
	if (!spec || !spec_valid(spec))
		return DG_EINVAL;
	s = *spec;
	s.origin_lon = remainder(s.origin_lon, 360.0);
	geod_init(&g, 6378137.0, 1.0 / 298.257223563);
	nsteps = (int64_t) llround(s.duration_s / STEP_S);
	sample_us = s.sample_s > 0.0 ? (int64_t) llround(s.sample_s * 1e6) : INT64_C(1000000);

	rng_seed(&clk, s.seed, ST_CLOCK);
	t0_us = T0_BASE_US + (int64_t) (rng_unif(&clk) * 60.0) * INT64_C(60000000);

	/* route */
	memset(&rt, 0, sizeof(rt));
	rng_seed(&rt.rng, s.seed, ST_ROUTE);
	heading = rng_range(&rt.rng, 0.0, 2.0 * DG_PI);
	if (!isnan(s.heading_deg))
		heading = wrap_pi(s.heading_deg * RAD);
	rt.corridor = rt.gen_psi = rt.psi = heading;
	rt.acc = 1.5;
	rt.brake = 2.0;
	plan_phases(&rt, s.scenario, nsteps * STEP_S);

	/* noise */
	memset(&nz, 0, sizeof(nz));
	rng_seed(&nz.ou, s.seed, ST_OU);
	rng_seed(&nz.gnss, s.seed, ST_GNSS);
	rng_seed(&nz.mp, s.seed, ST_MPATH);
	rng_seed(&nz.dop, s.seed, ST_DOPPLER);
	nz.env = s.environment;
	nz.sigma = env_sigma(s.environment);
	nz.mp_enabled = (s.faults & DG_F_MULTIPATH) != 0;
	nz.a = exp(-STEP_S / s.tau_s);
	nz.b = sqrt(1.0 - nz.a * nz.a);
	nz.x = rng_normal(&nz.ou);	/* start in the stationary distribution */
	nz.y = rng_normal(&nz.ou);

	/* network sources: Wi-Fi sigma 60 m, cell 500 m per axis */
	net_init(&net[0], s.seed, ST_WIFI, MS_WIFI, 15.0, 75.0, 60.0, 600.0, 20.0, 80.0, 0.3);
	net_init(&net[1], s.seed, ST_CELL, MS_CELL, 30.0, 210.0, 500.0, 1800.0, 300.0, 2000.0, 0.4);
	outdoor_net = (s.faults & DG_F_WIFI_CELL) || s.scenario == DG_PARKED_ONLY;

	rng_seed(&rep, s.seed, ST_REPORT);
	memset(&buf, 0, sizeof(buf));

	if (s.keep_track)
	{
		out->track = calloc((size_t) nsteps + 1, sizeof(DriveTrackPoint));
		if (!out->track)
			return DG_ENOMEM;
	}

	/* step 0 */
	memset(&prev, 0, sizeof(prev));
	rt.t = 0.0;
	ensure_ahead(&rt);
	prev.cover = rt.oom ? DG_COVER_SKY : rt.q[rt.head].cover;
	plane_to_ll(&g, s.origin_lat, s.origin_lon, 0.0, 0.0, &prev.lat, &prev.lon);
	noise_step(&nz, &prev, 0.0);
	if (out->track)
	{
		DriveTrackPoint *tp = &out->track[ntrack++];

		tp->t_us = t0_us;
		tp->lat = prev.lat;
		tp->lon = prev.lon;
		tp->cover = (uint8_t) prev.cover;
		tp->gnss = (uint8_t) prev.gnss;
	}
	tick_us = (int64_t) floor(rng_unif(&rep) * 50001.0);

	for (i = 0; i < nsteps; i++)
	{
		double		t1 = (double) (i + 1) * STEP_S;
		double		ds;
		int64_t		lo_us = i * STEP_US,
					hi_us = (i + 1) * STEP_US;
		int			w;

		rt.t = (double) i * STEP_S;
		ds = route_step(&rt);
		if (rt.oom)
		{
			rc = DG_ENOMEM;
			break;
		}
		cur = prev;
		cur.e = rt.e;
		cur.n = rt.n;
		cur.v = rt.v;
		cur.cover = rt.q[rt.head].cover;
		if (ds > 0.0)
		{
			double		step_m;

			plane_to_ll(&g, s.origin_lat, s.origin_lon, cur.e, cur.n, &cur.lat, &cur.lon);
			geod_inverse(&g, prev.lat, prev.lon, cur.lat, cur.lon, &step_m, NULL, NULL);
			out->true_m += step_m;
			out->plane_m += ds;
			cur.odo = out->true_m;
			moving_steps++;
			if (cur.cover == DG_COVER_TUNNEL)
				out->tunnel_m += step_m;
		}
		else
			parked_steps++;
		if (cur.cover == DG_COVER_TUNNEL)
		{
			if (prev.cover != DG_COVER_TUNNEL)
				out->n_tunnels++;
			out->tunnel_s += STEP_S;
		}
		noise_step(&nz, &cur, t1);

		if (out->track)
		{
			DriveTrackPoint *tp = &out->track[ntrack++];

			tp->t_us = t0_us + hi_us;
			tp->lat = cur.lat;
			tp->lon = cur.lon;
			tp->dist_m = out->true_m;
			tp->speed_mps = (float) cur.v;
			tp->cover = (uint8_t) cur.cover;
			tp->gnss = (uint8_t) cur.gnss;
		}

		/* GNSS ticks inside [t_i, t_i+1) */
		while (tick_us < hi_us)
		{
			double		f = (double) (tick_us - lo_us) / (double) STEP_US;
			const StepState *near = f < 0.5 ? &prev : &cur;
			double		z_acc = rng_normal(&rep),
						z_spd = rng_normal(&rep),
						u_nan = rng_unif(&rep),
						u_fused = rng_unif(&rep),
						u_drop = rng_unif(&rep),
						u_s0 = rng_unif(&rep),
						u_s1 = rng_unif(&rep);
			int64_t		this_us = tick_us;

			k++;
			tick_us = k * sample_us + (int64_t) floor(rng_unif(&rep) * 50001.0);
			if (near->gnss && this_us >= lo_us)
			{
				Rec			rec;
				double		e,
							n,
							ee,
							en,
							sig,
							mp,
							rq,
							acc,
							vt;

				memset(&rec, 0, sizeof(rec));
				truth_at(&g, &s, &prev, &cur, f, &rec, &e, &n);
				if (s.distance_filter_m > 0.0 && have_last)
				{
					double		dmov;

					geod_inverse(&g, last_lat, last_lon, rec.tr.lat, rec.tr.lon, &dmov, NULL, NULL);
					if (dmov < s.distance_filter_m)
						continue;
				}
				if (near->cover == DG_COVER_DEGRADED && u_drop < 0.5)
					continue;
				ee = prev.err_e + f * (cur.err_e - prev.err_e);
				en = prev.err_n + f * (cur.err_n - prev.err_n);
				sig = near->sig;
				mp = prev.mp + f * (cur.mp - prev.mp);
				rq = prev.rq + f * (cur.rq - prev.rq);
				offset_ll(&g, rec.tr.lat, rec.tr.lon, ee, en, &rec.f.lat, &rec.f.lon);
				rec.f.t_us = t0_us + this_us;
				acc = r68 * sqrt(sig * sig + 0.5 * rq * rq) * exp(0.3 * z_acc);
				rec.f.acc_m = (float) (fmax(1.0, acc) + 0.3 * mp);
				vt = rec.tr.speed_mps;
				if (u_nan < 0.05)
					rec.f.speed_mps = NAN;
				else if (vt > 0.0)
					rec.f.speed_mps = (float) fmax(0.0, vt + 0.15 * z_spd);
				else
				{
					double		spike = spike_at(&nz, (double) this_us * 1e-6);

					if (spike > 0.0)
						rec.f.speed_mps = (float) spike;
					else
						rec.f.speed_mps = (float) (u_s0 < 0.3 ? 0.0 : 0.3 * u_s1);
				}
				rec.f.source = u_fused < 0.05 ? MS_FUSED : MS_GPS;
				if (mp > 5.0)
					rec.tr.kinds |= DG_K_MULTIPATH;
				if (rq > 1.0)
					rec.tr.kinds |= DG_K_REACQ;
				if (near->cover == DG_COVER_DEGRADED)
					rec.tr.kinds |= DG_K_DEGRADED;
				rec_push(&buf, &rec);
				last_lat = rec.tr.lat;
				last_lon = rec.tr.lon;
				have_last = 1;
			}
		}

		/* network candidates inside [t_i, t_i+1) */
		for (w = 0; w < 2; w++)
		{
			NetProc    *np = &net[w];

			while (np->next_t < t1)
			{
				double		tc = np->next_t;
				double		f = (tc - (double) i * STEP_S) / STEP_S;
				const StepState *near = f < 0.5 ? &prev : &cur;
				double		decay = exp(-(tc - np->last_t) / np->tau);
				double		sd = np->sigma * sqrt(1.0 - decay * decay);
				double		u_acc = rng_unif(&np->rng),
							acc = rng_logrange(&np->rng, np->acc_lo, np->acc_hi),
							p;

				np->x = decay * np->x + sd * rng_normal(&np->rng);
				np->y = decay * np->y + sd * rng_normal(&np->rng);
				np->last_t = tc;
				np->next_t = tc + np->gap_min + rng_exp(&np->rng, np->gap_mean);
				if (f < 0.0)
					f = 0.0;
				p = near->cover == DG_COVER_TUNNEL ? 0.0 :
					near->cover == DG_COVER_GARAGE ? 1.0 :
					outdoor_net ? np->p_outdoor : 0.0;
				if (u_acc < p)
				{
					Rec			rec;
					double		e,
								n;

					memset(&rec, 0, sizeof(rec));
					truth_at(&g, &s, &prev, &cur, f, &rec, &e, &n);
					offset_ll(&g, rec.tr.lat, rec.tr.lon, np->x, np->y, &rec.f.lat, &rec.f.lon);
					rec.f.t_us = t_us_of(t0_us, tc);
					rec.f.acc_m = (float) acc;
					rec.f.speed_mps = NAN;
					rec.f.source = (uint8_t) np->source;
					rec.tr.kinds |= DG_K_NETWORK;
					rec_push(&buf, &rec);
				}
			}
		}
		prev = cur;
	}

	free(rt.q);
	if (rc == DG_OK && buf.oom)
		rc = DG_ENOMEM;
	if (rc != DG_OK)
	{
		free(buf.r);
		drive_free(out);
		return rc;
	}

	/* faults, in time order */
	sort_by_time(buf.r, buf.n);
	if (s.faults & DG_F_OUTLIERS)
		apply_outliers(&g, buf.r, buf.n, s.seed);
	if (s.faults & DG_F_STALE)
		apply_stale(buf.r, buf.n, s.seed);
	if ((s.faults & DG_F_ZERO_FIRST) && buf.n > 0)
	{
		buf.r[0].f.lat = 0.0;
		buf.r[0].f.lon = 0.0;
		buf.r[0].tr.kinds |= DG_K_ZERO;
	}
	if (s.faults & DG_F_DUPLICATES)
	{
		rc = apply_duplicates(&g, &buf, s.seed);
		if (rc != DG_OK)
		{
			free(buf.r);
			drive_free(out);
			return rc;
		}
	}
	if (s.faults & DG_F_SHUFFLE)
		apply_shuffle(buf.r, buf.n, s.seed);

	out->n = buf.n;
	out->fixes = calloc(buf.n ? buf.n : 1, sizeof(MileageFix));
	out->truth = calloc(buf.n ? buf.n : 1, sizeof(DriveFixTruth));
	if (!out->fixes || !out->truth)
	{
		free(buf.r);
		drive_free(out);
		return DG_ENOMEM;
	}
	for (i = 0; i < (int64_t) buf.n; i++)
	{
		MileageFix *f = &out->fixes[i];
		DriveFixTruth *tr = &out->truth[i];

		f->t_us = buf.r[i].f.t_us;
		f->lat = buf.r[i].f.lat;
		f->lon = buf.r[i].f.lon;
		f->acc_m = buf.r[i].f.acc_m;
		f->speed_mps = buf.r[i].f.speed_mps;
		f->source = buf.r[i].f.source;
		tr->lat = buf.r[i].tr.lat;
		tr->lon = buf.r[i].tr.lon;
		tr->odo_m = buf.r[i].tr.odo_m;
		tr->speed_mps = buf.r[i].tr.speed_mps;
		tr->kinds = buf.r[i].tr.kinds;
		tr->cover = buf.r[i].tr.cover;
	}
	free(buf.r);
	out->n_track = ntrack;
	out->t0_us = t0_us;
	out->duration_s = (double) nsteps * STEP_S;
	out->parked_s = (double) parked_steps * STEP_S;
	out->moving_s = (double) moving_steps * STEP_S;
	return DG_OK;
}

/* release what drive_generate allocated; safe on a zeroed or freed Drive */
void
drive_free(Drive *d)
{
	if (!d)
		return;
	free(d->fixes);
	free(d->truth);
	free(d->track);
	d->fixes = NULL;
	d->truth = NULL;
	d->track = NULL;
	d->n = d->n_track = 0;
}

/* message for a drive_generate return code */
const char *
drive_strerror(int rc)
{
	switch (rc)
	{
		case DG_OK:
			return "ok";
		case DG_EINVAL:
			return "invalid drive specification";
		case DG_ENOMEM:
			return "out of memory";
		default:
			return "unknown error";
	}
}

static const char *const scenario_names[DG_N_SCENARIOS] = {
	"city", "highway", "creep", "parking", "parked", "mixed"
};
static const char *const environment_names[DG_N_ENVIRONMENTS] = {
	"open", "suburban", "urban"
};
static const char *const fault_names[7] = {
	"multipath", "outliers", "stale", "zero-first", "duplicates", "shuffle", "wifi-cell"
};

/* scenario by CLI name */
int
drive_scenario_parse(const char *name)
{
	int			i;

	for (i = 0; i < DG_N_SCENARIOS; i++)
		if (strcmp(name, scenario_names[i]) == 0)
			return i;
	return -1;
}

/* CLI name of a scenario */
const char *
drive_scenario_name(int scenario)
{
	return scenario >= 0 && scenario < DG_N_SCENARIOS ? scenario_names[scenario] : "?";
}

/* environment by CLI name */
int
drive_environment_parse(const char *name)
{
	int			i;

	for (i = 0; i < DG_N_ENVIRONMENTS; i++)
		if (strcmp(name, environment_names[i]) == 0)
			return i;
	return -1;
}

/* CLI name of an environment */
const char *
drive_environment_name(int environment)
{
	return environment >= 0 && environment < DG_N_ENVIRONMENTS ?
		environment_names[environment] : "?";
}

/* fault list ("all", "none", or comma-separated names) to a bit set */
int
drive_faults_parse(const char *list, unsigned *faults)
{
	const char *p = list;
	unsigned	f = 0;

	if (strcmp(list, "all") == 0)
	{
		*faults = DG_F_ALL;
		return 0;
	}
	if (strcmp(list, "none") == 0 || *list == '\0')
	{
		*faults = 0;
		return 0;
	}
	while (*p)
	{
		size_t		len = strcspn(p, ",");
		int			i,
					found = 0;

		for (i = 0; i < 7; i++)
			if (strlen(fault_names[i]) == len && strncmp(p, fault_names[i], len) == 0)
			{
				f |= 1u << i;
				found = 1;
			}
		if (!found)
			return -1;
		p += len;
		if (*p == ',')
			p++;
	}
	*faults = f;
	return 0;
}

/* short name of a MileageSource for readable CSV */
const char *
drive_source_name(int source)
{
	static const char *const names[] = {"gps", "fused", "network", "wifi", "cell", "passive", "unknown"};

	return source >= 0 && source <= MS_UNKNOWN ? names[source] : "unknown";
}

/* one float field: empty for NaN, else shortest-enough to round-trip */
static void
put_float(FILE *f, float x)
{
	if (!isnan(x))
		fprintf(f, "%.9g", (double) x);
}

/* the CSV the CLI prints (see drivegen.h) */
int
drive_write_csv(FILE *f, const Drive *d, int source_names)
{
	size_t		i;

	fputs("t_us,lat,lon,acc_m,speed_mps,source\n", f);
	for (i = 0; i < d->n; i++)
	{
		const MileageFix *x = &d->fixes[i];

		fprintf(f, "%lld,%.17g,%.17g,", (long long) x->t_us, x->lat, x->lon);
		put_float(f, x->acc_m);
		fputc(',', f);
		put_float(f, x->speed_mps);
		if (source_names)
			fprintf(f, ",%s\n", drive_source_name(x->source));
		else
			fprintf(f, ",%d\n", (int) x->source);
	}
	return ferror(f) ? -1 : 0;
}

/* FNV-1a over n bytes, continuing from h */
static uint64_t
fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;
	size_t		i;

	for (i = 0; i < n; i++)
	{
		h ^= c[i];
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

/* digest of the output, field by field (struct padding is never read) */
uint64_t
drive_digest(const Drive *d)
{
	uint64_t	h = UINT64_C(0xcbf29ce484222325);
	size_t		i;

	for (i = 0; i < d->n; i++)
	{
		const MileageFix *x = &d->fixes[i];

		h = fnv1a(h, &x->t_us, sizeof(x->t_us));
		h = fnv1a(h, &x->lat, sizeof(x->lat));
		h = fnv1a(h, &x->lon, sizeof(x->lon));
		h = fnv1a(h, &x->acc_m, sizeof(x->acc_m));
		h = fnv1a(h, &x->speed_mps, sizeof(x->speed_mps));
		h = fnv1a(h, &x->source, sizeof(x->source));
	}
	h = fnv1a(h, &d->true_m, sizeof(d->true_m));
	return h;
}
