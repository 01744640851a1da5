--
-- customer: customers with validated WGS-84 positions, upsert by CRM
-- reference, owner or pool (never both), and a GiST index for the map.
--
\set SHOW_CONTEXT never
SET datestyle = 'ISO, YMD';
SET timezone = 'UTC';
SELECT tenant_id AS acme FROM fieldops.tenant WHERE name = 'Acme Shanghai' \gset
SELECT fieldops.set_tenant(:acme, false) IS NOT NULL AS acme_chosen;
SELECT worker_id AS zhang FROM fieldops.worker WHERE external_ref = 'E102' \gset
SELECT worker_id AS liu FROM fieldops.worker WHERE external_ref = 'E103' \gset
SELECT region_id AS pd FROM fieldops.region WHERE code = 'SH-PD' \gset

SELECT fieldops.upsert_customer(:acme, 'CRM-0001', '全家 FamilyMart 世纪大道店', ST_SetSRID(ST_MakePoint(121.5273, 31.2288), 4326),
                                '浦东新区世纪大道 100 号', 'A', 'convenience', :pd, :zhang) AS c1 \gset
SELECT fieldops.upsert_customer(:acme, 'CRM-0002', '联华超市 Lianhua', ST_GeomFromText('POINT(121.5400 31.2200)', 4326),
                                p_level => 'B', p_category => 'supermarket') AS c2 \gset
-- position unknown yet
SELECT fieldops.upsert_customer(:acme, 'CRM-0003', '老百姓大药房', NULL) AS c3 \gset

-- positions: SRID 4326 points with valid longitude/latitude only
SELECT fieldops.upsert_customer(:acme, 'CRM-9', 'x', ST_MakePoint(121.5, 31.2));
SELECT fieldops.upsert_customer(:acme, 'CRM-9', 'x', ST_Transform(ST_SetSRID(ST_MakePoint(121.5, 31.2), 4326), 3857));
SELECT fieldops.upsert_customer(:acme, 'CRM-9', 'x', ST_SetSRID(ST_MakePoint(31.2, 121.5), 4326));
SELECT fieldops.upsert_customer(:acme, 'CRM-9', 'x', ST_SetSRID(ST_MakePoint(0, 0), 4326));
SELECT fieldops.upsert_customer(:acme, 'CRM-9', 'x', ST_SetSRID(ST_MakeLine(ST_MakePoint(121, 31), ST_MakePoint(121.1, 31)), 4326));
SELECT fieldops.upsert_customer(:acme, 'CRM-9', 'x', ST_SetSRID('POINT EMPTY'::geometry, 4326));
SELECT fieldops.upsert_customer(:acme, 'CRM-9', 'x', ST_SetSRID(ST_MakePoint('NaN'::float8, 31), 4326));
SELECT fieldops.upsert_customer(:acme, 'CRM-9', 'x', p_level => 'gold');
SELECT fieldops.upsert_customer(:acme, 'CRM-9', 'x', p_region_id => 987654);
SELECT fieldops.upsert_customer(:acme, 'CRM-9', 'x', p_owner_worker_id => 987654);
SELECT fieldops.upsert_customer(:acme, 'CRM-9', 'x', p_owner_worker_id => :liu);   -- Liu has left
SELECT fieldops.upsert_customer(:acme, NULL, 'x');
SELECT count(*) FILTER (WHERE external_ref = 'CRM-9') AS crm9_rows FROM fieldops.customer;

-- a 3D point is stored as 2D
SELECT fieldops.upsert_customer(:acme, 'CRM-0004', 'Z shop', ST_SetSRID(ST_MakePoint(121.48, 31.24, 12.5), 4326)) AS c4 \gset
SELECT ST_AsText(geom) FROM fieldops.customer WHERE customer_id = :c4;

-- update keeps what is not given; the position can be set later
SELECT fieldops.upsert_customer(:acme, 'CRM-0003', '老百姓大药房 (陆家嘴店)', ST_SetSRID(ST_MakePoint(121.5055, 31.2397), 4326)) = :c3 AS same_customer;
SELECT external_ref, name, ST_AsText(geom) AS geom, level, category, owner_worker_id = :zhang AS zhang_owns, owned_since IS NOT NULL AS owned
  FROM fieldops.customer ORDER BY external_ref;

-- owner or pool, never both (the pool module moves customers between them)
\set VERBOSITY terse
UPDATE fieldops.customer SET pool_id = 1, pooled_since = now() WHERE customer_id = :c1;
UPDATE fieldops.customer SET owner_worker_id = NULL WHERE customer_id = :c1;
\set VERBOSITY default
-- changing the owner through the API records the change
SELECT worker_id AS boss FROM fieldops.worker WHERE external_ref = 'E100' \gset
SELECT fieldops.upsert_customer(:acme, 'CRM-0002', '联华超市 Lianhua', p_owner_worker_id => :boss) = :c2 AS owner_set;
SELECT topic, payload ? 'previous_owner_worker_id' AS has_previous FROM fieldops.outbox
 WHERE aggregate_type = 'customer' ORDER BY event_id;

-- a leaver's customers go to the leaver's manager (the default pool rule
-- owner_left); without an active manager they go back to their pool
SELECT fieldops.upsert_worker(:acme, 'E110', '周杰 Zhou Jie', p_manager_id => :boss) AS zhou \gset
SELECT fieldops.upsert_worker(:acme, 'E111', '吴芳 Wu Fang') AS wu \gset
SELECT fieldops.upsert_customer(:acme, 'CRM-01' || i, 'Shop ' || i, p_owner_worker_id => CASE WHEN i <= 3 THEN :zhou ELSE :wu END) > 0 AS created
  FROM generate_series(1, 5) i;
SELECT fieldops.worker_leave(:acme, :zhou, '2026-11-02') - 'left_on' AS zhou_leaves;
SELECT fieldops.worker_leave(:acme, :wu, '2026-11-02') - 'left_on' AS wu_leaves;
SELECT owner_worker_id = :boss AS to_boss, owner_worker_id = :wu AS kept_by_wu, count(*)
  FROM fieldops.customer WHERE external_ref LIKE 'CRM-01_' GROUP BY 1, 2 ORDER BY 1, 2;
SELECT topic, count(*) AS owner_left_events FROM fieldops.outbox
 WHERE topic IN ('customer.transferred', 'customer.released') AND payload ->> 'rule' = 'owner_left' GROUP BY 1 ORDER BY 1;

-- nearest customers use the GiST index (the sample is tiny, so tell the planner)
SET enable_seqscan = off;
SET enable_sort = off;
EXPLAIN (COSTS OFF)
SELECT customer_id FROM fieldops.customer
 WHERE tenant_id = :acme ORDER BY geom <-> ST_SetSRID(ST_MakePoint(121.5, 31.23), 4326) LIMIT 2;
RESET enable_seqscan;
RESET enable_sort;
SELECT external_ref, round(ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint(121.5, 31.23), 4326)::geography)) AS metres
  FROM fieldops.customer WHERE geom IS NOT NULL
 ORDER BY geom <-> ST_SetSRID(ST_MakePoint(121.5, 31.23), 4326) LIMIT 3;
RESET ALL;
