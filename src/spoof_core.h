/*-------------------------------------------------------------------------
 *
 * spoof_core.h
 *		Pure C spoofed-location scoring of one location fix: the types the
 *		core, its SQL wrappers and the unit tests share.
 *
 * Copyright (c) 2026, fieldops developers
 *
 * IDENTIFICATION
 *		src/spoof_core.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SPOOF_CORE_H
#define SPOOF_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SPOOF_ALGO_VERSION	"fieldops-spoof/1"

#define SPOOF_MAX_PREV		16	/* previous fixes of the device considered */
#define SPOOF_MAX_AP		32	/* Wi-Fi access points of one scan considered */
#define SPOOF_MAX_REASONS	32
#define SPOOF_MAX_NUMS		4	/* named numbers per reason */
#define SPOOF_VERSION_LEN	64

/* the provider a fix comes from, as the phone reports it */
typedef enum SpoofProvider
{
	SPROV_GPS = 0,				/* GNSS receiver: the only "GNSS fix" below */
	SPROV_NETWORK,
	SPROV_FUSED,
	SPROV_WIFI,
	SPROV_CELL,
	SPROV_PASSIVE
} SpoofProvider;

/* integrity verdict bits (Play Integrity style); -1 = no verdict */
#define SPOOF_INTEGRITY_BASIC	0x1
#define SPOOF_INTEGRITY_DEVICE	0x2
#define SPOOF_INTEGRITY_STRONG	0x4

/* the fix being scored; doubles are NAN when not reported */
typedef struct SpoofFix
{
	int64_t		t_ms;			/* device clock, ms since the Unix epoch */
	int64_t		received_ms;	/* server receive time; <= 0 = unknown */
	double		lat;			/* degrees, WGS-84 */
	double		lon;
	double		accuracy_m;		/* horizontal accuracy radius */
	double		altitude_m;
	double		speed_mps;
	double		bearing_deg;
	SpoofProvider provider;
	int			mock;			/* 1 set, 0 clear, -1 unknown */
	int			satellites;		/* used in fix; -1 unknown */
	double		cn0_mean_dbhz;
	double		cn0_sd_dbhz;
	int			integrity;		/* SPOOF_INTEGRITY_* bits; -1 unknown */
	bool		external_receiver;	/* allowlisted external GNSS: mock is legit */
} SpoofFix;

/* one previous fix of the same device; callers pass them by t_ms ascending */
typedef struct SpoofPrev
{
	int64_t		t_ms;
	int64_t		received_ms;
	double		lat;
	double		lon;
	double		accuracy_m;
	double		speed_mps;
	double		bearing_deg;
	double		altitude_m;
	SpoofProvider provider;
} SpoofPrev;

/* one observed Wi-Fi access point */
typedef struct SpoofAp
{
	bool		known;			/* its location has been learned */
	double		distance_m;		/* fix to the learned location (known only) */
	double		spread_m;		/* spread of its learned observations */
} SpoofAp;

/* the radio environment seen with the fix, prepared by the caller */
typedef struct SpoofRadio
{
	int			n_ap;			/* 0..SPOOF_MAX_AP; 0 = no Wi-Fi scan */
	SpoofAp		ap[SPOOF_MAX_AP];
	int			site_overlap;	/* site's stable BSSIDs seen; -1 no site / set */
	int			site_stable_count;
	bool		scan_replay;	/* the same BSSIDs+RSSIs were seen in another scan */
	bool		has_cell;		/* a serving cell was reported */
	bool		cell_known;		/* ... and it is in the cell table */
	double		cell_distance_m;	/* fix to the cell's centroid */
	double		cell_radius_m;
	bool		mcc_foreign;	/* the serving cell's MCC is not the site's */
} SpoofRadio;

/* facts from the device's and the customer's history, prepared by the caller */
typedef struct SpoofHistory
{
	bool		same_coords_earlier_day;	/* these exact coordinates, another day */
	int			workers_on_device_today;	/* -1 unknown */
	bool		at_customer_pin;	/* within 1e-7 deg of the stored pin */
	double		skew_jump_s;	/* change of (received - device clock); NAN unknown */
	bool		queued;			/* uploaded with later fixes of the device */
	double		rebound_s;		/* since the device was bound to this fix's
								 * worker; NAN unknown */
} SpoofHistory;

/* the signals, in the fixed order of the reasons */
typedef enum SpoofSignal
{
	SPOOF_OS_MOCK = 0,
	SPOOF_INTEGRITY_FAILED,
	SPOOF_IMPLAUSIBLE_SPEED,
	SPOOF_TELEPORT_ROUND_TRIP,
	SPOOF_FROZEN_POSITION,
	SPOOF_CONSTANT_ACCURACY,
	SPOOF_ZERO_ALTITUDE,
	SPOOF_CONSTANT_BEARING,
	SPOOF_ZERO_SPEED_WHILE_MOVING,
	SPOOF_SPEED_MISMATCH,
	SPOOF_IMPLAUSIBLE_ACCURACY,
	SPOOF_NO_SATELLITES,
	SPOOF_UNIFORM_CN0,
	SPOOF_WIFI_FAR,
	SPOOF_WIFI_NO_SITE_OVERLAP,
	SPOOF_WIFI_SCAN_REPLAY,
	SPOOF_CELL_FAR,
	SPOOF_CELL_FOREIGN_MCC,
	SPOOF_CLOCK_FUTURE,
	SPOOF_CLOCK_SKEW_JUMP,
	SPOOF_STALE_FIX,
	SPOOF_SAME_COORDS_EARLIER_DAY,
	SPOOF_SHARED_DEVICE,
	SPOOF_PIN_DROP,
	SPOOF_FRESH_REBIND,
	SPOOF__NSIG
} SpoofSignal;

