--
-- tenancy: seen from the outside, a session of tenant A can neither read
-- nor change tenant B's rows through any table or function, a role without
-- grants can do nothing, and PUBLIC has no privilege on anything.
--
\set SHOW_CONTEXT never
SET datestyle = 'ISO, YMD';
SET timezone = 'UTC';
SELECT current_user AS superuser \gset
SELECT tenant_id AS acme FROM fieldops.tenant WHERE name = 'Acme Shanghai' \gset
SELECT tenant_id AS beta FROM fieldops.tenant WHERE name = 'Beta NYC' \gset

-- give Beta a row in every tenant table
SELECT fieldops.set_tenant(:beta, false) IS NOT NULL AS beta_chosen;
SELECT fieldops.upsert_region(:beta, 'NY', 'New York') AS ny \gset
SELECT fieldops.upsert_team(:beta, 'NY-SALES', 'NY sales', :ny) AS nyteam \gset
SELECT worker_id AS pat FROM fieldops.worker WHERE external_ref = 'NY1' \gset
SELECT device_id AS patphone FROM fieldops.register_device(:beta, 'beta-device-0001', :pat, 'ios') \gset
SELECT fieldops.upsert_customer(:beta, 'NY-C1', 'Deli on 5th', ST_SetSRID(ST_MakePoint(-73.98, 40.75), 4326),
                                p_owner_worker_id => :pat) AS nyc1 \gset
-- (Beta's fixes come from the fix test) a vehicle, a rate and a claim with its segments
SELECT fieldops.set_worker_vehicle(:beta, :pat, '2026-01-01', 'car');
SELECT fieldops.set_vehicle_rate(:beta, 'car', '2026-01-01', 0.67, 'USD') IS NOT NULL AS beta_rate;
SELECT (fieldops.vehicle_claim(:beta, :pat, '2026-11-13')).currency AS beta_claim;
-- a visit, a device key, a nonce and a signed photo with a perceptual hash,
-- for Beta and for Acme (the phone is simulated with the photo test's
-- signing functions)
CREATE FUNCTION pg_temp.photo_rows(p_tenant bigint, p_worker bigint, p_device bigint, p_customer bigint, p_seed text)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v_visit bigint;
    v_key bytea;
    v_m bytea;
    c geometry;
BEGIN
    SELECT geom INTO c FROM fieldops.customer WHERE tenant_id = p_tenant AND customer_id = p_customer;
    INSERT INTO fieldops.visit (tenant_id, worker_id, customer_id, checkin_at)
    VALUES (p_tenant, p_worker, p_customer, now() - interval '5 min') RETURNING visit_id INTO v_visit;
    v_key := fieldops.register_device_key(p_tenant, p_device, 'ed25519', photo_test.public_key('ed25519', sha256(p_seed::bytea)));
    v_m := fieldops.photo_manifest('ed25519', v_key, p_tenant, p_worker, p_device, v_visit, clock_timestamp(), ST_Y(c), ST_X(c),
                                   10, 1, sha256(p_seed::bytea || '\x01'), NULL, fieldops.issue_photo_nonce(p_tenant, p_device, v_visit));
    RETURN (SELECT verdict FROM fieldops.submit_photo(p_tenant, v_m, photo_test.sign('ed25519', sha256(p_seed::bytea), v_m), 42));
END
$$;
SELECT pg_temp.photo_rows(:beta, :pat, :patphone, :nyc1, 'beta key') AS beta_photo;
-- a trusted GNSS fix with a Wi-Fi scan and a serving cell, so that Beta's
-- radio map and replay fingerprints have rows
SELECT status, band FROM fieldops.ingest_fixes(:beta, '[{"device_uid": "fix-beta-0001", "recorded_at": "2026-11-13T10:05:00-05:00",
    "lat": 40.7501, "lon": -73.9801, "accuracy_m": 5.5, "provider": "gps",
    "wifi": [{"bssid": "00:1a:2b:3c:4d:01", "rssi_dbm": -51}, {"bssid": "00:1a:2b:3c:4d:02", "rssi_dbm": -63}, {"bssid": "00:1a:2b:3c:4d:03", "rssi_dbm": -70}],
    "cells": [{"mcc": 310, "mnc": 410, "lac": 7, "cid": 1234567, "serving": true}]}]');
