/*-------------------------------------------------------------------------
 *
 * spoof_test.c
 *		Unit tests of the spoof-scoring core: every signal on a constructed
 *		case and on a close honest one, the score mapping, bands, coverage,
 *		hard rejects, and golden reasons JSON for determinism.
 *
 * Copyright (c) 2026, fieldops developers
 *
 * IDENTIFICATION
 *		test/unit/spoof_test.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "spoof_core.h"
#include "unit.h"

#define T0		INT64_C(1795772200000)	/* a device time in 2026 */
#define LAT0	52.52
#define LON0	13.405
#define DEG_PER_M (1.0 / 111320.0)	/* latitude degrees per metre, roughly */

static SpoofModel model;

/*
 * An honest GNSS track heading north at 10 m/s, a fix every 5 s, with the
 * small variations real receivers show; prev[0..n-1] then the fix.
 */
static void
honest(SpoofPrev *prev, int n, SpoofFix *fix)
{
	for (int i = 0; i < n; i++)
	{
		memset(&prev[i], 0, sizeof(prev[i]));
		prev[i].t_ms = T0 + 5000 * i;
		prev[i].received_ms = prev[i].t_ms + 1800;
		prev[i].lat = LAT0 + 50.0 * i * DEG_PER_M;
		prev[i].lon = LON0 + 0.00001 * (i % 3);
		prev[i].accuracy_m = 4.3 + 0.17 * i;
		prev[i].speed_mps = 10.0 + 0.11 * i;
		prev[i].bearing_deg = 1.5 + 0.7 * (i % 4);
		prev[i].altitude_m = 41.7 + 0.3 * i;
		prev[i].provider = SPROV_GPS;
	}
	memset(fix, 0, sizeof(*fix));
	fix->t_ms = T0 + 5000 * n;
	fix->received_ms = fix->t_ms + 2100;
	fix->lat = LAT0 + 50.0 * n * DEG_PER_M;
	fix->lon = LON0 + 0.00001 * (n % 3);
	fix->accuracy_m = 4.3 + 0.17 * n;
	fix->altitude_m = 41.7 + 0.3 * n;
	fix->speed_mps = 10.0 + 0.11 * n;
	fix->bearing_deg = 1.5 + 0.7 * (n % 4);
	fix->provider = SPROV_GPS;
	fix->mock = 0;
	fix->satellites = 14;
	fix->cn0_mean_dbhz = 33.4;
	fix->cn0_sd_dbhz = 5.6;
	fix->integrity = SPOOF_INTEGRITY_BASIC | SPOOF_INTEGRITY_DEVICE;
	fix->external_receiver = false;
}

/* a radio environment that agrees with the fix */
static void
honest_radio(SpoofRadio *r)
{
	memset(r, 0, sizeof(*r));
	r->n_ap = 3;
	for (int i = 0; i < 3; i++)
	{
		r->ap[i].known = true;
		r->ap[i].distance_m = 20.0 + 15.0 * i;
		r->ap[i].spread_m = 12.0;
	}
	r->site_overlap = 2;
	r->site_stable_count = 4;
	r->scan_replay = false;
	r->has_cell = true;
	r->cell_known = true;
	r->cell_distance_m = 900.0;
	r->cell_radius_m = 1500.0;
	r->mcc_foreign = false;
}

static void
honest_hist(SpoofHistory *h)
{
	memset(h, 0, sizeof(*h));
	h->workers_on_device_today = 1;
	h->skew_jump_s = 0.4;
	h->rebound_s = 30.0 * 86400;	/* bound a month ago */
}

static bool
has(const SpoofResult *r, SpoofSignal sig)
{
	for (int i = 0; i < r->n_reasons; i++)
		if (r->reasons[i].signal == sig)
			return true;
	return false;
}

static const SpoofReason *
reason(const SpoofResult *r, SpoofSignal sig)
{
	for (int i = 0; i < r->n_reasons; i++)
		if (r->reasons[i].signal == sig)
			return &r->reasons[i];
	return NULL;
}

/* score a case and say whether sig fired */
static bool
fires(const SpoofFix *f, const SpoofPrev *p, int n, const SpoofRadio *radio,
	  const SpoofHistory *h, SpoofSignal sig)
{
	SpoofResult r;

	if (spoof_score(f, p, n, radio, h, &model, &r) != 0)
		return false;
	return has(&r, sig);
}

static void
test_honest(void)
{
	SpoofPrev	p[SPOOF_MAX_PREV];
	SpoofFix	f;
	SpoofRadio	radio;
	SpoofHistory h;
	SpoofResult r;
	char		buf[64];

	honest(p, SPOOF_MAX_PREV, &f);
	honest_radio(&radio);
	honest_hist(&h);
	EQ_INT(spoof_score(&f, p, SPOOF_MAX_PREV, &radio, &h, &model, &r), 0, "honest: scored");
	EQ_INT(r.n_reasons, 0, "honest: no reason fires");
	EQ_INT(r.score, 2, "honest: the prior score (2 %)");
	EQ_INT(r.band, SPOOF_GREEN, "honest: green");
	EQ_INT(r.coverage, SPOOF_GROUPS, "honest with full context: every group covered");
	spoof_reasons_json(&r, buf, sizeof(buf));
	EQ_STR(buf, "[]", "honest: empty reasons array");
}

static void
test_os_integrity(void)
{
	SpoofPrev	p[4];
	SpoofFix	f;

	honest(p, 4, &f);
	f.mock = 1;
	OK(fires(&f, p, 4, NULL, NULL, SPOOF_OS_MOCK), "os_mock: fires on the mock flag");
	f.external_receiver = true;
	OK(!fires(&f, p, 4, NULL, NULL, SPOOF_OS_MOCK), "os_mock: allowlisted external receiver excused");
	f.external_receiver = false;
	f.mock = 0;
	OK(!fires(&f, p, 4, NULL, NULL, SPOOF_OS_MOCK), "os_mock: clear flag does not fire");

	f.integrity = SPOOF_INTEGRITY_BASIC;
	OK(fires(&f, p, 4, NULL, NULL, SPOOF_INTEGRITY_FAILED), "integrity_failed: basic only fires");
	f.integrity = 0;
	OK(fires(&f, p, 4, NULL, NULL, SPOOF_INTEGRITY_FAILED), "integrity_failed: nothing fires");
	f.integrity = SPOOF_INTEGRITY_BASIC | SPOOF_INTEGRITY_DEVICE;
	OK(!fires(&f, p, 4, NULL, NULL, SPOOF_INTEGRITY_FAILED), "integrity_failed: basic+device without strong is fine");
	f.integrity = -1;
	OK(!fires(&f, p, 4, NULL, NULL, SPOOF_INTEGRITY_FAILED), "integrity_failed: unknown does not fire");
}

