/*-------------------------------------------------------------------------
 *
 * spoof_core.c
 *		Deterministic scoring of how likely one location fix is spoofed,
 *		from the fix, its context and a scorecard model.
 *
 * No single test catches a spoofed location: the OS mock flag is absent on
 * rooted phones, a replayed track has plausible speeds, and a simulated
 * GNSS signal fools the phone itself.  But every cheap way of faking a
 * position leaves some trace -- a frozen or too-perfect fix, Wi-Fi access
 * points that are somewhere else, a clock that does not match the upload,
 * the customer's pin copied to the last decimal.  This core checks a list
 * of such signals, each a reason code worth a number of points, and adds
 * the points on a log-odds scale (a scorecard: +10 points double the odds
 * of spoofing over the model's prior).  The score is the probability as a
 * percentage; the model's thresholds turn it into a GREEN / AMBER / RED
 * band, and a few signals (a replayed Wi-Fi scan) reject the fix alone.
 *
 * The result is a pure function of its inputs: no clock, no randomness, no
 * I/O, no allocation.  Signals are evaluated and their points summed in a
 * fixed order, and every number of the reasons is printed with a fixed
 * format, so the same inputs give byte-identical reasons JSON on the same
 * build.  The SQL layer gathers the context (previous fixes, the learned
 * Wi-Fi and cell locations, history) and keeps the reasons with the fix,
 * so a reviewer sees why, not just a number.  Coverage counts the groups
 * of signals that had data: a GREEN fix with a coverage of 2 proves much
 * less than one with 8.
 *
 * Every signal has honest false positives (listed with each check); none
 * but a replayed scan is meant to decide alone, and the default points are
 * physically motivated guesses awaiting calibration on labelled data.
 *
 * Copyright (c) 2026, fieldops developers
 *
 * IDENTIFICATION
 *		src/spoof_core.c
 *
 *-------------------------------------------------------------------------
 */
#include "spoof_core.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "geo_kernel.h"

/*
 * "Identical coordinates": the same at 1e-7 degree (about 1 cm), the
 * resolution phones report and the replay digests round to, so half a unit
 * either way.  (It was a whole unit: neighbouring values then counted as
 * the same, and an honest still phone whose noise is a few metres met that
 * by chance about once in 10 000 pairs of fixes -- ingest_bench's
 * generator, not the calibration's, showed it: 2 of 100 000 honest fixes
 * red by frozen_position alone.)
 */
#define SPOOF_SAME_DEG 5e-8

/* ln 2, spelled out: M_LN2 is not in ISO C */
#define SPOOF_LN2 0.69314718055994530942

/*
 * Seconds from b to a.  Differences are taken in doubles (exact for any
 * plausible epoch milliseconds), so garbage times cannot overflow int64.
 */
static double
ms_diff_s(int64_t a, int64_t b)
{
	return ((double) a - (double) b) / 1000.0;
}

const char *const spoof_signal_codes[SPOOF__NSIG] = {
	"os_mock", "integrity_failed", "implausible_speed", "teleport_round_trip",
	"frozen_position", "constant_accuracy", "zero_altitude",
	"constant_bearing_while_moving", "zero_speed_while_moving",
	"speed_mismatch", "implausible_accuracy", "no_satellites", "uniform_cn0",
	"wifi_far", "wifi_no_site_overlap", "wifi_scan_replay", "cell_far",
	"cell_foreign_mcc", "clock_future", "clock_skew_jump", "stale_fix",
	"same_coords_earlier_day", "shared_device", "pin_drop", "fresh_rebind"
};

const char *const spoof_group_names[SPOOF_GROUPS] = {
	"os_flags", "integrity", "kinematics", "aux_fields", "gnss", "wifi",
	"cell", "clock", "history"
};

const SpoofGroup spoof_signal_group[SPOOF__NSIG] = {
	SPOOF_G_OS_FLAGS,			/* os_mock */
	SPOOF_G_INTEGRITY,			/* integrity_failed */
	SPOOF_G_KINEMATICS,			/* implausible_speed */
	SPOOF_G_KINEMATICS,			/* teleport_round_trip */
	SPOOF_G_KINEMATICS,			/* frozen_position */
	SPOOF_G_AUX_FIELDS,			/* constant_accuracy */
	SPOOF_G_AUX_FIELDS,			/* zero_altitude */
	SPOOF_G_KINEMATICS,			/* constant_bearing_while_moving */
	SPOOF_G_KINEMATICS,			/* zero_speed_while_moving */
	SPOOF_G_KINEMATICS,			/* speed_mismatch */
	SPOOF_G_AUX_FIELDS,			/* implausible_accuracy */
	SPOOF_G_GNSS,				/* no_satellites */
	SPOOF_G_GNSS,				/* uniform_cn0 */
	SPOOF_G_WIFI,				/* wifi_far */
	SPOOF_G_WIFI,				/* wifi_no_site_overlap */
	SPOOF_G_WIFI,				/* wifi_scan_replay */
	SPOOF_G_CELL,				/* cell_far */
	SPOOF_G_CELL,				/* cell_foreign_mcc */
	SPOOF_G_CLOCK,				/* clock_future */
	SPOOF_G_CLOCK,				/* clock_skew_jump */
	SPOOF_G_CLOCK,				/* stale_fix */
	SPOOF_G_HISTORY,			/* same_coords_earlier_day */
	SPOOF_G_HISTORY,			/* shared_device */
	SPOOF_G_HISTORY,			/* pin_drop */
	SPOOF_G_HISTORY				/* fresh_rebind */
};

/*
 * The documented defaults.  The prior is a 2 % base rate of spoofed fixes
 * (odds 1:49, score 2).  With it, AMBER at 25 needs about 40 points and RED
 * at 70 about 69: one medium signal (30 points, score 14) stays GREEN, two
 * independent ones go AMBER, and the OS mock flag alone (75, score 79) is
 * RED, since apart from allowlisted external receivers nothing honest sets
 * it.  Points are weights of evidence guessed from how rarely each trace
 * appears honestly; they are to be calibrated on labelled fixes.
 */
