--
-- pool: the public customer pool (公海池) -- claims and each refusal, batch
-- claims, releases, transfers, follow-ups, rule versions, the release job
-- (warnings, exclusions, windows, a follow-up that wins), a worker who
-- leaves, the invariants (and that they catch a broken ledger), the map,
-- the 360° view, bad input and privileges.  A tenant of its own.
--
\set SHOW_CONTEXT never
SET datestyle = 'ISO, YMD';
SET timezone = 'UTC';
SELECT fieldops.create_tenant('Pool Test Co', 'Asia/Shanghai') AS pt \gset
SELECT fieldops.set_tenant(:pt, false) IS NOT NULL AS chosen;
SELECT fieldops.upsert_region(:pt, 'EAST', 'East') AS east \gset
SELECT fieldops.upsert_region(:pt, 'EAST-SH', 'Shanghai', :east) AS sh \gset
SELECT fieldops.upsert_region(:pt, 'NORTH', 'North') AS north \gset
SELECT fieldops.upsert_team(:pt, 'SH-SALES', 'Shanghai sales', :sh) AS shteam \gset
SELECT fieldops.upsert_worker(:pt, 'M1', 'Manager Ma') AS ma \gset
SELECT fieldops.upsert_worker(:pt, 'A1', 'Rep An', :shteam, :ma) AS an \gset
SELECT fieldops.upsert_worker(:pt, 'B1', 'Rep Bai', :shteam, :ma) AS bai \gset
SELECT fieldops.upsert_worker(:pt, 'C1', 'Rep Cao') AS cao \gset
SELECT fieldops.upsert_worker(:pt, 'L1', 'Rep Lin', :shteam, :ma) AS lin \gset
SELECT fieldops.upsert_worker(:pt, 'L2', 'Rep Lu') AS lu \gset

-- pools: the default one (made on first use) and two with their own rules
SELECT fieldops.create_pool(:pt, 'SH-POOL', 'Shanghai pool', :sh, NULL,
         '{"no_followup_days": 30, "warn_days": 5, "daily_claim_limit": 2, "hold_limit": 4, "cooldown_days": 7,
           "exclude_levels": ["VIP"], "window_start": "01:00", "window_end": "05:00"}') AS shpool \gset
SELECT fieldops.create_pool(:pt, 'SCOPED', 'Scoped pool', NULL, 'instruments',
         '{"claim_scope": "region", "protect_minutes": 60}') AS scoped \gset
SELECT code, is_default, region_id IS NOT NULL AS has_region FROM fieldops.customer_pool WHERE tenant_id = :pt ORDER BY pool_id;
SELECT p.code, r.effective_from, r.no_followup_days, r.warn_days, r.owner_left, r.daily_claim_limit, r.hold_limit, r.cooldown_days,
       r.protect_minutes, r.claim_scope, r.exclude_levels
  FROM fieldops.pool_rule r JOIN fieldops.customer_pool p USING (tenant_id, pool_id) WHERE r.tenant_id = :pt ORDER BY p.pool_id;

-- customers: ten in the Shanghai pool along a street, two in the scoped one
SELECT count(fieldops.upsert_customer(:pt, 'S' || i, 'Shop ' || i, ST_SetSRID(ST_MakePoint(121.47 + 0.001 * i, 31.23), 4326),
                                      p_level => CASE WHEN i = 9 THEN 'VIP' ELSE 'B' END, p_region_id => :sh)) AS shops
  FROM generate_series(1, 10) i;
SELECT customer_id AS s1 FROM fieldops.customer WHERE tenant_id = :pt AND external_ref = 'S1' \gset
SELECT customer_id AS s2 FROM fieldops.customer WHERE tenant_id = :pt AND external_ref = 'S2' \gset
SELECT customer_id AS s3 FROM fieldops.customer WHERE tenant_id = :pt AND external_ref = 'S3' \gset
SELECT customer_id AS s4 FROM fieldops.customer WHERE tenant_id = :pt AND external_ref = 'S4' \gset
SELECT customer_id AS s5 FROM fieldops.customer WHERE tenant_id = :pt AND external_ref = 'S5' \gset
SELECT customer_id AS s6 FROM fieldops.customer WHERE tenant_id = :pt AND external_ref = 'S6' \gset
SELECT customer_id AS s7 FROM fieldops.customer WHERE tenant_id = :pt AND external_ref = 'S7' \gset
SELECT customer_id AS s8 FROM fieldops.customer WHERE tenant_id = :pt AND external_ref = 'S8' \gset
SELECT customer_id AS s9 FROM fieldops.customer WHERE tenant_id = :pt AND external_ref = 'S9' \gset
SELECT customer_id AS s10 FROM fieldops.customer WHERE tenant_id = :pt AND external_ref = 'S10' \gset
SELECT count(*) AS moved_home FROM fieldops.customer c,
       LATERAL fieldops.set_customer_state(:pt, c.customer_id, p_home_pool_id => :shpool) s
 WHERE c.tenant_id = :pt AND c.external_ref LIKE 'S%';