static void
test_speed(void)
{
	SpoofPrev	p[4];
	SpoofFix	f;
	SpoofResult r;
	const SpoofReason *rs;

	honest(p, 4, &f);
	f.lat = p[3].lat + 500.0 * DEG_PER_M;	/* 500 m in 5 s: 100 m/s */
	f.speed_mps = NAN;
	spoof_score(&f, p, 4, NULL, NULL, &model, &r);
	rs = reason(&r, SPOOF_IMPLAUSIBLE_SPEED);
	OK(rs != NULL && rs->points == 30.0, "implausible_speed: 100 m/s fires with base points");
	f.lat = p[3].lat + 10000.0 * DEG_PER_M; /* 2 km/s */
	spoof_score(&f, p, 4, NULL, NULL, &model, &r);
	rs = reason(&r, SPOOF_IMPLAUSIBLE_SPEED);
	OK(rs != NULL && rs->points == 60.0, "implausible_speed: above 250 m/s adds the impossible points");
	f.lat = p[3].lat + 300.0 * DEG_PER_M;	/* 300 m - 9 m of accuracy in 5 s: 58 m/s */
	OK(!fires(&f, p, 4, NULL, NULL, SPOOF_IMPLAUSIBLE_SPEED), "implausible_speed: 58 m/s net does not fire");
	f.lat = p[3].lat + 400.0 * DEG_PER_M;
	f.accuracy_m = 80.0;		/* a poor fix: 400 - 85 m in 5 s is 63 m/s */
	OK(!fires(&f, p, 4, NULL, NULL, SPOOF_IMPLAUSIBLE_SPEED), "implausible_speed: net of accuracy");
	f.accuracy_m = 5.0;
	f.lat = p[3].lat + 500.0 * DEG_PER_M;	/* 100 m/s again: a high-speed train ... */
	f.speed_mps = 97.0;			/* ... whose receiver measures that speed */
	OK(!fires(&f, p, 4, NULL, NULL, SPOOF_IMPLAUSIBLE_SPEED), "implausible_speed: corroborated by the GNSS speed does not fire");
	f.speed_mps = 30.0;			/* a third of the chord speed: not corroborated */
	OK(fires(&f, p, 4, NULL, NULL, SPOOF_IMPLAUSIBLE_SPEED), "implausible_speed: a GNSS speed far below the chord fires");
	f.speed_mps = 97.0;
	f.provider = SPROV_NETWORK; /* only a GNSS receiver measures speed */
	OK(fires(&f, p, 4, NULL, NULL, SPOOF_IMPLAUSIBLE_SPEED), "implausible_speed: a network fix's speed corroborates nothing");
}

/*
 * A phone standing still (p[2], p[3] on the same spot, GNSS speed 0) and
 * then a fix dt_s later, north_m metres north, without a speed: the
 * envelope of a leg from a standstill, and the arrival inherited by
 * repeats of the same point.
 */
static void
still_then(SpoofPrev *p, SpoofFix *f, double dt_s, double north_m)
{
	honest(p, 4, f);
	for (int i = 0; i < 4; i++)
	{
		p[i].t_ms = T0 + 300000 * i;
		p[i].lat = LAT0 + 0.3 * (i % 2) * DEG_PER_M;
		p[i].speed_mps = 0.0;
		p[i].bearing_deg = NAN;
	}
	f->t_ms = p[3].t_ms + (int64_t) (dt_s * 1000.0);
	f->received_ms = f->t_ms + 2000;
	f->lat = p[3].lat + north_m * DEG_PER_M;
	f->lon = p[3].lon;
	f->speed_mps = NAN;			/* how it ends: unknown unless a test says */
	f->bearing_deg = NAN;
}

