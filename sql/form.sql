--
-- form: custom forms (low-code).  Definitions and their validation (a
-- catalogue of bad definitions, each with its message), versions
-- (submissions keep theirs), the validation catalogue of answers (each
-- field type with valid and invalid answers, every rule), conditions
-- (shown, hidden, required-when, sections), normalisation, submissions with
-- their context, corrections and client references, outbox events, bad
-- input of every function, tenancy and privileges, and two realistic forms
-- (an equipment inspection and a store audit, reused by the demo).
--
-- Ids come from sequences shared with other tests: the output shows
-- rules, paths, booleans and messages with ids masked (pg_temp.norm).
--
\set SHOW_CONTEXT never
SET datestyle = 'ISO, YMD';
SET timezone = 'UTC';

--
-- 1. Set-up: a tenant and its application role, three workers, two phones,
-- a shop, visits, and signed photos (accepted, under review, rejected,
-- another worker's, another visit's)
--
SELECT fieldops.create_tenant('Form Test Co', 'Asia/Shanghai') AS ft \gset
CREATE ROLE form_app IN ROLE fieldops_app;
SELECT fieldops.grant_tenant_access('form_app', :ft) IS NOT NULL AS granted;
SET ROLE form_app;
SELECT fieldops.set_tenant(:ft, false) IS NOT NULL AS ft_chosen;
SELECT fieldops.upsert_worker(:ft, 'F1', '赵磊 Zhao Lei') AS w1 \gset
SELECT fieldops.upsert_worker(:ft, 'F2', '孙丽 Sun Li') AS w2 \gset
SELECT fieldops.upsert_worker(:ft, 'F3', '周杰 Zhou Jie') AS w3 \gset
SELECT device_id AS d1 FROM fieldops.register_device(:ft, 'form-phone-1', :w1, 'android') \gset
SELECT device_id AS d2 FROM fieldops.register_device(:ft, 'form-phone-2', :w2, 'ios') \gset
SELECT fieldops.upsert_customer(:ft, 'FT-SHOP', '好德 Alldays 南京西路店', 'SRID=4326;POINT(121.4600 31.2290)') AS shop \gset
RESET ROLE;
-- visits come from the visit API; here they are written directly: F1 on
-- site now (v1) and in a second open visit (v1b), F2 on site (v2)
INSERT INTO fieldops.visit (tenant_id, worker_id, customer_id, checkin_at) VALUES (:ft, :w1, :shop, now() - interval '10 min')
RETURNING visit_id AS v1 \gset
INSERT INTO fieldops.visit (tenant_id, worker_id, customer_id, checkin_at) VALUES (:ft, :w1, :shop, now() - interval '5 min')
RETURNING visit_id AS v1b \gset
INSERT INTO fieldops.visit (tenant_id, worker_id, customer_id, checkin_at) VALUES (:ft, :w2, :shop, now() - interval '5 min')
RETURNING visit_id AS v2 \gset
-- tasks and work orders the submissions answer (fieldops.create_task, create_work_order)
SELECT fieldops.create_task(:ft, 'Cooler check', p_customer_id => :shop) AS task1 \gset
SELECT fieldops.create_task(:ft, 'Shelf check', p_customer_id => :shop) AS task2 \gset
SELECT fieldops.create_task(:ft, 'Closed store audit', p_customer_id => :shop) AS task3 \gset
SELECT fieldops.create_task(:ft, 'Open store audit', p_customer_id => :shop) AS task4 \gset
SELECT fieldops.create_work_order(:ft, :shop, 'Cooler service') AS wo1 \gset
SELECT fieldops.create_work_order(:ft, :shop, 'Cooler inspection') AS wo2 \gset

-- a phone signs and uploads a photo (photo_test comes from the photo test)
CREATE FUNCTION pg_temp.photo(p_tenant bigint, p_worker bigint, p_device bigint, p_seed text, p_visit bigint, p_image text,
                              p_counter bigint, p_far boolean DEFAULT false, p_mock boolean DEFAULT false)
RETURNS TABLE (photo_id bigint, verdict text) LANGUAGE plpgsql AS $$
DECLARE
    v_m bytea;
BEGIN
    v_m := fieldops.photo_manifest('ed25519', sha256(photo_test.public_key('ed25519', sha256(p_seed::bytea))), p_tenant, p_worker,
                                   p_device, p_visit, clock_timestamp(), CASE WHEN p_far THEN 31.30 ELSE 31.2290 END, 121.4600,
                                   8, p_counter, sha256(p_image::bytea), NULL, fieldops.issue_photo_nonce(p_tenant, p_device, p_visit),
                                   false, p_mock, false);
    RETURN QUERY SELECT s.photo_id, s.verdict FROM fieldops.submit_photo(p_tenant, v_m, photo_test.sign('ed25519', sha256(p_seed::bytea), v_m)) s;
END
$$;
-- answers with photo ids: @name stands for the id of the photo called name,
-- @sha:name for the SHA-256 of its image
CREATE TEMP TABLE photo_ids (name text PRIMARY KEY, photo_id bigint, image text);
GRANT ALL ON photo_ids TO PUBLIC;
CREATE FUNCTION pg_temp.ans(p_answers text) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT * FROM photo_ids ORDER BY length(name) DESC LOOP
        p_answers := replace(p_answers, '"@sha:' || r.name || '"', '"' || encode(sha256(r.image::bytea), 'hex') || '"');
        p_answers := replace(p_answers, '"@' || r.name || '"', r.photo_id::text);
    END LOOP;
    RETURN p_answers::jsonb;
END
$$;
-- messages with the ids and dates that change from run to run masked
CREATE FUNCTION pg_temp.norm(p text) RETURNS text LANGUAGE sql AS $$
    SELECT regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(p,
               '(photo|visit|worker|p_worker_id|p_visit_id|p_supersedes|p_tenant_id|submission|tenant|form id) [0-9]+', '\1 #', 'g'),
               'transaction \([0-9]+\)', 'transaction (#)'), 'of submission # \([0-9]+,', 'of submission # (#,'),
               'today \([0-9-]+\)', 'today (…)', 'g'), 'left on [0-9-]+', 'left on …', 'g')
$$;
-- a definition define_form() refuses: the SQLSTATE and the message
CREATE FUNCTION pg_temp.bad(p_definition text) RETURNS text LANGUAGE sql AS $$
    SELECT regress.sqlerr(format('SELECT fieldops.define_form(%s, %L, %L, %L)', fieldops.current_tenant_id(), 'BAD', 'Bad form', p_definition))
$$;

SET ROLE form_app;
SELECT fieldops.set_tenant(:ft, false) IS NOT NULL AS ft_chosen;
SELECT fieldops.register_device_key(:ft, :d1, 'ed25519', photo_test.public_key('ed25519', sha256('form key 1'::bytea))) IS NOT NULL AS key1,
       fieldops.register_device_key(:ft, :d2, 'ed25519', photo_test.public_key('ed25519', sha256('form key 2'::bytea))) IS NOT NULL AS key2;
INSERT INTO photo_ids
SELECT x.name, p.photo_id, x.image
  FROM (VALUES ('ok', :w1, :d1, 'form key 1', :v1, 'image ok', 1, false, false),
               ('ok2', :w1, :d1, 'form key 1', :v1, 'image ok2', 2, false, false),
               ('ok3', :w1, :d1, 'form key 1', :v1, 'image ok3', 3, false, false),
               ('ok4', :w1, :d1, 'form key 1', :v1, 'image ok4', 4, false, false),
               ('ok5', :w1, :d1, 'form key 1', :v1, 'image ok5', 5, false, false),
               ('review', :w1, :d1, 'form key 1', :v1, 'image mocked', 6, false, true),
               ('rejected', :w1, :d1, 'form key 1', :v1, 'image far away', 7, true, false),
               ('othervisit', :w1, :d1, 'form key 1', :v1b, 'image other visit', 8, false, false),
               ('w2', :w2, :d2, 'form key 2', :v2, 'image of F2', 1, false, false))
       AS x(name, worker, device, seed, visit, image, counter, far, mock),
       LATERAL pg_temp.photo(:ft, x.worker, x.device, x.seed, x.visit, x.image, x.counter, x.far, x.mock) p;
SELECT i.name, p.verdict, p.worker_id = :w1 AS by_f1
  FROM photo_ids i JOIN fieldops.photo p ON p.tenant_id = :ft AND p.photo_id = i.photo_id ORDER BY p.photo_id;
INSERT INTO photo_ids VALUES ('never', 9000000000000000, 'an image nobody uploaded');

