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
// The tile's shape follows the head size (ops.c's attention_tile_of): with
// DQ = ceil(head_dim / 16), TQ = 4 * row_quads rows, row_quads * DQ <= 64,
// so that each lane holds 4 rows by 16 of the head's values of the output
// (64 sums in registers whatever the head size: 64 rows at 64 dims, 16 at
// 256), and TK = 4 * key_quads keys, row_quads * key_quads <= 64, each lane
// scoring 4 rows by 4 keys and keeping their weights in registers. Rows are
// `heads` query heads (a divisor of the group) by `tokens` tokens.
struct Params { n_heads: u32, n_kv_heads: u32, head_dim: u32, kv_dim: u32, q_dim: u32, cache_off: u32,
                row_quads: u32, scale: f32, window: u32, key_quads: u32, heads: u32, tokens: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> Q: array<f32>;
@group(0) @binding(2) var<storage, read> Kc: array<f32>;
@group(0) @binding(3) var<storage, read> Vc: array<f32>;
@group(0) @binding(4) var<storage, read_write> O: array<f32>;
@group(0) @binding(5) var<uniform> step: Step;

const NEG: f32 = -3.0e38; // a masked score; every real one is far above
const BK: u32 = 16u;      // head dims a stage of Q and K
// The one region of workgroup memory, 5 KB, each phase in turn: a stage of
// Q's rows then K's keys for BK dims (16 * (row_quads + key_quads) <= 320
// vec4s), each dim's 4 rows (keys) in one vec4, so that a lane reads its 4
// rows and 4 keys in two loads; the lanes' row maxima, then sums; V rows of
// a few keys (ceil(head_dim / 16) * 4 vec4s each) with those keys' weights
// (row_quads vec4s each). Kept small because Dawn zero-fills workgroup
// memory at every dispatch, code that SwiftShader takes ~90 ms per KB to
// build, in every process that runs a prompt.
const REGION: u32 = 320u;
var<workgroup> region: array<vec4<f32>, REGION>;
var<workgroup> rescale: array<vec4<f32>, 16>; // each row quad's factor for the sums so far

// Four values of a head from dim d on (zero past its end).
fn q4(o: u32, d: u32) -> vec4<f32> {
  var v = vec4<f32>(0.0);
  for (var c = 0u; c < 4u; c++) { if (d + c < p.head_dim) { v[c] = Q[o + d + c]; } }
  return v;
}
fn k4(o: u32, d: u32) -> vec4<f32> {
  var v = vec4<f32>(0.0);
  for (var c = 0u; c < 4u; c++) { if (d + c < p.head_dim) { v[c] = Kc[o + d + c]; } }
  return v;
}
fn v4(o: u32, d: u32) -> vec4<f32> {
  var v = vec4<f32>(0.0);
  for (var c = 0u; c < 4u; c++) { if (d + c < p.head_dim) { v[c] = Vc[o + d + c]; } }
  return v;
}

// Four vec4s, one per row (key), as four per dim.
fn t4(a: vec4<f32>, b: vec4<f32>, c: vec4<f32>, d: vec4<f32>) -> mat4x4<f32> {
  return transpose(mat4x4<f32>(a, b, c, d));
}

@compute @workgroup_size(WG)
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
  let DQ = (D + 15u) / 16u;
  let DV = 4u * DQ; // vec4s of a staged V row
  let vk = REGION / (DV + RQ); // keys a stage of V and weights
  let ko = p.cache_off + (h0 / (p.n_heads / p.n_kv_heads)) * D;
  let pos_first = step.pos0 + t0;
  let key_end = pos_first + nr / hs;
  var key_begin = 0u;
  if (p.window != 0u && pos_first + 1u > p.window) { key_begin = pos_first + 1u - p.window; }

  // Scoring: lane li takes rows 4 * srq .. + 3 and keys 4 * skq .. + 3 of a tile.
  let srq = li % RQ;
  let skq = li / RQ;
  let scorer = skq < KQ;
  // Summing: rows 4 * orq .. + 3 and the head's vec4s odc + DQ * c, c < 4.
  let orq = li / DQ;
  let odc = li % DQ;
  let summer = orq < RQ;
  // The row quad's positions (a row past the tile's last: never seen).
  var rpos: vec4<u32>;
  for (var i = 0u; i < 4u; i++) { rpos[i] = pos_first + min(4u * srq + i, nr - 1u) / hs; }

