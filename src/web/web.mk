# make web: the browser build in $(BUILD)/web/ — the same C core as the
# native build (everything in src/ but the native GPU layer and the CLI)
# compiled to WebAssembly with clang --target=wasm32-wasi and Debian's
# wasi-libc, with src/gpu/gpu_browser.c as the GPU layer, src/web/wasm_api.c
# as the exported API, the JS module src/web/wgpt.js, and the page files of
# src/web/. PCRE2 and utf8proc for wasm come from tools/wasm_deps.sh
# (Debian's source packages, built once into .deps/wasm/).
WASM_CC      ?= clang-14
WEB_OUT      := $(BUILD)/web
WASM_OBJDIR  := $(BUILD)/wasm-obj
WASM_DEPS    := .deps/wasm
WASM_SRC     := $(filter-out src/gpu/gpu_webgpu.c,$(LIB_SRC)) src/web/wasm_api.c src/web/sjlj.c
WASM_OBJ     := $(WASM_SRC:%.c=$(WASM_OBJDIR)/%.o) $(WASM_OBJDIR)/gen/wgsl_embed.o
WASM_LIBS    := $(WASM_DEPS)/lib/libpcre2-8.a $(WASM_DEPS)/lib/libutf8proc.a
# gguf.c's mmap path is never taken in the browser (the loader is fed by
# JS); wasi-libc's emulated mman lets it compile unchanged.
# setjmp/longjmp (the Jinja interpreter's error path) become WebAssembly
# exceptions: wasi-libc has neither, src/web/sjlj/ declares them and
# src/web/sjlj.c is the runtime clang's lowering calls.
WASM_CFLAGS  := --target=wasm32-wasi -std=c11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -D_WASI_EMULATED_MMAN \
                -mllvm -wasm-enable-sjlj -mexception-handling -Isrc/web/sjlj \
                -DPCRE2_STATIC -DUTF8PROC_STATIC -Iinclude -Isrc -I$(BUILD)/gen -I$(WASM_DEPS)/include
WASM_LDFLAGS := --target=wasm32-wasi -mexec-model=reactor -Wl,--strip-debug -Wl,-z,stack-size=1048576 \
                -Wl,--max-memory=4294967296
WEB_PAGE     := $(filter-out src/web/wgpt.js,$(wildcard src/web/*.html src/web/*.css src/web/*.js))

.PHONY: web
web: $(WEB_OUT)/wgpt.wasm $(WEB_OUT)/wgpt.js $(WEB_PAGE:src/web/%=$(WEB_OUT)/%)
	@w=$$(gzip -9c $(WEB_OUT)/wgpt.wasm | wc -c); j=$$(gzip -9c $(WEB_OUT)/wgpt.js | wc -c); \
	 printf 'web: %s/ — wgpt.wasm %d KB + wgpt.js %d KB = %d KB gzipped (%d KB raw)\n' $(WEB_OUT) \
	   $$(( (w + 512) / 1024 )) $$(( (j + 512) / 1024 )) $$(( (w + j + 512) / 1024 )) \
	   $$(( ($$(stat -c %s $(WEB_OUT)/wgpt.wasm) + $$(stat -c %s $(WEB_OUT)/wgpt.js) + 512) / 1024 ))

$(WASM_LIBS) &: tools/wasm_deps.sh
	@tools/wasm_deps.sh
	@touch $(WASM_LIBS)

$(WASM_OBJDIR)/gen/wgsl_embed.o: $(BUILD)/gen/wgsl_embed.c
	@mkdir -p $(@D)
	$(WASM_CC) $(WASM_CFLAGS) -c -o $@ $<

$(WASM_OBJDIR)/%.o: %.c $(BUILD)/gen/wgsl_embed.c $(WASM_LIBS)
	@mkdir -p $(@D)
	$(WASM_CC) $(WASM_CFLAGS) -MMD -MP -c -o $@ $<

$(WEB_OUT)/wgpt.wasm: $(WASM_OBJ) $(WASM_LIBS)
	@mkdir -p $(@D)
	$(WASM_CC) $(WASM_LDFLAGS) -o $@ $(WASM_OBJ) $(WASM_LIBS) -lwasi-emulated-mman

$(WEB_OUT)/%: src/web/%
	@mkdir -p $(@D)
	cp $< $@

-include $(shell find $(WASM_OBJDIR) -name '*.d' 2>/dev/null)
