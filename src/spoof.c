/*-------------------------------------------------------------------------
 *
 * spoof.c
 *		SQL wrappers of the spoof-scoring core: fieldops.spoof_score() and
 *		fieldops.spoof_model_defaults().
 *
 * The core (spoof_core.c) is a pure function of a fix, its context and a
 * model.  SQL hands all of them over as jsonb objects — the fix, the
 * device's previous fixes, the radio environment, history facts and the
 * model — so the same function serves ingest, tests, the calibration
 * harness and an analyst re-scoring a fix by hand.  This file only converts:
 * every key is checked (an unknown key or a wrong type is a 22023 naming
 * it), absent numbers are "not reported" (NAN), and the result comes back
 * as a record with the reasons as jsonb.
 *
 * Copyright (c) 2026, fieldops developers
 *
 * IDENTIFICATION
 *		src/spoof.c
 *
 *-------------------------------------------------------------------------
 */
#include "fieldops.h"

#include <math.h>

#include "access/htup_details.h"
#include "fmgr.h"
#include "funcapi.h"
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"

#include "spoof.h"

PG_FUNCTION_INFO_V1(fieldops_spoof_score);
PG_FUNCTION_INFO_V1(fieldops_spoof_model_defaults);
PG_FUNCTION_INFO_V1(fieldops_spoof_score_track);

typedef enum FieldKind
{
	FK_NUM,						/* double; absent: NAN */
	FK_INT,						/* int */
	FK_INT64,					/* int64 */
	FK_BOOL,					/* bool */
	FK_TRIBOOL,					/* int: 1 true, 0 false, -1 absent/null */
	FK_PROVIDER					/* SpoofProvider from its name */
} FieldKind;

/* one key of a jsonb object and where its value goes */
typedef struct Field
{
	const char *name;
	FieldKind	kind;
	size_t		off;
} Field;

#define F(type, member, kind) {#member, kind, offsetof(type, member)}

static const Field fix_fields[] = {
	F(SpoofFix, t_ms, FK_INT64), F(SpoofFix, received_ms, FK_INT64),
	F(SpoofFix, lat, FK_NUM), F(SpoofFix, lon, FK_NUM), F(SpoofFix, accuracy_m, FK_NUM),
	F(SpoofFix, altitude_m, FK_NUM), F(SpoofFix, speed_mps, FK_NUM), F(SpoofFix, bearing_deg, FK_NUM),
	F(SpoofFix, provider, FK_PROVIDER), F(SpoofFix, mock, FK_TRIBOOL), F(SpoofFix, satellites, FK_INT),
	F(SpoofFix, cn0_mean_dbhz, FK_NUM), F(SpoofFix, cn0_sd_dbhz, FK_NUM), F(SpoofFix, integrity, FK_INT),
	F(SpoofFix, external_receiver, FK_BOOL)
};

static const Field prev_fields[] = {
	F(SpoofPrev, t_ms, FK_INT64), F(SpoofPrev, received_ms, FK_INT64),
	F(SpoofPrev, lat, FK_NUM), F(SpoofPrev, lon, FK_NUM), F(SpoofPrev, accuracy_m, FK_NUM),
	F(SpoofPrev, speed_mps, FK_NUM), F(SpoofPrev, bearing_deg, FK_NUM), F(SpoofPrev, altitude_m, FK_NUM),
	F(SpoofPrev, provider, FK_PROVIDER)
};

static const Field ap_fields[] = {
	F(SpoofAp, known, FK_BOOL), F(SpoofAp, distance_m, FK_NUM), F(SpoofAp, spread_m, FK_NUM)
};

static const Field radio_fields[] = {
	F(SpoofRadio, site_overlap, FK_INT), F(SpoofRadio, site_stable_count, FK_INT),
	F(SpoofRadio, scan_replay, FK_BOOL), F(SpoofRadio, has_cell, FK_BOOL), F(SpoofRadio, cell_known, FK_BOOL),
	F(SpoofRadio, cell_distance_m, FK_NUM), F(SpoofRadio, cell_radius_m, FK_NUM),
	F(SpoofRadio, mcc_foreign, FK_BOOL)
};

