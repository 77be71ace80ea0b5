// Y[r] = X[src] / sqrt(mean(X[src]^2) + eps) * w. With from_out set, only
// the rows whose logits are wanted are normalised, packed from row 0.
struct Params { dim: u32, eps: f32, from_out: u32, pad: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;
@group(0) @binding(4) var<uniform> step: Step;

var<workgroup> red: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let r = linear_wg(wid, nwg);
  let n = select(step.n_tokens, step.n_out, p.from_out != 0u);
  if (r >= n) { return; }
  let src = select(r, step.out_first + r, p.from_out != 0u) * p.dim;
  var ss = 0.0;
  for (var i = lid.x; i < p.dim; i += WG) { let v = X[src + i]; ss += v * v; }
  red[lid.x] = ss;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid.x < s) { red[lid.x] += red[lid.x + s]; }
    workgroupBarrier();
  }
  let scale = 1.0 / sqrt(red[0] / f32(p.dim) + p.eps);
  for (var i = lid.x; i < p.dim; i += WG) { Y[r * p.dim + i] = X[src + i] * scale * w[i]; }
}
