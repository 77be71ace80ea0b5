// Causal grouped-query attention over the KV cache for a step's tokens,
// flash-attention style: a workgroup takes a tile of query rows (a few
// tokens by the query heads that share one KV head) and walks the keys they
// see in tiles, each key tile staged once in workgroup memory for every row
// of the tile (and so for every head of the group), with a running maximum
// and sum of exps per row (an online softmax). No score leaves the
// workgroup: memory does not grow with tokens x keys, and key tiles past
// the tile's last token (or before its first token's window) are never
// visited. With a window, the token at pos sees only keys
// pos - window + 1 .. pos (llama.cpp's LLAMA_SWA_TYPE_STANDARD mask).
//
// AW (256) lanes a workgroup. The tile's shape follows the head size
// (ops.c's attention_tile_of): with DV = ceil(head_dim / 4) vec4s a head,
// TQ = 4 * row_quads rows, row_quads * DV <= AW, so that each lane holds 4
// rows by one vec4 of the head's values of the output (16 sums in registers
// whatever the head size: 64 rows at 64 dims, 32 at 128, 16 at 256), and
// TK = 4 * key_quads keys, row_quads * key_quads <= AW, each lane scoring 4
// rows by 4 keys and keeping their weights in registers (64 keys a tile at
// 64 dims, 128 at 128). Rows are `heads` query heads (a divisor of the
// group) by `tokens` tokens. Any such shape with row_quads + key_quads <=
// 256 (so that a stage of Q and K has 4 dims or more) is correct; ops.c
// picks one that uses every lane for the sizes that matter. Per key tile:
// ceil(head_dim / BK) stages of Q and K and ceil(TK / vk) of V, two
// barriers each, and two for the softmax (10 at 64 dims, for 64 keys).
// Global loads go to registers one stage ahead of their use (the next
// stage of Q and K, the next stage of V), and so are in flight during the
// multiply-adds of the stage before.
struct Params { n_heads: u32, n_kv_heads: u32, head_dim: u32, kv_dim: u32, q_dim: u32, cache_off: u32,
                row_quads: u32, scale: f32, window: u32, key_quads: u32, heads: u32, tokens: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> Q: array<f32>;
@group(0) @binding(2) var<storage, read> Kc: array<f32>;
@group(0) @binding(3) var<storage, read> Vc: array<f32>;
@group(0) @binding(4) var<storage, read_write> O: array<f32>;
@group(0) @binding(5) var<uniform> step: Step;

const AW: u32 = 256u;     // lanes a workgroup (ops.c's ATTN_LANES)
const NEG: f32 = -3.0e38; // a masked score; every real one is far above
// The one region of workgroup memory, 16 KB (WebGPU's default limit),
// each phase in turn: a stage of Q's rows then K's keys for BK dims (BK *
// (row_quads + key_quads) <= REGION vec4s, BK up to 32), each dim's 4 rows
// (keys) in one vec4, so that a lane reads its 4 rows and 4 keys in two
// loads; the lanes' row maxima, then sums; V rows of vk keys (DV vec4s
// each) with those keys' weights (row_quads vec4s each).
const REGION: u32 = 1024u;
var<workgroup> region: array<vec4<f32>, REGION>;

// Four values of a head from dim d on (zero past its end): one unchecked
// run of four where the head has them all.
fn q4(o: u32, d: u32) -> vec4<f32> {
  if (d + 3u < p.head_dim) { return vec4<f32>(Q[o + d], Q[o + d + 1u], Q[o + d + 2u], Q[o + d + 3u]); }
  var v = vec4<f32>(0.0);
  for (var c = 0u; c < 4u; c++) { if (d + c < p.head_dim) { v[c] = Q[o + d + c]; } }
  return v;
}
fn k4(o: u32, d: u32) -> vec4<f32> {
  if (d + 3u < p.head_dim) { return vec4<f32>(Kc[o + d], Kc[o + d + 1u], Kc[o + d + 2u], Kc[o + d + 3u]); }
  var v = vec4<f32>(0.0);
  for (var c = 0u; c < 4u; c++) { if (d + c < p.head_dim) { v[c] = Kc[o + d + c]; } }
  return v;
}
fn v4(o: u32, d: u32) -> vec4<f32> {
  if (d + 3u < p.head_dim) { return vec4<f32>(Vc[o + d], Vc[o + d + 1u], Vc[o + d + 2u], Vc[o + d + 3u]); }
  var v = vec4<f32>(0.0);
  for (var c = 0u; c < 4u; c++) { if (d + c < p.head_dim) { v[c] = Vc[o + d + c]; } }
  return v;
}

// A unit of a stage of Q and K from dim d0 on: 4 rows of Q (row quad q;
// a row past the tile's last repeats it) or 4 keys of K (key quad q of the
// tile at kb; a key past the last repeats it), 4 dims from d0 + 4 * dq.
fn stage_unit(is_q: bool, q: u32, dq: u32, kb: u32, d0: u32, t0: u32, h0: u32, nr: u32, ko: u32,
              key_end: u32) -> array<vec4<f32>, 4> {
  var r: array<vec4<f32>, 4>;
  let D = p.head_dim;
  if (is_q) {
    for (var i = 0u; i < 4u; i++) {
      let row = min(4u * q + i, nr - 1u);
      r[i] = q4((t0 + row / p.heads) * p.q_dim + (h0 + row % p.heads) * D, d0 + 4u * dq);
    }
  } else {
    for (var i = 0u; i < 4u; i++) {
      r[i] = k4(ko + min(kb + 4u * q + i, key_end - 1u) * p.kv_dim, d0 + 4u * dq);
    }
  }
  return r;
}

// The lane's vec4s of a V stage: kc keys' rows from key k, DV vec4s each,
// the stage's vec4 u = li + j * AW at j (zero past its end, never staged).
fn v_stage(li: u32, k: u32, kc: u32, DV: u32, ko: u32) -> array<vec4<f32>, 4> {
  var vr: array<vec4<f32>, 4>;
  for (var j = 0u; j < 4u; j++) {
    let u = li + j * AW;
    vr[j] = vec4<f32>(0.0);
    if (u < kc * DV) { vr[j] = v4(ko + (k + u / DV) * p.kv_dim, 4u * (u % DV)); }
  }
  return vr;
}

// Four vec4s, one per row (key), as four per dim.
fn t4(a: vec4<f32>, b: vec4<f32>, c: vec4<f32>, d: vec4<f32>) -> mat4x4<f32> {
  return transpose(mat4x4<f32>(a, b, c, d));
}

@compute @workgroup_size(AW)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
  let wg = linear_wg(wid, nwg);
  let RQ = p.row_quads;
  let KQ = p.key_quads;
  let TK = 4u * KQ;
  let hs = p.heads;
  let sets = p.n_heads / hs;
  let tiles = (step.n_tokens + p.tokens - 1u) / p.tokens;
  if (wg >= sets * tiles) { return; } // uniform: the same for the whole workgroup
  // The last tokens, which see the most keys, first: the grid's tail is short.
  let t0 = (tiles - 1u - wg / sets) * p.tokens;
  let h0 = (wg % sets) * hs;
  let nr = min(p.tokens, step.n_tokens - t0) * hs; // rows of the tile in use
  let D = p.head_dim;
  let DV = (D + 3u) / 4u; // vec4s of a head (of a staged V row)
  let BK = min(32u, (REGION / (RQ + KQ)) & ~3u); // dims a stage of Q and K, a multiple of 4
  let NB4 = BK / 4u;
  let vk = REGION / (DV + RQ); // keys a stage of V and weights
  // The sequence's cache from its row of position 0 (one sequence a tile:
  // a multi step's tiles are one token each, ops.c).
  let pos_first = step_pos(t0);
  let ko = p.cache_off + (step_row(t0) - pos_first) * p.kv_dim + (h0 / (p.n_heads / p.n_kv_heads)) * D;
  let key_end = pos_first + nr / hs;
  var key_begin = 0u;
  if (p.window != 0u && pos_first + 1u > p.window) { key_begin = pos_first + 1u - p.window; }

