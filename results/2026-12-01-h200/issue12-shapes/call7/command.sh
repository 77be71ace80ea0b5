. scripts/device_env.sh
f=/tmp/llama1b_f16.gguf
python3 scripts/make_llama1b.py --out $f --type f16 --threads 16 >/dev/null 2>&1 &
python3 scripts/make_llama1b.py --out /tmp/llama1b_q4_0.gguf --type q4_0 --threads 16 >/dev/null 2>&1 &
python3 -c "import sys, tarfile; tarfile.open(sys.argv[1]).extractall('/tmp/lcvq-x')" .devcarry/llamacpp-vulkan.tar.xz && mv /tmp/lcvq-x/lcv /tmp/lcvq
wait
for t in q4_K_M q6_K; do /tmp/lcvq/bin/llamacpp_quantize $f /tmp/llama1b_L$t.gguf $t -t 16 >/dev/null 2>&1 & done; wait
echo "setup $SECONDS s"
T() { r=$(WGPT_MV_TUNE="$2" timeout 60 .devcarry/wgpt-g bench -m /tmp/llama1b_$1.gguf -p 0 -n 128 -r 3 --json 2>&1 | grep -o '"tg_tok_s":[0-9.]*' | cut -d: -f2); printf '%-8s %-8s %s\n' "$1" "${r:-FAIL}" "${2:-(built-in)}" | tee -a $OUT/tune.txt; }
A="mv.q4_0.0=g4k4u1" B="mv.q6_K.0=g4k4u1;mv.q4_K.0=g4k4"
WGPT_MV_TUNE="$A" .devcarry/wgpt-g verify -m /tmp/llama1b_q4_0.gguf -p "Hello world" -c 64 2>&1 | tail -n 1 | tee -a $OUT/tune.txt
WGPT_MV_TUNE="$B" .devcarry/wgpt-g verify -m /tmp/llama1b_Lq4_K_M.gguf -p "Hello world" -c 64 2>&1 | tail -n 1 | tee -a $OUT/tune.txt
for i in 1 2 3; do T q4_0 ""; T q4_0 "$A"; T Lq4_K_M ""; T Lq4_K_M "$B"; done
for i in 1 2; do T Lq6_K ""; T Lq6_K "mv.q6_K.0=g4k4u1"; done
echo "t $SECONDS s"