  var m = vec4<f32>(NEG); // the lane's 4 rows' running maximum
  var l = vec4<f32>(0.0); // and their sums of exps over the lane's keys
  var acc: array<vec4<f32>, 16>; // row i's vec4 c at 4i + c
  for (var kb = key_begin; kb < key_end; kb += TK) {
    // Row i's scores for the lane's 4 keys. Zeroed by hand: a declaration
    // inside the loop was zeroed only once on SwiftShader.
    var s: array<vec4<f32>, 4>;
    for (var i = 0u; i < 4u; i++) { s[i] = vec4<f32>(0.0); }
    for (var d0 = 0u; d0 < D; d0 += BK) {
      // 4 rows (keys) by 4 dims a unit: Q's units, then K's.
      for (var u = li; u < 4u * (RQ + KQ); u += WG) {
        let is_q = u < 4u * RQ;
        let e = select(u - 4u * RQ, u, is_q);
        let n4 = select(KQ, RQ, is_q);
        let q = e % n4;
        let dq = e / n4;
        var r: array<vec4<f32>, 4>;
        for (var i = 0u; i < 4u; i++) {
          if (is_q) {
            let row = min(4u * q + i, nr - 1u);
            r[i] = q4((t0 + row / hs) * p.q_dim + (h0 + row % hs) * D, d0 + 4u * dq);
          } else {
            r[i] = k4(ko + min(kb + 4u * q + i, key_end - 1u) * p.kv_dim, d0 + 4u * dq);
          }
        }
        let m4 = t4(r[0], r[1], r[2], r[3]);
        let at = select(BK * RQ + 4u * dq * KQ, 4u * dq * RQ, is_q) + q;
        for (var c = 0u; c < 4u; c++) { region[at + c * n4] = m4[c]; }
      }
      workgroupBarrier();
      if (scorer) {
        for (var d = 0u; d < BK; d++) {
          let qa = region[d * RQ + srq];
          let ka = region[BK * RQ + d * KQ + skq];
          for (var i = 0u; i < 4u; i++) { s[i] += qa[i] * ka; }
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
    // The rows' maxima over the tile, then each score's exp, once.
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
      if (skq == 0u) { rescale[srq] = alpha; }
    }
    workgroupBarrier();
    // acc = acc * alpha + weights x V over the tile's keys, vk at a time:
    // their V rows, then their weights at vk * DV, key k's row quad q at
    // k * row_quads + q.
    let kn = min(TK, key_end - kb);
    if (summer) {
      let a = rescale[orq];
      for (var c = 0u; c < 4u; c++) {
        acc[c] *= a.x;
        acc[4u + c] *= a.y;
        acc[8u + c] *= a.z;
        acc[12u + c] *= a.w;
      }
    }
    for (var k0 = 0u; k0 < kn; k0 += vk) {
      let kc = min(vk, kn - k0);
      for (var u = li; u < kc * DV; u += WG) {
        region[u] = v4(ko + (kb + k0 + u / DV) * p.kv_dim, 4u * (u % DV));
      }
      if (scorer) {
        for (var j = 0u; j < 4u; j++) {
          let k = 4u * skq + j;
          if (k >= k0 && k < k0 + kc) { region[vk * DV + (k - k0) * RQ + srq] = w[j]; }
        }
      }
      workgroupBarrier();
      if (summer) {
        for (var k = 0u; k < kc; k++) {
          let wk = region[vk * DV + k * RQ + orq];
          for (var c = 0u; c < 4u; c++) {
            let v = region[k * DV + odc + DQ * c];
            acc[c] += wk.x * v;
            acc[4u + c] += wk.y * v;
            acc[8u + c] += wk.z * v;
            acc[12u + c] += wk.w * v;
          }
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
  for (var i = 0u; i < 4u; i++) {
    let row = 4u * orq + i;
    if (row >= nr) { break; }
    let o = (t0 + row / hs) * p.q_dim + (h0 + row % hs) * D;
    let inv = 1.0 / sum[i];
    for (var c = 0u; c < 4u; c++) {
      let d = 4u * (odc + DQ * c);
      let v = acc[4u * i + c] * inv;
      for (var e = 0u; e < 4u; e++) { if (d + e < D) { O[o + d + e] = v[e]; } }
    }
  }
}
