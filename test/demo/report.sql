--
-- test/demo/report.sql — what a manager wants to see about one tenant.
--
--   psql -X -v tenant=<tenant id> -f test/demo/report.sql <database>
--
-- Without -v tenant the tenant with the highest id is reported.  Read-only:
-- it only chooses the tenant for the session (fieldops.set_tenant(.., false))
-- so that fieldops.is_working_time() can be called.  Every query filters on
-- the tenant itself as well, so the report is the same for a superuser (who
-- bypasses row-level security) and for a role granted the tenant.
-- Section 9 (vehicle mileage) shows the latest day with vehicle claims; when
-- the sample generator made it (test/generators/sample_fixes.sh) and the
-- session may read fieldops_sample.mileage_worker, it adds what ingest said
-- and the true distances of the synthetic drives.
-- Section 11 (spoofed locations) shows the latest day with check-in fixes:
-- per worker the bands and reason codes of the day, the open alerts, and one
-- honest check-in scored again with fieldops.spoof_score() for its coverage;
-- the stories come from fieldops_sample.spoof_worker when
-- test/generators/sample_spoofers.sql made the day and the session may read it.
-- Section 12 (the customer pool) shows the pools, their sizes and rules and
-- the invariants; when test/generators/sample_pool.sql played its day on the
-- tenant and the session may read fieldops_sample.pool_step, the day: the
-- release job's warnings and releases, the follow-ups, the departure, every
-- claim with its status and why, and one customer's 360° view.
-- Section 13 (the process) shows the SOPs and forms, today's visits with
-- the verdict of fieldops.visit_verified and its reasons, tasks and work
-- orders with their histories, parts, stock and signatures verified again;
-- when test/generators/sample_process.sql played its day and the session
-- may read fieldops_sample.process_step, the calls the API refused and why.
-- Section 14 (the cockpit) shows fieldops.kpi() over the four weeks before
-- this one and this week so far: per week, the top and bottom performers,
-- coverage by team, cost and ROI by region, the flagged expense lines, and
-- check_rollups() over those days.
--
\set QUIET on
\set ON_ERROR_STOP on
\pset footer off
\pset null ''
\pset linestyle unicode
\pset border 1
SET client_min_messages = warning;

\if :{?tenant}
\else
SELECT max(tenant_id) AS tenant FROM fieldops.tenant \gset
\endif
SELECT fieldops.set_tenant(:tenant, false) AS tenant_selected \gset
SELECT name AS tenant_name, time_zone AS tenant_tz,
       to_char(now() AT TIME ZONE time_zone, 'YYYY-MM-DD HH24:MI Dy') AS tenant_now
  FROM fieldops.tenant WHERE tenant_id = :tenant \gset

\echo
\echo '╔══════════════════════════════════════════════════════════════════════════╗'
\echo '  fieldops — manager report'
\echo '  tenant' :tenant '·' :tenant_name
\echo '  local time' :tenant_now '(' :tenant_tz ')'
\echo '╚══════════════════════════════════════════════════════════════════════════╝'

SELECT (SELECT count(*) FROM fieldops.region r WHERE r.tenant_id = :tenant) AS regions,
       (SELECT count(*) FROM fieldops.team x WHERE x.tenant_id = :tenant) AS teams,
       (SELECT count(*) FROM fieldops.worker w WHERE w.tenant_id = :tenant AND w.status = 'active') AS active_workers,
       (SELECT count(*) FROM fieldops.device d WHERE d.tenant_id = :tenant AND d.status = 'active') AS devices,
       (SELECT count(*) FROM fieldops.customer c WHERE c.tenant_id = :tenant) AS customers,
       (SELECT count(*) FROM fieldops.outbox o WHERE o.tenant_id = :tenant) AS outbox_events;

------------------------------------------------------------------------------
\echo
\echo '── 1. Headcount by region and team ─────────────────────────────────────────'
\echo '   active = working now; scheduled = active with a leaving date still ahead'
WITH RECURSIVE path AS (
    SELECT r.region_id, r.name::text AS path, 0 AS depth
      FROM fieldops.region r WHERE r.tenant_id = :tenant AND r.parent_region_id IS NULL
    UNION ALL
    SELECT r.region_id, p.path || ' › ' || r.name, p.depth + 1
      FROM fieldops.region r JOIN path p ON r.parent_region_id = p.region_id
     WHERE r.tenant_id = :tenant
), hc AS (
    SELECT COALESCE(p.path, '(no region)') AS region, COALESCE(t.name, '(no team)') AS team,
           lead.name AS lead,
           count(*) FILTER (WHERE w.status = 'active' AND w.left_on IS NULL) AS active,
           count(*) FILTER (WHERE w.status = 'active' AND w.left_on IS NOT NULL) AS scheduled,
           count(*) FILTER (WHERE w.status = 'left') AS "left",
           count(*) AS total
      FROM fieldops.worker w
      LEFT JOIN fieldops.team t ON t.tenant_id = w.tenant_id AND t.team_id = w.team_id
      LEFT JOIN fieldops.worker lead ON lead.tenant_id = t.tenant_id AND lead.team_id = t.team_id AND lead.is_team_lead
      LEFT JOIN path p ON p.region_id = t.region_id
     WHERE w.tenant_id = :tenant
     GROUP BY GROUPING SETS ((1, 2, 3), ())
)
SELECT COALESCE(region, 'TOTAL') AS region, team, lead AS "team lead",
       active, scheduled, "left", total
  FROM hc
 ORDER BY region IS NULL, region, team;

\echo
\echo '   Reporting lines (managers and how many report to them directly)'
WITH RECURSIVE tree AS (
    SELECT w.worker_id, w.name, w.title, w.job_level, 0 AS depth, lpad(w.worker_id::text, 12, '0') AS sort
      FROM fieldops.worker w
     WHERE w.tenant_id = :tenant AND w.manager_id IS NULL AND w.status = 'active'
    UNION ALL
    SELECT w.worker_id, w.name, w.title, w.job_level, t.depth + 1, t.sort || lpad(w.worker_id::text, 12, '0')
      FROM fieldops.worker w JOIN tree t ON w.manager_id = t.worker_id
     WHERE w.tenant_id = :tenant AND w.status = 'active' AND t.depth < 20
)
SELECT repeat('   ', t.depth) || CASE WHEN t.depth > 0 THEN '└─ ' ELSE '' END || t.name AS manager,
       t.title, t.job_level AS level,
       (SELECT count(*) FROM fieldops.worker r
         WHERE r.tenant_id = :tenant AND r.manager_id = t.worker_id AND r.status = 'active') AS "direct reports",
       (SELECT x.name FROM fieldops.team x JOIN fieldops.worker l ON l.tenant_id = x.tenant_id AND l.team_id = x.team_id
         WHERE x.tenant_id = :tenant AND l.worker_id = t.worker_id AND l.is_team_lead) AS "leads team"
  FROM tree t
 WHERE EXISTS (SELECT 1 FROM fieldops.worker r WHERE r.tenant_id = :tenant AND r.manager_id = t.worker_id)
    OR t.depth = 0
 ORDER BY t.sort;

\echo
\echo '   Departures'
SELECT w.name, w.title, t.name AS team, w.hired_on, w.left_on,
       CASE WHEN w.status = 'left' THEN 'left' ELSE 'scheduled' END AS status, w.left_reason AS reason
  FROM fieldops.worker w
  LEFT JOIN fieldops.team t ON t.tenant_id = w.tenant_id AND t.team_id = w.team_id
 WHERE w.tenant_id = :tenant AND (w.status = 'left' OR w.left_on IS NOT NULL)
 ORDER BY w.left_on, w.worker_id;

------------------------------------------------------------------------------
\echo
\echo '── 2. Device fleet by platform and model ───────────────────────────────────'
SELECT COALESCE(d.platform, 'TOTAL') AS platform,
       CASE WHEN d.platform IS NULL THEN '' ELSE COALESCE(d.model, 'all models') END AS model,
       count(*) AS devices,
       count(*) FILTER (WHERE d.worker_id IS NOT NULL) AS bound,
       count(*) FILTER (WHERE d.worker_id IS NULL AND d.status = 'active') AS unbound,
       count(*) FILTER (WHERE d.status = 'retired') AS retired,
       CASE WHEN GROUPING(d.model) = 0 THEN string_agg(DISTINCT d.os_version, ', ')
            ELSE count(DISTINCT d.os_version) || ' versions' END AS "OS versions"
  FROM fieldops.device d
 WHERE d.tenant_id = :tenant
 GROUP BY ROLLUP (d.platform, d.model)
 ORDER BY d.platform IS NULL, d.platform, d.model IS NULL DESC, count(*) DESC, d.model;

\echo
\echo '   Devices that changed hands (fieldops.device_binding history)'
SELECT d.device_uid AS device, d.model, w.name AS worker, b.bound_at::timestamp(0) AS bound_at,
       b.unbound_at::timestamp(0) AS unbound_at, COALESCE(b.unbound_reason, '◀ current') AS "ended because"
  FROM fieldops.device_binding b
  JOIN fieldops.device d ON d.tenant_id = b.tenant_id AND d.device_id = b.device_id
  JOIN fieldops.worker w ON w.tenant_id = b.tenant_id AND w.worker_id = b.worker_id
 WHERE b.tenant_id = :tenant
   AND b.device_id IN (SELECT x.device_id FROM fieldops.device_binding x
                        WHERE x.tenant_id = :tenant GROUP BY x.device_id HAVING count(*) > 1)
 ORDER BY d.device_id, b.binding_id;

------------------------------------------------------------------------------
\echo
\echo '── 3. Customers by district and level ──────────────────────────────────────'
SELECT COALESCE(r.name, CASE WHEN GROUPING(r.name) = 1 THEN 'TOTAL' ELSE '(no region)' END) AS district,
       count(*) FILTER (WHERE c.level = 'A') AS "A",
       count(*) FILTER (WHERE c.level = 'B') AS "B",
       count(*) FILTER (WHERE c.level = 'C') AS "C",
       count(*) FILTER (WHERE c.level = 'D') AS "D",
       count(*) FILTER (WHERE c.level IS NULL OR c.level NOT IN ('A', 'B', 'C', 'D')) AS other,
       count(*) AS total,
       round(100.0 * count(c.owner_worker_id) / count(*), 1) AS "owned %",
       (SELECT x.category FROM fieldops.customer x
         WHERE x.tenant_id = :tenant AND (GROUPING(r.name) = 1 OR x.region_id = min(c.region_id))
         GROUP BY x.category ORDER BY count(*) DESC, x.category LIMIT 1) AS "top category"
  FROM fieldops.customer c
  LEFT JOIN fieldops.region r ON r.tenant_id = c.tenant_id AND r.region_id = c.region_id
 WHERE c.tenant_id = :tenant
 GROUP BY ROLLUP (r.name)
 ORDER BY GROUPING(r.name), count(*) DESC;

\echo
\echo '   Customers by category'
SELECT c.category, count(*) AS customers,
       round(100.0 * count(*) / sum(count(*)) OVER (), 1) AS "%",
       round(100.0 * count(*) FILTER (WHERE c.level IN ('A', 'B')) / count(*), 1) AS "A+B %"
  FROM fieldops.customer c
 WHERE c.tenant_id = :tenant
 GROUP BY c.category
 ORDER BY count(*) DESC;

------------------------------------------------------------------------------
\echo
\echo '── 4. Ownership ────────────────────────────────────────────────────────────'
\echo '   sales workers = active workers of teams whose name or code says sales (销售)'
WITH sales AS (
    SELECT w.worker_id
      FROM fieldops.worker w
      JOIN fieldops.team t ON t.tenant_id = w.tenant_id AND t.team_id = w.team_id
     WHERE w.tenant_id = :tenant AND w.status = 'active'
       AND (t.name LIKE '%销售%' OR t.code ILIKE '%sales%')
), per AS (
    SELECT s.worker_id, count(c.customer_id) AS n
      FROM sales s
      LEFT JOIN fieldops.customer c ON c.tenant_id = :tenant AND c.owner_worker_id = s.worker_id
     GROUP BY s.worker_id
)
SELECT count(*) AS "active sales workers",
       min(n) AS "min customers",
       percentile_cont(0.5) WITHIN GROUP (ORDER BY n) AS median,
       max(n) AS "max customers",
       (SELECT count(*) FROM fieldops.customer c WHERE c.tenant_id = :tenant AND c.owner_worker_id IS NULL) AS unowned,
       (SELECT count(*) FROM fieldops.customer c
         WHERE c.tenant_id = :tenant AND c.owner_worker_id IS NOT NULL
           AND c.owner_worker_id NOT IN (SELECT worker_id FROM sales)) AS "owned by non-sales"
  FROM per;

