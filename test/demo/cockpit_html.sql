--
-- test/demo/cockpit_html.sql — the cockpit's charts of one tenant as an
-- HTML page on standard output (make demo writes it to cockpit.html in the
-- demo directory):
--
--   psql -X -q -v ON_ERROR_STOP=1 -v tenant=<tenant_id> -f test/demo/cockpit_html.sql fieldops_demo > cockpit.html
--
-- The page holds four pictures drawn by the database, each an inline <svg>
-- exactly as fieldops.svg_kpi_trend() / fieldops.svg_worker_day() return it:
--   1. visits and verified visits per week (the last 8 ISO weeks),
--   2. cost per verified visit per month by region (the last 3 months),
--   3. coverage per week by team (the last 8 weeks),
--   4. the map of a worker's day: of the worker-days with a track (20 or
--      more location fixes), the one with the most visits that ran an SOP
--      (the demo's process day), else the one with the most fixes.
-- Ranges end today, tenant-local.  Read-only: the charts read the KPI
-- rollups as the kpi_rollup job and the sample history left them.
--
\set ON_ERROR_STOP on
\set QUIET on
\pset tuples_only on
\pset format unaligned
\pset footer off

SELECT fieldops.set_tenant(:tenant, false) AS chosen \gset
SELECT fieldops.tenant_local_date(:tenant) AS today,
       (date_trunc('week', fieldops.tenant_local_date(:tenant)) - interval '7 weeks')::date AS weeks_from,
       (date_trunc('month', fieldops.tenant_local_date(:tenant)) - interval '2 months')::date AS months_from \gset

-- the worker-day to map: with a track, the most SOP visits, then the most fixes (none: no map)
SELECT (array_agg(x.worker_id ORDER BY vc.visits DESC, x.n DESC, x.day DESC, x.worker_id))[1] AS map_worker,
       (array_agg(x.day ORDER BY vc.visits DESC, x.n DESC, x.day DESC, x.worker_id))[1] AS map_day,
       (array_agg(x.n ORDER BY vc.visits DESC, x.n DESC, x.day DESC, x.worker_id))[1] AS map_fixes
  FROM (SELECT d.worker_id, d.day, count(*) AS n
          FROM (SELECT f.worker_id, fieldops.tenant_local_date(:tenant, f.recorded_at) AS day
                  FROM fieldops.fix f WHERE f.tenant_id = :tenant) d
         GROUP BY 1, 2 HAVING count(*) >= 20) x
 CROSS JOIN LATERAL (SELECT count(*) AS visits FROM fieldops.visit v
                      WHERE v.tenant_id = :tenant AND v.worker_id = x.worker_id AND v.sop_id IS NOT NULL
                        AND v.checkin_at >= (x.day::timestamp AT TIME ZONE fieldops.tenant_time_zone(:tenant))
                        AND v.checkin_at < ((x.day + 1)::timestamp AT TIME ZONE fieldops.tenant_time_zone(:tenant))) vc \gset

SELECT format($html$<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>%1$s · fieldops cockpit</title>
<style>
  body { margin: 24px; background: #f3f4f6; color: #111827;
         font-family: system-ui, -apple-system, "Segoe UI", "Noto Sans", "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif; }
  h1 { font-size: 22px; margin: 0 0 4px; }
  p.sub { margin: 0 0 20px; color: #4b5563; font-size: 13px; }
  .grid { display: flex; flex-wrap: wrap; gap: 20px; align-items: flex-start; }
  figure { margin: 0; width: 720px; max-width: 100%%; }
  figure svg { display: block; max-width: 100%%; height: auto; }
  figcaption { margin: 6px 2px 0; font-size: 13px; color: #4b5563; }
</style>
</head>
<body>
<h1>%1$s · 经营驾驶舱 cockpit</h1>
<p class="sub">From verified work only · weeks %2$s – %4$s, months %3$s – %4$s (tenant-local) · every picture is an SVG returned by
fieldops.svg_kpi_trend() or fieldops.svg_worker_day(); hover a point, pin or diamond for its numbers.</p>
<div class="grid">$html$,
       fieldops.svg_escape(t.name), :'weeks_from', :'months_from', :'today')
  FROM fieldops.tenant t WHERE t.tenant_id = :tenant;

SELECT '<figure>' || fieldops.svg_kpi_trend(:tenant, 'visits,verified_visits', 'week', :'weeks_from', :'today')
       || '<figcaption>Visits and verified visits per week. The gap is claimed work the evidence does not carry: a check-in '
       || 'outside the geofence or from a spoofed position, a required SOP step or photo missing, a visit not checked out.</figcaption></figure>';

SELECT '<figure>' || fieldops.svg_kpi_trend(:tenant, 'cost_per_verified_visit', 'month', :'months_from', :'today', 'region')
       || '<figcaption>Cost per verified visit per month by region: approved expenses in the tenant''s currency divided by '
       || 'verified visits (no line where a region has no expenses or no verified visits).</figcaption></figure>';

SELECT '<figure>' || fieldops.svg_kpi_trend(:tenant, 'coverage', 'week', :'weeks_from', :'today', 'team')
       || '<figcaption>Coverage per week by team: customers visited with a verified visit divided by the customers the '
       || 'team''s workers owned at the end of the week (the five largest teams by name, the others together).</figcaption></figure>';

SELECT CASE WHEN NULLIF(:'map_worker', '') IS NULL
            THEN '<figure><figcaption>No location fixes yet: no worker-day to map.</figcaption></figure>'
            ELSE '<figure>' || fieldops.svg_worker_day(:tenant, NULLIF(:'map_worker', '')::bigint, NULLIF(:'map_day', '')::date)
                 || format('<figcaption>A worker''s day (%s location fixes): %s on %s. The cleaned track is what the mileage filter measured '
                           '(and a vehicle claim pays); the faint dots are every fix the phone sent; pins are the visits, '
                           'green when verified.</figcaption></figure>',
                           :'map_fixes', fieldops.svg_escape(w.name), :'map_day')
       END
  FROM (SELECT 1) one
  LEFT JOIN fieldops.worker w ON w.tenant_id = :tenant AND w.worker_id = NULLIF(:'map_worker', '')::bigint;

SELECT '</div>
</body>
</html>';
