# Copyright (c) 2026, fieldops developers
#
# FieldopsTest: helpers shared by the TAP tests of test/t.  Every helper
# takes the node it works on explicitly; a test file binds its own node in
# one-line wrappers.

package FieldopsTest;

use strict;
use warnings;
use Test::More;

# Wait (PostgreSQL::Test::Utils timeout) until $query returns $expected
# ('t' by default) in $db, and record that as one test.
sub poll_ok
{
	my ($node, $db, $query, $name, $expected) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	return ok($node->poll_query_until($db, $query, $expected), $name);
}

# pid of the launcher as it reports itself ('' when none runs)
sub launcher_pid
{
	my ($node) = @_;
	return $node->safe_psql('postgres', 'SELECT pid FROM fieldops.launcher_status()');
}

# Change a reloadable setting the way a DBA would, and reload.
sub set_and_reload
{
	my ($node, $name, $value) = @_;
	$node->safe_psql('postgres', "ALTER SYSTEM SET $name = '$value'");
	$node->reload;
	return;
}

1;