SELECT fieldops.upsert_customer(:pt, 'Q1', 'Lab in Shanghai', ST_SetSRID(ST_MakePoint(121.50, 31.20), 4326), p_region_id => :sh) AS q1 \gset
SELECT fieldops.upsert_customer(:pt, 'Q2', 'Lab in the north', ST_SetSRID(ST_MakePoint(116.40, 39.90), 4326), p_region_id => :north) AS q2 \gset
SELECT (fieldops.set_customer_state(:pt, q, p_home_pool_id => :scoped)).pool_id = :scoped AS in_scoped
  FROM unnest(ARRAY[:q1, :q2]) q;
SELECT p.code, count(*) AS customers FROM fieldops.customer c JOIN fieldops.customer_pool p ON p.tenant_id = c.tenant_id AND p.pool_id = c.pool_id
 WHERE c.tenant_id = :pt GROUP BY p.pool_id, p.code ORDER BY p.pool_id;

--
-- 1. Claims: every status
--
SELECT fieldops.claim_customer(:pt, :s1, :an) AS an_claims_s1;
SELECT fieldops.claim_customer(:pt, :s1, :bai) AS bai_claims_s1;
SELECT fieldops.claim_customer(:pt, :s1, :an) AS an_claims_s1_again;
SELECT fieldops.claim_customer(:pt, :s2, :an) AS an_claims_s2;
-- the daily limit (2) is reached
SELECT fieldops.claim_customer(:pt, :s3, :an) AS an_claims_s3;
-- a pool administrator claims for An: no limits, the same state guard
SELECT fieldops.set_pool_admin(:pt, :shpool, :ma);
SELECT fieldops.claim_customer(:pt, :s3, :an, :ma) AS ma_claims_s3_for_an;
SELECT fieldops.claim_customer(:pt, :s1, :bai, :ma) AS ma_claims_taken_s1_for_bai;
SELECT regress.sqlerr(format('SELECT fieldops.claim_customer(%s, %s, %s, %s)', :pt, :s4, :an, :bai)) AS not_an_admin;
-- the hold limit (4): Bai is given three by the CRM, claims a fourth, then one more
SELECT count(fieldops.upsert_customer(:pt, 'X' || i, 'CRM shop ' || i, p_owner_worker_id => :bai)) AS assigned FROM generate_series(1, 3) i;
SELECT fieldops.claim_customer(:pt, :s4, :bai) AS bai_claims_s4;
SELECT fieldops.claim_customer(:pt, :s5, :bai) AS bai_at_hold_limit;
-- the cooldown: An gives S1 back and may not take it again for 7 days; others may
SELECT fieldops.release_customer(:pt, :s1, :an, 'not my area') AS an_releases_s1;
SELECT fieldops.claim_customer(:pt, :s1, :an, NULL) AS an_reclaims_s1;
SELECT fieldops.claim_customer(:pt, :s1, :cao) AS cao_claims_s1;
-- scope and protection (the scoped pool: customers of the claimant's team's region, 60 minutes after entering)
SELECT fieldops.claim_customer(:pt, :q1, :cao) AS cao_no_team_q1;
SELECT fieldops.claim_customer(:pt, :q2, :lin) AS lin_north_q2;
SELECT fieldops.claim_customer(:pt, :q1, :lin) AS lin_q1_protected;
UPDATE fieldops.customer SET pooled_since = pooled_since - interval '61 minutes' WHERE tenant_id = :pt AND customer_id = :q1;
SELECT fieldops.claim_customer(:pt, :q1, :lin) AS lin_q1_later;
SELECT fieldops.claim_customer(:pt, 987654321, :lin) AS missing;
-- the counters and the log agree
SELECT w.name, k.claims FROM fieldops.pool_claim_counter k JOIN fieldops.worker w USING (tenant_id, worker_id)
 WHERE k.tenant_id = :pt ORDER BY w.name, k.pool_id;
