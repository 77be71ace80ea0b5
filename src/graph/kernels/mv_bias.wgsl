// matvec.wgsl with a bias (Qwen 2's Q, K and V): one value per output row.
const HAS_BIAS: bool = true;
const HAS_NORM: bool = false;
@group(0) @binding(4) var<storage, read> B: array<f32>;
@group(0) @binding(5) var<uniform> step: Step;
fn out_bias(r: u32) -> f32 { return B[r]; }
fn xin(i: u32) -> vec4<f32> { return X[xoff + i]; }
fn norm_scale(lane: u32, G: u32) -> f32 { return 1.0; }
