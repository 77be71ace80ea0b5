// matmul.wgsl's product for Q8_0 and Q4_0 weights with 8-bit integer dot
// products, as llama.cpp multiplies quantized matrices on GPUs without
// matrix units: each token's x is quantized per block of 32, and each
// block's sum of quant products, exact in i32 by dot4I8Packed, is scaled by
// both scales into the f32 sums. x's scale is a power of two, 2^k with k
// the least such that amax <= 127 * 2^k (llama.cpp takes amax / 127): then
// x / 2^k, its rounding (half to even) and the scale are exact in f32 on
// every adapter, so the CPU reference (quantize_act_q8_fake, decoder_ref.c)
// quantizes bit for bit alike; a divided scale rounded differently on the
// H200 now and then, a quant off by one. Params, bindings and grid are
// matmul_common.wgsl's; a tile is 64 tokens by 128 rows, 256 lanes, 4 by 8
// sums a lane, and a stage a whole block. The workgroup quantizes x as it
// stages it (each row tile redoes it, ~1% of the work) rather than in a
// pass of its own. The format snippet (mmi8_TYPE) says how a half block of
// weights becomes 4 words of signed bytes. On the H200 (2026-11-30,
// wgpt-kbench -n 512) 38-50 TFLOP/s against the f32 kernel's 26-31 on the
// 1B's large matrices, pp512 Q8_0 15,879 tok/s against 11,757 by f32; a
// probe without x's quantization (its bits taken as quants) ran 50-64. Off
// unless WGPT_MATMUL_I8=1 (quant.h says why): kernels.c picks it then.

const TT: u32 = 64u;  // tokens a tile
const TR: u32 = 128u; // rows a tile
const MM_WG: u32 = 256u;
// A staged token: its block's 8 words in 4 vec2s (a quarter block each,
// as staged) and 2 of padding; a row: 2 vec4s and one of padding. Lanes
// reading rows one apart then read distinct banks.
var<workgroup> xq: array<vec2<u32>, TT * 6u>;
var<workgroup> wq: array<vec4<u32>, TR * 3u>;
var<workgroup> xd: array<f32, TT>;      // x's block scales
var<workgroup> xm: array<f32, TT * 4u>; // |x| maxima by quarter block, then sums of x's quants (Q4_0's offset)
var<workgroup> wd: array<f32, TR>;      // the weights' block scales

fn dot8(a: vec4<u32>, b: vec4<u32>, c: vec4<u32>, d: vec4<u32>) -> i32 {
  return dot4I8Packed(a.x, c.x) + dot4I8Packed(a.y, c.y) + dot4I8Packed(a.z, c.z) + dot4I8Packed(a.w, c.w) +
         dot4I8Packed(b.x, d.x) + dot4I8Packed(b.y, d.y) + dot4I8Packed(b.z, d.z) + dot4I8Packed(b.w, d.w);
}

fn amax4(v: vec4<f32>) -> f32 { let a = abs(v); return max(max(a.x, a.y), max(a.z, a.w)); }

