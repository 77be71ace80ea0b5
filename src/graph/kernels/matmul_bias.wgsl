// matmul.wgsl's variant with a bias (Qwen 2's Q, K and V projections): one
// value per output row, added before any accumulation.
const HAS_BIAS: bool = true;
@group(0) @binding(4) var<storage, read> B: array<f32>;
@group(0) @binding(5) var<uniform> step: Step;
fn out_bias(r: u32) -> f32 { return B[r]; }
