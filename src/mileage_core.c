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
 *	 8. step length: the chord from the anchor, geodesic on the WGS-84
 *		ellipsoid (geo_kernel.c), or -- where the chord is noise (shorter
 *		than doppler_k times the fixes' combined accuracy) or contradicts
 *		the reported speeds by more than that -- the distance integrated
 *		from the Doppler speeds since the anchor (trapezoids over intervals
 *		of at most doppler_max_dt_s), provided the speeds have recently
 *		agreed with the positions.  Creeping traffic and multipath in
 *		cities no longer add metres; a phone without usable speeds gets
 *		chords.
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

/* what each status means, for people reading mileage_detail() */
const char *const mileage_status_reasons[MST__COUNT] = {
	"counted: moved beyond the hold radius",
	"counted: straight chord over a gap in the data",
	"first usable fix: the track starts here",
	"new position after consistent fixes: the jump is not counted",
	"within the hold radius of the last position: jitter, not counted",
	"vehicle stopped: held by the stop lock",
	"no valid time or coordinates",
	"coordinates exactly (0, 0): a receiver default, not a position",
	"time too far after the reference time (device clock)",
	"same time as the fix before",
	"Wi-Fi, cell or network position: never adds distance",
	"reported accuracy worse than the cap",
	"too far from the last plausible fix for the time elapsed",
	"after a gap, too far for the time elapsed: not counted"
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
	p->doppler_k = 3.0;
	p->doppler_max_dt_s = 10.0;
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
	RANGE(doppler_k, 0, 10);
	RANGE(doppler_max_dt_s, 1, 600);
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

/* micrometres of a length in metres (the unit of all sums) */
static int64_t
um(double m)
{
	return (int64_t) llround(m * 1e6);
}

/*
 * Book a fix: its status and the distance it adds complete its outcome,
 * which goes into the track's tally.
 */
static void
book(MileageState *s, int64_t t_us, MileageStatus st, double step, MileageFixOut *o)
{
	o->status = st;
	o->step_um = (st == MST_MOVED || st == MST_GAP) ? um(step) : 0;
	mileage_tally_add(&s->total, t_us, o);
	o->cum_um = s->total.moving_um + s->total.gap_um;
}

/* Do fixes of this status pass every filter (and so place the vehicle)? */
bool
mileage_status_used(MileageStatus st)
{
	return st == MST_MOVED || st == MST_GAP || st == MST_FIRST ||
		st == MST_RELOCATED || st == MST_HOLD || st == MST_STATIONARY;
}

/* Does a fix of this status become the anchor (the vehicle's position)? */
bool
mileage_status_anchors(MileageStatus st)
{
	return st == MST_MOVED || st == MST_GAP || st == MST_FIRST ||
		st == MST_RELOCATED || st == MST_GAP_IMPLAUSIBLE;
}

/*
 * Add one fix's outcome to a tally.  This is the only place where fixes
 * are counted, for tracks and their segments alike.
 */
void
mileage_tally_add(MileageTally *t, int64_t t_us, const MileageFixOut *o)
{
	t->n_fixes++;
	t->status_n[o->status]++;
	t->status_raw_um[o->status] += o->raw_um;
	if (o->status == MST_MOVED)
		t->moving_um += o->step_um;
	else if (o->status == MST_GAP)
		t->gap_um += o->step_um;
	t->n_valid += o->valid;
	t->n_gnss += o->gnss;
	if (o->ivl_bin >= 0)
		t->ivl_hist[o->ivl_bin]++;
	if (mileage_status_used(o->status))
	{
		if (!t->have_used)
			t->first_t_us = t_us;
		t->have_used = true;
		t->last_t_us = t_us;
	}
}

/* Add a later tally to an earlier one (segments are merged in time order) */
void
mileage_tally_merge(MileageTally *into, const MileageTally *from)
{
	int			i;

	into->moving_um += from->moving_um;
	into->gap_um += from->gap_um;
	for (i = 0; i < MST__COUNT; i++)
	{
		into->status_n[i] += from->status_n[i];
		into->status_raw_um[i] += from->status_raw_um[i];
	}
	into->n_fixes += from->n_fixes;
	into->n_valid += from->n_valid;
	into->n_gnss += from->n_gnss;
	for (i = 0; i < MILEAGE_IVL_BINS; i++)
		into->ivl_hist[i] += from->ivl_hist[i];
	if (from->have_used)
	{
		if (!into->have_used)
			into->first_t_us = from->first_t_us;
		into->have_used = true;
		into->last_t_us = from->last_t_us;
	}
}

/* Make f (at fg) the anchor */
static void
set_anchor(MileageState *s, const MileageFix *f, const GeoPoint *fg)
{
	s->anchor = *f;
	s->anchor_g = *fg;
	s->have_anchor = true;
	s->beyond_n = 0;
	s->dop_m = 0;
	s->dop_ok = true;
}

/*
 * The length of a moving step from the anchor (chord d).  Between noisy
 * positions a short chord overstates the path (noise adds to it, and
 * multipath moves a slow vehicle by tens of metres), while the reported
 * (Doppler) speed of a GNSS fix is accurate to a few cm/s and is hardly
 * affected by multipath.  So the speed-integrated distance since the
 * anchor replaces the chord when the chord is within the fixes'
 * uncertainty (doppler_k * hypot(acc_anchor, acc_fix)) or disagrees with
 * it by more than that -- provided every interval since the anchor had
 * speeds and the speeds have recently told the same story as the
 * positions (doppler_trusted), so a phone that reports no or frozen
 * speeds falls back to chords.  Long steps on which both agree keep the
 * chord.
 */
static double
step_length(const MileageState *s, const MileageFix *f, double d)
{
	double		slack = s->p.doppler_k * hypot(fix_acc(s, &s->anchor), fix_acc(s, f));

	if (s->p.doppler_k > 0 && s->dop_ok && s->dop_trusted &&
		(d < slack || fabs(s->dop_m - d) > slack))
		return s->dop_m;
	return d;
}

/*
 * After a moving step: keep decaying sums of chord and speed-integrated
 * metres over recent steps; speeds are trusted once they cover at least
 * 100 m of chords and account for between half and twice of them.
 */
static void
doppler_learn(MileageState *s, double d)
{
	if (!s->dop_ok)
		return;
	s->dop_sum_chord = s->dop_sum_chord * 0.98 + d;
	s->dop_sum_speed = s->dop_sum_speed * 0.98 + s->dop_m;
	s->dop_trusted = s->dop_sum_chord >= 100.0 &&
		s->dop_sum_speed >= 0.5 * s->dop_sum_chord &&
		s->dop_sum_speed <= 2.0 * s->dop_sum_chord;
}

/*
 * Feed the next fix (fixes must come in mileage_fix_cmp order).  out, if
 * not NULL, receives what happened to it.
 */
void
mileage_push(MileageState *s, const MileageFix *f, MileageFixOut *out)
{
	const MileageParams *p = &s->p;
	MileageFixOut local;
	GeoPoint	fg;
	double		raw_step = 0.0;
	bool		coords_ok;
	double		acc,
				d,
				hold;
	float		med;
	bool		data_gap;
	bool		go_run;

	if (out == NULL)
		out = &local;
	memset(out, 0, sizeof(*out));
	out->ivl_bin = -1;

	/* 1. validity; the raw length uses every fix with valid coordinates */
	coords_ok = isfinite(f->lat) && isfinite(f->lon) &&
		fabs(f->lat) <= 90.0 && fabs(f->lon) <= 180.0;
	if (coords_ok)
	{
		geo_point(f->lat, f->lon, &fg);
		if (s->have_raw)
			raw_step = geo_step(&s->raw_g, &fg);
		s->raw_g = fg;
		s->have_raw = true;
		out->raw_um = um(raw_step);
	}
	if (!coords_ok)
	{
		book(s, f->t_us, MST_INVALID, 0, out);
		return;
	}
	if (f->lat == 0.0 && f->lon == 0.0)
	{
		book(s, f->t_us, MST_ZERO, 0, out);
		return;
	}
	if (p->ref_time_us != INT64_MAX &&
		(double) (f->t_us - p->ref_time_us) > p->future_s * USEC_PER_SEC)
	{
		book(s, f->t_us, MST_FUTURE, 0, out);
		return;
	}

	/* 2. duplicates: the first fix of a time wins (total order) */
	if (s->have_prev && f->t_us == s->prev_t_us)
	{
		book(s, f->t_us, MST_DUPLICATE, 0, out);
		return;
	}
	s->have_prev = true;
	s->prev_t_us = f->t_us;
	out->valid = true;

	/* 3. network fixes never add distance */
	if (f->source == MS_NETWORK || f->source == MS_WIFI || f->source == MS_CELL)
	{
		book(s, f->t_us, MST_NON_GNSS, 0, out);
		return;
	}
	out->gnss = true;
	if (s->have_gnss)
	{
		double		ivl = (double) (f->t_us - s->gnss_t_us) / USEC_PER_SEC;
		int			b = 0;

		while (b < MILEAGE_IVL_BINS - 1 && ivl > ivl_bounds[b])
			b++;
		out->ivl_bin = (int8_t) b;
	}
	s->have_gnss = true;
	s->gnss_t_us = f->t_us;

	/* 4. accuracy cap */
	acc = fix_acc(s, f);
	if (acc > p->accuracy_cap_m)
	{
		book(s, f->t_us, MST_LOW_ACCURACY, 0, out);
		return;
	}

	/* 5. kinematic gate from the last plausible fix, with relocation */
	if (s->have_plausible &&
		!within_gate(s, &s->plausible, f, geo_step(&s->plausible_g, &fg)))
	{
		if (s->alt_n > 0 &&
			within_gate(s, &s->alt_last, f, geo_step(&s->alt_g, &fg)))
			s->alt_n++;
		else
			s->alt_n = 1;
		s->alt_last = *f;
		s->alt_g = fg;
		if (s->alt_n < p->recover_fixes)
		{
			book(s, f->t_us, MST_IMPLAUSIBLE, 0, out);
			return;
		}
		/* consistent enough: a relocation, adding no distance */
		s->alt_n = 0;
		s->plausible = *f;
		s->plausible_g = fg;
		s->stopped = false;
		s->n_speeds = 0;
		set_anchor(s, f, &fg);
		book(s, f->t_us, MST_RELOCATED, 0, out);
		return;
	}
	s->alt_n = 0;
	data_gap = s->have_plausible && dt_s(&s->plausible, f) > p->gap_s;
	/* integrate the reported speeds between consecutive plausible fixes */
	if (s->have_plausible && isfinite(f->speed_mps) && isfinite(s->plausible.speed_mps) &&
		dt_s(&s->plausible, f) <= p->doppler_max_dt_s)
	{
		/*
		 * While stopped, a speed under stop_speed_mps restarts the sum:
		 * noise around zero must not add up over a long stop.
		 */
		if (s->stopped && f->speed_mps < p->stop_speed_mps)
			s->dop_m = 0;
		else
			s->dop_m += 0.5 * ((double) f->speed_mps + (double) s->plausible.speed_mps) * dt_s(&s->plausible, f);
	}
	else
		s->dop_ok = false;
	s->plausible = *f;
	s->plausible_g = fg;
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
		set_anchor(s, f, &fg);
		book(s, f->t_us, MST_FIRST, 0, out);
		return;
	}

	d = geo_step(&s->anchor_g, &fg);
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
			set_anchor(s, f, &fg);
			book(s, f->t_us, MST_GAP_IMPLAUSIBLE, 0, out);
			return;
		}
		s->stopped = !(isfinite(med) && med >= p->go_speed_mps);
		set_anchor(s, f, &fg);
		book(s, f->t_us, MST_GAP, d, out);
		return;
	}

	/* 7. hold radius and stop lock */
	if (!s->stopped)
	{
		if (d >= hold)
		{
			double		step = step_length(s, f, d);

			doppler_learn(s, d);
			set_anchor(s, f, &fg);
			book(s, f->t_us, MST_MOVED, step, out);
			return;
		}
		if ((isfinite(med) && med < p->stop_speed_mps) ||
			(!isfinite(med) && dt_s(&s->anchor, f) >= p->stop_after_s))
			s->stopped = true;
		book(s, f->t_us, MST_HOLD, 0, out);
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
			double		step = step_length(s, f, d);

			doppler_learn(s, d);
			s->stopped = false;
			set_anchor(s, f, &fg);
			book(s, f->t_us, MST_MOVED, step, out);
			return;
		}
		s->beyond_n++;
		s->beyond_d = d;
	}
	else
		s->beyond_n = 0;
	book(s, f->t_us, MST_STATIONARY, 0, out);
}

