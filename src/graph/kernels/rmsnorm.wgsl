// Y[r] = X[src] / sqrt(mean(X[src]^2) + eps) * w, one group of lanes per row.
// With from_out set, only the rows whose logits are wanted are normalised,
// packed from row 0. With accumulate, Y += the normed row: a block's output
// normed before the residual add (Gemma's post-norms).
struct Params { dim: u32, eps: f32, from_out: u32, accumulate: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> w: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> Y: array<vec4<f32>>;
@group(0) @binding(4) var<uniform> step: Step;

fn kernel(wg: u32, slot: u32, slots: u32, lane: u32, G: u32) {
  let r_id = wg * slots + slot;
  let n = select(step.n_tokens, step.n_out, p.from_out != 0u);
  let valid = r_id < n;
  let r = min(r_id, n - 1u);
  // vec4 loads, four of them in flight per step (dim is a multiple of 32)
  let d4 = p.dim / 4u;
  let src = select(r, step.out_first + r, p.from_out != 0u) * d4;
  var ss = vec4<f32>(0.0);
  for (var i = lane; i < d4; i += 4u * G) {
    let a = X[src + i];
    let b = select(vec4<f32>(0.0), X[src + min(i + G, d4 - 1u)], i + G < d4);
    let c = select(vec4<f32>(0.0), X[src + min(i + 2u * G, d4 - 1u)], i + 2u * G < d4);
    let e = select(vec4<f32>(0.0), X[src + min(i + 3u * G, d4 - 1u)], i + 3u * G < d4);
    ss += a * a + b * b + c * c + e * e;
  }
  let scale = 1.0 / sqrt(group_sum(ss.x + ss.y + ss.z + ss.w, lane) / f32(p.dim) + p.eps);
  if (valid) {
    for (var i = lane; i < d4; i += G) {
      var v = X[src + i] * scale * w[i];
      if (p.accumulate != 0u) { v += Y[r * d4 + i]; }
      Y[r * d4 + i] = v;
    }
  }
}
