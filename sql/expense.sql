--
-- expense: expense claims tied to the work.  The state machine as a table
-- (printed: it is the specification); a claim's life with every kind of
-- business context, its history, events, KPI days and the approver's view;
-- every (from, to) pair of the state x state matrix for every kind of
-- actor (claimant, manager, finance, the application, a stranger, the
-- delegates of a manager and of finance), with and without a reason,
-- checked against the table; rejection, resubmission, withdrawal, line
-- edits; delegation in and out of its days; the claimant who is also an
-- approver; the policy-flag catalogue (each flag fires, and not just under
-- its threshold); duplicate receipts across claims; the catalogue of bad
-- input; tenancy.  A tenant of its own.
--
\set SHOW_CONTEXT never
SET datestyle = 'ISO, YMD';
SET timezone = 'UTC';
SELECT current_user AS superuser \gset
SELECT fieldops.create_tenant('Expense Test Co', 'Asia/Shanghai') AS et \gset
SELECT fieldops.set_tenant(:et, false) IS NOT NULL AS chosen;
-- tenant-local days of last week: Wednesday, Thursday, Friday (working
-- days of the default schedule, always in the past) and Saturday (not)
SELECT fieldops.tenant_local_date(:et) AS today \gset
SELECT date_trunc('week', :'today'::date - 7)::date + 2 AS wed, date_trunc('week', :'today'::date - 7)::date + 3 AS thu,
       date_trunc('week', :'today'::date - 7)::date + 4 AS fri, date_trunc('week', :'today'::date - 7)::date + 5 AS sat \gset
-- BOSS above M above C and C2; F and F2 approve for finance; DM and DF are
-- the delegates of M and F; C is also a finance approver and M's delegate
-- (he still only is the claimant of his own claims)
SELECT fieldops.upsert_worker(:et, 'BOSS', 'Boss Bo', p_job_level => 'M2') AS boss \gset
SELECT fieldops.upsert_worker(:et, 'M', 'Manager Ma', p_manager_id => :boss, p_job_level => 'M1') AS m \gset
SELECT fieldops.upsert_worker(:et, 'C', 'Claimant Chen', p_manager_id => :m, p_job_level => 'P2') AS c \gset
SELECT fieldops.upsert_worker(:et, 'C2', 'Claimant Cao', p_manager_id => :m, p_job_level => 'P1') AS c2 \gset
SELECT fieldops.upsert_worker(:et, 'F', 'Finance Fu') AS f \gset
SELECT fieldops.upsert_worker(:et, 'F2', 'Finance Fan') AS f2 \gset
SELECT fieldops.upsert_worker(:et, 'DM', 'Deputy Du') AS dm \gset
SELECT fieldops.upsert_worker(:et, 'DF', 'Deputy Ding') AS df \gset
SELECT fieldops.upsert_worker(:et, 'X', 'Stranger Xu') AS x \gset
SELECT fieldops.upsert_worker(:et, 'GONE', 'Left Ge', p_manager_id => :m) AS gone \gset
SELECT fieldops.worker_leave(:et, :gone, :'today'::date, 'moved away') IS NOT NULL AS gone_leaves;
SELECT fieldops.set_finance_approver(:et, :f) AS f_added, fieldops.set_finance_approver(:et, :f2) AS f2_added,
       fieldops.set_finance_approver(:et, :c) AS c_added, fieldops.set_finance_approver(:et, :f) AS f_again;
SELECT fieldops.set_expense_delegate(:et, :m, :dm, :'today'::date - 1, :'today'::date + 1) IS NOT NULL AS dm_for_m,
       fieldops.set_expense_delegate(:et, :f, :df, :'today'::date, :'today'::date) IS NOT NULL AS df_for_f,
       fieldops.set_expense_delegate(:et, :m, :c, :'today'::date, :'today'::date + 7) IS NOT NULL AS c_for_m;
SELECT fieldops.upsert_customer(:et, 'ES1', 'Convenience store', ST_SetSRID(ST_MakePoint(121.47, 31.23), 4326)) AS s1 \gset

CREATE SCHEMA expense_test;
GRANT USAGE ON SCHEMA expense_test TO PUBLIC;
CREATE TABLE expense_test.ids (name text PRIMARY KEY, id bigint, kind text);
GRANT SELECT ON expense_test.ids TO PUBLIC;
INSERT INTO expense_test.ids VALUES ('tenant', :et, 'tenant'), ('BOSS', :boss, 'worker'), ('M', :m, 'worker'), ('C', :c, 'worker'),
    ('C2', :c2, 'worker'), ('F', :f, 'worker'), ('F2', :f2, 'worker'), ('DM', :dm, 'worker'), ('DF', :df, 'worker'),
    ('X', :x, 'worker'), ('GONE', :gone, 'worker'), ('ES1', :s1, 'customer');
CREATE FUNCTION expense_test.id(p_name text) RETURNS bigint LANGUAGE sql STABLE AS $$ SELECT id FROM expense_test.ids WHERE name = p_name $$;
CREATE FUNCTION expense_test.name(p_kind text, p_id bigint) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT name FROM expense_test.ids WHERE kind = p_kind AND id = p_id), p_id::text)
$$;
-- this test's ids by name, dates as <date>: output that does not depend on the tests before
CREATE FUNCTION expense_test.mask(p_text text) RETURNS text LANGUAGE plpgsql STABLE AS $$
DECLARE
    v text := regexp_replace(p_text, '\d{4}-\d\d-\d\d([ T][0-9:.]+(Z|[+-]\d\d(:\d\d)?)?)?', '<date>', 'g');
    r record;
BEGIN
    -- an id is recognised by what precedes it in a message
    FOR r IN SELECT i.name, i.id, CASE i.kind WHEN 'tenant' THEN 'tenant |p_tenant_id |transaction \(|tenant_id='
                                             WHEN 'worker' THEN 'worker_id |worker |worker_id \('
                                             WHEN 'customer' THEN 'customer_id |customer '
                                             WHEN 'claim' THEN 'claim_id |claim '
                                             WHEN 'line' THEN 'line_id |line '
                                             WHEN 'visit' THEN 'visit_id |visit '
                                             WHEN 'task' THEN 'task_id |task '
                                             WHEN 'trip' THEN 'trip_id |trip '
                                             WHEN 'work_order' THEN 'work_order_id |work order '
                                             WHEN 'vehicle_claim' THEN 'vehicle_claim_id |vehicle claim '
                                             ELSE 'policy_id ' END AS prefix
               FROM expense_test.ids i ORDER BY i.id DESC, i.name LOOP
        v := regexp_replace(v, '(' || r.prefix || ')' || r.id || '(?![0-9])', '\1<' || r.name || '>', 'g');
    END LOOP;
    RETURN v;
END $$;
CREATE FUNCTION expense_test.err(p_sql text) RETURNS text LANGUAGE sql AS $$ SELECT expense_test.mask(regress.sqlerr(p_sql)) $$;
-- a line's flags, one per line of text: the code and the numbers behind it, ids by name
CREATE FUNCTION expense_test.flags(p_flags jsonb) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT coalesce(string_agg(
        f ->> 'code' || CASE f ->> 'code'
            WHEN 'over_cap' THEN format('(%s: %s > %s%s)', f ->> 'period', coalesce(f ->> 'total', f ->> 'amount'), f ->> 'cap',
                                        coalesce(' for ' || (f ->> 'job_level'), ''))
            WHEN 'km_over_measured' THEN format('(%s: %s > %s = %s x %s%%)', f ->> 'source', f ->> 'claimed_total_km', f ->> 'allowed_km',
                                                f ->> 'measured_km', 100 + (f ->> 'tolerance_pct')::numeric)
            WHEN 'km_not_measured' THEN format('(%s)', f ->> 'claimed_km')
            WHEN 'non_working_day' THEN format('(isodow %s)', f ->> 'isodow')
            WHEN 'duplicate_receipt' THEN format('(%s)', (SELECT string_agg(expense_test.name('line', (d ->> 'line_id')::bigint) || ' in '
                                                                             || expense_test.name('claim', (d ->> 'claim_id')::bigint)
                                                                             || ' ' || (d ->> 'state'), ', ' ORDER BY (d ->> 'line_id')::bigint)
                                                             FROM jsonb_array_elements(f -> 'others') d))
            WHEN 'context_not_verified' THEN format('(%s)', (SELECT string_agg(r ->> 'code', ',') FROM jsonb_array_elements(f -> 'reasons') r))
            WHEN 'context_worker_mismatch' THEN format('(%s of %s)', f ->> 'context', coalesce(expense_test.name('worker', (f ->> 'context_worker_id')::bigint), 'nobody'))
            ELSE '' END, ' ' ORDER BY o), CASE WHEN p_flags IS NULL THEN NULL ELSE '-' END)
      FROM jsonb_array_elements(p_flags) WITH ORDINALITY AS x(f, o)
$$;
-- a claim's lines: name, type, day, amount, flags
CREATE FUNCTION expense_test.lines(p_claim bigint) RETURNS TABLE (line text, expense_type text, spent_on text, amount numeric, flags text)
LANGUAGE sql STABLE AS $$
    SELECT expense_test.name('line', l.line_id), l.expense_type,
           CASE l.spent_on WHEN fieldops.tenant_local_date(expense_test.id('tenant')) THEN 'today' ELSE to_char(l.spent_on, 'Dy') END, l.amount, expense_test.flags(l.flags)
      FROM fieldops.expense_line l WHERE l.tenant_id = expense_test.id('tenant') AND l.claim_id = p_claim ORDER BY l.line_id
$$;
-- add a line to a claim and give it a name
CREATE FUNCTION expense_test.line(p_name text, p_claim bigint, p_type text, p_day date, p_amount numeric, p_context text,
                                  p_receipt text DEFAULT NULL, p_km numeric DEFAULT NULL) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    r record;
    v_ctx bigint := expense_test.id(p_context);
    v_kind text := (SELECT kind FROM expense_test.ids WHERE name = p_context);
BEGIN
    SELECT * INTO r FROM fieldops.add_expense_line(expense_test.id('tenant'), p_claim,
        (SELECT worker_id FROM fieldops.expense_claim WHERE claim_id = p_claim), p_type, p_day, p_amount,
        p_receipt_sha256 => sha256(p_receipt::bytea), p_claimed_km => p_km,
        p_visit_id => CASE v_kind WHEN 'visit' THEN v_ctx END, p_task_id => CASE v_kind WHEN 'task' THEN v_ctx END,
        p_trip_id => CASE v_kind WHEN 'trip' THEN v_ctx END, p_work_order_id => CASE v_kind WHEN 'work_order' THEN v_ctx END,
        p_vehicle_claim_id => CASE v_kind WHEN 'vehicle_claim' THEN v_ctx END);
    IF r.line_id IS NOT NULL THEN
        INSERT INTO expense_test.ids VALUES (p_name, r.line_id, 'line');
    END IF;
    RETURN r.status;