static void
test_launch(void)
{
	SpoofPrev	p[6];
	SpoofFix	f;
	SpoofResult r;
	const SpoofReason *rs;

	/* 60 s from standstill: a car reaches 2.2 km, a train 1.2 km */
	still_then(p, &f, 60.0, 3000.0);	/* 50 m/s net, below the 70 m/s cruise limit */
	OK(fires(&f, p, 4, NULL, NULL, SPOOF_IMPLAUSIBLE_SPEED), "launch: 3 km in 60 s from standstill fires");
	still_then(p, &f, 60.0, 2000.0);
	OK(!fires(&f, p, 4, NULL, NULL, SPOOF_IMPLAUSIBLE_SPEED), "launch: 2 km in 60 s from standstill does not");
	still_then(p, &f, 30.0, 1500.0);	/* 50 m/s: 1.5 km where a car makes 1 km */
	OK(fires(&f, p, 4, NULL, NULL, SPOOF_IMPLAUSIBLE_SPEED), "launch: 1.5 km in 30 s from standstill fires");
	still_then(p, &f, 15.0, 600.0); /* 40 m/s, but a reflection's reach */
	OK(!fires(&f, p, 4, NULL, NULL, SPOOF_IMPLAUSIBLE_SPEED), "launch: a 600 m multipath jump of a still phone does not");
	still_then(p, &f, 60.0, 3000.0);
	p[3].speed_mps = 30.0;		/* already on the expressway */
	OK(!fires(&f, p, 4, NULL, NULL, SPOOF_IMPLAUSIBLE_SPEED), "launch: 3 km in 60 s while driving at 30 m/s does not");
	f.speed_mps = 0.0;			/* ... but stopping at the end: a car braking makes 2.3 km */
	OK(fires(&f, p, 4, NULL, NULL, SPOOF_IMPLAUSIBLE_SPEED), "stop: 3 km in 60 s from 30 m/s to a standstill fires");
	f.speed_mps = 0.0;
	f.provider = SPROV_NETWORK; /* a network answer's speed says nothing */
	OK(!fires(&f, p, 4, NULL, NULL, SPOOF_IMPLAUSIBLE_SPEED), "stop: a network fix's speed 0 is not a standstill");
	/* standstill to standstill: 14.3 km in 259 s (a train from rest reaches 16.6 km, but must stop again) */
	still_then(p, &f, 258.6, 14300.0);
	OK(!fires(&f, p, 4, NULL, NULL, SPOOF_IMPLAUSIBLE_SPEED), "stop: 14.3 km in 259 s from a standstill does not (a train's launch)");
	f.speed_mps = 0.0;
	OK(fires(&f, p, 4, NULL, NULL, SPOOF_IMPLAUSIBLE_SPEED), "stop: 14.3 km in 259 s from a standstill to a standstill fires");
	still_then(p, &f, 258.6, 9000.0);
	f.speed_mps = 0.0;
	OK(!fires(&f, p, 4, NULL, NULL, SPOOF_IMPLAUSIBLE_SPEED), "stop: 9 km in 259 s from a standstill to a standstill does not");
	/* no speed at the start: the leg into it decides */
	still_then(p, &f, 60.0, 3000.0);
	for (int i = 0; i < 4; i++)
	{
		p[i].provider = SPROV_NETWORK;
		p[i].speed_mps = NAN;
		p[i].accuracy_m = 65.0;
	}
	OK(fires(&f, p, 4, NULL, NULL, SPOOF_IMPLAUSIBLE_SPEED), "launch: still network fixes count as a standstill");
	p[3].lat = p[2].lat + 3000.0 * DEG_PER_M;	/* 3 km in the 5 min before: moving */
	f.lat = p[3].lat + 3000.0 * DEG_PER_M;
	OK(!fires(&f, p, 4, NULL, NULL, SPOOF_IMPLAUSIBLE_SPEED), "launch: network fixes that moved do not");
	p[3].t_ms = p[2].t_ms + 1200000;	/* the leg into p[3] took 20 min: unknown, looser limit */
	f.t_ms = p[3].t_ms + 60000;
	p[3].lat = p[2].lat;
	f.lat = p[3].lat + 3000.0 * DEG_PER_M;
	OK(!fires(&f, p, 4, NULL, NULL, SPOOF_IMPLAUSIBLE_SPEED), "launch: a standstill older than 10 min is not assumed");

	/* a flight: 1 090 km in 4 h from a standstill at the gate */
	still_then(p, &f, 4 * 3600.0, 1090000.0);
	f.provider = SPROV_NETWORK;
	f.speed_mps = NAN;
	OK(!fires(&f, p, 4, NULL, NULL, SPOOF_IMPLAUSIBLE_SPEED), "long leg: Shanghai-Beijing in 4 h does not fire");
	f.t_ms = p[3].t_ms + 3600000;	/* in 1 h: 303 m/s, faster than airliners */
	spoof_score(&f, p, 4, NULL, NULL, &model, &r);
	rs = reason(&r, SPOOF_IMPLAUSIBLE_SPEED);
	OK(rs != NULL && rs->points == 60.0, "long leg: 1 090 km in 1 h fires with the impossible points");
	still_then(p, &f, 600.0, 60000.0);	/* 60 km in 10 min: not a flight, not a car */
	OK(fires(&f, p, 4, NULL, NULL, SPOOF_IMPLAUSIBLE_SPEED), "long leg: 60 km in 10 min from standstill fires");

	/* arrival: the point reached by the jump, repeated 5 min later */
	still_then(p, &f, 60.0, 3000.0);
	p[4] = p[3];
	p[4].t_ms = f.t_ms;
	p[4].lat = f.lat;
	p[4].speed_mps = 0.0;
	f.t_ms = p[4].t_ms + 300000;
	f.received_ms = f.t_ms + 2000;
	spoof_score(&f, p, 5, NULL, NULL, &model, &r);
	rs = reason(&r, SPOOF_IMPLAUSIBLE_SPEED);
	OK(rs != NULL && rs->n_nums == 4 && strcmp(rs->nums[3].name, "since_s") == 0 &&
	   rs->nums[3].value == 300.0, "arrival: a repeat of a point reached too fast inherits the leg (since_s 300)");
	f.lat += 2e-6;				/* 22 cm off: a new position, an ordinary still leg */
	OK(!fires(&f, p, 5, NULL, NULL, SPOOF_IMPLAUSIBLE_SPEED), "arrival: a position that moved does not inherit");
	f.lat = p[4].lat;
	p[4].lat = p[3].lat + 1000.0 * DEG_PER_M;	/* reached plausibly */
	f.lat = p[4].lat;
	OK(!fires(&f, p, 5, NULL, NULL, SPOOF_IMPLAUSIBLE_SPEED), "arrival: a repeat of a point reached plausibly does not fire");
}

static void
test_teleport(void)
{
	SpoofPrev	p[5];
	SpoofFix	f;

	honest(p, 5, &f);
	/* A = p[3]; B = p[4], 20 km east, 5 s later; back near A 5 s after */
	p[4].lon = p[3].lon + 0.3;
	f.lat = p[3].lat + 30.0 * DEG_PER_M;
	f.lon = p[3].lon;
	OK(fires(&f, p, 5, NULL, NULL, SPOOF_TELEPORT_ROUND_TRIP), "teleport_round_trip: A->B->A in 10 s fires");
	/* the same trip at driving speed: B 10 min after A, back 10 min later */
	p[4].t_ms = p[3].t_ms + 600000;
	p[4].lon = p[3].lon + 0.06;	/* about 4 km: 6.8 m/s */
	f.t_ms = p[4].t_ms + 600000;
	f.received_ms = f.t_ms + 2000;
	OK(!fires(&f, p, 5, NULL, NULL, SPOOF_TELEPORT_ROUND_TRIP), "teleport_round_trip: a real errand does not fire");
	/* B a run of two fixes */
	honest(p, 5, &f);
	p[3].lon = p[2].lon + 0.3;
	p[4].lon = p[2].lon + 0.3001;
	f.lat = p[2].lat;
	f.lon = p[2].lon;
	OK(fires(&f, p, 5, NULL, NULL, SPOOF_TELEPORT_ROUND_TRIP), "teleport_round_trip: B may be several fixes");
}