void
spoof_model_default(SpoofModel *m)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->version, sizeof(m->version), "%s-default", SPOOF_ALGO_VERSION);
	m->prior_log_odds = log(1.0 / 49.0);
	m->amber_score = 25;
	m->red_score = 70;

	m->weight[SPOOF_OS_MOCK] = 75;
	m->weight[SPOOF_INTEGRITY_FAILED] = 35;
	m->weight[SPOOF_IMPLAUSIBLE_SPEED] = 30;
	m->weight[SPOOF_TELEPORT_ROUND_TRIP] = 45;
	m->weight[SPOOF_FROZEN_POSITION] = 30;
	m->weight[SPOOF_CONSTANT_ACCURACY] = 15;
	m->weight[SPOOF_ZERO_ALTITUDE] = 15;
	m->weight[SPOOF_CONSTANT_BEARING] = 15;
	m->weight[SPOOF_ZERO_SPEED_WHILE_MOVING] = 20;
	m->weight[SPOOF_SPEED_MISMATCH] = 10;
	m->weight[SPOOF_IMPLAUSIBLE_ACCURACY] = 20;
	m->weight[SPOOF_NO_SATELLITES] = 30;
	m->weight[SPOOF_UNIFORM_CN0] = 40;
	m->weight[SPOOF_WIFI_FAR] = 35;
	m->weight[SPOOF_WIFI_NO_SITE_OVERLAP] = 15;
	m->weight[SPOOF_WIFI_SCAN_REPLAY] = 80;
	m->weight[SPOOF_CELL_FAR] = 25;
	m->weight[SPOOF_CELL_FOREIGN_MCC] = 20;
	m->weight[SPOOF_CLOCK_FUTURE] = 15;
	m->weight[SPOOF_CLOCK_SKEW_JUMP] = 10;
	m->weight[SPOOF_STALE_FIX] = 10;
	m->weight[SPOOF_SAME_COORDS_EARLIER_DAY] = 45;
	m->weight[SPOOF_SHARED_DEVICE] = 10;
	m->weight[SPOOF_PIN_DROP] = 40;
	m->weight[SPOOF_FRESH_REBIND] = 45;
	m->hard[SPOOF_WIFI_SCAN_REPLAY] = true;

	m->default_accuracy_m = 30.0;	/* a typical urban network/fused radius */
	m->max_speed_mps = 70.0;	/* 252 km/h: no honest ground vehicle */
	m->impossible_speed_mps = 250.0;	/* 900 km/h: faster than airliners */
	m->impossible_extra_points = 30.0;
	m->long_leg_m = 100000.0;	/* shorter legs are not flown */
	m->launch_min_m = 1000.0;	/* beyond any multipath error */
	m->road_accel_mps2 = 3.0;	/* a brisk car launch (0-100 km/h in 9 s) */
	m->road_brake_mps2 = 8.0;	/* an emergency stop */
	m->road_top_mps = 40.0;		/* 144 km/h: above the 120 km/h expressway limit */
	m->rail_accel_mps2 = 0.5;	/* high-speed trains accelerate at 0.3-0.5 */
	m->rail_brake_mps2 = 1.0;	/* ... and brake at up to about 1 */
	m->rail_top_mps = 97.0;		/* 350 km/h: the fastest CRH/Fuxing service */
	m->kin_max_gap_s = 60.0;	/* beyond, the chord says little about speed */
	m->moving_mps = 5.0;		/* 18 km/h: above walking and GNSS jitter */
	m->speed_mismatch_factor = 3.0;
	m->speed_mismatch_slack_mps = 2.0;
	m->teleport_min_m = 1000.0;
	m->teleport_return_m = 100.0;
	m->teleport_max_s = 1800.0;
	m->frozen_min_fixes = 2;	/* two fresh solutions on the same cm */
	m->gnss_grade_accuracy_m = 8.0; /* Wi-Fi/cell positioning claims more */
	m->frozen_alt_accuracy_m = 20.0;	/* iOS Wi-Fi fixes claim 65 m */
	m->constant_accuracy_min_fixes = 5;
	m->zero_altitude_min_fixes = 5;
	m->constant_bearing_min_fixes = 5;
	m->min_gnss_accuracy_m = 1.0;	/* phone GNSS estimates rarely go below */
	m->cn0_sd_min_dbhz = 1.0;	/* real skies spread C/N0 by 3..8 dB-Hz */
	m->cn0_min_satellites = 4;
	m->wifi_far_min_m = 200.0;	/* beyond any indoor AP's range */
	m->wifi_far_spread_k = 3.0;
	m->site_min_stable = 3;
	m->cell_radius_k = 2.0;
	m->cell_slack_m = 1000.0;
	m->clock_future_s = 120.0;	/* NTP/NITZ phones are within seconds */
	m->skew_jump_s = 300.0;
	m->stale_s = 900.0;
	m->shared_device_workers = 2;
	m->fresh_rebind_s = 900.0;	/* a hand-over minutes before the fix */
	m->replay_min_aps = 3;		/* a weighted multi-AP estimate */
}

/*
 * Refuse models that would make the score meaningless (NaN weights, red
 * below amber, counts that make a run signal fire on one fix), so a bad
 * row in the model table fails loudly instead of scoring silently.
 */
const char *
spoof_model_check(const SpoofModel *m)
{
	if (m == NULL)
		return "model is missing";
	if (memchr(m->version, '\0', sizeof(m->version)) == NULL)
		return "model version is not terminated";
	if (!isfinite(m->prior_log_odds))
		return "prior_log_odds must be finite";
	for (int i = 0; i < SPOOF__NSIG; i++)
		if (!isfinite(m->weight[i]) || fabs(m->weight[i]) > 1000.0)
			return "every weight must be finite and within +-1000";
	if (m->amber_score < 0 || m->red_score > 100 || m->amber_score > m->red_score)
		return "thresholds must satisfy 0 <= amber_score <= red_score <= 100";
	if (!(m->default_accuracy_m >= 0) || !(m->max_speed_mps > 0) ||
		!(m->impossible_speed_mps >= m->max_speed_mps) ||
		!isfinite(m->impossible_extra_points) || !(m->kin_max_gap_s > 0) ||
		!(m->long_leg_m > 0) || !(m->launch_min_m >= 0) ||
		!(m->road_accel_mps2 > 0) || !(m->road_brake_mps2 > 0) || !(m->road_top_mps > 0) ||
		!(m->rail_accel_mps2 > 0) || !(m->rail_brake_mps2 > 0) || !(m->rail_top_mps > 0) ||
		!(m->moving_mps > 0) || !(m->speed_mismatch_factor >= 1) ||
		!(m->speed_mismatch_slack_mps >= 0) || !(m->teleport_min_m > 0) ||
		!(m->teleport_return_m >= 0) || !(m->teleport_max_s > 0) ||
		!(m->min_gnss_accuracy_m >= 0) || !(m->cn0_sd_min_dbhz >= 0) ||
		!(m->wifi_far_min_m >= 0) || !(m->wifi_far_spread_k >= 0) ||
		!(m->cell_radius_k >= 0) || !(m->cell_slack_m >= 0) ||
		!(m->clock_future_s >= 0) || !(m->skew_jump_s >= 0) ||
		!(m->stale_s >= 0) || !(m->fresh_rebind_s >= 0) ||
		!(m->gnss_grade_accuracy_m >= 0) || !(m->frozen_alt_accuracy_m >= 0))
		return "a distance, speed or time parameter is out of range";
	if (m->frozen_min_fixes < 2 || m->constant_accuracy_min_fixes < 2 ||
		m->zero_altitude_min_fixes < 2 || m->constant_bearing_min_fixes < 2 ||
		m->frozen_min_fixes > SPOOF_MAX_PREV + 1 ||
		m->constant_accuracy_min_fixes > SPOOF_MAX_PREV + 1 ||
		m->zero_altitude_min_fixes > SPOOF_MAX_PREV + 1 ||
		m->constant_bearing_min_fixes > SPOOF_MAX_PREV + 1)
		return "run lengths must be between 2 and SPOOF_MAX_PREV + 1";
	if (m->cn0_min_satellites < 1 || m->site_min_stable < 1 ||
		m->shared_device_workers < 2 || m->replay_min_aps < 1)
		return "a count parameter is out of range";
	return NULL;
}