  // Scoring: lane li takes rows 4 * srq .. + 3 and keys 4 * skq .. + 3 of a tile.
  let srq = li % RQ;
  let skq = li / RQ;
  let scorer = skq < KQ;
  // Summing: rows 4 * orq .. + 3 and the head's vec4 odc.
  let orq = li / DV;
  let odc = li % DV;
  let summer = orq < RQ;
  // The row quad's positions (a row past the tile's last: never seen).
  var rpos: vec4<u32>;
  for (var i = 0u; i < 4u; i++) { rpos[i] = pos_first + min(4u * srq + i, nr - 1u) / hs; }

  // Staging: a stage of Q and K is NB4 * (RQ + KQ) <= REGION / 4 = AW units
  // of 4 rows (keys) by 4 dims, so lane li stages unit li or none: Q's
  // units, then K's. Its unit of the next stage is loaded into registers
  // before this stage's multiply-adds, so that the loads' latency is hidden
  // behind them (and behind a key tile's softmax and V for its first stage).
  let units = NB4 * (RQ + KQ);
  let stager = li < units;
  let is_q = li < NB4 * RQ;
  let n4 = select(KQ, RQ, is_q);
  let ue = select(li - NB4 * RQ, li, is_q);
  let uq = ue % n4;
  let udq = ue / n4;
  let uat = select(BK * RQ + 4u * udq * KQ, 4u * udq * RQ, is_q) + uq;
  var r: array<vec4<f32>, 4>; // the lane's unit of the next stage
  // V stages: vk keys' rows, vk * DV <= REGION = 4 * AW vec4s, so lane li
  // stages vec4s li + j * AW, j < 4; those of the next V stage wait in vr,
  // loaded during the last stage of Q and K (or the V stage before).
  var vr: array<vec4<f32>, 4>;
  if (stager && key_begin < key_end) { r = stage_unit(is_q, uq, udq, key_begin, 0u, t0, h0, nr, ko, key_end); }

