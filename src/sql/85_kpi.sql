--
-- KPIs: the manager's cockpit, computed from verified work only, kept
-- fresh by rollups that recompute only the days that changed.
--
-- Sources (each read through the one definition the module that owns it
-- gives):
--   visits       fieldops.visit_verified (65_visit.sql): visits, verified
--                visits, the customers they reached, time on site;
--   expenses     fieldops.expense_counted (80_expense.sql): lines of claims
--                a manager approved (or later), by type, in the tenant's
--                currency (the currency setting); lines in other currencies are
--                counted, not summed;
--   km, travel   fieldops.vehicle_claim and its trips (47_trips.sql): the
--                km measured from the GPS trajectory, the time in trips;
--   hours        the worker's working ranges of the day (claim_windows);
--   customers    fieldops.customer_ownership (32_pool.sql): who owned
--                which customers at the end of each day (coverage);
--   revenue      fieldops.deal, which the CRM fills (upsert_deal()).
-- Days are tenant-local.  A visit belongs to the day of its check-in, an
-- expense line to its spent_on, a deal to its won_on, km to its claim's day.
--
-- Rollups: fieldops.kpi_day holds one row per (day, worker, customer level)
-- with the additive measures; '-' is the level of measures that are the
-- worker's, not a customer's (hours, km, travel, expenses).
-- fieldops.kpi_customer_day holds one row per (day, worker, customer) with
-- visits, so distinct customers can be counted over any period.  Both are
-- written only by kpi_refresh() / kpi_rebuild(), from kpi_compute() and
-- kpi_compute_customers(), the same functions check_rollups() and
-- kpi_from_source() use: the rollups cannot disagree with the definition
-- except by being stale.
--
-- Freshness: every change a KPI counts calls fieldops.kpi_touch(tenant,
-- day) (17_kpi_dirty.sql); the kpi_rollup job (kpi_refresh()) recomputes
-- those days, plus today and the days before it named by
-- kpi_refresh_days_back (customer ownership, which moves through the pool
-- all day, is counted as at the end of each day), and deletes exactly the
-- dirty rows it read.  Running it twice recomputes the same days to the
-- same rows.  Refreshes of one tenant run one at a time (the tenant's
-- fieldops.kpi_state row is locked FOR UPDATE).
--
-- Not tracked as changes (kpi_rebuild() after them): a worker moving to
-- another team or region (rows carry the team and region the worker had
-- when the day was computed), a customer's level changing.
--
-- New in 0.2.0.
--

INSERT INTO fieldops.setting_def (key, kind, default_value, min_value, max_value, description) VALUES
    ('kpi_refresh_days_back', 'integer', '1', 0, 31,
     'Every KPI rollup run recomputes today and this many days before it (tenant-local), besides the days that changed.');

--
-- Revenue: deals the CRM records
--
CREATE TABLE fieldops.deal (
    tenant_id     bigint NOT NULL REFERENCES fieldops.tenant (tenant_id),
    deal_id       bigserial NOT NULL,
    external_ref  text NOT NULL,
    customer_id   bigint NOT NULL,
    worker_id     bigint NOT NULL,
    amount        numeric(14, 2) NOT NULL CHECK (amount OPERATOR(pg_catalog.>=) 0),
    currency      text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    won_on        date NOT NULL,
    state         text NOT NULL DEFAULT 'won' CHECK (state IN ('won', 'cancelled')),
    created_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (tenant_id, deal_id),
    UNIQUE (tenant_id, external_ref),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES fieldops.customer (tenant_id, customer_id),
    FOREIGN KEY (tenant_id, worker_id) REFERENCES fieldops.worker (tenant_id, worker_id)
);
CREATE INDEX deal_won_idx ON fieldops.deal (tenant_id, won_on);
CREATE INDEX deal_customer_idx ON fieldops.deal (tenant_id, customer_id);
CREATE INDEX deal_worker_idx ON fieldops.deal (tenant_id, worker_id);
COMMENT ON TABLE fieldops.deal IS
'Orders and deals the CRM records (upsert_deal()): the revenue of the KPIs, credited to a worker and a customer on the tenant-local day won_on.';

-- (kpi_compute() and kpi_query() run with jit off: their row estimates are
-- generous, and compiling took a second per call where running takes
-- milliseconds)
-- the indexes the day-by-day recomputation reads its sources by
CREATE INDEX visit_checkin_idx ON fieldops.visit (tenant_id, checkin_at);
CREATE INDEX vehicle_claim_day_idx ON fieldops.vehicle_claim (tenant_id, day);
CREATE INDEX expense_line_spent_idx ON fieldops.expense_line (tenant_id, spent_on);

--
-- The rollups
--
CREATE TABLE fieldops.kpi_day (
    tenant_id          bigint NOT NULL REFERENCES fieldops.tenant (tenant_id),
    day                date NOT NULL,
    worker_id          bigint NOT NULL,
    customer_level     text NOT NULL,
    team_id            bigint,
    region_id          bigint,
    visits             integer NOT NULL DEFAULT 0,
    verified_visits    integer NOT NULL DEFAULT 0,
    on_site_s          bigint NOT NULL DEFAULT 0,
    working_s          bigint NOT NULL DEFAULT 0,
    travel_s           bigint NOT NULL DEFAULT 0,
    measured_km        numeric(12, 3) NOT NULL DEFAULT 0,
    expense_vehicle_mileage numeric(14, 2) NOT NULL DEFAULT 0,
    expense_fuel       numeric(14, 2) NOT NULL DEFAULT 0,
    expense_toll       numeric(14, 2) NOT NULL DEFAULT 0,
    expense_parking    numeric(14, 2) NOT NULL DEFAULT 0,
    expense_travel     numeric(14, 2) NOT NULL DEFAULT 0,
    expense_meal       numeric(14, 2) NOT NULL DEFAULT 0,
    expense_lodging    numeric(14, 2) NOT NULL DEFAULT 0,
    expense_other      numeric(14, 2) NOT NULL DEFAULT 0,
    expense_lines_other_currency integer NOT NULL DEFAULT 0,
    revenue            numeric(14, 2) NOT NULL DEFAULT 0,
    deals              integer NOT NULL DEFAULT 0,
    assigned_customers integer NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, day, worker_id, customer_level)
);
COMMENT ON TABLE fieldops.kpi_day IS
'KPI rollup: additive measures per tenant-local day, worker and customer level (''-'': the worker''s own measures). visits: all visits checked in that day; verified_visits and on_site_s (check-in to check-out): verified ones only; working_s: scheduled working time; travel_s, measured_km: the vehicle claim''s trips; expense_*: fieldops.expense_counted in the tenant currency; revenue, deals: won deals; assigned_customers: customers the worker owned at the end of the day. Written only by kpi_refresh() and kpi_rebuild().';