END $$;
CREATE FUNCTION expense_test.claim(p_name text, p_worker text, p_title text DEFAULT 'claim') RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    v bigint := fieldops.create_expense_claim(expense_test.id('tenant'), expense_test.id(p_worker), p_title);
BEGIN
    INSERT INTO expense_test.ids VALUES (p_name, v, 'claim');
    RETURN v;
END $$;

-- the business contexts: visits of C (verified on Friday, with check-in
-- spoof band and score; still open on Thursday) and of C2; a task and a
-- work order of C, a task of X; C's vehicle claim of Friday (40 km
-- measured) and one of its trips (12 km)
INSERT INTO fieldops.visit (tenant_id, worker_id, customer_id, checkin_at, checkout_at, checkin_geofence, checkout_geofence,
                            checkin_band, checkin_score, checkout_band, checkout_score)
VALUES (:et, :c, :s1, (:'fri'::date + time '10:00') AT TIME ZONE 'Asia/Shanghai', (:'fri'::date + time '10:40') AT TIME ZONE 'Asia/Shanghai',
        'inside', 'inside', 'green', 8, 'green', 5) RETURNING visit_id AS v_fri \gset
INSERT INTO fieldops.visit (tenant_id, worker_id, customer_id, checkin_at, checkin_geofence, checkin_band, checkin_score)
VALUES (:et, :c, :s1, (:'thu'::date + time '15:00') AT TIME ZONE 'Asia/Shanghai', 'outside', 'amber', 41) RETURNING visit_id AS v_open \gset
INSERT INTO fieldops.visit (tenant_id, worker_id, customer_id, checkin_at, checkout_at, checkin_geofence, checkout_geofence)
VALUES (:et, :c2, :s1, (:'fri'::date + time '11:00') AT TIME ZONE 'Asia/Shanghai', (:'fri'::date + time '11:30') AT TIME ZONE 'Asia/Shanghai',
        'inside', 'inside') RETURNING visit_id AS v_c2 \gset
SELECT fieldops.create_task(:et, 'Deliver samples', p_customer_id => :s1, p_dispatcher_worker_id => :m, p_worker_id => :c) AS task_c \gset
SELECT fieldops.create_task(:et, 'Not Chen''s task', p_customer_id => :s1, p_dispatcher_worker_id => :m, p_worker_id => :x) AS task_x \gset
SELECT fieldops.create_work_order(:et, :s1, 'Fix the fridge', p_dispatcher_worker_id => :m, p_engineer_worker_id => :c) AS wo_c \gset
SELECT fieldops.set_vehicle_rate(:et, 'car', '2020-01-01', 0.80) IS NOT NULL AS rate,
       fieldops.set_worker_vehicle(:et, :c, '2020-01-01', 'car') IS NOT NULL AS car;
SELECT claim_id AS vc_fri FROM fieldops.vehicle_claim(:et, :c, :'fri') \gset
UPDATE fieldops.vehicle_claim SET measured_km = 40.000 WHERE tenant_id = :et AND claim_id = :vc_fri;
INSERT INTO fieldops.trip (tenant_id, claim_id, worker_id, range_no, seq, kind, counted, started_at, ended_at, start_geom, end_geom, distance_m, mileage)
SELECT :et, :vc_fri, :c, 1, 1, 'trip', true, min(t), max(t), ST_SetSRID(ST_MakePoint(121.40, 31.20), 4326), ST_SetSRID(ST_MakePoint(121.52, 31.20), 4326),
       12000, fieldops.mileage_agg(t, g, 5, 10, 'gps')
  FROM (VALUES ((:'fri'::date + time '09:20') AT TIME ZONE 'Asia/Shanghai', ST_SetSRID(ST_MakePoint(121.40, 31.20), 4326)),
               ((:'fri'::date + time '09:40') AT TIME ZONE 'Asia/Shanghai', ST_SetSRID(ST_MakePoint(121.52, 31.20), 4326))) v(t, g)
RETURNING trip_id AS trip_fri \gset
INSERT INTO expense_test.ids VALUES ('V_FRI', :v_fri, 'visit'), ('V_OPEN', :v_open, 'visit'), ('V_C2', :v_c2, 'visit'),
    ('TASK_C', :task_c, 'task'), ('TASK_X', :task_x, 'task'), ('WO_C', :wo_c, 'work_order'), ('VC_FRI', :vc_fri, 'vehicle_claim'),
    ('TRIP_FRI', :trip_fri, 'trip');

--
-- 1. The state machine (fieldops.state_transition, machine expense_claim):
--    who may make which move, (r) with a reason
--
SELECT from_state, to_state, string_agg(actor_role || CASE WHEN reason_required THEN ' (r)' ELSE '' END, ', ' ORDER BY actor_role) AS who
  FROM fieldops.state_transition WHERE machine = 'expense_claim'
 GROUP BY from_state, to_state
 ORDER BY array_position(ARRAY['draft', 'submitted', 'manager_approved', 'finance_approved', 'paid', 'rejected', 'cancelled'], from_state),
          array_position(ARRAY['draft', 'submitted', 'manager_approved', 'finance_approved', 'paid', 'rejected', 'cancelled'], to_state);
-- every role of a move agrees on its reason; the other machines' rules are still enforced
SELECT machine, from_state, to_state AS roles_disagree_on_reason FROM fieldops.state_transition
 GROUP BY 1, 2, 3 HAVING count(DISTINCT reason_required) > 1;
SELECT machine, count(*) AS moves FROM fieldops.state_transition GROUP BY 1 ORDER BY 1;
BEGIN;
SELECT expense_test.err($$INSERT INTO fieldops.state_transition (machine, from_state, to_state, actor_role, description) VALUES ('task', 'new', 'done', 'claimant', 'x')$$) AS claimant_in_tasks,
       expense_test.err($$INSERT INTO fieldops.state_transition (machine, from_state, to_state, actor_role, description) VALUES ('expense_claim', 'draft', 'paid', 'dispatcher', 'x')$$) AS dispatcher_in_expenses,
       expense_test.err($$INSERT INTO fieldops.state_transition (machine, from_state, to_state, actor_role, description) VALUES ('expense_claim', 'draft', 'done', 'system', 'x')$$) AS task_state_in_expenses,
       expense_test.err($$INSERT INTO fieldops.state_transition (machine, from_state, to_state, actor_role, description) VALUES ('invoice', 'a', 'b', 'system', 'x')$$) AS unknown_machine;
ROLLBACK;

--
-- 2. A claim's life: every kind of business context, submitted (flagged),
--    approved by the manager and by finance, paid by the payroll export;
--    its history, events, KPI days and what the KPIs count
--
SELECT expense_test.claim('CL1', 'C', 'Week of the fridge') AS cl1 \gset
SELECT expense_test.line('L1', :cl1, 'meal', :'fri', 45.50, 'V_FRI', 'receipt 1') AS visit_line,
       expense_test.line('L2', :cl1, 'parking', :'fri', 12, 'TASK_C', 'receipt 2') AS task_line,
       expense_test.line('L3', :cl1, 'toll', :'fri', 25, 'TRIP_FRI') AS trip_line,
       expense_test.line('L4', :cl1, 'other', :'thu', 80, 'WO_C') AS work_order_line,
       expense_test.line('L5', :cl1, 'vehicle_mileage', :'fri', 32, 'VC_FRI', p_km => 40) AS mileage_line;
SELECT state, submitted_at IS NULL AS not_submitted, submit_count FROM fieldops.expense_claim WHERE tenant_id = :et AND claim_id = :cl1;
SELECT * FROM expense_test.lines(:cl1);
SELECT fieldops.submit_expense_claim(:et, :cl1, :c) AS submitted;
SELECT * FROM expense_test.lines(:cl1);
SELECT fieldops.submit_expense_claim(:et, :cl1, :c) AS submitted_again,
       fieldops.add_expense_line(:et, :cl1, :c, 'meal', :'fri', 1, p_visit_id => :v_fri) AS add_after_submit;
SELECT claim_id = :cl1 AS cl1, step, on_behalf_of_worker_id, totals, lines, flagged_lines FROM fieldops.expense_approval_queue(:et, :m);
SELECT count(*) AS in_finance_queue_too_early FROM fieldops.expense_approval_queue(:et, :f);
SELECT fieldops.approve_expense_claim(:et, :cl1, :m, 'finance') AS manager_as_finance,
       fieldops.approve_expense_claim(:et, :cl1, :c, 'manager') AS claimant_approves,
       fieldops.approve_expense_claim(:et, :cl1, :m, 'manager', 'ok for me') AS manager_approves,
       fieldops.approve_expense_claim(:et, :cl1, :m, 'manager') AS double_click;
SELECT claim_id = :cl1 AS cl1, step FROM fieldops.expense_approval_queue(:et, :f);
SELECT fieldops.mark_expense_claim_paid(:et, :cl1, NULL, 'PAY-2026-001') AS paid_too_early,
       fieldops.approve_expense_claim(:et, :cl1, :f, 'finance') AS finance_approves,
       fieldops.withdraw_expense_claim(:et, :cl1, :c) AS withdraw_after_final,
       fieldops.mark_expense_claim_paid(:et, :cl1, :x) AS stranger_pays,
       fieldops.mark_expense_claim_paid(:et, :cl1, NULL, '  PAY-2026-001 ') AS payroll_pays,
       fieldops.mark_expense_claim_paid(:et, :cl1, :f) AS paid_again;
SELECT state, payment_ref, submit_count, submitted_at <= manager_approved_at AND manager_approved_at <= finance_approved_at
       AND finance_approved_at <= paid_at AS times_in_order, rejected_at
  FROM fieldops.expense_claim WHERE tenant_id = :et AND claim_id = :cl1;
SELECT h.from_state, h.to_state, coalesce(expense_test.name('worker', h.actor_worker_id), '(app)') AS actor, h.actor_role,
       expense_test.name('worker', h.on_behalf_of_worker_id) AS on_behalf_of, h.reason, h.detail - 'totals' AS detail
  FROM fieldops.expense_claim_history h WHERE h.tenant_id = :et AND h.claim_id = :cl1 ORDER BY h.history_id;
SELECT topic, payload ->> 'from' AS "from", payload ->> 'to' AS "to", payload ->> 'actor_role' AS role, payload -> 'totals' AS totals,
       payload ->> 'flagged_lines' AS flagged, payload ->> 'payment_ref' AS payment_ref
  FROM fieldops.outbox WHERE tenant_id = :et AND aggregate_type = 'expense_claim' AND aggregate_id = :cl1 ORDER BY event_id;
-- the KPIs: touched once, on the approval, for each day of the lines; the view counts the lines
SELECT to_char(day, 'Dy') AS day, count(*) FROM fieldops.kpi_dirty WHERE tenant_id = :et AND source = 'expense' GROUP BY day ORDER BY day;
SELECT expense_test.name('line', line_id) AS line, expense_test.name('worker', worker_id) AS worker, to_char(spent_on, 'Dy') AS day,
       expense_type, amount, currency, num_nonnulls(visit_id, task_id, trip_id, work_order_id, vehicle_claim_id) AS contexts
  FROM fieldops.expense_counted WHERE tenant_id = :et ORDER BY line_id;
