// matvec_qkv.wgsl without RoPE: eight storage buffers, the least every
// adapter allows. With RMSNorm (mv_norm_common.wgsl) or LayerNorm
// (mv_lnorm_common.wgsl: GPT-2) folded in.
@group(0) @binding(9) var<uniform> step: Step;
const QKV_ROPE = false;
fn rope_cs(i: u32) -> vec2<f32> { return vec2<f32>(1.0, 0.0); }
