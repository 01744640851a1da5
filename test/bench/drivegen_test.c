/*-------------------------------------------------------------------------
 *
 * drivegen_test.c
 *		Self-check of the synthetic drive generator (drivegen.c), in TAP.
 *
 * The generator is the yardstick for the mileage core, so its own errors
 * would pass silently into every accuracy figure.  These checks pin what
 * the benchmark relies on: determinism, a true distance that is plausible
 * per scenario and exact where it must be (parked: 0), kinematic limits,
 * no fix inside tunnels, the sampling asked for, fault rates near their
 * nominal values, correct geodesy at the antimeridian and at 80 degrees,
 * and noise whose statistics match the stated sigma, tau and 68 % radius.
 * All inputs are fixed seeds, so the statistical checks are deterministic.
 *
 * Copyright (c) 2026, fieldops developers
 *
 * IDENTIFICATION
 *		test/bench/drivegen_test.c
 *
 *-------------------------------------------------------------------------
 */
#include <geodesic.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/unit.h"
#include "drivegen.h"

#define T0_BASE_US INT64_C(846921600000000)
/* drive_digest of mixed, urban, all faults, seed 42, keep_track (see use) */
#define GOLDEN_DIGEST UINT64_C(0x05c284c7b1ed6d0a)

static struct geod_geodesic G;

/* print a diagnostic line under the last check */
#define NOTE(...) do { printf("#   "); printf(__VA_ARGS__); printf("\n"); } while (0)

/* generate or abort the whole test program: later checks need the drive */
static Drive
gen(const DriveSpec *s)
{
	Drive		d;
	int			rc = drive_generate(s, &d);

	if (rc != DG_OK)
	{
		printf("Bail out! drive_generate: %s\n", drive_strerror(rc));
		exit(1);
	}
	return d;
}

/* a spec with the given scenario, environment, seed and defaults */
static DriveSpec
spec_of(int scenario, int env, uint64_t seed)
{
	DriveSpec	s;

	drive_spec_init(&s);
	s.scenario = scenario;
	s.environment = env;
	s.seed = seed;
	return s;
}

/* east/north error of a reported position against the truth, in metres */
static void
err_en(const MileageFix *f, const DriveFixTruth *t, double *e, double *n)
{
	double		s,
				azi;

	geod_inverse(&G, t->lat, t->lon, f->lat, f->lon, &s, &azi, NULL);
	*e = s * sin(azi * 3.14159265358979323846 / 180.0);
	*n = s * cos(azi * 3.14159265358979323846 / 180.0);
}

/* is the row a satellite fix? */
static int
gnss(const MileageFix *f)
{
	return f->source == MS_GPS || f->source == MS_FUSED;
}

/* the CSV of a drive as bytes, for byte-for-byte comparison */
static char *
csv_bytes(const Drive *d, long *len)
{
	FILE	   *f = tmpfile();
	char	   *buf;

	if (!f || drive_write_csv(f, d, 0) != 0)
	{
		printf("Bail out! tmpfile\n");
		exit(1);
	}
	*len = ftell(f);
	rewind(f);
	buf = malloc((size_t) *len + 1);
	if (!buf || fread(buf, 1, (size_t) *len, f) != (size_t) *len)
	{
		printf("Bail out! read back\n");
		exit(1);
	}
	fclose(f);
	return buf;
}

/* same spec, same bytes; another seed, other bytes; invalid specs refused */
static void
test_determinism(void)
{
	DriveSpec	s = spec_of(DG_MIXED, DG_URBAN, 42);
	Drive		a,
				b,
				c;
	char	   *ba,
			   *bb;
	long		la,
				lb;
	Drive		x;

	s.faults = DG_F_ALL;
	s.keep_track = 1;
	a = gen(&s);
	b = gen(&s);
	ba = csv_bytes(&a, &la);
	bb = csv_bytes(&b, &lb);
	OK(la == lb && memcmp(ba, bb, (size_t) la) == 0, "determinism: same spec twice gives identical CSV bytes");
	OK(drive_digest(&a) == drive_digest(&b) && a.true_m == b.true_m &&
	   a.parked_s == b.parked_s && a.n_track == b.n_track,
	   "determinism: same digest, true_m, parked_s, track");
	s.seed = 43;
	c = gen(&s);
	OK(drive_digest(&a) != drive_digest(&c) && a.true_m != c.true_m, "another seed gives another drive");

	/*
	 * The digest of this spec as first generated (gcc 12 and clang 14,
	 * glibc 2.36, PROJ 9.1.1, x86-64).  A failure on another machine means
	 * its libm, PROJ or compiler settings change the bits: drives from the
	 * two machines are then not comparable byte for byte.  Update the value
	 * only when the generator is changed on purpose.
	 */
	if (!OK(drive_digest(&a) == GOLDEN_DIGEST, "golden digest: this platform reproduces the reference bits"))
		NOTE("digest %016llx", (unsigned long long) drive_digest(&a));
	free(ba);
	free(bb);
	drive_free(&a);
	drive_free(&b);
	drive_free(&c);

	s = spec_of(DG_CITY, DG_OPEN, 1);
	s.sample_s = 0.0;
	OK(drive_generate(&s, &x) == DG_EINVAL, "sample 0 without a distance filter is refused");
	s = spec_of(DG_CITY, DG_OPEN, 1);
	s.origin_lat = 91.0;
	OK(drive_generate(&s, &x) == DG_EINVAL, "latitude 91 is refused");
	s = spec_of(DG_CITY, DG_OPEN, 1);
	s.tau_s = 0.0;
	OK(drive_generate(&s, &x) == DG_EINVAL, "tau 0 is refused");
}

