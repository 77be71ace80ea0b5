// Matrix 3 of matvec_glu.wgsl / matvec_qkv.wgsl, read as mvfmt_q8_0.wgsl reads W.
@group(0) @binding(6) var<storage, read> W3: array<u32>;
fn mv_w3(i: u32) -> WU {
  let o = (i >> 2u) * 9u;
  let q = o + 1u + 2u * (i & 3u);
  return WU(bitcast<f32>(W3[o]), W3[q], W3[q + 1u]);
}
