/*-------------------------------------------------------------------------
 *
 * worktime.c
 *		fmgr wrappers of the working-hours core:
 *		fieldops.work_schedule_normalize(jsonb),
 *		fieldops.work_schedule_contains(jsonb, timestamp) and
 *		fieldops.work_schedule_ranges(jsonb, date).
 *
 * The JSON form a client writes is
 *   {"mon": ["09:00-12:00", "13:00-18:00"], ..., "sun": [],
 *    "dates": {"2026-10-01": [], "2026-10-11": ["09:00-18:00"]}}
 * This file only converts between that JSON and the C structures of
 * worktime_core.c and turns core errors into SQLSTATE 22023 errors.
 *
 * Copyright (c) 2026, fieldops developers
 *
 * IDENTIFICATION
 *		src/worktime.c
 *
 *-------------------------------------------------------------------------
 */
#include "fieldops.h"

#include "datatype/timestamp.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "worktime_core.h"

PG_FUNCTION_INFO_V1(fieldops_work_schedule_normalize);
PG_FUNCTION_INFO_V1(fieldops_work_schedule_contains);
PG_FUNCTION_INFO_V1(fieldops_work_schedule_ranges);

#define WT_HINT "A work schedule looks like {\"mon\": [\"09:00-12:00\", \"13:00-18:00\"], \"sat\": [], \"dates\": {\"2026-10-01\": []}}."

/* Raise the one error every malformed schedule gets */
static void
wt_error(const char *where, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid work schedule: %s: %s", where, detail),
			 errhint(WT_HINT)));
}

/* Parse a JSON array of range strings into a finished day */
static void
parse_day(JsonbValue *v, const char *where, WtDay *day)
{
	JsonbIterator *it;
	JsonbValue	elem;
	JsonbIteratorToken tok;
	char		err[160];

	memset(day, 0, sizeof(*day));
	if (v->type != jbvBinary || !JsonContainerIsArray(v->val.binary.data))
		wt_error(where, "must be an array of \"HH:MM-HH:MM\" strings");

	it = JsonbIteratorInit(v->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &elem, true)) != WJB_DONE)
	{
		WtRange		r;

		if (tok != WJB_ELEM)
			continue;
		if (elem.type != jbvString)
			wt_error(where, "must be an array of \"HH:MM-HH:MM\" strings");
		if (!wt_parse_range(elem.val.string.val, elem.val.string.len, &r, err, sizeof(err)) ||
			!wt_day_add(day, &r, err, sizeof(err)))
			wt_error(where, err);
	}
	if (!wt_day_finish(day, err, sizeof(err)))
		wt_error(where, err);
}

/* Parse the "dates" object of a schedule */
static void
parse_dates(JsonbValue *v, WtSchedule *s)
{
	JsonbIterator *it;
	JsonbValue	key,
				val;
	JsonbIteratorToken tok;
	char		err[160];

	if (v->type != jbvBinary || !JsonContainerIsObject(v->val.binary.data))
		wt_error("\"dates\"", "must be an object mapping \"YYYY-MM-DD\" to an array of ranges");

	it = JsonbIteratorInit(v->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &key, true)) != WJB_DONE)
	{
		int32		day;
		WtDay		ranges;
		char		where[48];

		if (tok != WJB_KEY)
			continue;
		snprintf(where, sizeof(where), "\"dates\".\"%.*s\"",
				 key.val.string.len > 20 ? 20 : key.val.string.len, key.val.string.val);
		if (!wt_parse_date(key.val.string.val, key.val.string.len, &day))
			wt_error(where, "is not a valid date \"YYYY-MM-DD\" between 1900 and 2999");
		tok = JsonbIteratorNext(&it, &val, true);
		Assert(tok == WJB_VALUE);
		parse_day(&val, where, &ranges);
		if (!wt_schedule_add_date(s, day, &ranges, err, sizeof(err)))
			wt_error("\"dates\"", err);
	}
}

/*
 * Parse and validate a whole schedule.  Unknown keys are refused so that a
 * misspelt day ("tues") is an error instead of a silently free day.
 */
void
work_schedule_parse(Jsonb *jb, WtSchedule *s)
{
	JsonbIterator *it;
	JsonbValue	key,
				val;
	JsonbIteratorToken tok;

	memset(s, 0, sizeof(*s));
	if (!JB_ROOT_IS_OBJECT(jb))
		wt_error("the schedule", "must be a JSON object keyed by day (\"mon\" ... \"sun\") and \"dates\"");

	it = JsonbIteratorInit(&jb->root);
	while ((tok = JsonbIteratorNext(&it, &key, true)) != WJB_DONE)
	{
		int			idx;
		char		where[48];

		if (tok != WJB_KEY)
			continue;
		snprintf(where, sizeof(where), "\"%.*s\"",
				 key.val.string.len > 20 ? 20 : key.val.string.len, key.val.string.val);
		tok = JsonbIteratorNext(&it, &val, true);
		Assert(tok == WJB_VALUE);

		idx = wt_day_index(key.val.string.val, key.val.string.len);
		if (idx >= 0)
			parse_day(&val, where, &s->week[idx]);
		else if (key.val.string.len == 5 && memcmp(key.val.string.val, "dates", 5) == 0)
			parse_dates(&val, s);
		else
			wt_error(where, "is not a key of a work schedule (mon, tue, wed, thu, fri, sat, sun, dates)");
	}
}

