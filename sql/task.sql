--
-- task: tasks dispatched to a worker or a team.  The state machine as a
-- table (printed: it is the specification), a task's day with its history,
-- events and feedback; every (from, to) pair of the state x state matrix
-- for every kind of actor, with and without a reason, checked against the
-- table itself; roles (team lead, a manager above the dispatcher, another
-- team, a worker who left); feedback (notes, photos, forms); the NOTIFY on
-- the tenant's dispatch channel (through a dblink connection that
-- LISTENs); the catalogue of bad input; tenancy.  A tenant of its own.
--
\set SHOW_CONTEXT never
SET datestyle = 'ISO, YMD';
SET timezone = 'UTC';
SELECT current_user AS superuser \gset
SELECT fieldops.create_tenant('Task Test Co', 'Asia/Shanghai') AS tt \gset
SELECT fieldops.set_tenant(:tt, false) IS NOT NULL AS chosen;
SELECT fieldops.upsert_team(:tt, 'T1', 'Team one') AS t1 \gset
SELECT fieldops.upsert_team(:tt, 'T2', 'Team two') AS t2 \gset
SELECT fieldops.upsert_worker(:tt, 'BOSS', 'Boss Bo') AS boss \gset
SELECT fieldops.upsert_worker(:tt, 'D', 'Dispatcher Du', p_manager_id => :boss) AS d \gset
SELECT fieldops.upsert_worker(:tt, 'L', 'Lead Li', :t1) AS l \gset
SELECT fieldops.upsert_team(:tt, 'T1', 'Team one', p_lead_worker_id => :l) = :t1 AS lead_set;
SELECT fieldops.upsert_worker(:tt, 'A', 'Worker An', :t1) AS a \gset
SELECT fieldops.upsert_worker(:tt, 'M', 'Worker Ma', :t1) AS m \gset
SELECT fieldops.upsert_worker(:tt, 'B', 'Worker Bai', :t2) AS b \gset
SELECT fieldops.upsert_worker(:tt, 'X', 'Stranger Xu') AS x \gset
SELECT fieldops.upsert_worker(:tt, 'GONE', 'Left Ge', :t1) AS gone \gset
SELECT fieldops.worker_leave(:tt, :gone, fieldops.tenant_local_date(:tt), 'moved away') IS NOT NULL AS gone_leaves;
SELECT status AS gone_status FROM fieldops.worker WHERE worker_id = :gone;
SELECT fieldops.upsert_customer(:tt, 'TC1', 'Hardware store', ST_SetSRID(ST_MakePoint(121.48, 31.22), 4326)) AS shop \gset

CREATE SCHEMA task_test;
CREATE TABLE task_test.ids (name text PRIMARY KEY, id bigint, kind text);
GRANT USAGE ON SCHEMA task_test TO PUBLIC;
GRANT SELECT ON task_test.ids TO PUBLIC;
INSERT INTO task_test.ids VALUES ('tenant', :tt, 'tenant'), ('T1', :t1, 'team'), ('T2', :t2, 'team'), ('BOSS', :boss, 'worker'),
    ('D', :d, 'worker'), ('L', :l, 'worker'), ('A', :a, 'worker'), ('M', :m, 'worker'), ('B', :b, 'worker'), ('X', :x, 'worker'),
    ('GONE', :gone, 'worker');
