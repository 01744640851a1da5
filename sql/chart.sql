--
-- chart: the SVG pictures of the cockpit.  Each picture parses as an XML
-- document with an <svg> root in the SVG namespace and a viewBox; the test
-- counts what is drawn with XPath (series, markers, legend items, visits,
-- check-in fixes, customers), shows that names cannot inject markup, that
-- an empty day says "no data", that an analyst draws with its own rights,
-- and the catalogue of bad input.
--
\set SHOW_CONTEXT never
SET datestyle = 'ISO, YMD';
SET timezone = 'UTC';
SET extra_float_digits = 0;

CREATE SCHEMA chart_test;
GRANT USAGE ON SCHEMA chart_test TO PUBLIC;
-- a visit as the visit API leaves it (for the KPI fixture: weeks in the
-- past, no fixes): check-in at a tenant-local time, p_min minutes on site,
-- verified unless p_ok is false; the day is touched as check_out() does
CREATE FUNCTION chart_test.visit(p_t bigint, p_worker bigint, p_customer bigint, p_local timestamp, p_min int, p_ok boolean DEFAULT true)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    v bigint;
BEGIN
    INSERT INTO fieldops.visit (tenant_id, worker_id, customer_id, checkin_at, checkout_at, radius_m, checkin_geofence, checkout_geofence,
                                checkin_band, checkout_band)
    VALUES (p_t, p_worker, p_customer, p_local AT TIME ZONE 'Asia/Shanghai', (p_local + p_min * interval '1 minute') AT TIME ZONE 'Asia/Shanghai',
            200, CASE WHEN p_ok THEN 'inside' ELSE 'outside' END, 'inside', 'green', 'green')
    RETURNING visit_id INTO v;
    PERFORM fieldops.kpi_touch(p_t, p_local::date, 'visit');
    RETURN v;
END $$;
-- a GPS fix of the map's phone, p_north_m / p_east_m metres from the first
-- shop, at a tenant-local time of the map's day
CREATE FUNCTION chart_test.fix(p_local text, p_north_m float8, p_east_m float8, p_extra jsonb DEFAULT '{}')
RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_build_object('device_uid', 'chart-phone-1', 'recorded_at', '2026-11-17T' || p_local || '+08:00',
               'lat', round((31.2304 + p_north_m / 111195.0)::numeric, 7), 'lon', round((121.4737 + p_east_m / (111195.0 * cosd(31.2304)))::numeric, 7),
               'accuracy_m', 6, 'provider', 'gps', 'speed_mps', 0, 'satellites', 14, 'cn0_mean_dbhz', 33, 'cn0_sd_dbhz', 6) || p_extra
$$;
-- how many nodes an XPath finds in a picture (parsed as an XML document:
-- a picture that is not well-formed fails here)
CREATE FUNCTION chart_test.n(p_svg text, p_path text) RETURNS integer LANGUAGE sql AS $$
    SELECT cardinality(xpath(p_path, xmlparse(DOCUMENT p_svg), ARRAY[ARRAY['s', 'http://www.w3.org/2000/svg']]))
$$;
-- the text of the nodes an XPath finds, joined with " | "
CREATE FUNCTION chart_test.texts(p_svg text, p_path text) RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(x::text, ' | ') FROM unnest(xpath(p_path, xmlparse(DOCUMENT p_svg), ARRAY[ARRAY['s', 'http://www.w3.org/2000/svg']])) x
$$;
-- what every picture must be: an <svg> root in the SVG namespace with a
-- viewBox and a title, nothing executable, nothing fetched
CREATE FUNCTION chart_test.well_formed(p_svg text) RETURNS text LANGUAGE sql AS $$
    SELECT concat_ws(' ',
        (SELECT 'root ' || x::text FROM unnest(xpath('name(/*)', xmlparse(DOCUMENT p_svg))) x),
        'svg_ns=' || (chart_test.n(p_svg, '/s:svg') = 1),
        'viewBox=' || chart_test.texts(p_svg, '/s:svg/@viewBox'),
        'title=' || (chart_test.n(p_svg, '/s:svg/s:title') = 1),
        'scripts=' || chart_test.n(p_svg, '//*[local-name() = ''script'' or local-name() = ''foreignObject'']'),
        'links=' || chart_test.n(p_svg, '//@*[local-name() = ''href'' or starts-with(name(), ''on'')]'))
