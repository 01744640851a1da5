--
-- test/generators/sample_process.sql — a day of the process module (visits
-- and their SOPs, custom forms, tasks, a work order) of a tenant made by
-- sample_tenant.sql
--
--   psql -v ON_ERROR_STOP=1 -f test/generators/sample_process.sql mydb
--   psql -c "SELECT * FROM fieldops_sample.generate_process_day(<tenant>)" mydb   -- ~1 s, once per tenant
--
-- fieldops_sample.generate_process_day(p_tenant_id bigint) plays, in one
-- transaction and through the public API, what the process module sees of
-- a working day, and returns one row per API call (who, what, the status
-- the API answered, what the story expected, why).  Once per tenant: a
-- second call only returns the steps; the tenant has then an SOP (what
-- make demo checks).  The calls are kept in fieldops_sample.process_step and
-- the cast in fieldops_sample.process_cast, for test/demo/report.sql
-- (section 13).
--
-- The cast (rules on the seeded tenant, not ids; with the defaults the
-- sales team is PX-SALES with the reps 张晓, 陈慧云, 张静一 and the lead
-- 施芳军, the service team PX-SVC with the engineer 蒋杰天 and the lead
-- 何昊娜):
--   the sales team  the %-SALES team with the most active members (not
--                   leads, not leaving) who have neither location fixes nor
--                   photos, so that the demo's other stories keep their
--                   workers (ties: team code); at least three;
--   the reps        its first three such members by external_ref; each
--                   uses the lowest-numbered device bound to him that was
--                   never bound to anyone else;
--   the lead        the team's lead: dispatches the tasks, reviews visits;
--   the engineer    the first member by external_ref of the same area's
--                   %-SVC team with a device as above and no photos;
--   the dispatcher  that team's lead.
--
-- What the day holds:
--   SOPs (fieldops.define_sop, assign_sop):
--     STD-VISIT 标准拜访 (every customer): check-in, tidy the shelf
--       (preparation, at least 2 minutes), a storefront photo, the form
--       SHELF-CHECK, presenting the new range (optional, at least 3
--       minutes), a visit note, check-out;
--     KA-VISIT 重点客户拜访 (level A): check-in, tidy the shelf (at least 5
--       minutes), a photo with the store manager (group photo), SHELF-CHECK,
--       competitor information, the customer's needs, a note, check-out.
--   Forms (fieldops.define_form):
--     SHELF-CHECK 门店陈列检查: store open (yes/no; the shelf questions show
--       only when open), facings (integer 0-200), price as agreed, out of
--       stock SKUs (multi choice), a shelf photo (1-2), the cooler checklist
--       (a note when an item is unchecked), remarks;
--     COOLER-INSPECT 冷柜检修记录: asset tag (pattern), nameplate photo,
--       temperature on arrival and after the repair (°C, -30..30, one
--       decimal), faults (multi choice; "other" needs a description),
--       condition, next service (date, required unless the unit is good).
--   Visits (fieldops.check_in, complete_step, submit_form, check_out,
--   review_visit), today, in the five hours before the call: each rep
--   visits his own customers nearest to his densest one (the one with the
--   most of his customers within 1 km), 12-18 minutes apart:
--     rep 1  four visits by the book; the fourth is at his nearest level-A
--            customer inside a mall: the check-in's accuracy circle (65 m)
--            straddles the 200 m radius (uncertain), the lead accepts the
--            visit on review: verified;
--     rep 2  one by the book; one in a hurry: tidies the shelf for a minute
--            (too_short), does it again, then tries to write the note
--            before the photo and the form (out_of_order) and checks out
--            without them: not verified (step_missing); one checked out
--            from the car 350 m away (checkout_outside);
--     rep 3  one by the book; then a check-in from home through a mock
--            location app (the phone reports the shop's pin, its mock flag
--            set: red), the steps done with photos the OS flags as mocked
--            (review), check-out still mocked: not verified (checkin_red,
--            checkout_red, photo_not_accepted).
--   Between two shops a rep drives (not to the check-in from home): a GNSS
--   fix every 20 s along the straight line, through ingest_fixes(), so a
--   map of the day (fieldops.svg_worker_day) has a track.
--   Photos (fieldops.photo_manifest, submit_photo): signed by the reps'
--   phones with keys they enrol (register_device_key; ES256 on Android and
--   HarmonyOS, Ed25519 on iOS; the development signer stands in for the
--   phone's keystore, as in sample_photos.sql), over offline nonces the
--   phone fetched before the first visit (issue_photo_nonces).
--   Tasks (fieldops.create_task, dispatch_task, accept_task,
--   set_task_state, add_task_feedback), played now:
--     a high-priority team task (put up the new range's posters at one of
--     rep 1's shops): dispatched to the team, rep 1 and rep 3 accept — the
--     first wins, the other is told "taken"; rep 1 starts it, reports a
--     note, a photo and a SHELF-CHECK, and is done;
--     a stock check for rep 2, who cannot complete it (the shop is being
--     renovated); the lead dispatches it again, to rep 3, who accepts.
--   A work order (after-sales: a level-A supermarket's cooler has stopped
--   cooling; played now): parts and stock (a warehouse and the engineer's
--   van, receive_stock), created by the dispatcher, dispatched, accepted,
--   two thermostats issued from the warehouse, travelling, on site,
--   repairing; the engineer consumes a thermostat, tries two fan motors
--   from his van which holds one (insufficient_stock: stock never goes
--   below zero), takes the one, uses refrigerant from the van, returns the
--   second thermostat (restocked), submits COOLER-INSPECT with the
--   nameplate photo, sets it awaiting the signature; the store manager
--   signs the hash of the order's final content on the engineer's phone
--   (work_order_signing_message, sign_work_order: completed); the
--   dispatcher closes it.
--
-- Sample history the API cannot write is written directly as a superuser:
-- the phones' bindings are backdated a month (as sample_fixes.sql does) and
-- the offline nonces' issue time to the morning (the day is played after
-- the fact).  Check-in and check-out fixes, step times and photo capture
-- times are given to the API; task and work order changes take the clock.
-- Deterministic: no random(); every draw is fieldops_sample.h01 (md5) of a
-- fixed key, so the same seeded tenant gives the same day relative to the
-- time it is played (ES256 signature bytes excepted).
--
SET client_min_messages = warning;
CREATE SCHEMA IF NOT EXISTS fieldops_sample;
CREATE OR REPLACE FUNCTION fieldops_sample.phone_public_key(text, bytea) RETURNS bytea
    AS 'fieldops', 'fieldops_dev_public_key' LANGUAGE C STRICT;
CREATE OR REPLACE FUNCTION fieldops_sample.phone_sign(text, bytea, bytea) RETURNS bytea
    AS 'fieldops', 'fieldops_dev_sign' LANGUAGE C STRICT;

CREATE TABLE IF NOT EXISTS fieldops_sample.process_cast (
    tenant_id   bigint NOT NULL,
    role        text NOT NULL,          -- rep1, rep2, rep3, lead, engineer, dispatcher
    worker_id   bigint NOT NULL,
    device_id   bigint,
    device_uid  text,
    algorithm   text,                   -- es256 | ed25519 (the phone's key)
    seed        bytea,                  -- the development signer's key seed
    key_id      bytea,
    counter     bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, role)
);
COMMENT ON TABLE fieldops_sample.process_cast IS
'The sample process day per tenant (test/generators/sample_process.sql): who plays which part, and their phones.';

CREATE TABLE IF NOT EXISTS fieldops_sample.process_step (
    tenant_id   bigint NOT NULL,
    step        int NOT NULL,
    at          timestamptz NOT NULL,   -- the story's time (fix or step time; the clock for tasks and work orders)
    kind        text NOT NULL,          -- setup, visit, photo, form, task, work_order
    worker_id   bigint,
    subject     text,                   -- visit 3 / task 2 / work order 1 and the customer
    call        text NOT NULL,
    expected    text,
    status      text,
    why         text,
    result      jsonb,
    PRIMARY KEY (tenant_id, step)
);
COMMENT ON TABLE fieldops_sample.process_step IS
'The sample process day call by call: what the API answered (refused steps and claims leave no other trace).';
RESET client_min_messages;

-- append a call
CREATE OR REPLACE FUNCTION fieldops_sample.process_log(p_tenant_id bigint, p_at timestamptz, p_kind text, p_worker bigint,
                                                       p_subject text, p_call text, p_expected text, p_status text,
                                                       p_why text DEFAULT NULL, p_result jsonb DEFAULT NULL)
RETURNS text
LANGUAGE sql VOLATILE
AS $$
    INSERT INTO fieldops_sample.process_step (tenant_id, step, at, kind, worker_id, subject, call, expected, status, why, result)
    VALUES (p_tenant_id, COALESCE((SELECT max(s.step) FROM fieldops_sample.process_step s WHERE s.tenant_id = p_tenant_id), 0) + 1,
            p_at, p_kind, p_worker, p_subject, p_call, p_expected, p_status, p_why, p_result)
    RETURNING status
$$;

-- a point p_north_m / p_east_m metres from a point (small distances)
CREATE OR REPLACE FUNCTION fieldops_sample.process_offset(p_geom geometry, p_north_m float8, p_east_m float8)
RETURNS geometry
LANGUAGE sql IMMUTABLE
AS $$
    SELECT ST_SetSRID(ST_MakePoint(ST_X(p_geom) + p_east_m / (111195.0 * cosd(ST_Y(p_geom))),
                                   ST_Y(p_geom) + p_north_m / 111195.0), 4326)
$$;

-- a GNSS fix as the phone sends it: p_dist_m from the point in a direction
-- drawn from p_key, accuracy p_acc_m, plus p_extra
CREATE OR REPLACE FUNCTION fieldops_sample.process_fix(p_device_uid text, p_at timestamptz, p_geom geometry, p_dist_m float8,
                                                       p_acc_m float8, p_key text, p_extra jsonb DEFAULT '{}')
RETURNS jsonb
LANGUAGE sql STABLE
AS $$
    SELECT jsonb_build_object('device_uid', p_device_uid,
               'recorded_at', to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
               'lat', round(ST_Y(g)::numeric, 7), 'lon', round(ST_X(g)::numeric, 7),
               'accuracy_m', round(p_acc_m::numeric, 1), 'provider', 'gps',
               'altitude_m', round((4 + 6 * fieldops_sample.h01(p_key || '/alt'))::numeric, 1),
               'satellites', 9 + floor(9 * fieldops_sample.h01(p_key || '/sat'))::int,
               'cn0_mean_dbhz', round((29 + 8 * fieldops_sample.h01(p_key || '/cn0'))::numeric, 1),
               'cn0_sd_dbhz', round((3.5 + 3 * fieldops_sample.h01(p_key || '/sd'))::numeric, 1)) || p_extra
      FROM (SELECT fieldops_sample.process_offset(p_geom, p_dist_m * cos(a), p_dist_m * sin(a)) AS g
              FROM (SELECT 2 * pi() * fieldops_sample.h01(p_key || '/dir') AS a) x) y
$$;

-- one signed photo by a cast member's phone: its next counter, p_nonce
-- (NULL: a fresh online nonce), the manifest, the signature, submit_photo()
CREATE OR REPLACE FUNCTION fieldops_sample.process_shoot(p_tenant_id bigint, p_role text, p_visit bigint, p_at timestamptz,
                                                         p_geom geometry, p_image text, p_nonce bytea DEFAULT NULL,
                                                         p_os_mock boolean DEFAULT false)
RETURNS TABLE (photo_id bigint, verdict text, reasons text)
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    c fieldops_sample.process_cast;
    v_m bytea;
BEGIN
    UPDATE fieldops_sample.process_cast x SET counter = x.counter + 1
     WHERE x.tenant_id = p_tenant_id AND x.role = p_role RETURNING * INTO c;
    v_m := fieldops.photo_manifest(c.algorithm, c.key_id, p_tenant_id, c.worker_id, c.device_id, COALESCE(p_visit, 0), p_at,
                                   ST_Y(p_geom), ST_X(p_geom), 6.5, c.counter, sha256(convert_to(p_image, 'UTF8')), NULL,
                                   COALESCE(p_nonce, fieldops.issue_photo_nonce(p_tenant_id, c.device_id, p_visit)),
                                   p_offline_nonce => p_nonce IS NOT NULL, p_os_mock => p_os_mock, p_stamped => true);
    RETURN QUERY
        SELECT s.photo_id, s.verdict, (SELECT string_agg(r ->> 'code', ',') FROM jsonb_array_elements(s.reasons) r
                                        WHERE r ->> 'severity' <> 'info')
          FROM fieldops.submit_photo(p_tenant_id, v_m, fieldops_sample.phone_sign(c.algorithm, c.seed, v_m)) s;
END
$$;

-- the SOP steps of one visit, done in order from p_at as p_style says:
--   book    every step, the optional ones too;
--   hurry   the preparation too soon, then again; the note before the
--           photo (refused); check-out follows without photo, form, note;
--   mock    every step, the photos flagged by the OS as mocked.
-- Returns the time of the last step.
CREATE OR REPLACE FUNCTION fieldops_sample.process_steps(p_tenant_id bigint, p_role text, p_visit jsonb, p_customer fieldops.customer,
                                                         p_at timestamptz, p_style text, p_nonces bytea[], INOUT p_nonce_i int,
                                                         OUT last_at timestamptz)
RETURNS record
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    c fieldops_sample.process_cast;
    s jsonb;
    v_visit bigint := (p_visit ->> 'visit_id')::bigint;
    v_at timestamptz := p_at;
    v_key text;
    v_ev jsonb;
    v_r jsonb;
    v_photo record;
    v_shelf record;
    v_sub bigint;
    v_subject text := format('visit %s, %s', v_visit, p_customer.name);
    v_texts jsonb := '{"presentation": ["新口味柠檬茶试饮, 店主愿意先进两箱", "介绍了夏季冰柜陈列奖励方案"],
                       "competitor": ["对面的超市在做买二送一", "竞品 A 新上了 500 ml 装, 零售价 3.5 元"],
                       "needs": ["希望下周二前补货 5 箱可乐 330 ml", "要一个新的价签条和两张海报"],
                       "note": ["补货两箱, 店主想要新口味", "货架整理完毕, 价签已更新", "店主反映周末客流大, 建议增加陈列"]}';
