#include "graph/kernels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/gguf.h"
#include "formats/onnx.h"
#include "formats/quant.h"
#include "util/util.h"

extern const struct { const char *name; const char *src; } wgpt_embedded_files[];

static const char *embedded(const char *name) {
    for (int i = 0; wgpt_embedded_files[i].name; i++)
        if (!strcmp(wgpt_embedded_files[i].name, name)) return wgpt_embedded_files[i].src;
    return NULL;
}

/* What each kernel is made of. A per-format kernel takes its weight type's
 * snippet: the batched kernels dtype.c's wfmt_*.wgsl, the one-token ones
 * mvfmt_<type>.wgsl (and mvfmt2_, mvfmt3_<type>.wgsl for a second and third
 * matrix), after the snippet its format family shares, if any
 * (kernels_format_shared). A kernel with variant snippets takes one or two
 * of them (the first declares the step uniform's binding, which comes
 * last). */
enum { FMT_NONE, FMT_W, FMT_MV, FMT_MV2, FMT_MV3 };
static const struct {
    const char *body;
    int reduces, per_format;
    const char *variant[KV_COUNT][3]; /* all NULL: no variants; a third entry: the variant's label, where
                                         its first snippet's name does not say it */
} kernel_parts[KERNEL_COUNT] = {
    [KERNEL_MATMUL] = {"matmul.wgsl", 0, FMT_W,
                       {[KV_PLAIN] = {"matmul_nobias.wgsl"}, [KV_BIAS] = {"matmul_bias.wgsl"},
                        [KV_T32] = {"matmul_nobias.wgsl", NULL, "t32"},
                        [KV_T32_BIAS] = {"matmul_bias.wgsl", NULL, "bias t32"},
                        [KV_SPLIT] = {"matmul_nobias.wgsl", NULL, "split"},
                        [KV_T32_SPLIT] = {"matmul_nobias.wgsl", NULL, "t32 split"}}},
    [KERNEL_MATVEC] = {"matvec.wgsl", 1, FMT_MV,
                       {{"mv_plain.wgsl"}, {"mv_bias.wgsl"}, {"mv_norm.wgsl", "mv_norm_common.wgsl"},
                        {"mv_norm_bias.wgsl", "mv_norm_common.wgsl"}, [KV_MULTI] = {"mv_plain.wgsl", NULL, "multi"},
                        [KV_MULTI_BIAS] = {"mv_bias.wgsl", NULL, "bias multi"}}},
    [KERNEL_MATVEC_GLU] = {"matvec_glu.wgsl", 1, FMT_MV2,
                           {[KV_PLAIN] = {"mv_glu_gated.wgsl", "mv_norm_common.wgsl"},
                            [KV_LNORM] = {"mv_glu_up.wgsl", "mv_lnorm_common.wgsl", "up_lnorm"}}},
    [KERNEL_MATVEC_QKV] = {"matvec_qkv.wgsl", 1, FMT_MV3,
                           {[KV_PLAIN] = {"mv_qkv_plain.wgsl", "mv_norm_common.wgsl"},
                            [KV_QKV_ROPE] = {"mv_qkv_rope.wgsl", "mv_norm_common.wgsl"},
                            [KV_LNORM] = {"mv_qkv_plain.wgsl", "mv_lnorm_common.wgsl", "qkv_lnorm"}}},
    [KERNEL_EMBED] = {"embed.wgsl", 0, FMT_W, {{NULL}}},
    [KERNEL_RMSNORM] = {"rmsnorm.wgsl", 1, FMT_NONE, {{NULL}}},
    [KERNEL_HEAD_RMSNORM] = {"head_rmsnorm.wgsl", 1, FMT_NONE, {{NULL}}},
    [KERNEL_ROPE] = {"rope.wgsl", 0, FMT_NONE, {{NULL}}},
    [KERNEL_ATTENTION] = {"attention_prompt.wgsl", 0, FMT_NONE, {{NULL}}},
    [KERNEL_SWIGLU] = {"swiglu.wgsl", 0, FMT_NONE, {{NULL}}},
    [KERNEL_LAYERNORM] = {"layernorm.wgsl", 1, FMT_NONE, {{NULL}}},
    [KERNEL_GELU] = {"gelu.wgsl", 0, FMT_NONE, {{NULL}}},
    [KERNEL_SOFTCAP] = {"softcap.wgsl", 0, FMT_NONE, {{NULL}}},
    [KERNEL_SAMPLE_SELECT] = {"sample_select.wgsl", 0, FMT_NONE, {{"sample_common.wgsl"}}},
    [KERNEL_SAMPLE_PICK] = {"sample_pick.wgsl", 0, FMT_NONE, {{"sample_common.wgsl"}}},
    [KERNEL_ATTENTION_SPLIT] = {"attention_split.wgsl", 0, FMT_NONE, {{"attention_split_common.wgsl"}}},
    [KERNEL_ATTENTION_MERGE] = {"attention_merge.wgsl", 0, FMT_NONE, {{NULL}}},
    [KERNEL_ATTENTION_SPLIT_SG] = {"attention_split_sg.wgsl", 1, FMT_NONE, {{"attention_split_common.wgsl"}}},
    [KERNEL_QUANT_ACT] = {"quant_act.wgsl", 0, FMT_NONE,
                          {[KV_PLAIN] = {"quant_act_plain.wgsl"}, [KV_QA_SWIGLU] = {"quant_act_swiglu.wgsl"}}},
    [KERNEL_MATMUL_REDUCE] = {"matmul_reduce.wgsl", 0, FMT_NONE, {{NULL}}},
    [KERNEL_ARGMAX_ROWS] = {"argmax_rows.wgsl", 0, FMT_NONE, {{NULL}}},
};

