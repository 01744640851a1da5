# fieldops — PGXS build.
#
#   make            build the module and the install script
#   make install    install into the server found by pg_config (root)
#   make test       install Debian packages if needed, build, install and run
#                   every suite (regress, isolation, TAP, unit) as user postgres
#   make demo       the same set-up, then a private server with a sample tenant
#   make demo-stop  stop the demo server
#   make unit       C unit tests of the pure cores only (no server)
#   make valgrind   the regress suite against a server running under valgrind
#   make bench      benchmarks (test/bench)

EXTENSION  = fieldops
EXTVERSION = $(shell sed -n "s/^default_version *= *'\([^']*\)'.*/\1/p" fieldops.control)

MODULE_big = fieldops
CORE_OBJS  = src/tenant_id.o src/worktime_core.o src/geo_kernel.o src/mileage_core.o src/trips_core.o \
             src/sig_core.o src/manifest_core.o src/receipt_core.o src/spoof_core.o
OBJS       = src/fieldops.o src/tenant_context.o src/jobs_launcher.o src/worktime.o src/mileage.o src/trips.o \
             src/photo_sig.o src/photo_manifest.o src/photo_receipt.o src/photo_devsign.o src/spoof.o src/fix_obs.o src/fix_replay.o src/fix_ingest.o $(CORE_OBJS)

