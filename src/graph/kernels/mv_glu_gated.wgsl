// matvec_glu.wgsl gated: act(Wg x) * (Wu x), RMSNorm folded in
// (mv_norm_common.wgsl).
const GLU_GATED: bool = true;