--
-- 2. Definitions: a bad definition is refused with 22023 and the JSON path
-- of the first problem (22004 for NULL); nothing is stored
--
SELECT pg_temp.bad(d) AS refused
  FROM (VALUES (1, NULL),
    (2, '[]'),
    (3, '{}'),
    (4, '{"fields": []}'),
    (5, '{"fields": [{"key": "a", "type": "yes_no", "label": "A"}], "title": "x"}'),
    (6, '{"fields": [1]}'),
    (7, '{"fields": [{"type": "text", "label": "A"}]}'),
    (8, '{"fields": [{"key": "Temp", "type": "text", "label": "A"}]}'),
    (9, '{"fields": [{"key": "a", "type": "text", "label": "A"}, {"key": "b", "type": "text", "label": "B"}, {"key": "a", "type": "number", "label": "A2"}]}'),
    (10, '{"fields": [{"key": "a", "type": "rating", "label": "A"}]}'),
    (11, '{"fields": [{"key": "a", "type": "text"}]}'),
    (12, '{"fields": [{"key": "a", "type": "text", "label": "   "}]}'),
    (13, '{"fields": [{"key": "a", "type": "number", "label": "A", "maxx": 3}]}'),
    (14, '{"fields": [{"key": "a", "type": "text", "label": "A", "options": []}]}'),
    (15, '{"fields": [{"key": "a", "type": "text", "label": "A", "required": "yes"}]}'),
    (16, '{"fields": [{"key": "a", "type": "yes_no", "label": "A"}, {"key": "b", "type": "text", "label": "B", "required": true, "required_if": {"field": "a", "equals": true}}]}'),
    (17, '{"fields": [{"key": "a", "type": "text", "label": "A", "min_length": 10, "max_length": 5}]}'),
    (18, '{"fields": [{"key": "a", "type": "text", "label": "A", "min_length": 3000}]}'),
    (19, '{"fields": [{"key": "a", "type": "text", "label": "A", "max_length": 0}]}'),
    (20, '{"fields": [{"key": "a", "type": "text", "label": "A", "pattern": "([a-z"}]}'),
    (21, '{"fields": [{"key": "a", "type": "number", "label": "A", "min": 10, "max": 5}]}'),
    (22, '{"fields": [{"key": "a", "type": "number", "label": "A", "integer": true, "decimals": 2}]}'),
    (23, '{"fields": [{"key": "a", "type": "number", "label": "A", "decimals": 11}]}'),
    (24, '{"fields": [{"key": "a", "type": "number", "label": "A", "min": "0"}]}'),
    (25, '{"fields": [{"key": "a", "type": "number", "label": "A", "unit": ""}]}'),
    (26, '{"fields": [{"key": "a", "type": "single_choice", "label": "A"}]}'),
    (27, '{"fields": [{"key": "a", "type": "yes_no", "label": "A"}, {"key": "b", "type": "yes_no", "label": "B"}, {"key": "c", "type": "yes_no", "label": "C"}, {"key": "d", "type": "single_choice", "label": "D", "options": []}]}'),
    (28, '{"fields": [{"key": "a", "type": "single_choice", "label": "A", "options": ["x", "y"]}]}'),
    (29, '{"fields": [{"key": "a", "type": "single_choice", "label": "A", "options": [{"label": "X"}]}]}'),
    (30, '{"fields": [{"key": "a", "type": "single_choice", "label": "A", "options": [{"value": "x", "label": "X"}, {"value": "x", "label": "X again"}]}]}'),
    (31, '{"fields": [{"key": "a", "type": "single_choice", "label": "A", "options": [{"value": "x"}]}]}'),
    (32, '{"fields": [{"key": "a", "type": "single_choice", "label": "A", "options": [{"value": "x", "label": "X", "color": "red"}]}]}'),
    (33, '{"fields": [{"key": "a", "type": "multi_choice", "label": "A", "options": [{"value": "x", "label": "X"}, {"value": "y", "label": "Y"}], "max_selections": 3}]}'),
    (34, '{"fields": [{"key": "a", "type": "multi_choice", "label": "A", "options": [{"value": "x", "label": "X"}, {"value": "y", "label": "Y"}], "min_selections": 2, "max_selections": 1}]}'),
    (35, '{"fields": [{"key": "a", "type": "date", "label": "A", "min": "2026-02-30"}]}'),
    (36, '{"fields": [{"key": "a", "type": "date", "label": "A", "min": "2026-12-01", "max": "2026-11-01"}]}'),
    (37, '{"fields": [{"key": "a", "type": "date", "label": "A", "max": "now"}]}'),
    (38, '{"fields": [{"key": "a", "type": "datetime", "label": "A", "min": "2026-11-27T09:30:00"}]}'),
    (39, '{"fields": [{"key": "a", "type": "time", "label": "A", "max": "25:00"}]}'),
    (40, '{"fields": [{"key": "a", "type": "time", "label": "A", "min": "18:00", "max": "08:00"}]}'),
    (41, '{"fields": [{"key": "a", "type": "photo", "label": "A", "min_count": 2}]}'),
    (42, '{"fields": [{"key": "a", "type": "photo", "label": "A", "max_count": 21}]}'),
    (43, '{"fields": [{"key": "a", "type": "location", "label": "A", "max_accuracy_m": 0}]}'),
    (44, '{"fields": [{"key": "a", "type": "checklist", "label": "A", "items": []}]}'),
    (45, '{"fields": [{"key": "a", "type": "checklist", "label": "A", "items": [{"key": "x", "label": "X"}, {"key": "x", "label": "X"}]}]}'),
    (46, '{"fields": [{"key": "a", "type": "checklist", "label": "A", "items": [{"key": "x", "label": "X", "mandatory": true}]}]}'),
    (47, '{"fields": [{"key": "a", "type": "checklist", "label": "A", "items": [{"key": "x", "label": "X", "required": 1}]}]}'),
    (48, '{"fields": [{"key": "a", "type": "signature", "label": "A", "max_kb": 2048}]}'),
    (49, '{"fields": [{"key": "a", "type": "yes_no", "label": "A", "section": "s"}]}'),
    (50, '{"sections": [{"key": "s", "label": "S"}, {"key": "t", "label": "T"}], "fields": [{"key": "a", "type": "yes_no", "label": "A", "section": "s"}]}'),
    (51, '{"sections": [{"key": "s", "label": "S"}, {"key": "s", "label": "S2"}], "fields": [{"key": "a", "type": "yes_no", "label": "A", "section": "s"}]}'),
    (52, '{"sections": [{"key": "s", "label": "S", "show_if": {"field": "b", "equals": true}}], "fields": [{"key": "a", "type": "yes_no", "label": "A", "section": "s"}, {"key": "b", "type": "yes_no", "label": "B", "section": "s"}]}'),
    (53, '{"sections": {"s": "S"}, "fields": [{"key": "a", "type": "yes_no", "label": "A"}]}'),
    (54, '{"fields": [{"key": "a", "type": "yes_no", "label": "A"}, {"key": "b", "type": "text", "label": "B", "show_if": "a = true"}]}'),
    (55, '{"fields": [{"key": "a", "type": "yes_no", "label": "A"}, {"key": "b", "type": "text", "label": "B", "show_if": {"field": "x", "equals": true}}]}'),
    (56, '{"fields": [{"key": "a", "type": "text", "label": "A", "show_if": {"field": "b", "equals": true}}, {"key": "b", "type": "yes_no", "label": "B"}]}'),
    (57, '{"fields": [{"key": "a", "type": "yes_no", "label": "A", "required_if": {"field": "a", "equals": true}}]}'),
    (58, '{"fields": [{"key": "a", "type": "yes_no", "label": "A"}, {"key": "b", "type": "text", "label": "B", "show_if": {"field": "a"}}]}'),
    (59, '{"fields": [{"key": "a", "type": "number", "label": "A"}, {"key": "b", "type": "text", "label": "B", "show_if": {"field": "a", "gt": 1, "lt": 5}}]}'),
    (60, '{"fields": [{"key": "a", "type": "single_choice", "label": "A", "options": [{"value": "x", "label": "X"}]}, {"key": "b", "type": "text", "label": "B", "show_if": {"field": "a", "gt": "x"}}]}'),
    (61, '{"fields": [{"key": "a", "type": "single_choice", "label": "A", "options": [{"value": "x", "label": "X"}, {"value": "y", "label": "Y"}]}, {"key": "b", "type": "text", "label": "B", "show_if": {"field": "a", "equals": "z"}}]}'),
    (62, '{"fields": [{"key": "a", "type": "number", "label": "A"}, {"key": "b", "type": "text", "label": "B", "show_if": {"field": "a", "in": []}}]}'),
    (63, '{"fields": [{"key": "a", "type": "number", "label": "A"}, {"key": "b", "type": "text", "label": "B", "show_if": {"field": "a", "in": [1, "2"]}}]}'),
    (64, '{"fields": [{"key": "a", "type": "checklist", "label": "A", "items": [{"key": "x", "label": "X"}]}, {"key": "b", "type": "text", "label": "B", "show_if": {"field": "a", "checked": "y"}}]}'),
    (65, '{"fields": [{"key": "a", "type": "photo", "label": "A"}, {"key": "b", "type": "text", "label": "B", "show_if": {"field": "a", "answered": "yes"}}]}'),
    (66, '{"fields": [{"key": "a", "type": "date", "label": "A"}, {"key": "b", "type": "text", "label": "B", "show_if": {"field": "a", "lt": "tomorrow"}}]}'),
    (67, '{"fields": [{"key": "a", "type": "yes_no", "label": "A"}, {"key": "b", "type": "text", "label": "B", "show_if": {"all": []}}]}'),
    (68, '{"fields": [{"key": "a", "type": "yes_no", "label": "A"}, {"key": "b", "type": "text", "label": "B", "show_if": {"any": [{"field": "a", "equals": true}], "field": "a"}}]}'),
    (69, '{"fields": [{"key": "a", "type": "yes_no", "label": "A"}, {"key": "b", "type": "text", "label": "B", "show_if": {"not": {"not": {"not": {"not": {"not": {"not": {"not": {"not": {"not": {"field": "a", "equals": true}}}}}}}}}}}]}'),
    (70, '{"fields": [{"key": "a", "type": "yes_no", "label": "A"}, {"key": "b", "type": "text", "label": "B", "show_if": {"all": [{"field": "a", "equals": true}, {"any": [{"field": "a", "equals": 1}]}]}}]}'),
    (71, '{"fields": [{"key": "a", "type": "yes_no", "label": "A"}], "description": 5}'),
    (72, '{"fields": [{"key": "a", "type": "yes_no", "label": "A", "ui": "wide"}]}'),
    (73, (SELECT jsonb_build_object('fields', jsonb_agg(jsonb_build_object('key', 'f' || i, 'type', 'yes_no', 'label', 'F' || i)))::text
            FROM generate_series(1, 501) i))
  ) AS t(n, d) ORDER BY n;
SELECT count(*) AS bad_forms_stored FROM fieldops.form WHERE tenant_id = :ft;