static void
test_runs(void)
{
	SpoofPrev	p[6];
	SpoofFix	f;

	/* frozen position */
	honest(p, 6, &f);
	p[4].lat = p[5].lat = f.lat;
	p[4].lon = p[5].lon = f.lon;
	f.speed_mps = p[4].speed_mps = p[5].speed_mps = 0.0;
	OK(fires(&f, p, 6, NULL, NULL, SPOOF_FROZEN_POSITION), "frozen_position: 3 identical GNSS fixes fire");
	p[5].lat += 2e-7;
	OK(!fires(&f, p, 6, NULL, NULL, SPOOF_FROZEN_POSITION), "frozen_position: 2 cm of jitter does not fire");
	p[5].lat = f.lat + 1e-7;	/* the neighbouring 1e-7 value: not the same */
	p[5].lon = f.lon - 1e-7;
	OK(!fires(&f, p, 6, NULL, NULL, SPOOF_FROZEN_POSITION), "frozen_position: 1 cm (one unit of 1e-7 degree) does not fire");
	p[5].lat = f.lat + 2e-8;	/* float noise below the reported resolution */
	p[5].lon = f.lon;
	OK(fires(&f, p, 6, NULL, NULL, SPOOF_FROZEN_POSITION), "frozen_position: float noise below 1e-7 degree still counts as identical");
	p[5].lat = f.lat;
	p[4].lat += 2e-7;
	OK(fires(&f, p, 6, NULL, NULL, SPOOF_FROZEN_POSITION), "frozen_position: 2 identical GNSS fixes fire");
	p[5].t_ms = f.t_ms;			/* a re-sent fix is not a second one */
	OK(!fires(&f, p, 6, NULL, NULL, SPOOF_FROZEN_POSITION), "frozen_position: re-sent fixes do not count");
	p[5].t_ms = f.t_ms - 5000;
	/* a cached network answer repeats whole: position and accuracy */
	p[5].provider = f.provider = SPROV_NETWORK;
	p[5].accuracy_m = f.accuracy_m = 27.4;
	OK(!fires(&f, p, 6, NULL, NULL, SPOOF_FROZEN_POSITION), "frozen_position: cached network answers repeat honestly");
	p[5].accuracy_m = 31.0;		/* a fresh estimate on the same centimetre */
	OK(fires(&f, p, 6, NULL, NULL, SPOOF_FROZEN_POSITION), "frozen_position: same point, new accuracy fires (any provider)");
	p[5].provider = f.provider = SPROV_FUSED;
	p[5].accuracy_m = f.accuracy_m = 5.0;	/* only GNSS claims 5 m */
	OK(fires(&f, p, 6, NULL, NULL, SPOOF_FROZEN_POSITION), "frozen_position: GNSS-grade fused fixes fire");
	p[5].accuracy_m = f.accuracy_m = 10.0;	/* above GNSS grade, repeated */
	p[5].altitude_m = f.altitude_m = 20.0;
	OK(!fires(&f, p, 6, NULL, NULL, SPOOF_FROZEN_POSITION), "frozen_position: a 10 m fused answer repeated whole does not fire");
	p[5].altitude_m = 13.1;		/* a new vertical solution on the same point */
	OK(fires(&f, p, 6, NULL, NULL, SPOOF_FROZEN_POSITION), "frozen_position: same point at 10 m, new altitude fires");
	p[5].accuracy_m = f.accuracy_m = 65.0;	/* an iOS Wi-Fi answer */
	OK(!fires(&f, p, 6, NULL, NULL, SPOOF_FROZEN_POSITION), "frozen_position: not a 65 m answer with another altitude");
	p[5].accuracy_m = f.accuracy_m = 5.0;
	f.external_receiver = true;	/* RTK is centimetre-precise */
	OK(!fires(&f, p, 6, NULL, NULL, SPOOF_FROZEN_POSITION), "frozen_position: not for an external receiver");

	/* constant accuracy */
	honest(p, 6, &f);
	for (int i = 2; i < 6; i++)
		p[i].accuracy_m = 5.0;
	f.accuracy_m = 5.0;
	OK(fires(&f, p, 6, NULL, NULL, SPOOF_CONSTANT_ACCURACY), "constant_accuracy: 5 fixes at 5 m fire");
	p[2].accuracy_m = 4.0;
	OK(!fires(&f, p, 6, NULL, NULL, SPOOF_CONSTANT_ACCURACY), "constant_accuracy: 4 fixes do not");
	for (int i = 2; i < 6; i++)
		p[i].accuracy_m = 5.25;
	f.accuracy_m = 5.25;
	OK(!fires(&f, p, 6, NULL, NULL, SPOOF_CONSTANT_ACCURACY), "constant_accuracy: non-integer values do not");

	/* zero altitude */
	honest(p, 6, &f);
	for (int i = 2; i < 6; i++)
		p[i].altitude_m = 0.0;
	f.altitude_m = 0.0;
	OK(fires(&f, p, 6, NULL, NULL, SPOOF_ZERO_ALTITUDE), "zero_altitude: 5 GNSS fixes at 0 fire");
	p[3].altitude_m = 0.4;
	OK(!fires(&f, p, 6, NULL, NULL, SPOOF_ZERO_ALTITUDE), "zero_altitude: a real altitude breaks the run");
	p[3].altitude_m = NAN;
	OK(!fires(&f, p, 6, NULL, NULL, SPOOF_ZERO_ALTITUDE), "zero_altitude: unknown is not zero");

	/* constant bearing while moving */
	honest(p, 6, &f);
	for (int i = 2; i < 6; i++)
		p[i].bearing_deg = 90.0;
	f.bearing_deg = 90.0;
	OK(fires(&f, p, 6, NULL, NULL, SPOOF_CONSTANT_BEARING), "constant_bearing_while_moving: 5 fixes at 10 m/s fire");
	for (int i = 2; i < 6; i++)
		p[i].lat = LAT0 + 1.0 * i * DEG_PER_M;	/* 1 m per 5 s: parked */
	f.lat = LAT0 + 6.0 * DEG_PER_M;
	OK(!fires(&f, p, 6, NULL, NULL, SPOOF_CONSTANT_BEARING), "constant_bearing_while_moving: not while parked");
}

static void
test_speed_fields(void)
{
	SpoofPrev	p[4];
	SpoofFix	f;

	honest(p, 4, &f);
	f.lat = p[3].lat + 200.0 * DEG_PER_M;	/* 38 m/s net */
	f.speed_mps = 0.0;
	OK(fires(&f, p, 4, NULL, NULL, SPOOF_ZERO_SPEED_WHILE_MOVING), "zero_speed_while_moving: fires at 38 m/s");
	f.lat = p[3].lat + 20.0 * DEG_PER_M;	/* 2 m/s net */
	OK(!fires(&f, p, 4, NULL, NULL, SPOOF_ZERO_SPEED_WHILE_MOVING), "zero_speed_while_moving: not at walking pace");

	honest(p, 4, &f);
	f.speed_mps = 60.0;			/* displacement 10 m/s */
	OK(fires(&f, p, 4, NULL, NULL, SPOOF_SPEED_MISMATCH), "speed_mismatch: reported 60 vs 10 m/s fires");
	f.speed_mps = 1.0;
	OK(fires(&f, p, 4, NULL, NULL, SPOOF_SPEED_MISMATCH), "speed_mismatch: reported 1 vs 10 m/s fires");
	f.speed_mps = 14.0;
	OK(!fires(&f, p, 4, NULL, NULL, SPOOF_SPEED_MISMATCH), "speed_mismatch: 14 vs 10 m/s does not");
	f.speed_mps = 60.0;
	f.t_ms = p[3].t_ms + 120000;	/* over 2 minutes the chord says little */
	f.received_ms = f.t_ms + 2000;
	OK(!fires(&f, p, 4, NULL, NULL, SPOOF_SPEED_MISMATCH), "speed_mismatch: not over long gaps");
}

