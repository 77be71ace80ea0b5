/* setjmp/longjmp for the browser build: Debian's wasi-libc has none, and
 * src/template/jinja.c unwinds its errors with them. clang lowers both
 * (-mllvm -wasm-enable-sjlj, web.mk) to WebAssembly exceptions, with the
 * runtime in src/web/sjlj.c; the buffer only holds the id the runtime gives. */
#ifndef WGPT_WEB_SETJMP_H
#define WGPT_WEB_SETJMP_H

typedef unsigned long jmp_buf[2];
int setjmp(jmp_buf env) __attribute__((returns_twice));
_Noreturn void longjmp(jmp_buf env, int val);

#endif
