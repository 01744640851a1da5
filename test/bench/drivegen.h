/*-------------------------------------------------------------------------
 *
 * drivegen.h
 *		Seeded synthetic ground-truth drives for measuring the accuracy of
 *		the trajectory-mileage core (src/mileage_core.h).
 *
 * A mileage algorithm can only be judged against a known true distance.
 * Real phone traces have none, so this generator simulates a vehicle
 * (city grid, highway with tunnels, creeping traffic, an indoor car park,
 * a parked phone, or a mixed working day), measures the length of its
 * path on the WGS-84 ellipsoid, and produces what a phone would report:
 * MileageFix rows with correlated GNSS noise, multipath bursts, Wi-Fi and
 * cell fixes, and the faults seen in the field (outliers, stale fixes, a
 * (0,0) first fix, duplicates, out-of-order arrival).
 *
 * Everything is a function of the DriveSpec: the same spec gives the same
 * bytes (own PRNG, no rand(), no clock).  The random draws are split into
 * independent streams by purpose, so that, for one seed:
 *	 - the true path depends only on seed, scenario, duration and heading
 *	   (not on origin, environment, sampling or faults);
 *	 - the noise realisation (OU errors, multipath, reacquisition) depends
 *	   only on seed, environment, tau and the true path, not on sampling;
 *	 - each fault family has its own stream, so switching one fault on does
 *	   not move the others.
 * That makes "same drive, other sampling / other fault set" comparisons
 * meaningful.  See test/bench/README-drivegen.md for the distributions and
 * their justification.
 *
 * Copyright (c) 2026, fieldops developers
 *
 * IDENTIFICATION
 *		test/bench/drivegen.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef FIELDOPS_DRIVEGEN_H
#define FIELDOPS_DRIVEGEN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mileage_core.h"

/* what the vehicle does (DriveSpec.scenario) */
enum
{
	DG_CITY = 0,				/* grid of 80-250 m blocks, turns, traffic lights */
	DG_HIGHWAY_TUNNELS,			/* 25-33 m/s, gentle curves, ramps, tunnels */
	DG_CREEP,					/* stop-and-go at 0-3 m/s */
	DG_PARKING_INDOOR,			/* city, into a garage, park 20-90 min, out */
	DG_PARKED_ONLY,				/* never moves: true_m == 0 */
	DG_MIXED,					/* city, highway, creep, garage, city */
	DG_N_SCENARIOS
};

/* sky view of the GNSS antenna (DriveSpec.environment) */
enum
{
	DG_OPEN = 0,				/* sigma 2 m per axis */
	DG_SUBURBAN,				/* sigma 4 m */
	DG_URBAN,					/* sigma 7 m, multipath bursts if enabled */
	DG_N_ENVIRONMENTS
};

/* fault families (DriveSpec.faults, a bit set) */
#define DG_F_MULTIPATH	0x01u	/* urban (and some suburban) bursts of 15-60 m */
#define DG_F_OUTLIERS	0x02u	/* ~0.3 % of GPS fixes 1-20 km off, normal acc */
#define DG_F_STALE		0x04u	/* ~0.3 % repeat a fix 30-600 s old, new time */
#define DG_F_ZERO_FIRST 0x08u	/* first fix (in time) at exactly (0, 0) */
#define DG_F_DUPLICATES 0x10u	/* ~2 % identical twice, ~0.5 % same t moved */
#define DG_F_SHUFFLE	0x20u	/* array in random order instead of by time */
#define DG_F_WIFI_CELL	0x40u	/* network fixes while driving, too */
#define DG_F_ALL		0x7Fu

/* GNSS cover at the vehicle (DriveFixTruth.cover, DriveTrackPoint.cover) */
enum
{
	DG_COVER_SKY = 0,			/* normal reception */
	DG_COVER_DEGRADED,			/* garage entrance: 3x noise, half the fixes */
	DG_COVER_GARAGE,			/* indoors: no GNSS, network fixes only */
	DG_COVER_TUNNEL				/* no fix of any kind */
};

/* labels of one output row (DriveFixTruth.kinds, a bit set) */
#define DG_K_OUTLIER	0x0001u /* displaced 1-20 km */
#define DG_K_STALE		0x0002u /* position, acc, speed copied from an older fix */
#define DG_K_ZERO		0x0004u /* lat = lon = 0 */
#define DG_K_DUP		0x0008u /* identical copy of the row before it (in time) */
#define DG_K_NEARDUP	0x0010u /* same t_us as another row, moved 0.5-5 m */
#define DG_K_NETWORK	0x0020u /* MS_WIFI or MS_CELL */
#define DG_K_MULTIPATH	0x0040u /* a multipath offset > 5 m was active */
#define DG_K_REACQ		0x0080u /* reacquisition error > 1 m (after an outage) */
#define DG_K_DEGRADED	0x0100u /* reported from DG_COVER_DEGRADED */