static void
test_gnss(void)
{
	SpoofFix	f;
	SpoofPrev	p[1];

	honest(p, 1, &f);
	f.accuracy_m = 0.5;
	OK(fires(&f, p, 1, NULL, NULL, SPOOF_IMPLAUSIBLE_ACCURACY), "implausible_accuracy: 0.5 m fires");
	f.external_receiver = true;
	OK(!fires(&f, p, 1, NULL, NULL, SPOOF_IMPLAUSIBLE_ACCURACY), "implausible_accuracy: external receiver excused");
	f.external_receiver = false;
	f.accuracy_m = 1.6;
	OK(!fires(&f, p, 1, NULL, NULL, SPOOF_IMPLAUSIBLE_ACCURACY), "implausible_accuracy: 1.6 m does not");

	f.satellites = 0;
	OK(fires(&f, p, 1, NULL, NULL, SPOOF_NO_SATELLITES), "no_satellites: GNSS with 0 fires");
	f.provider = SPROV_NETWORK;
	OK(!fires(&f, p, 1, NULL, NULL, SPOOF_NO_SATELLITES), "no_satellites: network fixes have none honestly");
	f.provider = SPROV_GPS;
	f.satellites = -1;
	OK(!fires(&f, p, 1, NULL, NULL, SPOOF_NO_SATELLITES), "no_satellites: unknown does not fire");

	f.satellites = 9;
	f.cn0_sd_dbhz = 0.4;
	OK(fires(&f, p, 1, NULL, NULL, SPOOF_UNIFORM_CN0), "uniform_cn0: sd 0.4 over 9 satellites fires");
	f.satellites = 3;
	OK(!fires(&f, p, 1, NULL, NULL, SPOOF_UNIFORM_CN0), "uniform_cn0: not with 3 satellites");
	f.satellites = 9;
	f.cn0_sd_dbhz = 2.5;
	OK(!fires(&f, p, 1, NULL, NULL, SPOOF_UNIFORM_CN0), "uniform_cn0: sd 2.5 does not");
}

static void
test_radio(void)
{
	SpoofFix	f;
	SpoofPrev	p[1];
	SpoofRadio	r;
	SpoofResult res;

	honest(p, 1, &f);
	honest_radio(&r);
	for (int i = 0; i < 3; i++)
		r.ap[i].distance_m = 800.0;
	OK(fires(&f, p, 1, &r, NULL, SPOOF_WIFI_FAR), "wifi_far: three known APs 800 m away fire");
	r.ap[0].distance_m = r.ap[1].distance_m = 30.0;
	OK(!fires(&f, p, 1, &r, NULL, SPOOF_WIFI_FAR), "wifi_far: one moved AP among near ones does not");
	for (int i = 0; i < 3; i++)
	{
		r.ap[i].distance_m = 800.0;
		r.ap[i].spread_m = 300.0;
	}
	OK(!fires(&f, p, 1, &r, NULL, SPOOF_WIFI_FAR), "wifi_far: within 3 spreads does not");

	honest_radio(&r);
	r.site_overlap = 0;
	OK(!fires(&f, p, 1, &r, NULL, SPOOF_WIFI_NO_SITE_OVERLAP),
	   "wifi_no_site_overlap: not while known APs near the fix are heard");
	for (int i = 0; i < 3; i++)
		r.ap[i].known = false;
	OK(fires(&f, p, 1, &r, NULL, SPOOF_WIFI_NO_SITE_OVERLAP), "wifi_no_site_overlap: none of 4 stable APs fires");
	r.site_overlap = 1;
	OK(!fires(&f, p, 1, &r, NULL, SPOOF_WIFI_NO_SITE_OVERLAP), "wifi_no_site_overlap: one seen does not");
	r.site_overlap = 0;
	r.site_stable_count = 2;
	OK(!fires(&f, p, 1, &r, NULL, SPOOF_WIFI_NO_SITE_OVERLAP), "wifi_no_site_overlap: not with 2 stable APs");
	r.site_stable_count = 4;
	r.n_ap = 0;
	OK(!fires(&f, p, 1, &r, NULL, SPOOF_WIFI_NO_SITE_OVERLAP), "wifi_no_site_overlap: not without a scan");

	honest_radio(&r);
	r.scan_replay = true;
	spoof_score(&f, p, 1, &r, NULL, &model, &res);
	OK(has(&res, SPOOF_WIFI_SCAN_REPLAY) && res.hard_reject && res.band == SPOOF_RED,
	   "wifi_scan_replay: fires, hard reject, red");
	r.scan_replay = false;
	spoof_score(&f, p, 1, &r, NULL, &model, &res);
	OK(!has(&res, SPOOF_WIFI_SCAN_REPLAY) && !res.hard_reject, "wifi_scan_replay: a fresh scan does not");

	honest_radio(&r);
	r.cell_distance_m = 5000.0; /* limit 2 * 1500 + 1000 = 4000 */
	OK(fires(&f, p, 1, &r, NULL, SPOOF_CELL_FAR), "cell_far: 5 km from a 1.5 km cell fires");
	r.cell_distance_m = 3900.0;
	OK(!fires(&f, p, 1, &r, NULL, SPOOF_CELL_FAR), "cell_far: 3.9 km does not");
	r.cell_distance_m = 5000.0;
	r.cell_known = false;
	OK(!fires(&f, p, 1, &r, NULL, SPOOF_CELL_FAR), "cell_far: an unknown cell does not");

	honest_radio(&r);
	r.mcc_foreign = true;
	OK(fires(&f, p, 1, &r, NULL, SPOOF_CELL_FOREIGN_MCC), "cell_foreign_mcc: fires");
	r.has_cell = false;
	OK(!fires(&f, p, 1, &r, NULL, SPOOF_CELL_FOREIGN_MCC), "cell_foreign_mcc: not without a serving cell");
}

