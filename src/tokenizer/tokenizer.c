/* Vocabulary loading, special tokens and the encode driver, following
 * llama.cpp's llama_vocab::impl (load, tokenizer_st_partition, tokenize,
 * token_to_piece) so that ids match llama.cpp's for the same GGUF. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/hf_internal.h"
#include "tokenizer/tok_internal.h"
#include "util/text.h"
#include "util/util.h"

size_t utf8_seq_len(const unsigned char *s, size_t n) {
    if (n == 0) return 0;
    unsigned c = s[0];
    if (c < 0x80) return 1;
    size_t need;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) need = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        if (c == 0xE0) lo = 0xA0;      /* overlong */
        else if (c == 0xED) hi = 0x9F; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        if (c == 0xF0) lo = 0x90;      /* overlong */
        else if (c == 0xF4) hi = 0x8F; /* beyond U+10FFFF */
    } else return 0;
    if (n < need) return 0;
    if (s[1] < lo || s[1] > hi) return 0;
    for (size_t i = 2; i < need; i++)
        if ((s[i] & 0xC0) != 0x80) return 0;
    return need;
}

void tokenizer_spec_init(wgpt_tokenizer_spec *s) {
    memset(s, 0, sizeof *s);
    for (int i = 0; i < TOK_ID_COUNT; i++) s->ids[i] = -1;
    s->add_bos = s->add_eos = s->add_space_prefix = -1;
}

void tokenizer_free(wgpt_tokenizer *t) {
    if (!t) return;
    hf_free(t->hf);
    bpe_free(t);
    free(t->text);
    free(t->off);
    free(t->len);
    free(t->scores);
    free(t->attr);
    strmap_free(&t->tok2id);
    free(t->special);
    free(t->eog);
    free(t);
}

static int32_t find_text(const wgpt_tokenizer *t, const char *s) {
    return strmap_get(&t->tok2id, s, strlen(s));
}

/* llama.cpp finds these by text when the metadata does not name them. */
static const char *const EOT_TEXTS[] = {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
    "<|end_of_text|>", "<EOT>", "_<EOT>", "[EOT]", "<\xef\xbd\x9c" "end\xe2\x96\x81" "of\xe2\x96\x81" "sentence\xef\xbd\x9c>",
    "<end_of_utterance>", NULL};
static const char *const EOM_TEXTS[] = {"<|eom_id|>", NULL};
static const char *const FIM_PRE_TEXTS[] = {"<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>",
    "<\xef\xbd\x9c" "fim\xe2\x96\x81" "begin\xef\xbd\x9c>", "<PRE>", "\xe2\x96\x81<PRE>", "<|code_prefix|>", "<|prefix|>", NULL};
static const char *const FIM_SUF_TEXTS[] = {"<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>",
    "<\xef\xbd\x9c" "fim\xe2\x96\x81" "hole\xef\xbd\x9c>", "<SUF>", "\xe2\x96\x81<SUF>", "<|code_suffix|>", "<|suffix|>", NULL};
static const char *const FIM_MID_TEXTS[] = {"<|fim_middle|>", "<fim-middle>", "<fim_middle>",
    "<\xef\xbd\x9c" "fim\xe2\x96\x81" "end\xef\xbd\x9c>", "<MID>", "\xe2\x96\x81<MID>", "<|code_middle|>", "<|middle|>", NULL};