/* the truth must not depend on noise, sampling, faults or origin */
static void
test_truth_independence(void)
{
	DriveSpec	s = spec_of(DG_MIXED, DG_OPEN, 7);
	Drive		a,
				b,
				c;

	a = gen(&s);
	s.environment = DG_URBAN;
	s.sample_s = 15.0;
	s.faults = DG_F_ALL;
	s.tau_s = 300.0;
	b = gen(&s);
	s.origin_lat = 60.0;
	s.origin_lon = -120.0;
	c = gen(&s);
	OK(a.true_m == b.true_m && a.parked_s == b.parked_s,
	   "true path independent of environment, tau, sampling and faults");
	OK(a.plane_m == c.plane_m && fabs(a.true_m - c.true_m) < 1e-3 * a.true_m,
	   "same path in the plane at another origin; ellipsoid length within 0.1 %");
	drive_free(&a);
	drive_free(&b);
	drive_free(&c);
}

/* largest acceleration and deceleration along a track */
static void
track_accel(const Drive *d, double *acc, double *dec, double *vmax)
{
	size_t		i;

	*acc = *dec = *vmax = 0.0;
	for (i = 1; i < d->n_track; i++)
	{
		double		a = ((double) d->track[i].speed_mps - (double) d->track[i - 1].speed_mps) / 0.1;

		if (a > *acc)
			*acc = a;
		if (-a > *dec)
			*dec = -a;
		if (d->track[i].speed_mps > *vmax)
			*vmax = d->track[i].speed_mps;
	}
}

/* true distance and kinematics per scenario */
static void
test_scenarios(void)
{
	int			sc;
	uint64_t	seed;
	int			speed_ok = 1,
				kin_ok = 1,
				sum_ok = 1,
				hw_ok = 1,
				creep_ok = 1,
				mixed_ok = 1;

	for (sc = 0; sc < DG_N_SCENARIOS; sc++)
		for (seed = 1; seed <= 4; seed++)
		{
			DriveSpec	s = spec_of(sc, DG_SUBURBAN, seed);
			Drive		d;
			double		acc,
						dec,
						vmax,
						avg;

			s.keep_track = 1;
			d = gen(&s);
			avg = d.moving_s > 0 ? d.true_m / d.moving_s : 0.0;
			track_accel(&d, &acc, &dec, &vmax);
			if (acc > 2.5 + 1e-4 || dec > 4.0 + 1e-4)
			{
				kin_ok = 0;
				NOTE("%s seed %d: max accel %.3f, max decel %.3f", drive_scenario_name(sc), (int) seed, acc, dec);
			}
			if (fabs(d.parked_s + d.moving_s - d.duration_s) > 1e-6 ||
				d.track[d.n_track - 1].dist_m != d.true_m)
			{
				sum_ok = 0;
				NOTE("%s seed %d: %.17g + %.17g vs %.17g; track %.17g vs %.17g", drive_scenario_name(sc), (int) seed,
					 d.parked_s, d.moving_s, d.duration_s, d.track[d.n_track - 1].dist_m, d.true_m);
			}
			if (sc == DG_CITY && !(avg >= 8.0 && avg <= 12.0 && vmax <= 14.0 + 1e-6))
			{
				speed_ok = 0;
				NOTE("city seed %d: %.2f m/s while moving, vmax %.2f", (int) seed, avg, vmax);
			}
			if (sc == DG_HIGHWAY_TUNNELS && !(avg >= 22.0 && avg <= 33.0 && vmax <= 33.0 + 1e-6))
			{
				hw_ok = 0;
				NOTE("highway seed %d: %.2f m/s while moving", (int) seed, avg);
			}
			if (sc == DG_CREEP && !(avg >= 0.5 && avg <= 3.0 && vmax <= 3.0 + 1e-6 && d.parked_s > 300.0))
			{
				creep_ok = 0;
				NOTE("creep seed %d: %.2f m/s while moving, vmax %.2f", (int) seed, avg, vmax);
			}
			if (sc == DG_MIXED && !(d.true_m > 10000.0 && d.true_m < 80000.0 && d.n_tunnels >= 1 &&
									d.parked_s > 900.0 && d.moving_s > 1200.0))
			{
				mixed_ok = 0;
				NOTE("mixed seed %d: %.0f m, %d tunnels, parked %.0f s", (int) seed, d.true_m, d.n_tunnels, d.parked_s);
			}
			if (sc == DG_PARKED_ONLY)
			{
				char		what[100];

				snprintf(what, sizeof(what), "parked only (seed %d): true_m == 0 exactly, never moving", (int) seed);
				OK(d.true_m == 0.0 && d.moving_s == 0.0 && d.parked_s == d.duration_s && d.n >= 3500, what);
			}
			drive_free(&d);
		}
	OK(speed_ok, "city: 8-12 m/s average while moving, never above 14 m/s");
	OK(hw_ok, "highway: 22-33 m/s average, never above 33 m/s");
	OK(creep_ok, "creep: 0.5-3 m/s average, never above 3 m/s, stops");
	OK(mixed_ok, "mixed: 10-80 km in an hour, a tunnel, parked and moving time");
	OK(kin_ok, "every scenario: acceleration <= 2.5 m/s^2, braking <= 4 m/s^2");
	OK(sum_ok, "parked_s + moving_s == duration; track distance == true_m");
}

