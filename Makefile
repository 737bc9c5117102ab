# criu (pidfd edition) top-level Makefile
CRIU_VERSION := 0.1
.DEFAULT_GOAL := all

CC ?= gcc
CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers \
	  -D_GNU_SOURCE -fno-strict-aliasing -MMD -MP
CPPFLAGS += -Ibuild -Ibuild/images -Icriu/include -Icriu/arch/x86/include -Icompel/include -Isoccr

# Install the build and test dependencies first when something is missing
# (install-deps.sh is quick and silent when everything is there).
ifeq ($(filter clean,$(MAKECMDGOALS)),)
DEPS_STATUS := $(shell sh scripts/install-deps.sh >&2; echo $$?)
ifneq ($(DEPS_STATUS),0)
$(warning scripts/install-deps.sh failed: some dependencies may be missing)
endif
endif

include Makefile.config
CFLAGS += $(LIBS_CFLAGS)

# make SANITIZE=1 (make test SANITIZE=1): criu, compel, soccr, the message
# code and the unit tests built with ASan and UBSan (libcriu and the zdtm
# programs stay plain). A build of the other kind is removed first: build/.flavour
# names the kind build/ holds (none: a plain one).
ifneq ($(SANITIZE),)
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FLAVOUR := sanitize
else
SAN_FLAGS :=
FLAVOUR := plain
endif
ifeq ($(filter clean,$(MAKECMDGOALS)),)
OLD_FLAVOUR := $(or $(shell cat build/.flavour 2>/dev/null),plain)
ifneq ($(OLD_FLAVOUR),$(FLAVOUR))
$(info make: build/ holds a $(OLD_FLAVOUR) build: removing it for a $(FLAVOUR) one)
$(shell rm -rf build criu/criu test/build/unit)
endif
$(shell mkdir -p build && echo $(FLAVOUR) > build/.flavour)
endif

