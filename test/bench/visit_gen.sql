--
-- test/bench/visit_gen.sql — the input of test/bench/visit_bench.sh: one
-- tenant whose reps visit shops, in a fresh database with CREATE EXTENSION
-- fieldops done.  Fed to psql (superuser) with the variables
--
--   workers    W, one per pgbench client                      (32)
--   shops      shops per worker                                (50)
--   seed       setseed() argument, in [-1, 1]                  (0.7)
--
-- What it makes (every draw from one setseed(), in a fixed order):
--
--   the tenant  "visit bench", Asia/Shanghai, geofence_radius_m 200;
--   W workers   BV001 ... with one Android phone each (register_device),
--               the bindings backdated 60 days (a direct UPDATE as
--               superuser, as test/bench/ingest_gen.sql does: the visits
--               are of the last 20 days);
--   territories each worker a 2 x 2 km square, its centre uniform in the
--               14 x 14 km core of Shanghai; its S shops uniform in it,
--               owned by the worker (upsert_customer), level B;
--   the form    STORE_AUDIT: 10 fields (number with range and unit, yes/no,
--               single and multi choice, text, a checklist of 5 items, a
--               date, a condition: a reason required when the shelf is not
--               clean);
--   the SOP     STD, the default: check-in, preparation, the form, product
--               presentation, check-out (three steps between check-in and
--               check-out);
--   bench.*     bench.worker (n, worker_id, device_uid, base time, k the
--               visit counter of its pgbench client), bench.shop (worker
--               n, i, customer_id, lat, lon), and the functions the
--               pgbench scripts call: bench.fix(n, k, i, minute) the JSON
--               of worker n's fix at shop i during its k-th visit, minute
--               minutes after its check-in (GPS, accuracy 6-15 m, 2-30 m
--               north and east of the shop's pin, drawn from md5); bench.at(n, k, minute) that instant;
--               bench.answers(k) a valid STORE_AUDIT answer.
--
-- A worker's k-th visit starts at base + 15 k minutes (base 20 days ago,
-- so about 1 900 visits per worker fit before now); its steps come 2, 5
-- and 8 minutes after the check-in, the check-out after 10.
--

\set ON_ERROR_STOP 1
SET client_min_messages = warning;
CREATE SCHEMA bench;
SELECT fieldops.create_tenant('visit bench', 'Asia/Shanghai') AS tenant \gset
SELECT fieldops.set_tenant(:tenant, false);
SELECT fieldops.ensure_fix_partitions((now() - interval '22 days')::date, (now() + interval '2 days')::date);

SELECT setseed(:seed);
CREATE TABLE bench.worker AS
SELECT n, fieldops.upsert_worker(:tenant, format('BV%s', lpad(n::text, 3, '0')), format('Bench rep %s', n)) AS worker_id,
       format('bench-visit-phone-%s', n) AS device_uid,
       date_trunc('minute', now()) - interval '20 days' AS base, 0 AS k,
       121.4737 + (random() - 0.5) * 14000 / (111195 * cosd(31.2304)) AS clon, 31.2304 + (random() - 0.5) * 14000 / 111195 AS clat
  FROM generate_series(1, :workers) n;
ALTER TABLE bench.worker ADD PRIMARY KEY (n);
SELECT count(*) FROM bench.worker w, fieldops.register_device(:tenant, w.device_uid, w.worker_id, 'android') r;
UPDATE fieldops.device_binding SET bound_at = now() - interval '60 days' WHERE tenant_id = :tenant AND unbound_at IS NULL;
UPDATE fieldops.device SET bound_at = now() - interval '60 days', registered_at = now() - interval '60 days' WHERE tenant_id = :tenant;

CREATE TABLE bench.shop AS
SELECT w.n, i, w.clon + (random() - 0.5) * 2000 / (111195 * cosd(31.2304)) AS lon, w.clat + (random() - 0.5) * 2000 / 111195 AS lat,
       w.worker_id
  FROM bench.worker w, generate_series(1, :shops) i ORDER BY w.n, i;
ALTER TABLE bench.shop ADD COLUMN customer_id bigint;
UPDATE bench.shop s SET customer_id = fieldops.upsert_customer(:tenant, format('BS%s-%s', s.n, s.i), format('Bench shop %s-%s', s.n, s.i),
                                                              ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326), p_level => 'B',
                                                              p_owner_worker_id => s.worker_id);
ALTER TABLE bench.shop ADD PRIMARY KEY (n, i);

