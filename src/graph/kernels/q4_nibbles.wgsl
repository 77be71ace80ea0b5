// What the Q4_0 and onnx_q4 one-token snippets (mvfmt_q4_0.wgsl,
// mvfmt_onnx_q4.wgsl) share: a word of quants in Q4_0's nibble order, less 8,
// dotted with x (kernels_format_shared).
// Nibbles become floats without integer conversions, which NVIDIA runs at a
// quarter of the rate of other arithmetic: two at a time under the f16
// exponent of 1024, whose mantissa step is 1, widened by unpack2x16float,
// then 1024 + 8 taken off exactly in f32. On the H200 (2026-11-30, tg128
// end to end) it beat the integer conversion by 2% where it was the only
// change, and a conversion through the mantissa of 2^23 gained nothing.
// kquant.wgsl's bias (1 + q / 16, x's sum taken off once a unit, no
// subtraction an element) measured 960 against 964 tok/s here (2026-12-01,
// results/2026-12-01-h200/issue12-layouts/call1/), so Q4_0 keeps this.
fn q4h(w: u32, s: u32) -> vec2<f32> { return unpack2x16float(((w >> s) & 0x000F000Fu) | 0x64006400u) - vec2<f32>(1032.0); }
// Four bytes of quants: low nibbles against x0, high ones against x1.
fn q4d(w: u32, x0: vec4<f32>, x1: vec4<f32>) -> f32 {
  let a = q4h(w, 0u);  // bytes 0 and 2, low nibbles
  let b = q4h(w, 8u);  // bytes 1 and 3
  let c = q4h(w, 4u);  // bytes 0 and 2, high nibbles
  let d = q4h(w, 12u); // bytes 1 and 3
  return dot(vec4<f32>(a.x, b.x, a.y, b.y), x0) + dot(vec4<f32>(c.x, d.x, c.y, d.y), x1);
}
