// Matrix 2 of matvec_glu.wgsl / matvec_qkv.wgsl, read as mvfmt_onnx_q4.wgsl reads W.
@group(0) @binding(5) var<storage, read> W2: array<vec2<u32>>;
fn mv_w2(u: u32) -> WU { return WU(bitcast<vec2<f32>>(W2[2u * oq4_blocks(arrayLength(&W2)) + (u >> 1u)]), W2[u]); }
