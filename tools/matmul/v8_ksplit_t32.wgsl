// v8_ksplit.wgsl with TT = 32 (see below). v8 (idea d): SPLIT-K INSIDE THE WORKGROUP, double-buffered. Tile 64
// tokens x 64 rows as the engine's, but 256 lanes: a stage is BK = 32
// columns (one block of every format), and the two halves of the workgroup
// (lanes 0-127, 128-255) each take 16 of them for the whole tile, 8 tokens
// x 4 rows = 32 sums a lane (two mat4x4) as the engine's; at the end half 1
// hands its sums to half 0 through workgroup memory, which adds and writes.
// One barrier a stage (two buffers, as v5). Why faster: at 512 tokens the
// 2048-row matrices have only 256 workgroups for 132 SMs, ~2 warps a
// scheduler with the engine's 128 lanes: every barrier, shared-memory and
// global-load latency is exposed. Here the same tiles give twice the warps
// (4 a scheduler), with the same reuse of every staged value, the same
// loads and multiply-adds a lane per barrier, and a quarter of the engine's
// barriers per column. Per lane and stage: 2 vec4 of x and 2 of weights
// loaded (the next stage's, before this stage's 512 multiply-adds), 48 LDS
// reads. Workgroup memory 2 x 16 KB (the reduction reuses it). Needs
// cols % 32 == 0, as matmul.wgsl.

// TT may be 32 (v8_ksplit_t32.wgsl, for the engine's 32-token tiles of
// matrices of <= 1024 rows): then one mat4x4 a lane (16 sums).
const TT: u32 = 32u;
const TR: u32 = 64u;
const MM_WG: u32 = 256u;
const BK: u32 = 32u;
// A staged token (row): its 8 vec4s unpadded, vec4 j stored in slot
// j ^ (token % 8) (rows alike), so that lanes reading one vec4 of 8
// consecutive tokens (rows) read 8 distinct banks: 2 x (64 + 64) x 128 bytes
// = 32 KB, the limit (padded to 9 vec4s: 36 KB, over it).
const SK: u32 = BK / 4u;
var<workgroup> xs: array<vec4<f32>, 2u * TT * SK>;
var<workgroup> ws: array<vec4<f32>, 2u * TR * SK>;

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
  let nst = nblocks;
  // staging: lane li brings vec4 j of the block for tokens (rows) s, s + 32
  let s = li / 8u;
  let j = li % 8u;
  let xv = p.in_stride / 4u;
  let xrow0 = min(t0 + s, n - 1u) * xv + j;
  let xrow1 = min(t0 + s + 32u, n - 1u) * xv + j; // TT 64 only
  let wstr = nblocks * WBLOCK_WORDS;
  let wrow0 = (p.w_first + min(r0 + s, p.rows - 1u)) * wstr;
  let wrow1 = (p.w_first + min(r0 + s + 32u, p.rows - 1u)) * wstr;
  // compute: half h takes vec4s 4h .. 4h + 3 of the stage; lane l of it
  // tokens tq + 8c and rows rq + 16k, as the engine's
  let h = li / 128u;
  let l = li % 128u;
  let kh = 4u * h;
  let tq = l / 16u;
  let rq = l % 16u;
  let tx = tq % 8u; // the swizzle of every token (row) this lane reads
  let rx = rq % 8u;
  let sx0 = s % 8u; // of the tokens (rows) it stages
  var a0 = mat4x4<f32>();
  var a1 = mat4x4<f32>();
  xs[s * SK + (j ^ sx0)] = X[xrow0];
  if (TT == 64u) { xs[(s + 32u) * SK + (j ^ sx0)] = X[xrow1]; }
  ws[s * SK + (j ^ sx0)] = wblock4(wrow0, j);
  ws[(s + 32u) * SK + (j ^ sx0)] = wblock4(wrow1, j);
  workgroupBarrier();
  for (var st = 0u; st < nst; st++) {
    let nx = min(st + 1u, nst - 1u);
    let nwo = nx * WBLOCK_WORDS;
    let xr0 = X[xrow0 + 8u * nx];
    var xr1 = vec4<f32>();
    if (TT == 64u) { xr1 = X[xrow1 + 8u * nx]; }
    let wr0 = wload(wrow0 + nwo, j);
    let wr1 = wload(wrow1 + nwo, j);
    let xb = (st % 2u) * (TT * SK);
    let wb = (st % 2u) * (TR * SK);
    for (var kq = 0u; kq < 4u; kq++) {
      let kx = (kh + kq) ^ tx;
      let kw = (kh + kq) ^ rx;
      let x0 = transpose(mat4x4<f32>(xs[xb + tq * SK + kx], xs[xb + (tq + 8u) * SK + kx],
                                     xs[xb + (tq + 16u) * SK + kx], xs[xb + (tq + 24u) * SK + kx]));
      let w = transpose(mat4x4<f32>(ws[wb + rq * SK + kw], ws[wb + (rq + 16u) * SK + kw],
                                    ws[wb + (rq + 32u) * SK + kw], ws[wb + (rq + 48u) * SK + kw]));
      for (var k = 0u; k < 4u; k++) { a0 += outer(w[k], x0[k]); }
      if (TT == 64u) {
        let x1 = transpose(mat4x4<f32>(xs[xb + (tq + 32u) * SK + kx], xs[xb + (tq + 40u) * SK + kx],
                                       xs[xb + (tq + 48u) * SK + kx], xs[xb + (tq + 56u) * SK + kx]));
        for (var k = 0u; k < 4u; k++) { a1 += outer(w[k], x1[k]); }
      }
    }
    // stage st + 1 into the other buffer (last read in stage st - 1)
    let nxb = TT * SK - xb;
    let nwb = TR * SK - wb;
    xs[nxb + s * SK + (j ^ sx0)] = xr0;
    if (TT == 64u) { xs[nxb + (s + 32u) * SK + (j ^ sx0)] = xr1; }
    ws[nwb + s * SK + (j ^ sx0)] = wdeq(wr0, wrow0 + nwo, j);
    ws[nwb + (s + 32u) * SK + (j ^ sx0)] = wdeq(wr1, wrow1 + nwo, j);
    workgroupBarrier();
  }
  // half 1's sums to half 0 (xs is free: every lane is past the last barrier)
  if (h == 1u) {
    for (var c = 0u; c < 4u; c++) {
      xs[c * 128u + l] = a0[c];
      if (TT == 64u) { xs[(c + 4u) * 128u + l] = a1[c]; }
    }
  }
  workgroupBarrier();
  if (h == 0u) {
    for (var c = 0u; c < 4u; c++) {
      let b0 = a0[c] + xs[c * 128u + l];
      var b1 = vec4<f32>();
      if (TT == 64u) { b1 = a1[c] + xs[(c + 4u) * 128u + l]; }
      for (var k = 0u; k < 4u; k++) {
        put(t0 + tq + 8u * c, r0 + rq + 16u * k, b0[k], n, base);
        if (TT == 64u) { put(t0 + tq + 32u + 8u * c, r0 + rq + 16u * k, b1[k], n, base); }
      }
    }
  }
}