/* tunnels: right lengths, and no fix of any kind while inside */
static void
test_tunnels(void)
{
	DriveSpec	s = spec_of(DG_HIGHWAY_TUNNELS, DG_OPEN, 3);
	Drive		d;
	size_t		i,
				j;
	int			len_ok = 1,
				in_tunnel = 0,
				gap_ok = 1,
				ntun = 0;

	s.keep_track = 1;
	s.faults = DG_F_ALL & ~DG_F_SHUFFLE;
	d = gen(&s);
	/* tunnel extents from the track */
	for (i = 1; i < d.n_track; i++)
	{
		if (d.track[i].cover == DG_COVER_TUNNEL && d.track[i - 1].cover != DG_COVER_TUNNEL)
		{
			size_t		k = i;
			double		len;
			int64_t		tin = d.track[i - 1].t_us,
						tout;

			while (k < d.n_track && d.track[k].cover == DG_COVER_TUNNEL)
				k++;
			if (k == d.n_track)
				break;			/* still inside at the end */
			ntun++;
			len = d.track[k].dist_m - d.track[i - 1].dist_m;
			tout = d.track[k].t_us;
			if (len < 300.0 - 35.0 || len > 3000.0 + 35.0)
			{
				len_ok = 0;
				NOTE("tunnel of %.0f m", len);
			}
			/* the fixes on each side are at least the tunnel's time apart */
			{
				int64_t		before = INT64_MIN,
							after = INT64_MAX;

				for (j = 0; j < d.n; j++)
				{
					int64_t		t = d.fixes[j].t_us;

					if (t <= tin + 50000 && t > before)
						before = t;
					if (t >= tout - 50000 && t < after)
						after = t;
				}
				if (after - before < tout - tin - 100000)
					gap_ok = 0;
			}
		}
	}
	for (j = 0; j < d.n; j++)
	{
		/* nearest track point to the fix's time */
		int64_t		rel = d.fixes[j].t_us - d.t0_us;
		size_t		k = (size_t) ((rel + 50000) / 100000);

		if (k < d.n_track && d.track[k].cover == DG_COVER_TUNNEL)
			in_tunnel++;
	}
	OK(ntun >= 3 && d.n_tunnels >= ntun, "highway hour has several tunnels");
	if (ntun < 3)
		NOTE("%d tunnels", ntun);
	OK(len_ok, "tunnels are 0.3-3 km long");
	OK(in_tunnel == 0, "no fix (GNSS, network, stale, duplicate) inside a tunnel");
	OK(gap_ok, "each tunnel is a gap in the fixes at least as long as its transit");
	drive_free(&d);
}

