// Matrix 2 of matvec_glu.wgsl / matvec_qkv.wgsl, read as mvfmt_q4_0.wgsl reads W.
@group(0) @binding(5) var<storage, read> W2: array<u32>;
fn mv_w2(i: u32) -> WU {
  let o = (i >> 2u) * 5u;
  return WU(bitcast<f32>(W2[o]), W2[o + 1u + (i & 3u)]);
}