static const Field history_fields[] = {
	F(SpoofHistory, same_coords_earlier_day, FK_BOOL), F(SpoofHistory, workers_on_device_today, FK_INT),
	F(SpoofHistory, at_customer_pin, FK_BOOL), F(SpoofHistory, skew_jump_s, FK_NUM),
	F(SpoofHistory, queued, FK_BOOL), F(SpoofHistory, rebound_s, FK_NUM)
};

static const Field model_fields[] = {
	F(SpoofModel, prior_log_odds, FK_NUM), F(SpoofModel, amber_score, FK_INT), F(SpoofModel, red_score, FK_INT),
	F(SpoofModel, default_accuracy_m, FK_NUM), F(SpoofModel, max_speed_mps, FK_NUM),
	F(SpoofModel, impossible_speed_mps, FK_NUM), F(SpoofModel, impossible_extra_points, FK_NUM),
	F(SpoofModel, long_leg_m, FK_NUM), F(SpoofModel, launch_min_m, FK_NUM),
	F(SpoofModel, road_accel_mps2, FK_NUM), F(SpoofModel, road_brake_mps2, FK_NUM),
	F(SpoofModel, road_top_mps, FK_NUM), F(SpoofModel, rail_accel_mps2, FK_NUM),
	F(SpoofModel, rail_brake_mps2, FK_NUM), F(SpoofModel, rail_top_mps, FK_NUM),
	F(SpoofModel, kin_max_gap_s, FK_NUM), F(SpoofModel, moving_mps, FK_NUM),
	F(SpoofModel, speed_mismatch_factor, FK_NUM), F(SpoofModel, speed_mismatch_slack_mps, FK_NUM),
	F(SpoofModel, teleport_min_m, FK_NUM), F(SpoofModel, teleport_return_m, FK_NUM),
	F(SpoofModel, teleport_max_s, FK_NUM), F(SpoofModel, frozen_min_fixes, FK_INT),
	F(SpoofModel, gnss_grade_accuracy_m, FK_NUM),
	F(SpoofModel, frozen_alt_accuracy_m, FK_NUM),
	F(SpoofModel, constant_accuracy_min_fixes, FK_INT), F(SpoofModel, zero_altitude_min_fixes, FK_INT),
	F(SpoofModel, constant_bearing_min_fixes, FK_INT), F(SpoofModel, min_gnss_accuracy_m, FK_NUM),
	F(SpoofModel, cn0_sd_min_dbhz, FK_NUM), F(SpoofModel, cn0_min_satellites, FK_INT),
	F(SpoofModel, wifi_far_min_m, FK_NUM), F(SpoofModel, wifi_far_spread_k, FK_NUM),
	F(SpoofModel, site_min_stable, FK_INT), F(SpoofModel, cell_radius_k, FK_NUM),
	F(SpoofModel, cell_slack_m, FK_NUM), F(SpoofModel, clock_future_s, FK_NUM),
	F(SpoofModel, skew_jump_s, FK_NUM), F(SpoofModel, stale_s, FK_NUM),
	F(SpoofModel, shared_device_workers, FK_INT), F(SpoofModel, fresh_rebind_s, FK_NUM),
	F(SpoofModel, replay_min_aps, FK_INT)
};

static const char *const provider_names[] = {"gps", "network", "fused", "wifi", "cell", "passive"};

#define NFIELDS(a) ((int) lengthof(a))

/* a jsonb number as a double, or a 22023 naming where it was */
static double
num_value(JsonbValue *v, const char *what, const char *name)
{
	if (v->type != jbvNumeric)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s.%s must be a number", what, name)));
	return DatumGetFloat8(DirectFunctionCall1(numeric_float8, NumericGetDatum(v->val.numeric)));
}

/* an integer-valued jsonb number within [lo, hi] */
static int64
int_value(JsonbValue *v, const char *what, const char *name, double lo, double hi)
{
	double		d = num_value(v, what, name);

	if (d != floor(d) || d < lo || d > hi)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s.%s must be an integer between %.0f and %.0f, got %g", what, name, lo, hi, d)));
	return (int64) d;
}

