// matmul_i8.wgsl on tiles of 32 tokens (2 by 8 sums a lane): twice the
// workgroups, for the 2048-row products' 128 tiles. For wgpt-kbench -k.
const TT: u32 = 32u;  // tokens a tile
const TR: u32 = 128u; // rows a tile
const MM_WG: u32 = 256u;
const KB: u32 = MMI8_KB;
const XS: u32 = 2u * KB;      // vec4s of x a token a stage
const WS: u32 = 2u * KB + 1u; // vec4s of weights a row a stage, one of padding: lanes reading rows one apart
                              // then read distinct banks
@group(0) @binding(2) var<storage, read> X: array<vec4<u32>>;
var<workgroup> xq: array<vec4<u32>, TT * XS>;
var<workgroup> wq: array<vec4<u32>, TR * WS>;
var<workgroup> xd: array<f32, TT * KB>; // x's block scales
var<workgroup> xo: array<i32, TT * KB>; // Q4_0's offset: 8 times the sum of x's quants
var<workgroup> wd: array<f32, TR * KB>; // the weights' block scales

fn dot8(a: vec4<u32>, b: vec4<u32>, c: vec4<u32>, d: vec4<u32>) -> i32 {
  return dot4I8Packed(a.x, c.x) + dot4I8Packed(a.y, c.y) + dot4I8Packed(a.z, c.z) + dot4I8Packed(a.w, c.w) +
         dot4I8Packed(b.x, d.x) + dot4I8Packed(b.y, d.y) + dot4I8Packed(b.z, d.z) + dot4I8Packed(b.w, d.w);
}

// Block blk's (scale, sum) pair: the pairs follow the B blocks' quants
// (B = 2/5 of X's vec4s), two pairs a vec4.
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
  // The tile's blocks: all, or its part's (ops.c splits at whole stages).
  let b0 = tl.k0 / 32u;
  let be = tl.k1 / 32u;
  // Staging: lane li brings vec4 xj of token xs's stage of x (lanes past
  // TT * XS none), and for tokens sd = li / KB the scale and sum of block
  // jd (lanes past TT * KB none); half h of row r's blocks of weights.
  // Tokens and rows past the end repeat the last, unused.
  let xs = li / XS;
  let xj = li % XS;
  let xblk = min(t0 + xs, n - 1u) * nblocks; // the token's first block
  let sd = li / KB;
  let jd = li % KB;
  let dblk = min(t0 + sd, n - 1u) * nblocks;
  let r = li / 2u;
  let h = li % 2u;
  let wblk = (p.w_first + min(r0 + r, p.rows - 1u)) * nblocks;
  // Lane li computes tokens tq + 16c and rows rq + 16k (c = 0 .. 3, k = 0 .. 7).
  let tq = li / 16u;
  let rq = li % 16u;
  var a0 = mat4x4<f32>(); // rows rq + 16k, k < 4: column c token tq + 16c, component k
  var a1 = mat4x4<f32>(); // rows rq + 64 + 16k
  var xv = vec4<u32>();
  var dv = vec2<u32>();
  var wr: array<vec4<u32>, KB>;
  var wsw: array<f32, KB>; // the weights' block scales
  // The first stage's loads; then each stage loads the next's (the last
  // again at the end) before its sums.
  if (li < TT * XS) { xv = X[2u * (xblk + min(b0 + xj / 2u, be - 1u)) + xj % 2u]; }
  if (li < TT * KB) { dv = x_scale_sum(dblk + min(b0 + jd, be - 1u)); }
  for (var j = 0u; j < KB; j++) {
    let wb = wblk + min(b0 + j, be - 1u);
    wr[j] = i8_load(wb, h);
    wsw[j] = unpack2x16float(i8_scale_word(wb) >> (16u * (wb & 1u))).x;
  }
  for (var b = b0; b < be; b += KB) {
    if (li < TT * XS) { xq[li] = xv; }
    if (li < TT * KB) {
      xd[li] = bitcast<f32>(dv.x);
      if (I8_OFFSET) { xo[li] = 8 * bitcast<i32>(dv.y); }
    }
    for (var j = 0u; j < KB; j++) {
      wq[r * WS + 2u * j + h] = i8_words(wr[j], h);
      if (h == 0u) { wd[r * KB + j] = wsw[j]; }
    }
    workgroupBarrier();
    let nb = min(b + KB, be - 1u);
    if (li < TT * XS) { xv = X[2u * (xblk + min(nb + xj / 2u, be - 1u)) + xj % 2u]; }
    if (li < TT * KB) { dv = x_scale_sum(dblk + min(nb + jd, be - 1u)); }
    for (var j = 0u; j < KB; j++) {
      let wb = wblk + min(nb + j, be - 1u);
      wr[j] = i8_load(wb, h);
      wsw[j] = unpack2x16float(i8_scale_word(wb) >> (16u * (wb & 1u))).x;
    }
    for (var j = 0u; j < KB; j++) {
      if (b + j >= be) { break; }
      var xa: array<vec4<u32>, 4>;
      var xb: array<vec4<u32>, 4>;
      for (var c = 0u; c < 2u; c++) {
        let t = tq + 16u * c;
        xa[c] = xq[t * XS + 2u * j];
        xb[c] = xq[t * XS + 2u * j + 1u];
      }
      let dx = vec4<f32>(xd[tq * KB + j], xd[(tq + 16u) * KB + j], 0.0, 0.0);
      var off = vec4<i32>();
      if (I8_OFFSET) {
        off = vec4<i32>(xo[tq * KB + j], xo[(tq + 16u) * KB + j], 0, 0);
      }
      for (var k = 0u; k < 4u; k++) {
        let ra = rq + 16u * k;
        let rb = ra + 64u;
        let wa0 = wq[ra * WS + 2u * j];
        let wa1 = wq[ra * WS + 2u * j + 1u];
        let wb0 = wq[rb * WS + 2u * j];
        let wb1 = wq[rb * WS + 2u * j + 1u];
        var sa = vec4<i32>(dot8(xa[0], xb[0], wa0, wa1), dot8(xa[1], xb[1], wa0, wa1), 0, 0);
        var sb = vec4<i32>(dot8(xa[0], xb[0], wb0, wb1), dot8(xa[1], xb[1], wb0, wb1), 0, 0);
        if (I8_OFFSET) { sa -= off; sb -= off; }
        let fa = vec4<f32>(sa) * dx * wd[ra * KB + j];
        let fb = vec4<f32>(sb) * dx * wd[rb * KB + j];
        a0[0][k] += fa.x; a0[1][k] += fa.y; a0[2][k] += fa.z; a0[3][k] += fa.w;
        a1[0][k] += fb.x; a1[1][k] += fb.y; a1[2][k] += fb.z; a1[3][k] += fb.w;
      }
    }
    workgroupBarrier();
  }
  for (var c = 0u; c < 2u; c++) {
    for (var k = 0u; k < 4u; k++) {
      put(t0 + tq + 16u * c, r0 + rq + 16u * k, a0[c][k], n, base);
      put(t0 + tq + 16u * c, r0 + rq + 64u + 16u * k, a1[c][k], n, base);
    }
  }
}