CREATE FUNCTION task_test.id(p_name text) RETURNS bigint LANGUAGE sql STABLE AS $$ SELECT id FROM task_test.ids WHERE name = p_name $$;
CREATE FUNCTION task_test.site() RETURNS geometry LANGUAGE sql IMMUTABLE AS $$ SELECT ST_SetSRID(ST_MakePoint(121.47, 31.23), 4326) $$;
-- the SQLSTATE and message of a failing statement, this test's ids shown by name
-- (ids depend on the tests that ran before)
CREATE FUNCTION task_test.err(p_sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v text := regexp_replace(regress.sqlerr(p_sql), '\d{4}-\d\d-\d\d([ T][0-9:.+]+)?', '<date>', 'g');
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
               FROM task_test.ids i ORDER BY i.id DESC, i.name LOOP
        v := regexp_replace(v, '(' || r.prefix || ')' || r.id || '(?![0-9])', '\1<' || r.name || '>', 'g');
    END LOOP;
    RETURN v;
END $$;

--
-- 1. The state machine (fieldops.state_transition): who may make which move, (r) with a reason
--
SELECT from_state, to_state, string_agg(actor_role || CASE WHEN reason_required THEN ' (r)' ELSE '' END, ', ' ORDER BY actor_role) AS who
  FROM fieldops.state_transition WHERE machine = 'task'
 GROUP BY from_state, to_state
 ORDER BY array_position(ARRAY['new', 'assigned', 'accepted', 'in_progress', 'done', 'cannot_complete', 'cancelled'], from_state),
          array_position(ARRAY['new', 'assigned', 'accepted', 'in_progress', 'done', 'cannot_complete', 'cancelled'], to_state);
-- the matrix below assumes every role of a move agrees on its reason
SELECT machine, from_state, to_state AS roles_disagree_on_reason FROM fieldops.state_transition
 GROUP BY 1, 2, 3 HAVING count(DISTINCT reason_required) > 1;

--
-- 2. A task's day: created and dispatched to a team, two members accept
--    (the second is told taken), started, a note, done; its history and events
--
SELECT fieldops.create_task(:tt, 'Fix the shelf', p_customer_id => :shop, p_due_at => now() + interval '1 day',
                            p_priority => 'high', p_description => 'aisle 3', p_dispatcher_worker_id => :d,
                            p_team_id => :t1, p_external_ref => 'CRM-T-1') AS task1 \gset
SELECT state, assignee_worker_id, team_id = :t1 AS to_team, ST_Equals(geom, (SELECT geom FROM fieldops.customer WHERE customer_id = :shop)) AS at_customer
  FROM fieldops.task WHERE task_id = :task1;
SELECT t.task_id = :task1 AS in_ans_list FROM fieldops.worker_tasks(:tt, :a) t;
SELECT count(*) AS in_bais_list FROM fieldops.worker_tasks(:tt, :b);
SELECT fieldops.accept_task(:tt, :task1, :a) AS an_accepts, fieldops.accept_task(:tt, :task1, :m) AS ma_accepts,
       fieldops.accept_task(:tt, :task1, :a) AS an_again;
SELECT count(*) AS in_mas_list FROM fieldops.worker_tasks(:tt, :m);
SELECT fieldops.set_task_state(:tt, :task1, 'in_progress', :m) AS ma_starts,
       fieldops.set_task_state(:tt, :task1, 'in_progress', :a) AS an_starts;
SELECT fieldops.add_task_feedback(:tt, :task1, :a, p_note => 'shelf bracket replaced') AS note;
SELECT fieldops.set_task_state(:tt, :task1, 'done', :a, 'all good') AS done;
SELECT fieldops.set_task_state(:tt, :task1, 'done', :a) AS done_again;
SELECT state, assignee_worker_id = :a AS ans, accepted_at <= started_at AND started_at <= finished_at AS times_in_order
  FROM fieldops.task WHERE task_id = :task1;
SELECT h.from_state, h.to_state, w.external_ref AS actor, h.actor_role, h.reason, h.assignee_worker_id = :a AS to_an
  FROM fieldops.task_history h LEFT JOIN fieldops.worker w ON w.tenant_id = h.tenant_id AND w.worker_id = h.actor_worker_id
 WHERE h.tenant_id = :tt AND h.task_id = :task1 ORDER BY h.history_id;
SELECT topic, payload ->> 'from' AS "from", payload ->> 'to' AS "to", payload ->> 'actor_role' AS role, payload ->> 'kind' AS kind
  FROM fieldops.outbox WHERE tenant_id = :tt AND aggregate_type = 'task' AND aggregate_id = :task1 ORDER BY event_id;
SELECT d - 'at' - 'created_at' - 'state_changed_at' - 'accepted_at' - 'started_at' - 'finished_at' - 'due_at' - 'task_id' - 'tenant_id'
       - 'customer_id' - 'dispatcher_worker_id' - 'assignee_worker_id' - 'team_id' - 'history' - 'feedback' AS detail,
       jsonb_array_length(d -> 'history') AS history, d -> 'feedback' -> 0 ->> 'note' AS feedback
  FROM fieldops.task_detail(:tt, :task1) d;
SELECT fieldops.task_detail(:tt, 987654321) IS NULL AS missing_detail;

--
-- 3. Every (from, to) pair for every kind of actor, checked against the table.
--    A task created by D is put in state "from" directly (personal: assigned
--    to A; team: dispatched to T1, accepted by A from accepted on), then the
--    API is asked to move it to "to" by D (its dispatcher), A (assignee or
--    T1 member), M (T1 member), S (the application: no worker) or X (a
--    stranger); to assigned means dispatch_task() to another worker (B) or
--    team (T2).  Each trial rolls back.
--
CREATE FUNCTION task_test.trial(p_variant text, p_from text, p_to text, p_actor text, p_reason boolean,
                                OUT status text, OUT state_after text, OUT history_rows bigint, OUT events bigint)
LANGUAGE plpgsql AS $$
DECLARE
    t bigint := task_test.id('tenant');
    v_actor bigint := CASE p_actor WHEN 'S' THEN NULL ELSE task_test.id(p_actor) END;
    v_task bigint;
    v_h bigint;
    v_e bigint;
BEGIN
    BEGIN
        v_task := fieldops.create_task(t, 'matrix', task_test.site(), p_dispatcher_worker_id => task_test.id('D'));
        UPDATE fieldops.task
           SET state = p_from,
               assignee_worker_id = CASE WHEN p_from = 'new' OR (p_from = 'assigned' AND p_variant = 'team') THEN NULL
                                         ELSE task_test.id('A') END,
               team_id = CASE WHEN p_variant = 'team' AND p_from <> 'new' THEN task_test.id('T1') END
         WHERE tenant_id = t AND task_id = v_task;
        SELECT count(*) INTO v_h FROM fieldops.task_history WHERE tenant_id = t AND task_id = v_task;
        SELECT coalesce(max(event_id), 0) INTO v_e FROM fieldops.outbox WHERE tenant_id = t;
        IF p_to = 'assigned' THEN
            status := fieldops.dispatch_task(t, v_task, v_actor,
                p_worker_id => CASE WHEN p_variant = 'personal' THEN task_test.id('B') END,
                p_team_id => CASE WHEN p_variant = 'team' THEN task_test.id('T2') END,
                p_reason => CASE WHEN p_reason THEN 'matrix' END);
        ELSE
            status := fieldops.set_task_state(t, v_task, p_to, v_actor, CASE WHEN p_reason THEN 'matrix' END);
        END IF;
        SELECT x.state INTO state_after FROM fieldops.task x WHERE x.tenant_id = t AND x.task_id = v_task;
        history_rows := (SELECT count(*) FROM fieldops.task_history WHERE tenant_id = t AND task_id = v_task) - v_h;
        events := (SELECT count(*) FROM fieldops.outbox WHERE tenant_id = t AND event_id > v_e);
        RAISE EXCEPTION USING ERRCODE = 'ZZ999';
    EXCEPTION WHEN SQLSTATE 'ZZ999' THEN
        NULL;
    END;
END $$;

-- what the table says: the actor's roles in that set-up, then the rows of
-- the move (a team member coming second to accept: taken)
CREATE FUNCTION task_test.expected(p_variant text, p_from text, p_to text, p_actor text, p_reason boolean) RETURNS text
LANGUAGE sql STABLE AS $$
    WITH r AS (
        SELECT ARRAY(SELECT x.role FROM (VALUES
                   ('dispatcher', p_actor = 'D'),
                   ('assignee', p_actor = 'A' AND NOT (p_from = 'new' OR (p_from = 'assigned' AND p_variant = 'team'))),
                   ('team_member', p_actor IN ('A', 'M') AND p_variant = 'team' AND p_from <> 'new'),
                   ('system', p_actor = 'S')) AS x(role, has) WHERE x.has) AS roles),
    moves AS (SELECT * FROM fieldops.state_transition s WHERE s.machine = 'task' AND s.from_state = p_from AND s.to_state = p_to)
    SELECT CASE
        WHEN p_to = 'accepted' AND 'team_member' = ANY (r.roles) AND p_from IN ('accepted', 'in_progress', 'done', 'cannot_complete')
             AND p_actor <> 'A' THEN 'taken'
        WHEN NOT EXISTS (SELECT 1 FROM moves) THEN CASE WHEN p_from = p_to THEN 'unchanged' ELSE 'invalid_transition' END
        WHEN NOT EXISTS (SELECT 1 FROM moves WHERE actor_role = ANY (r.roles)) THEN 'not_permitted'
        WHEN NOT p_reason AND (SELECT bool_or(reason_required) FROM moves WHERE actor_role = ANY (r.roles)) THEN 'reason_required'
        ELSE 'ok' END
      FROM r
$$;

CREATE TABLE task_test.matrix AS
SELECT v.variant, f.state AS from_state, t.state AS to_state, a.actor, p.with_reason, r.*,
       task_test.expected(v.variant, f.state, t.state, a.actor, p.with_reason) AS expected
  FROM (VALUES ('personal'), ('team')) AS v(variant),
       (SELECT from_state AS state FROM fieldops.state_transition WHERE machine = 'task'
        UNION SELECT to_state FROM fieldops.state_transition WHERE machine = 'task') AS f,
       (SELECT from_state AS state FROM fieldops.state_transition WHERE machine = 'task'
        UNION SELECT to_state FROM fieldops.state_transition WHERE machine = 'task') AS t,
       (VALUES ('D'), ('A'), ('M'), ('S'), ('X')) AS a(actor),
       (VALUES (true), (false)) AS p(with_reason),
       LATERAL task_test.trial(v.variant, f.state, t.state, a.actor, p.with_reason) AS r;
SELECT count(*) AS trials, count(DISTINCT from_state) AS states,
       count(*) FILTER (WHERE status = expected) AS as_the_table_says FROM task_test.matrix;
SELECT * FROM task_test.matrix WHERE status IS DISTINCT FROM expected;
-- only ok writes: the new state, one history row, one event; a refusal nothing
SELECT variant, from_state, to_state, actor, with_reason, status, state_after, history_rows, events FROM task_test.matrix
 WHERE CASE WHEN status = 'ok' THEN state_after IS DISTINCT FROM to_state OR history_rows <> 1 OR events <> 1
            ELSE state_after IS DISTINCT FROM from_state OR history_rows <> 0 OR events <> 0 END;
-- every row of the table was made by an actor of its role
SELECT s.from_state, s.to_state, s.actor_role AS never_made FROM fieldops.state_transition s
 WHERE s.machine = 'task'
   AND NOT EXISTS (SELECT 1 FROM task_test.matrix m
                    WHERE m.from_state = s.from_state AND m.to_state = s.to_state AND m.status = 'ok' AND m.with_reason
                      AND CASE s.actor_role WHEN 'dispatcher' THEN m.actor = 'D' WHEN 'system' THEN m.actor = 'S'
                                            WHEN 'assignee' THEN m.actor = 'A' AND m.variant = 'personal'
                                            ELSE m.actor IN ('A', 'M') AND m.variant = 'team' END);
SELECT status, count(*) FROM task_test.matrix GROUP BY 1 ORDER BY 1;
-- the matrix: one row per variant and from-state, one column per to-state;
-- each cell the outcome for D A M S X: o ok, r reason_required, t taken,
-- u unchanged, x not_permitted, - invalid_transition
CREATE FUNCTION task_test.cell(p_variant text, p_from text, p_to text, p_with_reason boolean) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT string_agg(CASE status WHEN 'ok' THEN 'o' WHEN 'reason_required' THEN 'r' WHEN 'taken' THEN 't'
                                  WHEN 'unchanged' THEN 'u' WHEN 'not_permitted' THEN 'x' WHEN 'invalid_transition' THEN '-'
                                  ELSE '?' END, '' ORDER BY array_position(ARRAY['D', 'A', 'M', 'S', 'X'], actor))
      FROM task_test.matrix
     WHERE variant = p_variant AND from_state = p_from AND to_state = p_to AND with_reason = p_with_reason
$$;
SELECT CASE WHEN w THEN 'reason given' ELSE 'no reason' END AS pass, v AS variant, f AS "from \ to",
       task_test.cell(v, f, 'new', w) AS new, task_test.cell(v, f, 'assigned', w) AS assigned,
       task_test.cell(v, f, 'accepted', w) AS accepted, task_test.cell(v, f, 'in_progress', w) AS in_progress,
       task_test.cell(v, f, 'done', w) AS done, task_test.cell(v, f, 'cannot_complete', w) AS cannot_complete,
       task_test.cell(v, f, 'cancelled', w) AS cancelled
  FROM (VALUES (true), (false)) AS p(w), (VALUES ('personal'), ('team')) AS vv(v),
       unnest(ARRAY['new', 'assigned', 'accepted', 'in_progress', 'done', 'cannot_complete', 'cancelled']) WITH ORDINALITY AS s(f, o)
 ORDER BY w DESC, v, o;

--
-- 4. Roles beyond the matrix: the team lead and a manager above the
--    dispatcher dispatch too; another team, a declining team member, a
--    worker who left, a re-dispatch after cannot_complete
--
SELECT fieldops.create_task(:tt, 'Roles', task_test.site(), p_dispatcher_worker_id => :d, p_team_id => :t1) AS task2 \gset
SELECT fieldops.accept_task(:tt, :task2, :b) AS other_team_accepts,
       fieldops.set_task_state(:tt, :task2, 'new', :m, 'not me') AS member_declines_team_task,
       fieldops.set_task_state(:tt, :task2, 'new', :l, 'wrong team') AS lead_recalls;
SELECT fieldops.dispatch_task(:tt, :task2, :boss, p_worker_id => :b) AS boss_dispatches,
       fieldops.dispatch_task(:tt, :task2, :boss, p_worker_id => :b, p_reason => 'again') AS boss_again,
       fieldops.dispatch_task(:tt, :task2, :x, p_worker_id => :a, p_reason => 'mine now') AS stranger_reassigns,
       fieldops.set_task_state(:tt, :task2, 'new', :b) AS bai_declines_without_reason,
       fieldops.set_task_state(:tt, :task2, 'new', :b, 'on leave tomorrow') AS bai_declines;
SELECT state, assignee_worker_id, team_id FROM fieldops.task WHERE task_id = :task2;
SELECT task_test.err(format('SELECT fieldops.accept_task(%s, %s, %s)', :tt, :task2, :gone)) AS gone_accepts;
SELECT task_test.err(format('SELECT fieldops.dispatch_task(%s, %s, %s, p_worker_id => %s)', :tt, :task2, :d, :gone)) AS dispatch_to_gone;
SELECT fieldops.dispatch_task(:tt, :task2, NULL, p_worker_id => :a) AS app_dispatches,
       fieldops.accept_task(:tt, :task2, :a) AS an_accepts,
       fieldops.set_task_state(:tt, :task2, 'in_progress', :a) AS an_starts,
       fieldops.set_task_state(:tt, :task2, 'cannot_complete', :a, 'store closed') AS cannot,
       fieldops.dispatch_task(:tt, :task2, :l, p_worker_id => :m) AS lead_redispatches,
       fieldops.set_task_state(:tt, :task2, 'cancelled', NULL, 'customer cancelled') AS app_cancels,
       fieldops.set_task_state(:tt, :task2, 'new', :d, 'revive') AS cancelled_is_final;
SELECT h.from_state, h.to_state, coalesce(w.external_ref, '(app)') AS actor, h.actor_role, h.reason
  FROM fieldops.task_history h LEFT JOIN fieldops.worker w ON w.tenant_id = h.tenant_id AND w.worker_id = h.actor_worker_id
 WHERE h.tenant_id = :tt AND h.task_id = :task2 ORDER BY h.history_id;
SELECT fieldops.accept_task(:tt, 987654321, :a) AS missing, fieldops.set_task_state(:tt, 987654321, 'done', :a) AS missing2,
       fieldops.dispatch_task(:tt, 987654321, :d, :a) AS missing3, fieldops.add_task_feedback(:tt, 987654321, :a, 'x') AS missing4;

--
-- 5. Feedback: notes, the worker's own signed photos, forms
--
SELECT fieldops.create_task(:tt, 'Photo audit', task_test.site(), p_dispatcher_worker_id => :d, p_worker_id => :a) AS task3 \gset
SELECT fieldops.add_task_feedback(:tt, :task3, :a, 'too early') AS before_accepting;
SELECT fieldops.accept_task(:tt, :task3, :a) AS accepted;
SELECT fieldops.add_task_feedback(:tt, :task3, :m, 'not mine') AS not_the_assignee;
-- a photo from An's phone (simulated with the photo test's signing functions), and one of Ma's
CREATE FUNCTION task_test.photo(p_worker bigint, p_uid text, p_seed text) RETURNS TABLE (photo_id bigint, verdict text) LANGUAGE plpgsql AS $$
DECLARE
    t bigint := task_test.id('tenant');
    v_dev bigint;
    v_key bytea;
    v_m bytea;
