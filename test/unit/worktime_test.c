/*-------------------------------------------------------------------------
 *
 * worktime_test.c
 *		Unit tests of the working-hours core (worktime_core.c): parsing,
 *		validation, calendar arithmetic, and the half-open, night-shift and
 *		dated-exception rules of wt_contains().
 *
 * Copyright (c) 2026, fieldops developers
 *
 * IDENTIFICATION
 *		test/unit/worktime_test.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>

#include "unit.h"
#include "worktime_core.h"

static char err[200];

/* parse a range or abort the test program: used to build fixtures */
static WtRange
R(const char *s)
{
	WtRange		r;

	if (!wt_parse_range(s, strlen(s), &r, err, sizeof(err)))
	{
		printf("Bail out! fixture range %s: %s\n", s, err);
		exit(1);
	}
	return r;
}

static int32_t
D(const char *s)
{
	int32_t		d;

	if (!wt_parse_date(s, strlen(s), &d))
	{
		printf("Bail out! fixture date %s\n", s);
		exit(1);
	}
	return d;
}

static int32_t
at(int h, int m, int s)
{
	return h * 3600 + m * 60 + s;
}

static void
test_ranges(void)
{
	WtRange		r;
	char		buf[16];

	OK(wt_parse_range("09:00-18:00", 11, &r, err, sizeof(err)) && r.start == 540 && r.end == 1080, "day range");
	OK(wt_parse_range("00:00-24:00", 11, &r, err, sizeof(err)) && r.start == 0 && r.end == 1440, "whole day");
	OK(wt_parse_range("22:00-06:00", 11, &r, err, sizeof(err)) && r.start == 1320 && r.end == 1800, "night shift runs past midnight");
	OK(wt_parse_range("23:59-00:00", 11, &r, err, sizeof(err)) && r.end == 1440, "to midnight written as 00:00");
	OK(!wt_parse_range("09:00-09:00", 11, &r, err, sizeof(err)), "empty range refused");
	OK(strstr(err, "empty") != NULL, "empty range message says so");
	OK(!wt_parse_range("24:00-06:00", 11, &r, err, sizeof(err)), "start 24:00 refused");
	OK(!wt_parse_range("9:00-18:00", 10, &r, err, sizeof(err)), "one-digit hour refused");
	OK(!wt_parse_range("09:60-18:00", 11, &r, err, sizeof(err)), "minute 60 refused");
	OK(!wt_parse_range("25:00-18:00", 11, &r, err, sizeof(err)), "hour 25 refused");
	OK(!wt_parse_range("24:30-18:00", 11, &r, err, sizeof(err)), "24:30 refused");
	OK(!wt_parse_range("09:00~18:00", 11, &r, err, sizeof(err)), "wrong separator refused");
	OK(!wt_parse_range("09:00-18:00x", 12, &r, err, sizeof(err)), "trailing text refused");
	OK(!wt_parse_range("", 0, &r, err, sizeof(err)), "empty string refused");
	OK(strstr(err, "HH:MM-HH:MM") != NULL, "format message names the form");

	r = R("22:30-06:15");
	wt_format_range(&r, buf, sizeof(buf));
	EQ_STR(buf, "22:30-06:15", "night shift formats back");
	r = R("00:00-24:00");
	wt_format_range(&r, buf, sizeof(buf));
	EQ_STR(buf, "00:00-24:00", "whole day formats back");
}

static void
test_days(void)
{
	WtDay		d;
	WtRange		r;
	int			i;

	memset(&d, 0, sizeof(d));
	r = R("13:00-18:00");
	wt_day_add(&d, &r, err, sizeof(err));
	r = R("09:00-12:00");
	wt_day_add(&d, &r, err, sizeof(err));
	OK(wt_day_finish(&d, err, sizeof(err)), "two separate ranges accepted");
	EQ_INT(d.ranges[0].start, 540, "ranges sorted by start");

	r = R("11:00-14:00");
	wt_day_add(&d, &r, err, sizeof(err));
	OK(!wt_day_finish(&d, err, sizeof(err)), "overlap refused");
	OK(strstr(err, "overlap") != NULL, "overlap message");

	memset(&d, 0, sizeof(d));
	r = R("09:00-12:00");
	wt_day_add(&d, &r, err, sizeof(err));
	r = R("12:00-13:00");
	wt_day_add(&d, &r, err, sizeof(err));
	OK(wt_day_finish(&d, err, sizeof(err)), "touching ranges accepted (half-open)");

	memset(&d, 0, sizeof(d));
	for (i = 0; i < WT_MAX_RANGES; i++)
	{
		WtRange		x = {(int16_t) (i * 60), (int16_t) (i * 60 + 30)};

		OK(wt_day_add(&d, &x, err, sizeof(err)), "range within the limit");
	}
	OK(!wt_day_add(&d, &r, err, sizeof(err)), "one range too many refused");
}

