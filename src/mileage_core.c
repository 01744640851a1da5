/*-------------------------------------------------------------------------
 *
 * mileage_core.c
 *		Driven distance from one device's raw location fixes, with an audit
 *		of every metre that was and was not counted.
 *
 * Summing raw fixes is badly wrong: a parked phone's jitter adds
 * kilometres an hour, outliers and stale fixes add jumps, and gaps either
 * vanish or turn into straight lines through buildings.  Filtering too hard
 * cuts real distance instead.  This core takes the fixes in time order and
 * keeps constant-size state (so it could run on a stream).  Each fix goes
 * through these stages, each with an explicit parameter:
 *
 *	 1. validity: finite time and position in range, not exactly (0, 0), not
 *		further in the future than future_s after the reference time;
 *	 2. duplicates: a fix with the time of the fix before is dropped (the
 *		order of fixes with equal times is total, so the choice does not
 *		depend on arrival order);
 *	 3. source: Wi-Fi, cell and network fixes never add distance;
 *	 4. accuracy: GNSS fixes reporting worse than accuracy_cap_m are dropped;
 *	 5. kinematic gate: the speed needed to reach the fix from the last
 *		plausible fix, after allowing both fixes' uncertainty
 *		(gate_k * hypot(acc_a, acc_b)), must not exceed max_speed_mps.  A
 *		rejected fix does not replace the reference, so one outlier cannot
 *		drag the track; but recover_fixes consecutive rejected fixes that
 *		agree with each other are a real relocation (the phone moved while
 *		it was off): the track continues from there and the jump adds no
 *		distance, so the gate can never lock the track out;
 *	 6. gaps: when more than gap_s passed since the last plausible fix (a
 *		tunnel, the phone off) and the vehicle is beyond the hold radius,
 *		the straight chord from the anchor is counted if it is kinematically
 *		plausible, and booked separately (gap_chord_m);
 *	 7. hold and stop lock: a fix closer to the anchor than the hold radius
 *		(hold_k times the reported accuracy, clamped to [hold_min_m,
 *		hold_max_m]) is jitter and adds nothing; the anchor only moves on
 *		when a fix is beyond it, and the step from the anchor is counted.
 *		When the vehicle is stopped (median of the last three reported
 *		speeds under stop_speed_mps, or held for stop_after_s without speed
 *		reports) the anchor is locked: leaving takes a fix beyond the hold
 *		radius and evidence of motion (reported speeds of at least
 *		go_speed_mps for go_for_s and three reports in a row, or, without
 *		speeds, two consecutive fixes beyond the radius, the second
 *		farther).  Doppler spikes of a parked phone (a second or two) and
 *		single multipath jumps therefore add nothing;
 *	 8. step length: geodesic on the WGS-84 ellipsoid (geo_kernel.c).
 *
 * The result carries the distance split into moving metres and gap chords,
 * the naive raw length of the same fixes, the count and raw metres of every
 * status (adding up to the raw length), and quality flags: undersampled
 * (the median interval between GNSS fixes exceeds undersampled_s, so turns
 * are cut short and nothing can be promised), low_gps_share, has_gaps.
 *
 * Copyright (c) 2026, fieldops developers
 *
 * IDENTIFICATION
 *		src/mileage_core.c
 *
 *-------------------------------------------------------------------------
 */
#include "mileage_core.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "geo_kernel.h"

#define USEC_PER_SEC 1000000.0

const char *const mileage_status_names[MST__COUNT] = {
	"moved", "gap", "first", "relocated", "hold", "stationary",
	"invalid", "zero", "future", "duplicate", "non_gnss", "low_accuracy",
	"implausible", "gap_implausible"
};

const char *const mileage_flag_names[MFL__COUNT] = {
	"undersampled", "low_gps_share", "has_gaps", "no_data"
};

/* upper bounds of the interval histogram bins, in seconds */
static const double ivl_bounds[MILEAGE_IVL_BINS] = {
	1.5, 2.5, 5.5, 10.5, 15.5, 20.5, 30.5, 45.5, 60.5, 120.5, 600.5, INFINITY
};

