--
-- init: the extension installs into a new database with CASCADE (PostGIS
-- comes along) and creates its schema, roles and objects.
--
CREATE EXTENSION fieldops CASCADE;

SELECT extversion, extrelocatable, n.nspname AS listed_in FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE extname = 'fieldops';
-- its objects live in schema fieldops, which is itself a member of the extension
SELECT count(*) AS schema_is_member FROM pg_depend
 WHERE classid = 'pg_namespace'::regclass AND objid = 'fieldops'::regnamespace AND deptype = 'e'
   AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'fieldops');

-- it requires PostGIS
SELECT extname FROM pg_extension WHERE extname IN ('postgis', 'fieldops') ORDER BY 1;

-- the four roles exist and cannot log in
SELECT rolname, rolcanlogin, rolsuper FROM pg_roles WHERE rolname LIKE 'fieldops\_%' ORDER BY 1;

-- what the extension is made of, by kind
SELECT classid::regclass AS catalog, count(*)
  FROM pg_depend
 WHERE refclassid = 'pg_extension'::regclass
   AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'fieldops')
   AND deptype = 'e'
 GROUP BY 1 ORDER BY 1;

-- the module loads and reports the libraries it uses
SELECT (fieldops.library_info() ? 'libsodium') AS has_sodium,
       (fieldops.library_info() ->> 'openssl_runtime') LIKE 'OpenSSL 3%' AS openssl3,
       (fieldops.library_info() ->> 'preloaded')::boolean AS preloaded;

-- the settings of the launcher exist
-- (the receipt key file lives in the test's work directory: its name only)
SELECT name, regexp_replace(setting, '^/.*/', '.../') AS setting, context FROM pg_settings WHERE name LIKE 'fieldops.%' ORDER BY 1;

-- shared by the tests that follow: the SQLSTATE and message of a statement
-- that fails, so a catalogue of bad input reads as one table
CREATE SCHEMA regress;
GRANT USAGE ON SCHEMA regress TO PUBLIC;
CREATE FUNCTION regress.sqlerr(p_sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE p_sql;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;
GRANT EXECUTE ON FUNCTION regress.sqlerr(text) TO PUBLIC;
