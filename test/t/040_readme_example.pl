# The example session of README.md runs as written, and gives the answers
# the README implies: Li Na works on Saturday mornings but not on National
# Day, and the relay publishes the events the changes wrote.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $readme = slurp_file("$ENV{FIELDOPS_TEST_DIR}/../README.md");
my ($sql) = $readme =~ /<!-- readme-example -->\s*```sql\n(.*?)```/s;
ok(defined $sql && length($sql) > 500, 'README has the example session');

my $node = PostgreSQL::Test::Cluster->new('readme');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'fieldops'\nfieldops.scheduler = external\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION fieldops CASCADE');

# psql runs with -XAtq here: unaligned rows without headers
my ($ret, $out, $err) = $node->psql('postgres', $sql, extra_params => [ '-v', 'ON_ERROR_STOP=1' ]);
note($out);
is($ret, 0, 'the example runs without error') or diag($err);
is($err, '', 'and prints no warning');
like($out, qr/^t\|f$/m, 'Saturday morning on duty, National Day off');
like($out, qr/^\d+\|bound\|$/m, 'the phone is bound to Li Na');
like($out, qr/^0\|(?:stored|off_duty)\|\d+\|green\|\[\]$/m, 'her check-in is stored (off duty or not, by the hour the test runs), scored and green');
like($out, qr/^0$/m, 'no alert');
like($out, qr/^claimed\nrecorded\nt$/m, 'Li Na claims the pooled shop, her follow-up is recorded, the pool is healthy');
my ($published) = $out =~ /^(\d+)\|[a-z_.]+\.[a-z_]+/m;
is($published, 7, 'the relay published the seven events of the session (worker, device, two customers created, one assigned, one claimed, a follow-up)');
like($out, qr/customer\.created.*worker\.created|worker\.created.*customer\.created/s, 'worker and customer events among them');
is($node->safe_psql('postgres', 'SELECT count(*) FROM fieldops.outbox WHERE published_at IS NULL'), '0',
   'nothing left unpublished');

$node->stop;
done_testing();
