. scripts/device_env.sh
f=/tmp/llama1b_f16.gguf
python3 scripts/make_llama1b.py --out $f --type f16 --threads 16 >/dev/null 2>&1 &
python3 scripts/make_llama1b.py --out /tmp/llama1b_q4_0.gguf --type q4_0 --threads 16 >/dev/null 2>&1 &
python3 -c "import sys, tarfile; tarfile.open(sys.argv[1]).extractall('/tmp/lcvq-x')" .devcarry/llamacpp-vulkan.tar.xz && mv /tmp/lcvq-x/lcv /tmp/lcvq
wait
/tmp/lcvq/bin/llamacpp_quantize $f /tmp/llama1b_Lq4_K_M.gguf q4_K_M -t 16 >/dev/null 2>&1
echo "setup $SECONDS s"
T() { r=$(WGPT_MV_TUNE="$2" timeout 60 .devcarry/wgpt-g bench -m /tmp/llama1b_$1.gguf -p 0 -n 128 -r 3 --json 2>&1 | grep -o '"tg_tok_s":[0-9.]*' | cut -d: -f2); printf '%-8s %-8s %s\n' "$1" "${r:-FAIL}" "${2:-(built-in)}" | tee -a $OUT/tune.txt; }
T Lq4_K_M ""; T q4_0 ""
for tune in "mv.q4_K.0=g4k4" "mv.q4_K.0=g4k4u2" "mv.q4_K.0=g4k2" "glu.q4_K=g4k2u1" "glu.q4_K=g4k4u1" "qkv.q4_K.1=g4k4" "mv.q6_K.0=g4k4u1" "mv.q6_K.0=g4k4u2" "mv.q6_K.2=g4k4" "mv.q6_K.2=g4k2"; do T Lq4_K_M "$tune"; done
for tune in "mv.q4_0.0=g4k4" "mv.q4_0.0=g4k4u1" "glu.q4_0=g4k2" "glu.q4_0=g4k4u1" "qkv.q4_0.1=g4k4" "mv.q4_0.2=g4k4"; do T q4_0 "$tune"; done
T Lq4_K_M "mv.q4_K.0=g4k4;glu.q4_K=g4k4u1;qkv.q4_K.1=g4k4;mv.q6_K.0=g4k4u1"
T q4_0 "mv.q4_0.0=g4k4;glu.q4_0=g4k4u1;qkv.q4_0.1=g4k4"
T Lq4_K_M ""; T q4_0 ""
echo "t $SECONDS s"