-- the approver's view: the claim, its history, every line with its flags and the evidence of its context
SELECT d ->> 'state' AS state, d -> 'claimant' ->> 'name' AS claimant, d -> 'claimant' ->> 'job_level' AS level, d -> 'totals' AS totals,
       d -> 'flag_counts' AS flag_counts, jsonb_array_length(d -> 'history') AS history, jsonb_array_length(d -> 'lines') AS lines
  FROM fieldops.expense_claim_detail(:et, :cl1) d;
SELECT expense_test.name('line', (l ->> 'line_id')::bigint) AS line, l ->> 'expense_type' AS type,
       expense_test.mask(((l -> 'evidence') - 'checkin_at' - 'checkout_at' - 'started_at' - 'ended_at' - 'day' - 'finished_at' - 'resolved_at'
                          - 'visit_id' - 'task_id' - 'trip_id' - 'work_order_id' - 'vehicle_claim_id' - 'customer_id'
                          - 'worker_id' - 'assignee_worker_id' - 'engineer_worker_id' - 'vehicle_claim_flags')::text) AS evidence,
       expense_test.name('worker', coalesce(l -> 'evidence' -> 'worker_id', l -> 'evidence' -> 'assignee_worker_id',
                                            l -> 'evidence' -> 'engineer_worker_id')::bigint) AS whose
  FROM jsonb_array_elements(fieldops.expense_claim_detail(:et, :cl1) -> 'lines') l ORDER BY (l ->> 'line_id')::bigint;
SELECT fieldops.expense_claim_detail(:et, 987654321) IS NULL AS missing_detail;
-- a visit with photos (C's phone, simulated with the photo test's signing
-- functions): one taken at the shop, one 5 km away; the approver sees 1 of 2 accepted
SELECT device_id AS c_phone FROM fieldops.register_device(:et, 'expense-test-phone-c', :c, 'android') \gset
SELECT fieldops.register_device_key(:et, :c_phone, 'ed25519', photo_test.public_key('ed25519', sha256('expense test c'))) AS c_key \gset
INSERT INTO fieldops.visit (tenant_id, worker_id, customer_id, checkin_at, checkin_geofence, checkout_geofence, checkin_band, checkin_score)
VALUES (:et, :c, :s1, now() - interval '5 minutes', 'inside', 'inside', 'green', 3) RETURNING visit_id AS v_photo \gset
INSERT INTO expense_test.ids VALUES ('V_PHOTO', :v_photo, 'visit');
CREATE FUNCTION expense_test.photo(p_counter integer, p_lon_offset float8) RETURNS text LANGUAGE sql AS $$
    SELECT s.verdict
      FROM (SELECT fieldops.photo_manifest('ed25519', k.key_id, expense_test.id('tenant'), expense_test.id('C'), k.device_id,
                                           expense_test.id('V_PHOTO'), clock_timestamp(), 31.23, 121.47 + p_lon_offset, 8, p_counter,
                                           sha256(('expense photo ' || p_counter)::bytea), NULL,
                                           fieldops.issue_photo_nonce(expense_test.id('tenant'), k.device_id, expense_test.id('V_PHOTO'))) AS manifest
              FROM fieldops.device_key k JOIN fieldops.device d USING (tenant_id, device_id)
             WHERE d.tenant_id = expense_test.id('tenant') AND d.device_uid = 'expense-test-phone-c') m
     CROSS JOIN LATERAL fieldops.submit_photo(expense_test.id('tenant'), m.manifest, photo_test.sign('ed25519', sha256('expense test c'), m.manifest)) s
$$;
SELECT expense_test.photo(1, 0) AS at_the_shop, expense_test.photo(2, 0.05) AS five_km_away;
UPDATE fieldops.visit SET checkout_at = now() WHERE tenant_id = :et AND visit_id = :v_photo;
SELECT expense_test.claim('CLP', 'C', 'Photo evidence') AS clp \gset
SELECT expense_test.line('LP', :clp, 'parking', :'today', 6, 'V_PHOTO') AS line;
SELECT l -> 'evidence' -> 'photos' AS photos, l -> 'evidence' ->> 'verified' AS verified, l -> 'evidence' ->> 'checkin_band' AS band,
       l -> 'evidence' ->> 'checkin_score' AS score
  FROM jsonb_array_elements(fieldops.expense_claim_detail(:et, :clp) -> 'lines') l;

--
-- 3. Every (from, to) pair for every kind of actor, checked against the
--    table.  A claim of C with one line (Friday) is put in state "from"
--    directly, then fieldops.set_expense_claim_state() is asked to move it
--    to "to" by C (the claimant, also a finance approver and M's delegate),
--    M (his manager), F (finance), S (the application: no worker), X (a
--    stranger), DM (M's delegate) or DF (F's delegate).  Each trial rolls
--    back.
--
CREATE FUNCTION expense_test.trial(p_from text, p_to text, p_actor text, p_reason boolean,
                                   OUT status text, OUT state_after text, OUT history_rows bigint, OUT on_behalf_of text,
                                   OUT events bigint, OUT kpi_days bigint)
LANGUAGE plpgsql AS $$
DECLARE
    t bigint := expense_test.id('tenant');
    v_actor bigint := CASE p_actor WHEN 'S' THEN NULL ELSE expense_test.id(p_actor) END;
    v_claim bigint;
    v_h bigint;
    v_e bigint;
    v_k bigint;
BEGIN
    BEGIN
        v_claim := fieldops.create_expense_claim(t, expense_test.id('C'), 'matrix');
        PERFORM fieldops.add_expense_line(t, v_claim, expense_test.id('C'), 'meal', (SELECT spent_on FROM fieldops.expense_line
                                          WHERE line_id = expense_test.id('L1')), 10, p_visit_id => expense_test.id('V_FRI'));
        UPDATE fieldops.expense_claim
           SET state = p_from, submitted_at = CASE WHEN p_from NOT IN ('draft', 'cancelled') THEN now() END,
               paid_at = CASE WHEN p_from = 'paid' THEN now() END
         WHERE tenant_id = t AND claim_id = v_claim;
        SELECT count(*) INTO v_h FROM fieldops.expense_claim_history WHERE tenant_id = t AND claim_id = v_claim;
        SELECT coalesce(max(event_id), 0) INTO v_e FROM fieldops.outbox WHERE tenant_id = t;
        SELECT coalesce(max(dirty_id), 0) INTO v_k FROM fieldops.kpi_dirty WHERE tenant_id = t;
        status := fieldops.set_expense_claim_state(t, v_claim, p_to, v_actor, CASE WHEN p_reason THEN 'matrix' END);
        SELECT x.state INTO state_after FROM fieldops.expense_claim x WHERE x.tenant_id = t AND x.claim_id = v_claim;
        history_rows := (SELECT count(*) FROM fieldops.expense_claim_history WHERE tenant_id = t AND claim_id = v_claim) - v_h;
        on_behalf_of := (SELECT expense_test.name('worker', h.on_behalf_of_worker_id) FROM fieldops.expense_claim_history h
                          WHERE h.tenant_id = t AND h.claim_id = v_claim ORDER BY h.history_id DESC LIMIT 1);
        events := (SELECT count(*) FROM fieldops.outbox WHERE tenant_id = t AND event_id > v_e);
        kpi_days := (SELECT count(*) FROM fieldops.kpi_dirty WHERE tenant_id = t AND dirty_id > v_k AND source = 'expense');
        RAISE EXCEPTION USING ERRCODE = 'ZZ999';
    EXCEPTION WHEN SQLSTATE 'ZZ999' THEN
        NULL;
    END;
END $$;

-- what the table says, for the actor's roles
CREATE FUNCTION expense_test.expected(p_from text, p_to text, p_actor text, p_reason boolean) RETURNS text
LANGUAGE sql STABLE AS $$
    WITH r AS (
        SELECT CASE p_actor WHEN 'C' THEN ARRAY['claimant'] WHEN 'M' THEN ARRAY['manager'] WHEN 'DM' THEN ARRAY['manager']
                            WHEN 'F' THEN ARRAY['finance'] WHEN 'DF' THEN ARRAY['finance'] WHEN 'S' THEN ARRAY['system']
                            ELSE ARRAY[]::text[] END AS roles),
    moves AS (SELECT * FROM fieldops.state_transition s WHERE s.machine = 'expense_claim' AND s.from_state = p_from AND s.to_state = p_to)
    SELECT CASE
        WHEN NOT EXISTS (SELECT 1 FROM moves) THEN CASE WHEN p_from = p_to THEN 'unchanged' ELSE 'invalid_transition' END
        WHEN NOT EXISTS (SELECT 1 FROM moves WHERE actor_role = ANY (r.roles)) THEN 'not_permitted'
        WHEN NOT p_reason AND (SELECT bool_or(reason_required) FROM moves WHERE actor_role = ANY (r.roles)) THEN 'reason_required'
        ELSE 'ok' END
      FROM r
$$;

CREATE TABLE expense_test.matrix AS
SELECT f.state AS from_state, t.state AS to_state, a.actor, p.with_reason, r.*,
       expense_test.expected(f.state, t.state, a.actor, p.with_reason) AS expected
  FROM (SELECT from_state AS state FROM fieldops.state_transition WHERE machine = 'expense_claim'
        UNION SELECT to_state FROM fieldops.state_transition WHERE machine = 'expense_claim') AS f,
       (SELECT from_state AS state FROM fieldops.state_transition WHERE machine = 'expense_claim'
        UNION SELECT to_state FROM fieldops.state_transition WHERE machine = 'expense_claim') AS t,
       (VALUES ('C'), ('M'), ('F'), ('S'), ('X'), ('DM'), ('DF')) AS a(actor),
       (VALUES (true), (false)) AS p(with_reason),
       LATERAL expense_test.trial(f.state, t.state, a.actor, p.with_reason) AS r;
SELECT count(*) AS trials, count(DISTINCT from_state) AS states,
       count(*) FILTER (WHERE status = expected) AS as_the_table_says FROM expense_test.matrix;
SELECT * FROM expense_test.matrix WHERE status IS DISTINCT FROM expected;
-- only ok writes: the new state, one history row (a delegate on behalf of
-- its delegator), one event, and the line's day touched when the claim
-- enters or leaves what the KPIs count; a refusal writes nothing
SELECT from_state, to_state, actor, with_reason, status, state_after, history_rows, on_behalf_of, events, kpi_days FROM expense_test.matrix
 WHERE CASE WHEN status = 'ok'
            THEN state_after IS DISTINCT FROM to_state OR history_rows <> 1 OR events <> 1
                 OR on_behalf_of IS DISTINCT FROM CASE actor WHEN 'DM' THEN 'M' WHEN 'DF' THEN 'F' END
                 OR kpi_days <> ((from_state IN ('manager_approved', 'finance_approved', 'paid'))
                                 <> (to_state IN ('manager_approved', 'finance_approved', 'paid')))::integer
            ELSE state_after IS DISTINCT FROM from_state OR history_rows <> 0 OR events <> 0 OR kpi_days <> 0 END;
-- every row of the table was made by an actor of its role, in its own right and as a delegate
SELECT s.from_state, s.to_state, s.actor_role AS never_made FROM fieldops.state_transition s
 WHERE s.machine = 'expense_claim'
   AND NOT EXISTS (SELECT 1 FROM expense_test.matrix m
                    WHERE m.from_state = s.from_state AND m.to_state = s.to_state AND m.status = 'ok' AND m.with_reason
                      AND m.actor = CASE s.actor_role WHEN 'claimant' THEN 'C' WHEN 'manager' THEN 'M' WHEN 'finance' THEN 'F' ELSE 'S' END)
    OR (s.actor_role IN ('manager', 'finance')
        AND NOT EXISTS (SELECT 1 FROM expense_test.matrix m
                         WHERE m.from_state = s.from_state AND m.to_state = s.to_state AND m.status = 'ok' AND m.with_reason
                           AND m.actor = CASE s.actor_role WHEN 'manager' THEN 'DM' ELSE 'DF' END));
SELECT status, count(*) FROM expense_test.matrix GROUP BY 1 ORDER BY 1;
-- the matrix: one row per from-state, one column per to-state; each cell
-- the outcome for C M F S X DM DF: o ok, r reason_required, u unchanged,
-- x not_permitted, - invalid_transition
CREATE FUNCTION expense_test.cell(p_from text, p_to text, p_with_reason boolean) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT string_agg(CASE status WHEN 'ok' THEN 'o' WHEN 'reason_required' THEN 'r' WHEN 'unchanged' THEN 'u'
                                  WHEN 'not_permitted' THEN 'x' WHEN 'invalid_transition' THEN '-' ELSE '?' END, ''
                      ORDER BY array_position(ARRAY['C', 'M', 'F', 'S', 'X', 'DM', 'DF'], actor))
      FROM expense_test.matrix
     WHERE from_state = p_from AND to_state = p_to AND with_reason = p_with_reason
$$;
SELECT CASE WHEN w THEN 'reason given' ELSE 'no reason' END AS pass, f AS "from \ to",
       expense_test.cell(f, 'draft', w) AS draft, expense_test.cell(f, 'submitted', w) AS submitted,
       expense_test.cell(f, 'manager_approved', w) AS manager_approved, expense_test.cell(f, 'finance_approved', w) AS finance_approved,
       expense_test.cell(f, 'paid', w) AS paid, expense_test.cell(f, 'rejected', w) AS rejected, expense_test.cell(f, 'cancelled', w) AS cancelled
  FROM (VALUES (true), (false)) AS p(w),
       unnest(ARRAY['draft', 'submitted', 'manager_approved', 'finance_approved', 'paid', 'rejected', 'cancelled']) WITH ORDINALITY AS s(f, o)
 ORDER BY w DESC, o;

--
-- 4. Back to the claimant: a rejection needs a reason; the claimant edits
--    the lines of the rejected claim and resubmits (flagged again); finance
--    rejects after the manager's approval (the KPI day touched again: the
--    lines leave what is counted); reopened to draft, withdrawn
--
SELECT expense_test.claim('CL2', 'C', 'Client dinner') AS cl2 \gset
SELECT fieldops.submit_expense_claim(:et, :cl2, :c) AS empty_claim;
SELECT expense_test.line('L6', :cl2, 'meal', :'thu', 60, 'V_OPEN') AS line,
       fieldops.submit_expense_claim(:et, :cl2, :c) AS submitted;
