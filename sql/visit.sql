--
-- visit: check-in and check-out through the fix ingest path, the geofence
-- decision with the fix's accuracy, SOPs (versions, assignment, step order,
-- minimum durations, evidence), the one definition of a verified visit and
-- its reasons, manager review, a verified visit as the pool's follow-up,
-- and the catalogue of bad input.
--
\set SHOW_CONTEXT never
SET datestyle = 'ISO, YMD';
SET timezone = 'UTC';
SET extra_float_digits = 0;

CREATE SCHEMA visit_test;
GRANT USAGE ON SCHEMA visit_test TO PUBLIC;
-- a GPS fix p_north_m / p_east_m metres from the test shop, p_min minutes
-- after the test's start (an hour ago)
CREATE FUNCTION visit_test.fix(p_dev text, p_min float8, p_north_m float8, p_east_m float8, p_acc float8, p_extra jsonb DEFAULT '{}')
RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_build_object('device_uid', p_dev,
               'recorded_at', to_char((current_setting('visit_test.t0')::timestamptz + p_min * interval '1 minute') AT TIME ZONE 'UTC',
                                      'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
               'lat', round((31.2304 + p_north_m / 111195.0)::numeric, 7), 'lon', round((121.4737 + p_east_m / (111195.0 * cosd(31.2304)))::numeric, 7),
               'accuracy_m', p_acc, 'provider', 'gps', 'satellites', 14, 'cn0_mean_dbhz', 33, 'cn0_sd_dbhz', 6) || p_extra
$$;
CREATE FUNCTION visit_test.codes(p_reasons jsonb) RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg(r ->> 'code', ',' ORDER BY o), '') FROM jsonb_array_elements(p_reasons) WITH ORDINALITY AS x(r, o)
$$;
-- an error with its numbers masked (ids depend on the tests before)
CREATE FUNCTION visit_test.err(p_sql text) RETURNS text LANGUAGE sql AS $$
    SELECT left(e, 7) || regexp_replace(regexp_replace(substr(e, 8),
               '[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9:.]+([+-][0-9:]+)?', '<time>', 'g'), '[0-9]+', 'N', 'g')
      FROM regress.sqlerr(p_sql) e
$$;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA visit_test TO PUBLIC;
SELECT set_config('visit_test.t0', (date_trunc('second', now()) - interval '1 hour')::text, false) AS t0 \gset

--
-- 1. The geofence decision: the accuracy circle inside, outside or straddling the radius
--
SELECT d, a, fieldops.geofence_decision(d, a, 200) AS decision
  FROM (VALUES (0, 5), (150, 50), (150, 51), (190, 10), (190, 11), (250, 50), (250, 49), (300, 5), (100, NULL), (NULL, 10), (1000, 900)) x(d, a);

--
-- 2. Set-up: a tenant, a rep and his manager, a phone, shops, SOPs
--
SELECT fieldops.create_tenant('Visit Test Co', 'Asia/Shanghai') AS vt \gset
SELECT fieldops.set_tenant(:vt, false) IS NOT NULL AS vt_chosen;
SELECT fieldops.upsert_worker(:vt, 'M1', '张经理 Manager Zhang') AS mgr \gset
SELECT fieldops.upsert_worker(:vt, 'R1', '李明 Li Ming', p_manager_id => :mgr) AS rep \gset
SELECT fieldops.upsert_worker(:vt, 'R2', '王强 Wang Qiang', p_manager_id => :mgr) AS rep2 \gset
SELECT device_id AS dev FROM fieldops.register_device(:vt, 'visit-phone-1', :rep, 'android') \gset
SELECT device_id AS dev2 FROM fieldops.register_device(:vt, 'visit-phone-2', :rep2, 'android') \gset
-- the phones were bound yesterday (test set-up, superuser: the fixes are of the last hour)
UPDATE fieldops.device_binding SET bound_at = now() - interval '1 day' WHERE tenant_id = :vt AND unbound_at IS NULL;
UPDATE fieldops.device SET bound_at = now() - interval '1 day', registered_at = now() - interval '1 day' WHERE tenant_id = :vt;
SELECT fieldops.upsert_customer(:vt, 'S1', '好邻居便利店', ST_SetSRID(ST_MakePoint(121.4737, 31.2304), 4326), p_level => 'B', p_category => 'convenience',
                                p_owner_worker_id => :rep) AS s1 \gset