--
-- 3. Versions: a new version only when the definition changes; old
-- versions are never edited; a submission keeps the version it was made
-- against
--
SELECT fieldops.define_form(:ft, 'DAILY', 'Daily check', '{"fields": [
    {"key": "ok", "type": "yes_no", "label": "All fine", "required": true},
    {"key": "km", "type": "number", "label": "Odometer", "unit": "km", "integer": true, "min": 0}]}') AS v1;
-- the same definition again (other key order, other spacing): still version 1, nothing written
SELECT fieldops.define_form(:ft, 'DAILY', 'Daily check', '{"fields": [{"label": "All fine", "required": true, "type": "yes_no", "key": "ok"},
    {"min": 0, "integer": true, "unit": "km", "label": "Odometer", "type": "number", "key": "km"}]}') AS same_again;
-- a submission against version 1
SELECT fieldops.submit_form(:ft, 'DAILY', 1, :w1, '{"ok": true, "km": 120345}') AS daily_v1 \gset
-- version 2: the odometer is gone, a note is required when not fine
SELECT fieldops.define_form(:ft, 'DAILY', 'Daily check', '{"fields": [
    {"key": "ok", "type": "yes_no", "label": "All fine", "required": true},
    {"key": "note", "type": "text", "label": "What is wrong", "show_if": {"field": "ok", "equals": false}, "required": true}]}') AS v2;
-- a new name alone changes no version
SELECT fieldops.define_form(:ft, 'DAILY', 'Daily vehicle check', '{"fields": [
    {"key": "ok", "type": "yes_no", "label": "All fine", "required": true},
    {"key": "note", "type": "text", "label": "What is wrong", "show_if": {"field": "ok", "equals": false}, "required": true}]}') AS renamed;
SELECT code, name, current_version FROM fieldops.form WHERE tenant_id = :ft AND code = 'DAILY';
SELECT version, field_count, definition -> 'fields' -> 1 ->> 'key' AS second_field
  FROM fieldops.form_version v JOIN fieldops.form f USING (tenant_id, form_id)
 WHERE f.tenant_id = :ft AND f.code = 'DAILY' ORDER BY version;
-- reading: the current version, or a given one
SELECT name, version, current_version, field_count, definition -> 'fields' -> 1 ->> 'key' AS second_field FROM fieldops.get_form(:ft, 'DAILY');
SELECT name, version, current_version, field_count, definition -> 'fields' -> 1 ->> 'key' AS second_field FROM fieldops.get_form(:ft, 'DAILY', 1);
-- the odometer answer is valid against version 1, unknown to version 2 (which wants a note)
SELECT 1 AS version, * FROM fieldops.check_form_answers(:ft, 'DAILY', 1, '{"ok": false, "km": 120400}')
UNION ALL
SELECT 2, * FROM fieldops.check_form_answers(:ft, 'DAILY', 2, '{"ok": false, "km": 120400}')
UNION ALL
SELECT NULL, * FROM fieldops.check_form_answers(:ft, 'DAILY', NULL, '{"ok": false, "note": "brake light"}');
SELECT fieldops.submit_form(:ft, 'DAILY', 1, :w1, '{"ok": false, "km": 120400}') AS daily_v1_late \gset
SELECT fieldops.submit_form(:ft, 'DAILY', NULL, :w1, '{"ok": false, "note": "brake light"}') AS daily_v2 \gset
SELECT submission_id = :daily_v1 AS first, version, answers FROM fieldops.form_submission
 WHERE tenant_id = :ft AND submission_id IN (:daily_v1, :daily_v1_late, :daily_v2) ORDER BY submission_id;
-- old versions and submissions are never edited, not even by the API's owner
SELECT r AS role, has_table_privilege(r, 'fieldops.form_version', 'UPDATE') AS update_versions,
       has_table_privilege(r, 'fieldops.form_version', 'DELETE') AS delete_versions,
       has_table_privilege(r, 'fieldops.form_submission', 'UPDATE') AS update_submissions,
       has_table_privilege(r, 'fieldops.form_submission', 'DELETE') AS delete_submissions
  FROM unnest(ARRAY['fieldops_app', 'fieldops_analyst', 'fieldops_api', 'fieldops_admin']) AS r;

--
-- 4. The validation catalogue: every field type, valid and invalid answers,
-- every rule.  No field is required here (required: section 5); each case
-- lists its errors, or (valid)
--
SELECT fieldops.define_form(:ft, 'CATALOGUE', 'Every field type', '{"fields": [
    {"key": "t_plain", "type": "text", "label": "Plain text"},
    {"key": "t_rules", "type": "text", "label": "Code", "min_length": 4, "max_length": 10, "pattern": "[A-Z]{2}-[0-9]+"},
    {"key": "n_dec", "type": "number", "label": "Temperature", "min": -20, "max": 120, "decimals": 1, "unit": "°C"},
    {"key": "n_int", "type": "number", "label": "Count", "integer": true, "min": 0},
    {"key": "sc", "type": "single_choice", "label": "State", "options": [{"value": "ok", "label": "OK"}, {"value": "worn", "label": "Worn"}, {"value": "broken", "label": "Broken"}]},
    {"key": "mc", "type": "multi_choice", "label": "Parts", "min_selections": 2, "max_selections": 3,
     "options": [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}, {"value": "c", "label": "C"}, {"value": "d", "label": "D"}]},
    {"key": "d", "type": "date", "label": "Installed on", "min": "2026-01-01", "max": "today"},
    {"key": "tm", "type": "time", "label": "Start time", "min": "08:00", "max": "18:00"},
    {"key": "dt", "type": "datetime", "label": "Fault seen at", "min": "2026-01-01T00:00:00+08:00", "max": "now"},
    {"key": "yn", "type": "yes_no", "label": "Working"},
    {"key": "ph", "type": "photo", "label": "Photo"},
    {"key": "ph3", "type": "photo", "label": "Photos", "min_count": 2, "max_count": 3, "allow_review": false},
    {"key": "loc", "type": "location", "label": "Position", "max_accuracy_m": 50},
    {"key": "loc_any", "type": "location", "label": "Any position"},
    {"key": "cl", "type": "checklist", "label": "Safety", "items": [
        {"key": "helmet", "label": "Helmet", "required": true},
        {"key": "gloves", "label": "Gloves", "note_when_unchecked": true},
        {"key": "goggles", "label": "Goggles"}]},
    {"key": "sig", "type": "signature", "label": "Signature", "max_kb": 1}]}') AS catalogue_version;
-- (the helmet is a required item of the checklist: the cases answer it,
-- unless they are about the checklist)
CREATE TEMP TABLE cat_case (n serial, what text, answers text);
INSERT INTO cat_case (what, answers) VALUES
    ('nothing answered', '{}'),
    ('checklist: nothing answered, a required item', '{"cl": null}'),
    ('null, blank and [] are no answer', '{"t_plain": null, "t_rules": "   ", "mc": [], "ph3": []}'),
    ('text: not a string', '{"t_plain": 123}'),
    ('text: too short, wrong format', '{"t_rules": "AB"}'),
    ('text: too long', '{"t_rules": "AB-12345678"}'),
    ('text: lower case does not match', '{"t_rules": "ab-12"}'),
    ('text: valid (trimmed)', '{"t_plain": "  hello  ", "t_rules": " AB-12 "}'),
    ('number: a string', '{"n_dec": "12"}'),
    ('number: above max', '{"n_dec": 130}'),
    ('number: below min', '{"n_dec": -30.5}'),
    ('number: too many decimals', '{"n_dec": 12.25}'),
    ('number: trailing zeros are fine', '{"n_dec": 12.50, "n_int": 3.0}'),
    ('number: not whole, negative', '{"n_int": -1.5}'),
    ('single choice: not a string', '{"sc": 1}'),
    ('single choice: not an option', '{"sc": "new"}'),
    ('single choice: valid', '{"sc": "worn"}'),
    ('multi choice: not an array', '{"mc": "a"}'),
    ('multi choice: too few', '{"mc": ["a"]}'),
    ('multi choice: too many', '{"mc": ["a", "b", "c", "d"]}'),
    ('multi choice: unknown, duplicate, not a string', '{"mc": ["a", "x", "a", 1]}'),
    ('multi choice: valid', '{"mc": ["d", "a"]}'),
    ('date: bad month', '{"d": "2026-13-01"}'),
    ('date: no such day', '{"d": "2026-02-30"}'),
    ('date: other format', '{"d": "27/11/2026"}'),
    ('date: before min', '{"d": "2025-12-31"}'),
    ('date: after today', '{"d": "2999-01-01"}'),
    ('date: valid, leap day', '{"d": "2026-02-28"}'),
    ('time: one-digit hour', '{"tm": "7:59"}'),
    ('time: 24:00', '{"tm": "24:00"}'),
    ('time: before min', '{"tm": "07:59"}'),
    ('time: after max', '{"tm": "18:00:01"}'),
    ('time: valid', '{"tm": "18:00"}'),
    ('datetime: no offset', '{"dt": "2026-06-01T12:00:00"}'),
    ('datetime: before min (offsets count)', '{"dt": "2025-12-31T23:59:59+08:00"}'),
    ('datetime: after now', '{"dt": "2999-01-01T00:00:00Z"}'),
    ('datetime: at min exactly, in UTC', '{"dt": "2025-12-31T16:00:00Z"}'),
    ('yes/no: a string', '{"yn": "yes"}'),
    ('yes/no: a number', '{"yn": 1}'),
    ('yes/no: valid', '{"yn": false}'),
    ('photo: not a reference', '{"ph": "abc"}'),
    ('photo: id 0', '{"ph": 0}'),
    ('photo: never uploaded (id and hash)', '{"ph3": ["@never", "@sha:never"]}'),
    ('photo: rejected', '{"ph": "@rejected"}'),
    ('photo: under review is fine by default', '{"ph": "@review"}'),
    ('photo: by its image''s hash', '{"ph": "@sha:ok"}'),
    ('photo: one too many', '{"ph": ["@ok", "@ok2"]}'),
    ('photos: too few', '{"ph3": ["@ok"]}'),
    ('photos: under review not allowed', '{"ph3": ["@ok", "@review"]}'),
    ('photos: the same photo twice', '{"ph3": ["@ok", "@sha:ok"]}'),
    ('photos: too many', '{"ph3": ["@ok", "@ok2", "@ok3", "@ok4"]}'),
    ('photos: valid', '{"ph3": ["@ok", "@ok2", "@ok3"]}'),
    ('location: not an object', '{"loc_any": "31.2,121.4"}'),
    ('location: out of range', '{"loc_any": {"lat": 91, "lon": -181}}'),
    ('location: strings, extra key', '{"loc_any": {"lat": "31.2", "lon": 121.4, "alt": 5}}'),
    ('location: 0, 0', '{"loc_any": {"lat": 0, "lon": 0}}'),
    ('location: accuracy missing', '{"loc": {"lat": 31.229, "lon": 121.46}}'),
    ('location: too imprecise', '{"loc": {"lat": 31.229, "lon": 121.46, "accuracy_m": 80}}'),
    ('location: negative accuracy', '{"loc": {"lat": 31.229, "lon": 121.46, "accuracy_m": -1}}'),
    ('location: valid', '{"loc": {"lat": 31.229, "lon": 121.46, "accuracy_m": 12.5}, "loc_any": {"lat": -33.86, "lon": 151.21}}'),
    ('checklist: not an array', '{"cl": {"helmet": true}}'),
    ('checklist: required item unchecked', '{"cl": [{"item": "helmet", "checked": false}]}'),
    ('checklist: required item missing, unknown item', '{"cl": [{"item": "boots", "checked": true}]}'),
    ('checklist: unchecked without the note it needs', '{"cl": [{"item": "helmet", "checked": true}, {"item": "gloves", "checked": false, "note": "  "}]}'),
    ('checklist: malformed answers', '{"cl": ["helmet", {"item": "helmet"}, {"item": "goggles", "checked": true, "note": 5}, {"item": "gloves", "checked": true, "by": "me"}]}'),
    ('checklist: an item twice', '{"cl": [{"item": "helmet", "checked": true}, {"item": "helmet", "checked": true}]}'),
    ('checklist: note too long', '{"cl": [{"item": "helmet", "checked": true, "note": "' || repeat('x', 1001) || '"}]}'),
    ('checklist: valid', '{"cl": [{"item": "gloves", "checked": false, "note": "torn, replaced"}, {"item": "helmet", "checked": true}]}'),
    ('signature: not an object', '{"sig": "Li Na"}'),
    ('signature: no signer, not base64', '{"sig": {"signer": " ", "image": "not base64!"}}'),
    ('signature: too big, extra key, bad time', '{"sig": {"signer": "李娜", "image": "' || replace(encode(convert_to(repeat('x', 1100), 'UTF8'), 'base64'), E'\n', '') || '", "signed_at": "yesterday", "role": "manager"}}'),
    ('signature: valid data URL', '{"sig": {"signer": "李娜 Li Na", "image": "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==", "signed_at": "2026-11-27T10:15:00+08:00"}}'),
    ('unknown keys', '{"t_plain": "x", "colour": "red", "Ph": 1}');
