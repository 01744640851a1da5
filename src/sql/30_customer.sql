--
-- Customers: the shops, sites and accounts field workers visit.  The pool
-- columns (owner, pool, follow-up) are filled by the customer-pool module;
-- here they are only kept consistent.
--

CREATE TABLE fieldops.customer (
    tenant_id         bigint NOT NULL REFERENCES fieldops.tenant (tenant_id),
    customer_id       bigserial NOT NULL,
    external_ref      text,
    name              text NOT NULL,
    address           text,
    geom              geometry(Point, 4326),
    level             text CHECK (level ~ '^[A-Z0-9]{1,8}$'),
    category          text,
    region_id         bigint,
    owner_worker_id   bigint,
    owned_since       timestamptz,
    pool_id           bigint,
    pooled_since      timestamptz,
    last_followup_at  timestamptz,
    last_deal_at      timestamptz,
    status            text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'closed')),
    created_at        timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at        timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (tenant_id, customer_id),
    UNIQUE (tenant_id, external_ref),
    FOREIGN KEY (tenant_id, region_id) REFERENCES fieldops.region (tenant_id, region_id),
    FOREIGN KEY (tenant_id, owner_worker_id) REFERENCES fieldops.worker (tenant_id, worker_id),
    CONSTRAINT customer_owner_or_pool CHECK (owner_worker_id IS NULL OR pool_id IS NULL),
    CONSTRAINT customer_owned_since CHECK ((owner_worker_id IS NULL) = (owned_since IS NULL)),
    CONSTRAINT customer_pooled_since CHECK ((pool_id IS NULL) = (pooled_since IS NULL))
);
CREATE INDEX customer_geom_idx ON fieldops.customer USING gist (geom);
CREATE INDEX customer_owner_idx ON fieldops.customer (tenant_id, owner_worker_id);
CREATE INDEX customer_region_idx ON fieldops.customer (tenant_id, region_id);
COMMENT ON TABLE fieldops.customer IS
'Customers with their position (WGS-84 point), level (A, B, ...), region and either an owner (a worker) or a pool, never both.';

CREATE FUNCTION fieldops.check_point(p_geom geometry, p_arg text)
RETURNS geometry
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
    x float8;
    y float8;
BEGIN
    IF p_geom IS NULL THEN
        RETURN NULL;
    END IF;
    IF ST_SRID(p_geom) OPERATOR(pg_catalog.<>) 4326 THEN
        RAISE EXCEPTION '% must be in SRID 4326 (WGS-84 longitude/latitude), got SRID %', p_arg, ST_SRID(p_geom)
            USING ERRCODE = '22023',
                  HINT = 'Use ST_SetSRID(ST_MakePoint(lon, lat), 4326), or ST_Transform(geom, 4326). Coordinates from Chinese map SDKs (GCJ-02) must be converted first.';
    END IF;
    IF GeometryType(p_geom) OPERATOR(pg_catalog.<>) 'POINT' OR ST_IsEmpty(p_geom) THEN
        RAISE EXCEPTION '% must be a non-empty POINT, got %', p_arg,
            CASE WHEN ST_IsEmpty(p_geom) THEN 'an empty ' ELSE '' END || GeometryType(p_geom) USING ERRCODE = '22023';
    END IF;
    x := ST_X(p_geom);
    y := ST_Y(p_geom);
    IF x IS NULL OR y IS NULL OR x::text IN ('NaN', 'Infinity', '-Infinity') OR y::text IN ('NaN', 'Infinity', '-Infinity')
       OR x NOT BETWEEN -180 AND 180 OR y NOT BETWEEN -90 AND 90 THEN
        RAISE EXCEPTION '% must have longitude in [-180, 180] and latitude in [-90, 90], got (%, %)', p_arg, x, y
            USING ERRCODE = '22023', HINT = 'ST_MakePoint takes longitude first.';
    END IF;
    IF x OPERATOR(pg_catalog.=) 0 AND y OPERATOR(pg_catalog.=) 0 THEN
        RAISE EXCEPTION '% is (0, 0), which is what a device reports when it has no position', p_arg
            USING ERRCODE = '22023';
    END IF;
    RETURN ST_SetSRID(ST_MakePoint(x, y), 4326);
