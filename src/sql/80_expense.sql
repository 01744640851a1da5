--
-- Expense claims (module 5): what a worker spent for the work, each line
-- tied to the work it was spent for, checked against the tenant's policy
-- and the evidence the other modules hold, and approved in two steps.
--
--   draft -> submitted -> manager_approved -> finance_approved -> paid
--   rejected:  from submitted (manager) or manager_approved (finance), with
--              a reason; then reopened to draft, or resubmitted at once
--   cancelled: withdrawn by the claimant before the final approval
--              (draft, submitted, manager_approved, rejected)
--
-- as rows of fieldops.state_transition (machine expense_claim, see
-- 72_task.sql), consulted by fieldops.transition_check() for every change.
-- Roles of a worker for a claim (fieldops.expense_claim_roles()):
--   claimant  the worker whose claim it is, and only that: a claimant is
--             never a manager, a finance approver or a delegate for his own
--             claim, whatever else he is,
--   manager   any worker above the claimant in the reporting hierarchy
--             (fieldops.hierarchy_reaches() from the claimant's manager),
--   finance   a worker in fieldops.finance_approver,
--   system    no worker (p_actor_worker_id NULL): the application, e.g. a
--             payroll export that marks a claim paid.
-- Delegation: a delegate (fieldops.expense_delegation) acts with the
-- manager and finance roles of the delegator on the tenant-local days
-- [valid_from, valid_until]; the history records the actor and on whose
-- behalf.  Only approval roles are delegated, and only a delegator's own
-- roles (no chains).
--
-- Every line has exactly one business context: a visit, a task, a trip, a
-- work order or a vehicle claim (a CHECK behind the API's 22023).  At
-- submission (and again at every resubmission) each line gets flags with
-- reasons (fieldops.expense_line_flags(): over_cap, km_over_measured,
-- km_not_measured, non_working_day, duplicate_receipt,
-- context_not_verified, context_worker_mismatch).  Flags never block: the
-- approvers see them in fieldops.expense_claim_detail() with the evidence.
--
-- KPIs count the lines of claims in manager_approved, finance_approved or
-- paid (the view fieldops.expense_counted).  Every transition into or out
-- of that set calls fieldops.kpi_touch(tenant, day, 'expense') for each
-- day the claim's lines were spent on; lines change only in draft or
-- rejected, which are not counted.
--
-- Lock order, the same in every function:
--   1. worker rows FOR SHARE (lock_actors), in worker_id order,
--   2. the claim row, FOR NO KEY UPDATE (every change of a claim or of its
--      lines is decided on the locked claim: of an approval and a rejection
--      at once, the second sees the first one's result:
--      test/isolation/specs/expense_approve.spec),
--   3. expense lines, FOR NO KEY UPDATE in line_id order: at submission the
--      claim's own lines and the lines of other submitted claims that share
--      a receipt with them (whose duplicate_receipt flag is extended), so
--      two claims with the same receipt submitted at once do not deadlock.
-- A transaction locks one claim only.  Times written are clock_timestamp()
-- taken after the locks.
--
-- Part of the install script and of the 0.1.0 -> 0.2.0 upgrade script.
--

INSERT INTO fieldops.setting_def (key, kind, default_value, min_value, max_value, description) VALUES
    ('expense_km_tolerance_pct', 'integer', '10', 0, 100,
     'An expense line may claim this many percent more kilometres than its vehicle claim or trip measured before it is flagged (km_over_measured).'),
    ('expense_flag_non_working_days', 'boolean', 'true', NULL, NULL,
     'Flag expense lines spent on a day without working hours in the worker''s schedule (non_working_day).');

--
-- The state machine: the global table of 72_task.sql, extended to a third
-- machine (the rules of task and work_order are unchanged)
--
ALTER TABLE fieldops.state_transition
    DROP CONSTRAINT state_transition_machine_check,
    DROP CONSTRAINT state_transition_states,
    DROP CONSTRAINT state_transition_roles;
ALTER TABLE fieldops.state_transition
    ADD CONSTRAINT state_transition_machine_check CHECK (machine IN ('task', 'work_order', 'expense_claim')),
    ADD CONSTRAINT state_transition_states CHECK (
        CASE machine
        WHEN 'task' THEN from_state IN ('new', 'assigned', 'accepted', 'in_progress', 'done', 'cannot_complete', 'cancelled')
                     AND to_state IN ('new', 'assigned', 'accepted', 'in_progress', 'done', 'cannot_complete', 'cancelled')
        WHEN 'work_order' THEN from_state IN ('created', 'dispatched', 'accepted', 'travelling', 'on_site', 'repairing', 'awaiting_signature',
                                              'completed', 'closed', 'cancelled', 'reopened')
                           AND to_state IN ('created', 'dispatched', 'accepted', 'travelling', 'on_site', 'repairing', 'awaiting_signature',
                                            'completed', 'closed', 'cancelled', 'reopened')
        ELSE from_state IN ('draft', 'submitted', 'manager_approved', 'finance_approved', 'paid', 'rejected', 'cancelled')
         AND to_state IN ('draft', 'submitted', 'manager_approved', 'finance_approved', 'paid', 'rejected', 'cancelled')
        END),
    ADD CONSTRAINT state_transition_roles CHECK (
        CASE machine
        WHEN 'task' THEN actor_role IN ('dispatcher', 'assignee', 'team_member', 'system')
        WHEN 'work_order' THEN actor_role IN ('dispatcher', 'engineer', 'system')
        ELSE actor_role IN ('claimant', 'manager', 'finance', 'system')
        END);
COMMENT ON TABLE fieldops.state_transition IS
'Global dictionary: the state machines of tasks, work orders and expense claims. One row per allowed change (machine, from_state, to_state) and role that may make it, whether a reason is required and (work orders) whether only a verified customer signature may make it. fieldops.transition_check() is the one place that reads it; a change not listed here is refused.';

INSERT INTO fieldops.state_transition (machine, from_state, to_state, actor_role, reason_required, description) VALUES
    ('expense_claim', 'draft',            'submitted',        'claimant', false, 'submit the claim (its lines are flagged against the policy)'),
    ('expense_claim', 'draft',            'cancelled',        'claimant', false, 'withdraw a claim never submitted'),
    ('expense_claim', 'submitted',        'manager_approved', 'manager',  false, 'a manager above the claimant approves (the lines count from now on)'),
    ('expense_claim', 'submitted',        'rejected',         'manager',  true,  'a manager above the claimant rejects (say why)'),
    ('expense_claim', 'submitted',        'cancelled',        'claimant', false, 'withdraw before any approval'),
    ('expense_claim', 'manager_approved', 'finance_approved', 'finance',  false, 'finance approves: the final approval'),
    ('expense_claim', 'manager_approved', 'rejected',         'finance',  true,  'finance rejects (say why)'),
    ('expense_claim', 'manager_approved', 'cancelled',        'claimant', false, 'withdraw before the final approval'),
    ('expense_claim', 'finance_approved', 'paid',             'finance',  false, 'paid out'),
    ('expense_claim', 'finance_approved', 'paid',             'system',   false, 'paid out (e.g. the payroll export)'),
    ('expense_claim', 'rejected',         'draft',            'claimant', false, 'reopen to change the lines'),
    ('expense_claim', 'rejected',         'submitted',        'claimant', false, 'resubmit (the lines are flagged again)'),
    ('expense_claim', 'rejected',         'cancelled',        'claimant', false, 'give up the claim');

--
-- Tables
--
CREATE TABLE fieldops.expense_claim (
    tenant_id            bigint NOT NULL REFERENCES fieldops.tenant (tenant_id),
    claim_id             bigserial NOT NULL,
    worker_id            bigint NOT NULL,
    title                text NOT NULL,
    state                text NOT NULL DEFAULT 'draft'
                         CHECK (state IN ('draft', 'submitted', 'manager_approved', 'finance_approved', 'paid', 'rejected', 'cancelled')),
    created_at           timestamptz NOT NULL,
    state_changed_at     timestamptz NOT NULL,
    submitted_at         timestamptz,
    submit_count         integer NOT NULL DEFAULT 0,
    manager_approved_at  timestamptz,
    finance_approved_at  timestamptz,
    rejected_at          timestamptz,
    paid_at              timestamptz,
    payment_ref          text,
    PRIMARY KEY (tenant_id, claim_id),
    FOREIGN KEY (tenant_id, worker_id) REFERENCES fieldops.worker (tenant_id, worker_id),
    CONSTRAINT expense_claim_submitted CHECK (state IN ('draft', 'cancelled') OR submitted_at IS NOT NULL),
    CONSTRAINT expense_claim_paid CHECK ((state = 'paid') = (paid_at IS NOT NULL))
);
CREATE INDEX expense_claim_worker_idx ON fieldops.expense_claim (tenant_id, worker_id, state);
CREATE INDEX expense_claim_open_idx ON fieldops.expense_claim (tenant_id, state) WHERE state IN ('submitted', 'manager_approved', 'finance_approved');
COMMENT ON TABLE fieldops.expense_claim IS
'Expense claims: a worker''s (the claimant''s) lines of expenses, approved by a manager above the claimant and then by finance, then paid. state follows fieldops.state_transition (machine expense_claim); changed only through the expense API, each change in fieldops.expense_claim_history.';
COMMENT ON COLUMN fieldops.expense_claim.submitted_at IS 'The last submission (a resubmission after a rejection moves it); submit_count counts them.';

CREATE TABLE fieldops.expense_line (
    tenant_id         bigint NOT NULL,
    line_id           bigserial NOT NULL,
    claim_id          bigint NOT NULL,
    expense_type      text NOT NULL
                      CHECK (expense_type IN ('vehicle_mileage', 'fuel', 'toll', 'parking', 'travel', 'meal', 'lodging', 'other')),
    spent_on          date NOT NULL,
    amount            numeric(14, 2) NOT NULL CHECK (amount > 0),
    currency          text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    description       text,
    receipt_sha256    bytea CHECK (pg_catalog.length(receipt_sha256) = 32),
    claimed_km        numeric(10, 3) CHECK (claimed_km > 0),
    visit_id          bigint,
    task_id           bigint,
    trip_id           bigint,
    work_order_id     bigint,
    vehicle_claim_id  bigint,
    flags             jsonb CHECK (pg_catalog.jsonb_typeof(flags) = 'array'),
    flagged_at        timestamptz,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, line_id),
    FOREIGN KEY (tenant_id, claim_id) REFERENCES fieldops.expense_claim (tenant_id, claim_id),
    FOREIGN KEY (tenant_id, visit_id) REFERENCES fieldops.visit (tenant_id, visit_id),
    FOREIGN KEY (tenant_id, task_id) REFERENCES fieldops.task (tenant_id, task_id),
    FOREIGN KEY (tenant_id, trip_id) REFERENCES fieldops.trip (tenant_id, trip_id),
    FOREIGN KEY (tenant_id, work_order_id) REFERENCES fieldops.work_order (tenant_id, work_order_id),
    FOREIGN KEY (tenant_id, vehicle_claim_id) REFERENCES fieldops.vehicle_claim (tenant_id, claim_id),
    -- the API refuses a line without one with a clear 22023; this is the backstop
    CONSTRAINT expense_line_one_context CHECK (pg_catalog.num_nonnulls(visit_id, task_id, trip_id, work_order_id, vehicle_claim_id) = 1),
    CONSTRAINT expense_line_km CHECK ((expense_type = 'vehicle_mileage') = (claimed_km IS NOT NULL))
);
CREATE INDEX expense_line_claim_idx ON fieldops.expense_line (tenant_id, claim_id, line_id);
CREATE INDEX expense_line_receipt_idx ON fieldops.expense_line (tenant_id, receipt_sha256) WHERE receipt_sha256 IS NOT NULL;
CREATE INDEX expense_line_visit_idx ON fieldops.expense_line (tenant_id, visit_id) WHERE visit_id IS NOT NULL;
CREATE INDEX expense_line_task_idx ON fieldops.expense_line (tenant_id, task_id) WHERE task_id IS NOT NULL;
CREATE INDEX expense_line_trip_idx ON fieldops.expense_line (tenant_id, trip_id) WHERE trip_id IS NOT NULL;
CREATE INDEX expense_line_work_order_idx ON fieldops.expense_line (tenant_id, work_order_id) WHERE work_order_id IS NOT NULL;
CREATE INDEX expense_line_vehicle_claim_idx ON fieldops.expense_line (tenant_id, vehicle_claim_id) WHERE vehicle_claim_id IS NOT NULL;
COMMENT ON TABLE fieldops.expense_line IS
'The lines of an expense claim: type, tenant-local day, amount and currency, an optional receipt hash, claimed km (vehicle_mileage only) and exactly one business context (visit, task, trip, work order or vehicle claim). flags: the policy''s findings written at the last submission (NULL before), see fieldops.expense_line_flags().';
COMMENT ON COLUMN fieldops.expense_line.spent_on IS 'The tenant-local day the money was spent (the day the KPIs count it on).';
COMMENT ON COLUMN fieldops.expense_line.receipt_sha256 IS 'SHA-256 of the receipt image or e-invoice; the same hash on another line of the tenant that is not cancelled is flagged duplicate_receipt on both.';

CREATE TABLE fieldops.expense_claim_history (
    tenant_id               bigint NOT NULL,
    history_id              bigserial NOT NULL,
    claim_id                bigint NOT NULL,
    at                      timestamptz NOT NULL,
    from_state              text,
    to_state                text NOT NULL,
    actor_worker_id         bigint,
    actor_role              text NOT NULL CHECK (actor_role IN ('claimant', 'manager', 'finance', 'system')),
    on_behalf_of_worker_id  bigint,
    reason                  text,
    detail                  jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (tenant_id, history_id),
    FOREIGN KEY (tenant_id, claim_id) REFERENCES fieldops.expense_claim (tenant_id, claim_id),
    FOREIGN KEY (tenant_id, actor_worker_id) REFERENCES fieldops.worker (tenant_id, worker_id),
    FOREIGN KEY (tenant_id, on_behalf_of_worker_id) REFERENCES fieldops.worker (tenant_id, worker_id),
    CONSTRAINT expense_claim_history_actor CHECK ((actor_worker_id IS NULL) = (actor_role = 'system')),
    CONSTRAINT expense_claim_history_delegation CHECK (on_behalf_of_worker_id IS NULL
                                                       OR (actor_role IN ('manager', 'finance') AND on_behalf_of_worker_id <> actor_worker_id))
);
CREATE INDEX expense_claim_history_claim_idx ON fieldops.expense_claim_history (tenant_id, claim_id, history_id);
COMMENT ON TABLE fieldops.expense_claim_history IS
'Append-only: every change of an expense claim''s state (from_state NULL: its creation), who made it in which role and, for a delegate, on whose behalf, when, why (a rejection''s reason, an approver''s comment) and what was submitted (detail).';

CREATE TABLE fieldops.finance_approver (
    tenant_id  bigint NOT NULL REFERENCES fieldops.tenant (tenant_id),
    worker_id  bigint NOT NULL,
    added_at   timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, worker_id),
    FOREIGN KEY (tenant_id, worker_id) REFERENCES fieldops.worker (tenant_id, worker_id)
);
COMMENT ON TABLE fieldops.finance_approver IS
'The workers of the tenant who hold the finance role for expense claims (the final approval and marking paid); set with fieldops.set_finance_approver().';