CREATE TABLE fieldops.kpi_customer_day (
    tenant_id        bigint NOT NULL REFERENCES fieldops.tenant (tenant_id),
    day              date NOT NULL,
    worker_id        bigint NOT NULL,
    customer_id      bigint NOT NULL,
    customer_level   text NOT NULL,
    team_id          bigint,
    region_id        bigint,
    visits           integer NOT NULL,
    verified_visits  integer NOT NULL,
    verified_own_visits integer NOT NULL,
    PRIMARY KEY (tenant_id, day, worker_id, customer_id)
);
COMMENT ON TABLE fieldops.kpi_customer_day IS
'KPI rollup: the customers each worker visited each tenant-local day (visits, verified visits, verified visits while the worker owned the customer), for distinct customers and coverage over any period. Written only by kpi_refresh() and kpi_rebuild().';

CREATE TABLE fieldops.kpi_state (
    tenant_id      bigint NOT NULL REFERENCES fieldops.tenant (tenant_id),
    refreshed_at   timestamptz,
    refreshes      bigint NOT NULL DEFAULT 0,
    days_computed  bigint NOT NULL DEFAULT 0,
    computed_through date,
    rebuilt_at     timestamptz,
    rebuilt_from   date,
    rebuilt_to     date,
    PRIMARY KEY (tenant_id)
);
COMMENT ON TABLE fieldops.kpi_state IS
'One row per tenant: when its KPI rollups were last refreshed or rebuilt. Its row lock makes refreshes of one tenant take turns.';

--
-- Deals
--
CREATE FUNCTION fieldops.upsert_deal(p_tenant_id bigint, p_external_ref text, p_customer_id bigint, p_worker_id bigint,
                                     p_amount numeric, p_won_on date, p_currency text DEFAULT NULL, p_cancelled boolean DEFAULT false)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    v_ref text;
    v_cur text;
    o fieldops.deal;
    v_id bigint;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    v_ref := fieldops.check_code(p_external_ref, 'p_external_ref');
    PERFORM fieldops.check_customer_arg(p_customer_id, 'p_customer_id');
    IF p_worker_id IS NULL OR p_amount IS NULL OR p_won_on IS NULL OR p_cancelled IS NULL THEN
        RAISE EXCEPTION 'p_worker_id, p_amount, p_won_on and p_cancelled must not be null' USING ERRCODE = '22004';
    END IF;
    IF p_amount OPERATOR(pg_catalog.<) 0 OR p_amount OPERATOR(pg_catalog.>=) 1e12 OR pg_catalog.scale(p_amount) OPERATOR(pg_catalog.>) 2 THEN
        RAISE EXCEPTION 'p_amount must be between 0 and 999999999999.99 with at most 2 decimals, got %', p_amount USING ERRCODE = '22023';
    END IF;
    IF p_won_on OPERATOR(pg_catalog.>) fieldops.tenant_local_date(p_tenant_id) THEN
        RAISE EXCEPTION 'p_won_on must not be in the future, got %', p_won_on USING ERRCODE = '22023';
    END IF;
    v_cur := fieldops.check_currency_arg(p_tenant_id, p_currency, 'p_currency');
    IF NOT EXISTS (SELECT 1 FROM fieldops.customer c WHERE c.tenant_id OPERATOR(pg_catalog.=) p_tenant_id
                      AND c.customer_id OPERATOR(pg_catalog.=) p_customer_id) THEN
        RAISE EXCEPTION 'p_customer_id % is not a customer of tenant %', p_customer_id, p_tenant_id USING ERRCODE = '23503';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM fieldops.worker w WHERE w.tenant_id OPERATOR(pg_catalog.=) p_tenant_id
                      AND w.worker_id OPERATOR(pg_catalog.=) p_worker_id) THEN
        RAISE EXCEPTION 'p_worker_id % is not a worker of tenant %', p_worker_id, p_tenant_id USING ERRCODE = '23503';
    END IF;
    SELECT * INTO o FROM fieldops.deal d
     WHERE d.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND d.external_ref OPERATOR(pg_catalog.=) v_ref FOR UPDATE;
    IF o.deal_id IS NULL THEN
        INSERT INTO fieldops.deal (tenant_id, external_ref, customer_id, worker_id, amount, currency, won_on, state)
        VALUES (p_tenant_id, v_ref, p_customer_id, p_worker_id, p_amount, v_cur, p_won_on,
                CASE WHEN p_cancelled THEN 'cancelled' ELSE 'won' END)
        ON CONFLICT (tenant_id, external_ref) DO NOTHING
        RETURNING deal_id INTO v_id;
        IF v_id IS NULL THEN
            -- recorded by a concurrent call just now: update that one
            RETURN fieldops.upsert_deal(p_tenant_id, p_external_ref, p_customer_id, p_worker_id, p_amount, p_won_on, p_currency, p_cancelled);
        END IF;
    ELSE
        IF (o.customer_id, o.worker_id, o.amount, o.currency, o.won_on, o.state)
           IS NOT DISTINCT FROM (p_customer_id, p_worker_id, p_amount, v_cur, p_won_on, CASE WHEN p_cancelled THEN 'cancelled' ELSE 'won' END) THEN
            RETURN o.deal_id;
        END IF;
        UPDATE fieldops.deal
           SET customer_id = p_customer_id, worker_id = p_worker_id, amount = p_amount, currency = v_cur, won_on = p_won_on,
               state = CASE WHEN p_cancelled THEN 'cancelled' ELSE 'won' END, updated_at = pg_catalog.now()
         WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND deal_id OPERATOR(pg_catalog.=) o.deal_id;
        v_id := o.deal_id;
        PERFORM fieldops.kpi_touch(p_tenant_id, o.won_on, 'deal');
    END IF;
    PERFORM fieldops.kpi_touch(p_tenant_id, p_won_on, 'deal');
    PERFORM fieldops.emit_event(p_tenant_id, CASE WHEN p_cancelled THEN 'deal.cancelled' WHEN o.deal_id IS NULL THEN 'deal.won' ELSE 'deal.changed' END,
        'deal', v_id, pg_catalog.jsonb_build_object('external_ref', v_ref, 'customer_id', p_customer_id, 'worker_id', p_worker_id,
                                                    'amount', p_amount, 'currency', v_cur, 'won_on', p_won_on));
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION fieldops.upsert_deal(bigint, text, bigint, bigint, numeric, date, text, boolean) IS
'Record (or correct, by p_external_ref) a won order or deal: its customer, the worker credited, the amount (currency: the tenant''s currency setting unless given) and the tenant-local day it was won; p_cancelled true takes it out of the revenue. Returns deal_id. Marks the days it changes for the KPI rollups.';