/* set one field from a jsonb value (null means "not reported") */
static void
set_field(const Field *f, JsonbValue *v, void *base, const char *what)
{
	char	   *p = (char *) base + f->off;

	if (v->type == jbvNull)
		return;
	switch (f->kind)
	{
		case FK_NUM:
			*(double *) p = num_value(v, what, f->name);
			break;
		case FK_INT:
			*(int *) p = (int) int_value(v, what, f->name, -1, 1000000000.0);
			break;
		case FK_INT64:
			*(int64_t *) p = int_value(v, what, f->name, 0, 9007199254740992.0);
			break;
		case FK_BOOL:
		case FK_TRIBOOL:
			if (v->type != jbvBool)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("%s.%s must be true, false or null", what, f->name)));
			if (f->kind == FK_BOOL)
				*(bool *) p = v->val.boolean;
			else
				*(int *) p = v->val.boolean ? 1 : 0;
			break;
		case FK_PROVIDER:
			{
				int			i;

				if (v->type == jbvString)
					for (i = 0; i < (int) lengthof(provider_names); i++)
						if (strlen(provider_names[i]) == (size_t) v->val.string.len &&
							strncmp(provider_names[i], v->val.string.val, v->val.string.len) == 0)
						{
							*(SpoofProvider *) p = (SpoofProvider) i;
							return;
						}
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("%s.%s must be one of gps, network, fused, wifi, cell, passive", what, f->name)));
			}
	}
}

typedef struct ObjectParse
{
	const char *what;
	const Field *fields;
	int			nfields;
	void	   *base;
	bool		(*special) (const char *name, JsonbValue *v, void *base);
} ObjectParse;

/* one key of an input object */
static void
object_key(const char *name, JsonbValue *v, void *arg)
{
	ObjectParse *op = arg;
	int			i;

	if (op->special && op->special(name, v, op->base))
		return;
	for (i = 0; i < op->nfields; i++)
		if (strcmp(name, op->fields[i].name) == 0)
			break;
	if (i == op->nfields)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s has an unknown key \"%s\"", op->what, name)));
	set_field(&op->fields[i], v, op->base, op->what);
}

/*
 * Fill base from a jsonb object with the given keys.  special() may claim
 * a key the table does not list (nested values); anything else unknown is
 * an error, so a typo cannot silently drop evidence.
 */
static void
parse_object(JsonbContainer *jc, const char *what, const Field *fields, int nfields, void *base,
			 bool (*special) (const char *name, JsonbValue *v, void *base))
{
	ObjectParse op = {what, fields, nfields, base, special};

	if (!JsonContainerIsObject(jc))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a JSON object", what)));
	fieldops_jsonb_each_key(jc, object_key, &op);
}

/* NAN for every double, -1 for the "unknown" ints, zero elsewhere */
static void
fix_init(SpoofFix *f)
{
	memset(f, 0, sizeof(*f));
	f->accuracy_m = f->altitude_m = f->speed_mps = f->bearing_deg = NAN;
	f->cn0_mean_dbhz = f->cn0_sd_dbhz = NAN;
	f->lat = f->lon = NAN;
	f->mock = -1;
	f->satellites = -1;
	f->integrity = -1;
}

/* the array of access points of a radio object */
static bool
radio_special(const char *name, JsonbValue *v, void *base)
{
	SpoofRadio *r = base;
	JsonbIterator *it;
	JsonbValue	e;
	JsonbIteratorToken tok;

	if (strcmp(name, "aps") != 0)
		return false;
	if (v->type != jbvBinary || !JsonContainerIsArray(v->val.binary.data))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("p_radio.aps must be an array of access points")));
	it = JsonbIteratorInit(v->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &e, true)) != WJB_DONE)
	{
		SpoofAp    *ap;

		if (tok != WJB_ELEM)
			continue;
		if (e.type != jbvBinary)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("p_radio.aps[%d] must be an object", r->n_ap)));
		if (r->n_ap >= SPOOF_MAX_AP)
			continue;			/* the core weighs at most SPOOF_MAX_AP */
		ap = &r->ap[r->n_ap++];
		ap->distance_m = ap->spread_m = NAN;
		parse_object(e.val.binary.data, "p_radio.aps[]", ap_fields, NFIELDS(ap_fields), ap, NULL);
	}
	return true;
}

