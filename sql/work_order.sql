--
-- work_order: after-sales work orders.  The state machine as a table
-- (printed: the specification); SLA deadlines from the tenant's settings;
-- a work order's day (parts from a warehouse and a van, labour, the frozen
-- content, the customer's signature, closing); the stock catalogue (issue,
-- consume, return, every overdraw refused, the ledger and its invariants);
-- signatures verified, tampered, stale, replayed, by the wrong phone or key
-- (ES256 and Ed25519); every (from, to) pair of the state x state matrix for
-- every kind of actor, checked against the table; SLA breaches found once,
-- by the job or by a late transition; the catalogue of bad input; tenancy.
-- Phones sign with the photo test's simulated device keys (photo_test).
--
\set SHOW_CONTEXT never
SET datestyle = 'ISO, YMD';
SET timezone = 'UTC';
SELECT current_user AS superuser \gset
SELECT fieldops.create_tenant('Work Order Test Co', 'Asia/Shanghai', '{"work_order_respond_min_urgent": 30}') AS wt \gset
SELECT fieldops.set_tenant(:wt, false) IS NOT NULL AS chosen;
SELECT fieldops.upsert_team(:wt, 'S1', 'Service one') AS s1 \gset
SELECT fieldops.upsert_worker(:wt, 'BOSS', 'Boss Bo') AS boss \gset
SELECT fieldops.upsert_worker(:wt, 'D', 'Dispatcher Du', p_manager_id => :boss) AS d \gset
SELECT fieldops.upsert_worker(:wt, 'L', 'Lead Lu', :s1) AS l \gset
SELECT fieldops.upsert_team(:wt, 'S1', 'Service one', p_lead_worker_id => :l) = :s1 AS lead_set;
SELECT fieldops.upsert_worker(:wt, 'E', 'Engineer 王工', :s1) AS e \gset
SELECT fieldops.upsert_worker(:wt, 'E2', 'Engineer Er', :s1) AS e2 \gset
SELECT fieldops.upsert_worker(:wt, 'E3', 'Engineer San') AS e3 \gset
SELECT fieldops.upsert_worker(:wt, 'X', 'Stranger Xu') AS x \gset
SELECT fieldops.upsert_customer(:wt, 'WC1', '全家 FamilyMart 世纪大道店', ST_SetSRID(ST_MakePoint(121.5273, 31.2288), 4326)) AS c1 \gset
SELECT fieldops.upsert_customer(:wt, 'WC2', 'Customer without a position') AS c2 \gset
-- phones: E signs with ES256, E2 with Ed25519, E3's phone has no key, X's phone an ES256 key
SELECT device_id AS e_phone FROM fieldops.register_device(:wt, 'wo-test-phone-e', :e, 'android') \gset
SELECT device_id AS e2_phone FROM fieldops.register_device(:wt, 'wo-test-phone-e2', :e2, 'ios') \gset
SELECT device_id AS e3_phone FROM fieldops.register_device(:wt, 'wo-test-phone-e3', :e3, 'android') \gset
SELECT device_id AS x_phone FROM fieldops.register_device(:wt, 'wo-test-phone-x', :x, 'android') \gset
SELECT sha256('wo test e') AS e_seed, sha256('wo test e2') AS e2_seed, sha256('wo test x') AS x_seed \gset
SELECT fieldops.register_device_key(:wt, :e_phone, 'es256', photo_test.public_key('es256', :'e_seed')) AS e_key \gset
SELECT fieldops.register_device_key(:wt, :e2_phone, 'ed25519', photo_test.public_key('ed25519', :'e2_seed')) AS e2_key \gset
SELECT fieldops.register_device_key(:wt, :x_phone, 'es256', photo_test.public_key('es256', :'x_seed')) AS x_key \gset

CREATE SCHEMA wo_test;
GRANT USAGE ON SCHEMA wo_test TO PUBLIC;
CREATE TABLE wo_test.ids (name text PRIMARY KEY, id bigint, kind text);
GRANT SELECT ON wo_test.ids TO PUBLIC;
INSERT INTO wo_test.ids VALUES ('tenant', :wt, 'tenant'), ('S1', :s1, 'team'), ('BOSS', :boss, 'worker'), ('D', :d, 'worker'),
    ('L', :l, 'worker'), ('E', :e, 'worker'), ('E2', :e2, 'worker'), ('E3', :e3, 'worker'), ('X', :x, 'worker'),
    ('C1', :c1, 'customer'), ('C2', :c2, 'customer'), ('e_phone', :e_phone, 'device'), ('e2_phone', :e2_phone, 'device'),
    ('e3_phone', :e3_phone, 'device'), ('x_phone', :x_phone, 'device');
CREATE FUNCTION wo_test.id(p_name text) RETURNS bigint LANGUAGE sql STABLE AS $$ SELECT id FROM wo_test.ids WHERE name = p_name $$;
-- this test's ids by name, times as <time>: output that does not depend on the tests before
CREATE FUNCTION wo_test.mask(p_text text) RETURNS text LANGUAGE plpgsql STABLE AS $$
DECLARE
    v text := regexp_replace(regexp_replace(p_text, '\d{4}-\d\d-\d\d([ T][0-9:.]+(Z|[+-]\d\d)?)?', '<time>', 'g'),
                             'content_sha256=[0-9a-f]{64}', 'content_sha256=<sha256>', 'g');
    r record;
BEGIN
    -- an id is recognised by what precedes it in a message (ids of different
    -- kinds may be equal; constants such as lengths are left alone)
    FOR r IN SELECT i.name, i.id, CASE i.kind WHEN 'tenant' THEN 'tenant |p_tenant_id |transaction \(|tenant_id='
                                             WHEN 'team' THEN 'team_id |team '
                                             WHEN 'worker' THEN 'worker_id |worker |engineer_id='
                                             WHEN 'customer' THEN 'customer_id |customer |customer_id='
                                             WHEN 'device' THEN 'device_id |device '
                                             ELSE 'photo_id ' END AS prefix
               FROM wo_test.ids i ORDER BY i.id DESC, i.name LOOP
        v := regexp_replace(v, '(' || r.prefix || ')' || r.id || '(?![0-9])', '\1<' || r.name || '>', 'g');
    END LOOP;
    RETURN v;
END $$;
CREATE FUNCTION wo_test.err(p_sql text) RETURNS text LANGUAGE sql AS $$ SELECT wo_test.mask(regress.sqlerr(p_sql)) $$;
-- the phone signs the confirmation of a work order for a customer
CREATE FUNCTION wo_test.sign(p_alg text, p_seed bytea, p_order bigint, p_hash bytea, p_signer text) RETURNS bytea LANGUAGE sql AS $$
    SELECT photo_test.sign(p_alg, p_seed, fieldops.work_order_signing_message(wo_test.id('tenant'), p_order, p_hash, p_signer))
$$;

-- parts and where they are
SELECT fieldops.upsert_part(:wt, 'FLT-100', 'Filter 100', 'pcs') AS flt \gset
SELECT fieldops.upsert_part(:wt, 'CBL-2', 'Cable 2 mm²', 'm') AS cbl \gset
SELECT fieldops.upsert_part(:wt, 'OLD-1', 'Discontinued valve', 'pcs', false) AS old \gset
SELECT fieldops.upsert_part(:wt, 'VLV-9', 'Valve 9') AS vlv \gset
SELECT fieldops.upsert_stock_location(:wt, 'WH-SH', 'Shanghai warehouse', 'warehouse') AS wh \gset
SELECT fieldops.upsert_stock_location(:wt, 'VAN-E', 'Van of 王工', 'van', :e) AS van \gset
SELECT fieldops.receive_stock(:wt, :wh, :flt, 10, :d, 'delivery 1') AS wh_filters,
       fieldops.receive_stock(:wt, :wh, :cbl, 100.5) AS wh_cable,
       fieldops.receive_stock(:wt, :van, :flt, 2, :e) AS van_filters,
       fieldops.receive_stock(:wt, :van, :vlv, 1, :e) AS van_valves;

