--
-- Tasks: work dispatched to a worker or to a team, with a place, a priority
-- and a due time, that moves through
--
--   new -> assigned -> accepted -> in_progress -> done | cannot_complete
--                                                   (| cancelled from any open state)
--
-- Which changes are allowed, by whom and whether they need a reason is not
-- written as IFs in the functions: it is the global table
-- fieldops.state_transition (shared with the work orders of
-- 74_work_order.sql), and one function, fieldops.transition_check(),
-- consults it for every change.  The regress test drives every (from, to)
-- pair of the state x state matrix for every role against that table, so
-- the two cannot drift apart.
--
-- Roles of a worker for a task (fieldops.task_roles()):
--   assignee     the worker the task is assigned to (or who accepted it),
--   team_member  an active member of the team the task was dispatched to,
--   dispatcher   the worker who created it, any manager above that worker,
--                or the lead of the task's team or of its assignee's team,
--   system       no worker (p_actor_worker_id NULL): the application itself,
--                e.g. a CRM's rules engine.
-- The database does not authenticate end users: the application says which
-- worker acts, and these rules keep the workflow consistent.
--
-- Every change writes a history row (who, from, to, when, reason), an
-- outbox event (task.created, task.<new state>, task.returned for a task
-- that goes back to new, task.feedback) and a NOTIFY on the tenant's
-- dispatch channel fieldops_dispatch_<tenant_id> (fieldops.dispatch_event())
-- so that a manager's screen updates as it happens.
--
-- Lock order, the same in every function (no deadlock between them):
--   1. worker rows, FOR SHARE (lock_active_worker), in worker_id order: the
--      actor and the new assignee, so neither leaves nor changes team before
--      the change commits,
--   2. the task row, FOR NO KEY UPDATE (feedback: FOR SHARE),
-- and every decision is taken on the locked row: of two team members who
-- accept at once, the second sees the first one's acceptance and gets
-- 'taken' (test/isolation/specs/task_accept.spec).  Times written are
-- clock_timestamp() taken after the locks.
--
-- Part of the install script and of the 0.1.0 -> 0.2.0 upgrade script.
--

--
-- The state machines: one global table for tasks and work orders
--
CREATE TABLE fieldops.state_transition (
    machine          text NOT NULL CHECK (machine IN ('task', 'work_order')),
    from_state       text NOT NULL,
    to_state         text NOT NULL,
    actor_role       text NOT NULL,
    reason_required  boolean NOT NULL DEFAULT false,
    needs_signature  boolean NOT NULL DEFAULT false,
    description      text NOT NULL,
    PRIMARY KEY (machine, from_state, to_state, actor_role),
    CONSTRAINT state_transition_states CHECK (
        CASE machine
        WHEN 'task' THEN from_state IN ('new', 'assigned', 'accepted', 'in_progress', 'done', 'cannot_complete', 'cancelled')
                     AND to_state IN ('new', 'assigned', 'accepted', 'in_progress', 'done', 'cannot_complete', 'cancelled')
        ELSE from_state IN ('created', 'dispatched', 'accepted', 'travelling', 'on_site', 'repairing', 'awaiting_signature',
                            'completed', 'closed', 'cancelled', 'reopened')
         AND to_state IN ('created', 'dispatched', 'accepted', 'travelling', 'on_site', 'repairing', 'awaiting_signature',
                          'completed', 'closed', 'cancelled', 'reopened')
        END),
    CONSTRAINT state_transition_roles CHECK (
        CASE machine
        WHEN 'task' THEN actor_role IN ('dispatcher', 'assignee', 'team_member', 'system')
        ELSE actor_role IN ('dispatcher', 'engineer', 'system')
        END),
    CONSTRAINT state_transition_signature CHECK (NOT needs_signature OR machine = 'work_order')
);
COMMENT ON TABLE fieldops.state_transition IS
'Global dictionary: the state machines of tasks and work orders. One row per allowed change (machine, from_state, to_state) and role that may make it, whether a reason is required and (work orders) whether only a verified customer signature may make it. fieldops.transition_check() is the one place that reads it; a change not listed here is refused.';

INSERT INTO fieldops.state_transition (machine, from_state, to_state, actor_role, reason_required, description) VALUES
    ('task', 'new',             'assigned',        'dispatcher',  false, 'dispatch to a worker or a team'),
    ('task', 'new',             'assigned',        'system',      false, 'dispatch to a worker or a team (the application''s own rules)'),
    ('task', 'new',             'cancelled',       'dispatcher',  true,  'cancel before dispatch'),
    ('task', 'new',             'cancelled',       'system',      true,  'cancel before dispatch'),
    ('task', 'assigned',        'assigned',        'dispatcher',  true,  'reassign to another worker or team'),
    ('task', 'assigned',        'assigned',        'system',      true,  'reassign to another worker or team'),
    ('task', 'assigned',        'accepted',        'assignee',    false, 'the worker accepts the task'),
    ('task', 'assigned',        'accepted',        'team_member', false, 'a member accepts the team''s task (the first one wins)'),
    ('task', 'assigned',        'new',             'assignee',    true,  'the worker declines'),
    ('task', 'assigned',        'new',             'dispatcher',  true,  'recall for another dispatch'),
    ('task', 'assigned',        'cancelled',       'dispatcher',  true,  'cancel'),
    ('task', 'assigned',        'cancelled',       'system',      true,  'cancel'),
    ('task', 'accepted',        'in_progress',     'assignee',    false, 'start the work'),
    ('task', 'accepted',        'assigned',        'dispatcher',  true,  'reassign an accepted task'),
    ('task', 'accepted',        'new',             'assignee',    true,  'the worker gives the task back'),
    ('task', 'accepted',        'new',             'dispatcher',  true,  'recall for another dispatch'),
    ('task', 'accepted',        'cancelled',       'dispatcher',  true,  'cancel'),
    ('task', 'accepted',        'cancelled',       'system',      true,  'cancel'),
    ('task', 'in_progress',     'done',            'assignee',    false, 'the work is done'),
    ('task', 'in_progress',     'cannot_complete', 'assignee',    true,  'the work cannot be completed (say why)'),
    ('task', 'in_progress',     'cancelled',       'dispatcher',  true,  'cancel work under way'),
    ('task', 'in_progress',     'cancelled',       'system',      true,  'cancel work under way'),
    ('task', 'cannot_complete', 'assigned',        'dispatcher',  false, 'dispatch again'),
    ('task', 'cannot_complete', 'cancelled',       'dispatcher',  true,  'give up'),
    ('task', 'cannot_complete', 'cancelled',       'system',      true,  'give up');

