--
-- test/bench/pool_gen.sql — the input of test/bench/pool_bench.sh: one
-- tenant with W workers and N customers in a state the customer pool's
-- ledger accepts (check_pool_invariants() is empty afterwards; the bench
-- checks it), in a fresh database with CREATE EXTENSION fieldops done.
--
-- Not run by itself: pool_bench.sh feeds it to psql (as a superuser) with
-- the variables
--
--   customers   N                                           (1000000)
--   workers     W                                           (2000)
--   seed        setseed() argument, in [-1, 1]              (0.6)
--
-- What it makes (every draw from one setseed(), in a fixed order):
--
--   the tenant   "pool bench", Asia/Shanghai; 4 regions R1-R4 (the
--                quadrants around People's Square); W workers BP00001 ...
--                (fieldops.upsert_worker), worker i in region 1 + i mod 4;
--   the pool     BENCH (fieldops.create_pool, rules from the start):
--                no_followup_days 30, warn_days 3, no_deal_days off,
--                window 00:00-00:00 (all day), daily_claim_limit 100000,
--                hold_limit 10000000, cooldown_days 7, protect_minutes 0,
--                claim_scope any, the exclusions at their defaults (locked
--                and won customers are never released);
--   N customers  C0000001 ... in pool BENCH as their home pool, by number
--                n (no spatial correlation: positions are drawn apart):
--                  n mod 10 in (0, 1)   20 % pooled, pooled_since 0-100
--                                       days ago;
--                  n mod 10 = 3         10 % owned and STALE: owned since
--                                       31-400 days ago, last follow-up
--                                       none (half) or 31 days ago up to
--                                       then, never locked, no deal: the
--                                       release of exactly N / 10
--                                       customers (N a multiple of 10);
--                  otherwise            70 % owned and fresh: owned since
--                                       0-400 days ago, last follow-up
--                                       0-26 days ago (none is inside the
--                                       3-day warning period: the release
--                                       warns nobody), 5 % locked, 10 %
--                                       with a won deal;
--                owner: a uniformly drawn worker; level A 10 %, B 30 %,
--                C 60 %; region: the quadrant of the position;
--                position (WGS-84, 6 decimals): 40 % uniform in the 12 x
--                12 km core around (121.4737 E, 31.2304 N), 60 % normal
--                around it with a standard deviation of 15 km per axis,
--                clipped to +-60 km (a metropolis: dense centre, suburbs);
--   the ledger   written as the API would have left it, by direct
--                INSERTs (superuser; a million API calls would take the
--                better part of an hour): one open customer_ownership row
--                per owned customer (start_reason assigned, started at
--                owned_since), one pool_event per customer (kind created,
--                its owner or pool) and one warned event per stale
--                customer (at its warned_at), worker_holding rows with
--                each worker's count.
--   bench.*      bench.config (tenant, pool, counts), bench.pooled (n ->
--                customer_id of the pooled customers, for drawing claims),
--                bench.worker (n -> worker_id), bench.tile (the zoom-14
--                tiles holding customers, with their counts).
--

\set ON_ERROR_STOP 1
SET client_min_messages = warning;
CREATE SCHEMA bench;

SELECT fieldops.create_tenant('pool bench', 'Asia/Shanghai') AS tenant \gset
SELECT fieldops.set_tenant(:tenant, false);
CREATE TABLE bench.region AS
SELECT q, fieldops.upsert_region(:tenant, 'R' || q, 'Quadrant ' || q) AS region_id FROM generate_series(1, 4) q;
SELECT fieldops.create_pool(:tenant, 'BENCH', 'Bench pool', NULL, NULL,
           jsonb_build_object('no_followup_days', 30, 'warn_days', 3, 'window_start', '00:00', 'window_end', '00:00',
                              'daily_claim_limit', 100000, 'hold_limit', 10000000, 'cooldown_days', 7,
                              'protect_minutes', 0, 'claim_scope', 'any')) AS pool \gset

-- workers, each in a region's team
CREATE TABLE bench.team AS
SELECT r.q, fieldops.upsert_team(:tenant, 'T' || r.q, 'Team ' || r.q, r.region_id) AS team_id FROM bench.region r;
CREATE TABLE bench.worker AS
SELECT i AS n, fieldops.upsert_worker(:tenant, format('BP%s', lpad(i::text, 5, '0')), format('Bench rep %s', i),
                                      (SELECT t.team_id FROM bench.team t WHERE t.q = 1 + i % 4)) AS worker_id
  FROM generate_series(1, :workers) i;
ALTER TABLE bench.worker ADD PRIMARY KEY (n);

-- the draws
SELECT setseed(:seed);
CREATE UNLOGGED TABLE bench.gen AS
SELECT n, random() AS u_core, random() AS u_x, random() AS u_y, random() AS u_x2, random() AS u_y2,
       random() AS u_owner, random() AS u_level, random() AS u_age, random() AS u_follow, random() AS u_lf,
       random() AS u_locked, random() AS u_deal
  FROM generate_series(1, :customers) n ORDER BY n;

CREATE UNLOGGED TABLE bench.cust AS
SELECT g.n,
       CASE WHEN g.n % 10 IN (0, 1) THEN 'pooled' WHEN g.n % 10 = 3 THEN 'stale' ELSE 'fresh' END AS kind,
       1 + least(floor(g.u_owner * :workers)::int, :workers - 1) AS owner_n,
       CASE WHEN g.u_level < 0.1 THEN 'A' WHEN g.u_level < 0.4 THEN 'B' ELSE 'C' END AS level,
       -- metres from the centre: the core uniform, the rest normal (Box-Muller), clipped
       CASE WHEN g.u_core < 0.4 THEN (g.u_x - 0.5) * 12000
            ELSE greatest(-60000, least(60000, 15000 * sqrt(-2 * ln(1 - g.u_x)) * cos(2 * pi() * g.u_y))) END AS dx,
       CASE WHEN g.u_core < 0.4 THEN (g.u_y - 0.5) * 12000
            ELSE greatest(-60000, least(60000, 15000 * sqrt(-2 * ln(1 - g.u_x)) * sin(2 * pi() * g.u_y))) END AS dy,
       g.u_age, g.u_follow, g.u_lf, g.u_locked, g.u_deal
  FROM bench.gen g;

-- the customers, positions in degrees (one degree of latitude 111 km; of
-- longitude 111 km times the cosine of the latitude)
INSERT INTO fieldops.customer (tenant_id, external_ref, name, geom, level, category, region_id, owner_worker_id, owned_since,
                               pool_id, pooled_since, last_followup_at, last_deal_at, created_at, updated_at,
                               home_pool_id, locked, deal_state, warned_at)
SELECT :tenant, format('C%s', lpad(c.n::text, 7, '0')), format('Bench shop %s', c.n),
       ST_SetSRID(ST_MakePoint(round((121.4737 + c.dx / (111320 * cosd(31.2304)))::numeric, 6)::float8,
                               round((31.2304 + c.dy / 110574)::numeric, 6)::float8), 4326),
       c.level, 'retail',
       (SELECT r.region_id FROM bench.region r WHERE r.q = 1 + (c.dx >= 0)::int + 2 * (c.dy >= 0)::int),
       CASE WHEN c.kind <> 'pooled' THEN w.worker_id END,
       CASE WHEN c.kind <> 'pooled' THEN x.owned_since END,
       CASE WHEN c.kind = 'pooled' THEN :pool END,
       CASE WHEN c.kind = 'pooled' THEN now() - c.u_age * interval '100 days' END,
       y.last_followup_at,
       CASE WHEN c.kind = 'fresh' AND c.u_deal < 0.1 THEN now() - c.u_lf * interval '60 days' END,
       x.owned_since - interval '30 days', now(),
       :pool,
       c.kind = 'fresh' AND c.u_locked < 0.05,
       CASE WHEN c.kind = 'fresh' AND c.u_deal < 0.1 THEN 'won' ELSE 'none' END,
       CASE WHEN c.kind = 'stale' THEN GREATEST(x.owned_since, y.last_followup_at) + interval '27 days' END
  FROM bench.cust c
  JOIN bench.worker w ON w.n = c.owner_n
 CROSS JOIN LATERAL (SELECT CASE c.kind WHEN 'stale' THEN now() - interval '31 days' - c.u_age * interval '369 days'
                                        ELSE now() - c.u_age * interval '400 days' END AS owned_since) x
CROSS JOIN LATERAL (SELECT CASE WHEN c.kind = 'fresh' THEN now() - c.u_lf * interval '26 days'
                                 WHEN c.kind = 'stale' AND c.u_follow >= 0.5
                                 THEN now() - interval '31 days' - c.u_lf * (now() - interval '31 days' - x.owned_since) END
                            AS last_followup_at) y
 ORDER BY c.n;

-- the ledger as the API leaves it
INSERT INTO fieldops.customer_ownership (tenant_id, customer_id, worker_id, started_at, start_reason)
SELECT tenant_id, customer_id, owner_worker_id, owned_since, 'assigned'
  FROM fieldops.customer WHERE tenant_id = :tenant AND owner_worker_id IS NOT NULL ORDER BY customer_id;
INSERT INTO fieldops.pool_event (tenant_id, customer_id, at, kind, pool_id, worker_id, actor)
SELECT tenant_id, customer_id, created_at, 'created', pool_id, owner_worker_id, 'bench:pool_gen'
  FROM fieldops.customer WHERE tenant_id = :tenant ORDER BY customer_id;
INSERT INTO fieldops.pool_event (tenant_id, customer_id, at, kind, pool_id, worker_id, actor, rule, days, local_day)
SELECT tenant_id, customer_id, warned_at, 'warned', home_pool_id, owner_worker_id, 'bench:pool_gen', 'no_followup', 3,
       fieldops.tenant_local_date(tenant_id, warned_at)
  FROM fieldops.customer WHERE tenant_id = :tenant AND warned_at IS NOT NULL ORDER BY customer_id;
INSERT INTO fieldops.worker_holding (tenant_id, worker_id, held)
SELECT :tenant, w.worker_id, count(c.customer_id)
  FROM bench.worker w LEFT JOIN fieldops.customer c ON c.tenant_id = :tenant AND c.owner_worker_id = w.worker_id
 GROUP BY w.worker_id
ON CONFLICT (tenant_id, worker_id) DO UPDATE SET held = excluded.held;

-- what the bench draws from
CREATE TABLE bench.pooled AS
SELECT row_number() OVER (ORDER BY customer_id) AS n, customer_id
  FROM fieldops.customer WHERE tenant_id = :tenant AND pool_id IS NOT NULL;
ALTER TABLE bench.pooled ADD PRIMARY KEY (n);
CREATE TABLE bench.tile AS
SELECT row_number() OVER (ORDER BY x, y) AS n, 14 AS z, x, y, customers
  FROM (SELECT floor((ST_X(geom) + 180) / 360 * 16384)::int AS x,
               floor((1 - ln(tan(radians(ST_Y(geom))) + 1 / cos(radians(ST_Y(geom)))) / pi()) / 2 * 16384)::int AS y,
               count(*) AS customers
          FROM fieldops.customer WHERE tenant_id = :tenant GROUP BY 1, 2) t;
ALTER TABLE bench.tile ADD PRIMARY KEY (n);
CREATE TABLE bench.config AS
SELECT :tenant::bigint AS tenant_id, :pool::bigint AS pool_id,
       (SELECT count(*) FROM fieldops.customer WHERE tenant_id = :tenant) AS customers,
       (SELECT count(*) FROM bench.worker) AS workers,
       (SELECT count(*) FROM bench.pooled) AS pooled,
       (SELECT count(*) FROM fieldops.customer WHERE tenant_id = :tenant AND owner_worker_id IS NOT NULL
           AND idle_since < now() - interval '30 days' AND NOT locked AND deal_state <> 'won') AS stale,
       (SELECT count(*) FROM bench.tile) AS tiles;
DROP TABLE bench.gen, bench.cust;
VACUUM (ANALYZE);
