/*-------------------------------------------------------------------------
 *
 * tenant_context.c
 *		The tenant of the current transaction: fieldops.set_tenant(),
 *		fieldops.current_tenant_id() and fieldops.require_tenant().
 *
 * Row-level security on every tenant table compares tenant_id with
 * fieldops.current_tenant_id(), which reads the GUC fieldops.tenant_id.
 * That GUC is PGC_SUSET, so an ordinary role cannot simply SET it; the only
 * way for such a role to choose a tenant is fieldops.set_tenant(), which
 * checks fieldops.tenant_access first.  A GUC (rather than a backend-local
 * variable) is used because GUC values are handed to parallel workers, so
 * the policy functions can stay PARALLEL SAFE and analytic queries can run
 * in parallel.  The parsed value is cached by the assign hook, so the
 * policy costs one static read per row.
 *
 * Copyright (c) 2026, fieldops developers
 *
 * IDENTIFICATION
 *		src/tenant_context.c
 *
 *-------------------------------------------------------------------------
 */
#include "fieldops.h"

#include "catalog/pg_authid.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "tenant_id.h"

PG_FUNCTION_INFO_V1(fieldops_set_tenant);
PG_FUNCTION_INFO_V1(fieldops_current_tenant_id);
PG_FUNCTION_INFO_V1(fieldops_require_tenant);

/* the GUC's string value, owned by guc.c */
static char *tenant_id_string = NULL;

/* parsed value; 0 means no tenant is selected */
static int64 current_tenant = 0;

/*
 * check_hook: refuse anything but empty or a positive bigint, so that a
 * malformed value can never reach the policies (they would otherwise have to
 * parse and fail per row).
 */
static bool
check_tenant_id(char **newval, void **extra, GucSource source)
{
	int64		value;
	int64	   *parsed;

	if (!tenant_id_parse(*newval, &value))
	{
		GUC_check_errdetail("fieldops.tenant_id must be empty or a positive bigint.");
		return false;
	}
	parsed = (int64 *) malloc(sizeof(int64));
	if (parsed == NULL)
		return false;
	*parsed = value;
	*extra = parsed;
	return true;
}

/* assign_hook: cache the parsed value checked above */
static void
assign_tenant_id(const char *newval, void *extra)
{
	current_tenant = extra ? *(int64 *) extra : 0;
}

/*
 * Define fieldops.tenant_id.  Called from _PG_init in every backend that
 * loads the library, preloaded or not.
 */
void
tenant_context_init(void)
{
	DefineCustomStringVariable("fieldops.tenant_id",
							   "Tenant of the current transaction or session.",
							   "Set it with fieldops.set_tenant(), which checks fieldops.tenant_access; "
							   "row-level security shows only this tenant's rows.",
							   &tenant_id_string,
							   "",
							   PGC_SUSET,
							   GUC_NOT_IN_SAMPLE,
							   check_tenant_id,
							   assign_tenant_id,
							   NULL);
}

/*
 * Ask the catalog whether the role 'caller' may act for 'tenant', and in
 * what state that tenant is.  Runs as the bootstrap superuser in a
 * restricted security context: the caller normally has no right to read
 * fieldops.tenant_access, and the query is fixed and fully qualified.
 * Returns false if the role may not; *exists and *active describe the tenant
 * (only meaningful when the role may).
 */