SELECT w.name, h.held FROM fieldops.worker_holding h JOIN fieldops.worker w USING (tenant_id, worker_id)
 WHERE h.tenant_id = :pt AND h.held > 0 ORDER BY w.name;

-- a batch: unsorted, with a duplicate, a missing id and a taken one; the
-- daily limit counts the batch's own claims
SELECT b.customer_id = ANY (ARRAY[:s6, :s7, :s8]) AS pooled_shop, b.status
  FROM fieldops.claim_customers(:pt, ARRAY[:s8, :s6, 987654321, :s7, :s6, :s2], :lin) b
 ORDER BY b.customer_id;

--
-- 2. Releases, transfers, follow-ups: guarded on the expected owner
--
SELECT fieldops.release_customer(:pt, :s2, :bai) AS bai_releases_ans;
SELECT fieldops.transfer_customer(:pt, :s2, :bai, :cao) AS wrong_from;
SELECT fieldops.transfer_customer(:pt, :s2, :an, :cao, 'manager Ma') AS an_to_cao;
SELECT owner_worker_id = :cao AS cao_owns_s2 FROM fieldops.customer WHERE tenant_id = :pt AND customer_id = :s2;
SELECT fieldops.record_followup(:pt, :s2, :an) AS an_no_longer_owns;
SELECT fieldops.record_followup(:pt, :s2, :cao, now() - interval '1 hour', 'called the owner') AS cao_follows_up;
SELECT last_followup_at > now() - interval '2 hours' AS followed_up FROM fieldops.customer WHERE tenant_id = :pt AND customer_id = :s2;
SELECT fieldops.record_followup(:pt, 987654321, :cao) AS missing, fieldops.release_customer(:pt, 987654321, :cao) AS missing2,
       fieldops.transfer_customer(:pt, 987654321, :cao, :an) AS missing3;

--
-- 3. Rule versions: an edit holds from the next local day; old versions stay
--
SELECT fieldops.set_pool_rules(:pt, :shpool, '{"daily_claim_limit": 3}') = fieldops.tenant_local_date(:pt) + 1 AS from_tomorrow;
SELECT (fieldops.pool_rules_on(:pt, :shpool, fieldops.tenant_local_date(:pt))).daily_claim_limit AS today,
       (fieldops.pool_rules_on(:pt, :shpool, fieldops.tenant_local_date(:pt) + 1)).daily_claim_limit AS tomorrow,
       (fieldops.pool_rules_on(:pt, :shpool, fieldops.tenant_local_date(:pt) + 1)).no_followup_days AS kept;
SELECT count(*) AS versions FROM fieldops.pool_rule WHERE tenant_id = :pt AND pool_id = :shpool;

--
-- 4. Automatic release: warnings (once), releases, exclusions, a follow-up that wins, the window
--
-- owners idle for 27 days (warning window: 30 - 5), 40 days, a VIP and a
-- locked customer 40 days, and one idle 40 days whose follow-up comes in
-- first.  Nobody is released without a warning warn_days old: the two
-- idle 40 days are overdue when the job first sees them, so it warns them
SELECT fieldops.claim_customer(:pt, c, :ma, :ma) FROM unnest(ARRAY[:s5, :s9, :s10]) c;
SELECT fieldops.claim_customer(:pt, :s8, :lin, :ma) AS ma_gives_lin_s8;
SELECT (fieldops.set_customer_state(:pt, :s10, p_locked => true)).locked AS s10_locked;
UPDATE fieldops.customer SET owned_since = now() - interval '27 days' WHERE tenant_id = :pt AND customer_id = :s6;
UPDATE fieldops.customer SET owned_since = now() - interval '40 days'
 WHERE tenant_id = :pt AND customer_id IN (:s7, :s8, :s5, :s9, :s10);