/* the weights and hard flags of a model object: {"weights": {code: points}, "hard": [code, ...]} */
static bool
model_special(const char *name, JsonbValue *v, void *base)
{
	SpoofModel *m = base;
	JsonbIterator *it;
	JsonbValue	k,
				e;
	JsonbIteratorToken tok;

	if (strcmp(name, "version") == 0)
	{
		if (v->type != jbvString || v->val.string.len < 1 || v->val.string.len >= SPOOF_VERSION_LEN)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("p_model.version must be a string of 1 to %d characters", SPOOF_VERSION_LEN - 1)));
		memcpy(m->version, v->val.string.val, v->val.string.len);
		m->version[v->val.string.len] = '\0';
		return true;
	}
	if (strcmp(name, "weights") != 0 && strcmp(name, "hard") != 0)
		return false;
	if (v->type != jbvBinary ||
		(name[0] == 'w' ? !JsonContainerIsObject(v->val.binary.data) : !JsonContainerIsArray(v->val.binary.data)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("p_model.%s must be %s", name, name[0] == 'w' ? "an object of signal codes and points" : "an array of signal codes")));
	if (name[0] == 'h')
		memset(m->hard, 0, sizeof(m->hard));
	it = JsonbIteratorInit(v->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
	{
		int			s;

		if (tok != WJB_KEY && tok != WJB_ELEM)
			continue;
		if (k.type != jbvString)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("p_model.%s must name signals by their codes", name)));
		for (s = 0; s < SPOOF__NSIG; s++)
			if (strlen(spoof_signal_codes[s]) == (size_t) k.val.string.len &&
				strncmp(spoof_signal_codes[s], k.val.string.val, k.val.string.len) == 0)
				break;
		if (s == SPOOF__NSIG)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("p_model.%s names an unknown signal \"%s\"", name, pnstrdup(k.val.string.val, k.val.string.len))));
		if (tok == WJB_ELEM)
			m->hard[s] = true;
		else
		{
			(void) JsonbIteratorNext(&it, &e, true);
			m->weight[s] = num_value(&e, "p_model.weights", spoof_signal_codes[s]);
		}
	}
	return true;
}

/* the previous fixes: an array of objects, sorted here by t_ms, the latest kept */
static int
parse_prev(Jsonb *jb, SpoofPrev *prev)
{
	JsonbIterator *it;
	JsonbValue	e;
	JsonbIteratorToken tok;
	SpoofPrev  *all;
	int			n = 0,
				cap;

	if (!JB_ROOT_IS_ARRAY(jb) || JB_ROOT_IS_SCALAR(jb))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("p_prev must be a JSON array of the device's previous fixes")));
	cap = JB_ROOT_COUNT(jb);
	all = palloc0(sizeof(SpoofPrev) * Max(cap, 1));
	it = JsonbIteratorInit(&jb->root);
	while ((tok = JsonbIteratorNext(&it, &e, true)) != WJB_DONE)
	{
		SpoofPrev  *p;
		int			j;

		if (tok != WJB_ELEM)
			continue;
		if (e.type != jbvBinary)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("p_prev[%d] must be an object", n)));
		p = &all[n];
		p->lat = p->lon = p->accuracy_m = p->speed_mps = p->bearing_deg = p->altitude_m = NAN;
		parse_object(e.val.binary.data, "p_prev[]", prev_fields, NFIELDS(prev_fields), p, NULL);
		/* insertion by t_ms, stable: callers may send them in any order */
		for (j = n; j > 0 && all[j - 1].t_ms > all[j].t_ms; j--)
		{
			SpoofPrev	t = all[j];

			all[j] = all[j - 1];
			all[j - 1] = t;
		}
		n++;
	}
	if (n > SPOOF_MAX_PREV)
	{
		memcpy(prev, all + (n - SPOOF_MAX_PREV), sizeof(SpoofPrev) * SPOOF_MAX_PREV);
		n = SPOOF_MAX_PREV;
	}
	else if (n > 0)
		memcpy(prev, all, sizeof(SpoofPrev) * n);
	pfree(all);
	return n;
}

