// i8_v3_t8r8_pf.wgsl with all 8 rows' weights of a block in registers (64
// words) and each token's x loaded once a block. For wgpt-kbench -k.

const TT: u32 = 64u;
const TR: u32 = 128u;
const MM_WG: u32 = 128u;
const KB: u32 = MMI8_KB;
const XS: u32 = 2u * KB;
const WS: u32 = 2u * KB + 1u;
@group(0) @binding(2) var<storage, read> X: array<vec4<u32>>;
var<workgroup> xq: array<vec4<u32>, TT * XS>;
var<workgroup> wq: array<vec4<u32>, TR * WS>;
var<workgroup> xd: array<f32, TT * KB>;
var<workgroup> xo: array<i32, TT * KB>;
var<workgroup> wd: array<f32, TR * KB>;

fn dot8(a: vec4<u32>, b: vec4<u32>, c: vec4<u32>, d: vec4<u32>) -> i32 {
  return dot4I8Packed(a.x, c.x) + dot4I8Packed(a.y, c.y) + dot4I8Packed(a.z, c.z) + dot4I8Packed(a.w, c.w) +
         dot4I8Packed(b.x, d.x) + dot4I8Packed(b.y, d.y) + dot4I8Packed(b.z, d.z) + dot4I8Packed(b.w, d.w);
}

fn x_scale_sum(blk: u32) -> vec2<u32> {
  let v = X[(4u * arrayLength(&X)) / 5u + blk / 2u];
  return select(v.xy, v.zw, (blk & 1u) == 1u);
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
  let b0 = tl.k0 / 32u;
  let be = tl.k1 / 32u;
  let wblk = (p.w_first + min(r0 + li, p.rows - 1u)) * nblocks;
  let tq = li / 16u;
  let rq = li % 16u;
  var acc: array<array<f32, 8>, 8>; // [token c][row k]: token tq + 8c, row rq + 16k
  var xv: array<vec4<u32>, KB>;     // vec4s li + 128 m of the next stage's x
  var dv = vec2<u32>();
  var wr: array<vec4<u32>, 2u * KB>;
  var wsw: array<f32, KB>;
  for (var m = 0u; m < KB; m++) {
    let i = li + 128u * m; // < TT * XS = 128 KB
    let tok = min(t0 + i / XS, n - 1u);
    let xj = i % XS;
    xv[m] = X[2u * (tok * nblocks + min(b0 + xj / 2u, be - 1u)) + xj % 2u];
  }
  if (li < TT * KB) {
    dv = x_scale_sum(min(t0 + li / KB, n - 1u) * nblocks + min(b0 + li % KB, be - 1u));
  }
  for (var j = 0u; j < KB; j++) {
    let wb = wblk + min(b0 + j, be - 1u);
    wr[2u * j] = i8_load(wb, 0u);
    wr[2u * j + 1u] = i8_load(wb, 1u);
    wsw[j] = unpack2x16float(i8_scale_word(wb) >> (16u * (wb & 1u))).x;
  }
  for (var bs = b0; bs < be; bs += KB) {
    for (var m = 0u; m < KB; m++) { xq[li + 128u * m] = xv[m]; }
    if (li < TT * KB) {
      xd[li] = bitcast<f32>(dv.x);
      if (I8_OFFSET) { xo[li] = 8 * bitcast<i32>(dv.y); }
    }
    for (var j = 0u; j < KB; j++) {
      wq[li * WS + 2u * j] = i8_words(wr[2u * j], 0u);
      wq[li * WS + 2u * j + 1u] = i8_words(wr[2u * j + 1u], 1u);
      wd[li * KB + j] = wsw[j];
    }
    workgroupBarrier();
    let nb = min(bs + KB, be - 1u);
    for (var m = 0u; m < KB; m++) {
      let i = li + 128u * m; // < TT * XS = 128 KB
      let tok = min(t0 + i / XS, n - 1u);
      let xj = i % XS;
      xv[m] = X[2u * (tok * nblocks + min(nb + xj / 2u, be - 1u)) + xj % 2u];
    }
    if (li < TT * KB) {
      dv = x_scale_sum(min(t0 + li / KB, n - 1u) * nblocks + min(nb + li % KB, be - 1u));
    }
    for (var j = 0u; j < KB; j++) {
      let wb = wblk + min(nb + j, be - 1u);
      wr[2u * j] = i8_load(wb, 0u);
      wr[2u * j + 1u] = i8_load(wb, 1u);
      wsw[j] = unpack2x16float(i8_scale_word(wb) >> (16u * (wb & 1u))).x;
    }
    for (var j = 0u; j < KB; j++) {
      if (bs + j >= be) { break; }
      {
        var wa: array<vec4<u32>, 8>;
        var wb: array<vec4<u32>, 8>;
        var ws: array<f32, 8>;
        for (var k = 0u; k < 8u; k++) {
          let r = rq + 16u * k;
          wa[k] = wq[r * WS + 2u * j];
          wb[k] = wq[r * WS + 2u * j + 1u];
          ws[k] = wd[r * KB + j];
        }
        for (var c = 0u; c < 8u; c++) {
          let t = tq + 8u * c;
          let xa = xq[t * XS + 2u * j];
          let xb = xq[t * XS + 2u * j + 1u];
          let dx = xd[t * KB + j];
          var off = 0;
          if (I8_OFFSET) { off = xo[t * KB + j]; }
          for (var k = 0u; k < 8u; k++) {
            let s = dot8(xa, xb, wa[k], wb[k]) - off;
            acc[c][k] += f32(s) * (dx * ws[k]);
          }
        }
      }
    }
    workgroupBarrier();
  }
  for (var c = 0u; c < 8u; c++) {
    for (var k = 0u; k < 8u; k++) {
      put(t0 + tq + 8u * c, r0 + rq + 16u * k, acc[c][k], n, base);
    }
  }
}