static const char *const FIM_PAD_TEXTS[] = {"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]", NULL};
static const char *const FIM_REP_TEXTS[] = {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>", NULL};
static const char *const FIM_SEP_TEXTS[] = {"<|file_sep|>", NULL};
static const char *const EOG_TEXTS[] = {"<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>",
    "<|calls|>", "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]",
    "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>",
    "<\xef\xbd\x9c" "end\xe2\x96\x81" "of\xe2\x96\x81" "sentence\xef\xbd\x9c>", "[e~[", NULL};

/* The smallest id whose text is in the list. llama.cpp walks an unordered_map
 * here, so when a vocabulary has several candidates its pick is arbitrary;
 * the smallest id at least decides the same way every time. */
static int32_t first_of(const wgpt_tokenizer *t, const char *const *list) {
    int32_t best = -1;
    for (; *list; list++) {
        int32_t id = find_text(t, *list);
        if (id >= 0 && (best < 0 || id < best)) best = id;
    }
    return best;
}

static void detect_specials(wgpt_tokenizer *t) {
    static const struct { int which; const char *const *texts; } by_text[] = {
        {TOK_ID_EOT, EOT_TEXTS}, {TOK_ID_EOM, EOM_TEXTS}, {TOK_ID_FIM_PRE, FIM_PRE_TEXTS},
        {TOK_ID_FIM_SUF, FIM_SUF_TEXTS}, {TOK_ID_FIM_MID, FIM_MID_TEXTS}, {TOK_ID_FIM_PAD, FIM_PAD_TEXTS},
        {TOK_ID_FIM_REP, FIM_REP_TEXTS}, {TOK_ID_FIM_SEP, FIM_SEP_TEXTS},
    };
    for (size_t k = 0; k < sizeof by_text / sizeof by_text[0]; k++) {
        if (t->ids[by_text[k].which] >= 0) continue;
        int32_t id = first_of(t, by_text[k].texts);
        if (id < 0) continue;
        t->ids[by_text[k].which] = id;
        /* "control-looking token was not control-type": llama.cpp overrides it */
        t->attr[id] |= ATTR_CONTROL;
    }

    memset(t->eog, 0, (size_t)t->n_vocab);
    const int eog_ids[] = {TOK_ID_FIM_PAD, TOK_ID_FIM_REP, TOK_ID_FIM_SEP};
    for (size_t k = 0; k < 3; k++)
        if (t->ids[eog_ids[k]] >= 0) t->eog[t->ids[eog_ids[k]]] = 1;
    for (const char *const *p = EOG_TEXTS; *p; p++) {
        int32_t id = find_text(t, *p);
        if (id < 0) continue;
        t->eog[id] = 1;
        t->attr[id] |= ATTR_CONTROL;
    }
    /* gpt-oss: llama.cpp always renders these, so they split like user text */
    static const char *const RENDERED[] = {"<|channel|>", "<|message|>", "<|start|>", "<|constrain|>", NULL};
    for (const char *const *p = RENDERED; *p; p++) {
        int32_t id = find_text(t, *p);
        if (id >= 0) t->attr[id] = ATTR_USER_DEFINED;
    }
    const int always[] = {TOK_ID_EOS, TOK_ID_EOT, TOK_ID_EOM};
    for (size_t k = 0; k < 3; k++)
        if (t->ids[always[k]] >= 0) t->eog[t->ids[always[k]]] = 1;

    /* o200k_harmony / solar-open: "<|end|>" ends a message, not generation */
#define EOG_TEXT(s) ((id = find_text(t, s)) >= 0 && t->eog[id])
    int32_t id;
    int has_return = EOG_TEXT("<|return|>");
    int has_call = EOG_TEXT("<|call|>") || EOG_TEXT("<|calls|>");
    int has_flush = EOG_TEXT("<|flush|>");
    int32_t end_id = EOG_TEXT("<|end|>") ? id : -1;
    if (end_id >= 0 && ((has_return && has_call) || (has_call && has_flush))) {
        t->eog[end_id] = 0;
        t->attr[end_id] = ATTR_USER_DEFINED;
    }
    /* gemma4 / paddleocr: "</s>" is not an end of generation there */
    int has_tool_response = EOG_TEXT("<|tool_response>");
    int32_t s_id = EOG_TEXT("</s>") ? id : -1;
#undef EOG_TEXT
    if (has_tool_response && s_id >= 0) {
        t->eog[s_id] = 0;
        t->attr[s_id] = ATTR_NORMAL;
    }
}

typedef struct {
    uint32_t len;
    int32_t id;
} len_id;

static int by_len_desc(const void *a, const void *b) {
    const len_id *x = a, *y = b;
    if (x->len != y->len) return x->len > y->len ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static int contains_ci(const char *hay, const char *needle) {
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] && (hay[i] >= 'A' && hay[i] <= 'Z' ? hay[i] + 32 : hay[i]) == needle[i]) i++;
        if (i == n) return 1;
    }
    return 0;
}

