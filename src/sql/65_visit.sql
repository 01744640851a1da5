--
-- Visits and their SOPs: the process the database enforces.
--
-- A visit is a worker at a customer between a check-in and a check-out.
-- Both are location fixes that go through ingest_fixes() like any other
-- (validated, attributed to the worker the phone is bound to, scored for
-- spoofing, stored even outside working hours: a visit is work whenever it
-- happens), and each gets a geofence decision that uses the fix's accuracy,
-- not only its distance (fieldops.geofence_decision()).  The visit runs the
-- SOP (standard operating procedure) assigned to the customer's level or
-- category, in the version in force at check-in: fieldops.complete_step()
-- enforces the step order, minimum durations and evidence (a form
-- submission, photos of this visit, a note) and says why it refuses a step.
--
-- "Verified" is defined once, by fieldops.visit_verification(): checked
-- out; check-in and check-out inside the geofence (or accepted by a
-- reviewer); neither fix red; every required step done; every photo of a
-- required photo step accepted.  Everything that counts visits (the customer
-- pool's follow-up clock, KPIs) uses it through fieldops.visit_verified.
--
-- Lock order: the worker row (share, lock_active_worker), then the visit
-- row (FOR UPDATE); check-in relies on a partial unique index (one open
-- visit per worker) instead of a lock.
--
-- New in 0.2.0, like the visit table itself (60_photo.sql, which this
-- file extends with the process columns).
--

INSERT INTO fieldops.setting_def (key, kind, default_value, min_value, max_value, description) VALUES
    ('visit_min_duration_s', 'integer', '0', 0, 86400,
     'A visit shorter than this many seconds between check-in and check-out is not verified (0: no minimum).'),
    ('visit_step_clock_tolerance_s', 'integer', '120', 0, 3600,
     'Seconds a step''s completion time (the phone''s clock) may lie after the server''s clock.');

ALTER TABLE fieldops.customer
    ADD COLUMN geofence_radius_m integer CHECK (geofence_radius_m BETWEEN 10 AND 5000);
COMMENT ON COLUMN fieldops.customer.geofence_radius_m IS
'The customer''s own geofence radius in metres (a mall, a factory site); NULL: the tenant''s geofence_radius_m.';

--
-- The geofence decision
--
CREATE FUNCTION fieldops.geofence_decision(p_distance_m float8, p_accuracy_m float8, p_radius_m float8)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    -- the accuracy circle (the phone's 68 % radius) around the fix: wholly
    -- inside the radius, wholly outside it, or straddling it
    SELECT CASE WHEN p_distance_m IS NULL OR p_accuracy_m IS NULL OR p_radius_m IS NULL THEN 'uncertain'
                WHEN p_distance_m OPERATOR(pg_catalog.+) p_accuracy_m OPERATOR(pg_catalog.<=) p_radius_m THEN 'inside'
                WHEN p_distance_m OPERATOR(pg_catalog.-) p_accuracy_m OPERATOR(pg_catalog.>) p_radius_m THEN 'outside'
                ELSE 'uncertain' END
$$;
COMMENT ON FUNCTION fieldops.geofence_decision(float8, float8, float8) IS
'inside when distance + accuracy <= radius (the whole accuracy circle lies within the geofence), outside when distance - accuracy > radius, else uncertain (the circle straddles the radius, or a value is unknown).';

--
-- SOPs: templates in versions, steps, assignment
--
CREATE TABLE fieldops.sop (
    tenant_id        bigint NOT NULL REFERENCES fieldops.tenant (tenant_id),
    sop_id           bigserial NOT NULL,
    code             text NOT NULL,
    name             text NOT NULL,
    current_version  integer NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (tenant_id, sop_id),
    UNIQUE (tenant_id, code)
);
COMMENT ON TABLE fieldops.sop IS
'Visit routines (standard operating procedures). define_sop() adds a version when the steps change; a visit keeps the version in force at its check-in.';

CREATE TABLE fieldops.sop_step (
    tenant_id       bigint NOT NULL,
    sop_id          bigint NOT NULL,
    version         integer NOT NULL,
    step_no         integer NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('checkin', 'preparation', 'form', 'photo', 'presentation', 'needs',
                                                 'competitor', 'group_photo', 'note', 'checkout')),
    title           text NOT NULL,
    required        boolean NOT NULL,
    min_duration_s  integer NOT NULL DEFAULT 0 CHECK (min_duration_s BETWEEN 0 AND 86400),
    form_code       text,
    min_photos      integer NOT NULL DEFAULT 0 CHECK (min_photos BETWEEN 0 AND 50),
    PRIMARY KEY (tenant_id, sop_id, version, step_no),
    FOREIGN KEY (tenant_id, sop_id) REFERENCES fieldops.sop (tenant_id, sop_id),
    CONSTRAINT sop_step_form CHECK ((kind OPERATOR(pg_catalog.=) 'form') = (form_code IS NOT NULL))
);
COMMENT ON TABLE fieldops.sop_step IS
'The steps of each SOP version, in order. min_duration_s: seconds from the previous step done (or the check-in) before this one may be done; form_code: the custom form a form step needs; min_photos: photos of the visit a photo step needs.';

CREATE TABLE fieldops.sop_assignment (
    tenant_id       bigint NOT NULL,
    assignment_id   bigserial NOT NULL,
    sop_id          bigint NOT NULL,
    customer_level  text,
    category        text,
    PRIMARY KEY (tenant_id, assignment_id),
    FOREIGN KEY (tenant_id, sop_id) REFERENCES fieldops.sop (tenant_id, sop_id),
    UNIQUE NULLS NOT DISTINCT (tenant_id, customer_level, category)
);
COMMENT ON TABLE fieldops.sop_assignment IS
'Which SOP a visit runs: the assignment matching the customer''s level and category, the most specific first (level and category, level, category, neither: the tenant default).';

--
-- The visit's process columns and its steps
--
ALTER TABLE fieldops.visit
    ADD COLUMN device_id            bigint,
    ADD COLUMN sop_id               bigint,
    ADD COLUMN sop_version          integer,
    ADD COLUMN radius_m             integer,
    ADD COLUMN checkin_fix_id       bigint,
    ADD COLUMN checkin_distance_m   real,
    ADD COLUMN checkin_accuracy_m   real,
    ADD COLUMN checkin_geofence     text CHECK (checkin_geofence IN ('inside', 'outside', 'uncertain')),
    ADD COLUMN checkin_band         text,
    ADD COLUMN checkin_score        smallint,
    ADD COLUMN checkout_fix_id      bigint,
    ADD COLUMN checkout_distance_m  real,
    ADD COLUMN checkout_accuracy_m  real,
    ADD COLUMN checkout_geofence    text CHECK (checkout_geofence IN ('inside', 'outside', 'uncertain')),
    ADD COLUMN checkout_band        text,
    ADD COLUMN checkout_score       smallint,
    ADD COLUMN review               text CHECK (review IN ('accepted', 'rejected')),
    ADD COLUMN reviewed_by          bigint,
    ADD COLUMN reviewed_at          timestamptz,
    ADD COLUMN review_note          text,
    ADD COLUMN followup             text;
ALTER TABLE fieldops.visit
    ADD FOREIGN KEY (tenant_id, device_id) REFERENCES fieldops.device (tenant_id, device_id),
    ADD FOREIGN KEY (tenant_id, sop_id) REFERENCES fieldops.sop (tenant_id, sop_id),
    ADD FOREIGN KEY (tenant_id, reviewed_by) REFERENCES fieldops.worker (tenant_id, worker_id);
CREATE UNIQUE INDEX visit_open_key ON fieldops.visit (tenant_id, worker_id) WHERE checkout_at IS NULL AND checkin_fix_id IS NOT NULL;
CREATE UNIQUE INDEX visit_checkin_fix_key ON fieldops.visit (tenant_id, checkin_fix_id) WHERE checkin_fix_id IS NOT NULL;
CREATE INDEX visit_customer_idx ON fieldops.visit (tenant_id, customer_id, checkin_at);
COMMENT ON COLUMN fieldops.visit.checkin_geofence IS 'geofence_decision() of the check-in fix: inside, outside or uncertain.';
COMMENT ON COLUMN fieldops.visit.review IS 'A reviewer''s decision on a visit whose geofence decision was not inside (review_visit()): accepted counts as inside.';
COMMENT ON COLUMN fieldops.visit.followup IS 'What record_followup() answered when the visit became verified (recorded, released), NULL while it is not.';

CREATE TABLE fieldops.visit_step (
    tenant_id    bigint NOT NULL,
    visit_id     bigint NOT NULL,
    step_no      integer NOT NULL,
    kind         text NOT NULL,
    done_at      timestamptz NOT NULL,
    duration_s   integer NOT NULL,
    evidence     jsonb NOT NULL DEFAULT '{}',
    recorded_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (tenant_id, visit_id, step_no),
    FOREIGN KEY (tenant_id, visit_id) REFERENCES fieldops.visit (tenant_id, visit_id)
);
COMMENT ON TABLE fieldops.visit_step IS
'The steps a visit has done, when (the phone''s time), how long after the previous one, and their evidence.';

--
-- Definitions
--
CREATE FUNCTION fieldops.check_sop_steps(p_steps jsonb)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
AS $$
DECLARE
    s jsonb;
    i integer := 0;
    n integer;
    k text;
    v_kinds text[] := ARRAY['checkin', 'preparation', 'form', 'photo', 'presentation', 'needs', 'competitor', 'group_photo', 'note', 'checkout'];
BEGIN
    IF p_steps IS NULL OR pg_catalog.jsonb_typeof(p_steps) OPERATOR(pg_catalog.<>) 'array' THEN
        RAISE EXCEPTION 'p_steps must be a JSON array of steps such as [{"kind": "checkin"}, {"kind": "photo", "min_photos": 2}, {"kind": "checkout"}]'
            USING ERRCODE = '22023';
    END IF;
    n := pg_catalog.jsonb_array_length(p_steps);
    IF n OPERATOR(pg_catalog.<) 2 OR n OPERATOR(pg_catalog.>) 50 THEN
        RAISE EXCEPTION 'p_steps must have 2 to 50 steps, got %', n USING ERRCODE = '22023';
    END IF;
    FOR s IN SELECT e FROM pg_catalog.jsonb_array_elements(p_steps) e LOOP
        IF pg_catalog.jsonb_typeof(s) OPERATOR(pg_catalog.<>) 'object' THEN
            RAISE EXCEPTION 'p_steps[%] must be an object', i USING ERRCODE = '22023';
        END IF;
        FOR k IN SELECT pg_catalog.jsonb_object_keys(s) LOOP
            IF k NOT IN ('kind', 'title', 'required', 'min_duration_s', 'form', 'min_photos') THEN
                RAISE EXCEPTION 'p_steps[%] has an unknown key "%"', i, pg_catalog.left(k, 40)
                    USING ERRCODE = '22023', HINT = 'Known keys: kind, title, required, min_duration_s, form, min_photos.';
            END IF;
        END LOOP;
        IF NOT (s ->> 'kind') OPERATOR(pg_catalog.=) ANY (v_kinds) OR pg_catalog.jsonb_typeof(s -> 'kind') OPERATOR(pg_catalog.<>) 'string' THEN
            RAISE EXCEPTION 'p_steps[%].kind must be one of %, got %', i, pg_catalog.array_to_string(v_kinds, ', '),
                COALESCE(pg_catalog.left((s -> 'kind')::text, 40), 'nothing') USING ERRCODE = '22023';
        END IF;
        IF (i OPERATOR(pg_catalog.=) 0) <> ((s ->> 'kind') OPERATOR(pg_catalog.=) 'checkin') THEN
            RAISE EXCEPTION 'p_steps[%]: the first step, and only it, is the check-in', i USING ERRCODE = '22023';
        END IF;
        IF (i OPERATOR(pg_catalog.=) (n OPERATOR(pg_catalog.-) 1)) <> ((s ->> 'kind') OPERATOR(pg_catalog.=) 'checkout') THEN
            RAISE EXCEPTION 'p_steps[%]: the last step, and only it, is the check-out', i USING ERRCODE = '22023';
        END IF;
        IF s ? 'required' AND pg_catalog.jsonb_typeof(s -> 'required') OPERATOR(pg_catalog.<>) 'boolean' THEN
            RAISE EXCEPTION 'p_steps[%].required must be true or false', i USING ERRCODE = '22023';
        END IF;
        IF (s ->> 'kind') IN ('checkin', 'checkout') AND (s ->> 'required') OPERATOR(pg_catalog.=) 'false' THEN
            RAISE EXCEPTION 'p_steps[%]: the % cannot be optional', i, s ->> 'kind' USING ERRCODE = '22023';
        END IF;
        IF s ? 'min_duration_s' AND NOT (pg_catalog.jsonb_typeof(s -> 'min_duration_s') OPERATOR(pg_catalog.=) 'number'
                                         AND (s ->> 'min_duration_s') ~ '^[0-9]+$' AND (s ->> 'min_duration_s')::bigint OPERATOR(pg_catalog.<=) 86400) THEN
            RAISE EXCEPTION 'p_steps[%].min_duration_s must be a whole number of seconds, 0 to 86400', i USING ERRCODE = '22023';
        END IF;
        IF (s ->> 'kind') OPERATOR(pg_catalog.=) 'form' THEN
            PERFORM fieldops.check_code(s ->> 'form', pg_catalog.format('p_steps[%s].form', i));
        ELSIF s ? 'form' THEN
            RAISE EXCEPTION 'p_steps[%].form is for form steps only', i USING ERRCODE = '22023';
        END IF;
        IF s ? 'min_photos' AND (NOT (s ->> 'kind') IN ('photo', 'group_photo')
                                 OR NOT (pg_catalog.jsonb_typeof(s -> 'min_photos') OPERATOR(pg_catalog.=) 'number'
                                         AND (s ->> 'min_photos') ~ '^[0-9]+$' AND (s ->> 'min_photos')::bigint BETWEEN 1 AND 50)) THEN
            RAISE EXCEPTION 'p_steps[%].min_photos must be 1 to 50, on photo and group_photo steps only', i USING ERRCODE = '22023';
        END IF;
        i := i OPERATOR(pg_catalog.+) 1;
    END LOOP;
END
$$;
COMMENT ON FUNCTION fieldops.check_sop_steps(jsonb) IS 'Internal: validate the steps of an SOP definition (22023 naming p_steps[i]).';

CREATE FUNCTION fieldops.define_sop(p_tenant_id bigint, p_code text, p_name text, p_steps jsonb)
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    v_sop fieldops.sop;
    v_version integer;
    v_same boolean;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    PERFORM fieldops.check_code(p_code, 'p_code');
    PERFORM fieldops.check_text(p_name, 'p_name');
    PERFORM fieldops.check_sop_steps(p_steps);
    INSERT INTO fieldops.sop (tenant_id, code, name, current_version)
    VALUES (p_tenant_id, p_code, p_name, 0)
    ON CONFLICT (tenant_id, code) DO UPDATE SET name = EXCLUDED.name
    RETURNING * INTO v_sop;
    -- the row is locked now: versions of one SOP are numbered one at a time
    SELECT pg_catalog.count(*) OPERATOR(pg_catalog.=) pg_catalog.jsonb_array_length(p_steps)
           AND pg_catalog.bool_and(x.kind OPERATOR(pg_catalog.=) (e.s ->> 'kind') AND x.title OPERATOR(pg_catalog.=) COALESCE(e.s ->> 'title', e.s ->> 'kind')
                        AND x.required OPERATOR(pg_catalog.=) COALESCE((e.s ->> 'required')::boolean, true)
                        AND x.min_duration_s OPERATOR(pg_catalog.=) COALESCE((e.s ->> 'min_duration_s')::integer, 0)
                        AND x.form_code IS NOT DISTINCT FROM (e.s ->> 'form')
                        AND x.min_photos OPERATOR(pg_catalog.=) COALESCE((e.s ->> 'min_photos')::integer,
                                                                         CASE WHEN (e.s ->> 'kind') IN ('photo', 'group_photo') THEN 1 ELSE 0 END))
      INTO v_same
      FROM fieldops.sop_step x
      JOIN pg_catalog.jsonb_array_elements(p_steps) WITH ORDINALITY AS e(s, n) ON x.step_no OPERATOR(pg_catalog.=) e.n
     WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.sop_id OPERATOR(pg_catalog.=) v_sop.sop_id
       AND x.version OPERATOR(pg_catalog.=) v_sop.current_version;
    IF v_sop.current_version OPERATOR(pg_catalog.>) 0 AND COALESCE(v_same, false)
       AND NOT EXISTS (SELECT 1 FROM fieldops.sop_step x WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.sop_id OPERATOR(pg_catalog.=) v_sop.sop_id
                          AND x.version OPERATOR(pg_catalog.=) v_sop.current_version AND x.step_no OPERATOR(pg_catalog.>) pg_catalog.jsonb_array_length(p_steps)) THEN
        RETURN v_sop.current_version;
    END IF;
    v_version := v_sop.current_version OPERATOR(pg_catalog.+) 1;
    INSERT INTO fieldops.sop_step (tenant_id, sop_id, version, step_no, kind, title, required, min_duration_s, form_code, min_photos)
    SELECT p_tenant_id, v_sop.sop_id, v_version, e.n, e.s ->> 'kind', COALESCE(e.s ->> 'title', e.s ->> 'kind'),
           COALESCE((e.s ->> 'required')::boolean, true), COALESCE((e.s ->> 'min_duration_s')::integer, 0), e.s ->> 'form',
           COALESCE((e.s ->> 'min_photos')::integer, CASE WHEN (e.s ->> 'kind') IN ('photo', 'group_photo') THEN 1 ELSE 0 END)
      FROM pg_catalog.jsonb_array_elements(p_steps) WITH ORDINALITY AS e(s, n);
    UPDATE fieldops.sop SET current_version = v_version
     WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND sop_id OPERATOR(pg_catalog.=) v_sop.sop_id;
    RETURN v_version;
END
$$;
COMMENT ON FUNCTION fieldops.define_sop(bigint, text, text, jsonb) IS
'Create an SOP or give it a new version (only when the steps changed; running visits keep theirs); returns the version. p_steps: [{"kind": "checkin"}, ..., {"kind": "checkout"}], each step with optional title, required (default true), min_duration_s, form (form steps: the form code), min_photos (photo steps, default 1). Kinds: checkin, preparation, form, photo, presentation, needs, competitor, group_photo, note, checkout.';

CREATE FUNCTION fieldops.assign_sop(p_tenant_id bigint, p_code text, p_customer_level text DEFAULT NULL, p_category text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    v_sop bigint;
    v_id bigint;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    PERFORM fieldops.check_code(p_code, 'p_code');
    PERFORM fieldops.check_text(p_category, 'p_category', 100, false);
    IF p_customer_level IS NOT NULL AND p_customer_level !~ '^[A-Z0-9]{1,8}$' THEN
        RAISE EXCEPTION 'p_customer_level must be a customer level such as A or VIP, got "%"', pg_catalog.left(p_customer_level, 20)
            USING ERRCODE = '22023';
    END IF;
    SELECT sop_id INTO v_sop FROM fieldops.sop WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND code OPERATOR(pg_catalog.=) p_code;
    IF v_sop IS NULL THEN
        RAISE EXCEPTION 'no SOP with p_code "%" in tenant %', p_code, p_tenant_id USING ERRCODE = '23503',
            HINT = 'Define it with fieldops.define_sop() first.';
    END IF;
    INSERT INTO fieldops.sop_assignment (tenant_id, sop_id, customer_level, category)
    VALUES (p_tenant_id, v_sop, p_customer_level, p_category)
    ON CONFLICT (tenant_id, customer_level, category) DO UPDATE SET sop_id = EXCLUDED.sop_id
    RETURNING assignment_id INTO v_id;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION fieldops.assign_sop(bigint, text, text, text) IS
'Make visits to customers of this level and/or category (both NULL: every customer without a more specific assignment) run this SOP; replaces the assignment of the same level and category. Returns its id.';

--
-- Check-in and check-out
--

-- one visit fix through ingest_fixes(), with its stored row: the fix the
-- phone took for this customer, scored like any other
CREATE FUNCTION fieldops.visit_fix(p_tenant_id bigint, p_worker_id bigint, p_customer_id bigint, p_fix jsonb, p_arg text,
                                   OUT fix_id bigint, OUT device_id bigint, OUT recorded_at timestamptz, OUT geom geometry,
                                   OUT accuracy_m real, OUT band text, OUT score smallint, OUT status text)
RETURNS record
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    r record;
    f record;
    v_msg text;
    v_hint text;
BEGIN
    IF p_fix IS NULL OR pg_catalog.jsonb_typeof(p_fix) OPERATOR(pg_catalog.<>) 'object' THEN
        RAISE EXCEPTION '% must be a location fix object as ingest_fixes() takes it: {"device_uid", "recorded_at", "lat", "lon", "accuracy_m", "provider", ...}', p_arg
            USING ERRCODE = '22023';
    END IF;
    IF pg_catalog.jsonb_typeof(p_fix -> 'accuracy_m') IS DISTINCT FROM 'number' THEN
        RAISE EXCEPTION '%.accuracy_m is required: the geofence decision needs the fix''s accuracy', p_arg USING ERRCODE = '22023';
    END IF;
    BEGIN
        SELECT * INTO r FROM fieldops.ingest_fixes(p_tenant_id,
            pg_catalog.jsonb_build_array(p_fix OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('customer_id', p_customer_id)),
            '{"store_off_duty": true}') i;
    EXCEPTION WHEN invalid_parameter_value THEN
        -- ingest names the element of its batch; the caller knows one argument
        GET STACKED DIAGNOSTICS v_msg = MESSAGE_TEXT, v_hint = PG_EXCEPTION_HINT;
        -- (ingest's hints about skipping bad elements of a batch do not
        -- apply to one fix; a fix before the phone's binding is explained)
        IF v_msg LIKE '%not bound to a worker%' THEN
            v_hint := 'The phone must be bound to p_worker_id (register_device()) before the fix was taken; '
                      || 'its current binding: ' || COALESCE((SELECT pg_catalog.format('worker %s since %s', d.worker_id, d.bound_at)
                                                                 FROM fieldops.device d
                                                                WHERE d.tenant_id OPERATOR(pg_catalog.=) p_tenant_id
                                                                  AND d.device_uid OPERATOR(pg_catalog.=) (p_fix ->> 'device_uid')), 'none') || '.';
        ELSIF v_hint LIKE '%on_error%' THEN
            v_hint := NULL;
        END IF;
        RAISE EXCEPTION '%', pg_catalog.replace(v_msg, 'p_fixes[0]', p_arg)
            USING ERRCODE = '22023', HINT = COALESCE(NULLIF(v_hint, ''), 'See fieldops.ingest_fixes() for the fields of a fix.');
    END;
    IF r.fix_id IS NULL THEN
        RAISE EXCEPTION '% was not stored: % (%)', p_arg, r.status, COALESCE(r.reason, 'no reason given') USING ERRCODE = '22023';
    END IF;
    -- the stored row, by its key (the fix table is partitioned by day)
    SELECT x.fix_id, x.device_id, x.worker_id, x.recorded_at, x.geom, x.accuracy_m, x.band, x.score INTO f
      FROM fieldops.fix x
      JOIN fieldops.device d ON d.tenant_id OPERATOR(pg_catalog.=) x.tenant_id AND d.device_id OPERATOR(pg_catalog.=) x.device_id
     WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND d.device_uid OPERATOR(pg_catalog.=) (p_fix ->> 'device_uid')
       AND x.recorded_at OPERATOR(pg_catalog.=) (CASE WHEN pg_catalog.jsonb_typeof(p_fix -> 'recorded_at') OPERATOR(pg_catalog.=) 'number'
                                                      THEN pg_catalog.to_timestamp(0) OPERATOR(pg_catalog.+) ((p_fix ->> 'recorded_at')::bigint
                                                           OPERATOR(pg_catalog.*) interval '1 millisecond')
                                                      ELSE (p_fix ->> 'recorded_at')::timestamptz END)
       AND x.fix_id OPERATOR(pg_catalog.=) r.fix_id;
    IF f.fix_id IS NULL THEN
        RAISE EXCEPTION '% was stored as fix % but cannot be read back', p_arg, r.fix_id USING ERRCODE = 'XX000';
    END IF;
    IF f.worker_id OPERATOR(pg_catalog.<>) p_worker_id THEN
        RAISE EXCEPTION '%: device % was bound to worker %, not to p_worker_id %, at %', p_arg, p_fix ->> 'device_uid', f.worker_id,
            p_worker_id, f.recorded_at USING ERRCODE = '22023';
    END IF;
    fix_id := f.fix_id; device_id := f.device_id; recorded_at := f.recorded_at; geom := f.geom;
    accuracy_m := f.accuracy_m; band := f.band; score := f.score; status := r.status;
END
$$;
COMMENT ON FUNCTION fieldops.visit_fix(bigint, bigint, bigint, jsonb, text) IS
'Internal: store a check-in or check-out fix through ingest_fixes() (scored, stored even off duty) and return its row; 22023 when it was not stored or belongs to another worker''s device.';

-- the radius of a customer's geofence
CREATE FUNCTION fieldops.visit_radius(p_tenant_id bigint, p_customer fieldops.customer)
RETURNS integer
LANGUAGE sql STABLE
AS $$
    SELECT COALESCE(p_customer.geofence_radius_m, (fieldops.tenant_setting(p_tenant_id, 'geofence_radius_m'))::text::integer)
$$;
COMMENT ON FUNCTION fieldops.visit_radius(bigint, fieldops.customer) IS 'Internal: the customer''s geofence radius, else the tenant''s.';

CREATE FUNCTION fieldops.check_in(p_tenant_id bigint, p_worker_id bigint, p_customer_id bigint, p_fix jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    c fieldops.customer;
    f record;
    v fieldops.visit;
    v_sop bigint;
    v_version integer;
    v_d float8;
    v_radius integer;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    PERFORM fieldops.check_customer_arg(p_customer_id, 'p_customer_id');
    IF p_worker_id IS NULL THEN
        RAISE EXCEPTION 'p_worker_id must not be null' USING ERRCODE = '22004';
    END IF;
    PERFORM fieldops.lock_active_worker(p_tenant_id, p_worker_id);
    SELECT * INTO c FROM fieldops.customer WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND customer_id OPERATOR(pg_catalog.=) p_customer_id;
    IF c.customer_id IS NULL THEN
        RAISE EXCEPTION 'p_customer_id % is not a customer of tenant %', p_customer_id, p_tenant_id USING ERRCODE = '23503';
    END IF;
    f := fieldops.visit_fix(p_tenant_id, p_worker_id, p_customer_id, p_fix, 'p_fix');
    -- the same check-in sent again (a retry): the visit it made
    SELECT * INTO v FROM fieldops.visit
     WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND checkin_fix_id OPERATOR(pg_catalog.=) f.fix_id;
    IF v.visit_id IS NOT NULL THEN
        IF v.worker_id OPERATOR(pg_catalog.<>) p_worker_id OR v.customer_id OPERATOR(pg_catalog.<>) p_customer_id THEN
            RAISE EXCEPTION 'p_fix is the check-in fix of visit % already', v.visit_id USING ERRCODE = '22023';
        END IF;
        RETURN fieldops.visit_summary(p_tenant_id, v.visit_id) OPERATOR(pg_catalog.||) '{"retry": true}';
    END IF;
    -- the SOP: the most specific assignment
    SELECT a.sop_id INTO v_sop FROM fieldops.sop_assignment a
     WHERE a.tenant_id OPERATOR(pg_catalog.=) p_tenant_id
       AND (a.customer_level IS NULL OR a.customer_level OPERATOR(pg_catalog.=) c.level)
       AND (a.category IS NULL OR a.category OPERATOR(pg_catalog.=) c.category)
     ORDER BY (a.customer_level IS NOT NULL) DESC, (a.category IS NOT NULL) DESC
     LIMIT 1;
    IF v_sop IS NOT NULL THEN
        SELECT current_version INTO v_version FROM fieldops.sop
         WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND sop_id OPERATOR(pg_catalog.=) v_sop;
    END IF;
    v_radius := fieldops.visit_radius(p_tenant_id, c);
    IF c.geom IS NOT NULL THEN
        v_d := public.ST_DistanceSphere(c.geom, f.geom);
    END IF;
    BEGIN
        INSERT INTO fieldops.visit (tenant_id, worker_id, customer_id, checkin_at, device_id, sop_id, sop_version, radius_m,
                                    checkin_fix_id, checkin_distance_m, checkin_accuracy_m, checkin_geofence, checkin_band, checkin_score)
        VALUES (p_tenant_id, p_worker_id, p_customer_id, f.recorded_at, f.device_id, v_sop, v_version, v_radius,
                f.fix_id, v_d, f.accuracy_m, fieldops.geofence_decision(v_d, f.accuracy_m, v_radius), f.band, f.score)
        RETURNING * INTO v;
    EXCEPTION WHEN unique_violation THEN
        SELECT * INTO v FROM fieldops.visit
         WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND worker_id OPERATOR(pg_catalog.=) p_worker_id
           AND checkout_at IS NULL AND checkin_fix_id IS NOT NULL;
        RAISE EXCEPTION 'worker % has an open visit (visit %, customer %): check out first', p_worker_id, v.visit_id, v.customer_id
            USING ERRCODE = '55000';
    END;
    INSERT INTO fieldops.visit_step (tenant_id, visit_id, step_no, kind, done_at, duration_s, evidence)
    VALUES (p_tenant_id, v.visit_id, 1, 'checkin', f.recorded_at, 0, pg_catalog.jsonb_build_object('fix_id', f.fix_id));
    PERFORM fieldops.kpi_touch(p_tenant_id, fieldops.tenant_local_date(p_tenant_id, f.recorded_at), 'visit');
    PERFORM fieldops.emit_event(p_tenant_id, 'visit.checked_in', 'visit', v.visit_id,
        pg_catalog.jsonb_build_object('worker_id', p_worker_id, 'customer_id', p_customer_id, 'geofence', v.checkin_geofence,
                                      'band', f.band, 'at', f.recorded_at));
    RETURN fieldops.visit_summary(p_tenant_id, v.visit_id);
END
$$;
COMMENT ON FUNCTION fieldops.check_in(bigint, bigint, bigint, jsonb) IS
'Start a visit: p_fix is the check-in fix as ingest_fixes() takes it (accuracy_m required), stored and scored like any fix; returns the visit (visit_id, geofence inside/outside/uncertain with distance, radius and accuracy, spoof band, the SOP steps to do). A retried check-in (the same fix) returns the same visit. 55000 when the worker has an open visit.';

CREATE FUNCTION fieldops.lock_visit(p_tenant_id bigint, p_visit_id bigint)
RETURNS fieldops.visit
LANGUAGE sql VOLATILE
AS $$
    SELECT * FROM fieldops.visit
     WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND visit_id OPERATOR(pg_catalog.=) p_visit_id
       FOR UPDATE
$$;
COMMENT ON FUNCTION fieldops.lock_visit(bigint, bigint) IS 'Internal: the visit row, locked (its steps, check-out and review are made one at a time).';

CREATE FUNCTION fieldops.complete_step(p_tenant_id bigint, p_visit_id bigint, p_worker_id bigint, p_step_no integer,
                                       p_evidence jsonb DEFAULT '{}', p_at timestamptz DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    v fieldops.visit;
    s fieldops.sop_step;
    v_at timestamptz := COALESCE(p_at, pg_catalog.now());
    v_prev timestamptz;
    v_missing record;
    v_n integer;
    v_ev jsonb := COALESCE(p_evidence, '{}');
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    IF p_visit_id IS NULL OR p_worker_id IS NULL OR p_step_no IS NULL THEN
        RAISE EXCEPTION 'p_visit_id, p_worker_id and p_step_no must not be null' USING ERRCODE = '22004';
    END IF;
    IF pg_catalog.jsonb_typeof(v_ev) OPERATOR(pg_catalog.<>) 'object' THEN
        RAISE EXCEPTION 'p_evidence must be a JSON object such as {"photo_ids": [1, 2]}, {"submission_id": 7} or {"text": "..."}'
            USING ERRCODE = '22023';
    END IF;
    IF v_at OPERATOR(pg_catalog.>) (pg_catalog.now() OPERATOR(pg_catalog.+)
            pg_catalog.make_interval(secs => (fieldops.tenant_setting(p_tenant_id, 'visit_step_clock_tolerance_s'))::text::integer)) THEN
        RAISE EXCEPTION 'p_at must not be in the future, got %', v_at USING ERRCODE = '22023';
    END IF;
    v := fieldops.lock_visit(p_tenant_id, p_visit_id);
    IF v.visit_id IS NULL THEN
        RETURN pg_catalog.jsonb_build_object('status', 'not_found');
    END IF;
    IF v.worker_id OPERATOR(pg_catalog.<>) p_worker_id THEN
        RETURN pg_catalog.jsonb_build_object('status', 'not_yours', 'reason', pg_catalog.format('visit %s is worker %s''s', v.visit_id, v.worker_id));
    END IF;
    IF v.checkout_at IS NOT NULL THEN
        RETURN pg_catalog.jsonb_build_object('status', 'visit_closed', 'reason', pg_catalog.format('checked out at %s', v.checkout_at));
    END IF;
    SELECT * INTO s FROM fieldops.sop_step
     WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND sop_id OPERATOR(pg_catalog.=) v.sop_id
       AND version OPERATOR(pg_catalog.=) v.sop_version AND step_no OPERATOR(pg_catalog.=) p_step_no;
    IF s.step_no IS NULL THEN
        RETURN pg_catalog.jsonb_build_object('status', 'no_such_step',
            'reason', CASE WHEN v.sop_id IS NULL THEN 'the visit runs no SOP' ELSE pg_catalog.format('the SOP has no step %s', p_step_no) END);
    END IF;
    IF s.kind IN ('checkin', 'checkout') THEN
        RETURN pg_catalog.jsonb_build_object('status', 'use_check_in_out', 'reason', 'the check-in and check-out steps are done by check_in() and check_out()');
    END IF;
    IF EXISTS (SELECT 1 FROM fieldops.visit_step x WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id
                  AND x.visit_id OPERATOR(pg_catalog.=) p_visit_id AND x.step_no OPERATOR(pg_catalog.=) p_step_no) THEN
        RETURN pg_catalog.jsonb_build_object('status', 'already_done', 'step_no', p_step_no);
    END IF;
    -- order: every earlier required step is done (optional ones may be skipped)
    SELECT x.step_no, x.kind, x.title INTO v_missing FROM fieldops.sop_step x
     WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.sop_id OPERATOR(pg_catalog.=) v.sop_id
       AND x.version OPERATOR(pg_catalog.=) v.sop_version AND x.step_no OPERATOR(pg_catalog.<) p_step_no AND x.required
       AND NOT EXISTS (SELECT 1 FROM fieldops.visit_step d WHERE d.tenant_id OPERATOR(pg_catalog.=) p_tenant_id
                          AND d.visit_id OPERATOR(pg_catalog.=) p_visit_id AND d.step_no OPERATOR(pg_catalog.=) x.step_no)
     ORDER BY x.step_no LIMIT 1;
    IF v_missing.step_no IS NOT NULL THEN
        RETURN pg_catalog.jsonb_build_object('status', 'out_of_order', 'missing_step', v_missing.step_no,
            'reason', pg_catalog.format('step %s (%s, "%s") must be done first', v_missing.step_no, v_missing.kind, v_missing.title));
    END IF;
    -- a later step done already (an optional one skipped, then come back to): refused too
    IF EXISTS (SELECT 1 FROM fieldops.visit_step d WHERE d.tenant_id OPERATOR(pg_catalog.=) p_tenant_id
                  AND d.visit_id OPERATOR(pg_catalog.=) p_visit_id AND d.step_no OPERATOR(pg_catalog.>) p_step_no) THEN
        RETURN pg_catalog.jsonb_build_object('status', 'out_of_order',
            'reason', pg_catalog.format('a later step is done already: step %s was skipped', p_step_no));
    END IF;
    SELECT max(d.done_at) INTO v_prev FROM fieldops.visit_step d
     WHERE d.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND d.visit_id OPERATOR(pg_catalog.=) p_visit_id;
    IF v_at OPERATOR(pg_catalog.<) v_prev THEN
        RETURN pg_catalog.jsonb_build_object('status', 'bad_time', 'reason', pg_catalog.format('p_at %s lies before the previous step (%s)', v_at, v_prev));
    END IF;
    IF EXTRACT(epoch FROM v_at OPERATOR(pg_catalog.-) v_prev) OPERATOR(pg_catalog.<) s.min_duration_s THEN
        RETURN pg_catalog.jsonb_build_object('status', 'too_short', 'min_duration_s', s.min_duration_s,
            'reason', pg_catalog.format('step %s takes at least %s s after the previous one; %s s passed', p_step_no, s.min_duration_s,
                                        pg_catalog.floor(EXTRACT(epoch FROM v_at OPERATOR(pg_catalog.-) v_prev))));
    END IF;
    -- the evidence the step's kind needs
    IF s.kind IN ('photo', 'group_photo') THEN
        IF pg_catalog.jsonb_typeof(v_ev -> 'photo_ids') IS DISTINCT FROM 'array' THEN
            RETURN pg_catalog.jsonb_build_object('status', 'missing_evidence', 'reason', pg_catalog.format('a %s step needs {"photo_ids": [...]}: %s photo(s) of this visit', s.kind, s.min_photos));
        END IF;
        SELECT pg_catalog.count(DISTINCT p.photo_id) INTO v_n FROM fieldops.photo p
         WHERE p.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND p.visit_id OPERATOR(pg_catalog.=) p_visit_id
           AND p.verdict OPERATOR(pg_catalog.<>) 'rejected'
           AND p.photo_id IN (SELECT (e #>> '{}')::bigint FROM pg_catalog.jsonb_array_elements(v_ev -> 'photo_ids') e
                               WHERE pg_catalog.jsonb_typeof(e) OPERATOR(pg_catalog.=) 'number' AND (e #>> '{}') ~ '^[0-9]{1,18}$');
        IF v_n OPERATOR(pg_catalog.<) s.min_photos THEN
            RETURN pg_catalog.jsonb_build_object('status', 'missing_evidence',
                'reason', pg_catalog.format('%s photo(s) of this visit needed, not rejected; %s given', s.min_photos, v_n));
        END IF;
    ELSIF s.kind OPERATOR(pg_catalog.=) 'form' THEN
        -- (fieldops.form_submission and fieldops.form come with the custom
        -- forms, 70_form.sql, later in the script: resolved when this runs)
        IF NOT EXISTS (SELECT 1 FROM fieldops.form_submission fs
                         JOIN fieldops.form fo ON fo.tenant_id OPERATOR(pg_catalog.=) fs.tenant_id AND fo.form_id OPERATOR(pg_catalog.=) fs.form_id
                        WHERE fs.tenant_id OPERATOR(pg_catalog.=) p_tenant_id
                          AND fs.submission_id OPERATOR(pg_catalog.=) (CASE WHEN (v_ev ->> 'submission_id') ~ '^[0-9]{1,18}$' THEN (v_ev ->> 'submission_id')::bigint END)
                          AND fs.visit_id OPERATOR(pg_catalog.=) p_visit_id AND fo.code OPERATOR(pg_catalog.=) s.form_code) THEN
            RETURN pg_catalog.jsonb_build_object('status', 'missing_evidence',
                'reason', pg_catalog.format('a submission of form %s for this visit is needed: {"submission_id": ...}', s.form_code));
        END IF;
    ELSIF s.kind IN ('note', 'needs', 'competitor') THEN
        IF pg_catalog.length(pg_catalog.btrim(COALESCE(v_ev ->> 'text', ''))) OPERATOR(pg_catalog.<) 2 THEN
            RETURN pg_catalog.jsonb_build_object('status', 'missing_evidence', 'reason', pg_catalog.format('a %s step needs {"text": "..."}', s.kind));
        END IF;
        PERFORM fieldops.check_text(v_ev ->> 'text', 'p_evidence.text', 4000);
    END IF;
    INSERT INTO fieldops.visit_step (tenant_id, visit_id, step_no, kind, done_at, duration_s, evidence)
    VALUES (p_tenant_id, p_visit_id, p_step_no, s.kind, v_at, pg_catalog.floor(EXTRACT(epoch FROM v_at OPERATOR(pg_catalog.-) v_prev))::integer, v_ev);
    PERFORM fieldops.emit_event(p_tenant_id, 'visit.step_done', 'visit', p_visit_id,
        pg_catalog.jsonb_build_object('step_no', p_step_no, 'kind', s.kind, 'at', v_at));
    RETURN pg_catalog.jsonb_build_object('status', 'done', 'step_no', p_step_no, 'kind', s.kind,
        'duration_s', pg_catalog.floor(EXTRACT(epoch FROM v_at OPERATOR(pg_catalog.-) v_prev))::integer);
END
$$;
COMMENT ON FUNCTION fieldops.complete_step(bigint, bigint, bigint, integer, jsonb, timestamptz) IS
'Do one SOP step of an open visit at p_at (default now). Returns {"status": ...}: done; or refused with a reason: out_of_order (an earlier required step is not done, or a later one is done already), too_short (min_duration_s since the previous step not reached), missing_evidence (photo steps: {"photo_ids": [...]} of this visit, not rejected; form steps: {"submission_id": n} of the step''s form for this visit; note, needs, competitor: {"text": "..."}), already_done, no_such_step, use_check_in_out, visit_closed, not_yours, not_found, bad_time.';

--
-- Verification: the one definition
--
CREATE FUNCTION fieldops.visit_reasons(p_tenant_id bigint, p_visit fieldops.visit)
RETURNS jsonb
LANGUAGE sql STABLE
AS $$
    SELECT COALESCE(pg_catalog.jsonb_agg(r.reason ORDER BY r.ord), '[]') FROM (
        SELECT 1 AS ord, pg_catalog.jsonb_build_object('code', 'open', 'text', 'not checked out') AS reason
         WHERE p_visit.checkout_at IS NULL
        UNION ALL
        SELECT 2, pg_catalog.jsonb_build_object('code', 'checkin_' || p_visit.checkin_geofence, 'distance_m', pg_catalog.round(p_visit.checkin_distance_m::numeric),
                                                'accuracy_m', p_visit.checkin_accuracy_m, 'radius_m', p_visit.radius_m)
         WHERE p_visit.checkin_geofence OPERATOR(pg_catalog.<>) 'inside' AND p_visit.review IS DISTINCT FROM 'accepted'
        UNION ALL
        SELECT 3, pg_catalog.jsonb_build_object('code', 'checkout_' || p_visit.checkout_geofence, 'distance_m', pg_catalog.round(p_visit.checkout_distance_m::numeric),
                                                'accuracy_m', p_visit.checkout_accuracy_m, 'radius_m', p_visit.radius_m)
         WHERE p_visit.checkout_geofence OPERATOR(pg_catalog.<>) 'inside' AND p_visit.review IS DISTINCT FROM 'accepted'
        UNION ALL
        SELECT 4, pg_catalog.jsonb_build_object('code', 'checkin_red', 'score', p_visit.checkin_score) WHERE p_visit.checkin_band OPERATOR(pg_catalog.=) 'red'
        UNION ALL
        SELECT 5, pg_catalog.jsonb_build_object('code', 'checkout_red', 'score', p_visit.checkout_score) WHERE p_visit.checkout_band OPERATOR(pg_catalog.=) 'red'
        UNION ALL
        SELECT 6, pg_catalog.jsonb_build_object('code', 'review_rejected', 'note', p_visit.review_note) WHERE p_visit.review OPERATOR(pg_catalog.=) 'rejected'
        UNION ALL
        SELECT 7, pg_catalog.jsonb_build_object('code', 'too_short', 'seconds', pg_catalog.floor(EXTRACT(epoch FROM p_visit.checkout_at OPERATOR(pg_catalog.-) p_visit.checkin_at)),
                                                'min_s', (fieldops.tenant_setting(p_tenant_id, 'visit_min_duration_s'))::text::integer)
         WHERE p_visit.checkout_at IS NOT NULL
           AND EXTRACT(epoch FROM p_visit.checkout_at OPERATOR(pg_catalog.-) p_visit.checkin_at)
               OPERATOR(pg_catalog.<) (fieldops.tenant_setting(p_tenant_id, 'visit_min_duration_s'))::text::integer
        UNION ALL
        SELECT 10 OPERATOR(pg_catalog.+) s.step_no, pg_catalog.jsonb_build_object('code', 'step_missing', 'step_no', s.step_no, 'kind', s.kind, 'title', s.title)
          FROM fieldops.sop_step s
         WHERE s.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND s.sop_id OPERATOR(pg_catalog.=) p_visit.sop_id
           AND s.version OPERATOR(pg_catalog.=) p_visit.sop_version AND s.required AND s.kind NOT IN ('checkin', 'checkout')
           AND NOT EXISTS (SELECT 1 FROM fieldops.visit_step d WHERE d.tenant_id OPERATOR(pg_catalog.=) p_tenant_id
                              AND d.visit_id OPERATOR(pg_catalog.=) p_visit.visit_id AND d.step_no OPERATOR(pg_catalog.=) s.step_no)
        UNION ALL
        SELECT 1000 OPERATOR(pg_catalog.+) d.step_no, pg_catalog.jsonb_build_object('code', 'photo_not_accepted', 'step_no', d.step_no, 'photo_id', p.photo_id, 'verdict', p.verdict)
          FROM fieldops.visit_step d
          JOIN fieldops.sop_step s ON s.tenant_id OPERATOR(pg_catalog.=) d.tenant_id AND s.sop_id OPERATOR(pg_catalog.=) p_visit.sop_id
                                  AND s.version OPERATOR(pg_catalog.=) p_visit.sop_version AND s.step_no OPERATOR(pg_catalog.=) d.step_no AND s.required
          CROSS JOIN LATERAL pg_catalog.jsonb_array_elements(d.evidence -> 'photo_ids') e
          JOIN fieldops.photo p ON p.tenant_id OPERATOR(pg_catalog.=) d.tenant_id AND p.photo_id OPERATOR(pg_catalog.=) (e #>> '{}')::bigint
                               AND p.visit_id OPERATOR(pg_catalog.=) d.visit_id
         WHERE d.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND d.visit_id OPERATOR(pg_catalog.=) p_visit.visit_id
           AND d.kind IN ('photo', 'group_photo') AND p.verdict OPERATOR(pg_catalog.<>) 'accepted'
    ) r
$$;
COMMENT ON FUNCTION fieldops.visit_reasons(bigint, fieldops.visit) IS
'Why a visit is not verified (empty array: it is). Codes: open, checkin_outside, checkin_uncertain, checkout_outside, checkout_uncertain (unless a reviewer accepted the visit), checkin_red, checkout_red, review_rejected, too_short (visit_min_duration_s), step_missing (a required SOP step), photo_not_accepted (a photo of a required photo step whose verdict is not accepted).';

CREATE VIEW fieldops.visit_verified WITH (security_invoker = true) AS
SELECT v.tenant_id, v.visit_id, v.worker_id, v.customer_id, v.checkin_at, v.checkout_at,
       pg_catalog.jsonb_array_length(r.reasons) OPERATOR(pg_catalog.=) 0 AS verified, r.reasons
  FROM fieldops.visit v
 CROSS JOIN LATERAL (SELECT fieldops.visit_reasons(v.tenant_id, v) AS reasons) r;
COMMENT ON VIEW fieldops.visit_verified IS
'Every visit, verified or not and why (fieldops.visit_reasons()): the one definition of a verified visit that the pool''s follow-ups and the KPIs use.';

CREATE FUNCTION fieldops.visit_summary(p_tenant_id bigint, p_visit_id bigint)
RETURNS jsonb
LANGUAGE sql STABLE
AS $$
    SELECT pg_catalog.jsonb_build_object(
        'visit_id', v.visit_id, 'worker_id', v.worker_id, 'customer_id', v.customer_id,
        'checkin_at', v.checkin_at, 'checkout_at', v.checkout_at, 'radius_m', v.radius_m,
        'checkin', pg_catalog.jsonb_build_object('geofence', v.checkin_geofence, 'distance_m', pg_catalog.round(v.checkin_distance_m::numeric),
                                                 'accuracy_m', v.checkin_accuracy_m, 'band', v.checkin_band, 'score', v.checkin_score),
        'checkout', CASE WHEN v.checkout_at IS NOT NULL THEN
                    pg_catalog.jsonb_build_object('geofence', v.checkout_geofence, 'distance_m', pg_catalog.round(v.checkout_distance_m::numeric),
                                                  'accuracy_m', v.checkout_accuracy_m, 'band', v.checkout_band, 'score', v.checkout_score) END,
        'sop', (SELECT pg_catalog.jsonb_build_object('code', so.code, 'version', v.sop_version, 'steps',
                    (SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
                                'step_no', s.step_no, 'kind', s.kind, 'title', s.title, 'required', s.required,
                                'min_duration_s', NULLIF(s.min_duration_s, 0), 'form', s.form_code, 'min_photos', NULLIF(s.min_photos, 0),
                                'done_at', d.done_at)) ORDER BY s.step_no)
                       FROM fieldops.sop_step s
                       LEFT JOIN fieldops.visit_step d ON d.tenant_id OPERATOR(pg_catalog.=) s.tenant_id AND d.visit_id OPERATOR(pg_catalog.=) v.visit_id
                                                      AND d.step_no OPERATOR(pg_catalog.=) s.step_no
                      WHERE s.tenant_id OPERATOR(pg_catalog.=) v.tenant_id AND s.sop_id OPERATOR(pg_catalog.=) v.sop_id
                        AND s.version OPERATOR(pg_catalog.=) v.sop_version))
                  FROM fieldops.sop so WHERE so.tenant_id OPERATOR(pg_catalog.=) v.tenant_id AND so.sop_id OPERATOR(pg_catalog.=) v.sop_id),
        'review', v.review,
        'verified', pg_catalog.jsonb_array_length(r.reasons) OPERATOR(pg_catalog.=) 0,
        'reasons', r.reasons,
        'followup', v.followup)
      FROM fieldops.visit v
     CROSS JOIN LATERAL (SELECT fieldops.visit_reasons(v.tenant_id, v) AS reasons) r
     WHERE v.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND v.visit_id OPERATOR(pg_catalog.=) p_visit_id
$$;
COMMENT ON FUNCTION fieldops.visit_summary(bigint, bigint) IS
'A visit as JSON: check-in and check-out (geofence, distance, accuracy, spoof band), its SOP steps with the ones done, the review, verified and the reasons it is not.';

-- once verified, the visit is the owner's follow-up for the customer pool
CREATE FUNCTION fieldops.visit_settle(p_tenant_id bigint, p_visit_id bigint)
RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    v fieldops.visit;
    v_status text;
BEGIN
    SELECT * INTO v FROM fieldops.visit WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND visit_id OPERATOR(pg_catalog.=) p_visit_id;
    IF v.followup IS NOT NULL OR v.checkout_at IS NULL
       OR pg_catalog.jsonb_array_length(fieldops.visit_reasons(p_tenant_id, v)) OPERATOR(pg_catalog.>) 0 THEN
        RETURN;
    END IF;
    v_status := fieldops.record_followup(p_tenant_id, v.customer_id, v.worker_id, v.checkout_at,
                                         pg_catalog.format('verified visit %s', v.visit_id));
    UPDATE fieldops.visit SET followup = v_status
     WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND visit_id OPERATOR(pg_catalog.=) p_visit_id;
    PERFORM fieldops.emit_event(p_tenant_id, 'visit.verified', 'visit', p_visit_id,
        pg_catalog.jsonb_build_object('worker_id', v.worker_id, 'customer_id', v.customer_id, 'followup', v_status));
END
$$;
COMMENT ON FUNCTION fieldops.visit_settle(bigint, bigint) IS
'Internal: when a checked-out visit is verified (and was not before), record it as the worker''s follow-up of the customer (the pool''s release clock) and emit visit.verified.';

CREATE FUNCTION fieldops.check_out(p_tenant_id bigint, p_visit_id bigint, p_worker_id bigint, p_fix jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    v fieldops.visit;
    c fieldops.customer;
    f record;
    v_d float8;
    v_step integer;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    IF p_visit_id IS NULL OR p_worker_id IS NULL THEN
        RAISE EXCEPTION 'p_visit_id and p_worker_id must not be null' USING ERRCODE = '22004';
    END IF;
    v := fieldops.lock_visit(p_tenant_id, p_visit_id);
    IF v.visit_id IS NULL THEN
        RAISE EXCEPTION 'p_visit_id % is not a visit of tenant %', p_visit_id, p_tenant_id USING ERRCODE = '23503';
    END IF;
    IF v.worker_id OPERATOR(pg_catalog.<>) p_worker_id THEN
        RAISE EXCEPTION 'visit % is worker %''s, not p_worker_id %''s', p_visit_id, v.worker_id, p_worker_id USING ERRCODE = '42501';
    END IF;
    f := fieldops.visit_fix(p_tenant_id, p_worker_id, v.customer_id, p_fix, 'p_fix');
    IF v.checkout_at IS NOT NULL THEN
        IF v.checkout_fix_id OPERATOR(pg_catalog.=) f.fix_id THEN
            RETURN fieldops.visit_summary(p_tenant_id, p_visit_id) OPERATOR(pg_catalog.||) '{"retry": true}';
        END IF;
        RAISE EXCEPTION 'visit % is checked out already (at %)', p_visit_id, v.checkout_at USING ERRCODE = '55000';
    END IF;
    IF f.recorded_at OPERATOR(pg_catalog.<) (SELECT max(d.done_at) FROM fieldops.visit_step d
                                               WHERE d.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND d.visit_id OPERATOR(pg_catalog.=) p_visit_id) THEN
        RAISE EXCEPTION 'p_fix.recorded_at % lies before the visit''s last step', f.recorded_at USING ERRCODE = '22023';
    END IF;
    SELECT * INTO c FROM fieldops.customer WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND customer_id OPERATOR(pg_catalog.=) v.customer_id;
    IF c.geom IS NOT NULL THEN
        v_d := public.ST_DistanceSphere(c.geom, f.geom);
    END IF;
    UPDATE fieldops.visit
       SET checkout_at = f.recorded_at, checkout_fix_id = f.fix_id, checkout_distance_m = v_d, checkout_accuracy_m = f.accuracy_m,
           checkout_geofence = fieldops.geofence_decision(v_d, f.accuracy_m, radius_m), checkout_band = f.band, checkout_score = f.score
     WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND visit_id OPERATOR(pg_catalog.=) p_visit_id;
    SELECT max(s.step_no) INTO v_step FROM fieldops.sop_step s
     WHERE s.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND s.sop_id OPERATOR(pg_catalog.=) v.sop_id AND s.version OPERATOR(pg_catalog.=) v.sop_version;
    INSERT INTO fieldops.visit_step (tenant_id, visit_id, step_no, kind, done_at, duration_s, evidence)
    SELECT p_tenant_id, p_visit_id, COALESCE(v_step, 2), 'checkout', f.recorded_at,
           pg_catalog.floor(EXTRACT(epoch FROM f.recorded_at OPERATOR(pg_catalog.-) max(d.done_at)))::integer,
           pg_catalog.jsonb_build_object('fix_id', f.fix_id)
      FROM fieldops.visit_step d WHERE d.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND d.visit_id OPERATOR(pg_catalog.=) p_visit_id;
    PERFORM fieldops.visit_settle(p_tenant_id, p_visit_id);
    PERFORM fieldops.kpi_touch(p_tenant_id, fieldops.tenant_local_date(p_tenant_id, v.checkin_at), 'visit');
    PERFORM fieldops.emit_event(p_tenant_id, 'visit.checked_out', 'visit', p_visit_id,
        (SELECT pg_catalog.jsonb_build_object('worker_id', x.worker_id, 'customer_id', x.customer_id, 'verified', x.verified, 'reasons', x.reasons)
           FROM fieldops.visit_verified x WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.visit_id OPERATOR(pg_catalog.=) p_visit_id));
    RETURN fieldops.visit_summary(p_tenant_id, p_visit_id);
END
$$;
COMMENT ON FUNCTION fieldops.check_out(bigint, bigint, bigint, jsonb) IS
'End a visit with its check-out fix (as check_in()); returns the visit with verified and the reasons it is not. Missing steps do not block the check-out (the worker must be able to leave): they make the visit unverified. A verified visit is recorded as the worker''s follow-up of the customer (record_followup). A retried check-out (the same fix) returns the visit; 55000 when checked out already with another fix.';

CREATE FUNCTION fieldops.review_visit(p_tenant_id bigint, p_visit_id bigint, p_reviewer_id bigint, p_accept boolean, p_note text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    v fieldops.visit;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    IF p_visit_id IS NULL OR p_reviewer_id IS NULL OR p_accept IS NULL THEN
        RAISE EXCEPTION 'p_visit_id, p_reviewer_id and p_accept must not be null' USING ERRCODE = '22004';
    END IF;
    PERFORM fieldops.check_text(p_note, 'p_note', 2000, NOT p_accept);
    PERFORM fieldops.lock_active_worker(p_tenant_id, p_reviewer_id, 'p_reviewer_id');
    v := fieldops.lock_visit(p_tenant_id, p_visit_id);
    IF v.visit_id IS NULL THEN
        RAISE EXCEPTION 'p_visit_id % is not a visit of tenant %', p_visit_id, p_tenant_id USING ERRCODE = '23503';
    END IF;
    IF v.worker_id OPERATOR(pg_catalog.=) p_reviewer_id THEN
        RAISE EXCEPTION 'a worker cannot review his own visit (%)', p_visit_id USING ERRCODE = '42501';
    END IF;
    IF NOT fieldops.hierarchy_reaches(p_tenant_id, 'worker', v.worker_id, p_reviewer_id) THEN
        RAISE EXCEPTION 'worker % is not above worker % in the management chain: only a manager reviews a visit', p_reviewer_id, v.worker_id
            USING ERRCODE = '42501';
    END IF;
    IF v.checkout_at IS NULL THEN
        RAISE EXCEPTION 'visit % is still open: review it after the check-out', p_visit_id USING ERRCODE = '55000';
    END IF;
    UPDATE fieldops.visit
       SET review = CASE WHEN p_accept THEN 'accepted' ELSE 'rejected' END, reviewed_by = p_reviewer_id,
           reviewed_at = pg_catalog.now(), review_note = p_note
     WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND visit_id OPERATOR(pg_catalog.=) p_visit_id;
    PERFORM fieldops.visit_settle(p_tenant_id, p_visit_id);
    PERFORM fieldops.kpi_touch(p_tenant_id, fieldops.tenant_local_date(p_tenant_id, v.checkin_at), 'visit');
    PERFORM fieldops.emit_event(p_tenant_id, 'visit.reviewed', 'visit', p_visit_id,
        pg_catalog.jsonb_build_object('reviewer_id', p_reviewer_id, 'accepted', p_accept));
    RETURN fieldops.visit_summary(p_tenant_id, p_visit_id);
END
$$;
COMMENT ON FUNCTION fieldops.review_visit(bigint, bigint, bigint, boolean, text) IS
'A manager (above the worker in the management chain) accepts or rejects a checked-out visit: accepted makes an outside or uncertain check-in or check-out count as inside (a red fix, a missing step or a photo not accepted still block verification); rejected (p_note required) makes it unverified. A visit that becomes verified counts as a follow-up.';

SELECT fieldops.secure_tenant_table('fieldops.sop');
SELECT fieldops.secure_tenant_table('fieldops.sop_step');
SELECT fieldops.secure_tenant_table('fieldops.sop_assignment');
SELECT fieldops.secure_tenant_table('fieldops.visit_step');

GRANT EXECUTE ON FUNCTION
    fieldops.check_in(bigint, bigint, bigint, jsonb),
    fieldops.check_out(bigint, bigint, bigint, jsonb),
    fieldops.complete_step(bigint, bigint, bigint, integer, jsonb, timestamptz),
    fieldops.review_visit(bigint, bigint, bigint, boolean, text),
    fieldops.define_sop(bigint, text, text, jsonb),
    fieldops.assign_sop(bigint, text, text, text)
TO fieldops_app;
GRANT EXECUTE ON FUNCTION
    fieldops.visit_summary(bigint, bigint),
    fieldops.visit_reasons(bigint, fieldops.visit),
    fieldops.geofence_decision(float8, float8, float8)
TO fieldops_app, fieldops_analyst, fieldops_api;
GRANT SELECT ON fieldops.visit_verified TO fieldops_app, fieldops_analyst, fieldops_api;
GRANT EXECUTE ON FUNCTION
    fieldops.check_sop_steps(jsonb),
    fieldops.visit_fix(bigint, bigint, bigint, jsonb, text),
    fieldops.visit_radius(bigint, fieldops.customer),
    fieldops.lock_visit(bigint, bigint),
    fieldops.visit_settle(bigint, bigint),
    fieldops.ingest_fixes(bigint, jsonb, jsonb)
TO fieldops_api;