/*
 * The result of a tally: metres, the median interval between GNSS fixes
 * (from the histogram, so it costs no memory), and the quality flags.
 */
void
mileage_result(const MileageTally *t, const MileageParams *p, MileageResult *r)
{
	int64_t		n_ivl = 0,
				half,
				acc = 0,
				raw = 0;
	int			b;

	memset(r, 0, sizeof(*r));
	r->moving_m = t->moving_um / 1e6;
	r->gap_chord_m = t->gap_um / 1e6;
	r->distance_m = (t->moving_um + t->gap_um) / 1e6;
	for (b = 0; b < MST__COUNT; b++)
	{
		r->status_n[b] = t->status_n[b];
		r->status_raw_m[b] = t->status_raw_um[b] / 1e6;
		raw += t->status_raw_um[b];
		if (mileage_status_used((MileageStatus) b))
			r->n_used += t->status_n[b];
	}
	r->raw_length_m = raw / 1e6;
	r->n_fixes = t->n_fixes;
	r->have_used = t->have_used;
	r->first_t_us = t->first_t_us;
	r->last_t_us = t->last_t_us;
	r->tally = *t;

	for (b = 0; b < MILEAGE_IVL_BINS; b++)
		n_ivl += t->ivl_hist[b];
	if (n_ivl > 0)
	{
		half = (n_ivl + 1) / 2;
		for (b = 0; b < MILEAGE_IVL_BINS; b++)
		{
			acc += t->ivl_hist[b];
			if (acc >= half)
				break;
		}
		r->median_interval_s = b > 0 ? ivl_bounds[b - 1] + 0.5 : 1.0;
		if (b == MILEAGE_IVL_BINS - 1)
			r->median_interval_s = ivl_bounds[b - 1];
	}
	r->gps_share = t->n_valid > 0 ? (double) t->n_gnss / (double) t->n_valid : 0.0;

	if (n_ivl > 0 && r->median_interval_s > p->undersampled_s)
		r->flags |= MFL_UNDERSAMPLED;
	if (t->n_valid > 0 && r->gps_share < p->min_gps_share)
		r->flags |= MFL_LOW_GPS_SHARE;
	if (t->status_n[MST_GAP] > 0)
		r->flags |= MFL_HAS_GAPS;
	if (r->n_used == 0)
		r->flags |= MFL_NO_DATA;
}

/* Close the track */
void
mileage_finish(MileageState *s, MileageResult *out)
{
	mileage_result(&s->total, &s->p, out);
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
