--
-- Charts: pictures a manager would rather look at than read, as SVG that
-- any application can embed (inline in HTML, as an <img> data URL, in a
-- PDF renderer): a KPI trend (fieldops.svg_kpi_trend) and the map of one
-- worker's day (fieldops.svg_worker_day).
--
-- What every picture is: one complete <svg xmlns=... viewBox=...> element,
-- UTF-8, presentation attributes only (no <style>: CSS inside inline SVG
-- applies to the whole page), no ids (several pictures share one page's id
-- space), no script, no external resources.  Every text that comes from
-- data (names, notes, reasons) goes through fieldops.svg_escape(), so a
-- customer called <script> is drawn as those characters.  Classes are
-- prefixed fo- so that a page's CSS does not restyle them by accident, and
-- tests count elements by them.
--
-- The functions read with the caller's rights (SECURITY INVOKER): what an
-- analyst may not read, the picture does not show.  Their search_path is
-- pinned with pg_catalog first (99_finish.sql), so the drawing arithmetic
-- uses plain operators; the filters that confine rows to the tenant are
-- written OPERATOR(pg_catalog.=) as everywhere else.
--
-- New in 0.2.0.
--

--
-- Helpers
--
CREATE FUNCTION fieldops.svg_escape(p_text text)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    -- XML 1.0 forbids most control characters even as references: drop them
    SELECT replace(replace(replace(replace(replace(
               regexp_replace(COALESCE(p_text, ''), '[\x01-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]', '', 'g'),
               '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&quot;'), '''', '&#39;')
$$;
COMMENT ON FUNCTION fieldops.svg_escape(text) IS
'Text made safe for SVG/XML content and attribute values: & < > " '' escaped, control characters XML does not allow removed; NULL gives the empty string (a missing name never blanks a picture).';

CREATE FUNCTION fieldops.svg_clip(p_text text, p_max integer)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    -- widths in "columns": CJK and other wide characters count two
    WITH ch AS (
        SELECT c, i, CASE WHEN ascii(c) BETWEEN 4352 AND 4447 OR ascii(c) >= 11904 THEN 2 ELSE 1 END AS w
          FROM regexp_split_to_table(COALESCE(p_text, ''), '') WITH ORDINALITY AS x(c, i)
    ), run AS (
        SELECT c, i, sum(w) OVER (ORDER BY i) AS upto, sum(w) OVER () AS total FROM ch
    )
    SELECT CASE WHEN COALESCE(max(total), 0) <= p_max THEN COALESCE(p_text, '')
                ELSE string_agg(c, '' ORDER BY i) FILTER (WHERE upto <= p_max - 1) || '…' END
      FROM run
$$;
COMMENT ON FUNCTION fieldops.svg_clip(text, integer) IS
'p_text shortened to p_max columns (wide characters such as Chinese count two), ending in … when it was cut: for labels in a fixed space (the whole text goes into a <title> tooltip).';

CREATE FUNCTION fieldops.svg_ticks(p_lo numeric, p_hi numeric, p_target integer DEFAULT 5)
RETURNS TABLE (value numeric, label text)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    -- about p_target steps of 1, 2 or 5 times a power of ten, covering
    -- p_lo..p_hi; labels in k or M when the values are large, with as
    -- many decimals as the step needs
    WITH r AS (
        SELECT LEAST(p_lo, p_hi) AS lo,
               CASE WHEN p_hi = p_lo THEN GREATEST(p_lo, p_hi) + 1 ELSE GREATEST(p_lo, p_hi) END AS hi
    ), raw AS (
        SELECT lo, hi, (hi - lo) / GREATEST(p_target, 1) AS raw_step FROM r
    ), mag AS (
        SELECT lo, hi, raw_step, power(10::numeric, floor(log(10, raw_step))) AS m FROM raw
    ), step AS (
        SELECT lo, hi, m * CASE WHEN raw_step / m <= 1 THEN 1 WHEN raw_step / m <= 2 THEN 2 WHEN raw_step / m <= 5 THEN 5 ELSE 10 END AS s
          FROM mag
    ), span AS (
        SELECT s, floor(lo / s) * s AS t0, ceil(hi / s) * s AS t1 FROM step
    ), unit AS (
        SELECT s, t0, t1,
               CASE WHEN GREATEST(abs(t0), abs(t1)) >= 1000000 THEN 1000000 WHEN GREATEST(abs(t0), abs(t1)) >= 10000 THEN 1000 ELSE 1 END AS d
          FROM span
    )
    SELECT t0 + i * s,
           CASE WHEN t0 + i * s = 0 THEN '0'
                ELSE round((t0 + i * s) / d, GREATEST(0, -floor(log(10, s / d)))::integer)::text
                     || CASE d WHEN 1000000 THEN 'M' WHEN 1000 THEN 'k' ELSE '' END END
      FROM unit, generate_series(0, round((t1 - t0) / s)::integer) AS i
     ORDER BY i
$$;
COMMENT ON FUNCTION fieldops.svg_ticks(numeric, numeric, integer) IS
'Axis ticks covering p_lo..p_hi in about p_target steps of 1, 2 or 5 times a power of ten (the first and last tick enclose the range), with their labels (k, M for large values).';

-- an empty picture: the frame, the title and a message in the middle
CREATE FUNCTION fieldops.svg_message(p_width integer, p_height integer, p_title text, p_subtitle text, p_message text)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT format('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %1$s %2$s" width="%1$s" height="%2$s" role="img" class="fo-chart fo-empty"'
                  ' font-family="system-ui, -apple-system, ''Segoe UI'', ''Noto Sans'', ''PingFang SC'', ''Microsoft YaHei'', ''Noto Sans CJK SC'', sans-serif" font-size="12">'
                  '<title>%3$s: %5$s</title>'
                  '<rect x="0.5" y="0.5" width="%6$s" height="%7$s" rx="6" fill="#ffffff" stroke="#e5e7eb"/>'
                  '<text x="14" y="24" font-size="15" font-weight="600" fill="#111827">%3$s</text>'
                  '<text x="14" y="42" fill="#6b7280">%4$s</text>'
                  '<text class="fo-message" x="%8$s" y="%9$s" text-anchor="middle" font-size="16" fill="#9ca3af">%5$s</text></svg>',
                  p_width, p_height, fieldops.svg_escape(p_title), fieldops.svg_escape(p_subtitle), fieldops.svg_escape(p_message),
                  p_width - 1, p_height - 1, p_width / 2, p_height / 2 + 8)
$$;
COMMENT ON FUNCTION fieldops.svg_message(integer, integer, text, text, text) IS
'Internal: a picture with nothing to draw: its frame, title, subtitle and p_message (such as "no data") in the middle.';

-- the argument checks both pictures share
CREATE FUNCTION fieldops.svg_check_size(p_width integer, p_height integer)
RETURNS void
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
BEGIN
    IF p_width IS NULL OR p_height IS NULL THEN
        RAISE EXCEPTION 'p_width and p_height must not be null' USING ERRCODE = '22004';
    END IF;
    IF p_width NOT BETWEEN 320 AND 4000 THEN
        RAISE EXCEPTION 'p_width must be between 320 and 4000 pixels, got %', p_width USING ERRCODE = '22023';
    END IF;
    IF p_height NOT BETWEEN 200 AND 4000 THEN
        RAISE EXCEPTION 'p_height must be between 200 and 4000 pixels, got %', p_height USING ERRCODE = '22023';
    END IF;
END
$$;
COMMENT ON FUNCTION fieldops.svg_check_size(integer, integer) IS
'Internal: a picture''s size is 320..4000 by 200..4000 pixels; 22004 / 22023 naming the argument otherwise.';

--
-- The KPI trend
--
CREATE FUNCTION fieldops.svg_kpi_trend(p_tenant_id bigint, p_measure text, p_grain text, p_from date, p_to date,
                                       p_dim text DEFAULT NULL, p_width integer DEFAULT 720, p_height integer DEFAULT 320)
RETURNS text
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    -- The measures of kpi() that can be drawn: title, unit (money: the
    -- tenant's currency), factor from kpi()'s value to the drawn one, and
    -- for ratios the kpi() columns whose sums recompute it (the "others"
    -- series, and the ranking over the whole range); other measures add up.
    c_measures constant jsonb := '{
        "visits":                           {"title": "Visits 拜访", "unit": "visits"},
        "verified_visits":                  {"title": "Verified visits 有效拜访", "unit": "visits"},
        "customers_visited":                {"title": "Customers visited (verified) 拜访客户数", "unit": "customers"},
        "assigned_customers":               {"title": "Assigned customers 负责客户数", "unit": "customers"},
        "coverage":                         {"title": "Coverage 覆盖率", "unit": "%", "factor": 100, "num": "customers_visited", "den": "assigned_customers"},
        "working_hours":                    {"title": "Working hours 工作时长", "unit": "h"},
        "verified_visits_per_working_hour": {"title": "Verified visits per working hour 人效", "unit": "visits/h", "num": "verified_visits", "den": "working_hours"},
        "on_site_hours":                    {"title": "Time on site 在店时长", "unit": "h"},
        "travel_hours":                     {"title": "Time travelling 在途时长", "unit": "h"},
        "measured_km":                      {"title": "Measured km 轨迹里程", "unit": "km"},
        "expense_total":                    {"title": "Expenses 费用", "unit": "money"},
        "expense_lines_other_currency":     {"title": "Expense lines in other currencies 外币费用行", "unit": "lines"},
        "cost_per_verified_visit":          {"title": "Cost per verified visit 单次有效拜访成本", "unit": "money", "num": "expense_total", "den": "verified_visits"},
        "revenue":                          {"title": "Revenue 销售额", "unit": "money"},
        "deals":                            {"title": "Deals 成交", "unit": "deals"},
        "roi":                              {"title": "ROI 投资回报率", "unit": "%", "factor": 100, "num": "profit", "den": "expense_total"},
        "expense_ratio":                    {"title": "Expense ratio 费效比", "unit": "%", "factor": 100, "num": "expense_total", "den": "revenue"}
    }';
    c_dims constant text[] := ARRAY['worker', 'team', 'region', 'customer_level'];
    c_top constant integer := 5;           -- series drawn by name; the rest is "others"
    c_max_periods constant integer := 732;
    -- Okabe-Ito: told apart by colour-blind readers too; others grey
    c_palette constant text[] := ARRAY['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9'];
    c_others_colour constant text := '#999999';
    v_measures text[];         -- p_measure: one measure, or several of one unit
    v_multi boolean;
    m jsonb;                   -- the (first) measure
    v_factor numeric;
    v_unit text;
    v_first date;              -- the first and the last period, as kpi() starts them
    v_last date;
    v_step interval;
    v_periods integer;
    v_title text;
    v_subtitle text;
    v_points jsonb;            -- [{s: series no, idx, value}], drawn values
    v_series jsonb;            -- [{s, label, colour}]
    v_n_series integer;
    v_lo numeric;
    v_hi numeric;
    v_t0 numeric;
    v_t1 numeric;
    -- layout
    v_left constant integer := 62;
    v_right constant integer := 28;
    v_top constant integer := 62;
    v_cols integer;
    v_legend_h integer;
    v_bottom integer;           -- y of the x axis
    v_plot_w numeric;
    v_plot_h numeric;
    v_label_every integer;
    v_markers boolean;
    v_grid text;
    v_xaxis text;
    v_lines text;
    v_legend text;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    IF p_measure IS NULL THEN
        RAISE EXCEPTION 'p_measure must not be null; the measures are %',
            (SELECT string_agg(k, ', ' ORDER BY k) FROM jsonb_object_keys(c_measures) k) USING ERRCODE = '22004';
    END IF;
    v_measures := ARRAY(SELECT btrim(x) FROM regexp_split_to_table(p_measure, ',') WITH ORDINALITY AS t(x, o) ORDER BY o);
    FOR i IN 1 .. cardinality(v_measures) LOOP
        IF NOT c_measures ? v_measures[i] THEN
            RAISE EXCEPTION 'p_measure: unknown measure "%"; the measures are %', v_measures[i],
                (SELECT string_agg(k, ', ' ORDER BY k) FROM jsonb_object_keys(c_measures) k) USING ERRCODE = '22023';
        END IF;
    END LOOP;
    v_multi := cardinality(v_measures) > 1;
    IF v_multi THEN
        IF cardinality(v_measures) > cardinality(c_palette) OR (SELECT count(DISTINCT x) FROM unnest(v_measures) x) < cardinality(v_measures) THEN
            RAISE EXCEPTION 'p_measure: at most % different measures in one chart, got "%"', cardinality(c_palette), p_measure
                USING ERRCODE = '22023';
        END IF;
        IF (SELECT count(DISTINCT c_measures -> x ->> 'unit') FROM unnest(v_measures) x) > 1 THEN
            RAISE EXCEPTION 'p_measure: the measures of one chart share their unit, got %',
                (SELECT string_agg(format('%s (%s)', x, c_measures -> x ->> 'unit'), ', ') FROM unnest(v_measures) x)
                USING ERRCODE = '22023';
        END IF;
        IF p_dim IS NOT NULL THEN
            RAISE EXCEPTION 'p_dim must be NULL when p_measure names several measures (one series each)' USING ERRCODE = '22023';
        END IF;
    END IF;
    m := c_measures -> v_measures[1];
    IF p_grain IS NULL THEN
        RAISE EXCEPTION 'p_grain must not be null: day, week or month' USING ERRCODE = '22004';
    END IF;
    IF p_grain NOT IN ('day', 'week', 'month') THEN
        RAISE EXCEPTION 'p_grain must be day, week or month, got "%"', p_grain USING ERRCODE = '22023';
    END IF;
    IF p_dim IS NOT NULL AND NOT p_dim = ANY (c_dims) THEN
        RAISE EXCEPTION 'p_dim: unknown dimension "%"; the dimensions are worker, team, region, customer_level (NULL: the total)', p_dim
            USING ERRCODE = '22023';
    END IF;
    PERFORM fieldops.svg_check_size(p_width, p_height);
    PERFORM fieldops.check_kpi_range(p_tenant_id, p_from, p_to, 3660);
    -- the periods, each named by its first day as kpi_query() names it: a
    -- week starts on the tenant's week_start (ISO day number)
    v_step := ('1 ' || p_grain)::interval;
    IF p_grain = 'week' THEN
        v_first := p_from - (extract(isodow FROM p_from)::integer - (fieldops.tenant_setting(p_tenant_id, 'week_start') #>> '{}')::integer + 7) % 7;
        v_last := p_to - (extract(isodow FROM p_to)::integer - (fieldops.tenant_setting(p_tenant_id, 'week_start') #>> '{}')::integer + 7) % 7;
    ELSE
        v_first := date_trunc(p_grain, p_from::timestamp)::date;
        v_last := date_trunc(p_grain, p_to::timestamp)::date;
    END IF;
    v_periods := (SELECT count(*) FROM generate_series(v_first::timestamp, v_last::timestamp, v_step) g);
    IF v_periods > c_max_periods THEN
        RAISE EXCEPTION 'p_from..p_to has % periods of a %; a chart shows at most % (choose a coarser p_grain)', v_periods, p_grain, c_max_periods
            USING ERRCODE = '22023';
    END IF;

    v_factor := COALESCE((m ->> 'factor')::numeric, 1);
    v_unit := CASE WHEN m ->> 'unit' = 'money' THEN fieldops.tenant_setting(p_tenant_id, 'currency') #>> '{}' ELSE m ->> 'unit' END;
    v_title := format('%s · per %s%s', (SELECT string_agg(c_measures -> x ->> 'title', ' vs ') FROM unnest(v_measures) x),
                      p_grain, CASE WHEN p_dim IS NOT NULL THEN ' by ' || replace(p_dim, '_', ' ') END);
    v_subtitle := format('%s – %s · %s', p_from, p_to, v_unit);

    -- The rows of kpi() at the grouping drawn: per period (the total) or
    -- per period and dimension value; each value keyed and named (several
    -- measures: keyed by the measure).
    WITH k AS (
        SELECT k.*, to_jsonb(k) || jsonb_build_object('profit', k.revenue - k.expense_total) AS j
          FROM fieldops.kpi(p_tenant_id, p_grain, CASE WHEN p_dim IS NULL THEN '{}'::text[] ELSE ARRAY[p_dim] END, p_from, p_to) k
         WHERE k.grouped_by = CASE WHEN p_dim IS NULL THEN ARRAY['period'] ELSE ARRAY['period', p_dim] END
    ), r AS (
        SELECT k.period, mm.o,
               COALESCE(CASE p_dim WHEN 'worker' THEN k.worker_id::text WHEN 'team' THEN k.team_id::text
                                   WHEN 'region' THEN k.region_id::text WHEN 'customer_level' THEN k.customer_level ELSE mm.measure END, '-') AS key,
               CASE p_dim WHEN 'worker' THEN (SELECT w.name FROM fieldops.worker w
                                               WHERE w.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND w.worker_id OPERATOR(pg_catalog.=) k.worker_id)
                          WHEN 'team' THEN COALESCE((SELECT t.name FROM fieldops.team t
                                                      WHERE t.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND t.team_id OPERATOR(pg_catalog.=) k.team_id),
                                                    '(no team)')
                          WHEN 'region' THEN COALESCE((SELECT g.name FROM fieldops.region g
                                                        WHERE g.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND g.region_id OPERATOR(pg_catalog.=) k.region_id),
                                                      '(no region)')
                          WHEN 'customer_level' THEN CASE WHEN k.customer_level = '-' THEN '(no level)' ELSE 'Level ' || k.customer_level END
                          ELSE CASE WHEN v_multi THEN c_measures -> mm.measure ->> 'title' ELSE 'Total 合计' END END AS label,
               (k.j ->> mm.measure)::numeric AS value,
               (k.j ->> COALESCE(c_measures -> mm.measure ->> 'num', mm.measure))::numeric AS num,
               (k.j ->> (c_measures -> mm.measure ->> 'den'))::numeric AS den,
               c_measures -> mm.measure ? 'den' AS ratio
          FROM k CROSS JOIN unnest(v_measures) WITH ORDINALITY AS mm(measure, o)
    ), ranked AS (
        -- the measures in the order given; dimension values the largest
        -- over the whole range first
        SELECT key, min(label) AS label, bool_and(ratio) AS ratio,
               row_number() OVER (ORDER BY min(o),
                                           CASE WHEN bool_and(ratio) THEN sum(num) / NULLIF(sum(den), 0) ELSE sum(num) END DESC NULLS LAST,
                                           min(label), key) AS rn,
               count(*) OVER () AS n
          FROM r GROUP BY key
        -- ('-' is the level of what no customer has: drawn only if not all zero)
        HAVING NOT (p_dim = 'customer_level' AND key = '-' AND COALESCE(bool_and(COALESCE(value, 0) = 0), true))
    ), series AS (
        SELECT key, ratio, CASE WHEN n <= c_top + 1 OR rn <= c_top THEN rn ELSE c_top + 1 END AS s,
               CASE WHEN n <= c_top + 1 OR rn <= c_top THEN label ELSE format('Others 其他 (%s)', n - c_top) END AS label
          FROM ranked
    ), periods AS (
        SELECT (i - 1)::integer AS idx, g::date AS period
          FROM generate_series(v_first::timestamp, v_last::timestamp, v_step) WITH ORDINALITY AS x(g, i)
    ), cell AS (
        -- one series in one period: kpi()'s own value, or for "others"
        -- the sum (a ratio: recomputed from the sums); a period without a
        -- row is 0 for a sum and no value for a ratio
        SELECT se.s, p.idx,
               CASE WHEN count(r.key) = 0 THEN CASE WHEN se.ratio THEN NULL ELSE 0 END
                    WHEN count(r.key) = 1 THEN max(r.value)
                    WHEN se.ratio THEN round(sum(r.num) / NULLIF(sum(r.den), 0), 4)
                    ELSE sum(r.num) END * v_factor AS value
          FROM (SELECT DISTINCT s, ratio FROM series) se
         CROSS JOIN periods p
          LEFT JOIN (r JOIN series x ON x.key = r.key) ON x.s = se.s AND r.period = p.period
         GROUP BY se.s, se.ratio, p.idx
    )
    SELECT (SELECT jsonb_agg(jsonb_build_object('s', s, 'idx', idx, 'value', value) ORDER BY s, idx) FROM cell),
           (SELECT jsonb_agg(jsonb_build_object('s', s, 'label', label,
                                                'colour', CASE WHEN s > c_top THEN c_others_colour ELSE c_palette[s::integer] END) ORDER BY s)
              FROM (SELECT DISTINCT s, label FROM series) z)
      INTO v_points, v_series;

    IF v_series IS NULL THEN
        RETURN fieldops.svg_message(p_width, p_height, v_title, v_subtitle, 'no data');
    END IF;
    v_n_series := jsonb_array_length(v_series);

    -- the value axis: from 0 (or below) to the largest value
    SELECT LEAST(0, min((p ->> 'value')::numeric)), GREATEST(0, max((p ->> 'value')::numeric))
      INTO v_lo, v_hi FROM jsonb_array_elements(v_points) p;
    SELECT min(value), max(value) INTO v_t0, v_t1 FROM fieldops.svg_ticks(v_lo, v_hi, 5);

    -- layout: title and subtitle on top, the legend in rows at the bottom
    v_cols := GREATEST(1, ((p_width - v_left - v_right) / 150)::integer);
    v_legend_h := CASE WHEN p_dim IS NULL AND NOT v_multi THEN 0 ELSE ceil(v_n_series::numeric / v_cols)::integer * 18 + 6 END;
    v_bottom := p_height - v_legend_h - 28;
    v_plot_w := p_width - v_left - v_right;
    v_plot_h := v_bottom - v_top;
    IF v_plot_h < 40 THEN
        RAISE EXCEPTION 'p_height % leaves no room for the plot; at least % for this chart', p_height, p_height - v_plot_h::integer + 40
            USING ERRCODE = '22023';
    END IF;
    v_label_every := GREATEST(1, ceil(v_periods / GREATEST(1, floor(v_plot_w / 64)))::integer);
    v_markers := v_periods <= 62;

    -- gridlines and value labels
    SELECT string_agg(format('<line x1="%1$s" y1="%2$s" x2="%3$s" y2="%2$s" stroke="%4$s"/><text x="%5$s" y="%6$s" text-anchor="end" fill="#4b5563">%7$s</text>',
                             v_left, y, v_left + v_plot_w, CASE WHEN t.value = 0 THEN '#9ca3af' ELSE '#e5e7eb' END,
                             v_left - 6, y + 4, t.label), '' ORDER BY t.value)
      INTO v_grid
      FROM fieldops.svg_ticks(v_lo, v_hi, 5) t,
           LATERAL (SELECT round(v_bottom - (t.value - v_t0) / (v_t1 - v_t0) * v_plot_h, 1) AS y) yy;

    -- period labels (every v_label_every-th) and their ticks
    SELECT string_agg(format('<line x1="%1$s" y1="%2$s" x2="%1$s" y2="%3$s" stroke="#9ca3af"/>'
                             '<text x="%1$s" y="%4$s" text-anchor="middle" fill="#4b5563">%5$s</text>',
                             x, v_bottom, v_bottom + 4, v_bottom + 17,
                             to_char(p.g, CASE p_grain WHEN 'month' THEN 'YYYY-MM' ELSE 'MM-DD' END)), '' ORDER BY p.i)
      INTO v_xaxis
      FROM generate_series(v_first::timestamp, v_last::timestamp, v_step) WITH ORDINALITY AS p(g, i),
           LATERAL (SELECT round(v_left + CASE WHEN v_periods = 1 THEN v_plot_w / 2 ELSE (p.i - 1) * v_plot_w / (v_periods - 1) END, 1) AS x) xx
     WHERE (p.i - 1) % v_label_every = 0;

    -- the series: a line through the periods with a value (broken where a
    -- ratio has none), markers with a tooltip
    WITH pt AS (
        SELECT (p ->> 's')::integer AS s, (p ->> 'idx')::integer AS idx, (p ->> 'value')::numeric AS value
          FROM jsonb_array_elements(v_points) p
    ), xy AS (
        SELECT pt.*, round(v_left + CASE WHEN v_periods = 1 THEN v_plot_w / 2 ELSE pt.idx * v_plot_w / (v_periods - 1) END, 1) AS x,
               round(v_bottom - (pt.value - v_t0) / (v_t1 - v_t0) * v_plot_h, 1) AS y,
               lag(pt.value) OVER w IS NULL AS after_gap,
               lead(pt.value) OVER w IS NULL AS before_gap
          FROM pt WINDOW w AS (PARTITION BY pt.s ORDER BY pt.idx)
    ), per AS (
        SELECT xy.s,
               string_agg(format('%s%s %s', CASE WHEN xy.after_gap THEN 'M' ELSE 'L' END, xy.x, xy.y), '' ORDER BY xy.idx)
                   FILTER (WHERE xy.value IS NOT NULL) AS d,
               string_agg(format('<circle cx="%s" cy="%s" r="3" fill="%s" stroke="#ffffff" stroke-width="1"><title>%s · %s: %s %s</title></circle>',
                                 xy.x, xy.y, se ->> 'colour', fieldops.svg_escape(se ->> 'label'),
                                 to_char(v_first + xy.idx * v_step,
                                         CASE p_grain WHEN 'month' THEN 'YYYY-MM' WHEN 'week' THEN '"week of" YYYY-MM-DD' ELSE 'YYYY-MM-DD' END),
                                 trim_scale(round(xy.value, 2)), fieldops.svg_escape(v_unit)), '' ORDER BY xy.idx)
                   FILTER (WHERE xy.value IS NOT NULL AND (v_markers OR (xy.after_gap AND xy.before_gap))) AS dots
          FROM xy
          JOIN jsonb_array_elements(v_series) se ON (se ->> 's')::integer = xy.s
         GROUP BY xy.s
    )
    SELECT string_agg(format('<g class="fo-series" fill="none"><title>%s</title><path d="%s" stroke="%s" stroke-width="2.2" stroke-linejoin="round" stroke-linecap="round"/>%s</g>',
                             fieldops.svg_escape(se ->> 'label'), COALESCE(per.d, ''), se ->> 'colour', COALESCE(per.dots, '')),
                      '' ORDER BY per.s DESC)   -- the largest drawn last, on top
      INTO v_lines
      FROM per JOIN jsonb_array_elements(v_series) se ON (se ->> 's')::integer = per.s;

    -- the legend (by dimension, or several measures): a swatch and the name, in a grid
    IF p_dim IS NOT NULL OR v_multi THEN
        SELECT string_agg(format('<g class="fo-legend-item"><title>%1$s</title><line x1="%2$s" y1="%3$s" x2="%4$s" y2="%3$s" stroke="%5$s" stroke-width="3"/>'
                                 '<text x="%6$s" y="%7$s" fill="#374151">%8$s</text></g>',
                                 fieldops.svg_escape(se ->> 'label'), x, y, x + 16, se ->> 'colour', x + 21, y + 4,
                                 fieldops.svg_escape(fieldops.svg_clip(se ->> 'label', (150 - 28) / 7))), '' ORDER BY (se ->> 's')::integer)
          INTO v_legend
          FROM jsonb_array_elements(v_series) se,
               LATERAL (SELECT v_left + (((se ->> 's')::integer - 1) % v_cols) * 150 AS x,
                               p_height - v_legend_h + 8 + (((se ->> 's')::integer - 1) / v_cols) * 18 AS y) pos;
    END IF;

    RETURN format('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %1$s %2$s" width="%1$s" height="%2$s" role="img" class="fo-chart fo-kpi-trend"'
                  ' font-family="system-ui, -apple-system, ''Segoe UI'', ''Noto Sans'', ''PingFang SC'', ''Microsoft YaHei'', ''Noto Sans CJK SC'', sans-serif" font-size="11">'
                  '<title>%3$s (%4$s)</title>'
                  '<rect x="0.5" y="0.5" width="%5$s" height="%6$s" rx="6" fill="#ffffff" stroke="#e5e7eb"/>'
                  '<text x="14" y="24" font-size="15" font-weight="600" fill="#111827">%3$s</text>'
                  '<text x="14" y="42" font-size="12" fill="#6b7280">%4$s</text>'
                  '<text x="%7$s" y="%8$s" text-anchor="end" fill="#6b7280">%9$s</text>'
                  '<g class="fo-grid">%10$s</g><g class="fo-x-axis">%11$s</g>'
                  '<line x1="%12$s" y1="%13$s" x2="%12$s" y2="%14$s" stroke="#9ca3af"/>'
                  '%15$s<g class="fo-legend">%16$s</g></svg>',
                  p_width, p_height, fieldops.svg_escape(v_title), fieldops.svg_escape(v_subtitle), p_width - 1, p_height - 1,
                  v_left - 6, v_top - 10, fieldops.svg_escape(v_unit), COALESCE(v_grid, ''), COALESCE(v_xaxis, ''),
                  v_left, v_top, v_bottom, COALESCE(v_lines, ''), COALESCE(v_legend, ''));
END
$$;
COMMENT ON FUNCTION fieldops.svg_kpi_trend(bigint, text, text, date, date, text, integer, integer) IS
'A line chart (SVG text) of one KPI measure of kpi() (or several of one unit, comma-separated: one series each, such as ''visits,verified_visits'') over the periods of p_grain (day, week from the tenant''s week_start, month) in the tenant-local days p_from..p_to: one series for the total, or with p_dim (worker, team, region, customer_level) one per value, the 5 largest over the range by name and the rest as "others" (summed; a ratio recomputed from the sums). Axes, gridlines, the unit (the tenant''s currency for money), a legend, tooltips per point. Percentages (coverage, roi, expense_ratio) are drawn in %. As fresh as kpi(): the rollups. Reads with the caller''s rights.';

--
-- The map of a worker's day
--
CREATE FUNCTION fieldops.svg_worker_day(p_tenant_id bigint, p_worker_id bigint, p_day date,
                                        p_width integer DEFAULT 720, p_height integer DEFAULT 720)
RETURNS text
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    c_m_per_deg constant float8 := 111195.08;    -- metres per degree of latitude (mean Earth radius)
    c_min_extent_m constant float8 := 300;       -- a day spent on one spot still shows its street
    c_pad constant float8 := 28;                 -- pixels between the map's frame and what it fits
    -- dropped fixes that are no position at all, or a jump the filter
    -- refused: neither drawn nor fitted (counted in the subtitle)
    c_not_drawn constant text[] := ARRAY['invalid', 'zero', 'future', 'implausible', 'gap_implausible'];
    c_kept constant text[] := ARRAY['first', 'moved', 'gap', 'relocated'];   -- clean_track()'s points
    w fieldops.worker;
    v_tz text;
    v_t0 timestamptz;
    v_t1 timestamptz;
    v_fixes fieldops.mileage_fix[];   -- the day's fixes in time order, with what the mileage filter did
    v_visits jsonb;
    v_km numeric;
    v_n_fixes integer;
    v_n_not_drawn integer;
    v_title text;
    v_subtitle text;
    -- the frame of the map, and the projection into it
    v_head constant integer := 54;
    v_cols integer;
    v_foot integer;
    v_mx0 float8;
    v_my0 float8;
    v_mx1 float8;
    v_my1 float8;
    v_lon0 float8;
    v_lat0 float8;
    v_kx float8;                  -- metres per degree of longitude at v_lat0
    v_scale float8;               -- pixels per metre
    v_cx float8;
    v_cy float8;
    b record;
    v_bar_m float8;
    v_customers text;
    v_raw text;
    v_track text;
    v_checkins text;
    v_visit_marks text;
    v_scalebar text;
    v_north text;
    v_legend text;
BEGIN
    PERFORM fieldops.require_tenant(p_tenant_id);
    w := fieldops.check_worker(p_tenant_id, p_worker_id);
    IF p_day IS NULL THEN
        RAISE EXCEPTION 'p_day must not be null' USING ERRCODE = '22004';
    END IF;
    IF NOT isfinite(p_day) THEN
        RAISE EXCEPTION 'p_day must be a finite date, got %', p_day USING ERRCODE = '22023';
    END IF;
    PERFORM fieldops.svg_check_size(p_width, p_height);

    v_tz := fieldops.tenant_time_zone(p_tenant_id);
    v_t0 := p_day::timestamp AT TIME ZONE v_tz;
    v_t1 := (p_day + 1)::timestamp AT TIME ZONE v_tz;
    v_title := format('%s · %s', w.name, to_char(p_day, 'YYYY-MM-DD (Dy)'));

    -- the day's stored fixes through the mileage filter, as the vehicle
    -- claim measures them (with accuracy, speed and source; the points it
    -- keeps are clean_track()'s)
    SELECT fieldops.mileage_detail_agg(f.recorded_at, f.geom, f.accuracy_m, f.speed_mps, f.provider)
      INTO v_fixes
      FROM fieldops.fix f
     WHERE f.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND f.worker_id OPERATOR(pg_catalog.=) p_worker_id
       AND f.recorded_at >= v_t0 AND f.recorded_at < v_t1;
    v_fixes := COALESCE(v_fixes, '{}');
    SELECT count(*), count(*) FILTER (WHERE x.status = ANY (c_not_drawn)), round((max(x.cum_m) / 1000)::numeric, 1)
      INTO v_n_fixes, v_n_not_drawn, v_km
      FROM unnest(v_fixes) x;

    -- the visits checked in that day: where (the customer's pin, else the
    -- check-in fix), verified or not and why, and the check-in fix's band
    SELECT jsonb_agg(jsonb_build_object(
               'no', v.no, 'customer', c.name,
               'lon', COALESCE(ST_X(c.geom), ST_X(f.geom)), 'lat', COALESCE(ST_Y(c.geom), ST_Y(f.geom)),
               'fix_lon', ST_X(f.geom), 'fix_lat', ST_Y(f.geom), 'band', f.band, 'score', f.score, 'accuracy_m', f.accuracy_m,
               'distance_m', round(x.checkin_distance_m::numeric),
               'state', CASE WHEN v.checkout_at IS NULL THEN 'open' WHEN v.verified THEN 'verified' ELSE 'not_verified' END,
               'times', to_char(v.checkin_at AT TIME ZONE v_tz, 'HH24:MI')
                        || COALESCE(' – ' || to_char(v.checkout_at AT TIME ZONE v_tz, 'HH24:MI')
                                    || format(' (%s min)', round(extract(epoch FROM v.checkout_at - v.checkin_at) / 60)), ' – (open)'),
               'reasons', (SELECT string_agg((r ->> 'code') || COALESCE(' (' || (SELECT string_agg(e.key || ' ' || (e.value #>> '{}'), ', ' ORDER BY e.key)
                                                                                  FROM jsonb_each(r - 'code') e WHERE e.value <> 'null') || ')', ''),
                                             '; ' ORDER BY o)
                             FROM jsonb_array_elements(v.reasons) WITH ORDINALITY AS rr(r, o))
           ) ORDER BY v.no)
      INTO v_visits
      FROM (SELECT vv.*, row_number() OVER (ORDER BY vv.checkin_at, vv.visit_id) AS no
              FROM fieldops.visit_verified vv
             WHERE vv.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND vv.worker_id OPERATOR(pg_catalog.=) p_worker_id
               AND vv.checkin_at >= v_t0 AND vv.checkin_at < v_t1) v
      JOIN fieldops.visit x ON x.tenant_id OPERATOR(pg_catalog.=) v.tenant_id AND x.visit_id OPERATOR(pg_catalog.=) v.visit_id
      JOIN fieldops.customer c ON c.tenant_id OPERATOR(pg_catalog.=) v.tenant_id AND c.customer_id OPERATOR(pg_catalog.=) v.customer_id
      LEFT JOIN fieldops.fix f ON f.tenant_id OPERATOR(pg_catalog.=) x.tenant_id AND f.device_id OPERATOR(pg_catalog.=) x.device_id
                              AND f.recorded_at OPERATOR(pg_catalog.=) x.checkin_at AND f.fix_id OPERATOR(pg_catalog.=) x.checkin_fix_id;
    v_visits := COALESCE(v_visits, '[]');

    v_subtitle := format('%s fixes%s · %s visits (%s verified) · cleaned track %s km · %s',
                         v_n_fixes, CASE WHEN v_n_not_drawn > 0 THEN format(' (%s invalid or implausible, not drawn)', v_n_not_drawn) END,
                         jsonb_array_length(v_visits),
                         (SELECT count(*) FROM jsonb_array_elements(v_visits) e WHERE e ->> 'state' = 'verified'),
                         COALESCE(v_km, 0), v_tz);

    -- what the map must show: the drawn fixes, the visits, the check-in fixes
    SELECT min(lon) AS lon_min, max(lon) AS lon_max, min(lat) AS lat_min, max(lat) AS lat_max, count(*) AS n
      INTO b
      FROM (SELECT x.lon, x.lat FROM unnest(v_fixes) x WHERE NOT x.status = ANY (c_not_drawn)
            UNION ALL
            SELECT (e ->> 'lon')::float8, (e ->> 'lat')::float8 FROM jsonb_array_elements(v_visits) e WHERE e ->> 'lon' IS NOT NULL
            UNION ALL
            SELECT (e ->> 'fix_lon')::float8, (e ->> 'fix_lat')::float8 FROM jsonb_array_elements(v_visits) e WHERE e ->> 'fix_lon' IS NOT NULL) p;
    IF b.n = 0 THEN
        RETURN fieldops.svg_message(p_width, p_height, v_title, v_subtitle, 'no data');
    END IF;

    -- the frame (the legend below it: eight items in up to four columns)
    -- and a local equirectangular projection of the bounding box into it,
    -- aspect kept
    v_cols := LEAST(4, GREATEST(1, (p_width - 20) / 170));
    v_foot := ceil(8.0 / v_cols)::integer * 17 + 12;
    v_mx0 := 10; v_mx1 := p_width - 10;
    v_my0 := v_head; v_my1 := p_height - v_foot;
    IF v_my1 - v_my0 < 100 THEN
        RAISE EXCEPTION 'p_height % leaves no room for the map; at least % at p_width %', p_height, ceil(p_height - (v_my1 - v_my0) + 100), p_width
            USING ERRCODE = '22023';
    END IF;
    v_lon0 := (b.lon_min + b.lon_max) / 2;
    v_lat0 := (b.lat_min + b.lat_max) / 2;
    v_kx := c_m_per_deg * cosd(v_lat0);
    v_scale := LEAST((v_mx1 - v_mx0 - 2 * c_pad) / GREATEST((b.lon_max - b.lon_min) * v_kx, c_min_extent_m),
                     (v_my1 - v_my0 - 2 * c_pad) / GREATEST((b.lat_max - b.lat_min) * c_m_per_deg, c_min_extent_m));
    v_cx := (v_mx0 + v_mx1) / 2;
    v_cy := (v_my0 + v_my1) / 2;

    -- the worker's customers (owned at some time of the day) in the frame:
    -- small squares
    SELECT string_agg(format('<rect x="%s" y="%s" width="7" height="7" fill="#e2e8f0" stroke="#475569"><title>%s (owned)</title></rect>',
                             round((px - 3.5)::numeric, 1), round((py - 3.5)::numeric, 1), fieldops.svg_escape(c.name)), '' ORDER BY c.customer_id)
      INTO v_customers
      FROM fieldops.customer c
      CROSS JOIN LATERAL (SELECT v_cx + (ST_X(c.geom) - v_lon0) * v_kx * v_scale AS px,
                                 v_cy - (ST_Y(c.geom) - v_lat0) * c_m_per_deg * v_scale AS py) p
     WHERE c.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND c.geom IS NOT NULL
       AND EXISTS (SELECT 1 FROM fieldops.customer_ownership o
                    WHERE o.tenant_id OPERATOR(pg_catalog.=) p_tenant_id AND o.customer_id OPERATOR(pg_catalog.=) c.customer_id
                      AND o.worker_id OPERATOR(pg_catalog.=) p_worker_id
                      AND o.started_at < v_t1 AND (o.ended_at IS NULL OR o.ended_at > v_t0))
       AND p.px BETWEEN v_mx0 + 4 AND v_mx1 - 4 AND p.py BETWEEN v_my0 + 4 AND v_my1 - 4;

    -- the raw fixes, faintly: a thin line in time order and a dot each
    -- (zero-length round-capped segments: one element for any number).
    -- A day at one fix a second is tens of thousands of fixes on a few
    -- thousand pixels: the line skips a fix on the pixel of the one before,
    -- and each pixel gets one dot.
    WITH p AS (
        SELECT x.seq, round(v_cx + (x.lon - v_lon0) * v_kx * v_scale)::integer AS px,
               round(v_cy - (x.lat - v_lat0) * c_m_per_deg * v_scale)::integer AS py
          FROM unnest(v_fixes) x WHERE NOT x.status = ANY (c_not_drawn)
    ), q AS (
        SELECT p.*, row_number() OVER w = 1 AS first, (lag(p.px) OVER w, lag(p.py) OVER w) IS NOT DISTINCT FROM (p.px, p.py) AS same_pixel
          FROM p WINDOW w AS (ORDER BY p.seq)
    )
    SELECT format('<g class="fo-raw" fill="none" stroke="#94a3b8"><title>raw fixes (%s)</title>'
                  '<path d="%s" stroke-width="0.8" stroke-opacity="0.5"/><path d="%s" stroke-width="3.2" stroke-linecap="round" stroke-opacity="0.55"/></g>',
                  count(*), string_agg(CASE WHEN first THEN 'M' ELSE 'L' END || px || ' ' || py, '' ORDER BY seq) FILTER (WHERE NOT same_pixel),
                  (SELECT string_agg(format('M%s %sh0', d.px, d.py), '' ORDER BY d.px, d.py) FROM (SELECT DISTINCT px, py FROM p) d))
      INTO v_raw
      FROM q
    HAVING count(*) > 0;

    -- the cleaned track: the points the distance was measured between;
    -- a chord over a gap dashed, a relocation (not counted) a break
    WITH k0 AS (
        SELECT x.seq, x.status, round((v_cx + (x.lon - v_lon0) * v_kx * v_scale)::numeric, 1) AS px,
               round((v_cy - (x.lat - v_lat0) * c_m_per_deg * v_scale)::numeric, 1) AS py
          FROM unnest(v_fixes) x WHERE x.status = ANY (c_kept)
    ), k AS (   -- (a point on the spot of the one before adds nothing)
        SELECT k1.seq, k1.status, k1.px, k1.py
          FROM (SELECT k0.*, lag(k0.px) OVER w AS ppx, lag(k0.py) OVER w AS ppy FROM k0 WINDOW w AS (ORDER BY k0.seq)) k1
         WHERE k1.status IN ('first', 'relocated', 'gap') OR (k1.ppx, k1.ppy) IS DISTINCT FROM (k1.px, k1.py)
    ), s AS (
        SELECT k.*, lag(k.px) OVER w AS ppx, lag(k.py) OVER w AS ppy, row_number() OVER w AS n, count(*) OVER () AS total
          FROM k WINDOW w AS (ORDER BY k.seq)
    )
    SELECT format('<g class="fo-track" fill="none" stroke="#1d4ed8" stroke-width="2.6" stroke-linejoin="round" stroke-linecap="round">'
                  '<title>cleaned track: %s km</title><path d="%s"/>%s%s</g>',
                  COALESCE(v_km, 0),
                  string_agg(CASE WHEN s.status IN ('first', 'relocated', 'gap') OR s.ppx IS NULL THEN 'M' ELSE 'L' END || s.px || ' ' || s.py, ''
                             ORDER BY s.seq),
                  COALESCE('<path class="fo-gap" stroke-dasharray="5 5" stroke-width="1.8" d="'
                           || string_agg(format('M%s %sL%s %s', s.ppx, s.ppy, s.px, s.py), '' ORDER BY s.seq) FILTER (WHERE s.status = 'gap' AND s.ppx IS NOT NULL)
                           || '"/>', ''),
                  format('<circle cx="%s" cy="%s" r="4" fill="#ffffff"/><circle cx="%s" cy="%s" r="4" fill="#1d4ed8"/>',
                         min(s.px) FILTER (WHERE s.n = 1), min(s.py) FILTER (WHERE s.n = 1),
                         min(s.px) FILTER (WHERE s.n = s.total), min(s.py) FILTER (WHERE s.n = s.total)))
      INTO v_track
      FROM s
    HAVING count(*) > 0;

    -- check-in fixes: a diamond in the colour of the spoof band, a dashed
    -- line to the customer's pin
    SELECT string_agg(format('<g class="fo-checkin fo-band-%s"><title>check-in of visit %s (%s): band %s%s%s%s</title>'
                             '<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="1.2" stroke-dasharray="3 3"/>'
                             '<path d="M%s %sl6 6l-6 6l-6 -6z" fill="%s" stroke="#1f2937" stroke-width="1"/></g>',
                             COALESCE(e ->> 'band', 'none'), e ->> 'no', fieldops.svg_escape(e ->> 'customer'), COALESCE(e ->> 'band', 'not scored'),
                             COALESCE(format(', score %s', e ->> 'score'), ''), COALESCE(format(', accuracy %s m', e ->> 'accuracy_m'), ''),
                             COALESCE(format(', %s m from the customer', e ->> 'distance_m'), ''),
                             fx, fy, vx, vy, bc, fx, round((fy - 6)::numeric, 1), bc), '' ORDER BY (e ->> 'no')::integer)
      INTO v_checkins
      FROM jsonb_array_elements(v_visits) e
      CROSS JOIN LATERAL (SELECT round((v_cx + ((e ->> 'fix_lon')::float8 - v_lon0) * v_kx * v_scale)::numeric, 1) AS fx,
                                 round((v_cy - ((e ->> 'fix_lat')::float8 - v_lat0) * c_m_per_deg * v_scale)::numeric, 1) AS fy,
                                 round((v_cx + ((e ->> 'lon')::float8 - v_lon0) * v_kx * v_scale)::numeric, 1) AS vx,
                                 round((v_cy - ((e ->> 'lat')::float8 - v_lat0) * c_m_per_deg * v_scale)::numeric, 1) AS vy,
                                 CASE e ->> 'band' WHEN 'green' THEN '#22c55e' WHEN 'amber' THEN '#f59e0b' WHEN 'red' THEN '#ef4444'
                                                   ELSE '#9ca3af' END AS bc) p
     WHERE e ->> 'fix_lon' IS NOT NULL;

    -- the visits: a numbered pin whose tip is the customer (the check-in
    -- fix and the customer's square stay visible under it), green
    -- verified, red not, grey open, with the customer, the times and the
    -- reasons as a tooltip
    SELECT string_agg(format('<g class="fo-visit fo-%s"><title>%s. %s&#10;%s&#10;%s</title>'
                             '<path d="M%s %sl-6.5 -11a9 9 0 1 1 13 0z" fill="%s" stroke="#ffffff" stroke-width="1.5"/>'
                             '<text x="%s" y="%s" text-anchor="middle" font-size="10" font-weight="700" fill="#ffffff">%s</text></g>',
                             replace(e ->> 'state', '_', '-'), e ->> 'no', fieldops.svg_escape(e ->> 'customer'), e ->> 'times',
                             CASE e ->> 'state' WHEN 'verified' THEN 'verified'
                                                WHEN 'open' THEN 'open (not checked out)'
                                                ELSE 'not verified: ' || fieldops.svg_escape(e ->> 'reasons') END,
                             vx, vy, CASE e ->> 'state' WHEN 'verified' THEN '#16a34a' WHEN 'open' THEN '#9ca3af' ELSE '#dc2626' END,
                             vx, round(vy - 13.5, 1), e ->> 'no'), '' ORDER BY (e ->> 'no')::integer)
      INTO v_visit_marks
      FROM jsonb_array_elements(v_visits) e
      CROSS JOIN LATERAL (SELECT round((v_cx + ((e ->> 'lon')::float8 - v_lon0) * v_kx * v_scale)::numeric, 1) AS vx,
                                 round((v_cy - ((e ->> 'lat')::float8 - v_lat0) * c_m_per_deg * v_scale)::numeric, 1) AS vy) p
     WHERE e ->> 'lon' IS NOT NULL;

    -- a scale bar of 1, 2 or 5 times a power of ten metres, about a fifth
    -- of the frame, and a north arrow
    v_bar_m := (v_mx1 - v_mx0) / 5 / v_scale;
    v_bar_m := power(10, floor(log(v_bar_m))) * CASE WHEN v_bar_m / power(10, floor(log(v_bar_m))) >= 5 THEN 5
                                                     WHEN v_bar_m / power(10, floor(log(v_bar_m))) >= 2 THEN 2 ELSE 1 END;
    v_scalebar := format('<g class="fo-scale"><title>scale bar</title><rect x="%s" y="%s" width="%s" height="24" rx="3" fill="#ffffff" fill-opacity="0.8"/>'
                         '<path d="M%s %sv5h%sv-5" fill="none" stroke="#111827" stroke-width="1.5"/>'
                         '<text x="%s" y="%s" text-anchor="middle" font-size="10" fill="#111827">%s</text></g>',
                         v_mx0 + 6, v_my1 - 30, round((v_bar_m * v_scale + 16)::numeric, 1),
                         v_mx0 + 14, v_my1 - 14, round((v_bar_m * v_scale)::numeric, 1),
                         round((v_mx0 + 14 + v_bar_m * v_scale / 2)::numeric, 1), v_my1 - 17,
                         CASE WHEN v_bar_m >= 1000 THEN trim_scale((v_bar_m / 1000)::numeric) || ' km' ELSE v_bar_m::integer || ' m' END);
    v_north := format('<g class="fo-north"><title>north</title><path d="M%1$s %2$sl7 18l-7 -5l-7 5z" fill="#111827"/>'
                      '<text x="%1$s" y="%3$s" text-anchor="middle" font-size="11" font-weight="700" fill="#111827">N</text></g>',
                      v_mx1 - 22, v_my0 + 22, v_my0 + 18);

    -- the legend, in a grid of v_cols columns
    SELECT string_agg(format('<g class="fo-legend-item" transform="translate(%s %s)">%s<text x="%s" y="4" fill="#374151">%s</text></g>',
                             14 + ((i - 1) % v_cols) * ((p_width - 20) / v_cols), p_height - v_foot + 14 + ((i - 1) / v_cols) * 17,
                             swatch, tx, label), '' ORDER BY i)
      INTO v_legend
      FROM (VALUES (1, '<path d="M0 0h12" stroke="#1d4ed8" stroke-width="2.6"/>', 18, format('cleaned track (%s km)', COALESCE(v_km, 0))),
                   (2, '<path d="M0 0h12" stroke="#94a3b8" stroke-width="3.2" stroke-linecap="round" stroke-dasharray="0 6"/>', 18,
                       format('raw fixes (%s)', v_n_fixes - v_n_not_drawn)),
                   (3, '<rect x="2" y="-4" width="7" height="7" fill="#e2e8f0" stroke="#475569"/>', 18, 'customers owned'),
                   (4, '<path d="M6 5l-3.5 -6a5 5 0 1 1 7 0z" fill="#16a34a"/>', 18, 'visit verified'),
                   (5, '<path d="M6 5l-3.5 -6a5 5 0 1 1 7 0z" fill="#dc2626"/>', 18, 'visit not verified'),
                   (6, '<path d="M6 5l-3.5 -6a5 5 0 1 1 7 0z" fill="#9ca3af"/>', 18, 'visit open'),
                   (7, '<path d="M6 -6l6 6l-6 6l-6 -6z" fill="#22c55e" stroke="#1f2937"/>', 18, 'check-in fix: band green'),
                   (8, '<path d="M3 -6l6 6l-6 6l-6 -6z" fill="#f59e0b" stroke="#1f2937"/><path d="M12 -6l6 6l-6 6l-6 -6z" fill="#ef4444" stroke="#1f2937"/>',
                       26, 'amber / red')) AS l(i, swatch, tx, label);

    RETURN format('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %1$s %2$s" width="%1$s" height="%2$s" role="img" class="fo-chart fo-worker-day"'
                  ' font-family="system-ui, -apple-system, ''Segoe UI'', ''Noto Sans'', ''PingFang SC'', ''Microsoft YaHei'', ''Noto Sans CJK SC'', sans-serif" font-size="11">'
                  '<title>%3$s: %4$s</title>'
                  '<rect x="0.5" y="0.5" width="%5$s" height="%6$s" rx="6" fill="#ffffff" stroke="#e5e7eb"/>'
                  '<text x="14" y="24" font-size="15" font-weight="600" fill="#111827">%3$s</text>'
                  '<text x="14" y="42" font-size="11" fill="#6b7280">%4$s</text>'
                  '<rect class="fo-map" x="%7$s" y="%8$s" width="%9$s" height="%10$s" fill="#f8fafc" stroke="#cbd5e1"/>'
                  '<g class="fo-customers">%11$s</g>%12$s%13$s<g class="fo-checkins">%14$s</g><g class="fo-visits">%15$s</g>%16$s%17$s'
                  '<g class="fo-legend" font-size="11">%18$s</g></svg>',
                  p_width, p_height, fieldops.svg_escape(v_title), fieldops.svg_escape(v_subtitle), p_width - 1, p_height - 1,
                  v_mx0, v_my0, v_mx1 - v_mx0, v_my1 - v_my0,
                  COALESCE(v_customers, ''), COALESCE(v_raw, ''), COALESCE(v_track, ''), COALESCE(v_checkins, ''),
                  COALESCE(v_visit_marks, ''), v_scalebar, v_north, v_legend);
END
$$;
COMMENT ON FUNCTION fieldops.svg_worker_day(bigint, bigint, date, integer, integer) IS
'A map (SVG text) of one worker''s tenant-local day: the cleaned track (the fixes the mileage filter measured between, as clean_track() keeps them; chords over gaps dashed), the raw fixes faintly, the visits checked in that day as numbered pins on the customer (green verified, red not verified, grey open; tooltip: customer, times, reasons), their check-in fixes as diamonds in the colour of the spoof band, the worker''s customers as small squares, a scale bar and a north arrow, in a local equirectangular projection fitted to the day. "no data" when the day has neither fixes nor visits with a position. Reads with the caller''s rights.';

GRANT EXECUTE ON FUNCTION
    fieldops.svg_kpi_trend(bigint, text, text, date, date, text, integer, integer),
    fieldops.svg_worker_day(bigint, bigint, date, integer, integer),
    fieldops.svg_escape(text),
    fieldops.svg_clip(text, integer),
    fieldops.svg_ticks(numeric, numeric, integer),
    fieldops.svg_message(integer, integer, text, text, text),
    fieldops.svg_check_size(integer, integer)
TO fieldops_app, fieldops_analyst;
-- (svg_worker_day runs as its caller and checks the worker with it)
GRANT EXECUTE ON FUNCTION fieldops.check_worker(bigint, bigint) TO fieldops_app, fieldops_analyst;
