/* The calls that belong to no handle: version, status names, and the free
 * that matches the library's own allocations. */
#include <stdlib.h>

#include "wgpt.h"

const char *wgpt_version(void) { return WGPT_VERSION; }

const char *wgpt_status_str(wgpt_status s) {
    switch (s) {
    case WGPT_OK: return "ok";
    case WGPT_PENDING: return "pending: the GPU has not finished";
    case WGPT_ERR_IO: return "I/O error";
    case WGPT_ERR_FORMAT: return "not a readable model file";
    case WGPT_ERR_UNSUPPORTED: return "unsupported by this engine or adapter";
    case WGPT_ERR_GPU: return "GPU error";
    case WGPT_ERR_ARG: return "invalid argument";
    case WGPT_ERR_CONTEXT_FULL: return "context full";
    case WGPT_ERR_NOMEM: return "out of memory";
    case WGPT_ERR_STATE: return "call out of order";
    case WGPT_ERR_NOT_FINITE: return "logits not finite";
    }
    return "unknown status";
}

/* The ids the tokenizers return come from this library's malloc; a caller
 * behind a DLL or wasm boundary may have another one. */
void wgpt_free(void *p) { free(p); }