static int build_special_cache(wgpt_tokenizer *t, const wgpt_tokenizer_spec *s) {
    size_t n = 0;
    for (int32_t id = 0; id < t->n_vocab; id++)
        if (t->attr[id] & (ATTR_CONTROL | ATTR_USER_DEFINED | ATTR_UNKNOWN)) n++;
    t->special = malloc((n ? n : 1) * sizeof *t->special);
    len_id *tmp = malloc((n ? n : 1) * sizeof *tmp);
    if (!t->special || !tmp) { free(tmp); return -1; }
    t->n_special = 0;
    for (int32_t id = 0; id < t->n_vocab; id++)
        if (t->attr[id] & (ATTR_CONTROL | ATTR_USER_DEFINED | ATTR_UNKNOWN))
            tmp[t->n_special++] = (len_id){t->len[id], id};
    /* llama.cpp's std::sort leaves equal lengths in an unspecified order;
     * ids break the tie here so that the result is at least deterministic. */
    qsort(tmp, t->n_special, sizeof *tmp, by_len_desc);
    for (size_t i = 0; i < t->n_special; i++) t->special[i] = tmp[i].id;
    free(tmp);

    /* Per-model strip attributes, as llama.cpp sets them by name. */
    const char *pre = s->pre ? s->pre : "";
    const char *name = s->name ? s->name : "";
    if (strstr(pre, "jina-v2-de") || strstr(pre, "jina-v2-es") || strstr(pre, "jina-v2-code")) {
        int32_t id = find_text(t, "<mask>");
        if (id >= 0) t->attr[id] |= ATTR_LSTRIP;
    } else if (contains_ci(name, "phi-3") || contains_ci(name, "phi3")) {
        for (size_t i = 0; i < t->n_special; i++) t->attr[t->special[i]] |= ATTR_RSTRIP;
        int32_t id = find_text(t, "</s>");
        if (id >= 0) t->attr[id] |= ATTR_RSTRIP;
        const char *keep[] = {"<unk>", "<s>", "<|endoftext|>"};
        for (int k = 0; k < 3; k++)
            if ((id = find_text(t, keep[k])) >= 0) t->attr[id] &= ~(uint32_t)ATTR_RSTRIP;
    } else if (contains_ci(name, "modern-bert")) {
        int32_t id = find_text(t, "[MASK]");
        if (id >= 0) t->attr[id] |= ATTR_LSTRIP;
    }
    return 0;
}

int tokenizer_from_spec(const wgpt_tokenizer_spec *s, wgpt_tokenizer **out, char *err, size_t errlen) {
    *out = NULL;
    if (!s->model) { set_err(err, errlen, "tokenizer: no tokenizer model given"); return -1; }
    int type;
    if (strcmp(s->model, "llama") == 0) type = TOK_SPM;
    else if (strcmp(s->model, "gpt2") == 0) type = TOK_BPE;
    else {
        set_err(err, errlen, "tokenizer: unsupported tokenizer model '%s' (supported: llama, gpt2)", text_show_z(s->model));
        return -1;
    }
    if (s->n_tokens == 0 || s->n_tokens > INT32_MAX) {
        set_err(err, errlen, "tokenizer: vocabulary has %zu tokens", s->n_tokens);
        return -1;
    }
    wgpt_tokenizer *t = calloc(1, sizeof *t);
    if (!t) { set_err(err, errlen, "tokenizer: out of memory"); return -1; }
    t->type = type;
    t->n_vocab = (int32_t)s->n_tokens;
    for (int i = 0; i < TOK_ID_COUNT; i++) t->ids[i] = -1;
    if (type == TOK_SPM) {
        t->ids[TOK_ID_BOS] = 1;
        t->ids[TOK_ID_EOS] = 2;
        t->ids[TOK_ID_UNK] = 0;
        t->add_space_prefix = 1;
        t->add_bos = 1;
    } else {
        t->ids[TOK_ID_BOS] = 11;
        t->ids[TOK_ID_EOS] = 11;
        /* The pre-tokenizer is looked up by its escaped name, so that the
         * name bpe_setup quotes when it knows none is safe to print. Every
         * known name is plain ASCII, which escaping leaves as it is. */
        char pre[256];
        if (s->pre) text_escape(pre, sizeof pre, s->pre, strlen(s->pre), 64);
        if (bpe_setup(t, s->pre ? pre : NULL, s->merges, s->n_merges, err, errlen) < 0) goto fail;
    }
    if (s->add_space_prefix >= 0) t->add_space_prefix = s->add_space_prefix;

    /* token texts; llama.cpp renames empty ones so that each has a text */
    size_t n = s->n_tokens, total = 0;
    for (size_t i = 0; i < n; i++) total += s->tokens[i].len ? s->tokens[i].len : 32;
    t->text = malloc(total ? total : 1);
    t->off = malloc(n * sizeof *t->off);
    t->len = malloc(n * sizeof *t->len);
    t->scores = malloc(n * sizeof *t->scores);
    t->attr = malloc(n * sizeof *t->attr);
    t->eog = calloc(n, 1);
    if (!t->text || !t->off || !t->len || !t->scores || !t->attr || !t->eog || strmap_init(&t->tok2id, n) < 0) {
        set_err(err, errlen, "tokenizer: out of memory for %zu tokens", n);
        goto fail;
    }
    uint64_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        t->off[i] = pos;
        if (s->tokens[i].len == 0) {
            int l = snprintf(t->text + pos, 32, "[EMPTY_%zu]", i);
            t->len[i] = (uint32_t)l;
        } else {
            if (s->tokens[i].len > UINT32_MAX) { set_err(err, errlen, "tokenizer: token %zu is too long", i); goto fail; }
            memcpy(t->text + pos, s->tokens[i].ptr, s->tokens[i].len);
            t->len[i] = (uint32_t)s->tokens[i].len;
        }
        pos += t->len[i];
    }
    for (size_t i = 0; i < n; i++) {
        if (strmap_put(&t->tok2id, t->text + t->off[i], t->len[i], (int32_t)i, 1) < 0) {
            set_err(err, errlen, "tokenizer: out of memory");
            goto fail;
        }
        t->scores[i] = s->scores ? s->scores[i] : 0.0f;
        uint32_t a = ATTR_NORMAL;
        if (s->types) {
            switch (s->types[i]) {
            case TOKEN_TYPE_UNKNOWN: a = ATTR_UNKNOWN; break;
            case TOKEN_TYPE_UNUSED: a = ATTR_UNUSED; break;
            case TOKEN_TYPE_NORMAL: a = ATTR_NORMAL; break;
            case TOKEN_TYPE_CONTROL: a = ATTR_CONTROL; break;
            case TOKEN_TYPE_USER_DEFINED: a = ATTR_USER_DEFINED; break;
            case TOKEN_TYPE_BYTE: a = ATTR_BYTE; break;
            default: a = 0; break;
            }
        }
        t->attr[i] = a;
    }

    /* Default ids beyond the vocabulary are dropped; given ids beyond it are
     * ignored (llama.cpp warns and keeps the default). */
    for (int i = 0; i < TOK_ID_COUNT; i++) {
        if (t->ids[i] >= t->n_vocab) t->ids[i] = -1;
        if (s->ids[i] >= 0 && s->ids[i] < t->n_vocab) t->ids[i] = (int32_t)s->ids[i];
    }
    if (s->add_bos >= 0) t->add_bos = s->add_bos;
    if (t->force_bos) t->add_bos = 1; /* llama.cpp overrides the metadata for GEMMA4 */
    if (s->add_eos >= 0) t->add_eos = s->add_eos;

    detect_specials(t);
    if (build_special_cache(t, s) < 0) { set_err(err, errlen, "tokenizer: out of memory"); goto fail; }
    *out = t;
    return 0;
