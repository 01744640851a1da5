--
-- test/fuzz/fuzz_ingest.sql — mutation fuzzing of the ingest element parser
-- (fieldops.fix_observations(), C, src/fix_obs.c) and of ingest_fixes()'s
-- validation, through SQL: the parser reads jsonb, so it is fuzzed where
-- it runs, in a server.  Run by test/fuzz/run.sh (harness fuzz_ingest)
-- against a private server with the extension; psql variables: seed (for
-- setseed, in [-1, 1]) and rounds (batches of 100 mutated elements).
--
-- Each element starts as a valid fix with every observation (GNSS status,
-- a Wi-Fi scan, cells, client_ip, integrity, customer_id) and gets one to
-- four mutations: a key dropped or added, a value replaced by a random JSON
-- value of any type (huge, tiny, negative and fractional numbers, long and
-- non-ASCII strings, nested arrays and objects, null), the same inside a
-- random Wi-Fi or cell item, or a scan item duplicated.
--
-- It fails (an exception leaves psql with ON_ERROR_STOP) when:
--   - fix_observations() raises anything, returns NULL, or returns a
--     problem that does not name the element (p_fixes[n]...);
--   - an accepted scan is not normalised (lower-case BSSIDs with colons,
--     each once) or an accepted value is outside its documented range;
--   - ingest_fixes() with {"on_error": "skip"} raises anything, or does not
--     return exactly one row per element with a known status, a reason for
--     every rejected element, and nothing stored for those.
-- A crash of the server ends psql's connection, which fails the run too.
--
SET client_min_messages = warning;
SELECT setseed(:seed);

CREATE SCHEMA fuzz;
-- a random JSON value of any type; depth limits nesting
CREATE FUNCTION fuzz.value(depth int DEFAULT 0) RETURNS jsonb LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    r float8 := random();
BEGIN
    RETURN CASE
        WHEN r < 0.10 THEN 'null'::jsonb
        WHEN r < 0.16 THEN to_jsonb(random() < 0.5)
        WHEN r < 0.30 THEN to_jsonb(floor(random() * 400 - 200)::int)
        WHEN r < 0.38 THEN to_jsonb(round((random() * 2e6 - 1e6)::numeric, (random() * 12)::int))
        WHEN r < 0.44 THEN (ARRAY['1e400', '-1e400', '1e-400', '-0', '0.0000001', '9223372036854775808',
                                  '68719476736', '68719476735', '16777216', '255.5', '256', '-127.0001'])[1 + floor(random() * 12)::int]::jsonb
        WHEN r < 0.56 THEN to_jsonb((ARRAY['', 'a4:5E:60:12:34:56', 'A4-5E-60-12-34-56', 'a4:5e:60:12:34', 'zz:zz:zz:zz:zz:zz',
                                            'a4:5e-60:12:34:56', '10.0.0.1', '::1', '2001:db8::1', '300.1.1.1', 'gps', 'lte', 'NR',
                                            '位置', 'ñ', E'\\u0000', repeat('x', 300), '1.2.3.4/8', 'fe80::1%eth0'])[1 + floor(random() * 19)::int])
        WHEN r < 0.70 AND depth < 2 THEN (SELECT COALESCE(jsonb_agg(fuzz.value(depth + 1)), '[]') FROM generate_series(1, floor(random() * 4)::int))
        WHEN depth < 2 THEN (SELECT COALESCE(jsonb_object_agg(k, fuzz.value(depth + 1)), '{}')
                               FROM (SELECT DISTINCT (ARRAY['bssid', 'rssi_dbm', 'mcc', 'x', 'basic', 'age_s'])[1 + floor(random() * 6)::int] AS k
                                       FROM generate_series(1, floor(random() * 4)::int)) ks)
        ELSE to_jsonb(random())
    END;
END
$$;

