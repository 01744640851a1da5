--
-- A worker's departure, applied (worker_leave() for today, the
-- apply_departures job for scheduled ones).  In a file of its own because
-- 0.2.0 changed it: upgrade scripts are made of whole files.
--

CREATE OR REPLACE FUNCTION fieldops.apply_departure(p_tenant_id bigint, p_worker fieldops.worker)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    n_devices integer;
    n_reports integer;
    n_moved integer := 0;
    n_released integer := 0;
    n_kept integer;
    v_heir bigint;
    v_moved integer[];
BEGIN
    -- lock order, the same everywhere: workers (top-down), then devices,
    -- then bindings (register_device: worker, device, binding)
    -- direct reports move up to the leaver's manager
    UPDATE fieldops.worker SET manager_id = p_worker.manager_id, updated_at = pg_catalog.now()
     WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND manager_id OPERATOR(pg_catalog.=) p_worker.worker_id;
    GET DIAGNOSTICS n_reports = ROW_COUNT;

    -- devices in device_id order, as ingest_fixes() locks a batch's devices:
    -- in the order the UPDATE happens to meet them, a leaver with two
    -- phones could deadlock with a batch from both
    PERFORM 1 FROM fieldops.device
      WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND worker_id OPERATOR(pg_catalog.=) p_worker.worker_id
      ORDER BY device_id
        FOR NO KEY UPDATE;
    UPDATE fieldops.device SET worker_id = NULL, bound_at = NULL
     WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND worker_id OPERATOR(pg_catalog.=) p_worker.worker_id;
    GET DIAGNOSTICS n_devices = ROW_COUNT;
    -- close the worker's device bindings: a phone handed back can be bound
    -- again (clock_timestamp: later than the binding, whoever made it)
    UPDATE fieldops.device_binding
       SET unbound_at = pg_catalog.clock_timestamp(), unbound_reason = 'worker left'
     WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND worker_id OPERATOR(pg_catalog.=) p_worker.worker_id
       AND unbound_at IS NULL;

    -- customers: to the leaver's manager (when active) or back to their
    -- pool, as each customer's pool rule owner_left says (32_pool.sql)
    SELECT m.worker_id INTO v_heir FROM fieldops.worker m
     WHERE m.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND m.worker_id OPERATOR(pg_catalog.=) p_worker.manager_id
       AND m.status OPERATOR(pg_catalog.=) 'active'
       FOR SHARE;
    v_moved := fieldops.pool_owner_left(p_tenant_id, p_worker.worker_id, v_heir);
    n_moved := v_moved[1];
    n_released := v_moved[2];
    SELECT pg_catalog.count(*) INTO n_kept FROM fieldops.customer
     WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND owner_worker_id OPERATOR(pg_catalog.=) p_worker.worker_id;

    UPDATE fieldops.worker SET status = 'left', is_team_lead = false, updated_at = pg_catalog.now()
     WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND worker_id OPERATOR(pg_catalog.=) p_worker.worker_id;

    PERFORM fieldops.emit_event(p_tenant_id, 'worker.left', 'worker', p_worker.worker_id,
        pg_catalog.jsonb_build_object('left_on', p_worker.left_on, 'reason', p_worker.left_reason,
                                      'new_manager_of_reports', p_worker.manager_id,
                                      'devices_unbound', n_devices, 'reports_moved', n_reports,
                                      'team_without_lead', CASE WHEN p_worker.is_team_lead THEN p_worker.team_id END,
                                      'customers_moved', n_moved, 'customers_released', n_released, 'customers_kept', n_kept));
    RETURN pg_catalog.jsonb_build_object('status', 'left', 'left_on', p_worker.left_on,
                                         'devices_unbound', n_devices, 'reports_moved', n_reports,
                                         'team_lead_cleared', p_worker.is_team_lead,
                                         'customers_moved', n_moved, 'customers_released', n_released,
                                         'customers_kept', n_kept);
END
$$;
COMMENT ON FUNCTION fieldops.apply_departure(bigint, fieldops.worker) IS
'Internal: the effects of a departure: unbind devices, move direct reports to the leaver''s manager, hand each owned customer to that manager or back to its pool as its pool''s owner_left rule says (to the pool when there is no active manager), clear the team lead flag, status left, event worker.left. The caller holds the worker row lock.';

-- The job applies a batch of departures in one transaction; one that
-- deadlocks with a concurrent call (a customer given to the leaver's report
-- while the batch holds an earlier leaver's customers) is left for the next
-- run instead of failing the batch: its subtransaction is undone, the
-- departure stays scheduled.
CREATE OR REPLACE FUNCTION fieldops.job_apply_departures(p_tenant_id bigint, p_args jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    w fieldops.worker;
    v_today date := fieldops.tenant_local_date(p_tenant_id);
    v_batch integer := COALESCE((p_args ->> 'batch')::integer, 500);
    n integer := 0;
    n_seen integer := 0;
    n_deferred integer := 0;
BEGIN
    FOR w IN SELECT * FROM fieldops.worker
              WHERE tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND status OPERATOR(pg_catalog.=) 'active'
                AND left_on OPERATOR(pg_catalog.<=) v_today
              ORDER BY worker_id
              LIMIT v_batch
                FOR NO KEY UPDATE SKIP LOCKED
    LOOP
        n_seen := n_seen OPERATOR(pg_catalog.+) 1;
        IF w.manager_id IS NOT NULL THEN
            PERFORM 1 FROM fieldops.worker m
             WHERE m.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND m.worker_id OPERATOR(pg_catalog.=) w.manager_id
               FOR SHARE SKIP LOCKED;
            CONTINUE WHEN NOT FOUND;
        END IF;
        BEGIN
            PERFORM fieldops.apply_departure(p_tenant_id, w);
            n := n OPERATOR(pg_catalog.+) 1;
        EXCEPTION WHEN deadlock_detected THEN
            n_deferred := n_deferred OPERATOR(pg_catalog.+) 1;
        END;
    END LOOP;
    RETURN pg_catalog.jsonb_build_object('departed', n, 'deferred', n_deferred, 'local_date', v_today,
                                         'more', n_seen OPERATOR(pg_catalog.=) v_batch);
END
$$;
COMMENT ON FUNCTION fieldops.job_apply_departures(bigint, jsonb) IS
'Job (per tenant): apply scheduled departures whose date has come in the tenant''s time zone; one that deadlocks with a concurrent call is deferred to the next run.';