/* matvec.wgsl's rows per group and loads in flight per lane (MV_ROWS,
 * MV_UNROLL), and the subgroups a group spans (KS): two rows, four loads,
 * one subgroup, but
 * - eight loads in the products whose every load fetches 16 bytes of
 *   weights (F32, F16, BF16) without a norm (the output and FFN down
 *   projections), and in Q4_0's gate/up: on the H200 (bench --profile,
 *   2026-11-30) they took those F16 products from 605 to 508 µs a token and
 *   Q4_0's gate/up from 455 to 423, while the LM head went from 132 to 179
 *   and Q4_0's QKV from 282 to 350;
 * - four rows in the Q8_0/Q4_0 LM head (a norm variant), whose units read 16
 *   elements of x and of the norm's weights in loads spread over a
 *   subgroup's span for 16 or 8 bytes of weights, so that x's loads, which
 *   set its pace, serve more rows: 165 to 130 µs (Q4_0), 175 to 156 (Q8_0);
 *   in the plain products four were slower (506 to 698, 490 to 795);
 * - two subgroups a group (reduce_subgroup_ks.wgsl) in every product but
 *   Q4_0's gate/up, the F32/F16/BF16 LM head and the Q8_0/Q4_0 QKV: a
 *   2048-row projection at two rows a subgroup is ~8 subgroups a
 *   multiprocessor, each waiting on its own chain of loads. End to end on
 *   the H200 (tg128, 2026-11-30, one change at a time against the shapes
 *   before): Q4_0 +4.5% (output, down, LM head), Q8_0 +3% (the same) and
 *   +2.5% (gate/up), F16 +4% (gate/up), +1.5% (output, down), +0.7% (QKV);
 *   slower in Q4_0's gate/up (-4% at eight loads, even at four), the F16 LM
 *   head (-0.7%) and the Q8_0/Q4_0 QKV (-1%); and with them the loads in
 *   flight stay as above: the Q8_0/Q4_0 products lost 7% at eight, F16's
 *   output and down 3% at four;
 * - one subgroup in the K-quants' LM head (a Q6_K one in llama.cpp's
 *   Q4_K_M and Q6_K files): tg128 on the H200 (2026-12-01) Q4_K_M 787 to
 *   797, Q6_K 761 to 771 (measured as "k4", which this adapter's two
 *   subgroups a workgroup turn into one); and with x loaded unit by unit
 *   (MV_XJIT, below) two loads in flight there: 827 to 832 and 830 to 838;
 * - with MV_XJIT, in Q4_0: two loads in flight in the output and down
 *   projections (884 to 927) and in the gate/up, and two subgroups in the
 *   QKV (933 to 970 with both); in Q8_0 two loads in flight everywhere
 *   (855 to 891);
 * - two subgroups in the K-quants' QKV too: tg128 on the H200
 *   (2026-11-30, one run each) Q4_K_M 660 to 673, Q6_K 689 to 718; their
 *   other shapes are Q8_0/Q4_0's, as eight loads, one subgroup or one row
 *   were slower (550-670 and 576-682 against 660 and 689);
 * - with the Q4_K planes read as vec4s (kquant.wgsl's k4_unit), one load
 *   in flight in the Q4_K/Q5_K gate/up, one subgroup a group, and in the
 *   Q6_K/Q5_K output and down projections: tg128 on the H200 (2026-12-01,
 *   results/2026-12-01-h200/issue12-shapes/, one change at a time) a pure
 *   Q4_K file 884 to 911 (the gate/up), Q4_K_M 831 to 854 and Q6_K 787 to
 *   825 (the Q6_K down), Q5_K_M 774 to 784 (gate/up), 787 (Q5_K down
 *   and output) and 796 (Q6_K down); Q6_K's gate/up and every QKV and LM
 *   head kept theirs (within 1%, or slower);
 * - four subgroups a workgroup, all on its two rows (reduce_subgroup_ks.wgsl
 *   at 128 lanes on the H200), in the Q4_0, Q4_K and Q6_K output and down
 *   projections, Q4_0's with one load in flight: tg128 on the H200
 *   (2026-12-01, three A/B pairs, results/2026-12-01-h200/issue12-shapes/
 *   call7) Q4_0 971 to 986, Q4_K_M 888 to 902, Q6_K 833 to 854; wider
 *   groups were slower in every gate/up, QKV and LM head tried (call6);
 *   Q5_K's output and down too: Q5_K_M 823 to 832 (two pairs,
 *   results/2026-12-01-h200/issue12-limits/call1), its gate/up 807;
 * - at most two rows in matvec_glu.wgsl, which keeps two of each matrix in
 *   one vec4.
 * WGPT_MV_TUNE overrides these (mv_shape_tune), to measure others end to
 * end without a rebuild (scripts/device_mvtune.sh); wgpt-kbench times
 * single kernels. */
