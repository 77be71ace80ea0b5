// matvec.wgsl with the RMSNorm of x folded in (mv_norm_common.wgsl) and a bias
// (Qwen 2's Q, K and V).
const HAS_BIAS: bool = true;
const HAS_NORM: bool = true;
@group(0) @binding(4) var<storage, read> B: array<f32>;
@group(0) @binding(5) var<storage, read> NW: array<vec4<f32>>;
@group(0) @binding(6) var<uniform> step: Step;
fn out_bias(r: u32) -> f32 { return B[r]; }