BEGIN
    SELECT r.device_id INTO v_dev FROM fieldops.register_device(t, p_uid, p_worker, 'android') r;
    v_key := fieldops.register_device_key(t, v_dev, 'ed25519', photo_test.public_key('ed25519', sha256(p_seed::bytea)));
    v_m := fieldops.photo_manifest('ed25519', v_key, t, p_worker, v_dev, 0, clock_timestamp(), 31.23, 121.47, 8, 1,
                                   sha256(('image ' || p_seed)::bytea), NULL, fieldops.issue_photo_nonce(t, v_dev));
    RETURN QUERY SELECT s.photo_id, s.verdict FROM fieldops.submit_photo(t, v_m, photo_test.sign('ed25519', sha256(p_seed::bytea), v_m)) s;
END $$;
SELECT photo_id AS an_photo, verdict AS an_verdict FROM task_test.photo(:a, 'task-test-phone-an', 'task an') \gset
SELECT photo_id AS ma_photo FROM task_test.photo(:m, 'task-test-phone-ma', 'task ma') \gset
INSERT INTO task_test.ids VALUES ('an_photo', :an_photo, 'photo'), ('ma_photo', :ma_photo, 'photo');
SELECT :'an_verdict' AS an_photo_verdict;
SELECT fieldops.add_task_feedback(:tt, :task3, :a, p_photo_id => :an_photo) AS own_photo;
SELECT task_test.err(format('SELECT fieldops.add_task_feedback(%s, %s, %s, p_photo_id => %s)', :tt, :task3, :a, :ma_photo)) AS someone_elses_photo;
SELECT fieldops.set_task_state(:tt, :task3, 'in_progress', :a) AS started,
       fieldops.add_task_feedback(:tt, :task3, :a, '  shelf photographed  ') AS note;
