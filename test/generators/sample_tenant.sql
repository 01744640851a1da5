--
-- test/generators/sample_tenant.sql — seeded synthetic data for fieldops
--
-- (Re)creates the schema fieldops_sample (NOT part of the extension) with
--
--   fieldops_sample.generate_tenant(p_name      text   DEFAULT '沪上优选快消 (demo)',
--                                   p_seed      float8 DEFAULT 0.42,
--                                   p_workers   int    DEFAULT 48,
--                                   p_customers int    DEFAULT 3000) RETURNS bigint
--
-- which creates one realistic tenant of a Shanghai FMCG company (快消) with
-- sales reps and service engineers on the road, and returns its tenant id.
-- Everything is written through the public API (create_tenant, set_tenant,
-- upsert_region, upsert_team, upsert_worker, set_work_schedule,
-- register_device, upsert_customer, worker_leave), inside the caller's
-- transaction, so the caller needs to be a superuser or fieldops_admin
-- (create_tenant).  Usage:
--
--   psql -v ON_ERROR_STOP=1 -f test/generators/sample_tenant.sql mydb
--   psql -c "SELECT fieldops_sample.generate_tenant()" mydb
--   psql -c "SELECT fieldops_sample.generate_tenant('小租户', 0.7, 12, 300)" mydb
--
-- Determinism.  setseed(p_seed) is called once and every random choice
-- comes from random(), drawn in a fixed order, so a seed always gives the
-- same names, phones, schedules, devices, customers, positions, levels and
-- owners.  Ids come from the extension's sequences and timestamps
-- (created_at, bound_at, ...) are stamped by the API, so those differ from
-- run to run.  Dates are fixed constants (hire dates 2016-2026, departures
-- in 2026), with ONE exception: the scheduled departure must lie in the
-- future, so it is 2027-03-31, or, when the generator runs after 2027-02-28,
-- the last day of the month two months ahead (tenant-local).
--
-- Inputs and distributions
--   p_seed       setseed() argument, in [-1, 1].
--   p_workers    total workers, at least 10.  Roles, in this order:
--                  1 city director (大区销售总监, M3, team SH-MGMT);
--                  4 area managers (区域经理, M2, team SH-MGMT) when p_workers >= 24;
--                  per area (片区) a sales lead (销售主管) and a service lead
--                  (服务主管), M1, leading the area's sales and service team;
--                  the rest are members: area drawn with the customer weights
--                  of the area, 68 % sales (销售代表/高级销售代表/客户经理, P1-P4)
--                  and 32 % service (服务工程师/高级服务工程师/陈列专员, P1-P4),
--                  managed by their team lead.
--                Managers: director <- area managers <- team leads <- members
--                (leads report to the director when there are no area managers).
--                Names: surname from a frequency-weighted pool of 60 (Shanghai
--                favourites 陆 顾 沈 徐 included) + a one- (35 %) or two-character
--                given name; phones +86 1xx xxxx xxxx on real carrier prefixes;
--                hire dates uniform, managers earlier (2016-2021) than members
--                (2017-2026-06).
--   schedules    tenant default (setting work_schedule): Mon-Fri 08:30-12:00,
--                13:00-17:30, National Day 2026-10-01..07 off and the 调休
--                make-up days 2026-09-20 (Sun) and 2026-10-10 (Sat) worked.
--                Own schedules (set_work_schedule): the first service member is a
--                night-shift engineer Mon-Fri 22:00-06:00 with "2026-10-01": []
--                and a 调休 shift on 2026-10-10; the first sales member works
--                Tue-Sat; the second service member is a weekend engineer (Sat,
--                Sun 08:00-20:00).
--   devices      every worker one phone; 22 % also a tablet.  Platform of the
--                phone: harmonyos 32 % (HUAWEI Mate/nova/Pura), android 43 %
--                (Xiaomi, Redmi, OPPO, vivo, Honor), ios 25 % (iPhone 12-15);
--                device_uid like the OS id (16 hex ANDROID_ID, upper-case IDFV
--                UUID, lower-case ODID).  The lead of the first sales team has a
--                spare phone that is re-bound to a team mate (status rebound);
--                the phone of the first leaver is re-issued to a colleague.
--   departures   up to three members (never a lead, nor the workers with own
--                schedules): two left in 2026 (worker_leave with a past date:
--                devices unbound, their customers handed over to an active sales
--                colleague of the same area with upsert_customer), one scheduled
--                (future date, status stays active, worker.leave_scheduled).
--   regions      上海市 (SH) -> 4 片区 (PX 浦西中心, BQ 北, PD 浦东, XQ 西) -> 14 districts
--                with approximate real centres (WGS-84), e.g. 黄浦 121.486E 31.226N.
--   customers    p_customers shops.  District drawn with fixed weights (浦东 18 %,
--                闵行 10 %, 徐汇 9 %, 静安 8 %, ... 奉贤 3 %); position = district
--                centre + Box-Muller Gaussian offset, sigma 1.3 km (黄浦) to 5 km
--                (浦东); category 便利店 30, 烟杂店 18, 超市 14, 烟酒店 12, 餐饮 12,
--                药房 6, 母婴店 5, 生鲜店 3 %; name = brand-ish prefix + category
--                (+ branch road), address = 上海市 + district + road + number;
--                level A/B/C/D about 10/22/40/28 % overall (supermarkets and liquor
--                shops rank higher, 烟杂店 lower); owner: none with probability
--                A 2 %, B 5 %, C 12 %, D 25 % (about 13 % unowned overall), else a
--                sales worker of the district's area (members weight 3, lead 1).
--
-- Generation of the default size takes a few seconds.
--