--
-- The definition: KPI rows computed from the source rows
--
CREATE FUNCTION fieldops.kpi_compute(p_tenant_id bigint, p_from date, p_to date)
RETURNS SETOF fieldops.kpi_day
LANGUAGE sql STABLE
SET jit = off
AS $$
    WITH cfg AS (
        SELECT fieldops.tenant_time_zone(p_tenant_id) AS tz,
               fieldops.tenant_setting(p_tenant_id, 'currency') #>> '{}' AS currency
    ), span AS (
        SELECT (p_from::timestamp AT TIME ZONE cfg.tz) AS t0,
               ((p_to OPERATOR(pg_catalog.+) 1)::timestamp AT TIME ZONE cfg.tz) AS t1
          FROM cfg
    ), days AS (
        SELECT d::date AS day, ((d::date OPERATOR(pg_catalog.+) 1)::timestamp AT TIME ZONE cfg.tz) AS day_end
          FROM cfg, pg_catalog.generate_series(p_from::timestamp, p_to::timestamp, interval '1 day') d
    ), parts AS (
        -- visits, by the day of their check-in and the customer's level
        SELECT (v.checkin_at AT TIME ZONE cfg.tz)::date AS day, v.worker_id, COALESCE(c.level, 'none') AS lvl,
               1 AS visits, v.verified::integer AS verified_visits,
               CASE WHEN v.verified THEN pg_catalog.floor(EXTRACT(epoch FROM v.checkout_at OPERATOR(pg_catalog.-) v.checkin_at))::bigint
                    ELSE 0 END AS on_site_s,
               0::bigint AS working_s, 0::bigint AS travel_s, 0::numeric AS km, NULL::text AS etype, 0::numeric AS eamount,
               0 AS eother, 0::numeric AS revenue, 0 AS deals, 0 AS assigned
          FROM cfg, span, fieldops.visit_verified v
          JOIN fieldops.customer c ON c.tenant_id OPERATOR(pg_catalog.=) v.tenant_id AND c.customer_id OPERATOR(pg_catalog.=) v.customer_id
         WHERE v.tenant_id OPERATOR(pg_catalog.=) p_tenant_id
           AND v.checkin_at OPERATOR(pg_catalog.>=) span.t0 AND v.checkin_at OPERATOR(pg_catalog.<) span.t1
        UNION ALL
        -- scheduled working time
        SELECT d.day, w.worker_id, '-', 0, 0, 0,
               COALESCE((SELECT pg_catalog.sum(EXTRACT(epoch FROM r.to_at OPERATOR(pg_catalog.-) r.from_at))::bigint
                           FROM fieldops.claim_windows(p_tenant_id, w, d.day) r), 0),
               0, 0, NULL, 0, 0, 0, 0, 0
          FROM days d CROSS JOIN fieldops.worker w
         WHERE w.tenant_id OPERATOR(pg_catalog.=) p_tenant_id
           AND (w.hired_on IS NULL OR w.hired_on OPERATOR(pg_catalog.<=) d.day)
           AND (w.left_on IS NULL OR w.left_on OPERATOR(pg_catalog.>) d.day)
        UNION ALL
        -- km measured from the trajectory and time in trips: the day's vehicle claim
        SELECT vc.day, vc.worker_id, '-', 0, 0, 0, 0,
               COALESCE((SELECT pg_catalog.sum(EXTRACT(epoch FROM t.ended_at OPERATOR(pg_catalog.-) t.started_at))::bigint
                           FROM fieldops.trip t
                          WHERE t.tenant_id OPERATOR(pg_catalog.=) vc.tenant_id AND t.claim_id OPERATOR(pg_catalog.=) vc.claim_id
                            AND t.kind OPERATOR(pg_catalog.=) 'trip'), 0),
               vc.measured_km, NULL, 0, 0, 0, 0, 0
          FROM fieldops.vehicle_claim vc
         WHERE vc.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND vc.day BETWEEN p_from AND p_to
        UNION ALL
        -- approved expenses, in the tenant's currency (others counted)
        SELECT e.spent_on, e.worker_id, '-', 0, 0, 0, 0, 0, 0,
               e.expense_type, CASE WHEN e.currency OPERATOR(pg_catalog.=) cfg.currency THEN e.amount ELSE 0 END,
               (e.currency OPERATOR(pg_catalog.<>) cfg.currency)::integer, 0, 0, 0
          FROM cfg, fieldops.expense_counted e
         WHERE e.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND e.spent_on BETWEEN p_from AND p_to
        UNION ALL
        -- revenue: won deals in the tenant's currency, at the customer's level
        SELECT d.won_on, d.worker_id, COALESCE(c.level, 'none'), 0, 0, 0, 0, 0, 0, NULL, 0, 0,
               CASE WHEN d.currency OPERATOR(pg_catalog.=) cfg.currency THEN d.amount ELSE 0 END, 1, 0
          FROM cfg, fieldops.deal d
          JOIN fieldops.customer c ON c.tenant_id OPERATOR(pg_catalog.=) d.tenant_id AND c.customer_id OPERATOR(pg_catalog.=) d.customer_id
         WHERE d.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND d.state OPERATOR(pg_catalog.=) 'won' AND d.won_on BETWEEN p_from AND p_to
        UNION ALL
        -- customers owned at the end of each day
        SELECT d.day, o.worker_id, COALESCE(c.level, 'none'), 0, 0, 0, 0, 0, 0, NULL, 0, 0, 0, 0, 1
          FROM days d
          JOIN fieldops.customer_ownership o ON o.tenant_id OPERATOR(pg_catalog.=) p_tenant_id
                                            AND o.started_at OPERATOR(pg_catalog.<) d.day_end
                                            AND (o.ended_at IS NULL OR o.ended_at OPERATOR(pg_catalog.>=) d.day_end)
          JOIN fieldops.customer c ON c.tenant_id OPERATOR(pg_catalog.=) o.tenant_id AND c.customer_id OPERATOR(pg_catalog.=) o.customer_id
    )
    SELECT p_tenant_id, p.day, p.worker_id, p.lvl, w.team_id, t.region_id,
           pg_catalog.sum(p.visits)::integer, pg_catalog.sum(p.verified_visits)::integer, pg_catalog.sum(p.on_site_s)::bigint,
           pg_catalog.sum(p.working_s)::bigint, pg_catalog.sum(p.travel_s)::bigint, pg_catalog.sum(p.km)::numeric(12, 3),
           COALESCE(pg_catalog.sum(p.eamount) FILTER (WHERE p.etype OPERATOR(pg_catalog.=) 'vehicle_mileage'), 0),
           COALESCE(pg_catalog.sum(p.eamount) FILTER (WHERE p.etype OPERATOR(pg_catalog.=) 'fuel'), 0),
           COALESCE(pg_catalog.sum(p.eamount) FILTER (WHERE p.etype OPERATOR(pg_catalog.=) 'toll'), 0),
           COALESCE(pg_catalog.sum(p.eamount) FILTER (WHERE p.etype OPERATOR(pg_catalog.=) 'parking'), 0),
           COALESCE(pg_catalog.sum(p.eamount) FILTER (WHERE p.etype OPERATOR(pg_catalog.=) 'travel'), 0),
           COALESCE(pg_catalog.sum(p.eamount) FILTER (WHERE p.etype OPERATOR(pg_catalog.=) 'meal'), 0),
           COALESCE(pg_catalog.sum(p.eamount) FILTER (WHERE p.etype OPERATOR(pg_catalog.=) 'lodging'), 0),
           COALESCE(pg_catalog.sum(p.eamount) FILTER (WHERE p.etype OPERATOR(pg_catalog.=) 'other'), 0),
           pg_catalog.sum(p.eother)::integer, pg_catalog.sum(p.revenue)::numeric(14, 2), pg_catalog.sum(p.deals)::integer,
           pg_catalog.sum(p.assigned)::integer
      FROM parts p
      JOIN fieldops.worker w ON w.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND w.worker_id OPERATOR(pg_catalog.=) p.worker_id
      LEFT JOIN fieldops.team t ON t.tenant_id OPERATOR(pg_catalog.=) w.tenant_id AND t.team_id OPERATOR(pg_catalog.=) w.team_id
     GROUP BY p.day, p.worker_id, p.lvl, w.team_id, t.region_id
