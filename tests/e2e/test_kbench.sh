#!/usr/bin/env bash
# The kernel harness (tools/kbench.c, built by `make`) in --quick mode on
# the CPU adapter: every matrix kernel the engine has for each weight type,
# the K-quants' included (the batched f32 and 8-bit products, x's
# quantization bit for bit, the split-K path, the one-token matvec
# variants), the versions kept in tools/matmul/, and prompt attention, each
# checked against a CPU loop in double precision; kbench exits 1 if any is
# wrong or does not compile.
# Its timings mean nothing here and are not looked at.
set -u
. tests/e2e/lib.sh
K=build/wgpt-kbench
[ -x "$K" ] || { echo "FAIL: $K does not exist (run make)"; exit 1; }
fail=0
check() { # label, command...
  local label=$1 out; shift
  if out=$("$@" 2>&1); then echo "ok   $label"
  else echo "FAIL $label"; echo "$out" | grep -vE " ok " | tail -n 8; fail=1; fi
}
all=f32,f16,bf16,q8_0,q4_0,onnx_q4  # onnx_q4: transformers.js MatMulNBits blocks (formats/onnx.h)
check "one token, every type" $K --quick -n 1 -t $all -s 96x64,200x96
check "70 tokens, every type (8-bit products for Q8_0/Q4_0, split-K)" $K --quick -n 70 -t $all -s 200x96,96x2080
check "70 tokens, Q8_0/Q4_0 by the f32 tiles" env WGPT_MATMUL_I8=0 $K --quick -n 70 -t q8_0,q4_0 -s 200x96
# f32 versions (on f32 rows of x) and 8-bit ones (i8_*, on quant_act.wgsl's blocks)
ks=(); k8=()
for f in tools/matmul/*.wgsl; do case $f in */i8_*) k8+=(-k "$f") ;; *) ks+=(-k "$f") ;; esac; done
check "the kernel versions in tools/matmul/" env WGPT_MATMUL_I8=0 $K --quick -n 70 -t f16,q4_0 -s 200x96 "${ks[@]}"
check "the 8-bit kernel versions in tools/matmul/" $K --quick -n 70 -t q8_0,q4_0 -s 200x96,130x160 "${k8[@]}"
# The K-quants: rows of whole super-blocks (256), and more of them than a
# lane takes; all three by 8-bit dot products (mmi8_q4_K.wgsl,
# mmi8_q5_K.wgsl, mmi8_q6_K.wgsl).
kq=q4_K,q5_K,q6_K
check "one token, K-quants" $K --quick -n 1 -t $kq -s 37x256,96x512,5x2304
check "70 tokens, K-quants (split-K)" $K --quick -n 70 -t $kq -s 200x256,96x2304
check "prompt attention, head sizes 64, 128, 256" $K --quick --attn 4,2,64,70 --attn 2,1,128,33,40 --attn 2,1,256,20
exit $fail
