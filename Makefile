# slurmbox - a Slurm cluster in Docker containers, on one host or many.
#
#   make up        install what is missing, build, and run `slurmbox up` (as root)
#   make test      install what the tests need and run every test (what CI runs)
#
#   make           build ./slurmbox
#   make ARCH=arm64  cross-build build-arm64/slurmbox for arm64 hosts (Raspberry Pis)
#   make unit      unit tests only (no Docker, no root)
#   make SANITIZE=address,undefined unit
#   make fuzz      each libFuzzer target of tests/fuzz for FUZZ_SECONDS (60) each
#   make format / format-check / check-deps / clean

VERSION := 0.1.0

CC      ?= cc
PKGS    := libcurl json-c libnl-route-3.0 libmnl libarchive
PKG_CONFIG ?= pkg-config

# A cross build for another architecture, e.g. `make ARCH=arm64` for
# Raspberry Pis: Debian's cross compiler and the libraries of that
# architecture (multiarch), into build-$(ARCH)/ (tests/lib/install-deps
# cross installs them). A control machine copies build-<arch>/slurmbox to
# the hosts of that architecture.
ifneq ($(ARCH),)
CROSS_TRIPLET_arm64 := aarch64-linux-gnu
CROSS_TRIPLET_armhf := arm-linux-gnueabihf
CROSS_TRIPLET := $(CROSS_TRIPLET_$(ARCH))
ifeq ($(CROSS_TRIPLET),)
$(error ARCH=$(ARCH) is not known: use arm64 or armhf)
endif
CC      := $(CROSS_TRIPLET)-gcc
BUILD   ?= build-$(ARCH)
PKG_CONFIG := PKG_CONFIG_LIBDIR=/usr/lib/$(CROSS_TRIPLET)/pkgconfig:/usr/share/pkgconfig pkg-config
endif

PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)

WARN    := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wvla -Wstrict-prototypes \
           -Wmissing-prototypes -Wno-format-nonliteral
