/*-------------------------------------------------------------------------
 *
 * tenant_id_test.c
 *		Unit tests of tenant_id_parse(), which guards the fieldops.tenant_id
 *		setting that every row-level security policy reads.
 *
 * Copyright (c) 2026, fieldops developers
 *
 * IDENTIFICATION
 *		test/unit/tenant_id_test.c
 *
 *-------------------------------------------------------------------------
 */
#include "unit.h"
#include "tenant_id.h"

int
main(void)
{
	int64_t		v = -1;

	OK(tenant_id_parse("", &v) && v == 0, "empty means no tenant");
	OK(tenant_id_parse(NULL, &v) && v == 0, "NULL means no tenant");
	OK(tenant_id_parse("1", &v) && v == 1, "1");
	OK(tenant_id_parse("9223372036854775807", &v) && v == INT64_MAX, "INT64_MAX");
	OK(!tenant_id_parse("9223372036854775808", &v), "INT64_MAX + 1 overflows");
	OK(!tenant_id_parse("99999999999999999999", &v), "20 digits overflow");
	OK(!tenant_id_parse("0", &v), "zero is not a tenant");
	OK(!tenant_id_parse("007", &v), "leading zeros refused");
	OK(!tenant_id_parse("-1", &v), "negative refused");
	OK(!tenant_id_parse("+1", &v), "sign refused");
	OK(!tenant_id_parse(" 1", &v), "leading blank refused");
	OK(!tenant_id_parse("1 ", &v), "trailing blank refused");
	OK(!tenant_id_parse("1e3", &v), "exponent refused");
	OK(!tenant_id_parse("12a", &v), "letters refused");
	OK(!tenant_id_parse("1;SET ROLE x", &v), "injection-looking text refused");
	return unit_done();
}
