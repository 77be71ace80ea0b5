. scripts/device_env.sh
f=/tmp/llama1b_f16.gguf
python3 scripts/make_llama1b.py --out $f --type f16 --threads 16 >/dev/null 2>&1 &
python3 -c "import sys, tarfile; tarfile.open(sys.argv[1]).extractall('/tmp/lcvq-x')" .devcarry/llamacpp-vulkan.tar.xz && mv /tmp/lcvq-x/lcv /tmp/lcvq
wait
for t in q4_K_M q6_K q8_0; do /tmp/lcvq/bin/llamacpp_quantize $f /tmp/llama1b_$t.gguf $t -t 16 >/dev/null 2>&1 & done; wait
echo "setup $SECONDS s"
P() { r=$(timeout 60 env $3 $W bench -m /tmp/llama1b_$1.gguf -p 512 -n 0 -r $2 --json 2>&1 | grep -o '"pp_tok_s":[0-9.]*' | cut -d: -f2); echo "$1 r$2 ${r:-FAIL} [$3]" | tee -a $OUT/pp.txt; }
for i in 1 2 3; do for t in q4_K_M q6_K q8_0; do P $t 1 WGPT_MATMUL_I8=0; P $t 1 X=1; done; done
echo "t $SECONDS s"