CREATE TABLE fieldops.expense_delegation (
    tenant_id            bigint NOT NULL REFERENCES fieldops.tenant (tenant_id),
    delegation_id        bigserial NOT NULL,
    delegator_worker_id  bigint NOT NULL,
    delegate_worker_id   bigint NOT NULL,
    valid_from           date NOT NULL,
    valid_until          date NOT NULL,
    created_at           timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, delegation_id),
    UNIQUE (tenant_id, delegator_worker_id, delegate_worker_id),
    FOREIGN KEY (tenant_id, delegator_worker_id) REFERENCES fieldops.worker (tenant_id, worker_id),
    FOREIGN KEY (tenant_id, delegate_worker_id) REFERENCES fieldops.worker (tenant_id, worker_id),
    CONSTRAINT expense_delegation_other CHECK (delegate_worker_id <> delegator_worker_id),
    CONSTRAINT expense_delegation_range CHECK (valid_until >= valid_from)
);
CREATE INDEX expense_delegation_delegate_idx ON fieldops.expense_delegation (tenant_id, delegate_worker_id, valid_from);
COMMENT ON TABLE fieldops.expense_delegation IS
'Approval delegation: on the tenant-local days valid_from to valid_until (inclusive) the delegate acts on expense claims with the delegator''s manager and finance roles (one range per pair; set_expense_delegate() replaces it).';

CREATE TABLE fieldops.expense_policy (
    tenant_id       bigint NOT NULL REFERENCES fieldops.tenant (tenant_id),
    policy_id       bigserial NOT NULL,
    expense_type    text NOT NULL
                    CHECK (expense_type IN ('vehicle_mileage', 'fuel', 'toll', 'parking', 'travel', 'meal', 'lodging', 'other')),
    job_level       text,
    period          text NOT NULL CHECK (period IN ('day', 'trip', 'line')),
    cap             numeric(14, 2) NOT NULL CHECK (cap > 0),
    currency        text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    effective_from  date NOT NULL,
    created_at      timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, policy_id),
    UNIQUE NULLS NOT DISTINCT (tenant_id, expense_type, job_level, period, currency, effective_from)
);
COMMENT ON TABLE fieldops.expense_policy IS
'Spending caps per expense type, per day, per trip or per line, for one job level (NULL: any), in one currency, effective-dated. For a line the rule in effect is the one for the worker''s job level if there is one, else the one for any level; of those the latest effective_from on or before the day (fieldops.expense_policy_for()).';

-- What the KPIs count: lines of claims a manager approved, until they are
-- rejected or withdrawn
CREATE VIEW fieldops.expense_counted WITH (security_invoker = true) AS
SELECT l.tenant_id, l.line_id, l.claim_id, c.worker_id, l.spent_on, l.expense_type, l.amount, l.currency,
       l.visit_id, l.task_id, l.trip_id, l.work_order_id, l.vehicle_claim_id
  FROM fieldops.expense_line l
  JOIN fieldops.expense_claim c ON c.tenant_id OPERATOR(pg_catalog.=) l.tenant_id AND c.claim_id OPERATOR(pg_catalog.=) l.claim_id
 WHERE c.state IN ('manager_approved', 'finance_approved', 'paid');
COMMENT ON VIEW fieldops.expense_counted IS
'The expense lines the KPIs count: those of claims in manager_approved, finance_approved or paid, with the claimant (worker_id), the tenant-local day, type, amount, currency and business context. Every change of this set touches fieldops.kpi_dirty for the lines'' days.';

--
-- Argument checks
--
CREATE FUNCTION fieldops.check_expense_type(p_value text, p_arg text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
BEGIN
    IF p_value IS NULL THEN
        RAISE EXCEPTION '% must not be null', p_arg USING ERRCODE = '22004';
    END IF;
    IF p_value NOT IN ('vehicle_mileage', 'fuel', 'toll', 'parking', 'travel', 'meal', 'lodging', 'other') THEN
        RAISE EXCEPTION '% must be vehicle_mileage, fuel, toll, parking, travel, meal, lodging or other, got %', p_arg,
            pg_catalog.quote_literal(pg_catalog.left(p_value, 40)) USING ERRCODE = '22023';
    END IF;
    RETURN p_value;
END
$$;
COMMENT ON FUNCTION fieldops.check_expense_type(text, text) IS
'Internal: an expense type argument: vehicle_mileage, fuel, toll, parking, travel, meal, lodging or other (22004 for NULL, 22023).';

CREATE FUNCTION fieldops.check_money(p_value numeric, p_arg text)
RETURNS numeric
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
BEGIN
    IF p_value IS NULL THEN
        RAISE EXCEPTION '% must not be null', p_arg USING ERRCODE = '22004';
    END IF;
    IF p_value OPERATOR(pg_catalog.<) 0.01 OR p_value OPERATOR(pg_catalog.>) 999999999999.99
       OR p_value OPERATOR(pg_catalog.<>) pg_catalog.round(p_value, 2) THEN
        RAISE EXCEPTION '% must be a positive amount with at most 2 decimals (0.01 to 999999999999.99), got %', p_arg, p_value
            USING ERRCODE = '22023';
    END IF;
    RETURN p_value;
END
$$;
COMMENT ON FUNCTION fieldops.check_money(numeric, text) IS
'Internal: an amount argument: 0.01 to 999999999999.99 with at most 2 decimals (22004 for NULL, 22023).';

CREATE FUNCTION fieldops.check_currency_arg(p_tenant_id bigint, p_currency text, p_arg text)
RETURNS text
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    IF p_currency IS NULL THEN
        RETURN fieldops.tenant_setting(p_tenant_id, 'currency') #>> '{}';
    END IF;
    IF p_currency !~ '^[A-Z]{3}$' THEN
        RAISE EXCEPTION '% must be a three-letter ISO 4217 code such as CNY (NULL: the tenant''s currency setting), got %', p_arg,
            pg_catalog.quote_literal(pg_catalog.left(p_currency, 20)) USING ERRCODE = '22023';
    END IF;
    RETURN p_currency;
END
$$;
COMMENT ON FUNCTION fieldops.check_currency_arg(bigint, text, text) IS
'Internal: a currency argument, ISO 4217 upper case (22023); NULL gives the tenant''s currency setting.';

CREATE FUNCTION fieldops.check_expense_state(p_state text)
RETURNS text
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    IF p_state IS NULL THEN
        RAISE EXCEPTION 'p_state must not be null' USING ERRCODE = '22004';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM fieldops.state_transition t
                    WHERE t.machine OPERATOR(pg_catalog.=) 'expense_claim'
                      AND (t.to_state OPERATOR(pg_catalog.=) p_state OR t.from_state OPERATOR(pg_catalog.=) p_state)) THEN
        RAISE EXCEPTION 'p_state must be an expense claim state (draft, submitted, manager_approved, finance_approved, paid, rejected, cancelled), got %',
            pg_catalog.quote_literal(pg_catalog.left(p_state, 40)) USING ERRCODE = '22023';
    END IF;
    RETURN p_state;
END
$$;
COMMENT ON FUNCTION fieldops.check_expense_state(text) IS 'Internal: an expense claim state argument (22004, 22023).';

-- the validated fields of a line, for add and update: every context must be
-- one of the tenant's, exactly one given
CREATE FUNCTION fieldops.check_expense_line(p_tenant_id bigint, p_expense_type text, p_spent_on date, p_amount numeric,
                                            p_currency text, p_description text, p_receipt_sha256 bytea, p_claimed_km numeric,
                                            p_visit_id bigint, p_task_id bigint, p_trip_id bigint, p_work_order_id bigint,
                                            p_vehicle_claim_id bigint, OUT currency text, OUT description text)
RETURNS record
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    v_today date;
    v_given text[];
    v_found boolean;
    v_arg text;
    v_id bigint;
    v_tbl text;
    v_col text;
    v_noun text;
