--
-- Work orders (after-sales service): a customer's equipment is repaired by
-- an engineer, with spare parts from a van or a warehouse, deadlines (SLA)
-- and the customer's signature over what was done.
--
--   created -> dispatched -> accepted -> travelling -> on_site -> repairing
--     -> awaiting_signature -> completed -> closed
--   cancelled: from every state before completed (dispatcher; before
--              travelling also the application), reason required
--   reopened:  from completed or closed (dispatcher, reason required), then
--              dispatched again (or closed with a reason)
--   back:      dispatched/accepted -> created (engineer declines or gives
--              back, dispatcher recalls), dispatched/accepted -> dispatched
--              (reassign), awaiting_signature -> repairing (more work)
-- as rows of fieldops.state_transition (machine work_order, see
-- 72_task.sql), consulted by fieldops.transition_check() for every change.
-- awaiting_signature -> completed has needs_signature: only
-- sign_work_order(), after verifying the customer's signature, makes it.
-- Roles: engineer (the assigned one), dispatcher (who created the order, a
-- manager above that worker, or the lead of the engineer's team), system
-- (no worker: the application).
--
-- SLA: respond_by and resolve_by are fixed at creation from the tenant's
-- settings work_order_respond_min_<priority> / work_order_resolve_min_<priority>
-- (wall-clock minutes).  An order responds when it is first accepted and is
-- resolved when it is first completed (signed).  A breach is recorded once
-- per deadline (respond_breached_at, resolve_breached_at, an outbox event
-- work_order.sla_breached) by whichever comes first under the order's row
-- lock: the work_order_sla job (every minute: a breach happens when nothing
-- happens, so only a scheduler can see it) or the late transition itself
-- (so a late response is never missed between two runs of the job).
--
-- Spare parts: stock levels per (location, part) never go below zero: every
-- decrease is a guarded UPDATE ... WHERE on_hand >= quantity (and a CHECK
-- behind it); two orders taking the last part at once: the second waits
-- for the first and then finds too little (insufficient_stock).  Every
-- movement (receive, issue, consume, return) is a row of the append-only
-- fieldops.stock_movement, and fieldops.check_stock_invariants() proves the
-- levels and each order's parts equal the ledger.
--
-- The customer's confirmation: when the engineer moves the order to
-- awaiting_signature, its content is frozen as the SHA-256 of a canonical
-- serialisation (fieldops.work_order_content(), format described at
-- fieldops.work_order_canonical()); the customer signs on the engineer's
-- phone, whose enrolled device key (signed photos, 60_photo.sql: ES256 or
-- Ed25519, verified with fieldops.es256_verify / ed25519_verify) signs
-- fieldops.work_order_signing_message(): the hash and the signer's name.
-- sign_work_order() verifies the signature and that the hash is the order's
-- current one (a signature over a stale hash is refused) and completes the
-- order; the signed content is kept verbatim with the signature.
--
-- Lock order, the same in every function:
--   1. worker rows FOR SHARE (the actor, the new engineer), in worker_id order,
--   2. the work order row, FOR NO KEY UPDATE,
--   3. the stock level row (location, part) of the movement,
--   4. the order's part row (fieldops.work_order_part).
-- A client that moves several parts in one transaction should do so in
-- (location_id, part_id) order.
--
-- Part of the install script and of the 0.1.0 -> 0.2.0 upgrade script.
--

INSERT INTO fieldops.setting_def (key, kind, default_value, min_value, max_value, description) VALUES
    ('work_order_respond_min_urgent', 'integer', '60', 1, 525600,
     'Minutes after its creation by which an urgent work order must be accepted by an engineer (respond SLA).'),
    ('work_order_respond_min_high', 'integer', '240', 1, 525600,
     'Minutes after its creation by which a high-priority work order must be accepted by an engineer (respond SLA).'),
    ('work_order_respond_min_normal', 'integer', '480', 1, 525600,
     'Minutes after its creation by which a normal work order must be accepted by an engineer (respond SLA).'),
    ('work_order_respond_min_low', 'integer', '1440', 1, 525600,
     'Minutes after its creation by which a low-priority work order must be accepted by an engineer (respond SLA).'),
    ('work_order_resolve_min_urgent', 'integer', '480', 1, 525600,
     'Minutes after its creation by which an urgent work order must be completed, signed by the customer (resolve SLA).'),
    ('work_order_resolve_min_high', 'integer', '1440', 1, 525600,
     'Minutes after its creation by which a high-priority work order must be completed, signed by the customer (resolve SLA).'),
    ('work_order_resolve_min_normal', 'integer', '4320', 1, 525600,
     'Minutes after its creation by which a normal work order must be completed, signed by the customer (resolve SLA).'),
    ('work_order_resolve_min_low', 'integer', '10080', 1, 525600,
     'Minutes after its creation by which a low-priority work order must be completed, signed by the customer (resolve SLA).');

INSERT INTO fieldops.state_transition (machine, from_state, to_state, actor_role, reason_required, needs_signature, description) VALUES
    ('work_order', 'created',            'dispatched',         'dispatcher', false, false, 'dispatch to an engineer'),
    ('work_order', 'created',            'dispatched',         'system',     false, false, 'dispatch to an engineer (the application''s own rules)'),
    ('work_order', 'created',            'cancelled',          'dispatcher', true,  false, 'cancel'),
    ('work_order', 'created',            'cancelled',          'system',     true,  false, 'cancel'),
    ('work_order', 'dispatched',         'dispatched',         'dispatcher', true,  false, 'reassign to another engineer'),
    ('work_order', 'dispatched',         'dispatched',         'system',     true,  false, 'reassign to another engineer'),
    ('work_order', 'dispatched',         'accepted',           'engineer',   false, false, 'the engineer accepts (the respond SLA is met)'),
    ('work_order', 'dispatched',         'created',            'engineer',   true,  false, 'the engineer declines'),
    ('work_order', 'dispatched',         'created',            'dispatcher', true,  false, 'recall for another dispatch'),
    ('work_order', 'dispatched',         'cancelled',          'dispatcher', true,  false, 'cancel'),
    ('work_order', 'dispatched',         'cancelled',          'system',     true,  false, 'cancel'),
    ('work_order', 'accepted',           'travelling',         'engineer',   false, false, 'on the way'),
    ('work_order', 'accepted',           'dispatched',         'dispatcher', true,  false, 'reassign an accepted order'),
    ('work_order', 'accepted',           'created',            'engineer',   true,  false, 'the engineer gives the order back'),
    ('work_order', 'accepted',           'created',            'dispatcher', true,  false, 'recall for another dispatch'),
    ('work_order', 'accepted',           'cancelled',          'dispatcher', true,  false, 'cancel'),
    ('work_order', 'accepted',           'cancelled',          'system',     true,  false, 'cancel'),
    ('work_order', 'travelling',         'on_site',            'engineer',   false, false, 'arrived at the customer'),
    ('work_order', 'travelling',         'cancelled',          'dispatcher', true,  false, 'cancel'),
    ('work_order', 'on_site',            'repairing',          'engineer',   false, false, 'the repair starts'),
    ('work_order', 'on_site',            'cancelled',          'dispatcher', true,  false, 'cancel (e.g. nobody on site)'),
    ('work_order', 'repairing',          'awaiting_signature', 'engineer',   false, false, 'done: the content is frozen for the customer''s signature'),
    ('work_order', 'repairing',          'cancelled',          'dispatcher', true,  false, 'cancel'),
    ('work_order', 'awaiting_signature', 'repairing',         'engineer',   true,  false, 'more work before the signature (the frozen content is dropped)'),
    ('work_order', 'awaiting_signature', 'completed',         'engineer',   false, true,  'the customer signed the frozen content (sign_work_order() only; the resolve SLA is met)'),
    ('work_order', 'awaiting_signature', 'cancelled',         'dispatcher', true,  false, 'cancel (e.g. the customer refuses to sign)'),
    ('work_order', 'completed',          'closed',             'dispatcher', false, false, 'close after review'),
    ('work_order', 'completed',          'closed',             'system',     false, false, 'close after review (e.g. invoiced)'),
    ('work_order', 'completed',          'reopened',           'dispatcher', true,  false, 'reopen (the customer calls back)'),
    ('work_order', 'closed',             'reopened',           'dispatcher', true,  false, 'reopen a closed order (warranty)'),
    ('work_order', 'reopened',           'dispatched',         'dispatcher', false, false, 'dispatch the reopened order'),
    ('work_order', 'reopened',           'dispatched',         'system',     false, false, 'dispatch the reopened order'),
    ('work_order', 'reopened',           'closed',             'dispatcher', true,  false, 'close without more work');

--
-- Work orders
--
CREATE TABLE fieldops.work_order (
    tenant_id             bigint NOT NULL REFERENCES fieldops.tenant (tenant_id),
    work_order_id         bigserial NOT NULL,
    reference             text,
    customer_id           bigint NOT NULL,
    title                 text NOT NULL,
    description           text,
    priority              text NOT NULL DEFAULT 'normal' CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    geom                  geometry(Point, 4326) NOT NULL,
    state                 text NOT NULL DEFAULT 'created'
                          CHECK (state IN ('created', 'dispatched', 'accepted', 'travelling', 'on_site', 'repairing',
                                           'awaiting_signature', 'completed', 'closed', 'cancelled', 'reopened')),
    dispatcher_worker_id  bigint,
    engineer_worker_id    bigint,
    created_at            timestamptz NOT NULL,
    state_changed_at      timestamptz NOT NULL,
    respond_by            timestamptz NOT NULL,
    resolve_by            timestamptz NOT NULL,
    responded_at          timestamptz,
    resolved_at           timestamptz,
    respond_breached_at   timestamptz,
    resolve_breached_at   timestamptz,
    content_sha256        bytea CHECK (pg_catalog.length(content_sha256) = 32),
    closed_at             timestamptz,
    reopen_count          integer NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, work_order_id),
    UNIQUE (tenant_id, reference),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES fieldops.customer (tenant_id, customer_id),
    FOREIGN KEY (tenant_id, dispatcher_worker_id) REFERENCES fieldops.worker (tenant_id, worker_id),
    FOREIGN KEY (tenant_id, engineer_worker_id) REFERENCES fieldops.worker (tenant_id, worker_id),
    CONSTRAINT work_order_engineer CHECK (CASE state WHEN 'created' THEN engineer_worker_id IS NULL
                                                     WHEN 'cancelled' THEN true
                                                     ELSE engineer_worker_id IS NOT NULL END),
    CONSTRAINT work_order_frozen CHECK (state <> 'awaiting_signature' OR content_sha256 IS NOT NULL),
    CONSTRAINT work_order_sla_order CHECK (resolve_by >= respond_by)
);
CREATE INDEX work_order_engineer_idx ON fieldops.work_order (tenant_id, engineer_worker_id, state);
CREATE INDEX work_order_customer_idx ON fieldops.work_order (tenant_id, customer_id);
-- the SLA job's candidates
CREATE INDEX work_order_respond_due_idx ON fieldops.work_order (tenant_id, respond_by)
    WHERE responded_at IS NULL AND respond_breached_at IS NULL AND state <> 'cancelled';
CREATE INDEX work_order_resolve_due_idx ON fieldops.work_order (tenant_id, resolve_by)
    WHERE resolved_at IS NULL AND resolve_breached_at IS NULL AND state <> 'cancelled';
COMMENT ON TABLE fieldops.work_order IS
'After-sales work orders: a customer, an engineer, a state per fieldops.state_transition (machine work_order), SLA deadlines fixed at creation and when each was met or breached, and while awaiting the customer''s signature the SHA-256 of its frozen content (after completion: the signed one). Changed only through the work order API; each change of state in fieldops.work_order_history.';
COMMENT ON COLUMN fieldops.work_order.respond_by IS 'The order must be accepted by an engineer by then (setting work_order_respond_min_<priority> at creation).';
COMMENT ON COLUMN fieldops.work_order.resolve_by IS 'The order must be completed (signed by the customer) by then (setting work_order_resolve_min_<priority> at creation).';

