#!/bin/sh
# Times the alternatives to matmul_i8.wgsl (the 8-bit product of Q8_0 and
# Q4_0 prompts) beside it on the 1B's shapes at 512 tokens, one shape a
# kbench run. Measured 2026-12-01 on the H200 (-r 30; raw lines in
# results/2026-12-01-h200/issue11/kbench-i8-variants*.txt), the engine's
# kernel (64 tokens x 128 rows, 256 lanes of 4 x 8 sums, 2 blocks a stage)
# against, each variant's speed as a fraction of the engine's (its time over
# the variant's) on 8192x2048 / 2048x8192 / 2048x2048:
#   i8_v2_t8r8      128 lanes of 8 x 8 sums, same tile     0.90 / 0.64 / 0.65 (Q4_0)
#   i8_v3_t8r8_pf   the same, next stage's loads in flight 0.79 / 0.66 / 0.68
#   i8_v4_t128      128 tokens x 128 rows, 256 lanes 8 x 8 0.99 / 0.54 / 0.56
#   i8_v5_w8reg     v3 with 8 rows' weights in registers   0.73 / 0.70 / 0.70
#   i8_e_kb4        the engine's at 4 blocks a stage       0.88 / 1.03 / 0.99 (Q8_0)
#   i8_e_t32        the engine's on 32-token tiles         0.79 / 0.88 / 0.89
# None is kept: more sums a lane (less workgroup-memory traffic a dot
# product) lost everywhere, most on the 2048-row products, whose 128 tiles
# then hold fewer warps an SM; 4 blocks a stage gained 3% on the down
# projection only. i8_v3_t8r8_pf.wgsl is here; the others are patches in
# results/2026-12-01-h200/issue11/i8-variants/ (against it, or against
# matmul_i8.wgsl for i8_e_*), which this script applies into a scratch
# folder before timing them all.
#   tools/matmul/run_i8_variants.sh [TOKENS] [TYPES]
# Correctness only, on a CPU adapter:
#   tools/matmul/run_i8_variants.sh 140 q8_0,q4_0 --quick   (small shapes)
set -e
cd "$(dirname "$0")/../.."
N=${1:-512}
T=${2:-q8_0,q4_0}
P=results/2026-12-01-h200/issue11/i8-variants
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ks="-k tools/matmul/i8_v3_t8r8_pf.wgsl"
for f in "$P"/*.patch; do
    v=$(basename "$f" .patch)
    case $v in i8_e_*) from=src/graph/kernels/matmul_i8.wgsl ;; *) from=tools/matmul/i8_v3_t8r8_pf.wgsl ;; esac
    patch -s -o "$tmp/$v.wgsl" "$from" <"$f"
    ks="$ks -k $tmp/$v.wgsl"
done
if [ "${3:-}" = --quick ]; then
    build/wgpt-kbench -n "$N" -t "$T" --quick -s 200x96,130x160,130x320 $ks
    exit
fi
for s in 8192x2048 2048x8192 2048x2048; do
    build/wgpt-kbench -n "$N" -t "$T" -s "$s" -r 30 $ks
done