--
-- 1. The state machine (fieldops.state_transition): who may make which
--    move, (r) with a reason, (s) only with the customer's signature
--
SELECT from_state, to_state,
       string_agg(actor_role || CASE WHEN reason_required THEN ' (r)' ELSE '' END || CASE WHEN needs_signature THEN ' (s)' ELSE '' END,
                  ', ' ORDER BY actor_role) AS who
  FROM fieldops.state_transition WHERE machine = 'work_order'
 GROUP BY from_state, to_state
 ORDER BY array_position(ARRAY['created', 'dispatched', 'accepted', 'travelling', 'on_site', 'repairing', 'awaiting_signature',
                               'completed', 'closed', 'cancelled', 'reopened'], from_state),
          array_position(ARRAY['created', 'dispatched', 'accepted', 'travelling', 'on_site', 'repairing', 'awaiting_signature',
                               'completed', 'closed', 'cancelled', 'reopened'], to_state);

--
-- 2. SLA deadlines: minutes after creation, per priority, from the tenant's
--    settings (urgent response overridden to 30 minutes for this tenant)
--
SELECT key, default_value, min_value, max_value FROM fieldops.setting_def WHERE key LIKE 'work_order_%' ORDER BY key;
CREATE TABLE wo_test.by_priority AS
SELECT p, o, fieldops.create_work_order(:wt, :c1, 'SLA ' || p, p) AS id
  FROM unnest(ARRAY['urgent', 'high', 'normal', 'low']) WITH ORDINALITY AS x(p, o);
SELECT b.p AS priority,
       (extract(epoch FROM w.respond_by - w.created_at) / 60)::integer AS respond_min,
       (extract(epoch FROM w.resolve_by - w.created_at) / 60)::integer AS resolve_min,
       w.responded_at IS NULL AND w.respond_breached_at IS NULL AND w.resolved_at IS NULL AND w.resolve_breached_at IS NULL AS open
  FROM wo_test.by_priority b JOIN fieldops.work_order w ON w.tenant_id = :wt AND w.work_order_id = b.id
 ORDER BY b.o;
-- a resolution deadline shorter than the response deadline is taken as the response deadline
SELECT fieldops.alter_tenant(:wt, p_settings => '{"work_order_resolve_min_low": 60}') IS NOT NULL AS altered;
SELECT fieldops.create_work_order(:wt, :c1, 'SLA low', 'low') AS low_wo \gset
SELECT (extract(epoch FROM resolve_by - created_at) / 60)::integer AS resolve_min, resolve_by = respond_by AS same_deadline
  FROM fieldops.work_order WHERE work_order_id = :low_wo;
SELECT fieldops.alter_tenant(:wt, p_settings => '{"work_order_resolve_min_low": null}') IS NOT NULL AS restored;

--
-- 3. A work order's day
--
SELECT fieldops.create_work_order(:wt, :c1, 'Compressor noise', 'urgent', 'Fridge 2 rattles', p_reference => 'CRM-WO-1',
                                  p_dispatcher_worker_id => :d, p_engineer_worker_id => :e) AS wo \gset
SELECT state, engineer_worker_id = :e AS to_e, ST_Equals(geom, (SELECT geom FROM fieldops.customer WHERE customer_id = :c1)) AS at_customer
  FROM fieldops.work_order WHERE work_order_id = :wo;
SELECT fieldops.set_work_order_state(:wt, :wo, 'accepted', :e2) AS e2_accepts,
       fieldops.set_work_order_state(:wt, :wo, 'accepted', :e) AS e_accepts,
       fieldops.set_work_order_state(:wt, :wo, 'travelling', :e) AS travelling;
-- parts taken along from the warehouse (by the dispatcher) before arriving
SELECT fieldops.issue_part(:wt, :wo, :cbl, :wh, 5, :d) AS cable_issued,
       fieldops.issue_part(:wt, :wo, :flt, :wh, 1, :e) AS filter_issued;
SELECT fieldops.consume_part(:wt, :wo, :cbl, 1, :e) AS before_arriving;
SELECT fieldops.set_work_order_state(:wt, :wo, 'on_site', :e) AS on_site,
       fieldops.set_work_order_state(:wt, :wo, 'repairing', :e) AS repairing;
SELECT fieldops.consume_part(:wt, :wo, :cbl, 2.5, :e) AS cable_used,
       fieldops.consume_part(:wt, :wo, :flt, 1, :e, :van) AS filter_from_van,
       fieldops.consume_part(:wt, :wo, :vlv, 1, :e, :van) AS valve_from_van,
       fieldops.return_part(:wt, :wo, :cbl, :wh, 2.5, :e) AS cable_back,
       fieldops.return_part(:wt, :wo, :flt, :van, 1, :e) AS filter_back_to_van;
UPDATE fieldops.work_order SET created_at = created_at - interval '2 hours' WHERE work_order_id = :wo;  -- (to record labour in the past)
SELECT fieldops.record_labour(:wt, :wo, :e, now() - interval '95 minutes', now() - interval '20 minutes', 'replaced the filter and a valve') AS labour,
       fieldops.record_labour(:wt, :wo, :e2, now() - interval '90 minutes', now() - interval '30 minutes') AS not_the_engineer;
SELECT p.sku, wp.issued, wp.consumed, wp.returned FROM fieldops.work_order_part wp JOIN fieldops.part p USING (tenant_id, part_id)
 WHERE wp.work_order_id = :wo ORDER BY p.sku;
SELECT l.code, p.sku, s.on_hand FROM fieldops.stock_level s JOIN fieldops.stock_location l USING (tenant_id, location_id)
  JOIN fieldops.part p USING (tenant_id, part_id) WHERE s.tenant_id = :wt ORDER BY l.code, p.sku;
-- done: the content is frozen; what the customer sees and signs
SELECT fieldops.set_work_order_state(:wt, :wo, 'awaiting_signature', :e) AS awaiting;
SELECT content, content_sha256 AS h FROM fieldops.work_order_content(:wt, :wo) \gset
SELECT wo_test.mask(:'content') AS content;
SELECT content_sha256 = :'h'::bytea AS frozen_hash_is_current FROM fieldops.work_order WHERE work_order_id = :wo;
SELECT fieldops.consume_part(:wt, :wo, :cbl, 1, :e) AS no_more_parts,
       fieldops.record_labour(:wt, :wo, :e, now() - interval '10 minutes', now() - interval '5 minutes') AS no_more_labour,
       fieldops.set_work_order_state(:wt, :wo, 'completed', :e) AS complete_without_signature;
SELECT wo_test.mask(convert_from(fieldops.work_order_signing_message(:wt, :wo, :'h', '李先生'), 'UTF8')) AS message;
SELECT wo_test.sign('es256', :'e_seed', :wo, :'h', '李先生') AS sig \gset
SELECT fieldops.sign_work_order(:wt, :wo, :e_phone, :'h', '李先生', :'sig') AS signed;
SELECT state, resolved_at IS NOT NULL AS resolved, resolve_breached_at IS NULL AS in_time, content_sha256 = :'h'::bytea AS signed_hash
  FROM fieldops.work_order WHERE work_order_id = :wo;
SELECT fieldops.sign_work_order(:wt, :wo, :e_phone, :'h', '李先生', :'sig') AS sent_again;
SELECT signature_id IS NOT NULL AS one, signer_name, algorithm, key_status, valid, content_intact, is_current
  FROM fieldops.verify_work_order_signatures(:wt, :wo);
