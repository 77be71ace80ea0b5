// One-token attention split over the cache (flash-decoding): a step with
// thousands of keys gives attention.wgsl's one group per head too little
// parallelism to keep the memory busy, so here one workgroup takes a chunk
// of CH keys for the query heads sharing one KV head (up to MAXG of them:
// K and V are read once for the whole group). It leaves, per head and
// chunk, the chunk's largest score m, sum of exp(score - m) l, and the
// unnormalised sum of V weighted by those exps, for attention_merge.wgsl.
// Keys are pos0 - window + 1 .. pos0 with a window (attention.wgsl's mask).
// head_dim is a multiple of 4 and at most 256 (checked on the host): a
// lane holds one vec4 of a head's values.
struct Params { n_heads: u32, n_kv_heads: u32, head_dim: u32, kv_dim: u32, q_dim: u32, cache_off: u32, n_ctx: u32, scale: f32,
                window: u32, chunks: u32, pad1: u32, pad2: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> Q: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> Kc: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> Vc: array<vec4<f32>>;
// [n_heads][chunks][head_dim / 4 + 1]: the weighted sum, then (m, l, 0, 0)
@group(0) @binding(4) var<storage, read_write> P: array<vec4<f32>>;
@group(0) @binding(5) var<uniform> step: Step;

// The heads' queries while scoring; afterwards each lane's share of the
// weighted sums, added up across the lanes that took other keys.
var<workgroup> qs: array<vec4<f32>, MAXG * WG>;
var<workgroup> ws: array<f32, MAXG * CH>; // scores, then weights
var<workgroup> ms: array<f32, MAXG>;
var<workgroup> ls: array<f32, MAXG>;
// Loads a lane keeps in flight, K rows' vec4s and V rows: with every
// workgroup of a layer resident at once, the time is a workgroup's chain
// of memory round trips, not the bandwidth.
const LB: u32 = 16u;

// Per head g < ng, the max (sum: the sum) of ws[g][0..CH) into qs[g * WG].x,
// by a tree over the lanes; qs is free between the scores and the V sums.
// Called in uniform control flow; ends with a barrier.
fn tree(t: u32, ng: u32, sum: bool) {
  for (var g = 0u; g < ng; g++) {
    var v = select(-3.0e38, 0.0, sum);
    for (var i = t; i < CH; i += WG) { v = select(max(v, ws[g * CH + i]), v + ws[g * CH + i], sum); }
    qs[g * WG + t].x = v;
  }
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (t < s) {
      for (var g = 0u; g < ng; g++) {
        let a = qs[g * WG + t].x;
        let b = qs[g * WG + t + s].x;
        qs[g * WG + t].x = select(max(a, b), a + b, sum);
      }
    }
    workgroupBarrier();
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let t = lid.x;
  let n_keys = step.pos0 + 1u;
  var first = 0u;
  if (p.window != 0u && n_keys > p.window) { first = n_keys - p.window; }
  let nc = (n_keys + CH - 1u) / CH;
  let group = p.n_heads / p.n_kv_heads;
  let nhb = (group + MAXG - 1u) / MAXG;
  let wg = linear_wg(wid, nwg);
  // The grid counts chunks from key 0; those wholly before the window have
  // nothing to do, and the merge never reads them.
  if (wg >= nc * nhb * p.n_kv_heads || (wg % nc + 1u) * CH <= first) { return; }
  let c = wg % nc;
  let hb = (wg / nc) % nhb;
  let kvh = wg / (nc * nhb);
  let k0 = c * CH;
  let h0 = kvh * group + hb * MAXG;
  let ng = min(MAXG, group - hb * MAXG);
  let nv = p.head_dim / 4u;
  let ko = p.cache_off / 4u + kvh * nv;
  let kvv = p.kv_dim / 4u;

  for (var i = t; i < ng * nv; i += WG) { qs[(i / nv) * WG + i % nv] = Q[(h0 + i / nv) * nv + i % nv]; }
  workgroupBarrier();

  // A lane per key: each K row is read whole by one lane, so the scores
  // need no reduction across lanes; LB loads go before any is used.
  for (var j0 = 0u; j0 < CH; j0 += WG) {
    let j = k0 + j0 + t;
    let live = j >= first && j < n_keys;
    // loops over heads run to the constant MAXG, so that they unroll and
    // s and acc stay in registers
    var s: array<f32, MAXG>;
    if (live) {
      let kr = ko + j * kvv;
      var dv = 0u;
      for (; dv + LB <= nv; dv += LB) {
        var a: array<vec4<f32>, LB>;
        for (var e = 0u; e < LB; e++) { a[e] = Kc[kr + dv + e]; }
        for (var g = 0u; g < MAXG; g++) {
          if (g >= ng) { break; }
          let qo = g * WG + dv;
          var d = 0.0;
          for (var e = 0u; e < LB; e++) { d += dot(qs[qo + e], a[e]); }
          s[g] += d;
        }
      }
      for (; dv < nv; dv++) {
        let a = Kc[kr + dv];
        for (var g = 0u; g < MAXG; g++) { if (g < ng) { s[g] += dot(qs[g * WG + dv], a); } }
      }
    }
    for (var g = 0u; g < MAXG; g++) { if (g < ng) { ws[g * CH + j0 + t] = select(-3.0e38, s[g] * p.scale, live); } }
  }
  workgroupBarrier();
  // Each head's largest score, then its sum of exps: trees over the lanes
  // (a lane's serial walk over the chunk cost more than the scoring).
  tree(t, ng, false);
  for (var j0 = 0u; j0 < CH; j0 += WG) {
    let j = k0 + j0 + t;
    let live = j >= first && j < n_keys;
    for (var g = 0u; g < ng; g++) { ws[g * CH + j0 + t] = select(0.0, exp(ws[g * CH + j0 + t] - qs[g * WG].x), live); }
  }
  if (t < ng) { ms[t] = qs[t * WG].x; }
  workgroupBarrier();
  tree(t, ng, true);
  if (t < ng) { ls[t] = qs[t * WG].x; }

  // V: lane (kg, dv) takes vec4 dv of keys kg, kg + kgs, ...: a row is read
  // by adjacent lanes together, LB rows a lane in flight. Past the
  // chunk's last key a lane reads that key again, with weight 0.
  let kgs = WG / nv;
  let kg = t / nv;
  let dv = t % nv;
  var acc: array<vec4<f32>, MAXG>;
  if (kg < kgs) {
    var i0 = 0u;
    if (first > k0) { i0 = first - k0; }
    let kn = min(CH, n_keys - k0);
    let vo = ko + k0 * kvv + dv;
    for (var i = i0 + kg; i < kn; i += LB * kgs) {
      var ki: array<u32, LB>;
      var vv: array<vec4<f32>, LB>;
      for (var e = 0u; e < LB; e++) {
        ki[e] = min(i + e * kgs, kn - 1u);
        vv[e] = Vc[vo + ki[e] * kvv];
      }
      for (var g = 0u; g < MAXG; g++) {
        if (g >= ng) { break; }
        let wo = g * CH;
        var a = vec4<f32>(0.0);
        for (var e = 0u; e < LB; e++) { a += select(0.0, ws[wo + ki[e]], i + e * kgs < kn) * vv[e]; }
        acc[g] += a;
      }
    }
  }
  workgroupBarrier(); // every lane has its ls before qs takes the sums
  for (var g = 0u; g < MAXG; g++) { if (g < ng) { qs[g * WG + t] = acc[g]; } }
  workgroupBarrier();
  let stride = nv + 1u;
  if (t < nv) {
    for (var g = 0u; g < ng; g++) {
      var a = qs[g * WG + t];
      for (var k = 1u; k < kgs; k++) { a += qs[g * WG + k * nv + t]; }
      P[((h0 + g) * p.chunks + c) * stride + t] = a;
    }
  }
  if (t < ng) { P[((h0 + t) * p.chunks + c) * stride + nv] = vec4<f32>(ms[t], ls[t], 0.0, 0.0); }
}
