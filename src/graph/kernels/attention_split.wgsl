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
// Params and bindings: attention_split_common.wgsl.

// The heads' queries while scoring; afterwards each lane's share of the
// weighted sums, added up across the lanes that took other keys.
var<workgroup> qs: array<vec4<f32>, MAXG * WG>;
var<workgroup> ws: array<f32, MAXG * CH>; // scores, then weights
var<workgroup> ms: array<f32, MAXG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let t = lid.x;
  let b = block_of(linear_wg(wid, nwg));
  if (!b.live) { return; }
  let n_keys = b.n_keys;
  let first = b.first;
  let c = b.c;
  let k0 = c * CH;
  let h0 = b.h0;
  let ng = b.ng;
  let nv = b.nv;
  let ko = b.ko;
  let kvv = b.kvv;
  stage_queries(b, t);

  // A lane per key (attention_split_common.wgsl): each K row is read whole by one
  // lane, so the scores need no reduction across lanes.
  for (var j0 = 0u; j0 < CH; j0 += WG) {
    let j = k0 + j0 + t;
    let live = j >= first && j < n_keys;
    var s: array<f32, MAXG>;
    if (live) { s = key_scores(ko + j * kvv, nv, ng); }
    for (var g = 0u; g < MAXG; g++) { if (g < ng) { ws[g * CH + j0 + t] = select(-3.0e38, s[g] * p.scale, live); } }
  }
  workgroupBarrier();
  if (t < ng) {
    var m = -3.0e38;
    for (var i = 0u; i < CH; i++) { m = max(m, ws[t * CH + i]); }
    ms[t] = m;
  }
  workgroupBarrier();
  for (var j0 = 0u; j0 < CH; j0 += WG) {
    let j = k0 + j0 + t;
    let live = j >= first && j < n_keys;
    for (var g = 0u; g < ng; g++) { ws[g * CH + j0 + t] = select(0.0, exp(ws[g * CH + j0 + t] - ms[g]), live); }
  }
  workgroupBarrier();

  // V: lane (kg, dv) takes vec4 dv of keys kg, kg + kgs, ...: a row is read
  // by adjacent lanes together, eight rows a lane in flight. Past the
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
    for (var i = i0 + kg; i < kn; i += 8u * kgs) {
      let i1 = min(i + 1u * kgs, kn - 1u);
      let i2 = min(i + 2u * kgs, kn - 1u);
      let i3 = min(i + 3u * kgs, kn - 1u);
      let i4 = min(i + 4u * kgs, kn - 1u);
      let i5 = min(i + 5u * kgs, kn - 1u);
      let i6 = min(i + 6u * kgs, kn - 1u);
      let i7 = min(i + 7u * kgs, kn - 1u);
      let v0 = Vc[vo + i * kvv];
      let v1 = Vc[vo + i1 * kvv];
      let v2 = Vc[vo + i2 * kvv];
      let v3 = Vc[vo + i3 * kvv];
      let v4 = Vc[vo + i4 * kvv];
      let v5 = Vc[vo + i5 * kvv];
      let v6 = Vc[vo + i6 * kvv];
      let v7 = Vc[vo + i7 * kvv];
      for (var g = 0u; g < MAXG; g++) {
        if (g >= ng) { break; }
        let wo = g * CH;
        var a = ws[wo + i] * v0;
        a += select(0.0, ws[wo + i1], i + 1u * kgs < kn) * v1;
        a += select(0.0, ws[wo + i2], i + 2u * kgs < kn) * v2;
        a += select(0.0, ws[wo + i3], i + 3u * kgs < kn) * v3;
        a += select(0.0, ws[wo + i4], i + 4u * kgs < kn) * v4;
        a += select(0.0, ws[wo + i5], i + 5u * kgs < kn) * v5;
        a += select(0.0, ws[wo + i6], i + 6u * kgs < kn) * v6;
        a += select(0.0, ws[wo + i7], i + 7u * kgs < kn) * v7;
        acc[g] += a;
      }
    }
  }
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
  if (t < ng) {
    var l = 0.0;
    for (var i = 0u; i < CH; i++) { l += ws[t * CH + i]; }
    P[((h0 + t) * p.chunks + c) * stride + nv] = vec4<f32>(ms[t], l, 0.0, 0.0);
  }
}