SELECT fieldops.upsert_customer(:vt, 'S2', '联华超市', ST_SetSRID(ST_MakePoint(121.4737, 31.2304), 4326), p_level => 'A', p_category => 'supermarket',
                                p_owner_worker_id => :rep) AS s2 \gset
SELECT fieldops.upsert_customer(:vt, 'S3', '无坐标小店', p_level => 'C', p_owner_worker_id => :rep) AS s3 \gset

SELECT fieldops.define_sop(:vt, 'STD', 'Standard visit', '[{"kind": "checkin"}, {"kind": "preparation", "title": "check the shelf"},
    {"kind": "presentation", "title": "present the new range", "min_duration_s": 300},
    {"kind": "needs", "title": "ask what they need", "required": false}, {"kind": "note", "title": "visit note"}, {"kind": "checkout"}]') AS std_v1;
-- the same steps again: no new version; other steps: version 2
SELECT fieldops.define_sop(:vt, 'STD', 'Standard visit', '[{"kind": "checkin"}, {"kind": "preparation", "title": "check the shelf"},
    {"kind": "presentation", "title": "present the new range", "min_duration_s": 300},
    {"kind": "needs", "title": "ask what they need", "required": false}, {"kind": "note", "title": "visit note"}, {"kind": "checkout"}]') AS std_same;
SELECT fieldops.define_sop(:vt, 'KA', 'Key account visit', '[{"kind": "checkin"}, {"kind": "photo", "title": "shelf photos", "min_photos": 2},
    {"kind": "competitor"}, {"kind": "checkout"}]') AS ka_v1;
SELECT fieldops.assign_sop(:vt, 'STD') IS NOT NULL AS std_default, fieldops.assign_sop(:vt, 'KA', 'A') IS NOT NULL AS ka_for_level_a;

