# Copyright (c) 2026, fieldops developers
#
# The SVG pictures are drawn by a browser.  A tenant with six weeks of
# visits and one worker's day of fixes and check-ins gets an HTML page
# embedding a KPI trend (the total), a trend by team and the worker's day
# map; headless Chromium (Debian package chromium, which make test installs
# when run as root) renders it.  The screenshot must be a PNG of the
# window's size that is not blank and shows the pictures' own colours (the
# track, the visit pins, the series), the page must log no console message,
# its DOM must hold the three pictures, and the same pictures in an XHTML
# page (parsed as XML, as an <img> or a standalone .svg would be) must parse
# without error.  Control pages (a failing script, a broken SVG) show that
# the console and parser checks do catch what they look for.
#
# Skipped, saying why, when Chromium is not installed.
use strict;
use warnings;
use Compress::Zlib;
use File::Path qw(make_path);
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my ($chromium) = grep { -x } map { my $d = $_; map { "$d/$_" } qw(chromium chromium-browser) } split /:/, $ENV{PATH};
plan skip_all => 'Chromium is not installed (Debian package chromium; make test installs it when run as root)'
  unless $chromium;

my $dir = "$PostgreSQL::Test::Utils::tmp_check/svg_render";
make_path($dir);

my $node = PostgreSQL::Test::Cluster->new('svg');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'fieldops'\nfieldops.scheduler = external\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION fieldops CASCADE');

# The fixture, through the API where it exists (visits of past weeks are
# written as the visit API leaves them, like the regress tests do)
$node->safe_psql('postgres', <<'SQL');
DO $fixture$
DECLARE
    t bigint := fieldops.create_tenant('渲染测试 Render Test Co', 'Asia/Shanghai', '{"fix_retention_days": 3650}');
    teams bigint[];
    w record;
    c record;
    rep bigint;
    v jsonb;