/* Append a day's ranges as a JSON array */
static void
append_day(StringInfo buf, const WtDay *d)
{
	int			i;
	char		r[16];

	appendStringInfoChar(buf, '[');
	for (i = 0; i < d->nranges; i++)
	{
		wt_format_range(&d->ranges[i], r, sizeof(r));
		appendStringInfo(buf, "%s\"%s\"", i ? ", " : "", r);
	}
	appendStringInfoChar(buf, ']');
}

/*
 * fieldops.work_schedule_normalize(p_schedule jsonb): validate a schedule and
 * return its canonical form (all seven days, sorted ranges, zero-padded
 * times, dates in order), so stored schedules compare equal when they mean
 * the same.
 */
Datum
fieldops_work_schedule_normalize(PG_FUNCTION_ARGS)
{
	Jsonb	   *jb = PG_GETARG_JSONB_P(0);
	WtSchedule *s = palloc(sizeof(WtSchedule));
	StringInfoData buf;
	int			i;

	work_schedule_parse(jb, s);

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	for (i = 0; i < 7; i++)
	{
		appendStringInfo(&buf, "%s\"%s\": ", i ? ", " : "", wt_day_names[i]);
		append_day(&buf, &s->week[i]);
	}
	if (s->ndates > 0)
	{
		appendStringInfoString(&buf, ", \"dates\": {");
		for (i = 0; i < s->ndates; i++)
		{
			char		d[16];

			wt_format_date(s->dates[i].day, d, sizeof(d));
			appendStringInfo(&buf, "%s\"%s\": ", i ? ", " : "", d);
			append_day(&buf, &s->dates[i].ranges);
		}
		appendStringInfoChar(&buf, '}');
	}
	appendStringInfoChar(&buf, '}');

	pfree(s);
	PG_FREE_IF_COPY(jb, 0);
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
}

/* Parsed schedule cached across calls of one query, keyed by its bytes */
typedef struct WtCache
{
	Jsonb	   *jb;				/* copy of the schedule that was parsed */
	WtSchedule	s;
} WtCache;

/*
 * fieldops.work_schedule_contains(p_schedule jsonb, p_local timestamp): is
 * the local date and time inside the schedule?  Queries evaluate it for
 * many rows of few workers, so the parsed schedule is cached in fn_extra
 * and reused while the schedule's bytes are unchanged.
 */
Datum
fieldops_work_schedule_contains(PG_FUNCTION_ARGS)
{
	Jsonb	   *jb = PG_GETARG_JSONB_P(0);
	Timestamp	ts = PG_GETARG_TIMESTAMP(1);
	WtCache    *cache = (WtCache *) fcinfo->flinfo->fn_extra;
	int64		day;
	int64		usec;

	if (TIMESTAMP_NOT_FINITE(ts))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("p_local must be a finite timestamp")));

	if (cache == NULL || cache->jb == NULL ||
		VARSIZE(cache->jb) != VARSIZE(jb) ||
		memcmp(cache->jb, jb, VARSIZE(jb)) != 0)
	{
		MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);

		if (cache == NULL)
			cache = palloc0(sizeof(WtCache));
		else if (cache->jb != NULL)
			pfree(cache->jb);
		/* parse before caching, so an invalid schedule is never cached */
		cache->jb = NULL;
		fcinfo->flinfo->fn_extra = cache;
		work_schedule_parse(jb, &cache->s);
		cache->jb = palloc(VARSIZE(jb));
		memcpy(cache->jb, jb, VARSIZE(jb));
		MemoryContextSwitchTo(old);
	}

	day = ts / USECS_PER_DAY;
	usec = ts % USECS_PER_DAY;
	if (usec < 0)
	{
		usec += USECS_PER_DAY;
		day -= 1;
	}
	PG_RETURN_BOOL(wt_contains(&cache->s, (int32) day, (int32) (usec / USECS_PER_SEC)));
}

/*
 * fieldops.work_schedule_ranges(p_schedule jsonb, p_day date): the working
 * ranges of a local day as local timestamps, in order; a night shift's
 * range ends on the next day.  Mileage claims are built from these.
 */
Datum
fieldops_work_schedule_ranges(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Jsonb	   *jb = PG_GETARG_JSONB_P(0);
	DateADT		day = PG_GETARG_DATEADT(1);
	WtSchedule *s;
	const WtDay *d;
	int			i;

	if (DATE_NOT_FINITE(day))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("p_day must be a finite date")));
	InitMaterializedSRF(fcinfo, 0);
	s = palloc(sizeof(WtSchedule));
	work_schedule_parse(jb, s);
	d = wt_day_ranges(s, (int32) day);
	for (i = 0; i < d->nranges; i++)
	{
		Datum		values[2];
		bool		nulls[2] = {false, false};

		values[0] = TimestampGetDatum((Timestamp) day * USECS_PER_DAY + (int64) d->ranges[i].start * USECS_PER_MINUTE);
		values[1] = TimestampGetDatum((Timestamp) day * USECS_PER_DAY + (int64) d->ranges[i].end * USECS_PER_MINUTE);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	pfree(s);
	return (Datum) 0;
}