/*
 * The score is a percentage of the probability 1 / (1 + exp(-log_odds)),
 * rounded half up by floor(x + 0.5).  libm's exp is the only non-exact
 * step; the same build gives the same bits, and the clamp at +-40 (beyond
 * which the percentage rounds to 0 or 100 anyway) keeps exp finite.
 */
int
spoof_score_from_log_odds(double log_odds)
{
	double		p;
	int			s;

	if (isnan(log_odds))
		return 100;				/* fail closed; cannot happen with a checked model */
	if (log_odds > 40.0)
		return 100;
	if (log_odds < -40.0)
		return 0;
	p = 100.0 / (1.0 + exp(-log_odds));
	s = (int) floor(p + 0.5);
	if (s < 0)
		s = 0;
	if (s > 100)
		s = 100;
	return s;
}

/* stable names for SQL and the reviewer UI */
const char *
spoof_band_name(SpoofBand band)
{
	switch (band)
	{
		case SPOOF_GREEN:
			return "green";
		case SPOOF_AMBER:
			return "amber";
		case SPOOF_RED:
			return "red";
	}
	return "unknown";
}

/*
 * Record a fired signal with its numbers.  Reasons are added in signal
 * order, which is the order of the JSON and of the points sum.
 */
static SpoofReason *
fire(SpoofResult *r, const SpoofModel *m, SpoofSignal sig, double extra)
{
	SpoofReason *rs;

	if (r->n_reasons >= SPOOF_MAX_REASONS)
		return NULL;			/* cannot happen: SPOOF__NSIG < SPOOF_MAX_REASONS */
	rs = &r->reasons[r->n_reasons++];
	rs->signal = sig;
	rs->code = spoof_signal_codes[sig];
	rs->points = m->weight[sig] + extra;
	rs->n_nums = 0;
	if (m->hard[sig])
		r->hard_reject = true;
	return rs;
}

/* attach a named number to a reason (up to SPOOF_MAX_NUMS) */
static void
num(SpoofReason *rs, const char *name, double value)
{
	if (rs == NULL || rs->n_nums >= SPOOF_MAX_NUMS)
		return;
	rs->nums[rs->n_nums].name = name;
	rs->nums[rs->n_nums].value = value;
	rs->n_nums++;
}

/* a reported accuracy, or the model's assumption when there is none */
static double
acc_or_default(double acc, const SpoofModel *m)
{
	return (isfinite(acc) && acc >= 0) ? acc : m->default_accuracy_m;
}

static bool
same_coords(const SpoofPrev *a, const SpoofPrev *b)
{
	return fabs(a->lat - b->lat) <= SPOOF_SAME_DEG &&
		fabs(a->lon - b->lon) <= SPOOF_SAME_DEG;
}

/*
 * Speed needed between two fixes after granting both their accuracy radius:
 * a lower bound on the true speed, so accuracy jitter alone never counts as
 * motion.  NAN when the gap is not positive.
 */
static double
net_speed(const SpoofPrev *a, const SpoofPrev *b, const SpoofModel *m,
		  double *dist_out, double *dt_out)
{
	double		d = geo_distance(a->lat, a->lon, b->lat, b->lon);
	double		dt = ms_diff_s(b->t_ms, a->t_ms);
	double		net = d - acc_or_default(a->accuracy_m, m) - acc_or_default(b->accuracy_m, m);

	if (dist_out)
		*dist_out = d;
	if (dt_out)
		*dt_out = dt;
	if (!(dt > 0) || !isfinite(d))
		return NAN;
	return (net > 0 ? net : 0) / dt;
}

/* The run predicates: a property shared by the newest fixes, fix included */
typedef bool (*RunPred) (const SpoofPrev *cur, const SpoofPrev *p,
						 const SpoofPrev *next, const SpoofModel *m);

/*
 * Length of the run of fixes ending at the current one (all[n - 1]) that
 * satisfy pred, counting fixes with distinct times only, so a re-sent fix
 * never makes a run longer.
 */
static int
run_length(const SpoofPrev *all, int n, RunPred pred, const SpoofModel *m)
{
	const SpoofPrev *cur = &all[n - 1];
	int			len = 1;
	int64_t		last_t = cur->t_ms;

	for (int i = n - 2; i >= 0; i--)
	{
		if (!pred(cur, &all[i], &all[i + 1], m))
			break;
		if (all[i].t_ms != last_t)
		{
			len++;
			last_t = all[i].t_ms;
		}
	}
	return len;
}

/* a fix whose claimed radius only a GNSS solution reaches */
static bool
gnss_grade(const SpoofPrev *p, const SpoofModel *m)
{
	return p->provider == SPROV_GPS ||
		(isfinite(p->accuracy_m) && p->accuracy_m <= m->gnss_grade_accuracy_m);
}

/*
 * The same coordinates, and not the OS handing out the same answer again:
 * either both fixes are GNSS(-grade) solutions, which jitter by metres
 * from one epoch to the next, or the two differ in their accuracy, so the
 * position was estimated afresh -- and a fresh estimate (GNSS, Wi-Fi or
 * fused) never lands on the same centimetre twice.  The same holds for a
 * new altitude under a claimed accuracy of frozen_alt_accuracy_m or better
 * (a 3-D solution computed again; a Wi-Fi or cell answer has no valid
 * altitude, and a cached answer repeats its altitude with it).  A cached
 * network answer repeats whole (position and accuracy) and does not count.
 */
