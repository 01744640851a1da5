--
-- The public customer pool (公海池): every customer is owned by one worker
-- or lies in one pool, never both and never neither.  Customers nobody
-- follows up go back to their pool (the pool_release job); other workers
-- claim them under the pool's rules.  Every change of ownership takes the
-- customer's row lock, writes the ownership ledger and an append-only pool
-- event, and keeps the claim counters and holdings in rows, so that
-- fieldops.check_pool_invariants() can prove after any load that nothing
-- was double-assigned or lost.
--
-- Lock order, the same in every function (no deadlock between them):
--   1. holdings rows (fieldops.worker_holding) in worker_id order,
--   2. customer rows in customer_id order,
--   3. claim counter rows.
-- A function that learns whom to lock from the customer (a release: its
-- owner) reads the owner first, locks the holding, then locks the customer
-- and re-checks the owner (a guarded change): a change in between makes it
-- report the new state, never act on the old one.  Times written to the
-- ledger are clock_timestamp() taken after the locks, so intervals follow
-- the order in which the changes really happened.
--
-- In a file of its own, part of the 0.2.0 upgrade: it changes the 0.1.0
-- customer table (ALTER) and replaces upsert_customer().
--

--
-- Pools and their rules
--
CREATE TABLE fieldops.customer_pool (
    tenant_id     bigint NOT NULL REFERENCES fieldops.tenant (tenant_id),
    pool_id       bigserial NOT NULL,
    code          text NOT NULL,
    name          text NOT NULL,
    region_id     bigint,
    product_line  text,
    is_default    boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (tenant_id, pool_id),
    UNIQUE (tenant_id, code),
    FOREIGN KEY (tenant_id, region_id) REFERENCES fieldops.region (tenant_id, region_id)
);
CREATE UNIQUE INDEX customer_pool_default_key ON fieldops.customer_pool (tenant_id) WHERE is_default;
COMMENT ON TABLE fieldops.customer_pool IS
'Public pools of customers (by region or product line). One pool per tenant is the default: customers without a pool of their own return there. Rules: fieldops.pool_rule.';

CREATE TABLE fieldops.pool_rule (
    tenant_id            bigint NOT NULL,
    pool_id              bigint NOT NULL,
    effective_from       date NOT NULL,
    no_followup_days     integer CHECK (no_followup_days BETWEEN 1 AND 3650),
    no_deal_days         integer CHECK (no_deal_days BETWEEN 1 AND 3650),
    warn_days            integer NOT NULL DEFAULT 3 CHECK (warn_days BETWEEN 0 AND 365),
    owner_left           text NOT NULL DEFAULT 'manager' CHECK (owner_left IN ('pool', 'manager')),
    exclude_locked       boolean NOT NULL DEFAULT true,
    exclude_dealt        boolean NOT NULL DEFAULT true,
    exclude_levels       text[] NOT NULL DEFAULT '{}',
    window_start         time NOT NULL DEFAULT '01:00',
    window_end           time NOT NULL DEFAULT '05:00',
    daily_claim_limit    integer NOT NULL DEFAULT 5 CHECK (daily_claim_limit BETWEEN 0 AND 100000),
    hold_limit           integer NOT NULL DEFAULT 200 CHECK (hold_limit BETWEEN 0 AND 10000000),
    cooldown_days        integer NOT NULL DEFAULT 7 CHECK (cooldown_days BETWEEN 0 AND 3650),
    protect_minutes      integer NOT NULL DEFAULT 0 CHECK (protect_minutes BETWEEN 0 AND 525600),
    claim_scope          text NOT NULL DEFAULT 'any' CHECK (claim_scope IN ('any', 'region')),
    created_at           timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (tenant_id, pool_id, effective_from),
    FOREIGN KEY (tenant_id, pool_id) REFERENCES fieldops.customer_pool (tenant_id, pool_id)
);
COMMENT ON TABLE fieldops.pool_rule IS
'Versions of a pool''s rules: the row with the latest effective_from on or before a tenant-local day is in force that day. set_pool_rules() adds a version from the next local day; an old version is never edited.';

CREATE TABLE fieldops.pool_admin (
    tenant_id  bigint NOT NULL,
    pool_id    bigint NOT NULL,
    worker_id  bigint NOT NULL,
    PRIMARY KEY (tenant_id, pool_id, worker_id),
    FOREIGN KEY (tenant_id, pool_id) REFERENCES fieldops.customer_pool (tenant_id, pool_id),
    FOREIGN KEY (tenant_id, worker_id) REFERENCES fieldops.worker (tenant_id, worker_id)
);
COMMENT ON TABLE fieldops.pool_admin IS
'Workers who administer a pool: a claim they make for someone (p_by_worker_id) bypasses the claim limits, never the state guard.';

--
-- The customer: owner xor pool, the pool it returns to, the flags the rules read
--
ALTER TABLE fieldops.customer
    ADD COLUMN home_pool_id bigint,
    ADD COLUMN locked boolean NOT NULL DEFAULT false,
    ADD COLUMN deal_state text NOT NULL DEFAULT 'none' CHECK (deal_state IN ('none', 'open', 'won', 'lost')),
    ADD COLUMN tags text[] NOT NULL DEFAULT '{}',
    ADD COLUMN contacts jsonb NOT NULL DEFAULT '[]' CHECK (pg_catalog.jsonb_typeof(contacts) = 'array'),
    ADD COLUMN previous_owner_id bigint,
    ADD COLUMN released_at timestamptz,
    ADD COLUMN warned_at timestamptz,
    -- since when the owner has done nothing the rules count: the later of
    -- taking the customer and the last follow-up
    ADD COLUMN idle_since timestamptz GENERATED ALWAYS AS (GREATEST(owned_since, last_followup_at)) STORED;
ALTER TABLE fieldops.customer
    ADD FOREIGN KEY (tenant_id, home_pool_id) REFERENCES fieldops.customer_pool (tenant_id, pool_id),
    ADD FOREIGN KEY (tenant_id, pool_id) REFERENCES fieldops.customer_pool (tenant_id, pool_id);
COMMENT ON COLUMN fieldops.customer.home_pool_id IS 'The pool whose rules apply while the customer is owned, and where it returns when released.';
COMMENT ON COLUMN fieldops.customer.locked IS 'Locked customers are never released automatically (when the pool''s rule excludes them, the default).';
COMMENT ON COLUMN fieldops.customer.previous_owner_id IS 'Who owned it before it was last released (the claim cooldown applies to that worker).';
COMMENT ON COLUMN fieldops.customer.warned_at IS 'When the owner was last warned of the coming release; a warning is not repeated while idle_since stays.';

-- customers of 0.1.0 with neither an owner nor a pool go to their tenant's
-- default pool (created here for tenants that have such customers)
INSERT INTO fieldops.customer_pool (tenant_id, code, name, is_default)
SELECT DISTINCT c.tenant_id, 'DEFAULT', '公海 Public pool', true
  FROM fieldops.customer c
 WHERE NOT EXISTS (SELECT 1 FROM fieldops.customer_pool p WHERE p.tenant_id = c.tenant_id AND p.is_default);
INSERT INTO fieldops.pool_rule (tenant_id, pool_id, effective_from)
SELECT p.tenant_id, p.pool_id, '-infinity'::date FROM fieldops.customer_pool p
 WHERE NOT EXISTS (SELECT 1 FROM fieldops.pool_rule r WHERE r.tenant_id = p.tenant_id AND r.pool_id = p.pool_id);
UPDATE fieldops.customer c SET home_pool_id = p.pool_id
  FROM fieldops.customer_pool p WHERE p.tenant_id = c.tenant_id AND p.is_default AND c.home_pool_id IS NULL;
UPDATE fieldops.customer SET pool_id = home_pool_id, pooled_since = created_at
 WHERE owner_worker_id IS NULL AND pool_id IS NULL;

ALTER TABLE fieldops.customer ALTER COLUMN home_pool_id SET NOT NULL;
ALTER TABLE fieldops.customer DROP CONSTRAINT customer_owner_or_pool;
ALTER TABLE fieldops.customer ADD CONSTRAINT customer_owner_xor_pool CHECK ((owner_worker_id IS NULL) <> (pool_id IS NULL));
-- the release job's candidates: owned customers of a pool by how long they idle
CREATE INDEX customer_idle_idx ON fieldops.customer (tenant_id, home_pool_id, idle_since) WHERE owner_worker_id IS NOT NULL;
CREATE INDEX customer_owned_deal_idx ON fieldops.customer (tenant_id, home_pool_id, owned_since)
    WHERE owner_worker_id IS NOT NULL AND last_deal_at IS NULL;
CREATE INDEX customer_pool_idx ON fieldops.customer (tenant_id, pool_id) WHERE pool_id IS NOT NULL;

--
-- The ledger
--
CREATE TABLE fieldops.customer_ownership (
    tenant_id     bigint NOT NULL,
    ownership_id  bigserial NOT NULL,
    customer_id   bigint NOT NULL,
    worker_id     bigint NOT NULL,
    started_at    timestamptz NOT NULL,
    ended_at      timestamptz,
    start_reason  text NOT NULL CHECK (start_reason IN ('created', 'claimed', 'assigned', 'transferred', 'migrated')),
    end_reason    text CHECK (end_reason IN ('released', 'transferred')),
    PRIMARY KEY (tenant_id, ownership_id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES fieldops.customer (tenant_id, customer_id),
    FOREIGN KEY (tenant_id, worker_id) REFERENCES fieldops.worker (tenant_id, worker_id),
    CONSTRAINT customer_ownership_interval CHECK (ended_at IS NULL OR ended_at >= started_at),
    CONSTRAINT customer_ownership_end CHECK ((ended_at IS NULL) = (end_reason IS NULL))
);
CREATE UNIQUE INDEX customer_ownership_open_key ON fieldops.customer_ownership (tenant_id, customer_id) WHERE ended_at IS NULL;
CREATE INDEX customer_ownership_customer_idx ON fieldops.customer_ownership (tenant_id, customer_id, started_at);
CREATE INDEX customer_ownership_worker_idx ON fieldops.customer_ownership (tenant_id, worker_id, started_at);
COMMENT ON TABLE fieldops.customer_ownership IS
'Who owned each customer when: at most one open row (ended_at NULL) per customer, the one of its current owner.';

CREATE TABLE fieldops.pool_event (
    tenant_id           bigint NOT NULL,
    event_id            bigserial NOT NULL,
    customer_id         bigint NOT NULL,
    at                  timestamptz NOT NULL,
    kind                text NOT NULL CHECK (kind IN ('created', 'claimed', 'assigned', 'released', 'transferred', 'warned', 'moved', 'rehomed', 'migrated')),
    pool_id             bigint,
    worker_id           bigint,
    previous_worker_id  bigint,
    actor               text NOT NULL,
    rule                text CHECK (rule IN ('no_followup', 'no_deal', 'owner_left', 'manual')),
    days                integer,
    bypass              boolean NOT NULL DEFAULT false,
    claims_after        integer,
    held_after          integer,
    local_day           date,
    PRIMARY KEY (tenant_id, event_id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES fieldops.customer (tenant_id, customer_id)
);
CREATE INDEX pool_event_customer_idx ON fieldops.pool_event (tenant_id, customer_id, event_id);
COMMENT ON TABLE fieldops.pool_event IS
'Append-only log of the pool: who did what to which customer, under which rule, after how many days. Replaying a customer''s events gives its owner or pool (check_pool_invariants()). claims_after and held_after record the counters a claim left, bypass whether a pool admin made it.';

CREATE TABLE fieldops.worker_holding (
    tenant_id  bigint NOT NULL,
    worker_id  bigint NOT NULL,
    held       integer NOT NULL DEFAULT 0 CHECK (held >= 0),
    PRIMARY KEY (tenant_id, worker_id),
    FOREIGN KEY (tenant_id, worker_id) REFERENCES fieldops.worker (tenant_id, worker_id)
);
COMMENT ON TABLE fieldops.worker_holding IS
'How many customers each worker owns, kept by every change of ownership; its row lock also serialises a worker''s claims (hold limit).';

CREATE TABLE fieldops.pool_claim_counter (
    tenant_id  bigint NOT NULL,
    worker_id  bigint NOT NULL,
    pool_id    bigint NOT NULL,
    local_day  date NOT NULL,
    claims     integer NOT NULL DEFAULT 0 CHECK (claims >= 0),
    PRIMARY KEY (tenant_id, worker_id, pool_id, local_day),
    FOREIGN KEY (tenant_id, worker_id) REFERENCES fieldops.worker (tenant_id, worker_id),
    FOREIGN KEY (tenant_id, pool_id) REFERENCES fieldops.customer_pool (tenant_id, pool_id)
);
COMMENT ON TABLE fieldops.pool_claim_counter IS
'Claims each worker made from each pool on each tenant-local day, pool admins'' excepted (daily claim limit).';

-- ownership and holdings of 0.1.0's owned customers
INSERT INTO fieldops.customer_ownership (tenant_id, customer_id, worker_id, started_at, start_reason)
SELECT tenant_id, customer_id, owner_worker_id, owned_since, 'migrated' FROM fieldops.customer WHERE owner_worker_id IS NOT NULL;
INSERT INTO fieldops.pool_event (tenant_id, customer_id, at, kind, pool_id, worker_id, actor)
SELECT tenant_id, customer_id, COALESCE(owned_since, pooled_since), 'migrated', pool_id, owner_worker_id, 'upgrade 0.2.0'
  FROM fieldops.customer ORDER BY tenant_id, customer_id;
INSERT INTO fieldops.worker_holding (tenant_id, worker_id, held)
SELECT tenant_id, owner_worker_id, pg_catalog.count(*) FROM fieldops.customer WHERE owner_worker_id IS NOT NULL GROUP BY 1, 2;

--
-- Helpers
--

-- the tenant's default pool, created with default rules on first use
CREATE FUNCTION fieldops.default_pool(p_tenant_id bigint)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    v_pool bigint;
BEGIN
    SELECT pool_id INTO v_pool FROM fieldops.customer_pool
     WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND is_default;
    IF v_pool IS NULL THEN
        INSERT INTO fieldops.customer_pool (tenant_id, code, name, is_default)
        VALUES (p_tenant_id, 'DEFAULT', '公海 Public pool', true)
        ON CONFLICT DO NOTHING
        RETURNING pool_id INTO v_pool;
        IF v_pool IS NULL THEN
            SELECT pool_id INTO v_pool FROM fieldops.customer_pool
             WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND is_default;
        ELSE
            INSERT INTO fieldops.pool_rule (tenant_id, pool_id, effective_from)
            VALUES (p_tenant_id, v_pool, '-infinity');
        END IF;
    END IF;
    RETURN v_pool;
END
$$;
COMMENT ON FUNCTION fieldops.default_pool(bigint) IS
'Internal: the tenant''s default pool (code DEFAULT), created with the default rules on first use.';

-- the rules of a pool in force on a tenant-local day
CREATE FUNCTION fieldops.pool_rules_on(p_tenant_id bigint, p_pool_id bigint, p_day date)
RETURNS fieldops.pool_rule
LANGUAGE sql STABLE
AS $$
    SELECT r.* FROM fieldops.pool_rule r
     WHERE r.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND r.pool_id OPERATOR(pg_catalog.=) p_pool_id
       AND r.effective_from OPERATOR(pg_catalog.<=) p_day
     ORDER BY r.effective_from DESC LIMIT 1
$$;
COMMENT ON FUNCTION fieldops.pool_rules_on(bigint, bigint, date) IS
'The version of a pool''s rules in force on a tenant-local day.';

-- the worker's holding row, created at 0 if missing, locked
CREATE FUNCTION fieldops.lock_holding(p_tenant_id bigint, p_worker_id bigint, p_skip_locked boolean DEFAULT false)
RETURNS integer
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    v_held integer;
BEGIN
    INSERT INTO fieldops.worker_holding (tenant_id, worker_id) VALUES (p_tenant_id, p_worker_id)
    ON CONFLICT DO NOTHING;
    IF p_skip_locked THEN
        SELECT held INTO v_held FROM fieldops.worker_holding
         WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND worker_id OPERATOR(pg_catalog.=) p_worker_id
           FOR UPDATE SKIP LOCKED;
    ELSE
        SELECT held INTO v_held FROM fieldops.worker_holding
         WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND worker_id OPERATOR(pg_catalog.=) p_worker_id
           FOR UPDATE;
    END IF;
    RETURN v_held;
END
$$;
COMMENT ON FUNCTION fieldops.lock_holding(bigint, bigint, boolean) IS
'Internal: lock a worker''s holdings row (made at 0 on first use) and return how many customers it holds; NULL when p_skip_locked and another transaction holds it.';

-- one ownership change, the customer row already locked and checked:
-- close the open ownership, open the new one, move the customer, adjust
-- the holdings (their rows already locked), log the event
CREATE FUNCTION fieldops.pool_apply(p_tenant_id bigint, p_customer fieldops.customer, p_kind text,
                                    p_to_worker bigint, p_actor text, p_rule text DEFAULT NULL, p_days integer DEFAULT NULL,
                                    p_bypass boolean DEFAULT false, p_claims_after integer DEFAULT NULL,
                                    p_local_day date DEFAULT NULL)
RETURNS timestamptz
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    v_at timestamptz := pg_catalog.clock_timestamp();
    v_held integer;
    v_pool bigint;
BEGIN
    IF p_customer.owner_worker_id IS NOT NULL THEN
        UPDATE fieldops.customer_ownership
           SET ended_at = v_at, end_reason = CASE WHEN p_to_worker IS NULL THEN 'released' ELSE 'transferred' END
         WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND customer_id OPERATOR(pg_catalog.=) p_customer.customer_id
           AND ended_at IS NULL;
        UPDATE fieldops.worker_holding SET held = held OPERATOR(pg_catalog.-) 1
         WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND worker_id OPERATOR(pg_catalog.=) p_customer.owner_worker_id;
    END IF;
    IF p_to_worker IS NULL THEN
        v_pool := p_customer.home_pool_id;
        UPDATE fieldops.customer
           SET owner_worker_id = NULL, owned_since = NULL, pool_id = v_pool, pooled_since = v_at,
               previous_owner_id = p_customer.owner_worker_id, released_at = v_at, warned_at = NULL, updated_at = v_at
         WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND customer_id OPERATOR(pg_catalog.=) p_customer.customer_id;
    ELSE
        v_pool := p_customer.pool_id;
        INSERT INTO fieldops.customer_ownership (tenant_id, customer_id, worker_id, started_at, start_reason)
        VALUES (p_tenant_id, p_customer.customer_id, p_to_worker, v_at, p_kind);
        UPDATE fieldops.worker_holding SET held = held OPERATOR(pg_catalog.+) 1
         WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND worker_id OPERATOR(pg_catalog.=) p_to_worker
        RETURNING held INTO v_held;
        IF v_held IS NULL THEN
            RAISE EXCEPTION 'pool_apply: the holdings row of worker % is not locked', p_to_worker USING ERRCODE = 'XX000';
        END IF;
        UPDATE fieldops.customer
           SET owner_worker_id = p_to_worker, owned_since = v_at, pool_id = NULL, pooled_since = NULL,
               warned_at = NULL, updated_at = v_at
         WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND customer_id OPERATOR(pg_catalog.=) p_customer.customer_id;
    END IF;
    INSERT INTO fieldops.pool_event (tenant_id, customer_id, at, kind, pool_id, worker_id, previous_worker_id, actor, rule,
                                     days, bypass, claims_after, held_after, local_day)
    VALUES (p_tenant_id, p_customer.customer_id, v_at, p_kind, v_pool, p_to_worker, p_customer.owner_worker_id, p_actor,
            p_rule, p_days, p_bypass, p_claims_after, v_held, COALESCE(p_local_day, fieldops.tenant_local_date(p_tenant_id, v_at)));
    PERFORM fieldops.emit_event(p_tenant_id, 'customer.' || p_kind, 'customer', p_customer.customer_id,
        pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
            'owner_worker_id', p_to_worker, 'previous_owner_worker_id', p_customer.owner_worker_id,
            'pool_id', CASE WHEN p_to_worker IS NULL THEN v_pool END, 'rule', p_rule, 'days', p_days, 'actor', p_actor)));
    RETURN v_at;
