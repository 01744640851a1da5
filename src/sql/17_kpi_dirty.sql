--
-- KPI freshness: which tenant-local days changed since the rollups were
-- last refreshed.
--
-- Every API function that changes something a KPI counts (a visit checked
-- out or reviewed, an expense line, a deal, a fix batch) calls
-- fieldops.kpi_touch(tenant, day) in the same transaction.  The table is
-- append-only: one row per touch, never updated, so concurrent writers
-- never wait for each other on a shared "dirty day" row.  The rollup job
-- reads the rows visible to its snapshot, recomputes their days and deletes
-- exactly those rows; a change that commits after the job's snapshot leaves
-- its own row behind, so its day is recomputed by the next run.  A late
-- upload (an offline phone sending last week's visit) touches last week's
-- day, which is how late data reaches the rollups.
--
-- New in 0.2.0 (before the modules that call it).
--

CREATE TABLE fieldops.kpi_dirty (
    tenant_id  bigint NOT NULL REFERENCES fieldops.tenant (tenant_id),
    dirty_id   bigserial NOT NULL,
    day        date NOT NULL,
    source     text NOT NULL,
    touched_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    PRIMARY KEY (tenant_id, dirty_id)
);
CREATE INDEX kpi_dirty_day_idx ON fieldops.kpi_dirty (tenant_id, day);
COMMENT ON TABLE fieldops.kpi_dirty IS
'Append-only: one row per change that a KPI counts, naming the tenant-local day it changed (fieldops.kpi_touch()); the rollup job recomputes those days and deletes the rows it read.';

CREATE FUNCTION fieldops.kpi_touch(p_tenant_id bigint, p_day date, p_source text)
RETURNS void
LANGUAGE sql VOLATILE
AS $$
    INSERT INTO fieldops.kpi_dirty (tenant_id, day, source)
    SELECT p_tenant_id, p_day, p_source WHERE p_day IS NOT NULL
$$;
COMMENT ON FUNCTION fieldops.kpi_touch(bigint, date, text) IS
'Internal: record that p_day (tenant-local) of the tenant changed in a way the KPIs count (p_source: what changed, e.g. visit, expense, deal); the KPI rollup job recomputes it. Call it in the transaction that makes the change.';

SELECT fieldops.secure_tenant_table('fieldops.kpi_dirty'::regclass);
-- written only through kpi_touch() (by the API's functions), read and
-- emptied by the rollup job
REVOKE UPDATE ON fieldops.kpi_dirty FROM fieldops_api, fieldops_admin;
GRANT EXECUTE ON FUNCTION fieldops.kpi_touch(bigint, date, text) TO fieldops_api;
