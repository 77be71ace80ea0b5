// x quantized for matmul_i8.wgsl, once per input rather than in every row
// tile of every product that reads it: each token's row, per block of 32,
// becomes 32 signed bytes q (8 words) with a scale 2^k, x ~ q 2^k, and the
// sum of its q (Q4_0's offset: its quants are nibbles less 8). The scale
// is a power of two, 2^k with k the least such that amax <= 127 * 2^k
// (llama.cpp takes amax / 127): then x / 2^k, its rounding (half to even)
// and the scale are exact in f32 on every adapter, so the CPU reference
// (quantize_act_q8_fake, decoder_ref.c) quantizes bit for bit alike; a
// divided scale rounded differently on the H200 now and then, a quant off
// by one. XQ holds B blocks (B even, ops.c's op_quant_act_bytes): first
// their quants, 8 words each, then (scale, sum) word pairs, block
// t * (cols / 32) + b of token t's block b; B is found from XQ's length, so
// one buffer serves inputs of every width. A lane a block: rows_mode 1
// quantizes only the n_out rows packed from row 0 (the LM head's input).
// X, load_x and the step uniform come from the variant: quant_act_plain.wgsl
// (x as it lies) or quant_act_swiglu.wgsl (x made here from gate and up).
struct Params { cols: u32, in_stride: u32, rows_mode: u32, pad: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(2) var<storage, read_write> XQ: array<u32>;

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

// A workgroup's WG blocks lie back to back in X and in XQ's quants (X's
// rows are packed, in_stride = cols), so they are staged through
// workgroup memory: loads and stores of consecutive words by consecutive
// lanes, rather than each lane walking its own 128 bytes (on the H200 a
// lane a block straight from memory took 14 us a call for 2-8 MB).
// Blocks are staged 9 vec4s apart, so lanes reading their own block one
// vec4 at a time spread over the banks.
var<workgroup> xs: array<vec4<f32>, WG * 9u>;
var<workgroup> qs: array<u32, WG * 8u>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
  let nb = p.cols / 32u;
  let total = select(step.n_tokens, step.n_out, p.rows_mode == 1u) * nb; // blocks to quantize
  let u0 = linear_wg(wid, nwg) * WG;
  for (var j = 0u; j < 8u; j++) {
    let g = li + WG * j; // the workgroup's vec4 g: block g / 8, its vec4 g % 8
    if (u0 + g / 8u < total) { xs[(g / 8u) * 9u + g % 8u] = load_x(8u * u0 + g); }
  }
  workgroupBarrier();
  let u = u0 + li;
  var v: array<vec4<f32>, 8>;
  var amax = 0.0;
  for (var i = 0u; i < 8u; i++) {
    v[i] = xs[li * 9u + i];
    amax = max(amax, amax4(v[i]));
  }
  let sc = x_scale(amax);
  var sum = vec4<i32>();
  for (var i = 0u; i < 8u; i++) {
    let q = vec4<i32>(round(v[i] * sc.x));
    qs[8u * li + i] = pack4xI8Clamp(q);
    sum += q;
  }
  workgroupBarrier();
  for (var j = 0u; j < 8u; j++) {
    let w = li + WG * j;
    if (u0 + w / 8u < total) { XQ[8u * u0 + w] = qs[w]; }
  }
  if (u < total) {
    let scales = 8u * (arrayLength(&XQ) / 10u);
    XQ[scales + 2u * u] = bitcast<u32>(sc.y);
    XQ[scales + 2u * u + 1u] = bitcast<u32>(sum.x + sum.y + sum.z + sum.w);
  }
}