/* the model: the defaults, overridden by the keys of p_model */
static void
parse_model(Jsonb *jb, SpoofModel *m)
{
	const char *problem;

	spoof_model_default(m);
	if (jb != NULL)
		parse_object(&jb->root, "p_model", model_fields, NFIELDS(model_fields), m, model_special);
	problem = spoof_model_check(m);
	if (problem != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("p_model is not a usable model: %s", problem)));
}

/* the radio environment of a fix: "unknown" everywhere, then jb's keys */
static void
parse_radio(Jsonb *jb, SpoofRadio *radio)
{
	memset(radio, 0, sizeof(*radio));
	radio->site_overlap = -1;
	radio->cell_distance_m = radio->cell_radius_m = NAN;
	if (jb != NULL)
		parse_object(&jb->root, "p_radio", radio_fields, NFIELDS(radio_fields), radio, radio_special);
}

/* the history facts of a fix: "unknown" everywhere, then jb's keys */
static void
parse_history(Jsonb *jb, SpoofHistory *hist)
{
	memset(hist, 0, sizeof(*hist));
	hist->workers_on_device_today = -1;
	hist->skew_jump_s = NAN;
	hist->rebound_s = NAN;
	if (jb != NULL)
		parse_object(&jb->root, "p_history", history_fields, NFIELDS(history_fields), hist, NULL);
}

/* a scored fix's result as the values of the output columns (from values[0]) */
static void
result_values(const SpoofResult *res, const SpoofModel *model, Datum *values)
{
	size_t		need = spoof_reasons_json(res, NULL, 0);
	char	   *json = palloc(need + 1);

	spoof_reasons_json(res, json, need + 1);
	values[0] = Int32GetDatum(res->score);
	values[1] = CStringGetTextDatum(spoof_band_name(res->band));
	values[2] = DirectFunctionCall1(jsonb_in, CStringGetDatum(json));
	values[3] = Int32GetDatum(res->coverage);
	values[4] = BoolGetDatum(res->hard_reject);
	values[5] = CStringGetTextDatum(model->version);
	pfree(json);
}

/*
 * fieldops.spoof_score(p_fix, p_prev, p_radio, p_history, p_model):
 * (score, band, reasons, coverage, hard_reject, model_version).
 */
Datum
fieldops_spoof_score(PG_FUNCTION_ARGS)
{
	SpoofFix	fix;
	SpoofPrev	prev[SPOOF_MAX_PREV];
	SpoofRadio	radio;
	SpoofHistory hist;
	SpoofModel	model;
	SpoofResult res;
	int			nprev = 0;
	TupleDesc	desc;
	Datum		values[6];
	bool		nulls[6] = {false, false, false, false, false, false};

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("p_fix must not be null")));
	fix_init(&fix);
	parse_object(&PG_GETARG_JSONB_P(0)->root, "p_fix", fix_fields, NFIELDS(fix_fields), &fix, NULL);
	if (!isfinite(fix.lat) || !isfinite(fix.lon) || fabs(fix.lat) > 90 || fabs(fix.lon) > 180)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("p_fix needs lat (-90..90) and lon (-180..180)")));
	if (!PG_ARGISNULL(1))
		nprev = parse_prev(PG_GETARG_JSONB_P(1), prev);

	parse_radio(PG_ARGISNULL(2) ? NULL : PG_GETARG_JSONB_P(2), &radio);
	parse_history(PG_ARGISNULL(3) ? NULL : PG_GETARG_JSONB_P(3), &hist);

	parse_model(PG_ARGISNULL(4) ? NULL : PG_GETARG_JSONB_P(4), &model);

	if (spoof_score(&fix, prev, nprev, PG_ARGISNULL(2) ? NULL : &radio, PG_ARGISNULL(3) ? NULL : &hist,
					&model, &res) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the fix could not be scored (check its coordinates and the model)")));

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "spoof_score must return a record");
	result_values(&res, &model, values);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls)));
}

