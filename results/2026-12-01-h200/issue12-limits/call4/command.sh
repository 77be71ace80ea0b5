. scripts/device_env.sh
f=/tmp/llama1b_f16.gguf
python3 scripts/make_llama1b.py --out $f --type f16 --threads 16 >/dev/null 2>&1
python3 -c "import sys, tarfile; tarfile.open(sys.argv[1]).extractall('/tmp/lcvq-x')" .devcarry/llamacpp-vulkan.tar.xz && mv /tmp/lcvq-x/lcv /tmp/lcvq
for t in q4_K_M q6_K; do /tmp/lcvq/bin/llamacpp_quantize $f /tmp/llama1b_L$t.gguf $t -t 16 >/dev/null 2>&1 & done
/tmp/lcvq/bin/llamacpp_quantize $f /tmp/llama1b_Pq4_K.gguf q4_K_M --pure -t 16 >/dev/null 2>&1 &
wait
echo "setup $SECONDS s" | tee -a $OUT/tune.txt
T() { r=$(WGPT_MV_TUNE="$2" timeout 60 .devcarry/wgpt bench -m /tmp/llama1b_$1.gguf -p 0 -n 128 -r 3 --json 2>&1 | grep -o '"tg_tok_s":[0-9.]*' | cut -d: -f2); printf '%-8s %-8s %s\n' "$1" "${r:-FAIL}" "${2:-(built-in)}" | tee -a $OUT/tune.txt; }
T Pq4_K ""
for t in "glu.q4_K=g4" "glu.q4_K=r1" "glu.q4_K=g4r1" "glu.q4_K=k2g4" "qkv.q4_K=g4" "qkv.q4_K=g4k1" "mv.q4_K.0=g4k4u2" "mv.q4_K.2=g4" "mv.q4_K.2=r2"; do T Pq4_K "$t"; done
T Pq4_K ""
T Lq6_K ""
for t in "glu.q6_K=g4" "glu.q6_K=u2" "glu.q6_K=g4k4u2" "glu.q6_K=r1" "qkv.q6_K=g4" "qkv.q6_K=g4k1" "mv.q6_K.2=g4" "mv.q6_K.2=r2u1" "mv.q6_K.0=g8k8u1"; do T Lq6_K "$t"; done
T Lq6_K ""
echo "t $SECONDS s" | tee -a $OUT/tune.txt
