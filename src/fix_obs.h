/*-------------------------------------------------------------------------
 *
 * fix_obs.h
 *		Checking what an ingest element reports besides its position, and
 *		the replay digests of scans and positions (fix_obs.c), shared with
 *		the C ingest (fix_ingest.c).
 *
 * Copyright (c) 2026, fieldops developers
 *
 * IDENTIFICATION
 *		src/fix_obs.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef FIX_OBS_H
#define FIX_OBS_H

#include "postgres.h"
#include "utils/jsonb.h"

/* an element's observations, checked and normalised */
typedef struct FixObs
{
	bool		has_sats;
	int16		sats;
	bool		has_cn0[2];		/* [0] mean, [1] spread across satellites */
	float4		cn0[2];
	Jsonb	   *wifi;			/* BSSIDs normalised; NULL: none reported */
	Jsonb	   *cells;			/* NULL: none reported */
	bool		has_client_ip;
	Datum		client_ip;		/* inet */
	Jsonb	   *integrity;		/* NULL: none reported */
} FixObs;

/* a JSON number's decimal text, read once (fix_obs_num()) */
typedef struct FixNum
{
	char	   *text;			/* as numeric_out writes it */
	bool		neg;
	bool		big;			/* more than 18 integer digits */
	int64		ipart;			/* the integer part's magnitude (not big) */
	bool		frac;			/* a non-zero fraction */
	int			ndec;			/* digits after the point */
} FixNum;

extern bool fix_obs_num(JsonbValue *v, FixNum *out);
extern bool fix_obs_num_in(const FixNum *n, int64 lo, int64 hi, bool integral);
extern bool fix_obs_num_below(JsonbValue *v, const FixNum *n, int64 hi);
extern char *fix_obs_check(JsonbContainer *elem, int n, FixObs *out);
extern char *fix_obs_quote60(JsonbValue *v);
extern char *fix_obs_unknown_key(JsonbContainer *obj, const char *const *keys, int nkeys);
extern char *fix_obs_key_list(const char *const *keys, int nkeys);
extern JsonbValue *fix_obs_key(JsonbContainer *jc, const char *key);
extern bool fix_obs_num_ok(JsonbValue *v, int64 lo, int64 hi, bool integral);
extern double fix_obs_num_double(JsonbValue *v);
extern bytea *fix_obs_scan_digest(Jsonb *wifi, double *age_s);
extern bool fix_obs_serving_cell(Jsonb *cells, int64 key[4], JsonbValue *cell);
extern bytea *fix_obs_point_digest(double lat, double lon);

#endif							/* FIX_OBS_H */
