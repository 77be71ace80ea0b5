// matvec_qkv.wgsl without RoPE: eight storage buffers, the least every
// adapter allows. RMSNorm (mv_norm_common.wgsl) needs nothing before the product.
@group(0) @binding(9) var<uniform> step: Step;
const QKV_ROPE = false;
fn rope_cs(i: u32) -> vec2<f32> { return vec2<f32>(1.0, 0.0); }
fn norm_begin(lane: u32, G: u32) {}
