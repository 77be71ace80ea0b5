// Matrix 3 of matvec_glu.wgsl / matvec_qkv.wgsl, read as mvfmt_onnx_q4.wgsl reads W.
@group(0) @binding(6) var<storage, read> W3: array<vec2<u32>>;
fn mv_w3(u: u32) -> WU { return WU(bitcast<vec2<f32>>(W3[2u * oq4_blocks(arrayLength(&W3)) + (u >> 1u)]), W3[u]); }