/* The documented defaults of every parameter */
void
mileage_params_default(MileageParams *p)
{
	p->max_speed_mps = 70.0;	/* 252 km/h */
	p->gate_k = 3.0;
	p->recover_fixes = 5;
	p->accuracy_cap_m = 50.0;
	p->default_accuracy_m = 15.0;
	p->gap_s = 90.0;
	p->hold_k = 1.0;
	p->hold_min_m = 5.0;
	p->hold_max_m = 30.0;
	p->stop_speed_mps = 0.5;
	p->go_speed_mps = 1.0;
	p->go_for_s = 4.0;
	p->stop_after_s = 20.0;
	p->future_s = 600.0;
	p->ref_time_us = INT64_MAX;
	p->undersampled_s = 20.0;
	p->min_gps_share = 0.5;
}

/*
 * Check every parameter; NULL when all are usable, otherwise a message
 * naming the first offending one and its accepted range.
 */
const char *
mileage_params_check(const MileageParams *p)
{
#define RANGE(f, lo, hi) \
	if (!(p->f >= (lo) && p->f <= (hi))) \
		return #f " must be between " #lo " and " #hi
	RANGE(max_speed_mps, 1, 400);
	RANGE(gate_k, 0, 10);
	RANGE(recover_fixes, 2, 20);
	RANGE(accuracy_cap_m, 1, 100000);
	RANGE(default_accuracy_m, 1, 10000);
	RANGE(gap_s, 1, 86400);
	RANGE(hold_k, 0, 10);
	RANGE(hold_min_m, 0, 1000);
	RANGE(hold_max_m, 0, 1000);
	RANGE(stop_speed_mps, 0, 10);
	RANGE(go_speed_mps, 0, 20);
	RANGE(go_for_s, 0, 600);
	RANGE(stop_after_s, 1, 3600);
	RANGE(future_s, 0, 31536000);
	RANGE(undersampled_s, 1, 3600);
	RANGE(min_gps_share, 0, 1);
#undef RANGE
	if (p->hold_max_m < p->hold_min_m)
		return "hold_max_m must not be less than hold_min_m";
	if (p->go_speed_mps < p->stop_speed_mps)
		return "go_speed_mps must not be less than stop_speed_mps";
	return NULL;
}

/* Start a track */
void
mileage_init(MileageState *s, const MileageParams *p)
{
	memset(s, 0, sizeof(*s));
	s->p = *p;
}

/* NaN-safe float compare for the median of three */
static float
median3(const float *v, int n)
{
	float		a = v[0],
				b = v[1],
				c = v[2];

	if (n < 3)
		return n == 0 ? NAN : (n == 1 ? a : (a + b) / 2);
	if (a > b)
	{
		float		t = a;

		a = b;
		b = t;
	}
	if (b > c)
		b = c;
	return a > b ? a : b;
}

/* accuracy of a fix as the filter uses it */
static double
fix_acc(const MileageState *s, const MileageFix *f)
{
	return isfinite(f->acc_m) && f->acc_m > 0 ? (double) f->acc_m : s->p.default_accuracy_m;
}

/* seconds between two fixes */
static double
dt_s(const MileageFix *a, const MileageFix *b)
{
	return (double) (b->t_us - a->t_us) / USEC_PER_SEC;
}

/*
 * Does b follow a (d metres away) within the kinematic gate?  The uncertainty of both
 * fixes is allowed before the remaining distance is turned into a speed;
 * at least one second is assumed so that two fixes a few milliseconds
 * apart cannot imply an absurd speed.
 */
static bool
within_gate(const MileageState *s, const MileageFix *a, const MileageFix *b, double d)
{
	double		slack = s->p.gate_k * hypot(fix_acc(s, a), fix_acc(s, b));
	double		dt = dt_s(a, b);

	if (dt < 1.0)
		dt = 1.0;
	return fmax(0.0, d - slack) / dt <= s->p.max_speed_mps;
}

/*
 * Distance from an earlier fix to f.  Consecutive fixes are usually each
 * other's raw predecessor, gate reference and anchor at once, so the raw
 * step already measured is reused when a is that predecessor.
 */