BEGIN
    PERFORM fieldops.set_tenant(t);
    teams := ARRAY[fieldops.upsert_team(t, 'EAST', '浦东销售 Pudong', fieldops.upsert_region(t, 'E', '华东 East')),
                   fieldops.upsert_team(t, 'WEST', '静安销售 Jing''an', fieldops.upsert_region(t, 'W', '华西 West'))];
    FOR k IN 1 .. 8 LOOP
        PERFORM fieldops.upsert_worker(t, 'R' || k, (ARRAY['陆伟', '顾敏', '沈静', '徐磊', '王芳', '李强', '张丽', '<b>刘洋</b> & "Co"'])[k],
                                       teams[1 + k % 2], p_hired_on => '2026-01-01');
    END LOOP;
    -- five shops per rep, on a grid around People's Square
    FOR w IN SELECT worker_id, external_ref, substr(external_ref, 2)::integer AS k FROM fieldops.worker WHERE tenant_id = t LOOP
        FOR j IN 1 .. 5 LOOP
            PERFORM fieldops.upsert_customer(t, w.external_ref || '-S' || j, w.external_ref || ' 门店 ' || j,
                ST_SetSRID(ST_MakePoint(121.445 + 0.006 * j + 0.002 * w.k, 31.215 + 0.004 * w.k + 0.002 * (j % 2)), 4326),
                p_level => (ARRAY['A', 'B', 'C'])[1 + (j + w.k) % 3], p_owner_worker_id => w.worker_id);
        END LOOP;
    END LOOP;
    UPDATE fieldops.customer_ownership SET started_at = '2026-09-01 00:00+08' WHERE tenant_id = t;
    -- six weeks of visits, a different number each day; every fifth not verified
    FOR w IN SELECT worker_id, substr(external_ref, 2)::integer AS k FROM fieldops.worker WHERE tenant_id = t LOOP
        FOR d IN 0 .. 41 LOOP
            FOR j IN 1 .. (w.k * 3 + d * 7) % 5 LOOP
                SELECT * INTO c FROM fieldops.customer
                 WHERE tenant_id = t AND owner_worker_id = w.worker_id ORDER BY external_ref OFFSET (j - 1) % 5 LIMIT 1;
                INSERT INTO fieldops.visit (tenant_id, worker_id, customer_id, checkin_at, checkout_at, radius_m,
                                            checkin_geofence, checkout_geofence, checkin_band, checkout_band)
                VALUES (t, w.worker_id, c.customer_id, ('2026-10-05'::date + d + time '09:00' + j * interval '75 minutes') AT TIME ZONE 'Asia/Shanghai',
                        ('2026-10-05'::date + d + time '09:30' + j * interval '75 minutes') AT TIME ZONE 'Asia/Shanghai', 200,
                        CASE WHEN (d + j + w.k) % 5 = 0 THEN 'outside' ELSE 'inside' END, 'inside', 'green', 'green');
            END LOOP;
        END LOOP;
    END LOOP;
    PERFORM fieldops.kpi_rebuild(t, '2026-10-05', '2026-11-15');

    -- R1's Tuesday 17 November: his phone, a fix every 20 s from 09:00 as he
    -- drives along a winding road between four of his shops and stays at each
    SELECT worker_id INTO rep FROM fieldops.worker WHERE tenant_id = t AND external_ref = 'R1';
    PERFORM fieldops.register_device(t, 'render-phone', rep, 'android');
    UPDATE fieldops.device_binding SET bound_at = '2026-11-01 00:00+08' WHERE tenant_id = t AND worker_id = rep;
    UPDATE fieldops.device SET bound_at = '2026-11-01 00:00+08', registered_at = '2026-11-01 00:00+08' WHERE tenant_id = t AND worker_id = rep;
    PERFORM fieldops.ingest_fixes(t, (
        WITH shops AS (
            SELECT row_number() OVER (ORDER BY external_ref) AS n, ST_X(geom) AS lon, ST_Y(geom) AS lat
              FROM fieldops.customer WHERE tenant_id = t AND owner_worker_id = rep AND external_ref <= 'R1-S4'
        ), legs AS (   -- 20 minutes at shop n, then 10 minutes' drive to shop n + 1
            SELECT a.n, a.lon AS lon0, a.lat AS lat0, b.lon AS lon1, b.lat AS lat1 FROM shops a JOIN shops b ON b.n = a.n + 1
        ), p AS (
            SELECT s, l.*, LEAST(GREATEST((s % 90 - 60) / 30.0, 0), 1) AS f
              FROM generate_series(0, 3 * 90 - 1) s JOIN legs l ON l.n = s / 90 + 1
        )
        SELECT jsonb_agg(jsonb_build_object(
                   'device_uid', 'render-phone', 'recorded_at', ('2026-11-17 09:00'::timestamp + s * interval '20 seconds')::text || '+08:00',
                   'lat', lat0 + (lat1 - lat0) * f + 0.0012 * sin(pi() * f) * sin(3 * pi() * f) + 0.00002 * sin(s * 1.7),
                   'lon', lon0 + (lon1 - lon0) * f + 0.0008 * sin(pi() * f) + 0.00002 * cos(s * 2.3),
                   'accuracy_m', 5, 'provider', 'gps', 'speed_mps', CASE WHEN f > 0 AND f < 1 THEN 6 ELSE 0 END,
                   'satellites', 14, 'cn0_mean_dbhz', 33, 'cn0_sd_dbhz', 6) ORDER BY s)
          FROM p));
    -- his visits at the first three shops: by the book, by the book, and
    -- one whose check-in came 400 m from the shop; a fourth still open
    FOR c IN SELECT row_number() OVER (ORDER BY external_ref) AS n, customer_id, ST_X(geom) AS lon, ST_Y(geom) AS lat
               FROM fieldops.customer WHERE tenant_id = t AND owner_worker_id = rep AND external_ref <= 'R1-S4' ORDER BY external_ref LOOP
        v := fieldops.check_in(t, rep, c.customer_id, jsonb_build_object('device_uid', 'render-phone',
                 'recorded_at', ('2026-11-17 09:02:10'::timestamp + (c.n - 1) * interval '30 minutes')::text || '+08:00',
                 'lat', c.lat + CASE WHEN c.n = 3 THEN 0.0036 ELSE 0.00004 END, 'lon', c.lon, 'accuracy_m', 6, 'provider', 'gps',
                 'satellites', 14, 'cn0_mean_dbhz', 33, 'cn0_sd_dbhz', 6));
        IF c.n < 4 THEN
            PERFORM fieldops.check_out(t, (v ->> 'visit_id')::bigint, rep, jsonb_build_object('device_uid', 'render-phone',
                 'recorded_at', ('2026-11-17 09:18:10'::timestamp + (c.n - 1) * interval '30 minutes')::text || '+08:00',
                 'lat', c.lat + 0.00003, 'lon', c.lon, 'accuracy_m', 6, 'provider', 'gps', 'satellites', 14, 'cn0_mean_dbhz', 33, 'cn0_sd_dbhz', 6));
        END IF;
    END LOOP;
END
$fixture$;
SQL