BEGIN
    PERFORM fieldops.check_expense_type(p_expense_type, 'p_expense_type');
    IF p_spent_on IS NULL THEN
        RAISE EXCEPTION 'p_spent_on must not be null' USING ERRCODE = '22004';
    END IF;
    v_today := fieldops.tenant_local_date(p_tenant_id);
    IF NOT pg_catalog.isfinite(p_spent_on) OR p_spent_on OPERATOR(pg_catalog.>) v_today THEN
        RAISE EXCEPTION 'p_spent_on must be a day up to today (% in the tenant''s time zone), got %', v_today, p_spent_on
            USING ERRCODE = '22023';
    END IF;
    PERFORM fieldops.check_money(p_amount, 'p_amount');
    currency := fieldops.check_currency_arg(p_tenant_id, p_currency, 'p_currency');
    description := fieldops.check_text(p_description, 'p_description', 1000, false);
    IF p_receipt_sha256 IS NOT NULL AND pg_catalog.length(p_receipt_sha256) OPERATOR(pg_catalog.<>) 32 THEN
        RAISE EXCEPTION 'p_receipt_sha256 must be the 32 bytes of a SHA-256, got % bytes', pg_catalog.length(p_receipt_sha256)
            USING ERRCODE = '22023';
    END IF;
    IF p_expense_type OPERATOR(pg_catalog.=) 'vehicle_mileage' THEN
        IF p_claimed_km IS NULL THEN
            RAISE EXCEPTION 'p_claimed_km is required for a vehicle_mileage line' USING ERRCODE = '22023';
        END IF;
        IF p_claimed_km OPERATOR(pg_catalog.<=) 0 OR p_claimed_km OPERATOR(pg_catalog.>) 5000
           OR p_claimed_km OPERATOR(pg_catalog.<>) pg_catalog.round(p_claimed_km, 3) THEN
            RAISE EXCEPTION 'p_claimed_km must be more than 0 and at most 5000 with at most 3 decimals, got %', p_claimed_km
                USING ERRCODE = '22023';
        END IF;
    ELSIF p_claimed_km IS NOT NULL THEN
        RAISE EXCEPTION 'p_claimed_km is for vehicle_mileage lines only, not %', p_expense_type USING ERRCODE = '22023';
    END IF;
    -- exactly one business context, and it is the tenant's
    SELECT pg_catalog.array_agg(x.arg ORDER BY x.n) FILTER (WHERE x.id IS NOT NULL),
           pg_catalog.min(x.arg) FILTER (WHERE x.id IS NOT NULL), pg_catalog.min(x.id), pg_catalog.min(x.tbl) FILTER (WHERE x.id IS NOT NULL),
           pg_catalog.min(x.col) FILTER (WHERE x.id IS NOT NULL), pg_catalog.min(x.noun) FILTER (WHERE x.id IS NOT NULL)
      INTO v_given, v_arg, v_id, v_tbl, v_col, v_noun
      FROM (VALUES (1, 'p_visit_id', p_visit_id, 'visit', 'visit_id', 'visit'),
                   (2, 'p_task_id', p_task_id, 'task', 'task_id', 'task'),
                   (3, 'p_trip_id', p_trip_id, 'trip', 'trip_id', 'trip'),
                   (4, 'p_work_order_id', p_work_order_id, 'work_order', 'work_order_id', 'work order'),
                   (5, 'p_vehicle_claim_id', p_vehicle_claim_id, 'vehicle_claim', 'claim_id', 'vehicle claim')) AS x(n, arg, id, tbl, col, noun);
    IF pg_catalog.cardinality(COALESCE(v_given, '{}')) OPERATOR(pg_catalog.<>) 1 THEN
        RAISE EXCEPTION 'an expense line needs exactly one business context: p_visit_id, p_task_id, p_trip_id, p_work_order_id or p_vehicle_claim_id, got %',
            CASE WHEN v_given IS NULL THEN 'none' ELSE pg_catalog.array_to_string(v_given, ' and ') END
            USING ERRCODE = '22023', HINT = 'Name the visit, task, trip, work order or vehicle claim the money was spent for.';
    END IF;
    PERFORM fieldops.check_id_arg(v_id, v_arg);
    EXECUTE pg_catalog.format('SELECT EXISTS (SELECT 1 FROM fieldops.%I x WHERE x.tenant_id OPERATOR(pg_catalog.=) $1 AND x.%I OPERATOR(pg_catalog.=) $2)',
                              v_tbl, v_col)
       INTO v_found USING p_tenant_id, v_id;
    IF NOT v_found THEN
        RAISE EXCEPTION '% % is not a % of tenant %', v_arg, v_id, v_noun, p_tenant_id USING ERRCODE = '23503';
    END IF;
END
$$;
COMMENT ON FUNCTION fieldops.check_expense_line(bigint, text, date, numeric, text, text, bytea, numeric, bigint, bigint, bigint, bigint, bigint) IS
'Internal: check the fields of an expense line (22004, 22023 naming the argument; 23503 for a context that is not the tenant''s; exactly one context) and return its currency (the tenant''s currency setting when NULL) and trimmed description.';

--
-- Roles, policy, flags
--
CREATE FUNCTION fieldops.expense_claim_roles(p_tenant_id bigint, p_claim fieldops.expense_claim, p_actor bigint)
RETURNS TABLE (actor_role text, on_behalf_of_worker_id bigint)
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    v_manager bigint;
    v_today date;
    d record;
BEGIN
    IF p_actor IS NULL THEN
        actor_role := 'system';
        RETURN NEXT;
        RETURN;
    END IF;
    IF p_actor OPERATOR(pg_catalog.=) p_claim.worker_id THEN
        -- the claimant is only the claimant: never a manager, a finance
        -- approver or anyone's delegate for his own claim
        actor_role := 'claimant';
        RETURN NEXT;
        RETURN;
    END IF;
    SELECT w.manager_id INTO v_manager FROM fieldops.worker w
     WHERE w.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND w.worker_id OPERATOR(pg_catalog.=) p_claim.worker_id;
    IF v_manager IS NOT NULL AND fieldops.hierarchy_reaches(p_tenant_id, 'worker', v_manager, p_actor) THEN
        actor_role := 'manager';
        RETURN NEXT;
    END IF;
    IF EXISTS (SELECT 1 FROM fieldops.finance_approver f
                WHERE f.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND f.worker_id OPERATOR(pg_catalog.=) p_actor) THEN
        actor_role := 'finance';
        RETURN NEXT;
    END IF;
    -- the roles of active delegators who named this worker for today
    v_today := fieldops.tenant_local_date(p_tenant_id);
    FOR d IN
        SELECT x.delegator_worker_id AS id
          FROM fieldops.expense_delegation x
          JOIN fieldops.worker w ON w.tenant_id OPERATOR(pg_catalog.=) x.tenant_id AND w.worker_id OPERATOR(pg_catalog.=) x.delegator_worker_id
         WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.delegate_worker_id OPERATOR(pg_catalog.=) p_actor
           AND x.valid_from OPERATOR(pg_catalog.<=) v_today AND x.valid_until OPERATOR(pg_catalog.>=) v_today
           AND x.delegator_worker_id OPERATOR(pg_catalog.<>) p_claim.worker_id AND w.status OPERATOR(pg_catalog.=) 'active'
         ORDER BY x.delegator_worker_id
    LOOP
        on_behalf_of_worker_id := d.id;
        IF v_manager IS NOT NULL AND fieldops.hierarchy_reaches(p_tenant_id, 'worker', v_manager, d.id) THEN
            actor_role := 'manager';
            RETURN NEXT;
        END IF;
        IF EXISTS (SELECT 1 FROM fieldops.finance_approver f
                    WHERE f.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND f.worker_id OPERATOR(pg_catalog.=) d.id) THEN
            actor_role := 'finance';
            RETURN NEXT;
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION fieldops.expense_claim_roles(bigint, fieldops.expense_claim, bigint) IS
'Internal: the roles worker p_actor holds for an expense claim, each with the delegator it holds it for (NULL: its own): claimant (the claimant, and then nothing else), manager (above the claimant in the reporting hierarchy), finance (fieldops.finance_approver), the manager and finance roles of active delegators whose delegation covers today, and system for NULL.';

CREATE FUNCTION fieldops.expense_policy_for(p_tenant_id bigint, p_expense_type text, p_period text, p_currency text,
                                            p_day date, p_job_level text)
RETURNS fieldops.expense_policy
LANGUAGE sql STABLE
AS $$
    SELECT p.* FROM fieldops.expense_policy p
     WHERE p.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND p.expense_type OPERATOR(pg_catalog.=) p_expense_type
       AND p.period OPERATOR(pg_catalog.=) p_period AND p.currency OPERATOR(pg_catalog.=) p_currency
       AND p.effective_from OPERATOR(pg_catalog.<=) p_day
       AND (p.job_level IS NULL OR p.job_level OPERATOR(pg_catalog.=) p_job_level)
     ORDER BY p.job_level IS NULL, p.effective_from DESC
     LIMIT 1
$$;
COMMENT ON FUNCTION fieldops.expense_policy_for(bigint, text, text, text, date, text) IS
'Internal: the cap in effect for an expense type, period (day, trip, line) and currency on a day for a job level: the rule of that level if there is one, else the rule for any level; of those the latest effective_from on or before the day. NULL: no cap.';