typedef struct { uint32_t rows, unroll, ks, xjit, slots; } mv_shape;

/* WGPT_MV_TUNE="mv.q4_0=r2u4k2;glu.f16.0=u8": kernel (mv, glu or qkv),
 * weight type, optionally the variant's number, then r rows, u loads in
 * flight, k subgroups a group, x1 / x2 x loaded first / unit by unit
 * (MV_XJIT), g subgroups a workgroup (the adapter's WG / subgroup size
 * unless said). Later entries win. */
static void mv_shape_tune(mv_shape *s, kernel_id id, const dtype_info *t, int variant) {
    const char *e = getenv("WGPT_MV_TUNE");
    const char *kname = id == KERNEL_MATVEC ? "mv" : id == KERNEL_MATVEC_GLU ? "glu" : "qkv";
    char want[48], wantv[64];
    snprintf(want, sizeof want, "%s.%.16s=", kname, t->name);
    snprintf(wantv, sizeof wantv, "%.*s.%d=", (int)strlen(want) - 1, want, variant & 15);
    while (e && *e) {
        size_t n = strcspn(e, ";");
        const char *c = !strncmp(e, want, strlen(want))     ? e + strlen(want)
                        : !strncmp(e, wantv, strlen(wantv)) ? e + strlen(wantv)
                                                            : e + n;
        while (c < e + n) {
            char *end;
            unsigned long v = strtoul(c + 1, &end, 10);
            if (end == c + 1 || v < 1 || v > 16) break;
            if (*c == 'r') s->rows = (uint32_t)v;
            else if (*c == 'u') s->unroll = (uint32_t)v;
            else if (*c == 'k') s->ks = (uint32_t)v;
            else if (*c == 'x') s->xjit = v > 1;
            else if (*c == 'g') s->slots = (uint32_t)v;
            else break;
            c = end;
        }
        e += n;
        if (*e) e++;
    }
}