-- a custom form submitted for the task is feedback; an unknown submission is refused
SELECT fieldops.define_form(:tt, 'TASK-CHECK', 'Task check', '{"fields": [{"key": "fixed", "type": "yes_no", "label": "Fixed", "required": true}]}') AS task_form;
SELECT fieldops.submit_form(:tt, 'TASK-CHECK', NULL, :a, '{"fixed": true}', p_task_id => :task3) AS task_sub \gset
SELECT fieldops.add_task_feedback(:tt, :task3, :a, p_form_submission_id => :task_sub) AS form_feedback;
SELECT task_test.err(format('SELECT fieldops.add_task_feedback(%s, %s, %s, p_form_submission_id => 987654321)', :tt, :task3, :a)) AS unknown_submission;
SELECT fieldops.set_task_state(:tt, :task3, 'done', :a) AS done,
       fieldops.add_task_feedback(:tt, :task3, :a, 'afterwards') AS after_done;
SELECT kind, note, photo_id = :an_photo AS an_photo FROM fieldops.task_feedback WHERE tenant_id = :tt AND task_id = :task3 ORDER BY feedback_id;
SELECT f ->> 'kind' AS kind, f ->> 'photo_verdict' AS verdict FROM jsonb_array_elements(fieldops.task_detail(:tt, :task3) -> 'feedback') f;
SELECT payload ->> 'kind' AS kind, payload ->> 'photo_verdict' AS verdict FROM fieldops.outbox
 WHERE tenant_id = :tt AND topic = 'task.feedback' AND aggregate_id = :task3 ORDER BY event_id;