PROTOS := $(wildcard images/*.proto)
PB_C := $(patsubst images/%.proto,build/images/%.pb-c.c,$(PROTOS))
PB_H := $(PB_C:.c=.h)
PB_O := $(PB_C:.c=.o)

COMPEL_SRC := $(wildcard compel/src/*.c)
COMPEL_O := $(patsubst %.c,build/%.o,$(COMPEL_SRC))

# soccr: the TCP repair library (soccr/soccr.h), nothing of criu in it
SOCCR_SRC := $(wildcard soccr/*.c)
SOCCR_O := $(patsubst %.c,build/%.o,$(SOCCR_SRC))

CRIU_SRC := $(wildcard criu/*.c criu/arch/x86/*.c)
CRIU_O := $(patsubst %.c,build/%.o,$(CRIU_SRC))
# objects that make up the tool without main(): unit tests link against them
CRIU_LIB_O := $(filter-out build/criu/crtools.o,$(CRIU_O))

.PHONY: all clean test unit zdtm demo bench install-deps check-deps install uninstall man
all: criu/criu lib man

install-deps:
	sh scripts/install-deps.sh

build build/images:
	@mkdir -p $@

build/images/%.pb-c.c build/images/%.pb-c.h: images/%.proto | build/images
	@echo "  PROTOC  $<"
	@protoc-c --proto_path=images --c_out=build/images $<

# One header that includes every message's header, for the message table (protobuf.c).
build/images/all.pb-c.h: $(PB_H) Makefile | build/images
	@echo "  GEN     $@"
	@for h in $(sort $(notdir $(PB_H))); do echo "#include \"$$h\""; done > $@.tmp && mv $@.tmp $@

# generated files are kept, and a message's object needs the headers of what it imports
.SECONDARY: $(PB_C) $(PB_H) build/images/all.pb-c.h

build/images/%.pb-c.o: build/images/%.pb-c.c $(PB_H)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) $(SAN_FLAGS) -Wno-error $(CPPFLAGS) -c $< -o $@

build/%.o: %.c build/config.h $(PB_H) build/images/all.pb-c.h
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) $(SAN_FLAGS) $(CPPFLAGS) -c $< -o $@

build/libcompel.a: $(COMPEL_O)
	@echo "  AR      $@"
	@rm -f $@ && ar rcs $@ $^

build/libsoccr.a: $(SOCCR_O)
	@echo "  AR      $@"
	@rm -f $@ && ar rcs $@ $^

criu/criu: $(CRIU_O) $(PB_O) build/libcompel.a build/libsoccr.a
	@echo "  LINK    $@"
	@$(CC) $(CFLAGS) $(SAN_FLAGS) -o $@ $(CRIU_O) $(PB_O) build/libcompel.a build/libsoccr.a $(LIBS_LDLIBS)

# pycriu and crit (lib/py)
include lib/py/Makefile.inc

# libcriu (lib/c/libcriu.so.2, lib/c/libcriu.a)
include lib/c/Makefile.inc

# The man page, from Documentation/criu.txt (asciidoc) by a small converter
# of our own (scripts/asciidoc2man.py: no asciidoctor/Ruby needed).
man: build/Documentation/criu.8

build/Documentation/criu.8: Documentation/criu.txt scripts/asciidoc2man.py Makefile
	@mkdir -p $(dir $@)
	@echo "  MAN     $@"
	@python3 scripts/asciidoc2man.py --version "$(CRIU_VERSION)" $< > $@.tmp && mv $@.tmp $@

# make install [PREFIX=/usr/local] [DESTDIR=...]: criu, libcriu, its headers,
# criu.pc, the man page, crit and pycriu (in the site directory of Debian's
# python3, which has python3-protobuf). Documentation/libcriu.md lists the files.
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
BINDIR ?= $(PREFIX)/bin
PYTHONDIR ?= $(PREFIX)/$(shell /usr/bin/python3 -c 'import sys; print("lib/python%d.%d/dist-packages" % sys.version_info[:2])')
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
LIBCRIU_HEADERS := lib/c/criu.h build/lib/c/version.h build/images/rpc.pb-c.h images/rpc.proto

install: all
	@echo "  INSTALL $(DESTDIR)$(PREFIX)"
	@install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR)/criu \
		$(DESTDIR)$(MANDIR)/man8
	@install -m 755 criu/criu $(DESTDIR)$(SBINDIR)/criu
	@install -m 755 $(LIBCRIU_SO) $(DESTDIR)$(LIBDIR)/libcriu.so.$(LIBCRIU_SO_MAJOR).$(LIBCRIU_SO_MINOR)
	@ln -sfn libcriu.so.$(LIBCRIU_SO_MAJOR).$(LIBCRIU_SO_MINOR) $(DESTDIR)$(LIBDIR)/libcriu.so.$(LIBCRIU_SO_MAJOR)
	@ln -sfn libcriu.so.$(LIBCRIU_SO_MAJOR) $(DESTDIR)$(LIBDIR)/libcriu.so
	@install -m 644 $(LIBCRIU_A) $(DESTDIR)$(LIBDIR)/libcriu.a
	@install -m 644 $(LIBCRIU_HEADERS) $(DESTDIR)$(INCLUDEDIR)/criu/
	@sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' \
		-e 's|@VERSION@|$(LIBCRIU_VERSION)|' lib/c/criu.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/criu.pc
	@install -m 644 build/Documentation/criu.8 $(DESTDIR)$(MANDIR)/man8/criu.8
	@install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(PYTHONDIR)
	@install -m 755 crit $(DESTDIR)$(BINDIR)/crit
	@rm -rf $(DESTDIR)$(PYTHONDIR)/pycriu && cp -r build/py/pycriu $(DESTDIR)$(PYTHONDIR)/pycriu
	@find $(DESTDIR)$(PYTHONDIR)/pycriu -name __pycache__ -prune -exec rm -rf {} +

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/criu $(DESTDIR)$(LIBDIR)/libcriu.so* $(DESTDIR)$(LIBDIR)/libcriu.a \
		$(DESTDIR)$(LIBDIR)/pkgconfig/criu.pc $(DESTDIR)$(MANDIR)/man8/criu.8 \
		$(addprefix $(DESTDIR)$(INCLUDEDIR)/criu/,$(notdir $(LIBCRIU_HEADERS))) $(DESTDIR)$(BINDIR)/crit
	rm -rf $(DESTDIR)$(PYTHONDIR)/pycriu
	-rmdir $(DESTDIR)$(INCLUDEDIR)/criu

# Tests: unit tests, then zdtm. One summary line at the end.
-include test/Makefile.inc

demo: criu/criu
	@sh scripts/demo.sh

bench: criu/criu
	@$(MAKE) -C bench run

clean:
	rm -rf build build-fuzz criu/criu test/build lib/c/libcriu.so lib/c/libcriu.so.* lib/c/libcriu.a

-include $(shell find build -name '*.d' 2>/dev/null)