static void
test_clock_history(void)
{
	SpoofFix	f;
	SpoofPrev	p[1];
	SpoofHistory h;

	honest(p, 1, &f);
	honest_hist(&h);
	f.received_ms = f.t_ms - 300000;
	OK(fires(&f, p, 1, NULL, &h, SPOOF_CLOCK_FUTURE), "clock_future: 300 s ahead fires");
	f.received_ms = f.t_ms - 60000;
	OK(!fires(&f, p, 1, NULL, &h, SPOOF_CLOCK_FUTURE), "clock_future: 60 s ahead does not");

	h.skew_jump_s = -600.0;
	OK(fires(&f, p, 1, NULL, &h, SPOOF_CLOCK_SKEW_JUMP), "clock_skew_jump: 10 min back fires");
	h.skew_jump_s = 100.0;
	OK(!fires(&f, p, 1, NULL, &h, SPOOF_CLOCK_SKEW_JUMP), "clock_skew_jump: 100 s does not");
	h.skew_jump_s = NAN;
	OK(!fires(&f, p, 1, NULL, &h, SPOOF_CLOCK_SKEW_JUMP), "clock_skew_jump: unknown does not");

	f.received_ms = f.t_ms + 1000000;
	OK(fires(&f, p, 1, NULL, &h, SPOOF_STALE_FIX), "stale_fix: 1000 s late fires");
	f.received_ms = f.t_ms + 600000;
	OK(!fires(&f, p, 1, NULL, &h, SPOOF_STALE_FIX), "stale_fix: 600 s late does not");
	f.received_ms = f.t_ms + 1000000;
	h.queued = true;			/* later fixes came in the same upload */
	OK(!fires(&f, p, 1, NULL, &h, SPOOF_STALE_FIX), "stale_fix: a fix of an offline queue does not");
	h.queued = false;

	honest_hist(&h);
	h.same_coords_earlier_day = true;
	OK(fires(&f, p, 1, NULL, &h, SPOOF_SAME_COORDS_EARLIER_DAY), "same_coords_earlier_day: GNSS fires");
	f.provider = SPROV_WIFI;
	OK(!fires(&f, p, 1, NULL, &h, SPOOF_SAME_COORDS_EARLIER_DAY), "same_coords_earlier_day: not a lookup without a scan");
	{
		SpoofRadio	r;

		honest_radio(&r);		/* 3 access points: an RSSI-weighted estimate */
		OK(fires(&f, p, 1, &r, &h, SPOOF_SAME_COORDS_EARLIER_DAY), "same_coords_earlier_day: a multi-AP network fix fires");
		r.n_ap = 1;
		OK(!fires(&f, p, 1, &r, &h, SPOOF_SAME_COORDS_EARLIER_DAY), "same_coords_earlier_day: not a single-AP lookup");
	}
	f.provider = SPROV_GPS;

	honest_hist(&h);
	h.workers_on_device_today = 2;
	OK(fires(&f, p, 1, NULL, &h, SPOOF_SHARED_DEVICE), "shared_device: 2 workers fire");
	h.workers_on_device_today = 1;
	OK(!fires(&f, p, 1, NULL, &h, SPOOF_SHARED_DEVICE), "shared_device: 1 worker does not");

	h.at_customer_pin = true;
	OK(fires(&f, p, 1, NULL, &h, SPOOF_PIN_DROP), "pin_drop: fires on the pin");
	h.at_customer_pin = false;
	OK(!fires(&f, p, 1, NULL, &h, SPOOF_PIN_DROP), "pin_drop: not off the pin");

	h.workers_on_device_today = 2;
	h.rebound_s = 95.0;			/* signed in on a colleague's phone just now */
	OK(fires(&f, p, 1, NULL, &h, SPOOF_FRESH_REBIND), "fresh_rebind: 95 s after a rebind on a shared phone fires");
	h.rebound_s = 3600.0;
	OK(!fires(&f, p, 1, NULL, &h, SPOOF_FRESH_REBIND), "fresh_rebind: an hour after does not");
	h.rebound_s = 95.0;
	h.workers_on_device_today = 1;
	OK(!fires(&f, p, 1, NULL, &h, SPOOF_FRESH_REBIND), "fresh_rebind: a new phone's first worker does not");
	h.rebound_s = NAN;
	h.workers_on_device_today = 2;
	OK(!fires(&f, p, 1, NULL, &h, SPOOF_FRESH_REBIND), "fresh_rebind: unknown does not");
}