/*
 * fieldops.spoof_model_defaults(): the built-in model as the jsonb that
 * spoof_score() and the model table take, so a new version can start from
 * it and change only what calibration changed.
 */
Datum
fieldops_spoof_model_defaults(PG_FUNCTION_ARGS)
{
	SpoofModel	m;
	StringInfoData buf;
	int			i;

	spoof_model_default(&m);
	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"version\": \"%s\"", m.version);
	for (i = 0; i < NFIELDS(model_fields); i++)
	{
		const Field *f = &model_fields[i];
		const char *p = (const char *) &m + f->off;

		if (f->kind == FK_INT)
			appendStringInfo(&buf, ", \"%s\": %d", f->name, *(const int *) p);
		else
			appendStringInfo(&buf, ", \"%s\": %.17g", f->name, *(const double *) p);
	}
	appendStringInfoString(&buf, ", \"weights\": {");
	for (i = 0; i < SPOOF__NSIG; i++)
		appendStringInfo(&buf, "%s\"%s\": %.17g", i ? ", " : "", spoof_signal_codes[i], m.weight[i]);
	appendStringInfoString(&buf, "}, \"hard\": [");
	{
		bool		first = true;

		for (i = 0; i < SPOOF__NSIG; i++)
			if (m.hard[i])
			{
				appendStringInfo(&buf, "%s\"%s\"", first ? "" : ", ", spoof_signal_codes[i]);
				first = false;
			}
	}
	appendStringInfoString(&buf, "]}");
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
}

/* The arrays of spoof_score_track(), deconstructed once */
typedef struct TrackArg
{
	Datum	   *v;
	bool	   *isnull;
	int			n;
} TrackArg;

/*
 * Argument i as a one-dimensional array of n elements (n < 0: take its
 * length), or a 22023 naming it; a NULL argument is n NULL elements.
 */
static void
track_arg(FunctionCallInfo fcinfo, int i, Oid elemtype, const char *name, int n, TrackArg *out)
{
	ArrayType  *a;
	int16		len;
	bool		byval;
	char		align;

	if (PG_ARGISNULL(i))
	{
		if (n < 0)
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s must not be null", name)));
		out->n = n;
		out->v = palloc0(sizeof(Datum) * Max(n, 1));
		out->isnull = palloc(sizeof(bool) * Max(n, 1));
		memset(out->isnull, true, sizeof(bool) * Max(n, 1));
		return;
	}
	a = PG_GETARG_ARRAYTYPE_P(i);
	if (ARR_NDIM(a) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a one-dimensional array", name)));
	get_typlenbyvalalign(elemtype, &len, &byval, &align);
	deconstruct_array(a, elemtype, len, byval, align, &out->v, &out->isnull, &out->n);
	if (n >= 0 && out->n != n)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must have as many elements as p_t_ms (%d), got %d", name, n, out->n)));
}

/* element k of a real[] / float8[] argument as a double, NAN when NULL */
static double
track_num(const TrackArg *a, int k, bool is_float4)
{
	if (a->isnull[k])
		return NAN;
	return is_float4 ? (double) DatumGetFloat4(a->v[k]) : DatumGetFloat8(a->v[k]);
}

/* a provider name as the core's enum (the fix table's CHECK guarantees it) */
static SpoofProvider
track_provider(const TrackArg *a, int k)
{
	if (!a->isnull[k])
	{
		char	   *s = TextDatumGetCString(a->v[k]);

		for (int i = 0; i < (int) lengthof(provider_names); i++)
			if (strcmp(s, provider_names[i]) == 0)
				return (SpoofProvider) i;
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("p_provider[%d] must be one of gps, network, fused, wifi, cell, passive", k + 1)));
	return SPROV_GPS;			/* not reached */
}