SELECT fieldops.set_tenant(:acme, false) IS NOT NULL AS acme_chosen;
SELECT status, band FROM fieldops.ingest_fixes(:acme, '[{"device_uid": "fix-acme-0001", "recorded_at": "2026-11-11T10:05:07+08:00",
    "lat": 31.2305, "lon": 121.4738, "accuracy_m": 4.5, "provider": "gps",
    "wifi": [{"bssid": "00:1a:2b:3c:4d:11", "rssi_dbm": -55}, {"bssid": "00:1a:2b:3c:4d:12", "rssi_dbm": -66}, {"bssid": "00:1a:2b:3c:4d:13", "rssi_dbm": -72}],
    "cells": [{"mcc": 460, "mnc": 0, "lac": 6209, "cid": 7654321, "serving": true}]}]');
-- (the jobs test's radio_map runs moved the maps past fixes this old: start them over)
DELETE FROM fieldops.radio_map_state WHERE tenant_id IN (:acme, :beta);
SELECT r ->> 'aps' AS acme_aps, r ->> 'cells' AS acme_cells FROM fieldops.refresh_radio_map(:acme, now()) AS r;
SELECT fieldops.set_tenant(:beta, false) IS NOT NULL AS beta_chosen;
SELECT r ->> 'aps' AS beta_aps, r ->> 'cells' AS beta_cells FROM fieldops.refresh_radio_map(:beta, now()) AS r;
-- replays are found within a tenant only: an hour later Beta's phone
-- hears exactly the scan Acme's phone heard (no replay: another tenant's),
-- then exactly its own scan of an hour ago again (a replay)
SELECT f.idx, jsonb_path_query_array(f.reasons, '$[*].code') @> '["wifi_scan_replay"]' AS replay
  FROM fieldops.ingest_fixes(:beta, '[{"device_uid": "fix-beta-0001", "recorded_at": "2026-11-13T11:05:00-05:00",
    "lat": 40.7502, "lon": -73.9802, "accuracy_m": 5.1, "provider": "gps",
    "wifi": [{"bssid": "00:1a:2b:3c:4d:11", "rssi_dbm": -55}, {"bssid": "00:1a:2b:3c:4d:12", "rssi_dbm": -66}, {"bssid": "00:1a:2b:3c:4d:13", "rssi_dbm": -72}]},
   {"device_uid": "fix-beta-0001", "recorded_at": "2026-11-13T11:06:00-05:00",
    "lat": 40.7501, "lon": -73.9803, "accuracy_m": 5.3, "provider": "gps",
    "wifi": [{"bssid": "00:1a:2b:3c:4d:01", "rssi_dbm": -51}, {"bssid": "00:1a:2b:3c:4d:02", "rssi_dbm": -63}, {"bssid": "00:1a:2b:3c:4d:03", "rssi_dbm": -70}]}]') f
 ORDER BY f.idx;
-- an alert on one of each tenant's stored fixes (as a red score would raise)
INSERT INTO fieldops.fix_alert (tenant_id, fix_id, device_id, worker_id, recorded_at, score, reasons, model_version)
SELECT DISTINCT ON (f.tenant_id) f.tenant_id, f.fix_id, f.device_id, f.worker_id, f.recorded_at, 90,
       '[{"code": "os_mock", "points": 75.0}]', 'tenancy-test'
  FROM fieldops.fix f WHERE f.tenant_id IN (:acme, :beta) ORDER BY f.tenant_id, f.recorded_at;
