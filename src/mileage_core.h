/*-------------------------------------------------------------------------
 *
 * mileage_core.h
 *		Pure C mileage from raw location fixes: types shared by the core,
 *		its fmgr wrappers, the unit tests and the benchmark generator.
 *
 * Copyright (c) 2026, fieldops developers
 *
 * IDENTIFICATION
 *		src/mileage_core.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MILEAGE_CORE_H
#define MILEAGE_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "geo_kernel.h"

#define MILEAGE_ALGO_VERSION "fieldops-mileage/1"

/* where a fix comes from, as the phone reports it */
typedef enum MileageSource
{
	MS_GPS = 0,					/* GNSS receiver */
	MS_FUSED,					/* platform fusion (Android fused provider) */
	MS_NETWORK,					/* network location (Wi-Fi and/or cell) */
	MS_WIFI,
	MS_CELL,
	MS_PASSIVE,					/* another app's fix; quality unknown */
	MS_UNKNOWN
} MileageSource;

/* one fix as the core sees it */
typedef struct MileageFix
{
	int64_t		t_us;			/* microseconds since 2000-01-01 00:00 UTC */
	double		lat;			/* degrees, WGS-84 */
	double		lon;			/* degrees, WGS-84 */
	float		acc_m;			/* 68 % horizontal radius in metres; NaN = unknown */
	float		speed_mps;		/* reported ground speed; NaN = unknown */
	uint8_t		source;			/* MileageSource */
} MileageFix;

/*
 * What happened to a fix.  The first group adds distance; the others say
 * why a fix did not.  Every raw step (from the previous fix with valid
 * coordinates to this one) is booked under the status of its fix, so the
 * raw metres per status add up to the raw length.
 */
typedef enum MileageStatus
{
	MST_MOVED = 0,				/* kept: moving, the step from the anchor counts */
	MST_GAP,					/* kept after a gap: the chord counts (booked apart) */
	MST_FIRST,					/* first usable fix: nothing to count yet */
	MST_RELOCATED,				/* consistent jump accepted: no distance */
	MST_HOLD,					/* within the hold radius of the anchor: jitter */
	MST_STATIONARY,				/* stopped: held by the stop lock */
	MST_INVALID,				/* non-finite or out-of-range time or position */
	MST_ZERO,					/* exactly (0, 0) */
	MST_FUTURE,					/* time too far after the reference time */
	MST_DUPLICATE,				/* same time as the fix before */
	MST_NON_GNSS,				/* Wi-Fi / cell / network: never adds distance */
	MST_LOW_ACCURACY,			/* reported accuracy above the cap */
	MST_IMPLAUSIBLE,			/* fails the kinematic gate */
	MST_GAP_IMPLAUSIBLE,		/* after a gap, too far for the time */
	MST__COUNT
} MileageStatus;

extern const char *const mileage_status_names[MST__COUNT];
extern const char *const mileage_status_reasons[MST__COUNT];

/* the quality flags of a result */
#define MFL_UNDERSAMPLED	0x01u	/* median interval too long for accuracy */
#define MFL_LOW_GPS_SHARE	0x02u	/* most fixes are not GNSS */
#define MFL_HAS_GAPS		0x04u	/* distance includes chords over gaps */
#define MFL_NO_DATA			0x08u	/* no usable fix at all */
#define MFL__COUNT			4
extern const char *const mileage_flag_names[MFL__COUNT];

/*
 * Parameters, each echoed with the result.  mileage_params_default() sets
 * the documented defaults; every field is validated by
 * mileage_params_check() before use.
 */
typedef struct MileageParams
{
	double		max_speed_mps;	/* kinematic gate: faster is implausible */
	double		gate_k;			/* gate slack = gate_k * hypot(acc_a, acc_b) */
	int			recover_fixes;	/* this many consistent gated fixes relocate */
	double		accuracy_cap_m; /* GNSS fixes less accurate are dropped */
	double		default_accuracy_m; /* assumed when a fix reports none */
	double		gap_s;			/* more time than this since the anchor is a gap */
	double		hold_k;			/* hold radius = hold_k * accuracy ... */
	double		hold_min_m;		/* ... but at least this */
	double		hold_max_m;		/* ... and at most this */
	double		stop_speed_mps; /* median reported speed below: stopped */
	double		go_speed_mps;	/* reported speeds at least this ... */
	double		go_for_s;		/* ... for this long (3+ reports): moving again */
	double		stop_after_s;	/* without speeds: held this long means stopped */
	double		future_s;		/* fixes later than ref_time + future_s dropped */
	int64_t		ref_time_us;	/* reference "now"; INT64_MAX disables the check */
	double		undersampled_s; /* median GNSS interval above: undersampled */
	double		min_gps_share;	/* share of GNSS fixes below: low_gps_share */
	double		doppler_k;		/* Doppler steps: see step_length(); 0: chords only */
	double		doppler_max_dt_s;	/* speeds are integrated over shorter intervals only */
} MileageParams;

extern void mileage_params_default(MileageParams *p);
extern const char *mileage_params_check(const MileageParams *p);

/* interval histogram bins (seconds, upper bounds) for the median */
#define MILEAGE_IVL_BINS 12

