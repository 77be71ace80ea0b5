// matmul.wgsl's product for Q8_0 and Q4_0 weights with 8-bit integer dot
// products, as llama.cpp multiplies quantized matrices on GPUs without
// matrix units: x comes quantized per block of 32 (quant_act.wgsl, once per
// input), and each block's sum of quant products, exact in i32 by
// dot4I8Packed, is scaled by both scales into the f32 sums. Params,
// bindings and grid are matmul_common.wgsl's, but X is quant_act.wgsl's
// buffer (its layout is said there; in_stride is not read). A tile is 64
// tokens by 128 rows, 256 lanes, 4 by 8 sums a lane; a stage MMI8_KB
// blocks (1 or 2, set by the composer: kernels.c), two barriers a stage,
// with the next stage's loads in flight during the sums. A stage past the
// last block (the blocks of the tile's columns not a multiple of MMI8_KB)
// stages a repeat of it and skips it. The format snippet (mmi8_TYPE) says how a half block of
// weights becomes 4 words of signed bytes, and gives each block's scale and
// one more word (i8_meta), and which of three ways the block's sum is made:
// less 8 times the sum of x's quants (I8_OFFSET: Q4_0's nibbles less 8),
// less that sum times a float min (I8_MIN: Q4_K), or each half times its
// own integer scale (I8_HALVES: Q6_K). On the H200 (2026-11-30,
// wgpt-kbench -n 512), quantizing in the product itself: 38-50 TFLOP/s
// against the f32 kernel's 26-31 on the 1B's large matrices; a probe
// without that quantization ran 50-64, the reason for quant_act.wgsl.

const TT: u32 = 64u;  // tokens a tile
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
var<workgroup> wm: array<u32, TR * KB>; // and i8_meta's other word

fn dot16(a: vec4<u32>, c: vec4<u32>) -> i32 {
  return dot4I8Packed(a.x, c.x) + dot4I8Packed(a.y, c.y) + dot4I8Packed(a.z, c.z) + dot4I8Packed(a.w, c.w);
}

// Block sum of quant products: halves a, b of x against c, d of a row's
// weights, with I8_HALVES each half times its scale (byte 0, 1 of m).
fn dot_block(a: vec4<u32>, b: vec4<u32>, c: vec4<u32>, d: vec4<u32>, m: u32) -> i32 {
  if (I8_HALVES) {
    let sc = bitcast<i32>(m);
    return extractBits(sc, 0u, 8u) * dot16(a, c) + extractBits(sc, 8u, 8u) * dot16(b, d);
  }
  return dot8(a, b, c, d);
}

