/* libFuzzer harness for the safetensors header reader and the
 * model.safetensors.index.json reader: the input is parsed as a whole
 * safetensors file and, separately, as an index file. On success every
 * name and every tensor's bytes are touched (and checked to lie inside the
 * input) so the sanitizers see anything the parser let out of the buffer;
 * a failure must leave one line starting "safetensors: " and nothing
 * allocated. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/safetensors.h"

static volatile unsigned sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void bad_failure(const char *err) {
    if (strncmp(err, "safetensors: ", 13) != 0 || strchr(err, '\n')) {
        fprintf(stderr, "bad failure message '%s'\n", err);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    unsigned sum = 0;
    st_file st;
    char err[512] = "";
    if (st_parse(&st, data, size, size, 0, err, sizeof err) != 0) {
        bad_failure(err);
        if (st.tensors || st.n_tensors || st.meta_keys || st.n_meta) abort();
    } else {
        for (size_t i = 0; i < st.n_tensors; i++) {
            const st_tensor *t = &st.tensors[i];
            if (strlen(t->name) != t->name_len || t->n_dims < 0 || t->n_dims > ST_MAX_DIMS) abort();
            if (t->offset < st.data_start || t->offset > size || t->nbytes > size - t->offset) abort();
            for (size_t j = 0; j < t->name_len; j++) sum += (unsigned char)t->name[j];
            for (uint64_t j = 0; j < t->nbytes; j++) sum += data[t->offset + j];
        }
        for (size_t i = 0; i < st.n_meta; i++) sum += (unsigned)strlen(st.meta_keys[i]) + (unsigned)strlen(st.meta_vals[i]);
        st_free(&st);
    }
    st_index ix;
    if (st_index_parse(&ix, (const char *)data, size, err, sizeof err) != 0) {
        bad_failure(err);
        if (ix.names || ix.files || ix.file_of) abort();
    } else {
        for (size_t i = 0; i < ix.n_names; i++) {
            if (ix.file_of[i] < 0 || (size_t)ix.file_of[i] >= ix.n_files) abort();
            sum += (unsigned)strlen(ix.names[i]) + (unsigned)strlen(ix.files[ix.file_of[i]]);
        }
        for (size_t i = 0; i < ix.n_files; i++)
            if (strchr(ix.files[i], '/') || strstr(ix.files[i], "..")) abort();
        st_index_free(&ix);
    }
    sink = sum;
    return 0;
}