--
-- The one function that consults the table
--
CREATE FUNCTION fieldops.transition_check(p_machine text, p_from text, p_to text, p_roles text[], p_reason text,
                                          p_signed boolean DEFAULT false, OUT status text, OUT actor_role text)
RETURNS record
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    r fieldops.state_transition;
BEGIN
    -- the row for the most specific of the actor's roles: what the actor
    -- is to this object (assignee, engineer) before what it may do to any
    -- (team member, dispatcher, system)
    SELECT * INTO r FROM fieldops.state_transition t
     WHERE t.machine OPERATOR(pg_catalog.=) p_machine AND t.from_state OPERATOR(pg_catalog.=) p_from
       AND t.to_state OPERATOR(pg_catalog.=) p_to AND t.actor_role OPERATOR(pg_catalog.=) ANY (p_roles)
     ORDER BY pg_catalog.array_position(ARRAY['assignee', 'engineer', 'team_member', 'dispatcher', 'system'], t.actor_role)
     LIMIT 1;
    IF NOT FOUND THEN
        IF NOT EXISTS (SELECT 1 FROM fieldops.state_transition t
                        WHERE t.machine OPERATOR(pg_catalog.=) p_machine AND t.from_state OPERATOR(pg_catalog.=) p_from
                          AND t.to_state OPERATOR(pg_catalog.=) p_to) THEN
            -- already there (a retried call) is not an error; anything else is not a move of this machine
            status := CASE WHEN p_from OPERATOR(pg_catalog.=) p_to THEN 'unchanged' ELSE 'invalid_transition' END;
        ELSE
            status := 'not_permitted';
        END IF;
        RETURN;
    END IF;
    actor_role := r.actor_role;
    IF r.needs_signature AND NOT COALESCE(p_signed, false) THEN
        status := 'signature_required';
    ELSIF r.reason_required AND p_reason IS NULL THEN
        status := 'reason_required';
    ELSE
        status := 'ok';
    END IF;
END
$$;
COMMENT ON FUNCTION fieldops.transition_check(text, text, text, text[], text, boolean) IS
'Internal: whether an actor holding p_roles may move a task or work order (p_machine) from p_from to p_to, per fieldops.state_transition: ok (with the role the change is made in), unchanged (already there and no such move), invalid_transition, not_permitted, signature_required (only sign_work_order() completes an order) or reason_required.';

CREATE FUNCTION fieldops.check_id_arg(p_id bigint, p_arg text)
RETURNS bigint
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
BEGIN
    IF p_id IS NULL THEN
        RAISE EXCEPTION '% must not be null', p_arg USING ERRCODE = '22004';
    END IF;
    IF p_id OPERATOR(pg_catalog.<=) 0 THEN
        RAISE EXCEPTION '% must be a positive id, got %', p_arg, p_id USING ERRCODE = '22023';
    END IF;
    RETURN p_id;
END
$$;
COMMENT ON FUNCTION fieldops.check_id_arg(bigint, text) IS 'Internal: an id argument is present (22004) and positive (22023).';