fail:
    tokenizer_free(t);
    return -1;
}

/* ---- GGUF ---- */

static char *dup_str(gguf_str s) {
    char *p = malloc((size_t)s.len + 1);
    if (!p) return NULL;
    memcpy(p, s.ptr, (size_t)s.len);
    p[s.len] = 0;
    return p;
}

/* A Hugging Face folder, presented as GGUF metadata by the folder reader:
 * the files' texts as strings, generation_config.json's eos ids as an array. */
static int hf_str(const gguf_file *g, const char *key, gguf_str *s, char *err, size_t errlen) {
    const gguf_kv *kv = gguf_find(g, key);
    s->ptr = NULL;
    s->len = 0;
    if (!kv) return 0;
    if (gguf_get_str(g, key, s) < 0) {
        set_err(err, errlen, "tokenizer: %s is not a string", key);
        return -1;
    }
    return 1;
}

static int from_gguf_hf(const gguf_file *g, wgpt_tokenizer **out, char *err, size_t errlen) {
    gguf_str js, cfg, vocab, merges;
    int hj = hf_str(g, "tokenizer.huggingface.json", &js, err, errlen);
    int hc = hf_str(g, "tokenizer.huggingface.config_json", &cfg, err, errlen);
    int hv = hf_str(g, "tokenizer.huggingface.vocab_json", &vocab, err, errlen);
    int hm = hf_str(g, "tokenizer.huggingface.merges_txt", &merges, err, errlen);
    if (hj < 0 || hc < 0 || hv < 0 || hm < 0) return -1;
    int rc;
    if (hj) {
        rc = tokenizer_from_hf(js.ptr, (size_t)js.len, hc ? cfg.ptr : NULL, (size_t)cfg.len, out, err, errlen);
    } else {
        if (!hm) {
            set_err(err, errlen, "tokenizer: vocab.json without merges.txt");
            return -1;
        }
        rc = tokenizer_from_gpt2_files(vocab.ptr, (size_t)vocab.len, merges.ptr, (size_t)merges.len, out, err, errlen);
    }
    if (rc < 0) return -1;
    const gguf_kv *kv = gguf_find(g, "tokenizer.huggingface.eos_token_ids");
    if (kv) {
        if (kv->type != GGUF_TYPE_ARRAY || kv->arr_type != GGUF_TYPE_INT32) {
            tokenizer_free(*out);
            *out = NULL;
            set_err(err, errlen, "tokenizer: tokenizer.huggingface.eos_token_ids is not an int32 array");
            return -1;
        }
        for (uint64_t i = 0; i < kv->arr_len; i++) {
            double d = -1;
            gguf_arr_num(kv, i, &d);
            /* ids beyond the vocabulary cannot be sampled: nothing to stop at */
            if (d >= 0 && d < (*out)->n_vocab) (*out)->eog[(int32_t)d] = 1;
        }
    }
    return 0;
}

