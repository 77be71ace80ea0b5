# wgpt — build, demo and tests. `make` builds; `make demo` installs what is
# missing, builds and runs the default model; `make test` runs every test.
BUILD   ?= build
CC      ?= cc
SAN     ?=
OPT     ?= -O2
CFLAGS_BASE = -std=c11 $(OPT) -g -Wall -Wextra -Werror -D_GNU_SOURCE -fPIC \
              -Iinclude -Isrc -I$(BUILD)/gen
ifeq ($(SAN),1)
CFLAGS_BASE += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDSAN = -fsanitize=address,undefined
endif
CFLAGS  ?=
ALL_CFLAGS = $(CFLAGS_BASE) $(CFLAGS)
# The small libraries are linked statically so that only Dawn's shared
# library (loaded at run time with dlopen) has to travel with build/.
LIBS    = -Wl,-Bstatic -lpcre2-8 -lutf8proc -Wl,-Bdynamic -ldl -lm -lpthread

LIB_SRC  := $(shell find src -name '*.c' -not -path 'src/cli/*' -not -path 'src/web/*' | sort)
CLI_SRC  := $(shell find src/cli -name '*.c' | sort)
WGSL     := $(shell find src -name '*.wgsl' | sort)
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/gen/wgsl_embed.o
# The CLI links its own copies of the escaping routine and the JSON reader
# (wgpt template reads messages): libwgpt.a hides the library's.
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/src/util/text.o $(BUILD)/obj/src/util/json.o
TEST_SRC := $(sort $(wildcard tests/unit/test_*.c))
TEST_BIN := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all demo test test-unit test-san deps clean
all: $(BUILD)/libwgpt.a $(BUILD)/wgpt $(BUILD)/wgpt-kbench

$(BUILD)/embed: tools/embed.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -O1 -Wall -Wextra -Werror -o $@ $<

$(BUILD)/gen/wgsl_embed.c: $(BUILD)/embed $(WGSL)
	@mkdir -p $(@D)
	$(BUILD)/embed $@ $(WGSL)

$(BUILD)/obj/gen/wgsl_embed.o: $(BUILD)/gen/wgsl_embed.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/obj/%.o: %.c $(BUILD)/gen/wgsl_embed.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

# Every object with its symbols as they are, for the unit tests (which call
# internal functions).
$(BUILD)/libwgpt_internal.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

# The public archive: the library as one object in which only the functions
# include/wgpt.h declares stay global, so that a program linking wgpt next
# to llama.cpp meets no gguf_*, ggml_* or set_err of ours (tests/e2e/test_symbols.sh).
$(BUILD)/wgpt_api.syms: include/wgpt.h
	@mkdir -p $(@D)
	grep -E '^[a-z]' $< | grep -oE '\bwgpt_[a-z0-9_]+\(' | tr -d '(' | sort -u >$@

$(BUILD)/libwgpt.a: $(LIB_OBJ) $(BUILD)/wgpt_api.syms
	@rm -f $@
	ld -r -o $(BUILD)/obj/libwgpt_all.o $(LIB_OBJ)
	objcopy --keep-global-symbols=$(BUILD)/wgpt_api.syms $(BUILD)/obj/libwgpt_all.o $(BUILD)/obj/libwgpt.o
	ar rcs $@ $(BUILD)/obj/libwgpt.o

# Against the public archive alone, which proves the CLI uses the API alone.
$(BUILD)/wgpt: $(CLI_OBJ) $(BUILD)/libwgpt.a
	$(CC) $(LDSAN) -o $@ $(CLI_OBJ) $(BUILD)/libwgpt.a $(LIBS)

# The matrix-vector kernels side by side, checked and timed (tools/kbench.c).
$(BUILD)/wgpt-kbench: tools/kbench.c $(BUILD)/libwgpt_internal.a
	$(CC) $(ALL_CFLAGS) $(LDSAN) -o $@ $< $(BUILD)/libwgpt_internal.a $(LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libwgpt_internal.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP $(LDSAN) -o $@ $< $(BUILD)/libwgpt_internal.a -lcmocka $(LIBS)

# Installs Debian packages, the pinned npm packages (Dawn, oracles) and
# SwiftShader into .deps/ when missing. Safe to run again.
deps:
	@scripts/setup.sh

demo: deps all
	@scripts/demo.sh

test: deps all web $(TEST_BIN)
	@echo "building the ASan/UBSan variant in build-san/"
	@$(MAKE) -s --no-print-directory BUILD=build-san SAN=1 OPT=-O1 all tests-bin
	@tests/run.sh

tests-bin: $(TEST_BIN)

clean:
	rm -rf build build-san

-include $(shell find $(BUILD)/obj $(BUILD)/tests -name '*.d' 2>/dev/null)

# The browser build served on http://127.0.0.1:8080/ (PORT=N for another
# port) with Range requests; /default.gguf is models/default.gguf.
.PHONY: web-serve
web-serve: web all
	$(BUILD)/wgpt serve-web --root $(BUILD)/web --port $(or $(PORT),8080)

-include src/web/web.mk
