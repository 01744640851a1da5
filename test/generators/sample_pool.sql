--
-- test/generators/sample_pool.sql — a day of the customer pool (公海池) of a
-- tenant made by sample_tenant.sql
--
--   psql -v ON_ERROR_STOP=1 -f test/generators/sample_pool.sql mydb
--   psql -c "SELECT * FROM fieldops_sample.generate_pool_day(<tenant>)" mydb      -- ~2 s, once per tenant
--
-- fieldops_sample.generate_pool_day(p_tenant_id bigint) plays, in one
-- transaction and through the pool API, the day a district of the sample
-- company gets a pool of its own with rules, and returns one row per step
-- (who, what, which customer, the status the API answered and why).  Once
-- per tenant: a second call only returns the steps; the tenant has then a
-- pool besides the default one (what make demo checks).  The steps are kept
-- in fieldops_sample.pool_step and the cast in fieldops_sample.pool_scenario,
-- for test/demo/report.sql (section 12).
--
-- The cast (rules on the seeded tenant, not ids; with the defaults the
-- district is 浦东新区 and the reps 姚霞云, 吴辰逸, 肖慧静, their lead 于诚子,
-- and 张晓 of 浦西):
--   the district   the one with the most customers whose area's sales team
--                  (team code %-SALES of the district's parent region) has
--                  an active lead and at least three active members who are
--                  not leaving;
--   the lead       that team's lead: he administers the new pool;
--   the busiest    the member who owns the most customers (all districts);
--   the leaver     of the other members, the one with the most customers
--                  among those with neither location fixes nor photos (so
--                  that the demo's other sections keep their workers), else
--                  the one with the most customers;
--   the rep        the remaining member first by external_ref;
--   the outsider   a sales member of another area, the one whose customers'
--                  centre lies nearest the district's.
--
-- The rules:
--   the district's pool (code PUDONG for 浦东新区, else D-<district code>;
--   region the district), fieldops.create_pool(), so in force at once:
--     no_followup_days 30, warn_days 5    released after 30 days without a
--                                         follow-up, warned 5 days before;
--     exclude_levels ["A"]                key accounts are never released
--                                         (locked customers and won deals
--                                         neither: the defaults);
--     owner_left "pool"                   a leaver's shops of this pool go
--                                         back to it (not to the manager);
--     daily_claim_limit 3, cooldown_days 14, protect_minutes 30,
--     claim_scope "region"                only reps of the area claim here;
--     hold_limit                          the busiest rep's book rounded
--                                         down to tens (170 with the
--                                         defaults): she is at the limit;
--     window 01:00-05:00 (the default)    the pool_release job's hours.
--   the default pool (the rest of the city): fieldops.set_pool_rules() with
--     no_followup_days 90, warn_days 7 — a new version from tomorrow
--     (tenant-local); today its defaults hold (no release, 5 claims a day,
--     hold 200, cooldown 7 days, no protection, any scope).
--   The district's customers get the new pool as their home pool
--   (fieldops.set_customer_state(p_home_pool_id)): the pooled ones move
--   there at once (a "moved" event each), the owned ones return there.
--
-- The history.  The API stamps every change of ownership with the clock
-- (pool_apply: clock_timestamp()), and the rules count idle time from
-- idle_since = GREATEST(owned_since, last_followup_at): a customer that
-- sample_tenant.sql assigned a minute ago cannot be 30 days idle, however
-- old its follow-ups, and a customer it created a minute ago is "just
-- entered the pool" for protect_minutes.  Back-dating the follow-ups alone,
-- which the API permits (record_followup(p_at)), is therefore not enough.
-- So, as the generator of sample history (sample_fixes.sql back-dates device
-- bindings the same way), this script writes directly, as a superuser, for
-- the district's customers whose ledger has one row only:
--   owned ones    fieldops.customer.owned_since and the open row of
--                 fieldops.customer_ownership (started_at): taken over 70
--                 to 670 days ago; customer.created_at 0-364 days before;
--   pooled ones   fieldops.customer.pooled_since = created_at: 40 to 540
--                 days ago;
-- at a tenant-local working hour, days drawn from md5 of the external_ref.
-- The pool log (fieldops.pool_event) is append-only and left as written:
-- its "created" and "assigned" events keep the time sample_tenant.sql
-- really wrote them.  Everything after this goes through the API.
--
-- The follow-ups (fieldops.record_followup(p_at), a working hour that day)
-- of the district's owned customers, days ago:
--   the busiest    3 shops 26, 27, 28 (to be warned), the rest 1-20;
--   the rep        2 shops 26, 28 (warned), 3 shops 33, 38, 45 (released),
--                  1 shop 40 with a deal won 40 days ago (kept: won deal),
--                  a key account (level A) 60 (kept);
--   the leaver     5 shops 31, 36, 41, 47, 52 (released); the first of the
--                  five, the story's shop, gets contacts and tags and her
--                  two last visits
--                  (rows of fieldops.visit, written directly as
--                  sample_photos.sql does: there is no visit API yet);
--   the lead       1 shop 45, locked (under contract negotiation: kept);
--   everyone else  1-20 (a visit every few weeks).
-- Shops are picked per owner in the order of md5(external_ref), level A
-- apart.
--
-- The day, in this order:
--   (sample history: the 8 shops to be released were warned six nights
--   ago — warned_at and a warned event written directly — since the job
--   releases nobody without a warning warn_days old)
--   1. the release job: fieldops.release_stale_customers(tenant, now())
--      (what the pool_release job does at night, ignoring its window):
--      5 warnings, 8 releases, the 3 excluded shops kept;
--   2. the busiest rep visits a warned shop (recorded: the clock restarts);
--      the rep's visit of two days ago to a shop released at 1. reaches
--      the CRM only now (released: the release committed first);
--   3. the leaver leaves today (fieldops.worker_leave): her shops of the
--      new pool go back to it, her other shops to her manager, the lead;
--   4. claims, each status once at least:
--        the rep claims 4 shops of the pool on his route in one batch
--          (claim_customers): 3 claimed, the 4th quota;
--        the lead claims a shop: claimed; the busiest tries the same: taken;
--        the busiest claims another: hold_limit;
--        the outsider claims one: scope;
--        the lead claims the story's shop, released at 1.: protected;
--        the lead, as the pool's administrator, claims it for the rep:
--          claimed (no limits, the same state guard); the rep calls the
--          shop (record_followup: recorded);
--        the rep gives a shop of the default pool back by hand
--          (release_customer: released), then claims it again: cooldown;
--          the lead claims it: claimed;
--        the rep claims a customer id the tenant does not have: not_found.
--
-- Determinism: no random(); every draw is md5 of a fixed key, so the same
-- seeded tenant gives the same cast, shops, days and statuses, relative to
-- the current date (ids and timestamps differ from run to run).
--

SET client_min_messages = warning;
CREATE SCHEMA IF NOT EXISTS fieldops_sample;

-- the cast and the story's shop, per tenant
CREATE TABLE IF NOT EXISTS fieldops_sample.pool_scenario (
    tenant_id     bigint PRIMARY KEY,
    pool_id       bigint NOT NULL,      -- the district's pool
    district_id   bigint NOT NULL,
    lead_id       bigint NOT NULL,
    busiest_id    bigint NOT NULL,
    rep_id        bigint NOT NULL,
    leaver_id     bigint NOT NULL,
    outsider_id   bigint NOT NULL,
    story_customer_id bigint NOT NULL,  -- the shop whose 360° view the report shows
    played_at     timestamptz NOT NULL
);
COMMENT ON TABLE fieldops_sample.pool_scenario IS
'The sample pool day per tenant (test/generators/sample_pool.sql): its cast, its pool and the shop the report follows.';

-- what happened, step by step (refused claims leave no trace in the pool log: they are here)
CREATE TABLE IF NOT EXISTS fieldops_sample.pool_step (
    tenant_id     bigint NOT NULL,
    step          int NOT NULL,
    at            timestamptz NOT NULL,
    kind          text NOT NULL,        -- setup, job, followup, departure, claim, release
    worker_id     bigint,               -- who acted (the admin for a claim made for someone)
    for_worker_id bigint,               -- the rep an administrator claimed for
    customer_id   bigint,
    call          text NOT NULL,        -- the API function
    expected      text,                 -- the status the story expects
    status        text,                 -- what the API answered
    why           text,
    result        jsonb,
    PRIMARY KEY (tenant_id, step)
);
COMMENT ON TABLE fieldops_sample.pool_step IS
'The sample pool day step by step: each API call, the status it answered and why (refused claims are not in fieldops.pool_event).';
RESET client_min_messages;

-- a tenant-local working hour (09:30-16:30) p_days days before today
CREATE OR REPLACE FUNCTION fieldops_sample.pool_day_at(p_tenant_id bigint, p_days int, p_key text)
RETURNS timestamptz
LANGUAGE sql STABLE
AS $$
    SELECT ((fieldops.tenant_local_date(p_tenant_id) - p_days) + time '09:30'
            + make_interval(mins => floor(fieldops_sample.h01(p_key) * 420)::int))
           AT TIME ZONE fieldops.tenant_time_zone(p_tenant_id)
$$;

-- append a step
CREATE OR REPLACE FUNCTION fieldops_sample.pool_log(p_tenant_id bigint, p_kind text, p_worker bigint, p_customer bigint,
                                                    p_call text, p_expected text, p_status text, p_why text,
                                                    p_result jsonb DEFAULT NULL, p_for bigint DEFAULT NULL)
RETURNS text
LANGUAGE sql VOLATILE
AS $$
    INSERT INTO fieldops_sample.pool_step (tenant_id, step, at, kind, worker_id, for_worker_id, customer_id, call,
                                           expected, status, why, result)
    VALUES (p_tenant_id,
            COALESCE((SELECT max(s.step) FROM fieldops_sample.pool_step s WHERE s.tenant_id = p_tenant_id), 0) + 1,
            clock_timestamp(), p_kind, p_worker, p_for, p_customer, p_call, p_expected, p_status, p_why, p_result)
    RETURNING status
$$;

-- the worker's name
CREATE OR REPLACE FUNCTION fieldops_sample.pool_who(p_tenant_id bigint, p_worker bigint)
RETURNS text
LANGUAGE sql STABLE
AS $$
    SELECT w.name FROM fieldops.worker w WHERE w.tenant_id = p_tenant_id AND w.worker_id = p_worker
$$;

-- p_n shops of a pool that are claimable as far as protection goes (in the
-- pool for longer than p_protect_min), nearest to the centre of the
-- worker's own customers, minus p_except
CREATE OR REPLACE FUNCTION fieldops_sample.pool_nearest(p_tenant_id bigint, p_pool bigint, p_worker bigint,
                                                        p_protect_min int, p_except bigint[], p_n int)
RETURNS bigint[]
LANGUAGE sql STABLE
AS $$
    WITH centre AS (
        SELECT ST_Centroid(ST_Collect(c.geom)) AS g FROM fieldops.customer c
         WHERE c.tenant_id = p_tenant_id AND c.owner_worker_id = p_worker AND c.geom IS NOT NULL
    )
    SELECT COALESCE(array_agg(x.customer_id ORDER BY x.d, x.customer_id), '{}') FROM (
        SELECT c.customer_id, ST_Distance(c.geom, centre.g) AS d
          FROM fieldops.customer c, centre
         WHERE c.tenant_id = p_tenant_id AND c.pool_id = p_pool AND c.geom IS NOT NULL
           AND c.pooled_since < clock_timestamp() - make_interval(mins => p_protect_min)
           AND NOT c.customer_id = ANY (p_except)
         ORDER BY ST_Distance(c.geom, centre.g), c.customer_id
         LIMIT p_n) x
$$;

-- the play (generate_pool_day() calls it once per tenant)
CREATE OR REPLACE FUNCTION fieldops_sample.pool_play(p_tenant_id bigint)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path FROM CURRENT
AS $$
DECLARE
    v_now timestamptz := now();
    v_today date;
    v_default bigint;
    v_pool bigint;
    v_code text;
    d record;
    v_lead bigint;
    v_busy bigint;
    v_rep bigint;
    v_leaver bigint;
    v_out bigint;
    v_hold int;
    v_limit int;
    v_protect int;
    v_cool_default int;
    v_story bigint;
    v_keep bigint;
    v_warned bigint;
    v_warn_at timestamptz;
    v_released bigint;
    v_late bigint;
    v_route bigint[];
    v_e bigint;
    v_f bigint;
    v_g bigint;
    v_k bigint;
    v_missing bigint;
    v_n bigint;
    v_st text;
    v_why text;
    v_res jsonb;
    v_at timestamptz;
    v_from date;
    v_days int;
    rec record;
    i int;
BEGIN
    PERFORM fieldops.set_tenant(p_tenant_id, true);
    v_today := fieldops.tenant_local_date(p_tenant_id);
    v_default := fieldops.pool_id_arg(p_tenant_id, NULL);

    ------------------------------------------------------------------------
    -- the cast
    SELECT dr.region_id, dr.code, dr.name, ar.region_id AS area_id, ar.name AS area_name, tm.team_id
      INTO d
      FROM fieldops.region dr
      JOIN fieldops.region ar ON ar.tenant_id = dr.tenant_id AND ar.region_id = dr.parent_region_id
      JOIN fieldops.team tm ON tm.tenant_id = dr.tenant_id AND tm.region_id = ar.region_id AND tm.code LIKE '%-SALES'
     WHERE dr.tenant_id = p_tenant_id
       AND EXISTS (SELECT 1 FROM fieldops.worker w WHERE w.tenant_id = tm.tenant_id AND w.team_id = tm.team_id
                      AND w.is_team_lead AND w.status = 'active' AND w.left_on IS NULL)
       AND (SELECT count(*) FROM fieldops.worker w WHERE w.tenant_id = tm.tenant_id AND w.team_id = tm.team_id
               AND NOT w.is_team_lead AND w.status = 'active' AND w.left_on IS NULL) >= 3
     ORDER BY (SELECT count(*) FROM fieldops.customer c WHERE c.tenant_id = dr.tenant_id AND c.region_id = dr.region_id) DESC,
              dr.code
     LIMIT 1;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'tenant % has no district whose area''s sales team has a lead and three members (a tenant made by sample_tenant.sql with enough workers is needed)',
            p_tenant_id;
    END IF;
    v_code := CASE WHEN d.name = '浦东新区' THEN 'PUDONG' ELSE 'D-' || regexp_replace(d.code, '^.*-', '') END;

    CREATE TEMP TABLE pool_member ON COMMIT DROP AS
    SELECT w.worker_id, w.external_ref, w.is_team_lead AS lead,
           (SELECT count(*) FROM fieldops.customer c WHERE c.tenant_id = w.tenant_id AND c.owner_worker_id = w.worker_id) AS book,
           NOT EXISTS (SELECT 1 FROM fieldops.fix f WHERE f.tenant_id = w.tenant_id AND f.worker_id = w.worker_id)
           AND NOT EXISTS (SELECT 1 FROM fieldops.photo ph WHERE ph.tenant_id = w.tenant_id AND ph.worker_id = w.worker_id) AS quiet
      FROM fieldops.worker w
     WHERE w.tenant_id = p_tenant_id AND w.team_id = d.team_id AND w.status = 'active' AND w.left_on IS NULL;
    SELECT worker_id INTO v_lead FROM pool_member WHERE lead ORDER BY worker_id LIMIT 1;
    SELECT worker_id INTO v_busy FROM pool_member WHERE NOT lead ORDER BY book DESC, external_ref LIMIT 1;
    SELECT worker_id INTO v_leaver FROM pool_member WHERE NOT lead AND worker_id <> v_busy
     ORDER BY quiet DESC, book DESC, external_ref LIMIT 1;
    SELECT worker_id INTO v_rep FROM pool_member WHERE NOT lead AND worker_id NOT IN (v_busy, v_leaver)
     ORDER BY external_ref LIMIT 1;
    SELECT w.worker_id INTO v_out
      FROM fieldops.worker w
      JOIN fieldops.team tm ON tm.tenant_id = w.tenant_id AND tm.team_id = w.team_id
     WHERE w.tenant_id = p_tenant_id AND tm.code LIKE '%-SALES' AND tm.team_id <> d.team_id
       AND w.status = 'active' AND w.left_on IS NULL AND NOT w.is_team_lead
       AND EXISTS (SELECT 1 FROM fieldops.customer c WHERE c.tenant_id = w.tenant_id AND c.owner_worker_id = w.worker_id)
     ORDER BY (SELECT ST_Distance(ST_Centroid(ST_Collect(c.geom)),
                                  (SELECT ST_Centroid(ST_Collect(x.geom)) FROM fieldops.customer x
                                    WHERE x.tenant_id = p_tenant_id AND x.region_id = d.region_id))
                 FROM fieldops.customer c WHERE c.tenant_id = w.tenant_id AND c.owner_worker_id = w.worker_id),
              w.external_ref
     LIMIT 1;
    IF v_out IS NULL THEN
        RAISE EXCEPTION 'tenant % has no sales rep outside the area of %', p_tenant_id, d.name;
    END IF;

    ------------------------------------------------------------------------
    -- the rules
    v_hold := greatest(10, ((SELECT book FROM pool_member WHERE worker_id = v_busy) / 10 * 10)::int);
    v_pool := fieldops.create_pool(p_tenant_id, v_code, d.name || '公海', d.region_id, NULL, jsonb_build_object(
        'no_followup_days', 30, 'warn_days', 5, 'exclude_levels', jsonb_build_array('A'), 'owner_left', 'pool',
        'daily_claim_limit', 3, 'hold_limit', v_hold, 'cooldown_days', 14, 'protect_minutes', 30, 'claim_scope', 'region'));
    PERFORM fieldops_sample.pool_log(p_tenant_id, 'setup', NULL, NULL, 'create_pool', NULL, v_code,
        format('the %s pool, rules in force at once; hold_limit %s: %s''s book (%s) rounded down to tens',
               d.name, v_hold, fieldops_sample.pool_who(p_tenant_id, v_busy),
               (SELECT book FROM pool_member WHERE worker_id = v_busy)));
    PERFORM fieldops.set_pool_admin(p_tenant_id, v_pool, v_lead);
    PERFORM fieldops_sample.pool_log(p_tenant_id, 'setup', v_lead, NULL, 'set_pool_admin', NULL, 'admin',
        format('the team lead administers the %s pool', v_code));
    v_from := fieldops.set_pool_rules(p_tenant_id, NULL, '{"no_followup_days": 90, "warn_days": 7}');
    PERFORM fieldops_sample.pool_log(p_tenant_id, 'setup', NULL, NULL, 'set_pool_rules', NULL, 'from ' || v_from,
        'the default pool: release after 90 days without a follow-up, a new version of its rules from tomorrow');
    SELECT count(fieldops.set_customer_state(p_tenant_id, c.customer_id, p_home_pool_id => v_pool)) INTO v_n
      FROM (SELECT c.customer_id FROM fieldops.customer c
             WHERE c.tenant_id = p_tenant_id AND c.region_id = d.region_id ORDER BY c.customer_id) c;
    PERFORM fieldops_sample.pool_log(p_tenant_id, 'setup', NULL, NULL, 'set_customer_state', NULL, v_n || ' customers',
        format('the customers of %s get the %s pool as their home pool (the pooled ones move there now)', d.name, v_code));
    SELECT daily_claim_limit, protect_minutes INTO v_limit, v_protect FROM fieldops.pool_rules_on(p_tenant_id, v_pool, v_today);
    SELECT cooldown_days INTO v_cool_default FROM fieldops.pool_rules_on(p_tenant_id, v_default, v_today);

    ------------------------------------------------------------------------
    -- the history (direct writes: see the header)
    CREATE TEMP TABLE pool_plan ON COMMIT DROP AS
    SELECT c.customer_id, c.external_ref AS ref, c.owner_worker_id AS owner, COALESCE(c.level = 'A', false) AS key_account,
           row_number() OVER (PARTITION BY c.owner_worker_id, COALESCE(c.level = 'A', false)
                              ORDER BY fieldops_sample.h01(c.external_ref || '/neglect'), c.customer_id) AS k,
           NULL::text AS story, NULL::int AS days
      FROM fieldops.customer c
     WHERE c.tenant_id = p_tenant_id AND c.home_pool_id = v_pool AND c.owner_worker_id IS NOT NULL
       AND (SELECT count(*) FROM fieldops.customer_ownership o
             WHERE o.tenant_id = c.tenant_id AND o.customer_id = c.customer_id) = 1;
    UPDATE pool_plan SET (story, days) = (
        SELECT CASE
               WHEN owner = v_busy AND NOT key_account AND k <= 3 THEN 'warn'
               WHEN owner = v_rep AND NOT key_account AND k <= 2 THEN 'warn'
               WHEN owner = v_rep AND NOT key_account AND k <= 5 THEN 'release'
               WHEN owner = v_rep AND NOT key_account AND k = 6 THEN 'won_deal'
               WHEN owner = v_rep AND key_account AND k = 1 THEN 'key_account'
               WHEN owner = v_leaver AND NOT key_account AND k <= 5 THEN 'release'
               WHEN owner = v_lead AND NOT key_account AND k = 1 THEN 'locked'
               ELSE 'visited' END,
               CASE
               WHEN owner = v_busy AND NOT key_account AND k <= 3 THEN (ARRAY[26, 27, 28])[k]
               WHEN owner = v_rep AND NOT key_account AND k <= 2 THEN (ARRAY[26, 28])[k]
               WHEN owner = v_rep AND NOT key_account AND k <= 5 THEN (ARRAY[33, 38, 45])[k - 2]
               WHEN owner = v_rep AND NOT key_account AND k = 6 THEN 40
               WHEN owner = v_rep AND key_account AND k = 1 THEN 60
               WHEN owner = v_leaver AND NOT key_account AND k <= 5 THEN (ARRAY[31, 36, 41, 47, 52])[k]
               WHEN owner = v_lead AND NOT key_account AND k = 1 THEN 45
               ELSE 1 + floor(fieldops_sample.h01(ref || '/visit') * 20)::int END);
    SELECT customer_id INTO v_story FROM pool_plan WHERE owner = v_leaver AND story = 'release' AND k = 1;

    -- owned: taken over 70-670 days ago, created 0-364 days before that
    UPDATE fieldops.customer c
       SET owned_since = fieldops_sample.pool_day_at(p_tenant_id, 70 + floor(fieldops_sample.h01(p.ref || '/owned') * 600)::int,
                                                     p.ref || '/owned-at')
      FROM pool_plan p
     WHERE c.tenant_id = p_tenant_id AND c.customer_id = p.customer_id;
    UPDATE fieldops.customer c
       SET created_at = c.owned_since - make_interval(days => floor(fieldops_sample.h01(c.external_ref || '/created') * 365)::int)
      FROM pool_plan p
     WHERE c.tenant_id = p_tenant_id AND c.customer_id = p.customer_id;
    UPDATE fieldops.customer_ownership o
       SET started_at = c.owned_since
      FROM pool_plan p, fieldops.customer c
     WHERE o.tenant_id = p_tenant_id AND o.customer_id = p.customer_id AND o.ended_at IS NULL
       AND c.tenant_id = p_tenant_id AND c.customer_id = p.customer_id;
    -- pooled: in the pool since they came into the CRM, 40-540 days ago
    UPDATE fieldops.customer c
       SET pooled_since = fieldops_sample.pool_day_at(p_tenant_id, 40 + floor(fieldops_sample.h01(c.external_ref || '/pooled') * 500)::int,
                                                      c.external_ref || '/pooled-at'),
           created_at = fieldops_sample.pool_day_at(p_tenant_id, 40 + floor(fieldops_sample.h01(c.external_ref || '/pooled') * 500)::int,
                                                    c.external_ref || '/pooled-at')
     WHERE c.tenant_id = p_tenant_id AND c.pool_id = v_pool
       AND NOT EXISTS (SELECT 1 FROM fieldops.customer_ownership o WHERE o.tenant_id = c.tenant_id AND o.customer_id = c.customer_id);
    SELECT count(*) INTO v_n FROM pool_plan;
    PERFORM fieldops_sample.pool_log(p_tenant_id, 'setup', NULL, NULL, '(sample history)', NULL, v_n || ' owned',
        'owned_since, the open ownership row, created_at and pooled_since back-dated (direct writes: the API stamps the clock)');

    -- the story's shop: its contacts, tags and the leaver's two last visits
    PERFORM fieldops.set_customer_state(p_tenant_id, v_story, p_tags => ARRAY['夫妻店', '冰柜投放'],
        p_contacts => jsonb_build_array(
            jsonb_build_object('name', '王建国', 'role', '店主 owner', 'phone', '+86 139 1762 4408'),
            jsonb_build_object('name', '王芳', 'role', '收银 cashier', 'phone', '+86 137 0185 2291')));
    SELECT days INTO v_days FROM pool_plan WHERE customer_id = v_story;
    FOR i IN 0 .. 1 LOOP
        v_at := fieldops_sample.pool_day_at(p_tenant_id, v_days + 14 * i, (SELECT ref FROM pool_plan WHERE customer_id = v_story) || '/at');
        INSERT INTO fieldops.visit (tenant_id, worker_id, customer_id, checkin_at, checkout_at)
        VALUES (p_tenant_id, v_leaver, v_story, v_at, v_at + interval '18 minutes');
    END LOOP;
    -- the exclusions: a locked shop, a won deal (a key account needs nothing)
    PERFORM fieldops.set_customer_state(p_tenant_id, customer_id, p_locked => true) FROM pool_plan WHERE story = 'locked';
    PERFORM fieldops.set_customer_state(p_tenant_id, customer_id, p_deal_state => 'won',
                                        p_deal_at => fieldops_sample.pool_day_at(p_tenant_id, 40, ref || '/deal'))
       FROM pool_plan WHERE story = 'won_deal';

    -- the follow-ups, through the API; the older visit of the story's shop first
    PERFORM fieldops.record_followup(p_tenant_id, v_story, v_leaver,
                                     fieldops_sample.pool_day_at(p_tenant_id, v_days + 14, ref || '/at'), '补货, 冰柜陈列')
       FROM pool_plan WHERE customer_id = v_story;
    FOR rec IN SELECT * FROM pool_plan ORDER BY customer_id LOOP
        v_st := fieldops.record_followup(p_tenant_id, rec.customer_id, rec.owner, fieldops_sample.pool_day_at(p_tenant_id, rec.days, rec.ref || '/at'));
        IF v_st <> 'recorded' THEN
            RAISE EXCEPTION 'record_followup of customer % answered %', rec.customer_id, v_st;
        END IF;
    END LOOP;
    PERFORM fieldops_sample.pool_log(p_tenant_id, 'setup', NULL, NULL, 'record_followup', NULL, v_n || ' recorded',
        format('the last follow-up of each owned shop of the %s pool, 1 to 60 days ago', v_code),
        (SELECT jsonb_object_agg(story, n) FROM (SELECT story, count(*) AS n FROM pool_plan GROUP BY story) s));
    -- the warnings the release job gave six nights ago (sample history,
    -- written directly like the back-dated ownership above, after the
    -- follow-ups, which clear a warning when they restart the clock): a
    -- release needs a warning of the idle period at least warn_days old
    v_warn_at := (fieldops.tenant_local_date(p_tenant_id) - 6 + time '02:10') AT TIME ZONE fieldops.tenant_time_zone(p_tenant_id);
    UPDATE fieldops.customer c SET warned_at = v_warn_at
      FROM pool_plan p WHERE c.tenant_id = p_tenant_id AND c.customer_id = p.customer_id AND p.story = 'release';
    INSERT INTO fieldops.pool_event (tenant_id, customer_id, at, kind, pool_id, worker_id, actor, rule, days, local_day)
    SELECT p_tenant_id, p.customer_id, v_warn_at, 'warned', v_pool, p.owner, 'job:pool_release', 'no_followup', 5,
           fieldops.tenant_local_date(p_tenant_id, v_warn_at)
      FROM pool_plan p WHERE p.story = 'release' ORDER BY p.customer_id;
    PERFORM fieldops_sample.pool_log(p_tenant_id, 'setup', NULL, NULL, '(sample history)', NULL, '8 warned',
        'the shops idle 30 days or more were warned six nights ago (warned_at and a warned event, direct writes)');

    ------------------------------------------------------------------------
    -- 1. the release job
    v_n := fieldops.release_stale_customers(p_tenant_id, now());
    SELECT count(*) INTO v_warned FROM fieldops.pool_event e
     WHERE e.tenant_id = p_tenant_id AND e.kind = 'warned' AND e.at >= v_now;
    PERFORM fieldops_sample.pool_log(p_tenant_id, 'job', NULL, NULL, 'release_stale_customers', '8 released', v_n || ' released',
        format('%s warned; kept although idle: %s', v_warned,
               (SELECT string_agg(story || ' ' || days || ' days', ', ' ORDER BY days)
                  FROM pool_plan WHERE story IN ('locked', 'won_deal', 'key_account'))),
        jsonb_build_object('released', v_n, 'warned', v_warned));

    ------------------------------------------------------------------------
    -- 2. reactions: a warned shop visited; a visit that came too late
    SELECT p.customer_id, p.days INTO v_keep, v_days FROM pool_plan p WHERE p.owner = v_busy AND p.story = 'warn' ORDER BY p.k LIMIT 1;
    SELECT COALESCE(e.days::text, '?') INTO v_why FROM fieldops.pool_event e
     WHERE e.tenant_id = p_tenant_id AND e.customer_id = v_keep AND e.kind = 'warned' ORDER BY e.event_id DESC LIMIT 1;
    v_st := fieldops.record_followup(p_tenant_id, v_keep, v_busy, now(), '收到释放预警, 当天拜访');
    PERFORM fieldops_sample.pool_log(p_tenant_id, 'followup', v_busy, v_keep, 'record_followup', 'recorded', v_st,
        format('warned: released in %s days if nobody follows it up (%s days idle); her visit restarts the 30-day clock',
               v_why, v_days));
    SELECT p.customer_id INTO v_late FROM pool_plan p WHERE p.owner = v_rep AND p.story = 'release' ORDER BY p.k LIMIT 1;
    v_st := fieldops.record_followup(p_tenant_id, v_late, v_rep, fieldops_sample.pool_day_at(p_tenant_id, 2, 'late visit'),
                                     '拜访记录补录 (synced late)');
    PERFORM fieldops_sample.pool_log(p_tenant_id, 'followup', v_rep, v_late, 'record_followup', 'released', v_st,
        'his visit of two days ago reached the CRM after the release had committed: it does not bring the shop back');

    ------------------------------------------------------------------------
    -- 3. the leaver leaves today
    v_res := fieldops.worker_leave(p_tenant_id, v_leaver, v_today, '个人原因离职 (personal reasons)');
    PERFORM fieldops_sample.pool_log(p_tenant_id, 'departure', v_leaver, NULL, 'worker_leave', 'left', v_res ->> 'status',
        format('owner_left: her shops of the %s pool go back to it (rule pool), the others to her manager %s (rule manager, the default)',
               v_code, fieldops_sample.pool_who(p_tenant_id, v_lead)),
        v_res - 'left_on');

    ------------------------------------------------------------------------
    -- 4. claims
    -- the rep: a batch of four shops on his route (daily_claim_limit 3)
    v_route := fieldops_sample.pool_nearest(p_tenant_id, v_pool, v_rep, v_protect, '{}', 4);
    i := 0;
    FOR rec IN SELECT b.customer_id, b.status, c.pooled_since
               FROM fieldops.claim_customers(p_tenant_id, v_route, v_rep) b
               JOIN fieldops.customer c ON c.tenant_id = p_tenant_id AND c.customer_id = b.customer_id
              ORDER BY b.customer_id LOOP
        i := i + 1;
        PERFORM fieldops_sample.pool_log(p_tenant_id, 'claim', v_rep, rec.customer_id, 'claim_customers',
            CASE WHEN i <= v_limit THEN 'claimed' ELSE 'quota' END, rec.status,
            CASE WHEN rec.status = 'claimed'
                 THEN format('a batch of %s shops on his route; in the pool since %s; his claim %s of %s today',
                             cardinality(v_route), to_char(rec.pooled_since AT TIME ZONE fieldops.tenant_time_zone(p_tenant_id), 'YYYY-MM-DD'),
                             i, v_limit)
                 ELSE format('daily_claim_limit %s of the %s pool: this was his %s claim today (a batch takes its shops in id order)',
                             v_limit, v_code, CASE i WHEN 1 THEN '1st' WHEN 2 THEN '2nd' WHEN 3 THEN '3rd' ELSE i || 'th' END) END);
    END LOOP;
    -- the lead and the busiest: the same shop
    v_e := (fieldops_sample.pool_nearest(p_tenant_id, v_pool, v_lead, v_protect, v_route, 1))[1];
    v_why := format('in the pool since %s; his claim 1 of %s today',
                    (SELECT to_char(c.pooled_since AT TIME ZONE fieldops.tenant_time_zone(p_tenant_id), 'YYYY-MM-DD')
                       FROM fieldops.customer c WHERE c.tenant_id = p_tenant_id AND c.customer_id = v_e), v_limit);
    v_st := fieldops.claim_customer(p_tenant_id, v_e, v_lead);
    PERFORM fieldops_sample.pool_log(p_tenant_id, 'claim', v_lead, v_e, 'claim_customer', 'claimed', v_st, v_why);
    v_st := fieldops.claim_customer(p_tenant_id, v_e, v_busy);
    PERFORM fieldops_sample.pool_log(p_tenant_id, 'claim', v_busy, v_e, 'claim_customer', 'taken', v_st,
        format('%s claimed it a moment before: it is owned', fieldops_sample.pool_who(p_tenant_id, v_lead)));
    -- the busiest: at the hold limit
    v_f := (fieldops_sample.pool_nearest(p_tenant_id, v_pool, v_busy, v_protect, v_route || v_e, 1))[1];
    v_why := format('she owns %s customers; hold_limit of the %s pool %s',
                    (SELECT h.held FROM fieldops.worker_holding h WHERE h.tenant_id = p_tenant_id AND h.worker_id = v_busy),
                    v_code, v_hold);
    v_st := fieldops.claim_customer(p_tenant_id, v_f, v_busy);
    PERFORM fieldops_sample.pool_log(p_tenant_id, 'claim', v_busy, v_f, 'claim_customer', 'hold_limit', v_st, v_why);
    -- the outsider
    v_g := (fieldops_sample.pool_nearest(p_tenant_id, v_pool, v_out, v_protect, v_route || v_e || v_f, 1))[1];
    v_st := fieldops.claim_customer(p_tenant_id, v_g, v_out);
    PERFORM fieldops_sample.pool_log(p_tenant_id, 'claim', v_out, v_g, 'claim_customer', 'scope', v_st,
        format('claim_scope region: the shop lies in %s, %s''s team works %s',
               d.name, fieldops_sample.pool_who(p_tenant_id, v_out),
               (SELECT r.name FROM fieldops.region r WHERE r.tenant_id = p_tenant_id
                   AND r.region_id = fieldops.worker_region(p_tenant_id, v_out))));
    -- the story's shop: released at 1., protected; the administrator gives it to the rep
    SELECT format('the job released it a moment ago (%s, %s days idle): it rests in the pool for protect_minutes %s',
                  e.rule, e.days, v_protect)
      INTO v_why
      FROM fieldops.customer c
      LEFT JOIN fieldops.pool_event e ON e.tenant_id = c.tenant_id AND e.customer_id = c.customer_id AND e.kind = 'released'
     WHERE c.tenant_id = p_tenant_id AND c.customer_id = v_story
     ORDER BY e.event_id DESC LIMIT 1;
    v_st := fieldops.claim_customer(p_tenant_id, v_story, v_lead);
    PERFORM fieldops_sample.pool_log(p_tenant_id, 'claim', v_lead, v_story, 'claim_customer', 'protected', v_st, v_why);
    v_st := fieldops.claim_customer(p_tenant_id, v_story, v_rep, v_lead);
    PERFORM fieldops_sample.pool_log(p_tenant_id, 'claim', v_lead, v_story, 'claim_customer', 'claimed', v_st,
        format('%s administers the %s pool: a claim for a rep skips the limits and the protection, never the state guard',
               fieldops_sample.pool_who(p_tenant_id, v_lead), v_code), NULL, v_rep);
    v_st := fieldops.record_followup(p_tenant_id, v_story, v_rep, now(), '电话联系店主, 周一送货');
    PERFORM fieldops_sample.pool_log(p_tenant_id, 'followup', v_rep, v_story, 'record_followup', 'recorded', v_st,
        'he phones the owner: his clock starts');
    -- cooldown: a shop of the default pool given back and wanted again
    SELECT c.customer_id INTO v_k FROM fieldops.customer c
     WHERE c.tenant_id = p_tenant_id AND c.owner_worker_id = v_rep AND c.home_pool_id = v_default
     ORDER BY fieldops_sample.h01(c.external_ref || '/give back'), c.customer_id LIMIT 1;
    IF v_k IS NULL THEN
        SELECT c.customer_id INTO v_k FROM fieldops.customer c
         WHERE c.tenant_id = p_tenant_id AND c.owner_worker_id = v_rep
         ORDER BY fieldops_sample.h01(c.external_ref || '/give back'), c.customer_id LIMIT 1;
    END IF;
    v_st := fieldops.release_customer(p_tenant_id, v_k, v_rep, '不在我的线路上 (off my route)');
    PERFORM fieldops_sample.pool_log(p_tenant_id, 'release', v_rep, v_k, 'release_customer', 'released', v_st,
        'off his route: he gives it back to its pool by hand');
    v_st := fieldops.claim_customer(p_tenant_id, v_k, v_rep);
    PERFORM fieldops_sample.pool_log(p_tenant_id, 'claim', v_rep, v_k, 'claim_customer', 'cooldown', v_st,
        format('he gave it back a moment ago: its previous owner waits cooldown_days %s (the %s pool)',
               (SELECT r.cooldown_days FROM fieldops.customer c, fieldops.pool_rules_on(p_tenant_id, c.pool_id, v_today) r
                 WHERE c.tenant_id = p_tenant_id AND c.customer_id = v_k),
               (SELECT p.code FROM fieldops.customer c JOIN fieldops.customer_pool p ON p.tenant_id = c.tenant_id AND p.pool_id = c.pool_id
                 WHERE c.tenant_id = p_tenant_id AND c.customer_id = v_k)));
    v_st := fieldops.claim_customer(p_tenant_id, v_k, v_lead);
    PERFORM fieldops_sample.pool_log(p_tenant_id, 'claim', v_lead, v_k, 'claim_customer', 'claimed', v_st,
        'the cooldown binds its previous owner only');
    -- an id the tenant does not have (a stale app cache)
    SELECT COALESCE(max(c.customer_id), 0) + 1000000 INTO v_missing FROM fieldops.customer c;
    v_st := fieldops.claim_customer(p_tenant_id, v_missing, v_rep);
    PERFORM fieldops_sample.pool_log(p_tenant_id, 'claim', v_rep, NULL, 'claim_customer', 'not_found', v_st,
        format('customer id %s: no such customer in the tenant (a stale id in the app)', v_missing));

    INSERT INTO fieldops_sample.pool_scenario
    VALUES (p_tenant_id, v_pool, d.region_id, v_lead, v_busy, v_rep, v_leaver, v_out, v_story, v_now);
END
$$;

CREATE OR REPLACE FUNCTION fieldops_sample.generate_pool_day(p_tenant_id bigint)
RETURNS TABLE (step int, who text, call text, customer text, expected text, status text, why text)
LANGUAGE plpgsql VOLATILE
SET search_path FROM CURRENT
AS $$
#variable_conflict use_column
BEGIN
    IF EXISTS (SELECT 1 FROM fieldops_sample.pool_scenario s WHERE s.tenant_id = p_tenant_id)
       OR EXISTS (SELECT 1 FROM fieldops.customer_pool p WHERE p.tenant_id = p_tenant_id AND NOT p.is_default) THEN
        RAISE NOTICE 'tenant % has its sample pool day already (or pools of its own)', p_tenant_id;
    ELSE
        PERFORM fieldops_sample.pool_play(p_tenant_id);
    END IF;
    RETURN QUERY
        SELECT s.step, COALESCE(w.name || COALESCE(' for ' || f.name, ''), ''), s.call, COALESCE(c.name, ''),
               s.expected, s.status, s.why
          FROM fieldops_sample.pool_step s
          LEFT JOIN fieldops.worker w ON w.tenant_id = s.tenant_id AND w.worker_id = s.worker_id
          LEFT JOIN fieldops.worker f ON f.tenant_id = s.tenant_id AND f.worker_id = s.for_worker_id
          LEFT JOIN fieldops.customer c ON c.tenant_id = s.tenant_id AND c.customer_id = s.customer_id
         WHERE s.tenant_id = p_tenant_id
         ORDER BY s.step;
END
$$;
COMMENT ON FUNCTION fieldops_sample.generate_pool_day(bigint) IS
'Sample pool day: a district''s pool with rules, back-dated sample history, the release job (warnings, releases), follow-ups, a departure and claims with every status, through the pool API; once per tenant. Returns the steps.';