int tokenizer_from_gguf(const gguf_file *g, wgpt_tokenizer **out, char *err, size_t errlen) {
    static const char *const id_keys[TOK_ID_COUNT] = {
        "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id",
        "tokenizer.ggml.eom_token_id", "tokenizer.ggml.unknown_token_id",
        "tokenizer.ggml.seperator_token_id", /* sic: llama.cpp's spelling */
        "tokenizer.ggml.padding_token_id", "tokenizer.ggml.mask_token_id",
        "tokenizer.ggml.fim_pre_token_id", "tokenizer.ggml.fim_suf_token_id", "tokenizer.ggml.fim_mid_token_id",
        "tokenizer.ggml.fim_pad_token_id", "tokenizer.ggml.fim_rep_token_id", "tokenizer.ggml.fim_sep_token_id",
    };
    /* older names of the FIM ids, read when the new ones are absent */
    static const char *const old_fim[3] = {"tokenizer.ggml.prefix_token_id", "tokenizer.ggml.suffix_token_id",
                                           "tokenizer.ggml.middle_token_id"};
    *out = NULL;
    wgpt_tokenizer_spec s;
    tokenizer_spec_init(&s);
    char *model = NULL, *pre = NULL, *name = NULL;
    gguf_str *tokens = NULL, *merges = NULL;
    float *scores = NULL;
    int32_t *types = NULL;
    int rc = -1;
    gguf_str str;

    if (!gguf_find(g, "tokenizer.ggml.tokens") && (gguf_find(g, "tokenizer.huggingface.json") ||
                                                   gguf_find(g, "tokenizer.huggingface.vocab_json")))
        return from_gguf_hf(g, out, err, errlen);
    if (gguf_get_str(g, "tokenizer.ggml.model", &str) < 0) {
        set_err(err, errlen, "tokenizer: this GGUF has no tokenizer (tokenizer.ggml.model missing)");
        return -1;
    }
    if (!(model = dup_str(str))) goto oom;
    if (gguf_get_str(g, "tokenizer.ggml.pre", &str) == 0 && !(pre = dup_str(str))) goto oom;
    if (gguf_get_str(g, "general.name", &str) == 0 && !(name = dup_str(str))) goto oom;
    s.model = model;
    s.pre = pre;
    s.name = name;

    const gguf_kv *kv = gguf_find(g, "tokenizer.ggml.tokens");
    if (!kv || kv->type != GGUF_TYPE_ARRAY || kv->arr_type != GGUF_TYPE_STRING) {
        set_err(err, errlen, "tokenizer: tokenizer.ggml.tokens missing or not a string array");
        goto done;
    }
    if (gguf_arr_strings(kv, &tokens) < 0) goto oom;
    s.tokens = tokens;
    s.n_tokens = (size_t)kv->arr_len;
    size_t n = s.n_tokens;

    kv = gguf_find(g, "tokenizer.ggml.scores");
    if (kv) {
        if (kv->type != GGUF_TYPE_ARRAY || (kv->arr_type != GGUF_TYPE_FLOAT32 && kv->arr_type != GGUF_TYPE_INT32)) {
            set_err(err, errlen, "tokenizer: tokenizer.ggml.scores is not a float32/int32 array");
            goto done;
        }
        if (kv->arr_len < n) {
            set_err(err, errlen, "tokenizer: %llu scores for %zu tokens", (unsigned long long)kv->arr_len, n);
            goto done;
        }
        if (!(scores = malloc((n ? n : 1) * sizeof *scores))) goto oom;
        for (size_t i = 0; i < n; i++) {
            double d = 0;
            gguf_arr_num(kv, i, &d);
            scores[i] = (float)d;
        }
        s.scores = scores;
    }
    kv = gguf_find(g, "tokenizer.ggml.token_type");
    if (kv) {
        if (kv->type != GGUF_TYPE_ARRAY || kv->arr_type != GGUF_TYPE_INT32) {
            set_err(err, errlen, "tokenizer: tokenizer.ggml.token_type is not an int32 array");
            goto done;
        }
        if (kv->arr_len < n) {
            set_err(err, errlen, "tokenizer: %llu token types for %zu tokens", (unsigned long long)kv->arr_len, n);
            goto done;
        }
        if (!(types = malloc((n ? n : 1) * sizeof *types))) goto oom;
        for (size_t i = 0; i < n; i++) {
            double d = 0;
            gguf_arr_num(kv, i, &d);
            types[i] = (int32_t)d;
        }
        s.types = types;
    }
    if (strcmp(model, "gpt2") == 0) {
        kv = gguf_find(g, "tokenizer.ggml.merges");
        if (!kv || kv->type != GGUF_TYPE_ARRAY || kv->arr_type != GGUF_TYPE_STRING) {
            set_err(err, errlen, "tokenizer: tokenizer.ggml.merges missing or not a string array");
            goto done;
        }
        if (gguf_arr_strings(kv, &merges) < 0) goto oom;
        s.merges = merges;
        s.n_merges = (size_t)kv->arr_len;
    }
    for (int i = 0; i < TOK_ID_COUNT; i++) {
        uint64_t v;
        if (gguf_get_u64(g, id_keys[i], &v) == 0 && v <= INT32_MAX) s.ids[i] = (int64_t)v;
    }
    for (int i = 0; i < 3; i++) {
        uint64_t v;
        /* llama.cpp reads the old keys after the new ones, so they win */
        if (gguf_get_u64(g, old_fim[i], &v) == 0 && v < n) s.ids[TOK_ID_FIM_PRE + i] = (int64_t)v;
    }
    int b;
    if (gguf_get_bool(g, "tokenizer.ggml.add_bos_token", &b) == 0) s.add_bos = b;
    if (gguf_get_bool(g, "tokenizer.ggml.add_eos_token", &b) == 0) s.add_eos = b;
    if (gguf_get_bool(g, "tokenizer.ggml.add_space_prefix", &b) == 0) s.add_space_prefix = b;

    rc = tokenizer_from_spec(&s, out, err, errlen);
    goto done;
oom:
    set_err(err, errlen, "tokenizer: out of memory");
done:
    free(model);
    free(pre);
    free(name);
    free(tokens);
    free(merges);
    free(scores);
    free(types);
    return rc;
}

