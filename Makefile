# autonomy — multi-uplink failover for routers.
#
#   make            build build/autonomyd and build/autonomyctl
#   make test       install missing packages, unit tests (plain and ASan/UBSan), system tests
#   make check      static analysis (cppcheck) and a short run of every fuzz target
#   make www        the dashboard in build/www (needs node and npm; `make` does not)
#   make demo       build, bring up the lab, run autonomyd in it and play a story of faults
#   make install    PREFIX=/usr DESTDIR=…
#   make ipk        an OpenWrt .ipk for the host in build/ipk (docs/OPENWRT.md)
#   make musl       autonomyd against musl, as on OpenWrt, in build/musl/build (docs/PERFORMANCE.md)
#
# Respects CC, CFLAGS, CPPFLAGS, LDFLAGS, PREFIX, DESTDIR; V=1 shows full commands;
# WERROR=1 (set automatically when CI is set) turns warnings into errors.
# WITH_STARLINK=0 leaves out the Starlink collector (no libnghttp2/libprotobuf-c).

VERSION    := 0.1.0
PREFIX     ?= /usr/local
SBINDIR    ?= $(PREFIX)/sbin
BINDIR     ?= $(PREFIX)/bin
SYSCONFDIR ?= /etc
PKG_CONFIG ?= pkg-config
BUILD      ?= build
# The dashboard; autonomyd's http_root defaults to /usr/share/autonomy/www (PREFIX=/usr).
WWWDIR     ?= $(PREFIX)/share/autonomy/www
WWW_DEFAULT := /usr/share/autonomy/www

# Routers are short of flash: optimise for size (as OpenWrt builds do) and let
# the linker drop what nothing calls.
CFLAGS     ?= -Os -g
WARN       := -Wall -Wextra -Wmissing-prototypes -Wstrict-prototypes -Wshadow \
              -Wpointer-arith -Wformat=2 -Wno-format-nonliteral -Wundef
ifneq ($(CI),)
WERROR     ?= 1
endif
ifeq ($(WERROR),1)
WARN       += -Werror
endif

WITH_STARLINK ?= 1

PKGS       := json-c libmnl libmicrohttpd
ifeq ($(WITH_STARLINK),1)
PKGS       += libnghttp2 libprotobuf-c
endif
# Loaded at run time when first used (src/core/dl.h): only their headers here.
DL_PKGS    := libmosquitto libcurl
# Debian's libcurl.pc names the multiarch include directory, which the compiler
# searches anyway and which makes cppcheck read glibc's own headers.
PKG_CFLAGS := $(filter-out -I/usr/include/%-linux-gnu,$(shell $(PKG_CONFIG) --cflags $(PKGS) $(DL_PKGS) 2>/dev/null))
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
# Debian's libev ships no .pc file.
EV_LIBS    := $(shell $(PKG_CONFIG) --libs libev 2>/dev/null || echo -lev)
CMOCKA_LIBS := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null || echo -lcmocka)

GIT_REV    := $(shell git describe --always --dirty 2>/dev/null || echo unknown)
ALL_CPPFLAGS := -Isrc -Itools -D_GNU_SOURCE -DAUTONOMY_VERSION='"$(VERSION)"' \
                -DAUTONOMY_GIT='"$(GIT_REV)"' $(CPPFLAGS)
# protoc-c output (build/gen/collect/starlink.pb-c.[ch]) is included as "collect/…".
GEN        := $(BUILD)/gen
ALL_CPPFLAGS += -I$(GEN) -DWITH_STARLINK=$(WITH_STARLINK)
ALL_CFLAGS := -std=gnu11 $(WARN) $(PKG_CFLAGS) -ffunction-sections -fdata-sections $(CFLAGS) \
              $(SAN_CFLAGS)
ALL_LDFLAGS := -Wl,--gc-sections $(LDFLAGS) $(SAN_CFLAGS)
LIBS       := $(PKG_LIBS) $(EV_LIBS) -lm

ifeq ($(V),1)
Q :=
say :=
else
Q := @
say = @printf '  %-6s %s\n' $(1) $(2);
endif