  var m = vec4<f32>(NEG);  // the scoring lane's 4 rows' running maximum
  var l = vec4<f32>(0.0);  // and their sums of exps over the lane's keys
  var om = vec4<f32>(NEG); // the summing lane's 4 rows' running maximum (the same values as m's lanes)
  var acc: array<vec4<f32>, 4>; // row i's vec4 odc
  for (var i = 0u; i < 4u; i++) { acc[i] = vec4<f32>(0.0); }
  for (var kb = key_begin; kb < key_end; kb += TK) {
    // Row i's scores for the lane's 4 keys. Zeroed by hand: a declaration
    // inside the loop was zeroed only once on SwiftShader.
    var s: array<vec4<f32>, 4>;
    for (var i = 0u; i < 4u; i++) { s[i] = vec4<f32>(0.0); }
    for (var d0 = 0u; d0 < D; d0 += BK) {
      if (stager) {
        let m4 = t4(r[0], r[1], r[2], r[3]);
        for (var c = 0u; c < 4u; c++) { region[uat + c * n4] = m4[c]; }
      }
      workgroupBarrier();
      // the next stage: this tile's next dims, or the next tile's first
      var nkb = kb;
      var nd0 = d0 + BK;
      if (nd0 >= D) { nkb = kb + TK; nd0 = 0u; }
      if (stager && nkb < key_end) { r = stage_unit(is_q, uq, udq, nkb, nd0, t0, h0, nr, ko, key_end); }
      // and in the last stage, the tile's first V stage too
      if (nd0 == 0u) { vr = v_stage(li, kb, min(vk, min(TK, key_end - kb)), DV, ko); }
      if (scorer) {
        // dims past the head's end are zero: only whole fours up to it
        let dn = min(BK, (D - d0 + 3u) & ~3u);
        for (var d4 = 0u; d4 < dn; d4 += 4u) {
          for (var c = 0u; c < 4u; c++) {
            let d = d4 + c;
            let qa = region[d * RQ + srq];
            let ka = region[BK * RQ + d * KQ + skq];
            s[0] += qa.x * ka;
            s[1] += qa.y * ka;
            s[2] += qa.z * ka;
            s[3] += qa.w * ka;
          }
        }
      }
      workgroupBarrier();
    }
    // Masked scores (key j's 4 rows at w[j]), then the lane's maxima per row.
    var w: array<vec4<f32>, 4>;
    var mx = m;
    for (var j = 0u; j < 4u; j++) {
      let key = kb + 4u * skq + j;
      var see = vec4<u32>(key) <= rpos;
      if (p.window != 0u) { see = see & (vec4<u32>(key + p.window) > rpos); }
      for (var i = 0u; i < 4u; i++) { if (4u * srq + i >= nr) { see[i] = false; } }
      w[j] = select(vec4<f32>(NEG), vec4<f32>(s[0][j], s[1][j], s[2][j], s[3][j]) * p.scale, see);
      mx = max(mx, w[j]);
    }
    if (scorer) { region[skq * RQ + srq] = mx; }
    workgroupBarrier();
    // The rows' maxima over the tile, then each score's exp, once. The
    // summing lanes take the same maxima for their rows (max is exact and
    // does not depend on the order), and so the same rescale factor.
    if (scorer) {
      for (var k = 0u; k < KQ; k++) { mx = max(mx, region[k * RQ + srq]); }
      let alpha = exp(m - mx);
      var sum = vec4<f32>(0.0);
      for (var j = 0u; j < 4u; j++) {
        w[j] = select(vec4<f32>(0.0), exp(w[j] - mx), w[j] > vec4<f32>(NEG));
        sum += w[j];
      }
      l = l * alpha + sum;
      m = mx;
    }
    if (summer) {
      var omx = om;
      for (var k = 0u; k < KQ; k++) { omx = max(omx, region[k * RQ + orq]); }
      let a = exp(om - omx);
      om = omx;
      acc[0] *= a.x;
      acc[1] *= a.y;
      acc[2] *= a.z;
      acc[3] *= a.w;
    }
    workgroupBarrier();
    // acc = acc * alpha + weights x V over the tile's keys, vk at a time:
    // their V rows, then their weights at vk * DV, key k's row quad q at
    // k * row_quads + q.
    let kn = min(TK, key_end - kb);
    for (var k0 = 0u; k0 < kn; k0 += vk) {
      let kc = min(vk, kn - k0);
      for (var j = 0u; j < 4u; j++) {
        let u = li + j * AW;
        if (u < kc * DV) { region[u] = vr[j]; }
      }
      if (scorer) {
        for (var j = 0u; j < 4u; j++) {
          let k = 4u * skq + j;
          if (k >= k0 && k < k0 + kc) { region[vk * DV + (k - k0) * RQ + srq] = w[j]; }
        }
      }
      workgroupBarrier();
      // the next V stage's loads, in flight during this one's multiply-adds
      if (k0 + vk < kn) { vr = v_stage(li, kb + k0 + vk, min(vk, kn - k0 - vk), DV, ko); }
      if (summer) {
        for (var k = 0u; k < kc; k++) {
          let wk = region[vk * DV + k * RQ + orq];
          let v = region[k * DV + odc];
          acc[0] += wk.x * v;
          acc[1] += wk.y * v;
          acc[2] += wk.z * v;
          acc[3] += wk.w * v;
        }
      }
      workgroupBarrier();
    }
  }

  // Each row's sum of exps: its lanes' sums, added.
  if (scorer) { region[skq * RQ + srq] = l; }
  workgroupBarrier();
  if (!summer) { return; }
  var sum = vec4<f32>(0.0);
  for (var k = 0u; k < KQ; k++) { sum += region[k * RQ + orq]; }
  let d = 4u * odc;
  for (var i = 0u; i < 4u; i++) {
    let row = 4u * orq + i;
    if (row >= nr) { break; }
    let o = (t0 + row / hs) * p.q_dim + (h0 + row % hs) * D + d;
    let v = acc[i] * (1.0 / sum[i]);
    if (d + 3u < D) {
      O[o] = v.x;
      O[o + 1u] = v.y;
      O[o + 2u] = v.z;
      O[o + 3u] = v.w;
    } else {
      for (var e = 0u; e < 4u; e++) { if (d + e < D) { O[o + e] = v[e]; } }
    }
  }
}