extern const char *const spoof_signal_codes[SPOOF__NSIG];

/* signal groups, for coverage: which kinds of evidence were available */
typedef enum SpoofGroup
{
	SPOOF_G_OS_FLAGS = 0,
	SPOOF_G_INTEGRITY,
	SPOOF_G_KINEMATICS,
	SPOOF_G_AUX_FIELDS,
	SPOOF_G_GNSS,
	SPOOF_G_WIFI,
	SPOOF_G_CELL,
	SPOOF_G_CLOCK,
	SPOOF_G_HISTORY,
	SPOOF_GROUPS
} SpoofGroup;

extern const char *const spoof_group_names[SPOOF_GROUPS];
extern const SpoofGroup spoof_signal_group[SPOOF__NSIG];

/*
 * The model: a scorecard.  Points add on a log-odds scale (+10 points
 * double the odds); see spoof_model_default() for the meaning and the
 * default of every field.
 */
typedef struct SpoofModel
{
	char		version[SPOOF_VERSION_LEN];
	double		prior_log_odds;
	double		weight[SPOOF__NSIG];	/* points of each signal */
	bool		hard[SPOOF__NSIG];	/* the signal alone rejects the fix */
	int			amber_score;	/* score >= amber_score: AMBER */
	int			red_score;		/* score >= red_score: RED */
	double		default_accuracy_m; /* assumed when a fix reports none */
	double		max_speed_mps;	/* ground travel above this is implausible */
	double		impossible_speed_mps;	/* above this not even a plane */
	double		impossible_extra_points;	/* added to implausible_speed */
	double		long_leg_m;		/* a leg this long may have been flown */
	double		launch_min_m;	/* the launch envelope applies to jumps this long */
	double		road_accel_mps2;	/* the envelope of a leg that starts or
									 * ends at a standstill: a car ... */
	double		road_brake_mps2;
	double		road_top_mps;
	double		rail_accel_mps2;	/* ... and a high-speed train */
	double		rail_brake_mps2;
	double		rail_top_mps;
	double		kin_max_gap_s;	/* speeds are compared over shorter gaps only */
	double		moving_mps;		/* displacement speed meaning "moving" */
	double		speed_mismatch_factor;
	double		speed_mismatch_slack_mps;
	double		teleport_min_m; /* a round trip goes at least this far */
	double		teleport_return_m;	/* ... and comes back within this */
	double		teleport_max_s; /* ... within this time */
	int			frozen_min_fixes;
	double		gnss_grade_accuracy_m;	/* a fix claiming this or better is
										 * GNSS-derived, whatever its label */
	double		frozen_alt_accuracy_m;	/* at this accuracy or better, a new
										 * altitude on the same point is a new
										 * solution */
	int			constant_accuracy_min_fixes;
	int			zero_altitude_min_fixes;
	int			constant_bearing_min_fixes;
	double		min_gnss_accuracy_m;
	double		cn0_sd_min_dbhz;
	int			cn0_min_satellites;
	double		wifi_far_min_m;
	double		wifi_far_spread_k;
	int			site_min_stable;
	double		cell_radius_k;
	double		cell_slack_m;
	double		clock_future_s;
	double		skew_jump_s;
	double		stale_s;
	int			shared_device_workers;
	double		fresh_rebind_s; /* a rebind this recent on a shared device */
	int			replay_min_aps; /* a non-GNSS fix on an earlier day's exact
								 * coordinates counts when its scan had this
								 * many access points */
} SpoofModel;

typedef enum SpoofBand
{
	SPOOF_GREEN = 0,
	SPOOF_AMBER,
	SPOOF_RED
} SpoofBand;

typedef struct SpoofNum
{
	const char *name;			/* static string */
	double		value;
} SpoofNum;

/* one signal that fired */
typedef struct SpoofReason
{
	SpoofSignal signal;
	const char *code;			/* spoof_signal_codes[signal] */
	double		points;
	int			n_nums;
	SpoofNum	nums[SPOOF_MAX_NUMS];
} SpoofReason;

typedef struct SpoofResult
{
	int			score;			/* 0..100 */
	SpoofBand	band;
	double		log_odds;
	double		points;			/* sum of the reasons' points */
	int			coverage;		/* groups that had data, of SPOOF_GROUPS */
	unsigned	coverage_mask;	/* bit g: group g had data */
	bool		hard_reject;
	int			n_reasons;
	SpoofReason reasons[SPOOF_MAX_REASONS];
} SpoofResult;

extern void spoof_model_default(SpoofModel *m);
extern const char *spoof_model_check(const SpoofModel *m);

/*
 * Score one fix.  prev (nprev <= SPOOF_MAX_PREV, by t_ms ascending), radio
 * and hist may be NULL/0: their groups then have no data.  Returns 0, or -1
 * (result zeroed) on a NULL fix/model/result, nprev out of range, a
 * model that fails spoof_model_check(), or a fix without valid coordinates.
 */
extern int	spoof_score(const SpoofFix *fix, const SpoofPrev *prev, int nprev,
						const SpoofRadio *radio, const SpoofHistory *hist,
						const SpoofModel *model, SpoofResult *out);

/* score from log-odds: the one mapping spoof_score() uses */
extern int	spoof_score_from_log_odds(double log_odds);
extern const char *spoof_band_name(SpoofBand band);

/* JSON array of the reasons; returns the length needed, like snprintf */
extern size_t spoof_reasons_json(const SpoofResult *r, char *buf, size_t len);

#endif							/* SPOOF_CORE_H */
