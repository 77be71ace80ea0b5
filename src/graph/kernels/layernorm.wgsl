// Y[r] = (X[src] - mean) / sqrt(var + eps) * w + b, one group of lanes per
// row (llama.cpp's ggml_norm, then the weight and bias: GPT-2's LayerNorm).
// The mean is taken first and the variance around it, as ggml does, not
// from E[x^2] - E[x]^2, which cancels badly for rows far from zero. With
// from_out set, only the rows whose logits are wanted, packed from row 0.
struct Params { dim: u32, eps: f32, from_out: u32, pad: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> w: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> Y: array<vec4<f32>>;
@group(0) @binding(5) var<uniform> step: Step;

fn kernel(wg: u32, slot: u32, slots: u32, lane: u32, G: u32) {
  let r_id = wg * slots + slot;
  let n = select(step.n_tokens, step.n_out, p.from_out != 0u);
  let valid = r_id < n;
  let r = min(r_id, n - 1u);
  let d4 = p.dim / 4u;
  let src = select(r, step.out_first + r, p.from_out != 0u) * d4;
  var s = vec4<f32>(0.0);
  for (var i = lane; i < d4; i += G) { s += X[src + i]; }
  let mean = group_sum(s.x + s.y + s.z + s.w, lane) / f32(p.dim);
  var ss = vec4<f32>(0.0);
  for (var i = lane; i < d4; i += G) {
    let d = X[src + i] - vec4<f32>(mean);
    ss += d * d;
  }
  let scale = 1.0 / sqrt(group_sum(ss.x + ss.y + ss.z + ss.w, lane) / f32(p.dim) + p.eps);
  if (valid) {
    for (var i = lane; i < d4; i += G) { Y[r * d4 + i] = (X[src + i] - vec4<f32>(mean)) * scale * w[i] + b[i]; }
  }
}