static double
dist_to(const MileageState *s, const MileageFix *a, const MileageFix *f, double raw_step)
{
	if (s->have_prev_raw_fix && a->t_us == s->prev_raw_t_us &&
		a->lat == s->prev_raw_lat && a->lon == s->prev_raw_lon)
		return raw_step;
	return geo_distance(a->lat, a->lon, f->lat, f->lon);
}

/* Book a fix's status and its raw step; fill the optional per-fix output */
static void
book(MileageState *s, MileageStatus st, double raw_step, double step,
	 MileageFixOut *out)
{
	s->r.status_n[st]++;
	s->r.status_raw_m[st] += raw_step;
	if (st == MST_MOVED)
		s->r.moving_m += step;
	else if (st == MST_GAP)
		s->r.gap_chord_m += step;
	if (out)
	{
		out->status = st;
		out->step_m = step;
		out->cum_m = s->r.moving_m + s->r.gap_chord_m;
	}
}

/* Make f the anchor (and the reference of the gate) */
static void
set_anchor(MileageState *s, const MileageFix *f)
{
	s->anchor = *f;
	s->have_anchor = true;
	s->beyond_n = 0;
	if (s->r.first_t_us == 0)
		s->r.first_t_us = f->t_us;
	s->r.last_t_us = f->t_us;
}

/*
 * Feed the next fix (fixes must come in mileage_fix_cmp order).  out, if
 * not NULL, receives what happened to it.
 */