BEGIN
    SELECT * INTO c FROM fieldops_sample.process_cast x WHERE x.tenant_id = p_tenant_id AND x.role = p_role;
    FOR s IN SELECT e FROM jsonb_array_elements(p_visit #> '{sop,steps}') e ORDER BY (e ->> 'step_no')::int LOOP
        CONTINUE WHEN s ->> 'kind' IN ('checkin', 'checkout');
        v_key := format('%s/%s/%s', p_customer.external_ref, v_visit, s ->> 'step_no');
        IF p_style = 'hurry' AND s ->> 'kind' = 'preparation' THEN
            -- a minute at the shelf is not the two minutes the step takes
            v_r := fieldops.complete_step(p_tenant_id, v_visit, c.worker_id, (s ->> 'step_no')::int, '{}', v_at + interval '1 minute');
            PERFORM fieldops_sample.process_log(p_tenant_id, v_at + interval '1 minute', 'visit', c.worker_id, v_subject,
                format('complete_step %s (%s)', s ->> 'step_no', s ->> 'kind'), 'too_short', v_r ->> 'status', v_r ->> 'reason', v_r);
        END IF;
        IF p_style = 'hurry' AND s ->> 'kind' IN ('photo', 'group_photo') THEN
            -- straight to the note: refused, and he leaves without the rest
            SELECT x INTO s FROM jsonb_array_elements(p_visit #> '{sop,steps}') x WHERE x ->> 'kind' = 'note';
            v_at := v_at + interval '1 minute';
            v_r := fieldops.complete_step(p_tenant_id, v_visit, c.worker_id, (s ->> 'step_no')::int,
                                          jsonb_build_object('text', '都很好'), v_at);
            PERFORM fieldops_sample.process_log(p_tenant_id, v_at, 'visit', c.worker_id, v_subject,
                format('complete_step %s (%s)', s ->> 'step_no', s ->> 'kind'), 'out_of_order', v_r ->> 'status', v_r ->> 'reason', v_r);
            EXIT;
        END IF;
        -- the time the step takes: its minimum and one to three minutes more
        v_at := v_at + make_interval(secs => COALESCE((s ->> 'min_duration_s')::int, 0) + 60 + floor(120 * fieldops_sample.h01(v_key))::int);
        v_ev := '{}';
        IF s ->> 'kind' IN ('photo', 'group_photo') THEN
            SELECT * INTO v_photo FROM fieldops_sample.process_shoot(p_tenant_id, p_role, v_visit, v_at - interval '40 seconds',
                fieldops_sample.process_offset(p_customer.geom, 6 * fieldops_sample.h01(v_key || '/n') - 3, 6 * fieldops_sample.h01(v_key || '/e') - 3),
                format('%s %s %s', s ->> 'title', p_customer.external_ref, v_visit), p_nonces[p_nonce_i], p_style = 'mock');
            p_nonce_i := p_nonce_i + 1;
            PERFORM fieldops_sample.process_log(p_tenant_id, v_at - interval '40 seconds', 'photo', c.worker_id, v_subject,
                format('submit_photo (%s)', s ->> 'title'), CASE WHEN p_style = 'mock' THEN 'review' ELSE 'accepted' END,
                v_photo.verdict, v_photo.reasons, jsonb_build_object('photo_id', v_photo.photo_id));
            v_ev := jsonb_build_object('photo_ids', jsonb_build_array(v_photo.photo_id));
        ELSIF s ->> 'kind' = 'form' THEN
            SELECT * INTO v_shelf FROM fieldops_sample.process_shoot(p_tenant_id, p_role, v_visit, v_at - interval '3 minutes',
                fieldops_sample.process_offset(p_customer.geom, 2, 2), format('shelf %s %s', p_customer.external_ref, v_visit),
                p_nonces[p_nonce_i], p_style = 'mock');
            p_nonce_i := p_nonce_i + 1;
            PERFORM fieldops_sample.process_log(p_tenant_id, v_at - interval '3 minutes', 'photo', c.worker_id, v_subject,
                'submit_photo (shelf photo for the form)', CASE WHEN p_style = 'mock' THEN 'review' ELSE 'accepted' END,
                v_shelf.verdict, v_shelf.reasons, jsonb_build_object('photo_id', v_shelf.photo_id));
            v_sub := fieldops.submit_form(p_tenant_id, s ->> 'form', NULL, c.worker_id, jsonb_build_object(
                'store_open', true,
                'facings', 6 + floor(18 * fieldops_sample.h01(v_key || '/facings'))::int,
                'price_ok', fieldops_sample.h01(v_key || '/price') < 0.8,
                'out_of_stock', CASE WHEN fieldops_sample.h01(v_key || '/oos') < 0.4 THEN '["lemon_500"]'::jsonb ELSE '[]' END,
                'shelf_photo', jsonb_build_array(v_shelf.photo_id),
                'cooler', jsonb_build_array(jsonb_build_object('item', 'clean', 'checked', true),
                                            CASE WHEN fieldops_sample.h01(v_key || '/cooler') < 0.3
                                                 THEN jsonb_build_object('item', 'ours_only', 'checked', false, 'note', '冰柜里放了竞品 A 的茶饮')
                                                 ELSE jsonb_build_object('item', 'ours_only', 'checked', true) END)),
                p_visit_id => v_visit);
            PERFORM fieldops_sample.process_log(p_tenant_id, v_at, 'form', c.worker_id, v_subject, 'submit_form ' || (s ->> 'form'),
                'stored', 'stored', NULL, jsonb_build_object('submission_id', v_sub));
            v_ev := jsonb_build_object('submission_id', v_sub);
        ELSIF s ->> 'kind' IN ('presentation', 'competitor', 'needs', 'note') THEN
            v_ev := jsonb_build_object('text', v_texts -> (s ->> 'kind') ->> floor(fieldops_sample.h01(v_key || '/t')
                                                   * jsonb_array_length(v_texts -> (s ->> 'kind')))::int);
        END IF;
        v_r := fieldops.complete_step(p_tenant_id, v_visit, c.worker_id, (s ->> 'step_no')::int, v_ev, v_at);
        PERFORM fieldops_sample.process_log(p_tenant_id, v_at, 'visit', c.worker_id, v_subject,
            format('complete_step %s (%s)', s ->> 'step_no', s ->> 'kind'), 'done', v_r ->> 'status', v_r ->> 'reason', v_r);
    END LOOP;
    last_at := v_at;
END
$$;

-- one visit of a rep: check-in, the steps, check-out; p_style as for
-- process_steps plus outside (check-out from the car, 350 m away) and mall
-- (an uncertain check-in that the lead accepts on review)
CREATE OR REPLACE FUNCTION fieldops_sample.process_visit(p_tenant_id bigint, p_role text, p_customer fieldops.customer,
                                                         p_at timestamptz, p_style text, p_nonces bytea[], INOUT p_nonce_i int,
                                                         OUT left_at timestamptz, OUT out_at timestamptz)
RETURNS record
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    c fieldops_sample.process_cast;
    v_lead bigint;
    v_key text := p_customer.external_ref || '/' || p_role;
    v_in jsonb;
    v_out jsonb;
    v_fix jsonb;
    v_visit bigint;
    v_last timestamptz;
    v_extra jsonb := CASE WHEN p_style = 'mock' THEN '{"mock": true}' ELSE '{}' END;
    v_subject text;
BEGIN
    SELECT * INTO c FROM fieldops_sample.process_cast x WHERE x.tenant_id = p_tenant_id AND x.role = p_role;
    SELECT x.worker_id INTO v_lead FROM fieldops_sample.process_cast x WHERE x.tenant_id = p_tenant_id AND x.role = 'lead';
    v_fix := CASE p_style
             WHEN 'mock' THEN fieldops_sample.process_fix(c.device_uid, p_at, p_customer.geom, 0, 10, v_key || '/in', v_extra)
             WHEN 'mall' THEN fieldops_sample.process_fix(c.device_uid, p_at, p_customer.geom, 165, 65, v_key || '/in')
             ELSE fieldops_sample.process_fix(c.device_uid, p_at, p_customer.geom, 8 + 20 * fieldops_sample.h01(v_key || '/d'),
                                              4 + 8 * fieldops_sample.h01(v_key || '/a'), v_key || '/in') END;
    v_in := fieldops.check_in(p_tenant_id, c.worker_id, p_customer.customer_id, v_fix);
    v_visit := (v_in ->> 'visit_id')::bigint;
    v_subject := format('visit %s, %s', v_visit, p_customer.name);
    PERFORM fieldops_sample.process_log(p_tenant_id, p_at, 'visit', c.worker_id, v_subject,
        format('check_in (%s %s)', v_in #>> '{sop,code}', CASE p_style WHEN 'mock' THEN 'mock location app' WHEN 'mall' THEN 'indoors' ELSE 'on site' END),
        CASE p_style WHEN 'mock' THEN 'red' WHEN 'mall' THEN 'uncertain' ELSE 'inside' END,
        CASE WHEN p_style = 'mock' THEN v_in #>> '{checkin,band}' ELSE v_in #>> '{checkin,geofence}' END,
        format('%s m from the pin, accuracy %s m, %s', v_in #>> '{checkin,distance_m}', v_in #>> '{checkin,accuracy_m}', v_in #>> '{checkin,band}'),
        v_in - 'sop');
    SELECT x.last_at, x.p_nonce_i INTO v_last, p_nonce_i FROM fieldops_sample.process_steps(p_tenant_id, p_role, v_in, p_customer, p_at,
                                                                         p_style, p_nonces, p_nonce_i) x;
    left_at := v_last + make_interval(secs => 60 + floor(90 * fieldops_sample.h01(v_key || '/out'))::int);
    v_fix := CASE p_style
             WHEN 'mock' THEN fieldops_sample.process_fix(c.device_uid, left_at, p_customer.geom, 0, 10, v_key || '/out', v_extra)
             WHEN 'outside' THEN fieldops_sample.process_fix(c.device_uid, left_at, p_customer.geom, 350, 15, v_key || '/out')
             ELSE fieldops_sample.process_fix(c.device_uid, left_at, p_customer.geom, 8 + 20 * fieldops_sample.h01(v_key || '/d2'),
                                              4 + 8 * fieldops_sample.h01(v_key || '/a2'), v_key || '/out') END;
    v_out := fieldops.check_out(p_tenant_id, v_visit, c.worker_id, v_fix);
    PERFORM fieldops_sample.process_log(p_tenant_id, left_at, 'visit', c.worker_id, v_subject, 'check_out',
        CASE WHEN p_style IN ('book') THEN 'verified' ELSE 'not verified' END,
        CASE WHEN (v_out ->> 'verified')::boolean THEN 'verified' ELSE 'not verified' END,
        (SELECT string_agg(r ->> 'code', ', ') FROM jsonb_array_elements(v_out -> 'reasons') r), v_out - 'sop');
    IF p_style = 'mall' THEN
        v_out := fieldops.review_visit(p_tenant_id, v_visit, v_lead, true, '商场室内, GPS 精度差; 店长在合影里');
        PERFORM fieldops_sample.process_log(p_tenant_id, left_at, 'visit', v_lead, v_subject, 'review_visit (accept)', 'verified',
            CASE WHEN (v_out ->> 'verified')::boolean THEN 'verified' ELSE 'not verified' END,
            (SELECT string_agg(r ->> 'code', ', ') FROM jsonb_array_elements(v_out -> 'reasons') r), v_out - 'sop');
    END IF;
    out_at := left_at;
    left_at := left_at + make_interval(mins => 12 + floor(7 * fieldops_sample.h01(v_key || '/travel'))::int);
END
$$;

-- the forms and SOPs of the day
CREATE OR REPLACE FUNCTION fieldops_sample.process_setup(p_tenant_id bigint)
RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    v_now timestamptz := now();
BEGIN
    PERFORM fieldops_sample.process_log(p_tenant_id, v_now, 'setup', NULL, 'form SHELF-CHECK', 'define_form', '1',
        fieldops.define_form(p_tenant_id, 'SHELF-CHECK', '门店陈列检查 Shelf check', $form$
{
  "description": "What a sales rep checks at every visit: our facings, prices, stock and the branded cooler.",
  "sections": [
    {"key": "store", "label": "Store 门店"},
    {"key": "shelf", "label": "Shelf 货架", "show_if": {"field": "store_open", "equals": true}}
  ],
  "fields": [
    {"key": "store_open", "type": "yes_no", "label": "Store open 营业中", "required": true, "section": "store"},
    {"key": "facings", "type": "number", "label": "Facings of our products 排面数", "integer": true, "min": 0, "max": 200,
     "required": true, "section": "shelf"},
    {"key": "price_ok", "type": "yes_no", "label": "Shelf prices as agreed 价格合规", "required": true, "section": "shelf"},
    {"key": "out_of_stock", "type": "multi_choice", "label": "Out of stock 缺货单品", "section": "shelf",
     "options": [{"value": "cola_330", "label": "Cola 330 ml"}, {"value": "cola_500", "label": "Cola 500 ml"},
                 {"value": "lemon_500", "label": "Lemon tea 500 ml 柠檬茶"}, {"value": "water_550", "label": "Water 550 ml"}]},
    {"key": "shelf_photo", "type": "photo", "label": "Shelf photo 货架照", "required": true, "section": "shelf", "min_count": 1, "max_count": 2},
    {"key": "cooler", "type": "checklist", "label": "Branded cooler 品牌冰柜", "section": "shelf", "items": [
      {"key": "clean", "label": "Clean and lit 清洁, 灯亮", "required": true},
      {"key": "ours_only", "label": "Our products only 只放本品", "note_when_unchecked": true}]},
    {"key": "remarks", "type": "text", "label": "Remarks 备注", "multiline": true, "max_length": 1000}
  ]
}$form$)::text, 'fieldops.define_form() returns the version');
    PERFORM fieldops_sample.process_log(p_tenant_id, v_now, 'setup', NULL, 'form COOLER-INSPECT', 'define_form', '1',
        fieldops.define_form(p_tenant_id, 'COOLER-INSPECT', '冷柜检修记录 Cooler service record', $form$
{
  "description": "What a service engineer records on a cooler repair.",
  "fields": [
    {"key": "asset_tag", "type": "text", "label": "Asset tag 资产编号", "required": true, "pattern": "LG-[0-9]{5}",
     "help": "On the plate inside the door, e.g. LG-01234"},
    {"key": "nameplate_photo", "type": "photo", "label": "Nameplate photo 铭牌照片", "required": true, "allow_review": false},
    {"key": "temp_arrival_c", "type": "number", "label": "Temperature on arrival 到场温度", "unit": "°C", "min": -30, "max": 30,
     "decimals": 1, "required": true},
    {"key": "faults", "type": "multi_choice", "label": "Faults found 故障", "required": true, "min_selections": 1,
     "options": [{"value": "thermostat", "label": "Thermostat 温控器"}, {"value": "fan", "label": "Fan motor 风扇电机"},
                 {"value": "leak", "label": "Refrigerant leak 漏氟"}, {"value": "seal", "label": "Door seal 门封"},
                 {"value": "other", "label": "Other 其他"}]},
    {"key": "fault_notes", "type": "text", "label": "Fault description 故障描述", "min_length": 10, "max_length": 1000,
     "required_if": {"field": "faults", "contains": "other"}},
    {"key": "temp_after_c", "type": "number", "label": "Temperature after the repair 修后温度", "unit": "°C", "min": -30, "max": 30,
     "decimals": 1, "required": true},
    {"key": "condition", "type": "single_choice", "label": "Condition after the repair 修后状况", "required": true,
     "options": [{"value": "good", "label": "Good 良好"}, {"value": "worn", "label": "Worn 磨损"}, {"value": "replace", "label": "Replace soon 建议更换"}]},
    {"key": "next_service", "type": "date", "label": "Next service due 下次保养", "min": "today",
     "required_if": {"field": "condition", "not_equals": "good"}}
  ]
}$form$)::text, 'fieldops.define_form() returns the version');
    PERFORM fieldops_sample.process_log(p_tenant_id, v_now, 'setup', NULL, 'SOP STD-VISIT', 'define_sop', '1',
        fieldops.define_sop(p_tenant_id, 'STD-VISIT', '标准拜访 Standard visit', '[
            {"kind": "checkin"},
            {"kind": "preparation", "title": "整理货架 tidy the shelf", "min_duration_s": 120},
            {"kind": "photo", "title": "门头照 storefront photo", "min_photos": 1},
            {"kind": "form", "title": "陈列检查 shelf check", "form": "SHELF-CHECK"},
            {"kind": "presentation", "title": "新品推介 present the new range", "required": false, "min_duration_s": 180},
            {"kind": "note", "title": "拜访小结 visit note"},
            {"kind": "checkout"}]')::text, 'fieldops.define_sop() returns the version');
    PERFORM fieldops_sample.process_log(p_tenant_id, v_now, 'setup', NULL, 'SOP KA-VISIT', 'define_sop', '1',
        fieldops.define_sop(p_tenant_id, 'KA-VISIT', '重点客户拜访 Key account visit', '[
            {"kind": "checkin"},
            {"kind": "preparation", "title": "整理货架 tidy the shelf", "min_duration_s": 300},
            {"kind": "group_photo", "title": "与店长合影 photo with the store manager", "min_photos": 1},
            {"kind": "form", "title": "陈列检查 shelf check", "form": "SHELF-CHECK"},
            {"kind": "competitor", "title": "竞品信息 competitor activity"},
            {"kind": "needs", "title": "客户需求 the customer''s needs"},
            {"kind": "note", "title": "拜访小结 visit note"},
            {"kind": "checkout"}]')::text, 'fieldops.define_sop() returns the version');
    PERFORM fieldops.assign_sop(p_tenant_id, 'STD-VISIT'), fieldops.assign_sop(p_tenant_id, 'KA-VISIT', 'A');
    PERFORM fieldops_sample.process_log(p_tenant_id, v_now, 'setup', NULL, 'SOP assignment', 'assign_sop', 'ok', 'ok',
        'STD-VISIT for every customer, KA-VISIT for level A');
END
$$;

-- the cast: see the header
CREATE OR REPLACE FUNCTION fieldops_sample.process_choose(p_tenant_id bigint)
RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    v_team bigint;
    v_area bigint;
    v_svc bigint;
    r record;
    i int := 0;
BEGIN
    CREATE TEMP TABLE process_free ON COMMIT DROP AS
    SELECT w.worker_id, w.team_id, w.external_ref, w.is_team_lead,
           (SELECT min(d.device_id) FROM fieldops.device d
             WHERE d.tenant_id = w.tenant_id AND d.worker_id = w.worker_id AND d.status = 'active'
               AND NOT EXISTS (SELECT 1 FROM fieldops.device_binding b WHERE b.tenant_id = d.tenant_id AND b.device_id = d.device_id
                                  AND b.worker_id <> w.worker_id)) AS device_id
      FROM fieldops.worker w
     WHERE w.tenant_id = p_tenant_id AND w.status = 'active' AND w.left_on IS NULL
       AND NOT EXISTS (SELECT 1 FROM fieldops.fix f WHERE f.tenant_id = w.tenant_id AND f.worker_id = w.worker_id)
       AND NOT EXISTS (SELECT 1 FROM fieldops.photo p WHERE p.tenant_id = w.tenant_id AND p.worker_id = w.worker_id);

    SELECT t.team_id, t.region_id INTO v_team, v_area
      FROM fieldops.team t JOIN process_free f ON f.team_id = t.team_id AND NOT f.is_team_lead AND f.device_id IS NOT NULL
     WHERE t.tenant_id = p_tenant_id AND t.code LIKE '%-SALES'
     GROUP BY t.team_id, t.region_id, t.code
    HAVING count(*) >= 3
     ORDER BY count(*) DESC, t.code LIMIT 1;
    IF v_team IS NULL THEN
        RAISE EXCEPTION 'tenant % has no sales team with three members free of fixes and photos (a tenant made by sample_tenant.sql?)', p_tenant_id;
    END IF;
    FOR r IN SELECT f.* FROM process_free f WHERE f.team_id = v_team AND NOT f.is_team_lead AND f.device_id IS NOT NULL
              ORDER BY f.external_ref LIMIT 3 LOOP
        i := i + 1;
        INSERT INTO fieldops_sample.process_cast (tenant_id, role, worker_id, device_id) VALUES (p_tenant_id, 'rep' || i, r.worker_id, r.device_id);
    END LOOP;
    INSERT INTO fieldops_sample.process_cast (tenant_id, role, worker_id)
    SELECT p_tenant_id, 'lead', w.worker_id FROM fieldops.worker w
     WHERE w.tenant_id = p_tenant_id AND w.team_id = v_team AND w.is_team_lead AND w.status = 'active';
    SELECT t.team_id INTO v_svc FROM fieldops.team t
     WHERE t.tenant_id = p_tenant_id AND t.region_id = v_area AND t.code LIKE '%-SVC' ORDER BY t.code LIMIT 1;
    INSERT INTO fieldops_sample.process_cast (tenant_id, role, worker_id, device_id)
    SELECT p_tenant_id, 'engineer', f.worker_id, f.device_id FROM process_free f
     WHERE f.team_id = v_svc AND NOT f.is_team_lead AND f.device_id IS NOT NULL ORDER BY f.external_ref LIMIT 1;
    INSERT INTO fieldops_sample.process_cast (tenant_id, role, worker_id)
    SELECT p_tenant_id, 'dispatcher', w.worker_id FROM fieldops.worker w
     WHERE w.tenant_id = p_tenant_id AND w.team_id = v_svc AND w.is_team_lead AND w.status = 'active';
    IF (SELECT count(*) FROM fieldops_sample.process_cast WHERE tenant_id = p_tenant_id) <> 6 THEN
        RAISE EXCEPTION 'tenant %: the sales team''s lead, or the service team with a free engineer and a lead, is missing', p_tenant_id;
    END IF;

    -- the phones: bound a month ago (sample history), a signing key each
    UPDATE fieldops_sample.process_cast c
       SET device_uid = d.device_uid, algorithm = CASE WHEN d.platform = 'ios' THEN 'ed25519' ELSE 'es256' END,
           seed = sha256(convert_to('fieldops sample process: ' || d.device_uid, 'UTF8'))
      FROM fieldops.device d
     WHERE c.tenant_id = p_tenant_id AND d.tenant_id = c.tenant_id AND d.device_id = c.device_id;
    UPDATE fieldops.device_binding b SET bound_at = now() - interval '30 days'
      FROM fieldops_sample.process_cast c
     WHERE c.tenant_id = p_tenant_id AND b.tenant_id = c.tenant_id AND b.device_id = c.device_id AND b.unbound_at IS NULL
       AND b.bound_at > now() - interval '30 days';
    UPDATE fieldops.device d SET bound_at = now() - interval '30 days', registered_at = least(d.registered_at, now() - interval '30 days')
      FROM fieldops_sample.process_cast c
     WHERE c.tenant_id = p_tenant_id AND d.tenant_id = c.tenant_id AND d.device_id = c.device_id AND d.bound_at > now() - interval '30 days';
    UPDATE fieldops_sample.process_cast c
       SET key_id = fieldops.register_device_key(p_tenant_id, c.device_id, c.algorithm, fieldops_sample.phone_public_key(c.algorithm, c.seed))
     WHERE c.tenant_id = p_tenant_id AND c.device_id IS NOT NULL;
END
$$;

-- a rep's shops for the day: his customer with the most of his customers
-- within 1 km, then the nearest others; p_with_a: the last one is his
-- nearest level-A customer
CREATE OR REPLACE FUNCTION fieldops_sample.process_route(p_tenant_id bigint, p_worker bigint, p_n int, p_with_a boolean)
RETURNS SETOF fieldops.customer
LANGUAGE sql STABLE
AS $$
    WITH mine AS (
        SELECT c.* FROM fieldops.customer c
         WHERE c.tenant_id = p_tenant_id AND c.owner_worker_id = p_worker AND c.geom IS NOT NULL
    ), anchor AS (
        SELECT m.* FROM mine m
         ORDER BY (SELECT count(*) FROM mine o WHERE ST_DWithin(m.geom::geography, o.geom::geography, 1000)) DESC, m.external_ref
         LIMIT 1
    ), plain AS (
        SELECT m.customer_id, 0 AS k, ST_Distance(m.geom::geography, a.geom::geography) AS d FROM mine m, anchor a
         WHERE m.level <> 'A' OR m.customer_id = a.customer_id
         ORDER BY d, m.external_ref LIMIT CASE WHEN p_with_a THEN p_n - 1 ELSE p_n END
    ), ka AS (
        SELECT m.customer_id, 1 AS k, ST_Distance(m.geom::geography, a.geom::geography) AS d FROM mine m, anchor a
         WHERE p_with_a AND m.level = 'A' AND m.customer_id <> a.customer_id
         ORDER BY d, m.external_ref LIMIT 1
    )
    SELECT c.* FROM (SELECT * FROM plain UNION ALL SELECT * FROM ka) y
      JOIN fieldops.customer c ON c.tenant_id = p_tenant_id AND c.customer_id = y.customer_id
     ORDER BY y.k, y.d
$$;

-- the drive between two shops as the phone reports it: a GNSS fix every
-- 20 s along the straight line from p_from to p_to (small md5 jitter),
-- through ingest_fixes() like any track; returns how many were stored
CREATE OR REPLACE FUNCTION fieldops_sample.process_track(p_tenant_id bigint, p_role text, p_from geometry, p_to geometry,
                                                         p_t0 timestamptz, p_t1 timestamptz)
RETURNS integer
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    c fieldops_sample.process_cast;
    v_n int;
    v_fixes jsonb;
    v_stored int;
BEGIN
    SELECT * INTO c FROM fieldops_sample.process_cast x WHERE x.tenant_id = p_tenant_id AND x.role = p_role;
    v_n := GREATEST(floor(extract(epoch FROM p_t1 - p_t0) / 20)::int, 1);
    SELECT jsonb_agg(fieldops_sample.process_fix(c.device_uid, p_t0 + (p_t1 - p_t0) * (i::float8 / v_n),
               ST_SetSRID(ST_MakePoint(ST_X(p_from) + (ST_X(p_to) - ST_X(p_from)) * i / v_n,
                                       ST_Y(p_from) + (ST_Y(p_to) - ST_Y(p_from)) * i / v_n), 4326),
               3 * fieldops_sample.h01(c.device_uid || '/j/' || i || '/' || p_t0),
               5 + 4 * fieldops_sample.h01(c.device_uid || '/acc/' || i || '/' || p_t0),
               c.device_uid || '/track/' || i || '/' || p_t0) ORDER BY i)
      INTO v_fixes FROM generate_series(0, v_n) i;
    SELECT count(*) FILTER (WHERE r.status = 'stored') INTO v_stored
      FROM fieldops.ingest_fixes(p_tenant_id, v_fixes, '{"store_off_duty": true}') r;
    RETURN v_stored;
END
$$;

-- the visits of the day (see the header)
CREATE OR REPLACE FUNCTION fieldops_sample.process_visits(p_tenant_id bigint)
RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    c record;
    cu fieldops.customer;
    v_start timestamptz := date_trunc('minute', now()) - interval '5 hours';
    v_at timestamptz;
    v_nonces bytea[];
    v_i int;
    v_n int;
    v_styles text[];
    v_prev geometry;
    v_left timestamptz;
    v_stored int;
BEGIN
    FOR c IN SELECT * FROM fieldops_sample.process_cast x WHERE x.tenant_id = p_tenant_id AND x.role LIKE 'rep%' ORDER BY x.role LOOP
        v_styles := CASE c.role WHEN 'rep1' THEN ARRAY['book', 'book', 'book', 'mall']
                                WHEN 'rep2' THEN ARRAY['book', 'hurry', 'outside']
                                ELSE ARRAY['book', 'mock'] END;
        -- before the first visit the app fetches a batch of offline nonces
        -- (sample history: issued then, not now)
        v_at := v_start + make_interval(mins => floor(20 * fieldops_sample.h01(c.device_uid || '/start'))::int);
        v_nonces := ARRAY(SELECT fieldops.issue_photo_nonces(p_tenant_id, c.device_id, 12));
        UPDATE fieldops.photo_nonce n SET issued_at = v_at - interval '10 minutes'
         WHERE n.tenant_id = p_tenant_id AND n.nonce = ANY (v_nonces);
        PERFORM fieldops_sample.process_log(p_tenant_id, v_at - interval '10 minutes', 'photo', c.worker_id, NULL,
            'issue_photo_nonces', '12', cardinality(v_nonces)::text, 'offline nonces for the day''s photos');
        v_i := 1;
        v_n := 0;
        v_prev := NULL;
        FOR cu IN SELECT * FROM fieldops_sample.process_route(p_tenant_id, c.worker_id, cardinality(v_styles), c.role = 'rep1') LOOP
            v_n := v_n + 1;
            -- the drive from the last shop (not for a check-in from home)
            IF v_prev IS NOT NULL AND v_styles[v_n] <> 'mock' THEN
                v_stored := fieldops_sample.process_track(p_tenant_id, c.role, v_prev, cu.geom, v_left + interval '30 seconds',
                                                          v_at - interval '30 seconds');
                PERFORM fieldops_sample.process_log(p_tenant_id, v_at - interval '30 seconds', 'track', c.worker_id,
                    'to ' || cu.name, 'ingest_fixes (the drive, a fix every 20 s)', 'stored', 'stored',
                    v_stored || ' fixes stored', jsonb_build_object('stored', v_stored));
            END IF;
            SELECT x.left_at, x.p_nonce_i, x.out_at INTO v_at, v_i, v_left
              FROM fieldops_sample.process_visit(p_tenant_id, c.role, cu, v_at, v_styles[v_n], v_nonces, v_i) x;
            v_prev := cu.geom;
        END LOOP;
        IF v_n < cardinality(v_styles) THEN
            RAISE EXCEPTION 'worker % has only % located customers, the story needs %', c.worker_id, v_n, cardinality(v_styles);
        END IF;
    END LOOP;
END
$$;

-- the tasks (see the header)
CREATE OR REPLACE FUNCTION fieldops_sample.process_tasks(p_tenant_id bigint)
RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    v_lead bigint;
    v_rep1 bigint;
    v_rep2 bigint;
    v_rep3 bigint;
    v_team bigint;
    cu fieldops.customer;
    v_task bigint;
    v_photo record;
    v_sub bigint;
    v_s text;
BEGIN
    SELECT max(worker_id) FILTER (WHERE role = 'lead'), max(worker_id) FILTER (WHERE role = 'rep1'),
           max(worker_id) FILTER (WHERE role = 'rep2'), max(worker_id) FILTER (WHERE role = 'rep3')
      INTO v_lead, v_rep1, v_rep2, v_rep3 FROM fieldops_sample.process_cast WHERE tenant_id = p_tenant_id;
    SELECT w.team_id INTO v_team FROM fieldops.worker w WHERE w.tenant_id = p_tenant_id AND w.worker_id = v_lead;

    -- 1. a team task: two accept, one wins; feedback; done
    SELECT * INTO cu FROM fieldops_sample.process_route(p_tenant_id, v_rep1, 6, false) OFFSET 5 LIMIT 1;
    v_task := fieldops.create_task(p_tenant_id, '新品海报张贴 Put up the new range''s posters', cu.geom, now() + interval '1 day', 'high',
                                   '柠檬茶新品海报两张, 贴在收银台旁和冰柜门上', cu.customer_id, v_lead, p_external_ref => 'CRM-T-' || cu.external_ref);
    PERFORM fieldops_sample.process_log(p_tenant_id, clock_timestamp(), 'task', v_lead, format('task %s, %s', v_task, cu.name),
        'create_task (high, due tomorrow)', 'new', (SELECT state FROM fieldops.task WHERE tenant_id = p_tenant_id AND task_id = v_task));
    v_s := fieldops.dispatch_task(p_tenant_id, v_task, v_lead, p_team_id => v_team);
    PERFORM fieldops_sample.process_log(p_tenant_id, clock_timestamp(), 'task', v_lead, format('task %s, %s', v_task, cu.name),
        'dispatch_task (to the team)', 'ok', v_s);
    PERFORM fieldops_sample.process_log(p_tenant_id, clock_timestamp(), 'task', v_rep1, format('task %s, %s', v_task, cu.name),
        'accept_task', 'ok', fieldops.accept_task(p_tenant_id, v_task, v_rep1));
    PERFORM fieldops_sample.process_log(p_tenant_id, clock_timestamp(), 'task', v_rep3, format('task %s, %s', v_task, cu.name),
        'accept_task', 'taken', fieldops.accept_task(p_tenant_id, v_task, v_rep3), 'a team mate accepted it first');
    PERFORM fieldops_sample.process_log(p_tenant_id, clock_timestamp(), 'task', v_rep1, format('task %s, %s', v_task, cu.name),
        'set_task_state in_progress', 'ok', fieldops.set_task_state(p_tenant_id, v_task, 'in_progress', v_rep1));
    PERFORM fieldops_sample.process_log(p_tenant_id, clock_timestamp(), 'task', v_rep1, format('task %s, %s', v_task, cu.name),
        'add_task_feedback (note)', 'added', fieldops.add_task_feedback(p_tenant_id, v_task, v_rep1, '两张海报已贴好, 店主同意保留两周'));
    SELECT * INTO v_photo FROM fieldops_sample.process_shoot(p_tenant_id, 'rep1', NULL, clock_timestamp(),
        fieldops_sample.process_offset(cu.geom, 3, -2), 'poster ' || cu.external_ref);
    PERFORM fieldops_sample.process_log(p_tenant_id, clock_timestamp(), 'photo', v_rep1, format('task %s, %s', v_task, cu.name),
        'submit_photo (the posters)', 'accepted', v_photo.verdict, v_photo.reasons, jsonb_build_object('photo_id', v_photo.photo_id));
    PERFORM fieldops_sample.process_log(p_tenant_id, clock_timestamp(), 'task', v_rep1, format('task %s, %s', v_task, cu.name),
        'add_task_feedback (photo)', 'added', fieldops.add_task_feedback(p_tenant_id, v_task, v_rep1, p_photo_id => v_photo.photo_id));
    v_sub := fieldops.submit_form(p_tenant_id, 'SHELF-CHECK', NULL, v_rep1, jsonb_build_object(
        'store_open', true, 'facings', 14, 'price_ok', true, 'shelf_photo', jsonb_build_array(v_photo.photo_id),
        'cooler', '[{"item": "clean", "checked": true}, {"item": "ours_only", "checked": true}]'::jsonb,
        'remarks', '海报贴在收银台旁'), p_task_id => v_task);
    PERFORM fieldops_sample.process_log(p_tenant_id, clock_timestamp(), 'form', v_rep1, format('task %s, %s', v_task, cu.name),
        'submit_form SHELF-CHECK (for the task)', 'stored', 'stored', NULL, jsonb_build_object('submission_id', v_sub));
    PERFORM fieldops_sample.process_log(p_tenant_id, clock_timestamp(), 'task', v_rep1, format('task %s, %s', v_task, cu.name),
        'add_task_feedback (form)', 'added', fieldops.add_task_feedback(p_tenant_id, v_task, v_rep1, p_form_submission_id => v_sub));
    PERFORM fieldops_sample.process_log(p_tenant_id, clock_timestamp(), 'task', v_rep1, format('task %s, %s', v_task, cu.name),
        'set_task_state done', 'ok', fieldops.set_task_state(p_tenant_id, v_task, 'done', v_rep1));

    -- 2. a task that cannot be completed, dispatched again
    SELECT * INTO cu FROM fieldops_sample.process_route(p_tenant_id, v_rep2, 5, false) OFFSET 4 LIMIT 1;
    v_task := fieldops.create_task(p_tenant_id, '库存核对 Stock check', cu.geom, now() + interval '2 days', 'normal',
                                   '核对可乐 330 ml 库存, 拍照上传', cu.customer_id, v_lead, v_rep2);
    PERFORM fieldops_sample.process_log(p_tenant_id, clock_timestamp(), 'task', v_lead, format('task %s, %s', v_task, cu.name),
        'create_task (for a worker)', 'assigned', (SELECT state FROM fieldops.task WHERE tenant_id = p_tenant_id AND task_id = v_task));
    PERFORM fieldops_sample.process_log(p_tenant_id, clock_timestamp(), 'task', v_rep2, format('task %s, %s', v_task, cu.name),
        'accept_task', 'ok', fieldops.accept_task(p_tenant_id, v_task, v_rep2));
    PERFORM fieldops_sample.process_log(p_tenant_id, clock_timestamp(), 'task', v_rep2, format('task %s, %s', v_task, cu.name),
        'set_task_state done (not started)', 'invalid_transition', fieldops.set_task_state(p_tenant_id, v_task, 'done', v_rep2),
        'accepted -> done is not in fieldops.state_transition');
    PERFORM fieldops_sample.process_log(p_tenant_id, clock_timestamp(), 'task', v_rep2, format('task %s, %s', v_task, cu.name),
        'set_task_state in_progress', 'ok', fieldops.set_task_state(p_tenant_id, v_task, 'in_progress', v_rep2));
    PERFORM fieldops_sample.process_log(p_tenant_id, clock_timestamp(), 'task', v_rep2, format('task %s, %s', v_task, cu.name),
        'set_task_state cannot_complete (no reason)', 'reason_required', fieldops.set_task_state(p_tenant_id, v_task, 'cannot_complete', v_rep2));
    PERFORM fieldops_sample.process_log(p_tenant_id, clock_timestamp(), 'task', v_rep2, format('task %s, %s', v_task, cu.name),
        'set_task_state cannot_complete', 'ok', fieldops.set_task_state(p_tenant_id, v_task, 'cannot_complete', v_rep2, '店铺装修, 暂停营业两周'));
    PERFORM fieldops_sample.process_log(p_tenant_id, clock_timestamp(), 'task', v_lead, format('task %s, %s', v_task, cu.name),
        'dispatch_task (again, to another rep)', 'ok', fieldops.dispatch_task(p_tenant_id, v_task, v_lead, v_rep3));
    PERFORM fieldops_sample.process_log(p_tenant_id, clock_timestamp(), 'task', v_rep3, format('task %s, %s', v_task, cu.name),
        'accept_task', 'ok', fieldops.accept_task(p_tenant_id, v_task, v_rep3));
END
$$;

-- the work order (see the header)
CREATE OR REPLACE FUNCTION fieldops_sample.process_work_order(p_tenant_id bigint)
RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    e fieldops_sample.process_cast;
    v_disp bigint;
    v_area bigint;
    cu fieldops.customer;
    v_wh bigint;
    v_van bigint;
    v_thermo bigint;
    v_fan bigint;
    v_seal bigint;
    v_gas bigint;
    v_wo bigint;
    v_subj text;
    v_photo record;
    v_sub bigint;
    v_content text;
    v_hash bytea;
    v_signer text := '店长 刘建国';
BEGIN
    SELECT * INTO e FROM fieldops_sample.process_cast WHERE tenant_id = p_tenant_id AND role = 'engineer';
    SELECT worker_id INTO v_disp FROM fieldops_sample.process_cast WHERE tenant_id = p_tenant_id AND role = 'dispatcher';
    SELECT t.region_id INTO v_area FROM fieldops.worker w JOIN fieldops.team t USING (tenant_id, team_id)
     WHERE w.tenant_id = p_tenant_id AND w.worker_id = v_disp;
    -- the customer: the area's first level-A supermarket with a position
    SELECT c.* INTO cu FROM fieldops.customer c JOIN fieldops.region r ON r.tenant_id = c.tenant_id AND r.region_id = c.region_id
     WHERE c.tenant_id = p_tenant_id AND r.parent_region_id = v_area AND c.level = 'A' AND c.category = '超市' AND c.geom IS NOT NULL
     ORDER BY c.external_ref LIMIT 1;

    v_thermo := fieldops.upsert_part(p_tenant_id, 'THERMO-K50', '温控器 Thermostat K50', 'pcs');
    v_fan := fieldops.upsert_part(p_tenant_id, 'FAN-M12', '冷柜风扇电机 Fan motor M12', 'pcs');
    v_seal := fieldops.upsert_part(p_tenant_id, 'SEAL-1800', '门封条 1.8 m Door seal', 'pcs');
    v_gas := fieldops.upsert_part(p_tenant_id, 'R600A', '制冷剂 R600a Refrigerant', 'g');
    v_wh := fieldops.upsert_stock_location(p_tenant_id, 'WH-' || (SELECT code FROM fieldops.region WHERE tenant_id = p_tenant_id AND region_id = v_area),
                                           '片区备件库 Area spare-parts store', 'warehouse');
    v_van := fieldops.upsert_stock_location(p_tenant_id, 'VAN-' || (SELECT external_ref FROM fieldops.worker WHERE tenant_id = p_tenant_id AND worker_id = e.worker_id),
                                            '工程车 Engineer''s van', 'van', e.worker_id);
    PERFORM fieldops.receive_stock(p_tenant_id, v_wh, v_thermo, 4, v_disp, 'delivery'), fieldops.receive_stock(p_tenant_id, v_wh, v_fan, 6, v_disp, 'delivery'),
            fieldops.receive_stock(p_tenant_id, v_wh, v_seal, 10, v_disp, 'delivery'), fieldops.receive_stock(p_tenant_id, v_wh, v_gas, 2000, v_disp, 'delivery'),
            fieldops.receive_stock(p_tenant_id, v_van, v_fan, 1, e.worker_id, 'van restock'), fieldops.receive_stock(p_tenant_id, v_van, v_gas, 300, e.worker_id, 'van restock');
    PERFORM fieldops_sample.process_log(p_tenant_id, clock_timestamp(), 'setup', v_disp, 'parts and stock', 'upsert_part, upsert_stock_location, receive_stock',
        'ok', 'ok', '4 parts; the area store and the engineer''s van stocked');

    v_wo := fieldops.create_work_order(p_tenant_id, cu.customer_id, '冷柜不制冷 Cooler not cooling', 'urgent',
                                       '饮料冷柜 2 号柜温 15 °C, 压缩机不停机', p_reference => 'CRM-SR-' || cu.external_ref,
                                       p_dispatcher_worker_id => v_disp);
    v_subj := format('work order %s, %s', v_wo, cu.name);
    PERFORM fieldops_sample.process_log(p_tenant_id, clock_timestamp(), 'work_order', v_disp, v_subj, 'create_work_order (urgent)', 'created',
        (SELECT state FROM fieldops.work_order WHERE tenant_id = p_tenant_id AND work_order_id = v_wo));
    PERFORM fieldops_sample.process_log(p_tenant_id, clock_timestamp(), 'work_order', v_disp, v_subj, 'dispatch_work_order', 'ok',
        fieldops.dispatch_work_order(p_tenant_id, v_wo, v_disp, e.worker_id));
    PERFORM fieldops_sample.process_log(p_tenant_id, clock_timestamp(), 'work_order', e.worker_id, v_subj, 'set_work_order_state accepted', 'ok',
        fieldops.set_work_order_state(p_tenant_id, v_wo, 'accepted', e.worker_id));
    PERFORM fieldops_sample.process_log(p_tenant_id, clock_timestamp(), 'work_order', v_disp, v_subj, 'issue_part THERMO-K50 x2 (area store)', 'issued',
        fieldops.issue_part(p_tenant_id, v_wo, v_thermo, v_wh, 2, v_disp));
    PERFORM fieldops_sample.process_log(p_tenant_id, clock_timestamp(), 'work_order', e.worker_id, v_subj, 'set_work_order_state travelling', 'ok',
        fieldops.set_work_order_state(p_tenant_id, v_wo, 'travelling', e.worker_id));
    PERFORM fieldops_sample.process_log(p_tenant_id, clock_timestamp(), 'work_order', e.worker_id, v_subj, 'set_work_order_state on_site', 'ok',
        fieldops.set_work_order_state(p_tenant_id, v_wo, 'on_site', e.worker_id));
    PERFORM fieldops_sample.process_log(p_tenant_id, clock_timestamp(), 'work_order', e.worker_id, v_subj, 'set_work_order_state repairing', 'ok',
        fieldops.set_work_order_state(p_tenant_id, v_wo, 'repairing', e.worker_id));
    PERFORM fieldops_sample.process_log(p_tenant_id, clock_timestamp(), 'work_order', e.worker_id, v_subj, 'consume_part THERMO-K50 x1 (issued)', 'consumed',
        fieldops.consume_part(p_tenant_id, v_wo, v_thermo, 1, e.worker_id));
    PERFORM fieldops_sample.process_log(p_tenant_id, clock_timestamp(), 'work_order', e.worker_id, v_subj, 'consume_part FAN-M12 x2 (van)', 'insufficient_stock',
        fieldops.consume_part(p_tenant_id, v_wo, v_fan, 2, e.worker_id, v_van), 'the van holds one: stock never goes below zero');
    PERFORM fieldops_sample.process_log(p_tenant_id, clock_timestamp(), 'work_order', e.worker_id, v_subj, 'consume_part FAN-M12 x1 (van)', 'consumed',
        fieldops.consume_part(p_tenant_id, v_wo, v_fan, 1, e.worker_id, v_van));
    PERFORM fieldops_sample.process_log(p_tenant_id, clock_timestamp(), 'work_order', e.worker_id, v_subj, 'consume_part R600A 85 g (van)', 'consumed',
        fieldops.consume_part(p_tenant_id, v_wo, v_gas, 85, e.worker_id, v_van));
    PERFORM fieldops_sample.process_log(p_tenant_id, clock_timestamp(), 'work_order', e.worker_id, v_subj, 'return_part THERMO-K50 x1 (area store)', 'returned',
        fieldops.return_part(p_tenant_id, v_wo, v_thermo, v_wh, 1, e.worker_id));

    -- the inspection record, with the nameplate photo
    SELECT * INTO v_photo FROM fieldops_sample.process_shoot(p_tenant_id, 'engineer', NULL, clock_timestamp(),
        fieldops_sample.process_offset(cu.geom, -4, 5), 'nameplate ' || cu.external_ref);
    PERFORM fieldops_sample.process_log(p_tenant_id, clock_timestamp(), 'photo', e.worker_id, v_subj, 'submit_photo (nameplate)', 'accepted',
        v_photo.verdict, v_photo.reasons, jsonb_build_object('photo_id', v_photo.photo_id));
    v_sub := fieldops.submit_form(p_tenant_id, 'COOLER-INSPECT', NULL, e.worker_id, jsonb_build_object(
        'asset_tag', 'LG-' || lpad((floor(99999 * fieldops_sample.h01(cu.external_ref || '/asset')))::int::text, 5, '0'),
        'nameplate_photo', jsonb_build_array(v_photo.photo_id), 'temp_arrival_c', 15.2,
        'faults', '["thermostat", "fan", "other"]'::jsonb, 'fault_notes', '冷凝器积灰严重, 已清洁',
        'temp_after_c', 3.8, 'condition', 'worn', 'next_service', (fieldops.tenant_local_date(p_tenant_id) + 90)::text),
        p_work_order_id => v_wo);
    PERFORM fieldops_sample.process_log(p_tenant_id, clock_timestamp(), 'form', e.worker_id, v_subj, 'submit_form COOLER-INSPECT', 'stored', 'stored',
        NULL, jsonb_build_object('submission_id', v_sub));

    -- the customer's confirmation: the hash of the final content, signed on the engineer's phone
    PERFORM fieldops_sample.process_log(p_tenant_id, clock_timestamp(), 'work_order', e.worker_id, v_subj, 'set_work_order_state awaiting_signature', 'ok',
        fieldops.set_work_order_state(p_tenant_id, v_wo, 'awaiting_signature', e.worker_id));
    SELECT x.content, x.content_sha256 INTO v_content, v_hash FROM fieldops.work_order_content(p_tenant_id, v_wo) x;
    PERFORM fieldops_sample.process_log(p_tenant_id, clock_timestamp(), 'work_order', e.worker_id, v_subj, 'set_work_order_state completed (unsigned)',
        'signature_required', fieldops.set_work_order_state(p_tenant_id, v_wo, 'completed', e.worker_id), 'only a verified customer signature completes it');
    PERFORM fieldops_sample.process_log(p_tenant_id, clock_timestamp(), 'work_order', e.worker_id, v_subj, 'sign_work_order (' || v_signer || ')', 'signed',
        fieldops.sign_work_order(p_tenant_id, v_wo, e.device_id, v_hash, v_signer,
            fieldops_sample.phone_sign(e.algorithm, e.seed, fieldops.work_order_signing_message(p_tenant_id, v_wo, v_hash, v_signer))),
        'content SHA-256 ' || left(encode(v_hash, 'hex'), 16) || '…', jsonb_build_object('content', v_content));
    PERFORM fieldops_sample.process_log(p_tenant_id, clock_timestamp(), 'work_order', v_disp, v_subj, 'set_work_order_state closed', 'ok',
        fieldops.set_work_order_state(p_tenant_id, v_wo, 'closed', v_disp));
END
$$;

CREATE OR REPLACE FUNCTION fieldops_sample.generate_process_day(p_tenant_id bigint)
RETURNS TABLE (step int, who text, subject text, call text, expected text, status text, why text)
LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM fieldops.tenant t WHERE t.tenant_id = p_tenant_id) THEN
        RAISE EXCEPTION 'no tenant %', p_tenant_id;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM fieldops.sop s WHERE s.tenant_id = p_tenant_id) THEN
        PERFORM fieldops.set_tenant(p_tenant_id, true);
        DELETE FROM fieldops_sample.process_cast x WHERE x.tenant_id = p_tenant_id;
        DELETE FROM fieldops_sample.process_step x WHERE x.tenant_id = p_tenant_id;
        PERFORM fieldops.ensure_fix_partitions(fieldops.tenant_local_date(p_tenant_id) - 1, fieldops.tenant_local_date(p_tenant_id) + 1);
        PERFORM fieldops_sample.process_choose(p_tenant_id);
        PERFORM fieldops_sample.process_setup(p_tenant_id);
        PERFORM fieldops_sample.process_visits(p_tenant_id);
        PERFORM fieldops_sample.process_tasks(p_tenant_id);
        PERFORM fieldops_sample.process_work_order(p_tenant_id);
    END IF;
    RETURN QUERY
        SELECT s.step, COALESCE(w.name, '(setup)'), s.subject, s.call, s.expected, s.status, s.why
          FROM fieldops_sample.process_step s
          LEFT JOIN fieldops.worker w ON w.tenant_id = s.tenant_id AND w.worker_id = s.worker_id
         WHERE s.tenant_id = p_tenant_id ORDER BY s.step;
END
$$;
