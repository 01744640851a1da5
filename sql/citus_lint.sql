--
-- citus_lint: the data-model rules of design.md section 2, checked against
-- the catalogs, so that a later change that breaks one fails the suite.
-- Each query lists violations; an empty result is a pass.  Lists that are
-- not empty by design (global tables, functions without a tenant) are the
-- reviewed allowlists: adding to them shows up as a diff to be reviewed.
--

-- Global tables (no tenant): the reviewed list
CREATE TEMP TABLE global_tables (tbl regclass);
INSERT INTO global_tables VALUES ('fieldops.job'), ('fieldops.job_run'), ('fieldops.setting_def'), ('fieldops.spoof_model'), ('fieldops.state_transition'), ('fieldops.tenant_access');
SELECT c.oid::regclass AS global_or_without_tenant_id,
       EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id') AS has_tenant_id
  FROM pg_class c
 WHERE c.relnamespace = 'fieldops'::regnamespace AND c.relkind IN ('r', 'p')
   AND (c.oid IN (SELECT tbl FROM global_tables)
        OR NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id'))
 ORDER BY c.oid::regclass::text;
-- every global table says so in its comment
SELECT tbl AS global_table_not_documented_as_global FROM global_tables
 WHERE obj_description(tbl, 'pg_class') NOT LIKE 'Global%';

CREATE TEMP VIEW tenant_tables AS
SELECT c.oid::regclass AS tbl, c.oid
  FROM pg_class c
 WHERE c.relnamespace = 'fieldops'::regnamespace AND c.relkind IN ('r', 'p')
   AND c.oid NOT IN (SELECT tbl FROM global_tables);

-- Rule 1: tenant_id bigint NOT NULL in every tenant table
SELECT t.tbl AS bad_tenant_id_column
  FROM tenant_tables t
  LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attname = 'tenant_id'
 WHERE a.attname IS NULL OR a.atttypid <> 'int8'::regtype OR NOT a.attnotnull;

-- Rule 1: tenant_id leads the primary key and every unique index
SELECT t.tbl, i.indexrelid::regclass AS index_not_led_by_tenant_id
  FROM tenant_tables t JOIN pg_index i ON i.indrelid = t.oid
 WHERE (i.indisprimary OR i.indisunique)
   AND (SELECT attname FROM pg_attribute WHERE attrelid = t.oid AND attnum = i.indkey[0]) IS DISTINCT FROM 'tenant_id'
 ORDER BY 1, 2;
-- (a partitioned table may keep its key on each partition instead -- pg_dump
-- could not restore daily partitions under a key on the parent -- and its
-- partitions are tenant tables checked here themselves)
SELECT t.tbl AS tenant_table_without_primary_key
  FROM tenant_tables t WHERE NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = t.oid AND i.indisprimary)
   AND NOT EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhparent = t.oid);

-- Rule 1: every foreign key between tenant tables starts with tenant_id on both sides
SELECT con.conrelid::regclass AS tbl, con.conname AS foreign_key_without_tenant_id
  FROM pg_constraint con
 WHERE con.contype = 'f' AND con.conrelid IN (SELECT oid FROM tenant_tables)
   AND con.confrelid IN (SELECT oid FROM tenant_tables)
   AND ((SELECT attname FROM pg_attribute WHERE attrelid = con.conrelid AND attnum = con.conkey[1]) <> 'tenant_id'
        OR (SELECT attname FROM pg_attribute WHERE attrelid = con.confrelid AND attnum = con.confkey[1]) <> 'tenant_id')
 ORDER BY 1, 2;
-- ... and no foreign key connects a global table with a tenant table
SELECT con.conrelid::regclass AS tbl, con.conname AS foreign_key_across_global_and_tenant
  FROM pg_constraint con
 WHERE con.contype = 'f'
   AND con.connamespace = 'fieldops'::regnamespace
   AND ((con.conrelid IN (SELECT tbl FROM global_tables)) <> (con.confrelid IN (SELECT tbl FROM global_tables)))
 ORDER BY 1, 2;

-- Rule 2: ids are bigint from bigint sequences; no identity columns
SELECT a.attrelid::regclass AS tbl, a.attname AS identity_column
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
 WHERE c.relnamespace = 'fieldops'::regnamespace AND a.attidentity <> '' AND NOT a.attisdropped;
SELECT s.seqrelid::regclass AS sequence_not_bigint
  FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid
 WHERE c.relnamespace = 'fieldops'::regnamespace AND s.seqtypid <> 'int8'::regtype;
-- (a device key's key_id is the SHA-256 of the key, not a row id: the one
-- exception, by name and type)
SELECT a.attrelid::regclass AS tbl, a.attname AS id_column_not_bigint
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
 WHERE c.relnamespace = 'fieldops'::regnamespace AND c.relkind IN ('r', 'p')
   AND a.attname LIKE '%\_id' AND a.attnum > 0 AND NOT a.attisdropped AND a.atttypid <> 'int8'::regtype
   AND NOT (a.attname = 'key_id' AND a.atttypid = 'bytea'::regtype)
 ORDER BY 1, 2;