CFLAGS  ?= -O2 -g
# The version carries a hash of the sources, so a host runs exactly this
# build (slurmbox copies itself to hosts whose version differs).
SRC_HASH := $(shell cat $(sort $(wildcard compose/*.[ch] netconf/*.[ch] launcher/*/*.[ch] images/*/*)) \
	2>/dev/null | sha256sum | cut -c1-10)
FULL_VERSION := $(VERSION)+$(SRC_HASH)
CFLAGS  += -std=gnu11 $(WARN) -D_GNU_SOURCE -DSLURMBOX_VERSION='"$(FULL_VERSION)"' $(PKG_CFLAGS)
LDLIBS  += $(PKG_LIBS) -lpthread

# The fuzz targets (tests/fuzz) link the project's objects built by clang
# with libFuzzer's coverage and ASan/UBSan, in build-fuzz/.
ifneq ($(FUZZ),)
CC      := clang
BUILD   ?= build-fuzz
SANITIZE := address,undefined
CFLAGS  += -fsanitize=fuzzer-no-link
endif

ifneq ($(SANITIZE),)
BUILD   ?= build-san
CFLAGS  += -fsanitize=$(SANITIZE) -fno-sanitize-recover=$(SANITIZE) -fno-omit-frame-pointer
LDFLAGS += -fsanitize=$(SANITIZE)
else
BUILD   ?= build
endif

COMPOSE_SRC  := $(sort $(wildcard compose/*.c))
NETCONF_SRC  := $(sort $(wildcard netconf/*.c))
# launcher/ in rooms, each using only the rooms below it (check-deps):
# cli -> cluster -> remote -> host -> docker -> compose, netconf; util/ from any.
LAUNCHER_ROOMS := cli cluster remote host docker util
LAUNCHER_SRC := $(filter-out launcher/cli/main.c,$(sort $(foreach r,$(LAUNCHER_ROOMS),$(wildcard launcher/$(r)/*.c))))
IMAGE_FILES  := $(sort $(shell find images -type f ! -name embed.sh ! -name '*.md' 2>/dev/null))

COMPOSE_OBJ  := $(COMPOSE_SRC:%.c=$(BUILD)/%.o)
NETCONF_OBJ  := $(NETCONF_SRC:%.c=$(BUILD)/%.o)
LAUNCHER_OBJ := $(LAUNCHER_SRC:%.c=$(BUILD)/%.o) $(BUILD)/images_embed.o
LIB_OBJ      := $(LAUNCHER_OBJ) $(NETCONF_OBJ) $(COMPOSE_OBJ)

UNIT_SRC     := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN     := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

FUZZ_SRC     := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN     := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_SECONDS ?= 60

.PHONY: FORCE all unit unit-bins fuzz fuzz-bins test check up deps format format-check check-deps shellcheck clean bench bench-multi

all: slurmbox

slurmbox: $(BUILD)/slurmbox
	@if [ "$(BUILD)" = build ]; then cp $< $@; fi

$(BUILD)/slurmbox: $(BUILD)/launcher/cli/main.o $(LIB_OBJ)
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	@$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

# Only these use SLURMBOX_VERSION; they rebuild when it changes.
$(BUILD)/version.stamp: FORCE
	@mkdir -p $(BUILD)
	@echo "$(FULL_VERSION)" | cmp -s - $@ || echo "$(FULL_VERSION)" > $@
$(addprefix $(BUILD)/launcher/,host/host_facts.o cli/cmd_images.o docker/docker.o cluster/multi.o remote/ssh.o): $(BUILD)/version.stamp
FORCE:

# The recipes in images/ become bytes in the binary, with a content hash.
$(BUILD)/images_embed.c: images/embed.sh $(IMAGE_FILES)
	@mkdir -p $(BUILD)
	sh images/embed.sh images > $@.tmp && mv $@.tmp $@

$(BUILD)/images_embed.o: $(BUILD)/images_embed.c
	@echo "  CC      $@"
	@$(CC) $(CFLAGS) -Ilauncher/host -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c tests/tap.h $(LIB_OBJ) $(BUILD)/version.stamp
	@mkdir -p $(dir $@)
	@echo "  TEST    $@"
	@$(CC) $(CFLAGS) -Itests -o $@ $< $(LIB_OBJ) $(LDFLAGS) $(LDLIBS)

unit-bins: $(UNIT_BIN) $(BUILD)/tests/netconf-driver $(BUILD)/tests/keyscan

# Unit tests: pure, no Docker, no root. TAP on stdout.
unit: $(UNIT_BIN) $(BUILD)/slurmbox
	@tests/run-unit $(BUILD)

# Fuzzing: build-fuzz/ only (clang, libFuzzer, ASan/UBSan); TAP on stdout.
# A crash is a `not ok` point that names its reproducer.
fuzz: fuzz-bins
	@tests/fuzz/run build-fuzz $(FUZZ_SECONDS)

ifeq ($(FUZZ),)
fuzz-bins:
	@$(MAKE) --no-print-directory FUZZ=1 fuzz-bins
else
fuzz-bins: $(FUZZ_BIN)
endif

$(BUILD)/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz.h $(LIB_OBJ) $(BUILD)/version.stamp
	@mkdir -p $(dir $@)
	@echo "  FUZZ    $@"
	@$(CC) $(CFLAGS) -fsanitize=fuzzer -Itests/fuzz -o $@ $< $(LIB_OBJ) $(LDFLAGS) $(LDLIBS)

# Everything: installs what the tests need, starts dockerd, runs unit (plain
# and under ASan/UBSan), CLI and integration tests. This is what CI runs.
test check:
	@tests/run-all

up: deps
	$(MAKE) slurmbox
	tests/lib/ensure-dockerd
	./slurmbox up
	@echo
	@echo "Try:  ./slurmbox exec master sinfo"
	@echo "      ./slurmbox exec master srun -N2 hostname"
	@echo "      ./slurmbox shell            # a shell on the master as the cluster user"
	@echo "      ./slurmbox down             # remove it (keeps /home and the key; --purge removes those)"

deps:
	tests/lib/install-deps build

bench: slurmbox
	tests/bench/bench-up

bench-multi: slurmbox
	tests/bench/bench-multi

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

# The layering rules of STYLE.md: compose is pure, netconf is netlink only;
# launcher/'s rooms use only the rooms below them, and no files include or
# call each other in a circle (tests/check-deps, on the sources and on the
# objects of $(BUILD)).
check-deps: $(BUILD)/slurmbox
	@tests/check-deps $(BUILD) || { echo "check-deps: see the rooms in tests/check-deps"; exit 1; }
	@! grep -nE '#include <(curl|json-c|netlink|libmnl|archive)|sys/socket.h' compose/*.[ch] || \
		{ echo "compose/ must stay pure (no I/O headers)"; exit 1; }
	@! grep -nwE 'getenv|time|rand|random|fopen|open|socket|printf|fprintf|puts' compose/*.c || \
		{ echo "compose/ must not read env, clock, randomness or do I/O"; exit 1; }
	@! grep -nE '#include "\.\./(launcher|compose/compose)' netconf/*.[ch] || \
		{ echo "netconf/ may include only compose/base.h"; exit 1; }
	@! grep -nE '#include <(curl|json-c)' netconf/*.[ch] || \
		{ echo "netconf/ is netlink only"; exit 1; }
	@echo "check-deps: layering ok"

shellcheck:
	shellcheck -x images/*/*.sh images/embed.sh tests/lib/* tests/run-* tests/lint tests/lab tests/bench/* tests/netns/*.sh tests/netns/capture-neigh-fixtures \
		tests/fuzz/run tests/check-deps

clean:
	rm -rf build build-san build-fuzz slurmbox

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# netconf's network-namespace test driver (tests/netns/test-netconf.sh, run
# it with NETCONF_DRIVER=$(BUILD)/tests/netconf-driver). Links netconf only.
$(BUILD)/tests/netconf-driver: tests/netns/netconf-driver.c $(NETCONF_OBJ)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) -o $@ $< $(NETCONF_OBJ) $(LDFLAGS) $(LDLIBS)

# The integration tests' key-leak scanner (tests/tools/keyscan.c): no libraries.
$(BUILD)/tests/keyscan: tests/tools/keyscan.c
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) -o $@ $<