$$;
COMMENT ON FUNCTION fieldops.kpi_compute(bigint, date, date) IS
'The definition of the KPI measures: fieldops.kpi_day rows for the tenant-local days p_from..p_to computed from the source rows (visit_verified, claim_windows, vehicle_claim and its trips, expense_counted, deal, customer_ownership). The rollups are this, stored; check_rollups() compares them.';

CREATE FUNCTION fieldops.kpi_compute_customers(p_tenant_id bigint, p_from date, p_to date)
RETURNS SETOF fieldops.kpi_customer_day
LANGUAGE sql STABLE
SET jit = off
AS $$
    WITH cfg AS (SELECT fieldops.tenant_time_zone(p_tenant_id) AS tz)
    SELECT p_tenant_id, (v.checkin_at AT TIME ZONE cfg.tz)::date, v.worker_id, v.customer_id, COALESCE(c.level, 'none'),
           w.team_id, t.region_id, pg_catalog.count(*)::integer, (pg_catalog.count(*) FILTER (WHERE v.verified))::integer,
           (pg_catalog.count(*) FILTER (WHERE v.verified AND EXISTS (
                SELECT 1 FROM fieldops.customer_ownership o
                 WHERE o.tenant_id OPERATOR(pg_catalog.=) v.tenant_id AND o.customer_id OPERATOR(pg_catalog.=) v.customer_id
                   AND o.worker_id OPERATOR(pg_catalog.=) v.worker_id AND o.started_at OPERATOR(pg_catalog.<=) v.checkin_at
                   AND (o.ended_at IS NULL OR o.ended_at OPERATOR(pg_catalog.>) v.checkin_at))))::integer
      FROM cfg, fieldops.visit_verified v
      JOIN fieldops.customer c ON c.tenant_id OPERATOR(pg_catalog.=) v.tenant_id AND c.customer_id OPERATOR(pg_catalog.=) v.customer_id
      JOIN fieldops.worker w ON w.tenant_id OPERATOR(pg_catalog.=) v.tenant_id AND w.worker_id OPERATOR(pg_catalog.=) v.worker_id
      LEFT JOIN fieldops.team t ON t.tenant_id OPERATOR(pg_catalog.=) w.tenant_id AND t.team_id OPERATOR(pg_catalog.=) w.team_id
     WHERE v.tenant_id OPERATOR(pg_catalog.=) p_tenant_id
       AND v.checkin_at OPERATOR(pg_catalog.>=) (p_from::timestamp AT TIME ZONE cfg.tz)
       AND v.checkin_at OPERATOR(pg_catalog.<) ((p_to OPERATOR(pg_catalog.+) 1)::timestamp AT TIME ZONE cfg.tz)
     GROUP BY 2, 3, 4, 5, 6, 7
$$;
COMMENT ON FUNCTION fieldops.kpi_compute_customers(bigint, date, date) IS
'The definition of the per-customer KPI rows: fieldops.kpi_customer_day for the tenant-local days p_from..p_to, computed from visit_verified (and customer_ownership: whether the worker owned the customer at the check-in).';

CREATE FUNCTION fieldops.check_kpi_range(p_tenant_id bigint, p_from date, p_to date, p_max_days integer)
RETURNS void
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    IF p_from IS NULL OR p_to IS NULL THEN
        RAISE EXCEPTION 'p_from and p_to must not be null' USING ERRCODE = '22004';
    END IF;
    IF p_to OPERATOR(pg_catalog.<) p_from THEN
        RAISE EXCEPTION 'p_to (%) must not be before p_from (%)', p_to, p_from USING ERRCODE = '22023';
    END IF;
    IF p_to OPERATOR(pg_catalog.-) p_from OPERATOR(pg_catalog.>=) p_max_days THEN
        RAISE EXCEPTION 'p_from..p_to spans % days; at most % per call', p_to OPERATOR(pg_catalog.-) p_from OPERATOR(pg_catalog.+) 1, p_max_days
            USING ERRCODE = '22023';
    END IF;
END
$$;
COMMENT ON FUNCTION fieldops.check_kpi_range(bigint, date, date, integer) IS
'Internal: the tenant is chosen and p_from..p_to is a range of at most p_max_days days; 22004 / 22023 naming the argument otherwise.';

--
-- Refreshing the rollups
--