static void
test_calendar(void)
{
	int32_t		d;
	char		buf[16];

	OK(wt_parse_date("2000-01-01", 10, &d) && d == 0, "epoch is day 0");
	OK(wt_parse_date("1999-12-31", 10, &d) && d == -1, "day before the epoch");
	OK(wt_parse_date("2024-02-29", 10, &d), "leap day 2024");
	OK(!wt_parse_date("2026-02-29", 10, &d), "no leap day 2026");
	OK(wt_parse_date("2000-02-29", 10, &d), "2000 is a leap year");
	OK(!wt_parse_date("2100-02-29", 10, &d), "2100 is not a leap year");
	OK(!wt_parse_date("2026-04-31", 10, &d), "April has 30 days");
	OK(!wt_parse_date("2026-13-01", 10, &d), "month 13 refused");
	OK(!wt_parse_date("2026-1-01", 9, &d), "short month refused");
	OK(!wt_parse_date("1899-12-31", 10, &d), "before 1900 refused");

	EQ_INT(wt_weekday(D("2000-01-01")), 5, "2000-01-01 was a Saturday");
	EQ_INT(wt_weekday(D("1970-01-01")), 3, "1970-01-01 was a Thursday");
	EQ_INT(wt_weekday(D("2026-11-27")), 4, "2026-11-27 is a Friday");
	EQ_INT(wt_weekday(D("2026-11-30")), 0, "2026-11-30 is a Monday");
	EQ_INT(wt_weekday(D("1900-01-01")), 0, "1900-01-01 was a Monday");

	for (d = D("1900-01-01"); d <= D("2999-12-31"); d += 97)
	{
		int32_t		back;

		wt_format_date(d, buf, sizeof(buf));
		if (!wt_parse_date(buf, 10, &back) || back != d)
		{
			OK(0, "date format/parse round trip");
			return;
		}
	}
	OK(1, "date format/parse round trip over 1900-2999");
	wt_format_date(D("2026-10-01"), buf, sizeof(buf));
	EQ_STR(buf, "2026-10-01", "format National Day");
}

static void
test_contains(void)
{
	WtSchedule *s = calloc(1, sizeof(WtSchedule));
	WtDay		holiday,
				makeup,
				night;
	WtRange		r;
	int			i;
	int32_t		fri = D("2026-11-27"),
				sat = D("2026-11-28"),
				sun = D("2026-11-29");

	/* Monday-Friday 09:00-12:00, 13:00-18:00; Friday night shift 22:00-06:00 */
	for (i = 0; i < 5; i++)
	{
		r = R("09:00-12:00");
		wt_day_add(&s->week[i], &r, err, sizeof(err));
		r = R("13:00-18:00");
		wt_day_add(&s->week[i], &r, err, sizeof(err));
	}
	r = R("22:00-06:00");
	wt_day_add(&s->week[4], &r, err, sizeof(err));
	for (i = 0; i < 7; i++)
		wt_day_finish(&s->week[i], err, sizeof(err));

	OK(!wt_contains(s, fri, at(8, 59, 59)), "before the morning shift");
	OK(wt_contains(s, fri, at(9, 0, 0)), "start is inside");
	OK(wt_contains(s, fri, at(11, 59, 59)), "last second of the morning");
	OK(!wt_contains(s, fri, at(12, 0, 0)), "end is outside (half-open)");
	OK(!wt_contains(s, fri, at(12, 30, 0)), "lunch break");
	OK(wt_contains(s, fri, at(23, 0, 0)), "Friday night shift");
	OK(wt_contains(s, sat, at(5, 59, 59)), "night shift continues into Saturday");
	OK(!wt_contains(s, sat, at(6, 0, 0)), "night shift ends at 06:00");
	OK(!wt_contains(s, sat, at(10, 0, 0)), "Saturday is free");
	OK(!wt_contains(s, sun, at(2, 0, 0)), "no night shift on Saturday night");

	/* 调休: Sunday a make-up workday, Friday a holiday without its night shift */
	memset(&makeup, 0, sizeof(makeup));
	r = R("09:00-18:00");
	wt_day_add(&makeup, &r, err, sizeof(err));
	memset(&holiday, 0, sizeof(holiday));
	OK(wt_schedule_add_date(s, sun, &makeup, err, sizeof(err)), "add make-up Sunday");
	OK(wt_schedule_add_date(s, fri, &holiday, err, sizeof(err)), "add holiday Friday");
	OK(!wt_schedule_add_date(s, fri, &holiday, err, sizeof(err)), "same date twice refused");
	OK(strstr(err, "2026-11-27") != NULL, "duplicate-date message names the date");
	EQ_INT(s->dates[0].day, fri, "dated days kept sorted");

	OK(!wt_contains(s, fri, at(10, 0, 0)), "holiday replaces Friday");
	OK(!wt_contains(s, sat, at(3, 0, 0)), "holiday has no night shift running into Saturday");
	OK(wt_contains(s, sun, at(10, 0, 0)), "make-up Sunday is a workday");
	OK(wt_contains(s, D("2026-11-26"), at(10, 0, 0)), "Thursday unchanged");

	/* a dated night shift spills into the next (weekly) day */
	memset(&night, 0, sizeof(night));
	r = R("20:00-04:00");
	wt_day_add(&night, &r, err, sizeof(err));
	OK(wt_schedule_add_date(s, D("2026-12-31"), &night, err, sizeof(err)), "add New Year's Eve night");
	OK(wt_contains(s, D("2027-01-01"), at(3, 0, 0)), "dated night shift continues past midnight");
	OK(!wt_contains(s, D("2027-01-01"), at(4, 0, 0)), "and ends at its end");

	/* many dates: binary search finds each */
	for (i = 0; i < 300; i++)
		wt_schedule_add_date(s, D("2030-01-01") + 2 * i, &makeup, err, sizeof(err));
	OK(wt_contains(s, D("2030-01-01") + 2 * 150, at(10, 0, 0)), "dated day found among hundreds");
	OK(wt_contains(s, D("2030-01-01") + 2 * 150 + 1, at(10, 0, 0)) ==
	   (wt_weekday(D("2030-01-01") + 2 * 150 + 1) < 5), "undated day between them follows the week");
	for (i = s->ndates; i < WT_MAX_DATES; i++)
		wt_schedule_add_date(s, D("2040-01-01") + i, &makeup, err, sizeof(err));
	OK(!wt_schedule_add_date(s, D("2090-01-01"), &makeup, err, sizeof(err)), "too many dated days refused");
	free(s);
}

int
main(void)
{
	test_ranges();
	test_days();
	test_calendar();
	test_contains();
	return unit_done();
}