-- The flags of every line of a claim that is being submitted.  Totals over
-- several lines (a day's, a trip's, the km claimed on one vehicle claim)
-- take this claim's lines and those of the tenant's other claims that are
-- submitted or further (not drafts, rejected or cancelled ones).
CREATE FUNCTION fieldops.expense_line_flags(p_tenant_id bigint, p_claim_id bigint)
RETURNS TABLE (line_id bigint, flags jsonb)
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    c fieldops.expense_claim;
    w fieldops.worker;
    l fieldops.expense_line;
    p fieldops.expense_policy;
    v jsonb;
    v_tol numeric := (fieldops.tenant_setting(p_tenant_id, 'expense_km_tolerance_pct') #>> '{}')::numeric;
    v_flag_days boolean := (fieldops.tenant_setting(p_tenant_id, 'expense_flag_non_working_days') #>> '{}')::boolean;
    v_total numeric;
    v_ids jsonb;
    v_measured numeric;
    v_source text;
    v_allowed numeric;
    v_owner bigint;
    v_context text;
    v_context_id bigint;
    v_ever boolean;
    vv record;
BEGIN
    SELECT * INTO c FROM fieldops.expense_claim x
     WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.claim_id OPERATOR(pg_catalog.=) p_claim_id;
    SELECT * INTO w FROM fieldops.worker x
     WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.worker_id OPERATOR(pg_catalog.=) c.worker_id;
    FOR l IN SELECT * FROM fieldops.expense_line x
              WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.claim_id OPERATOR(pg_catalog.=) p_claim_id
              ORDER BY x.line_id
    LOOP
        v := '[]';
        -- caps: per line, per day of the worker, per trip
        p := fieldops.expense_policy_for(p_tenant_id, l.expense_type, 'line', l.currency, l.spent_on, w.job_level);
        IF p.policy_id IS NOT NULL AND l.amount OPERATOR(pg_catalog.>) p.cap THEN
            v := v OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
                'code', 'over_cap', 'period', 'line', 'cap', p.cap, 'amount', l.amount, 'currency', l.currency,
                'policy_id', p.policy_id, 'job_level', p.job_level,
                'text', pg_catalog.format('%s %s is over the %s cap of %s %s per line', l.amount, l.currency, l.expense_type, p.cap, p.currency)));
        END IF;
        p := fieldops.expense_policy_for(p_tenant_id, l.expense_type, 'day', l.currency, l.spent_on, w.job_level);
        IF p.policy_id IS NOT NULL THEN
            SELECT pg_catalog.sum(x.amount), pg_catalog.jsonb_agg(x.line_id ORDER BY x.line_id) INTO v_total, v_ids
              FROM fieldops.expense_line x
              JOIN fieldops.expense_claim k ON k.tenant_id OPERATOR(pg_catalog.=) x.tenant_id AND k.claim_id OPERATOR(pg_catalog.=) x.claim_id
             WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id
               AND (x.claim_id OPERATOR(pg_catalog.=) p_claim_id OR k.state IN ('submitted', 'manager_approved', 'finance_approved', 'paid'))
               AND k.worker_id OPERATOR(pg_catalog.=) c.worker_id AND x.expense_type OPERATOR(pg_catalog.=) l.expense_type
               AND x.currency OPERATOR(pg_catalog.=) l.currency AND x.spent_on OPERATOR(pg_catalog.=) l.spent_on;
            IF v_total OPERATOR(pg_catalog.>) p.cap THEN
                v := v OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
                    'code', 'over_cap', 'period', 'day', 'cap', p.cap, 'total', v_total, 'currency', l.currency, 'day', l.spent_on,
                    'line_ids', v_ids, 'policy_id', p.policy_id, 'job_level', p.job_level,
                    'text', pg_catalog.format('%s %s of %s on %s is over the cap of %s %s per day', v_total, l.currency, l.expense_type,
                                              l.spent_on, p.cap, p.currency)));
            END IF;
        END IF;
        IF l.trip_id IS NOT NULL THEN
            p := fieldops.expense_policy_for(p_tenant_id, l.expense_type, 'trip', l.currency, l.spent_on, w.job_level);
            IF p.policy_id IS NOT NULL THEN
                SELECT pg_catalog.sum(x.amount), pg_catalog.jsonb_agg(x.line_id ORDER BY x.line_id) INTO v_total, v_ids
                  FROM fieldops.expense_line x
                  JOIN fieldops.expense_claim k ON k.tenant_id OPERATOR(pg_catalog.=) x.tenant_id AND k.claim_id OPERATOR(pg_catalog.=) x.claim_id
                 WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id
                   AND (x.claim_id OPERATOR(pg_catalog.=) p_claim_id OR k.state IN ('submitted', 'manager_approved', 'finance_approved', 'paid'))
                   AND x.trip_id OPERATOR(pg_catalog.=) l.trip_id AND x.expense_type OPERATOR(pg_catalog.=) l.expense_type
                   AND x.currency OPERATOR(pg_catalog.=) l.currency;
                IF v_total OPERATOR(pg_catalog.>) p.cap THEN
                    v := v OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
                        'code', 'over_cap', 'period', 'trip', 'cap', p.cap, 'total', v_total, 'currency', l.currency, 'trip_id', l.trip_id,
                        'line_ids', v_ids, 'policy_id', p.policy_id, 'job_level', p.job_level,
                        'text', pg_catalog.format('%s %s of %s on trip %s is over the cap of %s %s per trip', v_total, l.currency,
                                                  l.expense_type, l.trip_id, p.cap, p.currency)));
                END IF;
            END IF;
        END IF;

        -- kilometres: what the lines claim on one vehicle claim or trip
        -- against what it measured
        IF l.claimed_km IS NOT NULL THEN
            v_measured := NULL;
            IF l.vehicle_claim_id IS NOT NULL THEN
                v_source := 'vehicle_claim';
                SELECT vc.measured_km INTO v_measured FROM fieldops.vehicle_claim vc
                 WHERE vc.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND vc.claim_id OPERATOR(pg_catalog.=) l.vehicle_claim_id;
                SELECT pg_catalog.sum(x.claimed_km), pg_catalog.jsonb_agg(x.line_id ORDER BY x.line_id) INTO v_total, v_ids
                  FROM fieldops.expense_line x
                  JOIN fieldops.expense_claim k ON k.tenant_id OPERATOR(pg_catalog.=) x.tenant_id AND k.claim_id OPERATOR(pg_catalog.=) x.claim_id
                 WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id
                   AND (x.claim_id OPERATOR(pg_catalog.=) p_claim_id OR k.state IN ('submitted', 'manager_approved', 'finance_approved', 'paid'))
                   AND x.vehicle_claim_id OPERATOR(pg_catalog.=) l.vehicle_claim_id AND x.claimed_km IS NOT NULL;
            ELSIF l.trip_id IS NOT NULL THEN
                v_source := 'trip';
                SELECT pg_catalog.round(t.distance_m::numeric OPERATOR(pg_catalog./) 1000, 3) INTO v_measured FROM fieldops.trip t
                 WHERE t.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND t.trip_id OPERATOR(pg_catalog.=) l.trip_id;
                SELECT pg_catalog.sum(x.claimed_km), pg_catalog.jsonb_agg(x.line_id ORDER BY x.line_id) INTO v_total, v_ids
                  FROM fieldops.expense_line x
                  JOIN fieldops.expense_claim k ON k.tenant_id OPERATOR(pg_catalog.=) x.tenant_id AND k.claim_id OPERATOR(pg_catalog.=) x.claim_id
                 WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id
                   AND (x.claim_id OPERATOR(pg_catalog.=) p_claim_id OR k.state IN ('submitted', 'manager_approved', 'finance_approved', 'paid'))
                   AND x.trip_id OPERATOR(pg_catalog.=) l.trip_id AND x.claimed_km IS NOT NULL;
            END IF;
            IF v_measured IS NULL THEN
                v := v OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
                    'code', 'km_not_measured', 'claimed_km', l.claimed_km,
                    'text', pg_catalog.format('%s km claimed for a %s: nothing measured them (give a trip or a vehicle claim)', l.claimed_km,
                                              CASE WHEN l.visit_id IS NOT NULL THEN 'visit' WHEN l.task_id IS NOT NULL THEN 'task'
                                                   ELSE 'work order' END)));
            ELSE
                v_allowed := pg_catalog.round(v_measured OPERATOR(pg_catalog.*) (100 OPERATOR(pg_catalog.+) v_tol) OPERATOR(pg_catalog./) 100, 3);
                IF v_total OPERATOR(pg_catalog.>) v_allowed THEN
                    v := v OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
                        'code', 'km_over_measured', 'source', v_source, 'claimed_km', l.claimed_km, 'claimed_total_km', v_total,
                        'measured_km', v_measured, 'tolerance_pct', v_tol, 'allowed_km', v_allowed, 'line_ids', v_ids,
                        'text', pg_catalog.format('%s km claimed on this %s, which measured %s km (%s km with the %s %% tolerance)',
                                                  v_total, pg_catalog.replace(v_source, '_', ' '), v_measured, v_allowed, v_tol)));
                END IF;
            END IF;
        END IF;

        -- a day without working hours for the worker (schedule, dated
        -- exceptions, hire and leave dates: the windows of vehicle claims)
        IF v_flag_days AND NOT EXISTS (SELECT 1 FROM fieldops.claim_windows(p_tenant_id, w, l.spent_on)) THEN
            v := v OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
                'code', 'non_working_day', 'day', l.spent_on, 'isodow', EXTRACT(isodow FROM l.spent_on)::integer,
                'text', pg_catalog.format('%s is not a working day of worker %s', l.spent_on, c.worker_id)));
        END IF;

        -- the same receipt on another line that is not cancelled
        IF l.receipt_sha256 IS NOT NULL THEN
            SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('line_id', x.line_id, 'claim_id', x.claim_id, 'worker_id', k.worker_id,
                                                                      'state', CASE WHEN x.claim_id OPERATOR(pg_catalog.=) p_claim_id
                                                                                    THEN 'submitted' ELSE k.state END) ORDER BY x.line_id)
              INTO v_ids
              FROM fieldops.expense_line x
              JOIN fieldops.expense_claim k ON k.tenant_id OPERATOR(pg_catalog.=) x.tenant_id AND k.claim_id OPERATOR(pg_catalog.=) x.claim_id
             WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.receipt_sha256 OPERATOR(pg_catalog.=) l.receipt_sha256
               AND x.line_id OPERATOR(pg_catalog.<>) l.line_id AND k.state OPERATOR(pg_catalog.<>) 'cancelled';
            IF v_ids IS NOT NULL THEN
                v := v OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
                    'code', 'duplicate_receipt', 'others', v_ids,
                    'text', pg_catalog.format('the same receipt is on %s other line(s): %s', pg_catalog.jsonb_array_length(v_ids),
                        (SELECT pg_catalog.string_agg(pg_catalog.format('line %s of claim %s', e ->> 'line_id', e ->> 'claim_id'), ', ')
                           FROM pg_catalog.jsonb_array_elements(v_ids) e))));
            END IF;
        END IF;

        -- the business context: verified (visits), and the claimant's
        v_owner := NULL;
        v_ever := false;
        IF l.visit_id IS NOT NULL THEN
            v_context := 'visit';
            v_context_id := l.visit_id;
            SELECT x.worker_id, x.verified, x.reasons INTO vv FROM fieldops.visit_verified x
             WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.visit_id OPERATOR(pg_catalog.=) l.visit_id;
            v_owner := vv.worker_id;
            IF NOT vv.verified THEN
                v := v OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
                    'code', 'context_not_verified', 'visit_id', l.visit_id, 'reasons', vv.reasons,
                    'text', pg_catalog.format('visit %s is not verified: %s', l.visit_id,
                        (SELECT pg_catalog.string_agg(e ->> 'code', ', ') FROM pg_catalog.jsonb_array_elements(vv.reasons) e))));
            END IF;
        ELSIF l.task_id IS NOT NULL THEN
            -- the task's assignee now, or at any time of its history
            v_context := 'task';
            v_context_id := l.task_id;
            SELECT t.assignee_worker_id INTO v_owner FROM fieldops.task t
             WHERE t.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND t.task_id OPERATOR(pg_catalog.=) l.task_id;
            v_ever := EXISTS (SELECT 1 FROM fieldops.task_history h
                               WHERE h.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND h.task_id OPERATOR(pg_catalog.=) l.task_id
                                 AND h.assignee_worker_id OPERATOR(pg_catalog.=) c.worker_id);
        ELSIF l.work_order_id IS NOT NULL THEN
            v_context := 'work_order';
            v_context_id := l.work_order_id;
            SELECT o.engineer_worker_id INTO v_owner FROM fieldops.work_order o
             WHERE o.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND o.work_order_id OPERATOR(pg_catalog.=) l.work_order_id;
            v_ever := EXISTS (SELECT 1 FROM fieldops.work_order_history h
                               WHERE h.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND h.work_order_id OPERATOR(pg_catalog.=) l.work_order_id
                                 AND h.engineer_worker_id OPERATOR(pg_catalog.=) c.worker_id);
        ELSIF l.trip_id IS NOT NULL THEN
            v_context := 'trip';
            v_context_id := l.trip_id;
            SELECT t.worker_id INTO v_owner FROM fieldops.trip t
             WHERE t.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND t.trip_id OPERATOR(pg_catalog.=) l.trip_id;
        ELSE
            v_context := 'vehicle_claim';
            v_context_id := l.vehicle_claim_id;
            SELECT vc.worker_id INTO v_owner FROM fieldops.vehicle_claim vc
             WHERE vc.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND vc.claim_id OPERATOR(pg_catalog.=) l.vehicle_claim_id;
        END IF;
        IF v_owner IS DISTINCT FROM c.worker_id AND NOT v_ever THEN
            v := v OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
                'code', 'context_worker_mismatch', 'context', v_context, 'context_id', v_context_id, 'context_worker_id', v_owner,
                'text', pg_catalog.format('%s %s is %s, not the claimant''s (worker %s)', pg_catalog.replace(v_context, '_', ' '), v_context_id,
                                          CASE WHEN v_owner IS NULL THEN 'nobody''s' ELSE pg_catalog.format('worker %s''s', v_owner) END,
                                          c.worker_id)));
        END IF;

        line_id := l.line_id;
        flags := v;
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION fieldops.expense_line_flags(bigint, bigint) IS
'Internal: the flags of every line of an expense claim as they are when it is submitted, each {"code", "text", and the numbers behind it}: over_cap (period line: the amount; day: the worker''s total of the type and currency that day; trip: the total on the trip; over the cap of fieldops.expense_policy_for()), km_over_measured (the km claimed on one vehicle claim or trip above measured x (1 + expense_km_tolerance_pct / 100)), km_not_measured (km claimed for a visit, task or work order), non_working_day (no working range that day: schedule, dated exceptions, hire and leave; setting expense_flag_non_working_days), duplicate_receipt (the same receipt_sha256 on other lines that are not cancelled, named), context_not_verified (a visit that fieldops.visit_verified says is not, with its reasons), context_worker_mismatch (a visit, trip or vehicle claim of another worker; a task or work order never assigned to the claimant). Totals take this claim''s lines and the submitted or later claims'' lines.';

-- a duplicate_receipt flag of another line, extended by the lines p_others
CREATE FUNCTION fieldops.expense_add_duplicate(p_flags jsonb, p_others jsonb)
RETURNS jsonb
LANGUAGE sql IMMUTABLE
AS $$
    WITH f AS (SELECT COALESCE(p_flags, '[]') AS flags),
    old AS (SELECT e, o FROM f, pg_catalog.jsonb_array_elements(f.flags) WITH ORDINALITY AS x(e, o)),
    dup AS (SELECT (SELECT pg_catalog.jsonb_agg(u.e ORDER BY (u.e ->> 'line_id')::bigint)
                      FROM (SELECT DISTINCT ON (y.e ->> 'line_id') y.e
                              FROM pg_catalog.jsonb_array_elements(COALESCE((SELECT old.e -> 'others' FROM old
                                                                              WHERE old.e ->> 'code' OPERATOR(pg_catalog.=) 'duplicate_receipt'), '[]')
                                                                   OPERATOR(pg_catalog.||) p_others) AS y(e)
                             ORDER BY y.e ->> 'line_id') u) AS others)
    SELECT COALESCE((SELECT pg_catalog.jsonb_agg(old.e ORDER BY old.o) FROM old
                      WHERE old.e ->> 'code' OPERATOR(pg_catalog.<>) 'duplicate_receipt'), '[]')
           OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
               'code', 'duplicate_receipt', 'others', dup.others,
               'text', pg_catalog.format('the same receipt is on %s other line(s): %s', pg_catalog.jsonb_array_length(dup.others),
                   (SELECT pg_catalog.string_agg(pg_catalog.format('line %s of claim %s', e ->> 'line_id', e ->> 'claim_id'), ', ')
                      FROM pg_catalog.jsonb_array_elements(dup.others) e))))
      FROM dup
$$;
COMMENT ON FUNCTION fieldops.expense_add_duplicate(jsonb, jsonb) IS
'Internal: a line''s flags with its duplicate_receipt flag extended by the lines in p_others ([{"line_id", "claim_id", "worker_id", "state"}], once each), or added.';

-- Write the flags of a claim being submitted (its row locked by the
-- caller), and add it to the duplicate_receipt flags of the submitted
-- claims' lines that share a receipt (theirs are frozen until they come
-- back to the claimant; drafts and rejected claims are flagged again when
-- they are submitted).  Lines are locked in line_id order.
CREATE FUNCTION fieldops.expense_flag_claim(p_tenant_id bigint, p_claim_id bigint, p_at timestamptz)
RETURNS integer
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    v_others bigint[];
    v_flagged integer;
    r record;