SET client_min_messages = warning;
DROP SCHEMA IF EXISTS fieldops_sample CASCADE;
CREATE SCHEMA fieldops_sample;
COMMENT ON SCHEMA fieldops_sample IS
'Seeded synthetic data for fieldops demos and tests (test/generators/sample_tenant.sql); not part of the extension.';
RESET client_min_messages;

-- a number in [0, 1) from md5 of a key (52 bits): the deterministic draw
-- of the scenario generators (sample_spoofers.sql, sample_pool.sql), which
-- must not depend on random()'s state
CREATE FUNCTION fieldops_sample.h01(p_key text)
RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT ('x' || substr(md5(p_key), 1, 13))::bit(52)::bigint / 4503599627370496.0::float8
$$;

-- one element of an array, uniformly
CREATE FUNCTION fieldops_sample.pick(p_items anyarray)
RETURNS anyelement
LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
    RETURN p_items[array_lower(p_items, 1) + floor(random() * cardinality(p_items))::int];
END
$$;

-- the index (1-based) of one weight, drawn proportionally to the weights
CREATE FUNCTION fieldops_sample.pick_index(p_weights float8[])
RETURNS int
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    total float8 := 0;
    u float8;
    i int;
BEGIN
    FOR i IN 1 .. cardinality(p_weights) LOOP
        total := total + p_weights[i];
    END LOOP;
    u := random() * total;
    FOR i IN 1 .. cardinality(p_weights) LOOP
        u := u - p_weights[i];
        IF u < 0 THEN
            RETURN i;
        END IF;
    END LOOP;
    RETURN cardinality(p_weights);
END
$$;

-- an integer in [p_lo, p_hi]
CREATE FUNCTION fieldops_sample.rnd_int(p_lo int, p_hi int)
RETURNS int
LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
    RETURN p_lo + floor(random() * (p_hi - p_lo + 1))::int;
END
$$;

-- a date in [p_from, p_to]
CREATE FUNCTION fieldops_sample.rnd_date(p_from date, p_to date)
RETURNS date
LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
    RETURN p_from + floor(random() * (p_to - p_from + 1))::int;
END
$$;

-- p_n random hexadecimal digits
CREATE FUNCTION fieldops_sample.rnd_hex(p_n int)
RETURNS text
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    s text := '';
BEGIN
    FOR i IN 1 .. p_n LOOP
        s := s || substr('0123456789abcdef', 1 + floor(random() * 16)::int, 1);
    END LOOP;
    RETURN s;
END
$$;

-- two independent standard normal values (Box-Muller)
CREATE FUNCTION fieldops_sample.gauss2()
RETURNS float8[]
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    u1 float8 := 1.0 - random();    -- (0, 1]: ln() is finite
    u2 float8 := random();
    r float8;
BEGIN
    r := sqrt(-2.0 * ln(u1));
    RETURN ARRAY[r * cos(2 * pi() * u2), r * sin(2 * pi() * u2)];
END
$$;

-- a Chinese full name: frequent surnames more often, 1- or 2-character given name
CREATE FUNCTION fieldops_sample.person_name()
RETURNS text
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    -- roughly by frequency; the first ones are repeated to weigh them
    surnames text[] := ARRAY[
        '王','王','王','李','李','李','张','张','张','刘','刘','陈','陈','陈','杨','杨','黄','赵','吴','周',
        '徐','徐','孙','马','朱','胡','郭','何','林','高','罗','郑','梁','谢','宋','唐','许','韩','冯','邓',
        '曹','彭','曾','肖','田','董','潘','袁','蔡','蒋','余','于','杜','叶','程','魏','苏','吕','丁','任',
        '沈','沈','姚','卢','钱','陆','陆','顾','顾','汤','金','施','严','范','倪','邱','龚','俞'];
    given text[] := ARRAY[
        '伟','芳','娜','敏','静','丽','强','磊','军','洋','勇','艳','杰','娟','涛','明','超','秀','霞','平',
        '刚','英','华','文','晨','浩','宇','欣','怡','佳','俊','婷','雪','倩','晓','鹏','辉','斌','宁','凯',
        '琳','蕾','悦','思','嘉','子','一','梓','睿','轩','昊','天','建','国','志','海','春','云','峰','亮',
        '玲','颖','慧','蓉','燕','雯','菁','旭','诚','彬','瑶','萍','琦','卓','逸','辰','毅','晖','振','祥'];
    v text;
BEGIN
    v := fieldops_sample.pick(surnames) || fieldops_sample.pick(given);
    IF random() < 0.65 THEN
        v := v || fieldops_sample.pick(given);
    END IF;
    RETURN v;
END
$$;