static mv_shape mv_shape_of(const kernel_registry *r, kernel_id id, int slot, int variant) {
    mv_shape s = {2, 4, 1, (uint32_t)kernels_matvec_xjit(slot), r->group_slots};
    const dtype_info *t = dtype_gpu(slot);
    int norm = variant == KV_NORM || variant == KV_NORM_BIAS, q4 = !strcmp(t->name, "q4_0");
    int q4k = !strcmp(t->name, "q4_K"), q5k = !strcmp(t->name, "q5_K"), q6k = !strcmp(t->name, "q6_K");
    int out_down = id == KERNEL_MATVEC && variant == KV_PLAIN; /* the output and FFN down projections */
    if (id == KERNEL_MATVEC && !t->gpu_scales && !norm) s.unroll = 8;
    if (id == KERNEL_MATVEC_GLU && variant == KV_PLAIN && q4 && !s.xjit) s.unroll = 8;
    if (id == KERNEL_MATVEC && t->gpu_scales && norm) s.rows = 4;
    if ((id == KERNEL_MATVEC && (t->gpu_scales || !norm)) || (id == KERNEL_MATVEC_GLU && variant == KV_PLAIN && !q4) ||
        (id == KERNEL_MATVEC_QKV && (!t->gpu_scales || t->block_elems == 256)))
        s.ks = 2;
    if (id == KERNEL_MATVEC && t->block_elems == 256 && norm) s = (mv_shape){4, 2, 1, s.xjit, r->group_slots};
    if (q4 && s.xjit && variant == KV_PLAIN && id != KERNEL_MATVEC_QKV) s.unroll = 2;
    if (q4 && s.xjit && id == KERNEL_MATVEC_QKV) s.ks = 2;
    if (!strcmp(t->name, "q8_0") && s.xjit) s.unroll = 2;
    if ((q4k || q5k) && id == KERNEL_MATVEC_GLU && variant == KV_PLAIN) s.unroll = 1, s.ks = 1;
    if (out_down && (q4 || q5k || q6k)) s.unroll = 1;
    if (out_down && (q4 || q4k || q5k || q6k)) s.slots = s.ks = 4;
    /* A batch's decode steps (KV_MULTI*): four rows a group, so that each x
     * unit a token loads serves four rows, in one subgroup, two loads in
     * flight. On the H200 (2026-11-30, Q4_0 1B, bench --parallel 1/4/16/64,
     * WGPT_MV_TUNE sweeps in results/2026-11-30-h200/issue13/): 279 / 846 /
     * 1967 / 2961 tok/s against 234 / 731 / 1368 / 1700 with the one-token
     * shape (two rows, two subgroups, four loads). */
    if (variant == KV_MULTI || variant == KV_MULTI_BIAS) s = (mv_shape){4, 2, 1, 0, r->group_slots};
    mv_shape_tune(&s, id, t, variant);
    if (s.rows > 4) s.rows = 4;
    if (id == KERNEL_MATVEC_GLU && s.rows > 2) s.rows = 2;
    /* more subgroups a workgroup only through reduce_subgroup_ks.wgsl, at
     * most 256 lanes (WebGPU's default limit) */
    if (strcmp(r->reduce, "reduce_subgroup.wgsl") || s.slots * r->group_lanes > 256 || !s.slots) s.slots = r->group_slots;
    if (s.ks > s.slots) s.ks = s.slots;
    if (s.ks > 1 && (strcmp(r->reduce, "reduce_subgroup.wgsl") || s.slots % s.ks)) s.ks = 1;
    return s;
}

/* x's units loaded one by one, just before their products (matvec.wgsl's
 * MV_XJIT), in the one-token kernels of Q4_0, Q8_0, F16 and the K-quants:
 * on the H200 (2026-12-01, tg128, the 1B shape,
 * results/2026-12-01-h200/issue12-xjit/) Q4_K_M 799 to 835, Q6_K 772 to
 * 838, Q4_0 866 to 895 with four loads in flight in its gate/up (760 with
 * its eight then), F16 808 to 824, Q8_0 845 to 891 with two loads in flight
 * in every product (855 with four). BF16 and onnx_q4, whose shapes were
 * tuned with x loaded first, keep it so until measured. */