SELECT fieldops.record_followup(:pt, :s8, :lin) AS lin_follows_up_s8;
-- outside the window (03:00 local is inside, 12:00 is not): the job does nothing
SELECT fieldops.pool_release_batch(:pt, date_trunc('day', now() AT TIME ZONE 'Asia/Shanghai') AT TIME ZONE 'Asia/Shanghai' + interval '12 hours', 100, true) AS noon;
SELECT fieldops.pool_release_batch(:pt, date_trunc('day', now() AT TIME ZONE 'Asia/Shanghai') AT TIME ZONE 'Asia/Shanghai' + interval '3 hours', 100, true) AS night;
SELECT c.external_ref, c.owner_worker_id IS NULL AS released, c.warned_at IS NOT NULL AS warned
  FROM fieldops.customer c WHERE c.tenant_id = :pt AND c.customer_id IN (:s5, :s6, :s7, :s8, :s9, :s10) ORDER BY c.customer_id;
SELECT c.external_ref, e.kind, e.rule, e.days BETWEEN 3 AND 5 OR e.days BETWEEN 39 AND 40 AS days_as_set, e.actor, w.name AS previous_owner
  FROM fieldops.pool_event e JOIN fieldops.customer c USING (tenant_id, customer_id)
  LEFT JOIN fieldops.worker w ON w.tenant_id = e.tenant_id AND w.worker_id = e.previous_worker_id
 WHERE e.tenant_id = :pt AND e.actor = 'job:pool_release' ORDER BY e.event_id;
SELECT topic, payload ->> 'rule' AS rule, (payload ->> 'days_left')::int BETWEEN 3 AND 5 AS days_left_3_to_5 FROM fieldops.outbox
 WHERE tenant_id = :pt AND topic = 'customer.release_warning';
-- run again: nothing new (the warning is not repeated)
SELECT fieldops.release_stale_customers(:pt) AS released_again;
SELECT count(*) AS warnings FROM fieldops.pool_event WHERE tenant_id = :pt AND kind = 'warned';
-- four days on, the warnings are 4 days old (warn_days 5): nothing yet;
-- six days on, all three go, with their idle days
SELECT fieldops.release_stale_customers(:pt, now() + interval '4 days') AS released_4_days_on;
SELECT fieldops.release_stale_customers(:pt, now() + interval '6 days') AS released_6_days_on;
SELECT c.external_ref, e.rule, e.days, w.name AS previous_owner
  FROM fieldops.pool_event e JOIN fieldops.customer c USING (tenant_id, customer_id)
  LEFT JOIN fieldops.worker w ON w.tenant_id = e.tenant_id AND w.worker_id = e.previous_worker_id
 WHERE e.tenant_id = :pt AND e.kind = 'released' AND e.actor = 'job:pool_release' ORDER BY c.external_ref;
-- a follow-up that restarts the clock clears the warning: the next idle
-- period gets its own (a late-synced visit older than the warning included)
SELECT fieldops.claim_customer(:pt, :s7, :lin, :ma) AS s7_back_to_lin;
UPDATE fieldops.customer SET owned_since = now() - interval '40 days' WHERE tenant_id = :pt AND customer_id = :s7;
SELECT fieldops.release_stale_customers(:pt) AS warns_s7;
SELECT warned_at IS NOT NULL AS warned FROM fieldops.customer WHERE tenant_id = :pt AND customer_id = :s7;
SELECT fieldops.record_followup(:pt, :s7, :lin, now() - interval '26 days') AS late_visit;
SELECT warned_at IS NULL AS warning_cleared FROM fieldops.customer WHERE tenant_id = :pt AND customer_id = :s7;
SELECT fieldops.release_stale_customers(:pt, now() + interval '6 days') AS s7_warned_again_not_released;
SELECT owner_worker_id = :lin AS lin_keeps_s7, warned_at IS NOT NULL AS warned FROM fieldops.customer WHERE tenant_id = :pt AND customer_id = :s7;
SELECT fieldops.release_customer(:pt, :s7, :lin) AS lin_gives_s7_back;
-- a deal rule: released when no deal within 10 days of being owned, unless one came
SELECT fieldops.create_pool(:pt, 'DEALS', 'Dealers', p_rules => '{"no_deal_days": 10, "warn_days": 0}') AS deals \gset
SELECT fieldops.upsert_customer(:pt, 'D1', 'Dealer 1', p_owner_worker_id => :cao) AS d1 \gset
SELECT fieldops.upsert_customer(:pt, 'D2', 'Dealer 2', p_owner_worker_id => :cao) AS d2 \gset
SELECT count(fieldops.set_customer_state(:pt, d, p_home_pool_id => :deals)) AS dealers FROM unnest(ARRAY[:d1, :d2]) d;
-- owned customers changing home pool are logged (rehomed), the replay ignores it
SELECT kind, pool_id = :deals AS to_deals, worker_id = :cao AS owner FROM fieldops.pool_event
 WHERE tenant_id = :pt AND customer_id IN (:d1, :d2) AND kind = 'rehomed' ORDER BY customer_id;