CREATE FUNCTION fieldops.check_priority(p_priority text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
BEGIN
    IF p_priority IS NULL OR p_priority NOT IN ('low', 'normal', 'high', 'urgent') THEN
        RAISE EXCEPTION 'p_priority must be low, normal, high or urgent, got %', COALESCE(pg_catalog.quote_literal(p_priority), 'NULL')
            USING ERRCODE = '22023';
    END IF;
    RETURN p_priority;
END
$$;
COMMENT ON FUNCTION fieldops.check_priority(text) IS 'Internal: a priority of tasks and work orders: low, normal, high or urgent (22023).';

--
-- Who dispatches, and the live channel
--
CREATE FUNCTION fieldops.is_dispatcher(p_tenant_id bigint, p_actor bigint, p_dispatcher bigint, p_team_ids bigint[])
RETURNS boolean
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    v_manager bigint;
BEGIN
    IF p_actor IS NULL THEN
        RETURN false;
    END IF;
    IF p_actor OPERATOR(pg_catalog.=) p_dispatcher THEN
        RETURN true;
    END IF;
    -- a manager at any level above the dispatcher may overrule the dispatcher
    IF p_dispatcher IS NOT NULL THEN
        SELECT w.manager_id INTO v_manager FROM fieldops.worker w
         WHERE w.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND w.worker_id OPERATOR(pg_catalog.=) p_dispatcher;
        IF v_manager IS NOT NULL AND fieldops.hierarchy_reaches(p_tenant_id, 'worker', v_manager, p_actor) THEN
            RETURN true;
        END IF;
    END IF;
    -- the lead of a team the object is dispatched to (or its assignee is in)
    RETURN EXISTS (SELECT 1 FROM fieldops.worker w
                    WHERE w.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND w.worker_id OPERATOR(pg_catalog.=) p_actor
                      AND w.is_team_lead AND w.team_id OPERATOR(pg_catalog.=) ANY (p_team_ids));
END
$$;
COMMENT ON FUNCTION fieldops.is_dispatcher(bigint, bigint, bigint, bigint[]) IS
'Internal: whether worker p_actor holds the dispatcher role for a task or work order dispatched by p_dispatcher: it is that worker, a manager at any level above it, or the lead of one of p_team_ids.';

CREATE FUNCTION fieldops.dispatch_event(p_tenant_id bigint, p_topic text, p_kind text, p_id bigint,
                                        p_payload jsonb, p_live jsonb)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    v_event bigint;
BEGIN
    v_event := fieldops.emit_event(p_tenant_id, p_topic, p_kind, p_id, p_payload);
    -- the manager's screen: ids and states only (LISTEN has no privileges
    -- in PostgreSQL: any role may listen to any channel, so nothing a
    -- tenant's row-level security protects travels here); delivered at commit
    PERFORM pg_catalog.pg_notify('fieldops_dispatch_' OPERATOR(pg_catalog.||) p_tenant_id::text,
        (pg_catalog.jsonb_build_object('kind', p_kind, 'id', p_id, 'topic', p_topic, 'event_id', v_event)
         OPERATOR(pg_catalog.||) pg_catalog.jsonb_strip_nulls(COALESCE(p_live, '{}')))::text);
    RETURN v_event;
END
$$;
COMMENT ON FUNCTION fieldops.dispatch_event(bigint, text, text, bigint, jsonb, jsonb) IS
'Internal: an outbox event (emit_event) and a NOTIFY on channel fieldops_dispatch_<tenant_id> with {"kind", "id", "topic", "event_id"} and the ids and states in p_live (never titles, notes or names: any role may LISTEN). Both are delivered only if the transaction commits.';

--
-- Tasks
--
CREATE TABLE fieldops.task (
    tenant_id             bigint NOT NULL REFERENCES fieldops.tenant (tenant_id),
    task_id               bigserial NOT NULL,
    external_ref          text,
    title                 text NOT NULL,
    description           text,
    priority              text NOT NULL DEFAULT 'normal' CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    geom                  geometry(Point, 4326) NOT NULL,
    customer_id           bigint,
    due_at                timestamptz,
    state                 text NOT NULL DEFAULT 'new'
                          CHECK (state IN ('new', 'assigned', 'accepted', 'in_progress', 'done', 'cannot_complete', 'cancelled')),
    dispatcher_worker_id  bigint,
    assignee_worker_id    bigint,
    team_id               bigint,
    created_at            timestamptz NOT NULL,
    state_changed_at      timestamptz NOT NULL,
    accepted_at           timestamptz,
    started_at            timestamptz,
    finished_at           timestamptz,
    PRIMARY KEY (tenant_id, task_id),
    UNIQUE (tenant_id, external_ref),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES fieldops.customer (tenant_id, customer_id),
    FOREIGN KEY (tenant_id, dispatcher_worker_id) REFERENCES fieldops.worker (tenant_id, worker_id),
    FOREIGN KEY (tenant_id, assignee_worker_id) REFERENCES fieldops.worker (tenant_id, worker_id),
    FOREIGN KEY (tenant_id, team_id) REFERENCES fieldops.team (tenant_id, team_id),
    -- new: nobody; assigned: one worker or one team; from accepted on: the worker who accepted
    CONSTRAINT task_assignment CHECK (CASE state
        WHEN 'new' THEN assignee_worker_id IS NULL AND team_id IS NULL
        WHEN 'assigned' THEN (assignee_worker_id IS NULL) <> (team_id IS NULL)
        WHEN 'cancelled' THEN true
        ELSE assignee_worker_id IS NOT NULL END)
);
CREATE INDEX task_assignee_idx ON fieldops.task (tenant_id, assignee_worker_id, state);
CREATE INDEX task_team_open_idx ON fieldops.task (tenant_id, team_id) WHERE state = 'assigned' AND team_id IS NOT NULL;
CREATE INDEX task_due_idx ON fieldops.task (tenant_id, due_at) WHERE state IN ('new', 'assigned', 'accepted', 'in_progress');
CREATE INDEX task_customer_idx ON fieldops.task (tenant_id, customer_id);
COMMENT ON TABLE fieldops.task IS
'Tasks dispatched to a worker (assignee_worker_id) or to a team (team_id; the member who accepts becomes the assignee), with a place, priority and due time. state follows fieldops.state_transition (machine task); changed only through the task API, each change in fieldops.task_history.';

CREATE TABLE fieldops.task_history (
    tenant_id           bigint NOT NULL,
    history_id          bigserial NOT NULL,
    task_id             bigint NOT NULL,
    at                  timestamptz NOT NULL,
    from_state          text,
    to_state            text NOT NULL,
    actor_worker_id     bigint,
    actor_role          text NOT NULL CHECK (actor_role IN ('dispatcher', 'assignee', 'team_member', 'system')),
    reason              text,
    assignee_worker_id  bigint,
    team_id             bigint,
    PRIMARY KEY (tenant_id, history_id),
    FOREIGN KEY (tenant_id, task_id) REFERENCES fieldops.task (tenant_id, task_id),
    FOREIGN KEY (tenant_id, actor_worker_id) REFERENCES fieldops.worker (tenant_id, worker_id),
    CONSTRAINT task_history_actor CHECK ((actor_worker_id IS NULL) = (actor_role = 'system'))
);
CREATE INDEX task_history_task_idx ON fieldops.task_history (tenant_id, task_id, history_id);
COMMENT ON TABLE fieldops.task_history IS
'Append-only: every change of a task''s state (from_state NULL: its creation), who made it in which role, when, why, and the assignment it left.';

CREATE TABLE fieldops.task_feedback (
    tenant_id           bigint NOT NULL,
    feedback_id         bigserial NOT NULL,
    task_id             bigint NOT NULL,
    worker_id           bigint NOT NULL,
    at                  timestamptz NOT NULL,
    kind                text NOT NULL CHECK (kind IN ('note', 'photo', 'form')),
    note                text,
    photo_id            bigint,
    form_submission_id  bigint,
    PRIMARY KEY (tenant_id, feedback_id),
    FOREIGN KEY (tenant_id, task_id) REFERENCES fieldops.task (tenant_id, task_id),
    FOREIGN KEY (tenant_id, worker_id) REFERENCES fieldops.worker (tenant_id, worker_id),
    FOREIGN KEY (tenant_id, photo_id) REFERENCES fieldops.photo (tenant_id, photo_id),
    CONSTRAINT task_feedback_kind CHECK (CASE kind
        WHEN 'note' THEN note IS NOT NULL AND photo_id IS NULL AND form_submission_id IS NULL
        WHEN 'photo' THEN photo_id IS NOT NULL AND note IS NULL AND form_submission_id IS NULL
        ELSE form_submission_id IS NOT NULL AND note IS NULL AND photo_id IS NULL END)
);
CREATE INDEX task_feedback_task_idx ON fieldops.task_feedback (tenant_id, task_id, feedback_id);
COMMENT ON TABLE fieldops.task_feedback IS
'Append-only: what the assignee reported on a task while working on it: a note, a signed photo (fieldops.photo, with its verdict) or a custom form''s answers (fieldops.form_submission, whose task_id names the task).';

-- The custom forms (70_form.sql) keep their answers in fieldops.form_submission
-- with a nullable task_id.  Both foreign keys are made here, when that table
-- exists (it comes first in the install script), so this file works with
-- and without the forms module.
DO $forms$
DECLARE
    v_pk_col name;
BEGIN
    IF pg_catalog.to_regclass('fieldops.form_submission') IS NULL THEN
        RETURN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint
                    WHERE conrelid OPERATOR(pg_catalog.=) 'fieldops.form_submission'::pg_catalog.regclass
                      AND conname OPERATOR(pg_catalog.=) 'form_submission_task_fkey') THEN
        ALTER TABLE fieldops.form_submission
            ADD CONSTRAINT form_submission_task_fkey FOREIGN KEY (tenant_id, task_id) REFERENCES fieldops.task (tenant_id, task_id);
    END IF;
    -- the submission's own key is (tenant_id, <id>): reference it by name
    SELECT a.attname INTO v_pk_col
      FROM pg_catalog.pg_constraint c
      JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) c.conrelid AND a.attnum OPERATOR(pg_catalog.=) c.conkey[2]
     WHERE c.conrelid OPERATOR(pg_catalog.=) 'fieldops.form_submission'::pg_catalog.regclass AND c.contype OPERATOR(pg_catalog.=) 'p'
       AND pg_catalog.array_length(c.conkey, 1) OPERATOR(pg_catalog.=) 2;
    IF v_pk_col IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint
                                             WHERE conrelid OPERATOR(pg_catalog.=) 'fieldops.task_feedback'::pg_catalog.regclass
                                               AND conname OPERATOR(pg_catalog.=) 'task_feedback_form_submission_fkey') THEN
        EXECUTE pg_catalog.format('ALTER TABLE fieldops.task_feedback ADD CONSTRAINT task_feedback_form_submission_fkey'
                                  ' FOREIGN KEY (tenant_id, form_submission_id) REFERENCES fieldops.form_submission (tenant_id, %I)', v_pk_col);
    END IF;