-- a mainland mobile number on a real carrier prefix: +86 1xx xxxx xxxx
CREATE FUNCTION fieldops_sample.phone()
RETURNS text
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    prefixes text[] := ARRAY['134','135','136','137','138','139','147','150','151','152','157','158','159',
                             '182','183','187','188','198',                      -- China Mobile
                             '130','131','132','155','156','166','185','186',    -- China Unicom
                             '133','153','173','177','180','181','189','199'];   -- China Telecom
BEGIN
    RETURN '+86 ' || fieldops_sample.pick(prefixes) || ' '
        || lpad(fieldops_sample.rnd_int(0, 9999)::text, 4, '0') || ' '
        || lpad(fieldops_sample.rnd_int(0, 9999)::text, 4, '0');
END
$$;

-- register a device whose model, platform and OS are drawn at random
CREATE FUNCTION fieldops_sample.random_device(p_tenant_id bigint, p_worker_id bigint, p_tablet boolean)
RETURNS text
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    -- model | platform | OS version
    phones_android text[] := ARRAY['Xiaomi 14|Android 14 (HyperOS 1.0)', 'Xiaomi 13|Android 14 (HyperOS 1.0)',
        'Redmi K70|Android 14 (HyperOS 1.0)', 'Redmi Note 13 Pro|Android 13 (MIUI 14)',
        'OPPO Reno11|Android 14 (ColorOS 14)', 'OPPO Find X7|Android 14 (ColorOS 14)',
        'OPPO A2|Android 13 (ColorOS 13)', 'vivo X100|Android 14 (OriginOS 4)', 'vivo S18|Android 14 (OriginOS 4)',
        'vivo Y78|Android 13 (OriginOS 3)', 'Honor Magic6|Android 14 (MagicOS 8.0)', 'Honor 90|Android 13 (MagicOS 7.1)'];
    phones_harmony text[] := ARRAY['HUAWEI Mate 60 Pro|HarmonyOS 4.2', 'HUAWEI Mate 60|HarmonyOS 4.2',
        'HUAWEI Pura 70|HarmonyOS 4.2', 'HUAWEI nova 12|HarmonyOS 4.0', 'HUAWEI nova 11|HarmonyOS 4.0',
        'HUAWEI P60|HarmonyOS 4.0', 'HUAWEI Mate 50|HarmonyOS 3.1', 'HUAWEI Enjoy 70|HarmonyOS 4.0'];
    phones_ios text[] := ARRAY['iPhone 15 Pro|iOS 17.5.1', 'iPhone 15|iOS 17.5', 'iPhone 14|iOS 17.4.1',
        'iPhone 14 Pro|iOS 17.5.1', 'iPhone 13|iOS 16.7.8', 'iPhone 12|iOS 16.7.5'];
    tablets text[] := ARRAY['HUAWEI MatePad 11|harmonyos|HarmonyOS 4.0', 'HUAWEI MatePad Air|harmonyos|HarmonyOS 4.2',
        'iPad (10th generation)|ios|iPadOS 17.5', 'Xiaomi Pad 6|android|Android 14 (HyperOS 1.0)'];
    v_platform text;
    v_model text[];
    v_uid text;
    h text;
BEGIN
    IF p_tablet THEN
        v_model := string_to_array(fieldops_sample.pick(tablets), '|');
        v_platform := v_model[2];
        v_model := ARRAY[v_model[1], v_model[3]];
    ELSE
        v_platform := (ARRAY['harmonyos', 'android', 'ios'])[fieldops_sample.pick_index(ARRAY[0.32, 0.43, 0.25])];
        v_model := string_to_array(fieldops_sample.pick(CASE v_platform WHEN 'android' THEN phones_android
                                                                        WHEN 'ios' THEN phones_ios
                                                                        ELSE phones_harmony END), '|');
    END IF;
    -- the id each OS gives an app: ANDROID_ID (16 hex), IDFV (upper-case UUID), ODID (UUID)
    IF v_platform = 'android' THEN
        v_uid := fieldops_sample.rnd_hex(16);
    ELSE
        h := fieldops_sample.rnd_hex(32);
        v_uid := substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-4' || substr(h, 14, 3) || '-'
              || substr('89ab', 1 + floor(random() * 4)::int, 1) || substr(h, 18, 3) || '-' || substr(h, 21, 12);
        IF v_platform = 'ios' THEN
            v_uid := upper(v_uid);
        END IF;
    END IF;
    PERFORM fieldops.register_device(p_tenant_id, v_uid, p_worker_id, v_platform, v_model[1], v_model[2],
                                     '3.' || fieldops_sample.rnd_int(10, 12) || '.' || fieldops_sample.rnd_int(0, 6));
    RETURN v_uid;
END
$$;

CREATE FUNCTION fieldops_sample.generate_tenant(p_name text DEFAULT '沪上优选快消 (demo)',
                                                p_seed float8 DEFAULT 0.42,
                                                p_workers int DEFAULT 48,
                                                p_customers int DEFAULT 3000)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