-- the tenant's kpi_state row, locked: one refresh or rebuild of a tenant at a time
CREATE FUNCTION fieldops.lock_kpi_state(p_tenant_id bigint)
RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
    INSERT INTO fieldops.kpi_state (tenant_id) VALUES (p_tenant_id) ON CONFLICT (tenant_id) DO NOTHING;
    PERFORM 1 FROM fieldops.kpi_state s WHERE s.tenant_id OPERATOR(pg_catalog.=) p_tenant_id FOR UPDATE;
END
$$;
COMMENT ON FUNCTION fieldops.lock_kpi_state(bigint) IS 'Internal: create and lock the tenant''s kpi_state row (refreshes of one tenant take turns).';

-- replace the rollup rows of p_from..p_to with the computed ones
CREATE FUNCTION fieldops.kpi_store(p_tenant_id bigint, p_from date, p_to date)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    v_rows bigint;
    v_more bigint;
BEGIN
    DELETE FROM fieldops.kpi_day k
     WHERE k.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND k.day BETWEEN p_from AND p_to;
    DELETE FROM fieldops.kpi_customer_day k
     WHERE k.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND k.day BETWEEN p_from AND p_to;
    INSERT INTO fieldops.kpi_day SELECT * FROM fieldops.kpi_compute(p_tenant_id, p_from, p_to);
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    INSERT INTO fieldops.kpi_customer_day SELECT * FROM fieldops.kpi_compute_customers(p_tenant_id, p_from, p_to);
    GET DIAGNOSTICS v_more = ROW_COUNT;
    RETURN v_rows OPERATOR(pg_catalog.+) v_more;
END
$$;
COMMENT ON FUNCTION fieldops.kpi_store(bigint, date, date) IS
'Internal: replace the KPI rollup rows of the tenant-local days p_from..p_to with kpi_compute() and kpi_compute_customers(); returns the rows written.';

CREATE FUNCTION fieldops.kpi_refresh(p_tenant_id bigint, p_max_days integer DEFAULT 31)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    v_today date;
    v_back integer;
    v_days date[];
    v_ids bigint[];
    v_day date;
    v_rows bigint := 0;
    v_left bigint;
    v_from date;
    v_through date;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    IF p_max_days IS NULL OR p_max_days NOT BETWEEN 1 AND 3660 THEN
        RAISE EXCEPTION 'p_max_days must be between 1 and 3660, got %', p_max_days USING ERRCODE = '22023';
    END IF;
    PERFORM fieldops.lock_kpi_state(p_tenant_id);
    v_today := fieldops.tenant_local_date(p_tenant_id);
    v_back := (fieldops.tenant_setting(p_tenant_id, 'kpi_refresh_days_back'))::text::integer;
    -- the days to compute: those that changed (oldest first), then every
    -- day since the last one computed (at first: since the tenant was
    -- created) up to today, with the kpi_refresh_days_back days before today
    SELECT LEAST(COALESCE(s.computed_through OPERATOR(pg_catalog.+) 1,
                          fieldops.tenant_local_date(p_tenant_id, t.created_at)), v_today OPERATOR(pg_catalog.-) v_back)
      INTO v_from
      FROM fieldops.tenant t LEFT JOIN fieldops.kpi_state s ON s.tenant_id OPERATOR(pg_catalog.=) t.tenant_id
     WHERE t.tenant_id OPERATOR(pg_catalog.=) p_tenant_id;
    SELECT pg_catalog.array_agg(z.d ORDER BY z.k, z.d)
      INTO v_days FROM (
        SELECT y.d, pg_catalog.min(y.k) AS k FROM (
            SELECT x.day AS d, 0 AS k FROM fieldops.kpi_dirty x WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id
            UNION ALL
            SELECT g::date, 1 FROM pg_catalog.generate_series(v_from::timestamp, v_today::timestamp, interval '1 day') g
        ) y GROUP BY y.d ORDER BY pg_catalog.min(y.k), y.d LIMIT p_max_days
    ) z;
    v_days := COALESCE(v_days, '{}');
    -- computed without a gap from v_from on: up to which day
    v_through := v_from OPERATOR(pg_catalog.-) 1;
    WHILE v_through OPERATOR(pg_catalog.<) v_today AND (v_through OPERATOR(pg_catalog.+) 1) OPERATOR(pg_catalog.=) ANY (v_days) LOOP
        v_through := v_through OPERATOR(pg_catalog.+) 1;
    END LOOP;
    SELECT pg_catalog.array_agg(x.dirty_id) INTO v_ids FROM fieldops.kpi_dirty x
     WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.day OPERATOR(pg_catalog.=) ANY (v_days);
    FOREACH v_day IN ARRAY v_days LOOP
        v_rows := v_rows OPERATOR(pg_catalog.+) fieldops.kpi_store(p_tenant_id, v_day, v_day);
    END LOOP;
    -- exactly the rows read: a change committed since leaves its own row
    DELETE FROM fieldops.kpi_dirty x
     WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.dirty_id OPERATOR(pg_catalog.=) ANY (COALESCE(v_ids, '{}'));
    SELECT pg_catalog.count(DISTINCT x.day) INTO v_left FROM fieldops.kpi_dirty x
     WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND NOT x.dirty_id OPERATOR(pg_catalog.=) ANY (COALESCE(v_ids, '{}'));
    -- catch-up days left (a first run, a long pause): counted as well
    v_left := v_left OPERATOR(pg_catalog.+) (v_today OPERATOR(pg_catalog.-) v_through);
    UPDATE fieldops.kpi_state s
       SET refreshed_at = pg_catalog.clock_timestamp(), refreshes = s.refreshes OPERATOR(pg_catalog.+) 1,
           computed_through = GREATEST(s.computed_through, v_through),
           days_computed = s.days_computed OPERATOR(pg_catalog.+) pg_catalog.cardinality(v_days)
     WHERE s.tenant_id OPERATOR(pg_catalog.=) p_tenant_id;
    RETURN pg_catalog.jsonb_build_object('days', pg_catalog.cardinality(v_days), 'rows', v_rows,
        'days_left', v_left, 'more', v_left OPERATOR(pg_catalog.>) 0);
END
$$;
COMMENT ON FUNCTION fieldops.kpi_refresh(bigint, integer) IS
'Bring the KPI rollups up to date: recompute the tenant-local days that changed since the last refresh (fieldops.kpi_dirty, oldest first), then every day since the last one computed (at first: since the tenant was created) up to today, and always today with the kpi_refresh_days_back days before it; at most p_max_days days per call. Returns {"days", "rows", "days_left", "more"}. Safe to run twice or concurrently (refreshes of one tenant take turns). Days before the tenant was created (a backfill) need kpi_rebuild().';