static bool
tenant_access_allowed(Oid caller, int64 tenant, bool *exists, bool *active)
{
	Oid			save_userid;
	int			save_sec_context;
	volatile bool allowed = false;
	Datum		args[2];
	Oid			argtypes[2] = {INT8OID, OIDOID};
	int			ret;

	*exists = false;
	*active = false;

	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(BOOTSTRAP_SUPERUSERID,
						   save_sec_context | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	PG_TRY();
	{
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		args[0] = Int64GetDatum(tenant);
		args[1] = ObjectIdGetDatum(caller);
		ret = SPI_execute_with_args(
									"SELECT"
									" (SELECT t.status OPERATOR(pg_catalog.=) 'active'"
									"    FROM fieldops.tenant t WHERE t.tenant_id OPERATOR(pg_catalog.=) $1),"
									" pg_catalog.pg_has_role($2, 'fieldops_admin', 'USAGE')"
									" OR EXISTS (SELECT 1 FROM fieldops.tenant_access a"
									"    JOIN pg_catalog.pg_roles r ON r.rolname OPERATOR(pg_catalog.=) a.role_name"
									"   WHERE (a.tenant_id OPERATOR(pg_catalog.=) $1 OR a.tenant_id IS NULL)"
									"     AND pg_catalog.pg_has_role($2, r.oid, 'USAGE'))",
									2, argtypes, args, NULL, true, 1);
		if (ret != SPI_OK_SELECT || SPI_processed != 1)
			elog(ERROR, "tenant access query failed: %d", ret);
		else
		{
			bool		isnull;
			Datum		d;

			d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
			*exists = !isnull;
			*active = !isnull && DatumGetBool(d);
			d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
			allowed = !isnull && DatumGetBool(d);
		}
		SPI_finish();
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(save_userid, save_sec_context);
	}
	PG_END_TRY();

	return allowed;
}

/*
 * fieldops.set_tenant(p_tenant_id bigint, p_local boolean DEFAULT true)
 *
 * The one door through which a session chooses its tenant.  Superusers and
 * members of fieldops_admin may choose any tenant; other roles only those
 * granted to them (or to a role they have the privileges of) in
 * fieldops.tenant_access.  A refusal does not reveal whether the tenant
 * exists.  With p_local (the default) the choice ends with the transaction,
 * which is what connection poolers in transaction mode need.
 */
Datum
fieldops_set_tenant(PG_FUNCTION_ARGS)
{
	int64		tenant;
	bool		local;
	bool		exists;
	bool		active;
	char		buf[32];

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("p_tenant_id must not be null")));
	tenant = PG_GETARG_INT64(0);
	local = PG_ARGISNULL(1) ? true : PG_GETARG_BOOL(1);

	if (tenant <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("p_tenant_id must be a positive tenant id, got " INT64_FORMAT, tenant)));

	if (!tenant_access_allowed(GetUserId(), tenant, &exists, &active) &&
		!superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for tenant " INT64_FORMAT, tenant),
				 errhint("An administrator grants access with fieldops.grant_tenant_access().")));
	if (!exists)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("tenant " INT64_FORMAT " does not exist", tenant)));
	if (!active)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("tenant " INT64_FORMAT " is suspended", tenant),
				 errhint("An administrator reactivates it with fieldops.alter_tenant(p_tenant_id, p_status => 'active').")));

	snprintf(buf, sizeof(buf), INT64_FORMAT, tenant);
	(void) set_config_option("fieldops.tenant_id", buf,
							 PGC_SUSET, PGC_S_SESSION,
							 local ? GUC_ACTION_LOCAL : GUC_ACTION_SET,
							 true, 0, false);
	PG_RETURN_INT64(tenant);
}

/*
 * fieldops.current_tenant_id(): the tenant chosen by set_tenant, or NULL.
 * Used by every row-level security policy; NULL matches no row, so a
 * session that chose no tenant sees nothing and can write nothing.
 */
Datum
fieldops_current_tenant_id(PG_FUNCTION_ARGS)
{
	if (current_tenant == 0)
		PG_RETURN_NULL();
	PG_RETURN_INT64(current_tenant);
}

/*
 * fieldops.require_tenant(p_tenant_id bigint): the first statement of every
 * API function.  API functions take the tenant explicitly (so they can be
 * distributed by it), and this makes sure the explicit argument is the
 * tenant the session was allowed to choose, with an error that says so,
 * instead of silently finding no rows.
 */
Datum
fieldops_require_tenant(PG_FUNCTION_ARGS)
{
	int64		tenant;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("p_tenant_id must not be null")));
	tenant = PG_GETARG_INT64(0);
	if (current_tenant == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("no tenant is selected for this transaction"),
				 errhint("Call fieldops.set_tenant(" INT64_FORMAT ") first.", tenant)));
	if (tenant != current_tenant)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("p_tenant_id " INT64_FORMAT " is not the tenant selected for this transaction (" INT64_FORMAT ")",
						tenant, current_tenant)));
	PG_RETURN_VOID();
}
