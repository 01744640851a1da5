/*-------------------------------------------------------------------------
 *
 * worktime_core.c
 *		Working hours: parse, validate and query a weekly schedule with
 *		dated exceptions, in plain C.
 *
 * A worker's working hours decide whether the system may record where the
 * worker is (fixes outside working hours are not stored unless the tenant
 * says otherwise) and frame the per-hour KPIs.  Chinese calendars move
 * working days around public holidays (调休: a Sunday becomes a workday, a
 * Thursday a holiday), so a schedule is a weekly pattern plus dated days
 * that replace it.  Night shifts cross midnight and belong to the day they
 * start.  This core knows nothing about time zones: the caller converts an
 * instant to the tenant's local date and time first.
 *
 * Copyright (c) 2026, fieldops developers
 *
 * IDENTIFICATION
 *		src/worktime_core.c
 *
 *-------------------------------------------------------------------------
 */
#include "worktime_core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const wt_day_names[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

/* Index 0..6 of a three-letter lower-case day name, or -1 */
int
wt_day_index(const char *name, size_t len)
{
	int			i;

	if (len != 3)
		return -1;
	for (i = 0; i < 7; i++)
		if (memcmp(name, wt_day_names[i], 3) == 0)
			return i;
	return -1;
}

/* Parse exactly two digits at s into *v */
static bool
two_digits(const char *s, int *v)
{
	if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
		return false;
	*v = (s[0] - '0') * 10 + (s[1] - '0');
	return true;
}

/* Parse "HH:MM" (HH 00-24, MM 00-59, 24 only as 24:00) into minutes */
static bool
parse_clock(const char *s, int *minutes)
{
	int			h,
				m;

	if (!two_digits(s, &h) || s[2] != ':' || !two_digits(s + 3, &m))
		return false;
	if (h > 24 || m > 59 || (h == 24 && m != 0))
		return false;
	*minutes = h * 60 + m;
	return true;
}

/*
 * Parse "HH:MM-HH:MM".  An end before the start means the range runs past
 * midnight; equal ends are refused because they could mean nothing or the
 * whole day (write 00:00-24:00 for the whole day).
 */
bool
wt_parse_range(const char *s, size_t len, WtRange *out, char *err, size_t errlen)
{
	int			start,
				end;

	if (len != 11 || s[5] != '-' ||
		!parse_clock(s, &start) || !parse_clock(s + 6, &end))
	{
		snprintf(err, errlen, "\"%.*s\" is not a range of the form \"HH:MM-HH:MM\"",
				 (int) (len > 40 ? 40 : len), s);
		return false;
	}
	if (start == 1440)
	{
		snprintf(err, errlen, "range \"%.*s\" starts at 24:00; write 00:00 of the next day",
				 (int) len, s);
		return false;
	}
	if (end == start || (start == 0 && end == 0))
	{
		snprintf(err, errlen, "range \"%.*s\" is empty; write 00:00-24:00 for a whole day",
				 (int) len, s);
		return false;
	}
	if (end < start)
		end += 1440;
	out->start = (int16_t) start;
	out->end = (int16_t) end;
	return true;
}

/*
 * Days since 2000-01-01 of a proleptic Gregorian date, using the
 * era-based civil-from-days arithmetic (H. Hinnant, "chrono-compatible
 * low-level date algorithms").
 */
static int32_t
days_from_civil(int y, int m, int d)
{
	int			era,
				yoe,
				doy,
				doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468 - 10957;
}

