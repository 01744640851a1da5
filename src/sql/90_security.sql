--
-- Security: row-level security, privileges, ownership and pinned search
-- paths.  This file runs last so that it sees every object; upgrade scripts
-- call fieldops.secure_tenant_table() for each new tenant table and grant
-- new functions explicitly.
--

CREATE FUNCTION fieldops.secure_tenant_table(p_table regclass)
RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    v_seq text;
BEGIN
    EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', p_table);
    EXECUTE pg_catalog.format(
        'CREATE POLICY tenant_isolation ON %s TO fieldops_app, fieldops_analyst, fieldops_api'
        ' USING (tenant_id OPERATOR(pg_catalog.=) fieldops.current_tenant_id())'
        ' WITH CHECK (tenant_id OPERATOR(pg_catalog.=) fieldops.current_tenant_id())', p_table);
    EXECUTE pg_catalog.format(
        'CREATE POLICY administrators ON %s TO fieldops_admin USING (true) WITH CHECK (true)', p_table);
    EXECUTE pg_catalog.format('REVOKE ALL ON %s FROM PUBLIC', p_table);
    EXECUTE pg_catalog.format('GRANT SELECT ON %s TO fieldops_app, fieldops_analyst', p_table);
    EXECUTE pg_catalog.format('GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO fieldops_api, fieldops_admin', p_table);
    PERFORM pg_catalog.pg_extension_config_dump(p_table, '');
    FOR v_seq IN
        SELECT pg_catalog.pg_get_serial_sequence(p_table::text, a.attname)
          FROM pg_catalog.pg_attribute a
         WHERE a.attrelid OPERATOR(pg_catalog.=) p_table AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
           AND pg_catalog.pg_get_serial_sequence(p_table::text, a.attname) IS NOT NULL
    LOOP
        EXECUTE pg_catalog.format('REVOKE ALL ON SEQUENCE %s FROM PUBLIC', v_seq);
        EXECUTE pg_catalog.format('GRANT USAGE, SELECT ON SEQUENCE %s TO fieldops_api, fieldops_admin', v_seq);
        PERFORM pg_catalog.pg_extension_config_dump(v_seq::regclass, '');
    END LOOP;
END
$$;
COMMENT ON FUNCTION fieldops.secure_tenant_table(regclass) IS
'Install-time helper: row-level security (tenant_isolation, administrators), privileges and pg_dump registration of a tenant table and its sequences.';

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

-- functions: nothing for PUBLIC, then role by role
REVOKE ALL ON ALL ROUTINES IN SCHEMA fieldops FROM PUBLIC;
GRANT EXECUTE ON ALL ROUTINES IN SCHEMA fieldops TO fieldops_admin;

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

--
-- SECURITY DEFINER functions run as fieldops_api, which row-level security
-- still confines to the tenant chosen with set_tenant(); SQL and PL/pgSQL
-- functions get a pinned search_path (pg_temp last).  run_due_jobs is the
-- exception: a procedure with a SET clause cannot COMMIT, so it qualifies
-- every name itself.
--
DO $pin$
DECLARE
    f record;
    v_path text;
BEGIN
    SELECT pg_catalog.format('pg_catalog, fieldops, %I, pg_temp', n.nspname) INTO v_path
      FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace
     WHERE e.extname OPERATOR(pg_catalog.=) 'postgis';
    FOR f IN
        SELECT p.oid::regprocedure AS sig, p.prosecdef, p.prokind
          FROM pg_catalog.pg_proc p
          JOIN pg_catalog.pg_language l ON l.oid OPERATOR(pg_catalog.=) p.prolang
         WHERE p.pronamespace OPERATOR(pg_catalog.=) 'fieldops'::regnamespace
           AND l.lanname IN ('plpgsql', 'sql')
    LOOP
        IF f.prokind OPERATOR(pg_catalog.=) 'p' THEN
            CONTINUE;
        END IF;
        EXECUTE pg_catalog.format('ALTER FUNCTION %s SET search_path = %s', f.sig, v_path);
        IF f.prosecdef THEN
            EXECUTE pg_catalog.format('ALTER FUNCTION %s OWNER TO fieldops_api', f.sig);
        END IF;
    END LOOP;
END
$pin$;