-- a valid element to start from
CREATE FUNCTION fuzz.base(n int) RETURNS jsonb LANGUAGE sql VOLATILE AS $$
    SELECT jsonb_build_object(
        'device_uid', 'fuzz-phone-0001',
        'recorded_at', to_char((now() - make_interval(secs => 60 + n)) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        'lat', 31.2 + random() / 100, 'lon', 121.4 + random() / 100, 'provider', 'gps',
        'accuracy_m', 5 + random() * 10, 'altitude_m', 10, 'speed_mps', 1.2, 'bearing_deg', 90, 'mock', false,
        'satellites', 12, 'cn0_mean_dbhz', 33.5, 'cn0_sd_dbhz', 4.2,
        'wifi', jsonb_build_array(
            jsonb_build_object('bssid', 'A4:5E:60:12:34:' || lpad(to_hex(n % 256), 2, '0'), 'rssi_dbm', -60, 'age_s', 2),
            jsonb_build_object('bssid', 'a4-5e-60-12-35-01', 'rssi_dbm', -71)),
        'cells', jsonb_build_array(jsonb_build_object('mcc', 460, 'mnc', 0, 'lac', 6209, 'cid', 123456789,
                                                      'signal_dbm', -85, 'serving', true, 'radio', 'lte')),
        'client_ip', '10.1.2.3', 'integrity', '{"basic": true, "device": true}'::jsonb)
$$;

-- one to four mutations of an element
CREATE FUNCTION fuzz.mutate(e jsonb) RETURNS jsonb LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    keys text[] := ARRAY['device_uid', 'recorded_at', 'lat', 'lon', 'accuracy_m', 'altitude_m', 'speed_mps', 'bearing_deg',
                         'provider', 'mock', 'satellites', 'cn0_mean_dbhz', 'cn0_sd_dbhz', 'wifi', 'cells', 'client_ip',
                         'integrity', 'customer_id', 'Lat', 'extra'];
    k text;
    r float8;
    i int;
BEGIN
    FOR m IN 1 .. 1 + floor(random() * 4)::int LOOP
        r := random();
        k := keys[1 + floor(random() * array_length(keys, 1))::int];
        IF r < 0.15 THEN
            e := e - k;
        ELSIF r < 0.55 THEN
            e := jsonb_set(e, ARRAY[k], fuzz.value());
        ELSIF r < 0.75 AND jsonb_typeof(e -> 'wifi') = 'array' AND jsonb_array_length(e -> 'wifi') > 0 THEN
            i := floor(random() * jsonb_array_length(e -> 'wifi'))::int;
            IF random() < 0.2 THEN
                e := jsonb_set(e, '{wifi}', (e -> 'wifi') || jsonb_build_array(e -> 'wifi' -> i));   -- a repeated item
            ELSIF jsonb_typeof(e -> 'wifi' -> i) = 'object' THEN
                e := jsonb_set(e, ARRAY['wifi', i::text, (ARRAY['bssid', 'rssi_dbm', 'age_s', 'ssid'])[1 + floor(random() * 4)::int]], fuzz.value());
            ELSE
                e := jsonb_set(e, ARRAY['wifi', i::text], fuzz.value());
            END IF;
        ELSIF jsonb_typeof(e -> 'cells') = 'array' AND jsonb_array_length(e -> 'cells') > 0 THEN
            IF jsonb_typeof(e -> 'cells' -> 0) = 'object' THEN
                e := jsonb_set(e, ARRAY['cells', '0', (ARRAY['mcc', 'mnc', 'lac', 'cid', 'signal_dbm', 'serving', 'radio', 'tac'])[1 + floor(random() * 8)::int]],
                               fuzz.value());
            ELSE
                e := jsonb_set(e, '{cells,0}', fuzz.value());
            END IF;
        ELSE
            e := e || jsonb_build_object(k, fuzz.value());
        END IF;
    END LOOP;
    RETURN e;
END
$$;

-- the tenant, worker and phone the elements are for
SELECT fieldops.create_tenant('Fuzz Co', 'UTC', '{"store_off_duty_fixes": true}') AS tenant \gset
SELECT fieldops.set_tenant(:tenant, false) IS NOT NULL AS chosen \gset
SELECT fieldops.upsert_worker(:tenant, 'F1', 'Fuzz Worker') AS worker \gset
SELECT device_id AS device FROM fieldops.register_device(:tenant, 'fuzz-phone-0001', :worker, 'android') \gset
UPDATE fieldops.device_binding SET bound_at = now() - interval '1 day' WHERE tenant_id = :tenant AND device_id = :device;
SELECT set_config('fuzz.rounds', :'rounds', false) IS NOT NULL AS rounds_set, set_config('fuzz.tenant', :'tenant', false) IS NOT NULL AS tenant_set \gset

DO $$
DECLARE
    v_rounds int := current_setting('fuzz.rounds')::int;
    v_tenant bigint := current_setting('fuzz.tenant')::bigint;
    batch jsonb;
    o fieldops.fix_observations;
    e jsonb;
    n int;
    bad text;
    elements bigint := 0;
    accepted bigint := 0;
    stored bigint := 0;
BEGIN
    FOR round IN 1 .. v_rounds LOOP
        SELECT jsonb_agg(CASE WHEN random() < 0.9 THEN fuzz.mutate(fuzz.base(round * 100 + k)) ELSE fuzz.base(round * 100 + k) END)
          INTO batch FROM generate_series(1, 100) k;
        -- the parser, element by element
        FOR n IN 0 .. 99 LOOP
            e := batch -> n;
            o := fieldops.fix_observations(e, n);
            elements := elements + 1;
            IF o IS NULL THEN
                RAISE EXCEPTION 'fix_observations returned NULL for %', e;
            END IF;
            IF o.problem IS NOT NULL THEN
                IF o.problem NOT LIKE format('p\_fixes[%s]%%', n) THEN
                    RAISE EXCEPTION 'a problem that does not name the element: % (for %)', o.problem, e;
                END IF;
                CONTINUE;
            END IF;
            accepted := accepted + 1;
            SELECT string_agg(x ->> 'bssid', ',') INTO bad FROM jsonb_array_elements(COALESCE(o.wifi, '[]')) x
             WHERE (x ->> 'bssid') !~ '^[0-9a-f]{2}(:[0-9a-f]{2}){5}$';
            IF bad IS NOT NULL OR (SELECT count(*) <> count(DISTINCT x ->> 'bssid') FROM jsonb_array_elements(COALESCE(o.wifi, '[]')) x) THEN
                RAISE EXCEPTION 'accepted a scan that is not normalised: % (for %)', o.wifi, e;
            END IF;
            IF o.satellites NOT BETWEEN 0 AND 255 OR o.cn0_mean_dbhz NOT BETWEEN 0 AND 70 OR o.cn0_sd_dbhz NOT BETWEEN 0 AND 50
               OR (o.integrity IS NOT NULL AND jsonb_typeof(o.integrity) <> 'object')
               OR (o.cells IS NOT NULL AND jsonb_typeof(o.cells) <> 'array') THEN
                RAISE EXCEPTION 'accepted a value out of range: % (for %)', o, e;
            END IF;
        END LOOP;
        -- the whole batch, skipping what is bad
        SELECT count(*) FILTER (WHERE i.status = 'stored'),
               string_agg(format('%s %s %s', i.idx, i.status, i.reason), '; ')
                   FILTER (WHERE i.status NOT IN ('stored', 'duplicate', 'off_duty', 'expired', 'rejected')
                              OR (i.status = 'rejected' AND (i.reason IS NULL OR i.fix_id IS NOT NULL))
                              OR (i.status = 'stored' AND i.fix_id IS NULL)),
               count(*)
          INTO n, bad, elements
          FROM fieldops.ingest_fixes(v_tenant, batch, '{"on_error": "skip"}') i;
        IF bad IS NOT NULL OR elements <> 100 THEN
            RAISE EXCEPTION 'ingest_fixes returned % rows, unexpected: %', elements, bad;
        END IF;
        stored := stored + n;
    END LOOP;
    RAISE WARNING 'fuzz_ingest: % batches of 100 elements, % accepted by the parser, % fixes stored, no finding',
        v_rounds, accepted, stored;
END
$$;