SELECT * FROM expense_test.lines(:cl2);
SELECT fieldops.reject_expense_claim(:et, :cl2, :m, NULL) AS without_reason,
       fieldops.reject_expense_claim(:et, :cl2, :m, '   ') AS blank_reason,
       fieldops.reject_expense_claim(:et, :cl2, :f, 'not yet mine') AS finance_too_early,
       fieldops.reject_expense_claim(:et, :cl2, :m, 'the visit was never checked out') AS manager_rejects,
       fieldops.reject_expense_claim(:et, :cl2, :m, 'again') AS rejected_again;
-- lines change while rejected, by the claimant only; their flags are dropped until the next submission
SELECT expense_test.id('L6') AS l6 \gset
SELECT fieldops.update_expense_line(:et, :l6, :m, 'meal', :'fri', 58, p_visit_id => :v_fri) AS manager_edits,
       fieldops.update_expense_line(:et, :l6, :c, 'meal', :'fri', 58, p_visit_id => :v_fri, p_description => 'dinner with the store manager') AS claimant_edits,
       fieldops.update_expense_line(:et, 987654321, :c, 'meal', :'fri', 58, p_visit_id => :v_fri) AS missing_line;
SELECT * FROM expense_test.lines(:cl2);
SELECT fieldops.submit_expense_claim(:et, :cl2, :m) AS manager_submits,
       fieldops.submit_expense_claim(:et, :cl2, :c) AS resubmitted;
SELECT * FROM expense_test.lines(:cl2);
SELECT fieldops.approve_expense_claim(:et, :cl2, :boss, 'manager') AS boss_approves,
       fieldops.reject_expense_claim(:et, :cl2, :m, 'changed my mind') AS manager_too_late,
       fieldops.reject_expense_claim(:et, :cl2, :f, 'receipt missing') AS finance_rejects;
SELECT expense_test.err(format('SELECT fieldops.add_expense_line(%s, %s, %s, %L, %L, 30, p_visit_id => %s)', :et, :cl2, :c, 'taxi', :'fri', :v_fri)) AS taxi;
SELECT expense_test.line('L7', :cl2, 'travel', :'fri', 30, 'V_FRI') AS added_while_rejected;
SELECT expense_test.id('L7') AS l7 \gset
SELECT fieldops.remove_expense_line(:et, :l7, :m) AS manager_removes, fieldops.remove_expense_line(:et, :l7, :c) AS claimant_removes,
       fieldops.remove_expense_line(:et, :l7, :c) AS removed_again, fieldops.remove_expense_line(:et, expense_test.id('L1'), :c) AS line_of_a_paid_claim;
SELECT fieldops.reopen_expense_claim(:et, :cl2, :m) AS manager_reopens, fieldops.reopen_expense_claim(:et, :cl2, :c) AS claimant_reopens,
       fieldops.reopen_expense_claim(:et, :cl2, :c) AS reopened_again;
SELECT fieldops.withdraw_expense_claim(:et, :cl2, :m) AS manager_withdraws,
       fieldops.withdraw_expense_claim(:et, :cl2, :c, 'the customer paid') AS withdrawn,
       fieldops.withdraw_expense_claim(:et, :cl2, :c) AS withdrawn_again,
       fieldops.submit_expense_claim(:et, :cl2, :c) AS cancelled_is_final;
SELECT state, submit_count, rejected_at IS NOT NULL AS was_rejected, manager_approved_at, finance_approved_at
  FROM fieldops.expense_claim WHERE tenant_id = :et AND claim_id = :cl2;
SELECT h.from_state, h.to_state, expense_test.name('worker', h.actor_worker_id) AS actor, h.actor_role, h.reason,
       h.detail ->> 'lines' AS lines, h.detail ->> 'flagged_lines' AS flagged
  FROM fieldops.expense_claim_history h WHERE h.tenant_id = :et AND h.claim_id = :cl2 ORDER BY h.history_id;
-- the KPI days: Friday and Thursday from the first claim, Friday twice more (approved, then rejected by finance)
SELECT to_char(day, 'Dy') AS day, count(*) FROM fieldops.kpi_dirty WHERE tenant_id = :et AND source = 'expense' GROUP BY day ORDER BY day;

--
-- 5. Delegation: DM acts for M (yesterday to tomorrow), DF for F (today);
--    a delegate out of its days, or removed, is nobody; the history names
--    the delegate and on whose behalf.  The claimant never approves his own
--    claim, although C is a finance approver and M's delegate.
--
SELECT expense_test.claim('CL3', 'C2', 'Fuel for the week') AS cl3 \gset
SELECT expense_test.line('L8', :cl3, 'fuel', :'fri', 200, 'V_C2') AS line, fieldops.submit_expense_claim(:et, :cl3, :c2) AS submitted;
SELECT expense_test.name('claim', q.claim_id) AS claim, q.step, expense_test.name('worker', q.on_behalf_of_worker_id) AS for_whom
  FROM fieldops.expense_approval_queue(:et, :dm) q;
SELECT expense_test.name('claim', q.claim_id) AS claim, q.step, expense_test.name('worker', q.on_behalf_of_worker_id) AS for_whom
  FROM fieldops.expense_approval_queue(:et, :c) q;
SELECT fieldops.approve_expense_claim(:et, :cl3, :dm, 'manager', 'for M, who is on leave') AS dm_approves,
       fieldops.approve_expense_claim(:et, :cl3, :df, 'finance') AS df_approves,
       fieldops.mark_expense_claim_paid(:et, :cl3, :df, 'PAY-2026-002') AS df_pays;
SELECT h.to_state, expense_test.name('worker', h.actor_worker_id) AS actor, h.actor_role,
       expense_test.name('worker', h.on_behalf_of_worker_id) AS on_behalf_of, h.reason
  FROM fieldops.expense_claim_history h WHERE h.tenant_id = :et AND h.claim_id = :cl3 ORDER BY h.history_id;
SELECT payload ->> 'actor_role' AS role, expense_test.name('worker', (payload ->> 'actor_worker_id')::bigint) AS actor,
       expense_test.name('worker', (payload ->> 'on_behalf_of_worker_id')::bigint) AS on_behalf_of
  FROM fieldops.outbox WHERE tenant_id = :et AND topic = 'expense_claim.manager_approved' AND aggregate_id = :cl3;
-- out of its days, then removed
SELECT expense_test.claim('CL4', 'C2', 'Parking') AS cl4 \gset
SELECT expense_test.line('L9', :cl4, 'parking', :'fri', 15, 'V_C2') AS line, fieldops.submit_expense_claim(:et, :cl4, :c2) AS submitted;
SELECT fieldops.set_expense_delegate(:et, :m, :dm, :'today'::date - 10, :'today'::date - 1) IS NOT NULL AS dm_until_yesterday;
SELECT fieldops.approve_expense_claim(:et, :cl4, :dm, 'manager') AS dm_after_the_range;
SELECT fieldops.set_expense_delegate(:et, :m, :dm, :'today'::date + 1, :'today'::date + 5) IS NOT NULL AS dm_from_tomorrow;
SELECT fieldops.approve_expense_claim(:et, :cl4, :dm, 'manager') AS dm_before_the_range;
SELECT count(*) AS delegations_of_m_to_dm FROM fieldops.expense_delegation WHERE tenant_id = :et AND delegator_worker_id = :m AND delegate_worker_id = :dm;
SELECT fieldops.set_expense_delegate(:et, :m, :dm, :'today'::date, :'today'::date) IS NOT NULL AS dm_today;
SELECT fieldops.reject_expense_claim(:et, :cl4, :dm, 'no receipt') AS dm_rejects;
SELECT fieldops.submit_expense_claim(:et, :cl4, :c2) AS resubmitted,
       fieldops.remove_expense_delegate(:et, :m, :dm) AS removed, fieldops.remove_expense_delegate(:et, :m, :dm) AS removed_again,
       fieldops.approve_expense_claim(:et, :cl4, :dm, 'manager') AS dm_after_removal;
