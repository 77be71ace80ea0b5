#!/bin/sh
# Times the matmul.wgsl alternatives v5, v8, v9 (2026-11-30, written against
# 1857c40) beside the engine's kernel on the 1B shapes at 512 tokens, F16
# weights (H200). Measured there (one shape a kbench run, -r 50; all 13
# variants that day in results/2026-11-30-h200/issue11/session3/): none beat
# matmul.wgsl on 2048x8192, 8192x2048 or 2048x2048 (v5 double-buffered
# stages 0.83-0.95x, v9 lanes as 4 x 8 a warp 1.00-1.01x; BK=32, 256 lanes on
# 64 x 128, split-K inside the workgroup on 64 tokens, matrix-shaped staging
# 0.6-0.95x, removed), but v8's split-K inside the workgroup on 32-token tiles
# took 512x2048 (K and V) from 110 to 57 us:
#   tools/matmul/run_v5_v12.sh [TOKENS] [TYPES]
# The *_t32 files are the 32-token tiles (the engine's for <= 1024 rows:
# compare them on 512x2048). kbench -k composes them as the engine composes
# matmul.wgsl (matmul_common.wgsl, unsplit; matmul_x_f32.wgsl).
# Correctness only, on a CPU adapter: add --quick and small shapes, e.g.
#   WGPT_MATMUL_I8=0 build/wgpt-kbench -n 70 -t f16,f32,bf16,q8_0,q4_0 --quick -s 200x96,64x160 -k ...
# (WGPT_MATMUL_I8=0: Q8_0/Q4_0 references with f32 activations, as these
# f32 kernels compute.)
set -e
cd "$(dirname "$0")/../.."
N=${1:-512}
T=${2:-f16}
ks=""
for f in tools/matmul/v5_*.wgsl tools/matmul/v8_*.wgsl tools/matmul/v9_*.wgsl; do
    ks="$ks -k $f"
done
# One shape a run: many variants over several shapes in one process timed
# some of them at half speed or worse that day, not reproducibly.
for s in 2048x8192 8192x2048 2048x2048 512x2048; do
    WGPT_MATMUL_I8=${WGPT_MATMUL_I8:-0} build/wgpt-kbench -n "$N" -t "$T" -s "$s" -r 50 $ks
done
