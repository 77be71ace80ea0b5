// Stage one: each workgroup takes SWG * PER logits (lane l: ids base + l,
// base + l + SWG, ...), masks and penalises them as sampler.c does, and
// hands on its k best, best first, with whether any logit was not finite
// (the CPU path refuses such a row; so does this one).
@group(0) @binding(0) var<uniform> sp: SampleParams;
@group(0) @binding(1) var<storage, read> L: array<f32>;
@group(0) @binding(2) var<storage, read> Win: array<u32>;
// per workgroup: K_MAX (key, id) pairs, then (not finite, 0)
@group(0) @binding(3) var<storage, read_write> C: array<vec2<u32>>;

var<workgroup> bad: atomic<u32>;

@compute @workgroup_size(SWG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let lane = lid.x;
  let g = wid.x;
  let base = g * SWG * PER;
  if (lane == 0u) { atomicStore(&bad, 0u); }
  var v: array<f32, PER>;
  var masked = 0u; // bit j: v[j] is -inf (WGSL has no -inf literal)
  var not_finite = 0u;
  for (var j = 0u; j < PER; j++) {
    let i = base + lane + j * SWG;
    v[j] = 0.0;
    masked |= 1u << j;
    if (i < sp.n_vocab) {
      let b = bitcast<u32>(L[i]);
      let special = (b & 0x7f800000u) == 0x7f800000u;
      if (special) { not_finite = 1u; }
      let is_nan = special && (b & 0x007fffffu) != 0u;
      if (!is_nan && i < sp.n_allowed) { v[j] = L[i]; masked &= ~(1u << j); }
    }
  }
  // llama.cpp's penalty: once per distinct id of the window, whichever
  // lane holds it.
  var done = 0u;
  for (var w = 0u; w < sp.n_window; w++) {
    let id = Win[w];
    if (id < base || id >= base + SWG * PER || (id - base) % SWG != lane) { continue; }
    let j = (id - base) / SWG;
    if ((done & (1u << j)) != 0u) { continue; }
    done |= 1u << j;
    if ((masked & (1u << j)) != 0u) { continue; } // -inf stays -inf
    v[j] = select(v[j] * sp.penalty, v[j] / sp.penalty, v[j] > 0.0);
  }
  cand_begin(sp.k);
  for (var j = 0u; j < PER; j++) {
    let i = base + lane + j * SWG;
    if (i < sp.n_vocab) { cand_insert(select(rank_key(v[j]), NEG_INF_KEY, (masked & (1u << j)) != 0u), i); }
  }
  workgroupBarrier();
  if (not_finite != 0u) { atomicOr(&bad, 1u); }
  take_best(lane, sp.k);
  let o = g * (K_MAX + 1u);
  if (lane < sp.k) { C[o + lane] = vec2<u32>(top_key[lane], top_id[lane]); }
  if (lane == 0u) { C[o + K_MAX] = vec2<u32>(atomicLoad(&bad), 0u); }
}