/*
 * Additive accounting of a run of fixes: a whole track, or one trip or stop
 * of it.  Metres are kept as integer micrometres, so sums are exact and do
 * not depend on how fixes are grouped: the tallies of the segments of a
 * track add up to the tally of the track.
 */
typedef struct MileageTally
{
	int64_t		moving_um;
	int64_t		gap_um;			/* chords over gaps */
	int64_t		status_n[MST__COUNT];
	int64_t		status_raw_um[MST__COUNT];	/* raw step of each fix, by status */
	int64_t		n_fixes;
	int64_t		n_valid;		/* passed validity and the duplicate check */
	int64_t		n_gnss;			/* ... and are GNSS fixes */
	int64_t		ivl_hist[MILEAGE_IVL_BINS]; /* intervals between GNSS fixes */
	bool		have_used;
	int64_t		first_t_us;		/* first and last used fix (have_used) */
	int64_t		last_t_us;
} MileageTally;

/* the result of a track (or of a segment), derived from its tally */
typedef struct MileageResult
{
	double		distance_m;		/* moving_m + gap_chord_m */
	double		moving_m;
	double		gap_chord_m;
	double		raw_length_m;	/* naive length of the valid fixes in time order */
	int64_t		n_fixes;
	int64_t		n_used;			/* fixes that passed every filter (see mileage_status_used) */
	int64_t		status_n[MST__COUNT];
	double		status_raw_m[MST__COUNT];
	unsigned	flags;
	double		median_interval_s;	/* of GNSS fixes (bin upper bound) */
	double		gps_share;
	bool		have_used;
	int64_t		first_t_us;		/* first and last used fix (have_used) */
	int64_t		last_t_us;
	MileageTally tally;			/* what it was derived from, in exact units */
} MileageResult;

/* per-fix outcome: for mileage_detail(), clean_track(), trips and tallies */
typedef struct MileageFixOut
{
	MileageStatus status;
	int64_t		step_um;		/* distance this fix added */
	int64_t		raw_um;			/* raw step from the previous valid fix */
	int64_t		cum_um;			/* distance so far, this fix included */
	bool		valid;			/* counted in n_valid */
	bool		gnss;			/* counted in n_gnss */
	int8_t		ivl_bin;		/* interval histogram bin, or -1 */
} MileageFixOut;

/*
 * Streaming state: constant size, fed fixes in time order.  Opaque to
 * callers apart from its size.
 */
typedef struct MileageState
{
	MileageParams p;
	MileageTally total;
	/* previous fix with valid coordinates (raw length), and the one before */
	bool		have_raw;
	GeoPoint	raw_g;
	/* previous fix considered at all (duplicates) */
	bool		have_prev;
	int64_t		prev_t_us;
	/* previous GNSS fix (intervals) */
	bool		have_gnss;
	int64_t		gnss_t_us;
	/* last fix that passed the kinematic gate */
	bool		have_plausible;
	MileageFix	plausible;
	GeoPoint	plausible_g;
	/* candidate relocation: consecutive gated fixes consistent with each other */
	int			alt_n;
	MileageFix	alt_last;
	GeoPoint	alt_g;
	/* the anchor distance is measured from */
	bool		have_anchor;
	MileageFix	anchor;
	GeoPoint	anchor_g;
	bool		stopped;
	int			beyond_n;		/* consecutive fixes beyond the hold radius while stopped */
	double		beyond_d;		/* distance of the last of them from the anchor */
	float		speeds[3];		/* last three reported GNSS speeds */
	int			n_speeds;
	int			go_n;			/* reports in the current run at or above go speed */
	int64_t		go_since_us;	/* time of the first of them */
	/* distance integrated from reported speeds since the anchor */
	double		dop_m;
	bool		dop_ok;			/* every interval since the anchor had speeds */
	bool		dop_trusted;	/* speeds agreed with positions recently */
	double		dop_sum_chord;	/* decaying sums over recent moving steps */
	double		dop_sum_speed;
} MileageState;

extern void mileage_init(MileageState *s, const MileageParams *p);
extern void mileage_push(MileageState *s, const MileageFix *f, MileageFixOut *out);
extern void mileage_finish(MileageState *s, MileageResult *out);

/* fixes of these statuses passed every filter and place the vehicle */
extern bool mileage_status_used(MileageStatus st);
extern bool mileage_status_anchors(MileageStatus st);
extern void mileage_tally_add(MileageTally *t, int64_t t_us, const MileageFixOut *o);
extern void mileage_tally_merge(MileageTally *into, const MileageTally *from);
extern void mileage_result(const MileageTally *t, const MileageParams *p, MileageResult *out);

/* a total order of fixes (time first), so any arrival order gives one result */
extern int	mileage_fix_cmp(const void *a, const void *b);
extern void mileage_sort(MileageFix *fixes, size_t n);

/* one call: sort, stream, finish (fixes are reordered in place) */
extern void mileage_compute(MileageFix *fixes, size_t n, const MileageParams *p,
							MileageResult *out, MileageFixOut *detail);

#endif							/* MILEAGE_CORE_H */
