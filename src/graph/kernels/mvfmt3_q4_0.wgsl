// Matrix 3 of matvec_glu.wgsl / matvec_qkv.wgsl, read as mvfmt_q4_0.wgsl reads W.
@group(0) @binding(6) var<storage, read> W3: array<u32>;
fn mv_w3(i: u32) -> WU {
  let o = (i >> 2u) * 5u;
  return WU(bitcast<f32>(W3[o]), W3[o + 1u + (i & 3u)]);
}