/*
 * What to generate.  Start from drive_spec_init() and change fields.
 *
 * sample_s: GNSS fixes are taken at t0 + k * sample_s (+ 0-50 ms jitter);
 * 0 means 1 s with distance_filter_m > 0 required.  distance_filter_m > 0:
 * a GNSS fix is only reported once the vehicle's TRUE position is at least
 * that far (geodesic) from its true position at the last reported GNSS fix
 * (Android's minDistance, but on true motion).  heading_deg: the direction
 * (azimuth, degrees clockwise from north) the drive sets off in and tends
 * to keep; NaN lets the seed choose.  keep_track: also return the 10 Hz
 * true track (Drive.track).
 */
typedef struct DriveSpec
{
	uint64_t	seed;
	int			scenario;		/* DG_CITY ... DG_MIXED */
	int			environment;	/* DG_OPEN, DG_SUBURBAN, DG_URBAN */
	double		tau_s;			/* OU correlation time of GNSS error, > 0 */
	double		sample_s;		/* >= 0.1, or 0 with distance_filter_m > 0 */
	double		distance_filter_m;	/* >= 0 */
	double		origin_lat;		/* [-90, 90] */
	double		origin_lon;
	double		heading_deg;	/* NaN: from the seed */
	double		duration_s;		/* [1, 172800], rounded to 0.1 s */
	unsigned	faults;			/* DG_F_* */
	int			keep_track;		/* fill Drive.track */
} DriveSpec;

/* the truth behind one output row, parallel to Drive.fixes */
typedef struct DriveFixTruth
{
	double		lat;			/* true position at the row's t_us */
	double		lon;
	double		odo_m;			/* true distance driven from the start to
								 * t_us: true distance between two rows is
								 * the difference */
	float		speed_mps;		/* true speed */
	uint16_t	kinds;			/* DG_K_* */
	uint8_t		cover;			/* DG_COVER_* at that time */
} DriveFixTruth;

/* one 10 Hz sample of the true path (only with keep_track) */
typedef struct DriveTrackPoint
{
	int64_t		t_us;			/* same clock as MileageFix.t_us */
	double		lat;
	double		lon;
	double		dist_m;			/* true distance driven since the start */
	float		speed_mps;
	uint8_t		cover;			/* DG_COVER_* */
	uint8_t		gnss;			/* 1 if a GNSS fix could be taken now */
} DriveTrackPoint;

typedef struct Drive
{
	MileageFix *fixes;			/* in arrival order (random with DG_F_SHUFFLE,
								 * else by time) */
	DriveFixTruth *truth;		/* truth[i] describes fixes[i] */
	size_t		n;
	DriveTrackPoint *track;		/* NULL unless keep_track; track[0] is t0 */
	size_t		n_track;
	int64_t		t0_us;			/* start of the drive */
	double		duration_s;		/* as simulated (multiple of 0.1 s) */
	double		true_m;			/* length of the true path on WGS-84 */
	double		plane_m;		/* the same in the local plane (sanity check) */
	double		parked_s;		/* time with the vehicle stationary */
	double		moving_s;		/* duration_s - parked_s */
	double		tunnel_m;		/* true distance driven inside tunnels */
	double		tunnel_s;
	int			n_tunnels;
} Drive;

/* return codes of drive_generate */
#define DG_OK		0
#define DG_EINVAL	(-1)		/* a DriveSpec field is out of range */
#define DG_ENOMEM	(-2)

/* Fill *spec with defaults: mixed, suburban, tau 60 s, 1 s, 45N 7E, 1 h */
extern void drive_spec_init(DriveSpec *spec);

/* Generate; on success *out owns arrays to release with drive_free() */
extern int	drive_generate(const DriveSpec *spec, Drive *out);
extern void drive_free(Drive *d);
extern const char *drive_strerror(int rc);

/* names used by the CLI and the README: -1 when unknown */
extern int	drive_scenario_parse(const char *name);
extern const char *drive_scenario_name(int scenario);
extern int	drive_environment_parse(const char *name);
extern const char *drive_environment_name(int environment);
/* "all", "none" or a comma list of multipath,outliers,stale,zero-first,
 * duplicates,shuffle,wifi-cell; 0 = ok */
extern int	drive_faults_parse(const char *list, unsigned *faults);
extern const char *drive_source_name(int source);

/*
 * CSV for COPY ... (FORMAT csv, HEADER): t_us,lat,lon,acc_m,speed_mps,source
 * with NaN as an empty field (NULL), lat/lon in %.17g (round-trips), and
 * source as the MileageSource number (or its name when source_names).
 * Returns 0, or -1 on a write error.
 */
extern int	drive_write_csv(FILE *f, const Drive *d, int source_names);

/* 64-bit FNV-1a over every output field and true_m: a cheap way to compare
 * runs on different machines */
extern uint64_t drive_digest(const Drive *d);

#endif							/* FIELDOPS_DRIVEGEN_H */
