enable subgroups;
// reduce_subgroup.wgsl with a group of KS subgroups (KS from kernels.c):
// the one-token products split each row's units over more lanes, where
// rows alone would leave most of the GPU's warps idle (a 2048-row
// projection at two rows a subgroup is 1,024 subgroups, about eight a
// multiprocessor on an H200, each waiting on its own chain of loads). A
// group's sums meet in workgroup memory after each subgroup's own. KWG:
// the workgroup's lanes, common.wgsl's WG unless kernels.c's shape says
// more subgroups a workgroup.
// Calls are uniform within a workgroup (every body calls group_sum*
// outside any lane-dependent branch).
diagnostic(off, subgroup_uniformity);

var<private> ks_slot: u32;     // this lane's subgroup in the workgroup
var<private> ks_first: u32;    // its group's first subgroup
var<private> ks_lane: u32;     // its lane in the subgroup
var<workgroup> ks_red: array<vec4<f32>, KWG / 4u>; // a subgroup's sum each (subgroups of 4 lanes or more)

fn group_sum4(v: vec4<f32>, lane: u32) -> vec4<f32> {
  let s = subgroupAdd(v);
  if (ks_lane == 0u) { ks_red[ks_slot] = s; }
  workgroupBarrier();
  var t = ks_red[ks_first];
  for (var k = 1u; k < KS; k++) { t += ks_red[ks_first + k]; }
  workgroupBarrier();
  return t;
}
fn group_sum(v: f32, lane: u32) -> f32 { return group_sum4(vec4<f32>(v, 0.0, 0.0, 0.0), lane).x; }

@compute @workgroup_size(KWG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>, @builtin(subgroup_size) sg: u32,
        @builtin(subgroup_invocation_id) lane: u32) {
  ks_slot = lid.x / sg;
  ks_first = ks_slot - ks_slot % KS;
  ks_lane = lane;
  kernel(linear_wg(wid, nwg), ks_slot / KS, KWG / sg / KS, (ks_slot % KS) * sg + lane, KS * sg);
}