CREATE FUNCTION fieldops.kpi_rebuild(p_tenant_id bigint, p_from date, p_to date)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
DECLARE
    v_ids bigint[];
    v_rows bigint;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    PERFORM fieldops.check_kpi_range(p_tenant_id, p_from, p_to, 3660);
    PERFORM fieldops.lock_kpi_state(p_tenant_id);
    SELECT pg_catalog.array_agg(x.dirty_id) INTO v_ids FROM fieldops.kpi_dirty x
     WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.day BETWEEN p_from AND p_to;
    v_rows := fieldops.kpi_store(p_tenant_id, p_from, p_to);
    DELETE FROM fieldops.kpi_dirty x
     WHERE x.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND x.dirty_id OPERATOR(pg_catalog.=) ANY (COALESCE(v_ids, '{}'));
    UPDATE fieldops.kpi_state s SET rebuilt_at = pg_catalog.clock_timestamp(), rebuilt_from = p_from, rebuilt_to = p_to,
           computed_through = CASE WHEN p_from OPERATOR(pg_catalog.<=) COALESCE(s.computed_through OPERATOR(pg_catalog.+) 1, p_from)
                                   THEN GREATEST(s.computed_through, p_to) ELSE s.computed_through END,
           days_computed = s.days_computed OPERATOR(pg_catalog.+) (p_to OPERATOR(pg_catalog.-) p_from OPERATOR(pg_catalog.+) 1)
     WHERE s.tenant_id OPERATOR(pg_catalog.=) p_tenant_id;
    RETURN pg_catalog.jsonb_build_object('days', p_to OPERATOR(pg_catalog.-) p_from OPERATOR(pg_catalog.+) 1, 'rows', v_rows);
END
$$;
COMMENT ON FUNCTION fieldops.kpi_rebuild(bigint, date, date) IS
'Recompute the KPI rollups of the tenant-local days p_from..p_to from the source rows in one pass (a backfill, or after changes the rollups do not track: workers moving between teams, customer levels). Returns {"days", "rows"}.';