/* GNSS timestamps on the sampling grid, and the distance filter */
static void
test_sampling(void)
{
	static const double samples[] = {1, 5, 15, 30, 60};
	int			i;
	int			grid_ok = 1,
				count_ok = 1;

	for (i = 0; i < 5; i++)
	{
		DriveSpec	s = spec_of(DG_CITY, DG_OPEN, 11);
		Drive		d;
		size_t		j,
					ng = 0;
		int64_t		sus = (int64_t) (samples[i] * 1e6);

		s.sample_s = samples[i];
		d = gen(&s);
		for (j = 0; j < d.n; j++)
		{
			int64_t		rel = d.fixes[j].t_us - d.t0_us;

			if (!gnss(&d.fixes[j]))
				continue;
			ng++;
			if (rel % sus > 50000 || rel < 0)
				grid_ok = 0;
			if (j > 0 && d.fixes[j].t_us - d.fixes[j - 1].t_us < sus - 50000 && gnss(&d.fixes[j - 1]))
				grid_ok = 0;
		}
		/* city under open sky: one fix per interval, the last maybe lost to
		 * jitter past the end */
		if (!(ng >= (size_t) (3600.0 / samples[i]) - 1 && ng <= (size_t) (3600.0 / samples[i])))
		{
			count_ok = 0;
			NOTE("sample %g: %zu GNSS fixes", samples[i], ng);
		}
		drive_free(&d);
	}
	OK(grid_ok, "GNSS fixes at t0 + k*sample + 0-50 ms, for 1, 5, 15, 30, 60 s");
	OK(count_ok, "one GNSS fix per interval in an open-sky city drive");

	{
		DriveSpec	s = spec_of(DG_MIXED, DG_URBAN, 12);
		Drive		d;
		size_t		j,
					ng = 0,
					last = (size_t) -1;
		int			dist_ok = 1,
					grid1 = 1;

		s.sample_s = 0.0;
		s.distance_filter_m = 10.0;
		d = gen(&s);
		for (j = 0; j < d.n; j++)
		{
			if (!gnss(&d.fixes[j]))
				continue;
			ng++;
			if ((d.fixes[j].t_us - d.t0_us) % 1000000 > 50000)
				grid1 = 0;
			if (last != (size_t) -1)
			{
				double		m;

				geod_inverse(&G, d.truth[last].lat, d.truth[last].lon,
							 d.truth[j].lat, d.truth[j].lon, &m, NULL, NULL);
				if (m < 10.0)
					dist_ok = 0;
			}
			last = j;
		}
		OK(dist_ok && grid1, "distance filter: reported GNSS fixes >= 10 m of true motion apart, on the 1 s grid");
		OK(ng <= d.true_m / 10.0 + 1 && ng > d.true_m / 40.0,
		   "distance filter: fix count between true_m/40 and true_m/10");
		NOTE("%zu GNSS fixes for %.0f m", ng, d.true_m);
		drive_free(&d);
	}
}

/* rows of two drives, sorted, are the same multiset */
static int
cmp_fix(const void *a, const void *b)
{
	const MileageFix *x = a,
			   *y = b;

	if (x->t_us != y->t_us)
		return x->t_us < y->t_us ? -1 : 1;
	if (x->lat != y->lat)
		return x->lat < y->lat ? -1 : 1;
	if (x->lon != y->lon)
		return x->lon < y->lon ? -1 : 1;
	return 0;
}