static bool
pred_frozen(const SpoofPrev *cur, const SpoofPrev *p, const SpoofPrev *next,
			const SpoofModel *m)
{
	(void) next;
	if (!same_coords(cur, p))
		return false;
	if (gnss_grade(cur, m) && gnss_grade(p, m))
		return true;
	if (isfinite(p->accuracy_m) && isfinite(cur->accuracy_m) &&
		p->accuracy_m != cur->accuracy_m)
		return true;
	return isfinite(p->accuracy_m) && isfinite(cur->accuracy_m) &&
		p->accuracy_m <= m->frozen_alt_accuracy_m &&
		cur->accuracy_m <= m->frozen_alt_accuracy_m &&
		isfinite(p->altitude_m) && isfinite(cur->altitude_m) &&
		p->altitude_m != cur->altitude_m;
}

static bool
pred_const_acc(const SpoofPrev *cur, const SpoofPrev *p, const SpoofPrev *next,
			   const SpoofModel *m)
{
	(void) next;
	(void) m;
	return p->provider == SPROV_GPS && p->accuracy_m == cur->accuracy_m;
}

static bool
pred_zero_alt(const SpoofPrev *cur, const SpoofPrev *p, const SpoofPrev *next,
			  const SpoofModel *m)
{
	(void) cur;
	(void) next;
	(void) m;
	return p->provider == SPROV_GPS && p->altitude_m == 0.0;
}

/* same bearing, and the step to the next fix of the run was moving */
static bool
pred_const_bearing(const SpoofPrev *cur, const SpoofPrev *p,
				   const SpoofPrev *next, const SpoofModel *m)
{
	double		d,
				dt;

	if (p->bearing_deg != cur->bearing_deg)
		return false;
	if (next->t_ms == p->t_ms)
		return true;			/* a re-sent fix: judged by its twin */
	(void) net_speed(p, next, m, &d, &dt);
	return dt > 0 && d / dt >= m->moving_mps;
}

/*
 * The farthest a vehicle goes in dt seconds when it starts at no more than
 * s0, ends at no more than s1, accelerates at accel, brakes at brake and
 * never exceeds top: the envelope that makes a jump between two moments of
 * standstill implausible long before it exceeds any cruising speed (the
 * area under the fastest speed profile: up, cruise, down).
 */
static double
vehicle_reach(double dt, double s0, double s1, double accel, double brake, double top)
{
	double		vp;

	s0 = fmin(s0, top);
	s1 = fmin(s1, top);
	if ((top - s0) / accel + (top - s1) / brake <= dt)
		return top * dt - (top - s0) * (top - s0) / (2.0 * accel) -
			(top - s1) * (top - s1) / (2.0 * brake);
	/* no time to reach top: the peak where the climb and the descent meet */
	vp = (dt + s0 / accel + s1 / brake) / (1.0 / accel + 1.0 / brake);
	if (vp < s0)				/* braking all the way down to s1 */
		return s1 * dt + 0.5 * brake * dt * dt;
	if (vp < s1)				/* accelerating all the way up from s0 */
		return s0 * dt + 0.5 * accel * dt * dt;
	return (vp * vp - s0 * s0) / (2.0 * accel) + (vp * vp - s1 * s1) / (2.0 * brake);
}

/* a speed the device measured (GNSS-style; a network answer's speed field means nothing) */
static bool
speed_measured(const SpoofPrev *p)
{
	return isfinite(p->speed_mps) && p->provider != SPROV_NETWORK &&
		p->provider != SPROV_WIFI && p->provider != SPROV_CELL;
}

/* the fix's own speed says the device had stopped */
static bool
stopped(const SpoofPrev *p, const SpoofModel *m)
{
	return speed_measured(p) && p->speed_mps < m->moving_mps;
}

/*
 * Whether the device stood still at all[ip]: its own speed says so (a
 * GNSS-style fix; a network answer's speed field means nothing), or, with
 * no speed, the leg into it moved less than moving_mps over at most
 * REST_WINDOW_S.  Unknown counts as moving (the looser limit).
 */
#define REST_WINDOW_S 600.0

static bool
at_rest(const SpoofPrev *all, int ip, const SpoofModel *m)
{
	const SpoofPrev *p = &all[ip];

	if (speed_measured(p))
		return stopped(p, m);
	for (int i = ip - 1; i >= 0; i--)
		if (all[i].t_ms < p->t_ms && isfinite(all[i].lat) && isfinite(all[i].lon))
		{
			double		dt = ms_diff_s(p->t_ms, all[i].t_ms);

			return dt <= REST_WINDOW_S &&
				geo_distance(all[i].lat, all[i].lon, p->lat, p->lon) < m->moving_mps * dt;
		}
	return false;
}

/*
 * The fastest average speed an honest device could need over a leg of d
 * metres (net, after both accuracies) in dt seconds.  A leg of long_leg_m
 * or more may have been flown (or ridden on a 350 km/h train): only
 * impossible_speed_mps, faster than airliners, is implausible there.  A
 * shorter leg is ground travel: at most max_speed_mps, and when the device
 * stood still at either end (rest_from, rest_to), at most what a car or a
 * high-speed train covers accelerating from, or braking to, moving_mps (a
 * "still" device may have been walking) -- for net jumps of launch_min_m
 * or more: a reflected GNSS signal pulls a still phone's fix by up to a few
 * hundred metres with an accuracy that does not know it, and that is not
 * travel either.
 */
static double
leg_limit_mps(double d, double net, double dt, bool rest_from, bool rest_to,
			  const SpoofModel *m)
{
	double		lim = m->max_speed_mps;

	if (d >= m->long_leg_m)
		return m->impossible_speed_mps;
	if ((rest_from || rest_to) && dt > 0 && net >= m->launch_min_m)
	{
		double		s0 = rest_from ? m->moving_mps : INFINITY;
		double		s1 = rest_to ? m->moving_mps : INFINITY;
		double		reach = fmax(vehicle_reach(dt, s0, s1, m->road_accel_mps2, m->road_brake_mps2,
											   m->road_top_mps),
								 vehicle_reach(dt, s0, s1, m->rail_accel_mps2, m->rail_brake_mps2,
											   m->rail_top_mps));

		lim = fmin(lim, reach / dt);
	}
	return lim;
}

/*
 * Signals of the device's own fix stream (kinematics and auxiliary
 * fields).  all[] holds the previous fixes and the current one last.
 */
