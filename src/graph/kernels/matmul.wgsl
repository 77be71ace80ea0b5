// The batched product (matmul_common.wgsl: which rows, and the bias) as a
// tiled matrix-matrix product in f32 (every format; Q8_0 and Q4_0 by
// matmul_i8.wgsl instead, unless WGPT_MATMUL_I8=0): a workgroup of 128 lanes takes TT tokens by
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
// keeps the versions tried.

// Tokens a tile: 64, or 32 where a matrix has few rows (kernels.c sets
// MM_TOKENS by the variant; ops.c picks it): 512-row K and V projections
// of 512 tokens ran at 14.4 TFLOP/s in tiles of 32 against 9.7 in 64s.
const TT: u32 = MM_TOKENS;
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

// Column c: w times x's component c (4 rows for each of 4 tokens).
fn outer(w: vec4<f32>, x: vec4<f32>) -> mat4x4<f32> {
  return mat4x4<f32>(w * x.x, w * x.y, w * x.z, w * x.w);
}

@compute @workgroup_size(MM_WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
  let tl = tile_of(wid, nwg, TR, TT);
  if (tl.t0 >= tl.n) { return; }
  let r0 = tl.r0;
  let t0 = tl.t0;
  let n = tl.n;
  let base = tl.base;
  let nblocks = p.cols / 32u;
  // The tile's stages: all, or its part's (ops.c splits at whole stages).
  let st0 = tl.k0 / BK;
  let st1 = tl.k1 / BK;
  // Staging: lane li brings vec4 j of the stage for tokens s and s + 32
  // (TT 64), and for rows s and s + 32. Tokens and rows past the end repeat the last,
  // unused.
  let s = li / 4u;
  let j = li % 4u;
  let xv = p.in_stride / 4u;
  let xrow0 = min(t0 + s, n - 1u) * xv + j;
  let xrow1 = min(t0 + s + 32u, n - 1u) * xv + j;
  let wrow0 = (p.w_first + min(r0 + s, p.rows - 1u)) * nblocks * WBLOCK_WORDS;
  let wrow1 = (p.w_first + min(r0 + s + 32u, p.rows - 1u)) * nblocks * WBLOCK_WORDS;
  // Lane li computes tokens tq + 8c and rows rq + 16k (c < TT / 8, k < 4).
  let tq = li / 16u;
  let rq = li % 16u;
  var a0 = mat4x4<f32>(); // tokens tq + 8c, c < 4: column c, component k row rq + 16k
  var a1 = mat4x4<f32>(); // tokens tq + 32 + 8c (TT 64)
  let fwo = (st0 / 2u) * WBLOCK_WORDS;
  let fjb = 4u * (st0 % 2u) + j;
  var xr0 = X[xrow0 + 4u * st0];
  var xr1 = vec4<f32>();
  if (TT == 64u) { xr1 = X[xrow1 + 4u * st0]; }
  var wr0 = wload(wrow0 + fwo, fjb);
  var wr1 = wload(wrow1 + fwo, fjb);
  for (var st = st0; st < st1; st++) {
    let wo = (st / 2u) * WBLOCK_WORDS;
    let jb = 4u * (st % 2u) + j; // the vec4 of the block
    xs[s * SK + j] = xr0;
    if (TT == 64u) { xs[(s + 32u) * SK + j] = xr1; }
    ws[s * SK + j] = wdeq(wr0, wrow0 + wo, jb);
    ws[(s + 32u) * SK + j] = wdeq(wr1, wrow1 + wo, jb);
    workgroupBarrier();
    let nx = min(st + 1u, st1 - 1u);
    let nwo = (nx / 2u) * WBLOCK_WORDS;
    let njb = 4u * (nx % 2u) + j;
    xr0 = X[xrow0 + 4u * nx];
    if (TT == 64u) { xr1 = X[xrow1 + 4u * nx]; }
    wr0 = wload(wrow0 + nwo, njb);
    wr1 = wload(wrow1 + nwo, njb);
    for (var kk = 0u; kk < BK / 4u; kk++) {
      // transposed: column k is column 4kk + k of the stage for the 4 tokens (rows)
      let x0 = transpose(mat4x4<f32>(xs[tq * SK + kk], xs[(tq + 8u) * SK + kk], xs[(tq + 16u) * SK + kk],
                                     xs[(tq + 24u) * SK + kk]));
      let w = transpose(mat4x4<f32>(ws[rq * SK + kk], ws[(rq + 16u) * SK + kk], ws[(rq + 32u) * SK + kk],
                                    ws[(rq + 48u) * SK + kk]));
      for (var k = 0u; k < 4u; k++) { a0 += outer(w[k], x0[k]); }
      if (TT == 64u) {
        let x1 = transpose(mat4x4<f32>(xs[(tq + 32u) * SK + kk], xs[(tq + 40u) * SK + kk], xs[(tq + 48u) * SK + kk],
                                       xs[(tq + 56u) * SK + kk]));
        for (var k = 0u; k < 4u; k++) { a1 += outer(w[k], x1[k]); }
      }
    }
    workgroupBarrier();
  }
  for (var c = 0u; c < 4u; c++) {
    for (var k = 0u; k < 4u; k++) {
      put(t0 + tq + 8u * c, r0 + rq + 16u * k, a0[c][k], n, base);
      if (TT == 64u) { put(t0 + tq + 32u + 8u * c, r0 + rq + 16u * k, a1[c][k], n, base); }
    }
  }
}