/* fault rates near nominal, and each fault shaped as specified */
static void
test_faults(void)
{
	size_t		n_gnss = 0,
				n_rows = 0,
				n_out = 0,
				n_stale = 0,
				n_dup = 0,
				n_near = 0,
				n_orig = 0,
				n_net_drive = 0;
	int			out_ok = 1,
				stale_ok = 1,
				zero_ok = 1,
				run2 = 0,
				dup_ok = 1;
	uint64_t	seed;

	for (seed = 100; seed < 110; seed++)
	{
		DriveSpec	s = spec_of(DG_CITY, DG_URBAN, seed);
		Drive		d;
		size_t		j,
					i0 = 0;

		s.faults = DG_F_ALL & ~DG_F_SHUFFLE;
		d = gen(&s);
		for (j = 0; j < d.n; j++)
		{
			const MileageFix *f = &d.fixes[j];
			const DriveFixTruth *t = &d.truth[j];

			if (f->t_us < d.fixes[i0].t_us)
				i0 = j;
			n_rows++;
			if (!(t->kinds & (DG_K_DUP | DG_K_NEARDUP)))
				n_orig++;
			if (t->kinds & DG_K_DUP)
			{
				n_dup++;
				if (j == 0 || memcmp(&d.fixes[j - 1].lat, &f->lat, sizeof(double)) != 0 ||
					d.fixes[j - 1].t_us != f->t_us || d.fixes[j - 1].lon != f->lon)
					dup_ok = 0;
			}
			if (t->kinds & DG_K_NEARDUP)
				n_near++;
			if ((t->kinds & DG_K_NETWORK) && t->cover == DG_COVER_SKY)
				n_net_drive++;
			if (!gnss(f) || (t->kinds & (DG_K_DUP | DG_K_NEARDUP)))
				continue;
			n_gnss++;
			if (t->kinds & DG_K_OUTLIER)
			{
				double		m;

				n_out++;
				geod_inverse(&G, t->lat, t->lon, f->lat, f->lon, &m, NULL, NULL);
				if (!(t->kinds & DG_K_ZERO) && (m < 900.0 || m > 20200.0 || f->acc_m > 100.0f))
				{
					out_ok = 0;
					NOTE("outlier %.0f m off, acc %.1f", m, (double) f->acc_m);
				}
				/* a run: the next GNSS fix near the same wrong place */
				if (j + 1 < d.n && (d.truth[j + 1].kinds & DG_K_OUTLIER) && gnss(&d.fixes[j + 1]) &&
					!(d.truth[j + 1].kinds & (DG_K_DUP | DG_K_NEARDUP)))
				{
					geod_inverse(&G, f->lat, f->lon, d.fixes[j + 1].lat, d.fixes[j + 1].lon, &m, NULL, NULL);
					if (m < 100.0)
						run2 = 1;
				}
			}
			if (t->kinds & DG_K_STALE)
			{
				size_t		k;
				int			found = 0;

				n_stale++;
				for (k = 0; k < j && !found; k++)
					if (d.fixes[k].lat == f->lat && d.fixes[k].lon == f->lon &&
						d.fixes[k].acc_m == f->acc_m && !(d.truth[k].kinds & DG_K_STALE) &&
						f->t_us - d.fixes[k].t_us >= 30000000 - 100000 &&
						f->t_us - d.fixes[k].t_us <= 600000000)
						found = 1;
				if (!found)
					stale_ok = 0;
			}
		}
		if (!(d.fixes[i0].lat == 0.0 && d.fixes[i0].lon == 0.0 && (d.truth[i0].kinds & DG_K_ZERO) &&
			  d.fixes[i0].acc_m < 100.0f))
			zero_ok = 0;
		drive_free(&d);
	}
	NOTE("%zu GNSS fixes: %zu outliers, %zu stale; %zu rows: %zu dup, %zu near-dup",
		 n_gnss, n_out, n_stale, n_rows, n_dup, n_near);
	OK(n_out >= 0.002 * n_gnss && n_out <= 0.004 * n_gnss, "outliers: 0.2-0.4 % of GNSS fixes");
	OK(out_ok, "outliers are 1-20 km off and claim a normal accuracy");
	OK(run2, "some outliers come as runs at one wrong place");
	OK(n_stale >= 0.002 * n_gnss && n_stale <= 0.004 * n_gnss, "stale: 0.2-0.4 % of GNSS fixes");
	OK(stale_ok, "each stale fix repeats position and accuracy of a fix 30-600 s older");
	OK(zero_ok, "zero-first: the earliest row is at exactly (0, 0) with a normal accuracy");
	OK(n_dup >= 0.016 * n_orig && n_dup <= 0.024 * n_orig && dup_ok,
	   "duplicates: ~2 % identical rows, next to their original");
	OK(n_near >= 0.003 * n_orig && n_near <= 0.007 * n_orig, "near-duplicates: ~0.5 % same time, moved");
	OK(n_net_drive > 0, "wifi-cell: network fixes while driving");

	{
		DriveSpec	s = spec_of(DG_CITY, DG_URBAN, 5);
		Drive		a,
					b;
		size_t		j,
					inversions = 0;
		int			same;

		s.faults = DG_F_ALL;
		a = gen(&s);
		s.faults = DG_F_ALL & ~DG_F_SHUFFLE;
		b = gen(&s);
		for (j = 1; j < a.n; j++)
			if (a.fixes[j].t_us < a.fixes[j - 1].t_us)
				inversions++;
		qsort(a.fixes, a.n, sizeof(MileageFix), cmp_fix);
		qsort(b.fixes, b.n, sizeof(MileageFix), cmp_fix);
		same = a.n == b.n;
		for (j = 0; same && j < a.n; j++)
			same = cmp_fix(&a.fixes[j], &b.fixes[j]) == 0 &&
				memcmp(&a.fixes[j].acc_m, &b.fixes[j].acc_m, sizeof(float)) == 0;
		OK(inversions > a.n / 4, "shuffle: arrival order is not time order");
		OK(same, "shuffle: only a permutation of the time-ordered rows");
		drive_free(&a);
		drive_free(&b);
	}
	{
		DriveSpec	s = spec_of(DG_CITY, DG_URBAN, 5);
		Drive		d;
		size_t		j,
					net = 0;

		d = gen(&s);
		for (j = 0; j < d.n; j++)
			if (!gnss(&d.fixes[j]))
				net++;
		OK(net == 0, "no network fixes while driving without wifi-cell");
		drive_free(&d);
	}
}

