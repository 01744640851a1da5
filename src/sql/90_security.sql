--
-- Security of the 0.1.0 objects: row-level security and privileges of the
-- foundation's tables and functions.  Later modules secure their own
-- objects in their files; 99_finish.sql then applies what holds for every
-- routine (nothing for PUBLIC, pinned search_path, definer ownership).
--

SELECT fieldops.secure_tenant_table(t::regclass)
  FROM pg_catalog.unnest(ARRAY['fieldops.tenant', 'fieldops.outbox', 'fieldops.region', 'fieldops.team',
                               'fieldops.worker', 'fieldops.device', 'fieldops.device_binding',
                               'fieldops.customer']) AS t;

-- tenants are created and changed by administrators only; the API may
-- only row-lock its tenant (lock_tenant_hierarchy), which needs UPDATE on
-- some column
REVOKE INSERT, UPDATE, DELETE ON fieldops.tenant FROM fieldops_api;
GRANT UPDATE (updated_at) ON fieldops.tenant TO fieldops_api;

-- global tables
REVOKE ALL ON fieldops.setting_def, fieldops.tenant_access, fieldops.job, fieldops.job_run, fieldops.job_status FROM PUBLIC;
GRANT SELECT ON fieldops.setting_def TO fieldops_app, fieldops_analyst, fieldops_api, fieldops_admin;
GRANT SELECT, INSERT, UPDATE, DELETE ON fieldops.tenant_access, fieldops.job, fieldops.job_run TO fieldops_admin;
GRANT SELECT ON fieldops.job_status TO fieldops_admin;
GRANT USAGE, SELECT ON SEQUENCE fieldops.job_job_id_seq, fieldops.job_run_run_id_seq TO fieldops_admin;
SELECT pg_catalog.pg_extension_config_dump('fieldops.tenant_access', '');
SELECT pg_catalog.pg_extension_config_dump('fieldops.job', '');
SELECT pg_catalog.pg_extension_config_dump('fieldops.job_job_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('fieldops.job_run', '');
SELECT pg_catalog.pg_extension_config_dump('fieldops.job_run_run_id_seq', '');

GRANT USAGE ON SCHEMA fieldops TO fieldops_admin, fieldops_app, fieldops_analyst, fieldops_api;

-- reading and tenant context: applications and analysts
GRANT EXECUTE ON FUNCTION
    fieldops.set_tenant(bigint, boolean),
    fieldops.current_tenant_id(),
    fieldops.require_tenant(bigint),
    fieldops.library_info(),
    fieldops.tenant_setting(bigint, text),
    fieldops.tenant_time_zone(bigint),
    fieldops.tenant_local_date(bigint, timestamptz),
    fieldops.work_schedule_normalize(jsonb),
    fieldops.work_schedule_contains(jsonb, timestamp),
    fieldops.is_working_time(bigint, bigint, timestamptz)
TO fieldops_app, fieldops_analyst, fieldops_api;

-- the API: applications
GRANT EXECUTE ON FUNCTION
    fieldops.upsert_region(bigint, text, text, bigint),
    fieldops.upsert_team(bigint, text, text, bigint, bigint),
    fieldops.upsert_worker(bigint, text, text, bigint, bigint, text, text, text, date, jsonb),
    fieldops.set_work_schedule(bigint, bigint, jsonb),
    fieldops.worker_leave(bigint, bigint, date, text),
    fieldops.reinstate_worker(bigint, bigint),
    fieldops.register_device(bigint, text, bigint, text, text, text, text),
    fieldops.retire_device(bigint, bigint, text),
    fieldops.upsert_customer(bigint, text, text, geometry, text, text, text, bigint, bigint),
    fieldops.outbox_fetch(bigint, integer, text[]),
    fieldops.outbox_ack(bigint, bigint[])
TO fieldops_app;

-- what the API functions call internally, as their owner fieldops_api
GRANT EXECUTE ON FUNCTION
    fieldops.check_text(text, text, integer, boolean),
    fieldops.check_code(text, text),
    fieldops.check_point(geometry, text),
    fieldops.emit_event(bigint, text, text, bigint, jsonb),
    fieldops.lock_active_worker(bigint, bigint, text),
    fieldops.lock_tenant_hierarchy(bigint),
    fieldops.check_reference(bigint, text, bigint, text),
    fieldops.hierarchy_reaches(bigint, text, bigint, bigint),
    fieldops.apply_departure(bigint, fieldops.worker),
    fieldops.validate_setting(text, jsonb)
TO fieldops_api;
