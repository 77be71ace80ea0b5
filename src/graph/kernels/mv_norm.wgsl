// matvec.wgsl with the RMSNorm of x folded in (mv_norm_common.wgsl), no bias.
const HAS_BIAS: bool = false;
const HAS_NORM: bool = true;
@group(0) @binding(4) var<storage, read> NW: array<vec4<f32>>;
@group(0) @binding(5) var<uniform> step: Step;
fn out_bias(r: u32) -> f32 { return 0.0; }
