. scripts/device_env.sh
f=/tmp/llama1b_f16.gguf
python3 scripts/make_llama1b.py --out $f --type f16 --threads 16 >/dev/null 2>&1 &
python3 scripts/make_llama1b.py --out /tmp/llama1b_q4_0.gguf --type q4_0 --threads 16 >/dev/null 2>&1 &
python3 -c "import sys, tarfile; tarfile.open(sys.argv[1]).extractall('/tmp/lcvq-x')" .devcarry/llamacpp-vulkan.tar.xz && mv /tmp/lcvq-x/lcv /tmp/lcvq
wait
for t in q4_K_M q6_K; do /tmp/lcvq/bin/llamacpp_quantize $f /tmp/llama1b_$t.gguf $t -t 16 >/dev/null 2>&1 & done; wait
echo "setup $SECONDS s"
L() { timeout 60 .devcarry/$1 bench -m /tmp/llama1b_$2.gguf -p 512 -n 0 -r 1 --json 2>&1 | grep -o '"load_s":[0-9.]*\|"pp_tok_s":[0-9.]*' | tr '\n' ' ' | sed "s/^/$1 $2 /" | tee -a $OUT/load.txt; echo | tee -a $OUT/load.txt; }
for i in 1 2 3; do for b in wgpt-base wgpt; do for t in q4_K_M q6_K q4_0; do L $b $t; done; done; done
echo "t $SECONDS s"
