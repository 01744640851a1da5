--
-- upgrade: the oldest released version installs and ALTER EXTENSION UPDATE
-- brings it to the current version with exactly the objects, definitions,
-- privileges and data of a fresh install of the current version.  Also:
-- DROP EXTENSION removes everything it created.  Runs last: it drops the
-- extension.
--

-- a fingerprint of everything the extension consists of (privileges as
-- sorted sets: the order of ACL entries depends on the order of the grants)
CREATE FUNCTION pg_temp.fingerprint() RETURNS TABLE (object text, detail text) LANGUAGE sql AS $$
    WITH members AS (
        SELECT d.classid, d.objid, d.objsubid
          FROM pg_depend d
         WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
           AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'fieldops'))
    SELECT pg_describe_object(m.classid, m.objid, m.objsubid),
           CASE m.classid
             WHEN 'pg_proc'::regclass THEN
               (SELECT CASE p.prokind WHEN 'a' THEN (SELECT md5(a::text) FROM pg_aggregate a WHERE a.aggfnoid = p.oid)
                                      ELSE md5(pg_get_functiondef(p.oid)) END || ' owner=' || p.proowner::regrole || ' acl=' || coalesce((SELECT string_agg(a::text, ',' ORDER BY a::text) FROM unnest(p.proacl) a), '-')
                  FROM pg_proc p WHERE p.oid = m.objid)
             WHEN 'pg_class'::regclass THEN
               (SELECT c.relkind::text || ' acl=' || coalesce((SELECT string_agg(a::text, ',' ORDER BY a::text) FROM unnest(c.relacl) a), '-') || ' rls=' || c.relrowsecurity
                       || ' opts=' || coalesce(c.reloptions::text, '-') || ' comment=' || coalesce(md5(obj_description(c.oid, 'pg_class')), '-')
                       || ' cols=' || coalesce((SELECT string_agg(a.attname || ':' || format_type(a.atttypid, a.atttypmod) || ':' || a.attnotnull
                                                                  || ':' || coalesce(pg_get_expr(ad.adbin, ad.adrelid), ''), ',' ORDER BY a.attnum)
                                                  FROM pg_attribute a LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
                                                 WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '')
                       || ' constraints=' || coalesce((SELECT string_agg(con.conname || ':' || pg_get_constraintdef(con.oid), ',' ORDER BY con.conname)
                                                         FROM pg_constraint con WHERE con.conrelid = c.oid), '')
                       || ' indexes=' || coalesce((SELECT string_agg(pg_get_indexdef(i.indexrelid), ',' ORDER BY pg_get_indexdef(i.indexrelid))
                                                     FROM pg_index i WHERE i.indrelid = c.oid), '')
                       || ' policies=' || coalesce((SELECT string_agg(pol.polname || ':' || pol.polroles::regrole[]::text || ':' ||
                                                                       coalesce(pg_get_expr(pol.polqual, pol.polrelid), '') || ':' ||
                                                                       coalesce(pg_get_expr(pol.polwithcheck, pol.polrelid), ''), ',' ORDER BY pol.polname)
                                                      FROM pg_policy pol WHERE pol.polrelid = c.oid), '')
                       || ' view=' || coalesce(md5(pg_get_viewdef(c.oid)), '-')
                  FROM pg_class c WHERE c.oid = m.objid)
             ELSE ''
           END
      FROM members m
    UNION ALL
    SELECT 'dump registration', (SELECT string_agg(x::regclass::text || ':' || coalesce(cond, ''), ',' ORDER BY x::regclass::text)
                                   FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS u(x, cond)
                                  WHERE e.extname = 'fieldops')
    UNION ALL
    SELECT 'setting_def', (SELECT md5(string_agg(s::text, '|' ORDER BY s.key)) FROM fieldops.setting_def s)
    UNION ALL
    SELECT 'builtin jobs', (SELECT md5(string_agg(b::text, '|' ORDER BY b.job_name)) FROM fieldops.builtin_jobs() b)
$$;

-- the current version, freshly installed
DROP EXTENSION fieldops;
-- DROP EXTENSION removed everything, the schema fieldops included
SELECT count(*) AS fieldops_schemas FROM pg_namespace WHERE nspname = 'fieldops';
SELECT count(*) AS dangling_extension_members FROM pg_depend
 WHERE refclassid = 'pg_extension'::regclass AND refobjid NOT IN (SELECT oid FROM pg_extension);
-- an existing schema of that name is not taken over
CREATE SCHEMA fieldops;
\set VERBOSITY terse
CREATE EXTENSION fieldops;
\set VERBOSITY default
DROP SCHEMA fieldops;
CREATE EXTENSION fieldops;
SELECT extversion AS current_version FROM pg_extension WHERE extname = 'fieldops' \gset
CREATE TEMP TABLE fresh AS SELECT * FROM pg_temp.fingerprint();
SELECT count(*) > 50 AS fingerprint_is_substantial FROM fresh;

-- the oldest version that can be installed, then updated
SELECT version AS oldest FROM pg_available_extension_versions WHERE name = 'fieldops'
 ORDER BY string_to_array(version, '.')::int[] LIMIT 1 \gset
DROP EXTENSION fieldops;
CREATE EXTENSION fieldops VERSION :'oldest';
ALTER EXTENSION fieldops UPDATE;
SELECT extversion = :'current_version' AS at_current_version FROM pg_extension WHERE extname = 'fieldops';
-- the update path is complete
SELECT count(*) AS versions_without_path_to_current
  FROM pg_available_extension_versions v
 WHERE v.name = 'fieldops' AND v.version <> :'current_version'
   AND NOT EXISTS (SELECT 1 FROM pg_extension_update_paths('fieldops') p
                    WHERE p.source = v.version AND p.target = :'current_version' AND p.path IS NOT NULL);

-- no difference with the fresh install
CREATE TEMP TABLE upgraded AS SELECT * FROM pg_temp.fingerprint();
(SELECT 'only in fresh' AS side, * FROM fresh EXCEPT SELECT 'only in fresh', * FROM upgraded)
UNION ALL
(SELECT 'only after upgrade', * FROM upgraded EXCEPT SELECT 'only after upgrade', * FROM fresh)
ORDER BY 2, 1;