--
-- 3. A visit that follows the SOP: every step, verified, a follow-up for the pool
--
SELECT fieldops.check_in(:vt, :rep, :s1, visit_test.fix('visit-phone-1', 0, 30, 10, 8)) AS v1 \gset
SELECT ((:'v1'::jsonb) -> 'checkin') - 'score' AS checkin, (:'v1'::jsonb) #>> '{sop,code}' AS sop,
       jsonb_array_length((:'v1'::jsonb) #> '{sop,steps}') AS steps, (:'v1'::jsonb) ->> 'verified' AS verified,
       visit_test.codes((:'v1'::jsonb) -> 'reasons') AS reasons;
SELECT ((:'v1'::jsonb) ->> 'visit_id')::bigint AS v1id \gset
-- out of order, too short, missing evidence, then done
SELECT fieldops.complete_step(:vt, :v1id, :rep, 3, '{}', :'t0'::timestamptz + interval '2 minutes') AS skip_preparation;
SELECT fieldops.complete_step(:vt, :v1id, :rep, 2, '{}', :'t0'::timestamptz + interval '2 minutes') ->> 'status' AS preparation;
SELECT fieldops.complete_step(:vt, :v1id, :rep, 2, '{}', :'t0'::timestamptz + interval '3 minutes') ->> 'status' AS again;
SELECT fieldops.complete_step(:vt, :v1id, :rep, 3, '{}', :'t0'::timestamptz + interval '4 minutes') AS presentation_too_soon;
SELECT fieldops.complete_step(:vt, :v1id, :rep, 3, '{}', :'t0'::timestamptz + interval '7 minutes') AS presentation;
SELECT fieldops.complete_step(:vt, :v1id, :rep, 5, '{}', :'t0'::timestamptz + interval '9 minutes') ->> 'status' AS note_without_text;
SELECT fieldops.complete_step(:vt, :v1id, :rep, 5, '{"text": "补货两箱, 店主想要新口味"}', :'t0'::timestamptz + interval '9 minutes') AS note_skipping_optional_needs;
SELECT fieldops.complete_step(:vt, :v1id, :rep, 4, '{"text": "too late"}', :'t0'::timestamptz + interval '10 minutes') ->> 'reason' AS needs_after_note;
SELECT fieldops.complete_step(:vt, :v1id, :rep, 6, '{}', :'t0'::timestamptz + interval '10 minutes') ->> 'status' AS checkout_step;
SELECT fieldops.complete_step(:vt, :v1id, :rep2, 2, '{}') ->> 'status' AS other_worker;
SELECT fieldops.check_out(:vt, :v1id, :rep, visit_test.fix('visit-phone-1', 12, 25, 5, 6)) AS v1out \gset
SELECT ((:'v1out'::jsonb) -> 'checkout') - 'score' AS checkout, (:'v1out'::jsonb) ->> 'verified' AS verified,
       visit_test.codes((:'v1out'::jsonb) -> 'reasons') AS reasons, (:'v1out'::jsonb) ->> 'followup' AS followup;
SELECT last_followup_at = :'t0'::timestamptz + interval '12 minutes' AS pool_clock_restarted FROM fieldops.customer WHERE tenant_id = :vt AND customer_id = :s1;
-- the retried check-out returns the visit; a step after check-out is refused
SELECT (fieldops.check_out(:vt, :v1id, :rep, visit_test.fix('visit-phone-1', 12, 25, 5, 6))) ->> 'retry' AS retried;
SELECT fieldops.complete_step(:vt, :v1id, :rep, 4, '{"text": "x"}') ->> 'status' AS after_checkout;
SELECT step_no, kind, duration_s, evidence FROM fieldops.visit_step WHERE tenant_id = :vt AND visit_id = :v1id ORDER BY step_no;
SELECT topic FROM fieldops.outbox WHERE tenant_id = :vt AND aggregate_type = 'visit' AND aggregate_id = :v1id ORDER BY event_id;

--
-- 4. A visit that skips a step: checked out all the same, not verified, says why
--
SELECT (fieldops.check_in(:vt, :rep, :s1, visit_test.fix('visit-phone-1', 15, -20, 0, 5))) ->> 'visit_id' AS v2id \gset
SELECT fieldops.complete_step(:vt, :v2id, :rep, 2, '{}', :'t0'::timestamptz + interval '16 minutes') ->> 'status' AS preparation;
SELECT fieldops.check_out(:vt, :v2id, :rep, visit_test.fix('visit-phone-1', 18, -20, 0, 5)) AS v2out \gset
SELECT (:'v2out'::jsonb) ->> 'verified' AS verified, (:'v2out'::jsonb) -> 'reasons' AS reasons, (:'v2out'::jsonb) ->> 'followup' AS followup;

--
-- 5. Geofence: an uncertain check-in, an outside check-out; a manager accepts the visit
--
SELECT fieldops.define_sop(:vt, 'QUICK', 'Quick stop', '[{"kind": "checkin"}, {"kind": "checkout"}]') AS quick_v1;
SELECT fieldops.assign_sop(:vt, 'QUICK', NULL, 'convenience') IS NOT NULL AS quick_for_convenience;
SELECT fieldops.check_in(:vt, :rep, :s1, visit_test.fix('visit-phone-1', 20, 190, 0, 25)) AS v3 \gset
SELECT (:'v3'::jsonb) #>> '{sop,code}' AS most_specific_sop, ((:'v3'::jsonb) -> 'checkin') - 'score' AS checkin;
SELECT ((:'v3'::jsonb) ->> 'visit_id')::bigint AS v3id \gset
-- a second check-in while one is open is refused
SELECT visit_test.err(format('SELECT fieldops.check_in(%s, %s, %s, %L)', :vt, :rep, :s2, visit_test.fix('visit-phone-1', 21, 0, 0, 5))) AS second_open_visit;
SELECT fieldops.check_out(:vt, :v3id, :rep, visit_test.fix('visit-phone-1', 25, 400, 0, 20)) AS v3out \gset
SELECT (:'v3out'::jsonb) ->> 'verified' AS verified, (:'v3out'::jsonb) -> 'reasons' AS reasons;
SELECT visit_test.err(format('SELECT fieldops.review_visit(%s, %s, %s, true)', :vt, :v3id, :rep)) AS own_review;
SELECT visit_test.err(format('SELECT fieldops.review_visit(%s, %s, %s, true)', :vt, :v3id, :rep2)) AS peer_review;
SELECT visit_test.err(format('SELECT fieldops.review_visit(%s, %s, %s, false)', :vt, :v3id, :mgr)) AS reject_without_note;
SELECT r ->> 'review' AS review, r ->> 'verified' AS verified, r ->> 'followup' AS followup
  FROM fieldops.review_visit(:vt, :v3id, :mgr, true, '在商场里, GPS 漂移') r;

--
-- 6. A spoofed check-in (a mock location app): red, never verified, a review cannot help
--
SELECT fieldops.check_in(:vt, :rep, :s2, visit_test.fix('visit-phone-1', 30, 10, 0, 3, '{"mock": true}')) AS v4 \gset
SELECT (:'v4'::jsonb) #>> '{checkin,band}' AS band, (:'v4'::jsonb) #>> '{sop,code}' AS key_account_sop;
SELECT ((:'v4'::jsonb) ->> 'visit_id')::bigint AS v4id \gset
SELECT fieldops.complete_step(:vt, :v4id, :rep, 2, '{"photo_ids": []}', :'t0'::timestamptz + interval '31 minutes') ->> 'reason' AS no_photos;
SELECT fieldops.check_out(:vt, :v4id, :rep, visit_test.fix('visit-phone-1', 35, 10, 0, 3)) ->> 'verified' AS verified;
SELECT visit_test.codes(fieldops.review_visit(:vt, :v4id, :mgr, true) -> 'reasons') AS reasons_after_review;

--
-- 6b. Photo steps: a key-account visit with its shelf photos signed by the
-- phone (photo_test.shoot() of the photo test plays the camera).  Two
-- accepted photos do the step; a photo taken 3 km away is rejected
-- (off_site) and does not count for the step, but given as evidence it
-- keeps the visit from being verified (photo_not_accepted): every photo a
-- required photo step names must be accepted.
--
SELECT sha256('fieldops visit test: phone 1 key') AS vseed \gset
SELECT fieldops.register_device_key(:vt, :dev, 'ed25519', photo_test.public_key('ed25519', :'vseed')) AS vkey \gset
SELECT (fieldops.check_in(:vt, :rep, :s2, visit_test.fix('visit-phone-1', 36, 5, 5, 4))) ->> 'visit_id' AS v6id \gset
SELECT fieldops.issue_photo_nonce(:vt, :dev, :v6id) AS vn1 \gset
SELECT verdict FROM photo_test.shoot('ed25519', :'vseed', :'vkey', :rep, :dev, :v6id, :'vn1', 1, 'shelf, left');
SELECT photo_id AS ph1 FROM photo_test.last \gset
SELECT fieldops.issue_photo_nonce(:vt, :dev, :v6id) AS vn2 \gset
SELECT verdict FROM photo_test.shoot('ed25519', :'vseed', :'vkey', :rep, :dev, :v6id, :'vn2', 2, 'shelf, right');
SELECT photo_id AS ph2 FROM photo_test.last \gset
SELECT fieldops.issue_photo_nonce(:vt, :dev, :v6id) AS vn3 \gset
SELECT verdict, reasons FROM photo_test.shoot('ed25519', :'vseed', :'vkey', :rep, :dev, :v6id, :'vn3', 3, 'shelf, far away', p_lat => 31.2574);
SELECT photo_id AS ph3 FROM photo_test.last \gset
SELECT fieldops.complete_step(:vt, :v6id, :rep, 2, jsonb_build_object('photo_ids', jsonb_build_array(:ph1)), :'t0'::timestamptz + interval '37 minutes') ->> 'reason' AS one_photo;
SELECT fieldops.complete_step(:vt, :v6id, :rep, 2, jsonb_build_object('photo_ids', jsonb_build_array(:ph1, :ph2, :ph3)), :'t0'::timestamptz + interval '37 minutes') ->> 'status' AS three_photos;
SELECT fieldops.complete_step(:vt, :v6id, :rep, 3, '{"text": "对面的超市在做买二送一"}', :'t0'::timestamptz + interval '38 minutes') ->> 'status' AS competitor;
SELECT r ->> 'verified' AS verified, r -> 'reasons' -> 0 ->> 'code' AS reason, (r -> 'reasons' -> 0 ->> 'photo_id')::bigint = :ph3 AS the_far_photo
  FROM fieldops.check_out(:vt, :v6id, :rep, visit_test.fix('visit-phone-1', 39, 5, 5, 4)) r;

--
-- 7. A customer without a position: uncertain; a visit still open
--
SELECT ((fieldops.check_in(:vt, :rep2, :s3, visit_test.fix('visit-phone-2', 40, 0, 0, 5))) -> 'checkin') - 'score' AS checkin_no_position;
SELECT visit_id AS v5id FROM fieldops.visit WHERE tenant_id = :vt AND worker_id = :rep2 AND checkout_at IS NULL \gset
SELECT verified, visit_test.codes(reasons) AS reasons FROM fieldops.visit_verified WHERE tenant_id = :vt AND visit_id = :v5id;

--
-- 8. Versions: a running visit keeps its SOP version
--
SELECT fieldops.define_sop(:vt, 'QUICK', 'Quick stop', '[{"kind": "checkin"}, {"kind": "note"}, {"kind": "checkout"}]') AS quick_v2;
SELECT fieldops.check_out(:vt, :v5id, :rep2, visit_test.fix('visit-phone-2', 41, 0, 0, 5)) IS NOT NULL AS closed;
SELECT (fieldops.check_in(:vt, :rep, :s1, visit_test.fix('visit-phone-1', 45, 0, 0, 5))) -> 'sop' ->> 'version' AS new_visit_version,
       (SELECT sop_version FROM fieldops.visit WHERE tenant_id = :vt AND visit_id = :v3id) AS old_visit_version;

-- every visit, verified or not (the view the pool and the KPIs use)
SELECT row_number() OVER (ORDER BY v.visit_id) AS visit, c.external_ref AS customer, x.verified, visit_test.codes(x.reasons) AS reasons
  FROM fieldops.visit_verified x JOIN fieldops.visit v USING (tenant_id, visit_id)
  JOIN fieldops.customer c ON c.tenant_id = v.tenant_id AND c.customer_id = v.customer_id
 WHERE x.tenant_id = :vt ORDER BY v.visit_id;

--
-- 9. Bad input
--
SELECT visit_test.err(q) AS result FROM (VALUES
    (format('SELECT fieldops.define_sop(%s, %L, %L, %L)', :vt, 'X', 'x', '{}')),
    (format('SELECT fieldops.define_sop(%s, %L, %L, %L)', :vt, 'X', 'x', '[{"kind": "checkin"}]')),
    (format('SELECT fieldops.define_sop(%s, %L, %L, %L)', :vt, 'X', 'x', '[{"kind": "note"}, {"kind": "checkout"}]')),
    (format('SELECT fieldops.define_sop(%s, %L, %L, %L)', :vt, 'X', 'x', '[{"kind": "checkin"}, {"kind": "note"}]')),
    (format('SELECT fieldops.define_sop(%s, %L, %L, %L)', :vt, 'X', 'x', '[{"kind": "checkin"}, {"kind": "dance"}, {"kind": "checkout"}]')),
    (format('SELECT fieldops.define_sop(%s, %L, %L, %L)', :vt, 'X', 'x', '[{"kind": "checkin"}, {"kind": "form"}, {"kind": "checkout"}]')),
    (format('SELECT fieldops.define_sop(%s, %L, %L, %L)', :vt, 'X', 'x', '[{"kind": "checkin"}, {"kind": "note", "form": "F"}, {"kind": "checkout"}]')),
    (format('SELECT fieldops.define_sop(%s, %L, %L, %L)', :vt, 'X', 'x', '[{"kind": "checkin"}, {"kind": "note", "min_duration_s": -1}, {"kind": "checkout"}]')),
    (format('SELECT fieldops.define_sop(%s, %L, %L, %L)', :vt, 'X', 'x', '[{"kind": "checkin"}, {"kind": "note", "min_photos": 2}, {"kind": "checkout"}]')),
    (format('SELECT fieldops.define_sop(%s, %L, %L, %L)', :vt, 'X', 'x', '[{"kind": "checkin"}, {"kind": "note", "colour": "red"}, {"kind": "checkout"}]')),
    (format('SELECT fieldops.define_sop(%s, %L, %L, %L)', :vt, 'X', 'x', '[{"kind": "checkin", "required": false}, {"kind": "checkout"}]')),
    (format('SELECT fieldops.assign_sop(%s, %L)', :vt, 'NOPE')),
    (format('SELECT fieldops.assign_sop(%s, %L, %L)', :vt, 'STD', 'gold')),
    (format('SELECT fieldops.check_in(%s, %s, %s, %L)', :vt, :rep, :s2, '[]')),
    (format('SELECT fieldops.check_in(%s, %s, %s, %L)', :vt, :rep2, :s2, visit_test.fix('visit-phone-2', 50, 0, 0, 5) - 'accuracy_m')),
    (format('SELECT fieldops.check_in(%s, %s, %s, %L)', :vt, :rep2, :s2, visit_test.fix('visit-phone-1', 50, 0, 0, 5))),
    (format('SELECT fieldops.check_in(%s, %s, %s, %L)', :vt, :rep2, :s2, visit_test.fix('no-such-phone', 50, 0, 0, 5))),
    (format('SELECT fieldops.check_in(%s, %s, %s, %L)', :vt, :rep2, 987654321, visit_test.fix('visit-phone-2', 50, 0, 0, 5))),
    (format('SELECT fieldops.check_in(%s, NULL, %s, %L)', :vt, :s2, visit_test.fix('visit-phone-2', 50, 0, 0, 5))),
    (format('SELECT fieldops.check_out(%s, 987654321, %s, %L)', :vt, :rep, visit_test.fix('visit-phone-1', 50, 0, 0, 5))),
    (format('SELECT fieldops.check_out(%s, %s, %s, %L)', :vt, :v1id, :rep2, visit_test.fix('visit-phone-2', 50, 0, 0, 5))),
    (format('SELECT fieldops.check_out(%s, %s, %s, %L)', :vt, :v1id, :rep, visit_test.fix('visit-phone-1', 50, 0, 0, 5))),
    (format('SELECT fieldops.complete_step(%s, %s, %s, 2, %L)', :vt, :v1id, :rep, '[]')),
    (format('SELECT fieldops.complete_step(%s, %s, %s, NULL)', :vt, :v1id, :rep)),
    (format('SELECT fieldops.complete_step(%s, %s, %s, 2, %L, %L)', :vt, :v1id, :rep, '{}', '2099-01-01 00:00+00')),
    (format('SELECT fieldops.review_visit(%s, 987654321, %s, true)', :vt, :mgr)),
    (format('SELECT fieldops.check_in(%s, %s, %s, %L)', 987654321, :rep, :s2, visit_test.fix('visit-phone-1', 50, 0, 0, 5)))
) AS x(q);
SELECT fieldops.complete_step(:vt, 987654321, :rep, 2) ->> 'status' AS missing_visit;