int kernels_matvec_xjit(int slot) {
    const dtype_info *t = dtype_gpu(slot);
    return t && (t->block_elems == 256 || !strcmp(t->name, "q4_0") || !strcmp(t->name, "q8_0") || !strcmp(t->name, "f16"));
}

uint32_t kernels_matvec_rows(const kernel_registry *r, kernel_id id, int slot, int variant) {
    return slot >= 0 && slot < DTYPE_GPU_SLOTS ? mv_shape_of(r, id, slot, variant).rows : 1;
}

uint32_t kernels_matvec_per_wg(const kernel_registry *r, kernel_id id, int slot, int variant) {
    if (slot < 0 || slot >= DTYPE_GPU_SLOTS) return r->group_slots;
    mv_shape s = mv_shape_of(r, id, slot, variant);
    return s.slots / s.ks * s.rows;
}

/* The 8-bit path's snippet, "" where the format has none or the path is
 * off (quant_int8_matmul). */
static void mmi8_snippet(const dtype_info *t, char *out, size_t cap) {
    snprintf(out, cap, "mmi8_%s.wgsl", t->name);
    if (!quant_int8_matmul(t->id) || !embedded(out)) out[0] = 0;
}

const char *kernels_format_shared(int slot) {
    const dtype_info *t = dtype_gpu(slot);
    if (!t) return NULL;
    if (t->block_elems == 256) return "kquant.wgsl";
    return t->id == GGML_TYPE_Q4_0 || t->id == ONNX_WGPT_Q4 ? "q4_nibbles.wgsl" : NULL;
}

int kernels_matmul_i8(int slot) {
    char f[40];
    if (slot < 0 || slot >= DTYPE_GPU_SLOTS) return 0;
    mmi8_snippet(dtype_gpu(slot), f, sizeof f);
    return f[0] != 0;
}

uint32_t kernels_mmi8_blocks(void) {
    const char *e = getenv("WGPT_MMI8_KB");
    return e && !strcmp(e, "1") ? 1 : 2;
}

uint32_t kernels_matmul_rows(int slot) { return kernels_matmul_i8(slot) ? 128 : 64; }

/* matmul_i8.wgsl's MMI8_KB blocks of 32; matmul.wgsl's BK. */
uint32_t kernels_matmul_stage_cols(int slot) { return kernels_matmul_i8(slot) ? 32 * kernels_mmi8_blocks() : 16; }

uint32_t kernels_matmul_tokens(int slot, int variant) {
    return (variant == KV_T32 || variant == KV_T32_BIAS || variant == KV_T32_SPLIT) && !kernels_matmul_i8(slot)
               ? 32
               : KERNELS_MATMUL_TOKENS;
}

uint32_t kernels_attention_sg_keys(const kernel_registry *r) {
    return strcmp(r->reduce, "reduce_subgroup.wgsl") ? 0 : r->group_lanes;
}

/* A tile of attention_prompt.wgsl needs a quad of rows, each lane of its 256
 * holding a vec4 of them: 256 * 4. */
uint32_t kernels_attention_max_head(const kernel_registry *r) {
    (void)r;
    return 1024;
}

#define WG 64 /* workgroup size of every kernel; common.wgsl says the same */

void kernels_init(kernel_registry *r, gpu_device *d) {
    memset(r, 0, sizeof *r);
    r->dev = d;
    const gpu_limits *L = gpu_get_limits(d);
    r->reduce = "reduce_tree.wgsl";
    r->group_slots = 1;
    r->group_lanes = WG;
    if (L->has_subgroups && L->subgroup_min == L->subgroup_max && L->subgroup_min >= 4 && WG % L->subgroup_min == 0 &&
        !getenv("WGPT_NO_SUBGROUPS")) {
        r->reduce = "reduce_subgroup.wgsl";
        r->group_slots = WG / L->subgroup_min;
        r->group_lanes = L->subgroup_min;
    }
}

