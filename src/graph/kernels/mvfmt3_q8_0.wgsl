// The third matrix of matvec_qkv.wgsl (V), read as mvfmt_q8_0.wgsl reads W.
@group(0) @binding(6) var<storage, read> W3: array<u32>;
fn mv_w3(i: u32) -> WU {
  let o = i * 9u;
  return WU(bitcast<f32>(W3[o]), vec4<u32>(W3[o + 1u], W3[o + 2u], W3[o + 3u], W3[o + 4u]),
            vec4<u32>(W3[o + 5u], W3[o + 6u], W3[o + 7u], W3[o + 8u]));
}