-- the history and the feedback are append-only, even for the API's owner and administrators
SELECT has_table_privilege(r, 'fieldops.task_history', 'UPDATE') OR has_table_privilege(r, 'fieldops.task_history', 'DELETE')
    OR has_table_privilege(r, 'fieldops.task_feedback', 'UPDATE') OR has_table_privilege(r, 'fieldops.task_feedback', 'DELETE') AS may_rewrite, r
  FROM unnest(ARRAY['fieldops_api', 'fieldops_admin', 'fieldops_app']) r;

--
-- 6. The live channel: a manager's screen LISTENs on fieldops_dispatch_<tenant>
--    (here a dblink connection); only committed changes arrive, with ids and
--    states, never titles or reasons
--
CREATE EXTENSION dblink SCHEMA task_test;
SELECT task_test.dblink_connect('screen', format('host=%s port=%s dbname=%s user=%s',
           split_part(current_setting('unix_socket_directories'), ',', 1), current_setting('port'), current_database(), current_user)) AS connected;
SELECT task_test.dblink_exec('screen', format('LISTEN fieldops_dispatch_%s', :tt)) AS listening;
CREATE TABLE task_test.heard (n serial, channel text, payload jsonb);
-- wait (at most p_seconds) until the screen has heard p_count notifications in all
CREATE FUNCTION task_test.listen(p_count integer, p_seconds integer DEFAULT 10) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1..p_seconds * 20 LOOP
        INSERT INTO task_test.heard (channel, payload)
        SELECT notify_name, extra::jsonb FROM task_test.dblink_get_notify('screen');
        EXIT WHEN (SELECT count(*) FROM task_test.heard) >= p_count;
        PERFORM pg_sleep(0.05);
    END LOOP;
    RETURN (SELECT count(*) FROM task_test.heard);