-- a delegator who left delegates nothing: F2 names X for today, then leaves
SELECT fieldops.set_expense_delegate(:et, :f2, :x, :'today', :'today') IS NOT NULL AS f2_for_x;
SELECT r.actor_role, expense_test.name('worker', r.on_behalf_of_worker_id) AS for_whom
  FROM fieldops.expense_claim c, fieldops.expense_claim_roles(:et, c, :x) r WHERE c.tenant_id = :et AND c.claim_id = :cl4;
SELECT fieldops.worker_leave(:et, :f2, :'today', 'moved to audit') IS NOT NULL AS f2_leaves;
SELECT count(*) AS roles_of_x FROM fieldops.expense_claim c, fieldops.expense_claim_roles(:et, c, :x) r
 WHERE c.tenant_id = :et AND c.claim_id = :cl4;
SELECT expense_test.err(format('SELECT fieldops.set_expense_delegate(%s, %s, %s, %L, %L)', :et, :gone, :dm, :'today', :'today')) AS delegation_of_gone;
-- C's own claim: not as finance, not as M's delegate; BOSS, above M, approves as a manager
SELECT expense_test.claim('CL5', 'C', 'Toll') AS cl5 \gset
SELECT expense_test.line('L10', :cl5, 'toll', :'fri', 9.5, 'TRIP_FRI') AS line, fieldops.submit_expense_claim(:et, :cl5, :c) AS submitted;
SELECT r.actor_role, expense_test.name('worker', r.on_behalf_of_worker_id) AS for_whom
  FROM fieldops.expense_claim c, fieldops.expense_claim_roles(:et, c, :c) r WHERE c.tenant_id = :et AND c.claim_id = :cl5;
SELECT r.actor_role, expense_test.name('worker', r.on_behalf_of_worker_id) AS for_whom
  FROM fieldops.expense_claim c, fieldops.expense_claim_roles(:et, c, :c) r WHERE c.tenant_id = :et AND c.claim_id = :cl3;
SELECT count(*) AS own_claims_in_cs_queue FROM fieldops.expense_approval_queue(:et, :c) q WHERE q.worker_id = :c;
SELECT fieldops.approve_expense_claim(:et, :cl5, :c, 'manager') AS c_as_ms_delegate,
       fieldops.approve_expense_claim(:et, :cl5, :boss, 'manager') AS boss_approves,
       fieldops.approve_expense_claim(:et, :cl5, :c, 'finance') AS c_as_finance,
       fieldops.approve_expense_claim(:et, :cl5, :f, 'finance') AS f_approves,
       fieldops.mark_expense_claim_paid(:et, :cl5, :c) AS c_pays_himself;
SELECT expense_test.err(format('SELECT fieldops.approve_expense_claim(%s, %s, %s, %L)', :et, :cl5, :gone, 'finance')) AS gone_approves;

--
-- 6. The policy-flag catalogue: each flag fires, and does not fire just
--    under its threshold.  Caps: meal 100 per line (any level), meal per
--    day 150 for level P2 (C) and 300 for any level (C2), lodging 500 per
--    trip, parking 1 per line only from tomorrow, meal 10 per day in USD
--    (not CNY).  C's Friday already holds a paid meal of 45.50 (L1), 40 km
--    on his vehicle claim (L5, measured 40 km) and none on his trip
--    (12 km); the tolerance is 10 %.
--
SELECT fieldops.set_expense_policy(:et, 'meal', 'line', 100, '2020-01-01') AS p_meal_line \gset
SELECT fieldops.set_expense_policy(:et, 'meal', 'day', 150, '2020-01-01', 'P2') AS p_meal_day_p2 \gset
SELECT fieldops.set_expense_policy(:et, 'meal', 'day', 300, '2020-01-01') AS p_meal_day \gset
SELECT fieldops.set_expense_policy(:et, 'lodging', 'trip', 500, '2020-01-01') AS p_lodging_trip \gset
SELECT fieldops.set_expense_policy(:et, 'parking', 'line', 1, :'today'::date + 1) AS p_parking_tomorrow \gset
SELECT fieldops.set_expense_policy(:et, 'meal', 'day', 10, '2020-01-01', p_currency => 'USD') AS p_meal_usd \gset
SELECT fieldops.set_expense_policy(:et, 'meal', 'day', 999, '2020-01-01', 'P2') = :p_meal_day_p2 AS same_rule_replaced,
       fieldops.set_expense_policy(:et, 'meal', 'day', 150, '2020-01-01', 'P2') = :p_meal_day_p2 AS and_back;
SELECT expense_type, period, coalesce(job_level, 'any') AS level, cap, currency, effective_from = '2020-01-01' AS since_2020
  FROM fieldops.expense_policy WHERE tenant_id = :et ORDER BY policy_id;
-- the rule in effect: the worker's level before any level
SELECT (fieldops.expense_policy_for(:et, 'meal', 'day', 'CNY', :'fri', 'P2')).cap AS p2,
       (fieldops.expense_policy_for(:et, 'meal', 'day', 'CNY', :'fri', 'P1')).cap AS p1,
       (fieldops.expense_policy_for(:et, 'meal', 'day', 'USD', :'fri', NULL)).cap AS usd,
       (fieldops.expense_policy_for(:et, 'parking', 'line', 'CNY', :'today', NULL)).cap AS parking_today;
-- C2 works Saturday mornings
SELECT fieldops.set_work_schedule(:et, :c2, '{"mon": ["09:00-18:00"], "tue": ["09:00-18:00"], "wed": ["09:00-18:00"], "thu": ["09:00-18:00"], "fri": ["09:00-18:00"], "sat": ["09:00-12:00"]}') IS NOT NULL AS c2_saturdays;
-- just at the thresholds: nothing fires
SELECT expense_test.claim('CL6', 'C', 'At the limits') AS cl6 \gset
SELECT expense_test.line('meal_wed_100', :cl6, 'meal', :'wed', 100.00, 'V_FRI') AS a,
       expense_test.line('meal_fri_60', :cl6, 'meal', :'fri', 60, 'V_FRI') AS b,
       expense_test.line('meal_fri_44.50', :cl6, 'meal', :'fri', 44.50, 'V_FRI') AS c,
       expense_test.line('lodging_300', :cl6, 'lodging', :'fri', 300, 'TRIP_FRI') AS d,
       expense_test.line('lodging_200', :cl6, 'lodging', :'fri', 200, 'TRIP_FRI') AS e,
       expense_test.line('km_vc_4', :cl6, 'vehicle_mileage', :'fri', 3.2, 'VC_FRI', p_km => 4) AS f,
       expense_test.line('km_trip_13.2', :cl6, 'vehicle_mileage', :'fri', 10.56, 'TRIP_FRI', p_km => 13.2) AS g,
       expense_test.line('parking_fri', :cl6, 'parking', :'fri', 20, 'TASK_C') AS h,
       expense_test.line('other_wo', :cl6, 'other', :'thu', 5, 'WO_C') AS i,
       expense_test.line('meal_usd', :cl6, 'meal', :'thu', 9.99, 'V_FRI') AS j;
SELECT fieldops.update_expense_line(:et, expense_test.id('meal_usd'), :c, 'meal', :'thu', 10, 'USD', p_visit_id => :v_fri) AS in_usd;
SELECT fieldops.submit_expense_claim(:et, :cl6, :c) AS submitted;
SELECT * FROM expense_test.lines(:cl6);
-- just over them: each fires
SELECT expense_test.claim('CL7', 'C', 'Over the limits') AS cl7 \gset
SELECT expense_test.line('meal_thu_100.01', :cl7, 'meal', :'thu', 100.01, 'V_FRI') AS a,
       expense_test.line('meal_fri_0.01', :cl7, 'meal', :'fri', 0.01, 'V_FRI') AS b,
       expense_test.line('lodging_0.01', :cl7, 'lodging', :'fri', 0.01, 'TRIP_FRI') AS c,
       expense_test.line('km_vc_0.001', :cl7, 'vehicle_mileage', :'fri', 0.01, 'VC_FRI', p_km => 0.001) AS d,
       expense_test.line('km_trip_0.001', :cl7, 'vehicle_mileage', :'fri', 0.01, 'TRIP_FRI', p_km => 0.001) AS e,
       expense_test.line('km_task_5', :cl7, 'vehicle_mileage', :'fri', 4, 'TASK_C', p_km => 5) AS f,
       expense_test.line('parking_sat', :cl7, 'parking', :'sat', 20, 'TASK_C') AS g,
       expense_test.line('travel_open_visit', :cl7, 'travel', :'thu', 20, 'V_OPEN') AS h,
       expense_test.line('travel_c2s_visit', :cl7, 'travel', :'fri', 20, 'V_C2') AS i,
       expense_test.line('travel_xs_task', :cl7, 'travel', :'fri', 20, 'TASK_X') AS j,
       expense_test.line('meal_usd_0.01', :cl7, 'meal', :'thu', 0.01, 'V_FRI') AS k;
SELECT fieldops.update_expense_line(:et, expense_test.id('meal_usd_0.01'), :c, 'meal', :'thu', 0.01, 'USD', p_visit_id => :v_fri) AS in_usd;
SELECT fieldops.submit_expense_claim(:et, :cl7, :c) AS submitted;
SELECT * FROM expense_test.lines(:cl7);
-- CL6's flags were written when it was submitted and stay as they were
SELECT count(*) AS cl6_lines_flagged_since FROM fieldops.expense_line WHERE tenant_id = :et AND claim_id = :cl6 AND flags <> '[]';
-- the texts and numbers of the flags of one line
SELECT expense_test.mask(f ->> 'text') AS text, f - 'text' - 'line_ids' - 'policy_id' - 'day' - 'reasons' - 'visit_id'
       - 'context_id' - 'context_worker_id' - 'trip_id' AS numbers
  FROM fieldops.expense_line l, jsonb_array_elements(l.flags) f
 WHERE l.tenant_id = :et AND l.claim_id = :cl7 AND l.line_id IN (expense_test.id('meal_thu_100.01'), expense_test.id('meal_fri_0.01'),
       expense_test.id('lodging_0.01'), expense_test.id('km_vc_0.001'), expense_test.id('km_trip_0.001'), expense_test.id('km_task_5'),
       expense_test.id('parking_sat'), expense_test.id('travel_open_visit'), expense_test.id('travel_xs_task'))
 ORDER BY l.line_id, f ->> 'code';
