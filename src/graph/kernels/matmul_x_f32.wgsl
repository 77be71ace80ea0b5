// matmul.wgsl's x: rows of f32, in_stride floats apart.
@group(0) @binding(2) var<storage, read> X: array<vec4<f32>>;
