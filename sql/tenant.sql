--
-- tenant: creating tenants, validating their settings, and choosing the
-- tenant of a transaction.
--
\set SHOW_CONTEXT never
SET datestyle = 'ISO, YMD';
SET timezone = 'UTC';

-- bad input is refused with 22023 and a message naming the argument
SELECT fieldops.create_tenant('', 'Asia/Shanghai');
SELECT fieldops.create_tenant(NULL, 'Asia/Shanghai');
SELECT fieldops.create_tenant(repeat('x', 201), 'Asia/Shanghai');
SELECT fieldops.create_tenant('Acme', 'Mars/Olympus');
SELECT fieldops.create_tenant('Acme', 'CST');
SELECT fieldops.create_tenant('Acme', 'posix/Asia/Shanghai');
SELECT fieldops.create_tenant('Acme', NULL);
SELECT fieldops.create_tenant('Acme', 'Asia/Shanghai', '{"no_such_setting": 1}');
SELECT fieldops.create_tenant('Acme', 'Asia/Shanghai', '{"outbox_retention_days": 0}');
SELECT fieldops.create_tenant('Acme', 'Asia/Shanghai', '{"outbox_retention_days": 1.5}');
SELECT fieldops.create_tenant('Acme', 'Asia/Shanghai', '{"outbox_retention_days": "30"}');
SELECT fieldops.create_tenant('Acme', 'Asia/Shanghai', '{"currency": "rmb"}');
SELECT fieldops.create_tenant('Acme', 'Asia/Shanghai', '{"work_schedule": {"mon": ["9-18"]}}');
SELECT fieldops.create_tenant('Acme', 'Asia/Shanghai', '[1, 2]');
-- nothing was created by the failed calls
SELECT count(*) AS tenants FROM fieldops.tenant;

-- two tenants for the rest of the suite
SELECT fieldops.create_tenant('Acme Shanghai', 'Asia/Shanghai', '{"currency": "CNY", "outbox_retention_days": 7}') AS acme \gset
SELECT fieldops.create_tenant('Beta New York', 'America/New_York') AS beta \gset
SELECT name, time_zone, settings, status FROM fieldops.tenant ORDER BY tenant_id;

-- settings: overrides and defaults, canonical schedules, unknown keys
SELECT fieldops.tenant_setting(:acme, 'outbox_retention_days') AS acme_retention,
       fieldops.tenant_setting(:beta, 'outbox_retention_days') AS beta_retention,
       fieldops.tenant_setting(:beta, 'currency') AS beta_currency,
       fieldops.tenant_setting(:beta, 'week_start') AS beta_week_start;
SELECT fieldops.tenant_setting(:acme, 'no_such_setting');
SELECT fieldops.tenant_setting(-1, 'currency');
SELECT (fieldops.alter_tenant(:beta, p_settings => '{"work_schedule": {"fri": ["13:00-18:00", "08:30-12:00"]}, "week_start": 7}')).settings;
-- a JSON null restores the default
SELECT (fieldops.alter_tenant(:beta, p_settings => '{"week_start": null}')).settings ? 'week_start' AS still_overridden;
SELECT (fieldops.alter_tenant(:beta, p_name => 'Beta NYC', p_time_zone => 'America/New_York')).name;
SELECT fieldops.alter_tenant(:beta, p_status => 'closed');
SELECT fieldops.alter_tenant(-5, p_name => 'x');
SELECT fieldops.tenant_time_zone(:acme), fieldops.tenant_local_date(:acme, '2026-11-27 20:00+00') AS acme_day,
       fieldops.tenant_local_date(:beta, '2026-11-27 20:00+00') AS beta_day;

