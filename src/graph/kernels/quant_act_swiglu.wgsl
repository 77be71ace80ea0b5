// quant_act.wgsl's input made as it is read: SwiGLU's silu(G) * U, as
// swiglu.wgsl computes it, written back to G (the f32 activation, which
// verify captures) and quantized for the down projection in the same
// pass, where there were two.
@group(0) @binding(1) var<storage, read_write> X: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> U: array<vec4<f32>>;
@group(0) @binding(4) var<uniform> step: Step;
fn load_x(i: u32) -> vec4<f32> {
  let g = X[i];
  let a = g / (1.0 + exp(-g)) * U[i];
  X[i] = a;
  return a;
}