static void
score_track(const SpoofFix *fix, const SpoofPrev *all, int n,
			const SpoofModel *m, SpoofResult *r)
{
	const SpoofPrev *cur = &all[n - 1];
	const SpoofPrev *last = NULL;
	bool		gnss = fix->provider == SPROV_GPS;
	bool		aux = isfinite(fix->accuracy_m) || isfinite(fix->altitude_m) ||
		isfinite(fix->speed_mps) || isfinite(fix->bearing_deg);
	double		v = NAN,
				d = NAN,
				dt = NAN;
	SpoofReason *rs;
	int			k;
	bool		too_fast = false;
	int			i_from = -1,
				i_to = n - 1;

	/*
	 * The newest earlier fix, skipping re-sends and out-of-order rows; and
	 * the arrival: when the newest fixes sit on exactly the current
	 * coordinates (to the centimetre, which only a point that was set, or a
	 * repeated answer, does), the leg that brought the device there ends at
	 * the first of them.
	 */
	for (int i = n - 2; i >= 0; i--)
	{
		if (!(all[i].t_ms < cur->t_ms && isfinite(all[i].lat) && isfinite(all[i].lon)))
			continue;
		if (last == NULL)
			last = &all[i];
		if (i_from < 0 && all[i].t_ms < all[i_to].t_ms)
		{
			if (same_coords(&all[i], cur))
				i_to = i;
			else
				i_from = i;
		}
		if (i_from >= 0)
			break;
	}
	if (last != NULL)
	{
		r->coverage_mask |= 1u << SPOOF_G_KINEMATICS;
		v = net_speed(last, cur, m, &d, &dt);
	}
	if (aux)
		r->coverage_mask |= 1u << SPOOF_G_AUX_FIELDS;

	/*
	 * implausible_speed: the arrival leg needs more than an honest device
	 * could do after granting both accuracies (leg_limit_mps: ground
	 * travel, a launch from a standstill, or a flight).  A fix that repeats
	 * the coordinates of the one that arrived inherits its arrival: a
	 * device cannot be where it could not have got to, however long it then
	 * stays (since_s says how long ago it arrived).  False positives:
	 * multipath jumps with an understated accuracy, a provider switch from a
	 * bad network fix, a fast train seen only by network fixes.  A GNSS fix
	 * whose own (Doppler) speed is at least half the chord speed is
	 * travelling that fast -- a train, a plane -- and is spared: a position
	 * that was set, not travelled, reports no such speed.
	 */
	if (i_from >= 0)
	{
		const SpoofPrev *from = &all[i_from];
		const SpoofPrev *to = &all[i_to];
		double		da = d,
					dta = dt,
					va = v;

		/* (a current fix that repeats no earlier one arrived by the leg from the last fix, above) */
		if (i_to != n - 1)
			va = net_speed(from, to, m, &da, &dta);

		if (isfinite(va) &&
			va > leg_limit_mps(da, va * dta, dta, at_rest(all, i_from, m), stopped(to, m), m) &&
			!(to->provider == SPROV_GPS && isfinite(to->speed_mps) && dta > 0 &&
			  to->speed_mps >= 0.5 * da / dta))
		{
			too_fast = true;
			rs = fire(r, m, SPOOF_IMPLAUSIBLE_SPEED,
					  va > m->impossible_speed_mps ? m->impossible_extra_points : 0.0);
			num(rs, "speed_mps", va);
			num(rs, "distance_m", da);
			num(rs, "dt_s", dta);
			if (i_to != n - 1)
				num(rs, "since_s", ms_diff_s(cur->t_ms, to->t_ms));
		}
	}

	/*
	 * teleport_round_trip: from A out to B (one or more fixes, all far from
	 * A) and back to A, both legs implausibly fast, within teleport_max_s:
	 * a spoofing app switched on and off.  False positive: a single wild
	 * outlier fix (multipath, a cell-tower fix labelled GPS).
	 */
	if (last != NULL)
	{
		for (int j = n - 3; j >= 0; j--)
		{
			const SpoofPrev *a = &all[j];
			const SpoofPrev *b1 = &all[j + 1];
			double		d_back,
						v_out,
						v_back,
						d_out;
			bool		all_far = true;

			if (ms_diff_s(cur->t_ms, a->t_ms) > m->teleport_max_s)
				break;
			d_back = geo_distance(a->lat, a->lon, cur->lat, cur->lon);
			if (!(d_back <= m->teleport_return_m))
				continue;
			for (int i = j + 1; i < n - 1 && all_far; i++)
				if (!(geo_distance(a->lat, a->lon, all[i].lat, all[i].lon) -
					  acc_or_default(a->accuracy_m, m) -
					  acc_or_default(all[i].accuracy_m, m) >= m->teleport_min_m))
					all_far = false;
			if (!all_far)
				break;			/* A is the latest return point: decide here */
			v_out = net_speed(a, b1, m, &d_out, NULL);
			v_back = net_speed(last, cur, m, NULL, NULL);
			if (v_out > m->max_speed_mps && v_back > m->max_speed_mps)
			{
				rs = fire(r, m, SPOOF_TELEPORT_ROUND_TRIP, 0.0);
				num(rs, "distance_m", d_out);
				num(rs, "away_s", ms_diff_s(cur->t_ms, a->t_ms));
				num(rs, "return_m", d_back);
			}
			break;
		}
	}

	/*
	 * frozen_position: identical coordinates (to 1e-7 deg, 1 cm) on
	 * frozen_min_fixes fixes with distinct times, each a fresh solution
	 * (pred_frozen): GNSS-labelled or GNSS-grade (accuracy at most
	 * gnss_grade_accuracy_m) on both sides, or a changed accuracy.  Real
	 * receivers jitter by metres even when still, and a Wi-Fi or fused
	 * estimate made afresh moves with every RSSI; a mock app's fixed point
	 * does not move at all, whatever provider label or accuracy it
	 * carries (iOS apps, and apps behind a fused API, see no GNSS label
	 * at all).  Cached network answers repeat whole and are not counted.
	 * External receivers (RTK, centimetre-precise) may repeat honestly.
	 * False positives: chipsets that repeat the last fix when they lose
	 * lock, a fused provider handing out a cached GNSS fix of 8 m or
	 * better while the phone is still.
	 */
	if (!fix->external_receiver && last != NULL &&
		(k = run_length(all, n, pred_frozen, m)) >= m->frozen_min_fixes)
	{
		rs = fire(r, m, SPOOF_FROZEN_POSITION, 0.0);
		num(rs, "fixes", k);
		num(rs, "span_s", ms_diff_s(cur->t_ms, all[n - k].t_ms));
	}

	/*
	 * constant_accuracy: the same whole-metre accuracy on
	 * constant_accuracy_min_fixes GNSS fixes -- the fixed value of a mock
	 * app; real estimates vary with decimals.  False positives: platforms
	 * that quantise accuracy (iOS steps), a receiver stuck at its floor.
	 */
	if (gnss && isfinite(fix->accuracy_m) && fix->accuracy_m == floor(fix->accuracy_m) &&
		(k = run_length(all, n, pred_const_acc, m)) >= m->constant_accuracy_min_fixes)
	{
		rs = fire(r, m, SPOOF_CONSTANT_ACCURACY, 0.0);
		num(rs, "accuracy_m", fix->accuracy_m);
		num(rs, "fixes", k);
	}

	/*
	 * zero_altitude: altitude exactly 0 on zero_altitude_min_fixes GNSS
	 * fixes; mock apps leave it unset.  False positives: 2-D fixes reported
	 * as 0 instead of "no altitude" by some chipsets, and being at sea.
	 */
	if (gnss && fix->altitude_m == 0.0 &&
		(k = run_length(all, n, pred_zero_alt, m)) >= m->zero_altitude_min_fixes)
	{
		rs = fire(r, m, SPOOF_ZERO_ALTITUDE, 0.0);
		num(rs, "fixes", k);
	}

	/*
	 * constant_bearing_while_moving: exactly the same bearing on
	 * constant_bearing_min_fixes fixes while the positions move: route
	 * simulators interpolate along a straight segment.  False positives: a
	 * dead-straight road with bearing quantised to whole degrees; devices
	 * reporting 0 instead of "no bearing" (ingest should store NAN).
	 */
	if (last != NULL && isfinite(fix->bearing_deg) &&
		(k = run_length(all, n, pred_const_bearing, m)) >= m->constant_bearing_min_fixes)
	{
		rs = fire(r, m, SPOOF_CONSTANT_BEARING, 0.0);
		num(rs, "bearing_deg", fix->bearing_deg);
		num(rs, "fixes", k);
	}

	/*
	 * zero_speed_while_moving: a reported speed of exactly 0 while even the
	 * accuracy-net displacement says faster than moving_mps.  Mock apps
	 * often set no speed.  False positives: a multipath jump on a parked
	 * phone with an understated accuracy; speed 0 meaning "unknown".  Not
	 * when implausible_speed fired: the same chord would be counted twice.
	 */
	if (!too_fast && isfinite(v) && dt <= m->kin_max_gap_s && fix->speed_mps == 0.0 &&
		v > m->moving_mps)
	{
		rs = fire(r, m, SPOOF_ZERO_SPEED_WHILE_MOVING, 0.0);
		num(rs, "displacement_mps", v);
	}

	/*
	 * speed_mismatch: the reported (Doppler) speed is speed_mismatch_factor
	 * times above the most the displacement allows, or that much below the
	 * least it requires (plus slack); only over gaps up to kin_max_gap_s,
	 * where the chord reflects the speed.  False positives: tight turns and
	 * roundabouts within the gap, Doppler spikes of a parked phone, and a
	 * multipath jump of a still phone (its Doppler says still, its chord
	 * says moving).  Not when implausible_speed fired: one displacement is
	 * one piece of evidence, not two.
	 */
	if (!too_fast && last != NULL && dt > 0 && dt <= m->kin_max_gap_s &&
		isfinite(fix->speed_mps) && fix->speed_mps > 0.0 && isfinite(d))
	{
		double		slack = acc_or_default(last->accuracy_m, m) +
			acc_or_default(cur->accuracy_m, m);
		double		hi = (d + slack) / dt;
		double		lo = v;
		double		s = fix->speed_mps;

		if (s > m->speed_mismatch_factor * hi + m->speed_mismatch_slack_mps ||
			(lo > m->moving_mps &&
			 s * m->speed_mismatch_factor + m->speed_mismatch_slack_mps < lo))
		{
			rs = fire(r, m, SPOOF_SPEED_MISMATCH, 0.0);
			num(rs, "reported_mps", s);
			num(rs, "displacement_mps", d / dt);
		}
	}

	/*
	 * implausible_accuracy: a phone's GNSS claiming under
	 * min_gnss_accuracy_m.  False positives: dual-frequency phones in open
	 * sky (rarely below 1 m); RTK receivers, which are allowlisted.
	 */
	if (gnss && !fix->external_receiver && isfinite(fix->accuracy_m) &&
		fix->accuracy_m < m->min_gnss_accuracy_m)
	{
		rs = fire(r, m, SPOOF_IMPLAUSIBLE_ACCURACY, 0.0);
		num(rs, "accuracy_m", fix->accuracy_m);
	}
}