/* longitudes on both sides of +-180 and exact geodesy there and at 80N */
static void
test_geodesy(void)
{
	static const double lats[] = {0.0, 45.0, 80.0, -60.0};
	int			i;

	for (i = 0; i < 4; i++)
	{
		DriveSpec	s = spec_of(DG_HIGHWAY_TUNNELS, DG_OPEN, 21);
		Drive		d;
		size_t		j;
		int			east = 0,
					west = 0,
					near_ok = 1;
		double		maxerr = 0.0;
		char		what[160];

		s.origin_lat = lats[i];
		s.origin_lon = 179.99;
		s.heading_deg = 90.0;
		s.keep_track = 1;
		d = gen(&s);
		for (j = 0; j < d.n_track; j++)
		{
			if (d.track[j].lon > 179.0)
				east++;
			if (d.track[j].lon < -179.0)
				west++;
		}
		for (j = 0; j < d.n; j++)
		{
			double		m;

			geod_inverse(&G, d.truth[j].lat, d.truth[j].lon, d.fixes[j].lat, d.fixes[j].lon, &m, NULL, NULL);
			if (m > maxerr)
				maxerr = m;
			if (d.fixes[j].lon < -180.0 || d.fixes[j].lon > 180.0 || m > 100.0)
				near_ok = 0;
		}
		snprintf(what, sizeof(what),
				 "origin %g,179.99 eastwards: track on both sides of 180, fixes near the truth, "
				 "ellipsoid length = plane length within 0.1 %%", lats[i]);
		OK(east > 0 && west > 0 && near_ok && fabs(d.true_m - d.plane_m) < 1e-3 * d.plane_m, what);
		if (!(east > 0 && west > 0 && near_ok))
			NOTE("east %d west %d max error %.1f m", east, west, maxerr);
		drive_free(&d);
	}
	{
		DriveSpec	s = spec_of(DG_MIXED, DG_SUBURBAN, 22);
		Drive		d;
		size_t		j;
		int			ok = 1;

		s.origin_lat = 80.0;
		s.origin_lon = 15.0;
		s.faults = DG_F_WIFI_CELL;
		d = gen(&s);
		for (j = 0; j < d.n; j++)
			if (fabs(d.fixes[j].lat - 80.0) > 1.5 || fabs(d.truth[j].lat - 80.0) > 1.0)
				ok = 0;
		OK(ok && d.true_m > 10000.0 && fabs(d.true_m - d.plane_m) < 1e-3 * d.plane_m,
		   "origin 80N: a mixed drive stays near 80N, true_m matches the plane length");
		drive_free(&d);
	}
}

