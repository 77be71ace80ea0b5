// Tried 2026-11-30: 128 tokens by 128 rows, 8 by 8 a lane in four mat4x4s,
// rows staged untransposed (3 vec4s apart). 2.8 TFLOP/s on the H200 at
// 8192x2048 x 512 tokens: 64 sums a lane spill (the engine's 4 by 8: 26-30).
// Y[base + t][row_offset + r] (+)= dot(W[r], X[t]) (+ B[row_offset + r]) for
// the rows of one weight chunk and the step's tokens (a prompt), as a tiled
// matrix-matrix product: a workgroup of 256 lanes takes TT tokens by TR
// rows of Y, and for every BK columns stages those tokens' x and those
// rows' weights (dequantized once, by the format's wdeq) in workgroup
// memory, where every lane takes 8 tokens by 8 rows of the tile in
// registers. A weight is read from memory once per TT tokens, and each value
// staged serves 8 multiply-adds of a lane. The loads of the next stage are
// started before this stage's multiply-adds, so their latency hides behind
// them (version 1, tools/matmul/, waited on every stage's loads with 2
// warps a workgroup: ~2.6 TFLOP/s on the H200). The grid is row tiles by
// token tiles (ops.c), row tiles varying fastest.
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

const TT: u32 = 128u; // tokens a tile
const TR: u32 = 128u; // rows a tile
const MM_WG: u32 = 256u;
const BK: u32 = 8u;
// A staged token (row): its BK columns as vec4s, and one vec4 of padding so
// that 8 lanes reading rows 16 apart... 48 bytes apart hit distinct banks.
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
  if (t0 >= n) { return; }
  let base = select(0u, step.pos0, p.rows_mode == 2u);
  let nblocks = p.cols / 32u;
  let nst = p.cols / BK;
  let sl = li / 2u;
  let jj = li % 2u;
  let xrow = min(t0 + sl, n - 1u) * (p.in_stride / 4u) + jj;
  let wrow = (p.w_first + min(r0 + sl, p.rows - 1u)) * nblocks * WBLOCK_WORDS;
  let so = sl * SK + jj;
  // Lane li: tokens tq + 16m and rows rq + 16i (m, i = 0 .. 7) of the tile.
  let tq = li / 16u;
  let rq = li % 16u;
  // token quad a, row quad b: column c is token 4a + c, row j of it row 4b + j
  var a00 = mat4x4<f32>();
  var a01 = mat4x4<f32>();
  var a10 = mat4x4<f32>();
  var a11 = mat4x4<f32>();
  var xr = X[xrow];
  var wr = wload(wrow, jj);
  for (var st = 0u; st < nst; st++) {
    xs[so] = xr;
    ws[so] = wdeq(wr, wrow + (st / 4u) * WBLOCK_WORDS, 2u * (st % 4u) + jj);
    workgroupBarrier();
    let nx = min(st + 1u, nst - 1u);
    xr = X[xrow + 2u * nx];
    wr = wload(wrow + (nx / 4u) * WBLOCK_WORDS, 2u * (nx % 4u) + jj);
    for (var kk = 0u; kk < BK / 4u; kk++) {
      let x0 = mat4x4<f32>(xs[tq * SK + kk], xs[(tq + 16u) * SK + kk], xs[(tq + 32u) * SK + kk], xs[(tq + 48u) * SK + kk]);
      let x1 = mat4x4<f32>(xs[(tq + 64u) * SK + kk], xs[(tq + 80u) * SK + kk], xs[(tq + 96u) * SK + kk], xs[(tq + 112u) * SK + kk]);
      let w0 = mat4x4<f32>(ws[rq * SK + kk], ws[(rq + 16u) * SK + kk], ws[(rq + 32u) * SK + kk], ws[(rq + 48u) * SK + kk]);
      let w1 = mat4x4<f32>(ws[(rq + 64u) * SK + kk], ws[(rq + 80u) * SK + kk], ws[(rq + 96u) * SK + kk], ws[(rq + 112u) * SK + kk]);
      // transposed: column k is column k of the stage for the quad's 4 tokens (rows)
      let tx0 = transpose(x0);
      let tx1 = transpose(x1);
      let tw0 = transpose(w0);
      let tw1 = transpose(w1);
      for (var k = 0u; k < 4u; k++) {
        a00 += outer(tw0[k], tx0[k]);
        a01 += outer(tw1[k], tx0[k]);
        a10 += outer(tw0[k], tx1[k]);
        a11 += outer(tw1[k], tx1[k]);
      }
    }
    workgroupBarrier();
  }
  for (var c = 0u; c < 4u; c++) {
    let ta = t0 + tq + 16u * c;
    let tb = ta + 64u;
    for (var j = 0u; j < 4u; j++) {
      let ra = r0 + rq + 16u * j;
      let rb = ra + 64u;
      put(ta, ra, a00[c][j], n, base);
      put(ta, rb, a01[c][j], n, base);
      put(tb, ra, a10[c][j], n, base);
      put(tb, rb, a11[c][j], n, base);
    }
  }
}
