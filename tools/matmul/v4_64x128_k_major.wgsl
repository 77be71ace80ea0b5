// Tried 2026-11-30: 8 by 8 sums a lane in four mat4x4s with columns k-major
// in workgroup memory (a column's 8 tokens and 8 rows of a lane in 4 loads).
// 3.1-4.1 TFLOP/s on the H200 at 512 tokens: 64 sums a lane spill, as v3's.
// (64 tokens by 128 rows, 128 lanes; kbench -k composes matmul_common.wgsl in.)
const TT: u32 = 64u;
const TR: u32 = 128u;
const MM_WG: u32 = 128u;
const BK: u32 = 8u;
const XS4: u32 = TT / 4u + 1u;
const WS4: u32 = TR / 4u + 1u;
var<workgroup> xs: array<vec4<f32>, BK * XS4>;
var<workgroup> ws: array<vec4<f32>, BK * WS4>;

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
  const HV: u32 = BK / 4u;
  // staging: x: token sx = li / HV, vec4 jx = li % HV of the stage
  let sx = li / HV;
  let jx = li % HV;
  let xrow = min(t0 + sx, n - 1u) * (p.in_stride / 4u) + jx;
  let sw0 = (li + 0u) / HV;
  let jw0 = (li + 0u) % HV;
  let wrow0 = (p.w_first + min(r0 + sw0, p.rows - 1u)) * nblocks * WBLOCK_WORDS;
  var wr0 = wload(wrow0, jw0);
  let sw1 = (li + 128u) / HV;
  let jw1 = (li + 128u) % HV;
  let wrow1 = (p.w_first + min(r0 + sw1, p.rows - 1u)) * nblocks * WBLOCK_WORDS;
  var wr1 = wload(wrow1, jw1);
  let tq = li / 16u;
  let rq = li % 16u;
  var aa = mat4x4<f32>(); // tokens 4tq + c (column c), rows 4rq + j (component j)
  var ab = mat4x4<f32>(); // rows + 64
  var ba = mat4x4<f32>(); // tokens + TT / 2
  var bb = mat4x4<f32>();
  var xr = X[xrow];
  for (var st = 0u; st < nst; st++) {
    for (var e = 0u; e < 4u; e++) { xs[(4u * jx + e) * XS4 + sx / 4u][sx % 4u] = xr[e]; }
    let wv0 = wdeq(wr0, wrow0 + (st * BK / 32u) * WBLOCK_WORDS, HV * (st % (32u / BK)) + jw0);
    for (var e = 0u; e < 4u; e++) { ws[(4u * jw0 + e) * WS4 + sw0 / 4u][sw0 % 4u] = wv0[e]; }
    let wv1 = wdeq(wr1, wrow1 + (st * BK / 32u) * WBLOCK_WORDS, HV * (st % (32u / BK)) + jw1);
    for (var e = 0u; e < 4u; e++) { ws[(4u * jw1 + e) * WS4 + sw1 / 4u][sw1 % 4u] = wv1[e]; }
    workgroupBarrier();
    let nx = min(st + 1u, nst - 1u);
    xr = X[xrow + HV * nx];
    wr0 = wload(wrow0 + (nx * BK / 32u) * WBLOCK_WORDS, HV * (nx % (32u / BK)) + jw0);
    wr1 = wload(wrow1 + (nx * BK / 32u) * WBLOCK_WORDS, HV * (nx % (32u / BK)) + jw1);
    for (var k = 0u; k < BK; k++) {
      let xa = xs[k * XS4 + tq];
      let xb = xs[k * XS4 + TT / 8u + tq];
      let wa = ws[k * WS4 + rq];
      let wb = ws[k * WS4 + 16u + rq];
      aa += outer(wa, xa);
      ab += outer(wb, xa);
      ba += outer(wa, xb);
      bb += outer(wb, xb);
    }
    workgroupBarrier();
  }
  for (var c = 0u; c < 4u; c++) {
    for (var j = 0u; j < 4u; j++) {
      let ta = t0 + 4u * tq + c;
      let tb = ta + TT / 2u;
      let ra = r0 + 4u * rq + j;
      let rb = ra + 64u;
      put(ta, ra, aa[c][j], n, base);
      put(ta, rb, ab[c][j], n, base);
      put(tb, ra, ba[c][j], n, base);
      put(tb, rb, bb[c][j], n, base);
    }
  }
}