static void
test_mapping(void)
{
	SpoofModel	m = model;
	SpoofFix	f;
	SpoofPrev	p[1];
	SpoofHistory h;
	SpoofResult r0,
				r1;

	EQ_INT(spoof_score_from_log_odds(0.0), 50, "log-odds 0 is 50");
	EQ_INT(spoof_score_from_log_odds(log(1.0 / 49.0)), 2, "prior 1:49 is 2");
	EQ_INT(spoof_score_from_log_odds(1000.0), 100, "huge log-odds clamp to 100");
	EQ_INT(spoof_score_from_log_odds(-1000.0), 0, "tiny log-odds clamp to 0");
	EQ_INT(spoof_score_from_log_odds(NAN), 100, "NaN fails closed");
	/* 100 / (1 + e^-x) = 52.5 at x = ln(52.5 / 47.5): half rounds up */
	EQ_INT(spoof_score_from_log_odds(log(52.5 / 47.5) + 1e-12), 53, "half up");

	honest(p, 1, &f);
	honest_hist(&h);
	m.weight[SPOOF_PIN_DROP] = 10.0;
	spoof_score(&f, p, 1, NULL, &h, &m, &r0);
	h.at_customer_pin = true;
	spoof_score(&f, p, 1, NULL, &h, &m, &r1);
	EQ_INT(r0.score, 2, "0 points: the prior score");
	OK(r0.log_odds == m.prior_log_odds, "0 points: the prior log-odds");
	OK(fabs(exp(r1.log_odds) / exp(r0.log_odds) - 2.0) < 1e-12, "+10 points double the odds");
	OK(r1.points == 10.0, "points are summed");

	/* thresholds: the band edges are inclusive */
	m = model;
	m.prior_log_odds = 0.0;		/* score 50 with no points */
	m.amber_score = 50;
	m.red_score = 60;
	h.at_customer_pin = false;
	spoof_score(&f, p, 1, NULL, &h, &m, &r0);
	OK(r0.score == 50 && r0.band == SPOOF_AMBER, "score at amber_score: amber");
	m.amber_score = 51;
	spoof_score(&f, p, 1, NULL, &h, &m, &r0);
	EQ_INT(r0.band, SPOOF_GREEN, "score below amber_score: green");
	m.red_score = 50;
	m.amber_score = 10;
	spoof_score(&f, p, 1, NULL, &h, &m, &r0);
	EQ_INT(r0.band, SPOOF_RED, "score at red_score: red");

	/* a hard signal is red whatever its points */
	m = model;
	m.weight[SPOOF_WIFI_SCAN_REPLAY] = 0.0;
	{
		SpoofRadio	radio;

		honest_radio(&radio);
		radio.scan_replay = true;
		spoof_score(&f, p, 1, &radio, &h, &m, &r0);
		OK(r0.hard_reject && r0.band == SPOOF_RED && r0.score == 2,
		   "hard reject: red at the prior score");
	}
	/* and default thresholds: mock alone is red, one medium signal green */
	f.mock = 1;
	spoof_score(&f, p, 1, NULL, &h, &model, &r0);
	OK(r0.band == SPOOF_RED && r0.score == 79, "default model: the mock flag alone is red (79)");
	f.mock = 0;
	h.workers_on_device_today = 3;
	h.skew_jump_s = 900.0;
	spoof_score(&f, p, 1, NULL, &h, &model, &r0);
	EQ_INT(r0.band, SPOOF_GREEN, "default model: two weak signals stay green");

	EQ_STR(spoof_band_name(SPOOF_GREEN), "green", "band name green");
	EQ_STR(spoof_band_name(SPOOF_AMBER), "amber", "band name amber");
	EQ_STR(spoof_band_name(SPOOF_RED), "red", "band name red");
}

static void
test_coverage_and_input(void)
{
	SpoofFix	f;
	SpoofPrev	p[SPOOF_MAX_PREV + 1];
	SpoofResult r;
	SpoofModel	bad;
	SpoofRadio	radio;

	honest(p, 2, &f);
	f.mock = -1;
	f.integrity = -1;
	f.accuracy_m = f.altitude_m = f.speed_mps = f.bearing_deg = NAN;
	f.satellites = -1;
	f.cn0_mean_dbhz = f.cn0_sd_dbhz = NAN;
	f.received_ms = 0;
	EQ_INT(spoof_score(&f, NULL, 0, NULL, NULL, &model, &r), 0, "a bare fix is scored");
	OK(r.coverage == 0 && r.coverage_mask == 0, "a bare fix: coverage 0");
	EQ_INT(r.score, 2, "a bare fix: the prior score");
	f.mock = 0;
	spoof_score(&f, p, 2, NULL, NULL, &model, &r);
	OK(r.coverage == 2 && r.coverage_mask == ((1u << SPOOF_G_OS_FLAGS) | (1u << SPOOF_G_KINEMATICS)),
	   "mock flag and a previous fix: os_flags and kinematics");
	honest_radio(&radio);
	radio.n_ap = 0;
	radio.has_cell = false;
	spoof_score(&f, p, 2, &radio, NULL, &model, &r);
	EQ_INT(r.coverage, 2, "an empty radio context covers nothing");
	radio.has_cell = true;
	spoof_score(&f, p, 2, &radio, NULL, &model, &r);
	OK(r.coverage == 3 && (r.coverage_mask & (1u << SPOOF_G_CELL)), "a serving cell covers cell");

	honest(p, 2, &f);
	EQ_INT(spoof_score(&f, p, SPOOF_MAX_PREV + 1, NULL, NULL, &model, &r), -1, "too many previous fixes refused");
	EQ_INT(spoof_score(&f, NULL, 1, NULL, NULL, &model, &r), -1, "missing previous fixes refused");
	f.lat = NAN;
	EQ_INT(spoof_score(&f, p, 2, NULL, NULL, &model, &r), -1, "NaN latitude refused");
	OK(r.n_reasons == 0 && r.score == 0, "a refused fix leaves a zeroed result");
	f.lat = 91.0;
	EQ_INT(spoof_score(&f, p, 2, NULL, NULL, &model, &r), -1, "latitude beyond the pole refused");
	honest(p, 2, &f);
	bad = model;
	bad.weight[3] = NAN;
	OK(spoof_model_check(&bad) != NULL, "a NaN weight fails the model check");
	EQ_INT(spoof_score(&f, p, 2, NULL, NULL, &bad, &r), -1, "a bad model is refused");
	bad = model;
	bad.amber_score = 80;
	OK(spoof_model_check(&bad) != NULL, "amber above red fails the model check");
	bad = model;
	bad.frozen_min_fixes = 1;
	OK(spoof_model_check(&bad) != NULL, "a run of one fails the model check");
	OK(spoof_model_check(&model) == NULL, "the default model passes");
}

static void
test_json_buffer(void)
{
	SpoofFix	f;
	SpoofPrev	p[1];
	SpoofHistory h;
	SpoofResult r;
	char		big[512];
	char		small[16];
	size_t		n;

	honest(p, 1, &f);
	honest_hist(&h);
	h.workers_on_device_today = 3;
	h.at_customer_pin = true;
	spoof_score(&f, p, 1, NULL, &h, &model, &r);
	n = spoof_reasons_json(&r, NULL, 0);
	EQ_INT(n, spoof_reasons_json(&r, big, sizeof(big)), "sizing call returns the full length");
	EQ_INT(strlen(big), n, "the full text has that length");
	EQ_INT(spoof_reasons_json(&r, small, sizeof(small)), n, "a short buffer still reports the full length");
	OK(strlen(small) == sizeof(small) - 1 && strncmp(small, big, sizeof(small) - 1) == 0,
	   "a short buffer holds a terminated prefix");
	EQ_STR(big, "[{\"code\":\"shared_device\",\"points\":10.0,\"workers\":3.000},"
		   "{\"code\":\"pin_drop\",\"points\":40.0}]", "reasons JSON shape");
}

/*
 * Golden cases: the exact reasons JSON, character for character.  A
 * change here is a change of the model's output and needs a new version.
 */
