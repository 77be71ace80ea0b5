// Y[r] = X[src] / sqrt(mean(X[src]^2) + eps) * w, one group of lanes per row.
// With from_out set, only the rows whose logits are wanted are normalised,
// packed from row 0.
struct Params { dim: u32, eps: f32, from_out: u32, pad: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;
@group(0) @binding(4) var<uniform> step: Step;

fn kernel(wg: u32, slot: u32, slots: u32, lane: u32, G: u32) {
  let r_id = wg * slots + slot;
  let n = select(step.n_tokens, step.n_out, p.from_out != 0u);
  let valid = r_id < n;
  let r = min(r_id, n - 1u);
  let src = select(r, step.out_first + r, p.from_out != 0u) * p.dim;
  var ss = 0.0;
  for (var i = lane; i < p.dim; i += G) { let v = X[src + i]; ss += v * v; }
  let scale = 1.0 / sqrt(group_sum(ss, lane) / f32(p.dim) + p.eps);
  if (valid) {
    for (var i = lane; i < p.dim; i += G) { Y[r * p.dim + i] = X[src + i] * scale * w[i]; }
  }
}