SELECT c.n, c.what, coalesce(e.path, '(valid)') AS path, e.rule, pg_temp.norm(e.message) AS message
  FROM cat_case c
  LEFT JOIN LATERAL fieldops.check_form_answers(:ft, 'CATALOGUE', NULL,
                  '{"cl": [{"item": "helmet", "checked": true}]}' || pg_temp.ans(c.answers)) WITH ORDINALITY AS e(path, rule, message, o) ON true
 ORDER BY c.n, e.o;
-- the context rules of photos apply when the worker and the visit are known
-- (check_form_answers with them, and submit_form always)
SELECT coalesce(e.path, '(valid)') AS path, e.rule, pg_temp.norm(e.message) AS message, x.what
  FROM (VALUES ('F2''s photo, no context', NULL::bigint, NULL::bigint, '{"ph": "@w2"}'),
               ('F2''s photo, F1 submits', :w1, NULL, '{"ph": "@w2"}'),
               ('F1''s photo of another visit, for v1', :w1, :v1, '{"ph": "@othervisit"}'),
               ('F1''s photo of that visit, for it', :w1, :v1b, '{"ph": "@othervisit"}'),
               ('a photo of visit v1, for v1', :w1, :v1, '{"ph": "@ok"}')) AS x(what, worker, visit, answers)
  LEFT JOIN LATERAL fieldops.check_form_answers(:ft, 'CATALOGUE', NULL,
                  '{"cl": [{"item": "helmet", "checked": true}]}' || pg_temp.ans(x.answers), x.worker, x.visit) e ON true;

--
-- 5. Conditions.  Every conditional field of COND is required, so the
-- required errors of a case list exactly the conditional fields it shows.
-- A comparison with an unanswered field is false ({"answered": false} is
-- true for it); an invalid answer counts as unanswered.
--
SELECT fieldops.define_form(:ft, 'COND', 'Conditions', '{
  "sections": [{"key": "extra", "label": "Extra", "show_if": {"field": "yn", "equals": true}}],
  "fields": [
    {"key": "a", "type": "single_choice", "label": "A", "options": [{"value": "x", "label": "X"}, {"value": "y", "label": "Y"}, {"value": "z", "label": "Z"}]},
    {"key": "n", "type": "number", "label": "N"},
    {"key": "d", "type": "date", "label": "D"},
    {"key": "t", "type": "time", "label": "T"},
    {"key": "dtt", "type": "datetime", "label": "DT"},
    {"key": "m", "type": "multi_choice", "label": "M", "options": [{"value": "p", "label": "P"}, {"value": "q", "label": "Q"}]},
    {"key": "cl", "type": "checklist", "label": "CL", "items": [{"key": "i1", "label": "I1"}, {"key": "i2", "label": "I2"}]},
    {"key": "yn", "type": "yes_no", "label": "YN"},
    {"key": "txt", "type": "text", "label": "TXT"},
    {"key": "eq_x", "type": "text", "label": "a = x", "required": true, "show_if": {"field": "a", "equals": "x"}},
    {"key": "ne_x", "type": "text", "label": "a <> x", "required": true, "show_if": {"field": "a", "not_equals": "x"}},
    {"key": "in_xy", "type": "text", "label": "a in x, y", "required": true, "show_if": {"field": "a", "in": ["x", "y"]}},
    {"key": "nin_xy", "type": "text", "label": "a not in x, y", "required": true, "show_if": {"field": "a", "not_in": ["x", "y"]}},
    {"key": "n_gt", "type": "text", "label": "n > 10", "required": true, "show_if": {"field": "n", "gt": 10}},
    {"key": "n_gte", "type": "text", "label": "n >= 10", "required": true, "show_if": {"field": "n", "gte": 10}},
    {"key": "n_lt", "type": "text", "label": "n < 10", "required": true, "show_if": {"field": "n", "lt": 10}},
    {"key": "n_lte", "type": "text", "label": "n <= 10", "required": true, "show_if": {"field": "n", "lte": 10}},
    {"key": "n_eq", "type": "text", "label": "n = 10", "required": true, "show_if": {"field": "n", "equals": 10.0}},
    {"key": "n_in", "type": "text", "label": "n in 1, 2.5", "required": true, "show_if": {"field": "n", "in": [1, 2.5]}},
    {"key": "d_lt", "type": "text", "label": "d < 2026-06-01", "required": true, "show_if": {"field": "d", "lt": "2026-06-01"}},
    {"key": "t_gte", "type": "text", "label": "t >= 12:00", "required": true, "show_if": {"field": "t", "gte": "12:00"}},
    {"key": "dt_lt", "type": "text", "label": "dtt < 2026", "required": true, "show_if": {"field": "dtt", "lt": "2026-01-01T00:00:00Z"}},
    {"key": "m_p", "type": "text", "label": "m has p", "required": true, "show_if": {"field": "m", "contains": "p"}},
    {"key": "cl_i1", "type": "text", "label": "i1 checked", "required": true, "show_if": {"field": "cl", "checked": "i1"}},
    {"key": "yn_no", "type": "text", "label": "yn = no", "required": true, "show_if": {"field": "yn", "equals": false}},
    {"key": "txt_in", "type": "text", "label": "txt in", "required": true, "show_if": {"field": "txt", "in": ["A", "B"]}},
    {"key": "a_none", "type": "text", "label": "a unanswered", "required": true, "show_if": {"field": "a", "answered": false}},
    {"key": "all_", "type": "text", "label": "all", "required": true, "show_if": {"all": [{"field": "a", "in": ["x", "y"]}, {"field": "n", "gt": 0}]}},
    {"key": "any_", "type": "text", "label": "any", "required": true, "show_if": {"any": [{"field": "a", "equals": "z"}, {"field": "n", "lt": 0}]}},
    {"key": "not_", "type": "text", "label": "not", "required": true, "show_if": {"not": {"field": "a", "equals": "x"}}},
    {"key": "req_if", "type": "text", "label": "n > 100", "required_if": {"field": "n", "gt": 100}},
    {"key": "s1", "type": "text", "label": "S1", "required": true, "section": "extra"},
    {"key": "s2", "type": "text", "label": "S2", "section": "extra", "required_if": {"field": "n", "equals": 7}}]}') AS cond_version;
