#!/usr/bin/env bash
# libwgpt.a exports the public API and nothing else, so that a program can
# link it next to llama.cpp (which exports gguf_*, ggml_* of its own) or
# next to its own set_err: every global symbol the archive defines is a
# function include/wgpt.h declares, and each such function is there; a
# program defining the library's internal names links and runs with it.
# The CLI is built against that archive alone: its files include only
# wgpt.h, their own headers, util/text.h and util/json.h (each linked as a
# copy of its own), and reference no symbol only the internal archive defines.
set -u
cd "$(dirname "$0")/../.."
. tests/e2e/lib.sh
lib=build/libwgpt.a internal=build/libwgpt_internal.a
for f in $lib $internal build/obj/src/util/text.o build/obj/src/util/json.o; do [ -f "$f" ] || { echo "$f missing (run make)"; exit 1; }; done
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# The functions wgpt.h declares: declarations start a line; comments do not.
grep -E '^[a-z]' include/wgpt.h | grep -oE '\bwgpt_[a-z0-9_]+\(' | tr -d '(' | sort -u >"$tmp/declared"
nm -g --defined-only "$lib" | awk 'NF == 3 {print $3}' | sort -u >"$tmp/exported"
n=$(wc -l <"$tmp/exported")
[ "$n" -gt 0 ] || bad "nm found no symbols in $lib"
stray=$(grep -v '^wgpt_' "$tmp/exported" | head -n 20)
[ -z "$stray" ] && ok "all $n global symbols of $lib start with wgpt_" || bad "global symbols without the prefix: $(echo $stray)"
extra=$(comm -23 "$tmp/exported" "$tmp/declared")
[ -z "$extra" ] && ok "each is declared in include/wgpt.h" || bad "exported but not in wgpt.h: $(echo $extra)"
missing=$(comm -13 "$tmp/exported" "$tmp/declared")
[ -z "$missing" ] && ok "every function wgpt.h declares is exported" || bad "declared but not exported: $(echo $missing)"
# What the archive still needs comes from libc, PCRE2 and the like: none of
# it is a symbol of the library itself left unresolved by the hiding.
nm -g --defined-only "$internal" | awk 'NF == 3 {print $3}' | sort -u >"$tmp/internal"
nm -u "$lib" | awk '{print $NF}' | sort -u >"$tmp/undef"
own=$(comm -12 "$tmp/undef" "$tmp/internal" | head -n 10)
[ -z "$own" ] && ok "its $(wc -l <"$tmp/undef") undefined references are all outside the library (libc, PCRE2, ...)" ||
  bad "it leaves its own symbols undefined: $(echo $own)"

# Names that llama.cpp or any program may define (some clashed before).
cat >"$tmp/app.c" <<'EOF'
#include <stdio.h>
#include <string.h>
#include "wgpt.h"
int gguf_find_tensor(void) { return 0; }
int gguf_find(void) { return 0; }
int gguf_open(void) { return 0; }
int gguf_type_name(void) { return 0; }
int ggml_type_name(void) { return 0; }
void set_err(void) {}
int sampler_create(void) { return 0; }
void tokenizer_free(void) {}
int graph_create(void) { return 0; }
int text_escape(void) { return 0; }
int now_seconds(void) { return 0; }
int main(int argc, char **argv) {
    (void)argc;
    /* The library's own gguf_* must still be the ones it calls. */
    wgpt_file *f = NULL;
    char err[512] = "";
    if (wgpt_file_open(argv[1], &f, err, sizeof err) != WGPT_OK) { printf("open failed: %s\n", err); return 1; }
    int64_t i = wgpt_file_meta_find(f, "general.architecture");
    wgpt_meta m;
    if (i < 0 || wgpt_file_meta(f, (uint64_t)i, &m) != WGPT_OK || m.type != WGPT_META_STR) return 1;
    wgpt_tensor_info t;
    if (wgpt_file_tensor(f, 0, &t) != WGPT_OK) return 1;
    printf("%s %s %.*s %s\n", wgpt_version(), wgpt_status_str(WGPT_ERR_FORMAT), (int)m.str.len, m.str.ptr, t.type_name);
    wgpt_file_close(f);
    return 0;
}
EOF
if cc -std=c11 -Wall -Iinclude -o "$tmp/app" "$tmp/app.c" "$lib" \
     -Wl,-Bstatic -lpcre2-8 -lutf8proc -Wl,-Bdynamic -ldl -lm -lpthread 2>"$tmp/link.log"; then
  ok "a program defining gguf_find_tensor, ggml_type_name, set_err, sampler_create, ... links with $lib"
  out=$("$tmp/app" models/default.gguf 2>&1)
  first_type=$(build/wgpt inspect models/default.gguf | sed -n '/^tensors:/{n;n;p;q}' | awk '{print $3}')
  [ "$out" = "$(build/wgpt --version | cut -d' ' -f2) not a readable model file llama $first_type" ] &&
    ok "and runs on the library's own GGUF reader: $out" || bad "the program printed: $out"
else
  bad "link failed: $(head -n 5 "$tmp/link.log")"
fi

# The CLI's includes and references.
for c in src/cli/*.c src/cli/*.h; do
  inc=$(grep -oE '^#include "[^"]+"' "$c" | grep -vE '"(wgpt\.h|cli/[a-z_]+\.h|util/text\.h|util/json\.h)"$')
  [ -z "$inc" ] || bad "$c includes $(echo $inc)"
done
[ $fails -eq 0 ] && ok "src/cli/* includes wgpt.h, cli/*.h, util/text.h and util/json.h only"
objs=$(ls build/obj/src/cli/*.o)
nm -g --defined-only $objs build/obj/src/util/text.o build/obj/src/util/json.o "$lib" | awk 'NF == 3 {print $3}' | sort -u >"$tmp/have"
nm -u $objs | awk '{print $NF}' | sort -u | comm -23 - "$tmp/have" | comm -12 - "$tmp/internal" >"$tmp/reach"
[ -s "$tmp/reach" ] && bad "the CLI reaches internal symbols: $(head -n 10 "$tmp/reach" | tr '\n' ' ')" ||
  ok "the CLI references only public symbols and its own"
[ $fails -eq 0 ]
