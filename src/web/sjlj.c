/* The runtime clang 14's WebAssembly setjmp/longjmp lowering calls
 * (-mllvm -wasm-enable-sjlj -mexception-handling, web.mk; see sjlj/setjmp.h): each setjmp gets an id,
 * kept with its label in a table the calling function owns; longjmp throws
 * the __c_longjmp exception with the buffer and value, and the functions
 * that called setjmp catch it and compare ids. As emscripten's
 * emscripten_setjmp.c of the same LLVM. Built only by `make web`. */
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>

static uint32_t temp_ret0;
void setTempRet0(uint32_t v);
uint32_t getTempRet0(void);
void setTempRet0(uint32_t v) { temp_ret0 = v; }
uint32_t getTempRet0(void) { return temp_ret0; }

typedef struct { uint32_t id, label; } sjlj_entry;

sjlj_entry *saveSetjmp(uint32_t *env, uint32_t label, sjlj_entry *table, uint32_t size);
sjlj_entry *saveSetjmp(uint32_t *env, uint32_t label, sjlj_entry *table, uint32_t size) {
    static uint32_t next_id;
    uint32_t i = 0;
    *env = ++next_id;
    while (i < size && table[i].id) i++;
    if (i == size) { /* full: the table (size + 1 entries, a zero id last) doubles */
        size *= 2;
        if (!(table = realloc(table, sizeof *table * (size + 1)))) abort();
    }
    table[i].id = *env;
    table[i].label = label;
    table[i + 1].id = 0;
    setTempRet0(size);
    return table;
}

uint32_t testSetjmp(uint32_t id, const sjlj_entry *table, uint32_t size);
uint32_t testSetjmp(uint32_t id, const sjlj_entry *table, uint32_t size) {
    for (uint32_t i = 0; i < size && table[i].id; i++)
        if (table[i].id == id) return table[i].label;
    return 0;
}

static struct { void *env; int val; } longjmp_args;
void __wasm_longjmp(void *env, int val);
void __wasm_longjmp(void *env, int val) {
    longjmp_args.env = env;
    longjmp_args.val = val;
    __builtin_wasm_throw(1, &longjmp_args);
}

/* A setjmp of its own, so that this file defines the __c_longjmp tag the
 * throw above names (clang defines it only where setjmp is lowered). */
int wgptw_sjlj_anchor(void (*fn)(void));
int wgptw_sjlj_anchor(void (*fn)(void)) {
    jmp_buf b;
    if (setjmp(b)) return 1;
    fn();
    return 0;
}