END $$;
BEGIN;
SELECT fieldops.create_task(:tt, 'Never happened', task_test.site(), p_team_id => :t1) IS NOT NULL AS rolled_back;
ROLLBACK;
SELECT fieldops.create_task(:tt, 'Secret title', task_test.site(), p_dispatcher_worker_id => :d, p_team_id => :t1) AS task4 \gset
SELECT fieldops.accept_task(:tt, :task4, :m) AS accepted;
SELECT fieldops.set_task_state(:tt, :task4, 'new', :m, 'secret reason') AS given_back;
SELECT task_test.listen(4) AS heard;
SELECT task_test.listen(5, 1) AS heard_no_more;
SELECT h.channel = 'fieldops_dispatch_' || :tt AS tenant_channel, h.payload ->> 'kind' AS kind, (h.payload ->> 'id')::bigint = :task4 AS this_task,
       h.payload ->> 'topic' AS topic, h.payload ->> 'from' AS "from", h.payload ->> 'to' AS "to",
       h.payload ->> 'team_id' = :'t1' AS team, (h.payload ->> 'assignee_worker_id')::bigint = :m AS assignee,
       (SELECT o.topic FROM fieldops.outbox o WHERE o.tenant_id = :tt AND o.event_id = (h.payload ->> 'event_id')::bigint) = h.payload ->> 'topic' AS outbox_event,
       (SELECT x.to_state FROM fieldops.task_history x WHERE x.tenant_id = :tt AND x.history_id = (h.payload ->> 'history_id')::bigint) = h.payload ->> 'to' AS history_row,
       h.payload::text !~ 'Secret|secret' AS no_content
  FROM task_test.heard h ORDER BY h.n;
SELECT array_agg(DISTINCT k ORDER BY k) AS payload_keys FROM task_test.heard h, jsonb_object_keys(h.payload) k;
-- another tenant's changes are on another channel
SELECT fieldops.create_tenant('Task Test Other', 'Asia/Shanghai') AS other \gset
INSERT INTO task_test.ids VALUES ('other', :other, 'tenant');
SELECT fieldops.set_tenant(:other, false) IS NOT NULL AS other_chosen;
SELECT fieldops.create_task(:other, 'Elsewhere', task_test.site()) IS NOT NULL AS created;
SELECT fieldops.set_tenant(:tt, false) IS NOT NULL AS back;
SELECT task_test.listen(5, 1) AS still_heard;
SELECT task_test.dblink_disconnect('screen');

