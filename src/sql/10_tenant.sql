--
-- Tenants, their settings and who may act for them.
--

CREATE TABLE fieldops.tenant (
    tenant_id   bigserial PRIMARY KEY,
    name        text NOT NULL CHECK (pg_catalog.length(pg_catalog.btrim(name)) BETWEEN 1 AND 200),
    time_zone   text NOT NULL,
    settings    jsonb NOT NULL DEFAULT '{}' CHECK (pg_catalog.jsonb_typeof(settings) = 'object'),
    status      text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at  timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE fieldops.tenant IS
'One company using fieldops. time_zone (IANA name) defines its days; settings overrides the defaults in fieldops.setting_def.';

-- Global dictionary (not per tenant): the settings a tenant may override.
CREATE TABLE fieldops.setting_def (
    key           text PRIMARY KEY,
    kind          text NOT NULL CHECK (kind IN ('integer', 'boolean', 'currency', 'work_schedule')),
    default_value jsonb NOT NULL,
    min_value     numeric,
    max_value     numeric,
    description   text NOT NULL
);
COMMENT ON TABLE fieldops.setting_def IS
'Global dictionary: every tenant setting, its kind, default and accepted range. Later modules add their keys here.';

INSERT INTO fieldops.setting_def (key, kind, default_value, min_value, max_value, description) VALUES
    ('outbox_retention_days', 'integer', '30', 1, 3650,
     'Days a published outbox event is kept before the outbox_purge job deletes it.'),
    ('work_schedule', 'work_schedule',
     '{"mon": ["09:00-18:00"], "tue": ["09:00-18:00"], "wed": ["09:00-18:00"], "thu": ["09:00-18:00"], "fri": ["09:00-18:00"], "sat": [], "sun": []}',
     NULL, NULL,
     'Default working hours (tenant-local) of workers without their own schedule.'),
    ('currency', 'currency', '"CNY"', NULL, NULL,
     'ISO 4217 code of the currency in which amounts are kept.'),
    ('week_start', 'integer', '1', 1, 7,
     'First day of a reporting week, ISO numbering (1 = Monday, 7 = Sunday).');

-- Global: which database roles may act for which tenant (NULL = every tenant).
CREATE TABLE fieldops.tenant_access (
    role_name   name NOT NULL,
    tenant_id   bigint,
    granted_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    granted_by  name NOT NULL DEFAULT CURRENT_USER
);
CREATE UNIQUE INDEX tenant_access_role_tenant_key
    ON fieldops.tenant_access (role_name, tenant_id) NULLS NOT DISTINCT;
COMMENT ON TABLE fieldops.tenant_access IS
'Global: database roles allowed to choose a tenant with fieldops.set_tenant(); tenant_id NULL grants every tenant (a multi-tenant application server).';

--
-- Settings
--

CREATE FUNCTION fieldops.validate_setting(p_key text, p_value jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
DECLARE
    d fieldops.setting_def;
    n numeric;
BEGIN
    SELECT * INTO d FROM fieldops.setting_def WHERE key OPERATOR(pg_catalog.=) p_key;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown tenant setting "%"', p_key
            USING ERRCODE = '22023',
                  HINT = 'Known settings: ' || (SELECT pg_catalog.string_agg(key, ', ' ORDER BY key) FROM fieldops.setting_def);
    END IF;
    IF p_value IS NULL THEN
        RETURN NULL;
    END IF;
    IF d.kind = 'integer' THEN
        IF pg_catalog.jsonb_typeof(p_value) IS DISTINCT FROM 'number'
           OR (p_value #>> '{}')::numeric OPERATOR(pg_catalog.<>) pg_catalog.trunc((p_value #>> '{}')::numeric) THEN
            RAISE EXCEPTION 'setting "%" must be an integer between % and %, got %', p_key, d.min_value, d.max_value, p_value
                USING ERRCODE = '22023';
        END IF;
        n := (p_value #>> '{}')::numeric;
        IF n OPERATOR(pg_catalog.<) d.min_value OR n OPERATOR(pg_catalog.>) d.max_value THEN
            RAISE EXCEPTION 'setting "%" must be between % and %, got %', p_key, d.min_value, d.max_value, n
                USING ERRCODE = '22023';
        END IF;
        RETURN p_value;
    ELSIF d.kind = 'boolean' THEN
        IF pg_catalog.jsonb_typeof(p_value) IS DISTINCT FROM 'boolean' THEN
            RAISE EXCEPTION 'setting "%" must be true or false, got %', p_key, p_value USING ERRCODE = '22023';
        END IF;
        RETURN p_value;
    ELSIF d.kind = 'currency' THEN
        IF pg_catalog.jsonb_typeof(p_value) IS DISTINCT FROM 'string' OR (p_value #>> '{}') !~ '^[A-Z]{3}$' THEN
            RAISE EXCEPTION 'setting "%" must be a three-letter ISO 4217 code such as "CNY", got %', p_key, p_value
                USING ERRCODE = '22023';
        END IF;
        RETURN p_value;
    ELSE
        RETURN fieldops.work_schedule_normalize(p_value);
    END IF;
END
$$;
COMMENT ON FUNCTION fieldops.validate_setting(text, jsonb) IS
'Check one tenant setting against fieldops.setting_def and return its canonical value; raises 22023 naming the key and the accepted range.';

CREATE FUNCTION fieldops.merge_settings(p_current jsonb, p_changes jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
DECLARE
    k text;
    v jsonb;
    result jsonb := COALESCE(p_current, '{}');
BEGIN
    IF p_changes IS NULL THEN
        RETURN result;
    END IF;
    IF pg_catalog.jsonb_typeof(p_changes) IS DISTINCT FROM 'object' THEN
        RAISE EXCEPTION 'p_settings must be a JSON object of setting names to values, got %', pg_catalog.jsonb_typeof(p_changes)
            USING ERRCODE = '22023';
    END IF;
    FOR k, v IN SELECT * FROM pg_catalog.jsonb_each(p_changes) LOOP
        IF pg_catalog.jsonb_typeof(v) = 'null' THEN
            PERFORM fieldops.validate_setting(k, NULL);   -- still refuses unknown keys
            result := result OPERATOR(pg_catalog.-) k;
        ELSE
            result := result OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object(k, fieldops.validate_setting(k, v));
        END IF;
    END LOOP;
    RETURN result;
END
$$;
COMMENT ON FUNCTION fieldops.merge_settings(jsonb, jsonb) IS
'Apply validated setting changes to a settings object; a JSON null value removes the override (back to the default).';

CREATE FUNCTION fieldops.check_time_zone(p_time_zone text)
RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
BEGIN
    IF p_time_zone IS NULL
       OR NOT EXISTS (SELECT 1 FROM pg_catalog.pg_timezone_names WHERE name OPERATOR(pg_catalog.=) p_time_zone)
       OR p_time_zone ~ '^(posix/|right/)' THEN
        RAISE EXCEPTION 'p_time_zone must be an IANA time zone name such as ''Asia/Shanghai'', got %',
            COALESCE(pg_catalog.quote_literal(p_time_zone), 'NULL')
            USING ERRCODE = '22023',
                  HINT = 'Abbreviations and offsets (CST, UTC+8) are ambiguous and are not accepted.';
    END IF;
    RETURN p_time_zone;
END
$$;
COMMENT ON FUNCTION fieldops.check_time_zone(text) IS
'Accept only IANA zone names known to the server; raises 22023 otherwise.';

--
-- Administration (fieldops_admin)
--

CREATE FUNCTION fieldops.create_tenant(p_name text, p_time_zone text DEFAULT 'Asia/Shanghai', p_settings jsonb DEFAULT '{}')
RETURNS bigint
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    v_id bigint;
BEGIN
    INSERT INTO fieldops.tenant (name, time_zone, settings)
    VALUES (fieldops.check_text(p_name, 'p_name'),
            fieldops.check_time_zone(p_time_zone),
            fieldops.merge_settings('{}', p_settings))
    RETURNING tenant_id INTO v_id;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION fieldops.create_tenant(text, text, jsonb) IS
'Administrators: create a tenant and return its id. Settings are validated against fieldops.setting_def.';

CREATE FUNCTION fieldops.alter_tenant(p_tenant_id bigint, p_name text DEFAULT NULL, p_time_zone text DEFAULT NULL,
                                      p_settings jsonb DEFAULT NULL, p_status text DEFAULT NULL)
RETURNS fieldops.tenant
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    t fieldops.tenant;
BEGIN
    IF p_status IS NOT NULL AND p_status NOT IN ('active', 'suspended') THEN
        RAISE EXCEPTION 'p_status must be ''active'' or ''suspended'', got %', pg_catalog.quote_literal(p_status)
            USING ERRCODE = '22023';
    END IF;
    SELECT * INTO t FROM fieldops.tenant WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'tenant % does not exist', p_tenant_id USING ERRCODE = '42704';
    END IF;
    UPDATE fieldops.tenant
       SET name = CASE WHEN p_name IS NULL THEN name ELSE fieldops.check_text(p_name, 'p_name') END,
           time_zone = CASE WHEN p_time_zone IS NULL THEN time_zone ELSE fieldops.check_time_zone(p_time_zone) END,
           settings = fieldops.merge_settings(settings, p_settings),
           status = COALESCE(p_status, status),
           updated_at = pg_catalog.now()
     WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id
    RETURNING * INTO t;
    RETURN t;
END
$$;
COMMENT ON FUNCTION fieldops.alter_tenant(bigint, text, text, jsonb, text) IS
'Administrators: rename a tenant, change its time zone or status, or merge setting changes (a JSON null restores a default).';

CREATE FUNCTION fieldops.grant_tenant_access(p_role regrole, p_tenant_id bigint)
RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
    IF p_role IS NULL THEN
        RAISE EXCEPTION 'p_role must not be null' USING ERRCODE = '22004';
    END IF;
    IF p_tenant_id IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM fieldops.tenant WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id) THEN
        RAISE EXCEPTION 'tenant % does not exist', p_tenant_id USING ERRCODE = '42704';
    END IF;
    INSERT INTO fieldops.tenant_access (role_name, tenant_id)
    SELECT rolname, p_tenant_id FROM pg_catalog.pg_roles WHERE oid OPERATOR(pg_catalog.=) p_role
    ON CONFLICT DO NOTHING;
END
$$;
COMMENT ON FUNCTION fieldops.grant_tenant_access(regrole, bigint) IS
'Administrators: let p_role (and roles with its privileges) choose tenant p_tenant_id; NULL means every tenant.';

CREATE FUNCTION fieldops.revoke_tenant_access(p_role regrole, p_tenant_id bigint)
RETURNS boolean
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    n integer;
BEGIN
    IF p_role IS NULL THEN
        RAISE EXCEPTION 'p_role must not be null' USING ERRCODE = '22004';
    END IF;
    DELETE FROM fieldops.tenant_access a
     USING pg_catalog.pg_roles r
     WHERE r.oid OPERATOR(pg_catalog.=) p_role
       AND a.role_name OPERATOR(pg_catalog.=) r.rolname
       AND a.tenant_id IS NOT DISTINCT FROM p_tenant_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n OPERATOR(pg_catalog.>) 0;
END
$$;
COMMENT ON FUNCTION fieldops.revoke_tenant_access(regrole, bigint) IS
'Administrators: withdraw a grant made with grant_tenant_access(); returns whether one existed.';

--
-- Reading a tenant's settings and calendar
--

CREATE FUNCTION fieldops.tenant_setting(p_tenant_id bigint, p_key text)
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
DECLARE
    v jsonb;
    found_tenant boolean;
BEGIN
    SELECT t.settings -> p_key, true INTO v, found_tenant
      FROM fieldops.tenant t WHERE t.tenant_id OPERATOR(pg_catalog.=) p_tenant_id;
    IF found_tenant IS NULL THEN
        RAISE EXCEPTION 'tenant % does not exist or is not visible to this session', p_tenant_id
            USING ERRCODE = '42704', HINT = 'Call fieldops.set_tenant() first.';
    END IF;
    IF v IS NULL THEN
        SELECT d.default_value INTO v FROM fieldops.setting_def d WHERE d.key OPERATOR(pg_catalog.=) p_key;
        IF NOT FOUND THEN
            PERFORM fieldops.validate_setting(p_key, NULL);  -- raises the unknown-key error
        END IF;
    END IF;
    RETURN v;
END
$$;
COMMENT ON FUNCTION fieldops.tenant_setting(bigint, text) IS
'The value of one setting for a tenant: its override or the default from fieldops.setting_def.';

CREATE FUNCTION fieldops.tenant_time_zone(p_tenant_id bigint)
RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
DECLARE
    tz text;
BEGIN
    SELECT t.time_zone INTO tz FROM fieldops.tenant t WHERE t.tenant_id OPERATOR(pg_catalog.=) p_tenant_id;
    IF tz IS NULL THEN
        RAISE EXCEPTION 'tenant % does not exist or is not visible to this session', p_tenant_id
            USING ERRCODE = '42704', HINT = 'Call fieldops.set_tenant() first.';
    END IF;
    RETURN tz;
END
$$;
COMMENT ON FUNCTION fieldops.tenant_time_zone(bigint) IS 'The IANA time zone that defines the tenant''s days.';

CREATE FUNCTION fieldops.tenant_local_date(p_tenant_id bigint, p_at timestamptz DEFAULT pg_catalog.now())
RETURNS date
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT (p_at AT TIME ZONE fieldops.tenant_time_zone(p_tenant_id))::date
$$;
COMMENT ON FUNCTION fieldops.tenant_local_date(bigint, timestamptz) IS
'The tenant-local calendar date of an instant (today by default).';
