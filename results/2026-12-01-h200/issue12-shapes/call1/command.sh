. scripts/device_env.sh
f=/tmp/llama1b_f16.gguf
python3 scripts/make_llama1b.py --out $f --type f16 --threads 16 >/dev/null 2>&1 &
python3 scripts/make_llama1b.py --out /tmp/llama1b_q4_0.gguf --type q4_0 --threads 16 >/dev/null 2>&1 &
python3 -c "import sys, tarfile; tarfile.open(sys.argv[1]).extractall('/tmp/lcvq-x')" .devcarry/llamacpp-vulkan.tar.xz && mv /tmp/lcvq-x/lcv /tmp/lcvq
wait
Q=/tmp/lcvq/bin/llamacpp_quantize
for t in q4_K_M q6_K q4_0; do $Q $f /tmp/llama1b_L$t.gguf $t -t 16 >/dev/null 2>&1 & done
$Q $f /tmp/llama1b_Pq4_K.gguf q4_K_M --pure -t 16 >/dev/null 2>&1 &
wait
echo "setup $SECONDS s"
T() { r=$(WGPT_MV_TUNE="$2" timeout 60 $W bench -m /tmp/llama1b_$1.gguf -p 0 -n 128 -r 3 --json 2>&1 | grep -o '"tg_tok_s":[0-9.]*' | cut -d: -f2); printf '%-8s %-8s %s\n' "$1" "${r:-FAIL}" "${2:-(built-in)}" | tee -a $OUT/tune.txt; }
C="glu.q4_K=u2;mv.q4_K.0=u2;qkv.q4_K.1=u2;mv.q6_K.0=u2"
T q4_0 ""; T Lq4_0 ""; T Lq4_K_M ""; T Pq4_K ""
for tune in "glu.q4_K=u2" "glu.q4_K=u2k1" "glu.q4_K=u1" "glu.q4_K=u1k1" "mv.q4_K.0=u2" "mv.q4_K.0=u1" "mv.q4_K.0=u2k1" "qkv.q4_K.1=u2" "qkv.q4_K.1=u1" "mv.q6_K.0=u2" "mv.q6_K.0=u8" "mv.q6_K.0=r1u4" "mv.q6_K.0=u1" "$C"; do T Lq4_K_M "$tune"; done
for tune in "" "glu.q6_K=u2" "glu.q6_K=u2k1" "mv.q6_K.0=u2" "qkv.q6_K.1=u2" "glu.q6_K=u2;mv.q6_K.0=u2;qkv.q6_K.1=u2"; do T Lq6_K "$tune"; done
T Pq4_K "$C"
echo "sweep $SECONDS s"
for i in 1 2; do T q4_0 ""; T Lq4_0 ""; T Lq4_K_M ""; T Lq4_K_M "$C"; T Pq4_K ""; T Pq4_K "$C"; done
WGPT_MV_TUNE="$C" $W bench -m /tmp/llama1b_Lq4_K_M.gguf -p 0 -n 16 -r 1 --profile > $OUT/prof_q4KM_C.txt 2>&1
$W bench -m /tmp/llama1b_Lq4_0.gguf -p 0 -n 16 -r 1 --profile > $OUT/prof_Lq4_0.txt 2>&1
$W bench -m /tmp/llama1b_Pq4_K.gguf -p 0 -n 16 -r 1 --profile > $OUT/prof_Pq4_K.txt 2>&1
for m in Lq4_0 Pq4_K; do $W inspect -m /tmp/llama1b_$m.gguf 2>&1 | head -20 > $OUT/inspect_$m.txt; done
echo "t $SECONDS s"
