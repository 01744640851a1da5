/*-------------------------------------------------------------------------
 *
 * unit.h
 *		A minimal TAP producer for the C unit tests of the pure cores.
 *
 * The tests print TAP ("ok 1 - ...", "not ok 2 - ...", "1..N"), so the
 * same counting serves them and the PostgreSQL TAP suite, and prove can
 * run them.  Header-only, no dependencies.
 *
 * Copyright (c) 2026, fieldops developers
 *
 * IDENTIFICATION
 *		test/unit/unit.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef FIELDOPS_UNIT_H
#define FIELDOPS_UNIT_H

#include <stdio.h>
#include <string.h>

static int	unit_count = 0;
static int	unit_failed = 0;

/* Report one check; returns its truth so callers can print details */
static inline int
unit_ok(int cond, const char *file, int line, const char *what)
{
	unit_count++;
	if (cond)
		printf("ok %d - %s\n", unit_count, what);
	else
	{
		unit_failed++;
		printf("not ok %d - %s\n#   at %s:%d\n", unit_count, what, file, line);
	}
	return cond;
}

#define OK(cond, what) unit_ok((cond) ? 1 : 0, __FILE__, __LINE__, (what))
#define EQ_INT(a, b, what) \
	do { long long _a = (long long) (a), _b = (long long) (b); \
		 if (!OK(_a == _b, what)) printf("#   got %lld, expected %lld\n", _a, _b); } while (0)
#define EQ_STR(a, b, what) \
	do { const char *_a = (a), *_b = (b); \
		 if (!OK(strcmp(_a, _b) == 0, what)) printf("#   got \"%s\", expected \"%s\"\n", _a, _b); } while (0)

/* Print the plan and return the exit status */
static inline int
unit_done(void)
{
	printf("1..%d\n", unit_count);
	return unit_failed ? 1 : 0;
}

#endif							/* FIELDOPS_UNIT_H */