--
-- 7. Bad input: every function, every argument (SQLSTATE and message)
--
SELECT fieldops.create_task(:tt, 'Bad input target', task_test.site(), p_dispatcher_worker_id => :d) AS task5 \gset
SELECT task_test.err(q) AS result FROM (VALUES
    -- create_task
    (format('SELECT fieldops.create_task(%s, NULL, %L)', :tt, task_test.site())),
    (format('SELECT fieldops.create_task(%s, %L, %L)', :tt, '   ', task_test.site())),
    (format('SELECT fieldops.create_task(%s, %L, %L)', :tt, repeat('x', 201), task_test.site())),
    (format('SELECT fieldops.create_task(%s, %L)', :tt, 'no place')),
    (format('SELECT fieldops.create_task(%s, %L, ST_MakePoint(121.4, 31.2))', :tt, 'no srid')),
    (format('SELECT fieldops.create_task(%s, %L, ST_SetSRID(ST_MakePoint(31.2, 121.4), 4326))', :tt, 'lat lon swapped')),
    (format('SELECT fieldops.create_task(%s, %L, %L, %L)', :tt, 'due in the past', task_test.site(), '2020-01-01 00:00+00')),
    (format('SELECT fieldops.create_task(%s, %L, %L, %L)', :tt, 'due never', task_test.site(), 'infinity')),
    (format('SELECT fieldops.create_task(%s, %L, %L, p_priority => %L)', :tt, 'priority', task_test.site(), 'asap')),
    (format('SELECT fieldops.create_task(%s, %L, %L, p_priority => NULL)', :tt, 'priority', task_test.site())),
    (format('SELECT fieldops.create_task(%s, %L, %L, p_description => %L)', :tt, 'long', task_test.site(), repeat('x', 4001))),
    (format('SELECT fieldops.create_task(%s, %L, p_customer_id => 987654321)', :tt, 'unknown customer')),
    (format('SELECT fieldops.create_task(%s, %L, p_customer_id => 0)', :tt, 'customer 0')),
    (format('SELECT fieldops.create_task(%s, %L, %L, p_dispatcher_worker_id => 987654321)', :tt, 'unknown dispatcher', task_test.site())),
    (format('SELECT fieldops.create_task(%s, %L, %L, p_dispatcher_worker_id => %s)', :tt, 'dispatcher left', task_test.site(), :gone)),
    (format('SELECT fieldops.create_task(%s, %L, %L, p_worker_id => %s, p_team_id => %s)', :tt, 'both', task_test.site(), :a, :t1)),
    (format('SELECT fieldops.create_task(%s, %L, %L, p_team_id => 987654321)', :tt, 'unknown team', task_test.site())),
    (format('SELECT fieldops.create_task(%s, %L, %L, p_worker_id => 987654321)', :tt, 'unknown worker', task_test.site())),
    (format('SELECT fieldops.create_task(%s, %L, %L, p_external_ref => %L)', :tt, 'ref', task_test.site(), 'has space')),
    (format('SELECT fieldops.create_task(%s, %L, %L, p_external_ref => %L)', :tt, 'duplicate', task_test.site(), 'CRM-T-1')),
    -- dispatch_task
    (format('SELECT fieldops.dispatch_task(%s, NULL, %s, %s)', :tt, :d, :a)),
    (format('SELECT fieldops.dispatch_task(%s, -1, %s, %s)', :tt, :d, :a)),
    (format('SELECT fieldops.dispatch_task(%s, %s, %s)', :tt, :task5, :d)),
    (format('SELECT fieldops.dispatch_task(%s, %s, %s, %s, %s)', :tt, :task5, :d, :a, :t1)),
    (format('SELECT fieldops.dispatch_task(%s, %s, %s, p_team_id => 987654321)', :tt, :task5, :d)),
    (format('SELECT fieldops.dispatch_task(%s, %s, 987654321, %s)', :tt, :task5, :a)),
    (format('SELECT fieldops.dispatch_task(%s, %s, %s, %s, p_reason => %L)', :tt, :task5, :d, :a, repeat('r', 501))),
    -- accept_task
    (format('SELECT fieldops.accept_task(%s, %s, NULL)', :tt, :task5)),
    (format('SELECT fieldops.accept_task(%s, %s, 0)', :tt, :task5)),
    (format('SELECT fieldops.accept_task(%s, %s, 987654321)', :tt, :task5)),
    (format('SELECT fieldops.accept_task(%s, NULL, %s)', :tt, :a)),
    -- set_task_state
    (format('SELECT fieldops.set_task_state(%s, %s, NULL, %s)', :tt, :task5, :d)),
    (format('SELECT fieldops.set_task_state(%s, %s, %L, %s)', :tt, :task5, 'finished', :d)),
    (format('SELECT fieldops.set_task_state(%s, %s, %L, %s)', :tt, :task5, 'assigned', :d)),
    (format('SELECT fieldops.set_task_state(%s, %s, %L, %s)', :tt, :task5, 'created', :d)),
    (format('SELECT fieldops.set_task_state(%s, 0, %L, %s)', :tt, 'done', :d)),
    (format('SELECT fieldops.set_task_state(%s, %s, %L, %s)', :tt, :task5, 'cancelled', :gone)),
    -- add_task_feedback
    (format('SELECT fieldops.add_task_feedback(%s, %s, %s)', :tt, :task5, :a)),
    (format('SELECT fieldops.add_task_feedback(%s, %s, %s, %L)', :tt, :task5, :a, '   ')),
    (format('SELECT fieldops.add_task_feedback(%s, %s, %s, %L, %s)', :tt, :task5, :a, 'two', :an_photo)),
    (format('SELECT fieldops.add_task_feedback(%s, %s, %s, %L)', :tt, :task5, :a, repeat('n', 4001))),
    (format('SELECT fieldops.add_task_feedback(%s, %s, %s, p_photo_id => 987654321)', :tt, :task5, :a)),
    (format('SELECT fieldops.add_task_feedback(%s, %s, %s, p_photo_id => -5)', :tt, :task5, :a)),
    (format('SELECT fieldops.add_task_feedback(%s, %s, NULL, %L)', :tt, :task5, 'who')),
    (format('SELECT fieldops.add_task_feedback(%s, %s, %s, %L)', :tt, :task5, :gone, 'gone')),
    -- task_detail, worker_tasks
    (format('SELECT fieldops.task_detail(%s, NULL)', :tt)),
    (format('SELECT fieldops.worker_tasks(%s, NULL)', :tt)),
    -- another tenant's id
    (format('SELECT fieldops.create_task(%s, %L, %L)', :other, 'x', task_test.site())),
    (format('SELECT fieldops.dispatch_task(%s, %s, NULL, %s)', :other, :task5, :a)),
    (format('SELECT fieldops.accept_task(%s, %s, %s)', :other, :task5, :a)),
    (format('SELECT fieldops.set_task_state(%s, %s, %L, NULL, %L)', :other, :task5, 'cancelled', 'x')),
    (format('SELECT fieldops.add_task_feedback(%s, %s, %s, %L)', :other, :task5, :a, 'x')),
    (format('SELECT fieldops.task_detail(%s, %s)', :other, :task5)),
    (format('SELECT fieldops.worker_tasks(%s, %s)', :other, :a))
) AS c(q);
-- nothing above wrote anything
SELECT state, (SELECT count(*) FROM fieldops.task_history h WHERE h.tenant_id = :tt AND h.task_id = :task5) AS history
  FROM fieldops.task WHERE task_id = :task5;