END
$forms$;

--
-- Internals
--
CREATE FUNCTION fieldops.task_roles(p_tenant_id bigint, p_task fieldops.task, p_actor bigint)
RETURNS text[]
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    w fieldops.worker;
    v_roles text[] := '{}';
    v_assignee_team bigint;
BEGIN
    IF p_actor IS NULL THEN
        RETURN ARRAY['system'];
    END IF;
    SELECT * INTO w FROM fieldops.worker x
     WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.worker_id OPERATOR(pg_catalog.=) p_actor;
    IF p_actor OPERATOR(pg_catalog.=) p_task.assignee_worker_id THEN
        v_roles := v_roles OPERATOR(pg_catalog.||) 'assignee'::text;
    END IF;
    IF p_task.team_id IS NOT NULL AND w.status OPERATOR(pg_catalog.=) 'active' AND w.team_id OPERATOR(pg_catalog.=) p_task.team_id THEN
        v_roles := v_roles OPERATOR(pg_catalog.||) 'team_member'::text;
    END IF;
    SELECT x.team_id INTO v_assignee_team FROM fieldops.worker x
     WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.worker_id OPERATOR(pg_catalog.=) p_task.assignee_worker_id;
    IF fieldops.is_dispatcher(p_tenant_id, p_actor, p_task.dispatcher_worker_id, ARRAY[p_task.team_id, v_assignee_team]) THEN
        v_roles := v_roles OPERATOR(pg_catalog.||) 'dispatcher'::text;
    END IF;
    RETURN v_roles;
END
$$;
COMMENT ON FUNCTION fieldops.task_roles(bigint, fieldops.task, bigint) IS
'Internal: the roles worker p_actor holds for a task (assignee, team_member, dispatcher; system for NULL). See the header of 72_task.sql.';

CREATE FUNCTION fieldops.lock_actors(p_tenant_id bigint, p_ids bigint[], p_args text[])
RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
    -- one lock order for everyone: worker_id
    PERFORM fieldops.lock_active_worker(p_tenant_id, x.id, x.arg)
       FROM unnest(p_ids, p_args) AS x(id, arg)
      WHERE x.id IS NOT NULL
      ORDER BY x.id;
END
$$;
COMMENT ON FUNCTION fieldops.lock_actors(bigint, bigint[], text[]) IS
'Internal: share-lock the given workers in worker_id order and check each is active (23503 unknown, 55000 left), naming its argument.';

