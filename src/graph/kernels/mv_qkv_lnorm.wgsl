// matvec_qkv.wgsl with LayerNorm folded in (mv_lnorm_common.wgsl; GPT-2),
// without RoPE: eight storage buffers.
@group(0) @binding(9) var<uniform> step: Step;
const QKV_ROPE = false;
fn rope_cs(i: u32) -> vec2<f32> { return vec2<f32>(1.0, 0.0); }