/*
 * Evaluate every signal in the fixed order and sum their points.
 */
int
spoof_score(const SpoofFix *fix, const SpoofPrev *prev, int nprev,
			const SpoofRadio *radio, const SpoofHistory *hist,
			const SpoofModel *m, SpoofResult *r)
{
	SpoofPrev	all[SPOOF_MAX_PREV + 1];
	SpoofReason *rs;
	double		sum;

	if (r == NULL)
		return -1;
	memset(r, 0, sizeof(*r));
	if (fix == NULL || m == NULL || nprev < 0 || nprev > SPOOF_MAX_PREV ||
		(nprev > 0 && prev == NULL) || spoof_model_check(m) != NULL ||
		!isfinite(fix->lat) || !isfinite(fix->lon) ||
		fabs(fix->lat) > 90.0 || fabs(fix->lon) > 180.0)
		return -1;

	/* the current fix as the last of the track */
	if (nprev > 0)
		memcpy(all, prev, sizeof(SpoofPrev) * (size_t) nprev);
	memset(&all[nprev], 0, sizeof(SpoofPrev));
	all[nprev].t_ms = fix->t_ms;
	all[nprev].received_ms = fix->received_ms;
	all[nprev].lat = fix->lat;
	all[nprev].lon = fix->lon;
	all[nprev].accuracy_m = fix->accuracy_m;
	all[nprev].speed_mps = fix->speed_mps;
	all[nprev].bearing_deg = fix->bearing_deg;
	all[nprev].altitude_m = fix->altitude_m;
	all[nprev].provider = fix->provider;

	/*
	 * os_mock: the OS says a mock provider made the fix.  False positives:
	 * external GNSS receivers (allowlisted: not fired), developers' phones.
	 */
	if (fix->mock >= 0)
	{
		r->coverage_mask |= 1u << SPOOF_G_OS_FLAGS;
		if (fix->mock == 1 && !fix->external_receiver)
			fire(r, m, SPOOF_OS_MOCK, 0.0);
	}

	/*
	 * integrity_failed: the attestation denies basic or device integrity
	 * (rooted, emulator, hooked), which is what hides the mock flag; strong
	 * integrity is not required, as many honest phones lack it.  False
	 * positives: custom ROMs, old or uncertified devices.
	 */
	if (fix->integrity >= 0)
	{
		int			need = SPOOF_INTEGRITY_BASIC | SPOOF_INTEGRITY_DEVICE;

		r->coverage_mask |= 1u << SPOOF_G_INTEGRITY;
		if ((fix->integrity & need) != need)
		{
			rs = fire(r, m, SPOOF_INTEGRITY_FAILED, 0.0);
			num(rs, "integrity", fix->integrity);
		}
	}

	score_track(fix, all, nprev + 1, m, r);

	/* GNSS measurements */
	if (fix->satellites >= 0 || isfinite(fix->cn0_sd_dbhz))
		r->coverage_mask |= 1u << SPOOF_G_GNSS;

	/*
	 * no_satellites: a GNSS fix computed from zero satellites.  False
	 * positive: drivers reporting 0 for "not provided" (ingest should store
	 * -1).
	 */
	if (fix->provider == SPROV_GPS && fix->satellites == 0 && !fix->external_receiver)
		fire(r, m, SPOOF_NO_SATELLITES, 0.0);

	/*
	 * uniform_cn0: signal strengths of cn0_min_satellites or more satellites
	 * within cn0_sd_min_dbhz of each other: one transmitter (an SDR
	 * simulator) sends them all.  False positives: few high satellites in
	 * open sky, firmware reporting a rounded mean.
	 */
	if (fix->satellites >= m->cn0_min_satellites && isfinite(fix->cn0_sd_dbhz) &&
		fix->cn0_sd_dbhz < m->cn0_sd_min_dbhz)
	{
		rs = fire(r, m, SPOOF_UNIFORM_CN0, 0.0);
		num(rs, "cn0_sd_dbhz", fix->cn0_sd_dbhz);
		num(rs, "cn0_mean_dbhz", fix->cn0_mean_dbhz);
		num(rs, "satellites", fix->satellites);
	}

	if (radio != NULL)
	{
		int			n_ap = radio->n_ap < 0 ? 0 :
			(radio->n_ap > SPOOF_MAX_AP ? SPOOF_MAX_AP : radio->n_ap);
		int			near = 0;	/* known APs within their range of the fix */

		if (n_ap > 0 || radio->scan_replay)
			r->coverage_mask |= 1u << SPOOF_G_WIFI;

		/*
		 * wifi_far: known access points farther from the fix than
		 * max(wifi_far_min_m, wifi_far_spread_k * spread), at least as many
		 * as known ones nearby -- the phone hears a different place.
		 * False positives: a moved router or a mobile hotspot, a stale
		 * learned location.
		 */
		{
			int			far = 0;
			double		max_far = 0;

			for (int i = 0; i < n_ap; i++)
			{
				const SpoofAp *ap = &radio->ap[i];
				double		lim;

				if (!ap->known || !isfinite(ap->distance_m))
					continue;
				lim = m->wifi_far_spread_k * (isfinite(ap->spread_m) ? ap->spread_m : 0);
				if (lim < m->wifi_far_min_m)
					lim = m->wifi_far_min_m;
				if (ap->distance_m > lim)
				{
					far++;
					if (ap->distance_m > max_far)
						max_far = ap->distance_m;
				}
				else
					near++;
			}
			if (far > 0 && far >= near)
			{
				rs = fire(r, m, SPOOF_WIFI_FAR, 0.0);
				num(rs, "far_aps", far);
				num(rs, "known_aps", far + near);
				num(rs, "max_distance_m", max_far);
			}
		}

		/*
		 * wifi_no_site_overlap: the fix is at a site with a stable set of
		 * site_min_stable or more BSSIDs, the scan heard access points,
		 * but none of the site's -- and none of the access points it heard
		 * is one the map places near the fix.  Hearing a known access point
		 * within its range of the claimed position is positive evidence of
		 * being there: the site's own ones are then missing for an honest
		 * reason (a replaced router, a wall, a stable set that includes a
		 * neighbour's AP not audible inside).  False positives: Android's
		 * scan throttling returning a scan from elsewhere, replaced routers
		 * in a neighbourhood the map does not know.
		 */
		if (n_ap > 0 && near == 0 && radio->site_overlap == 0 &&
			radio->site_stable_count >= m->site_min_stable)
		{
			rs = fire(r, m, SPOOF_WIFI_NO_SITE_OVERLAP, 0.0);
			num(rs, "stable_aps", radio->site_stable_count);
			num(rs, "seen_aps", n_ap);
		}

		/*
		 * wifi_scan_replay: the identical scan, RSSIs included, seen with
		 * another fix; real RSSIs fluctuate by dB from scan to scan.  A hard
		 * reject by default.  False positive: a throttled OS returning its
		 * cached scan twice -- the caller must only compare scans with
		 * distinct scan timestamps.
		 */
		if (radio->scan_replay)
			fire(r, m, SPOOF_WIFI_SCAN_REPLAY, 0.0);

		if (radio->has_cell)
		{
			r->coverage_mask |= 1u << SPOOF_G_CELL;

			/*
			 * cell_far: the serving cell's centroid is beyond
			 * cell_radius_k * radius + cell_slack_m.  False positives:
			 * skewed centroids of sector antennas, large rural cells,
			 * errors in the cell table.
			 */
			if (radio->cell_known && isfinite(radio->cell_distance_m))
			{
				double		lim = m->cell_radius_k *
					(isfinite(radio->cell_radius_m) ? radio->cell_radius_m : 0) +
					m->cell_slack_m;

				if (radio->cell_distance_m > lim)
				{
					rs = fire(r, m, SPOOF_CELL_FAR, 0.0);
					num(rs, "distance_m", radio->cell_distance_m);
					num(rs, "limit_m", lim);
				}
			}

			/*
			 * cell_foreign_mcc: the serving cell belongs to another
			 * country than the site.  False positives: border areas,
			 * ships and planes' picocells.
			 */
			if (radio->mcc_foreign)
				fire(r, m, SPOOF_CELL_FOREIGN_MCC, 0.0);
		}
	}

	if (fix->received_ms > 0)
		r->coverage_mask |= 1u << SPOOF_G_CLOCK;
	if (hist != NULL && isfinite(hist->skew_jump_s))
		r->coverage_mask |= 1u << SPOOF_G_CLOCK;

	/*
	 * clock_future: the fix claims a time after it reached the server,
	 * beyond clock_future_s: a faked timestamp or a clock set forward to
	 * replay.  False positives: a clock set by hand, NITZ off.
	 */
	if (fix->received_ms > 0 &&
		ms_diff_s(fix->t_ms, fix->received_ms) > m->clock_future_s)
	{
		rs = fire(r, m, SPOOF_CLOCK_FUTURE, 0.0);
		num(rs, "ahead_s", ms_diff_s(fix->t_ms, fix->received_ms));
	}

	/*
	 * clock_skew_jump: the offset between the server's and the device's
	 * clock changed by more than skew_jump_s since the previous upload: the
	 * clock was moved, typically to fake a time.  False positives: the
	 * first NTP sync after a reboot, a user fixing a wrong clock.
	 */
	if (hist != NULL && isfinite(hist->skew_jump_s) &&
		fabs(hist->skew_jump_s) > m->skew_jump_s)
	{
		rs = fire(r, m, SPOOF_CLOCK_SKEW_JUMP, 0.0);
		num(rs, "jump_s", hist->skew_jump_s);
	}

	/*
	 * stale_fix: received more than stale_s after it was taken: a fix
	 * saved for later (or made up afterwards) rather than reported live.
	 * False positives: offline buffering in basements, tunnels, dead zones
	 * and airplane mode -- so a fix uploaded together with later fixes of
	 * the same device (an offline queue, hist->queued) is spared; only the
	 * newest fix of an upload claims to be current.
	 */
	if (fix->received_ms > 0 && !(hist != NULL && hist->queued) &&
		ms_diff_s(fix->received_ms, fix->t_ms) > m->stale_s)
	{
		rs = fire(r, m, SPOOF_STALE_FIX, 0.0);
		num(rs, "age_s", ms_diff_s(fix->received_ms, fix->t_ms));
	}

	if (hist != NULL)
	{
		r->coverage_mask |= 1u << SPOOF_G_HISTORY;

		/*
		 * same_coords_earlier_day: a fix on the exact coordinates of a fix
		 * from another day -- a saved position replayed.  A GNSS fix never
		 * lands on the same centimetre twice; nor does a network fix
		 * computed from a scan of replay_min_aps or more access points (an
		 * RSSI-weighted estimate that moves with every scan).  A cell-only
		 * or single-AP lookup honestly returns the same stored point every
		 * day and is not counted (the caller only compares such fixes; see
		 * score_batch()).  False positives: a GNSS provider mislabelling
		 * cached fixes, a location service that snaps to a stored point.
		 */
		if (hist->same_coords_earlier_day &&
			(fix->provider == SPROV_GPS ||
			 (radio != NULL && radio->n_ap >= m->replay_min_aps)))
			fire(r, m, SPOOF_SAME_COORDS_EARLIER_DAY, 0.0);

		/*
		 * shared_device: shared_device_workers or more workers used the
		 * device today, so one person may be clocking others in.  False
		 * positives: pool devices and shift handovers.
		 */
		if (hist->workers_on_device_today >= m->shared_device_workers)
		{
			rs = fire(r, m, SPOOF_SHARED_DEVICE, 0.0);
			num(rs, "workers", hist->workers_on_device_today);
		}

		/*
		 * pin_drop: the fix sits exactly on the customer's stored pin, as a
		 * mock app fed the job's address puts it.  False positive: a pin
		 * that was itself created from this device's fix.
		 */
		if (hist->at_customer_pin)
			fire(r, m, SPOOF_PIN_DROP, 0.0);

		/*
		 * fresh_rebind: the device served another worker earlier that day
		 * and was bound to this fix's worker less than fresh_rebind_s
		 * before the fix -- a colleague signing in on someone's phone to
		 * check in for them.  Honest bindings are days or weeks old.
		 * False positives: a shift handover on an unflagged shared phone
		 * right before the first visit.
		 */
		if (hist->workers_on_device_today >= m->shared_device_workers &&
			isfinite(hist->rebound_s) && hist->rebound_s >= 0 &&
			hist->rebound_s < m->fresh_rebind_s)
		{
			rs = fire(r, m, SPOOF_FRESH_REBIND, 0.0);
			num(rs, "rebound_s", hist->rebound_s);
		}
	}

	/* the sum, in signal order, then the mapping */
	sum = 0.0;
	for (int i = 0; i < r->n_reasons; i++)
		sum += r->reasons[i].points;
	r->points = sum;
	r->log_odds = m->prior_log_odds + sum * (SPOOF_LN2 / 10.0);
	r->score = spoof_score_from_log_odds(r->log_odds);
	if (r->hard_reject || r->score >= m->red_score)
		r->band = SPOOF_RED;
	else if (r->score >= m->amber_score)
		r->band = SPOOF_AMBER;
	else
		r->band = SPOOF_GREEN;
	for (int g = 0; g < SPOOF_GROUPS; g++)
		if (r->coverage_mask & (1u << g))
			r->coverage++;
	return 0;
}