-- One change of state of a task whose row the caller has locked: the
-- transition table decides, then the row, the history, the event and the
-- NOTIFY are written.  p_assignee / p_team: the new assignment (to assigned).
CREATE FUNCTION fieldops.task_transition(p_tenant_id bigint, p_task fieldops.task, p_to text, p_actor bigint,
                                         p_reason text, p_assignee bigint DEFAULT NULL, p_team bigint DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    v_roles text[] := fieldops.task_roles(p_tenant_id, p_task, p_actor);
    v_check record;
    v_at timestamptz;
    v_assignee bigint := p_task.assignee_worker_id;
    v_team bigint := p_task.team_id;
    v_history bigint;
BEGIN
    -- a team member who comes second: the first one's acceptance stands
    IF p_to OPERATOR(pg_catalog.=) 'accepted' AND 'team_member' OPERATOR(pg_catalog.=) ANY (v_roles)
       AND p_task.state IN ('accepted', 'in_progress', 'done', 'cannot_complete')
       AND p_task.assignee_worker_id IS DISTINCT FROM p_actor THEN
        RETURN 'taken';
    END IF;
    -- dispatching again to the same worker or team changes nothing
    IF p_to OPERATOR(pg_catalog.=) 'assigned' AND p_task.state OPERATOR(pg_catalog.=) 'assigned'
       AND p_task.assignee_worker_id IS NOT DISTINCT FROM p_assignee AND p_task.team_id IS NOT DISTINCT FROM p_team THEN
        RETURN 'unchanged';
    END IF;
    v_check := fieldops.transition_check('task', p_task.state, p_to, v_roles, p_reason);
    IF v_check.status OPERATOR(pg_catalog.<>) 'ok' THEN
        RETURN v_check.status;
    END IF;

    v_at := pg_catalog.clock_timestamp();
    CASE p_to
    WHEN 'assigned' THEN
        v_assignee := p_assignee;
        v_team := p_team;
    WHEN 'accepted' THEN
        v_assignee := p_actor;
    WHEN 'new' THEN
        v_assignee := NULL;
        v_team := NULL;
    ELSE
        NULL;
    END CASE;
    UPDATE fieldops.task
       SET state = p_to, assignee_worker_id = v_assignee, team_id = v_team, state_changed_at = v_at,
           accepted_at = CASE WHEN p_to OPERATOR(pg_catalog.=) 'accepted' THEN v_at
                              WHEN p_to IN ('new', 'assigned') THEN NULL ELSE accepted_at END,
           started_at = CASE WHEN p_to OPERATOR(pg_catalog.=) 'in_progress' THEN v_at
                             WHEN p_to IN ('new', 'assigned') THEN NULL ELSE started_at END,
           finished_at = CASE WHEN p_to IN ('done', 'cannot_complete', 'cancelled') THEN v_at ELSE NULL END
     WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND task_id OPERATOR(pg_catalog.=) p_task.task_id;
    INSERT INTO fieldops.task_history (tenant_id, task_id, at, from_state, to_state, actor_worker_id, actor_role, reason,
                                       assignee_worker_id, team_id)
    VALUES (p_tenant_id, p_task.task_id, v_at, p_task.state, p_to, p_actor, v_check.actor_role, p_reason, v_assignee, v_team)
    RETURNING history_id INTO v_history;
    PERFORM fieldops.dispatch_event(p_tenant_id,
        CASE WHEN p_to OPERATOR(pg_catalog.=) 'new' THEN 'task.returned' ELSE 'task.' OPERATOR(pg_catalog.||) p_to END,
        'task', p_task.task_id,
        pg_catalog.jsonb_build_object('from', p_task.state, 'to', p_to, 'actor_worker_id', p_actor, 'actor_role', v_check.actor_role,
                                      'reason', p_reason, 'assignee_worker_id', v_assignee, 'team_id', v_team,
                                      'previous_assignee_worker_id', p_task.assignee_worker_id, 'at', v_at),
        pg_catalog.jsonb_build_object('from', p_task.state, 'to', p_to, 'actor_worker_id', p_actor,
                                      'assignee_worker_id', v_assignee, 'team_id', v_team, 'history_id', v_history));
    RETURN 'ok';
END
$$;
COMMENT ON FUNCTION fieldops.task_transition(bigint, fieldops.task, text, bigint, text, bigint, bigint) IS
'Internal: apply one change of state to a locked task if fieldops.transition_check() allows it (history row, outbox event task.<state> or task.returned, NOTIFY); otherwise return the refusal (taken, unchanged, invalid_transition, not_permitted, reason_required) and write nothing.';

CREATE FUNCTION fieldops.lock_task(p_tenant_id bigint, p_task_id bigint)
RETURNS fieldops.task
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    t fieldops.task;
BEGIN
    SELECT * INTO t FROM fieldops.task
     WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND task_id OPERATOR(pg_catalog.=) p_task_id
       FOR NO KEY UPDATE;
    RETURN t;
END
$$;
COMMENT ON FUNCTION fieldops.lock_task(bigint, bigint) IS 'Internal: lock a task row (all NULL when the tenant has no such task).';

CREATE FUNCTION fieldops.check_task_state(p_state text)
RETURNS text
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    IF p_state IS NULL OR NOT EXISTS (SELECT 1 FROM fieldops.state_transition t
                                       WHERE t.machine OPERATOR(pg_catalog.=) 'task'
                                         AND (t.to_state OPERATOR(pg_catalog.=) p_state OR t.from_state OPERATOR(pg_catalog.=) p_state)) THEN
        RAISE EXCEPTION 'p_state must be a task state (new, assigned, accepted, in_progress, done, cannot_complete, cancelled), got %',
            COALESCE(pg_catalog.quote_literal(p_state), 'NULL') USING ERRCODE = '22023';
    END IF;
    RETURN p_state;
END
$$;
COMMENT ON FUNCTION fieldops.check_task_state(text) IS 'Internal: a task state argument (22023).';

--
-- The API
--
CREATE FUNCTION fieldops.create_task(p_tenant_id bigint, p_title text, p_location geometry DEFAULT NULL,
                                     p_due_at timestamptz DEFAULT NULL, p_priority text DEFAULT 'normal',
                                     p_description text DEFAULT NULL, p_customer_id bigint DEFAULT NULL,
                                     p_dispatcher_worker_id bigint DEFAULT NULL, p_worker_id bigint DEFAULT NULL,
                                     p_team_id bigint DEFAULT NULL, p_external_ref text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    v_title text;
    v_description text;
    v_geom geometry;
    v_at timestamptz;
    v_id bigint;
    v_history bigint;
    v_status text;
    t fieldops.task;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    v_title := fieldops.check_text(p_title, 'p_title', 200);
    v_description := fieldops.check_text(p_description, 'p_description', 4000, false);
    PERFORM fieldops.check_priority(p_priority);
    IF p_external_ref IS NOT NULL THEN
        PERFORM fieldops.check_code(p_external_ref, 'p_external_ref');
    END IF;
    IF p_due_at IS NOT NULL AND (NOT pg_catalog.isfinite(p_due_at) OR p_due_at OPERATOR(pg_catalog.<=) pg_catalog.now()) THEN
        RAISE EXCEPTION 'p_due_at must be a time in the future, got %', p_due_at USING ERRCODE = '22023';
    END IF;
    IF p_worker_id IS NOT NULL AND p_team_id IS NOT NULL THEN
        RAISE EXCEPTION 'give p_worker_id or p_team_id, not both: a task is dispatched to one worker or to one team'
            USING ERRCODE = '22023';
    END IF;
    PERFORM fieldops.check_reference(p_tenant_id, 'team', p_team_id, 'p_team_id');
    v_geom := fieldops.check_point(p_location, 'p_location');
    IF p_customer_id IS NOT NULL THEN
        PERFORM fieldops.check_id_arg(p_customer_id, 'p_customer_id');
        SELECT COALESCE(v_geom, c.geom) INTO v_geom
          FROM fieldops.customer c
         WHERE c.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND c.customer_id OPERATOR(pg_catalog.=) p_customer_id;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'p_customer_id % is not a customer of tenant %', p_customer_id, p_tenant_id USING ERRCODE = '23503';
        END IF;
    END IF;
    IF v_geom IS NULL THEN
        RAISE EXCEPTION 'p_location is required when no customer with a position is given' USING ERRCODE = '22023',
            HINT = 'Pass ST_SetSRID(ST_MakePoint(lon, lat), 4326), or p_customer_id of a customer on the map.';
    END IF;
    PERFORM fieldops.lock_actors(p_tenant_id, ARRAY[p_dispatcher_worker_id, p_worker_id],
                                 ARRAY['p_dispatcher_worker_id', 'p_worker_id']);

    v_at := pg_catalog.clock_timestamp();
    INSERT INTO fieldops.task (tenant_id, external_ref, title, description, priority, geom, customer_id, due_at, state,
                               dispatcher_worker_id, created_at, state_changed_at)
    VALUES (p_tenant_id, p_external_ref, v_title, v_description, p_priority, v_geom, p_customer_id, p_due_at, 'new',
            p_dispatcher_worker_id, v_at, v_at)
    ON CONFLICT (tenant_id, external_ref) DO NOTHING
    RETURNING task_id INTO v_id;
    IF v_id IS NULL THEN
        RAISE EXCEPTION 'a task with p_external_ref "%" already exists in tenant %', p_external_ref, p_tenant_id
            USING ERRCODE = '23505', HINT = 'Look it up in fieldops.task by external_ref.';
    END IF;
    INSERT INTO fieldops.task_history (tenant_id, task_id, at, from_state, to_state, actor_worker_id, actor_role)
    VALUES (p_tenant_id, v_id, v_at, NULL, 'new', p_dispatcher_worker_id,
            CASE WHEN p_dispatcher_worker_id IS NULL THEN 'system' ELSE 'dispatcher' END)
    RETURNING history_id INTO v_history;
    PERFORM fieldops.dispatch_event(p_tenant_id, 'task.created', 'task', v_id,
        pg_catalog.jsonb_build_object('external_ref', p_external_ref, 'title', v_title, 'priority', p_priority,
                                      'due_at', p_due_at, 'customer_id', p_customer_id,
                                      'dispatcher_worker_id', p_dispatcher_worker_id, 'at', v_at),
        pg_catalog.jsonb_build_object('to', 'new', 'actor_worker_id', p_dispatcher_worker_id, 'history_id', v_history));

    IF p_worker_id IS NOT NULL OR p_team_id IS NOT NULL THEN
        t := fieldops.lock_task(p_tenant_id, v_id);
        v_status := fieldops.task_transition(p_tenant_id, t, 'assigned', p_dispatcher_worker_id, NULL, p_worker_id, p_team_id);
        IF v_status OPERATOR(pg_catalog.<>) 'ok' THEN
            RAISE EXCEPTION 'create_task: dispatching the new task was refused (%)', v_status USING ERRCODE = 'XX000';
        END IF;
    END IF;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION fieldops.create_task(bigint, text, geometry, timestamptz, text, text, bigint, bigint, bigint, bigint, text) IS
'Create a task (state new) and return its id: p_title, a WGS-84 point p_location (default: the position of p_customer_id), p_due_at in the future or NULL, p_priority low/normal/high/urgent, the worker who dispatches it (p_dispatcher_worker_id; NULL: the application). With p_worker_id or p_team_id it is dispatched at once (assigned). A duplicate p_external_ref is 23505. Events task.created (and task.assigned).';

CREATE FUNCTION fieldops.dispatch_task(p_tenant_id bigint, p_task_id bigint, p_actor_worker_id bigint,
                                       p_worker_id bigint DEFAULT NULL, p_team_id bigint DEFAULT NULL,
                                       p_reason text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    v_reason text;
    t fieldops.task;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    v_reason := fieldops.check_text(p_reason, 'p_reason', 500, false);
    PERFORM fieldops.check_id_arg(p_task_id, 'p_task_id');
    IF (p_worker_id IS NULL) OPERATOR(pg_catalog.=) (p_team_id IS NULL) THEN
        RAISE EXCEPTION 'give exactly one of p_worker_id and p_team_id: a task is dispatched to one worker or to one team'
            USING ERRCODE = '22023';
    END IF;
    PERFORM fieldops.check_reference(p_tenant_id, 'team', p_team_id, 'p_team_id');
    PERFORM fieldops.lock_actors(p_tenant_id, ARRAY[p_actor_worker_id, p_worker_id], ARRAY['p_actor_worker_id', 'p_worker_id']);
    t := fieldops.lock_task(p_tenant_id, p_task_id);
    IF t.task_id IS NULL THEN
        RETURN 'not_found';
    END IF;
    RETURN fieldops.task_transition(p_tenant_id, t, 'assigned', p_actor_worker_id, v_reason, p_worker_id, p_team_id);
END
$$;
COMMENT ON FUNCTION fieldops.dispatch_task(bigint, bigint, bigint, bigint, bigint, text) IS
'Dispatch a task to one worker (p_worker_id) or one team (p_team_id), from new, or again (reassign, reason required) from assigned, accepted or cannot_complete. p_actor_worker_id: who dispatches (NULL: the application). Returns ok, unchanged (already dispatched there), not_found, invalid_transition, not_permitted or reason_required.';

CREATE FUNCTION fieldops.accept_task(p_tenant_id bigint, p_task_id bigint, p_worker_id bigint)
RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    t fieldops.task;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    PERFORM fieldops.check_id_arg(p_task_id, 'p_task_id');
    PERFORM fieldops.lock_actors(p_tenant_id, ARRAY[fieldops.check_id_arg(p_worker_id, 'p_worker_id')], ARRAY['p_worker_id']);
    t := fieldops.lock_task(p_tenant_id, p_task_id);
    IF t.task_id IS NULL THEN
        RETURN 'not_found';
    END IF;
    RETURN fieldops.task_transition(p_tenant_id, t, 'accepted', p_worker_id, NULL);
END
$$;
COMMENT ON FUNCTION fieldops.accept_task(bigint, bigint, bigint) IS
'The worker accepts a task assigned to it, or to its team: of members accepting at once exactly one gets ok, the others taken. Returns ok, taken, unchanged (accepted by this worker already), not_found, invalid_transition or not_permitted.';

CREATE FUNCTION fieldops.set_task_state(p_tenant_id bigint, p_task_id bigint, p_state text, p_actor_worker_id bigint,
                                        p_reason text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    v_reason text;
    t fieldops.task;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    v_reason := fieldops.check_text(p_reason, 'p_reason', 500, false);
    PERFORM fieldops.check_id_arg(p_task_id, 'p_task_id');
    PERFORM fieldops.check_task_state(p_state);
    IF p_state OPERATOR(pg_catalog.=) 'assigned' THEN
        RAISE EXCEPTION 'p_state assigned needs a worker or a team' USING ERRCODE = '22023',
            HINT = 'Use fieldops.dispatch_task().';
    END IF;
    PERFORM fieldops.lock_actors(p_tenant_id, ARRAY[p_actor_worker_id], ARRAY['p_actor_worker_id']);
    t := fieldops.lock_task(p_tenant_id, p_task_id);
    IF t.task_id IS NULL THEN
        RETURN 'not_found';
    END IF;
    RETURN fieldops.task_transition(p_tenant_id, t, p_state, p_actor_worker_id, v_reason);
END
$$;
COMMENT ON FUNCTION fieldops.set_task_state(bigint, bigint, text, bigint, text) IS
'Move a task to p_state (accepted, in_progress, done, cannot_complete, cancelled, or new: declined, given back or recalled) as p_actor_worker_id (NULL: the application), with p_reason where fieldops.state_transition requires one. Returns ok, taken, unchanged, not_found, invalid_transition, not_permitted or reason_required; only ok writes anything.';

CREATE FUNCTION fieldops.form_submission_task(p_tenant_id bigint, p_submission_id bigint)
RETURNS bigint
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    v_col name;
    v_task bigint;
    v_found boolean;
BEGIN
    IF pg_catalog.to_regclass('fieldops.form_submission') IS NULL THEN
        RAISE EXCEPTION 'custom forms are not installed (no table fieldops.form_submission)' USING ERRCODE = '55000';
    END IF;
    SELECT a.attname INTO v_col
      FROM pg_catalog.pg_constraint c
      JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) c.conrelid AND a.attnum OPERATOR(pg_catalog.=) c.conkey[2]
     WHERE c.conrelid OPERATOR(pg_catalog.=) 'fieldops.form_submission'::pg_catalog.regclass AND c.contype OPERATOR(pg_catalog.=) 'p';
    EXECUTE pg_catalog.format('SELECT s.task_id, true FROM fieldops.form_submission s WHERE s.tenant_id OPERATOR(pg_catalog.=) $1 AND s.%I OPERATOR(pg_catalog.=) $2', v_col)
       INTO v_task, v_found USING p_tenant_id, p_submission_id;
    IF v_found IS NULL THEN
        RAISE EXCEPTION 'p_form_submission_id % is not a form submission of tenant %', p_submission_id, p_tenant_id USING ERRCODE = '23503';
    END IF;
    RETURN v_task;
END
$$;
COMMENT ON FUNCTION fieldops.form_submission_task(bigint, bigint) IS
'Internal: the task_id a custom form''s submission was made for (NULL: none); 55000 when the forms module is not installed, 23503 when the tenant has no such submission.';

CREATE FUNCTION fieldops.add_task_feedback(p_tenant_id bigint, p_task_id bigint, p_worker_id bigint,
                                           p_note text DEFAULT NULL, p_photo_id bigint DEFAULT NULL,
                                           p_form_submission_id bigint DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    v_note text;
    v_kind text;
    v_photo_worker bigint;
    v_verdict text;
    v_at timestamptz;
    v_id bigint;
    t fieldops.task;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    v_note := fieldops.check_text(p_note, 'p_note', 4000, false);
    PERFORM fieldops.check_id_arg(p_task_id, 'p_task_id');
    IF (v_note IS NOT NULL)::integer OPERATOR(pg_catalog.+) (p_photo_id IS NOT NULL)::integer
       OPERATOR(pg_catalog.+) (p_form_submission_id IS NOT NULL)::integer OPERATOR(pg_catalog.<>) 1 THEN
        RAISE EXCEPTION 'give exactly one of p_note, p_photo_id and p_form_submission_id' USING ERRCODE = '22023';
    END IF;
    v_kind := CASE WHEN v_note IS NOT NULL THEN 'note' WHEN p_photo_id IS NOT NULL THEN 'photo' ELSE 'form' END;
    IF p_photo_id IS NOT NULL THEN
        PERFORM fieldops.check_id_arg(p_photo_id, 'p_photo_id');
        SELECT p.worker_id, p.verdict INTO v_photo_worker, v_verdict FROM fieldops.photo p
         WHERE p.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND p.photo_id OPERATOR(pg_catalog.=) p_photo_id;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'p_photo_id % is not a photo of tenant %', p_photo_id, p_tenant_id USING ERRCODE = '23503';
        END IF;
        IF v_photo_worker IS DISTINCT FROM p_worker_id THEN
            RAISE EXCEPTION 'p_photo_id % was submitted for worker %, not for p_worker_id %', p_photo_id, v_photo_worker, p_worker_id
                USING ERRCODE = '22023';
        END IF;
    END IF;
    IF p_form_submission_id IS NOT NULL THEN
        PERFORM fieldops.check_id_arg(p_form_submission_id, 'p_form_submission_id');
        IF fieldops.form_submission_task(p_tenant_id, p_form_submission_id) IS DISTINCT FROM p_task_id THEN
            RAISE EXCEPTION 'p_form_submission_id % was not submitted for task %', p_form_submission_id, p_task_id
                USING ERRCODE = '22023', HINT = 'Submit the form with the task''s id.';
        END IF;
    END IF;
    PERFORM fieldops.lock_actors(p_tenant_id, ARRAY[fieldops.check_id_arg(p_worker_id, 'p_worker_id')], ARRAY['p_worker_id']);
    -- FOR SHARE: the state cannot change before this commits
    SELECT * INTO t FROM fieldops.task x
     WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.task_id OPERATOR(pg_catalog.=) p_task_id FOR SHARE;
    IF NOT FOUND THEN
        RETURN 'not_found';
    END IF;
    IF t.assignee_worker_id IS DISTINCT FROM p_worker_id THEN
        RETURN 'not_permitted';
    END IF;
    IF t.state NOT IN ('accepted', 'in_progress') THEN
        RETURN 'invalid_state';
    END IF;
    v_at := pg_catalog.clock_timestamp();
    INSERT INTO fieldops.task_feedback (tenant_id, task_id, worker_id, at, kind, note, photo_id, form_submission_id)
    VALUES (p_tenant_id, p_task_id, p_worker_id, v_at, v_kind, v_note, p_photo_id, p_form_submission_id)
    RETURNING feedback_id INTO v_id;
    PERFORM fieldops.dispatch_event(p_tenant_id, 'task.feedback', 'task', p_task_id,
        pg_catalog.jsonb_build_object('feedback_id', v_id, 'kind', v_kind, 'worker_id', p_worker_id, 'note', v_note,
                                      'photo_id', p_photo_id, 'photo_verdict', v_verdict,
                                      'form_submission_id', p_form_submission_id, 'at', v_at),
        pg_catalog.jsonb_build_object('feedback_id', v_id, 'feedback_kind', v_kind, 'actor_worker_id', p_worker_id,
                                      'state', t.state));
    RETURN 'added';
END
$$;
COMMENT ON FUNCTION fieldops.add_task_feedback(bigint, bigint, bigint, text, bigint, bigint) IS
'The assignee reports on a task it has accepted or is working on: exactly one of a note, a photo of its own (fieldops.photo, its verdict travels with the event) or a custom form submitted for this task. Returns added, not_found, not_permitted (not the assignee) or invalid_state. Event task.feedback.';

CREATE FUNCTION fieldops.task_detail(p_tenant_id bigint, p_task_id bigint)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    v jsonb;
    v_forms jsonb;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    PERFORM fieldops.check_id_arg(p_task_id, 'p_task_id');
    SELECT pg_catalog.to_jsonb(t) OPERATOR(pg_catalog.-) 'geom' OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object(
               'lon', public.ST_X(t.geom), 'lat', public.ST_Y(t.geom),
               'history', (SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(h) OPERATOR(pg_catalog.-) 'tenant_id' ORDER BY h.history_id), '[]')
                             FROM fieldops.task_history h
                            WHERE h.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND h.task_id OPERATOR(pg_catalog.=) p_task_id),
               'feedback', (SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
                                      'feedback_id', f.feedback_id, 'at', f.at, 'worker_id', f.worker_id, 'kind', f.kind,
                                      'note', f.note, 'photo_id', f.photo_id, 'photo_verdict', p.verdict,
                                      'form_submission_id', f.form_submission_id)) ORDER BY f.feedback_id), '[]')
                              FROM fieldops.task_feedback f
                              LEFT JOIN fieldops.photo p ON p.tenant_id OPERATOR(pg_catalog.=) f.tenant_id AND p.photo_id OPERATOR(pg_catalog.=) f.photo_id
                             WHERE f.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND f.task_id OPERATOR(pg_catalog.=) p_task_id))
      INTO v
      FROM fieldops.task t
     WHERE t.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND t.task_id OPERATOR(pg_catalog.=) p_task_id;
    IF v IS NULL THEN
        RETURN NULL;
    END IF;
    IF pg_catalog.to_regclass('fieldops.form_submission') IS NOT NULL THEN
        EXECUTE 'SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(s)), ''[]'') FROM fieldops.form_submission s'
                ' WHERE s.tenant_id OPERATOR(pg_catalog.=) $1 AND s.task_id OPERATOR(pg_catalog.=) $2'
           INTO v_forms USING p_tenant_id, p_task_id;
        v := v OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('forms', v_forms);
    END IF;
    RETURN v;