$$;
-- an error with the ids masked (they depend on the tests before)
CREATE FUNCTION chart_test.err(p_sql text) RETURNS text LANGUAGE sql AS $$
    SELECT regexp_replace(regress.sqlerr(p_sql), '(tenant |p_tenant_id |p_worker_id |transaction \()[0-9]+', '\1N', 'g')
$$;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA chart_test TO PUBLIC;

--
-- 1. The fixture: two regions with a team each, seven reps (one with a
-- name that is markup), a customer each; six weeks of visits (rep k visits
-- on 8 - k days a week, the North team's Monday visits not verified),
-- deals, and the rollups built for those weeks
--
SELECT fieldops.create_tenant('Chart Test Co', 'Asia/Shanghai', '{"fix_retention_days": 3650}') AS ct \gset
SELECT fieldops.set_tenant(:ct, false) IS NOT NULL AS ct_chosen;
SELECT fieldops.upsert_region(:ct, 'E', '华东 East') AS re \gset
SELECT fieldops.upsert_region(:ct, 'N', '华北 North') AS rn \gset
SELECT fieldops.upsert_team(:ct, 'TE', '东区销售 Team East', :re) AS te \gset
SELECT fieldops.upsert_team(:ct, 'TN', 'Team North', :rn) AS tn \gset
SELECT fieldops.upsert_worker(:ct, 'W' || k, CASE k WHEN 1 THEN '李明 Li Ming' WHEN 2 THEN '<script>alert("x")</script> & Co'
                                                  ELSE 'Rep ' || k END,
                              CASE WHEN k <= 3 THEN :te ELSE :tn END, p_hired_on => '2026-01-01') IS NOT NULL AS rep
  FROM generate_series(1, 7) k;
SELECT worker_id AS w1 FROM fieldops.worker WHERE tenant_id = :ct AND external_ref = 'W1' \gset
SELECT worker_id AS w3 FROM fieldops.worker WHERE tenant_id = :ct AND external_ref = 'W3' \gset
SELECT worker_id AS w7 FROM fieldops.worker WHERE tenant_id = :ct AND external_ref = 'W7' \gset
SELECT fieldops.upsert_customer(:ct, 'K' || w.external_ref, 'Key account of ' || w.external_ref,
                                ST_SetSRID(ST_MakePoint(121.40 + k * 0.01, 31.10), 4326),
                                p_level => (ARRAY['A', 'B', 'C'])[1 + k % 3], p_owner_worker_id => w.worker_id) IS NOT NULL AS customer
  FROM generate_series(1, 7) k JOIN fieldops.worker w ON w.tenant_id = :ct AND w.external_ref = 'W' || k;
-- (fixture history: owned since September, not since today)
UPDATE fieldops.customer_ownership SET started_at = '2026-09-01 00:00+08' WHERE tenant_id = :ct;
SELECT count(*) AS visits, count(*) FILTER (WHERE NOT ok) AS not_verified FROM (
    SELECT chart_test.visit(:ct, w.worker_id, c.customer_id, (date '2026-10-05' + wk * 7 + d) + time '10:00', 30, NOT (k >= 4 AND d = 0)) AS v,
           NOT (k >= 4 AND d = 0) AS ok
      FROM generate_series(1, 7) k
      JOIN fieldops.worker w ON w.tenant_id = :ct AND w.external_ref = 'W' || k
      JOIN fieldops.customer c ON c.tenant_id = :ct AND c.external_ref = 'KW' || k
     CROSS JOIN generate_series(0, 5) wk
     CROSS JOIN LATERAL generate_series(0, 7 - k) d) x;
SELECT count(fieldops.upsert_deal(:ct, 'D' || k, c.customer_id, c.owner_worker_id, 1000 * k, date '2026-10-20' + k)) AS deals
  FROM generate_series(1, 7) k JOIN fieldops.customer c ON c.tenant_id = :ct AND c.external_ref = 'KW' || k;
SELECT r ->> 'days' AS days FROM fieldops.kpi_rebuild(:ct, '2026-10-05', '2026-11-15') r;

--
-- 2. The KPI trend
--
-- the total: one series, a marker per week, ticks, no legend
SELECT fieldops.svg_kpi_trend(:ct, 'visits', 'week', '2026-10-05', '2026-11-15') AS total \gset
SELECT chart_test.well_formed(:'total');
SELECT chart_test.n(:'total', '//s:g[@class="fo-series"]') AS series,
       chart_test.n(:'total', '//s:g[@class="fo-series"]/s:circle') AS markers,
       chart_test.n(:'total', '//s:g[@class="fo-legend-item"]') AS legend_items,
       chart_test.texts(:'total', '//s:g[@class="fo-grid"]/s:text/text()') AS value_ticks,
       chart_test.texts(:'total', '//s:g[@class="fo-x-axis"]/s:text/text()') AS period_ticks;
SELECT chart_test.texts(:'total', '/s:svg/s:text/text()') AS texts;
-- each marker's tooltip: 28 visits a week (7 + 6 + ... + 1)
SELECT chart_test.texts(:'total', '(//s:g[@class="fo-series"]/s:circle/s:title/text())[position() <= 2]') AS tooltips;
-- the same chart at another size: the same elements in another viewBox
SELECT chart_test.texts(s, '/s:svg/@viewBox') AS view_box, chart_test.n(s, '//s:g[@class="fo-series"]/s:circle') AS markers
  FROM fieldops.svg_kpi_trend(:ct, 'visits', 'week', '2026-10-05', '2026-11-15', NULL, 1200, 500) s;

-- weeks start on the tenant's week_start, as kpi() starts them: from Sunday,
-- the range begins with the week of Sunday 4 October (its Monday to Saturday)
BEGIN;
SELECT fieldops.alter_tenant(:ct, p_settings => '{"week_start": 7}') IS NOT NULL AS sunday_weeks;
SELECT chart_test.texts(s, '//s:g[@class="fo-x-axis"]/s:text/text()') AS period_ticks,
       chart_test.texts(s, '(//s:g[@class="fo-series"]/s:circle/s:title/text())[position() <= 2]') AS tooltips
  FROM fieldops.svg_kpi_trend(:ct, 'visits', 'week', '2026-10-05', '2026-11-15') s;
ROLLBACK;

-- several measures of one unit: a series each, in the order given, a legend
SELECT fieldops.svg_kpi_trend(:ct, 'visits, verified_visits', 'week', '2026-10-05', '2026-11-15') AS both \gset
SELECT chart_test.n(:'both', '//s:g[@class="fo-series"]') AS series,
       chart_test.texts(:'both', '//s:g[@class="fo-legend-item"]/s:title/text()') AS legend,
       chart_test.texts(:'both', '/s:svg/s:text[1]/text()') AS title,
       chart_test.texts(:'both', '//s:g[@class="fo-series"]/s:circle[1]/s:title/text()') AS first_week;

-- by worker: the five with the most verified visits by name, the other two
-- summed as "others"; the name that is markup is text, escaped
SELECT fieldops.svg_kpi_trend(:ct, 'verified_visits', 'week', '2026-10-05', '2026-11-15', 'worker') AS by_worker \gset
SELECT chart_test.well_formed(:'by_worker');
SELECT chart_test.n(:'by_worker', '//s:g[@class="fo-series"]') AS series,
       chart_test.n(:'by_worker', '//s:g[@class="fo-series"]/s:circle') AS markers,
       chart_test.n(:'by_worker', '//s:g[@class="fo-legend-item"]') AS legend_items;
SELECT chart_test.texts(:'by_worker', '//s:g[@class="fo-legend-item"]/s:title/text()') AS legend;
SELECT chart_test.texts(:'by_worker', '//s:g[@class="fo-legend-item"]/s:text/text()') AS legend_clipped;
SELECT position('<script>' IN :'by_worker') AS raw_script_tag, position('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co' IN :'by_worker') > 0 AS escaped;
-- "others" of a sum is the sum: 2 + 1 verified visits a week... less the North team's Monday ones
SELECT chart_test.texts(:'by_worker', '//s:g[@class="fo-series"][s:title="Others 其他 (2)"]/s:circle[1]/s:title/text()') AS others_first_week;

-- by team per day: two series, 42 days, a marker each; month labels of days
SELECT fieldops.svg_kpi_trend(:ct, 'visits', 'day', '2026-10-05', '2026-11-15', 'team') AS by_team \gset
SELECT chart_test.n(:'by_team', '//s:g[@class="fo-series"]') AS series,
       chart_test.n(:'by_team', '//s:g[@class="fo-series"]/s:circle') AS markers,
       chart_test.texts(:'by_team', '//s:g[@class="fo-legend-item"]/s:title/text()') AS legend,
       chart_test.n(:'by_team', '//s:g[@class="fo-x-axis"]/s:text') AS period_labels;
-- more periods than markers make sense for: a line only (day by day over 10 weeks)
SELECT chart_test.n(s, '//s:g[@class="fo-series"]') AS series, chart_test.n(s, '//s:g[@class="fo-series"]/s:circle') AS markers
  FROM fieldops.svg_kpi_trend(:ct, 'visits', 'day', '2026-09-07', '2026-11-15', 'team') s;

-- a ratio by region per month, in percent: coverage; a week before the
-- rollups has no value (a gap, not a zero), so the line starts after it
SELECT fieldops.svg_kpi_trend(:ct, 'coverage', 'week', '2026-09-28', '2026-11-15', 'region') AS coverage \gset
SELECT chart_test.n(:'coverage', '//s:g[@class="fo-series"]') AS series,
       chart_test.n(:'coverage', '//s:g[@class="fo-series"]/s:circle') AS markers,
       chart_test.texts(:'coverage', '//s:g[@class="fo-grid"]/s:text/text()') AS value_ticks,
       chart_test.texts(:'coverage', '/s:svg/s:text[3]/text()') AS unit;
SELECT chart_test.texts(:'coverage', '//s:g[@class="fo-series"]/s:circle[1]/s:title/text()') AS first_points;
-- visits over the same weeks: the week without rows is a zero
SELECT chart_test.n(s, '//s:g[@class="fo-series"]/s:circle') AS markers
  FROM fieldops.svg_kpi_trend(:ct, 'visits', 'week', '2026-09-28', '2026-11-15', 'region') s;

-- money: revenue by customer level per month, in the tenant's currency
SELECT fieldops.svg_kpi_trend(:ct, 'revenue', 'month', '2026-10-01', '2026-11-30', 'customer_level') AS revenue \gset
SELECT chart_test.n(:'revenue', '//s:g[@class="fo-series"]') AS series,
       chart_test.texts(:'revenue', '//s:g[@class="fo-legend-item"]/s:title/text()') AS legend,
       chart_test.texts(:'revenue', '/s:svg/s:text[2]/text()') AS subtitle,
       chart_test.texts(:'revenue', '//s:g[@class="fo-x-axis"]/s:text/text()') AS months;
-- ROI: a ratio without expenses has no value anywhere: the axis stays, no line
SELECT chart_test.well_formed(s), chart_test.n(s, '//s:g[@class="fo-series"]/s:circle') AS markers
  FROM fieldops.svg_kpi_trend(:ct, 'roi', 'month', '2026-10-01', '2026-11-30') s;
-- nothing in the rollups at all: "no data"
SELECT chart_test.well_formed(s), chart_test.texts(s, '//s:text[@class="fo-message"]/text()') AS message
  FROM fieldops.svg_kpi_trend(:ct, 'visits', 'week', '2025-01-06', '2025-02-02') s;

--
-- 3. The map of a worker's day: Li Ming's phone on Tuesday 17 November,
-- 09:00 to 10:50 at three shops (a stay, a drive, a stay ...), one network
-- fix and one implausible jump among them; three visits through the API:
-- verified, checked in outside the geofence, and one still open whose
-- check-in came from a mock location; shops he owns, one far away and one
-- without a position
--
SELECT device_id AS dev FROM fieldops.register_device(:ct, 'chart-phone-1', :w1, 'android') \gset
-- (the phone was bound before the fixture's day: test set-up, superuser)
UPDATE fieldops.device_binding SET bound_at = '2026-11-01 00:00+08' WHERE tenant_id = :ct AND device_id = :dev;
UPDATE fieldops.device SET bound_at = '2026-11-01 00:00+08', registered_at = '2026-11-01 00:00+08' WHERE tenant_id = :ct AND device_id = :dev;
SELECT fieldops.upsert_customer(:ct, 'S1', '好邻居便利店', ST_SetSRID(ST_MakePoint(121.4737, 31.2304), 4326), p_level => 'B', p_owner_worker_id => :w1) AS s1 \gset
SELECT fieldops.upsert_customer(:ct, 'S2', '<script>&"', ST_SetSRID(ST_MakePoint(121.4737 + 1200 / (111195.0 * cosd(31.2304)), 31.2304), 4326),
                                p_level => 'A', p_owner_worker_id => :w1) AS s2 \gset
SELECT fieldops.upsert_customer(:ct, 'S3', '联华超市', ST_SetSRID(ST_MakePoint(121.4737 + 1200 / (111195.0 * cosd(31.2304)), 31.2304 + 900 / 111195.0), 4326),
                                p_level => 'A', p_owner_worker_id => :w1) AS s3 \gset
SELECT fieldops.upsert_customer(:ct, 'S4', 'Far away shop', ST_SetSRID(ST_MakePoint(121.80, 31.50), 4326), p_owner_worker_id => :w1) IS NOT NULL AS far,
       fieldops.upsert_customer(:ct, 'S5', 'Shop without a pin', p_owner_worker_id => :w1) IS NOT NULL AS no_pin,
       fieldops.upsert_customer(:ct, 'S6', 'Shop next door, owned by another', ST_SetSRID(ST_MakePoint(121.4740, 31.2310), 4326),
                                p_owner_worker_id => :w3) IS NOT NULL AS others;
UPDATE fieldops.customer_ownership SET started_at = '2026-09-01 00:00+08' WHERE tenant_id = :ct;
-- the track: a fix a minute; at S1 until 09:20, to S2 by 09:30, there
-- until 10:00, to S3 by 10:10, there until 10:50
SELECT status, count(*) FROM fieldops.ingest_fixes(:ct, (
    SELECT jsonb_agg(chart_test.fix(to_char(time '09:00' + m * interval '1 minute', 'HH24:MI:SS'),
                                    CASE WHEN m <= 60 THEN 0 WHEN m <= 70 THEN 900 * (m - 60) / 10.0 ELSE 900 END,
                                    CASE WHEN m <= 20 THEN 0 WHEN m <= 30 THEN 1200 * (m - 20) / 10.0 ELSE 1200 END,
                                    CASE WHEN m BETWEEN 21 AND 29 OR m BETWEEN 61 AND 69 THEN '{"speed_mps": 2}'::jsonb ELSE '{}' END
                                    || CASE WHEN m = 45 THEN '{"provider": "network", "accuracy_m": 400}'::jsonb
                                            WHEN m = 80 THEN '{"lat": 31.6, "lon": 121.9}'::jsonb ELSE '{}' END)
                     ORDER BY m)
      FROM generate_series(0, 110) m)) GROUP BY 1 ORDER BY 1;
SELECT fieldops.check_in(:ct, :w1, :s1, chart_test.fix('09:02:30', 5, 3)) ->> 'visit_id' AS v1 \gset
SELECT fieldops.check_out(:ct, :v1, :w1, chart_test.fix('09:18:30', 4, 2)) ->> 'verified' AS v1_verified;
SELECT fieldops.check_in(:ct, :w1, :s2, chart_test.fix('09:35:30', 0, 1550)) ->> 'visit_id' AS v2 \gset
SELECT fieldops.check_out(:ct, :v2, :w1, chart_test.fix('09:58:30', 2, 1201)) ->> 'verified' AS v2_verified;
SELECT fieldops.check_in(:ct, :w1, :s3, chart_test.fix('10:15:30', 900, 1200, '{"mock": true}')) ->> 'visit_id' IS NOT NULL AS v3_checked_in;

SELECT fieldops.svg_worker_day(:ct, :w1, '2026-11-17') AS day \gset
SELECT chart_test.well_formed(:'day');
SELECT chart_test.texts(:'day', '/s:svg/s:text/text()') AS texts;
SELECT chart_test.n(:'day', '//s:g[@class="fo-track"]/s:path') AS track_paths,
       chart_test.n(:'day', '//s:g[@class="fo-raw"]') AS raw,
       chart_test.n(:'day', '//s:g[starts-with(@class, "fo-visit ")]') AS visits,
       chart_test.texts(:'day', '//s:g[starts-with(@class, "fo-visit ")]/@class') AS visit_states,
       chart_test.n(:'day', '//s:g[starts-with(@class, "fo-checkin ")]') AS checkins,
       chart_test.n(:'day', '//s:g[@class="fo-customers"]/s:rect') AS customers_drawn,
       chart_test.n(:'day', '//s:g[@class="fo-legend-item"]') AS legend_items;
-- each check-in fix in the colour of the band it was stored with (scores
-- depend on the model in force and on the fix's age: compared, not shown)
SELECT chart_test.texts(:'day', '//s:g[starts-with(@class, "fo-checkin ")]/@class') = (
           SELECT string_agg('fo-checkin fo-band-' || COALESCE(f.band, 'none'), ' | ' ORDER BY v.checkin_at)
             FROM fieldops.visit v JOIN fieldops.fix f ON f.tenant_id = v.tenant_id AND f.device_id = v.device_id AND f.recorded_at = v.checkin_at
            WHERE v.tenant_id = :ct AND v.worker_id = :w1 AND v.checkin_at >= '2026-11-17 00:00+08' AND v.checkin_at < '2026-11-18 00:00+08')
       AS bands_as_stored,
       chart_test.texts(:'day', '//s:g[@class="fo-checkin fo-band-red"]/s:title/text()') LIKE '%联华超市%' AS mock_checkin_red;
-- the tooltips: customer (escaped), times, why not verified (the second
-- check-in may be red or amber by the model in force: that reason masked)
SELECT regexp_replace(chart_test.texts(:'day', '//s:g[starts-with(@class, "fo-visit ")]/s:title/text()'), '; checkin_red \(score [0-9]+\)', '')
       AS visit_tooltips;
SELECT position('<script>' IN :'day') AS raw_script_tag;
SELECT chart_test.texts(:'day', '//s:g[@class="fo-customers"]/s:rect/s:title/text()') AS customers;
SELECT chart_test.texts(:'day', '//s:g[@class="fo-scale"]/s:text/text()') AS scale_bar,
       chart_test.n(:'day', '//s:g[@class="fo-north"]') AS north_arrow;
-- what is on the map lies inside its frame
SELECT count(*) AS positions, bool_and(p.x BETWEEN f.x0 AND f.x1 AND p.y BETWEEN f.y0 AND f.y1) AS inside_the_map
  FROM (SELECT (xpath('//s:rect[@class="fo-map"]/@x', d, ns))[1]::text::numeric AS x0, (xpath('//s:rect[@class="fo-map"]/@y', d, ns))[1]::text::numeric AS y0,
               (xpath('//s:rect[@class="fo-map"]/@x', d, ns))[1]::text::numeric + (xpath('//s:rect[@class="fo-map"]/@width', d, ns))[1]::text::numeric AS x1,
               (xpath('//s:rect[@class="fo-map"]/@y', d, ns))[1]::text::numeric + (xpath('//s:rect[@class="fo-map"]/@height', d, ns))[1]::text::numeric AS y1,
               d, ns
          FROM (SELECT xmlparse(DOCUMENT :'day') AS d, ARRAY[ARRAY['s', 'http://www.w3.org/2000/svg']] AS ns) z) f
 CROSS JOIN LATERAL (
        SELECT (xpath('/*/@cx', e, f.ns))[1]::text::numeric AS x, (xpath('/*/@cy', e, f.ns))[1]::text::numeric AS y
          FROM unnest(xpath('//s:g[@class="fo-track"]/s:circle', f.d, f.ns)) e
        UNION ALL
        SELECT (xpath('/*/@x', e, f.ns))[1]::text::numeric, (xpath('/*/@y', e, f.ns))[1]::text::numeric
          FROM unnest(xpath('//s:g[@class="fo-visits"]//s:text', f.d, f.ns)) e
        UNION ALL
        SELECT (xpath('/*/@x', e, f.ns))[1]::text::numeric + 3.5, (xpath('/*/@y', e, f.ns))[1]::text::numeric + 3.5
          FROM unnest(xpath('//s:g[@class="fo-customers"]/s:rect', f.d, f.ns)) e) p;

-- a day with visits only (no fixes): the visit, no track
SELECT chart_test.well_formed(s), chart_test.n(s, '//s:g[starts-with(@class, "fo-visit ")]') AS visits,
       chart_test.n(s, '//s:g[@class="fo-track"]') AS tracks, chart_test.texts(s, '/s:svg/s:text[2]/text()') AS subtitle
  FROM fieldops.svg_worker_day(:ct, :w3, '2026-11-10') s;
-- an empty day says so
SELECT chart_test.well_formed(s), chart_test.texts(s, '//s:text[@class="fo-message"]/text()') AS message
  FROM fieldops.svg_worker_day(:ct, :w7, '2026-11-15') s;

--
-- 4. What the functions are: STABLE, the caller's rights, for applications
-- and analysts; an analyst draws its own tenant, not another's
--
SELECT p.oid::regprocedure AS function, p.provolatile AS volatility, p.prosecdef AS definer,
       has_function_privilege('fieldops_app', p.oid, 'EXECUTE') AS app, has_function_privilege('fieldops_analyst', p.oid, 'EXECUTE') AS analyst
  FROM pg_proc p WHERE p.pronamespace = 'fieldops'::regnamespace AND p.proname LIKE 'svg\_%' ORDER BY p.oid::regprocedure::text;
CREATE ROLE chart_bi NOLOGIN IN ROLE fieldops_analyst;
SELECT fieldops.grant_tenant_access('chart_bi', :ct);
SET ROLE chart_bi;
SELECT fieldops.set_tenant(:ct) IS NOT NULL AS ct_chosen;
SELECT chart_test.n(fieldops.svg_kpi_trend(:ct, 'visits', 'week', '2026-10-05', '2026-11-15', 'team'), '//s:g[@class="fo-series"]') AS series,
       chart_test.n(fieldops.svg_worker_day(:ct, :w1, '2026-11-17'), '//s:g[starts-with(@class, "fo-visit ")]') AS visits;
RESET ROLE;
SELECT fieldops.create_tenant('Chart Other Co', 'Asia/Shanghai') AS other \gset
SET ROLE chart_bi;
SELECT fieldops.set_tenant(:ct) IS NOT NULL AS ct_chosen;
SELECT chart_test.err(format('SELECT fieldops.svg_kpi_trend(%s, ''visits'', ''week'', ''2026-10-05'', ''2026-11-15'')', :other)) AS other_tenant_trend;
SELECT chart_test.err(format('SELECT fieldops.svg_worker_day(%s, %s, ''2026-11-17'')', :other, :w1)) AS other_tenant_map;
RESET ROLE;

--
-- 5. Bad input
--
SELECT fieldops.set_tenant(:ct, false) IS NOT NULL AS ct_chosen;
SELECT a AS args, chart_test.err(format('SELECT fieldops.svg_kpi_trend(%s, %s)', :ct, a)) AS error
  FROM (VALUES ('NULL, ''week'', ''2026-10-05'', ''2026-11-15'''),
               ('''visitors'', ''week'', ''2026-10-05'', ''2026-11-15'''),
               ('''visits,revenue'', ''week'', ''2026-10-05'', ''2026-11-15'''),
               ('''visits,visits'', ''week'', ''2026-10-05'', ''2026-11-15'''),
               ('''visits,verified_visits'', ''week'', ''2026-10-05'', ''2026-11-15'', ''team'''),
               ('''visits'', NULL, ''2026-10-05'', ''2026-11-15'''),
               ('''visits'', ''year'', ''2026-10-05'', ''2026-11-15'''),
               ('''visits'', ''week'', NULL, ''2026-11-15'''),
               ('''visits'', ''week'', ''2026-11-15'', ''2026-10-05'''),
               ('''visits'', ''day'', ''2024-01-01'', ''2026-11-15'''),
               ('''visits'', ''week'', ''2026-10-05'', ''2026-11-15'', ''customer'''),
               ('''visits'', ''week'', ''2026-10-05'', ''2026-11-15'', NULL, 100'),
               ('''visits'', ''week'', ''2026-10-05'', ''2026-11-15'', NULL, 720, NULL'),
               ('''visits'', ''week'', ''2026-10-05'', ''2026-11-15'', ''worker'', 320, 200')) x(a);
SELECT a AS args, chart_test.err(format('SELECT fieldops.svg_worker_day(%s, %s)', :ct, replace(a, 'W1', :'w1'))) AS error
  FROM (VALUES ('NULL, ''2026-11-17'''),
               ('-1, ''2026-11-17'''),
               ('W1, NULL'),
               ('W1, ''infinity'''),
               ('W1, ''2026-11-17'', 5000'),
               ('W1, ''2026-11-17'', 720, 150')) x(a);
SELECT regress.sqlerr('SELECT fieldops.svg_ticks(0, 1, 5) LIMIT 0') AS ticks_ok;

DROP ROLE chart_bi;
DELETE FROM fieldops.tenant_access WHERE role_name NOT IN (SELECT rolname FROM pg_roles);
DROP SCHEMA chart_test CASCADE;