UPDATE fieldops.customer SET owned_since = now() - interval '12 days' WHERE tenant_id = :pt AND customer_id IN (:d1, :d2);
SELECT (fieldops.set_customer_state(:pt, :d2, p_deal_state => 'open', p_deal_at => now() - interval '1 day')).deal_state AS d2_deal;
SELECT fieldops.release_stale_customers(:pt) AS released_no_deal;
SELECT external_ref, owner_worker_id IS NULL AS released, pool_id = :deals AS in_deals FROM fieldops.customer
 WHERE tenant_id = :pt AND customer_id IN (:d1, :d2) ORDER BY 1;
SELECT rule, days FROM fieldops.pool_event WHERE tenant_id = :pt AND customer_id = :d1 AND kind = 'released';

--
-- 5. A worker who leaves: customers to the manager (the default rule), or
--    back to their pool when there is none
--
SELECT fieldops.claim_customer(:pt, c, :lu, :ma) FROM unnest(ARRAY[:s6]) c;
SELECT fieldops.upsert_customer(:pt, 'LX1', 'Lin''s shop', p_owner_worker_id => :lin) IS NOT NULL AS lin_owns_more;
SELECT r - 'left_on' AS lin_leaves FROM fieldops.worker_leave(:pt, :lin) r;
SELECT r - 'left_on' AS lu_leaves FROM fieldops.worker_leave(:pt, :lu) r;
SELECT count(*) FILTER (WHERE owner_worker_id = :ma) AS with_manager, count(*) FILTER (WHERE owner_worker_id IN (:lin, :lu)) AS with_leavers
  FROM fieldops.customer WHERE tenant_id = :pt;
SELECT kind, rule, actor FROM fieldops.pool_event WHERE tenant_id = :pt AND rule = 'owner_left' ORDER BY event_id;

--
-- 6. The invariants hold; and they catch a broken ledger
--
SELECT * FROM fieldops.check_pool_invariants(:pt);
BEGIN;
UPDATE fieldops.worker_holding SET held = held + 1 WHERE tenant_id = :pt AND worker_id = :ma;
UPDATE fieldops.customer_ownership SET ended_at = now(), end_reason = 'released' WHERE tenant_id = :pt AND customer_id = :s3 AND ended_at IS NULL;
DELETE FROM fieldops.pool_claim_counter WHERE tenant_id = :pt AND worker_id = :an;
SELECT invariant, customer_id = :s3 AS is_s3 FROM fieldops.check_pool_invariants(:pt) ORDER BY 1, 2;
ROLLBACK;
SELECT count(*) AS violations FROM fieldops.check_pool_invariants(:pt);

--
-- 7. The map and the 360° view
--
SELECT external_ref, round(n.distance_m) AS metres
  FROM fieldops.customers_near(:pt, ST_SetSRID(ST_MakePoint(121.4735, 31.2301), 4326), 400, 4) n
  JOIN fieldops.customer c ON c.tenant_id = :pt AND c.customer_id = n.customer_id;
-- nearest first, exactly: against brute force over 3000 more customers
-- (seeded; every tenth one on the spot of another, so distances tie) for
-- 120 points, radii 30 m to 60 km, limits 1 to 200
BEGIN;
SELECT setseed(0.17);
INSERT INTO fieldops.customer (tenant_id, external_ref, name, geom, home_pool_id, pool_id, pooled_since)
SELECT :pt, 'NN' || i, 'nn ' || i, ST_SetSRID(ST_MakePoint(121.47 + (random() - 0.5) * 0.6, 31.23 + (random() - 0.5) * 0.5), 4326),
       fieldops.default_pool(:pt), fieldops.default_pool(:pt), now()
  FROM generate_series(1, 3000) i;
UPDATE fieldops.customer c SET geom = o.geom
  FROM fieldops.customer o WHERE c.tenant_id = :pt AND o.tenant_id = :pt AND c.external_ref ~ '^NN[0-9]*0$' AND o.external_ref = 'NN' || (substr(c.external_ref, 3)::int - 5);