CREATE FUNCTION fieldops.job_kpi_rollup(p_tenant_id bigint, p_args jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
    RETURN fieldops.kpi_refresh(p_tenant_id, COALESCE((p_args ->> 'max_days')::integer, 31));
END
$$;
COMMENT ON FUNCTION fieldops.job_kpi_rollup(bigint, jsonb) IS
'Job (per tenant): kpi_refresh() with args.max_days (default 31) days per run ({"more": true} when changed days are left: the scheduler runs it again at once).';

CREATE FUNCTION fieldops.check_rollups(p_tenant_id bigint, p_from date, p_to date)
RETURNS TABLE (rollup text, day date, worker_id bigint, key text, measure text, stored jsonb, computed jsonb)
LANGUAGE sql STABLE
AS $$
    WITH s AS (
        SELECT k.* FROM fieldops.kpi_day k WHERE k.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND k.day BETWEEN p_from AND p_to
    ), c AS (
        SELECT * FROM fieldops.kpi_compute(p_tenant_id, p_from, p_to)
    ), d AS (
        SELECT 'kpi_day' AS rollup, COALESCE(s.day, c.day) AS day, COALESCE(s.worker_id, c.worker_id) AS worker_id,
               COALESCE(s.customer_level, c.customer_level) AS key, pg_catalog.to_jsonb(s) AS sj, pg_catalog.to_jsonb(c) AS cj
          FROM s FULL JOIN c ON c.day OPERATOR(pg_catalog.=) s.day AND c.worker_id OPERATOR(pg_catalog.=) s.worker_id
                            AND c.customer_level OPERATOR(pg_catalog.=) s.customer_level
    ), s2 AS (
        SELECT k.* FROM fieldops.kpi_customer_day k
         WHERE k.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND k.day BETWEEN p_from AND p_to
    ), c2 AS (
        SELECT * FROM fieldops.kpi_compute_customers(p_tenant_id, p_from, p_to)
    ), d2 AS (
        SELECT 'kpi_customer_day' AS rollup, COALESCE(s2.day, c2.day) AS day, COALESCE(s2.worker_id, c2.worker_id) AS worker_id,
               COALESCE(s2.customer_id, c2.customer_id)::text AS key, pg_catalog.to_jsonb(s2) AS sj, pg_catalog.to_jsonb(c2) AS cj
          FROM s2 FULL JOIN c2 ON c2.day OPERATOR(pg_catalog.=) s2.day AND c2.worker_id OPERATOR(pg_catalog.=) s2.worker_id
                              AND c2.customer_id OPERATOR(pg_catalog.=) s2.customer_id
    ), a AS (SELECT * FROM d UNION ALL SELECT * FROM d2)
    SELECT a.rollup, a.day, a.worker_id, a.key, '(row)', a.sj, a.cj FROM a WHERE a.sj IS NULL OR a.cj IS NULL
    UNION ALL
    SELECT a.rollup, a.day, a.worker_id, a.key, m.key, a.sj -> m.key, a.cj -> m.key
      FROM a CROSS JOIN LATERAL pg_catalog.jsonb_object_keys(a.sj) m(key)
     WHERE a.sj IS NOT NULL AND a.cj IS NOT NULL AND (a.sj -> m.key) IS DISTINCT FROM (a.cj -> m.key)
     ORDER BY 1, 2, 3, 4, 5
$$;
COMMENT ON FUNCTION fieldops.check_rollups(bigint, date, date) IS
'Compare the KPI rollups of the tenant-local days p_from..p_to with a recomputation from the source rows: one row per differing measure (stored vs computed), or per missing / stale row (measure "(row)"). No rows: consistent. (Run kpi_refresh() first: days changed since the last refresh differ until then.)';

--
-- The KPI query: grains, dimensions, subtotals
--
CREATE TYPE fieldops.kpi_row AS (
    period date, worker_id bigint, team_id bigint, region_id bigint, customer_level text, grouped_by text[],
    visits bigint, verified_visits bigint, customers_visited bigint, own_customers_visited bigint, assigned_customers bigint, coverage numeric,
    working_hours numeric, verified_visits_per_working_hour numeric, on_site_hours numeric, travel_hours numeric,
    measured_km numeric, expenses jsonb, expense_total numeric, expense_lines_other_currency bigint,
    cost_per_verified_visit numeric, revenue numeric, deals bigint, roi numeric, expense_ratio numeric, currency text
);
COMMENT ON TYPE fieldops.kpi_row IS
'A row of fieldops.kpi() and kpi_from_source(): the period and the dimensions it is grouped by (grouped_by), then the measures (README, KPIs).';

CREATE FUNCTION fieldops.kpi_query(p_tenant_id bigint, p_grain text, p_dims text[], p_from date, p_to date, p_from_source boolean)
RETURNS SETOF fieldops.kpi_row
LANGUAGE plpgsql STABLE
SET jit = off
AS $$
DECLARE
    v_cols constant jsonb := '{"worker": "worker_id", "team": "team_id", "region": "region_id", "customer_level": "customer_level"}';
    v_dims text[] := COALESCE(p_dims, '{}');
    v_set text := 'period';
    v_sets text[] := '{}';
    v_grouped text := '';
    v_sql text;
    d text;
    i integer;
BEGIN
    PERFORM fieldops.check_kpi_range(p_tenant_id, p_from, p_to, 3660);
    IF p_grain IS NULL THEN
        RAISE EXCEPTION 'p_grain must not be null: day, week, month or range' USING ERRCODE = '22004';
    END IF;
    IF p_grain NOT IN ('day', 'week', 'month', 'range') THEN
        RAISE EXCEPTION 'p_grain must be day, week, month or range, got %', p_grain USING ERRCODE = '22023';
    END IF;
    IF pg_catalog.array_position(v_dims, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'p_dims must not contain NULL' USING ERRCODE = '22004';
    END IF;
    FOREACH d IN ARRAY v_dims LOOP
        IF NOT v_cols ? d THEN
            RAISE EXCEPTION 'p_dims: unknown dimension "%"; the dimensions are worker, team, region, customer_level', d USING ERRCODE = '22023';
        END IF;
    END LOOP;
    IF (SELECT pg_catalog.count(DISTINCT x) FROM pg_catalog.unnest(v_dims) x) OPERATOR(pg_catalog.<>) pg_catalog.cardinality(v_dims) THEN
        RAISE EXCEPTION 'p_dims must not repeat a dimension, got %', v_dims USING ERRCODE = '22023';
    END IF;
    -- ROLLUP(period, d1, ..., dn): the detail, each prefix, the period totals, the grand total
    v_sets := ARRAY['()', '(period)'];
    FOR i IN 1 .. pg_catalog.cardinality(v_dims) LOOP
        v_set := v_set || ', ' || (v_cols ->> v_dims[i]);
        v_sets := v_sets || ('(' || v_set || ')');
    END LOOP;
    v_grouped := 'CASE WHEN GROUPING(period) = 0 THEN ''period'' END';
    FOREACH d IN ARRAY v_dims LOOP
        v_grouped := v_grouped || pg_catalog.format(', CASE WHEN GROUPING(%s) = 0 THEN %L END', v_cols ->> d, d);
    END LOOP;
    v_sql := pg_catalog.format($q$
        WITH src AS (
            SELECT %9$s AS period, k.day, k.worker_id, k.team_id, k.region_id, k.customer_level,
                   NULL::bigint AS customer_id, 0 AS verified_customer, 0 AS verified_own,
                   k.visits, k.verified_visits, k.on_site_s, k.working_s, k.travel_s, k.measured_km,
                   k.expense_vehicle_mileage, k.expense_fuel, k.expense_toll, k.expense_parking, k.expense_travel, k.expense_meal,
                   k.expense_lodging, k.expense_other, k.expense_lines_other_currency, k.revenue, k.deals, k.assigned_customers
              FROM %2$s k
            UNION ALL
            SELECT %10$s, c.day, c.worker_id, c.team_id, c.region_id, c.customer_level,
                   c.customer_id, (c.verified_visits > 0)::integer, (c.verified_own_visits > 0)::integer,
                   0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
              FROM %3$s c
        ), r AS (
            SELECT src.*, %11$s AS period_end FROM src
        ), g AS (
            SELECT period%4$s,
                   pg_catalog.array_remove(ARRAY[%5$s], NULL) AS grouped_by,
                   GROUPING(period) AS g_period,
                   sum(visits) AS visits, sum(verified_visits) AS verified_visits,
                   count(DISTINCT customer_id) FILTER (WHERE verified_customer = 1) AS customers_visited,
                   count(DISTINCT customer_id) FILTER (WHERE verified_own = 1) AS own_customers_visited,
                   sum(assigned_customers) FILTER (WHERE day = period_end) AS assigned_period_end,
                   sum(assigned_customers) FILTER (WHERE day = $3) AS assigned_range_end,
                   sum(working_s) AS working_s, sum(on_site_s) AS on_site_s, sum(travel_s) AS travel_s, sum(measured_km) AS measured_km,
                   sum(expense_vehicle_mileage) AS e_vehicle_mileage, sum(expense_fuel) AS e_fuel, sum(expense_toll) AS e_toll,
                   sum(expense_parking) AS e_parking, sum(expense_travel) AS e_travel, sum(expense_meal) AS e_meal,
                   sum(expense_lodging) AS e_lodging, sum(expense_other) AS e_other,
                   sum(expense_lines_other_currency) AS e_other_currency, sum(revenue) AS revenue, sum(deals) AS deals
              FROM r
             GROUP BY GROUPING SETS (%6$s)
        ), m AS (
            SELECT g.*, CASE WHEN g_period = 0 THEN assigned_period_end ELSE assigned_range_end END AS assigned,
                   e_vehicle_mileage + e_fuel + e_toll + e_parking + e_travel + e_meal + e_lodging + e_other AS expense_total,
                   round(working_s / 3600.0, 2) AS working_h
              FROM g
        )
        SELECT period, %7$s, grouped_by,
               visits::bigint, verified_visits::bigint, customers_visited::bigint, own_customers_visited::bigint, COALESCE(assigned, 0)::bigint,
               round(own_customers_visited::numeric / NULLIF(assigned, 0), 4),
               working_h, round(verified_visits / NULLIF(working_s / 3600.0, 0), 3),
               round(on_site_s / 3600.0, 2), round(travel_s / 3600.0, 2), measured_km::numeric(14, 3),
               pg_catalog.jsonb_build_object('vehicle_mileage', e_vehicle_mileage, 'fuel', e_fuel, 'toll', e_toll, 'parking', e_parking,
                                             'travel', e_travel, 'meal', e_meal, 'lodging', e_lodging, 'other', e_other),
               expense_total, e_other_currency::bigint,
               round(expense_total / NULLIF(verified_visits, 0), 2), revenue, deals::bigint,
               round((revenue - expense_total) / NULLIF(expense_total, 0), 4),
               round(expense_total / NULLIF(revenue, 0), 4),
               $4
          FROM m
         ORDER BY period NULLS LAST, %8$s
    $q$,
        p_grain,
        CASE WHEN p_from_source THEN 'fieldops.kpi_compute($1, $2, $3)'
             ELSE '(SELECT * FROM fieldops.kpi_day x WHERE x.tenant_id = $1 AND x.day BETWEEN $2 AND $3)' END,
        CASE WHEN p_from_source THEN 'fieldops.kpi_compute_customers($1, $2, $3)'
             ELSE '(SELECT * FROM fieldops.kpi_customer_day x WHERE x.tenant_id = $1 AND x.day BETWEEN $2 AND $3)' END,
        COALESCE((SELECT pg_catalog.string_agg(', ' || (v_cols ->> x), '') FROM pg_catalog.unnest(v_dims) x), ''),
        v_grouped,
        pg_catalog.array_to_string(v_sets, ', '),
        pg_catalog.format('%s, %s, %s, %s',
            CASE WHEN 'worker' = ANY (v_dims) THEN 'worker_id' ELSE 'NULL::bigint' END,
            CASE WHEN 'team' = ANY (v_dims) THEN 'team_id' ELSE 'NULL::bigint' END,
            CASE WHEN 'region' = ANY (v_dims) THEN 'region_id' ELSE 'NULL::bigint' END,
            CASE WHEN 'customer_level' = ANY (v_dims) THEN 'customer_level' ELSE 'NULL::text' END),
        COALESCE(NULLIF(pg_catalog.array_to_string(ARRAY(SELECT (v_cols ->> x) || ' NULLS LAST' FROM pg_catalog.unnest(v_dims) x), ', '), ''), '1'),
        -- the period of a row, and its last day within the range ('range': one period, p_from..p_to)
        -- (a week starts on the tenant's week_start, ISO day number: $5)
        CASE p_grain WHEN 'range' THEN '$2' WHEN 'week' THEN '(k.day - (extract(isodow FROM k.day)::integer - $5 + 7) % 7)'
                     ELSE pg_catalog.format('pg_catalog.date_trunc(%L, k.day)::date', p_grain) END,
        CASE p_grain WHEN 'range' THEN '$2' WHEN 'week' THEN '(c.day - (extract(isodow FROM c.day)::integer - $5 + 7) % 7)'
                     ELSE pg_catalog.format('pg_catalog.date_trunc(%L, c.day)::date', p_grain) END,
        CASE WHEN p_grain = 'range' THEN '$3' ELSE pg_catalog.format('LEAST((src.period + %L::interval)::date - 1, $3)', '1 ' || p_grain) END);
    RETURN QUERY EXECUTE v_sql USING p_tenant_id, p_from, p_to, fieldops.tenant_setting(p_tenant_id, 'currency') #>> '{}',
                                     (fieldops.tenant_setting(p_tenant_id, 'week_start') #>> '{}')::integer;
END
$$;
COMMENT ON FUNCTION fieldops.kpi_query(bigint, text, text[], date, date, boolean) IS
'Internal: the KPI rows of kpi() (p_from_source false: from the rollups) or kpi_from_source() (true: computed from the source rows), one query text for both.';

CREATE FUNCTION fieldops.kpi(p_tenant_id bigint, p_grain text, p_dims text[], p_from date, p_to date)
RETURNS SETOF fieldops.kpi_row
LANGUAGE sql STABLE
AS $$
    SELECT * FROM fieldops.kpi_query(p_tenant_id, p_grain, p_dims, p_from, p_to, false)
$$;
COMMENT ON FUNCTION fieldops.kpi(bigint, text, text[], date, date) IS
'The KPIs of the tenant-local days p_from..p_to from the rollups, per p_grain (day, week (from the tenant''s week_start, Monday by default), month, or range: the whole range as one period starting p_from) and the dimensions p_dims (in drill-down order, among worker, team, region, customer_level), with subtotals: ROLLUP(period, dims...), so each row''s grouped_by names the columns it is grouped by (the grand total: none). See the README for each measure''s definition. As fresh as the last kpi_refresh() (the kpi_rollup job).';

CREATE FUNCTION fieldops.kpi_from_source(p_tenant_id bigint, p_grain text, p_dims text[], p_from date, p_to date)
RETURNS SETOF fieldops.kpi_row
LANGUAGE sql STABLE
AS $$
    SELECT * FROM fieldops.kpi_query(p_tenant_id, p_grain, p_dims, p_from, p_to, true)
$$;
COMMENT ON FUNCTION fieldops.kpi_from_source(bigint, text, text[], date, date) IS
'kpi() computed from the source rows instead of the rollups: always current, much slower (the baseline of make bench-kpi).';

--
-- Security
--
SELECT fieldops.secure_tenant_table(t::regclass)
  FROM pg_catalog.unnest(ARRAY['fieldops.deal', 'fieldops.kpi_day', 'fieldops.kpi_customer_day', 'fieldops.kpi_state']) AS t;

GRANT EXECUTE ON FUNCTION
    fieldops.upsert_deal(bigint, text, bigint, bigint, numeric, date, text, boolean),
    fieldops.kpi_refresh(bigint, integer),
    fieldops.kpi_rebuild(bigint, date, date)
TO fieldops_app;
GRANT EXECUTE ON FUNCTION
    fieldops.kpi(bigint, text, text[], date, date),
    fieldops.kpi_from_source(bigint, text, text[], date, date),
    fieldops.kpi_query(bigint, text, text[], date, date, boolean),
    fieldops.kpi_compute(bigint, date, date),
    fieldops.kpi_compute_customers(bigint, date, date),
    fieldops.check_rollups(bigint, date, date),
    fieldops.check_kpi_range(bigint, date, date, integer)
TO fieldops_app, fieldops_analyst;
-- kpi_compute() (kpi_from_source(), check_rollups()) reads the working hours
GRANT EXECUTE ON FUNCTION fieldops.claim_windows(bigint, fieldops.worker, date) TO fieldops_app, fieldops_analyst;
GRANT EXECUTE ON FUNCTION
    fieldops.lock_kpi_state(bigint),
    fieldops.kpi_store(bigint, date, date),
    fieldops.check_kpi_range(bigint, date, date, integer),
    fieldops.kpi_compute(bigint, date, date),
    fieldops.kpi_compute_customers(bigint, date, date)
TO fieldops_api;