-- Rule 3: no triggers on the extension's tables (derived state is written by the API)
SELECT tgrelid::regclass AS tbl, tgname AS trigger
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
 WHERE c.relnamespace = 'fieldops'::regnamespace AND NOT t.tgisinternal;

-- Rule 4: functions take p_tenant_id bigint first.  The exceptions are the
-- reviewed list below: tenant context, administration (all tenants),
-- scheduler, and pure helpers that touch no tenant data.
SELECT p.oid::regprocedure AS function_without_tenant_first
  FROM pg_proc p
 WHERE p.pronamespace = 'fieldops'::regnamespace
   AND (p.proargnames IS NULL OR p.proargnames[1] IS DISTINCT FROM 'p_tenant_id')
 ORDER BY p.oid::regprocedure::text;
SELECT p.oid::regprocedure AS tenant_argument_not_bigint
  FROM pg_proc p
 WHERE p.pronamespace = 'fieldops'::regnamespace AND p.proargnames[1] = 'p_tenant_id'
   AND p.proargtypes[0] <> 'int8'::regtype;
-- functions without p_tenant_id must not be granted to applications or
-- analysts unless they are in this short list
SELECT p.oid::regprocedure AS tenantless_function_granted_to_tenant_roles
  FROM pg_proc p
 WHERE p.pronamespace = 'fieldops'::regnamespace
   AND (p.proargnames IS NULL OR p.proargnames[1] IS DISTINCT FROM 'p_tenant_id')
   AND (has_function_privilege('fieldops_app', p.oid, 'EXECUTE') OR has_function_privilege('fieldops_analyst', p.oid, 'EXECUTE'))
 ORDER BY p.oid::regprocedure::text;

-- Row-level security on every tenant table, with both policies
SELECT t.tbl AS tenant_table_without_rls
  FROM tenant_tables t JOIN pg_class c ON c.oid = t.oid
 WHERE NOT c.relrowsecurity
    OR (SELECT count(*) FROM pg_policy p WHERE p.polrelid = t.oid AND p.polname IN ('tenant_isolation', 'administrators')) <> 2;

-- pg_dump keeps the data: every tenant table, the user-data global tables
-- and their sequences are registered; the script-owned dictionary is not
SELECT c.oid::regclass AS not_registered_for_pg_dump
  FROM pg_class c
 WHERE c.relnamespace = 'fieldops'::regnamespace
   AND (c.oid IN (SELECT oid FROM tenant_tables)
        OR c.oid IN ('fieldops.job'::regclass, 'fieldops.job_run'::regclass, 'fieldops.tenant_access'::regclass)
        OR (c.relkind = 'S'))
   AND NOT EXISTS (SELECT 1 FROM pg_extension e WHERE e.extname = 'fieldops' AND c.oid = ANY (e.extconfig))
 ORDER BY c.oid::regclass::text;
SELECT c.oid::regclass AS registered_script_table
  FROM pg_class c
 WHERE EXISTS (SELECT 1 FROM pg_extension e WHERE e.extname = 'fieldops' AND c.oid = ANY (e.extconfig))
   AND c.oid = 'fieldops.setting_def'::regclass;

-- Every member of the extension lives in schema fieldops (the install
-- script runs with search_path pg_catalog first: nothing may land there)
SELECT pg_describe_object(d.classid, d.objid, d.objsubid) AS member_outside_schema
  FROM pg_depend d
 WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'fieldops')
   AND pg_describe_object(d.classid, d.objid, d.objsubid) NOT LIKE '% fieldops.%'
   AND pg_describe_object(d.classid, d.objid, d.objsubid) <> 'schema fieldops'
 ORDER BY 1;

-- Conventions: every table, view and routine has a comment; views run with
-- the caller's rights (so row-level security applies); definer functions
-- and SQL/PL/pgSQL functions pin search_path with pg_temp last
SELECT c.oid::regclass AS relation_without_comment
  FROM pg_class c
 WHERE c.relnamespace = 'fieldops'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')
   AND obj_description(c.oid, 'pg_class') IS NULL;
SELECT p.oid::regprocedure AS routine_without_comment
  FROM pg_proc p
 WHERE p.pronamespace = 'fieldops'::regnamespace AND obj_description(p.oid, 'pg_proc') IS NULL;
SELECT c.oid::regclass AS view_not_security_invoker
  FROM pg_class c
 WHERE c.relnamespace = 'fieldops'::regnamespace AND c.relkind = 'v'
   AND NOT coalesce('security_invoker=true' = ANY (c.reloptions), false);
SELECT p.oid::regprocedure AS function_without_pinned_search_path
  FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
 WHERE p.pronamespace = 'fieldops'::regnamespace AND p.prokind = 'f'
   AND (p.prosecdef OR l.lanname IN ('sql', 'plpgsql'))
   AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search\_path=pg\_catalog, fieldops, %pg\_temp');
-- honest volatility: C functions that read or change state are not IMMUTABLE
SELECT p.oid::regprocedure, p.provolatile, p.proparallel, p.proisstrict
  FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
 WHERE p.pronamespace = 'fieldops'::regnamespace AND l.lanname = 'c'
 ORDER BY p.oid::regprocedure::text;