BEGIN
    SELECT pg_catalog.array_agg(DISTINCT x.line_id) INTO v_others
      FROM fieldops.expense_line own
      JOIN fieldops.expense_line x ON x.tenant_id OPERATOR(pg_catalog.=) own.tenant_id
                                  AND x.receipt_sha256 OPERATOR(pg_catalog.=) own.receipt_sha256
                                  AND x.claim_id OPERATOR(pg_catalog.<>) own.claim_id
      JOIN fieldops.expense_claim k ON k.tenant_id OPERATOR(pg_catalog.=) x.tenant_id AND k.claim_id OPERATOR(pg_catalog.=) x.claim_id
     WHERE own.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND own.claim_id OPERATOR(pg_catalog.=) p_claim_id
       AND own.receipt_sha256 IS NOT NULL
       AND k.state IN ('submitted', 'manager_approved', 'finance_approved', 'paid');
    PERFORM 1 FROM fieldops.expense_line x
      WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id
        AND (x.claim_id OPERATOR(pg_catalog.=) p_claim_id OR x.line_id OPERATOR(pg_catalog.=) ANY (COALESCE(v_others, '{}')))
      ORDER BY x.line_id
        FOR NO KEY UPDATE;

    UPDATE fieldops.expense_line x
       SET flags = f.flags, flagged_at = p_at
      FROM fieldops.expense_line_flags(p_tenant_id, p_claim_id) f
     WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.line_id OPERATOR(pg_catalog.=) f.line_id;
    FOR r IN
        SELECT x.line_id,
               pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('line_id', own.line_id, 'claim_id', own.claim_id,
                                                                  'worker_id', k.worker_id, 'state', 'submitted') ORDER BY own.line_id) AS mine
          FROM fieldops.expense_line x
          JOIN fieldops.expense_line own ON own.tenant_id OPERATOR(pg_catalog.=) x.tenant_id
                                        AND own.receipt_sha256 OPERATOR(pg_catalog.=) x.receipt_sha256
                                        AND own.claim_id OPERATOR(pg_catalog.=) p_claim_id
          JOIN fieldops.expense_claim k ON k.tenant_id OPERATOR(pg_catalog.=) own.tenant_id AND k.claim_id OPERATOR(pg_catalog.=) own.claim_id
         WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.line_id OPERATOR(pg_catalog.=) ANY (COALESCE(v_others, '{}'))
         GROUP BY x.line_id ORDER BY x.line_id
    LOOP
        UPDATE fieldops.expense_line x
           SET flags = fieldops.expense_add_duplicate(x.flags, r.mine)
         WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.line_id OPERATOR(pg_catalog.=) r.line_id;
    END LOOP;
    SELECT pg_catalog.count(*) INTO v_flagged FROM fieldops.expense_line x
     WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.claim_id OPERATOR(pg_catalog.=) p_claim_id
       AND pg_catalog.jsonb_array_length(x.flags) OPERATOR(pg_catalog.>) 0;
    RETURN v_flagged;
END
$$;
COMMENT ON FUNCTION fieldops.expense_flag_claim(bigint, bigint, timestamptz) IS
'Internal: write the flags of every line of a claim being submitted (fieldops.expense_line_flags()) and extend the duplicate_receipt flag of the submitted (or later) claims'' lines that share a receipt with it; lines locked in line_id order. Returns how many of the claim''s lines are flagged.';

CREATE FUNCTION fieldops.expense_claim_totals(p_tenant_id bigint, p_claim_id bigint)
RETURNS jsonb
LANGUAGE sql STABLE
AS $$
    SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('currency', t.currency, 'amount', t.amount, 'lines', t.n)
                                         ORDER BY t.currency), '[]')
      FROM (SELECT l.currency, pg_catalog.sum(l.amount) AS amount, pg_catalog.count(*) AS n
              FROM fieldops.expense_line l
             WHERE l.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND l.claim_id OPERATOR(pg_catalog.=) p_claim_id
             GROUP BY l.currency) t
$$;
COMMENT ON FUNCTION fieldops.expense_claim_totals(bigint, bigint) IS
'Internal: an expense claim''s totals per currency: [{"currency", "amount", "lines"}].';

CREATE FUNCTION fieldops.expense_kpi_touch(p_tenant_id bigint, p_claim_id bigint)
RETURNS integer
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    v_days integer := 0;
    d date;
BEGIN
    FOR d IN SELECT DISTINCT l.spent_on FROM fieldops.expense_line l
              WHERE l.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND l.claim_id OPERATOR(pg_catalog.=) p_claim_id
              ORDER BY l.spent_on
    LOOP
        PERFORM fieldops.kpi_touch(p_tenant_id, d, 'expense');
        v_days := v_days OPERATOR(pg_catalog.+) 1;
    END LOOP;
    RETURN v_days;
END
$$;
COMMENT ON FUNCTION fieldops.expense_kpi_touch(bigint, bigint) IS
'Internal: fieldops.kpi_touch(tenant, day, ''expense'') for every day a claim''s lines were spent on (its lines enter or leave fieldops.expense_counted). Returns the number of days.';

CREATE FUNCTION fieldops.lock_expense_claim(p_tenant_id bigint, p_claim_id bigint)
RETURNS fieldops.expense_claim
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    c fieldops.expense_claim;
BEGIN
    SELECT * INTO c FROM fieldops.expense_claim x
     WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.claim_id OPERATOR(pg_catalog.=) p_claim_id
       FOR NO KEY UPDATE;
    RETURN c;
END
$$;
COMMENT ON FUNCTION fieldops.lock_expense_claim(bigint, bigint) IS 'Internal: lock an expense claim row (all NULL when the tenant has no such claim).';

