// The second half of a split product (matmul_common.wgsl's k_splits): the
// parts' partial sums P [splits][n][rows] added up, then the bias and (with
// accumulate) Y's old value, written where matmul_common.wgsl's put writes
// (rows_mode, out_stride, row_offset alike). The parts are added in order
// 0, 1, .. whatever order the product's workgroups ran in, so a result is
// the same run to run. A lane an output; the bias binding is P itself
// where there is no bias (never read then).
struct Params { rows: u32, out_stride: u32, row_offset: u32, accumulate: u32, rows_mode: u32, splits: u32,
                has_bias: u32, pad: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> P: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;
@group(0) @binding(3) var<storage, read> B: array<f32>;
@group(0) @binding(4) var<uniform> step: Step;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
  let u = linear_wg(wid, nwg) * WG + li;
  let n = select(step.n_tokens, step.n_out, p.rows_mode == 1u);
  let t = u / p.rows;
  let r = u % p.rows;
  if (t >= n) { return; }
  var y = 0.0;
  for (var s = 0u; s < p.splits; s++) { y += P[(s * n + t) * p.rows + r]; }
  if (p.has_bias != 0u) { y += B[p.row_offset + r]; }
  let o = select(t, step_row(t), p.rows_mode == 2u) * p.out_stride + p.row_offset + r;
  if (p.accumulate != 0u) { y += Y[o]; }
  Y[o] = y;
}
