/*-------------------------------------------------------------------------
 *
 * tenant_id.c
 *		Strict parsing of the fieldops.tenant_id setting.
 *
 * Kept free of server headers so the unit tests can exercise every edge
 * (signs, blanks, overflow) without a running server.  The GUC check hook
 * relies on it to keep malformed values out of the row-level security
 * policies.
 *
 * Copyright (c) 2026, fieldops developers
 *
 * IDENTIFICATION
 *		src/tenant_id.c
 *
 *-------------------------------------------------------------------------
 */
#include "tenant_id.h"

#include <stddef.h>

/*
 * Parse an empty string (no tenant: *out = 0) or a positive decimal bigint
 * with no sign, blanks or leading zeros.  Leading zeros are refused so that
 * one tenant has exactly one spelling in logs and settings.
 */
bool
tenant_id_parse(const char *s, int64_t *out)
{
	int64_t		v = 0;

	if (s == NULL || *s == '\0')
	{
		*out = 0;
		return true;
	}
	if (*s == '0')
		return false;
	for (; *s; s++)
	{
		int			d;

		if (*s < '0' || *s > '9')
			return false;
		d = *s - '0';
		if (v > (INT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}
