/* libFuzzer harness: config.json mapped to GGUF metadata as a Hugging Face
 * folder's is (formats/hf_folder.c), including Llama 3's rope_freqs. Any
 * input must give metadata or one line of error, never a crash. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/hf_folder.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    model_dir *d = calloc(1, sizeof *d);
    if (!d) return 0;
    gb_init(&d->b);
    char err[512];
    err[0] = 0;
    if (hf_config_read(d, (const char *)data, size, err, sizeof err) != 0 && (!err[0] || strchr(err, '\n'))) abort();
    gguf_file g;
    if (gb_finish(&d->b, &g) == 0) gguf_close(&g);
    model_dir_free(d);
    return 0;
}
