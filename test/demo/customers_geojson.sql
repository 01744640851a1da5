--
-- test/demo/customers_geojson.sql — the tenant's customers as one GeoJSON
-- FeatureCollection, coloured by owner or pool, for any map that reads
-- GeoJSON (geojson.io, QGIS, Leaflet, MapLibre, GitHub's preview).
--
--   psql -X -q -At -v tenant=<tenant id> -f test/demo/customers_geojson.sql <database> > customers.geojson
--
-- make demo writes it to .demo/customers.geojson.  The features are what
-- fieldops.customers_geojson() returns for the bounding box of the tenant's
-- customers (at most 10 000, its limit), with these properties added here
-- (the function gives only ids for pool and owner's team):
--   owner_or_pool   the owner's name, or "pool <code>" for a pooled customer
--   pool_code, pool_name           the pool it lies in (pooled customers)
--   home_pool_code  the pool it returns to when released
--   team            the owner's team code
--   category        the customer's category
--   marker-color    a colour per owner (a 19-colour palette taken in the order
--                   of team and worker, so that members of a team differ),
--                   grey for the default pool, black, then browns for the
--                   other pools (simplestyle-spec 1.1.0)
--   marker-size     large for level A, medium for B, small otherwise
--   title, description              for the map's pop-up
-- and a foreign member "legend" (RFC 7946 section 6.1): one entry per owner
-- and pool with its colour and number of customers.  One feature per line.
-- Read-only; chooses the tenant for its transaction only.
--
\set ON_ERROR_STOP on
\pset format unaligned
\pset tuples_only on
\pset footer off
BEGIN;
SELECT fieldops.set_tenant(:tenant) AS tenant_chosen \gset
WITH ext AS (
    SELECT ST_Extent(c.geom)::geometry AS e FROM fieldops.customer c WHERE c.tenant_id = :tenant
), box AS (
    -- a little margin: the box must not be flat, and the corner customers lie inside
    SELECT greatest(-180, ST_XMin(e) - 0.001) AS w, greatest(-90, ST_YMin(e) - 0.001) AS s,
           least(180, ST_XMax(e) + 0.001) AS e, least(90, ST_YMax(e) + 0.001) AS n
      FROM ext WHERE e IS NOT NULL
), fc AS (
    SELECT fieldops.customers_geojson(:tenant, box.w, box.s, box.e, box.n, 10000) AS g FROM box
), owners AS (
    SELECT w.worker_id, w.name, t.code AS team,
           (ARRAY['#e6194b', '#3cb44b', '#4363d8', '#f58231', '#911eb4', '#42d4f4', '#f032e6', '#bfef45', '#469990',
                  '#9a6324', '#800000', '#808000', '#000075', '#ffe119', '#fabed4', '#dcbeff', '#aaffc3', '#ffd8b1',
                  '#fffac8'])[(row_number() OVER (ORDER BY t.code, w.worker_id) - 1) % 19 + 1] AS colour
      FROM fieldops.worker w
      LEFT JOIN fieldops.team t ON t.tenant_id = w.tenant_id AND t.team_id = w.team_id
     WHERE w.tenant_id = :tenant
       AND EXISTS (SELECT 1 FROM fieldops.customer c WHERE c.tenant_id = w.tenant_id AND c.owner_worker_id = w.worker_id)
), pools AS (
    SELECT p.pool_id, p.code, p.name,
           CASE WHEN p.is_default THEN '#a9a9a9'
                ELSE (ARRAY['#000000', '#6d4c41', '#a1887f', '#3e2723'])[(row_number() OVER (PARTITION BY p.is_default ORDER BY p.pool_id) - 1) % 4 + 1]
           END AS colour
      FROM fieldops.customer_pool p WHERE p.tenant_id = :tenant
), feat AS (
    SELECT (f -> 'properties' ->> 'customer_id')::bigint AS id, COALESCE(o.colour, p.colour) AS colour,
           COALESCE(o.name || ' (' || COALESCE(o.team, 'no team') || ')', 'pool ' || p.code) AS label,
           jsonb_set(f, '{properties}', (f -> 'properties') || jsonb_strip_nulls(jsonb_build_object(
               'owner_or_pool', COALESCE(o.name, 'pool ' || p.code),
               'pool_code', p.code, 'pool_name', p.name, 'home_pool_code', hp.code,
               'team', o.team, 'category', c.category,
               'marker-color', COALESCE(o.colour, p.colour),
               'marker-size', CASE f -> 'properties' ->> 'level' WHEN 'A' THEN 'large' WHEN 'B' THEN 'medium' ELSE 'small' END,
               'title', f -> 'properties' ->> 'name',
               'description', concat_ws(' · ', COALESCE('owner ' || o.name, 'in pool ' || p.code || ' ' || p.name),
                                        'level ' || (f -> 'properties' ->> 'level'), c.category)))) AS feature
      FROM fc
     CROSS JOIN LATERAL jsonb_array_elements(fc.g -> 'features') AS f
      LEFT JOIN owners o ON o.worker_id = (f -> 'properties' ->> 'owner_worker_id')::bigint
      LEFT JOIN pools p ON p.pool_id = (f -> 'properties' ->> 'pool_id')::bigint
      LEFT JOIN fieldops.customer c ON c.tenant_id = :tenant AND c.customer_id = (f -> 'properties' ->> 'customer_id')::bigint
      LEFT JOIN pools hp ON hp.pool_id = c.home_pool_id
), legend AS (
    SELECT jsonb_agg(jsonb_build_object('label', label, 'marker-color', colour, 'customers', n) ORDER BY pooled DESC, label) AS l
      FROM (SELECT label, colour, count(*) AS n, bool_or(label LIKE 'pool %') AS pooled FROM feat GROUP BY label, colour) x
)
SELECT '{"type": "FeatureCollection",' || E'\n'
       || '"name": ' || to_jsonb((SELECT t.name FROM fieldops.tenant t WHERE t.tenant_id = :tenant) || ': customers by owner or pool')::text || ',' || E'\n'
       || '"legend": ' || COALESCE((SELECT l FROM legend), '[]')::text || ',' || E'\n'
       || '"features": [' || E'\n'
       || COALESCE((SELECT string_agg(feature::text, E',\n' ORDER BY id) FROM feat), '')
       || E'\n]}';
COMMIT;