-- One change of state of a claim whose row the caller has locked: the
-- transition table decides; then the flags (to submitted), the row, the
-- history, the KPI days and the event.
CREATE FUNCTION fieldops.expense_claim_transition(p_tenant_id bigint, p_claim fieldops.expense_claim, p_to text, p_actor bigint,
                                                  p_reason text, p_payment_ref text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    v_roles text[];
    v_check record;
    v_behalf bigint;
    v_at timestamptz;
    v_flagged integer;
    v_detail jsonb := '{}';
    v_totals jsonb;
    v_history bigint;
    v_days integer := 0;
    c fieldops.expense_claim;
BEGIN
    SELECT pg_catalog.array_agg(DISTINCT r.actor_role) INTO v_roles
      FROM fieldops.expense_claim_roles(p_tenant_id, p_claim, p_actor) r;
    v_check := fieldops.transition_check('expense_claim', p_claim.state, p_to, COALESCE(v_roles, '{}'), p_reason);
    IF v_check.status OPERATOR(pg_catalog.<>) 'ok' THEN
        RETURN v_check.status;
    END IF;
    IF p_to OPERATOR(pg_catalog.=) 'submitted'
       AND NOT EXISTS (SELECT 1 FROM fieldops.expense_line l
                        WHERE l.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND l.claim_id OPERATOR(pg_catalog.=) p_claim.claim_id) THEN
        RETURN 'empty';
    END IF;
    -- in its own right, or for a delegator
    SELECT CASE WHEN pg_catalog.bool_or(r.on_behalf_of_worker_id IS NULL) THEN NULL ELSE pg_catalog.min(r.on_behalf_of_worker_id) END
      INTO v_behalf
      FROM fieldops.expense_claim_roles(p_tenant_id, p_claim, p_actor) r
     WHERE r.actor_role OPERATOR(pg_catalog.=) v_check.actor_role;

    v_at := pg_catalog.clock_timestamp();
    v_totals := fieldops.expense_claim_totals(p_tenant_id, p_claim.claim_id);
    IF p_to OPERATOR(pg_catalog.=) 'submitted' THEN
        v_flagged := fieldops.expense_flag_claim(p_tenant_id, p_claim.claim_id, v_at);
        v_detail := pg_catalog.jsonb_build_object('totals', v_totals, 'flagged_lines', v_flagged,
            'lines', (SELECT pg_catalog.count(*) FROM fieldops.expense_line l
                       WHERE l.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND l.claim_id OPERATOR(pg_catalog.=) p_claim.claim_id));
    ELSIF p_to OPERATOR(pg_catalog.=) 'paid' AND p_payment_ref IS NOT NULL THEN
        v_detail := pg_catalog.jsonb_build_object('payment_ref', p_payment_ref);
    END IF;
    UPDATE fieldops.expense_claim
       SET state = p_to, state_changed_at = v_at,
           submitted_at = CASE WHEN p_to OPERATOR(pg_catalog.=) 'submitted' THEN v_at ELSE submitted_at END,
           submit_count = submit_count OPERATOR(pg_catalog.+) (p_to OPERATOR(pg_catalog.=) 'submitted')::integer,
           manager_approved_at = CASE WHEN p_to OPERATOR(pg_catalog.=) 'manager_approved' THEN v_at
                                      WHEN p_to IN ('submitted', 'draft') THEN NULL ELSE manager_approved_at END,
           finance_approved_at = CASE WHEN p_to OPERATOR(pg_catalog.=) 'finance_approved' THEN v_at
                                      WHEN p_to IN ('submitted', 'draft') THEN NULL ELSE finance_approved_at END,
           rejected_at = CASE WHEN p_to OPERATOR(pg_catalog.=) 'rejected' THEN v_at ELSE rejected_at END,
           paid_at = CASE WHEN p_to OPERATOR(pg_catalog.=) 'paid' THEN v_at ELSE NULL END,
           payment_ref = CASE WHEN p_to OPERATOR(pg_catalog.=) 'paid' THEN p_payment_ref ELSE NULL END
     WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND claim_id OPERATOR(pg_catalog.=) p_claim.claim_id
    RETURNING * INTO c;
    INSERT INTO fieldops.expense_claim_history (tenant_id, claim_id, at, from_state, to_state, actor_worker_id, actor_role,
                                                on_behalf_of_worker_id, reason, detail)
    VALUES (p_tenant_id, c.claim_id, v_at, p_claim.state, p_to, p_actor, v_check.actor_role, v_behalf, p_reason, v_detail)
    RETURNING history_id INTO v_history;
    -- the lines enter or leave what the KPIs count
    IF (p_claim.state IN ('manager_approved', 'finance_approved', 'paid'))
       OPERATOR(pg_catalog.<>) (p_to IN ('manager_approved', 'finance_approved', 'paid')) THEN
        v_days := fieldops.expense_kpi_touch(p_tenant_id, c.claim_id);
    END IF;
    PERFORM fieldops.emit_event(p_tenant_id, 'expense_claim.' OPERATOR(pg_catalog.||) p_to, 'expense_claim', c.claim_id,
        pg_catalog.jsonb_build_object('worker_id', c.worker_id, 'from', p_claim.state, 'to', p_to, 'actor_worker_id', p_actor,
                                      'actor_role', v_check.actor_role, 'on_behalf_of_worker_id', v_behalf, 'reason', p_reason,
                                      'totals', v_totals, 'flagged_lines', v_flagged, 'payment_ref', c.payment_ref,
                                      'history_id', v_history, 'at', v_at));
    RETURN 'ok';
END
$$;
COMMENT ON FUNCTION fieldops.expense_claim_transition(bigint, fieldops.expense_claim, text, bigint, text, text) IS
'Internal: apply one change of state to a locked expense claim if fieldops.transition_check() allows it (to submitted: flag its lines, empty when it has none), write the history row (actor, role, on whose behalf), touch the KPI days when its lines enter or leave fieldops.expense_counted, emit expense_claim.<state>; otherwise return the refusal (unchanged, invalid_transition, not_permitted, reason_required) and write nothing.';

CREATE FUNCTION fieldops.expense_line_evidence(p_tenant_id bigint, p_line fieldops.expense_line)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    v jsonb;
BEGIN
    IF p_line.visit_id IS NOT NULL THEN
        SELECT pg_catalog.jsonb_build_object(
                   'context', 'visit', 'visit_id', v.visit_id, 'worker_id', v.worker_id, 'customer_id', v.customer_id,
                   'checkin_at', v.checkin_at, 'checkout_at', v.checkout_at, 'verified', x.verified, 'reasons', x.reasons,
                   'checkin_band', v.checkin_band, 'checkin_score', v.checkin_score,
                   'checkout_band', v.checkout_band, 'checkout_score', v.checkout_score,
                   'photos', (SELECT pg_catalog.jsonb_build_object('accepted', pg_catalog.count(*) FILTER (WHERE p.verdict OPERATOR(pg_catalog.=) 'accepted'),
                                                                   'total', pg_catalog.count(*))
                                FROM fieldops.photo p
                               WHERE p.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND p.visit_id OPERATOR(pg_catalog.=) v.visit_id))
          INTO v
          FROM fieldops.visit v
          JOIN fieldops.visit_verified x ON x.tenant_id OPERATOR(pg_catalog.=) v.tenant_id AND x.visit_id OPERATOR(pg_catalog.=) v.visit_id
         WHERE v.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND v.visit_id OPERATOR(pg_catalog.=) p_line.visit_id;
    ELSIF p_line.vehicle_claim_id IS NOT NULL THEN
        SELECT pg_catalog.jsonb_build_object(
                   'context', 'vehicle_claim', 'vehicle_claim_id', vc.claim_id, 'worker_id', vc.worker_id, 'day', vc.day,
                   'measured_km', vc.measured_km, 'claimed_km', p_line.claimed_km,
                   'difference_km', p_line.claimed_km OPERATOR(pg_catalog.-) vc.measured_km,
                   'vehicle_claim_flags', pg_catalog.to_jsonb(vc.flags))
          INTO v
          FROM fieldops.vehicle_claim vc
         WHERE vc.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND vc.claim_id OPERATOR(pg_catalog.=) p_line.vehicle_claim_id;
    ELSIF p_line.trip_id IS NOT NULL THEN
        SELECT pg_catalog.jsonb_build_object(
                   'context', 'trip', 'trip_id', t.trip_id, 'worker_id', t.worker_id, 'kind', t.kind, 'vehicle_claim_id', t.claim_id,
                   'started_at', t.started_at, 'ended_at', t.ended_at,
                   'measured_km', pg_catalog.round(t.distance_m::numeric OPERATOR(pg_catalog./) 1000, 3), 'claimed_km', p_line.claimed_km,
                   'difference_km', p_line.claimed_km OPERATOR(pg_catalog.-) pg_catalog.round(t.distance_m::numeric OPERATOR(pg_catalog./) 1000, 3))
          INTO v
          FROM fieldops.trip t
         WHERE t.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND t.trip_id OPERATOR(pg_catalog.=) p_line.trip_id;
    ELSIF p_line.task_id IS NOT NULL THEN
        SELECT pg_catalog.jsonb_build_object('context', 'task', 'task_id', t.task_id, 'state', t.state, 'title', t.title,
                                             'assignee_worker_id', t.assignee_worker_id, 'finished_at', t.finished_at)
          INTO v
          FROM fieldops.task t
         WHERE t.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND t.task_id OPERATOR(pg_catalog.=) p_line.task_id;
    ELSE
        SELECT pg_catalog.jsonb_build_object('context', 'work_order', 'work_order_id', o.work_order_id, 'state', o.state, 'title', o.title,
                                             'engineer_worker_id', o.engineer_worker_id, 'resolved_at', o.resolved_at)
          INTO v
          FROM fieldops.work_order o
         WHERE o.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND o.work_order_id OPERATOR(pg_catalog.=) p_line.work_order_id;
    END IF;
    RETURN v;
END
$$;
COMMENT ON FUNCTION fieldops.expense_line_evidence(bigint, fieldops.expense_line) IS
'The evidence of an expense line''s business context as it is now: a visit''s verification (fieldops.visit_verified: verified and reasons), check-in and check-out spoof bands and scores, photos accepted of total; a vehicle claim''s or trip''s measured against claimed km; a task''s or work order''s state.';

--
-- The API
--
CREATE FUNCTION fieldops.set_finance_approver(p_tenant_id bigint, p_worker_id bigint, p_enabled boolean DEFAULT true)
RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    v_n integer;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    PERFORM fieldops.check_id_arg(p_worker_id, 'p_worker_id');
    IF p_enabled IS NULL THEN
        RAISE EXCEPTION 'p_enabled must not be null' USING ERRCODE = '22004';
    END IF;
    IF p_enabled THEN
        PERFORM fieldops.lock_actors(p_tenant_id, ARRAY[p_worker_id], ARRAY['p_worker_id']);
        INSERT INTO fieldops.finance_approver (tenant_id, worker_id, added_at)
        VALUES (p_tenant_id, p_worker_id, pg_catalog.clock_timestamp())
        ON CONFLICT (tenant_id, worker_id) DO NOTHING;
        GET DIAGNOSTICS v_n = ROW_COUNT;
        RETURN CASE WHEN v_n OPERATOR(pg_catalog.>) 0 THEN 'added' ELSE 'unchanged' END;
    END IF;
    PERFORM fieldops.check_worker(p_tenant_id, p_worker_id);
    DELETE FROM fieldops.finance_approver f
     WHERE f.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND f.worker_id OPERATOR(pg_catalog.=) p_worker_id;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    RETURN CASE WHEN v_n OPERATOR(pg_catalog.>) 0 THEN 'removed' ELSE 'unchanged' END;
END
$$;
COMMENT ON FUNCTION fieldops.set_finance_approver(bigint, bigint, boolean) IS
'Give an active worker the finance role for expense claims (p_enabled true: added or unchanged) or take it away (false: removed or unchanged). Finance makes the final approval and marks claims paid; never for a claim of its own.';

CREATE FUNCTION fieldops.set_expense_delegate(p_tenant_id bigint, p_delegator_worker_id bigint, p_delegate_worker_id bigint,
                                              p_from date, p_until date)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    v_id bigint;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    PERFORM fieldops.check_id_arg(p_delegator_worker_id, 'p_delegator_worker_id');
    PERFORM fieldops.check_id_arg(p_delegate_worker_id, 'p_delegate_worker_id');
    IF p_delegator_worker_id OPERATOR(pg_catalog.=) p_delegate_worker_id THEN
        RAISE EXCEPTION 'p_delegate_worker_id must be another worker than p_delegator_worker_id (%)', p_delegator_worker_id
            USING ERRCODE = '22023';
    END IF;
    IF p_from IS NULL OR p_until IS NULL THEN
        RAISE EXCEPTION 'p_from and p_until must not be null' USING ERRCODE = '22004';
    END IF;
    IF NOT pg_catalog.isfinite(p_from) OR NOT pg_catalog.isfinite(p_until) OR p_until OPERATOR(pg_catalog.<) p_from THEN
        RAISE EXCEPTION 'p_until must be a finite day on or after p_from, got % to %', p_from, p_until USING ERRCODE = '22023';
    END IF;
    PERFORM fieldops.lock_actors(p_tenant_id, ARRAY[p_delegator_worker_id, p_delegate_worker_id],
                                 ARRAY['p_delegator_worker_id', 'p_delegate_worker_id']);
    INSERT INTO fieldops.expense_delegation AS x (tenant_id, delegator_worker_id, delegate_worker_id, valid_from, valid_until, created_at)
    VALUES (p_tenant_id, p_delegator_worker_id, p_delegate_worker_id, p_from, p_until, pg_catalog.clock_timestamp())
    ON CONFLICT (tenant_id, delegator_worker_id, delegate_worker_id)
    DO UPDATE SET valid_from = EXCLUDED.valid_from, valid_until = EXCLUDED.valid_until, created_at = EXCLUDED.created_at
    RETURNING x.delegation_id INTO v_id;
    PERFORM fieldops.emit_event(p_tenant_id, 'expense_delegation.set', 'expense_delegation', v_id,
        pg_catalog.jsonb_build_object('delegator_worker_id', p_delegator_worker_id, 'delegate_worker_id', p_delegate_worker_id,
                                      'valid_from', p_from, 'valid_until', p_until));
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION fieldops.set_expense_delegate(bigint, bigint, bigint, date, date) IS
'Let p_delegate_worker_id act on expense claims with the manager and finance roles of p_delegator_worker_id on the tenant-local days p_from to p_until (inclusive); replaces an earlier range of the same pair. Both must be active workers. The history names the delegate as actor and the delegator in on_behalf_of_worker_id. Returns the delegation id. Event expense_delegation.set.';

CREATE FUNCTION fieldops.remove_expense_delegate(p_tenant_id bigint, p_delegator_worker_id bigint, p_delegate_worker_id bigint)
RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    v_id bigint;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    PERFORM fieldops.check_id_arg(p_delegator_worker_id, 'p_delegator_worker_id');
    PERFORM fieldops.check_id_arg(p_delegate_worker_id, 'p_delegate_worker_id');
    DELETE FROM fieldops.expense_delegation x
     WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.delegator_worker_id OPERATOR(pg_catalog.=) p_delegator_worker_id
       AND x.delegate_worker_id OPERATOR(pg_catalog.=) p_delegate_worker_id
    RETURNING x.delegation_id INTO v_id;
    IF v_id IS NULL THEN
        RETURN 'not_found';
    END IF;
    PERFORM fieldops.emit_event(p_tenant_id, 'expense_delegation.removed', 'expense_delegation', v_id,
        pg_catalog.jsonb_build_object('delegator_worker_id', p_delegator_worker_id, 'delegate_worker_id', p_delegate_worker_id));
    RETURN 'removed';
END
$$;
COMMENT ON FUNCTION fieldops.remove_expense_delegate(bigint, bigint, bigint) IS
'End a delegation before its last day: removed or not_found. Event expense_delegation.removed.';

CREATE FUNCTION fieldops.set_expense_policy(p_tenant_id bigint, p_expense_type text, p_period text, p_cap numeric,
                                            p_effective_from date, p_job_level text DEFAULT NULL, p_currency text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    v_currency text;
    v_level text;
    v_id bigint;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    PERFORM fieldops.check_expense_type(p_expense_type, 'p_expense_type');
    IF p_period IS NULL THEN
        RAISE EXCEPTION 'p_period must not be null' USING ERRCODE = '22004';
    END IF;
    IF p_period NOT IN ('day', 'trip', 'line') THEN
        RAISE EXCEPTION 'p_period must be day, trip or line, got %', pg_catalog.quote_literal(pg_catalog.left(p_period, 40))
            USING ERRCODE = '22023';
    END IF;
    PERFORM fieldops.check_money(p_cap, 'p_cap');
    IF p_effective_from IS NULL THEN
        RAISE EXCEPTION 'p_effective_from must not be null' USING ERRCODE = '22004';
    END IF;
    IF NOT pg_catalog.isfinite(p_effective_from) THEN
        RAISE EXCEPTION 'p_effective_from must be a finite day, got %', p_effective_from USING ERRCODE = '22023';
    END IF;
    v_level := fieldops.check_text(p_job_level, 'p_job_level', 32, false);
    v_currency := fieldops.check_currency_arg(p_tenant_id, p_currency, 'p_currency');
    INSERT INTO fieldops.expense_policy AS x (tenant_id, expense_type, job_level, period, cap, currency, effective_from, created_at)
    VALUES (p_tenant_id, p_expense_type, v_level, p_period, p_cap, v_currency, p_effective_from, pg_catalog.clock_timestamp())
    ON CONFLICT (tenant_id, expense_type, job_level, period, currency, effective_from)
    DO UPDATE SET cap = EXCLUDED.cap, created_at = EXCLUDED.created_at
    RETURNING x.policy_id INTO v_id;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION fieldops.set_expense_policy(bigint, text, text, numeric, date, text, text) IS
'Set a spending cap: p_expense_type, p_period day (the worker''s total of the type per day), trip (the total of the type on one trip) or line (each line), p_cap in p_currency (NULL: the tenant''s currency setting), for workers of p_job_level (NULL: any level), from p_effective_from on. The same type, level, period, currency and day replace the cap. Returns the policy id. Caps flag lines at submission (over_cap), they never refuse them.';

CREATE FUNCTION fieldops.delete_expense_policy(p_tenant_id bigint, p_policy_id bigint)
RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    v_n integer;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    PERFORM fieldops.check_id_arg(p_policy_id, 'p_policy_id');
    DELETE FROM fieldops.expense_policy x
     WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.policy_id OPERATOR(pg_catalog.=) p_policy_id;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    RETURN CASE WHEN v_n OPERATOR(pg_catalog.>) 0 THEN 'deleted' ELSE 'not_found' END;
END
$$;
COMMENT ON FUNCTION fieldops.delete_expense_policy(bigint, bigint) IS
'Delete a spending cap (deleted or not_found). Flags already written keep naming it; later submissions no longer see it.';

CREATE FUNCTION fieldops.create_expense_claim(p_tenant_id bigint, p_worker_id bigint, p_title text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    v_title text;
    v_at timestamptz;
    c fieldops.expense_claim;
    v_history bigint;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    v_title := fieldops.check_text(p_title, 'p_title', 200);
    PERFORM fieldops.lock_actors(p_tenant_id, ARRAY[fieldops.check_id_arg(p_worker_id, 'p_worker_id')], ARRAY['p_worker_id']);
    v_at := pg_catalog.clock_timestamp();
    INSERT INTO fieldops.expense_claim (tenant_id, worker_id, title, state, created_at, state_changed_at)
    VALUES (p_tenant_id, p_worker_id, v_title, 'draft', v_at, v_at)
    RETURNING * INTO c;
    INSERT INTO fieldops.expense_claim_history (tenant_id, claim_id, at, from_state, to_state, actor_worker_id, actor_role)
    VALUES (p_tenant_id, c.claim_id, v_at, NULL, 'draft', p_worker_id, 'claimant')
    RETURNING history_id INTO v_history;
    PERFORM fieldops.emit_event(p_tenant_id, 'expense_claim.created', 'expense_claim', c.claim_id,
        pg_catalog.jsonb_build_object('worker_id', p_worker_id, 'to', 'draft', 'actor_worker_id', p_worker_id,
                                      'actor_role', 'claimant', 'history_id', v_history, 'at', v_at));
    RETURN c.claim_id;
END
$$;
COMMENT ON FUNCTION fieldops.create_expense_claim(bigint, bigint, text) IS
'An active worker (the claimant) opens an expense claim (state draft) and gets its id. Event expense_claim.created.';

-- the claim of a line change, locked, and whether this worker may change it
CREATE FUNCTION fieldops.expense_line_gate(p_tenant_id bigint, p_claim_id bigint, p_worker_id bigint, OUT status text,
                                           OUT claim fieldops.expense_claim)
RETURNS record
LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
    claim := fieldops.lock_expense_claim(p_tenant_id, p_claim_id);
    IF claim.claim_id IS NULL THEN
        status := 'not_found';
    ELSIF claim.worker_id OPERATOR(pg_catalog.<>) p_worker_id THEN
        status := 'not_permitted';
    ELSIF claim.state NOT IN ('draft', 'rejected') THEN
        status := 'invalid_state';
    ELSE
        status := 'ok';
    END IF;
END
$$;
COMMENT ON FUNCTION fieldops.expense_line_gate(bigint, bigint, bigint) IS
'Internal: lock the claim of a line change and say whether p_worker_id may change its lines: ok (the claimant, claim in draft or rejected), not_found, not_permitted, invalid_state.';

CREATE FUNCTION fieldops.add_expense_line(p_tenant_id bigint, p_claim_id bigint, p_worker_id bigint, p_expense_type text,
                                          p_spent_on date, p_amount numeric, p_currency text DEFAULT NULL,
                                          p_description text DEFAULT NULL, p_receipt_sha256 bytea DEFAULT NULL,
                                          p_claimed_km numeric DEFAULT NULL, p_visit_id bigint DEFAULT NULL,
                                          p_task_id bigint DEFAULT NULL, p_trip_id bigint DEFAULT NULL,
                                          p_work_order_id bigint DEFAULT NULL, p_vehicle_claim_id bigint DEFAULT NULL,
                                          OUT status text, OUT line_id bigint)
RETURNS record
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    v record;
    g record;
    v_at timestamptz;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    PERFORM fieldops.check_id_arg(p_claim_id, 'p_claim_id');
    v := fieldops.check_expense_line(p_tenant_id, p_expense_type, p_spent_on, p_amount, p_currency, p_description, p_receipt_sha256,
                                     p_claimed_km, p_visit_id, p_task_id, p_trip_id, p_work_order_id, p_vehicle_claim_id);
    PERFORM fieldops.lock_actors(p_tenant_id, ARRAY[fieldops.check_id_arg(p_worker_id, 'p_worker_id')], ARRAY['p_worker_id']);
    g := fieldops.expense_line_gate(p_tenant_id, p_claim_id, p_worker_id);
    status := g.status;
    IF status OPERATOR(pg_catalog.<>) 'ok' THEN
        RETURN;
    END IF;
    v_at := pg_catalog.clock_timestamp();
    INSERT INTO fieldops.expense_line AS x (tenant_id, claim_id, expense_type, spent_on, amount, currency, description, receipt_sha256,
                                            claimed_km, visit_id, task_id, trip_id, work_order_id, vehicle_claim_id, created_at, updated_at)
    VALUES (p_tenant_id, p_claim_id, p_expense_type, p_spent_on, p_amount, v.currency, v.description, p_receipt_sha256,
            p_claimed_km, p_visit_id, p_task_id, p_trip_id, p_work_order_id, p_vehicle_claim_id, v_at, v_at)
    RETURNING x.line_id INTO line_id;
    status := 'added';
END
$$;
COMMENT ON FUNCTION fieldops.add_expense_line(bigint, bigint, bigint, text, date, numeric, text, text, bytea, numeric, bigint, bigint, bigint, bigint, bigint) IS
'The claimant adds a line to a claim in draft or rejected: p_expense_type (vehicle_mileage, fuel, toll, parking, travel, meal, lodging, other), p_spent_on (tenant-local, up to today), p_amount (positive, 2 decimals), p_currency (NULL: the tenant''s currency setting), p_description, p_receipt_sha256 (32 bytes), p_claimed_km (vehicle_mileage only, required there) and exactly one business context: p_visit_id, p_task_id, p_trip_id, p_work_order_id or p_vehicle_claim_id (none or two: 22023). Returns (status, line_id): added, not_found, not_permitted (not the claimant), invalid_state.';

CREATE FUNCTION fieldops.update_expense_line(p_tenant_id bigint, p_line_id bigint, p_worker_id bigint, p_expense_type text,
                                             p_spent_on date, p_amount numeric, p_currency text DEFAULT NULL,
                                             p_description text DEFAULT NULL, p_receipt_sha256 bytea DEFAULT NULL,
                                             p_claimed_km numeric DEFAULT NULL, p_visit_id bigint DEFAULT NULL,
                                             p_task_id bigint DEFAULT NULL, p_trip_id bigint DEFAULT NULL,
                                             p_work_order_id bigint DEFAULT NULL, p_vehicle_claim_id bigint DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    v record;
    g record;
    v_claim bigint;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    PERFORM fieldops.check_id_arg(p_line_id, 'p_line_id');
    v := fieldops.check_expense_line(p_tenant_id, p_expense_type, p_spent_on, p_amount, p_currency, p_description, p_receipt_sha256,
                                     p_claimed_km, p_visit_id, p_task_id, p_trip_id, p_work_order_id, p_vehicle_claim_id);
    PERFORM fieldops.lock_actors(p_tenant_id, ARRAY[fieldops.check_id_arg(p_worker_id, 'p_worker_id')], ARRAY['p_worker_id']);
    SELECT x.claim_id INTO v_claim FROM fieldops.expense_line x
     WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.line_id OPERATOR(pg_catalog.=) p_line_id;
    IF v_claim IS NULL THEN
        RETURN 'not_found';
    END IF;
    g := fieldops.expense_line_gate(p_tenant_id, v_claim, p_worker_id);
    IF g.status OPERATOR(pg_catalog.<>) 'ok' THEN
        RETURN g.status;
    END IF;
    -- the flags described the old line: it is flagged again when submitted
    UPDATE fieldops.expense_line x
       SET expense_type = p_expense_type, spent_on = p_spent_on, amount = p_amount, currency = v.currency,
           description = v.description, receipt_sha256 = p_receipt_sha256, claimed_km = p_claimed_km,
           visit_id = p_visit_id, task_id = p_task_id, trip_id = p_trip_id, work_order_id = p_work_order_id,
           vehicle_claim_id = p_vehicle_claim_id, flags = NULL, flagged_at = NULL, updated_at = pg_catalog.clock_timestamp()
     WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.line_id OPERATOR(pg_catalog.=) p_line_id
       AND x.claim_id OPERATOR(pg_catalog.=) v_claim;
    IF NOT FOUND THEN
        RETURN 'not_found';   -- removed meanwhile
    END IF;
    RETURN 'updated';
END
$$;
COMMENT ON FUNCTION fieldops.update_expense_line(bigint, bigint, bigint, text, date, numeric, text, text, bytea, numeric, bigint, bigint, bigint, bigint, bigint) IS
'The claimant replaces every field of a line of a claim in draft or rejected (arguments and checks as add_expense_line(); an argument left out is cleared); its flags are dropped until the claim is submitted again. Returns updated, not_found, not_permitted, invalid_state.';

CREATE FUNCTION fieldops.remove_expense_line(p_tenant_id bigint, p_line_id bigint, p_worker_id bigint)
RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    g record;
    v_claim bigint;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    PERFORM fieldops.check_id_arg(p_line_id, 'p_line_id');
    PERFORM fieldops.lock_actors(p_tenant_id, ARRAY[fieldops.check_id_arg(p_worker_id, 'p_worker_id')], ARRAY['p_worker_id']);
    SELECT x.claim_id INTO v_claim FROM fieldops.expense_line x
     WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.line_id OPERATOR(pg_catalog.=) p_line_id;
    IF v_claim IS NULL THEN
        RETURN 'not_found';
    END IF;
    g := fieldops.expense_line_gate(p_tenant_id, v_claim, p_worker_id);
    IF g.status OPERATOR(pg_catalog.<>) 'ok' THEN
        RETURN g.status;
    END IF;
    DELETE FROM fieldops.expense_line x
     WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.line_id OPERATOR(pg_catalog.=) p_line_id
       AND x.claim_id OPERATOR(pg_catalog.=) v_claim;
    IF NOT FOUND THEN
        RETURN 'not_found';
    END IF;
    RETURN 'removed';
END
$$;
COMMENT ON FUNCTION fieldops.remove_expense_line(bigint, bigint, bigint) IS
'The claimant removes a line of a claim in draft or rejected. Returns removed, not_found, not_permitted, invalid_state.';

-- the common path of every state change of a claim: the claim's id, the
-- actor (checked and share-locked), the claim locked, the transition
CREATE FUNCTION fieldops.expense_claim_move(p_tenant_id bigint, p_claim_id bigint, p_to text, p_actor bigint, p_actor_arg text,
                                            p_actor_required boolean, p_reason text, p_payment_ref text DEFAULT NULL,
                                            p_check_state boolean DEFAULT false)
RETURNS text
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    c fieldops.expense_claim;
BEGIN
    PERFORM fieldops.check_id_arg(p_claim_id, 'p_claim_id');
    IF p_check_state THEN
        PERFORM fieldops.check_expense_state(p_to);
    END IF;
    PERFORM fieldops.lock_actors(p_tenant_id,
        ARRAY[CASE WHEN p_actor_required THEN fieldops.check_id_arg(p_actor, p_actor_arg) ELSE p_actor END], ARRAY[p_actor_arg]);
    c := fieldops.lock_expense_claim(p_tenant_id, p_claim_id);
    IF c.claim_id IS NULL THEN
        RETURN 'not_found';
    END IF;
    RETURN fieldops.expense_claim_transition(p_tenant_id, c, p_to, p_actor, p_reason, p_payment_ref);
END
$$;
COMMENT ON FUNCTION fieldops.expense_claim_move(bigint, bigint, text, bigint, text, boolean, text, text, boolean) IS
'Internal: check p_claim_id (and p_to when asked), check and share-lock the actor (p_actor_arg names it in errors; NULL allowed unless p_actor_required: the application), lock the claim and make the transition (expense_claim_transition). Returns its status, or not_found.';

CREATE FUNCTION fieldops.set_expense_claim_state(p_tenant_id bigint, p_claim_id bigint, p_state text, p_actor_worker_id bigint,
                                                 p_reason text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    v_reason text;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    v_reason := fieldops.check_text(p_reason, 'p_reason', 500, false);
    RETURN fieldops.expense_claim_move(p_tenant_id, p_claim_id, p_state, p_actor_worker_id, 'p_actor_worker_id', false, v_reason,
                                       p_check_state => true);
END
$$;
COMMENT ON FUNCTION fieldops.set_expense_claim_state(bigint, bigint, text, bigint, text) IS
'Move an expense claim to p_state as p_actor_worker_id (NULL: the application), with p_reason where fieldops.state_transition requires one; the functions below are named shortcuts of it. Returns ok, unchanged, empty (submitting a claim without lines), not_found, invalid_transition, not_permitted or reason_required; only ok writes anything.';

CREATE FUNCTION fieldops.submit_expense_claim(p_tenant_id bigint, p_claim_id bigint, p_worker_id bigint)
RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    RETURN fieldops.expense_claim_move(p_tenant_id, p_claim_id, 'submitted', p_worker_id, 'p_worker_id', true, NULL);
END
$$;
COMMENT ON FUNCTION fieldops.submit_expense_claim(bigint, bigint, bigint) IS
'The claimant submits a claim in draft, or resubmits a rejected one: every line is flagged against the policy and the evidence (flags never block). Returns ok, empty (no lines), unchanged, not_found, invalid_transition or not_permitted.';

CREATE FUNCTION fieldops.approve_expense_claim(p_tenant_id bigint, p_claim_id bigint, p_actor_worker_id bigint, p_step text,
                                               p_comment text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    v_comment text;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    v_comment := fieldops.check_text(p_comment, 'p_comment', 500, false);
    IF p_step IS NULL THEN
        RAISE EXCEPTION 'p_step must not be null' USING ERRCODE = '22004';
    END IF;
    IF p_step NOT IN ('manager', 'finance') THEN
        RAISE EXCEPTION 'p_step must be manager or finance, got %', pg_catalog.quote_literal(pg_catalog.left(p_step, 40))
            USING ERRCODE = '22023';
    END IF;
    RETURN fieldops.expense_claim_move(p_tenant_id, p_claim_id, p_step OPERATOR(pg_catalog.||) '_approved', p_actor_worker_id,
                                       'p_actor_worker_id', true, v_comment);
END
$$;
COMMENT ON FUNCTION fieldops.approve_expense_claim(bigint, bigint, bigint, text, text) IS
'An approver approves the step it saw: p_step manager (submitted -> manager_approved, a manager above the claimant or its delegate) or finance (manager_approved -> finance_approved, a finance approver or its delegate); p_comment goes to the history. Naming the step makes a repeated click unchanged instead of a second approval. Returns ok, unchanged, not_found, invalid_transition or not_permitted (never for the claimant''s own claim).';

CREATE FUNCTION fieldops.reject_expense_claim(p_tenant_id bigint, p_claim_id bigint, p_actor_worker_id bigint, p_reason text)
RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    v_reason text;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    v_reason := fieldops.check_text(p_reason, 'p_reason', 500, false);
    RETURN fieldops.expense_claim_move(p_tenant_id, p_claim_id, 'rejected', p_actor_worker_id, 'p_actor_worker_id', true, v_reason);
END
$$;
COMMENT ON FUNCTION fieldops.reject_expense_claim(bigint, bigint, bigint, text) IS
'A manager (claim submitted) or finance (claim manager_approved) rejects a claim with p_reason; it goes back to the claimant, who reopens or resubmits it. Returns ok, reason_required, unchanged, not_found, invalid_transition or not_permitted.';

CREATE FUNCTION fieldops.mark_expense_claim_paid(p_tenant_id bigint, p_claim_id bigint, p_actor_worker_id bigint DEFAULT NULL,
                                                 p_payment_ref text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    v_ref text;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    v_ref := fieldops.check_text(p_payment_ref, 'p_payment_ref', 100, false);
    RETURN fieldops.expense_claim_move(p_tenant_id, p_claim_id, 'paid', p_actor_worker_id, 'p_actor_worker_id', false, NULL, v_ref);
END
$$;
COMMENT ON FUNCTION fieldops.mark_expense_claim_paid(bigint, bigint, bigint, text) IS
'Mark a finance_approved claim paid, by a finance approver or (p_actor_worker_id NULL) the application, e.g. its payroll export, with its p_payment_ref. Returns ok, unchanged, not_found, invalid_transition or not_permitted.';

CREATE FUNCTION fieldops.withdraw_expense_claim(p_tenant_id bigint, p_claim_id bigint, p_worker_id bigint, p_reason text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    v_reason text;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    v_reason := fieldops.check_text(p_reason, 'p_reason', 500, false);
    RETURN fieldops.expense_claim_move(p_tenant_id, p_claim_id, 'cancelled', p_worker_id, 'p_worker_id', true, v_reason);
END
$$;
COMMENT ON FUNCTION fieldops.withdraw_expense_claim(bigint, bigint, bigint, text) IS
'The claimant withdraws (cancels) a claim before its final approval: from draft, submitted, manager_approved or rejected. Returns ok, unchanged, not_found, invalid_transition or not_permitted.';

CREATE FUNCTION fieldops.reopen_expense_claim(p_tenant_id bigint, p_claim_id bigint, p_worker_id bigint)
RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    RETURN fieldops.expense_claim_move(p_tenant_id, p_claim_id, 'draft', p_worker_id, 'p_worker_id', true, NULL);
END
$$;
COMMENT ON FUNCTION fieldops.reopen_expense_claim(bigint, bigint, bigint) IS
'The claimant takes a rejected claim back to draft (its lines may also be changed while it is rejected, and it may be resubmitted at once). Returns ok, unchanged, not_found, invalid_transition or not_permitted.';

--
-- Reading
--
CREATE FUNCTION fieldops.expense_claim_detail(p_tenant_id bigint, p_claim_id bigint)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    v jsonb;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    PERFORM fieldops.check_id_arg(p_claim_id, 'p_claim_id');
    SELECT pg_catalog.to_jsonb(c) OPERATOR(pg_catalog.-) 'tenant_id' OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object(
               'claimant', (SELECT pg_catalog.jsonb_build_object('worker_id', w.worker_id, 'name', w.name, 'job_level', w.job_level,
                                                                 'manager_id', w.manager_id)
                              FROM fieldops.worker w
                             WHERE w.tenant_id OPERATOR(pg_catalog.=) c.tenant_id AND w.worker_id OPERATOR(pg_catalog.=) c.worker_id),
               'totals', fieldops.expense_claim_totals(p_tenant_id, c.claim_id),
               'flag_counts', (SELECT COALESCE(pg_catalog.jsonb_object_agg(f.code, f.n), '{}')
                                 FROM (SELECT e ->> 'code' AS code, pg_catalog.count(*) AS n
                                         FROM fieldops.expense_line l, pg_catalog.jsonb_array_elements(l.flags) e
                                        WHERE l.tenant_id OPERATOR(pg_catalog.=) c.tenant_id AND l.claim_id OPERATOR(pg_catalog.=) c.claim_id
                                        GROUP BY 1) f),
               'history', (SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(h) OPERATOR(pg_catalog.-) 'tenant_id' ORDER BY h.history_id), '[]')
                             FROM fieldops.expense_claim_history h
                            WHERE h.tenant_id OPERATOR(pg_catalog.=) c.tenant_id AND h.claim_id OPERATOR(pg_catalog.=) c.claim_id),
               'lines', (SELECT COALESCE(pg_catalog.jsonb_agg(
                                    pg_catalog.to_jsonb(l) OPERATOR(pg_catalog.-) 'tenant_id' OPERATOR(pg_catalog.-) 'receipt_sha256'
                                    OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object(
                                        'receipt_sha256', pg_catalog.encode(l.receipt_sha256, 'hex'),
                                        'evidence', fieldops.expense_line_evidence(p_tenant_id, l))
                                    ORDER BY l.line_id), '[]')
                           FROM fieldops.expense_line l
                          WHERE l.tenant_id OPERATOR(pg_catalog.=) c.tenant_id AND l.claim_id OPERATOR(pg_catalog.=) c.claim_id))
      INTO v
      FROM fieldops.expense_claim c
     WHERE c.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND c.claim_id OPERATOR(pg_catalog.=) p_claim_id;
    RETURN v;
END
$$;
COMMENT ON FUNCTION fieldops.expense_claim_detail(bigint, bigint) IS
'The approver''s view of an expense claim as JSON: its columns, the claimant (name, job level, manager), totals per currency, how many lines carry each flag, the history (who, in which role, on whose behalf, from, to, when, why) and every line with its flags (as written at the last submission) and the evidence of its context as it is now (fieldops.expense_line_evidence()). NULL when the tenant has no such claim.';

CREATE FUNCTION fieldops.expense_approval_queue(p_tenant_id bigint, p_worker_id bigint)
RETURNS TABLE (claim_id bigint, worker_id bigint, title text, state text, step text, on_behalf_of_worker_id bigint,
               submitted_at timestamptz, totals jsonb, lines bigint, flagged_lines bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER
AS $$
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    PERFORM fieldops.check_id_arg(p_worker_id, 'p_worker_id');
    RETURN QUERY
    SELECT c.claim_id, c.worker_id, c.title, c.state, r.actor_role, r.on_behalf_of_worker_id, c.submitted_at,
           fieldops.expense_claim_totals(p_tenant_id, c.claim_id),
           (SELECT pg_catalog.count(*) FROM fieldops.expense_line l
             WHERE l.tenant_id OPERATOR(pg_catalog.=) c.tenant_id AND l.claim_id OPERATOR(pg_catalog.=) c.claim_id),
           (SELECT pg_catalog.count(*) FROM fieldops.expense_line l
             WHERE l.tenant_id OPERATOR(pg_catalog.=) c.tenant_id AND l.claim_id OPERATOR(pg_catalog.=) c.claim_id
               AND pg_catalog.jsonb_array_length(l.flags) OPERATOR(pg_catalog.>) 0)
      FROM fieldops.expense_claim c
     CROSS JOIN LATERAL (
        SELECT x.actor_role, x.on_behalf_of_worker_id
          FROM fieldops.expense_claim_roles(p_tenant_id, c, p_worker_id) x
         WHERE EXISTS (SELECT 1 FROM fieldops.state_transition t
                        WHERE t.machine OPERATOR(pg_catalog.=) 'expense_claim' AND t.from_state OPERATOR(pg_catalog.=) c.state
                          AND t.to_state IN ('manager_approved', 'finance_approved') AND t.actor_role OPERATOR(pg_catalog.=) x.actor_role)
         ORDER BY x.on_behalf_of_worker_id NULLS FIRST
         LIMIT 1) r
     WHERE c.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND c.state IN ('submitted', 'manager_approved')
     ORDER BY c.submitted_at, c.claim_id;
END
$$;
COMMENT ON FUNCTION fieldops.expense_approval_queue(bigint, bigint) IS
'The claims waiting for worker p_worker_id''s approval: submitted claims it may approve as a manager, manager_approved ones as finance, in its own right or for a delegator (on_behalf_of_worker_id), oldest submission first, with totals and how many lines are flagged. step is the role it approves in.';

--
-- Security
--
SELECT fieldops.secure_tenant_table(t::regclass)
  FROM pg_catalog.unnest(ARRAY['fieldops.expense_claim', 'fieldops.expense_line', 'fieldops.expense_claim_history',
                               'fieldops.finance_approver', 'fieldops.expense_delegation', 'fieldops.expense_policy']) AS t;
-- the history is append-only
REVOKE UPDATE, DELETE ON fieldops.expense_claim_history FROM fieldops_api, fieldops_admin;
REVOKE ALL ON fieldops.expense_counted FROM PUBLIC;
GRANT SELECT ON fieldops.expense_counted TO fieldops_app, fieldops_analyst, fieldops_api, fieldops_admin;

GRANT EXECUTE ON FUNCTION
    fieldops.set_finance_approver(bigint, bigint, boolean),
    fieldops.set_expense_delegate(bigint, bigint, bigint, date, date),
    fieldops.remove_expense_delegate(bigint, bigint, bigint),
    fieldops.set_expense_policy(bigint, text, text, numeric, date, text, text),
    fieldops.delete_expense_policy(bigint, bigint),
    fieldops.create_expense_claim(bigint, bigint, text),
    fieldops.add_expense_line(bigint, bigint, bigint, text, date, numeric, text, text, bytea, numeric, bigint, bigint, bigint, bigint, bigint),
    fieldops.update_expense_line(bigint, bigint, bigint, text, date, numeric, text, text, bytea, numeric, bigint, bigint, bigint, bigint, bigint),
    fieldops.remove_expense_line(bigint, bigint, bigint),
    fieldops.set_expense_claim_state(bigint, bigint, text, bigint, text),
    fieldops.submit_expense_claim(bigint, bigint, bigint),
    fieldops.approve_expense_claim(bigint, bigint, bigint, text, text),
    fieldops.reject_expense_claim(bigint, bigint, bigint, text),
    fieldops.mark_expense_claim_paid(bigint, bigint, bigint, text),
    fieldops.withdraw_expense_claim(bigint, bigint, bigint, text),
    fieldops.reopen_expense_claim(bigint, bigint, bigint)
TO fieldops_app;
-- reading: the approver's view runs as the caller (and what it calls);
-- the queue as the API's owner (the reporting hierarchy is the API's)
GRANT EXECUTE ON FUNCTION
    fieldops.expense_claim_detail(bigint, bigint),
    fieldops.expense_approval_queue(bigint, bigint),
    fieldops.expense_line_evidence(bigint, fieldops.expense_line),
    fieldops.expense_claim_totals(bigint, bigint),
    fieldops.expense_policy_for(bigint, text, text, text, date, text)
TO fieldops_app, fieldops_analyst, fieldops_api;
GRANT EXECUTE ON FUNCTION
    fieldops.check_expense_type(text, text),
    fieldops.check_money(numeric, text),
    fieldops.check_currency_arg(bigint, text, text),
    fieldops.check_expense_state(text),
    fieldops.check_expense_line(bigint, text, date, numeric, text, text, bytea, numeric, bigint, bigint, bigint, bigint, bigint),
    fieldops.expense_claim_roles(bigint, fieldops.expense_claim, bigint),
    fieldops.expense_line_flags(bigint, bigint),
    fieldops.expense_add_duplicate(jsonb, jsonb),
    fieldops.expense_flag_claim(bigint, bigint, timestamptz),
    fieldops.expense_kpi_touch(bigint, bigint),
    fieldops.lock_expense_claim(bigint, bigint),
    fieldops.expense_claim_move(bigint, bigint, text, bigint, text, boolean, text, text, boolean),
    fieldops.expense_claim_transition(bigint, fieldops.expense_claim, text, bigint, text, text),
    fieldops.expense_line_gate(bigint, bigint, bigint)
TO fieldops_api;
