// Y[base + t][row_offset + r] (+)= dot(W[r], X[t]) (+ B[row_offset + r]) for
// the rows of one weight chunk and the step's tokens (a prompt), as a tiled
// matrix-matrix product in f32 (formats without 8-bit quants; Q8_0 and
// Q4_0 go by matmul_i8.wgsl): a workgroup of 128 lanes takes TT tokens by
// TR rows of Y, and for every BK columns stages those tokens' x and those
// rows' weights (dequantized once, by the format's wdeq) in workgroup
// memory, where every lane takes 8 tokens by 4 rows of the tile in
// registers. A weight is read from memory once per TT tokens, and each value
// staged serves 4 or 8 multiply-adds of a lane. The loads of the next stage
// are started before this stage's multiply-adds, so their latency hides
// behind them. On the H200 (wgpt-kbench -n 512, 2026-11-30) this ran the 1B
// shape's matrices at 26-31 TFLOP/s, 40-46% of the f32 peak (64 by 128
// with 256 lanes: 25-30, and 6 against 10.5 on 512 rows); 8 by 8 a lane (64
// sums) ran at ~2.8: the sums no longer fit the registers. tools/matmul/
// keeps the versions tried. The grid is row tiles by token tiles (ops.c),
// row tiles varying fastest.
// rows_mode says which rows: 0 this step's tokens (base 0), 1 only the
// n_out rows whose logits are wanted (base 0), 2 this step's tokens written
// at their positions (base pos0: the K and V projections store straight
// into the KV cache). accumulate adds into Y: the residual add of a block's
// output projection, fused. The bias, and the step uniform's binding after
// it, come from matmul_bias.wgsl or matmul_nobias.wgsl. w_first skips rows
// of the chunk: a part of a stacked matrix (GPT-2's Q, K and V) read where
// it lies, with row_offset then counted from that part's first row.
struct Params { rows: u32, cols: u32, row_offset: u32, out_stride: u32, in_stride: u32, accumulate: u32, rows_mode: u32, w_first: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> W: array<u32>;
@group(0) @binding(2) var<storage, read> X: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;

const TT: u32 = 64u; // tokens a tile
const TR: u32 = 64u; // rows a tile
const MM_WG: u32 = 128u;
// Columns a stage: half a block of every format. 32 ran slower, 8 too
// (more barriers for the same work).
const BK: u32 = 16u;
// A staged token (row): its BK columns as vec4s and one of padding, so that
// lanes reading tokens (rows) one apart read distinct banks.
const SK: u32 = BK / 4u + 1u;
var<workgroup> xs: array<vec4<f32>, TT * SK>;
var<workgroup> ws: array<vec4<f32>, TR * SK>;

fn put(t: u32, r: u32, v: f32, n: u32, base: u32) {
  if (t >= n || r >= p.rows) { return; }
  var y = v;
  if (HAS_BIAS) { y += out_bias(p.row_offset + r); }
  let o = (base + t) * p.out_stride + p.row_offset + r;
  if (p.accumulate != 0u) { y += Y[o]; }
  Y[o] = y;
}

// Column c: w times x's component c (4 rows for each of 4 tokens).
fn outer(w: vec4<f32>, x: vec4<f32>) -> mat4x4<f32> {
  return mat4x4<f32>(w * x.x, w * x.y, w * x.z, w * x.w);
}

@compute @workgroup_size(MM_WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
  let wg = linear_wg(wid, nwg);
  let row_tiles = (p.rows + TR - 1u) / TR;
  let n = select(step.n_tokens, step.n_out, p.rows_mode == 1u);
  let r0 = (wg % row_tiles) * TR;
  let t0 = (wg / row_tiles) * TT;
  if (t0 >= n) { return; } // uniform: the same for the whole workgroup
  let base = select(0u, step.pos0, p.rows_mode == 2u);
  let nblocks = p.cols / 32u;
  let nst = p.cols / BK;
  // Staging: lane li brings vec4 j of the stage for tokens s and s + 32,
  // and for rows s and s + 32. Tokens and rows past the end repeat the last,
  // unused.
  let s = li / 4u;
  let j = li % 4u;
  let xv = p.in_stride / 4u;
  let xrow0 = min(t0 + s, n - 1u) * xv + j;
  let xrow1 = min(t0 + s + 32u, n - 1u) * xv + j;
  let wrow0 = (p.w_first + min(r0 + s, p.rows - 1u)) * nblocks * WBLOCK_WORDS;
  let wrow1 = (p.w_first + min(r0 + s + 32u, p.rows - 1u)) * nblocks * WBLOCK_WORDS;
  // Lane li computes tokens tq + 8c and rows rq + 16k (c = 0 .. 7, k = 0 .. 3).
  let tq = li / 16u;
  let rq = li % 16u;
  var a0 = mat4x4<f32>(); // tokens tq + 8c, c < 4: column c, component k row rq + 16k
  var a1 = mat4x4<f32>(); // tokens tq + 32 + 8c
  var xr0 = X[xrow0];
  var xr1 = X[xrow1];
  var wr0 = wload(wrow0, j);
  var wr1 = wload(wrow1, j);
  for (var st = 0u; st < nst; st++) {
    let wo = (st / 2u) * WBLOCK_WORDS;
    let jb = 4u * (st % 2u) + j; // the vec4 of the block
    xs[s * SK + j] = xr0;
    xs[(s + 32u) * SK + j] = xr1;
    ws[s * SK + j] = wdeq(wr0, wrow0 + wo, jb);
    ws[(s + 32u) * SK + j] = wdeq(wr1, wrow1 + wo, jb);
    workgroupBarrier();
    let nx = min(st + 1u, nst - 1u);
    let nwo = (nx / 2u) * WBLOCK_WORDS;
    let njb = 4u * (nx % 2u) + j;
    xr0 = X[xrow0 + 4u * nx];
    xr1 = X[xrow1 + 4u * nx];
    wr0 = wload(wrow0 + nwo, njb);
    wr1 = wload(wrow1 + nwo, njb);
    for (var kk = 0u; kk < BK / 4u; kk++) {
      // transposed: column k is column 4kk + k of the stage for the 4 tokens (rows)
      let x0 = transpose(mat4x4<f32>(xs[tq * SK + kk], xs[(tq + 8u) * SK + kk], xs[(tq + 16u) * SK + kk],
                                     xs[(tq + 24u) * SK + kk]));
      let x1 = transpose(mat4x4<f32>(xs[(tq + 32u) * SK + kk], xs[(tq + 40u) * SK + kk], xs[(tq + 48u) * SK + kk],
                                     xs[(tq + 56u) * SK + kk]));
      let w = transpose(mat4x4<f32>(ws[rq * SK + kk], ws[(rq + 16u) * SK + kk], ws[(rq + 32u) * SK + kk],
                                    ws[(rq + 48u) * SK + kk]));
      for (var k = 0u; k < 4u; k++) {
        a0 += outer(w[k], x0[k]);
        a1 += outer(w[k], x1[k]);
      }
    }
    workgroupBarrier();
  }
  for (var c = 0u; c < 4u; c++) {
    for (var k = 0u; k < 4u; k++) {
      put(t0 + tq + 8u * c, r0 + rq + 16u * k, a0[c][k], n, base);
      put(t0 + tq + 32u + 8u * c, r0 + rq + 16u * k, a1[c][k], n, base);
    }
  }
}