-- and Acme a fresh event (its older ones were purged by the jobs test)
SELECT fieldops.set_tenant(:acme, false) IS NOT NULL AS acme_chosen;
SELECT fieldops.upsert_worker(:acme, 'E106', '黄敏 Huang Min') AS huang \gset
SELECT device_id AS huangphone FROM fieldops.register_device(:acme, 'acme-tenancy-0001', :huang, 'android') \gset
SELECT fieldops.upsert_customer(:acme, 'TEN-C1', '全家 FamilyMart', ST_SetSRID(ST_MakePoint(121.47, 31.23), 4326)) AS fm \gset
SELECT pg_temp.photo_rows(:acme, :huang, :huangphone, :fm, 'acme key') AS acme_photo;
-- pool rows of both tenants: an administrator of the default pool, and a
-- claim of a pooled customer (a claim counter)
SELECT fieldops.upsert_customer(:acme, 'TEN-C2', '罗森 Lawson', ST_SetSRID(ST_MakePoint(121.48, 31.23), 4326)) AS lawson \gset
SELECT fieldops.set_pool_admin(:acme, NULL, :huang) AS acme_pool_admin,
       fieldops.claim_customer(:acme, :lawson, :huang) AS acme_claim;
SELECT fieldops.set_tenant(:beta, false) IS NOT NULL AS beta_chosen;
SELECT fieldops.upsert_customer(:beta, 'TEN-NY2', 'Corner Deli', ST_SetSRID(ST_MakePoint(-73.99, 40.75), 4326)) AS deli \gset
SELECT fieldops.set_pool_admin(:beta, NULL, :pat) AS beta_pool_admin,
       fieldops.claim_customer(:beta, :deli, :pat) AS beta_claim;