-- PostGIS functions are called unqualified: keep the search path of the session
-- that loaded this script (where PostGIS was visible), whoever calls it later
SET search_path FROM CURRENT
AS $$
DECLARE
    t bigint;
    -- areas (片区): code, name, customer weight comes from their districts
    a_code text[] := ARRAY['PX', 'BQ', 'PD', 'XQ'];
    a_name text[] := ARRAY['浦西中心片区', '北片区', '浦东片区', '西片区'];
    a_region bigint[] := '{}';
    a_weight float8[] := ARRAY[0, 0, 0, 0];
    a_sales_team bigint[] := '{}';
    a_svc_team bigint[] := '{}';
    a_mgr bigint[] := ARRAY[NULL, NULL, NULL, NULL]::bigint[];
    a_slead bigint[] := '{}';
    a_vlead bigint[] := '{}';
    -- districts
    d record;
    d_code text[] := '{}';
    d_name text[] := '{}';
    d_area int[] := '{}';
    d_lon float8[] := '{}';
    d_lat float8[] := '{}';
    d_sigma float8[] := '{}';
    d_weight float8[] := '{}';
    d_roads text[] := '{}';
    d_region bigint[] := '{}';
    v_root bigint;
    v_mgmt_team bigint;
    -- workers, in creation order
    w_id bigint[] := '{}';
    w_role text[] := '{}';      -- director, area_mgr, sales_lead, svc_lead, sales, svc
    w_area int[] := '{}';
    w_team bigint[] := '{}';
    w_name text[] := '{}';
    w_uid text[] := '{}';       -- the first device of each worker
    v_director bigint;
    v_used int := 0;
    v_members int;
    v_id bigint;
    v_role text;
    v_area int;
    v_title text;
    v_level text;
    v_hired date;
    v_name text;
    v_ext text;
    v_manager bigint;
    v_team bigint;
    -- special workers
    v_night int;
    v_saturday int;
    v_weekend int;
    v_spare_from int;
    v_spare_to int;
    v_leavers int[] := '{}';
    v_cand int[];
    v_left_on date;
    v_reason text;
    v_today date;
    v_spare_uid text;
    -- customers
    categories text[] := ARRAY['便利店', '烟杂店', '超市', '烟酒店', '餐饮', '药房', '母婴店', '生鲜店'];
    cat_weight float8[] := ARRAY[30, 18, 14, 12, 12, 6, 5, 3];
    v_cat int;
    v_di int;
    v_g float8[];
    v_lon float8;
    v_lat float8;
    v_level_u float8;
    v_cust_level text;
    v_owner bigint;
    v_pool bigint[];
    v_pool_w float8[];
    a_pool_from int[] := ARRAY[0, 0, 0, 0];
    a_pool_to int[] := ARRAY[0, 0, 0, 0];
    v_road text;
    v_cname text;
    i int;
    k int;
    c record;
    r record;
