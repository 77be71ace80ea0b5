// G = gelu(G) * U (gated: Gemma's GeGLU) or G = gelu(G) (GPT-2), over
// n_tokens rows of the feed-forward width; GELU in its tanh form, as
// llama.cpp's ggml_gelu: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))),
// written as x * sigmoid(2u), which is the same function without the
// cancellation of 1 + tanh(u) for negative x, and without tanh's overflow
// for large |u| on some implementations. Ungated, U is bound but not read.
struct Params { width: u32, gated: u32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> G: array<f32>;
@group(0) @binding(2) var<storage, read> U: array<f32>;
@group(0) @binding(3) var<uniform> step: Step;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = linear_wg(wid, nwg) * WG + lid.x;
  if (i >= step.n_tokens * p.width) { return; }
  let x = G[i];
  let u = 0.7978845608028654 * x * (1.0 + 0.044715 * x * x);
  var y = x / (1.0 + exp(-2.0 * u));
  if (p.gated != 0u) { y *= U[i]; }
  G[i] = y;
}