CREATE TEMP TABLE nn_q AS
SELECT i, ST_SetSRID(ST_MakePoint(121.47 + (random() - 0.5) * 0.7, 31.23 + (random() - 0.5) * 0.6), 4326) AS p,
       (ARRAY[30, 200, 1500, 8000, 60000])[1 + i % 5]::float8 AS r, (ARRAY[1, 7, 50, 200])[1 + i % 4] AS l
  FROM generate_series(1, 120) i;
SELECT count(*) AS queries, count(*) FILTER (WHERE bf.ids IS DISTINCT FROM nn.ids) AS differ,
       sum(cardinality(nn.ids)) AS found, count(*) FILTER (WHERE cardinality(nn.ids) = q.l) AS full_answers
  FROM nn_q q,
  LATERAL (SELECT array_agg(customer_id ORDER BY d, customer_id) AS ids
             FROM (SELECT customer_id, ST_DistanceSphere(geom, q.p) AS d FROM fieldops.customer
                    WHERE tenant_id = :pt AND ST_DistanceSphere(geom, q.p) <= q.r ORDER BY 2, 1 LIMIT q.l) x) bf,
  LATERAL (SELECT array_agg(customer_id ORDER BY distance_m, customer_id) AS ids
             FROM fieldops.customers_near(:pt, q.p, q.r, q.l)) nn;
ROLLBACK;
SELECT count(*) AS in_area FROM fieldops.customers_in_area(:pt, ST_MakeEnvelope(121.4705, 31.229, 121.4745, 31.231, 4326));
SELECT jsonb_array_length(g -> 'features') AS features, g -> 'features' -> 0 -> 'geometry' ->> 'type' AS geometry,
       (SELECT count(*) FROM jsonb_array_elements(g -> 'features') f WHERE f -> 'properties' ->> 'state' = 'owned') AS owned
  FROM fieldops.customers_geojson(:pt, 121.46, 31.22, 121.49, 31.24) g;
-- a box with more customers than the limit says so
SELECT jsonb_array_length(g -> 'features') AS features, g -> 'truncated' AS truncated,
       g -> 'features' -> 0 -> 'properties' ?| ARRAY['pool_code', 'owner_name'] AS says_pool_or_owner,
       g -> 'features' -> 0 -> 'properties' ? 'home_pool_code' AS home_pool
  FROM fieldops.customers_geojson(:pt, 121.46, 31.22, 121.49, 31.24, 2) g;
-- the tile of Shanghai at zoom 12 holds the shops; one over the ocean none
SELECT length(fieldops.customers_mvt(:pt, 12, 3430, 1673)) > 100 AS shanghai_tile,
       length(fieldops.customers_mvt(:pt, 12, 0, 0)) AS empty_tile;
SELECT customers, owned + pooled = customers AS adds_up FROM fieldops.customer_density(:pt, 121.0, 31.0, 122.0, 32.0, 4);
SELECT jsonb_object_keys(fieldops.customer_360(:pt, :s1)) AS part ORDER BY 1;
SELECT v -> 'profile' -> 'owner' ->> 'name' AS owner, jsonb_array_length(v -> 'ownership') AS owners,
       jsonb_path_query_array(v -> 'pool_events', '$[*].kind') AS events
  FROM fieldops.customer_360(:pt, :s1) v;