END
$$;
COMMENT ON FUNCTION fieldops.task_detail(bigint, bigint) IS
'One task as JSON for a dispatcher''s screen or a CRM: its columns (lon, lat for the point), its history (who, from, to, when, why) and feedback (notes, photos with their verdicts, form submissions), and, with the forms module, the form submissions made for it. NULL when the tenant has no such task.';

CREATE FUNCTION fieldops.worker_tasks(p_tenant_id bigint, p_worker_id bigint, p_include_closed boolean DEFAULT false)
RETURNS SETOF fieldops.task
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    PERFORM fieldops.check_id_arg(p_worker_id, 'p_worker_id');
    RETURN QUERY
    SELECT t.* FROM fieldops.task t
     WHERE t.tenant_id OPERATOR(pg_catalog.=) p_tenant_id
       AND (t.assignee_worker_id OPERATOR(pg_catalog.=) p_worker_id
            OR (t.state OPERATOR(pg_catalog.=) 'assigned' AND t.assignee_worker_id IS NULL
                AND t.team_id OPERATOR(pg_catalog.=) (SELECT w.team_id FROM fieldops.worker w
                                                       WHERE w.tenant_id OPERATOR(pg_catalog.=) p_tenant_id
                                                         AND w.worker_id OPERATOR(pg_catalog.=) p_worker_id
                                                         AND w.status OPERATOR(pg_catalog.=) 'active')))
       AND (COALESCE(p_include_closed, false) OR t.state IN ('assigned', 'accepted', 'in_progress'))
     ORDER BY CASE t.priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END,
              t.due_at NULLS LAST, t.task_id;
