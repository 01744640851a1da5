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
} MileageParams;

extern void mileage_params_default(MileageParams *p);
extern const char *mileage_params_check(const MileageParams *p);

/* the result of one track */
typedef struct MileageResult
{
	double		distance_m;		/* moving_m + gap_chord_m */
	double		moving_m;
	double		gap_chord_m;
	double		raw_length_m;	/* naive length of the valid fixes in time order */
	int64_t		n_fixes;
	int64_t		n_used;			/* fixes in MST_MOVED, MST_GAP, MST_FIRST, MST_RELOCATED */
	int64_t		status_n[MST__COUNT];
	double		status_raw_m[MST__COUNT];
	unsigned	flags;
	double		median_interval_s;	/* of GNSS fixes (bin upper bound) */
	double		gps_share;
	int64_t		first_t_us;		/* first and last usable fix, or 0 */
	int64_t		last_t_us;
} MileageResult;

/* per-fix outcome, for mileage_detail() and clean_track() */
typedef struct MileageFixOut
{
	MileageStatus status;
	double		step_m;			/* distance this fix added */
	double		cum_m;			/* distance so far */
} MileageFixOut;

/* interval histogram bins (seconds, upper bounds) for the median */
#define MILEAGE_IVL_BINS 12

/*
 * Streaming state: constant size, fed fixes in time order.  Opaque to
 * callers apart from its size.
 */
typedef struct MileageState
{
	MileageParams p;
	MileageResult r;
	/* previous fix with valid coordinates (raw length), and the one before */
	bool		have_raw;
	double		raw_lat,
				raw_lon;
	int64_t		raw_t_us;
	bool		have_prev_raw_fix;
	double		prev_raw_lat,
				prev_raw_lon;
	int64_t		prev_raw_t_us;
	/* previous fix considered at all (duplicates) */
	bool		have_prev;
	int64_t		prev_t_us;
	/* previous GNSS fix (intervals) */
	bool		have_gnss;
	int64_t		gnss_t_us;
	int64_t		ivl_hist[MILEAGE_IVL_BINS];
	int64_t		n_valid;
	int64_t		n_gnss;
	/* last fix that passed the kinematic gate */
	bool		have_plausible;
	MileageFix	plausible;
	/* candidate relocation: consecutive gated fixes consistent with each other */
	int			alt_n;
	MileageFix	alt_last;
	/* the anchor distance is measured from */
	bool		have_anchor;
	MileageFix	anchor;
	bool		stopped;
	int			beyond_n;		/* consecutive fixes beyond the hold radius while stopped */
	double		beyond_d;		/* distance of the last of them from the anchor */
	float		speeds[3];		/* last three reported GNSS speeds */
	int			n_speeds;
	int			go_n;			/* reports in the current run at or above go speed */
	int64_t		go_since_us;	/* time of the first of them */
} MileageState;

extern void mileage_init(MileageState *s, const MileageParams *p);
extern void mileage_push(MileageState *s, const MileageFix *f, MileageFixOut *out);
extern void mileage_finish(MileageState *s, MileageResult *out);

/* a total order of fixes (time first), so any arrival order gives one result */
extern int	mileage_fix_cmp(const void *a, const void *b);
extern void mileage_sort(MileageFix *fixes, size_t n);

/* one call: sort, stream, finish (fixes are reordered in place) */
extern void mileage_compute(MileageFix *fixes, size_t n, const MileageParams *p,
							MileageResult *out, MileageFixOut *detail);

#endif							/* MILEAGE_CORE_H */
