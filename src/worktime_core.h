/*-------------------------------------------------------------------------
 *
 * worktime_core.h
 *		Pure C model of a worker's weekly schedule with dated exceptions.
 *
 * Copyright (c) 2026, fieldops developers
 *
 * IDENTIFICATION
 *		src/worktime_core.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef WORKTIME_CORE_H
#define WORKTIME_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* at most this many ranges per day; more is a data-entry mistake */
#define WT_MAX_RANGES 8
/* at most this many dated exceptions in one schedule */
#define WT_MAX_DATES 400

/*
 * A working range in minutes after local midnight of its day.  end > start;
 * end > 1440 means the range runs past midnight into the next day
 * (a night shift "22:00-06:00" is start 1320, end 1800).
 */
typedef struct WtRange
{
	int16_t		start;
	int16_t		end;
} WtRange;

typedef struct WtDay
{
	int			nranges;
	WtRange		ranges[WT_MAX_RANGES];
} WtDay;

/* a day whose ranges replace the weekly ones (holiday, make-up workday) */
typedef struct WtDated
{
	int32_t		day;			/* days since 2000-01-01 */
	WtDay		ranges;
} WtDated;

typedef struct WtSchedule
{
	WtDay		week[7];		/* 0 = Monday ... 6 = Sunday (ISO) */
	int			ndates;
	WtDated		dates[WT_MAX_DATES];	/* sorted by day, unique */
} WtSchedule;

extern const char *const wt_day_names[7];

extern int	wt_day_index(const char *name, size_t len);
extern bool wt_parse_range(const char *s, size_t len, WtRange *out,
						   char *err, size_t errlen);
extern bool wt_parse_date(const char *s, size_t len, int32_t *day);
extern void wt_format_date(int32_t day, char *buf, size_t buflen);
extern void wt_format_range(const WtRange *r, char *buf, size_t buflen);
extern bool wt_day_add(WtDay *d, const WtRange *r, char *err, size_t errlen);
extern bool wt_day_finish(WtDay *d, char *err, size_t errlen);
extern bool wt_schedule_add_date(WtSchedule *s, int32_t day,
								 const WtDay *ranges, char *err, size_t errlen);
extern int	wt_weekday(int32_t day);
extern const WtDay *wt_day_ranges(const WtSchedule *s, int32_t day);
extern bool wt_contains(const WtSchedule *s, int32_t day, int32_t second_of_day);

#endif							/* WORKTIME_CORE_H */
