--
-- org: regions, teams, workers, departures and devices through the API.
--
\set SHOW_CONTEXT never
SET datestyle = 'ISO, YMD';
SET timezone = 'UTC';
SELECT tenant_id AS acme FROM fieldops.tenant WHERE name = 'Acme Shanghai' \gset
SELECT tenant_id AS beta FROM fieldops.tenant WHERE name = 'Beta NYC' \gset

-- every API function needs the tenant chosen first
SELECT fieldops.upsert_region(:acme, 'SH', 'Shanghai');

BEGIN;
SELECT fieldops.set_tenant(:acme, false) IS NOT NULL AS session_tenant;
COMMIT;

-- and refuses another tenant's id
SELECT fieldops.upsert_region(:beta, 'NY', 'New York');

--
-- regions: a tree without cycles
--
SELECT fieldops.upsert_region(:acme, 'SH', 'Shanghai') AS sh \gset
SELECT fieldops.upsert_region(:acme, 'SH-PD', '浦东 Pudong', :sh) AS pd \gset
SELECT fieldops.upsert_region(:acme, 'SH-PD-LJZ', '陆家嘴 Lujiazui', :pd) AS ljz \gset
SELECT fieldops.upsert_region(:acme, 'SH-XH', '徐汇 Xuhui', :sh) AS xh \gset
SELECT fieldops.upsert_region(:acme, 'SH-PD', 'Pudong New Area', :sh) = :pd AS same_id_on_update;
SELECT fieldops.upsert_region(:acme, 'SH', 'Shanghai', :ljz);           -- cycle
SELECT fieldops.upsert_region(:acme, 'SH-XH', 'Xuhui', :xh);            -- itself
SELECT fieldops.upsert_region(:acme, 'SH-XH', 'Xuhui', 987654);         -- unknown parent
SELECT fieldops.upsert_region(:acme, 'has space', 'x');
SELECT fieldops.upsert_region(:acme, NULL, 'x');
SELECT fieldops.upsert_region(:acme, 'OK', '   ');
SELECT code, name, (SELECT p.code FROM fieldops.region p WHERE p.region_id = r.parent_region_id) AS parent
  FROM fieldops.region r ORDER BY code;

--
-- teams
--
SELECT fieldops.upsert_team(:acme, 'PD-SALES', 'Pudong sales', :pd) AS pd_sales \gset
SELECT fieldops.upsert_team(:acme, 'XH-SVC', 'Xuhui service', :xh) AS xh_svc \gset
SELECT fieldops.upsert_team(:acme, 'BAD', 'Bad', 987654);
SELECT fieldops.upsert_team(:acme, 'BAD', 'Bad', :pd, 987654);

--
-- workers: upsert by employee number, managers without cycles
--
SELECT fieldops.upsert_worker(:acme, 'E100', '王磊 Wang Lei', :pd_sales, p_title => 'Regional manager',
                              p_hired_on => '2020-03-01') AS boss \gset
SELECT fieldops.upsert_worker(:acme, 'E101', '李娜 Li Na', :pd_sales, :boss, '+86 138 0013 8000', 'Sales rep', 'P3',
                              '2023-07-01') AS lina \gset
SELECT fieldops.upsert_worker(:acme, 'E102', '张伟 Zhang Wei', :pd_sales, :lina) AS zhang \gset
SELECT fieldops.upsert_worker(:acme, 'E103', '刘洋 Liu Yang', :xh_svc, :boss,
                              p_work_schedule => '{"mon": ["22:00-06:00"], "tue": ["22:00-06:00"]}') AS liu \gset
