// matvec_qkv.wgsl with RoPE in its epilogue: the (cos, sin) table is a
// ninth storage buffer.
@group(0) @binding(9) var<storage, read> CS: array<vec2<f32>>;
@group(0) @binding(10) var<uniform> step: Step;
const QKV_ROPE = true;
fn rope_cs(i: u32) -> vec2<f32> { return CS[i]; }
