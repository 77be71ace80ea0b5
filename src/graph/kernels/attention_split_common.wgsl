// What the two one-token split-attention kernels (attention_split.wgsl,
// attention_split_sg.wgsl) share: their parameters (ops.c's op_attention;
// chunk_keys is the chunk, for attention_merge.wgsl), their bindings, and
// one key's scores.
struct Params { n_heads: u32, n_kv_heads: u32, head_dim: u32, kv_dim: u32, q_dim: u32, cache_off: u32, n_ctx: u32, scale: f32,
                window: u32, chunks: u32, chunk_keys: u32, pad2: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> Q: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> Kc: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> Vc: array<vec4<f32>>;
// [n_heads][chunks][head_dim / 4 + 1]: the weighted sum, then (m, l, 0, 0)
@group(0) @binding(4) var<storage, read_write> P: array<vec4<f32>>;
@group(0) @binding(5) var<uniform> step: Step;

// A workgroup's share of the grid: a chunk c of CH keys (counted from key
// 0), a group of up to MAXG query heads from h0 and their KV head, whose
// vec4s start at ko in each cache row of kvv; the step's keys are first
// .. n_keys - 1. Chunks wholly before the window (or past the grid) have
// nothing to do, and the merge never reads them: live false.
struct Block { live: bool, first: u32, n_keys: u32, c: u32, h0: u32, ng: u32, nv: u32, ko: u32, kvv: u32 }

fn block_of(wg: u32) -> Block {
  var b: Block;
  b.n_keys = step_pos(0u) + 1u;
  if (p.window != 0u && b.n_keys > p.window) { b.first = b.n_keys - p.window; }
  let nc = (b.n_keys + CH - 1u) / CH;
  let group = p.n_heads / p.n_kv_heads;
  let nhb = (group + MAXG - 1u) / MAXG;
  b.live = wg < nc * nhb * p.n_kv_heads && (wg % nc + 1u) * CH > b.first;
  b.c = wg % nc;
  let hb = (wg / nc) % nhb;
  let kvh = wg / (nc * nhb);
  b.h0 = kvh * group + hb * MAXG;
  b.ng = min(MAXG, group - hb * MAXG);
  b.nv = p.head_dim / 4u;
  b.ko = (p.cache_off + (step_row(0u) - step_pos(0u)) * p.kv_dim) / 4u + kvh * b.nv;
  b.kvv = p.kv_dim / 4u;
  return b;
}

// The block's queries into qs (head g from g * WG), by lane t of the
// workgroup's WG; every lane calls it (it ends with the barrier).
fn stage_queries(b: Block, t: u32) {
  for (var i = t; i < b.ng * b.nv; i += WG) { qs[(i / b.nv) * WG + i % b.nv] = Q[(b.h0 + i / b.nv) * b.nv + i % b.nv]; }
  workgroupBarrier();
}

// One key's scores against the staged queries of up to MAXG heads sharing
// its KV head: qs holds head g's vec4s from g * WG, Kc the key's row from
// kr. The row is read whole by the lane, eight loads at a time before any
// is used: with every workgroup of a layer resident at once, the time is a
// chain of memory round trips, not the bandwidth. Loops over heads run to
// the constant MAXG so that they unroll and the scores stay in registers.
fn key_scores(kr: u32, nv: u32, ng: u32) -> array<f32, MAXG> {
  var s: array<f32, MAXG>;
  var dv = 0u;
  for (; dv + 8u <= nv; dv += 8u) {
    let a0 = Kc[kr + dv];
    let a1 = Kc[kr + dv + 1u];
    let a2 = Kc[kr + dv + 2u];
    let a3 = Kc[kr + dv + 3u];
    let a4 = Kc[kr + dv + 4u];
    let a5 = Kc[kr + dv + 5u];
    let a6 = Kc[kr + dv + 6u];
    let a7 = Kc[kr + dv + 7u];
    for (var g = 0u; g < MAXG; g++) {
      if (g >= ng) { break; }
      let qo = g * WG + dv;
      s[g] += dot(qs[qo], a0) + dot(qs[qo + 1u], a1) + dot(qs[qo + 2u], a2) + dot(qs[qo + 3u], a3) +
              dot(qs[qo + 4u], a4) + dot(qs[qo + 5u], a5) + dot(qs[qo + 6u], a6) + dot(qs[qo + 7u], a7);
    }
  }
  for (; dv < nv; dv++) {
    let a = Kc[kr + dv];
    for (var g = 0u; g < MAXG; g++) { if (g < ng) { s[g] += dot(qs[g * WG + dv], a); } }
  }
  return s;
}
