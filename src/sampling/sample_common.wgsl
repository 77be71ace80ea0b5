// Sampling on the GPU (gpu_sampler.c): the CPU sampler's rules (sampler.c)
// over the one row of logits a forward pass leaves on the GPU. Candidates
// are ranked by a total order, higher logit first and then lower id, the
// same order the CPU sampler's heaps use, so ties resolve identically. A
// logit's rank key is its f32 bits made to sort as unsigned integers;
// key 0 (a NaN's pattern, never a real key: NaN becomes -inf first) marks
// an empty slot.
struct SampleParams {
  n_vocab: u32,
  n_allowed: u32,     // ids from here up are masked (-inf)
  k: u32,             // candidates kept: top_k, or 1 for greedy
  greedy: u32,
  temperature: f32,
  top_p: f32,
  min_p: f32,
  penalty: f32,       // repetition penalty; 1: off
  n_window: u32,      // ids in the penalty window
  r: f32,             // the CPU sampler's uniform draw in [0, 1) for this step
  n_groups: u32,      // workgroups of the select stage
  pad0: u32,
}
const SWG: u32 = 256u;      // lanes of a sampling workgroup
const PER: u32 = 16u;       // candidates each lane holds
const K_MAX: u32 = 64u;     // candidates a select workgroup hands on (gpu_sampler.h: GPU_SAMPLER_K_MAX)
const NEG_INF_KEY: u32 = 0x007fffffu; // rank_key(-inf)

fn rank_key(x: f32) -> u32 {
  let b = bitcast<u32>(x);
  return select(b | 0x80000000u, ~b, (b & 0x80000000u) != 0u);
}
fn key_value(k: u32) -> f32 {
  return bitcast<f32>(select(~k, k & 0x7fffffffu, (k & 0x80000000u) != 0u));
}
// a ranks before b
fn before(ka: u32, ia: u32, kb: u32, ib: u32) -> bool {
  return ka > kb || (ka == kb && ia < ib);
}

var<workgroup> red_key: array<u32, SWG>;
var<workgroup> red_id: array<u32, SWG>;

// The best of every lane's (key, id): every lane gets it. Called by all
// lanes in uniform control flow.
fn workgroup_best(lane: u32, key: u32, id: u32) -> vec2<u32> {
  red_key[lane] = key;
  red_id[lane] = id;
  workgroupBarrier();
  for (var s = SWG / 2u; s > 0u; s >>= 1u) {
    if (lane < s && before(red_key[lane + s], red_id[lane + s], red_key[lane], red_id[lane])) {
      red_key[lane] = red_key[lane + s];
      red_id[lane] = red_id[lane + s];
    }
    workgroupBarrier();
  }
  let best = vec2<u32>(red_key[0], red_id[0]);
  workgroupBarrier();
  return best;
}

// Each lane's candidates, best first (insertion sort), at most cand_cap of
// them: a lane can give at most k of the k best, so min(k, PER) is exact,
// and greedy (k = 1) then keeps a running best instead of sorting PER.
var<private> cand_key: array<u32, PER>;
var<private> cand_id: array<u32, PER>;
var<private> n_cand: u32;
var<private> cand_cap: u32;

fn cand_begin(k: u32) {
  n_cand = 0u;
  cand_cap = clamp(k, 1u, PER);
}

fn cand_insert(key: u32, id: u32) {
  var i = n_cand;
  if (i == cand_cap) {
    if (!before(key, id, cand_key[i - 1u], cand_id[i - 1u])) { return; }
    i--; // the last goes
  } else {
    n_cand++;
  }
  while (i > 0u && before(key, id, cand_key[i - 1u], cand_id[i - 1u])) {
    cand_key[i] = cand_key[i - 1u];
    cand_id[i] = cand_id[i - 1u];
    i--;
  }
  cand_key[i] = key;
  cand_id[i] = id;
}

// The k best of all lanes' candidates, best first, into top_key/top_id:
// k rounds of a workgroup argmax over each lane's next best. Slots past
// the candidates there are get key 0.
var<workgroup> top_key: array<u32, K_MAX>;
var<workgroup> top_id: array<u32, K_MAX>;

fn take_best(lane: u32, k: u32) {
  var head = 0u;
  for (var r = 0u; r < k; r++) {
    var key = 0u;
    var id = 0xffffffffu;
    if (head < n_cand) { key = cand_key[head]; id = cand_id[head]; }
    let best = workgroup_best(lane, key, id);
    if (best.x != 0u && key == best.x && id == best.y) { head++; }
    if (lane == 0u) { top_key[r] = best.x; top_id[r] = best.y; }
  }
  workgroupBarrier();
}