SELECT fieldops.upsert_team(:acme, 'PD-SALES', 'Pudong sales', p_lead_worker_id => :lina) = :pd_sales AS lead_set;
-- one lead per team, and only a member of the team can lead it
SELECT fieldops.upsert_team(:acme, 'PD-SALES', 'Pudong sales', p_lead_worker_id => :zhang) = :pd_sales AS lead_changed;
SELECT external_ref, is_team_lead FROM fieldops.worker WHERE team_id = :pd_sales ORDER BY external_ref;
SELECT fieldops.upsert_team(:acme, 'PD-SALES', 'Pudong sales', p_lead_worker_id => :lina) = :pd_sales AS lead_back;
SELECT fieldops.upsert_team(:acme, 'XH-SVC', 'Xuhui service', p_lead_worker_id => :lina);
-- a lead who moves to another team no longer leads the old one
SELECT fieldops.upsert_worker(:acme, 'E102', '张伟 Zhang Wei', :xh_svc) = :zhang AS zhang_moved;
SELECT fieldops.upsert_team(:acme, 'XH-SVC', 'Xuhui service', p_lead_worker_id => :zhang) = :xh_svc AS zhang_leads_xh;
SELECT fieldops.upsert_worker(:acme, 'E102', '张伟 Zhang Wei', :pd_sales) = :zhang AS zhang_back;
SELECT external_ref, team_id = :pd_sales AS in_pd_sales, is_team_lead FROM fieldops.worker
 WHERE external_ref IN ('E101', 'E102') ORDER BY external_ref;
-- an update keeps what is not given, and returns the same id
SELECT fieldops.upsert_worker(:acme, 'E101', '李娜 Li Na') = :lina AS same_worker;
SELECT name, team_id = :pd_sales AS in_team, manager_id = :boss AS reports_to_boss, phone, title, job_level, hired_on
  FROM fieldops.worker WHERE worker_id = :lina;
SELECT fieldops.upsert_worker(:acme, 'E100', '王磊 Wang Lei', p_manager_id => :zhang);   -- cycle via Li Na
SELECT fieldops.upsert_worker(:acme, 'E100', '王磊 Wang Lei', p_manager_id => :boss);    -- self
SELECT fieldops.upsert_worker(:acme, 'E200', 'X', p_team_id => 987654);
SELECT fieldops.upsert_worker(:acme, 'E200', 'X', p_manager_id => 987654);
SELECT fieldops.upsert_worker(:acme, 'E200', 'X', p_phone => 'call me');
SELECT fieldops.upsert_worker(:acme, 'E200', 'X', p_work_schedule => '{"monday": []}');
SELECT fieldops.upsert_worker(:acme, 'E 200', 'X');
SELECT fieldops.upsert_worker(:acme, 'E200', '');
SELECT count(*) FILTER (WHERE external_ref = 'E200') AS e200_rows, count(*) AS workers FROM fieldops.worker;

-- own working hours, validated and canonical; NULL falls back to the tenant default
SELECT fieldops.set_work_schedule(:acme, :zhang, '{"sat": ["09:00-15:00"], "mon": ["13:00-18:00", "08:00-12:00"]}');
SELECT fieldops.set_work_schedule(:acme, :zhang, '{"mon": ["08:00-12:00", "11:00-13:00"]}');
SELECT fieldops.set_work_schedule(:acme, 987654, NULL);
SELECT fieldops.set_work_schedule(:acme, :zhang, NULL) IS NULL AS back_to_default;

--
-- devices: bind, re-bind, retire
--
SELECT status, previous_worker_id FROM fieldops.register_device(:acme, 'a1b2c3d4e5f60718', :lina, 'android', 'Xiaomi 14', '14', '2.3.0');
SELECT device_id AS phone1 FROM fieldops.device WHERE device_uid = 'a1b2c3d4e5f60718' \gset
SELECT status, previous_worker_id FROM fieldops.register_device(:acme, 'a1b2c3d4e5f60718', :lina, 'android', p_app_version => '2.3.1');
SELECT status, previous_worker_id = :lina AS from_lina FROM fieldops.register_device(:acme, 'a1b2c3d4e5f60718', :zhang, 'android');
SELECT device_id AS iphone FROM fieldops.register_device(:acme, '6F9619FF-8B86-D011-B42D-00C04FC964FF', :lina, 'ios', 'iPhone 15') \gset
SELECT fieldops.register_device(:acme, 'short', :lina, 'android');
SELECT fieldops.register_device(:acme, 'has a space in it', :lina, 'android');
SELECT fieldops.register_device(:acme, 'a1b2c3d4e5f60719', :lina, 'windows');
SELECT fieldops.register_device(:acme, 'a1b2c3d4e5f60719', 987654, 'android');
SELECT fieldops.register_device(:acme, 'a1b2c3d4e5f60719', NULL, 'android');
SELECT device_uid, platform, model, app_version, worker_id = :zhang AS zhang_has_it FROM fieldops.device WHERE device_id = :phone1;
SELECT w.external_ref, b.unbound_reason
  FROM fieldops.device_binding b JOIN fieldops.worker w USING (tenant_id, worker_id)
 WHERE b.device_id = :phone1 ORDER BY b.binding_id;