SQL_SOURCES = $(sort $(wildcard src/sql/*.sql))
# The upgrade script from the previous release is made of the SQL files that
# are new in this version (CREATE OR REPLACE for changed functions included)
# and 99_finish.sql, which every install and upgrade ends with.
PREVIOUS_VERSION = 0.1.0
UPGRADE_SOURCES  = src/sql/17_kpi_dirty.sql src/sql/22_departure.sql src/sql/32_pool.sql src/sql/40_mileage.sql src/sql/45_fix.sql src/sql/46_spoof.sql src/sql/47_trips.sql \
                   src/sql/60_photo.sql src/sql/65_visit.sql src/sql/70_form.sql src/sql/72_task.sql src/sql/74_work_order.sql src/sql/80_expense.sql src/sql/85_kpi.sql src/sql/88_chart.sql \
                   src/sql/95_builtin_jobs.sql src/sql/99_finish.sql
UPGRADE_SCRIPT   = fieldops--$(PREVIOUS_VERSION)--$(EXTVERSION).sql
DATA_built  = fieldops--$(EXTVERSION).sql $(UPGRADE_SCRIPT)
# frozen scripts of released versions; the current version's own frozen
# copies (once it is released) are what DATA_built must reproduce, not
# second files
RELEASED    = src/released/fieldops--$(EXTVERSION).sql src/released/$(UPGRADE_SCRIPT)
DATA        = $(filter-out $(RELEASED),$(wildcard src/released/*.sql))

# the pg_regress suite, in the order of test/schedule
REGRESS      = $(shell sed -n 's/^test: *//p' test/schedule)
REGRESS_OPTS = --load-extension=postgis

PG_CONFIG ?= pg_config
PG_CFLAGS += -Wall -Wextra -Werror -Wno-unused-parameter
PG_CPPFLAGS += -I$(srcdir)/src
ifdef FIELDOPS_ASSERT
PG_CPPFLAGS += -DUSE_ASSERT_CHECKING
endif

EXTRA_CLEAN = test/unit/*_test test/bench/bin test/fuzz/bin results regression.diffs regression.out tmp_check log .build

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# PGXS does not track headers: rebuild every object when any header of
# ours changes (struct layouts are shared between the cores and wrappers)
$(OBJS): $(wildcard src/*.h)

# libraries are linked after PGXS so they follow the module's objects
SHLIB_LINK += $(shell pkg-config --libs libsodium 2>/dev/null || echo -lsodium) -lssl -lcrypto -lproj

# geo_kernel.c in the module and the benchmarks: -O3 -fno-math-errno so that
# its batch loop vectorises (sqrt as an instruction), and no floating-point
# contraction, so that every build and every CPU gives the same doubles (the
# file also says so itself, for the builds that do not pass it).  PGXS has
# already copied PG_CFLAGS into CFLAGS (:=), hence CFLAGS here.
GEO_KERNEL_CFLAGS = -O3 -fno-math-errno -ffp-contract=off
src/geo_kernel.o: override CFLAGS += $(GEO_KERNEL_CFLAGS)
test/bench/bin/geo_bench test/bench/bin/mileage_accuracy: BENCH_CFLAGS += $(GEO_KERNEL_CFLAGS)

# Concatenate SQL sources into a script.  Once a version is released its
# scripts are frozen: sources that no longer produce them exactly are
# refused, so a change cannot reach databases that already run this version
# without a version bump and an upgrade script.
define make_script
	{ printf '%s\n' '$(1)'; cat $(2); } > $@.tmp
	@if [ -f src/released/$@ ] && ! cmp -s $@.tmp src/released/$@; then \
		rm -f $@.tmp; \
		echo "error: $@ is released (src/released/$@) and src/sql/ no longer produces it." >&2; \
		echo "       Bump default_version in fieldops.control and list the new files in UPGRADE_SOURCES (see README, For developers)." >&2; \
		exit 1; \
	fi
	mv $@.tmp $@
endef

fieldops--$(EXTVERSION).sql: $(SQL_SOURCES) fieldops.control
	$(call make_script,-- fieldops $(EXTVERSION) install script,$(SQL_SOURCES))

$(UPGRADE_SCRIPT): $(UPGRADE_SOURCES) fieldops.control
	$(call make_script,\echo Use "ALTER EXTENSION fieldops UPDATE" to load this file. \quit,$(UPGRADE_SOURCES))

# --- unit tests of the pure C cores (no server headers) ---------------------
UNIT_CFLAGS = -std=gnu99 -O1 -g -Wall -Wextra -Werror -Isrc -fsanitize=address,undefined -fno-omit-frame-pointer
UNIT_TESTS  = test/unit/worktime_test test/unit/tenant_id_test test/unit/mileage_test

test/unit/worktime_test: test/unit/worktime_test.c src/worktime_core.c src/worktime_core.h test/unit/unit.h
	$(CC) $(UNIT_CFLAGS) -o $@ test/unit/worktime_test.c src/worktime_core.c

test/unit/tenant_id_test: test/unit/tenant_id_test.c src/tenant_id.c src/tenant_id.h test/unit/unit.h
	$(CC) $(UNIT_CFLAGS) -o $@ test/unit/tenant_id_test.c src/tenant_id.c

test/unit/mileage_test: test/unit/mileage_test.c src/mileage_core.c src/mileage_core.h src/geo_kernel.c src/geo_kernel.h test/unit/unit.h
	$(CC) $(UNIT_CFLAGS) -o $@ test/unit/mileage_test.c src/mileage_core.c src/geo_kernel.c -lproj -lm

# the ground-truth drive generator's self-check runs with the unit tests
test/unit/drivegen_test: test/bench/drivegen_test.c test/bench/drivegen.c test/bench/drivegen.h src/mileage_core.h test/unit/unit.h
	$(CC) $(UNIT_CFLAGS) -Itest/bench -Itest/unit -o $@ test/bench/drivegen_test.c test/bench/drivegen.c -lproj -lm

UNIT_TESTS += test/unit/drivegen_test

test/unit/trips_test: test/unit/trips_test.c src/trips_core.c src/trips_core.h src/mileage_core.c src/mileage_core.h src/geo_kernel.c src/geo_kernel.h test/bench/drivegen.c test/bench/drivegen.h test/unit/unit.h
	$(CC) $(UNIT_CFLAGS) -Itest/bench -o $@ test/unit/trips_test.c src/trips_core.c src/mileage_core.c src/geo_kernel.c test/bench/drivegen.c -lproj -lm
UNIT_TESTS += test/unit/trips_test

test/unit/sig_test: test/unit/sig_test.c src/sig_core.c src/sig_core.h test/unit/unit.h test/fixtures/es256_vectors.txt test/fixtures/ed25519_rfc8032.txt
	$(CC) $(UNIT_CFLAGS) -o $@ test/unit/sig_test.c src/sig_core.c -lcrypto -lsodium
UNIT_TESTS += test/unit/sig_test

test/unit/manifest_test: test/unit/manifest_test.c src/manifest_core.c src/manifest_core.h test/unit/unit.h
	$(CC) $(UNIT_CFLAGS) -o $@ test/unit/manifest_test.c src/manifest_core.c
UNIT_TESTS += test/unit/manifest_test

test/unit/spoof_test: test/unit/spoof_test.c src/spoof_core.c src/spoof_core.h src/geo_kernel.c src/geo_kernel.h test/unit/unit.h
	$(CC) $(UNIT_CFLAGS) -Itest/unit -o $@ test/unit/spoof_test.c src/spoof_core.c src/geo_kernel.c -lproj -lm
UNIT_TESTS += test/unit/spoof_test

test/unit/receipt_test: test/unit/receipt_test.c src/receipt_core.c src/receipt_core.h test/unit/unit.h
	$(CC) $(UNIT_CFLAGS) -Itest/unit -o $@ test/unit/receipt_test.c src/receipt_core.c -lsodium
UNIT_TESTS += test/unit/receipt_test

# --- libFuzzer harnesses of the parsers of untrusted bytes (clang) ----------
FUZZ_CC     ?= clang
FUZZ_CFLAGS  = -std=gnu99 -g -O1 -Wall -Wextra -Werror -Isrc -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZERS      = test/fuzz/bin/fuzz_manifest test/fuzz/bin/fuzz_sig

test/fuzz/bin/fuzz_manifest: test/fuzz/fuzz_manifest.c src/manifest_core.c src/manifest_core.h
	@mkdir -p test/fuzz/bin
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ test/fuzz/fuzz_manifest.c src/manifest_core.c

test/fuzz/bin/fuzz_sig: test/fuzz/fuzz_sig.c src/sig_core.c src/sig_core.h
	@mkdir -p test/fuzz/bin
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ test/fuzz/fuzz_sig.c src/sig_core.c -lcrypto -lsodium

fuzz-build: $(FUZZERS)

# --- benchmark programs (no sanitizers; -O2 as the module is built) ---------
BENCH_CFLAGS = -std=gnu99 -O2 -g -Wall -Wextra -Werror -Isrc -Itest/bench
test/bench/bin/geo_bench: test/bench/geo_bench.c src/geo_kernel.c src/geo_kernel.h
	@mkdir -p test/bench/bin
	$(CC) $(BENCH_CFLAGS) -o $@ test/bench/geo_bench.c src/geo_kernel.c -lproj -lm

test/bench/bin/mileage_accuracy: test/bench/mileage_accuracy.c test/bench/drivegen.c test/bench/drivegen.h src/mileage_core.c src/mileage_core.h src/geo_kernel.c
	@mkdir -p test/bench/bin
	$(CC) $(BENCH_CFLAGS) -o $@ test/bench/mileage_accuracy.c test/bench/drivegen.c src/mileage_core.c src/geo_kernel.c -lproj -lm

test/bench/bin/sig_bench: test/bench/sig_bench.c
	@mkdir -p test/bench/bin
	$(CC) $(BENCH_CFLAGS) -o $@ test/bench/sig_bench.c -lcrypto -lsodium

test/bench/bin/drivegen: test/bench/drivegen_main.c test/bench/drivegen.c test/bench/drivegen.h
	@mkdir -p test/bench/bin
	$(CC) $(BENCH_CFLAGS) -o $@ test/bench/drivegen_main.c test/bench/drivegen.c -lproj -lm

.PHONY: fuzz fuzz-build unit unit-build test demo demo-stop valgrind bench bench-geo bench-accuracy bench-mileage-sql bench-api bench-photo bench-ingest bench-pool bench-visit bench-kpi calib
unit: $(UNIT_TESTS)
	@for t in $(UNIT_TESTS); do ./$$t || exit 1; done

# build them only (make test runs and counts them itself)
unit-build: $(UNIT_TESTS)

test:
	@bash test/run-tests.sh

demo:
	@bash test/demo/demo.sh start

demo-stop:
	@bash test/demo/demo.sh stop

valgrind:
	@bash test/run-valgrind.sh

# every fuzzer for FUZZ_SECONDS (default 600) from its seed corpus
fuzz:
	@bash test/fuzz/run.sh

# every benchmark, each reporting ratios against its baseline from the same run
bench: bench-geo bench-accuracy bench-mileage-sql bench-api bench-photo bench-ingest bench-pool bench-visit bench-kpi

# step kernel vs Karney (PROJ geod_inverse) on the same 10^6 pairs
bench-geo: test/bench/bin/geo_bench
	test/bench/bin/geo_bench

# mileage accuracy vs ground truth, with raw ST_Length and Traccar-like baselines
bench-accuracy: test/bench/bin/mileage_accuracy
	test/bench/bin/mileage_accuracy $(or $(SEEDS),4)

# mileage_agg vs ST_Length(ST_MakeLine(...)::geography) on the same 10^6 rows
bench-mileage-sql: test/bench/bin/drivegen
	@bash test/bench/mileage_sql.sh

# signature verification through SQL vs a C loop; submit_photo() with 8 clients
bench-photo:
	@bash test/bench/photo_bench.sh

# the spoof scorer's calibration harness: synthetic city, fit, held-out and shifted-world report
calib:
	@bash test/calib/run.sh

# ingest_fixes() (batches of 100, scoring on) vs a plain INSERT ... SELECT of the same rows
bench-ingest:
	@bash test/bench/ingest_bench.sh

# the customer pool at 10^6 customers: release job vs naive UPDATE, claims
# at 32 clients vs a guarded UPDATE, map latency with vs without the index
bench-pool:
	@bash test/bench/pool_bench.sh

# a visit through check-in, three SOP steps, a form and check-out at 32
# clients vs the same rows inserted without checks
bench-visit:
	@bash test/bench/visit_bench.sh

# KPI rollups on a year of a 500-worker tenant vs the same answers from the source rows
bench-kpi:
	@bash test/bench/kpi_bench.sh

# row-level security, API write path and working hours vs bare SQL
bench-api:
	@bash test/bench/run.sh
