// v9 (idea d, smallest change): the engine's matmul.wgsl with only the
// lanes' places in the tile remapped. Tile 64 tokens x 64 rows, 128 lanes,
// 8 tokens x 4 rows = 32 sums a lane, BK = 16, 2 barriers a stage, all as
// the engine's. The engine's warp (32 lanes) covers 2 token lanes (tq) by
// 16 row lanes (rq): of its 12 LDS.128 reads per 4 columns, the 8 of x
// read 2 distinct vec4s each and the 4 of w 16 (256 bytes: 2 wavefronts),
// 16 wavefronts per 128 multiply-adds. Here a warp covers 4 tq by 8 rq
// (tq = lane / 8 + 4 (warp % 2), rq = lane % 8 + 8 (warp / 2)): x reads 4
// distinct vec4s, w 8, each read one 128-byte wavefront (the padded stride
// of 20 words puts 8 consecutive tokens / rows in distinct banks), 12
// wavefronts: 25% less shared-memory traffic for the same work, if the
// reads are what limits the kernel (46% of peak with ~2 warps a scheduler).
// Needs cols % 32 == 0, as matmul.wgsl.

const TT: u32 = 64u;
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
  let nst = p.cols / BK;
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
  // a warp (wp = li / 32) covers 4 token lanes by 8 row lanes, not 2 by 16
  let wp = li / 32u;
  let ln = li % 32u;
  let tq = ln / 8u + 4u * (wp % 2u);
  let rq = ln % 8u + 8u * (wp / 2u);
  var a0 = mat4x4<f32>(); // tokens tq + 8c, c < 4: column c, component k row rq + 16k
  var a1 = mat4x4<f32>(); // tokens tq + 32 + 8c (TT 64)
  var xr0 = X[xrow0];
  var xr1 = vec4<f32>();
  if (TT == 64u) { xr1 = X[xrow1]; }
  var wr0 = wload(wrow0, j);
  var wr1 = wload(wrow1, j);
  for (var st = 0u; st < nst; st++) {
    let wo = (st / 2u) * WBLOCK_WORDS;
    let jb = 4u * (st % 2u) + j; // the vec4 of the block
    xs[s * SK + j] = xr0;
    if (TT == 64u) { xs[(s + 32u) * SK + j] = xr1; }
    ws[s * SK + j] = wdeq(wr0, wrow0 + wo, jb);
    ws[(s + 32u) * SK + j] = wdeq(wr1, wrow1 + wo, jb);
    workgroupBarrier();
    let nx = min(st + 1u, nst - 1u);
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