/* ---- encoding ---- */

typedef struct {
    int32_t tok; /* -1: raw text */
    size_t off, len;
} frag;

typedef struct {
    frag *v;
    size_t n, cap;
} frags;

static int frags_push(frags *f, int32_t tok, size_t off, size_t len) {
    if (f->n == f->cap) {
        size_t nc = f->cap ? f->cap * 2 : 16;
        frag *v = realloc(f->v, nc * sizeof *v);
        if (!v) return -1;
        f->v = v;
        f->cap = nc;
    }
    f->v[f->n++] = (frag){tok, off, len};
    return 0;
}

static int c_isspace(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

/* tokenizer_st_partition: each special token, longest first, splits every
 * remaining raw-text fragment at its occurrences, left to right. */
static int partition(const wgpt_tokenizer *t, const char *text, size_t len, int parse_special, frags *out) {
    frags cur = {0}, nxt = {0};
    if (len && frags_push(&cur, -1, 0, len) < 0) return -1;
    for (size_t k = 0; k < t->n_special; k++) {
        int32_t id = t->special[k];
        uint32_t a = t->attr[id];
        if (!parse_special && (a & (ATTR_CONTROL | ATTR_UNKNOWN))) continue;
        const char *st = tok_text(t, id);
        size_t sl = t->len[id];
        int any = 0;
        for (size_t i = 0; i < cur.n && !any; i++)
            if (cur.v[i].tok < 0 && memmem(text + cur.v[i].off, cur.v[i].len, st, sl)) any = 1;
        if (!any) continue;
        nxt.n = 0;
        for (size_t i = 0; i < cur.n; i++) {
            frag f = cur.v[i];
            if (f.tok >= 0) {
                if (frags_push(&nxt, f.tok, 0, 0) < 0) goto oom;
                continue;
            }
            size_t base = f.off, blen = f.len;
            while (blen > 0) {
                const char *m = memmem(text + base, blen, st, sl);
                if (!m) {
                    if (frags_push(&nxt, -1, base, blen) < 0) goto oom;
                    break;
                }
                size_t mo = (size_t)(m - text);
                size_t left = mo - base;
                if (a & ATTR_LSTRIP)
                    while (left > 0 && c_isspace(text[base + left - 1])) left--;
                if (left > 0 && frags_push(&nxt, -1, base, left) < 0) goto oom;
                if (frags_push(&nxt, id, 0, 0) < 0) goto oom;
                size_t roff = mo + sl, rlen = base + blen - roff;
                if (a & ATTR_RSTRIP)
                    while (rlen > 0 && c_isspace(text[roff])) { roff++; rlen--; }
                base = roff;
                blen = rlen;
            }
        }
        frags tmp = cur;
        cur = nxt;
        nxt = tmp;
    }
    free(nxt.v);
    *out = cur;
    return 0;
oom:
    free(cur.v);
    free(nxt.v);
    return -1;
}

int tokenizer_encode(const wgpt_tokenizer *t, const char *text, size_t len, int add_special, int parse_special,
                     int32_t **ids, size_t *n_ids, char *err, size_t errlen) {
    *ids = NULL;
    *n_ids = 0;
    for (size_t i = 0; i < len;) {
        size_t l = utf8_seq_len((const unsigned char *)text + i, len - i);
        if (!l) {
            set_err(err, errlen, "tokenizer: input is not valid UTF-8 (bad byte 0x%02X at offset %zu)",
                    (unsigned char)text[i], i);
            return -1;
        }
        i += l;
    }
    if (t->type == TOK_HF) {
        ivec o = {0};
        if (hf_encode(t, text, len, add_special, parse_special, &o, err, errlen) < 0) {
            free(o.v);
            return -1;
        }
        if (!o.v && !(o.v = malloc(sizeof *o.v))) {
            set_err(err, errlen, "tokenizer: out of memory");
            return -1;
        }
        *ids = o.v;
        *n_ids = o.n;
        return 0;
    }
    int32_t bos = t->ids[TOK_ID_BOS], eos = t->ids[TOK_ID_EOS];
    if (add_special && t->add_bos && bos < 0) {
        set_err(err, errlen, "tokenizer: the metadata asks for a BOS token but names none");
        return -1;
    }
    if (add_special && t->add_eos && eos < 0) {
        set_err(err, errlen, "tokenizer: the metadata asks for an EOS token but names none");
        return -1;
    }
    frags fr = {0};
    ivec out = {0};
    char *buf = NULL;
    int rc = -1;
    if (partition(t, text, len, parse_special, &fr) < 0) goto oom;
    if (add_special && t->add_bos && ivec_push(&out, bos) < 0) goto oom;
    if (t->type == TOK_SPM) {
        int prev_special = 1; /* the first fragment gets the prefix space */
        for (size_t i = 0; i < fr.n; i++) {
            if (fr.v[i].tok >= 0) {
                if (ivec_push(&out, fr.v[i].tok) < 0) goto oom;
                prev_special = 1;
                continue;
            }
            /* ' ' becomes U+2581 (3 bytes) */
            free(buf);
            if (!(buf = malloc((fr.v[i].len + 1) * 3))) goto oom;
            size_t bl = 0;
            const char *src = text + fr.v[i].off;
            if (t->add_space_prefix && prev_special) { memcpy(buf, "\xe2\x96\x81", 3); bl = 3; }
            for (size_t j = 0; j < fr.v[i].len; j++) {
                if (src[j] == ' ') { memcpy(buf + bl, "\xe2\x96\x81", 3); bl += 3; }
                else buf[bl++] = src[j];
            }
            if (spm_tokenize(t, buf, bl, &out, err, errlen) < 0) goto done;
            prev_special = 0;
        }
    } else {
        for (size_t i = 0; i < fr.n; i++) {
            if (fr.v[i].tok >= 0) {
                if (ivec_push(&out, fr.v[i].tok) < 0) goto oom;
            } else if (bpe_tokenize(t, text + fr.v[i].off, fr.v[i].len, &out, err, errlen) < 0) {
                goto done;
            }
        }
    }
    if (add_special && t->add_eos && ivec_push(&out, eos) < 0) goto oom;
    if (!out.v && !(out.v = malloc(sizeof *out.v))) goto oom; /* malloc'd even when empty */
    *ids = out.v;
    *n_ids = out.n;
    out.v = NULL;
    rc = 0;
    goto done;
oom:
    set_err(err, errlen, "tokenizer: out of memory");
done:
    free(fr.v);
    free(out.v);
    free(buf);
    return rc;
}

/* ---- decoding and queries ---- */

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int copy_out(const char *s, size_t n, char *buf, size_t buflen) {
    if (buf && buflen) memcpy(buf, s, n < buflen ? n : buflen);
    return n > INT32_MAX ? INT32_MAX : (int)n;
}

int tokenizer_token_to_piece(const wgpt_tokenizer *t, int32_t id, char *buf, size_t buflen) {
    if (!t || id < 0 || id >= t->n_vocab) return -1;
    if (!buf) buflen = 0;
    if (t->type == TOK_HF) return hf_token_to_piece(t, id, buf, buflen);
    const char *s = tok_text(t, id);
    size_t n = t->len[id];
    uint32_t a = t->attr[id];
    if (a & (ATTR_UNKNOWN | ATTR_CONTROL | ATTR_USER_DEFINED)) return copy_out(s, n, buf, buflen);
    if (a & ATTR_NORMAL) {
        if (t->type == TOK_BPE && !t->escape_ws) return (int)bpe_decode_text(s, n, buf, buflen);
        size_t o = 0;
        for (size_t i = 0; i < n;) {
            if (i + 3 <= n && memcmp(s + i, "\xe2\x96\x81", 3) == 0) {
                if (o < buflen) buf[o] = ' ';
                o++;
                i += 3;
            } else {
                if (o < buflen) buf[o] = s[i];
                o++;
                i++;
            }
        }
        return (int)o;
    }
    if (a & ATTR_BYTE) {
        /* "<0xAB>": llama.cpp reads the two hex digits at offset 3 */
        int hi = n >= 5 ? hexval(s[3]) : -1, lo = n >= 5 ? hexval(s[4]) : -1;
        if (hi < 0 || lo < 0) return copy_out(s, n, buf, buflen);
        char c = (char)(hi * 16 + lo);
        return copy_out(&c, 1, buf, buflen);
    }
    return 0; /* unused / undefined tokens render as nothing, as in llama.cpp */
}

int tokenizer_n_vocab(const wgpt_tokenizer *t) { return t->n_vocab; }
int32_t tokenizer_bos(const wgpt_tokenizer *t) { return t->ids[TOK_ID_BOS]; }
int32_t tokenizer_eos(const wgpt_tokenizer *t) { return t->ids[TOK_ID_EOS]; }
int tokenizer_is_eog(const wgpt_tokenizer *t, int32_t id) { return id >= 0 && id < t->n_vocab && t->eog[id]; }
int tokenizer_adds_bos(const wgpt_tokenizer *t) {
    if (t->type == TOK_HF) return t->hf->n_prefix > 0;
    return t->add_bos && t->ids[TOK_ID_BOS] >= 0;
}
int tokenizer_adds_eos(const wgpt_tokenizer *t) {
    if (t->type == TOK_HF) return t->hf->n_suffix > 0;
    return t->add_eos && t->ids[TOK_ID_EOS] >= 0;
}

int tokenizer_n_added_special(const wgpt_tokenizer *t, size_t *n_prefix, size_t *n_suffix) {
    if (t->type == TOK_HF) {
        *n_prefix = t->hf->n_prefix;
        *n_suffix = t->hf->n_suffix;
    } else {
        *n_prefix = tokenizer_adds_bos(t) ? 1 : 0;
        *n_suffix = tokenizer_adds_eos(t) ? 1 : 0;
    }
    return 0;
}

size_t tokenizer_decode(const wgpt_tokenizer *t, const int32_t *ids, size_t n, char *buf, size_t buflen) {
    size_t o = 0, skip = 0;
    char tmp[256];
    if (!buf) buflen = 0;
    for (size_t i = 0; i < n; i++) {
        int l = tokenizer_token_to_piece(t, ids[i], tmp, sizeof tmp);
        if (l <= 0) continue;
        char *p = tmp, *big = NULL;
        if ((size_t)l > sizeof tmp) {
            if (!(big = malloc((size_t)l))) continue;
            tokenizer_token_to_piece(t, ids[i], big, (size_t)l);
            p = big;
        }
        size_t a = 0;
        if (t->type == TOK_HF && t->hf->lstrip_n > 0) {
            /* a Strip decoder after Fuse: only the start of the whole text */
            size_t cl = t->hf->lstrip_len;
            while (skip < (size_t)t->hf->lstrip_n && o == 0 && (size_t)l - a >= cl && memcmp(p + a, t->hf->lstrip_char, cl) == 0) {
                a += cl;
                skip++;
            }
            if (o == 0 && (size_t)l > a) skip = (size_t)t->hf->lstrip_n;
        }
        for (; a < (size_t)l; a++, o++)
            if (o < buflen) buf[o] = p[a];
        free(big);
    }
    return o;
}

const char *tokenizer_kind(const wgpt_tokenizer *t) {
    if (t->type == TOK_HF) {
        if (t->hf->byte_level) return "Hugging Face BPE (byte-level)";
        return t->hf->byte_fallback ? "Hugging Face BPE (SentencePiece-style, byte fallback)" : "Hugging Face BPE";
    }
    if (t->type == TOK_BPE && t->escape_ws) return "gpt2 (BPE over UTF-8, SentencePiece-style spaces)";
    return t->type == TOK_SPM ? "llama (SentencePiece)" : "gpt2 (byte-level BPE)";
}
