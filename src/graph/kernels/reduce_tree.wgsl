// Group primitives for adapters without fixed-size subgroups: the group is
// the whole workgroup and values meet in workgroup memory. Every lane of the
// workgroup must call these together.
var<workgroup> red1: array<f32, WG>;
var<workgroup> red4: array<vec4<f32>, WG>;

fn group_sum4(v: vec4<f32>, lane: u32) -> vec4<f32> {
  red4[lane] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lane < s) { red4[lane] += red4[lane + s]; }
    workgroupBarrier();
  }
  let r = red4[0];
  workgroupBarrier();
  return r;
}
fn group_sum(v: f32, lane: u32) -> f32 { return group_sum4(vec4<f32>(v, 0.0, 0.0, 0.0), lane).x; }
fn group_max(v: f32, lane: u32) -> f32 {
  red1[lane] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lane < s) { red1[lane] = max(red1[lane], red1[lane + s]); }
    workgroupBarrier();
  }
  let r = red1[0];
  workgroupBarrier();
  return r;
}
fn group_bcast(v: f32, k: u32, lane: u32) -> f32 {
  red1[lane] = v;
  workgroupBarrier();
  let r = red1[k];
  workgroupBarrier();
  return r;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  kernel(linear_wg(wid, nwg), 0u, 1u, lid.x, WG);
}