BEGIN
    IF p_seed IS NULL OR p_seed < -1 OR p_seed > 1 THEN
        RAISE EXCEPTION 'p_seed must be between -1 and 1, got %', p_seed USING ERRCODE = '22023';
    END IF;
    IF p_workers IS NULL OR p_workers < 10 OR p_workers > 100000 THEN
        RAISE EXCEPTION 'p_workers must be between 10 and 100000, got %', p_workers USING ERRCODE = '22023';
    END IF;
    IF p_customers IS NULL OR p_customers < 0 OR p_customers > 10000000 THEN
        RAISE EXCEPTION 'p_customers must be between 0 and 10000000, got %', p_customers USING ERRCODE = '22023';
    END IF;
    PERFORM setseed(p_seed);

    ------------------------------------------------------------------------
    -- tenant and its default calendar
    t := fieldops.create_tenant(p_name, 'Asia/Shanghai', jsonb_build_object(
        'currency', 'CNY',
        'work_schedule', jsonb_build_object(
            'mon', jsonb_build_array('08:30-12:00', '13:00-17:30'),
            'tue', jsonb_build_array('08:30-12:00', '13:00-17:30'),
            'wed', jsonb_build_array('08:30-12:00', '13:00-17:30'),
            'thu', jsonb_build_array('08:30-12:00', '13:00-17:30'),
            'fri', jsonb_build_array('08:30-12:00', '13:00-17:30'),
            'sat', '[]'::jsonb, 'sun', '[]'::jsonb,
            -- National Day golden week and its 调休 make-up working days
            'dates', jsonb_build_object(
                '2026-09-20', jsonb_build_array('08:30-12:00', '13:00-17:30'),
                '2026-10-01', '[]'::jsonb, '2026-10-02', '[]'::jsonb, '2026-10-03', '[]'::jsonb,
                '2026-10-04', '[]'::jsonb, '2026-10-05', '[]'::jsonb, '2026-10-06', '[]'::jsonb,
                '2026-10-07', '[]'::jsonb,
                '2026-10-10', jsonb_build_array('08:30-12:00', '13:00-17:30')))));
    PERFORM fieldops.set_tenant(t);
    v_today := fieldops.tenant_local_date(t);

    ------------------------------------------------------------------------
    -- regions: 上海市 -> 片区 -> 区
    v_root := fieldops.upsert_region(t, 'SH', '上海市');
    FOR i IN 1 .. 4 LOOP
        a_region := a_region || fieldops.upsert_region(t, 'SH-' || a_code[i], a_name[i], v_root);
    END LOOP;
    FOR d IN
        SELECT * FROM (VALUES
            -- ord, code, name, area, lon, lat, sigma km, weight %, roads
            (1,  'HP', '黄浦区',   1, 121.486, 31.226, 1.3, 6,  '南京东路|淮海中路|西藏中路|河南南路|复兴东路|中华路|福州路|建国东路'),
            (2,  'JA', '静安区',   1, 121.455, 31.248, 1.7, 8,  '南京西路|延安中路|常德路|江宁路|共和新路|大统路|万航渡路|北京西路'),
            (3,  'XH', '徐汇区',   1, 121.437, 31.180, 2.0, 9,  '漕溪北路|肇嘉浜路|天钥桥路|衡山路|虹漕路|龙华中路|田林路|钦州路'),
            (4,  'CN', '长宁区',   1, 121.410, 31.215, 1.8, 6,  '天山路|仙霞路|遵义路|长宁路|定西路|古北路|哈密路'),
            (5,  'PT', '普陀区',   2, 121.397, 31.249, 1.8, 7,  '长寿路|曹杨路|真北路|中山北路|武宁路|金沙江路|铜川路'),
            (6,  'HK', '虹口区',   2, 121.491, 31.272, 1.5, 5,  '四川北路|曲阳路|大连西路|西江湾路|海宁路|凉城路'),
            (7,  'YP', '杨浦区',   2, 121.523, 31.274, 2.0, 7,  '四平路|黄兴路|控江路|国权路|政立路|平凉路|长阳路'),
            (8,  'BS', '宝山区',   2, 121.460, 31.360, 3.5, 7,  '牡丹江路|友谊路|共康路|淞滨路|沪太路|上大路|长江西路'),
            (9,  'PD', '浦东新区', 3, 121.560, 31.215, 5.0, 18, '张杨路|世纪大道|浦东南路|东方路|金桥路|川沙路|祖冲之路|杨高南路|锦绣路'),
            (10, 'FX', '奉贤区',   3, 121.474, 30.918, 4.0, 3,  '南桥路|解放东路|环城东路|百齐路|沪杭公路'),
            (11, 'MH', '闵行区',   4, 121.395, 31.115, 3.5, 10, '七莘路|虹井路|莘庄路|沪闵路|银都路|都市路|东川路|吴中路'),
            (12, 'JD', '嘉定区',   4, 121.265, 31.375, 4.0, 5,  '城中路|塔城路|博乐路|清河路|曹安公路|墨玉南路|沪宜公路'),
            (13, 'SJ', '松江区',   4, 121.228, 31.032, 4.0, 5,  '人民北路|中山中路|荣乐东路|文诚路|新松江路|广富林路'),
            (14, 'QP', '青浦区',   4, 121.124, 31.150, 4.5, 4,  '公园路|城中北路|华浦路|青安路|外青松公路|诸光路')
        ) AS v(ord, code, name, area, lon, lat, sigma, weight, roads)
        ORDER BY ord
    LOOP
        d_code := d_code || d.code;
        d_name := d_name || d.name;
        d_area := d_area || d.area;
        d_lon := d_lon || d.lon::float8;
        d_lat := d_lat || d.lat::float8;
        d_sigma := d_sigma || d.sigma::float8;
        d_weight := d_weight || d.weight::float8;
        d_roads := d_roads || d.roads;
        d_region := d_region || fieldops.upsert_region(t, 'SH-' || a_code[d.area] || '-' || d.code, d.name, a_region[d.area]);
        a_weight[d.area] := a_weight[d.area] + d.weight;
    END LOOP;

    ------------------------------------------------------------------------
    -- teams: management, then a sales and a service team per area (leads later)
    v_mgmt_team := fieldops.upsert_team(t, 'SH-MGMT', '上海大区管理组', v_root);
    FOR i IN 1 .. 4 LOOP
        a_sales_team := a_sales_team || fieldops.upsert_team(t, a_code[i] || '-SALES', a_name[i] || '销售组', a_region[i]);
        a_svc_team := a_svc_team || fieldops.upsert_team(t, a_code[i] || '-SVC', a_name[i] || '服务组', a_region[i]);
    END LOOP;

    ------------------------------------------------------------------------
    -- workers: director, area managers, leads, members (managers first)
    v_members := p_workers - 1 - 8 - CASE WHEN p_workers >= 24 THEN 4 ELSE 0 END;
    FOR i IN 1 .. p_workers LOOP
        IF i = 1 THEN
            v_role := 'director'; v_area := NULL;
        ELSIF p_workers >= 24 AND i <= 5 THEN
            v_role := 'area_mgr'; v_area := i - 1;
        ELSIF i <= p_workers - v_members THEN
            k := i - (p_workers - v_members - 8);          -- 1 .. 8
            v_area := (k + 1) / 2;
            v_role := CASE WHEN k % 2 = 1 THEN 'sales_lead' ELSE 'svc_lead' END;
        ELSE
            v_area := fieldops_sample.pick_index(a_weight);
            v_role := CASE WHEN random() < 0.68 THEN 'sales' ELSE 'svc' END;
        END IF;

        CASE v_role
        WHEN 'director' THEN
            v_title := '大区销售总监'; v_level := 'M3'; v_team := v_mgmt_team; v_manager := NULL;
            v_hired := fieldops_sample.rnd_date('2016-03-01', '2017-12-31');
        WHEN 'area_mgr' THEN
            v_title := '区域经理'; v_level := 'M2'; v_team := v_mgmt_team; v_manager := v_director;
            v_hired := fieldops_sample.rnd_date('2016-06-01', '2019-12-31');
        WHEN 'sales_lead' THEN
            v_title := '销售主管'; v_level := 'M1'; v_team := a_sales_team[v_area];
            v_manager := COALESCE(a_mgr[v_area], v_director);
            v_hired := fieldops_sample.rnd_date('2017-01-01', '2021-12-31');
        WHEN 'svc_lead' THEN
            v_title := '服务主管'; v_level := 'M1'; v_team := a_svc_team[v_area];
            v_manager := COALESCE(a_mgr[v_area], v_director);
            v_hired := fieldops_sample.rnd_date('2017-01-01', '2021-12-31');
        WHEN 'sales' THEN
            k := fieldops_sample.pick_index(ARRAY[45, 30, 17, 8]);
            v_title := (ARRAY['销售代表', '销售代表', '高级销售代表', '客户经理'])[k];
            v_level := 'P' || k;
            v_team := a_sales_team[v_area]; v_manager := a_slead[v_area];
            v_hired := fieldops_sample.rnd_date('2017-01-01', '2026-06-30');
        ELSE
            k := fieldops_sample.pick_index(ARRAY[40, 30, 20, 10]);
            v_title := CASE WHEN k = 1 AND random() < 0.5 THEN '陈列专员'
                            WHEN k <= 2 THEN '服务工程师' ELSE '高级服务工程师' END;
            v_level := 'P' || k;
            v_team := a_svc_team[v_area]; v_manager := a_vlead[v_area];
            v_hired := fieldops_sample.rnd_date('2017-01-01', '2026-06-30');
        END CASE;

        v_name := fieldops_sample.person_name();
        v_ext := 'SH' || (10000 + 3 * i + fieldops_sample.rnd_int(0, 2))::text;
        v_id := fieldops.upsert_worker(t, v_ext, v_name, v_team, v_manager, fieldops_sample.phone(),
                                       v_title, v_level, v_hired);
        w_id := w_id || v_id;
        w_role := w_role || v_role;
        w_area := w_area || v_area;
        w_team := w_team || v_team;
        w_name := w_name || v_name;
        CASE v_role
        WHEN 'director' THEN v_director := v_id;
        WHEN 'area_mgr' THEN a_mgr[v_area] := v_id;
        WHEN 'sales_lead' THEN a_slead := a_slead || v_id;
        WHEN 'svc_lead' THEN a_vlead := a_vlead || v_id;
        ELSE NULL;
        END CASE;
    END LOOP;

    -- team leads
    PERFORM fieldops.upsert_team(t, 'SH-MGMT', '上海大区管理组', v_root, v_director);
    FOR i IN 1 .. 4 LOOP
        PERFORM fieldops.upsert_team(t, a_code[i] || '-SALES', a_name[i] || '销售组', a_region[i], a_slead[i]);
        PERFORM fieldops.upsert_team(t, a_code[i] || '-SVC', a_name[i] || '服务组', a_region[i], a_vlead[i]);
    END LOOP;

    ------------------------------------------------------------------------
    -- own working hours
    v_night := array_position(w_role, 'svc');
    v_saturday := array_position(w_role, 'sales');
    v_weekend := CASE WHEN v_night IS NULL THEN NULL ELSE array_position(w_role, 'svc', v_night + 1) END;
    IF v_night IS NULL THEN
        v_night := array_position(w_role, 'svc_lead');    -- small tenants: a lead does the nights
    END IF;
    PERFORM fieldops.set_work_schedule(t, w_id[v_night],
        '{"mon": ["22:00-06:00"], "tue": ["22:00-06:00"], "wed": ["22:00-06:00"], "thu": ["22:00-06:00"],
          "fri": ["22:00-06:00"], "sat": [], "sun": [],
          "dates": {"2026-10-01": [], "2026-10-02": [], "2026-10-10": ["22:00-06:00"]}}');
    IF v_saturday IS NOT NULL THEN
        PERFORM fieldops.set_work_schedule(t, w_id[v_saturday],
            '{"mon": [], "tue": ["09:00-12:00", "13:00-18:00"], "wed": ["09:00-12:00", "13:00-18:00"],
              "thu": ["09:00-12:00", "13:00-18:00"], "fri": ["09:00-12:00", "13:00-18:00"],
              "sat": ["09:00-12:00", "13:00-18:00"], "sun": []}');
    END IF;
    IF v_weekend IS NOT NULL THEN
        PERFORM fieldops.set_work_schedule(t, w_id[v_weekend],
            '{"mon": [], "tue": [], "wed": [], "thu": [], "fri": [],
              "sat": ["08:00-20:00"], "sun": ["08:00-20:00"], "dates": {"2026-10-01": []}}');
    END IF;

    ------------------------------------------------------------------------
    -- devices: a phone each, some a tablet too
    FOR i IN 1 .. p_workers LOOP
        w_uid := w_uid || fieldops_sample.random_device(t, w_id[i], false);
        IF random() < 0.22 THEN
            PERFORM fieldops_sample.random_device(t, w_id[i], true);
        END IF;
    END LOOP;
    -- the first sales lead keeps a spare phone ...
    v_spare_from := array_position(w_role, 'sales_lead');
    v_spare_uid := 'spare' || fieldops_sample.rnd_hex(11);
    PERFORM fieldops.register_device(t, v_spare_uid, w_id[v_spare_from], 'android', 'Redmi Note 13 Pro',
                                     'Android 13 (MIUI 14)', '3.11.2');

    ------------------------------------------------------------------------
    -- customers
    -- owner candidates, area by area: v_pool[a_pool_from[a] .. a_pool_to[a]]
    v_pool := '{}';
    v_pool_w := '{}';
    FOR i IN 1 .. 4 LOOP
        a_pool_from[i] := cardinality(v_pool) + 1;
        FOR k IN 1 .. p_workers LOOP
            IF w_area[k] = i AND w_role[k] IN ('sales', 'sales_lead') THEN
                v_pool := v_pool || w_id[k];
                v_pool_w := v_pool_w || CASE w_role[k] WHEN 'sales' THEN 3.0 ELSE 1.0 END;
            END IF;
        END LOOP;
        a_pool_to[i] := cardinality(v_pool);
    END LOOP;
    FOR i IN 1 .. p_customers LOOP
        v_di := fieldops_sample.pick_index(d_weight);
        v_g := fieldops_sample.gauss2();
        v_lat := d_lat[v_di] + v_g[2] * d_sigma[v_di] / 111.0;
        v_lon := d_lon[v_di] + v_g[1] * d_sigma[v_di] / (111.32 * cos(radians(d_lat[v_di])));
        v_cat := fieldops_sample.pick_index(cat_weight);
        v_road := fieldops_sample.pick(string_to_array(d_roads[v_di], '|'));
        v_cname := CASE categories[v_cat]
            WHEN '便利店' THEN fieldops_sample.pick(ARRAY['好邻居', '佳家', '快鲜', '邻里', '盛华', '惠康', '联家', '百顺', '乐邻', '24鲜'])
                              || fieldops_sample.pick(ARRAY['便利店', '便利店', '便利'])
            WHEN '烟杂店' THEN fieldops_sample.pick(ARRAY['老王', '阿强', '顺发', '小张', '阿芳', '德兴', '永兴', '弄堂口'])
                              || fieldops_sample.pick(ARRAY['烟杂店', '食杂店', '小卖部'])
            WHEN '超市' THEN fieldops_sample.pick(ARRAY['鑫联', '万家福', '乐惠', '新一佳', '金丰', '联润', '百汇'])
                              || fieldops_sample.pick(ARRAY['超市', '生活超市', '平价超市'])
            WHEN '烟酒店' THEN fieldops_sample.pick(ARRAY['名烟名酒', '金叶', '鸿福', '茂源', '酒仙', '聚福'])
                              || fieldops_sample.pick(ARRAY['烟酒店', '烟酒行'])
            WHEN '餐饮' THEN fieldops_sample.pick(ARRAY['老弄堂', '阿娘', '沪味', '石库门', '小南国', '兰州'])
                              || fieldops_sample.pick(ARRAY['面馆', '小吃', '餐厅', '生煎'])
            WHEN '药房' THEN fieldops_sample.pick(ARRAY['仁和', '康寿', '华氏', '济民', '百信', '益生'])
                              || fieldops_sample.pick(ARRAY['大药房', '药房'])
            WHEN '母婴店' THEN fieldops_sample.pick(ARRAY['贝贝乐', '宝贝屋', '爱婴坊', '童趣', '乐友'])
                              || fieldops_sample.pick(ARRAY['母婴店', '母婴生活馆'])
            ELSE fieldops_sample.pick(ARRAY['鲜丰', '果多多', '百果', '优鲜']) || fieldops_sample.pick(ARRAY['水果', '生鲜'])
            END || '（' || v_road || '店）';
        -- level: supermarkets and liquor shops rank higher, corner shops lower
        v_level_u := random() + CASE categories[v_cat] WHEN '超市' THEN -0.20 WHEN '烟酒店' THEN -0.08
                                                        WHEN '烟杂店' THEN 0.15 ELSE 0 END;
        v_cust_level := CASE WHEN v_level_u < 0.08 THEN 'A' WHEN v_level_u < 0.30 THEN 'B'
                             WHEN v_level_u < 0.72 THEN 'C' ELSE 'D' END;
        -- owner: a sales worker of the district's area, or nobody
        v_owner := NULL;
        IF random() >= (CASE v_cust_level WHEN 'A' THEN 0.02 WHEN 'B' THEN 0.05 WHEN 'C' THEN 0.12 ELSE 0.25 END) THEN
            k := d_area[v_di];
            v_owner := v_pool[a_pool_from[k] - 1
                              + fieldops_sample.pick_index(v_pool_w[a_pool_from[k] : a_pool_to[k]])];
        END IF;
        PERFORM fieldops.upsert_customer(
            t, 'SH-C' || CASE WHEN i < 1000000 THEN to_char(i, 'FM000000') ELSE i::text END, v_cname,
            ST_SetSRID(ST_MakePoint(round(v_lon::numeric, 6)::float8, round(v_lat::numeric, 6)::float8), 4326),
            '上海市' || d_name[v_di] || v_road || fieldops_sample.rnd_int(1, 1800) || '号',
            v_cust_level, categories[v_cat], d_region[v_di], v_owner);
    END LOOP;

    ------------------------------------------------------------------------
    -- ... the spare phone goes to a team mate (rebound)
    v_spare_to := NULL;
    FOR k IN 1 .. p_workers LOOP
        IF w_role[k] = 'sales' AND w_team[k] = w_team[v_spare_from] AND k IS DISTINCT FROM v_saturday THEN
            v_spare_to := k;
            EXIT;
        END IF;
    END LOOP;
    v_spare_to := COALESCE(v_spare_to, array_position(w_role, 'svc_lead'));
    PERFORM fieldops.register_device(t, v_spare_uid, w_id[v_spare_to], 'android');

    ------------------------------------------------------------------------
    -- departures: two have left, one is scheduled
    v_cand := '{}';
    FOR k IN 1 .. p_workers LOOP
        IF w_role[k] IN ('sales', 'svc') AND k IS DISTINCT FROM v_night AND k IS DISTINCT FROM v_saturday
           AND k IS DISTINCT FROM v_weekend AND k IS DISTINCT FROM v_spare_to THEN
            v_cand := v_cand || k;
        END IF;
    END LOOP;
    FOR i IN 1 .. least(3, cardinality(v_cand)) LOOP
        LOOP
            k := fieldops_sample.pick(v_cand);
            EXIT WHEN NOT k = ANY (v_leavers);
        END LOOP;
        v_leavers := v_leavers || k;
    END LOOP;

    FOR i IN 1 .. least(2, cardinality(v_leavers)) LOOP
        k := v_leavers[i];
        SELECT hired_on INTO v_hired FROM fieldops.worker WHERE tenant_id = t AND worker_id = w_id[k];
        v_left_on := greatest(CASE i WHEN 1 THEN date '2026-03-31' ELSE date '2026-08-15' END, v_hired + 120);
        v_reason := CASE i WHEN 1 THEN '合同到期,不再续签' ELSE '个人原因离职' END;
        -- handover before leaving: the area's sales lead spreads the leaver's
        -- customers over active sales colleagues of the same area (what
        -- worker_leave would otherwise do is give them all to the manager)
        v_pool := '{}';
        FOR r IN SELECT x.worker_id FROM fieldops.worker x
                  WHERE x.tenant_id = t AND x.status = 'active' AND x.left_on IS NULL
                    AND x.team_id = a_sales_team[w_area[k]] AND x.worker_id <> w_id[k]
                  ORDER BY x.worker_id LOOP
            v_pool := v_pool || r.worker_id;
        END LOOP;
        FOR c IN SELECT x.external_ref, x.name FROM fieldops.customer x
                  WHERE x.tenant_id = t AND x.owner_worker_id = w_id[k]
                  ORDER BY x.customer_id LOOP
            PERFORM fieldops.upsert_customer(t, c.external_ref, c.name,
                                             p_owner_worker_id => fieldops_sample.pick(v_pool));
        END LOOP;
        PERFORM fieldops.worker_leave(t, w_id[k], v_left_on, v_reason);

        -- the first leaver's phone is handed in and re-issued to a colleague
        IF i = 1 THEN
            v_spare_to := NULL;
            FOR r IN SELECT x.worker_id FROM fieldops.worker x
                      WHERE x.tenant_id = t AND x.status = 'active' AND x.left_on IS NULL
                        AND x.team_id = w_team[k] AND x.worker_id <> w_id[k]
                      ORDER BY x.worker_id DESC LIMIT 1 LOOP
                v_spare_to := r.worker_id;
            END LOOP;
            IF v_spare_to IS NOT NULL THEN
                PERFORM fieldops.register_device(t, w_uid[k], v_spare_to,
                    (SELECT x.platform FROM fieldops.device x WHERE x.tenant_id = t AND x.device_uid = w_uid[k]));
            END IF;
        END IF;
    END LOOP;

    IF cardinality(v_leavers) >= 3 THEN
        v_left_on := date '2027-03-31';
        IF v_left_on <= v_today + 30 THEN
            v_left_on := (date_trunc('month', v_today::timestamp) + interval '3 months - 1 day')::date;
        END IF;
        PERFORM fieldops.worker_leave(t, w_id[v_leavers[3]], v_left_on, '家庭原因,回老家发展');
    END IF;

    RETURN t;
END
$$;
COMMENT ON FUNCTION fieldops_sample.generate_tenant(text, float8, int, int) IS
'Create a realistic, seeded sample tenant (Shanghai FMCG field force) through the fieldops API; returns its tenant id.';
