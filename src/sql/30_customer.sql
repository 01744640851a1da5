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

-- (upsert_customer: src/sql/32_pool.sql, changed in 0.2.0 to keep the pool's ledger)