// Four tokens' block sums s as floats: times x's scales dx and the row's
// scale d, with I8_MIN less the sums of x's quants (off) times the row's
// min (m's bits).
fn block_value(s: vec4<i32>, off: vec4<i32>, d: f32, m: u32, dx: vec4<f32>) -> vec4<f32> {
  if (I8_MIN) { return (vec4<f32>(s) * d - vec4<f32>(off) * bitcast<f32>(m)) * dx; }
  return vec4<f32>(s) * dx * d;
}

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
  var wsw: array<vec2<u32>, KB>; // the weights' i8_meta
  // The first stage's loads; then each stage loads the next's (the last
  // again at the end) before its sums.
  if (li < TT * XS) { xv = X[2u * (xblk + min(b0 + xj / 2u, be - 1u)) + xj % 2u]; }
  if (li < TT * KB) { dv = x_scale_sum(dblk + min(b0 + jd, be - 1u)); }
  for (var j = 0u; j < KB; j++) {
    let wb = wblk + min(b0 + j, be - 1u);
    wr[j] = i8_load(wb, h);
    wsw[j] = i8_meta(wb);
  }
  for (var b = b0; b < be; b += KB) {
    if (li < TT * XS) { xq[li] = xv; }
    if (li < TT * KB) {
      xd[li] = bitcast<f32>(dv.x);
      if (I8_OFFSET) { xo[li] = 8 * bitcast<i32>(dv.y); }
      if (I8_MIN) { xo[li] = bitcast<i32>(dv.y); }
    }
    for (var j = 0u; j < KB; j++) {
      wq[r * WS + 2u * j + h] = i8_words(wr[j], h);
      if (h == 0u) {
        wd[r * KB + j] = bitcast<f32>(wsw[j].x);
        if (I8_MIN || I8_HALVES) { wm[r * KB + j] = wsw[j].y; }
      }
    }
    workgroupBarrier();
    let nb = min(b + KB, be - 1u);
    if (li < TT * XS) { xv = X[2u * (xblk + min(nb + xj / 2u, be - 1u)) + xj % 2u]; }
    if (li < TT * KB) { dv = x_scale_sum(dblk + min(nb + jd, be - 1u)); }
    for (var j = 0u; j < KB; j++) {
      let wb = wblk + min(nb + j, be - 1u);
      wr[j] = i8_load(wb, h);
      wsw[j] = i8_meta(wb);
    }
    for (var j = 0u; j < KB; j++) {
      if (b + j >= be) { break; }
      var xa: array<vec4<u32>, 4>;
      var xb: array<vec4<u32>, 4>;
      for (var c = 0u; c < 4u; c++) {
        let t = tq + 16u * c;
        xa[c] = xq[t * XS + 2u * j];
        xb[c] = xq[t * XS + 2u * j + 1u];
      }
      let dx = vec4<f32>(xd[tq * KB + j], xd[(tq + 16u) * KB + j], xd[(tq + 32u) * KB + j], xd[(tq + 48u) * KB + j]);
      var off = vec4<i32>();
      if (I8_OFFSET || I8_MIN) {
        off = vec4<i32>(xo[tq * KB + j], xo[(tq + 16u) * KB + j], xo[(tq + 32u) * KB + j], xo[(tq + 48u) * KB + j]);
      }
      for (var k = 0u; k < 4u; k++) {
        let ra = rq + 16u * k;
        let rb = ra + 64u;
        let wa0 = wq[ra * WS + 2u * j];
        let wa1 = wq[ra * WS + 2u * j + 1u];
        let wb0 = wq[rb * WS + 2u * j];
        let wb1 = wq[rb * WS + 2u * j + 1u];
        var ma = 0u;
        var mb = 0u;
        if (I8_MIN || I8_HALVES) { ma = wm[ra * KB + j]; mb = wm[rb * KB + j]; }
        var sa = vec4<i32>(dot_block(xa[0], xb[0], wa0, wa1, ma), dot_block(xa[1], xb[1], wa0, wa1, ma),
                           dot_block(xa[2], xb[2], wa0, wa1, ma), dot_block(xa[3], xb[3], wa0, wa1, ma));
        var sb = vec4<i32>(dot_block(xa[0], xb[0], wb0, wb1, mb), dot_block(xa[1], xb[1], wb0, wb1, mb),
                           dot_block(xa[2], xb[2], wb0, wb1, mb), dot_block(xa[3], xb[3], wb0, wb1, mb));
        if (I8_OFFSET) { sa -= off; sb -= off; }
        let fa = block_value(sa, off, wd[ra * KB + j], ma, dx);
        let fb = block_value(sb, off, wd[rb * KB + j], mb, dx);
        a0[0][k] += fa.x; a0[1][k] += fa.y; a0[2][k] += fa.z; a0[3][k] += fa.w;
        a1[0][k] += fb.x; a1[1][k] += fb.y; a1[2][k] += fb.z; a1[3][k] += fb.w;
      }
    }
    workgroupBarrier();
  }
  for (var c = 0u; c < 4u; c++) {
    for (var k = 0u; k < 4u; k++) {
      put(t0 + tq + 16u * c, r0 + rq + 16u * k, a0[c][k], n, base);
      put(t0 + tq + 16u * c, r0 + rq + 64u + 16u * k, a1[c][k], n, base);
    }
  }
}