SELECT s.content = :'content' AS stored_as_signed, s.key_id = :'e_key'::bytea AS with_e_key, s.worker_id = :e AS by_e
  FROM fieldops.work_order_signature s WHERE s.work_order_id = :wo;
SELECT fieldops.set_work_order_state(:wt, :wo, 'closed', :e) AS engineer_closes,
       fieldops.set_work_order_state(:wt, :wo, 'closed', :d) AS dispatcher_closes;
SELECT h.from_state, h.to_state, coalesce(w.external_ref, '(app)') AS actor, h.actor_role, h.reason
  FROM fieldops.work_order_history h LEFT JOIN fieldops.worker w ON w.tenant_id = h.tenant_id AND w.worker_id = h.actor_worker_id
 WHERE h.tenant_id = :wt AND h.work_order_id = :wo ORDER BY h.history_id;
SELECT topic, payload ->> 'from' AS "from", payload ->> 'to' AS "to", payload ->> 'quantity' AS quantity, payload ->> 'signer_name' AS signer
  FROM fieldops.outbox WHERE tenant_id = :wt AND aggregate_type = 'work_order' AND aggregate_id = :wo ORDER BY event_id;

--
-- 4. Stock: the ledger, overdraws refused, states, roles, invariants
--
SELECT m.kind, p.sku, l.code AS location, m.work_order_id = :wo AS for_wo, m.quantity, m.on_hand_after, w.external_ref AS actor
  FROM fieldops.stock_movement m JOIN fieldops.part p USING (tenant_id, part_id)
  LEFT JOIN fieldops.stock_location l ON l.tenant_id = m.tenant_id AND l.location_id = m.location_id
  LEFT JOIN fieldops.worker w ON w.tenant_id = m.tenant_id AND w.worker_id = m.actor_worker_id
 WHERE m.tenant_id = :wt ORDER BY m.movement_id;
SELECT fieldops.create_work_order(:wt, :c1, 'Stock catalogue', p_dispatcher_worker_id => :d, p_engineer_worker_id => :e) AS wo2 \gset
SELECT fieldops.issue_part(:wt, :wo2, :flt, :van, 1, :x) AS stranger_issues,
       fieldops.issue_part(:wt, :wo2, :flt, :van, 1, :l) AS lead_issues,
       fieldops.issue_part(:wt, :wo2, :flt, :van, 3, :e) AS more_than_the_van_holds,
       fieldops.issue_part(:wt, :wo2, :vlv, :van, 1, :e) AS none_left,
       fieldops.issue_part(:wt, :wo2, :vlv, :wh, 1, :e) AS never_there;
SELECT fieldops.consume_part(:wt, :wo2, :flt, 1, :e) AS consume_before_arriving;
SELECT fieldops.set_work_order_state(:wt, :wo2, 'accepted', :e), fieldops.set_work_order_state(:wt, :wo2, 'travelling', :e),
       fieldops.set_work_order_state(:wt, :wo2, 'on_site', :e);
SELECT fieldops.consume_part(:wt, :wo2, :flt, 1.5, :e) AS more_than_issued,
       fieldops.consume_part(:wt, :wo2, :flt, 1, :d) AS dispatcher_consumes,
       fieldops.consume_part(:wt, :wo2, :flt, 1, :e) AS consumes,
       fieldops.consume_part(:wt, :wo2, :flt, 0.001, :e) AS nothing_left_on_the_order,
       fieldops.consume_part(:wt, :wo2, :flt, 5, :e, :wh) AS from_the_warehouse,
       fieldops.consume_part(:wt, :wo2, :flt, 5, :e, :wh) AS warehouse_short;
SELECT fieldops.return_part(:wt, :wo2, :flt, :wh, 1, :e) AS return_consumed,
       fieldops.return_part(:wt, :wo2, :cbl, :wh, 1, :e) AS return_never_issued,
       fieldops.return_part(:wt, :wo2, :flt, :wh, 1, :x) AS stranger_returns;
SELECT fieldops.issue_part(:wt, :wo2, :cbl, :wh, 10, :e) AS cable, fieldops.return_part(:wt, :wo2, :cbl, :van, 10.001, :e) AS too_much,
       fieldops.return_part(:wt, :wo2, :cbl, :van, 4, :e) AS to_the_van, fieldops.return_part(:wt, :wo2, :cbl, :wh, 6, :e) AS rest_to_the_warehouse;
-- a discontinued part is not issued; an inactive location neither takes nor gives, but takes returns
SELECT wo_test.err(format('SELECT fieldops.issue_part(%s, %s, %s, %s, 1, %s)', :wt, :wo2, :old, :wh, :e)) AS discontinued;
SELECT fieldops.upsert_stock_location(:wt, 'VAN-E', 'Van of 王工 (in the garage)', 'van', :e, false) = :van AS van_retired;
SELECT wo_test.err(format('SELECT fieldops.consume_part(%s, %s, %s, 1, %s, %s)', :wt, :wo2, :flt, :e, :van)) AS from_retired_van,
       wo_test.err(format('SELECT fieldops.receive_stock(%s, %s, %s, 1)', :wt, :van, :flt)) AS into_retired_van;
SELECT fieldops.issue_part(:wt, :wo2, :flt, :wh, 1, :e) AS one_more, fieldops.return_part(:wt, :wo2, :flt, :van, 1, :e) AS back_to_retired_van;
SELECT fieldops.upsert_stock_location(:wt, 'VAN-E', 'Van of 王工', 'van', :e) = :van AS van_back;
-- after cancellation unused parts still go back
SELECT fieldops.issue_part(:wt, :wo2, :flt, :wh, 2, :e) AS issued, fieldops.set_work_order_state(:wt, :wo2, 'cancelled', :d, 'customer replaced the fridge') AS cancelled,
       fieldops.issue_part(:wt, :wo2, :flt, :wh, 1, :e) AS issue_after_cancel, fieldops.return_part(:wt, :wo2, :flt, :wh, 2, :e) AS returned_after_cancel;
SELECT p.sku, wp.issued, wp.consumed, wp.returned, wp.issued - wp.consumed - wp.returned AS carried
  FROM fieldops.work_order_part wp JOIN fieldops.part p USING (tenant_id, part_id) WHERE wp.work_order_id = :wo2 ORDER BY p.sku;
SELECT l.code, p.sku, s.on_hand FROM fieldops.stock_level s JOIN fieldops.stock_location l USING (tenant_id, location_id)
  JOIN fieldops.part p USING (tenant_id, part_id) WHERE s.tenant_id = :wt ORDER BY l.code, p.sku;
SELECT count(*) AS invariant_violations FROM fieldops.check_stock_invariants(:wt);
-- the invariants catch a level or an order changed behind the ledger's back
BEGIN;
UPDATE fieldops.stock_level SET on_hand = on_hand + 1 WHERE tenant_id = :wt AND location_id = :wh AND part_id = :flt;
UPDATE fieldops.work_order_part SET consumed = consumed - 1 WHERE tenant_id = :wt AND work_order_id = :wo2 AND part_id = :flt;
SELECT i.invariant, l.code AS location, p.sku AS part, i.work_order_id = :wo2 AS wo2, i.expected, i.actual
  FROM fieldops.check_stock_invariants(:wt) i LEFT JOIN fieldops.stock_location l ON l.tenant_id = :wt AND l.location_id = i.location_id
  LEFT JOIN fieldops.part p ON p.tenant_id = :wt AND p.part_id = i.part_id ORDER BY 1;
ROLLBACK;
-- and a level never goes below zero, even written directly
SELECT wo_test.err(format('UPDATE fieldops.stock_level SET on_hand = -1 WHERE tenant_id = %s', :wt)) AS negative;
SELECT wo_test.err(format('UPDATE fieldops.work_order_part SET returned = issued + 1 WHERE tenant_id = %s', :wt)) AS overreturned;