void
mileage_push(MileageState *s, const MileageFix *f, MileageFixOut *out)
{
	const MileageParams *p = &s->p;
	double		raw_step = 0.0;
	bool		coords_ok;
	double		acc,
				d,
				hold;
	float		med;
	bool		data_gap;
	bool		go_run;

	s->r.n_fixes++;

	/* 1. validity; the raw length uses every fix with valid coordinates */
	coords_ok = isfinite(f->lat) && isfinite(f->lon) &&
		fabs(f->lat) <= 90.0 && fabs(f->lon) <= 180.0;
	if (coords_ok)
	{
		if (s->have_raw)
			raw_step = geo_distance(s->raw_lat, s->raw_lon, f->lat, f->lon);
		/* remember the raw predecessor for dist_to(), then move on */
		s->have_prev_raw_fix = s->have_raw;
		s->prev_raw_t_us = s->raw_t_us;
		s->prev_raw_lat = s->raw_lat;
		s->prev_raw_lon = s->raw_lon;
		s->raw_lat = f->lat;
		s->raw_lon = f->lon;
		s->raw_t_us = f->t_us;
		s->have_raw = true;
	}
	if (!coords_ok)
	{
		book(s, MST_INVALID, raw_step, 0, out);
		return;
	}
	if (f->lat == 0.0 && f->lon == 0.0)
	{
		book(s, MST_ZERO, raw_step, 0, out);
		return;
	}
	if (p->ref_time_us != INT64_MAX &&
		(double) (f->t_us - p->ref_time_us) > p->future_s * USEC_PER_SEC)
	{
		book(s, MST_FUTURE, raw_step, 0, out);
		return;
	}

	/* 2. duplicates: the first fix of a time wins (total order) */
	if (s->have_prev && f->t_us == s->prev_t_us)
	{
		book(s, MST_DUPLICATE, raw_step, 0, out);
		return;
	}
	s->have_prev = true;
	s->prev_t_us = f->t_us;
	s->n_valid++;

	/* 3. network fixes never add distance */
	if (f->source == MS_NETWORK || f->source == MS_WIFI || f->source == MS_CELL)
	{
		book(s, MST_NON_GNSS, raw_step, 0, out);
		return;
	}
	s->n_gnss++;
	if (s->have_gnss)
	{
		double		ivl = (double) (f->t_us - s->gnss_t_us) / USEC_PER_SEC;
		int			b = 0;

		while (b < MILEAGE_IVL_BINS - 1 && ivl > ivl_bounds[b])
			b++;
		s->ivl_hist[b]++;
	}
	s->have_gnss = true;
	s->gnss_t_us = f->t_us;

	/* 4. accuracy cap */
	acc = fix_acc(s, f);
	if (acc > p->accuracy_cap_m)
	{
		book(s, MST_LOW_ACCURACY, raw_step, 0, out);
		return;
	}

	/* 5. kinematic gate from the last plausible fix, with relocation */
	if (s->have_plausible &&
		!within_gate(s, &s->plausible, f, dist_to(s, &s->plausible, f, raw_step)))
	{
		if (s->alt_n > 0 &&
			within_gate(s, &s->alt_last, f, dist_to(s, &s->alt_last, f, raw_step)))
			s->alt_n++;
		else
			s->alt_n = 1;
		s->alt_last = *f;
		if (s->alt_n < p->recover_fixes)
		{
			book(s, MST_IMPLAUSIBLE, raw_step, 0, out);
			return;
		}
		/* consistent enough: a relocation, adding no distance */
		s->alt_n = 0;
		s->plausible = *f;
		s->stopped = false;
		s->n_speeds = 0;
		set_anchor(s, f);
		book(s, MST_RELOCATED, raw_step, 0, out);
		return;
	}
	s->alt_n = 0;
	data_gap = s->have_plausible && dt_s(&s->plausible, f) > p->gap_s;
	s->plausible = *f;
	s->have_plausible = true;

	/* reported speeds feed the stop lock */
	if (isfinite(f->speed_mps) && f->speed_mps >= 0)
	{
		if (s->n_speeds < 3)
			s->speeds[s->n_speeds++] = f->speed_mps;
		else
		{
			/* keep the last three */
			s->speeds[0] = s->speeds[1];
			s->speeds[1] = s->speeds[2];
			s->speeds[2] = f->speed_mps;
		}
		/* the current run of reports at or above go_speed_mps */
		if (f->speed_mps >= p->go_speed_mps)
		{
			if (s->go_n++ == 0)
				s->go_since_us = f->t_us;
		}
		else
			s->go_n = 0;
	}
	med = median3(s->speeds, s->n_speeds);

	/*
	 * Motion needs a run of speed reports at or above go_speed_mps lasting
	 * go_for_s and at least three reports: a parked phone's Doppler spikes
	 * last a second or two.
	 */
	go_run = s->go_n >= 3 && dt_s(&(MileageFix) {.t_us = s->go_since_us}, f) >= p->go_for_s;

	if (!s->have_anchor)
	{
		s->stopped = !(isfinite(med) && med >= p->go_speed_mps);
		set_anchor(s, f);
		book(s, MST_FIRST, raw_step, 0, out);
		return;
	}

	d = dist_to(s, &s->anchor, f, raw_step);
	hold = p->hold_k * fmax(acc, fix_acc(s, &s->anchor));
	hold = fmin(fmax(hold, p->hold_min_m), p->hold_max_m);

	/*
	 * 6. gap (no plausible fix for gap_s): the chord from the anchor counts,
	 * booked apart, unless the vehicle is still within the hold radius
	 */
	if (data_gap && d >= hold)
	{
		if (d / dt_s(&s->anchor, f) > p->max_speed_mps)
		{
			s->stopped = true;
			set_anchor(s, f);
			book(s, MST_GAP_IMPLAUSIBLE, raw_step, 0, out);
			return;
		}
		s->stopped = !(isfinite(med) && med >= p->go_speed_mps);
		set_anchor(s, f);
		book(s, MST_GAP, raw_step, d, out);
		return;
	}

	/* 7. hold radius and stop lock */
	if (!s->stopped)
	{
		if (d >= hold)
		{
			set_anchor(s, f);
			book(s, MST_MOVED, raw_step, d, out);
			return;
		}
		if ((isfinite(med) && med < p->stop_speed_mps) ||
			(!isfinite(med) && dt_s(&s->anchor, f) >= p->stop_after_s))
			s->stopped = true;
		book(s, MST_HOLD, raw_step, 0, out);
		return;
	}

	/* stopped: leave only on a fix beyond the radius and evidence of motion */
	if (d >= hold)
	{
		bool		go;

		if (isfinite(med))
			go = go_run;
		else
			go = s->beyond_n >= 1 && d > s->beyond_d;
		if (go)
		{
			s->stopped = false;
			set_anchor(s, f);
			book(s, MST_MOVED, raw_step, d, out);
			return;
		}
		s->beyond_n++;
		s->beyond_d = d;
	}
	else
		s->beyond_n = 0;
	book(s, MST_STATIONARY, raw_step, 0, out);
}

