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
CORE_OBJS  = src/tenant_id.o src/worktime_core.o
OBJS       = src/fieldops.o src/tenant_context.o src/jobs_launcher.o src/worktime.o $(CORE_OBJS)

SQL_SOURCES = $(sort $(wildcard src/sql/*.sql))
DATA_built  = fieldops--$(EXTVERSION).sql
# frozen scripts of released versions; the current version's own frozen copy
# (if it is released) is what DATA_built must reproduce, not a second file
RELEASED    = src/released/fieldops--$(EXTVERSION).sql
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

EXTRA_CLEAN = test/unit/*_test results regression.diffs regression.out tmp_check log .build

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# libraries are linked after PGXS so they follow the module's objects
SHLIB_LINK += $(shell pkg-config --libs libsodium 2>/dev/null || echo -lsodium) -lssl -lcrypto

# Concatenate the SQL sources.  Once a version is released its script is
# frozen: sources that no longer produce it exactly are refused, so a change
# cannot reach databases that already run this version without an upgrade.
$(DATA_built): $(SQL_SOURCES) fieldops.control
	cat $(SQL_SOURCES) > $@.tmp
	@if [ -f $(RELEASED) ] && ! cmp -s $@.tmp $(RELEASED); then \
		rm -f $@.tmp; \
		echo "error: version $(EXTVERSION) is released (src/released/fieldops--$(EXTVERSION).sql) and src/sql/ no longer produces it." >&2; \
		echo "       Bump default_version in fieldops.control and add src/released/fieldops--$(EXTVERSION)--<new>.sql (see README, For developers)." >&2; \
		exit 1; \
	fi
	mv $@.tmp $@

# --- unit tests of the pure C cores (no server headers) ---------------------
UNIT_CFLAGS = -std=c99 -O1 -g -Wall -Wextra -Werror -Isrc -fsanitize=address,undefined -fno-omit-frame-pointer
UNIT_TESTS  = test/unit/worktime_test test/unit/tenant_id_test

test/unit/worktime_test: test/unit/worktime_test.c src/worktime_core.c src/worktime_core.h test/unit/unit.h
	$(CC) $(UNIT_CFLAGS) -o $@ test/unit/worktime_test.c src/worktime_core.c

test/unit/tenant_id_test: test/unit/tenant_id_test.c src/tenant_id.c src/tenant_id.h test/unit/unit.h
	$(CC) $(UNIT_CFLAGS) -o $@ test/unit/tenant_id_test.c src/tenant_id.c

.PHONY: unit test demo demo-stop valgrind bench
unit: $(UNIT_TESTS)
	@for t in $(UNIT_TESTS); do ./$$t || exit 1; done

test:
	@bash test/run-tests.sh

demo:
	@bash test/demo/demo.sh start

demo-stop:
	@bash test/demo/demo.sh stop

valgrind:
	@bash test/run-valgrind.sh

bench:
	@bash test/bench/run.sh