-- the day's total names the lines it adds up, the other claims' too
SELECT (SELECT string_agg(expense_test.name('line', i::bigint), ', ' ORDER BY i::bigint) FROM jsonb_array_elements_text(f -> 'line_ids') i) AS day_total_of
  FROM fieldops.expense_line l, jsonb_array_elements(l.flags) f
 WHERE l.tenant_id = :et AND l.line_id = expense_test.id('meal_fri_0.01') AND f ->> 'period' = 'day';
-- C2: the cap for any level; Saturday is a working day of his own schedule
SELECT expense_test.claim('CL8', 'C2', 'Cao''s week') AS cl8 \gset
SELECT expense_test.line('c2_meal_100', :cl8, 'meal', :'fri', 100, 'V_C2') AS a,
       expense_test.line('c2_meal_100b', :cl8, 'meal', :'fri', 100, 'V_C2') AS b,
       expense_test.line('c2_meal_100.01', :cl8, 'meal', :'fri', 100.01, 'V_C2') AS c,
       expense_test.line('c2_parking_sat', :cl8, 'parking', :'sat', 10, 'V_C2') AS d,
       fieldops.submit_expense_claim(:et, :cl8, :c2) AS submitted;
SELECT * FROM expense_test.lines(:cl8);
-- the tenant does not flag non-working days: C's Saturday is not flagged when resubmitted
SELECT fieldops.reject_expense_claim(:et, :cl7, :m, 'too many flags') AS rejected;
SELECT (fieldops.alter_tenant(:et, p_settings => '{"expense_flag_non_working_days": false, "expense_km_tolerance_pct": 20}')).tenant_id = :et AS settings_changed;
SELECT fieldops.submit_expense_claim(:et, :cl7, :c) AS resubmitted;
SELECT * FROM expense_test.lines(:cl7) WHERE line IN ('parking_sat', 'km_vc_0.001', 'km_trip_0.001');
SELECT (fieldops.alter_tenant(:et, p_settings => '{"expense_flag_non_working_days": null, "expense_km_tolerance_pct": null}')).tenant_id = :et AS settings_back;

--
-- 7. Duplicate receipts: the same receipt on lines of two claims (and
--    twice in one) flags every one of them, naming the others; a cancelled
--    claim's line does not count; a draft's line is named, and flagged
--    itself when it is submitted
--
SELECT expense_test.claim('CL9', 'C', 'Receipts one') AS cl9 \gset
SELECT expense_test.line('dup_a', :cl9, 'travel', :'fri', 35, 'V_FRI', 'receipt DUP') AS a,
       expense_test.line('other_receipt', :cl9, 'travel', :'fri', 35, 'V_FRI', 'receipt OTHER') AS b,
       fieldops.submit_expense_claim(:et, :cl9, :c) AS submitted;
SELECT * FROM expense_test.lines(:cl9);
SELECT expense_test.claim('CL10', 'C', 'Receipts draft') AS cl10 \gset
SELECT expense_test.line('dup_draft', :cl10, 'travel', :'fri', 35, 'V_FRI', 'receipt DUP') AS a,
       expense_test.line('gone_receipt', :cl10, 'travel', :'fri', 35, 'V_FRI', 'receipt GONE') AS b;
SELECT expense_test.claim('CL11', 'C2', 'Receipts two') AS cl11 \gset
SELECT expense_test.line('dup_b', :cl11, 'travel', :'fri', 35, 'V_C2', 'receipt DUP') AS a,
       expense_test.line('dup_b_twice', :cl11, 'travel', :'fri', 35, 'V_C2', 'receipt DUP') AS b,
       fieldops.submit_expense_claim(:et, :cl11, :c2) AS submitted;
SELECT 'CL9' AS claim, * FROM expense_test.lines(:cl9) UNION ALL SELECT 'CL10', * FROM expense_test.lines(:cl10)
UNION ALL SELECT 'CL11', * FROM expense_test.lines(:cl11);
SELECT fieldops.submit_expense_claim(:et, :cl10, :c) AS draft_submitted;
SELECT 'CL9' AS claim, * FROM expense_test.lines(:cl9) UNION ALL SELECT 'CL10', * FROM expense_test.lines(:cl10)
UNION ALL SELECT 'CL11', * FROM expense_test.lines(:cl11);
SELECT expense_test.mask(f ->> 'text') AS text FROM fieldops.expense_line l, jsonb_array_elements(l.flags) f
 WHERE l.tenant_id = :et AND l.line_id = expense_test.id('dup_a');
-- cancelled claims' receipts are free again
SELECT fieldops.withdraw_expense_claim(:et, :cl11, :c2) AS cl11_withdrawn, fieldops.withdraw_expense_claim(:et, :cl10, :c) AS cl10_withdrawn;
SELECT expense_test.claim('CL12', 'C', 'Receipts three') AS cl12 \gset
SELECT expense_test.line('dup_c', :cl12, 'travel', :'fri', 35, 'V_FRI', 'receipt DUP') AS a,
       expense_test.line('reused_after_cancel', :cl12, 'travel', :'fri', 35, 'V_FRI', 'receipt GONE') AS b,
       fieldops.submit_expense_claim(:et, :cl12, :c) AS submitted;
SELECT * FROM expense_test.lines(:cl12);

--
-- 8. Every line has a business context: the API says which are missing
--    or too many; the table refuses one without (the backstop)
--
SELECT expense_test.err(format('SELECT fieldops.add_expense_line(%s, %s, %s, %L, %L, 10)', :et, :cl12, :c, 'meal', :'fri')) AS no_context;
SELECT expense_test.err(format('SELECT fieldops.add_expense_line(%s, %s, %s, %L, %L, 10, p_visit_id => %s, p_work_order_id => %s)',
                               :et, :cl12, :c, 'meal', :'fri', :v_fri, :wo_c)) AS two_contexts;
SELECT expense_test.err(format('INSERT INTO fieldops.expense_line (tenant_id, claim_id, expense_type, spent_on, amount, currency, created_at, updated_at) VALUES (%s, %s, %L, %L, 10, %L, now(), now())',
                               :et, :cl12, 'meal', :'fri', 'CNY')) AS table_backstop;
SELECT expense_test.err(format('INSERT INTO fieldops.expense_line (tenant_id, claim_id, expense_type, spent_on, amount, currency, claimed_km, visit_id, created_at, updated_at) VALUES (%s, %s, %L, %L, 10, %L, 5, %s, now(), now())',
                               :et, :cl12, 'meal', :'fri', 'CNY', :v_fri)) AS km_on_a_meal;

--
-- 9. Bad input: every function, every argument (SQLSTATE and message)
--
SELECT fieldops.create_tenant('Expense Test Other', 'Asia/Shanghai') AS other \gset
INSERT INTO expense_test.ids VALUES ('other', :other, 'tenant');
SELECT expense_test.claim('CL13', 'C', 'Bad input target') AS cl13 \gset
SELECT expense_test.line('L13', :cl13, 'meal', :'fri', 10, 'V_FRI') AS line;
SELECT expense_test.id('L13') AS l13 \gset
SELECT (SELECT count(*) FROM fieldops.expense_claim WHERE tenant_id = :et) AS claims_before,
       (SELECT count(*) FROM fieldops.expense_line WHERE tenant_id = :et) AS lines_before,
       (SELECT count(*) FROM fieldops.expense_claim_history WHERE tenant_id = :et) AS history_before \gset