/* Close the track: totals, median interval, flags */
void
mileage_finish(MileageState *s, MileageResult *out)
{
	MileageResult *r = &s->r;
	int64_t		n_ivl = 0,
				half,
				acc = 0;
	int			b;

	r->distance_m = r->moving_m + r->gap_chord_m;
	r->raw_length_m = 0;
	for (b = 0; b < MST__COUNT; b++)
		r->raw_length_m += r->status_raw_m[b];
	r->n_used = r->status_n[MST_MOVED] + r->status_n[MST_GAP] +
		r->status_n[MST_FIRST] + r->status_n[MST_RELOCATED];

	for (b = 0; b < MILEAGE_IVL_BINS; b++)
		n_ivl += s->ivl_hist[b];
	r->median_interval_s = 0;
	if (n_ivl > 0)
	{
		half = (n_ivl + 1) / 2;
		for (b = 0; b < MILEAGE_IVL_BINS; b++)
		{
			acc += s->ivl_hist[b];
			if (acc >= half)
				break;
		}
		r->median_interval_s = b > 0 ? ivl_bounds[b - 1] + 0.5 : 1.0;
		if (b == MILEAGE_IVL_BINS - 1)
			r->median_interval_s = ivl_bounds[b - 1];
	}
	r->gps_share = s->n_valid > 0 ? (double) s->n_gnss / (double) s->n_valid : 0.0;

	r->flags = 0;
	if (n_ivl > 0 && r->median_interval_s > s->p.undersampled_s)
		r->flags |= MFL_UNDERSAMPLED;
	if (s->n_valid > 0 && r->gps_share < s->p.min_gps_share)
		r->flags |= MFL_LOW_GPS_SHARE;
	if (r->status_n[MST_GAP] > 0)
		r->flags |= MFL_HAS_GAPS;
	if (r->n_used == 0)
		r->flags |= MFL_NO_DATA;
	*out = *r;
}

/* compare two doubles, NaN last, in a total order */
static int
cmp_double(double a, double b)
{
	if (isnan(a) || isnan(b))
		return isnan(a) - isnan(b);
	return (a > b) - (a < b);
}

/*
 * Total order of fixes: time, then the better accuracy, then position,
 * speed and source.  Rows that are equal in every field are identical, so
 * the result cannot depend on the order rows arrive in.
 */
int
mileage_fix_cmp(const void *pa, const void *pb)
{
	const MileageFix *a = pa;
	const MileageFix *b = pb;
	int			c;

	if (a->t_us != b->t_us)
		return a->t_us < b->t_us ? -1 : 1;
	if ((c = cmp_double(a->acc_m, b->acc_m)) != 0)
		return c;
	if ((c = cmp_double(a->lat, b->lat)) != 0)
		return c;
	if ((c = cmp_double(a->lon, b->lon)) != 0)
		return c;
	if ((c = cmp_double(a->speed_mps, b->speed_mps)) != 0)
		return c;
	return (int) a->source - (int) b->source;
}

/*
 * Sort fixes in the total order.  Tracks usually arrive in time order
 * already, so a linear check skips the sort.
 */
void
mileage_sort(MileageFix *fixes, size_t n)
{
	size_t		i;

	for (i = 1; i < n; i++)
		if (mileage_fix_cmp(&fixes[i - 1], &fixes[i]) > 0)
			break;
	if (i < n)
		qsort(fixes, n, sizeof(MileageFix), mileage_fix_cmp);
}

/* Sort, stream and finish a whole track; detail (n entries) is optional */
void
mileage_compute(MileageFix *fixes, size_t n, const MileageParams *p,
				MileageResult *out, MileageFixOut *detail)
{
	MileageState s;
	size_t		i;

	mileage_sort(fixes, n);
	mileage_init(&s, p);
	for (i = 0; i < n; i++)
		mileage_push(&s, &fixes[i], detail ? &detail[i] : NULL);
	mileage_finish(&s, out);
}