--
-- 5. Signatures: Ed25519; tampered, stale, the wrong phone, no key, a revoked key
--
SELECT fieldops.create_work_order(:wt, :c1, 'Signature catalogue', 'high', p_dispatcher_worker_id => :d, p_engineer_worker_id => :e2) AS wo3 \gset
SELECT fieldops.set_work_order_state(:wt, :wo3, s, :e2) AS moved
  FROM unnest(ARRAY['accepted', 'travelling', 'on_site', 'repairing']) WITH ORDINALITY AS x(s, o) ORDER BY o;
SELECT fieldops.consume_part(:wt, :wo3, :flt, 1, :e2, :wh) AS filter,
       fieldops.set_work_order_state(:wt, :wo3, 'awaiting_signature', :e2) AS awaiting;
SELECT content_sha256 AS h3 FROM fieldops.work_order_content(:wt, :wo3) \gset
SELECT wo_test.sign('ed25519', :'e2_seed', :wo3, :'h3', 'Ms Zhou') AS sig3 \gset
SELECT fieldops.sign_work_order(:wt, :wo3, :e2_phone, sha256('other content'), 'Ms Zhou', :'sig3') AS tampered_hash,
       fieldops.sign_work_order(:wt, :wo3, :e2_phone, :'h3', 'Mr Zhou', :'sig3') AS other_signer,
       fieldops.sign_work_order(:wt, :wo3, :e2_phone, :'h3', 'Ms Zhou', set_byte(:'sig3'::bytea, 9, get_byte(:'sig3'::bytea, 9) # 1)) AS tampered_signature,
       fieldops.sign_work_order(:wt, :wo3, :e2_phone, :'h3', 'Ms Zhou', '\x') AS empty_signature,
       fieldops.sign_work_order(:wt, :wo3, :e_phone, :'h3', 'Ms Zhou', wo_test.sign('es256', :'e_seed', :wo3, :'h3', 'Ms Zhou')) AS another_engineers_phone,
       fieldops.sign_work_order(:wt, :wo3, :x_phone, :'h3', 'Ms Zhou', wo_test.sign('es256', :'x_seed', :wo3, :'h3', 'Ms Zhou')) AS strangers_phone,
       fieldops.sign_work_order(:wt, :wo3, :e2_phone, :'h3', 'Ms Zhou', wo_test.sign('ed25519', :'x_seed', :wo3, :'h3', 'Ms Zhou')) AS another_key;
-- a genuine signature, but the engineer went back to work and the content changed: stale
SELECT fieldops.set_work_order_state(:wt, :wo3, 'repairing', :e2) AS back_without_reason,
       fieldops.set_work_order_state(:wt, :wo3, 'repairing', :e2, 'the customer found a second leak') AS back;
SELECT content_sha256 IS NULL AS unfrozen FROM fieldops.work_order WHERE work_order_id = :wo3;
SELECT fieldops.sign_work_order(:wt, :wo3, :e2_phone, :'h3', 'Ms Zhou', :'sig3') AS while_repairing;
SELECT fieldops.consume_part(:wt, :wo3, :cbl, 0.5, :e2, :wh) AS cable, fieldops.set_work_order_state(:wt, :wo3, 'awaiting_signature', :e2) AS awaiting;
SELECT content_sha256 AS h3b FROM fieldops.work_order_content(:wt, :wo3) \gset
SELECT :'h3b' <> :'h3' AS content_changed;
SELECT fieldops.sign_work_order(:wt, :wo3, :e2_phone, :'h3', 'Ms Zhou', :'sig3') AS old_signature;
-- the order changed behind the freeze (the CRM renamed the customer): stale too
SELECT fieldops.upsert_customer(:wt, 'WC1', '全家 FamilyMart (renamed)') = :c1 AS renamed;
SELECT fieldops.sign_work_order(:wt, :wo3, :e2_phone, :'h3b', 'Ms Zhou', wo_test.sign('ed25519', :'e2_seed', :wo3, :'h3b', 'Ms Zhou')) AS renamed_under_it;
SELECT fieldops.upsert_customer(:wt, 'WC1', '全家 FamilyMart 世纪大道店') = :c1 AS name_back;
-- the key is revoked: nothing signs; a new key (rotation) signs again
SELECT fieldops.revoke_device_key(:wt, :'e2_key', 'phone lost');
SELECT fieldops.sign_work_order(:wt, :wo3, :e2_phone, :'h3b', 'Ms Zhou', wo_test.sign('ed25519', :'e2_seed', :wo3, :'h3b', 'Ms Zhou')) AS revoked_key;
SELECT fieldops.register_device_key(:wt, :e2_phone, 'ed25519', photo_test.public_key('ed25519', sha256('wo test e2 new'))) IS NOT NULL AS new_key;
SELECT fieldops.sign_work_order(:wt, :wo3, :e2_phone, :'h3b', 'Ms Zhou', wo_test.sign('ed25519', :'e2_seed', :wo3, :'h3b', 'Ms Zhou')) AS old_key,
       fieldops.sign_work_order(:wt, :wo3, :e2_phone, :'h3b', 'Ms Zhou', wo_test.sign('ed25519', sha256('wo test e2 new'), :wo3, :'h3b', 'Ms Zhou')) AS new_key;
SELECT fieldops.sign_work_order(:wt, :wo3, :e2_phone, :'h3b', 'Ms Zhou', wo_test.sign('ed25519', sha256('wo test e2 new'), :wo3, :'h3b', 'Ms Zhou')) AS sent_again,
       fieldops.sign_work_order(:wt, :wo3, :e2_phone, :'h3b', 'Mr Zhou', wo_test.sign('ed25519', sha256('wo test e2 new'), :wo3, :'h3b', 'Mr Zhou')) AS another_signer_after;
-- a phone without a key
SELECT fieldops.create_work_order(:wt, :c1, 'No key', p_engineer_worker_id => :e3) AS wo4 \gset
SELECT fieldops.set_work_order_state(:wt, :wo4, s, :e3) AS moved
  FROM unnest(ARRAY['accepted', 'travelling', 'on_site', 'repairing', 'awaiting_signature']) WITH ORDINALITY AS x(s, o) ORDER BY o;
SELECT fieldops.sign_work_order(:wt, :wo4, :e3_phone, c.content_sha256, 'Mr Qian', decode(repeat('01', 64), 'hex')) AS no_key
  FROM fieldops.work_order_content(:wt, :wo4) c;
-- reopened: the old signature stays valid, its content is no longer the order's
SELECT fieldops.set_work_order_state(:wt, :wo3, 'reopened', :d) AS without_reason,
       fieldops.set_work_order_state(:wt, :wo3, 'reopened', :d, 'leak again') AS reopened,
       fieldops.dispatch_work_order(:wt, :wo3, :d, :e) AS to_e,
       fieldops.set_work_order_state(:wt, :wo3, 'accepted', :e) AS accepted;
SELECT signer_name, valid, content_intact, is_current FROM fieldops.verify_work_order_signatures(:wt, :wo3) ORDER BY signature_id;
SELECT reopen_count, content_sha256 IS NULL AS unfrozen, closed_at IS NULL AS not_closed FROM fieldops.work_order WHERE work_order_id = :wo3;
-- the signatures, the history, the ledger and the labour are append-only
SELECT r, bool_or(has_table_privilege(r, t, 'UPDATE') OR has_table_privilege(r, t, 'DELETE')) AS may_rewrite
  FROM unnest(ARRAY['fieldops_api', 'fieldops_admin', 'fieldops_app']) r,
       unnest(ARRAY['fieldops.work_order_signature', 'fieldops.work_order_history', 'fieldops.stock_movement', 'fieldops.work_order_labour']) t
 GROUP BY r ORDER BY r;

--
-- 6. Every (from, to) pair for every kind of actor, checked against the
--    table.  An order created by D (engineer E from dispatched on, its
--    content frozen when awaiting the signature) is put in state "from"
--    directly; then D (its dispatcher), E (its engineer), S (the
--    application) or X (a stranger) asks to move it to "to" (dispatched:
--    dispatch_work_order() to E2).  Each trial rolls back.
--
CREATE FUNCTION wo_test.trial(p_from text, p_to text, p_actor text, p_reason boolean,
                              OUT status text, OUT state_after text, OUT history_rows bigint, OUT events bigint)
LANGUAGE plpgsql AS $$
DECLARE
    t bigint := wo_test.id('tenant');
    v_actor bigint := CASE p_actor WHEN 'S' THEN NULL ELSE wo_test.id(p_actor) END;
    v_wo bigint;
    v_h bigint;
    v_e bigint;
BEGIN
    BEGIN
        v_wo := fieldops.create_work_order(t, wo_test.id('C1'), 'matrix', p_dispatcher_worker_id => wo_test.id('D'));
        UPDATE fieldops.work_order
           SET state = p_from,
               engineer_worker_id = CASE WHEN p_from = 'created' THEN NULL ELSE wo_test.id('E') END,
               content_sha256 = CASE WHEN p_from IN ('awaiting_signature', 'completed', 'closed')
                                     THEN (fieldops.work_order_content(t, v_wo)).content_sha256 END
         WHERE tenant_id = t AND work_order_id = v_wo;
        SELECT count(*) INTO v_h FROM fieldops.work_order_history WHERE tenant_id = t AND work_order_id = v_wo;
        SELECT coalesce(max(event_id), 0) INTO v_e FROM fieldops.outbox WHERE tenant_id = t;
        IF p_to = 'dispatched' THEN
            status := fieldops.dispatch_work_order(t, v_wo, v_actor, wo_test.id('E2'), CASE WHEN p_reason THEN 'matrix' END);
        ELSE
            status := fieldops.set_work_order_state(t, v_wo, p_to, v_actor, CASE WHEN p_reason THEN 'matrix' END);
        END IF;
        SELECT x.state INTO state_after FROM fieldops.work_order x WHERE x.tenant_id = t AND x.work_order_id = v_wo;
        history_rows := (SELECT count(*) FROM fieldops.work_order_history WHERE tenant_id = t AND work_order_id = v_wo) - v_h;
        events := (SELECT count(*) FROM fieldops.outbox WHERE tenant_id = t AND event_id > v_e);
        RAISE EXCEPTION USING ERRCODE = 'ZZ999';
    EXCEPTION WHEN SQLSTATE 'ZZ999' THEN
        NULL;
    END;
END $$;
CREATE FUNCTION wo_test.expected(p_from text, p_to text, p_actor text, p_reason boolean) RETURNS text
LANGUAGE sql STABLE AS $$
    WITH r AS (
        SELECT ARRAY(SELECT x.role FROM (VALUES
                   ('dispatcher', p_actor = 'D'),
                   ('engineer', p_actor = 'E' AND p_from <> 'created'),
                   ('system', p_actor = 'S')) AS x(role, has) WHERE x.has) AS roles),
    moves AS (SELECT * FROM fieldops.state_transition s WHERE s.machine = 'work_order' AND s.from_state = p_from AND s.to_state = p_to)
    SELECT CASE
        WHEN NOT EXISTS (SELECT 1 FROM moves) THEN CASE WHEN p_from = p_to THEN 'unchanged' ELSE 'invalid_transition' END
        WHEN NOT EXISTS (SELECT 1 FROM moves WHERE actor_role = ANY (r.roles)) THEN 'not_permitted'
        WHEN (SELECT bool_or(needs_signature) FROM moves WHERE actor_role = ANY (r.roles)) THEN 'signature_required'
        WHEN NOT p_reason AND (SELECT bool_or(reason_required) FROM moves WHERE actor_role = ANY (r.roles)) THEN 'reason_required'
        ELSE 'ok' END
      FROM r
$$;
CREATE TABLE wo_test.matrix AS
SELECT f.state AS from_state, t.state AS to_state, a.actor, p.with_reason, r.*,
       wo_test.expected(f.state, t.state, a.actor, p.with_reason) AS expected
  FROM (SELECT from_state AS state FROM fieldops.state_transition WHERE machine = 'work_order'
        UNION SELECT to_state FROM fieldops.state_transition WHERE machine = 'work_order') AS f,
       (SELECT from_state AS state FROM fieldops.state_transition WHERE machine = 'work_order'
        UNION SELECT to_state FROM fieldops.state_transition WHERE machine = 'work_order') AS t,
       (VALUES ('D'), ('E'), ('S'), ('X')) AS a(actor),
       (VALUES (true), (false)) AS p(with_reason),
       LATERAL wo_test.trial(f.state, t.state, a.actor, p.with_reason) AS r;
SELECT count(*) AS trials, count(DISTINCT from_state) AS states,
       count(*) FILTER (WHERE status = expected) AS as_the_table_says FROM wo_test.matrix;
SELECT * FROM wo_test.matrix WHERE status IS DISTINCT FROM expected;
SELECT from_state, to_state, actor, with_reason, status, state_after, history_rows, events FROM wo_test.matrix
 WHERE CASE WHEN status = 'ok' THEN state_after IS DISTINCT FROM to_state OR history_rows <> 1 OR events <> 1
            ELSE state_after IS DISTINCT FROM from_state OR history_rows <> 0 OR events <> 0 END;
-- every row of the table was made by an actor of its role (the signature
-- row by sign_work_order() in section 5)
SELECT s.from_state, s.to_state, s.actor_role AS never_made FROM fieldops.state_transition s
 WHERE s.machine = 'work_order' AND NOT s.needs_signature
   AND NOT EXISTS (SELECT 1 FROM wo_test.matrix m
                    WHERE m.from_state = s.from_state AND m.to_state = s.to_state AND m.status = 'ok' AND m.with_reason
                      AND m.actor = CASE s.actor_role WHEN 'dispatcher' THEN 'D' WHEN 'system' THEN 'S' ELSE 'E' END);
SELECT status, count(*) FROM wo_test.matrix GROUP BY 1 ORDER BY 1;
-- the matrix; each cell the outcome for D E S X: o ok, r reason_required,
-- s signature_required, u unchanged, x not_permitted, - invalid_transition
CREATE FUNCTION wo_test.cell(p_from text, p_to text, p_with_reason boolean) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT string_agg(CASE status WHEN 'ok' THEN 'o' WHEN 'reason_required' THEN 'r' WHEN 'signature_required' THEN 's'
                                  WHEN 'unchanged' THEN 'u' WHEN 'not_permitted' THEN 'x' WHEN 'invalid_transition' THEN '-'
                                  ELSE '?' END, '' ORDER BY array_position(ARRAY['D', 'E', 'S', 'X'], actor))
      FROM wo_test.matrix WHERE from_state = p_from AND to_state = p_to AND with_reason = p_with_reason
$$;
SELECT CASE WHEN w THEN 'reason given' ELSE 'no reason' END AS pass, f AS "from \ to",
       wo_test.cell(f, 'created', w) AS created, wo_test.cell(f, 'dispatched', w) AS dispatched,
       wo_test.cell(f, 'accepted', w) AS accepted, wo_test.cell(f, 'travelling', w) AS travelling,
       wo_test.cell(f, 'on_site', w) AS on_site, wo_test.cell(f, 'repairing', w) AS repairing,
       wo_test.cell(f, 'awaiting_signature', w) AS awaiting_sig, wo_test.cell(f, 'completed', w) AS completed,
       wo_test.cell(f, 'closed', w) AS closed, wo_test.cell(f, 'cancelled', w) AS cancelled, wo_test.cell(f, 'reopened', w) AS reopened
  FROM (VALUES (true), (false)) AS p(w),
       unnest(ARRAY['created', 'dispatched', 'accepted', 'travelling', 'on_site', 'repairing', 'awaiting_signature',
                    'completed', 'closed', 'cancelled', 'reopened']) WITH ORDINALITY AS s(f, o)
 ORDER BY w DESC, o;
-- roles beyond the matrix: the lead of the engineer's team and a manager above the dispatcher
SELECT fieldops.create_work_order(:wt, :c1, 'Roles', p_dispatcher_worker_id => :d, p_engineer_worker_id => :e) AS wo5 \gset
SELECT fieldops.dispatch_work_order(:wt, :wo5, :l, :e2, 'E is ill') AS lead_reassigns,
       fieldops.dispatch_work_order(:wt, :wo5, :boss, :e2, 'again') AS boss_same_engineer,
       fieldops.set_work_order_state(:wt, :wo5, 'created', :e2, 'not my area') AS e2_declines,
       fieldops.dispatch_work_order(:wt, :wo5, :e2, :e2) AS engineer_dispatches_himself,
       fieldops.set_work_order_state(:wt, :wo5, 'cancelled', :boss, 'duplicate') AS boss_cancels;
SELECT state, engineer_worker_id FROM fieldops.work_order WHERE work_order_id = :wo5;

--
-- 7. SLA breaches: found once each, by the job or by a late transition
--
-- five urgent orders whose deadlines lie in the past (as if created 10 hours ago)
CREATE TABLE wo_test.sla AS
SELECT n, fieldops.create_work_order(:wt, :c1, 'SLA case ' || n, 'urgent', p_dispatcher_worker_id => :d,
                                     p_engineer_worker_id => CASE WHEN n > 1 THEN :e END) AS id
  FROM generate_series(1, 5) n;
UPDATE fieldops.work_order w SET created_at = created_at - interval '10 hours', respond_by = respond_by - interval '10 hours',
       resolve_by = resolve_by - interval '10 hours' FROM wo_test.sla s WHERE w.work_order_id = s.id;
-- 1: never dispatched; 2: accepted late now; 3: accepted before, now repairing; 4: cancelled; 5: deadlines moved to the future
UPDATE fieldops.work_order SET responded_at = now() - interval '9 hours 45 minutes', state = 'repairing'
 WHERE work_order_id = (SELECT id FROM wo_test.sla WHERE n = 3);
SELECT fieldops.set_work_order_state(:wt, (SELECT id FROM wo_test.sla WHERE n = 4), 'cancelled', :d, 'duplicate') AS cancelled;
UPDATE fieldops.work_order SET respond_by = now() + interval '1 hour', resolve_by = now() + interval '2 hours'
 WHERE work_order_id = (SELECT id FROM wo_test.sla WHERE n = 5);
SELECT fieldops.set_work_order_state(:wt, (SELECT id FROM wo_test.sla WHERE n = 2), 'accepted', :e) AS late_acceptance;
SELECT s.n, w.state, w.respond_breached_at IS NOT NULL AS respond_breached, w.resolve_breached_at IS NOT NULL AS resolve_breached
  FROM wo_test.sla s JOIN fieldops.work_order w ON w.work_order_id = s.id ORDER BY s.n;
-- the job (one per tenant, every minute): a batch of one asks to run again, then the rest, then nothing
SELECT job_name, function_name, scope, schedule, args FROM fieldops.builtin_jobs() WHERE job_name = 'work_order_sla';
SELECT fieldops.job_work_order_sla(:wt, '{"batch": 1}') AS first_run;
SELECT fieldops.job_work_order_sla(:wt, '{}') AS second_run;
SELECT fieldops.job_work_order_sla(:wt, '{}') AS third_run;
SELECT s.n, w.state, w.respond_breached_at IS NOT NULL AS respond_breached, w.resolve_breached_at IS NOT NULL AS resolve_breached,
       (SELECT string_agg(o.payload ->> 'sla', ', ' ORDER BY o.event_id) FROM fieldops.outbox o
         WHERE o.tenant_id = :wt AND o.topic = 'work_order.sla_breached' AND o.aggregate_id = s.id) AS breach_events
  FROM wo_test.sla s JOIN fieldops.work_order w ON w.work_order_id = s.id ORDER BY s.n;
-- the other orders of this tenant are in time or closed (their breaches, if any, were counted above)
SELECT count(*) FILTER (WHERE respond_breached_at IS NOT NULL OR resolve_breached_at IS NOT NULL) AS breached_elsewhere
  FROM fieldops.work_order WHERE tenant_id = :wt AND work_order_id NOT IN (SELECT id FROM wo_test.sla);
SELECT wo_test.err(format('SELECT fieldops.job_work_order_sla(%s, %L)', :wt, '{"batch": 0}')) AS bad_batch;

--
-- 8. Bad input: every function, every argument (SQLSTATE and message)
--
SELECT fieldops.create_tenant('Work Order Test Other', 'Asia/Shanghai') AS other \gset
INSERT INTO wo_test.ids VALUES ('other', :other, 'tenant');
SELECT fieldops.set_tenant(:wt, false) IS NOT NULL AS back;
SELECT fieldops.create_work_order(:wt, :c1, 'Bad input target', p_dispatcher_worker_id => :d, p_engineer_worker_id => :e) AS wo6 \gset
SELECT wo_test.err(q) AS result FROM (VALUES
    -- create_work_order
    (format('SELECT fieldops.create_work_order(%s, NULL, %L)', :wt, 'x')),
    (format('SELECT fieldops.create_work_order(%s, 987654321, %L)', :wt, 'x')),
    (format('SELECT fieldops.create_work_order(%s, %s, %L)', :wt, :c2, 'no position')),
    (format('SELECT fieldops.create_work_order(%s, %s, NULL)', :wt, :c1)),
    (format('SELECT fieldops.create_work_order(%s, %s, %L)', :wt, :c1, repeat('t', 201))),
    (format('SELECT fieldops.create_work_order(%s, %s, %L, %L)', :wt, :c1, 'x', 'critical')),
    (format('SELECT fieldops.create_work_order(%s, %s, %L, p_description => %L)', :wt, :c1, 'x', repeat('d', 4001))),
    (format('SELECT fieldops.create_work_order(%s, %s, %L, p_location => ST_SetSRID(ST_MakePoint(0, 0), 4326))', :wt, :c1, 'x')),
    (format('SELECT fieldops.create_work_order(%s, %s, %L, p_reference => %L)', :wt, :c1, 'x', 'CRM-WO-1')),
    (format('SELECT fieldops.create_work_order(%s, %s, %L, p_reference => %L)', :wt, :c1, 'x', '')),
    (format('SELECT fieldops.create_work_order(%s, %s, %L, p_dispatcher_worker_id => 987654321)', :wt, :c1, 'x')),
    (format('SELECT fieldops.create_work_order(%s, %s, %L, p_engineer_worker_id => 987654321)', :wt, :c1, 'x')),
    -- dispatch_work_order, set_work_order_state
    (format('SELECT fieldops.dispatch_work_order(%s, NULL, %s, %s)', :wt, :d, :e)),
    (format('SELECT fieldops.dispatch_work_order(%s, %s, %s, NULL)', :wt, :wo6, :d)),
    (format('SELECT fieldops.dispatch_work_order(%s, %s, %s, 987654321, %L)', :wt, :wo6, :d, 'x')),
    (format('SELECT fieldops.dispatch_work_order(%s, %s, %s, %s, %L)', :wt, :wo6, :d, :e2, repeat('r', 501))),
    (format('SELECT fieldops.set_work_order_state(%s, %s, NULL, %s)', :wt, :wo6, :e)),
    (format('SELECT fieldops.set_work_order_state(%s, %s, %L, %s)', :wt, :wo6, 'fixed', :e)),
    (format('SELECT fieldops.set_work_order_state(%s, %s, %L, %s)', :wt, :wo6, 'dispatched', :d)),
    (format('SELECT fieldops.set_work_order_state(%s, %s, %L, %s)', :wt, :wo6, 'in_progress', :e)),
    (format('SELECT fieldops.set_work_order_state(%s, 0, %L, %s)', :wt, 'accepted', :e)),
    (format('SELECT fieldops.set_work_order_state(%s, %s, %L, 987654321)', :wt, :wo6, 'accepted')),
    -- sign_work_order
    (format('SELECT fieldops.sign_work_order(%s, %s, %s, NULL, %L, %L)', :wt, :wo6, :e_phone, 'x', '\x00')),
    (format('SELECT fieldops.sign_work_order(%s, %s, %s, %L, %L, NULL)', :wt, :wo6, :e_phone, sha256(''), 'x')),
    (format('SELECT fieldops.sign_work_order(%s, %s, %s, %L, %L, %L)', :wt, :wo6, :e_phone, '\x0102', 'x', '\x00')),
    (format('SELECT fieldops.sign_work_order(%s, %s, %s, %L, %L, %L)', :wt, :wo6, :e_phone, sha256(''), '  ', '\x00')),
    (format('SELECT fieldops.sign_work_order(%s, %s, %s, %L, %L, %L)', :wt, :wo6, :e_phone, sha256(''), repeat('n', 201), '\x00')),
    (format('SELECT fieldops.sign_work_order(%s, %s, %s, %L, %L, %L)', :wt, :wo6, :e_phone, sha256(''), 'x', decode(repeat('00', 513), 'hex'))),
    (format('SELECT fieldops.sign_work_order(%s, %s, NULL, %L, %L, %L)', :wt, :wo6, sha256(''), 'x', '\x00')),
    (format('SELECT fieldops.sign_work_order(%s, %s, 987654321, %L, %L, %L)', :wt, :wo6, sha256(''), 'x', '\x00')),
    (format('SELECT fieldops.sign_work_order(%s, NULL, %s, %L, %L, %L)', :wt, :e_phone, sha256(''), 'x', '\x00')),
    -- parts
    (format('SELECT fieldops.upsert_part(%s, %L, %L)', :wt, 'has space', 'x')),
    (format('SELECT fieldops.upsert_part(%s, %L, NULL)', :wt, 'P1')),
    (format('SELECT fieldops.upsert_part(%s, %L, %L, %L)', :wt, 'P1', 'x', repeat('u', 17))),
    (format('SELECT fieldops.upsert_stock_location(%s, %L, %L, %L)', :wt, 'L1', 'x', 'truck')),
    (format('SELECT fieldops.upsert_stock_location(%s, %L, %L, %L, %s)', :wt, 'L1', 'x', 'warehouse', :e)),
    (format('SELECT fieldops.upsert_stock_location(%s, %L, %L, %L, 987654321)', :wt, 'L1', 'x', 'van')),
    (format('SELECT fieldops.upsert_stock_location(%s, NULL, %L, %L)', :wt, 'x', 'van')),
    (format('SELECT fieldops.receive_stock(%s, %s, %s, 0)', :wt, :wh, :flt)),
    (format('SELECT fieldops.receive_stock(%s, %s, %s, -1)', :wt, :wh, :flt)),
    (format('SELECT fieldops.receive_stock(%s, %s, %s, 0.0001)', :wt, :wh, :flt)),
    (format('SELECT fieldops.receive_stock(%s, %s, %s, 1000001)', :wt, :wh, :flt)),
    (format('SELECT fieldops.receive_stock(%s, %s, %s, NULL)', :wt, :wh, :flt)),
    (format('SELECT fieldops.receive_stock(%s, 987654321, %s, 1)', :wt, :flt)),
    (format('SELECT fieldops.receive_stock(%s, %s, 987654321, 1)', :wt, :wh)),
    (format('SELECT fieldops.receive_stock(%s, NULL, %s, 1)', :wt, :flt)),
    (format('SELECT fieldops.receive_stock(%s, %s, %s, 1, p_note => %L)', :wt, :wh, :flt, repeat('n', 501))),
    (format('SELECT fieldops.issue_part(%s, %s, %s, NULL, 1, %s)', :wt, :wo6, :flt, :e)),
    (format('SELECT fieldops.issue_part(%s, %s, %s, %s, 1, NULL)', :wt, :wo6, :flt, :wh)),
    (format('SELECT fieldops.issue_part(%s, NULL, %s, %s, 1, %s)', :wt, :flt, :wh, :e)),
    (format('SELECT fieldops.issue_part(%s, %s, NULL, %s, 1, %s)', :wt, :wo6, :wh, :e)),
    (format('SELECT fieldops.consume_part(%s, %s, %s, 0, %s)', :wt, :wo6, :flt, :e)),
    (format('SELECT fieldops.consume_part(%s, %s, 987654321, 1, %s)', :wt, :wo6, :e)),
    (format('SELECT fieldops.return_part(%s, %s, %s, NULL, 1, %s)', :wt, :wo6, :flt, :e)),
    (format('SELECT fieldops.return_part(%s, %s, %s, %s, 1, 987654321)', :wt, :wo6, :flt, :wh)),
    -- labour
    (format('SELECT fieldops.record_labour(%s, %s, %s, NULL, now())', :wt, :wo6, :e)),
    (format('SELECT fieldops.record_labour(%s, %s, %s, now(), now() - interval %L)', :wt, :wo6, :e, '1 minute')),
    (format('SELECT fieldops.record_labour(%s, %s, %s, now() - interval %L, now())', :wt, :wo6, :e, '25 hours')),
    (format('SELECT fieldops.record_labour(%s, %s, %s, now(), now() + interval %L)', :wt, :wo6, :e, '1 hour')),
    (format('SELECT fieldops.record_labour(%s, %s, %s, %L, now())', :wt, :wo6, :e, '-infinity')),
    (format('SELECT fieldops.record_labour(%s, %s, NULL, now() - interval %L, now())', :wt, :wo6, '1 hour')),
    (format('SELECT fieldops.record_labour(%s, %s, %s, now() - interval %L, now(), %L)', :wt, :wo6, :e, '1 hour', repeat('n', 501))),
    -- readers
    (format('SELECT fieldops.work_order_content(%s, NULL)', :wt)),
    (format('SELECT fieldops.verify_work_order_signatures(%s, -1)', :wt)),
    -- another tenant's id
    (format('SELECT fieldops.create_work_order(%s, %s, %L)', :other, :c1, 'x')),
    (format('SELECT fieldops.dispatch_work_order(%s, %s, NULL, %s)', :other, :wo6, :e)),
    (format('SELECT fieldops.set_work_order_state(%s, %s, %L, NULL, %L)', :other, :wo6, 'cancelled', 'x')),
    (format('SELECT fieldops.sign_work_order(%s, %s, %s, %L, %L, %L)', :other, :wo6, :e_phone, sha256(''), 'x', '\x00')),
    (format('SELECT fieldops.upsert_part(%s, %L, %L)', :other, 'P', 'x')),
    (format('SELECT fieldops.upsert_stock_location(%s, %L, %L, %L)', :other, 'L', 'x', 'van')),
    (format('SELECT fieldops.receive_stock(%s, %s, %s, 1)', :other, :wh, :flt)),
    (format('SELECT fieldops.issue_part(%s, %s, %s, %s, 1, %s)', :other, :wo6, :flt, :wh, :e)),
    (format('SELECT fieldops.consume_part(%s, %s, %s, 1, %s)', :other, :wo6, :flt, :e)),
    (format('SELECT fieldops.return_part(%s, %s, %s, %s, 1, %s)', :other, :wo6, :flt, :wh, :e)),
    (format('SELECT fieldops.record_labour(%s, %s, %s, now() - interval %L, now())', :other, :wo6, :e, '1 hour')),
    (format('SELECT fieldops.work_order_content(%s, %s)', :other, :wo6)),
    (format('SELECT fieldops.verify_work_order_signatures(%s, %s)', :other, :wo6)),
    (format('SELECT fieldops.check_stock_invariants(%s)', :other))
) AS c(q);
-- statuses for an order that does not exist
SELECT fieldops.dispatch_work_order(:wt, 987654321, :d, :e) AS dispatch, fieldops.set_work_order_state(:wt, 987654321, 'accepted', :e) AS state,
       fieldops.sign_work_order(:wt, 987654321, :e_phone, sha256(''), 'x', '\x00') AS sign,
       fieldops.issue_part(:wt, 987654321, :flt, :wh, 1, :e) AS issue, fieldops.consume_part(:wt, 987654321, :flt, 1, :e) AS consume,
       fieldops.return_part(:wt, 987654321, :flt, :wh, 1, :e) AS return, fieldops.record_labour(:wt, 987654321, :e, now() - interval '1 minute', now()) AS labour;
SELECT (fieldops.work_order_content(:wt, 987654321)).content IS NULL AS no_content;
-- nothing above wrote anything
SELECT state, (SELECT count(*) FROM fieldops.work_order_history h WHERE h.work_order_id = :wo6) AS history,
       (SELECT count(*) FROM fieldops.stock_movement m WHERE m.work_order_id = :wo6) AS movements
  FROM fieldops.work_order WHERE work_order_id = :wo6;
SELECT count(*) AS invariant_violations FROM fieldops.check_stock_invariants(:wt);

--
-- 9. Tenancy: rows of the shared test tenants Acme and Beta in every work
--    order table (the tenancy test checks each), and what an application sees
--
SELECT tenant_id AS acme FROM fieldops.tenant WHERE name = 'Acme Shanghai' \gset
SELECT tenant_id AS beta FROM fieldops.tenant WHERE name = 'Beta NYC' \gset
INSERT INTO wo_test.ids VALUES ('acme', :acme, 'tenant'), ('beta', :beta, 'tenant');
CREATE FUNCTION wo_test.tenant_rows(p_tenant bigint, p_ref text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v_e bigint;
    v_c bigint;
    v_dev bigint;
    v_part bigint;
    v_loc bigint;
    v_wo bigint;
    v_hash bytea;
    v_seed bytea := sha256(p_ref::bytea);
    s text;
BEGIN
    PERFORM fieldops.set_tenant(p_tenant);
    v_e := fieldops.upsert_worker(p_tenant, p_ref, 'Tenancy engineer');
    v_c := fieldops.upsert_customer(p_tenant, p_ref, 'Tenancy customer', ST_SetSRID(ST_MakePoint(121.4, 31.2), 4326));
    SELECT r.device_id INTO v_dev FROM fieldops.register_device(p_tenant, lower(p_ref) || '-phone', v_e, 'android') r;
    PERFORM fieldops.register_device_key(p_tenant, v_dev, 'ed25519', photo_test.public_key('ed25519', v_seed));
    v_part := fieldops.upsert_part(p_tenant, p_ref, 'Tenancy part');
    v_loc := fieldops.upsert_stock_location(p_tenant, p_ref, 'Tenancy van', 'van', v_e);
    PERFORM fieldops.receive_stock(p_tenant, v_loc, v_part, 1);
    v_wo := fieldops.create_work_order(p_tenant, v_c, 'Tenancy order', p_engineer_worker_id => v_e, p_reference => p_ref);
    FOREACH s IN ARRAY ARRAY['accepted', 'travelling', 'on_site', 'repairing'] LOOP
        PERFORM fieldops.set_work_order_state(p_tenant, v_wo, s, v_e);
    END LOOP;
    PERFORM fieldops.consume_part(p_tenant, v_wo, v_part, 1, v_e, v_loc);
    PERFORM fieldops.record_labour(p_tenant, v_wo, v_e, clock_timestamp() - interval '1 millisecond', clock_timestamp());
    PERFORM fieldops.set_work_order_state(p_tenant, v_wo, 'awaiting_signature', v_e);
    v_hash := (fieldops.work_order_content(p_tenant, v_wo)).content_sha256;
    RETURN fieldops.sign_work_order(p_tenant, v_wo, v_dev, v_hash, 'Tenancy signer',
        photo_test.sign('ed25519', v_seed, fieldops.work_order_signing_message(p_tenant, v_wo, v_hash, 'Tenancy signer')));
END $$;
SELECT wo_test.tenant_rows(:acme, 'WO-TEN-A') AS acme_rows, wo_test.tenant_rows(:beta, 'WO-TEN-B') AS beta_rows;
SELECT work_order_id AS beta_wo FROM fieldops.work_order WHERE tenant_id = :beta \gset
SELECT part_id AS beta_part FROM fieldops.part WHERE tenant_id = :beta \gset
SELECT location_id AS beta_loc FROM fieldops.stock_location WHERE tenant_id = :beta \gset
RESET ALL;
\c - acme_app
\set SHOW_CONTEXT never
SELECT count(*) AS orders_without_tenant FROM fieldops.work_order;
SELECT fieldops.set_tenant(:acme, false) IS NOT NULL AS acme_chosen;
SELECT t AS tbl, (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %s WHERE tenant_id = %s', t, :acme), false, true, '')))[1]::text::int > 0 AS sees_own,
       (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %s WHERE tenant_id <> %s', t, :acme), false, true, '')))[1]::text::int AS sees_others
  FROM unnest(ARRAY['fieldops.work_order', 'fieldops.work_order_history', 'fieldops.stock_location', 'fieldops.part', 'fieldops.stock_level',
                    'fieldops.work_order_part', 'fieldops.stock_movement', 'fieldops.work_order_labour', 'fieldops.work_order_signature']) t;
-- Beta's order, part and location do not exist for Acme; Beta's tenant id is refused
SELECT fieldops.set_work_order_state(:acme, :beta_wo, 'closed', NULL) AS beta_order_for_acme,
       fieldops.sign_work_order(:acme, :beta_wo, (SELECT device_id FROM fieldops.device WHERE device_uid = 'wo-ten-a-phone'), sha256(''), 'x', '\x00') AS beta_order_signed;
SELECT (fieldops.work_order_content(:acme, :beta_wo)).content IS NULL AS no_content,
       count(*) AS beta_signatures FROM fieldops.verify_work_order_signatures(:acme, :beta_wo);
SELECT wo_test.err(format('SELECT fieldops.receive_stock(%s, %s, %s, 1)', :acme, :beta_loc, :beta_part)) AS beta_location,
       wo_test.err(format('SELECT fieldops.receive_stock(%s, (SELECT location_id FROM fieldops.stock_location), %s, 1)', :acme, :beta_part)) AS beta_part;
SELECT wo_test.err(format('SELECT fieldops.set_work_order_state(%s, %s, %L, NULL)', :beta, :beta_wo, 'closed')) AS beta_tenant;
SELECT count(*) AS acme_invariant_violations FROM fieldops.check_stock_invariants(:acme);
-- no direct writes; no internal functions
SELECT wo_test.err('UPDATE fieldops.stock_level SET on_hand = on_hand + 100') AS direct_update;
SELECT wo_test.err('SELECT fieldops.stock_put(1, 1, 1, 100)') AS internal_function;
SELECT wo_test.err('SELECT fieldops.detect_sla_breaches(1, now(), 10)') AS internal_job;
\c - :superuser
\set SHOW_CONTEXT never
SELECT state FROM fieldops.work_order WHERE tenant_id = :beta;

SET client_min_messages = warning;
DROP SCHEMA wo_test CASCADE;
RESET client_min_messages;