enum
{
	TA_T, TA_RECEIVED, TA_LAT, TA_LON, TA_ACC, TA_ALT, TA_SPD, TA_BRG, TA_PROV,
	TA_MOCK, TA_SATS, TA_CN0M, TA_CN0SD, TA_INTEGRITY, TA_SCORE, TA_RADIO,
	TA_HISTORY, TA__N
};

/*
 * fieldops.spoof_score_track(p_t_ms, p_received_ms, p_lat, p_lon,
 * p_accuracy_m, p_altitude_m, p_speed_mps, p_bearing_deg, p_provider,
 * p_mock, p_satellites, p_cn0_mean_dbhz, p_cn0_sd_dbhz, p_integrity,
 * p_score, p_radio, p_history, p_external_receiver, p_model):
 * SETOF (ord, score, band, reasons, coverage, hard_reject, model_version).
 *
 * One device's fixes in fix-time order as parallel arrays; every element
 * with p_score[k] true is scored against the up to SPOOF_MAX_PREV
 * elements before it.  This is how ingest scores a batch: one call per
 * device with the stored fixes around the batch and the new ones merged,
 * instead of one spoof_score() call per fix with its history rebuilt as
 * jsonb -- the same core and the same result as spoof_score() would give
 * each fix with those previous fixes.
 */
Datum
fieldops_spoof_score_track(PG_FUNCTION_ARGS)
{
	static const Oid types[TA__N] = {
		INT8OID, INT8OID, FLOAT8OID, FLOAT8OID, FLOAT4OID, FLOAT4OID, FLOAT4OID,
		FLOAT4OID, TEXTOID, BOOLOID, INT2OID, FLOAT4OID, FLOAT4OID, INT4OID,
		BOOLOID, JSONBOID, JSONBOID
	};
	static const char *const names[TA__N] = {
		"p_t_ms", "p_received_ms", "p_lat", "p_lon", "p_accuracy_m",
		"p_altitude_m", "p_speed_mps", "p_bearing_deg", "p_provider", "p_mock",
		"p_satellites", "p_cn0_mean_dbhz", "p_cn0_sd_dbhz", "p_integrity",
		"p_score", "p_radio", "p_history"
	};
	TrackArg	a[TA__N];
	bool		external = !PG_ARGISNULL(TA__N) && PG_GETARG_BOOL(TA__N);
	SpoofModel	model;
	SpoofPrev  *all;
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			n;

	InitMaterializedSRF(fcinfo, 0);
	parse_model(PG_ARGISNULL(TA__N + 1) ? NULL : PG_GETARG_JSONB_P(TA__N + 1), &model);

	track_arg(fcinfo, TA_T, types[TA_T], names[TA_T], -1, &a[TA_T]);
	n = a[TA_T].n;
	for (int i = 1; i < TA__N; i++)
		track_arg(fcinfo, i, types[i], names[i], n, &a[i]);

	/* the track as the core's previous-fix records, checked in order */
	all = palloc(sizeof(SpoofPrev) * Max(n, 1));
	for (int k = 0; k < n; k++)
	{
		SpoofPrev  *p = &all[k];

		if (a[TA_T].isnull[k] || a[TA_LAT].isnull[k] || a[TA_LON].isnull[k])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("p_t_ms, p_lat and p_lon must have no null elements (element %d)", k + 1)));
		p->t_ms = DatumGetInt64(a[TA_T].v[k]);
		if (k > 0 && p->t_ms < all[k - 1].t_ms)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("p_t_ms must be in ascending order (element %d is earlier than element %d)", k + 1, k)));
		p->received_ms = a[TA_RECEIVED].isnull[k] ? 0 : DatumGetInt64(a[TA_RECEIVED].v[k]);
		p->lat = track_num(&a[TA_LAT], k, false);
		p->lon = track_num(&a[TA_LON], k, false);
		if (!isfinite(p->lat) || !isfinite(p->lon) || fabs(p->lat) > 90 || fabs(p->lon) > 180)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("element %d needs lat (-90..90) and lon (-180..180)", k + 1)));
		p->accuracy_m = track_num(&a[TA_ACC], k, true);
		p->altitude_m = track_num(&a[TA_ALT], k, true);
		p->speed_mps = track_num(&a[TA_SPD], k, true);
		p->bearing_deg = track_num(&a[TA_BRG], k, true);
		p->provider = track_provider(&a[TA_PROV], k);
	}

	for (int k = 0; k < n; k++)
	{
		SpoofFix	fix;
		SpoofRadio	radio;
		SpoofHistory hist;
		SpoofResult res;
		int			first = Max(0, k - SPOOF_MAX_PREV);
		Datum		values[7];
		bool		nulls[7] = {false, false, false, false, false, false, false};

		if (a[TA_SCORE].isnull[k] || !DatumGetBool(a[TA_SCORE].v[k]))
			continue;
		fix_init(&fix);
		fix.t_ms = all[k].t_ms;
		fix.received_ms = all[k].received_ms;
		fix.lat = all[k].lat;
		fix.lon = all[k].lon;
		fix.accuracy_m = all[k].accuracy_m;
		fix.altitude_m = all[k].altitude_m;
		fix.speed_mps = all[k].speed_mps;
		fix.bearing_deg = all[k].bearing_deg;
		fix.provider = all[k].provider;
		if (!a[TA_MOCK].isnull[k])
			fix.mock = DatumGetBool(a[TA_MOCK].v[k]) ? 1 : 0;
		if (!a[TA_SATS].isnull[k])
			fix.satellites = DatumGetInt16(a[TA_SATS].v[k]);
		fix.cn0_mean_dbhz = track_num(&a[TA_CN0M], k, true);
		fix.cn0_sd_dbhz = track_num(&a[TA_CN0SD], k, true);
		if (!a[TA_INTEGRITY].isnull[k])
			fix.integrity = DatumGetInt32(a[TA_INTEGRITY].v[k]);
		fix.external_receiver = external;
		parse_radio(a[TA_RADIO].isnull[k] ? NULL : DatumGetJsonbP(a[TA_RADIO].v[k]), &radio);
		parse_history(a[TA_HISTORY].isnull[k] ? NULL : DatumGetJsonbP(a[TA_HISTORY].v[k]), &hist);

		if (spoof_score(&fix, all + first, k - first,
						a[TA_RADIO].isnull[k] ? NULL : &radio,
						a[TA_HISTORY].isnull[k] ? NULL : &hist, &model, &res) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("element %d could not be scored (check its coordinates and the model)", k + 1)));
		values[0] = Int32GetDatum(k + 1);
		result_values(&res, &model, values + 1);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	PG_RETURN_NULL();
}

