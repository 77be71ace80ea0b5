// matvec_glu.wgsl gated: act(Wg x) * (Wu x), RMSNorm folded in
// (mv_norm_common.wgsl, whose statistics need nothing before the product).
const GLU_GATED: bool = true;
fn norm_begin(lane: u32, G: u32) {}
