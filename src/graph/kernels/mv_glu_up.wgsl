// matvec_glu.wgsl ungated: act(W x + b), LayerNorm folded in
// (mv_lnorm_common.wgsl): GPT-2's up projection and GELU, or with no
// activation its LM head. W2 is bound (to W) but never read.
const GLU_GATED: bool = false;
