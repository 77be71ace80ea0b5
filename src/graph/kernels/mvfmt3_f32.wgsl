// The third matrix of matvec_qkv.wgsl (V), read as mvfmt_f32.wgsl reads W.
@group(0) @binding(6) var<storage, read> W3: array<vec4<u32>>;
fn mv_w3(i: u32) -> WU { return W3[i]; }