my %svg;
for my $chart (
	[ trend => q{fieldops.svg_kpi_trend(t, 'visits', 'week', '2026-10-05', '2026-11-15')} ],
	[ by_team => q{fieldops.svg_kpi_trend(t, 'verified_visits', 'day', '2026-10-05', '2026-11-15', 'team')} ],
	[ map => q{fieldops.svg_worker_day(t, (SELECT worker_id FROM fieldops.worker w WHERE w.tenant_id = t AND w.external_ref = 'R1'), '2026-11-17')} ])
{
	my ($name, $call) = @$chart;
	# (the tenant chosen for the statement's transaction, as an application does)
	$svg{$name} = $node->safe_psql('postgres',
		qq{SELECT $call FROM (SELECT fieldops.set_tenant(tenant_id) AS t FROM fieldops.tenant WHERE name = '渲染测试 Render Test Co') x});
	like($svg{$name}, qr/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" viewBox="[0-9 ]+"/, "$name: an SVG element");
}
like($svg{map}, qr/class="fo-visit fo-not-verified"/, 'the map has a visit that is not verified');
like($svg{map}, qr/class="fo-visit fo-open"/, '... and an open one');
unlike($svg{map}, qr/<b>/, 'a name with markup is escaped');

# Chromium, headless, on our own local pages only (--no-sandbox: root
# cannot use the sandbox, nor can most containers); its profile and home in
# the test's directory.  Output goes to files, not pipes: a helper process
# holds inherited pipes open for some twenty seconds after the browser exits.
sub chromium
{
	my (@args) = @_;
	local $ENV{HOME} = $dir;
	my @cmd = ($chromium, '--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
		'--no-default-browser-check', '--disable-extensions', '--disable-background-networking', '--hide-scrollbars',
		"--user-data-dir=$dir/profile", @args);
	IPC::Run::run(\@cmd, '<', \undef, '>', "$dir/chromium.out", '2>', "$dir/chromium.err", IPC::Run::timeout(180));
	return ($?, slurp_file("$dir/chromium.out"), slurp_file("$dir/chromium.err"));
}

sub write_page
{
	my ($file, $text) = @_;
	open(my $fh, '>:raw', $file) or die "$file: $!";
	print $fh $text;
	close $fh;
	return "file://$file";
}

# the console messages Chromium logs (--enable-logging=stderr): INFO:CONSOLE
sub console_lines { return grep { /:CONSOLE/ } split /\n/, $_[0]; }

my ($w, $h) = (1480, 760);
my $body = qq{<div style="display:flex;gap:16px"><div style="display:flex;flex-direction:column;gap:16px">$svg{trend}$svg{by_team}</div>$svg{map}</div>};
my $page = write_page("$dir/page.html",
	qq{<!DOCTYPE html>\n<html lang="zh"><head><meta charset="utf-8"><title>fieldops charts</title></head>}
	  . qq{<body style="margin:8px;background:#f3f4f6">$body</body></html>\n});

# 1. the screenshot: a PNG of the window's size, drawn, in the pictures' colours
my ($rc, $out, $err) = chromium('--enable-logging=stderr', '--v=0', "--window-size=$w,$h", "--screenshot=$dir/page.png", $page);
is($rc, 0, 'chromium renders the page') or diag($err);
ok(-s "$dir/page.png", 'the screenshot exists');
my ($pw, $ph, $pixels) = png_pixels("$dir/page.png");
is("${pw}x$ph", "${w}x$h", 'it is a PNG of the window size');
my ($bg) = sort { $pixels->{$b} <=> $pixels->{$a} } keys %$pixels;
my $drawn = 1 - $pixels->{$bg} / ($pw * $ph);
cmp_ok(scalar(keys %$pixels), '>=', 200, 'many distinct colours (' . scalar(keys %$pixels) . ')');
cmp_ok($drawn, '>=', 0.3, sprintf('not blank: %.0f %% of the pixels differ from the background (%s)', 100 * $drawn, $bg));
my %colour = (
	'the cleaned track' => '1d4ed8',
	'the verified visit pins' => '16a34a',
	'the pin of the visit that is not verified' => 'dc2626',
	'the map\'s frame' => 'f8fafc',
	'the first series (the total, the first team)' => '0072b2',
	'the second team\'s series' => 'e69f00');
for my $what (sort keys %colour)
{
	my $rgb = join(',', map { hex } unpack('(A2)3', $colour{$what}));
	cmp_ok($pixels->{$rgb} // 0, '>=', 40, "drawn: $what (#$colour{$what}, " . ($pixels->{$rgb} // 0) . ' pixels)');
}
my @console = console_lines($err);
is(scalar(@console), 0, 'the page logs no console message') or diag(join("\n", @console));

# 2. the DOM holds the three pictures
($rc, $out, $err) = chromium('--dump-dom', $page);
is($rc, 0, 'chromium dumps the DOM');
is(scalar(() = $out =~ /<svg [^>]*class="fo-chart /g), 3, 'the DOM holds the three pictures');

# 3. parsed as XML (XHTML), as an <img> or a .svg file would be: no error
my $xpage = write_page("$dir/page.xhtml",
	qq{<?xml version="1.0" encoding="UTF-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><head><title>fieldops charts</title></head>}
	  . qq{<body>$body</body></html>\n});
($rc, $out, $err) = chromium('--dump-dom', $xpage);
is($rc, 0, 'chromium loads the XHTML page');
unlike($out, qr/parsererror/, 'the pictures parse as XML') or diag(substr($out, 0, 2000));
is(scalar(() = $out =~ /<svg [^>]*class="fo-chart /g), 3, '... all three of them');

# the checks see what they look for: a broken SVG, a failing script
($rc, $out, $err) = chromium('--dump-dom',
	write_page("$dir/broken.xhtml", qq{<html xmlns="http://www.w3.org/1999/xhtml"><body><svg xmlns="http://www.w3.org/2000/svg"><rect></svg></body></html>}));
like($out, qr/parsererror/, 'control: a broken SVG is a parser error');
($rc, $out, $err) = chromium('--enable-logging=stderr', '--v=0', "--screenshot=$dir/control.png",
	write_page("$dir/control.html", qq{<!DOCTYPE html><body><script>no_such_function();</script></body>}));
ok(scalar(console_lines($err)) > 0, 'control: a failing script is a console message');

$node->stop;
done_testing();

# Decode an 8-bit RGB or RGBA, non-interlaced PNG (what Chromium writes)
# with the zlib of core Perl: (width, height, {"r,g,b" => pixel count}).
sub png_pixels
{
	my ($file) = @_;
	open(my $fh, '<:raw', $file) or die "$file: $!";
	my $png = do { local $/; <$fh> };
	close $fh;
	die "$file is not a PNG" unless substr($png, 0, 8) eq "\x89PNG\r\n\x1a\n";
	my ($pos, $idat, $width, $height, $depth, $ctype, $interlace) = (8, '');
	while ($pos < length $png)
	{
		my ($len, $type) = unpack('N a4', substr($png, $pos, 8));
		my $data = substr($png, $pos + 8, $len);
		$pos += 12 + $len;
		($width, $height, $depth, $ctype, undef, undef, $interlace) = unpack('N N C C C C C', $data) if $type eq 'IHDR';
		$idat .= $data if $type eq 'IDAT';
		last if $type eq 'IEND';
	}
	die "$file: unsupported PNG (bit depth $depth, colour type $ctype, interlace $interlace)"
	  unless $depth == 8 && ($ctype == 2 || $ctype == 6) && !$interlace;
	my $bpp = $ctype == 6 ? 4 : 3;
	my $stride = $width * $bpp;
	my $raw = uncompress($idat);
	die "$file: bad image data" unless defined $raw && length($raw) == $height * ($stride + 1);
	my %count;
	my @prev = (0) x $stride;
	for my $y (0 .. $height - 1)
	{
		my $filter = ord(substr($raw, $y * ($stride + 1), 1));
		my @cur = unpack('C*', substr($raw, $y * ($stride + 1) + 1, $stride));
		for my $i (0 .. $stride - 1)
		{
			my $a = $i >= $bpp ? $cur[ $i - $bpp ] : 0;
			my $b = $prev[$i];
			my $c = $i >= $bpp ? $prev[ $i - $bpp ] : 0;
			if ($filter == 1) { $cur[$i] = ($cur[$i] + $a) & 255; }
			elsif ($filter == 2) { $cur[$i] = ($cur[$i] + $b) & 255; }
			elsif ($filter == 3) { $cur[$i] = ($cur[$i] + (($a + $b) >> 1)) & 255; }
			elsif ($filter == 4)
			{
				my $p = $a + $b - $c;
				my ($pa, $pb, $pc) = (abs($p - $a), abs($p - $b), abs($p - $c));
				$cur[$i] = ($cur[$i] + ($pa <= $pb && $pa <= $pc ? $a : $pb <= $pc ? $b : $c)) & 255;
			}
		}
		for (my $i = 0; $i < $stride; $i += $bpp) { $count{"$cur[$i],$cur[$i+1],$cur[$i+2]"}++; }
		@prev = @cur;
	}
	return ($width, $height, \%count);
}
