--
-- Organisation: regions, teams, workers and their devices.
--

CREATE TABLE fieldops.region (
    tenant_id         bigint NOT NULL REFERENCES fieldops.tenant (tenant_id),
    region_id         bigserial NOT NULL,
    code              text NOT NULL,
    name              text NOT NULL,
    parent_region_id  bigint,
    created_at        timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at        timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (tenant_id, region_id),
    UNIQUE (tenant_id, code),
    FOREIGN KEY (tenant_id, parent_region_id) REFERENCES fieldops.region (tenant_id, region_id),
    CONSTRAINT region_not_own_parent CHECK (parent_region_id IS DISTINCT FROM region_id)
);
COMMENT ON TABLE fieldops.region IS 'Sales or service regions of a tenant, as a tree (parent_region_id).';

CREATE TABLE fieldops.team (
    tenant_id       bigint NOT NULL REFERENCES fieldops.tenant (tenant_id),
    team_id         bigserial NOT NULL,
    code            text NOT NULL,
    name            text NOT NULL,
    region_id       bigint,
    created_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (tenant_id, team_id),
    UNIQUE (tenant_id, code),
    FOREIGN KEY (tenant_id, region_id) REFERENCES fieldops.region (tenant_id, region_id)
);
CREATE INDEX team_region_idx ON fieldops.team (tenant_id, region_id);
COMMENT ON TABLE fieldops.team IS 'Teams of field workers, each in a region; its lead is the member with worker.is_team_lead.';

CREATE TABLE fieldops.worker (
    tenant_id      bigint NOT NULL REFERENCES fieldops.tenant (tenant_id),
    worker_id      bigserial NOT NULL,
    external_ref   text NOT NULL,
    name           text NOT NULL,
    phone          text,
    title          text,
    job_level      text,
    team_id        bigint,
    is_team_lead   boolean NOT NULL DEFAULT false,
    manager_id     bigint,
    status         text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'left')),
    hired_on       date,
    left_on        date,
    left_reason    text,
    work_schedule  jsonb,
    created_at     timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at     timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (tenant_id, worker_id),
    UNIQUE (tenant_id, external_ref),
    FOREIGN KEY (tenant_id, team_id) REFERENCES fieldops.team (tenant_id, team_id),
    FOREIGN KEY (tenant_id, manager_id) REFERENCES fieldops.worker (tenant_id, worker_id),
    CONSTRAINT worker_not_own_manager CHECK (manager_id IS DISTINCT FROM worker_id),
    CONSTRAINT worker_lead_in_team CHECK (NOT is_team_lead OR (team_id IS NOT NULL AND status OPERATOR(pg_catalog.=) 'active')),
    CONSTRAINT worker_left_has_date CHECK (status OPERATOR(pg_catalog.<>) 'left' OR left_on IS NOT NULL),
    CONSTRAINT worker_left_after_hired CHECK (left_on IS NULL OR hired_on IS NULL OR left_on OPERATOR(pg_catalog.>=) hired_on)
);
CREATE INDEX worker_team_idx ON fieldops.worker (tenant_id, team_id);
-- one lead per team.  The lead is a flag on the worker rather than a column
-- of team: worker -> team and team -> worker references would form a cycle
-- that pg_dump cannot order when it restores the data.
CREATE UNIQUE INDEX worker_team_lead_key ON fieldops.worker (tenant_id, team_id) WHERE is_team_lead;
CREATE INDEX worker_manager_idx ON fieldops.worker (tenant_id, manager_id);
COMMENT ON TABLE fieldops.worker IS
'Field workers. status left with left_on (first day no longer working, tenant-local); an active worker with left_on is scheduled to leave. work_schedule NULL means the tenant default.';
COMMENT ON COLUMN fieldops.worker.external_ref IS 'Employee number in the HR or CRM system; the key upsert_worker() matches on.';

