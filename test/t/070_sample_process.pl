# The process day that make demo plays (test/generators/sample_process.sql)
# goes as its story says on a freshly generated sample tenant: every API call
# answers what the story expects, the visits are verified or not for the
# reasons the story gives them, the tasks and the work order end where they
# should, stock never goes negative, the signature verifies, the customer
# pool's invariants hold after the verified visits' follow-ups, and a second
# call replays nothing.
use strict;
use warnings;
use File::Basename qw(dirname);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $test_dir = $ENV{FIELDOPS_TEST_DIR} // dirname(dirname(__FILE__));
for my $g ('sample_tenant.sql', 'sample_process.sql')
{
	-f "$test_dir/generators/$g"
	  or BAIL_OUT("generator not found: $test_dir/generators/$g (set FIELDOPS_TEST_DIR)");
}

my $node = PostgreSQL::Test::Cluster->new('sample_process');
$node->init;
$node->append_conf('postgresql.conf',
	"shared_preload_libraries = 'fieldops'\nfieldops.scheduler = external\n");
$node->start;
sub sql { return $node->safe_psql('postgres', $_[0]); }
# functions that act in the tenant chosen for the session (set_tenant)
my $t;
sub tsql { return sql("SELECT fieldops.set_tenant($t, false) AS chosen \\gset\n" . $_[0]); }

sql('SET client_min_messages = warning; CREATE EXTENSION fieldops CASCADE');
sql(slurp_file("$test_dir/generators/sample_tenant.sql"));
$t = sql(q{SELECT fieldops_sample.generate_tenant()});
ok($t > 0, "the demo's sample tenant generated ($t)");
sql(slurp_file("$test_dir/generators/sample_process.sql"));

my $calls = sql("SELECT count(*) FROM fieldops_sample.generate_process_day($t)");
cmp_ok($calls, '>=', 120, "the process day made $calls API calls");
is(sql("SELECT count(*) FROM fieldops_sample.process_step WHERE tenant_id = $t AND status IS DISTINCT FROM expected"),
	'0', 'every call answered what the story expected')
  or diag(sql("SELECT string_agg(step || ' ' || call || ': expected ' || COALESCE(expected, '-') || ', got '
                || COALESCE(status, '-') || COALESCE(' (' || why || ')', ''), E'\n' ORDER BY step)
                 FROM fieldops_sample.process_step WHERE tenant_id = $t AND status IS DISTINCT FROM expected"));
is(sql("SELECT string_agg(status, ',' ORDER BY step) FROM fieldops_sample.process_step
         WHERE tenant_id = $t AND status IN ('too_short', 'out_of_order', 'taken', 'invalid_transition', 'reason_required',
                                             'insufficient_stock', 'signature_required')"),
	'too_short,out_of_order,taken,invalid_transition,reason_required,insufficient_stock,signature_required',
	'the refusals the story provokes, in order');

# the visits, per worker in check-in order: verified or the reason codes
my $visits = sql(qq{
	SELECT string_agg(c.role || ' ' || so.code || ' ' ||
	                  CASE WHEN x.verified THEN 'verified'
	                       ELSE (SELECT string_agg(r ->> 'code', '+' ORDER BY n) FROM jsonb_array_elements(x.reasons) WITH ORDINALITY a(r, n)) END,
	                  E'\n' ORDER BY c.role, v.checkin_at)
	  FROM fieldops.visit v
	  JOIN fieldops.visit_verified x USING (tenant_id, visit_id)
	  JOIN fieldops_sample.process_cast c ON c.tenant_id = v.tenant_id AND c.worker_id = v.worker_id
	  JOIN fieldops.sop so ON so.tenant_id = v.tenant_id AND so.sop_id = v.sop_id
	 WHERE v.tenant_id = $t});
is($visits, join("\n",
	'rep1 STD-VISIT verified', 'rep1 STD-VISIT verified', 'rep1 STD-VISIT verified',
	'rep1 KA-VISIT verified',
	'rep2 STD-VISIT verified', 'rep2 STD-VISIT step_missing+step_missing+step_missing',
	'rep2 STD-VISIT checkout_outside',
	'rep3 STD-VISIT verified', 'rep3 STD-VISIT checkin_red+checkout_red+photo_not_accepted'),
	'nine visits: six verified (one after review), one skipping steps, one checked out outside, one spoofed');
is(sql("SELECT review || ' ' || checkin_geofence FROM fieldops.visit WHERE tenant_id = $t AND review IS NOT NULL"),
	'accepted uncertain', 'the verified key-account visit had an uncertain check-in that the lead accepted');
is(sql("SELECT count(*) FROM fieldops.visit WHERE tenant_id = $t AND followup IS NOT NULL"), '6',
	'the six verified visits, and only they, are follow-ups for the customer pool');
is(sql("SELECT count(*) FROM fieldops.check_pool_invariants($t)"), '0', 'the pool invariants hold');
is(sql("SELECT count(*) FILTER (WHERE visit_id IS NOT NULL) || ' ' || count(*) FILTER (WHERE task_id IS NOT NULL) || ' '
               || count(*) FILTER (WHERE work_order_id IS NOT NULL) FROM fieldops.form_submission WHERE tenant_id = $t"),
	'8 1 1', 'form submissions: one per visit that reached its form step, one for a task, the inspection for the work order');

# tasks and the work order
is(sql("SELECT string_agg(state || ' ' || (SELECT count(*) FROM fieldops.task_feedback f WHERE f.tenant_id = t.tenant_id AND f.task_id = t.task_id),
                          ',' ORDER BY task_id) FROM fieldops.task t WHERE tenant_id = $t"),
	'done 3,accepted 0', 'the team task is done with three feedbacks; the other was dispatched again and accepted');
is(sql("SELECT state || ' ' || (resolve_breached_at IS NULL) FROM fieldops.work_order WHERE tenant_id = $t"),
	'closed true', 'the work order is closed, within its SLA');
is(tsql("SELECT string_agg(valid::text || content_intact::text || is_current::text, ',') FROM fieldops.work_order o,
               fieldops.verify_work_order_signatures($t, o.work_order_id) s WHERE o.tenant_id = $t"),
	'truetruetrue', "the store manager's signature verifies over the order's current content");
is(sql("SELECT string_agg(l.kind || ' ' || p.sku || ' ' || s.on_hand::numeric(12,0), ',' ORDER BY l.kind, p.sku)
          FROM fieldops.stock_level s JOIN fieldops.stock_location l USING (tenant_id, location_id)
          JOIN fieldops.part p USING (tenant_id, part_id) WHERE s.tenant_id = $t"),
	'van FAN-M12 0,van R600A 215,warehouse FAN-M12 6,warehouse R600A 2000,warehouse SEAL-1800 10,warehouse THERMO-K50 3',
	'stock: the van gave its only fan motor, 85 g of refrigerant; the store one thermostat (two issued, one returned)');
is(tsql("SELECT count(*) FROM fieldops.check_stock_invariants($t)"), '0', 'the stock invariants hold');

# once per tenant
my $visits_before = sql("SELECT count(*) FROM fieldops.visit WHERE tenant_id = $t");
is(sql("SELECT count(*) FROM fieldops_sample.generate_process_day($t)"), $calls,
	'a second call returns the same calls');
is(sql("SELECT count(*) FROM fieldops.visit WHERE tenant_id = $t"), $visits_before, 'and plays nothing again');

$node->stop;
done_testing();