/* a bounded appender that keeps counting past the end, like snprintf */
typedef struct JsonBuf
{
	char	   *buf;
	size_t		len;
	size_t		used;
} JsonBuf;

static void
jb_put(JsonBuf *jb, const char *s)
{
	size_t		n = strlen(s);

	if (jb->used < jb->len)
	{
		size_t		room = jb->len - 1 - jb->used;

		memcpy(jb->buf + jb->used, s, n < room ? n : room);
	}
	jb->used += n;
}

/*
 * A number with a fixed format: points "%.1f", other numbers "%.3f",
 * negative zero printed as zero, non-finite values as null (JSON has no
 * NaN).  printf's decimal point follows LC_NUMERIC, which PostgreSQL keeps
 * at "C" in the backend.
 */
static void
jb_num(JsonBuf *jb, double v, const char *fmt)
{
	char		tmp[64];

	if (!isfinite(v))
	{
		jb_put(jb, "null");
		return;
	}
	if (v == 0.0)
		v = 0.0;
	snprintf(tmp, sizeof(tmp), fmt, v);
	if (strcmp(tmp, "-0.0") == 0 || strcmp(tmp, "-0.000") == 0)
		jb_put(jb, tmp + 1);
	else
		jb_put(jb, tmp);
}

/*
 * The reasons as a JSON array in signal order: [{"code":"...",
 * "points":P,"name":N,...},...].  Codes and number names are static
 * identifiers that need no escaping.  Writes at most len bytes including
 * the terminator and returns the length of the whole text, so a caller can
 * size the buffer with a first call.
 */
size_t
spoof_reasons_json(const SpoofResult *r, char *buf, size_t len)
{
	JsonBuf		jb = {buf, len, 0};

	jb_put(&jb, "[");
	for (int i = 0; r != NULL && i < r->n_reasons; i++)
	{
		const SpoofReason *rs = &r->reasons[i];

		jb_put(&jb, i ? ",{\"code\":\"" : "{\"code\":\"");
		jb_put(&jb, rs->code);
		jb_put(&jb, "\",\"points\":");
		jb_num(&jb, rs->points, "%.1f");
		for (int k = 0; k < rs->n_nums; k++)
		{
			jb_put(&jb, ",\"");
			jb_put(&jb, rs->nums[k].name);
			jb_put(&jb, "\":");
			jb_num(&jb, rs->nums[k].value, "%.3f");
		}
		jb_put(&jb, "}");
	}
	jb_put(&jb, "]");
	if (len > 0)
		buf[jb.used < len ? jb.used : len - 1] = '\0';
	return jb.used;
}