/*
 * For the C ingest (fix_ingest.c), which gathers the context itself and
 * calls the core directly: the same initialisation and model parsing as
 * spoof_score() and spoof_score_track(), so all three score alike.
 */
void
spoof_model_from_jsonb(Jsonb *jb, SpoofModel *m)
{
	parse_model(jb, m);
}

void
spoof_context_init(SpoofFix *fix, SpoofRadio *radio, SpoofHistory *hist)
{
	fix_init(fix);
	parse_radio(NULL, radio);
	parse_history(NULL, hist);
}

/*
 * The reasons of a result as jsonb.  Most fixes have none: their "[]" is
 * made once per backend (the callers copy it into arrays and tuples and
 * never free it).
 */
Datum
spoof_reasons_jsonb(const SpoofResult *res)
{
	static Datum empty = (Datum) 0;
	size_t		need;
	char	   *json;
	Datum		d;

	if (res->n_reasons == 0)
	{
		if (empty == (Datum) 0)
		{
			MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

			empty = DirectFunctionCall1(jsonb_in, CStringGetDatum("[]"));
			MemoryContextSwitchTo(old);
		}
		return empty;
	}
	need = spoof_reasons_json(res, NULL, 0);
	json = palloc(need + 1);

	spoof_reasons_json(res, json, need + 1);
	d = DirectFunctionCall1(jsonb_in, CStringGetDatum(json));
	pfree(json);
	return d;
}