--
-- 8. Bad input: a clear error, nothing changed
--
SELECT regexp_replace(regress.sqlerr(q), 'left on [0-9-]+', 'left on <today>') AS result
  FROM (VALUES
    (format('SELECT fieldops.claim_customer(%s, NULL, %s)', :pt, :an)),
    (format('SELECT fieldops.claim_customer(%s, -1, %s)', :pt, :an)),
    (format('SELECT fieldops.claim_customer(%s, %s, NULL)', :pt, :s7)),
    (format('SELECT fieldops.claim_customer(%s, %s, 987654321)', :pt, :s7)),
    (format('SELECT fieldops.claim_customer(%s, %s, %s)', :pt, :s7, :lin)),
    (format('SELECT * FROM fieldops.claim_customers(%s, ARRAY[]::bigint[], %s)', :pt, :an)),
    (format('SELECT * FROM fieldops.claim_customers(%s, ARRAY[1, NULL], %s)', :pt, :an)),
    (format('SELECT fieldops.transfer_customer(%s, %s, %s, %s)', :pt, :s7, :an, :an)),
    (format('SELECT fieldops.release_customer(%s, %s, NULL)', :pt, :s7)),
    (format('SELECT fieldops.record_followup(%s, %s, %s, ''2099-01-01 00:00+00'')', :pt, :s7, :an)),
    (format('SELECT fieldops.create_pool(%s, ''SH-POOL'', ''again'')', :pt)),
    (format('SELECT fieldops.create_pool(%s, ''P9'', ''x'', p_rules => ''{"hold_limit": -1}'')', :pt)),
    (format('SELECT fieldops.create_pool(%s, ''P9'', ''x'', p_rules => ''{"no_followup_days": 2}'')', :pt)),
    (format('SELECT fieldops.set_pool_rules(%s, %s, ''{"warn_days": 30}'')', :pt, :shpool)),
    (format('SELECT fieldops.set_pool_rules(%s, NULL, ''{"daily_limit": 3}'')', :pt)),
    (format('SELECT fieldops.set_pool_rules(%s, NULL, ''{"owner_left": "nobody"}'')', :pt)),
    (format('SELECT fieldops.set_pool_rules(%s, NULL, ''{"window_start": "25:00"}'')', :pt)),
    (format('SELECT fieldops.set_pool_rules(%s, NULL, ''{"exclude_levels": ["gold"]}'')', :pt)),
    (format('SELECT fieldops.set_pool_rules(%s, NULL, ''[]'')', :pt)),
    (format('SELECT fieldops.set_pool_rules(%s, 987654321, ''{}'')', :pt)),
    (format('SELECT fieldops.set_customer_state(%s, %s, p_deal_state => ''maybe'')', :pt, :s7)),
    (format('SELECT fieldops.set_customer_state(%s, %s, p_contacts => ''{"name": "x"}'')', :pt, :s7)),
    (format('SELECT * FROM fieldops.customers_near(%s, ST_SetSRID(ST_MakePoint(121.47, 31.23), 4326), 0)', :pt)),
    (format('SELECT * FROM fieldops.customers_near(%s, ST_SetSRID(ST_MakePoint(121.47, 31.23), 4326), 100, 0)', :pt)),
    (format('SELECT * FROM fieldops.customers_near(%s, ST_MakePoint(121.47, 31.23), 100)', :pt)),
    (format('SELECT * FROM fieldops.customers_in_area(%s, ST_SetSRID(ST_MakePoint(121.47, 31.23), 4326))', :pt)),
    (format('SELECT fieldops.customers_geojson(%s, 122, 31, 121, 32)', :pt)),
    (format('SELECT fieldops.customers_mvt(%s, 23, 0, 0)', :pt)),
    (format('SELECT fieldops.customers_mvt(%s, 2, 4, 0)', :pt)),
    (format('SELECT * FROM fieldops.customer_density(%s, 121, 31, 122, 32, 0)', :pt)),
    (format('SELECT fieldops.customer_360(%s, 987654321)', :pt)),
    (format('SELECT fieldops.release_stale_customers(%s, NULL)', :pt))
  ) AS t(q);
SELECT count(*) AS violations_after_bad_input FROM fieldops.check_pool_invariants(:pt);

--
-- 9. Privileges: applications claim, nobody edits the log
--
CREATE ROLE pool_app IN ROLE fieldops_app;
CREATE ROLE pool_nobody;
SELECT fieldops.grant_tenant_access('pool_app', :pt) IS NOT NULL AS granted;
SET ROLE pool_app;
SELECT fieldops.set_tenant(:pt) IS NOT NULL AS app_chosen;
SELECT fieldops.claim_customer(:pt, :s7, :bai) AS app_claim;
SELECT regress.sqlerr('UPDATE fieldops.pool_event SET actor = ''me''') AS edit_log;
SELECT regress.sqlerr('DELETE FROM fieldops.customer_ownership') AS delete_ledger;
RESET ROLE;
SET ROLE pool_nobody;
SELECT regress.sqlerr(format('SELECT fieldops.claim_customer(%s, %s, %s)', :pt, :s7, :bai)) AS public_claim;
RESET ROLE;
SELECT fieldops.revoke_tenant_access('pool_app', :pt) IS NOT NULL AS revoked;
DROP ROLE pool_app;
DROP ROLE pool_nobody;
SELECT count(*) AS violations_at_end FROM fieldops.check_pool_invariants(:pt);
