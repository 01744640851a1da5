--
-- test/generators/sample_history.sql — the weeks before today of a tenant
-- made by sample_tenant.sql: its sales reps' visits, deals and expense
-- claims, so that the cockpit (the KPIs of module 3, the expenses of
-- module 5) has something to show
--
--   psql -v ON_ERROR_STOP=1 -f test/generators/sample_history.sql mydb
--   psql -c "SELECT * FROM fieldops_sample.generate_history(<tenant>)" mydb    -- ~10 s, once per tenant
--
-- fieldops_sample.generate_history(p_tenant_id bigint, p_weeks int DEFAULT 8)
-- writes, in one transaction, the p_weeks weeks before today (tenant-local)
-- and returns one row per kind of row written.  Once per tenant: a second
-- call writes nothing (fieldops_sample.history_run remembers the run).
--
-- Who: every active member of a %-SALES team (leads and members), on the
-- working days of their schedule (the tenant's hours unless their own).
-- What, per rep and working day (draws are fieldops_sample.h01, md5 of the
-- rep's external_ref, the day and the slot: no random()):
--   visits     4 to 7, from 09:10 every 70 min (+- 15), 12 to 40 min on
--              site, at the rep's own customers with a position that he
--              owned before the first week (drawn uniformly among them, not
--              those handed to him today); as the visit API leaves them, written
--              directly (sample history, superuser): 86 % inside the
--              geofence both ways with green fixes (verified), 6 % checked
--              in outside, 3 % a red check-in, 3 % checked out outside,
--              2 % never checked out; each day is marked for the KPIs
--              (fieldops.kpi_touch) as check_out() marks it;
--   deals      with probability 0.22 a deal at one of the day's customers,
--              300 to 12000 CNY, through fieldops.upsert_deal();
--   expenses   through the expense API: per rep and week one claim with a
--              meal line per working day (28 to 58 CNY, or with
--              probability 0.06 a customer dinner of 75 to 130; tied to
--              the day's first verified visit, else its first visit; a
--              receipt hash each), and for one rep in
--              three a parking line (10 to 30 CNY) on Tuesdays and a fuel
--              line (150 to 320 CNY) on Thursdays; so that the approvers
--              have something to look at: a tenant policy (meals at most
--              60 CNY a day, parking at most 25 a line), one receipt used
--              twice (the 3rd rep's first two meals of the oldest week),
--              and a Sunday meal (the 5th rep's last week) on a day off.
--              The claims of all weeks but the last two are approved by
--              the rep's manager, then by finance (the tenant's first
--              worker by external_ref without a manager: the director,
--              made finance approver) and paid; the week before last is
--              approved by the manager; the last is submitted only.
-- Ownership: a customer's first ownership (its start is the day the sample
-- tenant was generated) is backdated to before the first week, so that
-- coverage counts the weeks (sample history; never a later ownership).
-- At the end the KPI rollups of the weeks are rebuilt
-- (fieldops.kpi_rebuild) and refreshed (kpi_refresh): the cockpit is
-- current, and check_rollups() is empty.
--
SET client_min_messages = warning;
CREATE SCHEMA IF NOT EXISTS fieldops_sample;
CREATE TABLE IF NOT EXISTS fieldops_sample.history_run (
    tenant_id  bigint PRIMARY KEY,
    first_day  date NOT NULL,
    last_day   date NOT NULL,
    played_at  timestamptz NOT NULL,
    counts     jsonb NOT NULL
);
COMMENT ON TABLE fieldops_sample.history_run IS
'The sample history per tenant (test/generators/sample_history.sql): its days and what it wrote.';
RESET client_min_messages;

CREATE OR REPLACE FUNCTION fieldops_sample.generate_history(p_tenant_id bigint, p_weeks int DEFAULT 8)
RETURNS TABLE (kind text, rows bigint)
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    v_today date;
    v_first date;
    v_last date;
    v_tz text;
    v_finance bigint;
    r record;
    d date;
    v_counts jsonb;
    v_visits bigint := 0;
    v_deals bigint := 0;
    v_claims bigint := 0;
    v_lines bigint := 0;
    v_n int;
    v_rep_no int := 0;
    v_key text;
    v_t0 timestamp;
    v_h float8;
    v_vid bigint;
    v_first_visit bigint;
    v_claim bigint;
    v_week date;
    v_dup bytea;
    w fieldops.worker;
    v_first_ok boolean;
    v_first_receipt bytea;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM fieldops_sample.history_run h WHERE h.tenant_id = p_tenant_id) THEN
        PERFORM fieldops.set_tenant(p_tenant_id, true);
        v_today := fieldops.tenant_local_date(p_tenant_id);
        v_tz := fieldops.tenant_time_zone(p_tenant_id);
        v_first := v_today - 7 * p_weeks;
        v_last := v_today - 1;

        -- ownership since before the first week (sample history)
        UPDATE fieldops.customer_ownership o SET started_at = (v_first - 3)::timestamp AT TIME ZONE v_tz
         WHERE o.tenant_id = p_tenant_id AND o.started_at > now() - interval '1 day'
           AND NOT EXISTS (SELECT 1 FROM fieldops.customer_ownership e
                            WHERE e.tenant_id = o.tenant_id AND e.customer_id = o.customer_id AND e.started_at < o.started_at);

        -- policy and finance
        PERFORM fieldops.set_expense_policy(p_tenant_id, 'meal', 'day', 60, v_first - 30);
        PERFORM fieldops.set_expense_policy(p_tenant_id, 'parking', 'line', 25, v_first - 30);
        SELECT x.worker_id INTO v_finance FROM fieldops.worker x
         WHERE x.tenant_id = p_tenant_id AND x.manager_id IS NULL AND x.status = 'active' ORDER BY x.external_ref LIMIT 1;
        PERFORM fieldops.set_finance_approver(p_tenant_id, v_finance);

        FOR r IN SELECT x.worker_id FROM fieldops.worker x JOIN fieldops.team t ON t.tenant_id = x.tenant_id AND t.team_id = x.team_id
                  WHERE x.tenant_id = p_tenant_id AND x.status = 'active' AND t.code LIKE '%-SALES'
                    AND EXISTS (SELECT 1 FROM fieldops.customer y WHERE y.tenant_id = x.tenant_id AND y.owner_worker_id = x.worker_id AND y.geom IS NOT NULL)
                  ORDER BY x.external_ref LOOP
            SELECT * INTO w FROM fieldops.worker x WHERE x.tenant_id = p_tenant_id AND x.worker_id = r.worker_id;
            v_rep_no := v_rep_no + 1;
            IF v_rep_no = 1 THEN
                CREATE TEMP TABLE history_shop (n int, customer_id bigint) ON COMMIT DROP;
            END IF;
            TRUNCATE history_shop;
            -- his customers he owned all along (not those handed to him today)
            INSERT INTO history_shop SELECT row_number() OVER (ORDER BY x.external_ref), x.customer_id FROM fieldops.customer x
             WHERE x.tenant_id = p_tenant_id AND x.owner_worker_id = r.worker_id AND x.geom IS NOT NULL
               AND EXISTS (SELECT 1 FROM fieldops.customer_ownership o
                            WHERE o.tenant_id = x.tenant_id AND o.customer_id = x.customer_id AND o.ended_at IS NULL
                              AND o.started_at < v_first::timestamp AT TIME ZONE v_tz);
            CONTINUE WHEN NOT EXISTS (SELECT 1 FROM history_shop);
            SELECT count(*) INTO v_n FROM history_shop;
            FOR v_week IN SELECT g::date FROM generate_series(v_first::timestamp, (v_last - 6)::timestamp, interval '7 days') g LOOP
                v_claim := fieldops.create_expense_claim(p_tenant_id, r.worker_id, '差旅报销 ' || to_char(v_week, 'YYYY-MM-DD') || ' 周');
                v_claims := v_claims + 1;
                FOR d IN SELECT g::date FROM generate_series(v_week::timestamp, (v_week + 6)::timestamp, interval '1 day') g LOOP
                    CONTINUE WHEN NOT EXISTS (SELECT 1 FROM fieldops.claim_windows(p_tenant_id, w, d));
                    v_first_visit := NULL;
                    v_first_ok := false;
                    FOR s IN 0 .. 3 + floor(4 * fieldops_sample.h01(w.external_ref || d || '/n'))::int LOOP
                        v_key := w.external_ref || '/' || d || '/' || s;
                        v_t0 := d + time '09:10' + (70 * s + floor(30 * fieldops_sample.h01(v_key || '/t')) - 15) * interval '1 minute';
                        v_h := fieldops_sample.h01(v_key || '/ok');
                        INSERT INTO fieldops.visit (tenant_id, worker_id, customer_id, checkin_at, checkout_at, radius_m,
                                                    checkin_geofence, checkout_geofence, checkin_band, checkout_band,
                                                    checkin_distance_m, checkin_accuracy_m, checkout_distance_m, checkout_accuracy_m)
                        SELECT p_tenant_id, r.worker_id, h.customer_id, v_t0 AT TIME ZONE v_tz,
                               CASE WHEN v_h >= 0.98 THEN NULL
                                    ELSE (v_t0 + (12 + floor(28 * fieldops_sample.h01(v_key || '/d'))) * interval '1 minute') AT TIME ZONE v_tz END,
                               200, CASE WHEN v_h >= 0.86 AND v_h < 0.92 THEN 'outside' ELSE 'inside' END,
                               CASE WHEN v_h >= 0.98 THEN NULL WHEN v_h >= 0.95 AND v_h < 0.98 THEN 'outside' ELSE 'inside' END,
                               CASE WHEN v_h >= 0.92 AND v_h < 0.95 THEN 'red' ELSE 'green' END,
                               CASE WHEN v_h >= 0.98 THEN NULL ELSE 'green' END,
                               CASE WHEN v_h >= 0.86 AND v_h < 0.92 THEN 340 ELSE 25 END, 9,
                               CASE WHEN v_h >= 0.95 AND v_h < 0.98 THEN 410 WHEN v_h < 0.98 THEN 20 END, CASE WHEN v_h < 0.98 THEN 8 END
                          FROM history_shop h WHERE h.n = 1 + floor(v_n * fieldops_sample.h01(v_key || '/shop'))::int
                        RETURNING visit_id INTO v_vid;
                        v_visits := v_visits + 1;
                        -- the day's lines go with its first verified visit, else its first
                        IF v_first_visit IS NULL OR (v_h < 0.86 AND NOT v_first_ok) THEN
                            v_first_ok := v_h < 0.86;
                            v_first_visit := v_vid;
                        END IF;
                        IF s = 0 AND fieldops_sample.h01(v_key || '/deal') < 0.22 THEN
                            PERFORM fieldops.upsert_deal(p_tenant_id, 'SO-' || w.external_ref || '-' || to_char(d, 'YYYYMMDD'),
                                (SELECT v.customer_id FROM fieldops.visit v WHERE v.tenant_id = p_tenant_id AND v.visit_id = v_vid), r.worker_id,
                                round((300 + 11700 * fieldops_sample.h01(v_key || '/amount'))::numeric, 2), d);
                            v_deals := v_deals + 1;
                        END IF;
                    END LOOP;
                    PERFORM fieldops.kpi_touch(p_tenant_id, d, 'visit');
                    -- the day's expense lines
                    v_dup := sha256(convert_to('receipt ' || w.external_ref || ' ' || d, 'UTF8'));
                    IF v_rep_no = 3 AND v_week = v_first THEN
                        -- the week's first receipt, sent again with the second meal: used twice
                        v_dup := COALESCE(v_first_receipt, v_dup);
                        v_first_receipt := CASE WHEN v_first_receipt IS NULL THEN v_dup ELSE sha256(v_dup) END;
                    END IF;
                    v_h := fieldops_sample.h01(w.external_ref || d || '/meal');
                    PERFORM fieldops.add_expense_line(p_tenant_id, v_claim, r.worker_id, 'meal', d,
                        CASE WHEN v_h < 0.06 THEN round((75 + 900 * v_h)::numeric, 2) ELSE round((28 + 30 * v_h)::numeric, 2) END,
                        p_description => CASE WHEN v_h < 0.06 THEN '客户招待餐' ELSE '工作餐' END,
                        p_receipt_sha256 => v_dup, p_visit_id => v_first_visit);
                    v_lines := v_lines + 1;
                    IF v_rep_no % 3 = 0 AND extract(isodow FROM d) = 2 THEN
                        PERFORM fieldops.add_expense_line(p_tenant_id, v_claim, r.worker_id, 'parking', d,
                            round((10 + 20 * fieldops_sample.h01(w.external_ref || d || '/park'))::numeric, 2),
                            p_description => '停车费', p_visit_id => v_first_visit);
                        v_lines := v_lines + 1;
                    END IF;
                    IF v_rep_no % 3 = 0 AND extract(isodow FROM d) = 4 THEN
                        PERFORM fieldops.add_expense_line(p_tenant_id, v_claim, r.worker_id, 'fuel', d,
                            round((150 + 170 * fieldops_sample.h01(w.external_ref || d || '/fuel'))::numeric, 2),
                            p_description => '加油', p_visit_id => v_first_visit);
                        v_lines := v_lines + 1;
                    END IF;
                END LOOP;
                -- a Sunday meal on the last week, for the 5th rep
                IF v_rep_no = 5 AND v_week = v_last - 6 THEN
                    PERFORM fieldops.add_expense_line(p_tenant_id, v_claim, r.worker_id, 'meal', x.sat,
                        48.00, p_description => '周末加班餐', p_visit_id => v_first_visit)
                      FROM (SELECT g::date AS sat FROM generate_series(v_week::timestamp, (v_week + 6)::timestamp, interval '1 day') g
                             WHERE extract(isodow FROM g) = 7) x;
                    v_lines := v_lines + 1;
                END IF;
                IF EXISTS (SELECT 1 FROM fieldops.expense_line l WHERE l.tenant_id = p_tenant_id AND l.claim_id = v_claim) THEN
                    PERFORM fieldops.submit_expense_claim(p_tenant_id, v_claim, r.worker_id);
                    IF w.manager_id IS NULL THEN
                        NULL;   -- nobody above: waits for the application
                    ELSIF v_week < v_last - 13 THEN
                        PERFORM fieldops.approve_expense_claim(p_tenant_id, v_claim, w.manager_id, 'manager');
                        PERFORM fieldops.approve_expense_claim(p_tenant_id, v_claim, v_finance, 'finance');
                        PERFORM fieldops.mark_expense_claim_paid(p_tenant_id, v_claim, v_finance);
                    ELSIF v_week < v_last - 6 THEN
                        PERFORM fieldops.approve_expense_claim(p_tenant_id, v_claim, w.manager_id, 'manager');
                    END IF;
                END IF;
            END LOOP;
        END LOOP;

        PERFORM fieldops.kpi_rebuild(p_tenant_id, v_first, v_today);
        PERFORM fieldops.kpi_refresh(p_tenant_id);
        v_counts := jsonb_build_object('visits', v_visits, 'deals', v_deals, 'expense claims', v_claims, 'expense lines', v_lines,
                                       'flagged lines', (SELECT count(*) FROM fieldops.expense_line l
                                                          WHERE l.tenant_id = p_tenant_id AND jsonb_array_length(COALESCE(l.flags, '[]')) > 0),
                                       'KPI rows', (SELECT count(*) FROM fieldops.kpi_day k WHERE k.tenant_id = p_tenant_id));
        INSERT INTO fieldops_sample.history_run VALUES (p_tenant_id, v_first, v_last, now(), v_counts);
    END IF;
    RETURN QUERY SELECT e.key, (e.value #>> '{}')::bigint
                   FROM fieldops_sample.history_run h, jsonb_each(h.counts) e WHERE h.tenant_id = p_tenant_id;
END
$$;
