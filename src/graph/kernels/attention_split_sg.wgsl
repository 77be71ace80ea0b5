// attention_split.wgsl's work where reductions go by subgroups (of a fixed
// size, CHS lanes), with a subgroup's own operations in place of workgroup memory and
// barriers: there, one workgroup's chain of round trips and barriers (the
// queries, K rows, a serial max and sum, V rows, a reduction) was the
// whole time of a short cache's attention. Here each subgroup takes a
// chunk of CHS keys, a lane a key, for the query heads sharing one KV head:
// scores in registers, the chunk's max and sum of exps by subgroupMax and
// subgroupAdd, then lanes turn to the head's vec4s and take each key's
// weight from its lane by subgroupShuffle while V's rows stream in. It
// leaves attention_split.wgsl's partials for chunks of CHS keys
// (attention_merge.wgsl, told the chunk size, combines them). A workgroup
// covers CH keys: the grid is attention_split.wgsl's.
// Params and bindings: attention_split_common.wgsl.

// CHS, the keys a subgroup takes (one a lane: CHS is the subgroup size),
// and VB, the V rows a lane has in flight, come from kernels.c.

// The heads' queries, read by every lane (head_dim at most 256: 64 vec4s).
var<workgroup> qs: array<vec4<f32>, MAXG * WG>; // head g from g * WG (attention_split_common.wgsl)

fn kernel(wg: u32, slot: u32, slots: u32, lane: u32, G: u32) {
  let b = block_of(wg);
  if (!b.live) { return; }
  let n_keys = b.n_keys;
  let first = b.first;
  let h0 = b.h0;
  let ng = b.ng;
  let nv = b.nv;
  let ko = b.ko;
  let kvv = b.kvv;
  stage_queries(b, slot * G + lane);

  let c = b.c * (CH / CHS) + slot; // this subgroup's chunk of CHS keys
  let k0 = c * CHS;
  if (k0 >= n_keys || k0 + CHS <= first) { return; } // the merge reads no such chunk
  let j = k0 + lane;
  let live = j >= first && j < n_keys;
  // Loops over heads run to the constant MAXG so that they unroll and w
  // and acc stay in registers.
  var s: array<f32, MAXG>;
  if (live) { s = key_scores(ko + j * kvv, nv, ng); }
  let stride = nv + 1u;
  var w: array<f32, MAXG>;
  for (var g = 0u; g < MAXG; g++) {
    if (g >= ng) { break; }
    let sc = select(-3.0e38, s[g] * p.scale, live);
    let m = subgroupMax(sc);
    w[g] = select(0.0, exp(sc - m), live);
    let l = subgroupAdd(w[g]);
    if (lane == 0u) { P[((h0 + g) * p.chunks + c) * stride + nv] = vec4<f32>(m, l, 0.0, 0.0); }
  }

  // V: lane dv of each row, the rows of the chunk's live keys (a dead
  // key's row is read as the last live one's, with weight 0).
  let kn = min(CHS, n_keys - k0);
  var acc: array<vec4<f32>, MAXG>;
  for (var d0 = 0u; d0 < nv; d0 += G) {
    let dv = d0 + lane;
    let vo = ko + k0 * kvv + min(dv, nv - 1u);
    for (var g = 0u; g < MAXG; g++) { acc[g] = vec4<f32>(0.0); }
    for (var i0 = 0u; i0 < CHS; i0 += VB) {
      var vv: array<vec4<f32>, VB>;
      for (var e = 0u; e < VB; e++) { vv[e] = Vc[vo + min(i0 + e, kn - 1u) * kvv]; }
      for (var g = 0u; g < MAXG; g++) {
        if (g >= ng) { break; }
        var a = vec4<f32>(0.0);
        for (var e = 0u; e < VB; e++) { a += subgroupShuffle(w[g], i0 + e) * vv[e]; }
        acc[g] += a;
      }
    }
    if (dv < nv) {
      for (var g = 0u; g < MAXG; g++) { if (g < ng) { P[((h0 + g) * p.chunks + c) * stride + dv] = acc[g]; } }
    }
  }
}