CREATE TABLE fieldops.work_order_history (
    tenant_id           bigint NOT NULL,
    history_id          bigserial NOT NULL,
    work_order_id       bigint NOT NULL,
    at                  timestamptz NOT NULL,
    from_state          text,
    to_state            text NOT NULL,
    actor_worker_id     bigint,
    actor_role          text NOT NULL CHECK (actor_role IN ('dispatcher', 'engineer', 'system')),
    reason              text,
    engineer_worker_id  bigint,
    PRIMARY KEY (tenant_id, history_id),
    FOREIGN KEY (tenant_id, work_order_id) REFERENCES fieldops.work_order (tenant_id, work_order_id),
    FOREIGN KEY (tenant_id, actor_worker_id) REFERENCES fieldops.worker (tenant_id, worker_id),
    CONSTRAINT work_order_history_actor CHECK ((actor_worker_id IS NULL) = (actor_role = 'system'))
);
CREATE INDEX work_order_history_order_idx ON fieldops.work_order_history (tenant_id, work_order_id, history_id);
COMMENT ON TABLE fieldops.work_order_history IS
'Append-only: every change of a work order''s state (from_state NULL: its creation), who made it in which role, when, why, and the engineer it left.';

--
-- Spare parts
--
CREATE TABLE fieldops.stock_location (
    tenant_id    bigint NOT NULL REFERENCES fieldops.tenant (tenant_id),
    location_id  bigserial NOT NULL,
    code         text NOT NULL,
    name         text NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('van', 'warehouse')),
    worker_id    bigint,
    active       boolean NOT NULL DEFAULT true,
    created_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (tenant_id, location_id),
    UNIQUE (tenant_id, code),
    FOREIGN KEY (tenant_id, worker_id) REFERENCES fieldops.worker (tenant_id, worker_id)
);
COMMENT ON TABLE fieldops.stock_location IS
'Where spare parts are kept: a warehouse, or an engineer''s van (worker_id: whose van).';

CREATE TABLE fieldops.part (
    tenant_id   bigint NOT NULL REFERENCES fieldops.tenant (tenant_id),
    part_id     bigserial NOT NULL,
    sku         text NOT NULL,
    name        text NOT NULL,
    unit        text NOT NULL DEFAULT 'pcs',
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (tenant_id, part_id),
    UNIQUE (tenant_id, sku)
);
COMMENT ON TABLE fieldops.part IS 'The spare parts catalogue: SKU, name and unit (pcs, m, L, ...); inactive parts can still be returned, not issued.';

CREATE TABLE fieldops.stock_level (
    tenant_id    bigint NOT NULL,
    location_id  bigint NOT NULL,
    part_id      bigint NOT NULL,
    on_hand      numeric(14, 3) NOT NULL DEFAULT 0 CHECK (on_hand >= 0),
    updated_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (tenant_id, location_id, part_id),
    FOREIGN KEY (tenant_id, location_id) REFERENCES fieldops.stock_location (tenant_id, location_id),
    FOREIGN KEY (tenant_id, part_id) REFERENCES fieldops.part (tenant_id, part_id)
);
COMMENT ON TABLE fieldops.stock_level IS
'How many of each part each location holds; never below zero (guarded updates, and this CHECK behind them). Equal to the sum of its movements in fieldops.stock_movement (check_stock_invariants()).';

CREATE TABLE fieldops.work_order_part (
    tenant_id      bigint NOT NULL,
    work_order_id  bigint NOT NULL,
    part_id        bigint NOT NULL,
    issued         numeric(14, 3) NOT NULL DEFAULT 0 CHECK (issued >= 0),
    consumed       numeric(14, 3) NOT NULL DEFAULT 0 CHECK (consumed >= 0),
    returned       numeric(14, 3) NOT NULL DEFAULT 0 CHECK (returned >= 0),
    PRIMARY KEY (tenant_id, work_order_id, part_id),
    FOREIGN KEY (tenant_id, work_order_id) REFERENCES fieldops.work_order (tenant_id, work_order_id),
    FOREIGN KEY (tenant_id, part_id) REFERENCES fieldops.part (tenant_id, part_id),
    CONSTRAINT work_order_part_balance CHECK (consumed + returned <= issued)
);
COMMENT ON TABLE fieldops.work_order_part IS
'The parts of a work order: issued to it from locations, consumed on it (the content the customer signs), returned unused; issued - consumed - returned is what the engineer still carries for it.';

CREATE TABLE fieldops.stock_movement (
    tenant_id        bigint NOT NULL,
    movement_id      bigserial NOT NULL,
    at               timestamptz NOT NULL,
    kind             text NOT NULL CHECK (kind IN ('receive', 'issue', 'consume', 'return')),
    part_id          bigint NOT NULL,
    location_id      bigint,
    work_order_id    bigint,
    quantity         numeric(14, 3) NOT NULL CHECK (quantity > 0),
    on_hand_after    numeric(14, 3),
    actor_worker_id  bigint,
    note             text,
    PRIMARY KEY (tenant_id, movement_id),
    FOREIGN KEY (tenant_id, part_id) REFERENCES fieldops.part (tenant_id, part_id),
    FOREIGN KEY (tenant_id, location_id) REFERENCES fieldops.stock_location (tenant_id, location_id),
    FOREIGN KEY (tenant_id, work_order_id) REFERENCES fieldops.work_order (tenant_id, work_order_id),
    FOREIGN KEY (tenant_id, actor_worker_id) REFERENCES fieldops.worker (tenant_id, worker_id),
    -- receive: into a location; issue: location -> order; consume: on the order; return: order -> location
    CONSTRAINT stock_movement_shape CHECK (CASE kind
        WHEN 'receive' THEN location_id IS NOT NULL AND work_order_id IS NULL AND on_hand_after IS NOT NULL
        WHEN 'consume' THEN location_id IS NULL AND work_order_id IS NOT NULL AND on_hand_after IS NULL
        ELSE location_id IS NOT NULL AND work_order_id IS NOT NULL AND on_hand_after IS NOT NULL END)
);
CREATE INDEX stock_movement_location_idx ON fieldops.stock_movement (tenant_id, location_id, part_id, movement_id);
CREATE INDEX stock_movement_order_idx ON fieldops.stock_movement (tenant_id, work_order_id, part_id);
COMMENT ON TABLE fieldops.stock_movement IS
'Append-only stock ledger: every receipt into a location, issue from a location to a work order, consumption on an order and return to a location, with the location''s level after it.';

CREATE TABLE fieldops.work_order_labour (
    tenant_id      bigint NOT NULL,
    labour_id      bigserial NOT NULL,
    work_order_id  bigint NOT NULL,
    worker_id      bigint NOT NULL,
    started_at     timestamptz NOT NULL,
    ended_at       timestamptz NOT NULL,
    note           text,
    recorded_at    timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, labour_id),
    FOREIGN KEY (tenant_id, work_order_id) REFERENCES fieldops.work_order (tenant_id, work_order_id),
    FOREIGN KEY (tenant_id, worker_id) REFERENCES fieldops.worker (tenant_id, worker_id),
    CONSTRAINT work_order_labour_interval CHECK (ended_at > started_at)
);
CREATE INDEX work_order_labour_order_idx ON fieldops.work_order_labour (tenant_id, work_order_id, started_at);
COMMENT ON TABLE fieldops.work_order_labour IS 'Append-only: the engineer''s working time on a work order, part of the content the customer signs.';

CREATE TABLE fieldops.work_order_signature (
    tenant_id       bigint NOT NULL,
    signature_id    bigserial NOT NULL,
    work_order_id   bigint NOT NULL,
    signed_at       timestamptz NOT NULL,
    device_id       bigint NOT NULL,
    worker_id       bigint NOT NULL,
    key_id          bytea NOT NULL,
    algorithm       text NOT NULL CHECK (algorithm IN ('es256', 'ed25519')),
    signer_name     text NOT NULL,
    content         text NOT NULL,
    content_sha256  bytea NOT NULL CHECK (pg_catalog.length(content_sha256) = 32),
    message         bytea NOT NULL,
    signature       bytea NOT NULL,
    PRIMARY KEY (tenant_id, signature_id),
    FOREIGN KEY (tenant_id, work_order_id) REFERENCES fieldops.work_order (tenant_id, work_order_id),
    FOREIGN KEY (tenant_id, device_id) REFERENCES fieldops.device (tenant_id, device_id),
    FOREIGN KEY (tenant_id, worker_id) REFERENCES fieldops.worker (tenant_id, worker_id),
    FOREIGN KEY (tenant_id, key_id) REFERENCES fieldops.device_key (tenant_id, key_id)
);
CREATE INDEX work_order_signature_order_idx ON fieldops.work_order_signature (tenant_id, work_order_id, signature_id);
COMMENT ON TABLE fieldops.work_order_signature IS
'Append-only: every customer confirmation accepted by sign_work_order(): the canonical content as signed, its SHA-256, the exact message and signature bytes and the device key, so that verify_work_order_signatures() can check it again at any time.';

--
-- Helpers
--
CREATE FUNCTION fieldops.check_quantity(p_quantity numeric, p_arg text)
RETURNS numeric
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
BEGIN
    IF p_quantity IS NULL THEN
        RAISE EXCEPTION '% must not be null', p_arg USING ERRCODE = '22004';
    END IF;
    IF p_quantity OPERATOR(pg_catalog.<=) 0 OR p_quantity OPERATOR(pg_catalog.>) 1000000
       OR p_quantity OPERATOR(pg_catalog.<>) pg_catalog.round(p_quantity, 3) THEN
        RAISE EXCEPTION '% must be more than 0 and at most 1000000, with at most 3 decimals, got %', p_arg, p_quantity
            USING ERRCODE = '22023';
    END IF;
    RETURN p_quantity;
END
$$;
COMMENT ON FUNCTION fieldops.check_quantity(numeric, text) IS 'Internal: a quantity of parts: > 0, at most 1 000 000, at most 3 decimals (22004, 22023).';

