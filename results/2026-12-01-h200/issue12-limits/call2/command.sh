. scripts/device_env.sh
f=/tmp/llama1b_f16.gguf
python3 scripts/make_llama1b.py --out $f --type f16 --threads 16 >/dev/null 2>&1 &
python3 scripts/make_llama1b.py --out /tmp/llama1b_q4_0.gguf --type q4_0 --threads 16 >/dev/null 2>&1 &
python3 -c "import sys, tarfile; tarfile.open(sys.argv[1]).extractall('/tmp/lcvq-x')" .devcarry/llamacpp-vulkan.tar.xz && mv /tmp/lcvq-x/lcv /tmp/lcvq
wait
for t in q4_K_M q6_K q5_K_M; do /tmp/lcvq/bin/llamacpp_quantize $f /tmp/llama1b_L$t.gguf $t -t 16 >/dev/null 2>&1 & done
/tmp/lcvq/bin/llamacpp_quantize $f /tmp/llama1b_Pq4_K.gguf q4_K_M --pure -t 16 >/dev/null 2>&1 &
wait
echo "setup $SECONDS s" | tee -a $OUT/tune.txt
T() { r=$(timeout 60 .devcarry/wgpt$1 bench -m /tmp/llama1b_$2.gguf -p 0 -n 128 -r 3 --json 2>&1 | grep -o '"tg_tok_s":[0-9.]*' | cut -d: -f2); printf '%-6s %-8s %s\n' "${1:-new}" "$2" "${r:-FAIL}" | tee -a $OUT/tune.txt; }
for m in Lq6_K Lq4_K_M Lq5_K_M Pq4_K; do .devcarry/wgpt verify -m /tmp/llama1b_$m.gguf -p "Hello world" -c 64 2>&1 | tail -n 1 | sed "s/^/new $m: /" | tee -a $OUT/tune.txt; done
for i in 1 2 3; do for m in Pq4_K Lq4_K_M Lq6_K Lq5_K_M q4_0; do T -base $m; T "" $m; done; done
echo "t $SECONDS s" | tee -a $OUT/tune.txt
