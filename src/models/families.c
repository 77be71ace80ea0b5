/* The registry of model families, looked up by general.architecture. A new
 * family is one file (family_*.c) and one line here. */
#include <stdio.h>
#include <string.h>

#include "models/decoder.h"

extern const model_family family_llama, family_qwen2, family_qwen3, family_gpt2, family_gemma3;

static const model_family *const families[] = {&family_llama, &family_qwen2, &family_qwen3, &family_gpt2,
                                                  &family_gemma3};
#define N_FAMILIES (sizeof families / sizeof *families)

const model_family *family_find(const char *arch, size_t len) {
    for (size_t i = 0; i < N_FAMILIES; i++)
        if (strlen(families[i]->arch) == len && memcmp(families[i]->arch, arch, len) == 0) return families[i];
    return NULL;
}

const char *family_list(void) {
    static char list[256];
    if (!list[0])
        for (size_t i = 0; i < N_FAMILIES; i++) {
            size_t n = strlen(list);
            snprintf(list + n, sizeof list - n, "%s%s", i ? ", " : "", families[i]->arch);
        }
    return list;
}
