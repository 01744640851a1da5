# The worked example of README.md's process section (a visit under an SOP
# with a form step, a task, a work order signed on the rep's phone) runs as
# written and gives the answers the README explains: the refused step says
# too_short and why, the visit is verified with no reasons, the hidden form
# field is dropped, the task is done, the rep may not close the order but
# her manager may, the signature verifies, and the stock agrees with its
# ledger.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $readme = slurp_file("$ENV{FIELDOPS_TEST_DIR}/../README.md");
my ($sql) = $readme =~ /<!-- readme-process-example -->\s*```sql\n(.*?)```/s;
ok(defined $sql && length($sql) > 2000, 'README has the worked process example');

my $node = PostgreSQL::Test::Cluster->new('readme_process');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'fieldops'\nfieldops.scheduler = external\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION fieldops CASCADE');

# psql runs with -XAtq here: unaligned rows without headers
my ($ret, $out, $err) = $node->psql('postgres', $sql, extra_params => [ '-v', 'ON_ERROR_STOP=1' ]);
note($out);
is($ret, 0, 'the example runs without error') or diag($err);
is($err, '', 'and prints no warning');

# the visit
like($out, qr/^inside\|17\|(?:green|yellow)$/m, 'the check-in is inside the geofence, 17 m from the pin, not red');
like($out, qr/^too_short\|step 2 takes at least 300 s after the previous one; 120 s passed$/m,
     'step 2 two minutes after the check-in is refused as too short, with the reason');
like($out, qr/^done\n\{"clean": true, "stock": "low", "temp_c": -12\.5\}\|\{dirt\}$/m,
     'step 2 done four minutes later; the hidden field\'s answer is dropped from the form submission');
like($out, qr/\|\{dirt\}\ndone\ndone\ntrue\nt\|\[\]$/m,
     'form and note steps done; checked out verified; the view says verified with no reasons');

# the task
like($out, qr/^ok\nok\nok\nadded\nok\ndone\|5\|12 cards up, 2 left with the store manager$/m,
     'the task is dispatched, accepted, started, reported on and done: five changes and the note');

# the work order
like($out, qr/^3\.000\nok\nok\|ok\|ok\|ok\nissued\nconsumed\nreturned\nok$/m,
     'stock received, the order dispatched, accepted to repairing, a part issued, consumed and returned, awaiting the signature');
like($out, qr/^title=Freezer 2 runs warm\nparts=1\npart\.1\.sku=FAN-12V\n(?:part\.1\.\w+=.*\n)*part\.1\.quantity=1$/m,
     'the content the customer signs lists the consumed part');
like($out, qr/^signed$/m, 'the phone\'s signature is verified and completes the order');
like($out, qr/^not_permitted\|ok$/m, 'the rep may not close the order, her manager may');
like($out, qr/^closed\|t$/m, 'closed within its SLA');
like($out, qr/^陈店长 Chen\|ed25519\|t\|t\|t$/m, 'the stored signature is valid, its content intact and current');
like($out, qr/^2\.000\n0\z/m, 'two fans left in the van, and no stock invariant violated');

# and the database agrees with what was printed
is($node->safe_psql('postgres',
       q{SELECT count(*) FILTER (WHERE verified) || '/' || count(*) FROM fieldops.visit_verified}), '1/1',
   'the one visit is verified');
is($node->safe_psql('postgres',
       q{SELECT (SELECT string_agg(state, ',') FROM fieldops.task) || ' ' || (SELECT string_agg(state, ',') FROM fieldops.work_order)}),
   'done closed', 'the task is done and the work order closed');
is($node->safe_psql('postgres',
       q{SELECT count(*) FROM fieldops.customer WHERE last_followup_at IS NOT NULL}), '1',
   'the verified visit is the customer\'s follow-up');

$node->stop;
done_testing();