/* Inverse of days_from_civil */
static void
civil_from_days(int32_t z, int *y, int *m, int *d)
{
	int			era,
				doe,
				yoe,
				doy,
				mp;

	z += 719468 + 10957;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp + (mp < 10 ? 3 : -9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* Parse a calendar date "YYYY-MM-DD" (years 1900-2999) */
bool
wt_parse_date(const char *s, size_t len, int32_t *day)
{
	int			c,
				yy,
				m,
				d,
				y;
	static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (len != 10 || s[4] != '-' || s[7] != '-' ||
		!two_digits(s, &c) || !two_digits(s + 2, &yy) ||
		!two_digits(s + 5, &m) || !two_digits(s + 8, &d))
		return false;
	y = c * 100 + yy;
	if (y < 1900 || y > 2999 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return false;
	if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return false;
	*day = days_from_civil(y, m, d);
	return true;
}

/* Format a day number as "YYYY-MM-DD" */
void
wt_format_date(int32_t day, char *buf, size_t buflen)
{
	int			y,
				m,
				d;

	civil_from_days(day, &y, &m, &d);
	snprintf(buf, buflen, "%04d-%02d-%02d", y, m, d);
}

/* Format a range back into its canonical "HH:MM-HH:MM" spelling */
void
wt_format_range(const WtRange *r, char *buf, size_t buflen)
{
	int			end = r->end > 1440 ? r->end - 1440 : r->end;

	snprintf(buf, buflen, "%02d:%02d-%02d:%02d",
			 r->start / 60, r->start % 60, end / 60, end % 60);
}

/* Append a range to a day, refusing more than WT_MAX_RANGES */
bool
wt_day_add(WtDay *d, const WtRange *r, char *err, size_t errlen)
{
	if (d->nranges >= WT_MAX_RANGES)
	{
		snprintf(err, errlen, "more than %d ranges in one day", WT_MAX_RANGES);
		return false;
	}
	d->ranges[d->nranges++] = *r;
	return true;
}

/* qsort comparator: by start minute */
static int
range_cmp(const void *a, const void *b)
{
	return ((const WtRange *) a)->start - ((const WtRange *) b)->start;
}

/*
 * Sort a day's ranges and refuse overlaps: two overlapping ranges are
 * almost always a typing mistake, and refusing them keeps the canonical
 * form unique.
 */
bool
wt_day_finish(WtDay *d, char *err, size_t errlen)
{
	int			i;

	qsort(d->ranges, d->nranges, sizeof(WtRange), range_cmp);
	for (i = 1; i < d->nranges; i++)
	{
		if (d->ranges[i].start < d->ranges[i - 1].end)
		{
			char		a[16],
						b[16];

			wt_format_range(&d->ranges[i - 1], a, sizeof(a));
			wt_format_range(&d->ranges[i], b, sizeof(b));
			snprintf(err, errlen, "ranges %s and %s overlap", a, b);
			return false;
		}
	}
	return true;
}

/* qsort comparator for dated days */
static int
dated_cmp(const void *a, const void *b)
{
	int32_t		x = ((const WtDated *) a)->day;
	int32_t		y = ((const WtDated *) b)->day;

	return (x > y) - (x < y);
}

/*
 * Add a dated day, keeping the array sorted and unique so lookups can use
 * binary search.  The caller has already finished (sorted, checked) the
 * ranges.
 */
bool
wt_schedule_add_date(WtSchedule *s, int32_t day, const WtDay *ranges,
					 char *err, size_t errlen)
{
	int			i;

	if (s->ndates >= WT_MAX_DATES)
	{
		snprintf(err, errlen, "more than %d dated days", WT_MAX_DATES);
		return false;
	}
	for (i = 0; i < s->ndates; i++)
	{
		if (s->dates[i].day == day)
		{
			char		buf[16];

			wt_format_date(day, buf, sizeof(buf));
			snprintf(err, errlen, "date %s is given twice", buf);
			return false;
		}
	}
	s->dates[s->ndates].day = day;
	s->dates[s->ndates].ranges = *ranges;
	s->ndates++;
	qsort(s->dates, s->ndates, sizeof(WtDated), dated_cmp);
	return true;
}

/* ISO weekday index (0 = Monday) of a day number; 2000-01-01 was a Saturday */
int
wt_weekday(int32_t day)
{
	int			r = (int) ((day % 7 + 7) % 7);

	return (r + 5) % 7;
}

/* The ranges that apply on a day: its dated replacement or its weekday's */
const WtDay *
wt_day_ranges(const WtSchedule *s, int32_t day)
{
	int			lo = 0,
				hi = s->ndates - 1;

	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (s->dates[mid].day == day)
			return &s->dates[mid].ranges;
		if (s->dates[mid].day < day)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return &s->week[wt_weekday(day)];
}

/*
 * Is local (day, second_of_day) inside working hours?  Ranges are half-open
 * [start, end): a shift 09:00-18:00 includes 09:00:00 and excludes 18:00:00.
 * A night shift that started yesterday counts until its end today, whatever
 * today's own pattern says.
 */
bool
wt_contains(const WtSchedule *s, int32_t day, int32_t second_of_day)
{
	const WtDay *today = wt_day_ranges(s, day);
	const WtDay *yesterday = wt_day_ranges(s, day - 1);
	int			i;

	for (i = 0; i < today->nranges; i++)
	{
		int32_t		start = today->ranges[i].start * 60;
		int32_t		end = today->ranges[i].end * 60;

		if (second_of_day >= start && second_of_day < end)
			return true;
	}
	for (i = 0; i < yesterday->nranges; i++)
	{
		int32_t		end = yesterday->ranges[i].end - 1440;

		if (end > 0 && second_of_day < end * 60)
			return true;
	}
	return false;
}
