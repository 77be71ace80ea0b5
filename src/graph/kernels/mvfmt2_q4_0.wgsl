// The second matrix of matvec_glu.wgsl (the up projection), read as mvfmt_q4_0.wgsl reads W.
@group(0) @binding(5) var<storage, read> W2: array<u32>;
fn mv_w2(i: u32) -> WU {
  let o = i * 5u;
  return WU(bitcast<f32>(W2[o]), vec4<u32>(W2[o + 1u], W2[o + 2u], W2[o + 3u], W2[o + 4u]));
}
