# Copyright (c) 2026, fieldops developers
#
# The server's receipt key (fieldops.receipt_key_file), read once at server
# start by the preloaded library:
#
#   (a) not configured: no receipts, submit_photo() says why in a reason,
#       verify_receipt() refuses with 55000;
#   (b) a key file readable by group or others, or holding anything but 64
#       hex digits: the server starts, warns, and signs nothing; the key's
#       contents never reach the log;
#   (c) a good key: receipts are signed and verify, the public key is the
#       one the seed gives, the setting (a path) is hidden from ordinary
#       roles, and no secret appears in the log or in any setting;
#   (d) restarted with another key, the server no longer vouches for the
#       old receipts (valid = false), while the old public key still checks
#       them.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('receipts');
$node->init;
$node->append_conf(
	'postgresql.conf', q{
shared_preload_libraries = 'fieldops'
fieldops.database = 'postgres'
fieldops.scheduler = 'external'
});
$node->start;

sub sql { return $node->safe_psql('postgres', $_[0]); }

my $seed_hex = '4a1f0c9e77d2b3a6c5e8f9012345678990abcdeffedcba0987654321deadbeef';
my $other_hex = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff';
my $keyfile = $node->data_dir . '/receipt.key';

# a tenant, a phone with an Ed25519 key, a visit at a shop, and a function
# that signs and submits one photo (the phone is simulated with the
# module's development signing functions)
sql(<<'EOSQL');
CREATE EXTENSION fieldops CASCADE;
CREATE SCHEMA tap;
CREATE FUNCTION tap.public_key(text, bytea) RETURNS bytea AS 'fieldops', 'fieldops_dev_public_key' LANGUAGE C STRICT;
CREATE FUNCTION tap.sign(text, bytea, bytea) RETURNS bytea AS 'fieldops', 'fieldops_dev_sign' LANGUAGE C STRICT;
DO $$
DECLARE
    t bigint := fieldops.create_tenant('receipts', 'Asia/Shanghai');
    w bigint;
    d bigint;
BEGIN
    PERFORM fieldops.set_tenant(t, false);
    w := fieldops.upsert_worker(t, 'R1', 'Receipt Worker');
    SELECT device_id INTO d FROM fieldops.register_device(t, 'receipt-phone', w, 'android');
    PERFORM fieldops.register_device_key(t, d, 'ed25519', tap.public_key('ed25519', sha256('tap phone')));
END $$;
CREATE SEQUENCE tap.counter;
CREATE FUNCTION tap.shoot(OUT verdict text, OUT reasons jsonb, OUT receipt bytea) LANGUAGE plpgsql AS $$
DECLARE
    t bigint := (SELECT tenant_id FROM fieldops.tenant WHERE name = 'receipts');
    d fieldops.device;
    k bytea;
    m bytea;
BEGIN
    PERFORM fieldops.set_tenant(t, true);
    SELECT * INTO d FROM fieldops.device WHERE tenant_id = t;
    SELECT key_id INTO k FROM fieldops.device_key WHERE tenant_id = t;
    m := fieldops.photo_manifest('ed25519', k, t, d.worker_id, d.device_id, 0, clock_timestamp(), 31.23, 121.47, 5,
                                 nextval('tap.counter'), sha256(convert_to('photo ' || clock_timestamp(), 'UTF8')), NULL,
                                 fieldops.issue_photo_nonce(t, d.device_id));
    SELECT s.verdict, s.reasons, s.receipt INTO verdict, reasons, receipt
      FROM fieldops.submit_photo(t, m, tap.sign('ed25519', sha256('tap phone'), m)) s;
END $$;
EOSQL

# ---------------------------------------------------------------------------
# (a) no key configured

like(sql('SELECT fieldops.receipt_key_status()'), qr/^not configured/, '(a) status: not configured');
is(sql('SELECT fieldops.receipt_public_key() IS NULL'), 't', '(a) no public key');
is( sql(
		q{SELECT format('%s|%s|%s', verdict, receipt IS NULL,
		                (SELECT r ->> 'receipt_key' FROM jsonb_array_elements(reasons) r WHERE r ->> 'code' = 'no_receipt'))
		    FROM tap.shoot()}),
	'accepted|t|not configured (fieldops.receipt_key_file is empty)',
	'(a) a photo is accepted without a receipt, and a reason says why');