CREATE FUNCTION fieldops.sla_deadline(p_tenant_id bigint, p_kind text, p_priority text, p_from timestamptz)
RETURNS timestamptz
LANGUAGE sql STABLE
AS $$
    SELECT p_from OPERATOR(pg_catalog.+) pg_catalog.make_interval(mins =>
        (fieldops.tenant_setting(p_tenant_id, 'work_order_' OPERATOR(pg_catalog.||) p_kind OPERATOR(pg_catalog.||) '_min_'
                                 OPERATOR(pg_catalog.||) p_priority) #>> '{}')::integer)
$$;
COMMENT ON FUNCTION fieldops.sla_deadline(bigint, text, text, timestamptz) IS
'Internal: p_from plus the tenant''s work_order_<p_kind>_min_<p_priority> minutes (p_kind respond or resolve).';

CREATE FUNCTION fieldops.work_order_roles(p_tenant_id bigint, p_order fieldops.work_order, p_actor bigint)
RETURNS text[]
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    v_roles text[] := '{}';
    v_team bigint;
BEGIN
    IF p_actor IS NULL THEN
        RETURN ARRAY['system'];
    END IF;
    IF p_actor OPERATOR(pg_catalog.=) p_order.engineer_worker_id THEN
        v_roles := v_roles OPERATOR(pg_catalog.||) 'engineer'::text;
    END IF;
    SELECT w.team_id INTO v_team FROM fieldops.worker w
     WHERE w.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND w.worker_id OPERATOR(pg_catalog.=) p_order.engineer_worker_id;
    IF fieldops.is_dispatcher(p_tenant_id, p_actor, p_order.dispatcher_worker_id, ARRAY[v_team]) THEN
        v_roles := v_roles OPERATOR(pg_catalog.||) 'dispatcher'::text;
    END IF;
    RETURN v_roles;
END
$$;
COMMENT ON FUNCTION fieldops.work_order_roles(bigint, fieldops.work_order, bigint) IS
'Internal: the roles worker p_actor holds for a work order (engineer, dispatcher; system for NULL).';

CREATE FUNCTION fieldops.lock_work_order(p_tenant_id bigint, p_work_order_id bigint)
RETURNS fieldops.work_order
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    w fieldops.work_order;
BEGIN
    SELECT * INTO w FROM fieldops.work_order
     WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND work_order_id OPERATOR(pg_catalog.=) p_work_order_id
       FOR NO KEY UPDATE;
    RETURN w;
END
$$;
COMMENT ON FUNCTION fieldops.lock_work_order(bigint, bigint) IS 'Internal: lock a work order row (all NULL when the tenant has no such order).';

CREATE FUNCTION fieldops.work_order_live(p_order fieldops.work_order)
RETURNS jsonb
LANGUAGE sql IMMUTABLE
AS $$
    SELECT pg_catalog.jsonb_build_object('state', p_order.state, 'engineer_worker_id', p_order.engineer_worker_id)
$$;
COMMENT ON FUNCTION fieldops.work_order_live(fieldops.work_order) IS 'Internal: the ids and state of a work order a NOTIFY on the dispatch channel carries.';

-- one SLA breach, the order locked and the breach column just set
CREATE FUNCTION fieldops.work_order_breach_event(p_tenant_id bigint, p_order fieldops.work_order, p_sla text, p_at timestamptz)
RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
    PERFORM fieldops.dispatch_event(p_tenant_id, 'work_order.sla_breached', 'work_order', p_order.work_order_id,
        pg_catalog.jsonb_build_object('sla', p_sla,
                                      'due_at', CASE p_sla WHEN 'respond' THEN p_order.respond_by ELSE p_order.resolve_by END,
                                      'detected_at', p_at, 'state', p_order.state, 'priority', p_order.priority,
                                      'engineer_worker_id', p_order.engineer_worker_id, 'customer_id', p_order.customer_id),
        fieldops.work_order_live(p_order) OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('sla', p_sla));
END
$$;
COMMENT ON FUNCTION fieldops.work_order_breach_event(bigint, fieldops.work_order, text, timestamptz) IS
'Internal: the outbox event work_order.sla_breached (sla respond or resolve, its deadline, when it was detected) and its NOTIFY.';

--
-- The canonical content the customer signs
--
CREATE FUNCTION fieldops.canonical_line(p_key text, p_value text)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT p_key OPERATOR(pg_catalog.||) '=' OPERATOR(pg_catalog.||)
           pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(COALESCE(p_value, ''), E'\\', E'\\\\'), E'\n', E'\\n'), E'\r', E'\\r')
           OPERATOR(pg_catalog.||) E'\n'
$$;
COMMENT ON FUNCTION fieldops.canonical_line(text, text) IS
'Internal: one line of a canonical serialisation: key=value and LF, the value with backslash, LF and CR escaped as \\, \n and \r (NULL: empty).';

CREATE FUNCTION fieldops.canonical_time(p_at timestamptz)
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT pg_catalog.to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;
COMMENT ON FUNCTION fieldops.canonical_time(timestamptz) IS 'Internal: a time in a canonical serialisation: UTC, ISO 8601 with milliseconds (2026-11-28T09:30:00.000Z); NULL stays NULL.';

CREATE FUNCTION fieldops.work_order_canonical(p_tenant_id bigint, p_work_order_id bigint)
RETURNS text
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    w fieldops.work_order;
    c fieldops.customer;
    e fieldops.worker;
    r record;
    s text;
    n integer := 0;
    v_minutes bigint := 0;
    v text;
BEGIN
    SELECT * INTO w FROM fieldops.work_order x
     WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.work_order_id OPERATOR(pg_catalog.=) p_work_order_id;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    SELECT * INTO c FROM fieldops.customer x
     WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.customer_id OPERATOR(pg_catalog.=) w.customer_id;
    SELECT * INTO e FROM fieldops.worker x
     WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.worker_id OPERATOR(pg_catalog.=) w.engineer_worker_id;
    v := 'fieldops-work-order-v1' OPERATOR(pg_catalog.||) E'\n'
        OPERATOR(pg_catalog.||) fieldops.canonical_line('tenant_id', p_tenant_id::text)
        OPERATOR(pg_catalog.||) fieldops.canonical_line('work_order_id', w.work_order_id::text)
        OPERATOR(pg_catalog.||) fieldops.canonical_line('reference', w.reference)
        OPERATOR(pg_catalog.||) fieldops.canonical_line('customer_id', w.customer_id::text)
        OPERATOR(pg_catalog.||) fieldops.canonical_line('customer_ref', c.external_ref)
        OPERATOR(pg_catalog.||) fieldops.canonical_line('customer_name', c.name)
        OPERATOR(pg_catalog.||) fieldops.canonical_line('title', w.title)
        OPERATOR(pg_catalog.||) fieldops.canonical_line('description', w.description)
        OPERATOR(pg_catalog.||) fieldops.canonical_line('priority', w.priority)
        OPERATOR(pg_catalog.||) fieldops.canonical_line('site_lon', pg_catalog.round(public.ST_X(w.geom)::numeric, 7)::text)
        OPERATOR(pg_catalog.||) fieldops.canonical_line('site_lat', pg_catalog.round(public.ST_Y(w.geom)::numeric, 7)::text)
        OPERATOR(pg_catalog.||) fieldops.canonical_line('engineer_id', w.engineer_worker_id::text)
        OPERATOR(pg_catalog.||) fieldops.canonical_line('engineer_ref', e.external_ref)
        OPERATOR(pg_catalog.||) fieldops.canonical_line('engineer_name', e.name)
        OPERATOR(pg_catalog.||) fieldops.canonical_line('created_at', fieldops.canonical_time(w.created_at));
    -- the times: when the order last entered each working state
    FOREACH s IN ARRAY ARRAY['accepted', 'travelling', 'on_site', 'repairing', 'awaiting_signature'] LOOP
        v := v OPERATOR(pg_catalog.||) fieldops.canonical_line(s OPERATOR(pg_catalog.||) '_at', fieldops.canonical_time(
                 (SELECT pg_catalog.max(h.at) FROM fieldops.work_order_history h
                   WHERE h.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND h.work_order_id OPERATOR(pg_catalog.=) p_work_order_id
                     AND h.to_state OPERATOR(pg_catalog.=) s)));
    END LOOP;
    -- the parts consumed, by SKU in byte order (independent of the collation)
    v := v OPERATOR(pg_catalog.||) fieldops.canonical_line('parts', (SELECT pg_catalog.count(*) FROM fieldops.work_order_part wp
            WHERE wp.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND wp.work_order_id OPERATOR(pg_catalog.=) p_work_order_id
              AND wp.consumed OPERATOR(pg_catalog.>) 0)::text);
    FOR r IN SELECT p.sku, p.name, p.unit, wp.consumed
               FROM fieldops.work_order_part wp
               JOIN fieldops.part p ON p.tenant_id OPERATOR(pg_catalog.=) wp.tenant_id AND p.part_id OPERATOR(pg_catalog.=) wp.part_id
              WHERE wp.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND wp.work_order_id OPERATOR(pg_catalog.=) p_work_order_id
                AND wp.consumed OPERATOR(pg_catalog.>) 0
              ORDER BY p.sku COLLATE "C", p.part_id LOOP
        n := n OPERATOR(pg_catalog.+) 1;
        s := 'part.' OPERATOR(pg_catalog.||) n::text OPERATOR(pg_catalog.||) '.';
        v := v OPERATOR(pg_catalog.||) fieldops.canonical_line(s OPERATOR(pg_catalog.||) 'sku', r.sku)
               OPERATOR(pg_catalog.||) fieldops.canonical_line(s OPERATOR(pg_catalog.||) 'name', r.name)
               OPERATOR(pg_catalog.||) fieldops.canonical_line(s OPERATOR(pg_catalog.||) 'unit', r.unit)
               OPERATOR(pg_catalog.||) fieldops.canonical_line(s OPERATOR(pg_catalog.||) 'quantity', pg_catalog.trim_scale(r.consumed)::text);
    END LOOP;
    -- the labour, in time order
    n := 0;
    v := v OPERATOR(pg_catalog.||) fieldops.canonical_line('labour', (SELECT pg_catalog.count(*) FROM fieldops.work_order_labour l
            WHERE l.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND l.work_order_id OPERATOR(pg_catalog.=) p_work_order_id)::text);
    FOR r IN SELECT l.started_at, l.ended_at, l.note, x.external_ref, x.name,
                    pg_catalog.round(pg_catalog.extract('epoch', l.ended_at OPERATOR(pg_catalog.-) l.started_at) OPERATOR(pg_catalog./) 60)::bigint AS minutes
               FROM fieldops.work_order_labour l
               JOIN fieldops.worker x ON x.tenant_id OPERATOR(pg_catalog.=) l.tenant_id AND x.worker_id OPERATOR(pg_catalog.=) l.worker_id
              WHERE l.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND l.work_order_id OPERATOR(pg_catalog.=) p_work_order_id
              ORDER BY l.started_at, l.labour_id LOOP
        n := n OPERATOR(pg_catalog.+) 1;
        s := 'labour.' OPERATOR(pg_catalog.||) n::text OPERATOR(pg_catalog.||) '.';
        v := v OPERATOR(pg_catalog.||) fieldops.canonical_line(s OPERATOR(pg_catalog.||) 'worker_ref', r.external_ref)
               OPERATOR(pg_catalog.||) fieldops.canonical_line(s OPERATOR(pg_catalog.||) 'worker_name', r.name)
               OPERATOR(pg_catalog.||) fieldops.canonical_line(s OPERATOR(pg_catalog.||) 'started_at', fieldops.canonical_time(r.started_at))
               OPERATOR(pg_catalog.||) fieldops.canonical_line(s OPERATOR(pg_catalog.||) 'ended_at', fieldops.canonical_time(r.ended_at))
               OPERATOR(pg_catalog.||) fieldops.canonical_line(s OPERATOR(pg_catalog.||) 'minutes', r.minutes::text)
               OPERATOR(pg_catalog.||) fieldops.canonical_line(s OPERATOR(pg_catalog.||) 'note', r.note);
        v_minutes := v_minutes OPERATOR(pg_catalog.+) r.minutes;
    END LOOP;
    v := v OPERATOR(pg_catalog.||) fieldops.canonical_line('labour_minutes', v_minutes::text);
    RETURN v;
END
$$;
COMMENT ON FUNCTION fieldops.work_order_canonical(bigint, bigint) IS
'Internal: the canonical serialisation v1 of a work order, the text whose SHA-256 the customer signs. UTF-8 lines "key=value" each ended by LF, values escaped (\\, \n, \r), absent values empty, in this order: the line fieldops-work-order-v1; tenant_id, work_order_id, reference, customer_id, customer_ref, customer_name, title, description, priority, site_lon, site_lat (7 decimals), engineer_id, engineer_ref, engineer_name, created_at; accepted_at, travelling_at, on_site_at, repairing_at, awaiting_signature_at (when it last entered each; UTC ISO 8601 with milliseconds); parts=N then part.i.sku, .name, .unit, .quantity (consumed, no trailing zeros) by SKU in byte order; labour=N then labour.i.worker_ref, .worker_name, .started_at, .ended_at, .minutes (rounded), .note in time order; labour_minutes (their sum).';

