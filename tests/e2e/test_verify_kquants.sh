#!/usr/bin/env bash
# Layer-by-layer match of the GPU forward against the CPU reference (`wgpt
# verify`) on K-quant files, where the engine's paths differ from a plain
# run: matrices over several GPU buffers (each its own quant and scale
# planes, kernels/wfmt_q6_K.wgsl finding the scales from its length),
# prompts in tiles of the batched kernel, and the workgroup-tree
# reductions. The files are test_kquants_llamacpp.sh's kind: tiny Llamas
# 256 wide quantized by llama.cpp's own quantizer (kquant_lib.sh), Q4_K_M
# and Q5_K_M mixing q4_K/q5_K with q6_K (V too, in Q's and K's dispatch),
# and Q6_K; its log must show the
# types, so that no check runs on other weights. That test compares with
# llama.cpp; this one only with the CPU reference, which dequantizes as
# ggml does (src/formats/dtype.c).
# Exits 77 (skip) without llama.cpp's quantizer (make deps).
set -u
. tests/e2e/lib.sh
. tests/e2e/kquant_lib.sh
need_wgpt
have_llamacpp_quantize || { echo "$LC_BINS/libllama.v*.so or cc missing (run make deps)"; exit 77; }
build_llamacpp_quantize >/dev/null 2>&1 || { echo "FAIL: building tools/llamacpp_quantize.c"; exit 1; }
fail=0
LONG=$(for i in 0 1 2 3 4; do printf 'The quick brown fox jumps over the lazy dog, and then it runs away %d. ' $i; done)
src=$(tiny_model vk_d256_f512_f32 --type f32 --seed 31 --dim 256 --ffn 512 --heads 4 --kv-heads 2) || exit 1
for q in q4_K_M:q4_K q5_K_M:q5_K q6_K:q6_K; do
  qt=${q%%:*} kt=${q#*:}
  m=$(kquant_model "$src" "$qt") || { echo "FAIL $qt: quantizing"; fail=1; continue; }
  for t in $kt q6_K; do
    grep -q "converting to $t" "$m.log" || { echo "FAIL $qt: the quantizer's log shows no $t tensor"; fail=1; }
  done
  verify_check "$qt" "$m"
  verify_check "$qt split" "$m" --max-binding 4096
  verify_check "$qt prompt in tiles" "$m" -p "$LONG" --batch 100
  WGPT_NO_SUBGROUPS=1 verify_check "$qt tree reductions" "$m"
  # Q4_K_M's and Q5_K_M's q6_K V (layer 1 here) goes in the dispatch of
  # their Q and K (mv_qkv_v_own.wgsl), which the checks above then covered
  if [ "$kt" != q6_K ]; then
    build/wgpt bench -m "$m" -p 0 -n 2 -r 1 --profile 2>&1 | grep -q "matvec_qkv $kt .*v q6_K" ||
      { echo "FAIL $qt: no Q, K and V product reading a q6_K V"; fail=1; }
  fi
done
exit $fail
