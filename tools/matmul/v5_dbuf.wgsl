// v5 (idea a): the engine's matmul.wgsl with DOUBLE-BUFFERED workgroup
// stages. Tile 64 tokens x 64 rows, 128 lanes, 8 tokens x 4 rows = 32 sums a
// lane (two mat4x4), BK = 16 columns a stage, ONE barrier a stage (the
// engine's: two). Stage st is read from buffer st % 2 while the lanes write
// stage st + 1 into the other buffer: a lane may run
// ahead into the next stage's stores without waiting for the slow lanes to
// finish reading, so the only wait is the one barrier that publishes the
// next stage. Loop, per stage: issue the global loads of stage st + 1 into
// registers, multiply-add stage st from buffer st % 2, store the registers
// (dequantized) into buffer (st + 1) % 2, barrier. Buffer (st + 1) % 2 was
// last read in stage st - 1, which every lane finished before the barrier
// ending stage st - 1, so the stores are safe. Why faster: half the
// barriers, and with only ~2 warps a scheduler at 512 tokens (256
// workgroups on 132 SMs for 2048 rows) every barrier stall is exposed.
// Workgroup memory 2 x 10 KB. Needs cols % 32 == 0, as matmul.wgsl.

const TT: u32 = 64u;
const TR: u32 = 64u;
const MM_WG: u32 = 128u;
const BK: u32 = 16u;
const SK: u32 = BK / 4u + 1u;
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
  let nst = p.cols / BK;
  let s = li / 4u;
  let j = li % 4u;
  let xv = p.in_stride / 4u;
  let xrow0 = min(t0 + s, n - 1u) * xv + j;
  let xrow1 = min(t0 + s + 32u, n - 1u) * xv + j;
  let wrow0 = (p.w_first + min(r0 + s, p.rows - 1u)) * nblocks * WBLOCK_WORDS;
  let wrow1 = (p.w_first + min(r0 + s + 32u, p.rows - 1u)) * nblocks * WBLOCK_WORDS;
  let tq = li / 16u;
  let rq = li % 16u;
  var a0 = mat4x4<f32>();
  var a1 = mat4x4<f32>();
  // stage 0 into buffer 0
  xs[s * SK + j] = X[xrow0];
  xs[(s + 32u) * SK + j] = X[xrow1];
  ws[s * SK + j] = wblock4(wrow0, j);
  ws[(s + 32u) * SK + j] = wblock4(wrow1, j);
  workgroupBarrier();
  for (var st = 0u; st < nst; st++) {
    let nx = min(st + 1u, nst - 1u);
    let nwo = (nx / 2u) * WBLOCK_WORDS;
    let njb = 4u * (nx % 2u) + j;
    let xr0 = X[xrow0 + 4u * nx];
    let xr1 = X[xrow1 + 4u * nx];
    let wr0 = wload(wrow0 + nwo, njb);
    let wr1 = wload(wrow1 + nwo, njb);
    let xb = (st % 2u) * (TT * SK);
    let wb = (st % 2u) * (TR * SK);
    for (var kk = 0u; kk < BK / 4u; kk++) {
      let x0 = transpose(mat4x4<f32>(xs[xb + tq * SK + kk], xs[xb + (tq + 8u) * SK + kk],
                                     xs[xb + (tq + 16u) * SK + kk], xs[xb + (tq + 24u) * SK + kk]));
      let w = transpose(mat4x4<f32>(ws[wb + rq * SK + kk], ws[wb + (rq + 16u) * SK + kk],
                                    ws[wb + (rq + 32u) * SK + kk], ws[wb + (rq + 48u) * SK + kk]));
      for (var k = 0u; k < 4u; k++) { a0 += outer(w[k], x0[k]); }
      let x1 = transpose(mat4x4<f32>(xs[xb + (tq + 32u) * SK + kk], xs[xb + (tq + 40u) * SK + kk],
                                     xs[xb + (tq + 48u) * SK + kk], xs[xb + (tq + 56u) * SK + kk]));
      for (var k = 0u; k < 4u; k++) { a1 += outer(w[k], x1[k]); }
    }
    // the other buffer: stage st + 1 (at the last stage a harmless rewrite of
    // the buffer nobody reads any more)
    let nxb = TT * SK - xb;
    let nwb = TR * SK - wb;
    xs[nxb + s * SK + j] = xr0;
    xs[nxb + (s + 32u) * SK + j] = xr1;
    ws[nwb + s * SK + j] = wdeq(wr0, wrow0 + nwo, njb);
    ws[nwb + (s + 32u) * SK + j] = wdeq(wr1, wrow1 + nwo, njb);
    workgroupBarrier();
  }
  for (var c = 0u; c < 4u; c++) {
    for (var k = 0u; k < 4u; k++) {
      put(t0 + tq + 8u * c, r0 + rq + 16u * k, a0[c][k], n, base);
      put(t0 + tq + 32u + 8u * c, r0 + rq + 16u * k, a1[c][k], n, base);
    }
  }
}
