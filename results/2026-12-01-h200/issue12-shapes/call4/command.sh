OUT=$OUT bash scripts/device_bench.sh q5_K_M > $OUT/log.txt 2>&1
. scripts/device_env.sh
Q=/tmp/lcvq/bin/llamacpp_quantize f=/tmp/llama1b_f16.gguf
$Q $f /tmp/llama1b_Lq4_0.gguf q4_0 -t 16 >/dev/null 2>&1 &
$Q $f /tmp/llama1b_Pq4_K.gguf q4_K_M --pure -t 16 >/dev/null 2>&1 &
python3 scripts/make_llama1b.py --out /tmp/llama1b_q4_0.gguf --type q4_0 --threads 16 >/dev/null 2>&1 &
wait
T() { r=$(timeout 60 .devcarry/$1 bench -m /tmp/llama1b_$2.gguf -p 0 -n 128 -r 3 --json 2>&1 | grep -o '"tg_tok_s":[0-9.]*' | cut -d: -f2); printf '%-10s %-8s %s\n' "$1" "$2" "${r:-FAIL}" | tee -a $OUT/tg.txt; }
for i in 1 2; do for b in wgpt-base wgpt; do for m in Pq4_K Lq4_0 q4_0 q5_K_M; do T $b $m; done; done; done
$W verify -m /tmp/llama1b_Pq4_K.gguf -p "Hello world" -c 64 2>&1 | tail -n 1 | tee -a $OUT/tg.txt
echo "t $SECONDS s"
