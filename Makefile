# Concierge: builds the nginx module, the workers, the tools and the unit tests.
#
#   make            build everything into build/
#   make test       run the whole suite with prove
#   make run        start the platform locally (see README.md)
#   make deps       install every Debian and npm package the project uses
#   make SANITIZE=1 the same, with ASan/UBSan, into build-asan/

SANITIZE ?=
ifeq ($(SANITIZE),1)
BUILD    ?= build-asan
SANFLAGS  = -fsanitize=address,undefined,float-cast-overflow \
            -fno-omit-frame-pointer \
            -fno-sanitize-recover=undefined,float-cast-overflow
else
BUILD    ?= build
SANFLAGS  =
endif

CC       ?= cc
OPT      ?= -O2 -g
CFLAGS_ALL = $(OPT) $(SANFLAGS) -std=c99 -D_GNU_SOURCE -Wall -Wextra -Werror \
             -Wno-unused-parameter -fPIC -Ilib -Iworkers/common \
             $(shell pkg-config --cflags openssl jansson libpq libmicrohttpd libcurl libpcre2-8)
LDFLAGS_ALL = $(SANFLAGS)
LIB_LIBS    = $(shell pkg-config --libs openssl jansson)
WORKER_LIBS = $(shell pkg-config --libs libpq libmicrohttpd libcurl libpcre2-8) $(LIB_LIBS) -lz -lm -lpthread

LIB_SRC     = $(wildcard lib/*.c)
LIB_OBJ     = $(LIB_SRC:%.c=$(BUILD)/%.o)
COMMON_SRC  = $(wildcard workers/common/*.c)
COMMON_OBJ  = $(COMMON_SRC:%.c=$(BUILD)/%.o)
WORKERS     = cc-api cc-ingest cc-worker
WORKER_BINS = $(WORKERS:%=$(BUILD)/%)
TOOL_SRC    = $(wildcard tools/ccctl/*.c)
TOOL_BINS   = $(if $(TOOL_SRC),$(BUILD)/ccctl)
SIM_SRC     = $(wildcard tools/agent-sim/*.c)
SIM_BIN     = $(if $(SIM_SRC),$(BUILD)/agent-sim)
UNIT_SRC    = $(wildcard t/unit/*.c)
UNIT_BINS   = $(UNIT_SRC:t/unit/%.c=$(BUILD)/t/unit/%.t)
MODULE      = $(BUILD)/ngx_http_concierge_module.so

.PHONY: all module workers unit ccctl agent-sim deps test test-unit test-asan run fuzz clean

all: workers unit $(TOOL_BINS) $(SIM_BIN) module

workers: $(WORKER_BINS)
unit: $(UNIT_BINS)
module: $(MODULE)
ccctl: $(BUILD)/ccctl
agent-sim: $(BUILD)/agent-sim

$(BUILD)/libcc.a: $(LIB_OBJ)
	@mkdir -p $(@D)
	ar rcs $@ $^

$(BUILD)/libcccommon.a: $(COMMON_OBJ)
	@mkdir -p $(@D)
	ar rcs $@ $^

$(BUILD)/%.o: %.c $(wildcard lib/*.h workers/*/*.h)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -c -o $@ $<

# Object files made through pattern rules are not intermediates to delete.
.SECONDARY:

.SECONDEXPANSION:
$(BUILD)/cc-%: $$(addprefix $(BUILD)/,$$(addsuffix .o,$$(basename $$(wildcard workers/cc-$$*/*.c)))) \
               $(BUILD)/libcccommon.a $(BUILD)/libcc.a
	$(CC) $(LDFLAGS_ALL) -o $@ $(filter %.o,$^) $(BUILD)/libcccommon.a \
	    $(BUILD)/libcc.a $(WORKER_LIBS)

$(BUILD)/ccctl: $(TOOL_SRC:%.c=$(BUILD)/%.o) $(BUILD)/libcccommon.a $(BUILD)/libcc.a
	$(CC) $(LDFLAGS_ALL) -o $@ $(filter %.o,$^) $(BUILD)/libcccommon.a \
	    $(BUILD)/libcc.a $(WORKER_LIBS)

# The device simulator and load generator (tools/agent-sim/README.md).
$(BUILD)/tools/agent-sim/%.o: tools/agent-sim/%.c $(wildcard tools/agent-sim/*.h)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -c -o $@ $<

$(BUILD)/agent-sim: $(SIM_SRC:%.c=$(BUILD)/%.o)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(WORKER_LIBS)

$(BUILD)/t/unit/%.t: t/unit/%.c $(wildcard t/unit/*.h) $(BUILD)/libcc.a $(BUILD)/libcccommon.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -It/unit -o $@ $< $(BUILD)/libcccommon.a \
	    $(BUILD)/libcc.a $(WORKER_LIBS)

# The module is built by nginx's own build system against Debian's nginx-dev,
# with the distribution's configure flags, so the .so loads into stock nginx.
$(MODULE): config $(wildcard ngx_module/*.c ngx_module/*.h lib/*.c lib/*.h)
	BUILD=$(BUILD) tools/build-module.sh

deps:
	tools/install-deps.sh

test: all
	tools/run-tests.sh

test-unit: unit
	prove -e '' $(UNIT_BINS)

# The unit tests, and the integration tests that drive the workers, with
# everything built under ASan/UBSan; LeakSanitizer makes a leaking worker
# exit non-zero, which the harness reports as a failed test.
ASAN_TESTS ?= build-asan/t/unit t/api t/jobs t/e2e t/ingest t/sync t/monitor
test-asan:
	$(MAKE) SANITIZE=1 unit workers module ccctl agent-sim
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	BUILD=build-asan tools/run-tests.sh $$(ls -d $(ASAN_TESTS) 2>/dev/null)

# libFuzzer targets for every parser that sees outside input (fuzz/run.sh).
FUZZ_SECONDS ?= 30
fuzz:
	fuzz/run.sh $(FUZZ_SECONDS)

# Installs what is missing, builds, then starts everything (Ctrl-C stops it).
run:
	$(MAKE) deps
	$(MAKE) all
	tools/cc-run

clean:
	rm -rf build build-asan build-fuzz
