// Version 1 of matmul.wgsl (2026-11-30, pp512 ~970 tok/s on the H200; 2.1
// TFLOP/s at 8192x2048 x 512 tokens), kept to be timed beside the engine's
// by wgpt-kbench -k.
// Y[base + t][row_offset + r] (+)= dot(W[r], X[t]) (+ B[row_offset + r]) for
// the rows of one weight chunk and the step's tokens (a prompt), as a tiled
// matrix-matrix product: a workgroup takes TT tokens by TR rows of Y, and
// for every 8 columns stages those tokens' x and those rows' weights
// (dequantized once, by the format's wblock4) in workgroup memory, where
// every lane takes 8 tokens by 8 rows of the tile in registers. A weight is
// read from memory once per TT tokens, and each value staged serves 8
// multiply-adds of a lane, so the time goes to the multiply-adds rather
// than to loads (one group of lanes a row, reading a block for 8 tokens at
// a time, ran pp512 at ~800 tok/s on the H200). The grid is row tiles by
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

const TT: u32 = 64u; // tokens a tile
const TR: u32 = 64u; // rows a tile
// Columns a stage: a quarter of a block of every format. Workgroup memory
// is kept small (4 KB), as SwiftShader took ~2 s more to build the kernel
// with 16 KB (a stage of a whole block), in every process of the tests.
const BK: u32 = 8u;
// Stage k of the tile: xs[k][t], ws[k][r], as vec4s of 4 tokens (rows), so
// a lane reads its 8 tokens and 8 rows in four 16-byte loads.
var<workgroup> xs: array<vec4<f32>, BK * TT / 4u>;
var<workgroup> ws: array<vec4<f32>, BK * TR / 4u>;

// Four vec4s, one per token (row), as four per column: a transpose in
// registers, so the stage is written in whole vec4s.
fn t4(a: vec4<f32>, b: vec4<f32>, c: vec4<f32>, d: vec4<f32>) -> mat4x4<f32> {
  return transpose(mat4x4<f32>(a, b, c, d));
}

fn put(t: u32, r: u32, v: f32, n: u32, base: u32) {
  if (t >= n || r >= p.rows) { return; }
  var y = v;
  if (HAS_BIAS) { y += out_bias(p.row_offset + r); }
  let o = (base + t) * p.out_stride + p.row_offset + r;
  if (p.accumulate != 0u) { y += Y[o]; }
  Y[o] = y;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
  let wg = linear_wg(wid, nwg);
  let row_tiles = (p.rows + TR - 1u) / TR;
  let n = select(step.n_tokens, step.n_out, p.rows_mode == 1u);
  let r0 = (wg % row_tiles) * TR;
  let t0 = (wg / row_tiles) * TT;
  if (t0 >= n) { return; } // uniform: the same for the whole workgroup
  let base = select(0u, step.pos0, p.rows_mode == 2u);
  let nblocks = p.cols / 32u;
  let xv = p.in_stride / 4u;
  // Staging: lanes 0 .. 31 bring x, 32 .. 63 the weights (WG is 64): 4
  // tokens' (rows') columns 4jj .. 4jj + 3 of the stage, q = li % 16 the
  // quad of tokens (rows), jj = li / 16 % 2. Tokens and rows past the end
  // repeat the last, unused.
  let q = li % 16u;
  let jj = (li / 16u) % 2u;
  let stage_x = li < 32u;
  var xrow: array<u32, 4>;
  var wrow: array<u32, 4>;
  for (var e = 0u; e < 4u; e++) {
    xrow[e] = min(t0 + 4u * q + e, n - 1u) * xv;
    wrow[e] = (p.w_first + min(r0 + 4u * q + e, p.rows - 1u)) * nblocks * WBLOCK_WORDS;
  }
  // Lane li computes tokens 8 * (li / 8) .. + 7 and rows 8 * (li % 8) .. + 7 of the tile.
  let tq = (li / 8u) * 2u;
  let rq = (li % 8u) * 2u;
  var acc: array<vec4<f32>, 16>; // token i's rows 4h .. 4h + 3 at 2i + h
  for (var st = 0u; st < 4u * nblocks; st++) {
    let j = 2u * (st % 4u) + jj; // the vec4 of the block
    if (stage_x) {
      let xo = 2u * st + jj;
      let m = t4(X[xrow[0] + xo], X[xrow[1] + xo], X[xrow[2] + xo], X[xrow[3] + xo]);
      for (var e = 0u; e < 4u; e++) { xs[(4u * jj + e) * (TT / 4u) + q] = m[e]; }
    } else {
      let wo = (st / 4u) * WBLOCK_WORDS;
      let m = t4(wblock4(wrow[0] + wo, j), wblock4(wrow[1] + wo, j), wblock4(wrow[2] + wo, j), wblock4(wrow[3] + wo, j));
      for (var e = 0u; e < 4u; e++) { ws[(4u * jj + e) * (TR / 4u) + q] = m[e]; }
    }
    workgroupBarrier();
    for (var k = 0u; k < BK; k++) {
      let xa = xs[k * (TT / 4u) + tq];
      let xb = xs[k * (TT / 4u) + tq + 1u];
      let wa = ws[k * (TR / 4u) + rq];
      let wb = ws[k * (TR / 4u) + rq + 1u];
      for (var i = 0u; i < 4u; i++) {
        acc[2u * i] += xa[i] * wa;
        acc[2u * i + 1u] += xa[i] * wb;
        acc[8u + 2u * i] += xb[i] * wa;
        acc[8u + 2u * i + 1u] += xb[i] * wb;
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 8u; i++) {
    let t = t0 + 4u * tq + i;
    for (var h = 0u; h < 2u; h++) {
      let r = r0 + 4u * rq + 4u * h;
      let v = acc[2u * i + h];
      put(t, r, v.x, n, base);
      put(t, r + 1u, v.y, n, base);
      put(t, r + 2u, v.z, n, base);
      put(t, r + 3u, v.w, n, base);
    }
  }
}
