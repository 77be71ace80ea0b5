// matvec.wgsl with neither bias nor norm: x as it is.
const HAS_BIAS: bool = false;
const HAS_NORM: bool = false;
@group(0) @binding(4) var<uniform> step: Step;
fn out_bias(r: u32) -> f32 { return 0.0; }
fn xin(i: u32) -> vec4<f32> { return X[xoff + i]; }
fn norm_scale(lane: u32, G: u32) -> f32 { return 1.0; }