my ($ret, $stdout, $stderr) = $node->psql('postgres', q{SELECT fieldops.verify_receipt('\x00')});
like($stderr, qr/ERROR:  this server has no receipt key/, '(a) verify_receipt() refuses without a key');

# ---------------------------------------------------------------------------
# (b) unusable key files

sub restart_with_key
{
	my ($content, $mode) = @_;
	open(my $fh, '>', $keyfile) or die "cannot write $keyfile: $!";
	print $fh $content;
	close($fh);
	chmod($mode, $keyfile) or die "chmod: $!";
	$node->restart;
	return;
}

# a path relative to the data directory
$node->append_conf('postgresql.conf', "fieldops.receipt_key_file = 'receipt.key'\n");
my $log_offset = -s $node->logfile;
restart_with_key("$seed_hex\n", 0644);
like(sql('SELECT fieldops.receipt_key_status()'), qr/^unusable: .*chmod 600/,
	'(b) a key file readable by others is refused');
is(sql('SELECT fieldops.receipt_public_key() IS NULL'), 't', '(b) and nothing is signed with it');
my $log = slurp_file($node->logfile, $log_offset);
like($log, qr/WARNING:  fieldops: photo receipts are disabled/, '(b) the server warns at start');
unlike($log, qr/$seed_hex/i, '(b) the key is not in the log');

$log_offset = -s $node->logfile;
restart_with_key("not a key: $seed_hex$seed_hex\n", 0600);
like(sql('SELECT fieldops.receipt_key_status()'), qr/^unusable: the key file must hold exactly 64 hex digits/,
	'(b) a key file with anything but 64 hex digits is refused');
unlike(slurp_file($node->logfile, $log_offset), qr/$seed_hex/i, '(b) its contents are not in the log');

# ---------------------------------------------------------------------------
# (c) a good key

# (the test's own statements are logged, so it names the seed only before
# the log offset and after the log check)
my $expected_public = sql(qq{SELECT tap.public_key('ed25519', '\\x$seed_hex')});
$log_offset = -s $node->logfile;
restart_with_key("  $seed_hex\n", 0600);
is(sql('SELECT fieldops.receipt_key_status()'), 'loaded', '(c) the key is loaded');
is(sql('SELECT fieldops.receipt_public_key()'), $expected_public, '(c) the public key is the one the seed gives');
my $receipt = sql(q{SELECT receipt FROM tap.shoot()});
like($receipt, qr/^\\x464f5052/, '(c) the photo has a receipt (magic FOPR)');
is(sql(qq{SELECT valid FROM fieldops.verify_receipt('$receipt')}), 't', '(c) it verifies');
is( sql(
		qq{SELECT fieldops.ed25519_verify(substring('$receipt'::bytea FROM 1 FOR 96),
		                                  substring('$receipt'::bytea FROM 97), fieldops.receipt_public_key())}),
	't',
	'(c) and anyone can check it with the public key');
sql(q{CREATE ROLE tap_app LOGIN IN ROLE fieldops_app});
($ret, $stdout, $stderr) = $node->psql('postgres', 'SHOW fieldops.receipt_key_file', extra_params => [ '-U', 'tap_app' ]);
like($stderr, qr/permission denied|must be superuser/, '(c) ordinary roles cannot read the setting');
unlike(slurp_file($node->logfile, $log_offset), qr/$seed_hex/i, '(c) the key is not in the log');
is( sql(
		qq{SELECT count(*) FROM pg_settings WHERE setting ILIKE '%$seed_hex%' OR reset_val ILIKE '%$seed_hex%'}),
	'0',
	'(c) no setting holds the secret');

# ---------------------------------------------------------------------------
# (d) another key

my $old_public = sql('SELECT fieldops.receipt_public_key()');
restart_with_key("$other_hex\n", 0600);
is(sql(qq{SELECT valid FROM fieldops.verify_receipt('$receipt')}), 'f',
	'(d) with another key, the old receipt no longer verifies here');
is( sql(
		qq{SELECT fieldops.ed25519_verify(substring('$receipt'::bytea FROM 1 FOR 96),
		                                  substring('$receipt'::bytea FROM 97), '$old_public')}),
	't',
	'(d) the old public key still checks it');
is(sql(q{SELECT verdict FROM tap.shoot()}), 'accepted', '(d) new photos are signed with the new key');

$node->stop;
done_testing();
