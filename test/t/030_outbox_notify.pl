# The outbox announces each new event with NOTIFY on channel
# fieldops_outbox, carrying only ids (tenant_id, event_id, topic), never the
# payload, and only when the transaction that wrote the event commits.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('notify');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'fieldops'\nfieldops.scheduler = external\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION fieldops CASCADE');
my $tenant = $node->safe_psql('postgres', "SELECT fieldops.create_tenant('notify', 'Asia/Shanghai')");

my $listener = $node->background_psql('postgres');
$listener->query_safe('LISTEN fieldops_outbox');

# a rolled-back change is never announced
$node->safe_psql('postgres', qq{
    BEGIN;
    SELECT fieldops.set_tenant($tenant);
    SELECT fieldops.upsert_worker($tenant, 'RB1', 'Rolled back');
    ROLLBACK;});
my $out = $listener->query_safe('SELECT 1');
unlike($out, qr/Asynchronous notification/, 'no notification for a rolled-back event');

# a committed change is announced once, with ids only
$node->safe_psql('postgres', qq{
    BEGIN;
    SELECT fieldops.set_tenant($tenant);
    SELECT fieldops.upsert_worker($tenant, 'N1', 'Notified', p_phone => '+86 138 0000 0000');
    COMMIT;});
$out = $listener->query_safe('SELECT 1');
my @notes = ($out =~ /Asynchronous notification "fieldops_outbox" with payload "(.*?)" received/g);
is(scalar(@notes), 1, 'exactly one notification for one committed event');
my ($event_id) = ($notes[0] // '') =~ /"event_id": (\d+)/;
ok(defined $event_id, 'the notification names the event');
like($notes[0] // '', qr/"topic": "worker.created"/, 'and its topic');
like($notes[0] // '', qr/"tenant_id": $tenant\b/, 'and its tenant');
unlike($notes[0] // '', qr/N1|Notified|138/, 'but not the payload');
is($node->safe_psql('postgres', "SELECT topic || ':' || (payload ->> 'external_ref') FROM fieldops.outbox WHERE event_id = $event_id"),
   'worker.created:N1', 'the announced id is the committed event');

$listener->quit;
$node->stop;
done_testing();