CREATE TABLE fieldops.device (
    tenant_id      bigint NOT NULL REFERENCES fieldops.tenant (tenant_id),
    device_id      bigserial NOT NULL,
    device_uid     text NOT NULL,
    platform       text NOT NULL CHECK (platform IN ('android', 'ios', 'harmonyos', 'other')),
    model          text,
    os_version     text,
    app_version    text,
    worker_id      bigint,
    status         text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'retired')),
    registered_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    bound_at       timestamptz,
    last_seen_at   timestamptz,
    PRIMARY KEY (tenant_id, device_id),
    UNIQUE (tenant_id, device_uid),
    FOREIGN KEY (tenant_id, worker_id) REFERENCES fieldops.worker (tenant_id, worker_id),
    CONSTRAINT device_retired_unbound CHECK (status OPERATOR(pg_catalog.=) 'active' OR worker_id IS NULL),
    CONSTRAINT device_bound_since CHECK ((worker_id IS NULL) = (bound_at IS NULL))
);
CREATE INDEX device_worker_idx ON fieldops.device (tenant_id, worker_id);
COMMENT ON TABLE fieldops.device IS
'Phones and tablets, identified by the id the app reads from the OS (device_uid), bound to at most one worker at a time.';

CREATE TABLE fieldops.device_binding (
    tenant_id       bigint NOT NULL REFERENCES fieldops.tenant (tenant_id),
    binding_id      bigserial NOT NULL,
    device_id       bigint NOT NULL,
    worker_id       bigint NOT NULL,
    bound_at        timestamptz NOT NULL,
    unbound_at      timestamptz,
    unbound_reason  text,
    PRIMARY KEY (tenant_id, binding_id),
    FOREIGN KEY (tenant_id, device_id) REFERENCES fieldops.device (tenant_id, device_id),
    FOREIGN KEY (tenant_id, worker_id) REFERENCES fieldops.worker (tenant_id, worker_id),
    CONSTRAINT device_binding_order CHECK (unbound_at IS NULL OR unbound_at OPERATOR(pg_catalog.>=) bound_at),
    CONSTRAINT device_binding_reason CHECK ((unbound_at IS NULL) = (unbound_reason IS NULL))
);
CREATE UNIQUE INDEX device_binding_open_key ON fieldops.device_binding (tenant_id, device_id) WHERE unbound_at IS NULL;
CREATE INDEX device_binding_worker_idx ON fieldops.device_binding (tenant_id, worker_id, bound_at);
COMMENT ON TABLE fieldops.device_binding IS
'History of which worker used which device when; authenticity scoring uses it to spot shared or swapped phones.';

--
-- Regions and teams
--

CREATE FUNCTION fieldops.check_reference(p_tenant_id bigint, p_kind text, p_id bigint, p_arg text)
RETURNS void
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    v_found boolean;
BEGIN
    -- the referenced row must be one of this tenant's (row-level security
    -- hides the others anyway; the message says which argument is wrong)
    IF p_id IS NULL THEN
        RETURN;
    END IF;
    CASE p_kind
    WHEN 'region' THEN
        v_found := EXISTS (SELECT 1 FROM fieldops.region
                            WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND region_id OPERATOR(pg_catalog.=) p_id);
    WHEN 'team' THEN
        v_found := EXISTS (SELECT 1 FROM fieldops.team
                            WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND team_id OPERATOR(pg_catalog.=) p_id);
    END CASE;
    IF NOT v_found THEN
        RAISE EXCEPTION '% % is not a % of tenant %', p_arg, p_id, p_kind, p_tenant_id USING ERRCODE = '23503';
    END IF;
END
$$;
COMMENT ON FUNCTION fieldops.check_reference(bigint, text, bigint, text) IS
'Internal: raise 23503 naming p_arg unless p_id (when given) is a region or team (p_kind) of the tenant.';