SELECT expense_test.err(q) AS result FROM (VALUES
    -- create_expense_claim
    (format('SELECT fieldops.create_expense_claim(%s, NULL, %L)', :et, 'x')),
    (format('SELECT fieldops.create_expense_claim(%s, 0, %L)', :et, 'x')),
    (format('SELECT fieldops.create_expense_claim(%s, 987654321, %L)', :et, 'x')),
    (format('SELECT fieldops.create_expense_claim(%s, %s, %L)', :et, :gone, 'x')),
    (format('SELECT fieldops.create_expense_claim(%s, %s, NULL)', :et, :c)),
    (format('SELECT fieldops.create_expense_claim(%s, %s, %L)', :et, :c, repeat('t', 201))),
    -- add_expense_line
    (format('SELECT fieldops.add_expense_line(%s, NULL, %s, %L, %L, 10, p_visit_id => %s)', :et, :c, 'meal', :'fri', :v_fri)),
    (format('SELECT fieldops.add_expense_line(%s, -1, %s, %L, %L, 10, p_visit_id => %s)', :et, :c, 'meal', :'fri', :v_fri)),
    (format('SELECT fieldops.add_expense_line(%s, %s, %s, NULL, %L, 10, p_visit_id => %s)', :et, :cl13, :c, :'fri', :v_fri)),
    (format('SELECT fieldops.add_expense_line(%s, %s, %s, %L, %L, 10, p_visit_id => %s)', :et, :cl13, :c, 'taxi', :'fri', :v_fri)),
    (format('SELECT fieldops.add_expense_line(%s, %s, %s, %L, NULL, 10, p_visit_id => %s)', :et, :cl13, :c, 'meal', :v_fri)),
    (format('SELECT fieldops.add_expense_line(%s, %s, %s, %L, %L, 10, p_visit_id => %s)', :et, :cl13, :c, 'meal', :'today'::date + 1, :v_fri)),
    (format('SELECT fieldops.add_expense_line(%s, %s, %s, %L, %L, 10, p_visit_id => %s)', :et, :cl13, :c, 'meal', '-infinity', :v_fri)),
    (format('SELECT fieldops.add_expense_line(%s, %s, %s, %L, %L, NULL, p_visit_id => %s)', :et, :cl13, :c, 'meal', :'fri', :v_fri)),
    (format('SELECT fieldops.add_expense_line(%s, %s, %s, %L, %L, 0, p_visit_id => %s)', :et, :cl13, :c, 'meal', :'fri', :v_fri)),
    (format('SELECT fieldops.add_expense_line(%s, %s, %s, %L, %L, -5, p_visit_id => %s)', :et, :cl13, :c, 'meal', :'fri', :v_fri)),
    (format('SELECT fieldops.add_expense_line(%s, %s, %s, %L, %L, 1.005, p_visit_id => %s)', :et, :cl13, :c, 'meal', :'fri', :v_fri)),
    (format('SELECT fieldops.add_expense_line(%s, %s, %s, %L, %L, 1e13, p_visit_id => %s)', :et, :cl13, :c, 'meal', :'fri', :v_fri)),
    (format('SELECT fieldops.add_expense_line(%s, %s, %s, %L, %L, 10, %L, p_visit_id => %s)', :et, :cl13, :c, 'meal', :'fri', 'cny', :v_fri)),
    (format('SELECT fieldops.add_expense_line(%s, %s, %s, %L, %L, 10, %L, p_visit_id => %s)', :et, :cl13, :c, 'meal', :'fri', 'EURO', :v_fri)),
    (format('SELECT fieldops.add_expense_line(%s, %s, %s, %L, %L, 10, p_description => %L, p_visit_id => %s)', :et, :cl13, :c, 'meal', :'fri', repeat('d', 1001), :v_fri)),
    (format('SELECT fieldops.add_expense_line(%s, %s, %s, %L, %L, 10, p_receipt_sha256 => %L, p_visit_id => %s)', :et, :cl13, :c, 'meal', :'fri', '\x0102', :v_fri)),
    (format('SELECT fieldops.add_expense_line(%s, %s, %s, %L, %L, 10, p_claimed_km => 5, p_visit_id => %s)', :et, :cl13, :c, 'meal', :'fri', :v_fri)),
    (format('SELECT fieldops.add_expense_line(%s, %s, %s, %L, %L, 10, p_vehicle_claim_id => %s)', :et, :cl13, :c, 'vehicle_mileage', :'fri', :vc_fri)),
    (format('SELECT fieldops.add_expense_line(%s, %s, %s, %L, %L, 10, p_claimed_km => 0, p_vehicle_claim_id => %s)', :et, :cl13, :c, 'vehicle_mileage', :'fri', :vc_fri)),
    (format('SELECT fieldops.add_expense_line(%s, %s, %s, %L, %L, 10, p_claimed_km => 5000.5, p_vehicle_claim_id => %s)', :et, :cl13, :c, 'vehicle_mileage', :'fri', :vc_fri)),
    (format('SELECT fieldops.add_expense_line(%s, %s, %s, %L, %L, 10, p_claimed_km => 1.0001, p_vehicle_claim_id => %s)', :et, :cl13, :c, 'vehicle_mileage', :'fri', :vc_fri)),
    (format('SELECT fieldops.add_expense_line(%s, %s, %s, %L, %L, 10, p_visit_id => 0)', :et, :cl13, :c, 'meal', :'fri')),
    (format('SELECT fieldops.add_expense_line(%s, %s, %s, %L, %L, 10, p_visit_id => 987654321)', :et, :cl13, :c, 'meal', :'fri')),
    (format('SELECT fieldops.add_expense_line(%s, %s, %s, %L, %L, 10, p_task_id => 987654321)', :et, :cl13, :c, 'meal', :'fri')),
    (format('SELECT fieldops.add_expense_line(%s, %s, %s, %L, %L, 10, p_trip_id => 987654321)', :et, :cl13, :c, 'meal', :'fri')),
    (format('SELECT fieldops.add_expense_line(%s, %s, %s, %L, %L, 10, p_work_order_id => 987654321)', :et, :cl13, :c, 'meal', :'fri')),
    (format('SELECT fieldops.add_expense_line(%s, %s, %s, %L, %L, 10, p_vehicle_claim_id => 987654321)', :et, :cl13, :c, 'meal', :'fri')),
    (format('SELECT fieldops.add_expense_line(%s, %s, NULL, %L, %L, 10, p_visit_id => %s)', :et, :cl13, 'meal', :'fri', :v_fri)),
    (format('SELECT fieldops.add_expense_line(%s, %s, 987654321, %L, %L, 10, p_visit_id => %s)', :et, :cl13, 'meal', :'fri', :v_fri)),
    (format('SELECT fieldops.add_expense_line(%s, %s, %s, %L, %L, 10, p_visit_id => %s)', :et, :cl13, :gone, 'meal', :'fri', :v_fri)),
    -- update_expense_line, remove_expense_line
    (format('SELECT fieldops.update_expense_line(%s, NULL, %s, %L, %L, 10, p_visit_id => %s)', :et, :c, 'meal', :'fri', :v_fri)),
    (format('SELECT fieldops.update_expense_line(%s, 0, %s, %L, %L, 10, p_visit_id => %s)', :et, :c, 'meal', :'fri', :v_fri)),
    (format('SELECT fieldops.update_expense_line(%s, %s, %s, %L, %L, 10)', :et, :l13, :c, 'meal', :'fri')),
    (format('SELECT fieldops.update_expense_line(%s, %s, NULL, %L, %L, 10, p_visit_id => %s)', :et, :l13, 'meal', :'fri', :v_fri)),
    (format('SELECT fieldops.remove_expense_line(%s, NULL, %s)', :et, :c)),
    (format('SELECT fieldops.remove_expense_line(%s, %s, NULL)', :et, :l13)),
    (format('SELECT fieldops.remove_expense_line(%s, %s, %s)', :et, :l13, :gone)),
    -- set_expense_claim_state and the named transitions
    (format('SELECT fieldops.set_expense_claim_state(%s, %s, NULL, %s)', :et, :cl13, :c)),
    (format('SELECT fieldops.set_expense_claim_state(%s, %s, %L, %s)', :et, :cl13, 'approved', :c)),
    (format('SELECT fieldops.set_expense_claim_state(%s, NULL, %L, %s)', :et, 'submitted', :c)),
    (format('SELECT fieldops.set_expense_claim_state(%s, %s, %L, 987654321)', :et, :cl13, 'submitted')),
    (format('SELECT fieldops.set_expense_claim_state(%s, %s, %L, %s, %L)', :et, :cl13, 'cancelled', :c, repeat('r', 501))),
    (format('SELECT fieldops.submit_expense_claim(%s, NULL, %s)', :et, :c)),
    (format('SELECT fieldops.submit_expense_claim(%s, %s, NULL)', :et, :cl13)),
    (format('SELECT fieldops.submit_expense_claim(%s, %s, %s)', :et, :cl13, :gone)),
    (format('SELECT fieldops.approve_expense_claim(%s, %s, %s, NULL)', :et, :cl13, :m)),
    (format('SELECT fieldops.approve_expense_claim(%s, %s, %s, %L)', :et, :cl13, :m, 'ceo')),
    (format('SELECT fieldops.approve_expense_claim(%s, %s, NULL, %L)', :et, :cl13, 'manager')),
    (format('SELECT fieldops.approve_expense_claim(%s, %s, %s, %L, %L)', :et, :cl13, :m, 'manager', repeat('c', 501))),
    (format('SELECT fieldops.reject_expense_claim(%s, %s, NULL, %L)', :et, :cl13, 'why')),
    (format('SELECT fieldops.reject_expense_claim(%s, %s, %s, %L)', :et, :cl13, :m, repeat('r', 501))),
    (format('SELECT fieldops.mark_expense_claim_paid(%s, %s, 987654321)', :et, :cl13)),
    (format('SELECT fieldops.mark_expense_claim_paid(%s, %s, NULL, %L)', :et, :cl13, repeat('p', 101))),
    (format('SELECT fieldops.withdraw_expense_claim(%s, %s, NULL)', :et, :cl13)),
    (format('SELECT fieldops.reopen_expense_claim(%s, -3, %s)', :et, :c)),
    -- approvers, delegates, policies
    (format('SELECT fieldops.set_finance_approver(%s, NULL)', :et)),
    (format('SELECT fieldops.set_finance_approver(%s, 987654321)', :et)),
    (format('SELECT fieldops.set_finance_approver(%s, %s)', :et, :gone)),
    (format('SELECT fieldops.set_finance_approver(%s, %s, NULL)', :et, :f)),
    (format('SELECT fieldops.set_finance_approver(%s, 987654321, false)', :et)),
    (format('SELECT fieldops.set_expense_delegate(%s, NULL, %s, %L, %L)', :et, :dm, :'today', :'today')),
    (format('SELECT fieldops.set_expense_delegate(%s, %s, %s, %L, %L)', :et, :m, :m, :'today', :'today')),
    (format('SELECT fieldops.set_expense_delegate(%s, %s, %s, NULL, %L)', :et, :m, :dm, :'today')),
    (format('SELECT fieldops.set_expense_delegate(%s, %s, %s, %L, %L)', :et, :m, :dm, :'today', :'today'::date - 1)),
    (format('SELECT fieldops.set_expense_delegate(%s, %s, %s, %L, %L)', :et, :m, :dm, :'today', 'infinity')),
    (format('SELECT fieldops.set_expense_delegate(%s, %s, 987654321, %L, %L)', :et, :m, :'today', :'today')),
    (format('SELECT fieldops.set_expense_delegate(%s, %s, %s, %L, %L)', :et, :m, :gone, :'today', :'today')),
    (format('SELECT fieldops.remove_expense_delegate(%s, %s, NULL)', :et, :m)),
    (format('SELECT fieldops.set_expense_policy(%s, NULL, %L, 10, %L)', :et, 'day', '2020-01-01')),
    (format('SELECT fieldops.set_expense_policy(%s, %L, %L, 10, %L)', :et, 'snacks', 'day', '2020-01-01')),
    (format('SELECT fieldops.set_expense_policy(%s, %L, NULL, 10, %L)', :et, 'meal', '2020-01-01')),
    (format('SELECT fieldops.set_expense_policy(%s, %L, %L, 10, %L)', :et, 'meal', 'week', '2020-01-01')),
    (format('SELECT fieldops.set_expense_policy(%s, %L, %L, NULL, %L)', :et, 'meal', 'day', '2020-01-01')),
    (format('SELECT fieldops.set_expense_policy(%s, %L, %L, 0, %L)', :et, 'meal', 'day', '2020-01-01')),
    (format('SELECT fieldops.set_expense_policy(%s, %L, %L, 10, NULL)', :et, 'meal', 'day')),
    (format('SELECT fieldops.set_expense_policy(%s, %L, %L, 10, %L)', :et, 'meal', 'day', 'infinity')),
    (format('SELECT fieldops.set_expense_policy(%s, %L, %L, 10, %L, %L)', :et, 'meal', 'day', '2020-01-01', repeat('L', 33))),
    (format('SELECT fieldops.set_expense_policy(%s, %L, %L, 10, %L, p_currency => %L)', :et, 'meal', 'day', '2020-01-01', 'yuan')),
    (format('SELECT fieldops.delete_expense_policy(%s, NULL)', :et)),
    -- reading
    (format('SELECT fieldops.expense_claim_detail(%s, NULL)', :et)),
    (format('SELECT fieldops.expense_approval_queue(%s, NULL)', :et)),
    -- another tenant's id (this session chose the test's tenant)
    (format('SELECT fieldops.create_expense_claim(%s, %s, %L)', :other, :c, 'x')),
    (format('SELECT fieldops.add_expense_line(%s, %s, %s, %L, %L, 10, p_visit_id => %s)', :other, :cl13, :c, 'meal', :'fri', :v_fri)),
    (format('SELECT fieldops.update_expense_line(%s, %s, %s, %L, %L, 10, p_visit_id => %s)', :other, :l13, :c, 'meal', :'fri', :v_fri)),
    (format('SELECT fieldops.remove_expense_line(%s, %s, %s)', :other, :l13, :c)),
    (format('SELECT fieldops.set_expense_claim_state(%s, %s, %L, %s)', :other, :cl13, 'submitted', :c)),
    (format('SELECT fieldops.submit_expense_claim(%s, %s, %s)', :other, :cl13, :c)),
    (format('SELECT fieldops.approve_expense_claim(%s, %s, %s, %L)', :other, :cl13, :m, 'manager')),
    (format('SELECT fieldops.reject_expense_claim(%s, %s, %s, %L)', :other, :cl13, :m, 'x')),
    (format('SELECT fieldops.mark_expense_claim_paid(%s, %s)', :other, :cl13)),
    (format('SELECT fieldops.withdraw_expense_claim(%s, %s, %s)', :other, :cl13, :c)),
    (format('SELECT fieldops.reopen_expense_claim(%s, %s, %s)', :other, :cl13, :c)),
    (format('SELECT fieldops.set_finance_approver(%s, %s)', :other, :c)),
    (format('SELECT fieldops.set_expense_delegate(%s, %s, %s, %L, %L)', :other, :m, :dm, :'today', :'today')),
    (format('SELECT fieldops.remove_expense_delegate(%s, %s, %s)', :other, :m, :dm)),
    (format('SELECT fieldops.set_expense_policy(%s, %L, %L, 10, %L)', :other, 'meal', 'day', '2020-01-01')),
    (format('SELECT fieldops.delete_expense_policy(%s, %s)', :other, :p_meal_line)),
    (format('SELECT fieldops.expense_claim_detail(%s, %s)', :other, :cl13)),
    (format('SELECT fieldops.expense_approval_queue(%s, %s)', :other, :m))
) AS q(q);
-- nothing above wrote anything
SELECT (SELECT count(*) FROM fieldops.expense_claim WHERE tenant_id = :et) = :claims_before AS same_claims,
       (SELECT count(*) FROM fieldops.expense_line WHERE tenant_id = :et) = :lines_before AS same_lines,
       (SELECT count(*) FROM fieldops.expense_claim_history WHERE tenant_id = :et) = :history_before AS same_history;