static void
test_golden(void)
{
	SpoofPrev	p[8];
	SpoofFix	f;
	SpoofRadio	radio;
	SpoofHistory h;
	SpoofResult r,
				r2;
	char		buf[1024],
				buf2[1024];

	/* 1: a mock app dropping the worker on the customer's pin */
	honest(p, 8, &f);
	honest_hist(&h);
	f.mock = 1;
	h.at_customer_pin = true;
	spoof_score(&f, p, 8, NULL, &h, &model, &r);
	spoof_reasons_json(&r, buf, sizeof(buf));
	EQ_STR(buf, "[{\"code\":\"os_mock\",\"points\":75.0},{\"code\":\"pin_drop\",\"points\":40.0}]",
		    "golden 1: mock on the pin");
	OK(r.score == 98 && r.band == SPOOF_RED, "golden 1: score and band");

	/* 2: a round trip to a site 20 km away and back */
	honest(p, 8, &f);
	p[7].lon = p[6].lon + 0.3;
	f.lat = p[6].lat + 30.0 * DEG_PER_M;
	f.lon = p[6].lon;
	spoof_score(&f, p, 8, NULL, NULL, &model, &r);
	spoof_reasons_json(&r, buf, sizeof(buf));
	EQ_STR(buf, "[{\"code\":\"implausible_speed\",\"points\":60.0,\"speed_mps\":4070.251,\"distance_m\":20362.407,\"dt_s\":5.000},"
		   "{\"code\":\"teleport_round_trip\",\"points\":45.0,\"distance_m\":20362.521,\"away_s\":10.000,\"return_m\":29.988}]",
		    "golden 2: teleport round trip");

	/* 3: a naive mock: frozen, whole-metre accuracy, no altitude, no speed */
	honest(p, 8, &f);
	for (int i = 2; i < 8; i++)
	{
		p[i].lat = f.lat;
		p[i].lon = f.lon;
		p[i].accuracy_m = 3.0;
		p[i].altitude_m = 0.0;
		p[i].speed_mps = 0.0;
	}
	f.accuracy_m = 3.0;
	f.altitude_m = 0.0;
	f.speed_mps = 0.0;
	f.satellites = 0;
	spoof_score(&f, p, 8, NULL, NULL, &model, &r);
	spoof_reasons_json(&r, buf, sizeof(buf));
	EQ_STR(buf, "[{\"code\":\"frozen_position\",\"points\":30.0,\"fixes\":7.000,\"span_s\":30.000},"
		   "{\"code\":\"constant_accuracy\",\"points\":15.0,\"accuracy_m\":3.000,\"fixes\":7.000},"
		   "{\"code\":\"zero_altitude\",\"points\":15.0,\"fixes\":7.000},{\"code\":\"no_satellites\",\"points\":30.0}]",
		    "golden 3: naive mock app");

	/* 4: a replayed Wi-Fi scan heard far away, foreign cell */
	honest(p, 8, &f);
	honest_radio(&radio);
	for (int i = 0; i < 3; i++)
		radio.ap[i].distance_m = 1234.5 + 100.0 * i;
	radio.scan_replay = true;
	radio.cell_distance_m = 25000.0;
	radio.mcc_foreign = true;
	spoof_score(&f, p, 8, &radio, NULL, &model, &r);
	spoof_reasons_json(&r, buf, sizeof(buf));
	EQ_STR(buf, "[{\"code\":\"wifi_far\",\"points\":35.0,\"far_aps\":3.000,\"known_aps\":3.000,\"max_distance_m\":1434.500},"
		   "{\"code\":\"wifi_scan_replay\",\"points\":80.0},"
		   "{\"code\":\"cell_far\",\"points\":25.0,\"distance_m\":25000.000,\"limit_m\":4000.000},"
		   "{\"code\":\"cell_foreign_mcc\",\"points\":20.0}]",
		    "golden 4: replayed scan elsewhere");
	OK(r.hard_reject && r.band == SPOOF_RED, "golden 4: hard reject");

	/* 5: a forged time: device clock ahead, skew jumped, shared device */
	honest(p, 8, &f);
	honest_hist(&h);
	f.received_ms = f.t_ms - 1800500;
	h.skew_jump_s = -1799.25;
	h.workers_on_device_today = 2;
	f.integrity = SPOOF_INTEGRITY_BASIC;
	spoof_score(&f, p, 8, NULL, &h, &model, &r);
	spoof_reasons_json(&r, buf, sizeof(buf));
	EQ_STR(buf, "[{\"code\":\"integrity_failed\",\"points\":35.0,\"integrity\":1.000},"
		   "{\"code\":\"clock_future\",\"points\":15.0,\"ahead_s\":1800.500},"
		   "{\"code\":\"clock_skew_jump\",\"points\":10.0,\"jump_s\":-1799.250},"
		   "{\"code\":\"shared_device\",\"points\":10.0,\"workers\":2.000}]",
		    "golden 5: forged clock");

	/* 6: a GNSS simulator: uniform C/N0, sub-metre accuracy, speed mismatch */
	honest(p, 8, &f);
	f.satellites = 11;
	f.cn0_mean_dbhz = 44.0;
	f.cn0_sd_dbhz = 0.3;
	f.accuracy_m = 0.7;
	f.speed_mps = 45.0;
	spoof_score(&f, p, 8, NULL, NULL, &model, &r);
	spoof_reasons_json(&r, buf, sizeof(buf));
	EQ_STR(buf, "[{\"code\":\"speed_mismatch\",\"points\":10.0,\"reported_mps\":45.000,\"displacement_mps\":9.997},"
		   "{\"code\":\"implausible_accuracy\",\"points\":20.0,\"accuracy_m\":0.700},"
		   "{\"code\":\"uniform_cn0\",\"points\":40.0,\"cn0_sd_dbhz\":0.300,\"cn0_mean_dbhz\":44.000,\"satellites\":11.000}]",
		    "golden 6: GNSS simulator");

	/* the same inputs twice give the same bits */
	spoof_score(&f, p, 8, NULL, NULL, &model, &r2);
	spoof_reasons_json(&r2, buf2, sizeof(buf2));
	OK(strcmp(buf, buf2) == 0 && memcmp(&r.log_odds, &r2.log_odds, sizeof(double)) == 0 &&
	   r.score == r2.score, "a second run is identical");
}

int
main(void)
{
	spoof_model_default(&model);
	test_honest();
	test_os_integrity();
	test_speed();
	test_launch();
	test_teleport();
	test_runs();
	test_speed_fields();
	test_gnss();
	test_radio();
	test_clock_history();
	test_mapping();
	test_coverage_and_input();
	test_json_buffer();
	test_golden();
	return unit_done();
}
