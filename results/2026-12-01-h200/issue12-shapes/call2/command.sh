. scripts/device_env.sh
f=/tmp/llama1b_f16.gguf
python3 scripts/make_llama1b.py --out $f --type f16 --threads 16 >/dev/null 2>&1 &
python3 scripts/make_llama1b.py --out /tmp/llama1b_q4_0.gguf --type q4_0 --threads 16 >/dev/null 2>&1 &
python3 -c "import sys, tarfile; tarfile.open(sys.argv[1]).extractall('/tmp/lcvq-x')" .devcarry/llamacpp-vulkan.tar.xz && mv /tmp/lcvq-x/lcv /tmp/lcvq
wait
Q=/tmp/lcvq/bin/llamacpp_quantize
for t in q4_K_M q6_K q4_0 q5_K_M; do $Q $f /tmp/llama1b_L$t.gguf $t -t 16 >/dev/null 2>&1 & done
$Q $f /tmp/llama1b_Pq4_K.gguf q4_K_M --pure -t 16 >/dev/null 2>&1 &
wait
echo "setup $SECONDS s"
T() { r=$(WGPT_MV_TUNE="$3" timeout 60 .devcarry/$1 bench -m /tmp/llama1b_$2.gguf -p 0 -n 128 -r 3 --json 2>&1 | grep -o '"tg_tok_s":[0-9.]*' | cut -d: -f2); printf '%-8s %-8s %-8s %s\n' "$1" "$2" "${r:-FAIL}" "${3:-(built-in)}" | tee -a $OUT/tune.txt; }
for m in Lq4_K_M Pq4_K Lq5_K_M; do .devcarry/wgpt-v4 verify -m /tmp/llama1b_$m.gguf -p "Hello world" -c 64 2>&1 | tail -n 2 | tee -a $OUT/verify.txt; done
for i in 1 2; do for b in wgpt wgpt-v4; do for m in Lq4_K_M Pq4_K Lq5_K_M; do T $b $m ""; done; done; done
for tune in "glu.q4_K=u1k1" "glu.q4_K=u2k1" "glu.q4_K=u1" "glu.q4_K=u2" "glu.q4_K=u4k1" "mv.q4_K.0=u2" "mv.q4_K.0=u1" "mv.q4_K.0=r1u4" "mv.q4_K.0=r1u8" "qkv.q4_K.1=u1" "qkv.q4_K.1=u2"; do T wgpt-v4 Pq4_K "$tune"; done
for tune in "mv.q6_K.0=u1" "mv.q6_K.0=r1u4" "mv.q6_K.0=r1u2" "mv.q6_K.0=r1u8" "mv.q6_K.0=u1k1"; do T wgpt-v4 Lq4_K_M "$tune"; T wgpt-v4 Lq6_K "$tune"; done
for tune in "" "glu.q6_K=u1k1" "glu.q6_K=u2k1" "qkv.q6_K.1=u1" "qkv.q6_K.1=u2k1" "mv.q6_K.2=u1" "mv.q6_K.2=r2u2"; do T wgpt-v4 Lq6_K "$tune"; done
for tune in "glu.q5_K=u1k1" "glu.q5_K=u2k1" "mv.q5_K.0=u1" "mv.q5_K.0=u2" "qkv.q5_K.1=u1" "mv.q6_K.0=u1"; do T wgpt-v4 Lq5_K_M "$tune"; done
echo "sweep $SECONDS s"
for i in 1 2; do T wgpt q4_0 ""; T wgpt Lq4_0 ""; done
echo "t $SECONDS s"