// x's block scale 2^k as (2^-k, 2^k): amax = m 2^e (m in [1, 2)) is at
// most 127 2^k for k = e - 6 when m <= 127 / 64, else e - 5. amax's bits
// give e and m exactly; 0 (or a block too small to matter) quantizes to 0s.
fn x_scale(amax: f32) -> vec2<f32> {
  if (amax < 1e-30) { return vec2<f32>(0.0); }
  let b = bitcast<u32>(amax);
  let e = i32(b >> 23u) - 127; // amax > 0: no sign bit
  let k = select(e - 5, e - 6, (b & 0x7FFFFFu) <= 0x7E0000u);
  return vec2<f32>(bitcast<f32>(u32(127 - k) << 23u), bitcast<f32>(u32(127 + k) << 23u));
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
  // Staging: lane li brings quarter q of token s's block of x (8 values)
  // and half h of row r's block of weights. Tokens and rows past the end
  // repeat the last, unused.
  let s = li / 4u;
  let q = li % 4u;
  let xrow = min(t0 + s, n - 1u) * (p.in_stride / 4u) + 2u * q;
  let r = li / 2u;
  let h = li % 2u;
  let wblk = (p.w_first + min(r0 + r, p.rows - 1u)) * nblocks;
  // Lane li computes tokens tq + 16c and rows rq + 16k (c = 0 .. 3, k = 0 .. 7).
  let tq = li / 16u;
  let rq = li % 16u;
  var a0 = mat4x4<f32>(); // rows rq + 16k, k < 4: column c token tq + 16c, component k
  var a1 = mat4x4<f32>(); // rows rq + 64 + 16k
  var x0 = X[xrow];
  var x1 = X[xrow + 1u];
  var wr = i8_load(wblk, h);
  var wsw = i8_scale_word(wblk);
  for (var b = 0u; b < nblocks; b++) {
    xm[li] = max(amax4(x0), amax4(x1));
    wq[r * 3u + h] = i8_words(wr, h);
    if (h == 0u) { wd[r] = unpack2x16float(wsw >> (16u * ((wblk + b) & 1u))).x; }
    workgroupBarrier();
    let amax = max(max(xm[4u * s], xm[4u * s + 1u]), max(xm[4u * s + 2u], xm[4u * s + 3u]));
    let sc = x_scale(amax);
    let q0 = vec4<i32>(round(x0 * sc.x));
    let q1 = vec4<i32>(round(x1 * sc.x));
    xq[s * 6u + q] = vec2<u32>(pack4xI8Clamp(q0), pack4xI8Clamp(q1));
    if (q == 0u) { xd[s] = sc.y; }
    workgroupBarrier();
    if (I8_OFFSET) { // every lane has read xm: it can take the sums
      let qs = q0 + q1;
      xm[li] = f32(qs.x + qs.y + qs.z + qs.w);
      workgroupBarrier();
    }
    let nb = min(b + 1u, nblocks - 1u);
    x0 = X[xrow + 8u * nb];
    x1 = X[xrow + 8u * nb + 1u];
    wr = i8_load(wblk + nb, h);
    wsw = i8_scale_word(wblk + nb);
    var xa: array<vec4<u32>, 4>;
    var xb: array<vec4<u32>, 4>;
    for (var c = 0u; c < 4u; c++) {
      let t = tq + 16u * c;
      xa[c] = vec4<u32>(xq[t * 6u], xq[t * 6u + 1u]);
      xb[c] = vec4<u32>(xq[t * 6u + 2u], xq[t * 6u + 3u]);
    }
    let dx = vec4<f32>(xd[tq], xd[tq + 16u], xd[tq + 32u], xd[tq + 48u]);
    var off = vec4<i32>();
    if (I8_OFFSET) {
      for (var c = 0u; c < 4u; c++) {
        let t = 4u * (tq + 16u * c);
        off[c] = 8 * i32(xm[t] + xm[t + 1u] + xm[t + 2u] + xm[t + 3u]);
      }
    }
    for (var k = 0u; k < 4u; k++) {
      let ra = rq + 16u * k;
      let rb = ra + 64u;
      let wa0 = wq[ra * 3u];
      let wa1 = wq[ra * 3u + 1u];
      let wb0 = wq[rb * 3u];
      let wb1 = wq[rb * 3u + 1u];
      var sa = vec4<i32>(dot8(xa[0], xb[0], wa0, wa1), dot8(xa[1], xb[1], wa0, wa1), dot8(xa[2], xb[2], wa0, wa1),
                         dot8(xa[3], xb[3], wa0, wa1));
      var sb = vec4<i32>(dot8(xa[0], xb[0], wb0, wb1), dot8(xa[1], xb[1], wb0, wb1), dot8(xa[2], xb[2], wb0, wb1),
                         dot8(xa[3], xb[3], wb0, wb1));
      if (I8_OFFSET) { sa -= off; sb -= off; }
      let fa = vec4<f32>(sa) * dx * wd[ra];
      let fb = vec4<f32>(sb) * dx * wd[rb];
      a0[0][k] += fa.x; a0[1][k] += fa.y; a0[2][k] += fa.z; a0[3][k] += fa.w;
      a1[0][k] += fb.x; a1[1][k] += fb.y; a1[2][k] += fb.z; a1[3][k] += fb.w;
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