SELECT fieldops.retire_device(:acme, :iphone, 'lost on the metro') AS retired,
       fieldops.retire_device(:acme, :iphone) AS retired_again;
SELECT status, previous_worker_id FROM fieldops.register_device(:acme, '6F9619FF-8B86-D011-B42D-00C04FC964FF', :lina, 'ios');
SELECT status, worker_id IS NULL AS unbound FROM fieldops.device WHERE device_id = :iphone;
SELECT fieldops.retire_device(:acme, 987654);

--
-- departures: now, scheduled, and their effects
--
SELECT fieldops.worker_leave(:acme, :lina, '2026-11-01', 'joined a competitor') AS lina_leaves;
SELECT status, left_on, left_reason FROM fieldops.worker WHERE worker_id = :lina;
-- her report now reports to her manager, her team has no lead, her devices are free
SELECT manager_id = :boss AS zhang_reports_to_boss FROM fieldops.worker WHERE worker_id = :zhang;
SELECT count(*) AS pd_sales_leads FROM fieldops.worker WHERE team_id = :pd_sales AND is_team_lead;
SELECT count(*) AS lina_devices FROM fieldops.device WHERE worker_id = :lina;
SELECT count(*) AS lina_open_bindings FROM fieldops.device_binding WHERE worker_id = :lina AND unbound_at IS NULL;
SELECT fieldops.worker_leave(:acme, :lina) AS again;
-- a worker who left can neither get a device, nor become a manager or a team lead
SELECT fieldops.register_device(:acme, 'b1b2c3d4e5f60718', :lina, 'android');
SELECT fieldops.upsert_worker(:acme, 'E104', 'Zhao', p_manager_id => :lina);
SELECT fieldops.upsert_team(:acme, 'PD-SALES', 'Pudong sales', p_lead_worker_id => :lina);
SELECT fieldops.worker_leave(:acme, :zhang, '2019-01-01');   -- no hire date known: any past date is accepted
SELECT fieldops.reinstate_worker(:acme, :zhang) ->> 'status' AS zhang_back;
SELECT fieldops.worker_leave(:acme, :boss, '2019-01-01');    -- before he was hired
SELECT fieldops.worker_leave(:acme, 987654);
-- scheduled departure: applied by the job when the (tenant-local) day comes
SELECT fieldops.worker_leave(:acme, :liu, fieldops.tenant_local_date(:acme) + 30, 'moving to Beijing') ->> 'status' AS liu;
SELECT status, left_on - fieldops.tenant_local_date(:acme) AS days_left FROM fieldops.worker WHERE worker_id = :liu;
SELECT fieldops.job_apply_departures(:acme, '{}') - 'local_date' AS nothing_due;
UPDATE fieldops.worker SET left_on = '2026-11-20' WHERE worker_id = :liu;   -- as if the day had come
SELECT fieldops.job_apply_departures(:acme, '{}') - 'local_date' AS liu_departs;
SELECT status FROM fieldops.worker WHERE worker_id = :liu;
-- reinstating a leaver
SELECT fieldops.reinstate_worker(:acme, :lina) ->> 'status' AS lina_back,
       fieldops.reinstate_worker(:acme, :lina) ->> 'status' AS lina_again;
SELECT status, left_on, left_reason FROM fieldops.worker WHERE worker_id = :lina;

-- the events the outbox recorded, in order
SELECT topic, aggregate_type, count(*) FROM fieldops.outbox GROUP BY 1, 2 ORDER BY min(event_id);

RESET ALL;