/* statistics of the GNSS error against the stated sigma and tau */
static void
test_noise(void)
{
	static const int envs[] = {DG_OPEN, DG_SUBURBAN, DG_URBAN};
	static const double sig[] = {2.0, 4.0, 7.0};
	int			i;

	for (i = 0; i < 3; i++)
	{
		DriveSpec	s = spec_of(DG_CITY, envs[i], 31);
		Drive		d;
		size_t		j,
					m = 0,
					inside = 0;
		double		se = 0.0,
					sn = 0.0,
					re,
					rn;
		char		what[160];

		s.tau_s = 10.0;
		s.duration_s = 3.0 * 3600.0;
		d = gen(&s);
		for (j = 0; j < d.n; j++)
		{
			double		e,
						n;

			if (!gnss(&d.fixes[j]))
				continue;
			err_en(&d.fixes[j], &d.truth[j], &e, &n);
			se += e * e;
			sn += n * n;
			if (hypot(e, n) <= d.fixes[j].acc_m)
				inside++;
			m++;
		}
		re = sqrt(se / m);
		rn = sqrt(sn / m);
		snprintf(what, sizeof(what), "%s, no faults: RMS error per axis %.2f / %.2f m vs sigma %g (within 15 %%)",
				 drive_environment_name(envs[i]), re, rn, sig[i]);
		OK(fabs(re / sig[i] - 1.0) < 0.15 && fabs(rn / sig[i] - 1.0) < 0.15, what);
		snprintf(what, sizeof(what), "%s: %.1f %% of fixes within their reported accuracy (68 %% radius)",
				 drive_environment_name(envs[i]), 100.0 * inside / m);
		OK(inside > 0.55 * m && inside < 0.80 * m, what);
		drive_free(&d);
	}

	/* correlation time: autocorrelation at lag tau ~ 1/e */
	{
		DriveSpec	s = spec_of(DG_PARKED_ONLY, DG_OPEN, 32);
		Drive		d;
		double	   *ex;
		size_t		j,
					m = 0;
		double		c0 = 0.0,
					c1 = 0.0,
					rho;
		char		what[120];

		s.tau_s = 60.0;
		s.duration_s = 12.0 * 3600.0;
		s.sample_s = 60.0;
		d = gen(&s);
		ex = malloc(d.n * sizeof(double));
		for (j = 0; j < d.n; j++)
		{
			double		e,
						n;

			if (!gnss(&d.fixes[j]))
				continue;
			err_en(&d.fixes[j], &d.truth[j], &e, &n);
			ex[m++] = e;
		}
		for (j = 0; j + 1 < m; j++)
		{
			c0 += ex[j] * ex[j];
			c1 += ex[j] * ex[j + 1];
		}
		rho = c1 / c0;
		snprintf(what, sizeof(what), "tau 60 s: autocorrelation at 60 s lag %.3f (e^-1 = 0.368)", rho);
		OK(rho > 0.28 && rho < 0.46, what);
		free(ex);
		drive_free(&d);
	}

	/* Doppler speed: noise when moving, near zero with spikes when not */
	{
		DriveSpec	s = spec_of(DG_CITY, DG_SUBURBAN, 33);
		Drive		d;
		size_t		j,
					mov = 0,
					stat = 0,
					nan = 0,
					spikes = 0,
					lowstat = 0,
					ng = 0;
		double		sd = 0.0;
		char		what[160];

		d = gen(&s);
		for (j = 0; j < d.n; j++)
		{
			float		v = d.fixes[j].speed_mps,
						vt = d.truth[j].speed_mps;

			if (!gnss(&d.fixes[j]))
				continue;
			ng++;
			if (isnan(v))
			{
				nan++;
				continue;
			}
			if (vt > 1.0f)
			{
				sd += (double) (v - vt) * (v - vt);
				mov++;
			}
			else if (vt == 0.0f)
			{
				stat++;
				if (v >= 1.0f)
					spikes++;
				else if (v <= 0.3f)
					lowstat++;
			}
		}
		sd = sqrt(sd / mov);
		snprintf(what, sizeof(what), "Doppler: moving sd %.3f m/s, NaN %.1f %%, stationary spikes %.1f %%",
				 sd, 100.0 * nan / ng, 100.0 * spikes / stat);
		OK(sd > 0.12 && sd < 0.18 && nan > 0.035 * ng && nan < 0.065 * ng &&
		   spikes > 0.01 * stat && spikes < 0.08 * stat && lowstat + spikes == stat, what);
		drive_free(&d);
	}

	/* multipath bursts in urban drives only */
	{
		DriveSpec	s = spec_of(DG_CITY, DG_URBAN, 34);
		Drive		d;
		size_t		j,
					mp = 0,
					big = 0,
					ng = 0;
		char		what[160];

		s.faults = DG_F_MULTIPATH;
		d = gen(&s);
		for (j = 0; j < d.n; j++)
		{
			double		e,
						n;

			if (!gnss(&d.fixes[j]))
				continue;
			ng++;
			err_en(&d.fixes[j], &d.truth[j], &e, &n);
			if (d.truth[j].kinds & DG_K_MULTIPATH)
			{
				mp++;
				if (hypot(e, n) > 15.0)
					big++;
			}
		}
		snprintf(what, sizeof(what), "urban multipath: %.1f %% of fixes in bursts, %.0f %% of those > 15 m off",
				 100.0 * mp / ng, mp ? 100.0 * big / mp : 0.0);
		OK(mp > 0.04 * ng && mp < 0.3 * ng && big > mp / 2, what);
		drive_free(&d);
		s.environment = DG_OPEN;
		d = gen(&s);
		mp = 0;
		for (j = 0; j < d.n; j++)
			if (d.truth[j].kinds & DG_K_MULTIPATH)
				mp++;
		OK(mp == 0, "no multipath bursts under open sky");
		drive_free(&d);
	}
}

