--
-- Finishing touches that hold for every routine of the extension.  Part of
-- the install script and of every upgrade script, so it must be idempotent:
-- it runs again over objects it has already treated.
--

-- routines: nothing for PUBLIC, everything for administrators (roles get
-- their grants in each module's file)
REVOKE ALL ON ALL ROUTINES IN SCHEMA fieldops FROM PUBLIC;
GRANT EXECUTE ON ALL ROUTINES IN SCHEMA fieldops TO fieldops_admin;

--
-- SECURITY DEFINER functions run as fieldops_api, which row-level security
-- still confines to the tenant chosen with set_tenant(); SQL and PL/pgSQL
-- functions, and SECURITY DEFINER ones in C, get a pinned search_path
-- (pg_temp last).  run_due_jobs is the
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
           AND (l.lanname IN ('plpgsql', 'sql') OR p.prosecdef)
           AND EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                        WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
                          AND d.objid OPERATOR(pg_catalog.=) p.oid AND d.deptype OPERATOR(pg_catalog.=) 'e')
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