CREATE FUNCTION fieldops.work_order_content(p_tenant_id bigint, p_work_order_id bigint, OUT content text, OUT content_sha256 bytea)
RETURNS record
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    PERFORM fieldops.check_id_arg(p_work_order_id, 'p_work_order_id');
    content := fieldops.work_order_canonical(p_tenant_id, p_work_order_id);
    content_sha256 := pg_catalog.sha256(pg_catalog.convert_to(content, 'UTF8'));
END
$$;
COMMENT ON FUNCTION fieldops.work_order_content(bigint, bigint) IS
'The work order''s current canonical content (the text the app shows the customer before signing) and its SHA-256 (what the device signs, inside work_order_signing_message()); NULLs when the tenant has no such order. The format is in the comment of fieldops.work_order_canonical().';

CREATE FUNCTION fieldops.work_order_signing_message(p_tenant_id bigint, p_work_order_id bigint, p_content_sha256 bytea, p_signer_name text)
RETURNS bytea
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT pg_catalog.convert_to('fieldops-work-order-signature-v1' OPERATOR(pg_catalog.||) E'\n'
        OPERATOR(pg_catalog.||) fieldops.canonical_line('tenant_id', p_tenant_id::text)
        OPERATOR(pg_catalog.||) fieldops.canonical_line('work_order_id', p_work_order_id::text)
        OPERATOR(pg_catalog.||) fieldops.canonical_line('content_sha256', pg_catalog.encode(p_content_sha256, 'hex'))
        OPERATOR(pg_catalog.||) fieldops.canonical_line('signer_name', p_signer_name), 'UTF8')
$$;
COMMENT ON FUNCTION fieldops.work_order_signing_message(bigint, bigint, bytea, text) IS
'The exact bytes a device signs to confirm a work order: UTF-8 of the line fieldops-work-order-signature-v1 and the lines tenant_id, work_order_id, content_sha256 (lower-case hex) and signer_name (the customer''s name as typed), each key=value and LF, escaped like the content.';

--
-- Changes of state
--
-- One change of state of a locked work order: the transition table
-- decides; then the history, the row (with its SLA and frozen content) and
-- the events.  p_engineer: the new engineer (to dispatched); p_signed: only
-- sign_work_order() passes true; p_detail: more for the event.
CREATE FUNCTION fieldops.work_order_transition(p_tenant_id bigint, p_order fieldops.work_order, p_to text, p_actor bigint,
                                               p_reason text, p_engineer bigint DEFAULT NULL, p_signed boolean DEFAULT false,
                                               p_detail jsonb DEFAULT '{}')
RETURNS text
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    v_check record;
    v_at timestamptz;
    v_engineer bigint := p_order.engineer_worker_id;
    v_history bigint;
    v_hash bytea := p_order.content_sha256;
    v_respond_breach boolean := false;
    v_resolve_breach boolean := false;
    w fieldops.work_order;
BEGIN
    IF p_to OPERATOR(pg_catalog.=) 'dispatched' AND p_order.state OPERATOR(pg_catalog.=) 'dispatched'
       AND p_order.engineer_worker_id IS NOT DISTINCT FROM p_engineer THEN
        RETURN 'unchanged';
    END IF;
    v_check := fieldops.transition_check('work_order', p_order.state, p_to,
                                         fieldops.work_order_roles(p_tenant_id, p_order, p_actor), p_reason, p_signed);
    IF v_check.status OPERATOR(pg_catalog.<>) 'ok' THEN
        RETURN v_check.status;
    END IF;

    v_at := pg_catalog.clock_timestamp();
    IF p_to OPERATOR(pg_catalog.=) 'dispatched' THEN
        v_engineer := p_engineer;
    ELSIF p_to OPERATOR(pg_catalog.=) 'created' THEN
        v_engineer := NULL;
    END IF;
    INSERT INTO fieldops.work_order_history (tenant_id, work_order_id, at, from_state, to_state, actor_worker_id, actor_role,
                                             reason, engineer_worker_id)
    VALUES (p_tenant_id, p_order.work_order_id, v_at, p_order.state, p_to, p_actor, v_check.actor_role, p_reason, v_engineer)
    RETURNING history_id INTO v_history;
    IF p_to OPERATOR(pg_catalog.=) 'awaiting_signature' THEN
        -- freeze: the content as it is now, its state times included
        v_hash := pg_catalog.sha256(pg_catalog.convert_to(fieldops.work_order_canonical(p_tenant_id, p_order.work_order_id), 'UTF8'));
    ELSIF p_to IN ('repairing', 'cancelled', 'reopened', 'created', 'dispatched') THEN
        v_hash := NULL;
    END IF;
    -- a late first response or resolution is a breach, unless the job saw it first
    v_respond_breach := p_to OPERATOR(pg_catalog.=) 'accepted' AND p_order.responded_at IS NULL
                        AND p_order.respond_breached_at IS NULL AND v_at OPERATOR(pg_catalog.>) p_order.respond_by;
    v_resolve_breach := p_to OPERATOR(pg_catalog.=) 'completed' AND p_order.resolved_at IS NULL
                        AND p_order.resolve_breached_at IS NULL AND v_at OPERATOR(pg_catalog.>) p_order.resolve_by;
    UPDATE fieldops.work_order
       SET state = p_to, engineer_worker_id = v_engineer, state_changed_at = v_at, content_sha256 = v_hash,
           responded_at = CASE WHEN p_to OPERATOR(pg_catalog.=) 'accepted' THEN COALESCE(responded_at, v_at) ELSE responded_at END,
           resolved_at = CASE WHEN p_to OPERATOR(pg_catalog.=) 'completed' THEN COALESCE(resolved_at, v_at) ELSE resolved_at END,
           respond_breached_at = CASE WHEN v_respond_breach THEN v_at ELSE respond_breached_at END,
           resolve_breached_at = CASE WHEN v_resolve_breach THEN v_at ELSE resolve_breached_at END,
           closed_at = CASE WHEN p_to OPERATOR(pg_catalog.=) 'closed' THEN v_at ELSE NULL END,
           reopen_count = reopen_count OPERATOR(pg_catalog.+) (p_to OPERATOR(pg_catalog.=) 'reopened')::integer
     WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND work_order_id OPERATOR(pg_catalog.=) p_order.work_order_id
    RETURNING * INTO w;
    PERFORM fieldops.dispatch_event(p_tenant_id,
        CASE WHEN p_to OPERATOR(pg_catalog.=) 'created' THEN 'work_order.returned' ELSE 'work_order.' OPERATOR(pg_catalog.||) p_to END,
        'work_order', w.work_order_id,
        pg_catalog.jsonb_build_object('from', p_order.state, 'to', p_to, 'actor_worker_id', p_actor, 'actor_role', v_check.actor_role,
                                      'reason', p_reason, 'engineer_worker_id', v_engineer,
                                      'previous_engineer_worker_id', p_order.engineer_worker_id, 'at', v_at,
                                      'content_sha256', pg_catalog.encode(v_hash, 'hex'))
            OPERATOR(pg_catalog.||) COALESCE(p_detail, '{}'),
        fieldops.work_order_live(w) OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('from', p_order.state, 'to', p_to,
            'actor_worker_id', p_actor, 'history_id', v_history));
    IF v_respond_breach THEN
        PERFORM fieldops.work_order_breach_event(p_tenant_id, w, 'respond', v_at);
    END IF;
    IF v_resolve_breach THEN
        PERFORM fieldops.work_order_breach_event(p_tenant_id, w, 'resolve', v_at);
    END IF;
    RETURN 'ok';
END
$$;
COMMENT ON FUNCTION fieldops.work_order_transition(bigint, fieldops.work_order, text, bigint, text, bigint, boolean, jsonb) IS
'Internal: apply one change of state to a locked work order if fieldops.transition_check() allows it (history, SLA response and resolution, a breach if late, the frozen content hash, outbox event work_order.<state> or work_order.returned, NOTIFY); otherwise return the refusal and write nothing.';

CREATE FUNCTION fieldops.create_work_order(p_tenant_id bigint, p_customer_id bigint, p_title text,
                                           p_priority text DEFAULT 'normal', p_description text DEFAULT NULL,
                                           p_location geometry DEFAULT NULL, p_reference text DEFAULT NULL,
                                           p_dispatcher_worker_id bigint DEFAULT NULL, p_engineer_worker_id bigint DEFAULT NULL)
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
    w fieldops.work_order;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    PERFORM fieldops.check_id_arg(p_customer_id, 'p_customer_id');
    v_title := fieldops.check_text(p_title, 'p_title', 200);
    v_description := fieldops.check_text(p_description, 'p_description', 4000, false);
    PERFORM fieldops.check_priority(p_priority);
    IF p_reference IS NOT NULL THEN
        PERFORM fieldops.check_code(p_reference, 'p_reference');
    END IF;
    v_geom := fieldops.check_point(p_location, 'p_location');
    SELECT COALESCE(v_geom, c.geom) INTO v_geom FROM fieldops.customer c
     WHERE c.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND c.customer_id OPERATOR(pg_catalog.=) p_customer_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'p_customer_id % is not a customer of tenant %', p_customer_id, p_tenant_id USING ERRCODE = '23503';
    END IF;
    IF v_geom IS NULL THEN
        RAISE EXCEPTION 'p_location is required: customer % has no position', p_customer_id USING ERRCODE = '22023',
            HINT = 'Pass ST_SetSRID(ST_MakePoint(lon, lat), 4326) of the site.';
    END IF;
    PERFORM fieldops.lock_actors(p_tenant_id, ARRAY[p_dispatcher_worker_id, p_engineer_worker_id],
                                 ARRAY['p_dispatcher_worker_id', 'p_engineer_worker_id']);

    v_at := pg_catalog.clock_timestamp();
    INSERT INTO fieldops.work_order (tenant_id, reference, customer_id, title, description, priority, geom, state,
                                     dispatcher_worker_id, created_at, state_changed_at, respond_by, resolve_by)
    VALUES (p_tenant_id, p_reference, p_customer_id, v_title, v_description, p_priority, v_geom, 'created',
            p_dispatcher_worker_id, v_at, v_at,
            fieldops.sla_deadline(p_tenant_id, 'respond', p_priority, v_at),
            GREATEST(fieldops.sla_deadline(p_tenant_id, 'resolve', p_priority, v_at),
                     fieldops.sla_deadline(p_tenant_id, 'respond', p_priority, v_at)))
    ON CONFLICT (tenant_id, reference) DO NOTHING
    RETURNING * INTO w;
    IF w.work_order_id IS NULL THEN
        RAISE EXCEPTION 'a work order with p_reference "%" already exists in tenant %', p_reference, p_tenant_id
            USING ERRCODE = '23505', HINT = 'Look it up in fieldops.work_order by reference.';
    END IF;
    v_id := w.work_order_id;
    INSERT INTO fieldops.work_order_history (tenant_id, work_order_id, at, from_state, to_state, actor_worker_id, actor_role)
    VALUES (p_tenant_id, v_id, v_at, NULL, 'created', p_dispatcher_worker_id,
            CASE WHEN p_dispatcher_worker_id IS NULL THEN 'system' ELSE 'dispatcher' END)
    RETURNING history_id INTO v_history;
    PERFORM fieldops.dispatch_event(p_tenant_id, 'work_order.created', 'work_order', v_id,
        pg_catalog.jsonb_build_object('reference', p_reference, 'customer_id', p_customer_id, 'title', v_title,
                                      'priority', p_priority, 'respond_by', w.respond_by, 'resolve_by', w.resolve_by,
                                      'dispatcher_worker_id', p_dispatcher_worker_id, 'at', v_at),
        fieldops.work_order_live(w) OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('to', 'created',
            'actor_worker_id', p_dispatcher_worker_id, 'history_id', v_history));
    IF p_engineer_worker_id IS NOT NULL THEN
        w := fieldops.lock_work_order(p_tenant_id, v_id);
        v_status := fieldops.work_order_transition(p_tenant_id, w, 'dispatched', p_dispatcher_worker_id, NULL, p_engineer_worker_id);
        IF v_status OPERATOR(pg_catalog.<>) 'ok' THEN
            RAISE EXCEPTION 'create_work_order: dispatching the new order was refused (%)', v_status USING ERRCODE = 'XX000';
        END IF;
    END IF;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION fieldops.create_work_order(bigint, bigint, text, text, text, geometry, text, bigint, bigint) IS