LIB_SRCS   := $(filter-out src/autonomyd.c,$(wildcard src/*.c src/*/*.c))
SL_GEN     := $(GEN)/collect/starlink.pb-c.c $(GEN)/collect/starlink.pb-c.h
ifeq ($(WITH_STARLINK),1)
LIB_SRCS   += $(GEN)/collect/starlink.pb-c.c
else
LIB_SRCS   := $(filter-out src/collect/starlink.c src/collect/grpc.c,$(LIB_SRCS))
endif
CTL_SRCS   := $(filter-out tools/autonomyctl.c,$(wildcard tools/*.c))
UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
FUZZ_SRCS  := $(wildcard tests/fuzz/fuzz_*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
LIB_OBJS   := $(call obj,$(LIB_SRCS))
CTL_OBJS   := $(call obj,$(CTL_SRCS))
UNIT_BINS  := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))

.SECONDARY:
.PHONY: all test unit unit-bins bench unit-asan system check fuzz demo install uninstall clean deps test-deps www ipk \
        musl musl-check musl-objs
all: $(BUILD)/autonomyd $(BUILD)/autonomyctl

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

# Objects remember WITH_STARLINK: a different value rebuilds them all. The
# generated header exists before anything that may include it is compiled.
FEATURES   := $(GEN)/features
$(shell mkdir -p $(GEN) && { echo 'WITH_STARLINK=$(WITH_STARLINK)' | cmp -s - $(FEATURES) || \
	echo 'WITH_STARLINK=$(WITH_STARLINK)' >$(FEATURES); })
$(LIB_OBJS) $(CTL_OBJS) $(call obj,$(UNIT_SRCS) src/autonomyd.c tools/autonomyctl.c): $(FEATURES)
ifeq ($(WITH_STARLINK),1)
$(LIB_OBJS) $(CTL_OBJS) $(call obj,$(UNIT_SRCS) src/autonomyd.c tools/autonomyctl.c): | $(SL_GEN)
endif

# A pattern rule, so one protoc-c run makes both files.
$(GEN)/collect/%.pb-c.c $(GEN)/collect/%.pb-c.h: src/collect/%.proto
	@mkdir -p $(dir $@)
	$(call say,PROTOC,$<)protoc-c --c_out=$(GEN)/collect -Isrc/collect $<

$(BUILD)/libautonomy.a: $(LIB_OBJS)
	$(call say,AR,$@)rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/libctl.a: $(CTL_OBJS)
	$(call say,AR,$@)rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/autonomyd: $(BUILD)/obj/src/autonomyd.o $(BUILD)/libautonomy.a
	$(call say,LD,$@)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/autonomyctl: $(BUILD)/obj/tools/autonomyctl.o $(BUILD)/libctl.a $(BUILD)/libautonomy.a
	$(call say,LD,$@)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(BUILD)/libctl.a $(BUILD)/libautonomy.a
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(LIBS)

unit-bins: $(UNIT_BINS)

# ---- tests ---------------------------------------------------------------
deps:
	@sh scripts/deps.sh build

test-deps:
	@sh scripts/deps.sh test

# Everything, then one closing line "N passed, N failed".
test: test-deps
	@sh tests/run

unit: all unit-bins
	@sh tests/run-unit $(BUILD)/tests

unit-asan:
	$(Q)$(MAKE) --no-print-directory BUILD=build/asan CC=$(CC) \
		SAN_CFLAGS='-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all' \
		CFLAGS='-O1 -g' unit-bins
	@ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 sh tests/run-unit build/asan/tests

system: all
	@/usr/bin/python3 -m pytest -q tests/system

# ---- static analysis and fuzzing ------------------------------------------
FUZZ_TIME ?= 20
FUZZ_BINS := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(FUZZ_SRCS))
FUZZ_LIB_SRCS := $(LIB_SRCS)

build/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB_SRCS)
	@mkdir -p $(dir $@)
	$(call say,FUZZCC,$@)clang $(ALL_CPPFLAGS) -std=gnu11 -g -O1 $(PKG_CFLAGS) \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -o $@ $< $(FUZZ_LIB_SRCS) $(LIBS)

fuzz: $(FUZZ_BINS)
	@for f in $(FUZZ_BINS); do \
		n=$$(basename $$f); mkdir -p build/fuzz/corpus-$$n; \
		echo "  FUZZ   $$n ($(FUZZ_TIME) s)"; \
		$$f -max_total_time=$(FUZZ_TIME) -max_len=8192 build/fuzz/corpus-$$n tests/fuzz/seeds/$$n \
			>build/fuzz/$$n.log 2>&1 || { tail -40 build/fuzz/$$n.log; exit 1; }; \
		grep -E '^Done|#[0-9]+.*DONE' build/fuzz/$$n.log | tail -1; \
	done

check: test-deps fuzz
	$(call say,CPPCHECK,src tools)cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
		--inline-suppr --std=c11 -D__GNUC__ $(PKG_CFLAGS) -Isrc -Itools -I$(GEN) \
		--suppress='preprocessorErrorDirective:$(GEN)/*' src tools

# ---- musl, the C library of OpenWrt and RutOS (scripts/musl.sh) -------------
# musl-check compiles every source with musl-gcc, warnings as errors (part of make
# test). musl links autonomyd and autonomyctl against musl and libraries built from
# Debian's sources as OpenWrt packages them (needs deb.debian.org; bench/footprint
# --musl measures that build).
MUSL_DIR   ?= build/musl
MUSL_SYS   := $(abspath $(MUSL_DIR))/sysroot
musl-check:
	$(Q)sh scripts/musl.sh headers $(MUSL_DIR)/headers
	$(Q)$(MAKE) --no-print-directory BUILD=$(MUSL_DIR)/check CC=musl-gcc WERROR=1 \
		CPPFLAGS='-isystem $(MUSL_DIR)/headers/include' musl-objs
	@echo "musl: every source compiles against musl"

musl-objs: $(LIB_OBJS) $(CTL_OBJS) $(call obj,src/autonomyd.c tools/autonomyctl.c)

musl:
	@sh scripts/deps.sh musl
	$(Q)sh scripts/musl.sh libs $(MUSL_SYS)
	$(Q)PKG_CONFIG_LIBDIR=$(MUSL_SYS)/lib/pkgconfig $(MAKE) --no-print-directory \
		BUILD=$(MUSL_DIR)/build CC=musl-gcc CPPFLAGS='-isystem $(MUSL_SYS)/include' \
		LDFLAGS='-L$(MUSL_SYS)/lib -Wl,-rpath,$(MUSL_SYS)/lib' all

# ---- benchmarks (root; they build the lab) ---------------------------------
bench: all
	@/usr/bin/python3 bench/failover

# ---- the dashboard (www/, docs/USER-GUIDE.md) ------------------------------
# npm ci fetches uPlot (copied into the build, never committed) and playwright-core
# (the browser tests); www/build.mjs assembles the files; gzip -9 variants are served
# to clients that accept them.
WWW_SRCS   := $(wildcard www/*.html www/*.css www/*.webmanifest www/*.js www/*.mjs \
              www/js/*.js www/icons/*)
WWW_NPM    := www/node_modules/.package-lock.json

www: $(BUILD)/www.stamp

$(WWW_NPM): www/package.json $(wildcard www/package-lock.json)
	$(call say,NPM,www)cd www && if [ -f package-lock.json ]; then \
		npm ci --no-audit --no-fund --loglevel=error; \
	else npm install --no-audit --no-fund --loglevel=error; fi
	$(Q)touch $@

$(BUILD)/www.stamp: $(WWW_SRCS) $(WWW_NPM)
	$(call say,WWW,$(BUILD)/www)node www/build.mjs $(BUILD)/www >/dev/null
	$(Q)find $(BUILD)/www -type f \( -name '*.html' -o -name '*.css' -o -name '*.js' -o \
		-name '*.webmanifest' -o -name '*.svg' -o -name '*.txt' \) -exec gzip -9 -k -n -f {} +
	$(Q)touch $@

# ---- demo, install -------------------------------------------------------
demo:
	@sh scripts/deps.sh demo
	@$(MAKE) --no-print-directory all www
	@sh scripts/demo.sh

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR)
	install -m 0755 $(BUILD)/autonomyd $(DESTDIR)$(SBINDIR)/autonomyd
	install -m 0755 $(BUILD)/autonomyctl $(DESTDIR)$(BINDIR)/autonomyctl
	@if [ ! -e $(DESTDIR)$(SYSCONFDIR)/autonomy/autonomy.conf ]; then \
		install -d $(DESTDIR)$(SYSCONFDIR)/autonomy; \
		install -m 0600 examples/autonomy.conf $(DESTDIR)$(SYSCONFDIR)/autonomy/autonomy.conf; \
		[ "$(WWWDIR)" = "$(WWW_DEFAULT)" ] || sed -i "/^config autonomy 'main'/a\\\toption http_root '$(WWWDIR)'" \
			$(DESTDIR)$(SYSCONFDIR)/autonomy/autonomy.conf; \
	elif [ "$(WWWDIR)" != "$(WWW_DEFAULT)" ]; then \
		echo "install: the dashboard goes to $(WWWDIR); if the config has no http_root, run"; \
		echo "install:   autonomyctl config set main.http_root=$(WWWDIR)"; \
	fi
	@if [ -f $(BUILD)/www/index.html ]; then \
		rm -rf $(DESTDIR)$(WWWDIR) && install -d $(DESTDIR)$(WWWDIR) && \
		cp -R $(BUILD)/www/. $(DESTDIR)$(WWWDIR)/ && chmod -R u=rwX,go=rX $(DESTDIR)$(WWWDIR) && \
		echo "install: the dashboard in $(DESTDIR)$(WWWDIR)"; \
	else \
		echo "install: the dashboard is not built (make www), so not installed"; \
	fi

# An OpenWrt package of this build (stripped; build/www too if made): docs/OPENWRT.md.
ipk: all
	@sh scripts/mkipk.sh $(BUILD) $(VERSION) $(WITH_STARLINK)

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/autonomyd $(DESTDIR)$(BINDIR)/autonomyctl
	rm -rf $(DESTDIR)$(WWWDIR)

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj build/asan/obj -name '*.d' 2>/dev/null)