/* the garage: only Wi-Fi and cell while parked inside, with their errors */
static void
test_network(void)
{
	{
		DriveSpec	s = spec_of(DG_PARKING_INDOOR, DG_SUBURBAN, 41);
		Drive		d;
		size_t		j,
					gps_in = 0,
					wifi_in = 0,
					cell_in = 0;
		int			acc_ok = 1,
					nan_ok = 1;

		s.duration_s = 7200.0;
		d = gen(&s);
		for (j = 0; j < d.n; j++)
		{
			const MileageFix *f = &d.fixes[j];

			if (d.truth[j].cover != DG_COVER_GARAGE)
				continue;
			if (gnss(f))
				gps_in++;
			else if (f->source == MS_WIFI)
			{
				wifi_in++;
				if (f->acc_m < 20.0f || f->acc_m > 80.0f)
					acc_ok = 0;
			}
			else if (f->source == MS_CELL)
			{
				cell_in++;
				if (f->acc_m < 300.0f || f->acc_m > 2000.0f)
					acc_ok = 0;
			}
			if (!isnan(f->speed_mps))
				nan_ok = 0;
		}
		OK(d.parked_s >= 1200.0, "parking: parked at least 20 minutes");
		OK(gps_in == 0 && wifi_in >= 10 && cell_in >= 3,
		   "parking: only Wi-Fi and cell fixes inside the garage");
		NOTE("parked %.0f s; in the garage %zu Wi-Fi, %zu cell", d.parked_s, wifi_in, cell_in);
		OK(acc_ok && nan_ok, "parking: Wi-Fi acc 20-80 m, cell 300-2000 m, speed unknown");
		drive_free(&d);
	}
	{
		DriveSpec	s = spec_of(DG_PARKED_ONLY, DG_OPEN, 42);
		Drive		d;
		size_t		j,
					nw = 0,
					nc = 0;
		double		sw = 0.0,
					sc = 0.0,
					rw,
					rc;
		char		what[160];

		s.duration_s = 48.0 * 3600.0;
		s.sample_s = 60.0;
		d = gen(&s);
		for (j = 0; j < d.n; j++)
		{
			double		e,
						n;

			if (gnss(&d.fixes[j]))
				continue;
			err_en(&d.fixes[j], &d.truth[j], &e, &n);
			if (d.fixes[j].source == MS_WIFI)
			{
				sw += e * e + n * n;
				nw++;
			}
			else
			{
				sc += e * e + n * n;
				nc++;
			}
		}
		rw = sqrt(sw / (2.0 * nw));
		rc = sqrt(sc / (2.0 * nc));
		snprintf(what, sizeof(what), "parked phone, 48 h: Wi-Fi RMS/axis %.0f m (60), cell %.0f m (500); %zu + %zu fixes",
				 rw, rc, nw, nc);
		OK(rw > 45.0 && rw < 75.0 && rc > 350.0 && rc < 650.0, what);
		drive_free(&d);
	}
}

/* per-row odometer: monotone in time, consistent with the track */
static void
test_odometer(void)
{
	DriveSpec	s = spec_of(DG_MIXED, DG_URBAN, 61);
	Drive		d;
	size_t		j;
	int			mono = 1,
				match = 1;
	double		last = 0.0;

	s.keep_track = 1;
	d = gen(&s);
	for (j = 0; j < d.n; j++)
	{
		const DriveFixTruth *t = &d.truth[j];
		int64_t		rel = d.fixes[j].t_us - d.t0_us;
		size_t		k = (size_t) (rel / 100000);

		if (t->odo_m < last || t->odo_m > d.true_m)
			mono = 0;
		last = t->odo_m;
		if (k + 1 < d.n_track &&
			!(t->odo_m >= d.track[k].dist_m - 1e-9 && t->odo_m <= d.track[k + 1].dist_m + 1e-9))
			match = 0;
	}
	OK(mono && match, "odometer of each row: non-decreasing in time, between the track points around it");
	drive_free(&d);
}

/* the clock: 2026-11-02 08:xx UTC, whole minutes from the seed */
static void
test_clock(void)
{
	DriveSpec	s = spec_of(DG_CITY, DG_OPEN, 51);
	Drive		d = gen(&s);
	int64_t		off = d.t0_us - T0_BASE_US;

	OK(off >= 0 && off < INT64_C(3600000000) && off % INT64_C(60000000) == 0,
	   "t0 is 2026-11-02 08:00-08:59 UTC on a whole minute");
	drive_free(&d);
}

/* run every group and print the plan */
int
main(void)
{
	geod_init(&G, 6378137.0, 1.0 / 298.257223563);
	test_determinism();
	test_truth_independence();
	test_scenarios();
	test_tunnels();
	test_sampling();
	test_faults();
	test_geodesy();
	test_noise();
	test_network();
	test_odometer();
	test_clock();
	return unit_done();
}