'Create a work order (state created) for a customer and return its id; the site is p_location or the customer''s position; respond_by and resolve_by come from the tenant''s SLA settings for p_priority (low, normal, high, urgent). p_dispatcher_worker_id: who creates it (NULL: the application); with p_engineer_worker_id it is dispatched at once. A duplicate p_reference is 23505. Events work_order.created (and work_order.dispatched).';

CREATE FUNCTION fieldops.dispatch_work_order(p_tenant_id bigint, p_work_order_id bigint, p_actor_worker_id bigint,
                                             p_engineer_worker_id bigint, p_reason text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    v_reason text;
    w fieldops.work_order;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    v_reason := fieldops.check_text(p_reason, 'p_reason', 500, false);
    PERFORM fieldops.check_id_arg(p_work_order_id, 'p_work_order_id');
    PERFORM fieldops.check_id_arg(p_engineer_worker_id, 'p_engineer_worker_id');
    PERFORM fieldops.lock_actors(p_tenant_id, ARRAY[p_actor_worker_id, p_engineer_worker_id],
                                 ARRAY['p_actor_worker_id', 'p_engineer_worker_id']);
    w := fieldops.lock_work_order(p_tenant_id, p_work_order_id);
    IF w.work_order_id IS NULL THEN
        RETURN 'not_found';
    END IF;
    RETURN fieldops.work_order_transition(p_tenant_id, w, 'dispatched', p_actor_worker_id, v_reason, p_engineer_worker_id);
END
$$;
COMMENT ON FUNCTION fieldops.dispatch_work_order(bigint, bigint, bigint, bigint, text) IS
'Dispatch a work order to an engineer: from created or reopened, or again (reassign, reason required) from dispatched or accepted. Returns ok, unchanged, not_found, invalid_transition, not_permitted or reason_required.';

CREATE FUNCTION fieldops.set_work_order_state(p_tenant_id bigint, p_work_order_id bigint, p_state text,
                                              p_actor_worker_id bigint, p_reason text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    v_reason text;
    w fieldops.work_order;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    v_reason := fieldops.check_text(p_reason, 'p_reason', 500, false);
    PERFORM fieldops.check_id_arg(p_work_order_id, 'p_work_order_id');
    IF p_state IS NULL OR NOT EXISTS (SELECT 1 FROM fieldops.state_transition t
                                       WHERE t.machine OPERATOR(pg_catalog.=) 'work_order'
                                         AND (t.to_state OPERATOR(pg_catalog.=) p_state OR t.from_state OPERATOR(pg_catalog.=) p_state)) THEN
        RAISE EXCEPTION 'p_state must be a work order state (created, dispatched, accepted, travelling, on_site, repairing, awaiting_signature, completed, closed, cancelled, reopened), got %',
            COALESCE(pg_catalog.quote_literal(p_state), 'NULL') USING ERRCODE = '22023';
    END IF;
    IF p_state OPERATOR(pg_catalog.=) 'dispatched' THEN
        RAISE EXCEPTION 'p_state dispatched needs an engineer' USING ERRCODE = '22023', HINT = 'Use fieldops.dispatch_work_order().';
    END IF;
    PERFORM fieldops.lock_actors(p_tenant_id, ARRAY[p_actor_worker_id], ARRAY['p_actor_worker_id']);
    w := fieldops.lock_work_order(p_tenant_id, p_work_order_id);
    IF w.work_order_id IS NULL THEN
        RETURN 'not_found';
    END IF;
    RETURN fieldops.work_order_transition(p_tenant_id, w, p_state, p_actor_worker_id, v_reason);
END
$$;
COMMENT ON FUNCTION fieldops.set_work_order_state(bigint, bigint, text, bigint, text) IS
'Move a work order to p_state as p_actor_worker_id (NULL: the application), with p_reason where fieldops.state_transition requires one. completed is only reached through sign_work_order() (signature_required here). Returns ok, unchanged, not_found, invalid_transition, not_permitted, signature_required or reason_required; only ok writes anything.';

--
-- The customer's signature
--
CREATE FUNCTION fieldops.sign_work_order(p_tenant_id bigint, p_work_order_id bigint, p_device_id bigint,
                                         p_content_sha256 bytea, p_signer_name text, p_signature bytea)
RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    v_signer text;
    d fieldops.device;
    k fieldops.device_key;
    w fieldops.work_order;
    v_message bytea;
    v_content text;
    v_current bytea;
    v_sig bigint;
    v_status text;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    v_signer := fieldops.check_text(p_signer_name, 'p_signer_name', 200);
    PERFORM fieldops.check_id_arg(p_work_order_id, 'p_work_order_id');
    IF p_content_sha256 IS NULL OR p_signature IS NULL THEN
        RAISE EXCEPTION 'p_content_sha256 and p_signature must not be null' USING ERRCODE = '22004';
    END IF;
    IF pg_catalog.length(p_content_sha256) OPERATOR(pg_catalog.<>) 32 THEN
        RAISE EXCEPTION 'p_content_sha256 must be the 32-byte SHA-256 from work_order_content(), got % bytes', pg_catalog.length(p_content_sha256)
            USING ERRCODE = '22023';
    END IF;
    IF pg_catalog.length(p_signature) OPERATOR(pg_catalog.>) 512 THEN
        RAISE EXCEPTION 'p_signature must be at most 512 bytes (ES256 DER is at most 72, Ed25519 64)' USING ERRCODE = '22023';
    END IF;
    d := fieldops.check_device(p_tenant_id, p_device_id);
    -- the phone's worker acts: it must be the order's engineer
    IF d.worker_id IS NOT NULL THEN
        PERFORM fieldops.lock_actors(p_tenant_id, ARRAY[d.worker_id], ARRAY['the device''s worker']);
    END IF;
    w := fieldops.lock_work_order(p_tenant_id, p_work_order_id);
    IF w.work_order_id IS NULL THEN
        RETURN 'not_found';
    END IF;
    IF w.state OPERATOR(pg_catalog.<>) 'awaiting_signature' THEN
        -- the same confirmation sent again after it completed the order
        IF w.state IN ('completed', 'closed') AND EXISTS (
               SELECT 1 FROM fieldops.work_order_signature s
                WHERE s.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND s.work_order_id OPERATOR(pg_catalog.=) p_work_order_id
                  AND s.content_sha256 OPERATOR(pg_catalog.=) p_content_sha256 AND s.signature OPERATOR(pg_catalog.=) p_signature
                  AND s.content_sha256 OPERATOR(pg_catalog.=) w.content_sha256) THEN
            RETURN 'unchanged';
        END IF;
        RETURN 'invalid_state';
    END IF;
    IF d.worker_id IS NULL OR d.worker_id IS DISTINCT FROM w.engineer_worker_id THEN
        RETURN 'not_permitted';
    END IF;
    SELECT * INTO k FROM fieldops.device_key x
     WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.device_id OPERATOR(pg_catalog.=) p_device_id
       AND x.status OPERATOR(pg_catalog.=) 'active';
    IF NOT FOUND THEN
        RETURN 'no_key';
    END IF;
    v_message := fieldops.work_order_signing_message(p_tenant_id, p_work_order_id, p_content_sha256, v_signer);
    IF NOT (CASE k.algorithm WHEN 'es256' THEN fieldops.es256_verify(v_message, p_signature, k.public_key)
                             ELSE fieldops.ed25519_verify(v_message, p_signature, k.public_key) END) THEN
        RETURN 'bad_signature';
    END IF;
    -- a genuine signature, but over what the order was, not what it is
    v_content := fieldops.work_order_canonical(p_tenant_id, p_work_order_id);
    v_current := pg_catalog.sha256(pg_catalog.convert_to(v_content, 'UTF8'));
    IF p_content_sha256 OPERATOR(pg_catalog.<>) v_current OR w.content_sha256 OPERATOR(pg_catalog.<>) v_current THEN
        RETURN 'stale';
    END IF;
    INSERT INTO fieldops.work_order_signature (tenant_id, work_order_id, signed_at, device_id, worker_id, key_id, algorithm,
                                               signer_name, content, content_sha256, message, signature)
    VALUES (p_tenant_id, p_work_order_id, pg_catalog.clock_timestamp(), p_device_id, d.worker_id, k.key_id, k.algorithm,
            v_signer, v_content, v_current, v_message, p_signature)
    RETURNING signature_id INTO v_sig;
    v_status := fieldops.work_order_transition(p_tenant_id, w, 'completed', d.worker_id, NULL, NULL, true,
        pg_catalog.jsonb_build_object('signature_id', v_sig, 'signer_name', v_signer, 'device_id', p_device_id,
                                      'key_id', pg_catalog.encode(k.key_id, 'hex')));
    IF v_status OPERATOR(pg_catalog.<>) 'ok' THEN
        RAISE EXCEPTION 'sign_work_order: completing the order was refused (%)', v_status USING ERRCODE = 'XX000';
    END IF;
    RETURN 'signed';
END
$$;
COMMENT ON FUNCTION fieldops.sign_work_order(bigint, bigint, bigint, bytea, text, bytea) IS
'The customer confirms a work order awaiting signature on the engineer''s phone: p_signature is the device''s enrolled key (ES256 or Ed25519) over work_order_signing_message(tenant, order, p_content_sha256, p_signer_name). Verified here; completes the order and keeps the signed content. Returns signed, unchanged (the same confirmation again), stale (a valid signature over a hash that is not the order''s current content), bad_signature, no_key (the device has no active key), not_permitted (the device is not the engineer''s), invalid_state or not_found.';

CREATE FUNCTION fieldops.verify_work_order_signatures(p_tenant_id bigint, p_work_order_id bigint)
RETURNS TABLE (signature_id bigint, signed_at timestamptz, signer_name text, algorithm text, key_status text,
               valid boolean, content_intact boolean, is_current boolean)
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    v_current bytea;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    PERFORM fieldops.check_id_arg(p_work_order_id, 'p_work_order_id');
    v_current := pg_catalog.sha256(pg_catalog.convert_to(fieldops.work_order_canonical(p_tenant_id, p_work_order_id), 'UTF8'));
    RETURN QUERY
    SELECT s.signature_id, s.signed_at, s.signer_name, s.algorithm, k.status,
           COALESCE(CASE s.algorithm WHEN 'es256' THEN fieldops.es256_verify(s.message, s.signature, k.public_key)
                                     ELSE fieldops.ed25519_verify(s.message, s.signature, k.public_key) END, false),
           pg_catalog.sha256(pg_catalog.convert_to(s.content, 'UTF8')) OPERATOR(pg_catalog.=) s.content_sha256
             AND s.message OPERATOR(pg_catalog.=) fieldops.work_order_signing_message(p_tenant_id, s.work_order_id, s.content_sha256, s.signer_name),
           s.content_sha256 OPERATOR(pg_catalog.=) v_current
      FROM fieldops.work_order_signature s
      LEFT JOIN fieldops.device_key k ON k.tenant_id OPERATOR(pg_catalog.=) s.tenant_id AND k.key_id OPERATOR(pg_catalog.=) s.key_id
     WHERE s.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND s.work_order_id OPERATOR(pg_catalog.=) p_work_order_id
     ORDER BY s.signature_id;
END
$$;
COMMENT ON FUNCTION fieldops.verify_work_order_signatures(bigint, bigint) IS
'Check a work order''s customer signatures again: valid (the stored signature verifies with the device key, whatever its status now), content_intact (the stored content hashes to the signed hash and the message is the one for it), is_current (the order''s content today is still the signed one: false after a reopening and more work).';

--
-- Spare parts
--
CREATE FUNCTION fieldops.upsert_part(p_tenant_id bigint, p_sku text, p_name text, p_unit text DEFAULT 'pcs',
                                     p_active boolean DEFAULT true)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    v_id bigint;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    PERFORM fieldops.check_code(p_sku, 'p_sku');
    INSERT INTO fieldops.part AS p (tenant_id, sku, name, unit, active)
    VALUES (p_tenant_id, p_sku, fieldops.check_text(p_name, 'p_name', 200), fieldops.check_text(p_unit, 'p_unit', 16),
            COALESCE(p_active, true))
    ON CONFLICT (tenant_id, sku) DO UPDATE
       SET name = EXCLUDED.name, unit = EXCLUDED.unit, active = EXCLUDED.active, updated_at = pg_catalog.now()
    RETURNING p.part_id INTO v_id;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION fieldops.upsert_part(bigint, text, text, text, boolean) IS
'Create or update the spare part with this SKU (name, unit such as pcs, m or L, active); returns part_id. An inactive part is no longer issued; it can still be returned.';

CREATE FUNCTION fieldops.upsert_stock_location(p_tenant_id bigint, p_code text, p_name text, p_kind text,
                                               p_worker_id bigint DEFAULT NULL, p_active boolean DEFAULT true)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    v_id bigint;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    PERFORM fieldops.check_code(p_code, 'p_code');
    IF p_kind IS NULL OR p_kind NOT IN ('van', 'warehouse') THEN
        RAISE EXCEPTION 'p_kind must be van or warehouse, got %', COALESCE(pg_catalog.quote_literal(p_kind), 'NULL') USING ERRCODE = '22023';
    END IF;
    IF p_worker_id IS NOT NULL AND p_kind OPERATOR(pg_catalog.<>) 'van' THEN
        RAISE EXCEPTION 'p_worker_id is the engineer of a van; a warehouse has none' USING ERRCODE = '22023';
    END IF;
    PERFORM fieldops.lock_actors(p_tenant_id, ARRAY[p_worker_id], ARRAY['p_worker_id']);
    INSERT INTO fieldops.stock_location AS l (tenant_id, code, name, kind, worker_id, active)
    VALUES (p_tenant_id, p_code, fieldops.check_text(p_name, 'p_name', 200), p_kind, p_worker_id, COALESCE(p_active, true))
    ON CONFLICT (tenant_id, code) DO UPDATE
       SET name = EXCLUDED.name, kind = EXCLUDED.kind, worker_id = EXCLUDED.worker_id, active = EXCLUDED.active
    RETURNING l.location_id INTO v_id;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION fieldops.upsert_stock_location(bigint, text, text, text, bigint, boolean) IS
'Create or update the stock location with this code: a warehouse, or a van (p_worker_id: its engineer); returns location_id. An inactive location issues and receives nothing; parts can still be returned to it.';

CREATE FUNCTION fieldops.check_stock_refs(p_tenant_id bigint, p_location_id bigint, p_part_id bigint, p_for_taking boolean)
RETURNS void
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    v_active boolean;
BEGIN
    IF p_location_id IS NOT NULL THEN
        PERFORM fieldops.check_id_arg(p_location_id, 'p_location_id');
        SELECT l.active INTO v_active FROM fieldops.stock_location l
         WHERE l.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND l.location_id OPERATOR(pg_catalog.=) p_location_id;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'p_location_id % is not a stock location of tenant %', p_location_id, p_tenant_id USING ERRCODE = '23503';
        END IF;
        IF p_for_taking AND NOT v_active THEN
            RAISE EXCEPTION 'stock location % is inactive', p_location_id USING ERRCODE = '55000';
        END IF;
    END IF;
    PERFORM fieldops.check_id_arg(p_part_id, 'p_part_id');
    SELECT p.active INTO v_active FROM fieldops.part p
     WHERE p.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND p.part_id OPERATOR(pg_catalog.=) p_part_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'p_part_id % is not a part of tenant %', p_part_id, p_tenant_id USING ERRCODE = '23503';
    END IF;
    IF p_for_taking AND NOT v_active THEN
        RAISE EXCEPTION 'part % is inactive', p_part_id USING ERRCODE = '55000';
    END IF;
END
$$;
COMMENT ON FUNCTION fieldops.check_stock_refs(bigint, bigint, bigint, boolean) IS
'Internal: the location (if given) and part are the tenant''s (22004, 22023, 23503) and, for receiving or issuing (p_for_taking), active (55000).';

-- a movement in the ledger
CREATE FUNCTION fieldops.stock_ledger(p_tenant_id bigint, p_kind text, p_part_id bigint, p_location_id bigint,
                                      p_work_order_id bigint, p_quantity numeric, p_on_hand_after numeric,
                                      p_actor bigint, p_note text)
RETURNS bigint
LANGUAGE sql VOLATILE
AS $$
    INSERT INTO fieldops.stock_movement (tenant_id, at, kind, part_id, location_id, work_order_id, quantity, on_hand_after,
                                         actor_worker_id, note)
    VALUES (p_tenant_id, pg_catalog.clock_timestamp(), p_kind, p_part_id, p_location_id, p_work_order_id, p_quantity,
            p_on_hand_after, p_actor, p_note)
    RETURNING movement_id
$$;
COMMENT ON FUNCTION fieldops.stock_ledger(bigint, text, bigint, bigint, bigint, numeric, numeric, bigint, text) IS 'Internal: append one movement to the stock ledger.';

-- take from a location: the guarded update, NULL when there is too little
CREATE FUNCTION fieldops.stock_take(p_tenant_id bigint, p_location_id bigint, p_part_id bigint, p_quantity numeric)
RETURNS numeric
LANGUAGE sql VOLATILE
AS $$
    UPDATE fieldops.stock_level
       SET on_hand = on_hand OPERATOR(pg_catalog.-) p_quantity, updated_at = pg_catalog.clock_timestamp()
     WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND location_id OPERATOR(pg_catalog.=) p_location_id
       AND part_id OPERATOR(pg_catalog.=) p_part_id AND on_hand OPERATOR(pg_catalog.>=) p_quantity
    RETURNING on_hand
$$;
COMMENT ON FUNCTION fieldops.stock_take(bigint, bigint, bigint, numeric) IS
'Internal: decrease a stock level only if it holds enough (a guarded UPDATE: a concurrent taker waits and re-checks); the level after, or NULL when too little.';

CREATE FUNCTION fieldops.stock_put(p_tenant_id bigint, p_location_id bigint, p_part_id bigint, p_quantity numeric)
RETURNS numeric
LANGUAGE sql VOLATILE
AS $$
    INSERT INTO fieldops.stock_level AS s (tenant_id, location_id, part_id, on_hand, updated_at)
    VALUES (p_tenant_id, p_location_id, p_part_id, p_quantity, pg_catalog.clock_timestamp())
    ON CONFLICT (tenant_id, location_id, part_id) DO UPDATE
       SET on_hand = s.on_hand OPERATOR(pg_catalog.+) EXCLUDED.on_hand, updated_at = EXCLUDED.updated_at
    RETURNING on_hand
$$;
COMMENT ON FUNCTION fieldops.stock_put(bigint, bigint, bigint, numeric) IS 'Internal: increase a stock level (made on first use); the level after.';

CREATE FUNCTION fieldops.receive_stock(p_tenant_id bigint, p_location_id bigint, p_part_id bigint, p_quantity numeric,
                                       p_actor_worker_id bigint DEFAULT NULL, p_note text DEFAULT NULL)
RETURNS numeric
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    v_note text;
    v_on_hand numeric;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    v_note := fieldops.check_text(p_note, 'p_note', 500, false);
    PERFORM fieldops.check_id_arg(p_location_id, 'p_location_id');
    PERFORM fieldops.check_stock_refs(p_tenant_id, p_location_id, p_part_id, true);
    PERFORM fieldops.check_quantity(p_quantity, 'p_quantity');
    PERFORM fieldops.lock_actors(p_tenant_id, ARRAY[p_actor_worker_id], ARRAY['p_actor_worker_id']);
    v_on_hand := fieldops.stock_put(p_tenant_id, p_location_id, p_part_id, p_quantity);
    PERFORM fieldops.stock_ledger(p_tenant_id, 'receive', p_part_id, p_location_id, NULL, p_quantity, v_on_hand, p_actor_worker_id, v_note);
    PERFORM fieldops.emit_event(p_tenant_id, 'stock.received', 'part', p_part_id,
        pg_catalog.jsonb_build_object('location_id', p_location_id, 'quantity', p_quantity, 'on_hand', v_on_hand,
                                      'actor_worker_id', p_actor_worker_id));
    RETURN v_on_hand;
END
$$;
COMMENT ON FUNCTION fieldops.receive_stock(bigint, bigint, bigint, numeric, bigint, text) IS
'Goods in: add p_quantity of a part to a location (a delivery, a restock of a van); returns the level after. Event stock.received.';

-- what the parts functions share: arguments, locks, the order, the actor's role
CREATE FUNCTION fieldops.parts_prepare(p_tenant_id bigint, p_work_order_id bigint, p_part_id bigint, p_location_id bigint,
                                       p_quantity numeric, p_actor bigint, p_for_taking boolean,
                                       OUT work_order fieldops.work_order, OUT roles text[])
RETURNS record
LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
    PERFORM fieldops.check_id_arg(p_work_order_id, 'p_work_order_id');
    PERFORM fieldops.check_stock_refs(p_tenant_id, p_location_id, p_part_id, p_for_taking);
    PERFORM fieldops.check_quantity(p_quantity, 'p_quantity');
    PERFORM fieldops.lock_actors(p_tenant_id, ARRAY[fieldops.check_id_arg(p_actor, 'p_actor_worker_id')], ARRAY['p_actor_worker_id']);
    work_order := fieldops.lock_work_order(p_tenant_id, p_work_order_id);
    IF work_order.work_order_id IS NOT NULL THEN
        roles := fieldops.work_order_roles(p_tenant_id, work_order, p_actor);
    END IF;
END
$$;
COMMENT ON FUNCTION fieldops.parts_prepare(bigint, bigint, bigint, bigint, numeric, bigint, boolean) IS
'Internal: check the arguments of a parts movement, lock the actor and the work order, and return the order (NULLs when missing) with the actor''s roles.';

CREATE FUNCTION fieldops.parts_event(p_tenant_id bigint, p_order fieldops.work_order, p_topic text, p_part_id bigint,
                                     p_location_id bigint, p_quantity numeric, p_actor bigint)
RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    p fieldops.work_order_part;
BEGIN
    SELECT * INTO p FROM fieldops.work_order_part x
     WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.work_order_id OPERATOR(pg_catalog.=) p_order.work_order_id
       AND x.part_id OPERATOR(pg_catalog.=) p_part_id;
    PERFORM fieldops.dispatch_event(p_tenant_id, p_topic, 'work_order', p_order.work_order_id,
        pg_catalog.jsonb_build_object('part_id', p_part_id, 'location_id', p_location_id, 'quantity', p_quantity,
                                      'actor_worker_id', p_actor, 'issued', p.issued, 'consumed', p.consumed, 'returned', p.returned),
        fieldops.work_order_live(p_order) OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('part_id', p_part_id, 'actor_worker_id', p_actor));
END
$$;
COMMENT ON FUNCTION fieldops.parts_event(bigint, fieldops.work_order, text, bigint, bigint, numeric, bigint) IS
'Internal: the outbox event (work_order.part_issued, part_consumed, part_returned) with the order''s totals for the part, and its NOTIFY.';

CREATE FUNCTION fieldops.issue_part(p_tenant_id bigint, p_work_order_id bigint, p_part_id bigint, p_location_id bigint,
                                    p_quantity numeric, p_actor_worker_id bigint)
RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    v record;
    v_on_hand numeric;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    PERFORM fieldops.check_id_arg(p_location_id, 'p_location_id');
    v := fieldops.parts_prepare(p_tenant_id, p_work_order_id, p_part_id, p_location_id, p_quantity, p_actor_worker_id, true);
    IF (v.work_order).work_order_id IS NULL THEN
        RETURN 'not_found';
    END IF;
    IF NOT (v.roles OPERATOR(pg_catalog.&&) ARRAY['engineer', 'dispatcher']) THEN
        RETURN 'not_permitted';
    END IF;
    IF (v.work_order).state NOT IN ('dispatched', 'accepted', 'travelling', 'on_site', 'repairing') THEN
        RETURN 'invalid_state';
    END IF;
    v_on_hand := fieldops.stock_take(p_tenant_id, p_location_id, p_part_id, p_quantity);
    IF v_on_hand IS NULL THEN
        RETURN 'insufficient_stock';
    END IF;
    INSERT INTO fieldops.work_order_part AS x (tenant_id, work_order_id, part_id, issued)
    VALUES (p_tenant_id, p_work_order_id, p_part_id, p_quantity)
    ON CONFLICT (tenant_id, work_order_id, part_id) DO UPDATE SET issued = x.issued OPERATOR(pg_catalog.+) EXCLUDED.issued;
    PERFORM fieldops.stock_ledger(p_tenant_id, 'issue', p_part_id, p_location_id, p_work_order_id, p_quantity, v_on_hand, p_actor_worker_id, NULL);
    PERFORM fieldops.parts_event(p_tenant_id, v.work_order, 'work_order.part_issued', p_part_id, p_location_id, p_quantity, p_actor_worker_id);
    RETURN 'issued';
END
$$;
COMMENT ON FUNCTION fieldops.issue_part(bigint, bigint, bigint, bigint, numeric, bigint) IS
'Issue p_quantity of a part from a location to a work order (dispatched to repairing) as its engineer or a dispatcher: the stock only goes down if it holds enough. Returns issued, insufficient_stock, invalid_state, not_permitted or not_found.';

CREATE FUNCTION fieldops.consume_part(p_tenant_id bigint, p_work_order_id bigint, p_part_id bigint, p_quantity numeric,
                                      p_actor_worker_id bigint, p_location_id bigint DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    v record;
    v_on_hand numeric;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    v := fieldops.parts_prepare(p_tenant_id, p_work_order_id, p_part_id, p_location_id, p_quantity, p_actor_worker_id,
                                p_location_id IS NOT NULL);
    IF (v.work_order).work_order_id IS NULL THEN
        RETURN 'not_found';
    END IF;
    IF NOT ('engineer' OPERATOR(pg_catalog.=) ANY (v.roles)) THEN
        RETURN 'not_permitted';
    END IF;
    IF (v.work_order).state NOT IN ('on_site', 'repairing') THEN
        RETURN 'invalid_state';
    END IF;
    IF p_location_id IS NOT NULL THEN
        -- straight from the van or warehouse: issue and consume at once
        v_on_hand := fieldops.stock_take(p_tenant_id, p_location_id, p_part_id, p_quantity);
        IF v_on_hand IS NULL THEN
            RETURN 'insufficient_stock';
        END IF;
        INSERT INTO fieldops.work_order_part AS x (tenant_id, work_order_id, part_id, issued)
        VALUES (p_tenant_id, p_work_order_id, p_part_id, p_quantity)
        ON CONFLICT (tenant_id, work_order_id, part_id) DO UPDATE SET issued = x.issued OPERATOR(pg_catalog.+) EXCLUDED.issued;
        PERFORM fieldops.stock_ledger(p_tenant_id, 'issue', p_part_id, p_location_id, p_work_order_id, p_quantity, v_on_hand, p_actor_worker_id, NULL);
    END IF;
    UPDATE fieldops.work_order_part
       SET consumed = consumed OPERATOR(pg_catalog.+) p_quantity
     WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND work_order_id OPERATOR(pg_catalog.=) p_work_order_id
       AND part_id OPERATOR(pg_catalog.=) p_part_id
       AND (issued OPERATOR(pg_catalog.-) consumed OPERATOR(pg_catalog.-) returned) OPERATOR(pg_catalog.>=) p_quantity;
    IF NOT FOUND THEN
        RETURN 'not_issued';
    END IF;
    PERFORM fieldops.stock_ledger(p_tenant_id, 'consume', p_part_id, NULL, p_work_order_id, p_quantity, NULL, p_actor_worker_id, NULL);
    PERFORM fieldops.parts_event(p_tenant_id, v.work_order, 'work_order.part_consumed', p_part_id, p_location_id, p_quantity, p_actor_worker_id);
    RETURN 'consumed';
END
$$;
COMMENT ON FUNCTION fieldops.consume_part(bigint, bigint, bigint, numeric, bigint, bigint) IS
'The engineer uses p_quantity of a part on a work order on site or under repair: from what was issued to the order, or with p_location_id straight from that location (issued and consumed at once). Consumed parts are part of the content the customer signs. Returns consumed, insufficient_stock (the location holds too little), not_issued (the order holds too little), invalid_state, not_permitted or not_found.';

CREATE FUNCTION fieldops.return_part(p_tenant_id bigint, p_work_order_id bigint, p_part_id bigint, p_location_id bigint,
                                     p_quantity numeric, p_actor_worker_id bigint)
RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    v record;
    v_on_hand numeric;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    PERFORM fieldops.check_id_arg(p_location_id, 'p_location_id');
    v := fieldops.parts_prepare(p_tenant_id, p_work_order_id, p_part_id, p_location_id, p_quantity, p_actor_worker_id, false);
    IF (v.work_order).work_order_id IS NULL THEN
        RETURN 'not_found';
    END IF;
    IF NOT (v.roles OPERATOR(pg_catalog.&&) ARRAY['engineer', 'dispatcher']) THEN
        RETURN 'not_permitted';
    END IF;
    -- lock order: the stock level before the order's part row
    INSERT INTO fieldops.stock_level (tenant_id, location_id, part_id) VALUES (p_tenant_id, p_location_id, p_part_id)
    ON CONFLICT DO NOTHING;
    PERFORM 1 FROM fieldops.stock_level
      WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND location_id OPERATOR(pg_catalog.=) p_location_id
        AND part_id OPERATOR(pg_catalog.=) p_part_id FOR NO KEY UPDATE;
    UPDATE fieldops.work_order_part
       SET returned = returned OPERATOR(pg_catalog.+) p_quantity
     WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND work_order_id OPERATOR(pg_catalog.=) p_work_order_id
       AND part_id OPERATOR(pg_catalog.=) p_part_id
       AND (issued OPERATOR(pg_catalog.-) consumed OPERATOR(pg_catalog.-) returned) OPERATOR(pg_catalog.>=) p_quantity;
    IF NOT FOUND THEN
        RETURN 'nothing_to_return';
    END IF;
    v_on_hand := fieldops.stock_put(p_tenant_id, p_location_id, p_part_id, p_quantity);
    PERFORM fieldops.stock_ledger(p_tenant_id, 'return', p_part_id, p_location_id, p_work_order_id, p_quantity, v_on_hand, p_actor_worker_id, NULL);
    PERFORM fieldops.parts_event(p_tenant_id, v.work_order, 'work_order.part_returned', p_part_id, p_location_id, p_quantity, p_actor_worker_id);
    RETURN 'returned';
END
$$;
COMMENT ON FUNCTION fieldops.return_part(bigint, bigint, bigint, bigint, numeric, bigint) IS
'Return p_quantity of a part issued to a work order and not consumed to a location (restock), in any state, as its engineer or a dispatcher. Returns returned, nothing_to_return (the order holds less unused), not_permitted or not_found.';

CREATE FUNCTION fieldops.record_labour(p_tenant_id bigint, p_work_order_id bigint, p_worker_id bigint,
                                       p_started_at timestamptz, p_ended_at timestamptz, p_note text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    v_note text;
    w fieldops.work_order;
    v_id bigint;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    v_note := fieldops.check_text(p_note, 'p_note', 500, false);
    PERFORM fieldops.check_id_arg(p_work_order_id, 'p_work_order_id');
    IF p_started_at IS NULL OR p_ended_at IS NULL THEN
        RAISE EXCEPTION 'p_started_at and p_ended_at must not be null' USING ERRCODE = '22004';
    END IF;
    IF NOT pg_catalog.isfinite(p_started_at) OR NOT pg_catalog.isfinite(p_ended_at)
       OR p_ended_at OPERATOR(pg_catalog.<=) p_started_at
       OR (p_ended_at OPERATOR(pg_catalog.-) p_started_at) OPERATOR(pg_catalog.>) interval '24 hours' THEN
        RAISE EXCEPTION 'p_ended_at must be after p_started_at and at most 24 hours later, got % .. %', p_started_at, p_ended_at
            USING ERRCODE = '22023';
    END IF;
    IF p_ended_at OPERATOR(pg_catalog.>) (pg_catalog.now() OPERATOR(pg_catalog.+) interval '5 minutes') THEN
        RAISE EXCEPTION 'p_ended_at must not be in the future, got %', p_ended_at USING ERRCODE = '22023';
    END IF;
    PERFORM fieldops.lock_actors(p_tenant_id, ARRAY[fieldops.check_id_arg(p_worker_id, 'p_worker_id')], ARRAY['p_worker_id']);
    w := fieldops.lock_work_order(p_tenant_id, p_work_order_id);
    IF w.work_order_id IS NULL THEN
        RETURN 'not_found';
    END IF;
    IF w.engineer_worker_id IS DISTINCT FROM p_worker_id THEN
        RETURN 'not_permitted';
    END IF;
    IF w.state NOT IN ('on_site', 'repairing') THEN
        RETURN 'invalid_state';
    END IF;
    IF p_started_at OPERATOR(pg_catalog.<) w.created_at THEN
        RAISE EXCEPTION 'p_started_at % is before the work order was created (%)', p_started_at, w.created_at USING ERRCODE = '22023';
    END IF;
    INSERT INTO fieldops.work_order_labour (tenant_id, work_order_id, worker_id, started_at, ended_at, note, recorded_at)
    VALUES (p_tenant_id, p_work_order_id, p_worker_id, p_started_at, p_ended_at, v_note, pg_catalog.clock_timestamp())
    RETURNING labour_id INTO v_id;
    PERFORM fieldops.dispatch_event(p_tenant_id, 'work_order.labour_recorded', 'work_order', p_work_order_id,
        pg_catalog.jsonb_build_object('labour_id', v_id, 'worker_id', p_worker_id, 'started_at', p_started_at,
                                      'ended_at', p_ended_at, 'note', v_note),
        fieldops.work_order_live(w) OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('labour_id', v_id, 'actor_worker_id', p_worker_id));
    RETURN 'recorded';
END
$$;
COMMENT ON FUNCTION fieldops.record_labour(bigint, bigint, bigint, timestamptz, timestamptz, text) IS
'The engineer records working time on a work order on site or under repair (at most 24 hours per entry, not in the future, not before the order); part of the content the customer signs. Returns recorded, invalid_state, not_permitted or not_found.';

CREATE FUNCTION fieldops.check_stock_invariants(p_tenant_id bigint)
RETURNS TABLE (invariant text, location_id bigint, part_id bigint, work_order_id bigint, expected numeric, actual numeric)
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    RETURN QUERY
    -- every level is the sum of its movements
    WITH ledger AS (
        SELECT m.location_id, m.part_id,
               pg_catalog.sum(CASE m.kind WHEN 'issue' THEN OPERATOR(pg_catalog.-) m.quantity ELSE m.quantity END) AS qty
          FROM fieldops.stock_movement m
         WHERE m.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND m.kind IN ('receive', 'issue', 'return')
         GROUP BY m.location_id, m.part_id)
    SELECT 'level = receipts + returns - issues'::text, COALESCE(s.location_id, l.location_id), COALESCE(s.part_id, l.part_id),
           NULL::bigint, COALESCE(l.qty, 0), COALESCE(s.on_hand, 0)
      FROM (SELECT * FROM fieldops.stock_level x WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id) s
      FULL JOIN ledger l ON l.location_id OPERATOR(pg_catalog.=) s.location_id AND l.part_id OPERATOR(pg_catalog.=) s.part_id
     WHERE COALESCE(l.qty, 0) OPERATOR(pg_catalog.<>) COALESCE(s.on_hand, 0)
    UNION ALL
    -- the level after each location movement replays
    SELECT 'movement level after = running sum', r.location_id, r.part_id, r.work_order_id, r.running, r.on_hand_after
      FROM (SELECT m.location_id, m.part_id, m.work_order_id, m.on_hand_after,
                   pg_catalog.sum(CASE m.kind WHEN 'issue' THEN OPERATOR(pg_catalog.-) m.quantity ELSE m.quantity END)
                       OVER (PARTITION BY m.location_id, m.part_id ORDER BY m.movement_id) AS running
              FROM fieldops.stock_movement m
             WHERE m.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND m.kind IN ('receive', 'issue', 'return')) r
     WHERE r.running OPERATOR(pg_catalog.<>) r.on_hand_after
    UNION ALL
    -- each order's parts are the sums of its movements
    SELECT 'order part ' OPERATOR(pg_catalog.||) k.kind OPERATOR(pg_catalog.||) ' = its movements', NULL::bigint, k.part_id, k.work_order_id,
           k.ledger_qty, k.row_qty
      FROM (SELECT COALESCE(p.work_order_id, m.work_order_id) AS work_order_id, COALESCE(p.part_id, m.part_id) AS part_id, x.kind,
                   COALESCE(CASE x.kind WHEN 'issue' THEN m.issued WHEN 'consume' THEN m.consumed ELSE m.returned END, 0) AS ledger_qty,
                   COALESCE(CASE x.kind WHEN 'issue' THEN p.issued WHEN 'consume' THEN p.consumed ELSE p.returned END, 0) AS row_qty
              FROM (SELECT * FROM fieldops.work_order_part y WHERE y.tenant_id OPERATOR(pg_catalog.=) p_tenant_id) p
              FULL JOIN (SELECT z.work_order_id, z.part_id,
                                pg_catalog.sum(z.quantity) FILTER (WHERE z.kind OPERATOR(pg_catalog.=) 'issue') AS issued,
                                pg_catalog.sum(z.quantity) FILTER (WHERE z.kind OPERATOR(pg_catalog.=) 'consume') AS consumed,
                                pg_catalog.sum(z.quantity) FILTER (WHERE z.kind OPERATOR(pg_catalog.=) 'return') AS returned
                           FROM fieldops.stock_movement z
                          WHERE z.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND z.work_order_id IS NOT NULL
                          GROUP BY z.work_order_id, z.part_id) m
                ON m.work_order_id OPERATOR(pg_catalog.=) p.work_order_id AND m.part_id OPERATOR(pg_catalog.=) p.part_id
             CROSS JOIN (VALUES ('issue'), ('consume'), ('return')) AS x(kind)) k
     WHERE k.ledger_qty OPERATOR(pg_catalog.<>) k.row_qty
    UNION ALL
    SELECT 'level never negative', s.location_id, s.part_id, NULL::bigint, 0::numeric, s.on_hand
      FROM fieldops.stock_level s
     WHERE s.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND s.on_hand OPERATOR(pg_catalog.<) 0;
END
$$;
COMMENT ON FUNCTION fieldops.check_stock_invariants(bigint) IS
'One row per violated stock invariant, nothing when healthy: every level equals receipts + returns - issues of its ledger; each location movement''s level-after equals the running sum; each order''s issued, consumed and returned equal its movements; no level below zero.';

--
-- SLA breaches: the job
--
CREATE FUNCTION fieldops.detect_sla_breaches(p_tenant_id bigint, p_now timestamptz, p_limit integer)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    w fieldops.work_order;
    n_respond integer := 0;
    n_resolve integer := 0;
BEGIN
    -- each order once per deadline: the guarded columns are set under the
    -- row lock; rows a transition holds are skipped (it detects a late
    -- response or resolution itself, or the next run does)
    FOR w IN
        UPDATE fieldops.work_order o SET respond_breached_at = p_now
          FROM (SELECT x.work_order_id FROM fieldops.work_order x
                 WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.responded_at IS NULL
                   AND x.respond_breached_at IS NULL AND x.state OPERATOR(pg_catalog.<>) 'cancelled'
                   AND x.respond_by OPERATOR(pg_catalog.<) p_now
                 ORDER BY x.respond_by LIMIT p_limit
                   FOR NO KEY UPDATE SKIP LOCKED) c
         WHERE o.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND o.work_order_id OPERATOR(pg_catalog.=) c.work_order_id
        RETURNING o.*
    LOOP
        PERFORM fieldops.work_order_breach_event(p_tenant_id, w, 'respond', p_now);
        n_respond := n_respond OPERATOR(pg_catalog.+) 1;
    END LOOP;
    FOR w IN
        UPDATE fieldops.work_order o SET resolve_breached_at = p_now
          FROM (SELECT x.work_order_id FROM fieldops.work_order x
                 WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.resolved_at IS NULL
                   AND x.resolve_breached_at IS NULL AND x.state OPERATOR(pg_catalog.<>) 'cancelled'
                   AND x.resolve_by OPERATOR(pg_catalog.<) p_now
                 ORDER BY x.resolve_by LIMIT p_limit
                   FOR NO KEY UPDATE SKIP LOCKED) c
         WHERE o.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND o.work_order_id OPERATOR(pg_catalog.=) c.work_order_id
        RETURNING o.*
    LOOP
        PERFORM fieldops.work_order_breach_event(p_tenant_id, w, 'resolve', p_now);
        n_resolve := n_resolve OPERATOR(pg_catalog.+) 1;
    END LOOP;
    RETURN pg_catalog.jsonb_build_object('respond_breaches', n_respond, 'resolve_breaches', n_resolve,
                                         'more', n_respond OPERATOR(pg_catalog.=) p_limit OR n_resolve OPERATOR(pg_catalog.=) p_limit);
END
$$;
COMMENT ON FUNCTION fieldops.detect_sla_breaches(bigint, timestamptz, integer) IS
'Internal: record (once each) the respond and resolve deadlines of the tenant''s open work orders passed at p_now, at most p_limit of each, skipping rows others hold; an outbox event work_order.sla_breached per breach.';

CREATE FUNCTION fieldops.job_work_order_sla(p_tenant_id bigint, p_args jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    v_batch integer := COALESCE((p_args ->> 'batch')::integer, 1000);
BEGIN
    IF v_batch NOT BETWEEN 1 AND 100000 THEN
        RAISE EXCEPTION 'args.batch must be 1 to 100000, got %', v_batch USING ERRCODE = '22023';
    END IF;
    RETURN fieldops.detect_sla_breaches(p_tenant_id, pg_catalog.now(), v_batch);
END
$$;
COMMENT ON FUNCTION fieldops.job_work_order_sla(bigint, jsonb) IS
'Job (per tenant): record work orders whose respond or resolve deadline has passed, each breach once, args.batch (default 1000) of each per run ({"more": true} when a batch was full).';

-- the custom forms' answers name the work order they answer (70_form.sql
-- comes earlier in the script and leaves this key to this file)
ALTER TABLE fieldops.form_submission
    ADD CONSTRAINT form_submission_work_order_fkey FOREIGN KEY (tenant_id, work_order_id) REFERENCES fieldops.work_order (tenant_id, work_order_id);

--
-- Security
--
SELECT fieldops.secure_tenant_table(t::regclass)
  FROM pg_catalog.unnest(ARRAY['fieldops.work_order', 'fieldops.work_order_history', 'fieldops.stock_location', 'fieldops.part',
                               'fieldops.stock_level', 'fieldops.work_order_part', 'fieldops.stock_movement',
                               'fieldops.work_order_labour', 'fieldops.work_order_signature']) AS t;
-- the history, the ledger, the labour and the signatures are append-only
REVOKE UPDATE, DELETE ON fieldops.work_order_history, fieldops.stock_movement, fieldops.work_order_labour,
                         fieldops.work_order_signature FROM fieldops_api, fieldops_admin;

GRANT EXECUTE ON FUNCTION
    fieldops.create_work_order(bigint, bigint, text, text, text, geometry, text, bigint, bigint),
    fieldops.dispatch_work_order(bigint, bigint, bigint, bigint, text),
    fieldops.set_work_order_state(bigint, bigint, text, bigint, text),
    fieldops.sign_work_order(bigint, bigint, bigint, bytea, text, bytea),
    fieldops.upsert_part(bigint, text, text, text, boolean),
    fieldops.upsert_stock_location(bigint, text, text, text, bigint, boolean),
    fieldops.receive_stock(bigint, bigint, bigint, numeric, bigint, text),
    fieldops.issue_part(bigint, bigint, bigint, bigint, numeric, bigint),
    fieldops.consume_part(bigint, bigint, bigint, numeric, bigint, bigint),
    fieldops.return_part(bigint, bigint, bigint, bigint, numeric, bigint),
    fieldops.record_labour(bigint, bigint, bigint, timestamptz, timestamptz, text)
TO fieldops_app;
GRANT EXECUTE ON FUNCTION
    fieldops.work_order_content(bigint, bigint),
    fieldops.work_order_signing_message(bigint, bigint, bytea, text),
    fieldops.verify_work_order_signatures(bigint, bigint),
    fieldops.check_stock_invariants(bigint),
    fieldops.work_order_canonical(bigint, bigint),
    fieldops.canonical_line(text, text),
    fieldops.canonical_time(timestamptz)
TO fieldops_app, fieldops_analyst;
GRANT EXECUTE ON FUNCTION
    fieldops.check_quantity(numeric, text),
    fieldops.sla_deadline(bigint, text, text, timestamptz),
    fieldops.work_order_roles(bigint, fieldops.work_order, bigint),
    fieldops.lock_work_order(bigint, bigint),
    fieldops.work_order_live(fieldops.work_order),
    fieldops.work_order_breach_event(bigint, fieldops.work_order, text, timestamptz),
    fieldops.work_order_canonical(bigint, bigint),
    fieldops.canonical_line(text, text),
    fieldops.canonical_time(timestamptz),
    fieldops.work_order_signing_message(bigint, bigint, bytea, text),
    fieldops.work_order_transition(bigint, fieldops.work_order, text, bigint, text, bigint, boolean, jsonb),
    fieldops.check_stock_refs(bigint, bigint, bigint, boolean),
    fieldops.stock_ledger(bigint, text, bigint, bigint, bigint, numeric, numeric, bigint, text),
    fieldops.stock_take(bigint, bigint, bigint, numeric),
    fieldops.stock_put(bigint, bigint, bigint, numeric),
    fieldops.parts_prepare(bigint, bigint, bigint, bigint, numeric, bigint, boolean),
    fieldops.parts_event(bigint, fieldops.work_order, text, bigint, bigint, numeric, bigint),
    fieldops.detect_sla_breaches(bigint, timestamptz, integer)
TO fieldops_api;