END
$$;
COMMENT ON FUNCTION fieldops.worker_tasks(bigint, bigint, boolean) IS
'A worker''s task list for the app: tasks assigned to or accepted by the worker and the open tasks of its team nobody accepted yet (with p_include_closed also done, cannot_complete and cancelled ones of its own), most urgent and soonest due first.';

--
-- Security
--
SELECT fieldops.secure_tenant_table(t::regclass)
  FROM pg_catalog.unnest(ARRAY['fieldops.task', 'fieldops.task_history', 'fieldops.task_feedback']) AS t;
-- the history and the feedback are append-only
REVOKE UPDATE, DELETE ON fieldops.task_history, fieldops.task_feedback FROM fieldops_api, fieldops_admin;
-- the state machines: a global dictionary owned by the install script
REVOKE ALL ON fieldops.state_transition FROM PUBLIC;
GRANT SELECT ON fieldops.state_transition TO fieldops_app, fieldops_analyst, fieldops_api, fieldops_admin;

GRANT EXECUTE ON FUNCTION
    fieldops.create_task(bigint, text, geometry, timestamptz, text, text, bigint, bigint, bigint, bigint, text),
    fieldops.dispatch_task(bigint, bigint, bigint, bigint, bigint, text),
    fieldops.accept_task(bigint, bigint, bigint),
    fieldops.set_task_state(bigint, bigint, text, bigint, text),
    fieldops.add_task_feedback(bigint, bigint, bigint, text, bigint, bigint)
TO fieldops_app;
GRANT EXECUTE ON FUNCTION
    fieldops.task_detail(bigint, bigint),
    fieldops.worker_tasks(bigint, bigint, boolean),
    fieldops.check_id_arg(bigint, text)
TO fieldops_app, fieldops_analyst;
GRANT EXECUTE ON FUNCTION
    fieldops.transition_check(text, text, text, text[], text, boolean),
    fieldops.check_id_arg(bigint, text),
    fieldops.check_priority(text),
    fieldops.is_dispatcher(bigint, bigint, bigint, bigint[]),
    fieldops.dispatch_event(bigint, text, text, bigint, jsonb, jsonb),
    fieldops.task_roles(bigint, fieldops.task, bigint),
    fieldops.lock_actors(bigint, bigint[], text[]),
    fieldops.task_transition(bigint, fieldops.task, text, bigint, text, bigint, bigint),
    fieldops.lock_task(bigint, bigint),
    fieldops.check_task_state(text),
    fieldops.form_submission_task(bigint, bigint)
TO fieldops_api;