END
$$;
COMMENT ON FUNCTION fieldops.pool_apply(bigint, fieldops.customer, text, bigint, text, text, integer, boolean, integer, date) IS
'Internal: apply one change of ownership to a locked, checked customer (ledger, holdings, pool event, outbox event customer.<kind>).';

-- a customer id argument: positive, and the customer exists
CREATE FUNCTION fieldops.check_customer_arg(p_customer_id bigint, p_arg text)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
    IF p_customer_id IS NULL THEN
        RAISE EXCEPTION '% must not be null', p_arg USING ERRCODE = '22004';
    END IF;
    IF p_customer_id OPERATOR(pg_catalog.<=) 0 THEN
        RAISE EXCEPTION '% must be a positive customer id, got %', p_arg, p_customer_id USING ERRCODE = '22023';
    END IF;
END
$$;
COMMENT ON FUNCTION fieldops.check_customer_arg(bigint, text) IS 'Internal: a customer id argument is a positive bigint (22004, 22023).';

-- the worker's region (its team's), for claim scopes
CREATE FUNCTION fieldops.worker_region(p_tenant_id bigint, p_worker_id bigint)
RETURNS bigint
LANGUAGE sql STABLE
AS $$
    SELECT t.region_id FROM fieldops.worker w JOIN fieldops.team t ON t.tenant_id OPERATOR(pg_catalog.=) w.tenant_id AND t.team_id OPERATOR(pg_catalog.=) w.team_id
     WHERE w.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND w.worker_id OPERATOR(pg_catalog.=) p_worker_id
$$;
COMMENT ON FUNCTION fieldops.worker_region(bigint, bigint) IS 'Internal: the region of a worker''s team (NULL without one).';

--
-- Pools: create, rules, admins
--
CREATE FUNCTION fieldops.check_pool_rules(p_rules jsonb)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
AS $$
DECLARE
    k text;
    v jsonb;
    v_int_keys text[] := ARRAY['no_followup_days', 'no_deal_days', 'warn_days', 'daily_claim_limit', 'hold_limit',
                               'cooldown_days', 'protect_minutes'];