SELECT x.n, x.answers,
       string_agg(substr(e.path, 9), ' ' ORDER BY e.o) FILTER (WHERE e.rule = 'required') AS shown_and_required,
       string_agg(e.path || ' ' || e.rule, ', ' ORDER BY e.o) FILTER (WHERE e.rule <> 'required') AS other_errors
  FROM (VALUES (1, '{}'),
               (2, '{"a": "x"}'),
               (3, '{"a": "z"}'),
               (4, '{"a": "y", "n": 10}'),
               (5, '{"n": 10.5}'),
               (6, '{"n": 2.5}'),
               (7, '{"n": -1}'),
               (8, '{"n": 101}'),
               (9, '{"d": "2026-05-31", "t": "12:00", "dtt": "2025-12-31T23:00:00-02:00"}'),
               (10, '{"d": "2026-06-01", "t": "11:59:59", "dtt": "2025-12-31T23:00:00+02:00"}'),
               (11, '{"m": ["q", "p"], "cl": [{"item": "i1", "checked": true}], "yn": false, "txt": "B"}'),
               (12, '{"m": ["q"], "cl": [{"item": "i1", "checked": false}, {"item": "i2", "checked": true}], "yn": true, "txt": "b"}'),
               (13, '{"yn": true, "n": 7}'),
               (14, '{"a": "w", "n": "10"}')) AS x(n, answers)
  LEFT JOIN LATERAL fieldops.check_form_answers(:ft, 'COND', NULL, x.answers::jsonb) WITH ORDINALITY AS e(path, rule, message, o) ON true
 GROUP BY x.n, x.answers ORDER BY x.n;
-- a hidden field's answer is ignored, however wrong, and dropped from the
-- stored answers; the answers of shown fields are kept
SELECT * FROM fieldops.check_form_answers(:ft, 'COND', NULL,
    '{"a": "y", "eq_x": 12345, "ne_x": "shown", "in_xy": "shown", "not_": "shown", "s1": "section hidden", "n_gt": null}');
SELECT fieldops.submit_form(:ft, 'COND', NULL, :w1,
    '{"a": "y", "eq_x": 12345, "ne_x": "shown", "in_xy": "shown", "not_": "shown", "s1": "section hidden", "n_gt": null}') AS cond_sub \gset
SELECT answers, dropped FROM fieldops.form_submission WHERE tenant_id = :ft AND submission_id = :cond_sub;

--
-- 6. Submissions: normalised answers, business context, corrections,
-- client references; invalid answers write nothing
--
SELECT fieldops.submit_form(:ft, 'CATALOGUE', NULL, :w1, pg_temp.ans('{
    "t_plain": "  hello  ", "t_rules": "AB-12", "n_dec": 12.50, "n_int": 3.0, "sc": "ok", "mc": ["d", "a"],
    "d": "2026-02-28", "tm": "09:30", "dt": "2026-06-01T12:00:00.250+08:00", "yn": true, "ph": "@sha:ok", "ph3": ["@ok3", "@ok2"],
    "loc": {"lat": 31.229, "lon": 121.46, "accuracy_m": 12.5}, "loc_any": {"lat": -33.86, "lon": 151.21, "accuracy_m": null},
    "cl": [{"item": "gloves", "checked": false, "note": " torn "}, {"item": "helmet", "checked": true, "note": ""}],
    "sig": {"signer": " 李娜 Li Na ", "image": "iVBORw0KGgo=", "signed_at": "2026-11-27T10:15:00+08:00"}}'),
    p_visit_id => :v1, p_task_id => :task1, p_work_order_id => :wo1) AS cat_sub \gset
SELECT key, CASE WHEN key IN ('ph', 'ph3') THEN pg_temp.norm(regexp_replace(value::text, '[0-9]+', '@id', 'g')) ELSE value::text END AS stored
  FROM fieldops.form_submission s, jsonb_each(s.answers)
 WHERE s.tenant_id = :ft AND s.submission_id = :cat_sub ORDER BY key;