--
-- 8. Tenancy: rows of the shared test tenants Acme and Beta (the tenancy
--    test checks every tenant table), and what an application sees
--
SELECT tenant_id AS acme FROM fieldops.tenant WHERE name = 'Acme Shanghai' \gset
SELECT tenant_id AS beta FROM fieldops.tenant WHERE name = 'Beta NYC' \gset
CREATE FUNCTION task_test.tenant_rows(p_tenant bigint, p_ref text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v_w bigint;
    v_task bigint;
BEGIN
    PERFORM fieldops.set_tenant(p_tenant);
    v_w := fieldops.upsert_worker(p_tenant, p_ref, 'Task tenancy worker');
    v_task := fieldops.create_task(p_tenant, 'Tenancy task', task_test.site(), p_worker_id => v_w, p_external_ref => p_ref);
    PERFORM fieldops.accept_task(p_tenant, v_task, v_w);
    RETURN fieldops.add_task_feedback(p_tenant, v_task, v_w, 'tenancy');
END $$;
SELECT task_test.tenant_rows(:acme, 'TASK-TEN-A') AS acme_rows, task_test.tenant_rows(:beta, 'TASK-TEN-B') AS beta_rows;
SELECT task_id AS beta_task FROM fieldops.task WHERE tenant_id = :beta \gset
SELECT worker_id AS beta_worker FROM fieldops.worker WHERE tenant_id = :beta AND external_ref = 'TASK-TEN-B' \gset
INSERT INTO task_test.ids VALUES ('acme', :acme, 'tenant'), ('beta', :beta, 'tenant'), ('beta_worker', :beta_worker, 'worker');
RESET ALL;
\c - acme_app
\set SHOW_CONTEXT never
SELECT count(*) AS tasks_without_tenant FROM fieldops.task;
SELECT fieldops.set_tenant(:acme, false) IS NOT NULL AS acme_chosen;
SELECT count(*) AS tasks, count(*) FILTER (WHERE tenant_id <> :acme) AS others FROM fieldops.task;
SELECT count(*) AS history, count(*) FILTER (WHERE tenant_id <> :acme) AS others FROM fieldops.task_history;
SELECT count(*) AS feedback, count(*) FILTER (WHERE tenant_id <> :acme) AS others FROM fieldops.task_feedback;
-- Beta's task does not exist for Acme; Beta's tenant id is refused
SELECT fieldops.accept_task(:acme, :beta_task, (SELECT worker_id FROM fieldops.worker WHERE external_ref = 'TASK-TEN-A')) AS beta_task_for_acme;
SELECT fieldops.task_detail(:acme, :beta_task) IS NULL AS beta_detail_for_acme;
SELECT task_test.err(format('SELECT fieldops.set_task_state(%s, %s, %L, NULL, %L)', :beta, :beta_task, 'cancelled', 'x')) AS beta_tenant;
SELECT task_test.err(format('SELECT fieldops.accept_task(%s, %s, %s)', :acme, :beta_task, :beta_worker)) AS beta_worker_for_acme;
-- no direct writes
SELECT task_test.err(format('UPDATE fieldops.task SET state = %L', 'done')) AS direct_update;
SELECT task_test.err(format('INSERT INTO fieldops.task_feedback (tenant_id, task_id, worker_id, at, kind, note) VALUES (%s, 1, 1, now(), %L, %L)', :acme, 'note', 'x')) AS direct_insert;
SELECT task_test.err('SELECT fieldops.task_transition(1, NULL::fieldops.task, ''done'', NULL, NULL)') AS internal_function;
-- the transition table is readable, not writable
SELECT count(*) > 0 AS reads_transitions FROM fieldops.state_transition;
SELECT task_test.err('DELETE FROM fieldops.state_transition') AS change_the_rules;
\c - :superuser
\set SHOW_CONTEXT never
SELECT state FROM fieldops.task WHERE tenant_id = :beta;

SET client_min_messages = warning;
DROP SCHEMA task_test CASCADE;
RESET client_min_messages;