\echo
\echo '   Customers per owner (top 5 and bottom 3 by count)'
WITH per AS (
    SELECT w.name, t.name AS team, w.title, count(*) AS customers,
           count(*) FILTER (WHERE c.level = 'A') AS "A",
           rank() OVER (ORDER BY count(*) DESC, w.worker_id) AS top,
           rank() OVER (ORDER BY count(*), w.worker_id) AS bottom
      FROM fieldops.customer c
      JOIN fieldops.worker w ON w.tenant_id = c.tenant_id AND w.worker_id = c.owner_worker_id
      LEFT JOIN fieldops.team t ON t.tenant_id = w.tenant_id AND t.team_id = w.team_id
     WHERE c.tenant_id = :tenant
     GROUP BY w.worker_id, w.name, t.name, w.title
)
SELECT name, team, title, customers, "A" FROM per WHERE top <= 5 OR bottom <= 3 ORDER BY customers DESC, name;

\echo
\echo '   Customers owned by workers who left (should be none: their customers are handed over)'
SELECT count(*) AS "owned by leavers",
       COALESCE(string_agg(DISTINCT w.name || ' (left ' || w.left_on || ')', ', '), '—') AS leavers
  FROM fieldops.customer c
  JOIN fieldops.worker w ON w.tenant_id = c.tenant_id AND w.worker_id = c.owner_worker_id
 WHERE c.tenant_id = :tenant AND w.status = 'left';
SELECT count(*) AS "owned by workers scheduled to leave",
       COALESCE(string_agg(DISTINCT w.name || ' (leaves ' || w.left_on || ')', ', '), '—') AS workers
  FROM fieldops.customer c
  JOIN fieldops.worker w ON w.tenant_id = c.tenant_id AND w.worker_id = c.owner_worker_id
 WHERE c.tenant_id = :tenant AND w.status = 'active' AND w.left_on IS NOT NULL;

------------------------------------------------------------------------------
\echo
\echo '── 5. Where the customers are (one cell ≈ 1.4 km × 2.8 km, log scale) ──────'
\pset format unaligned
\pset tuples_only on
WITH box AS (
    SELECT 121.03::float8 AS x0, 121.91::float8 AS x1, 30.87::float8 AS y0, 31.47::float8 AS y1, 60 AS nx, 24 AS ny
), pts AS (
    SELECT least(b.nx - 1, floor((ST_X(c.geom) - b.x0) / (b.x1 - b.x0) * b.nx))::int AS cx,
           least(b.ny - 1, floor((b.y1 - ST_Y(c.geom)) / (b.y1 - b.y0) * b.ny))::int AS cy
      FROM fieldops.customer c, box b
     WHERE c.tenant_id = :tenant AND c.geom IS NOT NULL
       AND ST_X(c.geom) BETWEEN b.x0 AND b.x1 AND ST_Y(c.geom) BETWEEN b.y0 AND b.y1
), cnt AS (
    SELECT cx, cy, count(*) AS n FROM pts GROUP BY cx, cy
), mx AS (
    SELECT greatest(max(n), 2) AS m FROM cnt
), cells AS (
    SELECT gy, gx,
           substr(' .:-=+*#%@', 1 + CASE WHEN cnt.n IS NULL THEN 0
                                         ELSE 1 + floor(8.999 * ln(cnt.n) / ln(mx.m))::int END, 1) AS ch
      FROM box b, mx
     CROSS JOIN generate_series(0, b.ny - 1) AS gy
     CROSS JOIN generate_series(0, b.nx - 1) AS gx
      LEFT JOIN cnt ON cnt.cx = gx AND cnt.cy = gy
), labels AS (
    -- each district's name on the row of its customers' centre, in column order
    SELECT cy, string_agg(r.name || '(' || cx || ')', ' ' ORDER BY cx) AS names
      FROM (SELECT c.region_id,
                   floor((ST_X(ST_Centroid(ST_Collect(c.geom))) - b.x0) / (b.x1 - b.x0) * b.nx)::int AS cx,
                   floor((b.y1 - ST_Y(ST_Centroid(ST_Collect(c.geom)))) / (b.y1 - b.y0) * b.ny)::int AS cy
              FROM fieldops.customer c, box b
             WHERE c.tenant_id = :tenant AND c.geom IS NOT NULL
             GROUP BY c.region_id, b.x0, b.x1, b.y0, b.y1, b.nx, b.ny) z
      JOIN fieldops.region r ON r.tenant_id = :tenant AND r.region_id = z.region_id
     GROUP BY cy
), rows AS (
    SELECT gy, string_agg(ch, '' ORDER BY gx) AS line FROM cells GROUP BY gy
)
SELECT line FROM (
    SELECT -2 AS k, repeat(' ', 10) || '0' || repeat(' ', 29) || '30' || repeat(' ', 27) || '59  (column)' AS line
    UNION ALL
    SELECT -1, '         ┌' || repeat('─', 60) || '┐'
    UNION ALL
    SELECT gy, CASE WHEN gy % 4 = 0 THEN to_char(31.47 - gy * 0.025, 'FM00.00') || 'N   '
                    ELSE '         ' END || '│' || line || '│  ' || COALESCE(l.names, '')
      FROM rows LEFT JOIN labels l ON l.cy = rows.gy
    UNION ALL
    SELECT 100, '         └' || repeat('─', 60) || '┘'
    UNION ALL
    SELECT 101, repeat(' ', 10) || '121.03E' || repeat(' ', 20) || '121.47E' || repeat(' ', 19) || '121.91E'
    UNION ALL
    SELECT 102, '          scale: '' '' none  . : - = + * # % @  (1 … '
                || (SELECT max(n) FROM cnt) || ' customers per cell)  district(col) = centre of its customers'
    UNION ALL
    SELECT 103, '          outside the map: '
                || (SELECT count(*) FROM fieldops.customer c
                     WHERE c.tenant_id = :tenant AND c.geom IS NOT NULL) - (SELECT count(*) FROM pts)
                || ' of ' || (SELECT count(*) FROM fieldops.customer c WHERE c.tenant_id = :tenant)
) z ORDER BY k;
\pset format aligned
\pset tuples_only off

------------------------------------------------------------------------------
\echo
\echo '── 6. On duty right now (fieldops.is_working_time, tenant time zone) ───────'
\echo '   local time' :tenant_now '(' :tenant_tz ')'
WITH w AS (
    SELECT w.worker_id, w.name, t.name AS team, w.work_schedule IS NOT NULL AS own,
           fieldops.is_working_time(:tenant, w.worker_id, now()) AS on_duty,
           fieldops.is_working_time(:tenant, w.worker_id,
               (fieldops.tenant_local_date(:tenant) + time '10:30') AT TIME ZONE :'tenant_tz') AS at_1030,
           fieldops.is_working_time(:tenant, w.worker_id,
               (fieldops.tenant_local_date(:tenant) + time '23:00') AT TIME ZONE :'tenant_tz') AS at_2300
      FROM fieldops.worker w
      LEFT JOIN fieldops.team t ON t.tenant_id = w.tenant_id AND t.team_id = w.team_id
     WHERE w.tenant_id = :tenant AND w.status = 'active'
)
SELECT COALESCE(team, CASE WHEN GROUPING(team) = 1 THEN 'TOTAL' ELSE '(no team)' END) AS team,
       count(*) AS active,
       count(*) FILTER (WHERE on_duty) AS "on duty now",
       COALESCE(string_agg(name || CASE WHEN own THEN '*' ELSE '' END, ', ' ORDER BY worker_id) FILTER (WHERE on_duty), '—') AS who,
       count(*) FILTER (WHERE at_1030) AS "today 10:30",
       count(*) FILTER (WHERE at_2300) AS "today 23:00"
  FROM w
 GROUP BY ROLLUP (team)
 ORDER BY GROUPING(team), team;
\echo '   * = own working hours; the others follow the tenant''s work_schedule setting'

