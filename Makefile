# criu (pidfd edition) top-level Makefile
CRIU_VERSION := 0.1
.DEFAULT_GOAL := all

CC ?= gcc
CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers \
	  -D_GNU_SOURCE -fno-strict-aliasing -MMD -MP
CPPFLAGS += -Ibuild -Ibuild/images -Icriu/include -Icriu/arch/x86/include -Icompel/include

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

PROTOS := $(wildcard images/*.proto)
PB_C := $(patsubst images/%.proto,build/images/%.pb-c.c,$(PROTOS))
PB_H := $(PB_C:.c=.h)
PB_O := $(PB_C:.c=.o)

COMPEL_SRC := $(wildcard compel/src/*.c)
COMPEL_O := $(patsubst %.c,build/%.o,$(COMPEL_SRC))

CRIU_SRC := $(wildcard criu/*.c criu/arch/x86/*.c)
CRIU_O := $(patsubst %.c,build/%.o,$(CRIU_SRC))
# objects that make up the tool without main(): unit tests link against them
CRIU_LIB_O := $(filter-out build/criu/crtools.o,$(CRIU_O))

.PHONY: all clean test unit zdtm demo bench install-deps check-deps
all: criu/criu

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
	@$(CC) $(CFLAGS) -Wno-error $(CPPFLAGS) -c $< -o $@

build/%.o: %.c build/config.h $(PB_H) build/images/all.pb-c.h
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) $(CPPFLAGS) -c $< -o $@

build/libcompel.a: $(COMPEL_O)
	@echo "  AR      $@"
	@rm -f $@ && ar rcs $@ $^

criu/criu: $(CRIU_O) $(PB_O) build/libcompel.a
	@echo "  LINK    $@"
	@$(CC) $(CFLAGS) -o $@ $(CRIU_O) $(PB_O) build/libcompel.a $(LIBS_LDLIBS)

# pycriu and crit (lib/py)
include lib/py/Makefile.inc

# Tests: unit tests, then zdtm. One summary line at the end.
-include test/Makefile.inc

demo: criu/criu
	@sh scripts/demo.sh

bench: criu/criu
	@$(MAKE) -C bench

clean:
	rm -rf build criu/criu test/build

-include $(shell find build -name '*.d' 2>/dev/null)