BEGIN
    IF p_rules IS NULL OR pg_catalog.jsonb_typeof(p_rules) OPERATOR(pg_catalog.<>) 'object' THEN
        RAISE EXCEPTION 'p_rules must be a JSON object, got %', COALESCE(pg_catalog.jsonb_typeof(p_rules), 'NULL')
            USING ERRCODE = '22023';
    END IF;
    FOR k, v IN SELECT * FROM pg_catalog.jsonb_each(p_rules) LOOP
        IF k OPERATOR(pg_catalog.=) ANY (v_int_keys) THEN
            IF NOT (pg_catalog.jsonb_typeof(v) OPERATOR(pg_catalog.=) 'number' AND (v #>> '{}') ~ '^[0-9]+$')
               AND NOT (pg_catalog.jsonb_typeof(v) OPERATOR(pg_catalog.=) 'null' AND k IN ('no_followup_days', 'no_deal_days')) THEN
                RAISE EXCEPTION 'p_rules.% must be a whole number%, got %', k,
                    CASE WHEN k IN ('no_followup_days', 'no_deal_days') THEN ' of days or null (off)' ELSE '' END, pg_catalog.left(v::text, 40)
                    USING ERRCODE = '22023';
            END IF;
        ELSIF k IN ('exclude_locked', 'exclude_dealt') THEN
            IF pg_catalog.jsonb_typeof(v) OPERATOR(pg_catalog.<>) 'boolean' THEN
                RAISE EXCEPTION 'p_rules.% must be true or false, got %', k, pg_catalog.left(v::text, 40) USING ERRCODE = '22023';
            END IF;
        ELSIF k OPERATOR(pg_catalog.=) 'owner_left' THEN
            IF (v #>> '{}') IS NULL OR (v #>> '{}') NOT IN ('pool', 'manager') OR pg_catalog.jsonb_typeof(v) OPERATOR(pg_catalog.<>) 'string' THEN
                RAISE EXCEPTION 'p_rules.owner_left must be "pool" or "manager", got %', pg_catalog.left(v::text, 40) USING ERRCODE = '22023';
            END IF;
        ELSIF k OPERATOR(pg_catalog.=) 'claim_scope' THEN
            IF (v #>> '{}') IS NULL OR (v #>> '{}') NOT IN ('any', 'region') OR pg_catalog.jsonb_typeof(v) OPERATOR(pg_catalog.<>) 'string' THEN
                RAISE EXCEPTION 'p_rules.claim_scope must be "any" or "region", got %', pg_catalog.left(v::text, 40) USING ERRCODE = '22023';
            END IF;
        ELSIF k IN ('window_start', 'window_end') THEN
            IF pg_catalog.jsonb_typeof(v) OPERATOR(pg_catalog.<>) 'string' OR (v #>> '{}') !~ '^([01][0-9]|2[0-3]):[0-5][0-9]$' THEN
                RAISE EXCEPTION 'p_rules.% must be a local time "HH:MM", got %', k, pg_catalog.left(v::text, 40) USING ERRCODE = '22023';
            END IF;
        ELSIF k OPERATOR(pg_catalog.=) 'exclude_levels' THEN
            IF pg_catalog.jsonb_typeof(v) OPERATOR(pg_catalog.<>) 'array'
               OR EXISTS (SELECT 1 FROM pg_catalog.jsonb_array_elements(v) e
                           WHERE pg_catalog.jsonb_typeof(e) OPERATOR(pg_catalog.<>) 'string' OR (e #>> '{}') !~ '^[A-Z0-9]{1,8}$') THEN
                RAISE EXCEPTION 'p_rules.exclude_levels must be an array of customer levels such as ["A", "VIP"], got %', pg_catalog.left(v::text, 60)
                    USING ERRCODE = '22023';
            END IF;
        ELSE
            RAISE EXCEPTION 'p_rules has an unknown key "%"', pg_catalog.left(k, 40)
                USING ERRCODE = '22023',
                      HINT = 'Known keys: no_followup_days, no_deal_days, warn_days, owner_left, exclude_locked, exclude_dealt, exclude_levels, window_start, window_end, daily_claim_limit, hold_limit, cooldown_days, protect_minutes, claim_scope.';
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION fieldops.check_pool_rules(jsonb) IS 'Internal: validate a pool rules object (22023 naming the key).';

-- a new version of a pool's rules from p_from: the version in force then, changed by p_rules
CREATE FUNCTION fieldops.add_pool_rules(p_tenant_id bigint, p_pool_id bigint, p_from date, p_rules jsonb)
RETURNS date
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    r fieldops.pool_rule := fieldops.pool_rules_on(p_tenant_id, p_pool_id, p_from);
    v jsonb;
    v_warn integer;
    k text;
BEGIN
    PERFORM fieldops.check_pool_rules(p_rules);
    v := COALESCE(pg_catalog.to_jsonb(r), '{}') OPERATOR(pg_catalog.||) p_rules;
    -- the warning must come after taking the customer, before the release
    v_warn := COALESCE((v ->> 'warn_days')::integer, 3);
    FOREACH k IN ARRAY ARRAY['no_followup_days', 'no_deal_days'] LOOP
        IF (v ->> k)::integer OPERATOR(pg_catalog.<=) v_warn THEN
            RAISE EXCEPTION 'p_rules: warn_days (%) must be less than % (%): every owner would be warned as soon as he takes a customer',
                v_warn, k, (v ->> k)::integer
                USING ERRCODE = '22023', HINT = 'Set warn_days with it, e.g. {"' || k || '": 2, "warn_days": 1} (0: no warning).';
        END IF;
    END LOOP;
    INSERT INTO fieldops.pool_rule AS t (tenant_id, pool_id, effective_from, no_followup_days, no_deal_days, warn_days, owner_left,
                                   exclude_locked, exclude_dealt, exclude_levels, window_start, window_end,
                                   daily_claim_limit, hold_limit, cooldown_days, protect_minutes, claim_scope)
    SELECT p_tenant_id, p_pool_id, p_from, (v ->> 'no_followup_days')::integer, (v ->> 'no_deal_days')::integer,
           COALESCE((v ->> 'warn_days')::integer, 3), COALESCE(v ->> 'owner_left', 'manager'),
           COALESCE((v ->> 'exclude_locked')::boolean, true), COALESCE((v ->> 'exclude_dealt')::boolean, true),
           COALESCE(ARRAY(SELECT pg_catalog.jsonb_array_elements_text(v -> 'exclude_levels')), '{}'),
           COALESCE((v ->> 'window_start')::time, '01:00'), COALESCE((v ->> 'window_end')::time, '05:00'),
           COALESCE((v ->> 'daily_claim_limit')::integer, 5), COALESCE((v ->> 'hold_limit')::integer, 200),
           COALESCE((v ->> 'cooldown_days')::integer, 7), COALESCE((v ->> 'protect_minutes')::integer, 0),
           COALESCE(v ->> 'claim_scope', 'any')
    ON CONFLICT (tenant_id, pool_id, effective_from) DO UPDATE
       SET no_followup_days = EXCLUDED.no_followup_days, no_deal_days = EXCLUDED.no_deal_days, warn_days = EXCLUDED.warn_days,
           owner_left = EXCLUDED.owner_left, exclude_locked = EXCLUDED.exclude_locked, exclude_dealt = EXCLUDED.exclude_dealt,
           exclude_levels = EXCLUDED.exclude_levels, window_start = EXCLUDED.window_start, window_end = EXCLUDED.window_end,
           daily_claim_limit = EXCLUDED.daily_claim_limit, hold_limit = EXCLUDED.hold_limit,
           cooldown_days = EXCLUDED.cooldown_days, protect_minutes = EXCLUDED.protect_minutes, claim_scope = EXCLUDED.claim_scope,
           created_at = pg_catalog.now();
    RETURN p_from;
END
$$;
COMMENT ON FUNCTION fieldops.add_pool_rules(bigint, bigint, date, jsonb) IS
'Internal: store the rules in force on p_from changed by p_rules as the version from p_from (a second edit the same day replaces that day''s future version).';

CREATE FUNCTION fieldops.create_pool(p_tenant_id bigint, p_code text, p_name text, p_region_id bigint DEFAULT NULL,
                                     p_product_line text DEFAULT NULL, p_rules jsonb DEFAULT '{}')
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    v_pool bigint;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    PERFORM fieldops.check_code(p_code, 'p_code');
    PERFORM fieldops.check_reference(p_tenant_id, 'region', p_region_id, 'p_region_id');
    PERFORM fieldops.check_pool_rules(COALESCE(p_rules, '{}'));
    PERFORM fieldops.default_pool(p_tenant_id);
    INSERT INTO fieldops.customer_pool (tenant_id, code, name, region_id, product_line)
    VALUES (p_tenant_id, p_code, fieldops.check_text(p_name, 'p_name'), p_region_id,
            fieldops.check_text(p_product_line, 'p_product_line', 100, false))
    ON CONFLICT (tenant_id, code) DO NOTHING
    RETURNING pool_id INTO v_pool;
    IF v_pool IS NULL THEN
        RAISE EXCEPTION 'a pool with p_code "%" already exists in tenant %', p_code, p_tenant_id
            USING ERRCODE = '23505', HINT = 'Change its rules with fieldops.set_pool_rules().';
    END IF;
    -- a new pool's rules hold from the start
    PERFORM fieldops.add_pool_rules(p_tenant_id, v_pool, '-infinity', COALESCE(p_rules, '{}'));
    RETURN v_pool;
END
$$;
COMMENT ON FUNCTION fieldops.create_pool(bigint, text, text, bigint, text, jsonb) IS
'Create a customer pool (code unique per tenant) with its rules (see set_pool_rules for the keys and defaults); returns pool_id.';

CREATE FUNCTION fieldops.pool_id_arg(p_tenant_id bigint, p_pool_id bigint)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
    IF p_pool_id IS NULL THEN
        RETURN fieldops.default_pool(p_tenant_id);
    END IF;
    PERFORM 1 FROM fieldops.customer_pool WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND pool_id OPERATOR(pg_catalog.=) p_pool_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'p_pool_id % is not a pool of tenant %', p_pool_id, p_tenant_id USING ERRCODE = '23503';
    END IF;
    RETURN p_pool_id;
END
$$;
COMMENT ON FUNCTION fieldops.pool_id_arg(bigint, bigint) IS 'Internal: check a pool argument (NULL: the default pool).';

CREATE FUNCTION fieldops.set_pool_rules(p_tenant_id bigint, p_pool_id bigint, p_rules jsonb)
RETURNS date
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    v_pool bigint;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    v_pool := fieldops.pool_id_arg(p_tenant_id, p_pool_id);
    PERFORM fieldops.check_pool_rules(p_rules);
    -- one rule edit at a time per pool
    PERFORM 1 FROM fieldops.customer_pool WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND pool_id OPERATOR(pg_catalog.=) v_pool
      FOR NO KEY UPDATE;
    RETURN fieldops.add_pool_rules(p_tenant_id, v_pool, fieldops.tenant_local_date(p_tenant_id) OPERATOR(pg_catalog.+) 1, p_rules);
END
$$;
COMMENT ON FUNCTION fieldops.set_pool_rules(bigint, bigint, jsonb) IS
'Change a pool''s rules (NULL pool: the default pool) from the next tenant-local day; returns that day. Keys (defaults): no_followup_days (null: off), no_deal_days (null: off), warn_days 3, owner_left "manager" (default; to the pool when there is no active manager) or "pool", exclude_locked true, exclude_dealt true, exclude_levels [], window_start "01:00", window_end "05:00", daily_claim_limit 5, hold_limit 200, cooldown_days 7, protect_minutes 0, claim_scope "any"|"region".';

CREATE FUNCTION fieldops.set_pool_admin(p_tenant_id bigint, p_pool_id bigint, p_worker_id bigint, p_admin boolean DEFAULT true)
RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    v_pool bigint;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    v_pool := fieldops.pool_id_arg(p_tenant_id, p_pool_id);
    PERFORM fieldops.lock_active_worker(p_tenant_id, p_worker_id, 'p_worker_id');
    IF COALESCE(p_admin, true) THEN
        INSERT INTO fieldops.pool_admin (tenant_id, pool_id, worker_id) VALUES (p_tenant_id, v_pool, p_worker_id)
        ON CONFLICT DO NOTHING;
    ELSE
        DELETE FROM fieldops.pool_admin
         WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND pool_id OPERATOR(pg_catalog.=) v_pool
           AND worker_id OPERATOR(pg_catalog.=) p_worker_id;
    END IF;
    RETURN COALESCE(p_admin, true);
END
$$;
COMMENT ON FUNCTION fieldops.set_pool_admin(bigint, bigint, bigint, boolean) IS
'Make a worker an administrator of a pool (or not, p_admin false): claims made through it bypass the claim limits.';

--
-- Customers: create or update (the CRM's sync); ownership through the ledger
--
CREATE OR REPLACE FUNCTION fieldops.upsert_customer(p_tenant_id bigint, p_external_ref text, p_name text,
                                         p_location geometry DEFAULT NULL, p_address text DEFAULT NULL,
                                         p_level text DEFAULT NULL, p_category text DEFAULT NULL,
                                         p_region_id bigint DEFAULT NULL, p_owner_worker_id bigint DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    c fieldops.customer;
    v_geom geometry := fieldops.check_point(p_location, 'p_location');
    v_now timestamptz := pg_catalog.now();
    v_created boolean := false;
    v_owner bigint;
    v_pool bigint;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    PERFORM fieldops.check_code(p_external_ref, 'p_external_ref');
    IF p_level IS NOT NULL AND p_level !~ '^[A-Z0-9]{1,8}$' THEN
        RAISE EXCEPTION 'p_level must be 1 to 8 upper-case letters or digits (A, B, VIP), got "%"', pg_catalog.left(p_level, 20)
            USING ERRCODE = '22023';
    END IF;
    PERFORM fieldops.check_reference(p_tenant_id, 'region', p_region_id, 'p_region_id');
    PERFORM fieldops.check_text(p_name, 'p_name');
    v_pool := fieldops.default_pool(p_tenant_id);

    -- lock order: the workers, their holdings (in worker_id order), then the customer
    SELECT owner_worker_id INTO v_owner FROM fieldops.customer
     WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND external_ref OPERATOR(pg_catalog.=) p_external_ref;
    IF p_owner_worker_id IS NOT NULL THEN
        PERFORM fieldops.lock_active_worker(p_tenant_id, p_owner_worker_id, 'p_owner_worker_id');
    END IF;
    FOR i IN 1..3 LOOP
        IF p_owner_worker_id IS NOT NULL AND v_owner IS DISTINCT FROM p_owner_worker_id THEN
            PERFORM fieldops.lock_holding(p_tenant_id, w)
               FROM unnest(ARRAY[v_owner, p_owner_worker_id]) AS w WHERE w IS NOT NULL ORDER BY w;
        END IF;
        IF NOT v_created THEN
            INSERT INTO fieldops.customer (tenant_id, external_ref, name, home_pool_id, pool_id, pooled_since)
            VALUES (p_tenant_id, p_external_ref, p_name, v_pool, v_pool, v_now)
            ON CONFLICT (tenant_id, external_ref) DO NOTHING;
            v_created := FOUND;
        END IF;
        SELECT * INTO c FROM fieldops.customer
         WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND external_ref OPERATOR(pg_catalog.=) p_external_ref
           FOR NO KEY UPDATE;
        -- the owner read before the locks is still the owner: go on
        EXIT WHEN p_owner_worker_id IS NULL OR c.owner_worker_id IS NOT DISTINCT FROM v_owner
                  OR c.owner_worker_id IS NOT DISTINCT FROM p_owner_worker_id;
        v_owner := c.owner_worker_id;
        IF i OPERATOR(pg_catalog.=) 3 THEN
            RAISE EXCEPTION 'customer "%" changed owner while it was being updated', p_external_ref
                USING ERRCODE = '40001', HINT = 'Retry the call.';
        END IF;
    END LOOP;

    UPDATE fieldops.customer
       SET name = p_name,
           geom = COALESCE(v_geom, geom),
           address = COALESCE(fieldops.check_text(p_address, 'p_address', 500, false), address),
           level = COALESCE(p_level, level),
           category = COALESCE(fieldops.check_text(p_category, 'p_category', 100, false), category),
           region_id = COALESCE(p_region_id, region_id),
           updated_at = v_now
     WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND customer_id OPERATOR(pg_catalog.=) c.customer_id;

    IF v_created THEN
        INSERT INTO fieldops.pool_event (tenant_id, customer_id, at, kind, pool_id, actor, local_day)
        VALUES (p_tenant_id, c.customer_id, c.pooled_since, 'created', v_pool, 'upsert_customer',
                fieldops.tenant_local_date(p_tenant_id, c.pooled_since));
        PERFORM fieldops.emit_event(p_tenant_id, 'customer.created', 'customer', c.customer_id,
                                    pg_catalog.jsonb_build_object('external_ref', p_external_ref, 'owner_worker_id', p_owner_worker_id));
    END IF;
    IF p_owner_worker_id IS NOT NULL AND c.owner_worker_id IS DISTINCT FROM p_owner_worker_id THEN
        -- the CRM's assignment: no claim limits (it is not a claim)
        PERFORM fieldops.pool_apply(p_tenant_id, c, CASE WHEN c.owner_worker_id IS NULL THEN 'assigned' ELSE 'transferred' END,
                                    p_owner_worker_id, 'upsert_customer');
    END IF;
    RETURN c.customer_id;
END
$$;
COMMENT ON FUNCTION fieldops.upsert_customer(bigint, text, text, geometry, text, text, text, bigint, bigint) IS
'Create or update the customer with this CRM reference; returns customer_id. p_location is a WGS-84 point; on update a NULL argument keeps the current value. A new customer without p_owner_worker_id goes to the tenant''s default pool; an owner given is assigned through the ledger (no claim limits). Events customer.created, customer.assigned, customer.transferred.';

-- lock a customer (its id checked), NULL when it does not exist
CREATE FUNCTION fieldops.lock_customer(p_tenant_id bigint, p_customer_id bigint, p_skip_locked boolean DEFAULT false)
RETURNS fieldops.customer
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    c fieldops.customer;
BEGIN
    IF p_skip_locked THEN
        SELECT * INTO c FROM fieldops.customer
         WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND customer_id OPERATOR(pg_catalog.=) p_customer_id
           FOR NO KEY UPDATE SKIP LOCKED;
    ELSE
        SELECT * INTO c FROM fieldops.customer
         WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND customer_id OPERATOR(pg_catalog.=) p_customer_id
           FOR NO KEY UPDATE;
    END IF;
    RETURN c;
END
$$;
COMMENT ON FUNCTION fieldops.lock_customer(bigint, bigint, boolean) IS 'Internal: lock a customer row (customer_id NULL when missing or, with p_skip_locked, locked by another).';

CREATE FUNCTION fieldops.set_customer_state(p_tenant_id bigint, p_customer_id bigint, p_locked boolean DEFAULT NULL,
                                            p_deal_state text DEFAULT NULL, p_deal_at timestamptz DEFAULT NULL,
                                            p_tags text[] DEFAULT NULL, p_contacts jsonb DEFAULT NULL,
                                            p_home_pool_id bigint DEFAULT NULL)
RETURNS fieldops.customer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    c fieldops.customer;
    v_pool bigint;
    v_old_pool bigint;
    v_old_home bigint;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    PERFORM fieldops.check_customer_arg(p_customer_id, 'p_customer_id');
    IF p_deal_state IS NOT NULL AND p_deal_state NOT IN ('none', 'open', 'won', 'lost') THEN
        RAISE EXCEPTION 'p_deal_state must be none, open, won or lost, got "%"', pg_catalog.left(p_deal_state, 20) USING ERRCODE = '22023';
    END IF;
    IF p_contacts IS NOT NULL AND (pg_catalog.jsonb_typeof(p_contacts) OPERATOR(pg_catalog.<>) 'array'
        OR EXISTS (SELECT 1 FROM pg_catalog.jsonb_array_elements(p_contacts) e WHERE pg_catalog.jsonb_typeof(e) OPERATOR(pg_catalog.<>) 'object')) THEN
        RAISE EXCEPTION 'p_contacts must be a JSON array of objects such as [{"name": "Li Lei", "phone": "+86 138 0000 0000"}]'
            USING ERRCODE = '22023';
    END IF;
    IF p_tags IS NOT NULL AND EXISTS (SELECT 1 FROM pg_catalog.unnest(p_tags) t WHERE t IS NULL OR pg_catalog.length(t) NOT BETWEEN 1 AND 40) THEN
        RAISE EXCEPTION 'p_tags must be 1 to 40 characters each' USING ERRCODE = '22023';
    END IF;
    IF p_deal_at IS NOT NULL AND p_deal_at OPERATOR(pg_catalog.>) (pg_catalog.now() OPERATOR(pg_catalog.+) interval '10 minutes') THEN
        RAISE EXCEPTION 'p_deal_at must not be in the future, got %', p_deal_at USING ERRCODE = '22023';
    END IF;
    IF p_home_pool_id IS NOT NULL THEN
        v_pool := fieldops.pool_id_arg(p_tenant_id, p_home_pool_id);
    END IF;
    c := fieldops.lock_customer(p_tenant_id, p_customer_id);
    IF c.customer_id IS NULL THEN
        RAISE EXCEPTION 'p_customer_id % is not a customer of tenant %', p_customer_id, p_tenant_id USING ERRCODE = '23503';
    END IF;
    v_old_pool := c.pool_id;
    v_old_home := c.home_pool_id;
    UPDATE fieldops.customer
       SET locked = COALESCE(p_locked, locked),
           deal_state = COALESCE(p_deal_state, deal_state),
           last_deal_at = CASE WHEN p_deal_at IS NOT NULL THEN GREATEST(last_deal_at, p_deal_at) ELSE last_deal_at END,
           tags = COALESCE(p_tags, tags),
           contacts = COALESCE(p_contacts, contacts),
           home_pool_id = COALESCE(v_pool, home_pool_id),
           -- a pooled customer moves to its new home pool at once
           pool_id = CASE WHEN pool_id IS NOT NULL AND v_pool IS NOT NULL THEN v_pool ELSE pool_id END,
           updated_at = pg_catalog.now()
     WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND customer_id OPERATOR(pg_catalog.=) p_customer_id
    RETURNING * INTO c;
    IF v_old_pool IS NOT NULL AND v_pool IS NOT NULL AND v_old_pool OPERATOR(pg_catalog.<>) v_pool THEN
        INSERT INTO fieldops.pool_event (tenant_id, customer_id, at, kind, pool_id, actor, local_day)
        VALUES (p_tenant_id, p_customer_id, pg_catalog.clock_timestamp(), 'moved', v_pool, 'set_customer_state',
                fieldops.tenant_local_date(p_tenant_id));
    ELSIF c.owner_worker_id IS NOT NULL AND v_pool IS NOT NULL AND v_old_home OPERATOR(pg_catalog.<>) v_pool THEN
        -- an owned customer changes the pool whose rules hold and where it
        -- returns: logged (the replay of owner or pool ignores it)
        INSERT INTO fieldops.pool_event (tenant_id, customer_id, at, kind, pool_id, worker_id, actor, local_day)
        VALUES (p_tenant_id, p_customer_id, pg_catalog.clock_timestamp(), 'rehomed', v_pool, c.owner_worker_id, 'set_customer_state',
                fieldops.tenant_local_date(p_tenant_id));
    END IF;
    RETURN c;
END
$$;
COMMENT ON FUNCTION fieldops.set_customer_state(bigint, bigint, boolean, text, timestamptz, text[], jsonb, bigint) IS
'Set what the pool rules read and the 360° view shows: locked (never released automatically), deal state and the time of a deal, tags, contacts, the home pool (a pooled customer moves there). NULL keeps a value.';

--
-- Claims
--

-- one claim; the caller holds the claimant's worker row (share) and holding row
CREATE FUNCTION fieldops.pool_claim_one(p_tenant_id bigint, p_customer_id bigint, p_worker_id bigint, p_by_worker_id bigint)
RETURNS text
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    c fieldops.customer;
    r fieldops.pool_rule;
    v_now timestamptz;
    v_day date;
    v_bypass boolean := p_by_worker_id IS NOT NULL;
    v_claims integer;
    v_held integer;
    v_region bigint;
BEGIN
    c := fieldops.lock_customer(p_tenant_id, p_customer_id);
    IF c.customer_id IS NULL THEN
        RETURN 'not_found';
    END IF;
    IF c.owner_worker_id IS NOT NULL THEN
        RETURN 'taken';
    END IF;
    IF v_bypass AND NOT EXISTS (SELECT 1 FROM fieldops.pool_admin a
                                 WHERE a.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND a.pool_id OPERATOR(pg_catalog.=) c.pool_id
                                   AND a.worker_id OPERATOR(pg_catalog.=) p_by_worker_id) THEN
        RAISE EXCEPTION 'p_by_worker_id % does not administer pool % (customer %)', p_by_worker_id, c.pool_id, p_customer_id
            USING ERRCODE = '42501', HINT = 'Make the worker an administrator with fieldops.set_pool_admin(), or claim without p_by_worker_id.';
    END IF;
    v_now := pg_catalog.clock_timestamp();
    v_day := fieldops.tenant_local_date(p_tenant_id, v_now);
    r := fieldops.pool_rules_on(p_tenant_id, c.pool_id, v_day);
    IF NOT v_bypass THEN
        IF r.claim_scope OPERATOR(pg_catalog.=) 'region' THEN
            v_region := fieldops.worker_region(p_tenant_id, p_worker_id);
            IF v_region IS NULL OR c.region_id IS NULL
               OR NOT fieldops.hierarchy_reaches(p_tenant_id, 'region', c.region_id, v_region) THEN
                RETURN 'scope';
            END IF;
        END IF;
        IF r.protect_minutes OPERATOR(pg_catalog.>) 0
           AND c.pooled_since OPERATOR(pg_catalog.>) (v_now OPERATOR(pg_catalog.-) pg_catalog.make_interval(mins => r.protect_minutes)) THEN
            RETURN 'protected';
        END IF;
        IF r.cooldown_days OPERATOR(pg_catalog.>) 0 AND c.previous_owner_id OPERATOR(pg_catalog.=) p_worker_id
           AND c.released_at OPERATOR(pg_catalog.>) (v_now OPERATOR(pg_catalog.-) pg_catalog.make_interval(days => r.cooldown_days)) THEN
            RETURN 'cooldown';
        END IF;
        INSERT INTO fieldops.pool_claim_counter (tenant_id, worker_id, pool_id, local_day)
        VALUES (p_tenant_id, p_worker_id, c.pool_id, v_day) ON CONFLICT DO NOTHING;
        SELECT claims INTO v_claims FROM fieldops.pool_claim_counter
         WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND worker_id OPERATOR(pg_catalog.=) p_worker_id
           AND pool_id OPERATOR(pg_catalog.=) c.pool_id AND local_day OPERATOR(pg_catalog.=) v_day
           FOR UPDATE;
        IF v_claims OPERATOR(pg_catalog.>=) r.daily_claim_limit THEN
            RETURN 'quota';
        END IF;
        SELECT held INTO v_held FROM fieldops.worker_holding
         WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND worker_id OPERATOR(pg_catalog.=) p_worker_id;
        IF v_held OPERATOR(pg_catalog.>=) r.hold_limit THEN
            RETURN 'hold_limit';
        END IF;
        UPDATE fieldops.pool_claim_counter SET claims = claims OPERATOR(pg_catalog.+) 1
         WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND worker_id OPERATOR(pg_catalog.=) p_worker_id
           AND pool_id OPERATOR(pg_catalog.=) c.pool_id AND local_day OPERATOR(pg_catalog.=) v_day
        RETURNING claims INTO v_claims;
    END IF;
    PERFORM fieldops.pool_apply(p_tenant_id, c, 'claimed', p_worker_id,
                                CASE WHEN v_bypass THEN 'admin:' || p_by_worker_id ELSE 'worker:' || p_worker_id END,
                                NULL, NULL, v_bypass, v_claims, v_day);
    RETURN 'claimed';
END
$$;
COMMENT ON FUNCTION fieldops.pool_claim_one(bigint, bigint, bigint, bigint) IS
'Internal: claim one customer for a worker whose worker and holdings rows the caller holds; returns the status.';

-- the claimant (and the admin claiming for it) share-locked, in worker_id order, then the claimant's holding
CREATE FUNCTION fieldops.pool_claim_prepare(p_tenant_id bigint, p_worker_id bigint, p_by_worker_id bigint)
RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
    IF p_by_worker_id IS NOT NULL AND p_by_worker_id OPERATOR(pg_catalog.<) p_worker_id THEN
        PERFORM fieldops.lock_active_worker(p_tenant_id, p_by_worker_id, 'p_by_worker_id');
    END IF;
    PERFORM fieldops.lock_active_worker(p_tenant_id, p_worker_id, 'p_worker_id');
    IF p_by_worker_id IS NOT NULL AND p_by_worker_id OPERATOR(pg_catalog.>) p_worker_id THEN
        PERFORM fieldops.lock_active_worker(p_tenant_id, p_by_worker_id, 'p_by_worker_id');
    END IF;
    PERFORM fieldops.lock_holding(p_tenant_id, p_worker_id);
END
$$;
COMMENT ON FUNCTION fieldops.pool_claim_prepare(bigint, bigint, bigint) IS 'Internal: the locks a claim takes before its customers.';

CREATE FUNCTION fieldops.claim_customer(p_tenant_id bigint, p_customer_id bigint, p_worker_id bigint,
                                        p_by_worker_id bigint DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    PERFORM fieldops.check_customer_arg(p_customer_id, 'p_customer_id');
    PERFORM fieldops.pool_claim_prepare(p_tenant_id, p_worker_id, p_by_worker_id);
    RETURN fieldops.pool_claim_one(p_tenant_id, p_customer_id, p_worker_id, p_by_worker_id);
END
$$;
COMMENT ON FUNCTION fieldops.claim_customer(bigint, bigint, bigint, bigint) IS
'Claim a pooled customer for a worker. Statuses: claimed; taken (owned, also by this worker); quota (the pool''s daily_claim_limit for this worker today, tenant-local); hold_limit (the worker owns hold_limit customers); cooldown (its previous owner within cooldown_days of the release); protected (in the pool for less than protect_minutes); scope (claim_scope region and the customer is outside the region of the worker''s team); not_found. With p_by_worker_id, an administrator of the customer''s pool claims for the worker: no limits, the same state guard.';

CREATE FUNCTION fieldops.claim_customers(p_tenant_id bigint, p_customer_ids bigint[], p_worker_id bigint,
                                         p_by_worker_id bigint DEFAULT NULL)
RETURNS TABLE (customer_id bigint, status text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    v_id bigint;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    IF p_customer_ids IS NULL OR pg_catalog.cardinality(p_customer_ids) OPERATOR(pg_catalog.=) 0
       OR pg_catalog.cardinality(p_customer_ids) OPERATOR(pg_catalog.>) 1000 THEN
        RAISE EXCEPTION 'p_customer_ids must hold 1 to 1000 customer ids, got %', COALESCE(pg_catalog.cardinality(p_customer_ids), 0)
            USING ERRCODE = '22023';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_catalog.unnest(p_customer_ids) i WHERE i IS NULL OR i OPERATOR(pg_catalog.<=) 0) THEN
        RAISE EXCEPTION 'p_customer_ids must hold positive customer ids only' USING ERRCODE = '22023';
    END IF;
    PERFORM fieldops.pool_claim_prepare(p_tenant_id, p_worker_id, p_by_worker_id);
    -- customers in id order, whatever order they were given in: two batches
    -- of overlapping sets wait for each other instead of deadlocking
    FOR v_id IN SELECT DISTINCT i FROM pg_catalog.unnest(p_customer_ids) i ORDER BY i LOOP
        customer_id := v_id;
        status := fieldops.pool_claim_one(p_tenant_id, v_id, p_worker_id, p_by_worker_id);
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION fieldops.claim_customers(bigint, bigint[], bigint, bigint) IS
'Claim up to 1000 customers at once, locked in customer_id order; one row per distinct id with the status claim_customer() would give it (the limits count the earlier claims of the batch).';

--
-- Releases, transfers, follow-ups
--
CREATE FUNCTION fieldops.release_customer(p_tenant_id bigint, p_customer_id bigint, p_worker_id bigint, p_note text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    c fieldops.customer;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    PERFORM fieldops.check_customer_arg(p_customer_id, 'p_customer_id');
    IF p_worker_id IS NULL THEN
        RAISE EXCEPTION 'p_worker_id must not be null (the owner expected to release)' USING ERRCODE = '22004';
    END IF;
    PERFORM fieldops.check_text(p_note, 'p_note', 500, false);
    IF NOT EXISTS (SELECT 1 FROM fieldops.worker WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND worker_id OPERATOR(pg_catalog.=) p_worker_id) THEN
        RAISE EXCEPTION 'p_worker_id % is not a worker of tenant %', p_worker_id, p_tenant_id USING ERRCODE = '23503';
    END IF;
    PERFORM fieldops.lock_holding(p_tenant_id, p_worker_id);
    c := fieldops.lock_customer(p_tenant_id, p_customer_id);
    IF c.customer_id IS NULL THEN
        RETURN 'not_found';
    END IF;
    IF c.owner_worker_id IS DISTINCT FROM p_worker_id THEN
        RETURN 'not_owner';
    END IF;
    PERFORM fieldops.pool_apply(p_tenant_id, c, 'released', NULL, 'worker:' || p_worker_id, 'manual',
                                pg_catalog.floor(EXTRACT(epoch FROM pg_catalog.now() OPERATOR(pg_catalog.-) c.idle_since) OPERATOR(pg_catalog./) 86400)::integer);
    RETURN 'released';
END
$$;
COMMENT ON FUNCTION fieldops.release_customer(bigint, bigint, bigint, text) IS
'Its owner gives a customer back to its home pool. Statuses: released, not_owner (p_worker_id does not own it now), not_found.';

CREATE FUNCTION fieldops.transfer_customer(p_tenant_id bigint, p_customer_id bigint, p_from_worker_id bigint, p_to_worker_id bigint,
                                           p_actor text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    c fieldops.customer;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    PERFORM fieldops.check_customer_arg(p_customer_id, 'p_customer_id');
    IF p_from_worker_id IS NULL THEN
        RAISE EXCEPTION 'p_from_worker_id must not be null (the owner expected now)' USING ERRCODE = '22004';
    END IF;
    IF p_from_worker_id OPERATOR(pg_catalog.=) p_to_worker_id THEN
        RAISE EXCEPTION 'p_to_worker_id must differ from p_from_worker_id, got % for both', p_to_worker_id USING ERRCODE = '22023';
    END IF;
    PERFORM fieldops.check_text(p_actor, 'p_actor', 100, false);
    PERFORM fieldops.lock_active_worker(p_tenant_id, p_to_worker_id, 'p_to_worker_id');
    PERFORM fieldops.lock_holding(p_tenant_id, w)
       FROM unnest(ARRAY[p_from_worker_id, p_to_worker_id]) AS w ORDER BY w;
    c := fieldops.lock_customer(p_tenant_id, p_customer_id);
    IF c.customer_id IS NULL THEN
        RETURN 'not_found';
    END IF;
    IF c.owner_worker_id IS DISTINCT FROM p_from_worker_id THEN
        RETURN 'not_owner';
    END IF;
    PERFORM fieldops.pool_apply(p_tenant_id, c, 'transferred', p_to_worker_id, COALESCE(p_actor, 'transfer_customer'));
    RETURN 'transferred';
END
$$;
COMMENT ON FUNCTION fieldops.transfer_customer(bigint, bigint, bigint, bigint, text) IS
'Move a customer from the owner the caller expects to another active worker (no claim limits). Statuses: transferred, not_owner (p_from_worker_id does not own it now: nothing changed), not_found.';

CREATE FUNCTION fieldops.record_followup(p_tenant_id bigint, p_customer_id bigint, p_worker_id bigint,
                                         p_at timestamptz DEFAULT NULL, p_note text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    c fieldops.customer;
    v_at timestamptz := COALESCE(p_at, pg_catalog.now());
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    PERFORM fieldops.check_customer_arg(p_customer_id, 'p_customer_id');
    IF p_worker_id IS NULL THEN
        RAISE EXCEPTION 'p_worker_id must not be null' USING ERRCODE = '22004';
    END IF;
    IF v_at OPERATOR(pg_catalog.>) (pg_catalog.now() OPERATOR(pg_catalog.+) interval '10 minutes') THEN
        RAISE EXCEPTION 'p_at must not be in the future, got %', v_at USING ERRCODE = '22023';
    END IF;
    PERFORM fieldops.check_text(p_note, 'p_note', 2000, false);
    c := fieldops.lock_customer(p_tenant_id, p_customer_id);
    IF c.customer_id IS NULL THEN
        RETURN 'not_found';
    END IF;
    IF c.owner_worker_id IS DISTINCT FROM p_worker_id THEN
        -- released (or taken over) before this follow-up came in
        RETURN 'released';
    END IF;
    -- a follow-up that moves the idle clock starts a new idle period: a
    -- warning given before it does not count for the next release (a
    -- follow-up synced late may be older than the warning)
    UPDATE fieldops.customer
       SET last_followup_at = GREATEST(last_followup_at, v_at),
           warned_at = CASE WHEN v_at OPERATOR(pg_catalog.>) idle_since THEN NULL ELSE warned_at END,
           updated_at = pg_catalog.now()
     WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND customer_id OPERATOR(pg_catalog.=) p_customer_id;
    PERFORM fieldops.emit_event(p_tenant_id, 'customer.followed_up', 'customer', p_customer_id,
        pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object('worker_id', p_worker_id, 'at', v_at, 'note', p_note)));
    RETURN 'recorded';
END
$$;
COMMENT ON FUNCTION fieldops.record_followup(bigint, bigint, bigint, timestamptz, text) IS
'A follow-up of a customer by its owner (a verified visit, a call the CRM logged): the release clock starts again. Statuses: recorded; released (the worker does not own the customer any more: it was released or moved first); not_found.';

--
-- Automatic release
--

-- is a tenant-local time inside a window [start, end) (across midnight when start > end; all day when equal)?
CREATE FUNCTION fieldops.in_window(p_t time, p_start time, p_end time)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE WHEN p_start OPERATOR(pg_catalog.=) p_end THEN true
                WHEN p_start OPERATOR(pg_catalog.<) p_end THEN p_t OPERATOR(pg_catalog.>=) p_start AND p_t OPERATOR(pg_catalog.<) p_end
                ELSE p_t OPERATOR(pg_catalog.>=) p_start OR p_t OPERATOR(pg_catalog.<) p_end END
$$;
COMMENT ON FUNCTION fieldops.in_window(time, time, time) IS 'Internal: is p_t in [p_start, p_end), a window that may cross midnight?';

-- outbox events of one topic for many aggregates at once (emit_event() for a set)
CREATE FUNCTION fieldops.emit_events(p_tenant_id bigint, p_topic text, p_aggregate_type text,
                                     p_aggregate_ids bigint[], p_payloads jsonb[])
RETURNS integer
LANGUAGE sql VOLATILE
AS $$
    WITH ins AS (
        INSERT INTO fieldops.outbox (tenant_id, topic, aggregate_type, aggregate_id, payload)
        SELECT p_tenant_id, p_topic, p_aggregate_type, e.id, COALESCE(e.payload, '{}')
          FROM unnest(p_aggregate_ids, p_payloads) WITH ORDINALITY AS e(id, payload, n)
         ORDER BY e.n
        RETURNING event_id)
    SELECT pg_catalog.count(pg_catalog.pg_notify('fieldops_outbox',
               pg_catalog.jsonb_build_object('tenant_id', p_tenant_id, 'event_id', ins.event_id, 'topic', p_topic)::text))::integer
      FROM ins
$$;
COMMENT ON FUNCTION fieldops.emit_events(bigint, text, text, bigint[], jsonb[]) IS
'Internal: emit_event() for a set: one outbox event of p_topic per aggregate id (with the payload at the same position), each NOTIFYed.';

-- One bounded batch of warnings and releases of a tenant, set at a time:
-- per pool, the candidates by index; the holdings of their owners and then
-- the customers locked, skipping what a claim, transfer, follow-up or
-- departure holds (the job never waits, so it cannot deadlock with them);
-- every decision taken again on the row as locked (a change committed
-- first wins); then a handful of statements for the whole batch.  Row by
-- row through pool_apply() it cost 5.7 times the naive UPDATE.
CREATE FUNCTION fieldops.pool_release_batch(p_tenant_id bigint, p_now timestamptz, p_limit integer, p_window boolean)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    v_day date := fieldops.tenant_local_date(p_tenant_id, p_now);
    v_time time := (p_now AT TIME ZONE fieldops.tenant_time_zone(p_tenant_id))::time;
    p record;
    r fieldops.pool_rule;
    v_rel_f timestamptz;
    v_warn_f timestamptz;
    v_rel_d timestamptz;
    v_warn_d timestamptz;
    v_warned_by timestamptz;
    v_ids bigint[];
    v_owners bigint[];
    v_held bigint[];
    v_act text[];
    v_cid bigint[];
    v_cowner bigint[];
    v_rule text[];
    v_days integer[];
    v_at timestamptz;
    v_at_day date;
    n integer;
    n_released integer := 0;
    n_warned integer := 0;
    n_skipped integer := 0;
    n_seen integer := 0;
BEGIN
    FOR p IN SELECT pool_id FROM fieldops.customer_pool WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id ORDER BY pool_id LOOP
        r := fieldops.pool_rules_on(p_tenant_id, p.pool_id, v_day);
        CONTINUE WHEN r.pool_id IS NULL OR (r.no_followup_days IS NULL AND r.no_deal_days IS NULL);
        CONTINUE WHEN p_window AND NOT fieldops.in_window(v_time, r.window_start, r.window_end);
        v_rel_f := p_now OPERATOR(pg_catalog.-) pg_catalog.make_interval(days => r.no_followup_days);
        v_warn_f := v_rel_f OPERATOR(pg_catalog.+) pg_catalog.make_interval(days => r.warn_days);
        v_rel_d := p_now OPERATOR(pg_catalog.-) pg_catalog.make_interval(days => r.no_deal_days);
        v_warn_d := v_rel_d OPERATOR(pg_catalog.+) pg_catalog.make_interval(days => r.warn_days);
        -- a release needs a warning of this idle period at least warn_days
        -- old (none when warn_days is 0): a customer already overdue when
        -- first seen (new or tightened rules, a job that could not run) is
        -- warned first, never released without notice
        v_warned_by := p_now OPERATOR(pg_catalog.-) pg_catalog.make_interval(days => r.warn_days);
        -- candidates: in the warning period and not yet warned for this
        -- idle period, or due and warned long enough ago; the rule's
        -- exclusions are never candidates (nor are customers waiting out
        -- their warning: they would fill every batch)
        SELECT pg_catalog.array_agg(x.customer_id ORDER BY x.customer_id), pg_catalog.array_agg(x.owner_worker_id ORDER BY x.customer_id)
          INTO v_ids, v_owners
          FROM (SELECT y.customer_id, y.owner_worker_id FROM (
                (SELECT cu.customer_id, cu.owner_worker_id FROM fieldops.customer cu
                  WHERE r.no_followup_days IS NOT NULL
                    AND cu.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND cu.home_pool_id OPERATOR(pg_catalog.=) p.pool_id
                    AND cu.owner_worker_id IS NOT NULL AND cu.idle_since OPERATOR(pg_catalog.<) v_warn_f
                    AND ((r.warn_days OPERATOR(pg_catalog.>) 0 AND (cu.warned_at IS NULL OR cu.warned_at OPERATOR(pg_catalog.<) cu.idle_since))
                         OR (cu.idle_since OPERATOR(pg_catalog.<) v_rel_f
                             AND (r.warn_days OPERATOR(pg_catalog.=) 0 OR cu.warned_at OPERATOR(pg_catalog.<=) v_warned_by)))
                    AND NOT (r.exclude_locked AND cu.locked) AND NOT (r.exclude_dealt AND cu.deal_state OPERATOR(pg_catalog.=) 'won')
                    AND (cu.level IS NULL OR NOT cu.level OPERATOR(pg_catalog.=) ANY (r.exclude_levels))
                  ORDER BY cu.idle_since LIMIT p_limit OPERATOR(pg_catalog.-) n_seen)
                UNION
                (SELECT cu.customer_id, cu.owner_worker_id FROM fieldops.customer cu
                  WHERE r.no_deal_days IS NOT NULL
                    AND cu.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND cu.home_pool_id OPERATOR(pg_catalog.=) p.pool_id
                    AND cu.owner_worker_id IS NOT NULL AND cu.owned_since OPERATOR(pg_catalog.<) v_warn_d
                    AND (cu.last_deal_at IS NULL OR cu.last_deal_at OPERATOR(pg_catalog.<) cu.owned_since)
                    AND ((r.warn_days OPERATOR(pg_catalog.>) 0 AND (cu.warned_at IS NULL OR cu.warned_at OPERATOR(pg_catalog.<) cu.owned_since))
                         OR (cu.owned_since OPERATOR(pg_catalog.<) v_rel_d
                             AND (r.warn_days OPERATOR(pg_catalog.=) 0 OR cu.warned_at OPERATOR(pg_catalog.<=) v_warned_by)))
                    AND NOT (r.exclude_locked AND cu.locked) AND NOT (r.exclude_dealt AND cu.deal_state OPERATOR(pg_catalog.=) 'won')
                    AND (cu.level IS NULL OR NOT cu.level OPERATOR(pg_catalog.=) ANY (r.exclude_levels))
                  ORDER BY cu.owned_since LIMIT p_limit OPERATOR(pg_catalog.-) n_seen)) y
                 ORDER BY y.customer_id LIMIT p_limit OPERATOR(pg_catalog.-) n_seen) x;
        CONTINUE WHEN v_ids IS NULL;
        n_seen := n_seen OPERATOR(pg_catalog.+) pg_catalog.cardinality(v_ids);

        -- lock order: the owners' holdings, then the customers; never wait
        v_held := ARRAY(SELECT h.worker_id FROM fieldops.worker_holding h
                         WHERE h.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND h.worker_id OPERATOR(pg_catalog.=) ANY (v_owners)
                         ORDER BY h.worker_id
                           FOR UPDATE SKIP LOCKED);
        -- the decision, on each row as locked: the same owner still, not
        -- excluded now, and due with a warning of this idle period at least
        -- warn_days old, or to be warned (once per idle period)
        SELECT pg_catalog.array_agg(d.act ORDER BY d.customer_id), pg_catalog.array_agg(d.customer_id ORDER BY d.customer_id),
               pg_catalog.array_agg(d.owner ORDER BY d.customer_id), pg_catalog.array_agg(d.rule ORDER BY d.customer_id),
               pg_catalog.array_agg(d.days ORDER BY d.customer_id)
          INTO v_act, v_cid, v_cowner, v_rule, v_days
          FROM (SELECT z.customer_id, z.owner, z.act, z.rule,
                       -- released: idle (or dealless) days; warned: days
                       -- left, which is warn_days (the warning must be that old)
                       CASE z.act
                       WHEN 'release' THEN pg_catalog.floor(EXTRACT(epoch FROM p_now OPERATOR(pg_catalog.-) z.since) OPERATOR(pg_catalog./) 86400)::integer
                       ELSE r.warn_days END AS days
                  FROM (SELECT c.customer_id, c.owner_worker_id AS owner,
                               CASE WHEN c.f_rel OR c.d_rel THEN 'release' WHEN c.f_tow OR c.d_tow THEN 'warn' END AS act,
                               CASE WHEN c.f_rel OR (NOT c.d_rel AND c.f_tow) THEN 'no_followup' ELSE 'no_deal' END AS rule,
                               CASE WHEN c.f_rel OR (NOT c.d_rel AND c.f_tow) THEN c.idle_since ELSE c.owned_since END AS since
                          -- per rule: due and warned long enough ago (rel), in
                          -- the warning period and not warned this period (tow)
                          FROM (SELECT b.customer_id, b.owner_worker_id, b.idle_since, b.owned_since,
                                       b.f_due AND (r.warn_days OPERATOR(pg_catalog.=) 0 OR (b.f_warned AND b.warned_long)) AS f_rel,
                                       b.d_due AND (r.warn_days OPERATOR(pg_catalog.=) 0 OR (b.d_warned AND b.warned_long)) AS d_rel,
                                       r.warn_days OPERATOR(pg_catalog.>) 0 AND b.f_warn AND NOT b.f_warned AS f_tow,
                                       r.warn_days OPERATOR(pg_catalog.>) 0 AND b.d_warn AND NOT b.d_warned AS d_tow
                          FROM (SELECT cu.customer_id, cu.owner_worker_id, cu.idle_since, cu.owned_since,
                                       COALESCE(cu.idle_since OPERATOR(pg_catalog.<) v_rel_f, false) AS f_due,
                                       COALESCE(cu.idle_since OPERATOR(pg_catalog.<) v_warn_f, false) AS f_warn,
                                       COALESCE(cu.owned_since OPERATOR(pg_catalog.<) v_rel_d
                                                AND (cu.last_deal_at IS NULL OR cu.last_deal_at OPERATOR(pg_catalog.<) cu.owned_since), false) AS d_due,
                                       COALESCE(cu.owned_since OPERATOR(pg_catalog.<) v_warn_d
                                                AND (cu.last_deal_at IS NULL OR cu.last_deal_at OPERATOR(pg_catalog.<) cu.owned_since), false) AS d_warn,
                                       COALESCE(cu.warned_at OPERATOR(pg_catalog.>=) cu.idle_since, false) AS f_warned,
                                       COALESCE(cu.warned_at OPERATOR(pg_catalog.>=) cu.owned_since, false) AS d_warned,
                                       COALESCE(cu.warned_at OPERATOR(pg_catalog.<=) v_warned_by, false) AS warned_long
                                  FROM fieldops.customer cu
                                  JOIN unnest(v_ids, v_owners) AS k(id, owner)
                                    ON cu.customer_id OPERATOR(pg_catalog.=) k.id AND cu.owner_worker_id OPERATOR(pg_catalog.=) k.owner
                                 WHERE cu.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND cu.home_pool_id OPERATOR(pg_catalog.=) p.pool_id
                                   AND cu.owner_worker_id OPERATOR(pg_catalog.=) ANY (v_held)
                                   AND NOT (r.exclude_locked AND cu.locked) AND NOT (r.exclude_dealt AND cu.deal_state OPERATOR(pg_catalog.=) 'won')
                                   AND (cu.level IS NULL OR NOT cu.level OPERATOR(pg_catalog.=) ANY (r.exclude_levels))
                                 ORDER BY cu.customer_id
                                   FOR NO KEY UPDATE OF cu SKIP LOCKED) b) c) z
                 WHERE z.act IS NOT NULL) d;
        n_skipped := n_skipped OPERATOR(pg_catalog.+) pg_catalog.cardinality(v_ids)
                     OPERATOR(pg_catalog.-) COALESCE(pg_catalog.cardinality(v_cid), 0);
        CONTINUE WHEN v_cid IS NULL;
        v_at := pg_catalog.clock_timestamp();
        v_at_day := fieldops.tenant_local_date(p_tenant_id, v_at);

        -- the releases: ledger, holdings, customers, log, outbox
        WITH rel AS (SELECT x.id, x.owner, x.rule, x.days
                       FROM unnest(v_act, v_cid, v_cowner, v_rule, v_days) AS x(act, id, owner, rule, days)
                      WHERE x.act OPERATOR(pg_catalog.=) 'release'),
        own AS (UPDATE fieldops.customer_ownership o SET ended_at = v_at, end_reason = 'released'
                  FROM rel WHERE o.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND o.customer_id OPERATOR(pg_catalog.=) rel.id
                   AND o.ended_at IS NULL),
        hold AS (UPDATE fieldops.worker_holding h SET held = h.held OPERATOR(pg_catalog.-) g.n
                   FROM (SELECT rel.owner, pg_catalog.count(*) AS n FROM rel GROUP BY rel.owner) g
                  WHERE h.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND h.worker_id OPERATOR(pg_catalog.=) g.owner),
        cust AS (UPDATE fieldops.customer c
                    SET owner_worker_id = NULL, owned_since = NULL, pool_id = c.home_pool_id, pooled_since = v_at,
                        previous_owner_id = c.owner_worker_id, released_at = v_at, warned_at = NULL, updated_at = v_at
                   FROM rel WHERE c.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND c.customer_id OPERATOR(pg_catalog.=) rel.id),
        ev AS (INSERT INTO fieldops.pool_event (tenant_id, customer_id, at, kind, pool_id, previous_worker_id, actor, rule, days, local_day)
               SELECT p_tenant_id, rel.id, v_at, 'released', p.pool_id, rel.owner, 'job:pool_release', rel.rule, rel.days, v_at_day
                 FROM rel ORDER BY rel.id)
        SELECT pg_catalog.count(*)::integer INTO STRICT n FROM rel;
        n_released := n_released OPERATOR(pg_catalog.+) n;
        PERFORM fieldops.emit_events(p_tenant_id, 'customer.released', 'customer',
                    ARRAY(SELECT x.id FROM unnest(v_act, v_cid) AS x(act, id) WHERE x.act OPERATOR(pg_catalog.=) 'release' ORDER BY x.id),
                    ARRAY(SELECT pg_catalog.jsonb_build_object('previous_owner_worker_id', x.owner, 'pool_id', p.pool_id, 'rule', x.rule,
                                                               'days', x.days, 'actor', 'job:pool_release')
                            FROM unnest(v_act, v_cid, v_cowner, v_rule, v_days) AS x(act, id, owner, rule, days)
                           WHERE x.act OPERATOR(pg_catalog.=) 'release' ORDER BY x.id));

        -- the warnings
        WITH w AS (SELECT x.id, x.owner, x.rule, x.days
                     FROM unnest(v_act, v_cid, v_cowner, v_rule, v_days) AS x(act, id, owner, rule, days)
                    WHERE x.act OPERATOR(pg_catalog.=) 'warn'),
        cust AS (UPDATE fieldops.customer c SET warned_at = v_at
                   FROM w WHERE c.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND c.customer_id OPERATOR(pg_catalog.=) w.id),
        ev AS (INSERT INTO fieldops.pool_event (tenant_id, customer_id, at, kind, pool_id, worker_id, actor, rule, days, local_day)
               SELECT p_tenant_id, w.id, v_at, 'warned', p.pool_id, w.owner, 'job:pool_release', w.rule, w.days, v_day
                 FROM w ORDER BY w.id)
        SELECT pg_catalog.count(*)::integer INTO STRICT n FROM w;
        n_warned := n_warned OPERATOR(pg_catalog.+) n;
        PERFORM fieldops.emit_events(p_tenant_id, 'customer.release_warning', 'customer',
                    ARRAY(SELECT x.id FROM unnest(v_act, v_cid) AS x(act, id) WHERE x.act OPERATOR(pg_catalog.=) 'warn' ORDER BY x.id),
                    ARRAY(SELECT pg_catalog.jsonb_build_object('owner_worker_id', x.owner, 'rule', x.rule, 'days_left', x.days,
                                                               'pool_id', p.pool_id)
                            FROM unnest(v_act, v_cid, v_cowner, v_rule, v_days) AS x(act, id, owner, rule, days)
                           WHERE x.act OPERATOR(pg_catalog.=) 'warn' ORDER BY x.id));
        EXIT WHEN n_seen OPERATOR(pg_catalog.>=) p_limit;
    END LOOP;
    -- more only when the batch was full and did something: a batch whose
    -- candidates were all locked by others would pick the same rows again
    -- at once (they are the most idle); the next scheduled run retries them
    RETURN pg_catalog.jsonb_build_object('released', n_released, 'warned', n_warned, 'skipped', n_skipped,
                                         'more', n_seen OPERATOR(pg_catalog.>=) p_limit
                                                 AND (n_released OPERATOR(pg_catalog.+) n_warned) OPERATOR(pg_catalog.>) 0);
END
$$;
COMMENT ON FUNCTION fieldops.pool_release_batch(bigint, timestamptz, integer, boolean) IS
'Internal: warn and release up to p_limit customers of a tenant whose pool rules say so at p_now (only pools inside their release window when p_window), set at a time; rows locked by others are skipped (counted in skipped, with those that changed meanwhile), and every decision is taken on the row as locked.';

CREATE FUNCTION fieldops.release_stale_customers(p_tenant_id bigint DEFAULT NULL, p_now timestamptz DEFAULT pg_catalog.now())
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    v_tenant bigint;
    v jsonb;
    n bigint := 0;
BEGIN
    IF p_now IS NULL THEN
        RAISE EXCEPTION 'p_now must not be null' USING ERRCODE = '22004';
    END IF;
    IF p_tenant_id IS NOT NULL THEN
        PERFORM fieldops.require_tenant(p_tenant_id);
    END IF;
    FOR v_tenant IN SELECT t.tenant_id FROM fieldops.tenant t
                     WHERE (p_tenant_id IS NULL OR t.tenant_id OPERATOR(pg_catalog.=) p_tenant_id)
                       AND t.status OPERATOR(pg_catalog.=) 'active'
                     ORDER BY t.tenant_id LOOP
        LOOP
            v := fieldops.pool_release_batch(v_tenant, p_now, 1000, false);
            n := n OPERATOR(pg_catalog.+) (v ->> 'released')::bigint;
            EXIT WHEN NOT (v ->> 'more')::boolean
                   OR ((v ->> 'released')::integer OPERATOR(pg_catalog.=) 0 AND (v ->> 'warned')::integer OPERATOR(pg_catalog.=) 0);
        END LOOP;
    END LOOP;
    RETURN n;
END
$$;
COMMENT ON FUNCTION fieldops.release_stale_customers(bigint, timestamptz) IS
'Warn and release now, in one transaction, every customer whose pool rules say so at p_now (one tenant, or every tenant the caller may see); ignores the release windows, which the pool_release job keeps; returns how many were released. Rows locked by concurrent work are left for the next run.';

CREATE FUNCTION fieldops.job_pool_release(p_tenant_id bigint, p_args jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
    RETURN fieldops.pool_release_batch(p_tenant_id, pg_catalog.now(), COALESCE((p_args ->> 'batch')::integer, 1000), true);
END
$$;
COMMENT ON FUNCTION fieldops.job_pool_release(bigint, jsonb) IS
'Job (per tenant): warn and release customers per their pool rules, inside each pool''s release window, args.batch (default 1000) per run ({"more": true} when the batch was full: the scheduler runs it again at once, each batch its own transaction).';

--
-- A worker who leaves: each customer to the manager or to its pool, per its pool's owner_left rule
--
CREATE FUNCTION fieldops.pool_owner_left(p_tenant_id bigint, p_worker_id bigint, p_heir bigint)
RETURNS integer[]
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    c fieldops.customer;
    r fieldops.pool_rule;
    v_day date := fieldops.tenant_local_date(p_tenant_id);
    n_moved integer := 0;
    n_released integer := 0;
BEGIN
    PERFORM fieldops.lock_holding(p_tenant_id, w)
       FROM unnest(ARRAY[p_worker_id, p_heir]) AS w WHERE w IS NOT NULL ORDER BY w;
    FOR c IN SELECT * FROM fieldops.customer
              WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND owner_worker_id OPERATOR(pg_catalog.=) p_worker_id
              ORDER BY customer_id
                FOR NO KEY UPDATE LOOP
        r := fieldops.pool_rules_on(p_tenant_id, c.home_pool_id, v_day);
        IF p_heir IS NOT NULL AND r.owner_left OPERATOR(pg_catalog.=) 'manager' THEN
            PERFORM fieldops.pool_apply(p_tenant_id, c, 'transferred', p_heir, 'departure', 'owner_left');
            n_moved := n_moved OPERATOR(pg_catalog.+) 1;
        ELSE
            PERFORM fieldops.pool_apply(p_tenant_id, c, 'released', NULL, 'departure', 'owner_left');
            n_released := n_released OPERATOR(pg_catalog.+) 1;
        END IF;
    END LOOP;
    RETURN ARRAY[n_moved, n_released];
END
$$;
COMMENT ON FUNCTION fieldops.pool_owner_left(bigint, bigint, bigint) IS
'Internal: a departing worker''s customers go to p_heir (the manager) when their pool''s owner_left rule is manager and there is one, else back to their pool; returns {moved, released}.';

--
-- The proof: what must always hold
--
CREATE FUNCTION fieldops.check_pool_invariants(p_tenant_id bigint DEFAULT NULL)
RETURNS TABLE (tenant_id bigint, invariant text, customer_id bigint, worker_id bigint, detail text)
LANGUAGE sql STABLE
AS $$
    -- (NOT MATERIALIZED: the correlated lookups below must reach the
    -- tables' indexes; a materialized CTE made them a scan each, O(n^2))
    WITH c AS NOT MATERIALIZED (
        SELECT * FROM fieldops.customer x WHERE p_tenant_id IS NULL OR x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id
    ), o AS NOT MATERIALIZED (
        SELECT * FROM fieldops.customer_ownership x WHERE p_tenant_id IS NULL OR x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id
    ), e AS NOT MATERIALIZED (
        SELECT * FROM fieldops.pool_event x WHERE p_tenant_id IS NULL OR x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id
    ), last_state AS (
        SELECT DISTINCT ON (e.tenant_id, e.customer_id) e.tenant_id, e.customer_id, e.kind,
               CASE WHEN e.kind IN ('claimed', 'assigned', 'transferred') OR (e.kind IN ('created', 'migrated') AND e.worker_id IS NOT NULL)
                    THEN e.worker_id END AS owner,
               CASE WHEN e.kind IN ('released', 'moved') OR (e.kind IN ('created', 'migrated') AND e.worker_id IS NULL)
                    THEN e.pool_id END AS pool
          FROM e WHERE e.kind NOT IN ('warned', 'rehomed')
         ORDER BY e.tenant_id, e.customer_id, e.event_id DESC
    )
    SELECT c.tenant_id, 'owner_xor_pool', c.customer_id, c.owner_worker_id,
           pg_catalog.format('owner %s, pool %s', c.owner_worker_id, c.pool_id)
      FROM c WHERE (c.owner_worker_id IS NULL) OPERATOR(pg_catalog.=) (c.pool_id IS NULL)
    UNION ALL
    SELECT c.tenant_id, 'owned_without_one_open_ownership', c.customer_id, c.owner_worker_id,
           pg_catalog.format('%s open ownership rows of the owner, %s of others',
               (SELECT pg_catalog.count(*) FROM o WHERE o.tenant_id OPERATOR(pg_catalog.=) c.tenant_id AND o.customer_id OPERATOR(pg_catalog.=) c.customer_id
                   AND o.ended_at IS NULL AND o.worker_id OPERATOR(pg_catalog.=) c.owner_worker_id),
               (SELECT pg_catalog.count(*) FROM o WHERE o.tenant_id OPERATOR(pg_catalog.=) c.tenant_id AND o.customer_id OPERATOR(pg_catalog.=) c.customer_id
                   AND o.ended_at IS NULL AND o.worker_id OPERATOR(pg_catalog.<>) c.owner_worker_id))
      FROM c WHERE c.owner_worker_id IS NOT NULL
       AND (SELECT pg_catalog.count(*) FILTER (WHERE o.worker_id OPERATOR(pg_catalog.=) c.owner_worker_id) OPERATOR(pg_catalog.<>) 1
                   OR pg_catalog.count(*) OPERATOR(pg_catalog.<>) 1
              FROM o WHERE o.tenant_id OPERATOR(pg_catalog.=) c.tenant_id AND o.customer_id OPERATOR(pg_catalog.=) c.customer_id AND o.ended_at IS NULL)
    UNION ALL
    SELECT c.tenant_id, 'open_ownership_on_pooled_customer', c.customer_id, o.worker_id, pg_catalog.format('pool %s, open since %s', c.pool_id, o.started_at)
      FROM c JOIN o ON o.tenant_id OPERATOR(pg_catalog.=) c.tenant_id AND o.customer_id OPERATOR(pg_catalog.=) c.customer_id AND o.ended_at IS NULL
     WHERE c.owner_worker_id IS NULL
    UNION ALL
    SELECT c.tenant_id, 'event_replay_differs', c.customer_id, c.owner_worker_id,
           pg_catalog.format('events give owner %s pool %s (last %s), the customer has owner %s pool %s',
                             l.owner, l.pool, COALESCE(l.kind, 'none'), c.owner_worker_id, c.pool_id)
      FROM c LEFT JOIN last_state l ON l.tenant_id OPERATOR(pg_catalog.=) c.tenant_id AND l.customer_id OPERATOR(pg_catalog.=) c.customer_id
     WHERE l.customer_id IS NULL OR l.owner IS DISTINCT FROM c.owner_worker_id OR l.pool IS DISTINCT FROM c.pool_id
    UNION ALL
    SELECT k.tenant_id, 'claim_counter_differs', NULL::bigint, k.worker_id,
           pg_catalog.format('pool %s on %s: counter %s, claims in the log %s', k.pool_id, k.local_day, k.claims,
                             (SELECT pg_catalog.count(*) FROM e WHERE e.tenant_id OPERATOR(pg_catalog.=) k.tenant_id AND e.kind OPERATOR(pg_catalog.=) 'claimed' AND NOT e.bypass
                                 AND e.worker_id OPERATOR(pg_catalog.=) k.worker_id AND e.pool_id OPERATOR(pg_catalog.=) k.pool_id AND e.local_day OPERATOR(pg_catalog.=) k.local_day))
      FROM fieldops.pool_claim_counter k
     WHERE (p_tenant_id IS NULL OR k.tenant_id OPERATOR(pg_catalog.=) p_tenant_id)
       AND k.claims OPERATOR(pg_catalog.<>) (SELECT pg_catalog.count(*) FROM e WHERE e.tenant_id OPERATOR(pg_catalog.=) k.tenant_id AND e.kind OPERATOR(pg_catalog.=) 'claimed' AND NOT e.bypass
                                 AND e.worker_id OPERATOR(pg_catalog.=) k.worker_id AND e.pool_id OPERATOR(pg_catalog.=) k.pool_id AND e.local_day OPERATOR(pg_catalog.=) k.local_day)
    UNION ALL
    SELECT x.tenant_id, 'claim_counter_in_log_missing', NULL::bigint, x.worker_id,
           pg_catalog.format('pool %s on %s: %s claims in the log, no counter', x.pool_id, x.local_day, x.n)
      FROM (SELECT e.tenant_id, e.worker_id, e.pool_id, e.local_day, pg_catalog.count(*) AS n FROM e
             WHERE e.kind OPERATOR(pg_catalog.=) 'claimed' AND NOT e.bypass GROUP BY 1, 2, 3, 4) x
     WHERE NOT EXISTS (SELECT 1 FROM fieldops.pool_claim_counter k
                        WHERE k.tenant_id OPERATOR(pg_catalog.=) x.tenant_id AND k.worker_id OPERATOR(pg_catalog.=) x.worker_id
                          AND k.pool_id OPERATOR(pg_catalog.=) x.pool_id AND k.local_day OPERATOR(pg_catalog.=) x.local_day)
    UNION ALL
    SELECT e.tenant_id, 'claim_over_limit', e.customer_id, e.worker_id,
           pg_catalog.format('claim %s of the day (limit %s), holding %s after it (limit %s)', e.claims_after, r.daily_claim_limit,
                             e.held_after, r.hold_limit)
      FROM e CROSS JOIN LATERAL fieldops.pool_rules_on(e.tenant_id, e.pool_id, e.local_day) r
     WHERE e.kind OPERATOR(pg_catalog.=) 'claimed' AND NOT e.bypass
       AND (e.claims_after OPERATOR(pg_catalog.>) r.daily_claim_limit OR e.held_after OPERATOR(pg_catalog.>) r.hold_limit)
    UNION ALL
    SELECT x.tenant_id, 'holding_differs', NULL::bigint, x.worker_id, pg_catalog.format('holding row %s, owned customers %s', x.held, x.owned)
      FROM (SELECT COALESCE(h.tenant_id, n.tenant_id) AS tenant_id, COALESCE(h.worker_id, n.owner_worker_id) AS worker_id,
                   COALESCE(h.held, 0) AS held, COALESCE(n.owned, 0) AS owned
              FROM (SELECT * FROM fieldops.worker_holding y WHERE p_tenant_id IS NULL OR y.tenant_id OPERATOR(pg_catalog.=) p_tenant_id) h
              FULL JOIN (SELECT c.tenant_id, c.owner_worker_id, pg_catalog.count(*) AS owned FROM c
                          WHERE c.owner_worker_id IS NOT NULL GROUP BY 1, 2) n
                ON n.tenant_id OPERATOR(pg_catalog.=) h.tenant_id AND n.owner_worker_id OPERATOR(pg_catalog.=) h.worker_id) x
     WHERE x.held OPERATOR(pg_catalog.<>) x.owned
    UNION ALL
    SELECT a.tenant_id, 'overlapping_ownership', a.customer_id, a.worker_id,
           pg_catalog.format('ownership %s [%s, %s) overlaps %s [%s, %s) of worker %s', a.ownership_id, a.started_at, a.ended_at,
                             b.ownership_id, b.started_at, b.ended_at, b.worker_id)
      FROM o a JOIN o b ON b.tenant_id OPERATOR(pg_catalog.=) a.tenant_id AND b.customer_id OPERATOR(pg_catalog.=) a.customer_id
                       AND b.ownership_id OPERATOR(pg_catalog.>) a.ownership_id
     WHERE pg_catalog.tstzrange(a.started_at, a.ended_at) OPERATOR(pg_catalog.&&) pg_catalog.tstzrange(b.started_at, b.ended_at)
$$;
COMMENT ON FUNCTION fieldops.check_pool_invariants(bigint) IS
'One row per violated invariant of the customer pool, of one tenant or of every tenant the caller sees (none: healthy): owner_xor_pool, owned_without_one_open_ownership, open_ownership_on_pooled_customer, event_replay_differs, claim_counter_differs, claim_counter_in_log_missing, claim_over_limit, holding_differs, overlapping_ownership.';

--
-- The 360° view
--
CREATE FUNCTION fieldops.customer_360(p_tenant_id bigint, p_customer_id bigint)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    c fieldops.customer;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    PERFORM fieldops.check_customer_arg(p_customer_id, 'p_customer_id');
    SELECT * INTO c FROM fieldops.customer
     WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND customer_id OPERATOR(pg_catalog.=) p_customer_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'p_customer_id % is not a customer of tenant %', p_customer_id, p_tenant_id USING ERRCODE = '23503';
    END IF;
    RETURN pg_catalog.jsonb_build_object(
        'profile', pg_catalog.jsonb_build_object(
            'customer_id', c.customer_id, 'external_ref', c.external_ref, 'name', c.name, 'address', c.address,
            'lat', public.ST_Y(c.geom), 'lon', public.ST_X(c.geom), 'level', c.level, 'category', c.category,
            'region_id', c.region_id, 'tags', pg_catalog.to_jsonb(c.tags), 'status', c.status, 'locked', c.locked,
            'deal_state', c.deal_state, 'last_followup_at', c.last_followup_at, 'last_deal_at', c.last_deal_at,
            'home_pool_id', c.home_pool_id, 'created_at', c.created_at,
            'owner', (SELECT pg_catalog.jsonb_build_object('worker_id', w.worker_id, 'name', w.name, 'since', c.owned_since)
                        FROM fieldops.worker w
                       WHERE w.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND w.worker_id OPERATOR(pg_catalog.=) c.owner_worker_id),
            'pool', (SELECT pg_catalog.jsonb_build_object('pool_id', p.pool_id, 'code', p.code, 'name', p.name, 'since', c.pooled_since)
                       FROM fieldops.customer_pool p
                      WHERE p.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND p.pool_id OPERATOR(pg_catalog.=) c.pool_id)),
        'contacts', c.contacts,
        'ownership', COALESCE((
            SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                       'worker_id', o.worker_id, 'name', w.name, 'started_at', o.started_at, 'ended_at', o.ended_at,
                       'start_reason', o.start_reason, 'end_reason', o.end_reason) ORDER BY o.started_at, o.ownership_id)
              FROM fieldops.customer_ownership o
              JOIN fieldops.worker w ON w.tenant_id OPERATOR(pg_catalog.=) o.tenant_id AND w.worker_id OPERATOR(pg_catalog.=) o.worker_id
             WHERE o.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND o.customer_id OPERATOR(pg_catalog.=) p_customer_id), '[]'),
        -- visits with the evidence the other modules record about them (photos' verdicts so far)
        'visits', COALESCE((
            SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                       'visit_id', v.visit_id, 'worker_id', v.worker_id, 'checkin_at', v.checkin_at, 'checkout_at', v.checkout_at,
                       'photos', (SELECT pg_catalog.jsonb_build_object(
                                             'accepted', pg_catalog.count(*) FILTER (WHERE ph.verdict OPERATOR(pg_catalog.=) 'accepted'),
                                             'review', pg_catalog.count(*) FILTER (WHERE ph.verdict OPERATOR(pg_catalog.=) 'review'),
                                             'rejected', pg_catalog.count(*) FILTER (WHERE ph.verdict OPERATOR(pg_catalog.=) 'rejected'))
                                    FROM fieldops.photo ph
                                   WHERE ph.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND ph.visit_id OPERATOR(pg_catalog.=) v.visit_id))
                   ORDER BY v.checkin_at DESC)
              FROM (SELECT * FROM fieldops.visit v
                     WHERE v.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND v.customer_id OPERATOR(pg_catalog.=) p_customer_id
                     ORDER BY v.checkin_at DESC LIMIT 100) v), '[]'),
        'pool_events', COALESCE((
            SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
                       'at', e.at, 'kind', e.kind, 'pool_id', e.pool_id, 'worker_id', e.worker_id,
                       'previous_worker_id', e.previous_worker_id, 'actor', e.actor, 'rule', e.rule, 'days', e.days))
                   ORDER BY e.event_id)
              FROM fieldops.pool_event e
             WHERE e.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND e.customer_id OPERATOR(pg_catalog.=) p_customer_id), '[]'));
END
$$;
COMMENT ON FUNCTION fieldops.customer_360(bigint, bigint) IS
'Everything about one customer as JSON: profile (with its owner or pool), contacts, ownership history, the last 100 visits with their photos'' verdicts, pool events.';

--
-- The map
--
CREATE FUNCTION fieldops.check_radius(p_radius_m float8, p_limit integer)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
    IF p_radius_m IS NULL OR NOT (p_radius_m OPERATOR(pg_catalog.>) 0 AND p_radius_m OPERATOR(pg_catalog.<=) 100000) THEN
        RAISE EXCEPTION 'p_radius_m must be more than 0 and at most 100000 (metres), got %', COALESCE(p_radius_m::text, 'NULL')
            USING ERRCODE = '22023';
    END IF;
    IF p_limit IS NULL OR p_limit NOT BETWEEN 1 AND 10000 THEN
        RAISE EXCEPTION 'p_limit must be between 1 and 10000, got %', COALESCE(p_limit::text, 'NULL') USING ERRCODE = '22023';
    END IF;
END
$$;
COMMENT ON FUNCTION fieldops.check_radius(float8, integer) IS 'Internal: check a search radius and row limit (22023).';

CREATE FUNCTION fieldops.customers_near(p_tenant_id bigint, p_point geometry, p_radius_m float8, p_limit integer DEFAULT 50)
RETURNS TABLE (customer_id bigint, name text, distance_m float8, owner_worker_id bigint, pool_id bigint, level text, lat float8, lon float8)
LANGUAGE plpgsql STABLE
AS $$
-- The GiST index hands out customers nearest first by planar distance in
-- degrees (geom <-> point, exact with its recheck); the sphere distance
-- decides the answer.  A customer dp degrees away (planar) is at least
-- 0.9999 * R * cos(|lat| + dp) * dp metres away on the sphere (a degree of
-- longitude shrinks with the cosine of the latitude; 0.9999 covers the
-- sine and arcsine within 2 degrees), so the walk stops once that bound
-- exceeds the radius or the p_limit-th best sphere distance found: every
-- customer not yet seen is farther.  The box of the radius (its longitude
-- side widened by the latitude) bounds the walk near the poles.
DECLARE
    v_p geometry := fieldops.check_point(p_point, 'p_point');
    v_dy float8;
    v_dx float8;
    v_lat float8;
    v_r float8 := 6371008.8 OPERATOR(pg_catalog.*) pg_catalog.pi() OPERATOR(pg_catalog./) 180.0 OPERATOR(pg_catalog.*) 0.9999;
    v_ids bigint[] := '{}';
    v_d float8[] := '{}';
    v_kth float8 := 'Infinity';
    v_next integer := p_limit;
    c record;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    IF v_p IS NULL THEN
        RAISE EXCEPTION 'p_point must not be null' USING ERRCODE = '22004';
    END IF;
    PERFORM fieldops.check_radius(p_radius_m, p_limit);
    v_lat := pg_catalog.abs(public.ST_Y(v_p));
    v_dy := p_radius_m OPERATOR(pg_catalog./) 111000.0;
    v_dx := LEAST(180.0, p_radius_m OPERATOR(pg_catalog./) (111000.0 OPERATOR(pg_catalog.*) GREATEST(pg_catalog.cosd(LEAST(89.9, v_lat OPERATOR(pg_catalog.+) v_dy)), 0.001)));
    FOR c IN SELECT cu.customer_id, cu.geom OPERATOR(public.<->) v_p AS dp, public.ST_DistanceSphere(cu.geom, v_p) AS d
               FROM fieldops.customer cu
              WHERE cu.tenant_id OPERATOR(pg_catalog.=) p_tenant_id
                AND cu.geom OPERATOR(public.&&) public.ST_Expand(v_p, v_dx, v_dy)
              ORDER BY cu.geom OPERATOR(public.<->) v_p LOOP
        EXIT WHEN v_r OPERATOR(pg_catalog.*) pg_catalog.cosd(LEAST(90.0, v_lat OPERATOR(pg_catalog.+) c.dp)) OPERATOR(pg_catalog.*) c.dp
                  OPERATOR(pg_catalog.>) LEAST(p_radius_m, v_kth);
        CONTINUE WHEN c.d OPERATOR(pg_catalog.>) p_radius_m;
        v_ids := v_ids OPERATOR(pg_catalog.||) c.customer_id;
        v_d := v_d OPERATOR(pg_catalog.||) c.d;
        IF pg_catalog.cardinality(v_ids) OPERATOR(pg_catalog.>=) v_next THEN
            -- the p_limit-th smallest sphere distance so far (not after
            -- every customer: a bound a few customers old is larger, so
            -- the walk only goes on a little longer)
            SELECT x.d INTO v_kth FROM unnest(v_d) AS x(d) ORDER BY x.d OFFSET p_limit OPERATOR(pg_catalog.-) 1 LIMIT 1;
            v_next := pg_catalog.cardinality(v_ids) OPERATOR(pg_catalog.+) GREATEST(p_limit OPERATOR(pg_catalog./) 4, 8);
        END IF;
    END LOOP;
    RETURN QUERY
    SELECT cu.customer_id, cu.name, k.d, cu.owner_worker_id, cu.pool_id, cu.level, public.ST_Y(cu.geom), public.ST_X(cu.geom)
      FROM unnest(v_ids, v_d) AS k(id, d)
      JOIN fieldops.customer cu ON cu.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND cu.customer_id OPERATOR(pg_catalog.=) k.id
     ORDER BY k.d, cu.customer_id
     LIMIT p_limit;
END
$$;
COMMENT ON FUNCTION fieldops.customers_near(bigint, geometry, float8, integer) IS
'The customers within p_radius_m metres (at most 100 km) of a WGS-84 point, nearest first, at most p_limit (1 to 10000), with their distance in metres (sphere) and owner or pool.';

CREATE FUNCTION fieldops.customers_in_area(p_tenant_id bigint, p_area geometry, p_limit integer DEFAULT 10000)
RETURNS TABLE (customer_id bigint, name text, owner_worker_id bigint, pool_id bigint, level text, lat float8, lon float8)
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    IF p_area IS NULL THEN
        RAISE EXCEPTION 'p_area must not be null' USING ERRCODE = '22004';
    END IF;
    IF public.ST_SRID(p_area) OPERATOR(pg_catalog.<>) 4326 OR public.GeometryType(p_area) NOT IN ('POLYGON', 'MULTIPOLYGON')
       OR NOT public.ST_IsValid(p_area) THEN
        RAISE EXCEPTION 'p_area must be a valid POLYGON or MULTIPOLYGON in SRID 4326, got % in SRID %',
            public.GeometryType(p_area), public.ST_SRID(p_area) USING ERRCODE = '22023';
    END IF;
    PERFORM fieldops.check_radius(1, p_limit);
    RETURN QUERY
    SELECT c.customer_id, c.name, c.owner_worker_id, c.pool_id, c.level, public.ST_Y(c.geom), public.ST_X(c.geom)
      FROM fieldops.customer c
     WHERE c.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND public.ST_Intersects(c.geom, p_area)
     ORDER BY c.customer_id
     LIMIT p_limit;
END
$$;
COMMENT ON FUNCTION fieldops.customers_in_area(bigint, geometry, integer) IS
'The customers inside a WGS-84 polygon (a sales territory drawn on the map), by id, at most p_limit.';

CREATE FUNCTION fieldops.check_bbox(p_xmin float8, p_ymin float8, p_xmax float8, p_ymax float8)
RETURNS geometry
LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
    IF p_xmin IS NULL OR p_ymin IS NULL OR p_xmax IS NULL OR p_ymax IS NULL
       OR NOT (p_xmin OPERATOR(pg_catalog.>=) -180 AND p_xmax OPERATOR(pg_catalog.<=) 180 AND p_xmin OPERATOR(pg_catalog.<) p_xmax
               AND p_ymin OPERATOR(pg_catalog.>=) -90 AND p_ymax OPERATOR(pg_catalog.<=) 90 AND p_ymin OPERATOR(pg_catalog.<) p_ymax) THEN
        RAISE EXCEPTION 'the box must be west < east within [-180, 180] and south < north within [-90, 90], got (%, %, %, %)',
            p_xmin, p_ymin, p_xmax, p_ymax USING ERRCODE = '22023';
    END IF;
    RETURN public.ST_MakeEnvelope(p_xmin, p_ymin, p_xmax, p_ymax, 4326);
END
$$;
COMMENT ON FUNCTION fieldops.check_bbox(float8, float8, float8, float8) IS 'Internal: a WGS-84 bounding box argument as an envelope (22023).';

CREATE FUNCTION fieldops.customers_geojson(p_tenant_id bigint, p_west float8, p_south float8, p_east float8, p_north float8,
                                           p_limit integer DEFAULT 5000)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    v_box geometry := fieldops.check_bbox(p_west, p_south, p_east, p_north);
    v_features jsonb;
    v_n integer;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    PERFORM fieldops.check_radius(1, p_limit);
    -- one row more than the limit tells whether the box held more
    SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
               'type', 'Feature', 'id', c.customer_id,
               'geometry', public.ST_AsGeoJSON(c.geom, 7)::jsonb,
               'properties', pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
                   'customer_id', c.customer_id, 'name', c.name, 'level', c.level,
                   'state', CASE WHEN c.owner_worker_id IS NOT NULL THEN 'owned' ELSE 'pooled' END,
                   'owner_worker_id', c.owner_worker_id, 'owner_name', w.name, 'pool_id', c.pool_id, 'pool_code', p.code,
                   'home_pool_id', c.home_pool_id, 'home_pool_code', h.code)))
           ORDER BY c.customer_id) FILTER (WHERE c.n OPERATOR(pg_catalog.<=) p_limit),
           pg_catalog.count(*)
      INTO v_features, v_n
      FROM (SELECT x.*, pg_catalog.row_number() OVER (ORDER BY x.customer_id) AS n
              FROM (SELECT * FROM fieldops.customer y
                     WHERE y.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND y.geom OPERATOR(public.&&) v_box
                     ORDER BY y.customer_id LIMIT p_limit OPERATOR(pg_catalog.+) 1) x) c
      LEFT JOIN fieldops.worker w ON w.tenant_id OPERATOR(pg_catalog.=) c.tenant_id AND w.worker_id OPERATOR(pg_catalog.=) c.owner_worker_id
      LEFT JOIN fieldops.customer_pool p ON p.tenant_id OPERATOR(pg_catalog.=) c.tenant_id AND p.pool_id OPERATOR(pg_catalog.=) c.pool_id
      LEFT JOIN fieldops.customer_pool h ON h.tenant_id OPERATOR(pg_catalog.=) c.tenant_id AND h.pool_id OPERATOR(pg_catalog.=) c.home_pool_id;
    RETURN pg_catalog.jsonb_build_object('type', 'FeatureCollection', 'features', COALESCE(v_features, '[]'),
                                         'truncated', v_n OPERATOR(pg_catalog.>) p_limit);
END
$$;
COMMENT ON FUNCTION fieldops.customers_geojson(bigint, float8, float8, float8, float8, integer) IS
'A GeoJSON FeatureCollection of the customers in a WGS-84 box (west, south, east, north), at most p_limit (1 to 10000) by customer_id; each feature''s properties: customer_id, name, level, state owned/pooled, owner_worker_id and owner_name or pool_id and pool_code, home_pool_id and home_pool_code. "truncated": true when the box holds more (zoom in, or use customer_density()).';

CREATE FUNCTION fieldops.customers_mvt(p_tenant_id bigint, z integer, x integer, y integer)
RETURNS bytea
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    v_env geometry;
    v_mvt bytea;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    IF z IS NULL OR x IS NULL OR y IS NULL OR z NOT BETWEEN 0 AND 22
       OR x NOT BETWEEN 0 AND ((1::bigint OPERATOR(pg_catalog.<<) z) OPERATOR(pg_catalog.-) 1)
       OR y NOT BETWEEN 0 AND ((1::bigint OPERATOR(pg_catalog.<<) z) OPERATOR(pg_catalog.-) 1) THEN
        RAISE EXCEPTION 'z must be 0 to 22 and x, y 0 to 2^z - 1, got z %, x %, y %', z, x, y USING ERRCODE = '22023';
    END IF;
    v_env := public.ST_TileEnvelope(z, x, y);
    SELECT public.ST_AsMVT(t, 'customers', 4096, 'geom', 'customer_id') INTO v_mvt
      FROM (SELECT public.ST_AsMVTGeom(public.ST_Transform(c.geom, 3857), v_env, 4096, 64, true) AS geom,
                   c.customer_id, c.name, c.level,
                   CASE WHEN c.owner_worker_id IS NOT NULL THEN 'owned' ELSE 'pooled' END AS state,
                   c.owner_worker_id, c.pool_id
              FROM fieldops.customer c
             WHERE c.tenant_id OPERATOR(pg_catalog.=) p_tenant_id
               AND c.geom OPERATOR(public.&&) public.ST_Transform(public.ST_TileEnvelope(z, x, y, margin => 64.0 / 4096), 4326)) t
     WHERE t.geom IS NOT NULL;
    RETURN COALESCE(v_mvt, ''::bytea);
END
$$;
COMMENT ON FUNCTION fieldops.customers_mvt(bigint, integer, integer, integer) IS
'A Mapbox Vector Tile (layer customers: customer_id, name, level, state owned/pooled, owner_worker_id, pool_id) of tile z/x/y in Web Mercator, for MapLibre or Leaflet (pg_tileserv and Martin can serve a function like this one).';

CREATE FUNCTION fieldops.customer_density(p_tenant_id bigint, p_west float8, p_south float8, p_east float8, p_north float8,
                                          p_cells integer DEFAULT 32)
RETURNS TABLE (lon float8, lat float8, customers bigint, owned bigint, pooled bigint)
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    v_box geometry := fieldops.check_bbox(p_west, p_south, p_east, p_north);
    v_w float8;
    v_h float8;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    IF p_cells IS NULL OR p_cells NOT BETWEEN 1 AND 256 THEN
        RAISE EXCEPTION 'p_cells must be 1 to 256 (cells per side), got %', p_cells USING ERRCODE = '22023';
    END IF;
    v_w := (p_east OPERATOR(pg_catalog.-) p_west) OPERATOR(pg_catalog./) p_cells;
    v_h := (p_north OPERATOR(pg_catalog.-) p_south) OPERATOR(pg_catalog./) p_cells;
    RETURN QUERY
    SELECT pg_catalog.avg(public.ST_X(c.geom)), pg_catalog.avg(public.ST_Y(c.geom)), pg_catalog.count(*),
           pg_catalog.count(c.owner_worker_id), pg_catalog.count(c.pool_id)
      FROM fieldops.customer c
     WHERE c.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND c.geom OPERATOR(public.&&) v_box
     GROUP BY LEAST(pg_catalog.floor((public.ST_X(c.geom) OPERATOR(pg_catalog.-) p_west) OPERATOR(pg_catalog./) v_w), p_cells OPERATOR(pg_catalog.-) 1),
              LEAST(pg_catalog.floor((public.ST_Y(c.geom) OPERATOR(pg_catalog.-) p_south) OPERATOR(pg_catalog./) v_h), p_cells OPERATOR(pg_catalog.-) 1)
     ORDER BY 3 DESC, 1, 2;
END
$$;
COMMENT ON FUNCTION fieldops.customer_density(bigint, float8, float8, float8, float8, integer) IS
'For zoomed-out maps: the customers of a WGS-84 box counted on a p_cells x p_cells grid, one row per non-empty cell at the mean position of its customers, with how many are owned and pooled.';

--
-- Security
--
SELECT fieldops.secure_tenant_table(t::regclass)
  FROM unnest(ARRAY['fieldops.customer_pool', 'fieldops.pool_rule', 'fieldops.pool_admin', 'fieldops.customer_ownership',
                               'fieldops.pool_event', 'fieldops.worker_holding', 'fieldops.pool_claim_counter']) AS t;
-- the log is append-only, the rules' old versions are never edited
REVOKE UPDATE, DELETE ON fieldops.pool_event FROM fieldops_api, fieldops_admin;
REVOKE UPDATE, DELETE ON fieldops.pool_rule FROM fieldops_admin;

GRANT EXECUTE ON FUNCTION
    fieldops.claim_customer(bigint, bigint, bigint, bigint),
    fieldops.claim_customers(bigint, bigint[], bigint, bigint),
    fieldops.release_customer(bigint, bigint, bigint, text),
    fieldops.transfer_customer(bigint, bigint, bigint, bigint, text),
    fieldops.record_followup(bigint, bigint, bigint, timestamptz, text),
    fieldops.set_customer_state(bigint, bigint, boolean, text, timestamptz, text[], jsonb, bigint),
    fieldops.create_pool(bigint, text, text, bigint, text, jsonb),
    fieldops.set_pool_rules(bigint, bigint, jsonb),
    fieldops.set_pool_admin(bigint, bigint, bigint, boolean),
    fieldops.release_stale_customers(bigint, timestamptz)
TO fieldops_app;
GRANT EXECUTE ON FUNCTION
    fieldops.customer_360(bigint, bigint),
    fieldops.customers_near(bigint, geometry, float8, integer),
    fieldops.customers_in_area(bigint, geometry, integer),
    fieldops.customers_geojson(bigint, float8, float8, float8, float8, integer),
    fieldops.customers_mvt(bigint, integer, integer, integer),
    fieldops.customer_density(bigint, float8, float8, float8, float8, integer),
    fieldops.check_pool_invariants(bigint),
    fieldops.pool_rules_on(bigint, bigint, date),
    fieldops.check_customer_arg(bigint, text),
    fieldops.check_radius(float8, integer),
    fieldops.check_bbox(float8, float8, float8, float8),
    fieldops.check_point(geometry, text)
TO fieldops_app, fieldops_analyst;
GRANT EXECUTE ON FUNCTION
    fieldops.default_pool(bigint),
    fieldops.pool_rules_on(bigint, bigint, date),
    fieldops.lock_holding(bigint, bigint, boolean),
    fieldops.pool_apply(bigint, fieldops.customer, text, bigint, text, text, integer, boolean, integer, date),
    fieldops.check_customer_arg(bigint, text),
    fieldops.worker_region(bigint, bigint),
    fieldops.check_pool_rules(jsonb),
    fieldops.add_pool_rules(bigint, bigint, date, jsonb),
    fieldops.pool_id_arg(bigint, bigint),
    fieldops.lock_customer(bigint, bigint, boolean),
    fieldops.pool_claim_one(bigint, bigint, bigint, bigint),
    fieldops.pool_claim_prepare(bigint, bigint, bigint),
    fieldops.in_window(time, time, time),
    fieldops.pool_release_batch(bigint, timestamptz, integer, boolean),
    fieldops.emit_events(bigint, text, text, bigint[], jsonb[]),
    fieldops.pool_owner_left(bigint, bigint, bigint),
    fieldops.tenant_time_zone(bigint)
TO fieldops_api;