SELECT count(*) AS pool_invariant_violations FROM fieldops.check_pool_invariants();
-- expense claims of both tenants: a finance approver, a delegation, a
-- policy, and a claim a manager approved (history, KPI day), for the
-- task test's worker and task of each tenant (its manager: NY1 or E100)
CREATE FUNCTION pg_temp.expense_rows(p_tenant bigint, p_manager_ref text, p_ref text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v_m bigint;
    v_c bigint;
    v_task bigint;
    v_claim bigint;
BEGIN
    PERFORM fieldops.set_tenant(p_tenant);
    SELECT worker_id INTO v_m FROM fieldops.worker WHERE tenant_id = p_tenant AND external_ref = p_manager_ref;
    SELECT task_id, assignee_worker_id INTO v_task, v_c FROM fieldops.task WHERE tenant_id = p_tenant AND external_ref = p_ref;
    UPDATE fieldops.worker SET manager_id = v_m WHERE tenant_id = p_tenant AND worker_id = v_c;   -- (no new worker id)
    PERFORM fieldops.set_finance_approver(p_tenant, v_m);
    PERFORM fieldops.set_expense_delegate(p_tenant, v_m, v_c, fieldops.tenant_local_date(p_tenant), fieldops.tenant_local_date(p_tenant));
    PERFORM fieldops.set_expense_policy(p_tenant, 'parking', 'day', 100, '2020-01-01');
    v_claim := fieldops.create_expense_claim(p_tenant, v_c, 'Tenancy claim');
    PERFORM fieldops.add_expense_line(p_tenant, v_claim, v_c, 'parking', fieldops.tenant_local_date(p_tenant), 12, p_task_id => v_task);
    PERFORM fieldops.submit_expense_claim(p_tenant, v_claim, v_c);
    RETURN fieldops.approve_expense_claim(p_tenant, v_claim, v_m, 'manager');
END
$$;
SELECT pg_temp.expense_rows(:acme, 'E100', 'TASK-TEN-A') AS acme_expense, pg_temp.expense_rows(:beta, 'NY1', 'TASK-TEN-B') AS beta_expense;
-- the KPI rollups of the days that changed, today and yesterday; then a deal (a change since)
CREATE FUNCTION pg_temp.kpi_rows(p_tenant bigint) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v jsonb;
BEGIN
    PERFORM fieldops.set_tenant(p_tenant);
    v := fieldops.kpi_refresh(p_tenant);
    PERFORM fieldops.upsert_deal(p_tenant, 'DEAL-TEN', c.customer_id, c.owner_worker_id, 1200, fieldops.tenant_local_date(p_tenant))
       FROM fieldops.customer c WHERE c.tenant_id = p_tenant AND c.owner_worker_id IS NOT NULL ORDER BY c.customer_id LIMIT 1;
    RETURN v ->> 'more';
END
$$;
SELECT pg_temp.kpi_rows(:acme) AS acme_kpi_more, pg_temp.kpi_rows(:beta) AS beta_kpi_more;
RESET ALL;

-- the tenant tables: every table of the extension with a tenant_id column
CREATE SCHEMA tenancy_test;
GRANT USAGE ON SCHEMA tenancy_test TO PUBLIC;
CREATE VIEW tenancy_test.tenant_tables AS
SELECT c.oid::regclass AS tbl
  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
 WHERE c.relnamespace = 'fieldops'::regnamespace AND c.relkind IN ('r', 'p')
   AND NOT c.relispartition                             -- partitions are read through their parent
   AND c.relname NOT IN ('tenant_access', 'job_run');   -- global tables (see citus_lint)
GRANT SELECT ON tenancy_test.tenant_tables TO PUBLIC;
SELECT count(*) AS tenant_tables FROM tenancy_test.tenant_tables;
-- Beta really has rows in each of them (so the checks below cannot pass vacuously)
CREATE TABLE tenancy_test.beta_rows AS
SELECT tbl::text, (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %s WHERE tenant_id = %s', tbl, :beta), false, true, '')))[1]::text::int AS n
  FROM tenancy_test.tenant_tables;
SELECT tbl, n > 0 AS beta_has_rows FROM tenancy_test.beta_rows ORDER BY tbl;

-- a function that counts, as the current user, the rows of each tenant table
-- by tenant: who sees what
CREATE FUNCTION tenancy_test.visible() RETURNS TABLE (tbl text, mine bigint, others bigint) LANGUAGE plpgsql AS $$
DECLARE
    t regclass;
BEGIN
    FOR t IN SELECT x.tbl FROM tenancy_test.tenant_tables x ORDER BY 1 LOOP
        tbl := t::text;
        EXECUTE format('SELECT count(*) FILTER (WHERE tenant_id = fieldops.current_tenant_id()),
                               count(*) FILTER (WHERE tenant_id IS DISTINCT FROM fieldops.current_tenant_id()) FROM %s', t)
           INTO mine, others;
        RETURN NEXT;
    END LOOP;
END $$;
GRANT EXECUTE ON FUNCTION tenancy_test.visible() TO PUBLIC;

--
-- Acme's application, in its own session (as a client would connect)
--
\c - acme_app
\set SHOW_CONTEXT never
-- before choosing a tenant it sees nothing at all (fail closed)
SELECT sum(mine + others) AS rows_without_tenant FROM tenancy_test.visible();
SELECT fieldops.set_tenant(:acme, false) IS NOT NULL AS acme_chosen;
-- it sees its own rows and none of Beta's, in every tenant table
SELECT tbl, mine > 0 AS sees_own, others AS sees_others FROM tenancy_test.visible() ORDER BY tbl;
-- direct writes are not allowed at all: changes go through the API
UPDATE fieldops.worker SET name = 'hacked' WHERE tenant_id = :beta;
DELETE FROM fieldops.customer;
INSERT INTO fieldops.region (tenant_id, code, name) VALUES (:beta, 'X', 'x');
SELECT tbl FROM tenancy_test.tenant_tables
 WHERE has_table_privilege(tbl, 'INSERT') OR has_table_privilege(tbl, 'UPDATE') OR has_table_privilege(tbl, 'DELETE');
-- the API refuses Beta's tenant id
SELECT fieldops.upsert_region(:beta, 'X', 'x');
SELECT fieldops.upsert_team(:beta, 'X', 'x');
SELECT fieldops.upsert_worker(:beta, 'X', 'x');
SELECT fieldops.set_work_schedule(:beta, :pat, NULL);
SELECT fieldops.worker_leave(:beta, :pat);
SELECT fieldops.reinstate_worker(:beta, :pat);
SELECT fieldops.register_device(:beta, 'beta-device-0001', :pat, 'ios');
SELECT fieldops.retire_device(:beta, :patphone);
SELECT fieldops.upsert_customer(:beta, 'NY-C1', 'x');
SELECT fieldops.outbox_fetch(:beta, 10);
SELECT fieldops.outbox_ack(:beta, ARRAY[1]);
SELECT fieldops.is_working_time(:beta, :pat, now());
-- and with its own tenant id, Beta's objects simply do not exist
SELECT fieldops.set_work_schedule(:acme, :pat, NULL);
SELECT fieldops.worker_leave(:acme, :pat);
SELECT fieldops.reinstate_worker(:acme, :pat);
SELECT fieldops.register_device(:acme, 'acme-device-0009', :pat, 'ios');
SELECT fieldops.retire_device(:acme, :patphone);
SELECT fieldops.upsert_team(:acme, 'X', 'x', :ny);
SELECT fieldops.upsert_region(:acme, 'X', 'x', :ny);
SELECT fieldops.upsert_worker(:acme, 'X', 'x', :nyteam);
SELECT fieldops.upsert_customer(:acme, 'X', 'x', p_owner_worker_id => :pat);
SELECT fieldops.is_working_time(:acme, :pat, now());
SELECT fieldops.tenant_setting(:beta, 'currency');
-- a device uid already used by Beta is a different device for Acme
SELECT status FROM fieldops.register_device(:acme, 'beta-device-0001',
    (SELECT worker_id FROM fieldops.worker WHERE external_ref = 'E100'), 'android');
SELECT count(*) AS acme_events_only FROM fieldops.outbox_fetch(:acme, 10000) WHERE tenant_id <> :acme;
-- it cannot escape its tenant, nor become another role
SELECT fieldops.set_tenant(:beta);
SET fieldops.tenant_id = '2';
SET ROLE fieldops_api;
SET ROLE fieldops_admin;
SET ROLE beta_app;
-- administrative functions are not its business
SELECT fieldops.create_tenant('x', 'UTC');
SELECT fieldops.alter_tenant(:beta, p_status => 'suspended');
SELECT fieldops.grant_tenant_access('acme_app', :beta);
SELECT fieldops.schedule_job('x', 'public.x', '1 hour');
SELECT fieldops.emit_event(:acme, 'x.y', 'x', 1);
SELECT fieldops.job_outbox_purge(:acme, '{}');
CALL fieldops.run_due_jobs();
SELECT count(*) FROM fieldops.job;

-- back as the superuser: Beta's rows are exactly as before
\c - :superuser
\set SHOW_CONTEXT never
SELECT tbl, (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %s WHERE tenant_id = %s', tbl, :beta), false, true, '')))[1]::text::int = n AS unchanged
  FROM tenancy_test.beta_rows ORDER BY tbl;
SELECT name, status, work_schedule IS NOT NULL AS has_schedule FROM fieldops.worker WHERE worker_id = :pat;
SELECT status, worker_id = :pat AS still_pats FROM fieldops.device WHERE device_id = :patphone;

--
-- Beta's application, symmetrically
--
\c - beta_app
\set SHOW_CONTEXT never
SELECT fieldops.set_tenant(:beta, false) IS NOT NULL AS beta_chosen;
SELECT tbl, others AS sees_others FROM tenancy_test.visible() WHERE others > 0;
SELECT count(*) AS workers, bool_and(tenant_id = :beta) AS all_beta FROM fieldops.worker;
SELECT fieldops.set_tenant(:acme);
\c - :superuser
\set SHOW_CONTEXT never

--
-- Defence in depth: SECURITY DEFINER functions run as fieldops_api, which
-- row-level security still confines to the chosen tenant.  Even a function
-- that forgot to filter by tenant would see one tenant only.
--
CREATE FUNCTION pg_temp.careless_count() RETURNS bigint LANGUAGE sql SECURITY DEFINER AS
    'SELECT count(*) FROM fieldops.worker';
ALTER FUNCTION pg_temp.careless_count() OWNER TO fieldops_api;
SELECT fieldops.set_tenant(:beta, false) IS NOT NULL AS beta_chosen;
SELECT pg_temp.careless_count() = (SELECT count(*) FROM fieldops.worker WHERE tenant_id = :beta) AS only_beta;
RESET ALL;
SELECT pg_temp.careless_count() AS without_tenant;
DROP FUNCTION pg_temp.careless_count();

--
-- The analyst reads its tenant and changes nothing
--
\c - acme_bi
\set SHOW_CONTEXT never
SELECT fieldops.set_tenant(:acme, false) IS NOT NULL AS acme_chosen;
SELECT tbl, others AS sees_others FROM tenancy_test.visible() WHERE others > 0;
SELECT count(*) > 0 AS reads_customers FROM fieldops.customer;
SELECT fieldops.upsert_region(:acme, 'X', 'x');
SELECT fieldops.outbox_fetch(:acme, 1);
SELECT fieldops.is_working_time(:acme, (SELECT worker_id FROM fieldops.worker WHERE external_ref = 'E100'), '2026-11-27 02:00+00');
SELECT fieldops.set_tenant(:beta);

--
-- The administrator sees every tenant
--
\c - ops_admin
SELECT count(DISTINCT tenant_id) AS tenants_seen FROM fieldops.worker;
SELECT count(*) > 0 AS sees_job_runs FROM fieldops.job_run;

--
-- A role without grants can do nothing, and PUBLIC has nothing
--
\c - nobody
SELECT count(*) FROM fieldops.worker;
SELECT fieldops.current_tenant_id();
\c - :superuser
\set SHOW_CONTEXT never
SELECT count(*) AS objects_nobody_can_use FROM (
    SELECT c.oid FROM pg_class c
     WHERE c.relnamespace = 'fieldops'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
       AND (has_table_privilege('nobody', c.oid, 'SELECT') OR has_table_privilege('nobody', c.oid, 'INSERT')
            OR has_table_privilege('nobody', c.oid, 'UPDATE') OR has_table_privilege('nobody', c.oid, 'DELETE'))
    UNION ALL
    SELECT p.oid FROM pg_proc p
     WHERE p.pronamespace = 'fieldops'::regnamespace AND has_function_privilege('nobody', p.oid, 'EXECUTE')) x;
SELECT has_schema_privilege('nobody', 'fieldops', 'USAGE') AS nobody_schema_usage;
-- PUBLIC is granted nothing on any object of the extension
-- (a NULL ACL means the defaults: owner only for relations, but EXECUTE
-- for PUBLIC on routines)
SELECT kind, name FROM (
    SELECT 'relation' AS kind, c.oid::regclass::text AS name, c.relacl AS acl, false AS null_means_public
      FROM pg_class c WHERE c.relnamespace = 'fieldops'::regnamespace
    UNION ALL
    SELECT 'routine', p.oid::regprocedure::text, p.proacl, true FROM pg_proc p WHERE p.pronamespace = 'fieldops'::regnamespace
    UNION ALL
    SELECT 'schema', n.nspname, n.nspacl, false FROM pg_namespace n WHERE n.nspname = 'fieldops'
) o
 WHERE (acl IS NULL AND null_means_public)
    OR EXISTS (SELECT 1 FROM aclexplode(acl) a WHERE a.grantee = 0)
 ORDER BY 1, 2;

-- every SECURITY DEFINER function the application may call checks the
-- tenant first, runs as fieldops_api, and has a pinned search_path (C ones
-- cannot be read: the known ones are listed and their check is shown next)
SELECT p.oid::regprocedure AS unchecked_definer
  FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
 WHERE p.pronamespace = 'fieldops'::regnamespace AND p.prosecdef
   AND ((l.lanname <> 'c' AND p.prosrc NOT LIKE '%PERFORM fieldops.require_tenant(p_tenant_id);%')
        OR (l.lanname = 'c' AND p.prosrc NOT IN ('fieldops_ingest_fixes'))
        OR p.proowner <> 'fieldops_api'::regrole
        OR NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search_path=%pg_temp'));
-- the C one checks the tenant before it reads anything (even an empty batch)
BEGIN;
SELECT fieldops.set_tenant(:acme, false) IS NOT NULL AS acme_chosen;
SELECT regress.sqlerr(format('SELECT fieldops.ingest_fixes(%s, %L)', :beta, '[]')) AS other_tenant;
ROLLBACK;

DROP SCHEMA tenancy_test CASCADE;
DROP ROLE acme_app, beta_app, saas_app, acme_bi, ops_admin, nobody;
DELETE FROM fieldops.tenant_access WHERE role_name NOT IN (SELECT rolname FROM pg_roles);
