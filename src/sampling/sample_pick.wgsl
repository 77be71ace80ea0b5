// Stage two, one workgroup: the k best of the select stage's candidates,
// then sampler.c's tail on them in the same order: top-p and min-p judged
// on the untempered probabilities (normalised over the k), temperature,
// and the draw with the CPU's random number. Writes the token into the
// result and into ids[0], where the next step's embedding reads it.
@group(0) @binding(0) var<uniform> sp: SampleParams;
@group(0) @binding(1) var<storage, read> C: array<vec2<u32>>;
@group(0) @binding(2) var<storage, read_write> ids: array<u32>;
// token, not finite (1) or 0
@group(0) @binding(3) var<storage, read_write> R: array<u32>;

var<workgroup> bad: atomic<u32>;

@compute @workgroup_size(SWG)
fn main(@builtin(local_invocation_id) lid: vec3<u32>) {
  let lane = lid.x;
  if (lane == 0u) { atomicStore(&bad, 0u); }
  workgroupBarrier();
  cand_begin(sp.k);
  let total = sp.n_groups * sp.k;
  for (var j = 0u; j < PER; j++) {
    let e = lane + j * SWG;
    if (e < total) {
      let c = C[(e / sp.k) * (K_MAX + 1u) + e % sp.k];
      if (c.x != 0u) { cand_insert(c.x, c.y); }
    }
  }
  for (var g = lane; g < sp.n_groups; g += SWG) {
    if (C[g * (K_MAX + 1u) + K_MAX].x != 0u) { atomicOr(&bad, 1u); }
  }
  take_best(lane, sp.k);
  if (lane != 0u) { return; }
  if (atomicLoad(&bad) != 0u) {
    R[0] = 0xffffffffu;
    R[1] = 1u;
    return;
  }
  var tok = top_id[0];
  let max_key = top_key[0];
  let max = key_value(max_key);
  let inf_max = (bitcast<u32>(max) & 0x7f800000u) == 0x7f800000u;
  if (sp.greedy == 0u && !inf_max) {
    var nc = 0u;
    while (nc < sp.k && top_key[nc] != 0u) { nc++; }
    // -inf candidates weigh nothing (exp of -inf is not defined in WGSL)
    var n_fin = 0u;
    while (n_fin < nc && (bitcast<u32>(key_value(top_key[n_fin])) & 0x7f800000u) != 0x7f800000u) { n_fin++; }
    var nk = nc;
    if (sp.top_p < 1.0 || sp.min_p > 0.0) {
      var z = 0.0;
      for (var i = 0u; i < n_fin; i++) { z += exp(key_value(top_key[i]) - max); }
      var cum = 0.0;
      var m = 0u;
      while (m < nc) {
        var rel = 0.0;
        if (m < n_fin) { rel = exp(key_value(top_key[m]) - max); }
        if (m > 0u && sp.min_p > 0.0 && rel < sp.min_p) { break; }
        m++;
        cum += rel / z;
        if (sp.top_p < 1.0 && cum >= sp.top_p) { break; }
      }
      nk = m;
    }
    let inv_t = 1.0 / sp.temperature;
    var sum = 0.0;
    for (var i = 0u; i < min(nk, n_fin); i++) { sum += exp((key_value(top_key[i]) - max) * inv_t); }
    let goal = sp.r * sum;
    var acc = 0.0;
    tok = top_id[0];
    for (var i = 0u; i < min(nk, n_fin); i++) {
      let w = exp((key_value(top_key[i]) - max) * inv_t);
      if (w <= 0.0) { continue; }
      acc += w;
      tok = top_id[i];
      if (goal < acc) { break; }
    }
  }
  R[0] = tok;
  R[1] = 0u;
  ids[0] = tok;
}