SELECT fieldops.define_form(:tenant, 'STORE_AUDIT', 'Store audit', '{
  "fields": [
    {"key": "fridge_temp", "type": "number", "label": "Fridge temperature", "min": -5, "max": 12, "unit": "°C", "required": true},
    {"key": "shelf_clean", "type": "yes_no", "label": "Shelf clean", "required": true},
    {"key": "not_clean_reason", "type": "text", "label": "Why not", "show_if": {"field": "shelf_clean", "equals": false}, "required": true},
    {"key": "display", "type": "single_choice", "label": "Display", "options": [{"value": "end_cap", "label": "End cap"}, {"value": "shelf", "label": "Shelf"}, {"value": "none", "label": "None"}], "required": true},
    {"key": "facings", "type": "number", "label": "Facings", "min": 0, "max": 200, "integer": true, "required": true},
    {"key": "promos", "type": "multi_choice", "label": "Promotions seen", "options": [{"value": "poster", "label": "Poster"}, {"value": "price_cut", "label": "Price cut"}, {"value": "gift", "label": "Gift"}]},
    {"key": "checks", "type": "checklist", "label": "Checks", "items": [{"key": "price_tags", "label": "Price tags", "required": true}, {"key": "expiry", "label": "Expiry dates", "required": true}, {"key": "stock", "label": "Stock"}, {"key": "posm", "label": "POSM"}, {"key": "cooler", "label": "Cooler"}]},
    {"key": "next_order", "type": "date", "label": "Next order"},
    {"key": "remarks", "type": "text", "label": "Remarks", "max_length": 500},
    {"key": "out_of_stock", "type": "yes_no", "label": "Out of stock", "required": true}
  ]}'::jsonb);

SELECT fieldops.define_sop(:tenant, 'STD', 'Standard visit', '[{"kind": "checkin"}, {"kind": "preparation"},
    {"kind": "form", "form": "STORE_AUDIT"}, {"kind": "presentation"}, {"kind": "checkout"}]');
SELECT fieldops.assign_sop(:tenant, 'STD');

-- what the scripts call
CREATE FUNCTION bench.at(p_n integer, p_k integer, p_minute integer) RETURNS timestamptz LANGUAGE sql STABLE AS $$
    SELECT base + p_k * interval '15 minutes' + p_minute * interval '1 minute' FROM bench.worker WHERE n = p_n
$$;
-- a number in [0, 1) from md5 of a key: every fix lies somewhere else
CREATE FUNCTION bench.h01(p_key text) RETURNS float8 LANGUAGE sql IMMUTABLE AS $$
    SELECT ('x' || substr(md5(p_key), 1, 13))::bit(52)::bigint / 4503599627370496.0::float8
$$;
CREATE FUNCTION bench.fix(p_n integer, p_k integer, p_i integer, p_minute integer) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('device_uid', w.device_uid, 'recorded_at', bench.at(p_n, p_k, p_minute),
               'lat', round((s.lat + (2 + 28 * bench.h01(p_n || '/' || p_k || '/' || p_minute || '/n')) / 111195.0)::numeric, 7),
               'lon', round((s.lon + (2 + 28 * bench.h01(p_n || '/' || p_k || '/' || p_minute || '/e')) / (111195.0 * cosd(31.2304)))::numeric, 7),
               'accuracy_m', 6 + (p_k + p_minute) % 10, 'provider', 'gps', 'satellites', 12, 'cn0_mean_dbhz', 33, 'cn0_sd_dbhz', 6)
      FROM bench.worker w JOIN bench.shop s ON s.n = w.n AND s.i = p_i WHERE w.n = p_n
$$;
CREATE FUNCTION bench.wid(p_n integer) RETURNS bigint LANGUAGE sql STABLE AS $$ SELECT worker_id FROM bench.worker WHERE n = p_n $$;
CREATE FUNCTION bench.cid(p_n integer, p_i integer) RETURNS bigint LANGUAGE sql STABLE AS $$ SELECT customer_id FROM bench.shop WHERE n = p_n AND i = p_i $$;
CREATE FUNCTION bench.answers(p_k integer) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_build_object('fridge_temp', 2 + p_k % 6, 'shelf_clean', p_k % 7 <> 0, 'display', (ARRAY['end_cap', 'shelf', 'none'])[1 + p_k % 3],
                              'facings', 10 + p_k % 40, 'promos', jsonb_build_array('poster'),
                              'checks', jsonb_build_array(jsonb_build_object('item', 'price_tags', 'checked', true), jsonb_build_object('item', 'expiry', 'checked', true), jsonb_build_object('item', 'stock', 'checked', p_k % 2 = 0)), 'out_of_stock', p_k % 5 = 0)
           || CASE WHEN p_k % 7 = 0 THEN jsonb_build_object('not_clean_reason', '货架有灰') ELSE '{}' END
$$;
CREATE TABLE bench.config AS
SELECT :tenant::bigint AS tenant_id, (SELECT count(*) FROM bench.worker) AS workers, (SELECT count(*) FROM bench.shop) AS shops;
VACUUM (ANALYZE);