--
-- choosing the tenant
--
SELECT fieldops.current_tenant_id() IS NULL AS no_tenant_yet;
SELECT fieldops.set_tenant(NULL);
SELECT fieldops.set_tenant(0);
SELECT fieldops.set_tenant(999999);
BEGIN;
SELECT fieldops.set_tenant(:acme) = :acme AS chosen;
SELECT fieldops.current_tenant_id() = :acme AS current_is_acme;
SELECT current_setting('fieldops.tenant_id') = :'acme' AS guc_matches;
COMMIT;
-- transaction-local by default
SELECT fieldops.current_tenant_id() IS NULL AS gone_after_commit;
-- session-wide on request, and RESET ALL clears it (poolers run DISCARD ALL)
SELECT fieldops.set_tenant(:beta, false) = :beta AS chosen_for_session;
SELECT fieldops.current_tenant_id() = :beta AS still_beta;
RESET ALL;
SELECT fieldops.current_tenant_id() IS NULL AS cleared_by_reset_all;

-- require_tenant: the first check of every API function
SELECT fieldops.require_tenant(:acme);
BEGIN;
SELECT fieldops.set_tenant(:acme) IS NOT NULL AS ok;
SELECT fieldops.require_tenant(:acme);
SELECT fieldops.require_tenant(:beta);
ROLLBACK;
SELECT fieldops.require_tenant(NULL);

-- a suspended tenant cannot be chosen
SELECT (fieldops.alter_tenant(:beta, p_status => 'suspended')).status;
SELECT fieldops.set_tenant(:beta);
SELECT (fieldops.alter_tenant(:beta, p_status => 'active')).status;

--
-- who may choose which tenant (roles are created here and dropped in tenancy)
--
CREATE ROLE acme_app LOGIN IN ROLE fieldops_app;
CREATE ROLE beta_app LOGIN IN ROLE fieldops_app;
CREATE ROLE saas_app LOGIN IN ROLE fieldops_app;
CREATE ROLE acme_bi LOGIN IN ROLE fieldops_analyst;
CREATE ROLE ops_admin LOGIN IN ROLE fieldops_admin;
CREATE ROLE nobody LOGIN;
SELECT fieldops.grant_tenant_access('acme_app', :acme);
SELECT fieldops.grant_tenant_access('acme_bi', :acme);
SELECT fieldops.grant_tenant_access('beta_app', :beta);
SELECT fieldops.grant_tenant_access('saas_app', NULL);      -- every tenant
SELECT fieldops.grant_tenant_access('saas_app', NULL);      -- idempotent
SELECT fieldops.grant_tenant_access('acme_app', 424242);
SELECT fieldops.grant_tenant_access(NULL, :acme);
SELECT role_name, tenant_id IS NULL AS all_tenants FROM fieldops.tenant_access ORDER BY 1, 2;

SET ROLE acme_app;
SELECT fieldops.set_tenant(:acme) = :acme AS acme_app_acme;
SELECT fieldops.set_tenant(:beta);
SELECT fieldops.set_tenant(999999);      -- same answer: existence is not revealed
-- the setting itself is out of reach of ordinary roles
SET fieldops.tenant_id = '2';
SELECT set_config('fieldops.tenant_id', :'beta', false);
SELECT count(*) FROM fieldops.tenant_access;
RESET ROLE;

SET ROLE saas_app;
SELECT fieldops.set_tenant(:acme) = :acme AND fieldops.set_tenant(:beta) = :beta AS saas_any_tenant;
RESET ROLE;

SET ROLE ops_admin;
SELECT fieldops.set_tenant(:beta) = :beta AS admin_any_tenant;
SELECT fieldops.set_tenant(999999);      -- admins learn that it does not exist
RESET ROLE;

SET ROLE nobody;
SELECT fieldops.set_tenant(:acme);
RESET ROLE;

-- revoking takes effect at once
SELECT fieldops.revoke_tenant_access('acme_bi', :acme) AS revoked,
       fieldops.revoke_tenant_access('acme_bi', :acme) AS revoked_again;
SET ROLE acme_bi;
SELECT fieldops.set_tenant(:acme);
RESET ROLE;
SELECT fieldops.grant_tenant_access('acme_bi', :acme);
