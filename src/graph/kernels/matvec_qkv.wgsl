// The Q, K and V projections of a one-token step in one dispatch, the
// attention norm folded in (RMSNorm: mv_norm_common.wgsl; LayerNorm:
// mv_lnorm_common.wgsl): rows 0..q_rows-1 from W into Y, the next kv_rows
// from W2 (mvfmt2_*.wgsl) into the K cache's row pos0, the last kv_rows from
// W3 (mvfmt3_*.wgsl) into the V cache's (with no_v, none: V is another
// type, its product the caller's; or, with the mv_qkv_v_own.wgsl snippet,
// another K-quant read in its own unit type by v_rows). With stacked set, W, W2 and W3 are
// one matrix of all three (GPT-2's attn_qkv, bound three times): each reads
// its part's rows where they lie. With bias_at set, NW holds the Q, K and V
// biases stacked from float bias_at on (after the norm's vectors: a binding
// of their own would pass the eight storage buffers every adapter has), and
// each row's is added before RoPE. A group
// takes MV_ROWS rows of one matrix (q_rows and kv_rows are multiples of it),
// so which matrix it reads is uniform across its lanes. matvec.wgsl's scheme
// otherwise.
//
// In the rope variant (mv_qkv_rope.wgsl: a ninth storage buffer, the
// cos/sin table, which not every adapter allows) with rope_pairs set and
// two rows a group, RoPE is applied here too:
// each group of Q and K takes the two rows RoPE turns together (llama.cpp's
// NORMAL pairs (2i, 2i+1), or with neox (i, i + rope_pairs)), so the pair
// is rotated in registers and rope.wgsl's dispatch is saved. Rows past the
// rotated part of a head (partial rotary) go two by two, unturned.
struct Params { q_rows: u32, cols: u32, kv_rows: u32, rope_pairs: u32, neox: u32, head_dim: u32, stacked: u32, bias_at: u32,
                eps: f32, no_v: u32, pad6: u32, pad7: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(2) var<storage, read> X: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;
@group(0) @binding(4) var<storage, read> NW: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> KC: array<f32>;
@group(0) @binding(8) var<storage, read_write> VC: array<f32>;
var<private> xoff: u32; // x is row 0 (mv_norm_common.wgsl reads from xoff)

fn kernel(wg: u32, slot: u32, slots: u32, lane: u32, G: u32) {
  if (step.n_tokens != 1u) { return; } // a decode step's kernel only (the graph dispatches it so)
  let total = p.q_rows + select(2u, 1u, p.no_v != 0u) * p.kv_rows;
  let grow0 = min((wg * slots + slot) * MV_ROWS, total - MV_ROWS);
  let m = select(select(2u, 1u, grow0 < p.q_rows + p.kv_rows), 0u, grow0 < p.q_rows);
  let first = select(select(p.q_rows + p.kv_rows, p.q_rows, m == 1u), 0u, m == 0u);
  let row0 = grow0 - first;
  let nu = p.cols / MV_UNIT;
  var rows: array<u32, MV_ROWS>;
  for (var r = 0u; r < MV_ROWS; r++) { rows[r] = row0 + r; }
  var turn = false;
  var pair = 0u;
  if (QKV_ROPE && p.rope_pairs != 0u && MV_ROWS == 2u && m < 2u) {
    let k = (row0 % p.head_dim) / 2u;
    if (k < p.rope_pairs) {
      turn = true;
      pair = k;
      if (p.neox != 0u) {
        let h0 = row0 - row0 % p.head_dim;
        rows[0] = h0 + k;
        rows[min(1u, MV_ROWS - 1u)] = h0 + k + p.rope_pairs;
      }
    }
  }
  var rb: array<u32, MV_ROWS>;
  let wfirst = select(0u, first, p.stacked != 0u);
  for (var r = 0u; r < MV_ROWS; r++) { rb[r] = (wfirst + rows[r]) * nu; }
  norm_begin(lane, G);
  var acc = vec4<f32>(0.0);
  if (V_OWN && m == 2u) {
    acc = v_rows(rb, lane, G);
  } else {
    var u = lane;
    for (; u + (MV_UNROLL - 1u) * G < nu; u += MV_UNROLL * G) {
      var xs: array<XU, MV_UNROLL>; // loaded first, or one by one with MV_XJIT (matvec.wgsl)
      if (!MV_XJIT) {
        for (var k = 0u; k < MV_UNROLL; k++) { xs[k] = mv_x(u + k * G); }
      }
      var ws: array<WU, MV_ROWS * MV_UNROLL>;
      for (var r = 0u; r < MV_ROWS; r++) {
        for (var k = 0u; k < MV_UNROLL; k++) { ws[r * MV_UNROLL + k] = qkv_w(m, rb[r] + u + k * G); }
      }
      var s = vec4<f32>(0.0);
      for (var k = 0u; k < MV_UNROLL; k++) {
        var x: XU;
        if (MV_XJIT) { x = mv_x(u + k * G); } else { x = xs[k]; }
        for (var r = 0u; r < MV_ROWS; r++) { s[r] += mv_dot(ws[r * MV_UNROLL + k], x); }
      }
      acc += s;
    }
    for (; u < nu; u += G) {
      let x = mv_x(u);
      for (var r = 0u; r < MV_ROWS; r++) { acc[r] += mv_dot(qkv_w(m, rb[r] + u), x); }
    }
  }
  let scale = norm_scale(lane, G); // after the product, whose loads gave x's squares
  var tot = group_sum4(acc, lane) * scale;
  if (p.bias_at != 0u) {
    for (var r = 0u; r < MV_ROWS; r++) {
      let j = p.bias_at + first + rows[r];
      tot[r] += NW[j / 4u][j % 4u];
    }
  }
  if (turn) {
    let c = rope_cs(step_pos(0u) * p.rope_pairs + pair);
    let x0 = tot[0];
    let x1 = tot[1];
    tot[0] = x0 * c.x - x1 * c.y;
    tot[1] = x0 * c.y + x1 * c.x;
  }
  // the last group may overlap the one before it (grow0 clamped): both write the same values
  if (lane < MV_ROWS) {
    let row = rows[lane];
    let v = tot[lane];
    if (m == 0u) { Y[row] = v; }
    else if (m == 1u) { KC[step_row(0u) * p.kv_rows + row] = v; }
    else { VC[step_row(0u) * p.kv_rows + row] = v; }
  }
}