-- business "no"s are statuses, not errors
SELECT fieldops.submit_expense_claim(:et, 987654321, :c) AS unknown_claim,
       (fieldops.add_expense_line(:et, 987654321, :c, 'meal', :'fri', 10, p_visit_id => :v_fri)).status AS line_of_unknown_claim,
       (fieldops.add_expense_line(:et, :cl13, :c2, 'meal', :'fri', 10, p_visit_id => :v_fri)).status AS line_by_another_worker,
       fieldops.remove_expense_line(:et, 987654321, :c) AS unknown_line,
       fieldops.delete_expense_policy(:et, 987654321) AS unknown_policy,
       fieldops.delete_expense_policy(:et, :p_parking_tomorrow) AS policy_deleted,
       fieldops.set_finance_approver(:et, :c, false) AS c_not_finance_any_more,
       fieldops.set_finance_approver(:et, :c, false) AS c_still_not;

--
-- 10. Tenancy: an application of another tenant sees none of this
--     tenant's claims, lines, history, approvers, delegations or policies
--     and cannot reach them through any function; an analyst of this
--     tenant reads them and changes nothing; the history is append-only
--
SELECT fieldops.set_tenant(:other, false) IS NOT NULL AS other_chosen;
SELECT fieldops.upsert_worker(:other, 'OM', 'Other manager') AS om \gset
SELECT fieldops.upsert_worker(:other, 'OW', 'Other worker', p_manager_id => :om) AS ow \gset
SELECT fieldops.upsert_customer(:other, 'OC', 'Other shop', ST_SetSRID(ST_MakePoint(121.47, 31.23), 4326)) AS oc \gset
INSERT INTO fieldops.visit (tenant_id, worker_id, customer_id, checkin_at, checkout_at, checkin_geofence, checkout_geofence)
VALUES (:other, :ow, :oc, now() - interval '2 hours', now() - interval '1 hour', 'inside', 'inside') RETURNING visit_id AS ov \gset
SELECT fieldops.create_expense_claim(:other, :ow, 'Other claim') AS ocl \gset
SELECT (fieldops.add_expense_line(:other, :ocl, :ow, 'meal', :'today', 10, p_visit_id => :ov)).status AS other_line,
       fieldops.submit_expense_claim(:other, :ocl, :ow) AS other_submitted,
       fieldops.set_finance_approver(:other, :ow) AS other_finance,
       fieldops.set_expense_policy(:other, 'meal', 'day', 50, '2020-01-01') IS NOT NULL AS other_policy,
       fieldops.set_expense_delegate(:other, :om, :ow, :'today', :'today') IS NOT NULL AS other_delegation,
       fieldops.approve_expense_claim(:other, :ocl, :om, 'manager') AS other_approved;
INSERT INTO expense_test.ids VALUES ('OW', :ow, 'worker'), ('OM', :om, 'worker');
SELECT fieldops.set_tenant(:et, false) IS NOT NULL AS back;
CREATE ROLE expense_app IN ROLE fieldops_app;
CREATE ROLE expense_bi IN ROLE fieldops_analyst;
SELECT fieldops.grant_tenant_access('expense_app', :other), fieldops.grant_tenant_access('expense_bi', :et);
CREATE FUNCTION expense_test.visible() RETURNS TABLE (tbl text, mine bigint, others bigint) LANGUAGE plpgsql AS $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['fieldops.expense_claim', 'fieldops.expense_line', 'fieldops.expense_claim_history', 'fieldops.finance_approver',
                             'fieldops.expense_delegation', 'fieldops.expense_policy', 'fieldops.expense_counted'] LOOP
        tbl := t;
        EXECUTE format('SELECT count(*) FILTER (WHERE tenant_id = fieldops.current_tenant_id()),
                               count(*) FILTER (WHERE tenant_id IS DISTINCT FROM fieldops.current_tenant_id()) FROM %s', t)
           INTO mine, others;
        RETURN NEXT;
    END LOOP;
END $$;
GRANT EXECUTE ON FUNCTION expense_test.visible() TO PUBLIC;
RESET ALL;
SET datestyle = 'ISO, YMD';
SET timezone = 'UTC';
SET ROLE expense_app;
SELECT sum(mine + others) AS rows_without_tenant FROM expense_test.visible();
SELECT fieldops.set_tenant(:other, false) IS NOT NULL AS other_chosen;
SELECT tbl, mine > 0 AS sees_own, others AS sees_others FROM expense_test.visible();
-- this tenant's claims, lines, visits and workers do not exist for the other tenant
SELECT fieldops.submit_expense_claim(:other, :cl13, :ow) AS submit_cl13,
       fieldops.withdraw_expense_claim(:other, :cl13, :ow) AS withdraw_cl13,
       fieldops.remove_expense_line(:other, :l13, :ow) AS remove_l13,
       fieldops.update_expense_line(:other, :l13, :ow, 'meal', :'fri', 10, p_visit_id => :ov) AS update_l13,
       fieldops.expense_claim_detail(:other, :cl1) IS NULL AS detail_cl1,
       (SELECT count(*) FROM fieldops.expense_approval_queue(:other, :ow)) AS queue,
       fieldops.delete_expense_policy(:other, :p_meal_line) AS delete_policy,
       fieldops.remove_expense_delegate(:other, :m, :dm) AS remove_delegate;
SELECT expense_test.err(format('SELECT fieldops.add_expense_line(%s, %s, %s, %L, %L, 10, p_visit_id => %s)', :other, :ocl, :ow, 'meal', :'fri', :v_fri)) AS visit_of_et,
       expense_test.err(format('SELECT fieldops.approve_expense_claim(%s, %s, %s, %L)', :other, :ocl, :m, 'manager')) AS worker_of_et;
SELECT expense_test.err(format('SELECT fieldops.approve_expense_claim(%s, %s, %s, %L)', :et, :cl13, :m, 'manager')) AS et_tenant,
       expense_test.err(format('SELECT fieldops.expense_claim_detail(%s, %s)', :et, :cl1)) AS et_detail;
-- no direct writes, no internal functions
SELECT expense_test.err(format('UPDATE fieldops.expense_claim SET state = %L', 'paid')) AS direct_update,
       expense_test.err(format('DELETE FROM fieldops.expense_claim_history WHERE tenant_id = %s', :other)) AS direct_delete,
       expense_test.err(format('INSERT INTO fieldops.finance_approver VALUES (%s, %s, now())', :other, :ow)) AS direct_insert,
       expense_test.err(format('SELECT fieldops.expense_flag_claim(%s, %s, now())', :other, :ocl)) AS internal_function;
RESET ROLE;
SET ROLE expense_bi;
SELECT fieldops.set_tenant(:et, false) IS NOT NULL AS et_chosen;
SELECT tbl, mine > 0 AS sees_own, others AS sees_others FROM expense_test.visible();
SELECT d ->> 'state' AS cl1_state, jsonb_array_length(d -> 'lines') AS lines FROM fieldops.expense_claim_detail(:et, :cl1) d;
SELECT count(*) > 0 AS reads_the_queue FROM fieldops.expense_approval_queue(:et, :m);
SELECT expense_test.err(format('SELECT fieldops.submit_expense_claim(%s, %s, %s)', :et, :cl13, :c)) AS analyst_submits;
RESET ROLE;
-- the history is append-only, even for the API's owner and administrators
SELECT r, has_table_privilege(r, 'fieldops.expense_claim_history', 'UPDATE') OR has_table_privilege(r, 'fieldops.expense_claim_history', 'DELETE') AS may_rewrite
  FROM unnest(ARRAY['fieldops_api', 'fieldops_admin', 'fieldops_app']) r;
SELECT fieldops.revoke_tenant_access('expense_app', :other) AND fieldops.revoke_tenant_access('expense_bi', :et) AS revoked;
DROP ROLE expense_app;
DROP ROLE expense_bi;

-- the events of the test's tenant, by topic: one per history row
SELECT fieldops.set_tenant(:et, false) IS NOT NULL AS et_chosen;
SELECT topic, count(*) FROM fieldops.outbox WHERE tenant_id = :et AND (topic LIKE 'expense%') GROUP BY topic ORDER BY topic;
SELECT h.topic, h.n AS history_rows, e.n AS events FROM
       (SELECT CASE WHEN from_state IS NULL THEN 'expense_claim.created' ELSE 'expense_claim.' || to_state END AS topic, count(*) AS n
          FROM fieldops.expense_claim_history WHERE tenant_id = :et GROUP BY 1) h
  FULL JOIN (SELECT topic, count(*) AS n FROM fieldops.outbox WHERE tenant_id = :et AND topic LIKE 'expense\_claim.%' GROUP BY 1) e USING (topic)
 WHERE h.n IS DISTINCT FROM e.n;

--
-- 11. A vehicle claim an expense line relies on is not rebuilt: its trips
-- would vanish under the line naming one, and approvers saw its km
--
SELECT expense_test.err(format('SELECT fieldops.vehicle_claim(%s, %s, %L)', :et, :c, :'fri')) AS rebuild_refused;

SET client_min_messages = warning;
DROP SCHEMA expense_test CASCADE;
RESET client_min_messages;