void kernels_free(kernel_registry *r) {
    for (int i = 0; i < KERNEL_COUNT; i++)
        for (int f = 0; f < DTYPE_GPU_SLOTS; f++)
            for (int v = 0; v < KV_COUNT; v++) gpu_kernel_free(r->k[i][f][v]);
    for (int f = 0; f < DTYPE_GPU_SLOTS; f++)
        for (int f3 = 0; f3 < DTYPE_GPU_SLOTS; f3++)
            for (int v = 0; v < KV_COUNT; v++) gpu_kernel_free(r->qkv_v_own[f][f3][v]);
    memset(r, 0, sizeof *r);
}

/* "matmul q8_0 bias subgroup": the kernel, then each snippet's own part of
 * its file name. */
static void label_part(char *label, size_t cap, const char *file, size_t skip) {
    if (!file) return;
    size_t n = strlen(label);
    snprintf(label + n, cap - n, "%s%.*s", n ? " " : "", (int)strcspn(file + skip, "."), file + skip);
}

int kernels_qkv_v_own(int slot, int v_slot) {
    const dtype_info *t = dtype_gpu(slot), *v = dtype_gpu(v_slot);
    return t && v && slot != v_slot && t->block_elems == 256 && v->block_elems == 256;
}

/* v_slot: V's format where it is not slot's (kernels_qkv_v_own), else negative. */
static gpu_kernel *get_kernel(kernel_registry *r, kernel_id id, int slot, int v_slot, int variant, char *err,
                              size_t errlen) {
    if (id < 0 || id >= KERNEL_COUNT || slot < 0 || slot >= DTYPE_GPU_SLOTS || variant < 0 || variant >= KV_COUNT ||
        (!kernel_parts[id].per_format && slot) || (!kernel_parts[id].variant[variant][0] && variant) ||
        (v_slot >= 0 && (id != KERNEL_MATVEC_QKV || !kernels_qkv_v_own(slot, v_slot)))) {
        set_err(err, errlen, "no such kernel (%d, format %d, variant %d, V format %d)", (int)id, slot, variant, v_slot);
        return NULL;
    }
    gpu_kernel **k = v_slot >= 0 ? &r->qkv_v_own[slot][v_slot][variant] : &r->k[id][slot][variant];
    if (*k) return *k;
    const dtype_info *t = dtype_gpu(slot);
    int pf = kernel_parts[id].per_format;
    char fmt[40] = "", fmt2[40] = "", fmt3[40] = "", shape[192] = "";
    const char *reduce = r->reduce;
    if (pf == FMT_W) snprintf(fmt, sizeof fmt, "%s", t->wgsl);
    if (pf >= FMT_MV) {
        mv_shape ms = mv_shape_of(r, id, slot, variant);
        snprintf(fmt, sizeof fmt, "mvfmt_%s.wgsl", t->name);
        snprintf(shape, sizeof shape,
                 "const MV_ROWS: u32 = %uu;\nconst MV_UNROLL: u32 = %uu;\nconst KS: u32 = %uu;\nconst MV_TOKENS: u32 = %uu;\n"
                 "const MV_XJIT: bool = %s;\nconst KWG: u32 = %uu;\n",
                 ms.rows, ms.unroll, ms.ks, variant == KV_MULTI || variant == KV_MULTI_BIAS ? MV_MULTI_TOKENS : 1u,
                 ms.xjit ? "true" : "false", ms.slots * r->group_lanes);
        if (ms.ks > 1 || ms.slots != r->group_slots) reduce = "reduce_subgroup_ks.wgsl";
    }
    if (id == KERNEL_ATTENTION_SPLIT || id == KERNEL_ATTENTION_MERGE)
        snprintf(shape, sizeof shape, "const CH: u32 = %uu;\nconst MAXG: u32 = %uu;\n", KERNELS_ATTN_CHUNK,
                 KERNELS_ATTN_HEADS);
    if (id == KERNEL_ATTENTION_SPLIT_SG) /* keys a subgroup, and V rows a lane in flight */
        snprintf(shape, sizeof shape,
                 "const CH: u32 = %uu;\nconst MAXG: u32 = %uu;\nconst CHS: u32 = %uu;\nconst VB: u32 = %uu;\n",
                 KERNELS_ATTN_CHUNK, KERNELS_ATTN_HEADS, r->group_lanes, r->group_lanes < 16 ? r->group_lanes : 16);
    if (pf >= FMT_MV2) snprintf(fmt2, sizeof fmt2, "mvfmt2_%s.wgsl", t->name);
    /* Formats with 8-bit quants multiply prompt steps by integer dot products
     * (matmul_i8.wgsl, its snippet saying how a block becomes signed bytes). */
    const char *body = kernel_parts[id].body;
    if (id == KERNEL_MATMUL) {
        mmi8_snippet(t, fmt2, sizeof fmt2);
        if (fmt2[0]) body = "matmul_i8.wgsl";
        else snprintf(fmt2, sizeof fmt2, "matmul_x_f32.wgsl");
        snprintf(fmt3, sizeof fmt3, "matmul_common.wgsl");
        snprintf(shape, sizeof shape, "const MM_TOKENS: u32 = %uu;\nconst MMI8_KB: u32 = %uu;\nconst MM_SPLIT: bool = %s;\n",
                 kernels_matmul_tokens(slot, variant), kernels_mmi8_blocks(),
                 variant == KV_SPLIT || variant == KV_T32_SPLIT ? "true" : "false");
    }
    if (pf >= FMT_MV3) snprintf(fmt3, sizeof fmt3, "mvfmt3_%s.wgsl", dtype_gpu(v_slot >= 0 ? v_slot : slot)->name);
    const char *v_part = id != KERNEL_MATVEC_QKV ? NULL : v_slot >= 0 ? "mv_qkv_v_own.wgsl" : "mv_qkv_v_same.wgsl";
    /* The reduction snippet goes first: it may carry `enable` directives. */
    const char *files[10] = {kernel_parts[id].reduces ? reduce : NULL, "common.wgsl",
                             pf ? kernels_format_shared(slot) : NULL, fmt[0] ? fmt : NULL, fmt2[0] ? fmt2 : NULL,
                             fmt3[0] ? fmt3 : NULL, kernel_parts[id].variant[variant][0],
                             kernel_parts[id].variant[variant][1], v_part, body};
    const char *parts[11];
    size_t len = strlen(shape) + 2;
    int binds_step = 0;
    for (int i = 0; i < 10; i++) {
        parts[i] = files[i] ? embedded(files[i]) : "";
        if (!parts[i]) { set_err(err, errlen, "kernel source %s missing", files[i]); return NULL; }
        binds_step |= strstr(parts[i], "var<uniform> step: Step") != NULL;
        len += strlen(parts[i]) + 1;
    }
    parts[10] = binds_step ? embedded("step_rows.wgsl") : "";
    if (!parts[10]) { set_err(err, errlen, "kernel source step_rows.wgsl missing"); return NULL; }
    len += strlen(parts[10]) + 1;
    char *src = malloc(len), *p = src;
    if (!src) { set_err(err, errlen, "out of memory"); return NULL; }
    p += sprintf(p, "%s\n%s\n", parts[0], shape);
    for (int i = 1; i < 11; i++) p += sprintf(p, "%s\n", parts[i]);
    char label[128] = "";
    label_part(label, sizeof label, files[9], 0);
    label_part(label, sizeof label, pf ? t->name : NULL, 0);
    const char *vlabel = kernel_parts[id].variant[variant][2]; /* else "bias", "norm", from the snippet */
    if (variant) label_part(label, sizeof label, vlabel ? vlabel : files[6], vlabel ? 0 : strcspn(files[6], "_") + 1);
    if (v_slot >= 0) {
        label_part(label, sizeof label, "v", 0);
        label_part(label, sizeof label, dtype_gpu(v_slot)->name, 0);
    }
    label_part(label, sizeof label, files[0], strlen("reduce_"));
    *k = gpu_kernel_create(r->dev, src, label, err, errlen);
    free(src);
    return *k;
}

gpu_kernel *kernels_get(kernel_registry *r, kernel_id id, int slot, int variant, char *err, size_t errlen) {
    return get_kernel(r, id, slot, -1, variant, err, errlen);
}

gpu_kernel *kernels_get_qkv_v_own(kernel_registry *r, int slot, int v_slot, int variant, char *err, size_t errlen) {
    return get_kernel(r, KERNEL_MATVEC_QKV, slot, v_slot, variant, err, errlen);
}
