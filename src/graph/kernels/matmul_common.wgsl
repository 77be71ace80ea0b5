// What matmul.wgsl and matmul_i8.wgsl share: Y[base + t][row_offset + r]
// (+)= dot(W[r], X[t]) (+ B[row_offset + r]) for the rows of one weight
// chunk and the step's tokens, a workgroup a tile of TR rows by TT tokens,
// the grid row tiles by token tiles (ops.c; by parts too where split, see
// tile_of), row tiles varying fastest.
// rows_mode says which rows: 0 this step's tokens (base 0), 1 only the
// n_out rows whose logits are wanted (base 0), 2 this step's tokens written
// at their cache rows (step_row: the K and V projections store straight
// into the KV cache). accumulate adds into Y: the residual add of a block's
// output projection, fused. The bias, and the step uniform's binding after
// it, come from matmul_bias.wgsl or matmul_nobias.wgsl. w_first skips rows
// of the chunk: a part of a stacked matrix (GPT-2's Q, K and V) read where
// it lies, with row_offset then counted from that part's first row.
// k_splits > 1 splits the columns (split-K, ops.c's matmul_split: a grid
// of too few tiles to fill the GPU gets k_splits times as many, each
// summing k_span columns): each workgroup then writes its partial sums,
// without bias or accumulation, to Y bound as the scratch
// [k_splits][n][rows], and matmul_reduce.wgsl adds them up in order and
// puts them where put would have.
struct Params { rows: u32, cols: u32, row_offset: u32, out_stride: u32, in_stride: u32, accumulate: u32, rows_mode: u32,
                w_first: u32, k_splits: u32, k_span: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> W: array<u32>;
// X, binding 2, is the body's: f32 rows (matmul_x_f32.wgsl), or matmul_i8.wgsl's
// quantized blocks.
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;

// The workgroup's tile: rows r0 .., tokens t0 .. of the n the step has
// (n_out with rows_mode 1), written from row base of Y (split: of the
// scratch, its part's), summing columns k0 .. k1 - 1. t0 >= n: nothing to
// do (the same for the whole workgroup, so it may return). The grid is row
// tiles by parts by token tiles, row tiles varying fastest.
struct Tile { r0: u32, t0: u32, n: u32, base: u32, k0: u32, k1: u32 }
// MM_SPLIT (kernels.c, the KV_SPLIT variants) is a constant so that the
// unsplit kernels keep their old shape: with the split's column range
// computed in every kernel, the unsplit 8-bit products ran 20% slower on
// the H200.
fn tile_of(wid: vec3<u32>, nwg: vec3<u32>, tr: u32, tt: u32) -> Tile {
  let wg = linear_wg(wid, nwg);
  let row_tiles = (p.rows + tr - 1u) / tr;
  if (!MM_SPLIT) {
    return Tile((wg % row_tiles) * tr, (wg / row_tiles) * tt, select(step.n_tokens, step.n_out, p.rows_mode == 1u),
                0u, 0u, p.cols);
  }
  let parts = max(p.k_splits, 1u);
  let part = (wg / row_tiles) % parts;
  let n = select(step.n_tokens, step.n_out, p.rows_mode == 1u);
  let span = select(p.cols, p.k_span, parts > 1u);
  let base = select(0u, part * n, parts > 1u);
  return Tile((wg % row_tiles) * tr, (wg / (row_tiles * parts)) * tt, n, base, part * span,
              min(part * span + span, p.cols));
}

fn put(t: u32, r: u32, v: f32, n: u32, base: u32) {
  if (t >= n || r >= p.rows) { return; }
  if (MM_SPLIT) {
    Y[(base + t) * p.rows + r] = v;
    return;
  }
  var y = v;
  if (HAS_BIAS) { y += out_bias(p.row_offset + r); }
  let o = select(base + t, step_row(t), p.rows_mode == 2u) * p.out_stride + p.row_offset + r;
  if (p.accumulate != 0u) { y += Y[o]; }
  Y[o] = y;
}