SELECT s.answers -> 'ph' = to_jsonb(ARRAY[(SELECT photo_id FROM photo_ids WHERE name = 'ok')]) AS hash_became_id,
       s.answers -> 'ph3' = to_jsonb(ARRAY[(SELECT photo_id FROM photo_ids WHERE name = 'ok3'), (SELECT photo_id FROM photo_ids WHERE name = 'ok2')]) AS ids_in_given_order,
       s.version, s.worker_id = :w1 AS by_f1, s.visit_id = :v1 AS for_v1, s.task_id = :task1 AS for_task1, s.work_order_id = :wo1 AS for_wo1, s.supersedes, s.client_ref, s.dropped,
       s.input_sha256 = sha256(convert_to(pg_temp.ans('{
    "t_plain": "  hello  ", "t_rules": "AB-12", "n_dec": 12.50, "n_int": 3.0, "sc": "ok", "mc": ["d", "a"],
    "d": "2026-02-28", "tm": "09:30", "dt": "2026-06-01T12:00:00.250+08:00", "yn": true, "ph": "@sha:ok", "ph3": ["@ok3", "@ok2"],
    "loc": {"lat": 31.229, "lon": 121.46, "accuracy_m": 12.5}, "loc_any": {"lat": -33.86, "lon": 151.21, "accuracy_m": null},
    "cl": [{"item": "gloves", "checked": false, "note": " torn "}, {"item": "helmet", "checked": true, "note": ""}],
    "sig": {"signer": " 李娜 Li Na ", "image": "iVBORw0KGgo=", "signed_at": "2026-11-27T10:15:00+08:00"}}')::text, 'UTF8')) AS input_hash_kept
  FROM fieldops.form_submission s WHERE s.tenant_id = :ft AND s.submission_id = :cat_sub;
-- invalid answers: 22023, the first error in the message, every error as JSON in DETAIL, nothing written
SELECT count(*) AS submissions_before FROM fieldops.form_submission WHERE tenant_id = :ft \gset
SELECT fieldops.submit_form(:ft, 'CATALOGUE', NULL, :w1, '{"n_dec": 130, "sc": "new", "yn": "yes"}');
SELECT regress.sqlerr(format('SELECT fieldops.submit_form(%s, %L, NULL, %s, %L)', :ft, 'CATALOGUE', :w1, '{"yn": 1, "cl": [{"item": "helmet", "checked": true}]}')) AS one_error;
-- the photo rules that need the worker and the visit: F2's photo is not F1's; a photo of v1b is not v1's
SELECT pg_temp.norm(regress.sqlerr(format('SELECT fieldops.submit_form(%s, %L, NULL, %s, %L)', :ft, 'CATALOGUE', :w1, pg_temp.ans('{"ph": "@w2", "cl": [{"item": "helmet", "checked": true}]}')))) AS others_photo,
       pg_temp.norm(regress.sqlerr(format('SELECT fieldops.submit_form(%s, %L, NULL, %s, %L, %s)', :ft, 'CATALOGUE', :w1, pg_temp.ans('{"ph": "@othervisit", "cl": [{"item": "helmet", "checked": true}]}'), :v1))) AS other_visits_photo;
SELECT count(*) - :submissions_before AS written_by_invalid_submissions FROM fieldops.form_submission WHERE tenant_id = :ft;

-- a correction: a new submission that supersedes the old one, same form and
-- context; the supervisor F2 corrects F1's submission (F1's photos stay valid)
SELECT fieldops.submit_form(:ft, 'CATALOGUE', NULL, :w1, pg_temp.ans('{"n_dec": 4.5, "ph": "@ok", "cl": [{"item": "helmet", "checked": true}]}'), p_visit_id => :v1, p_task_id => :task2) AS orig \gset
SELECT fieldops.submit_form(:ft, 'CATALOGUE', NULL, :w2, pg_temp.ans('{"n_dec": 5.4, "ph": "@ok", "cl": [{"item": "helmet", "checked": true}]}'), p_supersedes => :orig) AS fix1 \gset
SELECT fieldops.submit_form(:ft, 'CATALOGUE', NULL, :w2, pg_temp.ans('{"n_dec": 5.5, "ph": "@ok", "cl": [{"item": "helmet", "checked": true}]}'), p_visit_id => :v1, p_supersedes => :fix1) AS fix2 \gset
SELECT s.submission_id = :orig AS orig, s.supersedes = :orig AS corrects_orig, s.supersedes = :fix1 AS corrects_fix1, s.worker_id = :w2 AS by_f2,
       s.visit_id = :v1 AS for_v1, s.task_id = :task2 AS for_task2, s.answers ->> 'n_dec' AS n_dec,
       EXISTS (SELECT 1 FROM fieldops.current_form_submission c WHERE c.tenant_id = :ft AND c.submission_id = s.submission_id) AS current
  FROM fieldops.form_submission s WHERE s.tenant_id = :ft AND s.submission_id IN (:orig, :fix1, :fix2) ORDER BY s.submission_id;
SELECT pg_temp.norm(regress.sqlerr(q)) AS refused_correction
  FROM (VALUES (format('SELECT fieldops.submit_form(%s, %L, NULL, %s, %L, p_supersedes => %s)', :ft, 'CATALOGUE', :w2, '{"n_dec": 6}', :orig)),
               (format('SELECT fieldops.submit_form(%s, %L, NULL, %s, %L, p_visit_id => %s, p_supersedes => %s)', :ft, 'CATALOGUE', :w2, '{"n_dec": 6}', :v2, :fix2)),
               (format('SELECT fieldops.submit_form(%s, %L, NULL, %s, %L, p_task_id => 9, p_supersedes => %s)', :ft, 'CATALOGUE', :w2, '{"n_dec": 6}', :fix2)),
               (format('SELECT fieldops.submit_form(%s, %L, NULL, %s, %L, p_supersedes => %s)', :ft, 'DAILY', :w2, '{"ok": true}', :fix2)),
               (format('SELECT fieldops.submit_form(%s, %L, NULL, %s, %L, p_supersedes => %s)', :ft, 'CATALOGUE', :w2, '{"n_dec": 6}', 987654321)),
               (format('SELECT fieldops.submit_form(%s, %L, NULL, %s, %L, p_supersedes => %s)', :ft, 'CATALOGUE', :w2, '{"n_dec": 666, "cl": [{"item": "helmet", "checked": true}]}', :fix2))) AS t(q);

-- a client reference: a resend returns the first submission and writes nothing
SELECT fieldops.submit_form(:ft, 'DAILY', 2, :w1, '{"ok": true}', p_client_ref => '3f2c9a1e-offline-0001') AS ref1 \gset
SELECT count(*) AS submissions_before FROM fieldops.form_submission WHERE tenant_id = :ft \gset
SELECT count(*) AS events_before FROM fieldops.outbox WHERE tenant_id = :ft \gset
SELECT fieldops.submit_form(:ft, 'DAILY', 2, :w1, '{"ok":true}', p_client_ref => '3f2c9a1e-offline-0001') = :ref1 AS resend_is_the_first;
SELECT (SELECT count(*) FROM fieldops.form_submission WHERE tenant_id = :ft) - :submissions_before AS new_rows,
       (SELECT count(*) FROM fieldops.outbox WHERE tenant_id = :ft) - :events_before AS new_events;
SELECT pg_temp.norm(regress.sqlerr(q)) AS reused_reference
  FROM (VALUES (format('SELECT fieldops.submit_form(%s, %L, 2, %s, %L, p_client_ref => %L)', :ft, 'DAILY', :w1, '{"ok": false, "note": "x"}', '3f2c9a1e-offline-0001')),
               (format('SELECT fieldops.submit_form(%s, %L, 2, %s, %L, p_client_ref => %L)', :ft, 'DAILY', :w2, '{"ok": true}', '3f2c9a1e-offline-0001')),
               (format('SELECT fieldops.submit_form(%s, %L, 1, %s, %L, p_client_ref => %L)', :ft, 'DAILY', :w1, '{"ok": true}', '3f2c9a1e-offline-0001')),
               (format('SELECT fieldops.submit_form(%s, %L, 2, %s, %L, p_visit_id => %s, p_client_ref => %L)', :ft, 'DAILY', :w1, '{"ok": true}', :v1, '3f2c9a1e-offline-0001'))) AS t(q);

-- a worker who left submits nothing more
SELECT fieldops.worker_leave(:ft, :w3) ->> 'status' AS w3_left;
SELECT pg_temp.norm(regress.sqlerr(format('SELECT fieldops.submit_form(%s, %L, NULL, %s, %L)', :ft, 'DAILY', :w3, '{"ok": true}'))) AS leaver;

--
-- 7. Outbox events: form.defined for each new version or name, form.submitted
-- for each submission (ids, never the answers)
--
SELECT topic, payload ->> 'code' AS code, payload ->> 'version' AS version, payload ->> 'new_version' AS new_version,
       payload ? 'answers' AS has_answers, (SELECT string_agg(k, ',' ORDER BY k) FROM jsonb_object_keys(payload) k) AS payload_keys
  FROM fieldops.outbox WHERE tenant_id = :ft AND topic LIKE 'form.%'
   AND (topic = 'form.defined' OR aggregate_id IN (:daily_v1, :cat_sub, :fix2, :ref1))
 ORDER BY event_id;

--
-- 8. Two realistic forms (the demo uses them): an equipment inspection of a
-- refrigerated cabinet and a store audit of a beverage brand
--
SELECT fieldops.define_form(:ft, 'EQUIP-INSPECT', '冷柜巡检 Refrigerated cabinet inspection', $form$
{
  "description": "Quarterly inspection of a refrigerated display cabinet at a customer's store.",
  "sections": [
    {"key": "unit", "label": "Unit 设备"},
    {"key": "operation", "label": "Operation 运行", "show_if": {"field": "running", "equals": true}},
    {"key": "fault", "label": "Fault 故障", "show_if": {"field": "condition", "in": ["worn", "faulty"]}},
    {"key": "sign_off", "label": "Sign-off 签字"}
  ],
  "fields": [
    {"key": "asset_tag", "type": "text", "label": "Asset tag 资产编号", "required": true, "section": "unit",
     "pattern": "[A-Z]{2}-[0-9]{6}", "help": "On the plate at the back, e.g. RF-004211"},
    {"key": "nameplate_photo", "type": "photo", "label": "Nameplate photo 铭牌照片", "required": true, "section": "unit", "allow_review": false},
    {"key": "running", "type": "yes_no", "label": "Running on arrival 到场时运行", "required": true, "section": "unit"},
    {"key": "cabinet_temp_c", "type": "number", "label": "Cabinet temperature 柜内温度", "unit": "°C", "min": -30, "max": 30,
     "decimals": 1, "required": true, "section": "operation"},
    {"key": "compressor_noise", "type": "single_choice", "label": "Compressor noise 压缩机噪音", "required": true, "section": "operation",
     "options": [{"value": "normal", "label": "Normal 正常"}, {"value": "loud", "label": "Loud 偏大"}, {"value": "rattling", "label": "Rattling 异响"}]},
    {"key": "safety", "type": "checklist", "label": "Safety checks 安全检查", "section": "operation", "items": [
      {"key": "power_isolated", "label": "Power isolated before opening 开盖前断电", "required": true},
      {"key": "earth_ok", "label": "Earth connection intact 接地完好", "required": true},
      {"key": "door_seal", "label": "Door seal intact 门封完好", "note_when_unchecked": true},
      {"key": "condenser_clean", "label": "Condenser coil clean 冷凝器清洁", "note_when_unchecked": true}]},
    {"key": "condition", "type": "single_choice", "label": "Overall condition 总体状况", "required": true,
     "options": [{"value": "good", "label": "Good 良好"}, {"value": "worn", "label": "Worn 磨损"}, {"value": "faulty", "label": "Faulty 故障"}]},
    {"key": "fault_codes", "type": "multi_choice", "label": "Faults found 故障类型", "required": true, "section": "fault", "min_selections": 1,
     "options": [{"value": "leak", "label": "Refrigerant leak 漏氟"}, {"value": "icing", "label": "Icing 结冰"}, {"value": "fan", "label": "Fan 风扇"},
                 {"value": "thermostat", "label": "Thermostat 温控器"}, {"value": "electrical", "label": "Electrical 电气"}, {"value": "other", "label": "Other 其他"}]},
    {"key": "fault_notes", "type": "text", "label": "Fault description 故障描述", "section": "fault", "multiline": true,
     "min_length": 10, "max_length": 1000, "required_if": {"field": "fault_codes", "contains": "other"}},
    {"key": "fault_photos", "type": "photo", "label": "Photos of the fault 故障照片", "required": true, "section": "fault", "min_count": 1, "max_count": 3},
    {"key": "next_service", "type": "date", "label": "Next service due 下次保养", "min": "today",
     "required_if": {"field": "condition", "not_equals": "good"}},
    {"key": "unit_location", "type": "location", "label": "Where the unit stands 设备位置", "max_accuracy_m": 50},
    {"key": "store_manager_signature", "type": "signature", "label": "Store manager's signature 店长签字", "required": true,
     "section": "sign_off", "max_kb": 64}
  ]
}$form$) AS inspect_version;
SELECT fieldops.define_form(:ft, 'STORE-AUDIT', '门店陈列检查 Store audit', $form$
{
  "description": "Monthly retail audit of our beverages in convenience stores.",
  "sections": [
    {"key": "store", "label": "Store 门店"},
    {"key": "shelf", "label": "Shelf 货架", "show_if": {"field": "store_open", "equals": true}},
    {"key": "competition", "label": "Competition 竞品",
     "show_if": {"all": [{"field": "store_open", "equals": true}, {"field": "competitor_seen", "equals": true}]}}
  ],
  "fields": [
    {"key": "store_open", "type": "yes_no", "label": "Store open 营业中", "required": true, "section": "store"},
    {"key": "closed_reason", "type": "single_choice", "label": "Why closed 关店原因", "required": true, "section": "store",
     "show_if": {"field": "store_open", "equals": false},
     "options": [{"value": "renovation", "label": "Renovation 装修"}, {"value": "holiday", "label": "Holiday 休假"},
                 {"value": "closed_down", "label": "Closed down 停业"}, {"value": "other", "label": "Other 其他"}]},
    {"key": "storefront_photo", "type": "photo", "label": "Storefront 门头照", "required": true, "section": "store"},
    {"key": "audit_time", "type": "time", "label": "Time of the audit 检查时间", "min": "07:00", "max": "23:00", "section": "store"},
    {"key": "facings", "type": "number", "label": "Facings of our products 排面数", "integer": true, "min": 0, "max": 200, "required": true, "section": "shelf"},
    {"key": "share_of_shelf", "type": "number", "label": "Share of shelf 货架占比", "unit": "%", "min": 0, "max": 100, "decimals": 1, "section": "shelf"},
    {"key": "skus_present", "type": "multi_choice", "label": "SKUs on the shelf 在架单品", "section": "shelf", "min_selections": 1,
     "options": [{"value": "cola_330", "label": "Cola 330 ml"}, {"value": "cola_500", "label": "Cola 500 ml"}, {"value": "lemon_500", "label": "Lemon 500 ml"},
                 {"value": "water_550", "label": "Water 550 ml"}, {"value": "tea_500", "label": "Green tea 500 ml"}]},
    {"key": "price_cola_500", "type": "number", "label": "Shelf price, cola 500 ml 零售价", "unit": "CNY", "min": 0.5, "max": 20, "decimals": 2,
     "section": "shelf", "required_if": {"field": "skus_present", "contains": "cola_500"}},
    {"key": "out_of_stock", "type": "yes_no", "label": "A must-have SKU out of stock 必备品缺货", "required": true, "section": "shelf"},
    {"key": "oos_skus", "type": "multi_choice", "label": "Out-of-stock SKUs 缺货单品", "required": true, "section": "shelf",
     "show_if": {"field": "out_of_stock", "equals": true},
     "options": [{"value": "cola_330", "label": "Cola 330 ml"}, {"value": "cola_500", "label": "Cola 500 ml"}, {"value": "lemon_500", "label": "Lemon 500 ml"},
                 {"value": "water_550", "label": "Water 550 ml"}, {"value": "tea_500", "label": "Green tea 500 ml"}]},
    {"key": "planogram", "type": "checklist", "label": "Planogram 陈列标准", "section": "shelf", "items": [
      {"key": "eye_level", "label": "Our brand at eye level 黄金陈列位", "note_when_unchecked": true},
      {"key": "price_tags", "label": "A price tag on every facing 价签齐全", "required": true},
      {"key": "cooler_exclusive", "label": "Branded cooler holds our products only 冰柜纯净度", "note_when_unchecked": true},
      {"key": "promo_material", "label": "Current promotion material displayed 促销物料"}]},
    {"key": "shelf_photos", "type": "photo", "label": "Shelf photos 货架照", "required": true, "section": "shelf", "min_count": 2, "max_count": 5},
    {"key": "competitor_seen", "type": "yes_no", "label": "Competitor activity seen 竞品活动", "section": "shelf"},
    {"key": "competitor_brands", "type": "multi_choice", "label": "Competitor brands 竞品品牌", "required": true, "section": "competition",
     "options": [{"value": "brand_a", "label": "Brand A"}, {"value": "brand_b", "label": "Brand B"}, {"value": "private_label", "label": "Private label 自有品牌"}]},
    {"key": "competitor_promo", "type": "text", "label": "Their promotion 竞品促销", "section": "competition", "max_length": 500},
    {"key": "manager_met", "type": "text", "label": "Store manager met 接洽店长", "max_length": 50, "show_if": {"field": "store_open", "equals": true}},
    {"key": "follow_up_on", "type": "date", "label": "Follow-up visit 复访日期", "min": "today"},
    {"key": "remarks", "type": "text", "label": "Remarks 备注", "multiline": true, "max_length": 2000}
  ]
}$form$) AS audit_version;
SELECT code, name, field_count FROM fieldops.form f JOIN fieldops.form_version v USING (tenant_id, form_id)
 WHERE f.tenant_id = :ft AND f.code IN ('EQUIP-INSPECT', 'STORE-AUDIT') ORDER BY code;
-- an inspection with a worn unit: the fault section shows, a service date is due
SELECT fieldops.submit_form(:ft, 'EQUIP-INSPECT', NULL, :w1, pg_temp.ans($a$ {
    "asset_tag": "RF-004211", "nameplate_photo": "@ok", "running": true, "cabinet_temp_c": 4.5, "compressor_noise": "loud",
    "safety": [{"item": "power_isolated", "checked": true}, {"item": "earth_ok", "checked": true},
               {"item": "door_seal", "checked": false, "note": "lower seal torn, 10 cm"}, {"item": "condenser_clean", "checked": true}],
    "condition": "worn", "fault_codes": ["fan", "other"], "fault_notes": "Fan bearing noisy, door seal torn",
    "fault_photos": ["@ok2", "@ok3"], "next_service": "2099-01-15",
    "unit_location": {"lat": 31.22903, "lon": 121.46012, "accuracy_m": 6},
    "store_manager_signature": {"signer": "王店长 Manager Wang", "image": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="}
  } $a$), p_visit_id => :v1, p_work_order_id => :wo2) IS NOT NULL AS inspection_stored;
-- an inspection done badly: every error at once
SELECT path, rule, pg_temp.norm(message) AS message FROM fieldops.check_form_answers(:ft, 'EQUIP-INSPECT', NULL, pg_temp.ans($a$ {
    "asset_tag": "rf-4211", "nameplate_photo": "@review", "running": true, "cabinet_temp_c": 45,
    "safety": [{"item": "power_isolated", "checked": false}, {"item": "door_seal", "checked": false}],
    "condition": "faulty", "fault_codes": ["other"], "fault_notes": "broken", "next_service": "2020-01-01",
    "unit_location": {"lat": 31.229, "lon": 121.46, "accuracy_m": 120},
    "store_manager_signature": {"signer": "", "image": ""}
  } $a$), :w1, :v1);
-- a unit that is off and in good order: operation and fault are hidden, and
-- the temperature a stale client still sends is dropped
SELECT fieldops.submit_form(:ft, 'EQUIP-INSPECT', NULL, :w1, pg_temp.ans($a$ {
    "asset_tag": "RF-004212", "nameplate_photo": "@ok4", "running": false, "cabinet_temp_c": 99, "condition": "good",
    "store_manager_signature": {"signer": "王店长 Manager Wang", "image": "iVBORw0KGgo="}
  } $a$), p_visit_id => :v1) AS off_unit \gset
SELECT (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(answers) k) AS stored_keys, dropped
  FROM fieldops.form_submission WHERE tenant_id = :ft AND submission_id = :off_unit;
-- store audits: a closed store (one question and the storefront), an open one with an out-of-stock and competition
SELECT fieldops.submit_form(:ft, 'STORE-AUDIT', NULL, :w1, pg_temp.ans(
    '{"store_open": false, "closed_reason": "renovation", "storefront_photo": "@ok5", "audit_time": "10:05", "facings": 12}'),
    p_visit_id => :v1, p_task_id => :task3) AS closed_store \gset
SELECT answers - 'storefront_photo' AS answers, answers -> 'storefront_photo' = to_jsonb(ARRAY[(SELECT photo_id FROM photo_ids WHERE name = 'ok5')]) AS photo_kept,
       dropped FROM fieldops.form_submission WHERE tenant_id = :ft AND submission_id = :closed_store;
SELECT path, rule, message FROM fieldops.check_form_answers(:ft, 'STORE-AUDIT', NULL, pg_temp.ans($a$ {
    "store_open": true, "storefront_photo": "@ok5", "audit_time": "06:45", "facings": 12.5, "share_of_shelf": 35.25,
    "skus_present": ["cola_500", "tea_500"], "out_of_stock": true, "oos_skus": [],
    "planogram": [{"item": "eye_level", "checked": false}, {"item": "price_tags", "checked": true}],
    "shelf_photos": ["@ok5"], "competitor_seen": true, "competitor_promo": "2 for 5 CNY", "follow_up_on": "2099-02-01"
  } $a$), :w1, :v1);
SELECT fieldops.submit_form(:ft, 'STORE-AUDIT', NULL, :w1, pg_temp.ans($a$ {
    "store_open": true, "storefront_photo": "@ok5", "audit_time": "16:45", "facings": 12, "share_of_shelf": 35.5,
    "skus_present": ["tea_500", "cola_500"], "price_cola_500": 3.50, "out_of_stock": true, "oos_skus": ["lemon_500"],
    "planogram": [{"item": "eye_level", "checked": false, "note": "Brand A paid for eye level"}, {"item": "price_tags", "checked": true},
                  {"item": "promo_material", "checked": true}],
    "shelf_photos": ["@ok4", "@ok5"], "competitor_seen": true, "competitor_brands": ["brand_a"], "competitor_promo": "2 for 5 CNY",
    "manager_met": "刘经理 Mr Liu", "follow_up_on": "2099-02-01"
  } $a$), p_visit_id => :v1, p_task_id => :task4) IS NOT NULL AS open_store_stored;

--
-- 9. Bad input of every function: 22004 (NULL), 22023 (bad value),
-- 23503 (unknown form, version, worker, visit, submission), 42501 (another
-- tenant), 55000 (a worker who left, a corrected submission)
--
SELECT pg_temp.norm(regress.sqlerr(q)) AS result
  FROM (VALUES
    (format('SELECT fieldops.define_form(%s, %L, %L, %L)', :ft + 1000000, 'X', 'x', '{}')),
    (format('SELECT fieldops.define_form(NULL, %L, %L, %L)', 'X', 'x', '{}')),
    (format('SELECT fieldops.define_form(%s, NULL, %L, %L)', :ft, 'x', '{"fields": [{"key": "a", "type": "yes_no", "label": "A"}]}')),
    (format('SELECT fieldops.define_form(%s, %L, %L, %L)', :ft, 'MY FORM', 'x', '{"fields": [{"key": "a", "type": "yes_no", "label": "A"}]}')),
    (format('SELECT fieldops.define_form(%s, %L, %L, %L)', :ft, repeat('F', 65), 'x', '{"fields": [{"key": "a", "type": "yes_no", "label": "A"}]}')),
    (format('SELECT fieldops.define_form(%s, %L, NULL, %L)', :ft, 'X', '{"fields": [{"key": "a", "type": "yes_no", "label": "A"}]}')),
    (format('SELECT fieldops.define_form(%s, %L, %L, %L)', :ft, 'X', ' ', '{"fields": [{"key": "a", "type": "yes_no", "label": "A"}]}')),
    (format('SELECT fieldops.define_form(%s, %L, %L, %L)', :ft, 'X', repeat('n', 201), '{"fields": [{"key": "a", "type": "yes_no", "label": "A"}]}')),
    (format('SELECT * FROM fieldops.get_form(%s, NULL)', :ft)),
    (format('SELECT * FROM fieldops.get_form(%s, %L)', :ft, 'NO-SUCH-FORM')),
    (format('SELECT * FROM fieldops.get_form(%s, %L, 0)', :ft, 'DAILY')),
    (format('SELECT * FROM fieldops.get_form(%s, %L, 99)', :ft, 'DAILY')),
    (format('SELECT * FROM fieldops.get_form(%s, %L)', :ft + 1000000, 'DAILY')),
    (format('SELECT * FROM fieldops.check_form_answers(%s, %L, NULL, %L)', :ft, 'NO-SUCH-FORM', '{}')),
    (format('SELECT * FROM fieldops.check_form_answers(%s, %L, -1, %L)', :ft, 'DAILY', '{}')),
    (format('SELECT * FROM fieldops.check_form_answers(%s, %L, NULL, NULL)', :ft, 'DAILY')),
    (format('SELECT * FROM fieldops.check_form_answers(%s, %L, NULL, %L)', :ft, 'DAILY', '[{"ok": true}]')),
    (format('SELECT * FROM fieldops.check_form_answers(%s, %L, NULL, %L, %s)', :ft, 'DAILY', '{}', 987654321)),
    (format('SELECT * FROM fieldops.check_form_answers(%s, %L, NULL, %L, NULL, %s)', :ft, 'DAILY', '{}', 987654321)),
    (format('SELECT fieldops.submit_form(%s, NULL, NULL, %s, %L)', :ft, :w1, '{}')),
    (format('SELECT fieldops.submit_form(%s, %L, NULL, %s, %L)', :ft, 'NO-SUCH-FORM', :w1, '{}')),
    (format('SELECT fieldops.submit_form(%s, %L, 99, %s, %L)', :ft, 'DAILY', :w1, '{}')),
    (format('SELECT fieldops.submit_form(%s, %L, NULL, NULL, %L)', :ft, 'DAILY', '{"ok": true}')),
    (format('SELECT fieldops.submit_form(%s, %L, NULL, %s, %L)', :ft, 'DAILY', 987654321, '{"ok": true}')),
    (format('SELECT fieldops.submit_form(%s, %L, NULL, %s, NULL)', :ft, 'DAILY', :w1)),
    (format('SELECT fieldops.submit_form(%s, %L, NULL, %s, %L)', :ft, 'DAILY', :w1, '"ok"')),
    (format('SELECT fieldops.submit_form(%s, %L, NULL, %s, %L, p_visit_id => %s)', :ft, 'DAILY', :w1, '{"ok": true}', 987654321)),
    (format('SELECT fieldops.submit_form(%s, %L, NULL, %s, %L, p_visit_id => %s)', :ft, 'DAILY', :w1, '{"ok": true}', :v2)),
    (format('SELECT fieldops.submit_form(%s, %L, NULL, %s, %L, p_task_id => 0)', :ft, 'DAILY', :w1, '{"ok": true}')),
    (format('SELECT fieldops.submit_form(%s, %L, NULL, %s, %L, p_work_order_id => -1)', :ft, 'DAILY', :w1, '{"ok": true}')),
    (format('SELECT fieldops.submit_form(%s, %L, NULL, %s, %L, p_supersedes => 0)', :ft, 'DAILY', :w1, '{"ok": true}')),
    (format('SELECT fieldops.submit_form(%s, %L, NULL, %s, %L, p_client_ref => %L)', :ft, 'DAILY', :w1, '{"ok": true}', 'has space')),
    (format('SELECT fieldops.submit_form(%s, %L, NULL, %s, %L, p_client_ref => %L)', :ft, 'DAILY', :w1, '{"ok": true}', repeat('r', 65))),
    (format('SELECT fieldops.submit_form(%s, %L, NULL, %s, %L)', :ft + 1000000, 'DAILY', :w1, '{"ok": true}'))
  ) AS t(q);
SELECT count(*) AS forms, sum(current_version) AS versions FROM fieldops.form WHERE tenant_id = :ft;
RESET ROLE;
RESET ALL;
SET datestyle = 'ISO, YMD';
SET timezone = 'UTC';

--
-- 10. Tenancy and privileges.  Acme and Beta both define a form with the
-- code SHARED and submit it (the tenancy test also expects their rows);
-- neither sees nor uses the other's forms, workers, visits, photos or
-- submissions.  The analyst reads and checks, and writes nothing.
--
SELECT tenant_id AS acme FROM fieldops.tenant WHERE name = 'Acme Shanghai' \gset
SELECT tenant_id AS beta FROM fieldops.tenant WHERE name = 'Beta NYC' \gset
SELECT worker_id AS pat FROM fieldops.worker WHERE tenant_id = :beta AND external_ref = 'NY1' \gset
SELECT worker_id AS wang FROM fieldops.worker WHERE tenant_id = :acme AND external_ref = 'E100' \gset
SET ROLE beta_app;
SELECT fieldops.set_tenant(:beta, false) IS NOT NULL AS beta_chosen;
SELECT fieldops.define_form(:beta, 'SHARED', 'Opening checklist', '{"fields": [{"key": "door_code", "type": "text", "label": "Door code", "required": true}]}') AS beta_version;
SELECT fieldops.submit_form(:beta, 'SHARED', 1, :pat, '{"door_code": "1234"}') AS beta_sub \gset
RESET ROLE;
RESET ALL;
SET ROLE acme_app;
SELECT fieldops.set_tenant(:acme, false) IS NOT NULL AS acme_chosen;
SELECT fieldops.define_form(:acme, 'SHARED', '开店检查 Opening check', '{"fields": [{"key": "lights_on", "type": "yes_no", "label": "Lights on", "required": true}]}') AS acme_version;
SELECT fieldops.submit_form(:acme, 'SHARED', 1, :wang, '{"lights_on": true}') IS NOT NULL AS acme_submitted;
-- Acme sees its own forms, versions and submissions only
SELECT (SELECT count(*) FROM fieldops.form WHERE tenant_id <> :acme) AS others_forms,
       (SELECT count(*) FROM fieldops.form_version WHERE tenant_id <> :acme) AS others_versions,
       (SELECT count(*) FROM fieldops.form_submission WHERE tenant_id <> :acme) AS others_submissions,
       (SELECT count(*) FROM fieldops.current_form_submission WHERE tenant_id <> :acme) AS others_current,
       (SELECT count(*) FROM fieldops.form WHERE tenant_id = :acme) > 0 AS sees_own;
-- its SHARED is its own; Beta's tenant id is refused; Beta's and the form test's objects do not exist for it
SELECT name, definition -> 'fields' -> 0 ->> 'key' AS first_field FROM fieldops.get_form(:acme, 'SHARED');
SELECT pg_temp.norm(regress.sqlerr(q)) AS result
  FROM (VALUES
    (format('SELECT * FROM fieldops.get_form(%s, %L)', :beta, 'SHARED')),
    (format('SELECT fieldops.define_form(%s, %L, %L, %L)', :beta, 'SHARED', 'x', '{"fields": [{"key": "a", "type": "yes_no", "label": "A"}]}')),
    (format('SELECT * FROM fieldops.check_form_answers(%s, %L, NULL, %L)', :beta, 'SHARED', '{}')),
    (format('SELECT fieldops.submit_form(%s, %L, NULL, %s, %L)', :beta, 'SHARED', :pat, '{"door_code": "1"}')),
    (format('SELECT * FROM fieldops.get_form(%s, %L)', :acme, 'DAILY')),
    (format('SELECT fieldops.submit_form(%s, %L, NULL, %s, %L)', :acme, 'SHARED', :pat, '{"lights_on": true}')),
    (format('SELECT * FROM fieldops.check_form_answers(%s, %L, NULL, %L, %s)', :acme, 'SHARED', '{}', :pat)),
    (format('SELECT fieldops.submit_form(%s, %L, NULL, %s, %L, p_visit_id => %s)', :acme, 'SHARED', :wang, '{"lights_on": true}', :v1)),
    (format('SELECT fieldops.submit_form(%s, %L, NULL, %s, %L, p_supersedes => %s)', :acme, 'SHARED', :wang, '{"lights_on": true}', :beta_sub))
  ) AS t(q);
-- the form test's photos are not Acme's
SELECT path, rule, pg_temp.norm(message) AS message
  FROM fieldops.check_form_answers(:acme, 'SHARED', NULL, pg_temp.ans('{"lights_on": true, "photo": "@ok"}'));
SELECT fieldops.define_form(:acme, 'SHARED-PHOTO', 'x', '{"fields": [{"key": "p", "type": "photo", "label": "P"}]}') AS photo_form;
SELECT path, rule, pg_temp.norm(message) AS message
  FROM fieldops.check_form_answers(:acme, 'SHARED-PHOTO', NULL, pg_temp.ans('{"p": "@ok"}'))
UNION ALL
SELECT path, rule, pg_temp.norm(message)
  FROM fieldops.check_form_answers(:acme, 'SHARED-PHOTO', NULL, pg_temp.ans('{"p": "@sha:ok"}'));
-- no direct writes
SELECT regress.sqlerr(format('INSERT INTO fieldops.form (tenant_id, code, name, current_version) VALUES (%s, %L, %L, 1)', :acme, 'X', 'x')) AS insert_form,
       regress.sqlerr('UPDATE fieldops.form_submission SET answers = ''{}''') AS update_submission,
       regress.sqlerr('DELETE FROM fieldops.form_version') AS delete_versions;
RESET ROLE;
RESET ALL;
-- the analyst reads and checks, and neither defines nor submits
SET ROLE acme_bi;
SELECT fieldops.set_tenant(:acme, false) IS NOT NULL AS acme_chosen;
SELECT count(*) > 0 AS reads_submissions, count(*) FILTER (WHERE tenant_id <> :acme) AS others FROM fieldops.form_submission;
SELECT name FROM fieldops.get_form(:acme, 'SHARED');
SELECT count(*) AS errors FROM fieldops.check_form_answers(:acme, 'SHARED', NULL, '{"lights_on": "yes"}');
SELECT regress.sqlerr(format('SELECT fieldops.submit_form(%s, %L, NULL, %s, %L)', :acme, 'SHARED', :wang, '{"lights_on": true}')) AS analyst_submits,
       regress.sqlerr(format('SELECT fieldops.define_form(%s, %L, %L, %L)', :acme, 'X', 'x', '{"fields": [{"key": "a", "type": "yes_no", "label": "A"}]}')) AS analyst_defines;
RESET ROLE;
RESET ALL;
-- a role without grants can do nothing
CREATE ROLE form_nobody;
SET ROLE form_nobody;
SELECT regress.sqlerr('SELECT count(*) FROM fieldops.form') AS nobody_reads,
       regress.sqlerr(format('SELECT * FROM fieldops.get_form(%s, %L)', :ft, 'DAILY')) AS nobody_gets;
RESET ROLE;
DROP ROLE form_nobody;
DROP TABLE cat_case;
SELECT fieldops.revoke_tenant_access('form_app', :ft) IS NOT NULL AS revoked;
DROP ROLE form_app;
