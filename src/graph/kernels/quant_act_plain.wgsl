// quant_act.wgsl's input as it lies.
@group(0) @binding(1) var<storage, read> X: array<vec4<f32>>;
@group(0) @binding(3) var<uniform> step: Step;
fn load_x(i: u32) -> vec4<f32> { return X[i]; }