\echo
\echo '   Workers with their own working hours'
SELECT w.name, w.title,
       CASE WHEN fieldops.is_working_time(:tenant, w.worker_id, now()) THEN 'yes' ELSE 'no' END AS "on duty now",
       week.hours AS "week (tenant-local)",
       (SELECT string_agg(k || ' ' || CASE WHEN jsonb_array_length(v) = 0 THEN 'off' ELSE v #>> '{0}' END, ', ' ORDER BY k)
          FROM jsonb_each(w.work_schedule -> 'dates') AS e(k, v)) AS "dated exceptions (调休, holidays)"
  FROM fieldops.worker w
  CROSS JOIN LATERAL (
      -- runs of consecutive days with the same hours: "mon-fri 22:00-06:00"
      SELECT string_agg(label || ' ' || hrs, '  ' ORDER BY first_day) AS hours
        FROM (SELECT hrs, min(o) AS first_day,
                     (array_agg(d ORDER BY o))[1]
                     || CASE WHEN count(*) > 1 THEN '-' || (array_agg(d ORDER BY o DESC))[1] ELSE '' END AS label
                FROM (SELECT d, o, hrs, o - row_number() OVER (PARTITION BY hrs ORDER BY o) AS island
                        FROM (SELECT u.d, u.o,
                                     (SELECT string_agg(x, ',') FROM jsonb_array_elements_text(w.work_schedule -> u.d) x) AS hrs
                                FROM unnest(ARRAY['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']) WITH ORDINALITY AS u(d, o)) days
                       WHERE hrs IS NOT NULL) runs
               GROUP BY hrs, island) spans
  ) week
 WHERE w.tenant_id = :tenant AND w.work_schedule IS NOT NULL AND w.status = 'active'
 ORDER BY w.worker_id;

------------------------------------------------------------------------------
\echo
\echo '── 7. Outbox events by topic ───────────────────────────────────────────────'
SELECT COALESCE(o.topic, 'TOTAL') AS topic, count(*) AS events,
       count(*) FILTER (WHERE o.published_at IS NULL) AS unpublished,
       min(o.created_at)::timestamp(0) AS first, max(o.created_at)::timestamp(0) AS last
  FROM fieldops.outbox o
 WHERE o.tenant_id = :tenant
 GROUP BY ROLLUP (o.topic)
 ORDER BY GROUPING(o.topic), count(*) DESC, o.topic;

------------------------------------------------------------------------------
\echo
\echo '── 8. Jobs (all tenants) ───────────────────────────────────────────────────'
SELECT s.job_name, s.scope, s.schedule, s.enabled, s.next_run_at::timestamp(0) AS next_run,
       s.last_status, s.last_finished_at::timestamp(0) AS last_finished, s.failures_24h,
       (SELECT count(*) FROM fieldops.job_run r JOIN fieldops.job j USING (job_id)
         WHERE j.job_name = s.job_name) AS runs
  FROM fieldops.job_status s
 ORDER BY s.job_name;

------------------------------------------------------------------------------
\echo
\echo '── 9. Vehicle mileage: the sample working days (module 5) ──────────────────'
-- The latest day with vehicle claims, and (when test/generators/sample_fixes.sh
-- made it) what the sample generator knows: ingest's answers and drivegen's
-- true distances.  Without the sample schema those columns stay empty.
SELECT to_regclass('fieldops.vehicle_claim') IS NOT NULL AS have_mileage \gset
\if :have_mileage
SELECT max(c.day) AS mileage_day, count(*) > 0 AS have_claims,
       to_char(max(c.day), 'Dy YYYY-MM-DD') || ' (' || :'tenant_tz' || '),' AS mileage_day_head
  FROM fieldops.vehicle_claim c WHERE c.tenant_id = :tenant \gset
\else
\set have_claims false
\endif
SELECT COALESCE((SELECT has_schema_privilege(n.oid, 'USAGE') AND has_table_privilege(c.oid, 'SELECT')
                   FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                  WHERE n.nspname = 'fieldops_sample' AND c.relname = 'mileage_worker'), false) AS have_sample \gset
\if :have_sample
\set sample 'fieldops_sample.mileage_worker'
\else
\set sample '(SELECT * FROM (VALUES (NULL::bigint, NULL::bigint, NULL::int, NULL::text, NULL::float8, NULL::int, NULL::int, NULL::int, NULL::int, NULL::numeric, NULL::numeric, NULL::numeric)) AS v(tenant_id, worker_id, story, label, sample_s, sent, stored, duplicate, off_duty, true_km, silent_true_km, tunnel_km) WHERE false)'
\endif
\if :have_claims
\echo '  ' :mileage_day_head 'the latest day with vehicle claims.  off duty, dup, stored: what'
\echo '   fieldops.ingest_fixes() answered for the fixes the phone sent (off duty = recorded outside working hours:'
\echo '   not stored, the privacy rule).  Each working range is measured on its own (the lunch break is not bridged)'
\echo '   and the ranges are added up.  raw = naive ST_Length of the stored fixes in time order; audited ='
\echo '   fieldops.mileage_agg(); true = the true path of the synthetic drives (drivegen) inside working hours.'
WITH c AS (
    SELECT c.* FROM fieldops.vehicle_claim c WHERE c.tenant_id = :tenant AND c.day = :'mileage_day'
), win AS (
    SELECT c.worker_id, (w ->> 'from')::timestamptz AS from_at, (w ->> 'to')::timestamptz AS to_at
      FROM c CROSS JOIN LATERAL jsonb_array_elements(c.evidence -> 'windows') AS w
), per AS (
    SELECT win.worker_id,
           sum(x.raw_m) AS raw_m, sum((x.m).distance_m) AS audited_m, sum(x.n) AS n
      FROM win
     CROSS JOIN LATERAL (
           SELECT ST_Length(ST_MakeLine(f.geom ORDER BY f.recorded_at)::geography) AS raw_m,
                  fieldops.mileage_agg(f.recorded_at, f.geom, f.accuracy_m, f.speed_mps, f.provider) AS m,
                  count(*) AS n
             FROM fieldops.fix f
            WHERE f.tenant_id = :tenant AND f.worker_id = win.worker_id
              AND f.recorded_at >= win.from_at AND f.recorded_at < win.to_at) x
     GROUP BY win.worker_id
)
SELECT w.name AS worker, COALESCE(s.label || ' · ' || s.sample_s || ' s', w.title) AS "the day",
       s.off_duty AS "off duty", s.duplicate AS dup, per.n AS stored,
       round(per.raw_m::numeric / 1000, 1) AS "raw km", round(per.audited_m::numeric / 1000, 2) AS audited,
       round((per.raw_m / nullif(per.audited_m, 0))::numeric, 1) AS "raw÷aud",
       round(s.true_km, 2) AS "true km",
       to_char(100 * (per.audited_m / 1000 - s.true_km::float8) / nullif(s.true_km::float8, 0), 'FMSG990.0') || ' %' AS "vs true"
  FROM c
  JOIN fieldops.worker w ON w.tenant_id = c.tenant_id AND w.worker_id = c.worker_id
  LEFT JOIN per ON per.worker_id = c.worker_id
  LEFT JOIN :sample s ON s.tenant_id = c.tenant_id AND s.worker_id = c.worker_id
 ORDER BY s.story, w.worker_id;

\if :have_sample
\pset format unaligned
\pset tuples_only on
SELECT '   ' || w.name || ': ' || concat_ws('; ',
           CASE WHEN s.silent_true_km > 0 THEN round(s.silent_true_km, 2) || ' km driven while the phone was silent (counted: the chord, '
                                               || round(c.gap_km, 2) || ' km)' END,
           CASE WHEN s.tunnel_km > 0 THEN round(s.tunnel_km, 2) || ' km in tunnels' END)
  FROM fieldops_sample.mileage_worker s
  JOIN fieldops.worker w ON w.tenant_id = s.tenant_id AND w.worker_id = s.worker_id
  LEFT JOIN fieldops.vehicle_claim c ON c.tenant_id = s.tenant_id AND c.worker_id = s.worker_id AND c.day = s.day
 WHERE s.tenant_id = :tenant AND s.day = :'mileage_day' AND (s.silent_true_km > 0 OR s.tunnel_km > 0)
 ORDER BY s.story;
\pset format aligned
\pset tuples_only off
\endif
\echo
\echo '   What the filter did with the fixes: count · raw km of the steps leading to them (they add up to raw km)'
WITH c AS (
    SELECT c.* FROM fieldops.vehicle_claim c WHERE c.tenant_id = :tenant AND c.day = :'mileage_day'
), win AS (
    SELECT c.worker_id, (w ->> 'from')::timestamptz AS from_at, (w ->> 'to')::timestamptz AS to_at
      FROM c CROSS JOIN LATERAL jsonb_array_elements(c.evidence -> 'windows') AS w
), drops AS (
    SELECT win.worker_id, d.key AS status, sum((d.value ->> 'count')::bigint) AS n,
           sum((d.value ->> 'raw_m')::numeric) AS raw_m
      FROM win
     CROSS JOIN LATERAL (
           SELECT fieldops.mileage_agg(f.recorded_at, f.geom, f.accuracy_m, f.speed_mps, f.provider) AS m
             FROM fieldops.fix f
            WHERE f.tenant_id = :tenant AND f.worker_id = win.worker_id
              AND f.recorded_at >= win.from_at AND f.recorded_at < win.to_at) x
     CROSS JOIN LATERAL jsonb_each((x.m).drops) AS d
     GROUP BY win.worker_id, d.key
), reasons (ord, status, meaning) AS (VALUES
    (1, 'moved', 'kept: the step counts'),
    (2, 'gap', 'after a gap: the chord counts'),
    (3, 'first', 'first usable fix'),
    (4, 'relocated', 'consistent jump accepted, no distance'),
    (5, 'hold', 'jitter inside the hold radius'),
    (6, 'stationary', 'held by the stop lock'),
    (7, 'invalid', 'bad time or position'),
    (8, 'zero', 'exactly (0, 0)'),
    (9, 'future', 'too far in the future'),
    (10, 'duplicate', 'same time as the fix before'),
    (11, 'non_gnss', 'Wi-Fi, cell: never add distance'),
    (12, 'low_accuracy', 'accuracy above the cap'),
    (13, 'implausible', 'fails the speed gate (outliers)'),
    (14, 'gap_implausible', 'too far for the time after a gap')
)
SELECT rpad(COALESCE(r.status, d.status), 12) || ' ' || COALESCE(r.meaning, '') AS "reason",
       w.name AS worker,
       lpad(d.n::text, 5) || ' · ' || lpad(to_char(d.raw_m / 1000, 'FM99990.0'), 5) AS cell,
       s.story, w.worker_id
  FROM drops d
  JOIN fieldops.worker w ON w.tenant_id = :tenant AND w.worker_id = d.worker_id
  LEFT JOIN reasons r ON r.status = d.status
  LEFT JOIN :sample s ON s.tenant_id = :tenant AND s.worker_id = d.worker_id
 ORDER BY COALESCE(r.ord, 99), d.status, s.story, w.worker_id
\crosstabview reason worker cell

\echo
\echo '   Trips, stops and gaps (fieldops.trips() per working range; km = audited distance of the segment)'
WITH c AS (
    SELECT c.* FROM fieldops.vehicle_claim c WHERE c.tenant_id = :tenant AND c.day = :'mileage_day'
), pick AS (
    -- the expressway and the car-park days when the sample made them, else the first two claims
    SELECT c.worker_id, c.evidence,
           row_number() OVER (ORDER BY s.story IN (2, 3) DESC, s.story, c.worker_id) AS ord
      FROM c LEFT JOIN :sample s ON s.tenant_id = c.tenant_id AND s.worker_id = c.worker_id
)
SELECT CASE WHEN (win ->> 'range_no')::int = 1 AND t.seq = 1 THEN w.name ELSE '' END AS worker,
       (win ->> 'range_no')::int AS range, t.seq AS "#", t.kind,
       to_char(t.started_at AT TIME ZONE :'tenant_tz', 'HH24:MI:SS') || '–'
           || to_char(t.ended_at AT TIME ZONE :'tenant_tz', 'HH24:MI:SS') AS "local time",
       round(extract(epoch FROM t.duration) / 60) AS min,
       round(t.distance_m::numeric / 1000, 2) AS km,
       (t.mileage).n_used || ' / ' || (t.mileage).n_fixes AS "used / fixes",
       array_to_string((t.mileage).flags, ', ') AS flags
  FROM pick p
  JOIN fieldops.worker w ON w.tenant_id = :tenant AND w.worker_id = p.worker_id
 CROSS JOIN LATERAL jsonb_array_elements(p.evidence -> 'windows') AS win
 CROSS JOIN LATERAL fieldops.trips(:tenant, p.worker_id, (win ->> 'from')::timestamptz, (win ->> 'to')::timestamptz) t
 WHERE p.ord <= 2
 ORDER BY p.ord, range, t.seq;

\echo
\echo '   Vehicle claims (fieldops.vehicle_claim(): the trips and gaps inside working hours; stated = the worker''s'
\echo '   figure; payable = measured, or stated when lower; tolerance = the tenant''s claim_tolerance_pct / _m)'
SELECT '   rates in effect: ' || string_agg(r.vehicle_type || ' ' || to_char(r.rate_per_km, 'FM990.00') || ' ' || r.currency
                                         || '/km (from ' || r.valid_from || ')', ', ' ORDER BY r.vehicle_type) AS rates
  FROM (SELECT DISTINCT ON (x.vehicle_type) x.*
          FROM fieldops.vehicle_rate x
         WHERE x.tenant_id = :tenant AND x.valid_from <= :'mileage_day'
         ORDER BY x.vehicle_type, x.valid_from DESC) r \gset
\echo :rates
SELECT w.name AS worker, c.vehicle_type || ' ' || c.plate AS vehicle,
       c.measured_km AS measured, c.claimed_km AS stated, c.difference_km AS diff, c.tolerance_km AS tol,
       c.payable_km AS payable, lpad(to_char(c.amount, 'FM9999990.00'), 7) || ' ' || c.currency AS amount,
       array_to_string(c.flags, ', ') AS flags
  FROM fieldops.vehicle_claim c
  JOIN fieldops.worker w ON w.tenant_id = c.tenant_id AND w.worker_id = c.worker_id
  LEFT JOIN :sample s ON s.tenant_id = c.tenant_id AND s.worker_id = c.worker_id
 WHERE c.tenant_id = :tenant AND c.day = :'mileage_day'
 ORDER BY s.story, w.worker_id;

\echo
\echo '   An auditor recomputes each claim from the stored fixes with the parameters in its evidence'
\echo '   (fieldops.verify_vehicle_claim())'
SELECT w.name AS worker, c.claim_id AS claim, c.revision AS rev,
       v.stored_km AS "measured (claim)", v.recomputed_km AS recomputed,
       CASE WHEN v.reproduced THEN 'yes' ELSE 'NO' END AS reproduced,
       CASE WHEN v.fixes_unchanged THEN 'yes' ELSE 'NO' END AS "fixes unchanged",
       v.details ->> 'algo_version_then' AS algorithm
  FROM fieldops.vehicle_claim c
  JOIN fieldops.worker w ON w.tenant_id = c.tenant_id AND w.worker_id = c.worker_id
  LEFT JOIN :sample s ON s.tenant_id = c.tenant_id AND s.worker_id = c.worker_id
 CROSS JOIN LATERAL fieldops.verify_vehicle_claim(:tenant, c.claim_id) v
 WHERE c.tenant_id = :tenant AND c.day = :'mileage_day'
 ORDER BY s.story, w.worker_id;
\elif :have_mileage
\echo '   (no vehicle claims yet: make demo generates sample working days with test/generators/sample_fixes.sh)'
\else
\echo '   (this version of fieldops has no mileage module: ALTER EXTENSION fieldops UPDATE)'

\endif

\echo
\echo '── 10. Signed photos (module 1) ─────────────────────────────────────────────'
SELECT to_regclass('fieldops.photo') IS NOT NULL AS have_photos_module \gset
\if :have_photos_module
SELECT count(*) > 0 AS have_photos FROM fieldops.photo WHERE tenant_id = :tenant \gset
\else
\set have_photos false
\endif
\if :have_photos
\echo '   Every upload with its verdict.  The phone''s hardware key signed a manifest binding the photo''s'
\echo '   SHA-256 to worker, phone, visit, time, place and a one-time server nonce; fieldops.submit_photo()'
\echo '   checked it and the server signed a receipt.  Reasons: the checks that failed, with their numbers.'
SELECT p.photo_id AS photo, w.name AS worker, c.name AS customer,
       to_char(p.captured_at AT TIME ZONE :'tenant_tz', 'HH24:MI:SS') AS taken,
       k.algorithm AS key, p.verdict,
       COALESCE((SELECT string_agg(x ->> 'code' ||
                        COALESCE(' (' || NULLIF(concat_ws(', ',
                            CASE WHEN x ? 'distance_m' THEN (x ->> 'distance_m') || ' m from the customer, allowed ' || (x ->> 'allowed_m') || ' m' END,
                            CASE WHEN x ? 'earlier_photo_id' THEN 'like photo ' || (x ->> 'earlier_photo_id') END,
                            CASE WHEN x ? 'hamming_distance' THEN (x ->> 'hamming_distance') || ' bits apart' END), '') || ')', ''),
                        '; ')
                   FROM jsonb_array_elements(p.reasons) x
                  WHERE x ->> 'severity' <> 'info'), '') AS reasons,
       CASE WHEN p.receipt IS NULL THEN 'none'
            WHEN (fieldops.verify_receipt(p.receipt)).valid THEN 'verifies'
            ELSE 'DOES NOT VERIFY' END AS receipt
  FROM fieldops.photo p
  LEFT JOIN fieldops.worker w ON w.tenant_id = p.tenant_id AND w.worker_id = p.worker_id
  LEFT JOIN fieldops.customer c ON c.tenant_id = p.tenant_id AND c.customer_id = p.customer_id
  LEFT JOIN fieldops.device_key k ON k.tenant_id = p.tenant_id AND k.key_id = p.key_id
 WHERE p.tenant_id = :tenant
 ORDER BY p.photo_id;
\echo '   (a manifest sent twice is not a second row: submit_photo() answered the replay with photo 1''s verdict)'
\echo
\echo '   The tenant''s photo chain (fieldops.verify_photo_chain()): every verdict covers the one before it'
SELECT CASE WHEN ok THEN 'intact' ELSE 'BROKEN' END AS chain, photos_checked AS photos, first_bad_photo_id, problem
  FROM fieldops.verify_photo_chain(:tenant);
\elif :have_photos_module
\echo '   (no photos yet: make demo uploads sample photos with test/generators/sample_photos.sql)'
\else
\echo '   (this version of fieldops has no photo module: ALTER EXTENSION fieldops UPDATE)'
\endif

------------------------------------------------------------------------------
\echo
\echo '── 11. Spoofed locations (module 1) ────────────────────────────────────────'
-- The latest tenant-local day with check-in fixes (fixes sent with the
-- customer of a visit); when test/generators/sample_spoofers.sql made it and
-- the session may read its tables, the story each worker was given.
SELECT to_regclass('fieldops.fix_alert') IS NOT NULL AS have_spoof_module \gset
\if :have_spoof_module
SELECT max((f.recorded_at AT TIME ZONE :'tenant_tz')::date) AS spoof_day,
       count(*) > 0 AS have_spoof_day,
       '   ' || to_char(max((f.recorded_at AT TIME ZONE :'tenant_tz')::date), 'Dy YYYY-MM-DD') || ' (' || :'tenant_tz'
           || '): the latest day with check-ins (fixes sent for a customer).' AS spoof_day_head
  FROM fieldops.fix f WHERE f.tenant_id = :tenant AND f.customer_id IS NOT NULL \gset
\else
\set have_spoof_day false
\endif
SELECT COALESCE((SELECT has_schema_privilege(n.oid, 'USAGE') AND has_table_privilege(c.oid, 'SELECT')
                   FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                  WHERE n.nspname = 'fieldops_sample' AND c.relname = 'spoof_worker'), false) AS have_spoof_sample \gset
\if :have_spoof_sample
\set spoofers '(SELECT s.tenant_id, s.worker_id, s.ord, o.story, o.ord AS story_ord, o.label FROM fieldops_sample.spoof_worker s JOIN fieldops_sample.spoof_story o ON o.story = s.story)'
\else
\set spoofers '(SELECT * FROM (VALUES (NULL::bigint, NULL::bigint, NULL::int, NULL::text, NULL::int, NULL::text)) AS v(tenant_id, worker_id, ord, story, story_ord, label) WHERE false)'
\endif
\if :have_spoof_day
\echo :spoof_day_head
\echo '   fieldops.ingest_fixes() scored every fix as it stored it: score 0-100 from the signals that fired'
\echo '   (points on a log-odds scale), band green < 25 <= amber < 70 <= red; a red fix raises an alert.'
\echo '   The workers who checked in that day; bands: green/amber/red fixes; reason codes: on how many of'
\echo '   their fixes each fired.'
WITH day AS (
    SELECT (:'spoof_day'::date::timestamp AT TIME ZONE :'tenant_tz') AS lo,
           ((:'spoof_day'::date + 1)::timestamp AT TIME ZONE :'tenant_tz') AS hi
), f AS (
    SELECT f.* FROM fieldops.fix f, day
     WHERE f.tenant_id = :tenant AND f.recorded_at >= day.lo AND f.recorded_at < day.hi
       AND f.worker_id IN (SELECT x.worker_id FROM fieldops.fix x, day
                            WHERE x.tenant_id = :tenant AND x.customer_id IS NOT NULL
                              AND x.recorded_at >= day.lo AND x.recorded_at < day.hi)
), per AS (
    SELECT f.worker_id, count(*) AS fixes, count(f.customer_id) AS checkins,
           count(*) FILTER (WHERE f.band = 'green') AS green, count(*) FILTER (WHERE f.band = 'amber') AS amber,
           count(*) FILTER (WHERE f.band = 'red') AS red, max(f.score) AS max_score,
           dense_rank() OVER (ORDER BY min(s.story_ord), count(*) FILTER (WHERE f.band = 'red') DESC,
                              count(*) FILTER (WHERE f.band = 'amber') DESC, min(s.ord), f.worker_id) AS rk
      FROM f LEFT JOIN :spoofers s ON s.tenant_id = :tenant AND s.worker_id = f.worker_id
     GROUP BY f.worker_id
), codes AS (
    SELECT f.worker_id, r ->> 'code' AS code, count(*) AS n,
           row_number() OVER (PARTITION BY f.worker_id ORDER BY count(*) DESC, r ->> 'code') AS k
      FROM f CROSS JOIN LATERAL jsonb_array_elements(f.reasons) AS r
     GROUP BY f.worker_id, r ->> 'code'
)
SELECT CASE WHEN k.k = 1 THEN w.name ELSE '' END AS worker,
       CASE WHEN k.k = 1 THEN COALESCE(s.label, '') ELSE '' END AS story,
       CASE WHEN k.k = 1 THEN p.fixes END AS fixes,
       CASE WHEN k.k = 1 THEN p.checkins END AS "check-ins",
       CASE WHEN k.k = 1 THEN p.green || '/' || p.amber || '/' || p.red ELSE '' END AS bands,
       CASE WHEN k.k > 1 THEN '' WHEN p.red > 0 THEN 'RED ' WHEN p.amber > 0 THEN 'amber ' ELSE 'green ' END
           || CASE WHEN k.k = 1 THEN p.max_score::text ELSE '' END AS worst,
       COALESCE(c.code || ' ×' || c.n, '') AS "reason codes ×fixes"
  FROM per p
  JOIN fieldops.worker w ON w.tenant_id = :tenant AND w.worker_id = p.worker_id
  LEFT JOIN :spoofers s ON s.tenant_id = :tenant AND s.worker_id = p.worker_id
 CROSS JOIN LATERAL (SELECT generate_series(1, greatest(1, (SELECT count(*) FROM codes c WHERE c.worker_id = p.worker_id))) AS k) k
  LEFT JOIN codes c ON c.worker_id = p.worker_id AND c.k = k.k
 ORDER BY p.rk, k.k;
\echo '   (stale_fix on the newest fix of an upload: the sample sends each phone''s day in one go, days'
\echo '   later; the older fixes of the upload are an offline queue and are spared)'

\echo
SELECT count(*) AS open_alerts,
       count(*) FILTER (WHERE (a.recorded_at AT TIME ZONE :'tenant_tz')::date = :'spoof_day') AS open_alerts_day
  FROM fieldops.fix_alert a WHERE a.tenant_id = :tenant AND a.acked_at IS NULL \gset
\echo '   Open alerts: fieldops.fix_alerts(tenant, true, 20), the newest 20 of' :open_alerts 'open,' :open_alerts_day 'of them'
\echo '   from that day, with the numbers that made each signal fire and its points.  (Older ones: the'
\echo '   drives of section 9 are honest, but drivegen gives their phones GNSS outliers, which the scorer'
\echo '   flags.)'
SELECT CASE WHEN o.n = 1 THEN a.alert_id END AS alert,
       CASE WHEN o.n = 1 THEN w.name ELSE '' END AS worker,
       CASE WHEN o.n = 1 THEN to_char(a.recorded_at AT TIME ZONE :'tenant_tz', 'MM-DD HH24:MI:SS') ELSE '' END AS "fix taken",
       CASE WHEN o.n = 1 THEN a.score END AS score,
       (o.r ->> 'code') || COALESCE(': ' || CASE o.r ->> 'code'
           WHEN 'implausible_speed' THEN round((o.r ->> 'speed_mps')::numeric) || ' m/s over '
                                         || round((o.r ->> 'distance_m')::numeric / 1000, 1) || ' km'
           WHEN 'teleport_round_trip' THEN round((o.r ->> 'distance_m')::numeric / 1000, 1) || ' km away, back in '
                                           || round((o.r ->> 'away_s')::numeric) || ' s'
           WHEN 'wifi_far' THEN (o.r ->> 'far_aps')::numeric::int || ' of ' || (o.r ->> 'known_aps')::numeric::int
                                || ' known APs far, max ' || round((o.r ->> 'max_distance_m')::numeric / 1000, 1) || ' km'
           WHEN 'wifi_no_site_overlap' THEN 'none of ' || (o.r ->> 'stable_aps')::numeric::int || ' stable APs heard'
           WHEN 'cell_far' THEN round((o.r ->> 'distance_m')::numeric / 1000, 1) || ' km away, limit '
                                || round((o.r ->> 'limit_m')::numeric / 1000, 1) || ' km'
           WHEN 'constant_accuracy' THEN (o.r ->> 'accuracy_m')::numeric::int || ' m on ' || (o.r ->> 'fixes')::numeric::int || ' fixes'
           WHEN 'zero_altitude' THEN 'on ' || (o.r ->> 'fixes')::numeric::int || ' fixes'
           WHEN 'frozen_position' THEN (o.r ->> 'fixes')::numeric::int || ' fixes in ' || round((o.r ->> 'span_s')::numeric) || ' s'
           WHEN 'uniform_cn0' THEN 'sd ' || round((o.r ->> 'cn0_sd_dbhz')::numeric, 1) || ' dB-Hz over '
                                   || (o.r ->> 'satellites')::numeric::int || ' satellites'
           WHEN 'integrity_failed' THEN CASE (o.r ->> 'integrity')::numeric::int & 3
                                        WHEN 0 THEN 'neither basic nor device' WHEN 1 THEN 'basic, not device'
                                        ELSE 'device, not basic' END
           WHEN 'speed_mismatch' THEN 'reports ' || round((o.r ->> 'reported_mps')::numeric, 1) || ', moved '
                                      || round((o.r ->> 'displacement_mps')::numeric) || ' m/s'
           WHEN 'zero_speed_while_moving' THEN 'moved ' || round((o.r ->> 'displacement_mps')::numeric) || ' m/s'
           WHEN 'stale_fix' THEN 'received ' || round((o.r ->> 'age_s')::numeric / 3600, 1) || ' h later'
           WHEN 'clock_future' THEN round((o.r ->> 'ahead_s')::numeric) || ' s ahead'
           WHEN 'clock_skew_jump' THEN round((o.r ->> 'jump_s')::numeric) || ' s'
           WHEN 'shared_device' THEN (o.r ->> 'workers')::numeric::int || ' workers'
           WHEN 'implausible_accuracy' THEN round((o.r ->> 'accuracy_m')::numeric, 1) || ' m'
           END, '') || ' (' || (o.r ->> 'points')::numeric::int || ')' AS "reasons: the key numbers (points)"
  FROM fieldops.fix_alerts(:tenant, true, 20) a
  JOIN fieldops.worker w ON w.tenant_id = a.tenant_id AND w.worker_id = a.worker_id
 CROSS JOIN LATERAL jsonb_array_elements(a.reasons) WITH ORDINALITY AS o(r, n)
 ORDER BY a.raised_at DESC, a.alert_id DESC, o.n;

\echo
\echo '   For contrast, an honest check-in: scored again now with fieldops.spoof_score() from what the'
\echo '   tables hold (the fix, the 16 before it, the radio map as it is now; the replay checks, which'
\echo '   need the fingerprints, as at ingest: none), with its coverage: how many of the 9 signal groups'
\echo '   had data (OS flags, integrity, kinematics, auxiliary fields, GNSS, Wi-Fi, cell, clock, history)'
\pset format unaligned
\pset tuples_only on
WITH day AS (
    SELECT (:'spoof_day'::date::timestamp AT TIME ZONE :'tenant_tz') AS lo,
           ((:'spoof_day'::date + 1)::timestamp AT TIME ZONE :'tenant_tz') AS hi
), pick AS (
    -- the sample's first honest worker, else a worker whose day was all green; the check-in nearest noon
    SELECT f.*
      FROM fieldops.fix f
      JOIN day ON f.recorded_at >= day.lo AND f.recorded_at < day.hi
      LEFT JOIN :spoofers s ON s.tenant_id = f.tenant_id AND s.worker_id = f.worker_id
     WHERE f.tenant_id = :tenant AND f.customer_id IS NOT NULL AND f.band = 'green'
       AND NOT EXISTS (SELECT 1 FROM fieldops.fix x WHERE x.tenant_id = f.tenant_id AND x.worker_id = f.worker_id
                          AND x.recorded_at >= day.lo AND x.recorded_at < day.hi AND x.band <> 'green')
     ORDER BY s.story IS DISTINCT FROM 'honest', s.ord, f.worker_id,
              abs(extract(epoch FROM (f.recorded_at AT TIME ZONE :'tenant_tz')::time - time '12:00'))
     LIMIT 1
), prev AS (
    SELECT COALESCE(jsonb_agg(jsonb_build_object(
               't_ms', floor(extract(epoch FROM x.recorded_at) * 1000)::bigint,
               'received_ms', floor(extract(epoch FROM x.received_at) * 1000)::bigint,
               'lat', ST_Y(x.geom), 'lon', ST_X(x.geom), 'accuracy_m', x.accuracy_m, 'speed_mps', x.speed_mps,
               'bearing_deg', x.bearing_deg, 'altitude_m', x.altitude_m, 'provider', x.provider)), '[]') AS p_prev,
           count(*) AS n_prev, min(x.recorded_at) AS first_at, max(x.recorded_at) AS last_at,
           (array_agg(ST_DistanceSphere(x.geom, pk.geom) ORDER BY x.recorded_at DESC))[1] AS last_m
      FROM pick pk
     CROSS JOIN LATERAL (SELECT * FROM fieldops.fix y
                          WHERE y.tenant_id = pk.tenant_id AND y.device_id = pk.device_id AND y.recorded_at < pk.recorded_at
                          ORDER BY y.recorded_at DESC LIMIT 16) x
), aps AS (
    SELECT count(*) AS heard, count(a.bssid) AS known,
           min(ST_DistanceSphere(a.geom, pk.geom)) AS nearest_m, max(ST_DistanceSphere(a.geom, pk.geom)) AS farthest_m,
           COALESCE(jsonb_agg(CASE WHEN a.bssid IS NULL THEN '{"known": false}'::jsonb
                                   ELSE jsonb_build_object('known', true, 'distance_m', ST_DistanceSphere(a.geom, pk.geom),
                                                           'spread_m', a.spread_m) END), '[]') AS list
      FROM pick pk
     CROSS JOIN LATERAL jsonb_array_elements(pk.wifi) AS e
      LEFT JOIN fieldops.radio_ap a ON a.tenant_id = pk.tenant_id AND a.bssid = (e ->> 'bssid')::macaddr
                                   AND NOT a.mobile AND a.n_obs >= 3
), site AS (
    SELECT count(*) AS stable,
           count(*) FILTER (WHERE pk.wifi @> jsonb_build_array(jsonb_build_object('bssid', a.bssid::text))) AS overlap,
           round(ST_DistanceSphere(cu.geom, pk.geom)::numeric) AS pin_m, cu.name AS customer
      FROM pick pk
      JOIN fieldops.customer cu ON cu.tenant_id = pk.tenant_id AND cu.customer_id = pk.customer_id
      LEFT JOIN fieldops.radio_ap a ON a.tenant_id = pk.tenant_id AND a.geom && ST_Expand(cu.geom, 0.0012)
                                   AND ST_DistanceSphere(a.geom, cu.geom) <= 80 AND NOT a.mobile AND a.n_days >= 3
     GROUP BY cu.geom, pk.geom, cu.name
), cell AS (
    SELECT e AS serving, rc.cid IS NOT NULL AS known, ST_DistanceSphere(rc.geom, pk.geom) AS dist_m, rc.radius_m
      FROM pick pk
     CROSS JOIN LATERAL (SELECT x FROM jsonb_array_elements(pk.cells) AS x ORDER BY (x -> 'serving') = 'true' DESC LIMIT 1) AS c(e)
      LEFT JOIN fieldops.radio_cell rc ON rc.tenant_id = pk.tenant_id AND rc.n_obs >= 3
             AND rc.mcc = (e ->> 'mcc')::int AND rc.mnc = (e ->> 'mnc')::int AND rc.lac = (e ->> 'lac')::int
             AND rc.cid = (e ->> 'cid')::bigint
), scored AS (
    SELECT pk.*, prev.*, aps.heard, aps.known AS aps_known, aps.nearest_m, aps.farthest_m, site.*, cell.*,
           fieldops.spoof_score(
               jsonb_build_object('t_ms', floor(extract(epoch FROM pk.recorded_at) * 1000)::bigint,
                                  'received_ms', floor(extract(epoch FROM pk.received_at) * 1000)::bigint,
                                  'lat', ST_Y(pk.geom), 'lon', ST_X(pk.geom), 'accuracy_m', pk.accuracy_m,
                                  'altitude_m', pk.altitude_m, 'speed_mps', pk.speed_mps, 'bearing_deg', pk.bearing_deg,
                                  'provider', pk.provider, 'mock', pk.is_mock, 'satellites', pk.satellites,
                                  'cn0_mean_dbhz', pk.cn0_mean_dbhz, 'cn0_sd_dbhz', pk.cn0_sd_dbhz,
                                  'integrity', CASE WHEN pk.integrity ?| ARRAY['basic', 'device', 'strong'] THEN
                                                        (CASE WHEN pk.integrity -> 'basic' = 'true' THEN 1 ELSE 0 END)
                                                        + (CASE WHEN pk.integrity -> 'device' = 'true' THEN 2 ELSE 0 END)
                                                        + (CASE WHEN pk.integrity -> 'strong' = 'true' THEN 4 ELSE 0 END) END),
               prev.p_prev,
               jsonb_build_object('aps', aps.list, 'site_overlap', site.overlap, 'site_stable_count', site.stable,
                                  'scan_replay', false, 'has_cell', cell.serving IS NOT NULL, 'cell_known', cell.known,
                                  'cell_distance_m', cell.dist_m, 'cell_radius_m', cell.radius_m, 'mcc_foreign', false),
               jsonb_build_object('same_coords_earlier_day', false, 'workers_on_device_today', 1,
                                  'at_customer_pin', site.pin_m = 0, 'queued', true)) AS sc
      FROM pick pk, prev, aps, site, cell
)
SELECT '   ' || x.line FROM scored s CROSS JOIN LATERAL (VALUES
    (1, 'worker      ' || (SELECT w.name FROM fieldops.worker w WHERE w.tenant_id = s.tenant_id AND w.worker_id = s.worker_id)
        || ', check-in at ' || s.customer || ' at '
        || to_char(s.recorded_at AT TIME ZONE :'tenant_tz', 'HH24:MI:SS') || ', ' || s.pin_m || ' m from its pin'),
    (2, 'at ingest   score ' || s.score || ', ' || s.band || ', reasons ' || s.reasons::text),
    (3, 'again now   score ' || (s.sc).score || ', ' || (s.sc).band || ', reasons ' || (s.sc).reasons::text
        || ', coverage ' || (s.sc).coverage || ' of 9 groups'),
    (4, 'GNSS        ' || s.satellites || ' satellites, C/N0 ' || s.cn0_mean_dbhz || ' ± ' || s.cn0_sd_dbhz
        || ' dB-Hz; accuracy ' || s.accuracy_m || ' m, altitude ' || s.altitude_m || ' m'),
    (5, 'integrity   ' || s.integrity::text || '; OS mock flag ' || COALESCE(s.is_mock::text, 'not reported')),
    (6, 'kinematics  the ' || s.n_prev || ' fixes before it: ' || to_char(s.first_at AT TIME ZONE :'tenant_tz', 'HH24:MI:SS') || '-'
        || to_char(s.last_at AT TIME ZONE :'tenant_tz', 'HH24:MI:SS') || ', the last ' || round(s.last_m::numeric, 1) || ' m away'),
    (7, 'Wi-Fi       ' || s.heard || ' access points heard, ' || s.aps_known || ' of them known to the map, '
        || round(s.nearest_m::numeric) || '-' || round(s.farthest_m::numeric) || ' m away;'),
    (8, '            ' || s.overlap || ' of the ' || s.stable || ' stable access points of the customer''s site among them'),
    (9, 'cell        ' || (s.serving ->> 'mcc') || '-' || lpad(s.serving ->> 'mnc', 2, '0') || ' TAC '
        || (s.serving ->> 'lac') || ' ECI ' || (s.serving ->> 'cid') || ', ' || (s.serving ->> 'signal_dbm') || ' dBm: '
        || CASE WHEN s.known THEN round(s.dist_m::numeric) || ' m from its learned centre (radius '
                                  || round(s.radius_m::numeric) || ' m)' ELSE 'not in the map' END)
) AS x(n, line)
 ORDER BY x.n;
\pset format aligned
\pset tuples_only off
\elif :have_spoof_module
\echo '   (no check-ins yet: make demo generates a spoof day with test/generators/sample_spoofers.sql)'
\else
\echo '   (this version of fieldops has no spoof scoring: ALTER EXTENSION fieldops UPDATE)'
\endif

------------------------------------------------------------------------------
\echo
\echo '── 12. The customer pool (公海池, module 4) ─────────────────────────────────'
-- The pools with their sizes and rules, then, when test/generators/sample_pool.sql
-- played its day on this tenant and the session may read its tables, that day:
-- the release job's warnings and releases, the follow-ups, the departure,
-- every claim with its status and why (refused claims are not in the pool
-- log: the sample keeps them), the 360° view of the shop the story follows.
-- The invariants are checked live at the end.
SELECT to_regclass('fieldops.customer_pool') IS NOT NULL AS have_pool_module \gset
\if :have_pool_module
SELECT COALESCE((SELECT bool_and(has_schema_privilege(n.oid, 'USAGE') AND has_table_privilege(c.oid, 'SELECT')) AND count(*) = 2
                   FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                  WHERE n.nspname = 'fieldops_sample' AND c.relname IN ('pool_step', 'pool_scenario')), false) AS have_pool_sample \gset
\if :have_pool_sample
SELECT count(*) > 0 AS have_pool_day, min(s.played_at) AS pool_day_at, min(s.story_customer_id) AS pool_story,
       min(s.leaver_id) AS pool_leaver, min(s.pool_id) AS pool_pool,
       to_char(min(s.played_at) AT TIME ZONE :'tenant_tz', 'YYYY-MM-DD HH24:MI') AS pool_day_local
  FROM fieldops_sample.pool_scenario s WHERE s.tenant_id = :tenant \gset
\else
\set have_pool_day false
\endif
\echo '   Every customer is owned by one worker or lies in one pool, never both.  A pool''s rules (a new version'
\echo '   holds from the next tenant-local day) release customers nobody follows up, warn the owner first, say'
\echo '   where a leaver''s customers go and limit claims.  Pools: customers lying in each now, and owned ones'
\echo '   whose home pool it is (where they return when released).'
SELECT p.code AS pool, p.name, COALESCE(r.name, 'the whole tenant') AS region,
       (SELECT count(*) FROM fieldops.customer c WHERE c.tenant_id = :tenant AND c.pool_id = p.pool_id) AS "in the pool",
       (SELECT count(*) FROM fieldops.customer c WHERE c.tenant_id = :tenant AND c.home_pool_id = p.pool_id
           AND c.owner_worker_id IS NOT NULL) AS "owned, home here",
       COALESCE((SELECT string_agg(w.name, ', ' ORDER BY w.worker_id) FROM fieldops.pool_admin a
                   JOIN fieldops.worker w ON w.tenant_id = a.tenant_id AND w.worker_id = a.worker_id
                  WHERE a.tenant_id = :tenant AND a.pool_id = p.pool_id), '') AS administrators
  FROM fieldops.customer_pool p
  LEFT JOIN fieldops.region r ON r.tenant_id = p.tenant_id AND r.region_id = p.region_id
 WHERE p.tenant_id = :tenant
 ORDER BY p.is_default DESC, p.pool_id;

\echo
\echo '   Their rules: the version in force today and any version ahead (fieldops.pool_rule)'
WITH today AS (SELECT fieldops.tenant_local_date(:tenant) AS d)
SELECT p.code AS pool,
       CASE WHEN x.effective_from > today.d THEN 'from ' || x.effective_from ELSE 'today' END AS version,
       CASE WHEN x.no_followup_days IS NULL AND x.no_deal_days IS NULL THEN 'never'
            ELSE concat_ws(', ', x.no_followup_days || ' d without follow-up', x.no_deal_days || ' d without a deal')
                 || '; warn ' || x.warn_days || ' d before; ' || to_char(x.window_start, 'HH24:MI') || '-'
                 || to_char(x.window_end, 'HH24:MI') END AS "released after",
       NULLIF(concat_ws(', ', CASE WHEN x.exclude_locked THEN 'locked' END, CASE WHEN x.exclude_dealt THEN 'won deals' END,
                        'level ' || NULLIF(array_to_string(x.exclude_levels, '/'), '')), '') AS "never released",
       x.daily_claim_limit || '/day, hold ' || x.hold_limit AS claims,
       x.cooldown_days || ' d' AS cooldown, x.protect_minutes || ' min' AS protect, x.claim_scope AS scope,
       x.owner_left AS "leaver's go to"
  FROM fieldops.customer_pool p
  CROSS JOIN today
  JOIN fieldops.pool_rule x ON x.tenant_id = p.tenant_id AND x.pool_id = p.pool_id
 WHERE p.tenant_id = :tenant
   AND x.effective_from >= (SELECT max(y.effective_from) FROM fieldops.pool_rule y
                             WHERE y.tenant_id = p.tenant_id AND y.pool_id = p.pool_id AND y.effective_from <= today.d)
 ORDER BY p.is_default DESC, p.pool_id, x.effective_from;

\if :have_pool_day
\echo
\echo '   The pool day played by test/generators/sample_pool.sql at' :pool_day_local '(' :tenant_tz '), through the'
\echo '   API in one transaction: rules; sample history (see below); the release job; follow-ups; a departure;'
\echo '   claims.  The log (fieldops.pool_event) of that day and after it, by kind, actor and rule:'
SELECT e.kind, split_part(e.actor, ':', 1) AS "by", COALESCE(e.rule, '') AS rule, p.code AS pool, count(*) AS events,
       COALESCE(min(e.days) || CASE WHEN max(e.days) > min(e.days) THEN '-' || max(e.days) ELSE '' END, '') AS days
  FROM fieldops.pool_event e
  LEFT JOIN fieldops.customer_pool p ON p.tenant_id = e.tenant_id AND p.pool_id = e.pool_id
 WHERE e.tenant_id = :tenant AND e.at >= :'pool_day_at'
 GROUP BY e.kind, split_part(e.actor, ':', 1), e.rule, p.code
 ORDER BY min(e.event_id);
\echo '   (moved: pooled customers the new home pool took in; rehomed: owned ones whose home pool it became;'
\echo '   days: idle days of a release, days left of a warning; the 8 released were warned six nights before)'
\echo '   Sample history: sample_tenant.sql made every customer a minute before, and the API stamps ownership'
\echo '   with the clock, so the generator back-dated, as a superuser, when the district''s shops were taken over'
\echo '   or entered the pool (owned_since with the ledger''s open row, pooled_since, created_at); their last'
\echo '   follow-ups it sent through fieldops.record_followup(p_at).  The log keeps the real times.'

\echo
\echo '   Owned customers of the story''s workers now, and what the day did to them'
SELECT w.name AS worker, x.role, CASE WHEN w.status = 'left' THEN 'left ' || w.left_on ELSE '' END AS status,
       (SELECT count(*) FROM fieldops.customer c WHERE c.tenant_id = :tenant AND c.owner_worker_id = w.worker_id) AS owns,
       (SELECT h.held FROM fieldops.worker_holding h WHERE h.tenant_id = :tenant AND h.worker_id = w.worker_id) AS "holding row",
       (SELECT count(*) FROM fieldops.pool_event e WHERE e.tenant_id = :tenant AND e.at >= :'pool_day_at'
           AND e.kind = 'warned' AND e.worker_id = w.worker_id) AS warned,
       (SELECT count(*) FROM fieldops.pool_event e WHERE e.tenant_id = :tenant AND e.at >= :'pool_day_at'
           AND e.kind = 'released' AND e.previous_worker_id = w.worker_id) AS released,
       (SELECT count(*) FROM fieldops.pool_event e WHERE e.tenant_id = :tenant AND e.at >= :'pool_day_at'
           AND e.kind IN ('claimed', 'transferred') AND e.worker_id = w.worker_id) AS gained,
       (SELECT count(*) FROM fieldops_sample.pool_step s WHERE s.tenant_id = :tenant AND s.kind = 'claim'
           AND COALESCE(s.for_worker_id, s.worker_id) = w.worker_id AND s.status <> 'claimed') AS "claims refused"
  FROM fieldops_sample.pool_scenario sc
 CROSS JOIN LATERAL (VALUES (1, sc.busiest_id, 'the busiest rep'), (2, sc.rep_id, 'a rep'), (3, sc.leaver_id, 'the leaver'),
                            (4, sc.lead_id, 'their lead, pool admin'), (5, sc.outsider_id, 'a rep of another area')) AS x(ord, worker_id, role)
  JOIN fieldops.worker w ON w.tenant_id = sc.tenant_id AND w.worker_id = x.worker_id
 WHERE sc.tenant_id = :tenant
 ORDER BY x.ord;

\echo
\echo '   The release job: its warnings and releases (fieldops.release_stale_customers(tenant, now()) that day,'
\echo '   which does what the pool_release job does at night, and the job''s runs since).  now: the state today.'
SELECT e.kind, c.name AS customer, c.level, w.name AS owner, e.rule,
       CASE e.kind WHEN 'warned' THEN e.days || ' d left' ELSE e.days || ' d idle' END AS days,
       to_char(e.at AT TIME ZONE :'tenant_tz', 'MM-DD HH24:MI') AS "at",
       COALESCE('owned by ' || nw.name, 'in pool ' || np.code) AS now
  FROM fieldops.pool_event e
  JOIN fieldops.customer c ON c.tenant_id = e.tenant_id AND c.customer_id = e.customer_id
  LEFT JOIN fieldops.worker w ON w.tenant_id = e.tenant_id AND w.worker_id = COALESCE(e.previous_worker_id, e.worker_id)
  LEFT JOIN fieldops.worker nw ON nw.tenant_id = c.tenant_id AND nw.worker_id = c.owner_worker_id
  LEFT JOIN fieldops.customer_pool np ON np.tenant_id = c.tenant_id AND np.pool_id = c.pool_id
 WHERE e.tenant_id = :tenant AND e.at >= :'pool_day_at' AND e.actor = 'job:pool_release'
 ORDER BY e.kind DESC, e.days, e.event_id
 LIMIT 40;
SELECT string_agg(o.topic || ' ×' || o.n, ', ' ORDER BY o.topic) AS pool_topics
  FROM (SELECT x.topic, count(*) AS n FROM fieldops.outbox x
         WHERE x.tenant_id = :tenant AND x.created_at >= :'pool_day_at' AND x.topic LIKE 'customer.%'
         GROUP BY x.topic) o \gset
\echo '   outbox events since (what a CRM consumes):' :pool_topics

\echo
\echo '   Owned customers idle beyond their pool''s no_followup_days now, and why the job keeps them'
SELECT c.name AS customer, c.level, w.name AS owner, p.code AS pool,
       floor(extract(epoch FROM now() - c.idle_since) / 86400)::int AS "idle d", r.no_followup_days AS "rule d",
       COALESCE(NULLIF(concat_ws(', ', CASE WHEN r.exclude_locked AND c.locked THEN 'locked (exclude_locked)' END,
                                 CASE WHEN r.exclude_dealt AND c.deal_state = 'won' THEN 'deal won (exclude_dealt)' END,
                                 CASE WHEN c.level = ANY (r.exclude_levels) THEN 'level ' || c.level || ' (exclude_levels)' END), ''),
                'due: the next run in the window releases it') AS why
  FROM fieldops.customer c
  JOIN fieldops.customer_pool p ON p.tenant_id = c.tenant_id AND p.pool_id = c.home_pool_id
 CROSS JOIN LATERAL fieldops.pool_rules_on(c.tenant_id, c.home_pool_id, fieldops.tenant_local_date(:tenant)) r
  JOIN fieldops.worker w ON w.tenant_id = c.tenant_id AND w.worker_id = c.owner_worker_id
 WHERE c.tenant_id = :tenant AND c.owner_worker_id IS NOT NULL AND r.no_followup_days IS NOT NULL
   AND c.idle_since < now() - make_interval(days => r.no_followup_days)
 ORDER BY c.idle_since
 LIMIT 20;

\echo
\echo '   Follow-ups after the warnings (fieldops.record_followup: recorded, or released when the worker'
\echo '   no longer owns the customer)'
SELECT s.step AS "#", w.name AS worker, c.name AS customer, s.status, s.why
  FROM fieldops_sample.pool_step s
  LEFT JOIN fieldops.worker w ON w.tenant_id = s.tenant_id AND w.worker_id = s.worker_id
  LEFT JOIN fieldops.customer c ON c.tenant_id = s.tenant_id AND c.customer_id = s.customer_id
 WHERE s.tenant_id = :tenant AND s.kind = 'followup'
 ORDER BY s.step;

\echo
\echo '   A rep leaves (fieldops.worker_leave, today: the worker''s status changes to left); each of her'
\echo '   customers follows the owner_left rule of its home pool'
SELECT w.name AS leaver, s.status, (s.result ->> 'customers_moved')::int AS "to the manager",
       (s.result ->> 'customers_released')::int AS "back to a pool", (s.result ->> 'customers_kept')::int AS kept,
       (s.result ->> 'devices_unbound')::int AS "devices unbound", s.why
  FROM fieldops_sample.pool_step s
  JOIN fieldops.worker w ON w.tenant_id = s.tenant_id AND w.worker_id = s.worker_id
 WHERE s.tenant_id = :tenant AND s.kind = 'departure';
SELECT hp.code AS "home pool", r.owner_left AS rule, e.kind,
       COALESCE(hw.name || ' (her manager)', 'pool ' || ep.code) AS "went to", count(*) AS customers
  FROM fieldops.pool_event e
  JOIN fieldops.customer c ON c.tenant_id = e.tenant_id AND c.customer_id = e.customer_id
  JOIN fieldops.customer_pool hp ON hp.tenant_id = c.tenant_id AND hp.pool_id = c.home_pool_id
  LEFT JOIN fieldops.customer_pool ep ON ep.tenant_id = e.tenant_id AND ep.pool_id = e.pool_id AND e.kind = 'released'
  LEFT JOIN fieldops.worker hw ON hw.tenant_id = e.tenant_id AND hw.worker_id = e.worker_id
 CROSS JOIN LATERAL fieldops.pool_rules_on(e.tenant_id, c.home_pool_id, e.local_day) r
 WHERE e.tenant_id = :tenant AND e.rule = 'owner_left' AND e.previous_worker_id = :pool_leaver
 GROUP BY hp.code, r.owner_left, e.kind, hw.name, ep.code
 ORDER BY count(*) DESC;

\echo
\echo '   Claims (fieldops.claim_customer, claim_customers) and a release by hand, in order: each status and why'
SELECT s.step AS "#", w.name || COALESCE(' for ' || f.name, '') AS worker, COALESCE(c.name, '(id ' || substring(s.why FROM 'id ([0-9]+)') || ')') AS customer,
       COALESCE(p.code, '') AS pool,
       s.status || CASE WHEN s.expected IS DISTINCT FROM s.status THEN ' (story: ' || COALESCE(s.expected, '?') || ')' ELSE '' END AS status,
       s.why
  FROM fieldops_sample.pool_step s
  LEFT JOIN fieldops.worker w ON w.tenant_id = s.tenant_id AND w.worker_id = s.worker_id
  LEFT JOIN fieldops.worker f ON f.tenant_id = s.tenant_id AND f.worker_id = s.for_worker_id
  LEFT JOIN fieldops.customer c ON c.tenant_id = s.tenant_id AND c.customer_id = s.customer_id
  LEFT JOIN fieldops.customer_pool p ON p.tenant_id = c.tenant_id AND p.pool_id = c.home_pool_id
 WHERE s.tenant_id = :tenant AND s.kind IN ('claim', 'release')
 ORDER BY s.step;
SELECT string_agg(x.st || CASE WHEN EXISTS (SELECT 1 FROM fieldops_sample.pool_step s
                                             WHERE s.tenant_id = :tenant AND s.kind = 'claim' AND s.status = x.st)
                               THEN ' ✓' ELSE ' MISSING' END, '  ' ORDER BY x.n) AS pool_statuses
  FROM unnest(ARRAY['claimed', 'taken', 'quota', 'hold_limit', 'cooldown', 'protected', 'scope', 'not_found'])
       WITH ORDINALITY AS x(st, n) \gset
\echo '   statuses seen:' :pool_statuses
SELECT string_agg(w.name || ' ' || k.claims || ' in ' || p.code, ', ' ORDER BY w.name, p.code) AS pool_counters
  FROM fieldops.pool_claim_counter k
  JOIN fieldops.worker w ON w.tenant_id = k.tenant_id AND w.worker_id = k.worker_id
  JOIN fieldops.customer_pool p ON p.tenant_id = k.tenant_id AND p.pool_id = k.pool_id
 WHERE k.tenant_id = :tenant AND k.local_day = (:'pool_day_at'::timestamptz AT TIME ZONE :'tenant_tz')::date AND k.claims > 0 \gset
\echo '   claim counters of that day (fieldops.pool_claim_counter; an administrator''s claim counts for nobody):' :pool_counters

\echo
SELECT name AS pool_story_name FROM fieldops.customer WHERE tenant_id = :tenant AND customer_id = :pool_story \gset
\echo '   The story''s shop in fieldops.customer_360():' :pool_story_name
\echo '   Neglected by the leaver, released by the job, protected, then given to a rep by the pool''s'
\echo '   administrator.  Its "created" and "assigned" events are when sample_tenant.sql wrote it; the start'
\echo '   of its ownership is the sample history.  Trimmed: the profile without lat, lon, region_id, status'
\echo '   and home_pool_id; one line per element of the lists.'
\pset format unaligned
\pset tuples_only on
WITH v AS (SELECT fieldops.customer_360(:tenant, :pool_story) AS j),
part AS (
    SELECT 1 AS k, '"profile": ' || regexp_replace(jsonb_pretty((v.j -> 'profile') - 'lat' - 'lon' - 'region_id' - 'status' - 'home_pool_id'),
                                                   '\n', E'\n    ', 'g') AS txt
      FROM v
    UNION ALL
    SELECT x.k, '"' || x.key || '": ' || COALESCE(
               (SELECT E'[\n' || string_agg('        ' || e::text, E',\n' ORDER BY n) || E'\n    ]'
                  FROM jsonb_array_elements(v.j -> x.key) WITH ORDINALITY AS a(e, n)), '[]')
      FROM v CROSS JOIN (VALUES (2, 'contacts'), (3, 'ownership'), (4, 'visits'), (5, 'pool_events')) AS x(k, key)
)
SELECT regexp_replace(E'{\n    ' || string_agg(txt, E',\n    ' ORDER BY k) || E'\n}', '^', '   ', 'gn') FROM part;
\pset format aligned
\pset tuples_only off
\elif :have_pool_sample
\echo '   (no pool day yet: make demo plays one with test/generators/sample_pool.sql)'
\else
\echo '   (the pool day of test/generators/sample_pool.sql is not readable from this session)'
\endif

\echo
SELECT count(*) AS pool_violations FROM fieldops.check_pool_invariants(:tenant) \gset
\echo '   fieldops.check_pool_invariants(tenant): one row per violated invariant (owner xor pool, one open'
\echo '   ownership row of the owner, the log replays to the state, counters and holdings agree, limits kept,'
\echo '   no overlapping ownership)'
SELECT invariant, customer_id, worker_id, detail FROM fieldops.check_pool_invariants(:tenant) ORDER BY 1, 2, 3 LIMIT 20;
SELECT CASE WHEN :pool_violations = 0 THEN 'none: the pool is healthy' ELSE :pool_violations || ' VIOLATIONS' END AS pool_verdict \gset
\echo '  ' :pool_verdict
\else
\echo '   (this version of fieldops has no customer pool: ALTER EXTENSION fieldops UPDATE)'
\endif

------------------------------------------------------------------------------
\echo
\echo '── 13. The process: visits, SOPs, forms, tasks, work orders (module 2) ─────'
-- Live from the process tables: the SOPs and forms in force, today's visits
-- (tenant-local) with fieldops.visit_verified's verdict and reasons, the
-- open and recent tasks and work orders with their histories, parts, stock
-- and signatures.  When test/generators/sample_process.sql played its day
-- and the session may read fieldops_sample.process_step, the calls the API
-- refused and why (a refused step leaves no row of its own).
SELECT to_regclass('fieldops.sop') IS NOT NULL AND to_regclass('fieldops.work_order') IS NOT NULL AS have_process_module \gset
\if :have_process_module
SELECT COALESCE((SELECT has_schema_privilege(n.oid, 'USAGE') AND has_table_privilege(c.oid, 'SELECT')
                   FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                  WHERE n.nspname = 'fieldops_sample' AND c.relname = 'process_step'), false) AS have_process_sample \gset
\echo '   SOPs in force: the steps a visit must do in order (! required, ? optional; minimum minutes;'
\echo '   the form a form step takes; photos a photo step needs), and the customers they apply to'
SELECT s.code AS sop, s.current_version AS v, s.name,
       COALESCE((SELECT string_agg(CASE WHEN a.customer_level IS NULL AND a.category IS NULL THEN 'every other customer'
                                        ELSE concat_ws(' ', 'level ' || a.customer_level, a.category) END, ', ' ORDER BY a.assignment_id)
                   FROM fieldops.sop_assignment a WHERE a.tenant_id = s.tenant_id AND a.sop_id = s.sop_id), '') AS "for",
       (SELECT string_agg(st.step_no || CASE WHEN st.required THEN '!' ELSE '?' END || st.kind
                          || CASE WHEN st.min_duration_s > 0 THEN ' ≥' || round(st.min_duration_s / 60.0, 1) || 'min' ELSE '' END
                          || CASE WHEN st.form_code IS NOT NULL THEN ' [' || st.form_code || ']' ELSE '' END
                          || CASE WHEN st.min_photos > 0 THEN ' ×' || st.min_photos ELSE '' END, ' → ' ORDER BY st.step_no)
          FROM fieldops.sop_step st WHERE st.tenant_id = s.tenant_id AND st.sop_id = s.sop_id AND st.version = s.current_version) AS steps
  FROM fieldops.sop s WHERE s.tenant_id = :tenant ORDER BY s.code;
SELECT count(*) = 0 AS no_sop FROM fieldops.sop WHERE tenant_id = :tenant \gset
\if :no_sop
\echo '   (no SOP yet: make demo plays a process day with test/generators/sample_process.sql)'
\endif

\echo
\echo '   Custom forms: the current version, its fields, and the submissions made (for visits, tasks, work orders)'
SELECT f.code AS form, f.current_version AS v, f.name, v.field_count AS fields,
       count(s.submission_id) AS submissions, count(s.visit_id) AS "for visits", count(s.task_id) AS "for tasks",
       count(s.work_order_id) AS "for work orders"
  FROM fieldops.form f
  JOIN fieldops.form_version v ON v.tenant_id = f.tenant_id AND v.form_id = f.form_id AND v.version = f.current_version
  LEFT JOIN fieldops.form_submission s ON s.tenant_id = f.tenant_id AND s.form_id = f.form_id
 WHERE f.tenant_id = :tenant
 GROUP BY f.code, f.current_version, f.name, v.field_count ORDER BY f.code;

\echo
-- the latest tenant-local day with visits that ran an SOP (else today)
SELECT COALESCE(max((v.checkin_at AT TIME ZONE :'tenant_tz')::date), fieldops.tenant_local_date(:tenant)) AS process_day
  FROM fieldops.visit v WHERE v.tenant_id = :tenant AND v.sop_id IS NOT NULL \gset
SELECT to_char(:'process_day'::date, 'YYYY-MM-DD Dy') AS process_day_label \gset
\echo '   The visits of' :process_day_label '(the latest day with SOP visits), as fieldops.visit_verified judges'
\echo '   them: verified only when check-in and check-out are inside the geofence (or a reviewer accepted the'
\echo '   visit), neither fix is red, every required step is done and every photo of a required photo step is'
\echo '   accepted'
SELECT w.name AS worker, c.name AS customer, c.level AS lvl, so.code AS sop,
       to_char(v.checkin_at AT TIME ZONE :'tenant_tz', 'HH24:MI') AS "in",
       to_char(v.checkout_at AT TIME ZONE :'tenant_tz', 'HH24:MI') AS "out",
       v.checkin_geofence || '/' || COALESCE(v.checkout_geofence, '-') AS geofence,
       v.checkin_band || '/' || COALESCE(v.checkout_band, '-') AS bands,
       (SELECT count(*) FROM fieldops.visit_step d WHERE d.tenant_id = v.tenant_id AND d.visit_id = v.visit_id)
         || '/' || COALESCE((SELECT count(*) FROM fieldops.sop_step st WHERE st.tenant_id = v.tenant_id AND st.sop_id = v.sop_id
                                AND st.version = v.sop_version)::text, '-') AS steps,
       COALESCE(v.review, '') AS review,
       CASE WHEN x.verified THEN 'VERIFIED' ELSE 'no' END AS verified,
       COALESCE((SELECT string_agg(r ->> 'code' || COALESCE(' ' || (r ->> 'step_no'), ''), ', ' ORDER BY n)
                   FROM jsonb_array_elements(x.reasons) WITH ORDINALITY AS a(r, n)), '') AS "why not"
  FROM fieldops.visit v
  JOIN fieldops.visit_verified x ON x.tenant_id = v.tenant_id AND x.visit_id = v.visit_id
  JOIN fieldops.worker w ON w.tenant_id = v.tenant_id AND w.worker_id = v.worker_id
  JOIN fieldops.customer c ON c.tenant_id = v.tenant_id AND c.customer_id = v.customer_id
  LEFT JOIN fieldops.sop so ON so.tenant_id = v.tenant_id AND so.sop_id = v.sop_id
 WHERE v.tenant_id = :tenant AND (v.checkin_at AT TIME ZONE :'tenant_tz')::date = :'process_day'::date
 ORDER BY w.name, v.checkin_at;

\echo
\echo '   Per worker that day: checked-out visits, verified, and the share the KPIs and the customer pool count'
SELECT w.name AS worker, count(*) AS visits, count(*) FILTER (WHERE x.verified) AS verified,
       round(100.0 * count(*) FILTER (WHERE x.verified) / count(*)) || ' %' AS "counted",
       count(*) FILTER (WHERE v.followup IS NOT NULL) AS "pool follow-ups"
  FROM fieldops.visit v
  JOIN fieldops.visit_verified x ON x.tenant_id = v.tenant_id AND x.visit_id = v.visit_id
  JOIN fieldops.worker w ON w.tenant_id = v.tenant_id AND w.worker_id = v.worker_id
 WHERE v.tenant_id = :tenant AND (v.checkin_at AT TIME ZONE :'tenant_tz')::date = :'process_day'::date
   AND v.checkout_at IS NOT NULL
 GROUP BY w.name ORDER BY w.name;

\if :have_process_sample
\echo
\echo '   What the API refused on the sample day, and why (test/generators/sample_process.sql; a refused step'
\echo '   or claim changes nothing, so only the sample''s log remembers it)'
SELECT s.step AS "#", COALESCE(w.name, '') AS who, s.subject, s.call, s.status, COALESCE(s.why, '') AS why
  FROM fieldops_sample.process_step s
  LEFT JOIN fieldops.worker w ON w.tenant_id = s.tenant_id AND w.worker_id = s.worker_id
 WHERE s.tenant_id = :tenant
   AND s.status IN ('too_short', 'out_of_order', 'missing_evidence', 'taken', 'invalid_transition', 'reason_required',
                    'not_permitted', 'insufficient_stock', 'not_issued', 'signature_required', 'stale', 'bad_signature')
 ORDER BY s.step;
SELECT count(*) AS process_surprises FROM fieldops_sample.process_step
 WHERE tenant_id = :tenant AND status IS DISTINCT FROM expected \gset
SELECT CASE WHEN :process_surprises = 0 THEN 'every call answered what the story expected'
            ELSE :process_surprises || ' call(s) answered otherwise than the story expected: see fieldops_sample.process_step' END
       AS process_verdict \gset
\echo '  ' :process_verdict
\endif

\echo
\echo '   Tasks: state, who has them, their history (state by actor; → reason) and feedback (fieldops.task_detail())'
SELECT t.task_id AS task, t.title, COALESCE(c.name, '') AS customer, t.priority, t.state,
       COALESCE(a.name, tm.name, '') AS "assigned to",
       (SELECT string_agg(h.to_state || COALESCE(' by ' || hw.name, '') || COALESCE(' → ' || h.reason, ''), '; ' ORDER BY h.history_id)
          FROM fieldops.task_history h LEFT JOIN fieldops.worker hw ON hw.tenant_id = h.tenant_id AND hw.worker_id = h.actor_worker_id
         WHERE h.tenant_id = t.tenant_id AND h.task_id = t.task_id) AS history,
       (SELECT string_agg(f.kind, ', ' ORDER BY f.feedback_id) FROM fieldops.task_feedback f
         WHERE f.tenant_id = t.tenant_id AND f.task_id = t.task_id) AS feedback
  FROM fieldops.task t
  LEFT JOIN fieldops.customer c ON c.tenant_id = t.tenant_id AND c.customer_id = t.customer_id
  LEFT JOIN fieldops.worker a ON a.tenant_id = t.tenant_id AND a.worker_id = t.assignee_worker_id
  LEFT JOIN fieldops.team tm ON tm.tenant_id = t.tenant_id AND tm.team_id = t.team_id
 WHERE t.tenant_id = :tenant
 ORDER BY t.task_id DESC LIMIT 10;

\echo
\echo '   Work orders: state, SLA (respond by / resolve by, breached or not), history (state by actor)'
SELECT o.work_order_id AS wo, o.reference, o.title, c.name AS customer, o.priority, o.state, e.name AS engineer,
       CASE WHEN o.respond_breached_at IS NOT NULL THEN 'respond BREACHED' WHEN o.responded_at IS NOT NULL THEN 'responded in time' ELSE 'open' END
       || ', ' ||
       CASE WHEN o.resolve_breached_at IS NOT NULL THEN 'resolve BREACHED' WHEN o.resolved_at IS NOT NULL THEN 'resolved in time' ELSE 'open' END AS sla,
       (SELECT string_agg(h.to_state || COALESCE(' by ' || hw.name, ''), ' → ' ORDER BY h.history_id)
          FROM fieldops.work_order_history h LEFT JOIN fieldops.worker hw ON hw.tenant_id = h.tenant_id AND hw.worker_id = h.actor_worker_id
         WHERE h.tenant_id = o.tenant_id AND h.work_order_id = o.work_order_id) AS history
  FROM fieldops.work_order o
  JOIN fieldops.customer c ON c.tenant_id = o.tenant_id AND c.customer_id = o.customer_id
  LEFT JOIN fieldops.worker e ON e.tenant_id = o.tenant_id AND e.worker_id = o.engineer_worker_id
 WHERE o.tenant_id = :tenant
 ORDER BY o.work_order_id DESC LIMIT 10;

\echo
\echo '   Their parts (issued to the order, consumed on it, returned to stock) and the customer''s signatures'
\echo '   verified again now (fieldops.verify_work_order_signatures(): the key, the signature, the content)'
SELECT o.work_order_id AS wo, p.sku, p.name AS part, wp.issued, wp.consumed, wp.returned, p.unit
  FROM fieldops.work_order o
  JOIN fieldops.work_order_part wp ON wp.tenant_id = o.tenant_id AND wp.work_order_id = o.work_order_id
  JOIN fieldops.part p ON p.tenant_id = wp.tenant_id AND p.part_id = wp.part_id
 WHERE o.tenant_id = :tenant
 ORDER BY o.work_order_id DESC, p.sku LIMIT 20;
SELECT o.work_order_id AS wo, s.signer_name AS signer, s.algorithm, s.key_status AS key, s.valid, s.content_intact AS "content intact",
       s.is_current AS "current content"
  FROM fieldops.work_order o CROSS JOIN LATERAL fieldops.verify_work_order_signatures(:tenant, o.work_order_id) s
 WHERE o.tenant_id = :tenant
 ORDER BY o.work_order_id DESC LIMIT 10;

\echo
\echo '   The inspection record submitted with the work order (form COOLER-INSPECT, answers as stored)'
SELECT s.work_order_id AS wo, w.name AS engineer, f.code || ' v' || s.version AS form,
       jsonb_pretty(s.answers - 'nameplate_photo') AS answers, s.answers -> 'nameplate_photo' AS photos
  FROM fieldops.form_submission s
  JOIN fieldops.form f ON f.tenant_id = s.tenant_id AND f.form_id = s.form_id
  JOIN fieldops.worker w ON w.tenant_id = s.tenant_id AND w.worker_id = s.worker_id
 WHERE s.tenant_id = :tenant AND s.work_order_id IS NOT NULL
 ORDER BY s.submission_id DESC LIMIT 3;

\echo
\echo '   Stock by location (a level never goes below zero: fieldops.check_stock_invariants())'
SELECT l.code AS location, l.kind, COALESCE(w.name, '') AS van_of, p.sku, s.on_hand, p.unit
  FROM fieldops.stock_level s
  JOIN fieldops.stock_location l ON l.tenant_id = s.tenant_id AND l.location_id = s.location_id
  JOIN fieldops.part p ON p.tenant_id = s.tenant_id AND p.part_id = s.part_id
  LEFT JOIN fieldops.worker w ON w.tenant_id = l.tenant_id AND w.worker_id = l.worker_id
 WHERE s.tenant_id = :tenant
 ORDER BY l.kind DESC, l.code, p.sku;
SELECT count(*) AS stock_violations, count(*) > 0 AS stock_bad FROM fieldops.check_stock_invariants(:tenant) \gset
\if :stock_bad
SELECT * FROM fieldops.check_stock_invariants(:tenant) LIMIT 20;
\endif
SELECT CASE WHEN :stock_violations = 0 THEN 'none: every level is the sum of its ledger and none is negative'
            ELSE :stock_violations || ' VIOLATIONS' END AS stock_verdict \gset
\echo '   stock invariants:' :stock_verdict

\echo
SELECT 'fieldops_dispatch_' || :tenant AS dispatch_channel \gset
\echo '   Events the process wrote to the outbox (a CRM or a manager''s screen follows them; tasks and work'
\echo '   orders also NOTIFY the channel' :dispatch_channel 'as they change)'
SELECT o.topic, count(*) AS events
  FROM fieldops.outbox o
 WHERE o.tenant_id = :tenant AND o.aggregate_type IN ('visit', 'task', 'work_order', 'form', 'form_submission', 'part')
 GROUP BY o.topic ORDER BY o.topic;
\else
\echo '   (this version of fieldops has no process module: ALTER EXTENSION fieldops UPDATE)'
\endif

------------------------------------------------------------------------------
\echo
\echo '── 14. The cockpit: KPIs from verified work, expenses (modules 3 and 5) ────'
-- fieldops.kpi() over the last four weeks (tenant-local, up to yesterday),
-- from the rollups the kpi_rollup job keeps (fieldops.kpi_refresh()):
-- totals per week, the top and bottom performers, coverage by team, cost
-- and ROI by region, then the expense lines the policy flagged and the
-- rollups checked against a recomputation (fieldops.check_rollups()).
-- The sample history (test/generators/sample_history.sql) gives the weeks
-- something to count.  Each measure's definition: README, KPIs.
SELECT to_regprocedure('fieldops.kpi(bigint,text,text[],date,date)') IS NOT NULL
       AND to_regclass('fieldops.expense_line') IS NOT NULL AS have_cockpit \gset
\if :have_cockpit
-- the four weeks before this one (Monday to Sunday) and this week up to yesterday
SELECT (date_trunc('week', fieldops.tenant_local_date(:tenant)) - interval '28 days')::date AS kpi_from,
       fieldops.tenant_local_date(:tenant) - 1 AS kpi_to \gset
\echo '   Per week,' :kpi_from 'to' :kpi_to '(each measure''s definition: README, KPIs; verified = fieldops.visit_verified;'
\echo '   expenses count from the manager''s approval: the last week''s claims are still waiting for it)'
SELECT COALESCE(to_char(period, 'YYYY-MM-DD'), 'TOTAL') AS "week of", visits, verified_visits AS verified,
       customers_visited AS customers, assigned_customers AS assigned, round(100 * coverage, 1) || ' %' AS coverage,
       working_hours AS "work h", round(verified_visits_per_working_hour, 2) AS "verified/h", on_site_hours AS "on site h",
       expense_total AS expenses, cost_per_verified_visit AS "cost/visit", revenue, round(roi, 1) AS roi,
       round(100 * expense_ratio, 1) || ' %' AS "费效比"
  FROM fieldops.kpi(:tenant, 'week', '{}', :'kpi_from', :'kpi_to')
 ORDER BY period NULLS LAST;

\echo
\echo '   Top and bottom three of the sales teams by verified visits per working hour, over the same days'
WITH k AS (
    SELECT k.*, w.name AS worker, t.code AS team
      FROM fieldops.kpi(:tenant, 'range', '{worker}', :'kpi_from', :'kpi_to') k
      JOIN fieldops.worker w ON w.tenant_id = :tenant AND w.worker_id = k.worker_id
      JOIN fieldops.team t ON t.tenant_id = w.tenant_id AND t.team_id = w.team_id
     WHERE k.grouped_by = '{period,worker}' AND t.code LIKE '%-SALES' AND k.working_hours > 0 AND w.status = 'active'
), r AS (
    SELECT k.*, rank() OVER (ORDER BY verified_visits_per_working_hour DESC, worker) AS top,
           rank() OVER (ORDER BY verified_visits_per_working_hour, worker) AS bottom FROM k
)
SELECT CASE WHEN top <= 3 THEN 'top ' || top ELSE 'bottom ' || bottom END AS rank, worker, team, visits, verified_visits AS verified,
       round(100.0 * verified_visits / NULLIF(visits, 0), 1) || ' %' AS "verified share",
       round(verified_visits_per_working_hour, 2) AS "verified/h", round(100 * coverage, 1) || ' %' AS coverage,
       cost_per_verified_visit AS "cost/visit", revenue, round(roi, 1) AS roi
  FROM r WHERE top <= 3 OR bottom <= 3
 ORDER BY top;

\echo
\echo '   Coverage by team (customers with a verified visit / customers owned at the end of those days)'
SELECT COALESCE(t.code, 'TOTAL') AS team, t.name, k.customers_visited AS visited, k.assigned_customers AS owned,
       round(100 * k.coverage, 1) || ' %' AS coverage, k.verified_visits AS verified
  FROM fieldops.kpi(:tenant, 'range', '{team}', :'kpi_from', :'kpi_to') k
  LEFT JOIN fieldops.team t ON t.tenant_id = :tenant AND t.team_id = k.team_id
 WHERE k.grouped_by IN ('{period,team}', '{}') AND (k.verified_visits > 0 OR k.assigned_customers > 0)
 ORDER BY k.team_id IS NULL, t.code;

\echo
\echo '   Cost per verified visit and ROI by region (area), over the same days'
SELECT COALESCE(r.name, 'TOTAL') AS region, k.verified_visits AS verified, k.expense_total AS expenses,
       k.cost_per_verified_visit AS "cost/visit", k.revenue, round(k.roi, 1) AS roi, round(100 * k.expense_ratio, 2) || ' %' AS "费效比",
       k.expenses ->> 'meal' AS meal, k.expenses ->> 'fuel' AS fuel, k.expenses ->> 'parking' AS parking
  FROM fieldops.kpi(:tenant, 'range', '{region}', :'kpi_from', :'kpi_to') k
  LEFT JOIN fieldops.region r ON r.tenant_id = :tenant AND r.region_id = k.region_id
 WHERE k.grouped_by IN ('{period,region}', '{}') AND (k.verified_visits > 0 OR k.expense_total > 0 OR k.revenue > 0)
 ORDER BY k.region_id IS NULL, r.code;

\echo
\echo '   Expense lines the policy flagged (duplicate receipts and days off first; the approver sees them in'
\echo '   fieldops.expense_claim_detail() with each line''s evidence)'
SELECT w.name AS worker, c.state, l.spent_on AS day, l.expense_type AS type, l.amount, l.currency,
       string_agg(f ->> 'code', ', ' ORDER BY f ->> 'code') AS flags,
       left(min(f ->> 'text'), 90) AS why
  FROM fieldops.expense_line l
  JOIN fieldops.expense_claim c ON c.tenant_id = l.tenant_id AND c.claim_id = l.claim_id
  JOIN fieldops.worker w ON w.tenant_id = c.tenant_id AND w.worker_id = c.worker_id
  CROSS JOIN LATERAL jsonb_array_elements(l.flags) f
 WHERE l.tenant_id = :tenant AND c.state NOT IN ('draft', 'cancelled')
 GROUP BY w.name, c.state, l.line_id, l.spent_on, l.expense_type, l.amount, l.currency
 ORDER BY bool_or(f ->> 'code' = 'duplicate_receipt') DESC, bool_or(f ->> 'code' = 'non_working_day') DESC, l.spent_on DESC, w.name
 LIMIT 12;
SELECT count(DISTINCT l.line_id) AS flagged_lines, count(*) FILTER (WHERE f ->> 'code' = 'over_cap') AS over_cap,
       count(*) FILTER (WHERE f ->> 'code' = 'duplicate_receipt') AS duplicate_receipt,
       count(*) FILTER (WHERE f ->> 'code' = 'non_working_day') AS non_working_day,
       count(*) FILTER (WHERE f ->> 'code' = 'context_not_verified') AS context_not_verified,
       count(*) FILTER (WHERE f ->> 'code' LIKE 'km%') AS km
  FROM fieldops.expense_line l CROSS JOIN LATERAL jsonb_array_elements(l.flags) f WHERE l.tenant_id = :tenant;
SELECT state, count(*) AS claims FROM fieldops.expense_claim WHERE tenant_id = :tenant GROUP BY state ORDER BY min(
       array_position(ARRAY['draft', 'submitted', 'manager_approved', 'finance_approved', 'paid', 'rejected', 'cancelled'], state));

\echo
SELECT count(*) AS rollup_differences, count(*) = 0 AS rollups_ok
  FROM fieldops.check_rollups(:tenant, :'kpi_from', :'kpi_to') \gset
SELECT refreshed_at::timestamp(0) AS kpi_refreshed_at FROM fieldops.kpi_state WHERE tenant_id = :tenant \gset
\if :rollups_ok
\echo '   fieldops.check_rollups(tenant, those days): no difference between the rollups and a recomputation'
\echo '   from the source rows (last refreshed' :kpi_refreshed_at ')'
\else
\echo '   fieldops.check_rollups(tenant, those days):' :rollup_differences 'DIFFERENCES (run fieldops.kpi_refresh(tenant))'
\endif
\else
\echo '   (this version of fieldops has no KPIs or expenses: ALTER EXTENSION fieldops UPDATE)'
\endif

\pset footer on
RESET client_min_messages;
\unset QUIET