END
$$;
COMMENT ON FUNCTION fieldops.check_point(geometry, text) IS
'Check a position argument: a 2D WGS-84 (SRID 4326) point with valid longitude/latitude and not (0, 0); raises 22023 naming p_arg.';

CREATE FUNCTION fieldops.upsert_customer(p_tenant_id bigint, p_external_ref text, p_name text,
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
    v_created boolean;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    PERFORM fieldops.check_code(p_external_ref, 'p_external_ref');
    IF p_level IS NOT NULL AND p_level !~ '^[A-Z0-9]{1,8}$' THEN
        RAISE EXCEPTION 'p_level must be 1 to 8 upper-case letters or digits (A, B, VIP), got "%"', pg_catalog.left(p_level, 20)
            USING ERRCODE = '22023';
    END IF;
    PERFORM fieldops.check_reference(p_tenant_id, 'region', p_region_id, 'p_region_id');
    IF p_owner_worker_id IS NOT NULL THEN
        PERFORM fieldops.lock_active_worker(p_tenant_id, p_owner_worker_id, 'p_owner_worker_id');
    END IF;

    INSERT INTO fieldops.customer (tenant_id, external_ref, name)
    VALUES (p_tenant_id, p_external_ref, fieldops.check_text(p_name, 'p_name'))
    ON CONFLICT (tenant_id, external_ref) DO NOTHING;
    v_created := FOUND;
    SELECT * INTO c FROM fieldops.customer
     WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND external_ref OPERATOR(pg_catalog.=) p_external_ref
       FOR NO KEY UPDATE;

    UPDATE fieldops.customer
       SET name = fieldops.check_text(p_name, 'p_name'),
           geom = COALESCE(v_geom, geom),
           address = COALESCE(fieldops.check_text(p_address, 'p_address', 500, false), address),
           level = COALESCE(p_level, level),
           category = COALESCE(fieldops.check_text(p_category, 'p_category', 100, false), category),
           region_id = COALESCE(p_region_id, region_id),
           owner_worker_id = COALESCE(p_owner_worker_id, owner_worker_id),
           owned_since = CASE WHEN p_owner_worker_id IS NULL THEN owned_since
                              WHEN owner_worker_id IS NOT DISTINCT FROM p_owner_worker_id THEN owned_since
                              ELSE v_now END,
           pool_id = CASE WHEN p_owner_worker_id IS NULL THEN pool_id END,
           pooled_since = CASE WHEN p_owner_worker_id IS NULL THEN pooled_since END,
           updated_at = v_now
     WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND customer_id OPERATOR(pg_catalog.=) c.customer_id;

    IF v_created THEN
        PERFORM fieldops.emit_event(p_tenant_id, 'customer.created', 'customer', c.customer_id,
                                    pg_catalog.jsonb_build_object('external_ref', p_external_ref, 'owner_worker_id', p_owner_worker_id));
    ELSIF p_owner_worker_id IS NOT NULL AND c.owner_worker_id IS DISTINCT FROM p_owner_worker_id THEN
        PERFORM fieldops.emit_event(p_tenant_id, 'customer.owner_changed', 'customer', c.customer_id,
                                    pg_catalog.jsonb_build_object('owner_worker_id', p_owner_worker_id,
                                                                  'previous_owner_worker_id', c.owner_worker_id,
                                                                  'previous_pool_id', c.pool_id));
    END IF;
    RETURN c.customer_id;
END
$$;
COMMENT ON FUNCTION fieldops.upsert_customer(bigint, text, text, geometry, text, text, text, bigint, bigint) IS
'Create or update the customer with this CRM reference; returns customer_id. p_location is a WGS-84 point; on update a NULL argument keeps the current value. Events customer.created, customer.owner_changed.';
