# imgvault — build, test, install.
#   make                      build build/imgvault
#   make test                 install deps if missing, run every test (plain and ASan+UBSan)
#   make demo                 install deps if missing, run imgvault on examples/
#   make fuzz FUZZ_TIME=60    run every fuzz target for FUZZ_TIME seconds
#   make install PREFIX=/usr/local DESTDIR=
#   make bench                run the benchmarks under bench/ (catalog, archive, restore)

VERSION := 0.1.0
PREFIX  ?= /usr/local
DESTDIR ?=
BUILD   ?= build
SAN     ?=
CC      ?= cc

PKGS := yaml-0.1 jansson libcrypto libcurl libarchive libdeflate libzstd zlib
THREAD_LIBS := -pthread
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) $(THREAD_LIBS)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)

CFLAGS  ?= -O2 -g
ALL_CFLAGS := -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	-Wformat=2 -Wno-format-nonliteral -DIMGVAULT_VERSION='"$(VERSION)"' $(PKG_CFLAGS) $(CFLAGS)
ifeq ($(SAN),1)
ALL_CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined
endif

LIB_SRCS := $(wildcard src/util/*.c src/catalog/*.c src/engine/*.c src/codec/*.c src/store/*.c)
CMD_SRCS := $(wildcard src/cmd/*.c)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
CMD_OBJS := $(CMD_SRCS:%.c=$(BUILD)/%.o)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=build-fuzz/%)

LINKS := image-catalog image-build image-archive image-restore image-verify image-status

.PHONY: all deps test unit demo fuzz fuzz-build install uninstall bench clean

all: $(BUILD)/imgvault

$(BUILD)/%.o: %.c $(wildcard src/*/*.h)
	@mkdir -p $(dir $@)
	@echo "  CC $<"
	@$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/libimgvault.a: $(LIB_OBJS)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/imgvault: $(CMD_OBJS) $(BUILD)/libimgvault.a
	$(CC) $(LDFLAGS) -o $@ $(CMD_OBJS) $(BUILD)/libimgvault.a $(PKG_LIBS)

$(BUILD)/tests/%: tests/unit/%.c tests/unit/table.h $(BUILD)/libimgvault.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -Isrc -o $@ $< $(BUILD)/libimgvault.a $(PKG_LIBS) $(CMOCKA_LIBS)

unit: $(UNIT_BINS)

deps:
	@scripts/install-deps

test: deps
	@tests/run

demo: deps all
	@scripts/demo

# The library is compiled once with coverage (fuzzer-no-link); each target links it.
FUZZ_CFLAGS := -std=c17 -D_GNU_SOURCE -DIMGVAULT_VERSION='"$(VERSION)"' -g -O1 $(PKG_CFLAGS)
FUZZ_OBJS := $(LIB_SRCS:%.c=build-fuzz/obj/%.o)

build-fuzz/obj/%.o: %.c $(wildcard src/*/*.h)
	@mkdir -p $(dir $@)
	@echo "  CC (fuzz) $<"
	@clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined -c -o $@ $<

build-fuzz/%: tests/fuzz/%.c $(FUZZ_OBJS)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined -Isrc -o $@ $< $(FUZZ_OBJS) $(PKG_LIBS)

fuzz-build: $(FUZZ_BINS)

FUZZ_TIME ?= 60
fuzz: deps fuzz-build
	@tests/fuzz/run $(FUZZ_TIME)

install: $(BUILD)/imgvault
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(BUILD)/imgvault $(DESTDIR)$(PREFIX)/bin/imgvault
	for l in $(LINKS); do ln -sf imgvault $(DESTDIR)$(PREFIX)/bin/$$l; done
	install -m 644 man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -d $(DESTDIR)$(PREFIX)/share/bash-completion/completions \
		$(DESTDIR)$(PREFIX)/share/zsh/site-functions
	install -m 644 completions/imgvault.bash \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/imgvault
	for l in $(LINKS); do ln -sf imgvault $(DESTDIR)$(PREFIX)/share/bash-completion/completions/$$l; done
	install -m 644 completions/_imgvault $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_imgvault

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/imgvault
	for l in $(LINKS); do rm -f $(DESTDIR)$(PREFIX)/bin/$$l; done
	rm -f $(DESTDIR)$(PREFIX)/share/man/man1/imgvault*.1
	rm -f $(DESTDIR)$(PREFIX)/share/bash-completion/completions/imgvault
	for l in $(LINKS); do rm -f $(DESTDIR)$(PREFIX)/share/bash-completion/completions/$$l; done
	rm -f $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_imgvault

bench: deps all
	bench/catalog
	bench/archive
	bench/restore

clean:
	rm -rf build build-asan build-fuzz