CREATE FUNCTION fieldops.hierarchy_reaches(p_tenant_id bigint, p_kind text, p_from bigint, p_target bigint)
RETURNS boolean
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    v_reaches boolean;
BEGIN
    -- does the chain of parents (regions) or managers (workers) starting at
    -- p_from, p_from included, reach p_target?  Used to refuse cycles; the
    -- caller holds lock_tenant_hierarchy so no other change interleaves.
    CASE p_kind
    WHEN 'region' THEN
        WITH RECURSIVE up AS (
            SELECT r.region_id AS id, r.parent_region_id AS parent, 1 AS depth
              FROM fieldops.region r
             WHERE r.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND r.region_id OPERATOR(pg_catalog.=) p_from
            UNION ALL
            SELECT r.region_id, r.parent_region_id, up.depth OPERATOR(pg_catalog.+) 1
              FROM fieldops.region r JOIN up ON r.region_id OPERATOR(pg_catalog.=) up.parent
             WHERE r.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND up.depth OPERATOR(pg_catalog.<) 1000)
        SELECT pg_catalog.bool_or(id OPERATOR(pg_catalog.=) p_target) INTO v_reaches FROM up;
    WHEN 'worker' THEN
        WITH RECURSIVE up AS (
            SELECT w.worker_id AS id, w.manager_id AS parent, 1 AS depth
              FROM fieldops.worker w
             WHERE w.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND w.worker_id OPERATOR(pg_catalog.=) p_from
            UNION ALL
            SELECT w.worker_id, w.manager_id, up.depth OPERATOR(pg_catalog.+) 1
              FROM fieldops.worker w JOIN up ON w.worker_id OPERATOR(pg_catalog.=) up.parent
             WHERE w.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND up.depth OPERATOR(pg_catalog.<) 1000)
        SELECT pg_catalog.bool_or(id OPERATOR(pg_catalog.=) p_target) INTO v_reaches FROM up;
    END CASE;
    RETURN COALESCE(v_reaches, false);
END
$$;
COMMENT ON FUNCTION fieldops.hierarchy_reaches(bigint, text, bigint, bigint) IS
'Internal: does the chain of parent regions or managers (p_kind region or worker) from p_from reach p_target? Used to refuse cycles.';

CREATE FUNCTION fieldops.lock_tenant_hierarchy(p_tenant_id bigint)
RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
    -- Cycle checks walk a chain (managers, parent regions) that concurrent
    -- transactions may be changing at other links: two changes that are each
    -- fine alone can close a cycle together.  Changes of a tenant's
    -- hierarchies are therefore serialised on the tenant's row.  NO KEY
    -- UPDATE does not conflict with the KEY SHARE locks of foreign-key
    -- checks, so the tenant's other writes are not blocked.
    PERFORM 1 FROM fieldops.tenant
      WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id
        FOR NO KEY UPDATE;
END
$$;
COMMENT ON FUNCTION fieldops.lock_tenant_hierarchy(bigint) IS
'Internal: serialise changes of the tenant''s manager and region hierarchies (row lock on the tenant), so that cycle checks see every committed link.';

CREATE FUNCTION fieldops.upsert_region(p_tenant_id bigint, p_code text, p_name text, p_parent_region_id bigint DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    v_id bigint;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    PERFORM fieldops.check_code(p_code, 'p_code');
    PERFORM fieldops.check_reference(p_tenant_id, 'region', p_parent_region_id, 'p_parent_region_id');

    IF p_parent_region_id IS NOT NULL THEN
        PERFORM fieldops.lock_tenant_hierarchy(p_tenant_id);
    END IF;
    IF p_parent_region_id IS NOT NULL AND p_parent_region_id IN (
           SELECT region_id FROM fieldops.region
            WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND code OPERATOR(pg_catalog.=) p_code) THEN
        RAISE EXCEPTION 'p_parent_region_id % is region "%" itself', p_parent_region_id, p_code USING ERRCODE = '22023';
    END IF;

    INSERT INTO fieldops.region AS r (tenant_id, code, name, parent_region_id)
    VALUES (p_tenant_id, p_code, fieldops.check_text(p_name, 'p_name'), p_parent_region_id)
    ON CONFLICT (tenant_id, code) DO UPDATE
       SET name = EXCLUDED.name, parent_region_id = EXCLUDED.parent_region_id, updated_at = pg_catalog.now()
    RETURNING r.region_id INTO v_id;

    -- the new parent must not be the region itself or one of its descendants
    IF fieldops.hierarchy_reaches(p_tenant_id, 'region', p_parent_region_id, v_id) THEN
        RAISE EXCEPTION 'p_parent_region_id % would put region "%" inside itself', p_parent_region_id, p_code
            USING ERRCODE = '22023';
    END IF;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION fieldops.upsert_region(bigint, text, text, bigint) IS
'Create or update the region with this code; returns its id. Refuses a parent that would make a cycle (22023).';

CREATE FUNCTION fieldops.upsert_team(p_tenant_id bigint, p_code text, p_name text,
                                     p_region_id bigint DEFAULT NULL, p_lead_worker_id bigint DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    v_id bigint;
    w fieldops.worker;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    PERFORM fieldops.check_code(p_code, 'p_code');
    PERFORM fieldops.check_reference(p_tenant_id, 'region', p_region_id, 'p_region_id');

    -- the upsert locks the team row, so concurrent lead changes serialise
    INSERT INTO fieldops.team AS t (tenant_id, code, name, region_id)
    VALUES (p_tenant_id, p_code, fieldops.check_text(p_name, 'p_name'), p_region_id)
    ON CONFLICT (tenant_id, code) DO UPDATE
       SET name = EXCLUDED.name,
           region_id = COALESCE(EXCLUDED.region_id, t.region_id),
           updated_at = pg_catalog.now()
    RETURNING t.team_id INTO v_id;

    IF p_lead_worker_id IS NOT NULL THEN
        w := fieldops.lock_active_worker(p_tenant_id, p_lead_worker_id, 'p_lead_worker_id');
        IF w.team_id IS DISTINCT FROM v_id THEN
            RAISE EXCEPTION 'p_lead_worker_id % (%) is not a member of team "%"', p_lead_worker_id, w.name, p_code
                USING ERRCODE = '22023', HINT = 'Put the worker in the team with fieldops.upsert_worker(..., p_team_id => ...) first.';
        END IF;
        UPDATE fieldops.worker SET is_team_lead = false, updated_at = pg_catalog.now()
         WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND team_id OPERATOR(pg_catalog.=) v_id
           AND is_team_lead AND worker_id OPERATOR(pg_catalog.<>) p_lead_worker_id;
        UPDATE fieldops.worker SET is_team_lead = true, updated_at = pg_catalog.now()
         WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND worker_id OPERATOR(pg_catalog.=) p_lead_worker_id
           AND NOT is_team_lead;
    END IF;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION fieldops.upsert_team(bigint, text, text, bigint, bigint) IS
'Create or update the team with this code; returns its id. p_lead_worker_id (an active member of the team) becomes its lead; NULL region or lead keeps the current one.';

--
-- Workers
--

CREATE FUNCTION fieldops.lock_active_worker(p_tenant_id bigint, p_worker_id bigint, p_arg text DEFAULT 'p_worker_id')
RETURNS fieldops.worker
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    w fieldops.worker;
BEGIN
    IF p_worker_id IS NULL THEN
        RAISE EXCEPTION '% must not be null', p_arg USING ERRCODE = '22004';
    END IF;
    -- KEY SHARE is enough to keep the worker from leaving meanwhile:
    -- worker_leave() takes FOR NO KEY UPDATE on the same row.
    SELECT * INTO w FROM fieldops.worker
     WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND worker_id OPERATOR(pg_catalog.=) p_worker_id
       FOR SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION '% % is not a worker of tenant %', p_arg, p_worker_id, p_tenant_id USING ERRCODE = '23503';
    END IF;
    IF w.status OPERATOR(pg_catalog.<>) 'active' THEN
        RAISE EXCEPTION '% % (%) has left on %', p_arg, p_worker_id, w.name, pg_catalog.to_char(w.left_on, 'YYYY-MM-DD')
            USING ERRCODE = '55000', HINT = 'Reinstate the worker with fieldops.reinstate_worker() first.';
    END IF;
    RETURN w;
END
$$;
COMMENT ON FUNCTION fieldops.lock_active_worker(bigint, bigint, text) IS
'Internal: share-lock a worker row and check the worker is active, so it cannot leave before the caller commits; 23503 if missing, 55000 if left.';

CREATE FUNCTION fieldops.upsert_worker(p_tenant_id bigint, p_external_ref text, p_name text,
                                       p_team_id bigint DEFAULT NULL, p_manager_id bigint DEFAULT NULL,
                                       p_phone text DEFAULT NULL, p_title text DEFAULT NULL,
                                       p_job_level text DEFAULT NULL, p_hired_on date DEFAULT NULL,
                                       p_work_schedule jsonb DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    v_id bigint;
    v_inserted boolean;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    PERFORM fieldops.check_code(p_external_ref, 'p_external_ref');
    IF p_phone IS NOT NULL AND p_phone !~ '^\+?[0-9][0-9 -]{4,19}$' THEN
        RAISE EXCEPTION 'p_phone must be 5 to 20 digits, spaces or dashes with an optional leading +, got "%"', pg_catalog.left(p_phone, 40)
            USING ERRCODE = '22023';
    END IF;
    PERFORM fieldops.check_reference(p_tenant_id, 'team', p_team_id, 'p_team_id');
    IF p_manager_id IS NOT NULL THEN
        PERFORM fieldops.lock_tenant_hierarchy(p_tenant_id);
        IF p_manager_id IN (SELECT worker_id FROM fieldops.worker
                             WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id
                               AND external_ref OPERATOR(pg_catalog.=) p_external_ref) THEN
            RAISE EXCEPTION 'p_manager_id % is worker "%" itself', p_manager_id, p_external_ref USING ERRCODE = '22023';
        END IF;
        PERFORM fieldops.lock_active_worker(p_tenant_id, p_manager_id, 'p_manager_id');
    END IF;

    INSERT INTO fieldops.worker AS w (tenant_id, external_ref, name, team_id, manager_id, phone, title,
                                      job_level, hired_on, work_schedule)
    VALUES (p_tenant_id, p_external_ref, fieldops.check_text(p_name, 'p_name'), p_team_id, p_manager_id,
            p_phone, fieldops.check_text(p_title, 'p_title', 100, false),
            fieldops.check_text(p_job_level, 'p_job_level', 32, false), p_hired_on,
            fieldops.work_schedule_normalize(p_work_schedule))
    ON CONFLICT (tenant_id, external_ref) DO UPDATE
       SET name = EXCLUDED.name,
           team_id = COALESCE(EXCLUDED.team_id, w.team_id),
           is_team_lead = w.is_team_lead AND w.team_id IS NOT DISTINCT FROM COALESCE(EXCLUDED.team_id, w.team_id),
           manager_id = COALESCE(EXCLUDED.manager_id, w.manager_id),
           phone = COALESCE(EXCLUDED.phone, w.phone),
           title = COALESCE(EXCLUDED.title, w.title),
           job_level = COALESCE(EXCLUDED.job_level, w.job_level),
           hired_on = COALESCE(EXCLUDED.hired_on, w.hired_on),
           work_schedule = COALESCE(EXCLUDED.work_schedule, w.work_schedule),
           updated_at = pg_catalog.now()
    RETURNING w.worker_id, (w.xmax OPERATOR(pg_catalog.=) 0) INTO v_id, v_inserted;

    IF p_manager_id IS NOT NULL THEN
        -- the manager chain above the new manager must not reach this worker
        IF fieldops.hierarchy_reaches(p_tenant_id, 'worker', p_manager_id, v_id) THEN
            RAISE EXCEPTION 'p_manager_id % would make worker "%" their own manager (directly or through others)', p_manager_id, p_external_ref
                USING ERRCODE = '22023';
        END IF;
    END IF;

    IF v_inserted THEN
        PERFORM fieldops.emit_event(p_tenant_id, 'worker.created', 'worker', v_id,
                                    pg_catalog.jsonb_build_object('external_ref', p_external_ref, 'team_id', p_team_id));
    END IF;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION fieldops.upsert_worker(bigint, text, text, bigint, bigint, text, text, text, date, jsonb) IS
'Create or update the worker with this employee number; returns worker_id. On update a NULL argument keeps the current value. Emits worker.created for new workers.';

CREATE FUNCTION fieldops.set_work_schedule(p_tenant_id bigint, p_worker_id bigint, p_schedule jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    v jsonb := fieldops.work_schedule_normalize(p_schedule);
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    UPDATE fieldops.worker SET work_schedule = v, updated_at = pg_catalog.now()
     WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND worker_id OPERATOR(pg_catalog.=) p_worker_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'p_worker_id % is not a worker of tenant %', p_worker_id, p_tenant_id USING ERRCODE = '23503';
    END IF;
    RETURN v;
END
$$;
COMMENT ON FUNCTION fieldops.set_work_schedule(bigint, bigint, jsonb) IS
'Set a worker''s own working hours (validated, returned in canonical form); NULL falls back to the tenant''s work_schedule setting.';

-- apply_departure() is in 22_departure.sql (changed in 0.2.0: upgrade
-- scripts are made of whole files).

CREATE FUNCTION fieldops.worker_leave(p_tenant_id bigint, p_worker_id bigint, p_left_on date DEFAULT NULL,
                                      p_reason text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    w fieldops.worker;
    v_today date;
    v_mgr bigint;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    v_today := fieldops.tenant_local_date(p_tenant_id);
    -- lock top-down, as every departure does: first the manager (the heir
    -- apply_departure share-locks), then the leaver
    LOOP
        SELECT x.manager_id INTO v_mgr FROM fieldops.worker x
         WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.worker_id OPERATOR(pg_catalog.=) p_worker_id;
        IF v_mgr IS NOT NULL THEN
            PERFORM 1 FROM fieldops.worker m
             WHERE m.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND m.worker_id OPERATOR(pg_catalog.=) v_mgr
               FOR SHARE;
        END IF;
        SELECT * INTO w FROM fieldops.worker
         WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND worker_id OPERATOR(pg_catalog.=) p_worker_id
           FOR NO KEY UPDATE;
        EXIT WHEN NOT FOUND OR w.manager_id IS NOT DISTINCT FROM v_mgr;
    END LOOP;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'p_worker_id % is not a worker of tenant %', p_worker_id, p_tenant_id USING ERRCODE = '23503';
    END IF;
    IF w.status OPERATOR(pg_catalog.=) 'left' THEN
        RETURN pg_catalog.jsonb_build_object('status', 'already_left', 'left_on', w.left_on);
    END IF;
    w.left_on := COALESCE(p_left_on, v_today);
    IF w.hired_on IS NOT NULL AND w.left_on OPERATOR(pg_catalog.<) w.hired_on THEN
        RAISE EXCEPTION 'p_left_on % is before the worker was hired (%)',
            pg_catalog.to_char(w.left_on, 'YYYY-MM-DD'), pg_catalog.to_char(w.hired_on, 'YYYY-MM-DD') USING ERRCODE = '22023';
    END IF;
    w.left_reason := fieldops.check_text(p_reason, 'p_reason', 500, false);
    UPDATE fieldops.worker SET left_on = w.left_on, left_reason = w.left_reason, updated_at = pg_catalog.now()
     WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND worker_id OPERATOR(pg_catalog.=) p_worker_id;

    IF w.left_on OPERATOR(pg_catalog.>) v_today THEN
        PERFORM fieldops.emit_event(p_tenant_id, 'worker.leave_scheduled', 'worker', p_worker_id,
                                    pg_catalog.jsonb_build_object('left_on', w.left_on, 'reason', w.left_reason));
        RETURN pg_catalog.jsonb_build_object('status', 'scheduled', 'left_on', w.left_on);
    END IF;
    RETURN fieldops.apply_departure(p_tenant_id, w);
END
$$;
COMMENT ON FUNCTION fieldops.worker_leave(bigint, bigint, date, text) IS
'Record that a worker leaves on p_left_on (tenant-local, default today). A future date is applied by the apply_departures job. Returns {status: left|scheduled|already_left, ...}.';

CREATE FUNCTION fieldops.reinstate_worker(p_tenant_id bigint, p_worker_id bigint)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    w fieldops.worker;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    SELECT * INTO w FROM fieldops.worker
     WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND worker_id OPERATOR(pg_catalog.=) p_worker_id
       FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'p_worker_id % is not a worker of tenant %', p_worker_id, p_tenant_id USING ERRCODE = '23503';
    END IF;
    IF w.status OPERATOR(pg_catalog.=) 'active' AND w.left_on IS NULL THEN
        RETURN pg_catalog.jsonb_build_object('status', 'already_active');
    END IF;
    UPDATE fieldops.worker SET status = 'active', left_on = NULL, left_reason = NULL, updated_at = pg_catalog.now()
     WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND worker_id OPERATOR(pg_catalog.=) p_worker_id;
    PERFORM fieldops.emit_event(p_tenant_id, 'worker.reinstated', 'worker', p_worker_id,
                                pg_catalog.jsonb_build_object('was', w.status, 'left_on', w.left_on));
    RETURN pg_catalog.jsonb_build_object('status', 'reinstated', 'was', w.status);
END
$$;
COMMENT ON FUNCTION fieldops.reinstate_worker(bigint, bigint) IS
'Cancel a scheduled departure or re-hire a worker who left (devices must be registered again).';

-- (job_apply_departures: src/sql/22_departure.sql, changed in 0.2.0)

--
-- Devices
--

CREATE FUNCTION fieldops.register_device(p_tenant_id bigint, p_device_uid text, p_worker_id bigint, p_platform text,
                                         p_model text DEFAULT NULL, p_os_version text DEFAULT NULL,
                                         p_app_version text DEFAULT NULL)
RETURNS TABLE (device_id bigint, status text, previous_worker_id bigint)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    d fieldops.device;
    v_now timestamptz := pg_catalog.now();
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    IF p_device_uid IS NULL OR p_device_uid !~ '^[[:graph:]]{8,128}$' THEN
        RAISE EXCEPTION 'p_device_uid must be 8 to 128 printable characters without spaces, got %',
            COALESCE('"' || pg_catalog.left(p_device_uid, 40) || '"', 'NULL')
            USING ERRCODE = '22023';
    END IF;
    IF p_platform IS NULL OR p_platform NOT IN ('android', 'ios', 'harmonyos', 'other') THEN
        RAISE EXCEPTION 'p_platform must be one of android, ios, harmonyos, other, got %',
            COALESCE(pg_catalog.quote_literal(p_platform), 'NULL')
            USING ERRCODE = '22023';
    END IF;
    PERFORM fieldops.lock_active_worker(p_tenant_id, p_worker_id);

    INSERT INTO fieldops.device (tenant_id, device_uid, platform, model, os_version, app_version)
    VALUES (p_tenant_id, p_device_uid, p_platform,
            fieldops.check_text(p_model, 'p_model', 100, false),
            fieldops.check_text(p_os_version, 'p_os_version', 50, false),
            fieldops.check_text(p_app_version, 'p_app_version', 50, false))
    ON CONFLICT ON CONSTRAINT device_tenant_id_device_uid_key DO NOTHING;

    SELECT * INTO d FROM fieldops.device x
     WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.device_uid OPERATOR(pg_catalog.=) p_device_uid
       FOR NO KEY UPDATE;
    -- stamp after the lock: later than anything the previous holder wrote
    -- (now() is the start of our transaction, which may be older)
    v_now := pg_catalog.clock_timestamp();

    IF d.status OPERATOR(pg_catalog.=) 'retired' THEN
        PERFORM fieldops.emit_event(p_tenant_id, 'device.retired_seen', 'device', d.device_id,
                                    pg_catalog.jsonb_build_object('worker_id', p_worker_id, 'device_uid', p_device_uid));
        RETURN QUERY SELECT d.device_id, 'retired'::text, NULL::bigint;
        RETURN;
    END IF;

    UPDATE fieldops.device x
       SET platform = p_platform,
           model = COALESCE(fieldops.check_text(p_model, 'p_model', 100, false), x.model),
           os_version = COALESCE(fieldops.check_text(p_os_version, 'p_os_version', 50, false), x.os_version),
           app_version = COALESCE(fieldops.check_text(p_app_version, 'p_app_version', 50, false), x.app_version),
           worker_id = p_worker_id,
           bound_at = CASE WHEN x.worker_id IS NOT DISTINCT FROM p_worker_id THEN x.bound_at ELSE v_now END,
           last_seen_at = v_now
     WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.device_id OPERATOR(pg_catalog.=) d.device_id;

    IF d.worker_id IS NOT DISTINCT FROM p_worker_id THEN
        RETURN QUERY SELECT d.device_id, 'unchanged'::text, NULL::bigint;
        RETURN;
    END IF;

    UPDATE fieldops.device_binding b
       SET unbound_at = v_now, unbound_reason = 'rebound'
     WHERE b.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND b.device_id OPERATOR(pg_catalog.=) d.device_id
       AND b.unbound_at IS NULL;
    INSERT INTO fieldops.device_binding (tenant_id, device_id, worker_id, bound_at)
    VALUES (p_tenant_id, d.device_id, p_worker_id, v_now);

    IF d.worker_id IS NULL THEN
        PERFORM fieldops.emit_event(p_tenant_id, 'device.bound', 'device', d.device_id,
                                    pg_catalog.jsonb_build_object('worker_id', p_worker_id, 'platform', p_platform));
        RETURN QUERY SELECT d.device_id, 'bound'::text, NULL::bigint;
    ELSE
        PERFORM fieldops.emit_event(p_tenant_id, 'device.rebound', 'device', d.device_id,
                                    pg_catalog.jsonb_build_object('worker_id', p_worker_id, 'previous_worker_id', d.worker_id));
        RETURN QUERY SELECT d.device_id, 'rebound'::text, d.worker_id;
    END IF;
END
$$;
COMMENT ON FUNCTION fieldops.register_device(bigint, text, bigint, text, text, text, text) IS
'Register a phone (by the id the app reads from the OS) and bind it to a worker. status: bound (new or unbound device), unchanged, rebound (previous_worker_id had it; event device.rebound), retired (refused, event device.retired_seen).';

CREATE FUNCTION fieldops.retire_device(p_tenant_id bigint, p_device_id bigint, p_reason text DEFAULT 'retired')
RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    d fieldops.device;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    SELECT * INTO d FROM fieldops.device
     WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND device_id OPERATOR(pg_catalog.=) p_device_id
       FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'p_device_id % is not a device of tenant %', p_device_id, p_tenant_id USING ERRCODE = '23503';
    END IF;
    IF d.status OPERATOR(pg_catalog.=) 'retired' THEN
        RETURN false;
    END IF;
    UPDATE fieldops.device_binding
       SET unbound_at = pg_catalog.clock_timestamp(), unbound_reason = fieldops.check_text(p_reason, 'p_reason', 200)
     WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND device_id OPERATOR(pg_catalog.=) p_device_id
       AND unbound_at IS NULL;
    UPDATE fieldops.device SET status = 'retired', worker_id = NULL, bound_at = NULL
     WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND device_id OPERATOR(pg_catalog.=) p_device_id;
    PERFORM fieldops.emit_event(p_tenant_id, 'device.retired', 'device', p_device_id,
                                pg_catalog.jsonb_build_object('worker_id', d.worker_id, 'reason', p_reason));
    RETURN true;
END
$$;
COMMENT ON FUNCTION fieldops.retire_device(bigint, bigint, text) IS
'Retire a lost, stolen or replaced device: its binding ends and it can never be bound again. Returns false if it was already retired.';

--
-- Working hours
--

CREATE FUNCTION fieldops.work_schedule_normalize(p_schedule jsonb)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'fieldops_work_schedule_normalize'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fieldops.work_schedule_normalize(jsonb) IS
'Validate a work schedule {"mon": ["09:00-12:00", "13:00-18:00"], ..., "dates": {"2026-10-01": []}} and return its canonical form; 22023 on any mistake.';

CREATE FUNCTION fieldops.work_schedule_contains(p_schedule jsonb, p_local timestamp)
RETURNS boolean
AS 'MODULE_PATHNAME', 'fieldops_work_schedule_contains'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fieldops.work_schedule_contains(jsonb, timestamp) IS
'Is a local date and time inside the schedule? Ranges are half-open; night shifts count on the day they start; dated entries replace the weekday.';

CREATE FUNCTION fieldops.is_working_time(p_tenant_id bigint, p_worker_id bigint, p_at timestamptz)
RETURNS boolean
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
DECLARE
    w record;
    v_local timestamp;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    IF p_at IS NULL THEN
        RAISE EXCEPTION 'p_at must not be null' USING ERRCODE = '22004';
    END IF;
    SELECT x.status, x.hired_on, x.left_on, x.work_schedule INTO w
      FROM fieldops.worker x
     WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.worker_id OPERATOR(pg_catalog.=) p_worker_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'p_worker_id % is not a worker of tenant %', p_worker_id, p_tenant_id USING ERRCODE = '23503';
    END IF;
    v_local := p_at AT TIME ZONE fieldops.tenant_time_zone(p_tenant_id);
    IF (w.hired_on IS NOT NULL AND v_local::date OPERATOR(pg_catalog.<) w.hired_on)
       OR (w.left_on IS NOT NULL AND v_local::date OPERATOR(pg_catalog.>=) w.left_on) THEN
        RETURN false;
    END IF;
    RETURN fieldops.work_schedule_contains(
        COALESCE(w.work_schedule, fieldops.tenant_setting(p_tenant_id, 'work_schedule')), v_local);
END
$$;
COMMENT ON FUNCTION fieldops.is_working_time(bigint, bigint, timestamptz) IS
'Was the worker on duty at p_at? Uses the worker''s schedule or the tenant default, in the tenant''s time zone, and the hire and leave dates.';
