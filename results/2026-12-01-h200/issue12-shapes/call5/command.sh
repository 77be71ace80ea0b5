. scripts/device_env.sh
f=/tmp/llama1b_f16.gguf
python3 scripts/make_llama1b.py --out $f --type f16 --threads 16 >/dev/null 2>&1 &
python3 -c "import sys, tarfile; tarfile.open(sys.argv[1]).extractall('/tmp/lcvq-x')" .devcarry/llamacpp-vulkan.tar.xz && mv /tmp/lcvq-x/lcv /tmp/lcvq
wait
Q=/tmp/lcvq/bin/llamacpp_quantize
for t in q4_K_M q6_K q5_K_M; do $Q $f /tmp/llama1b_L$t.gguf $t -t 16 >/dev/null 2>&1 & done
wait
echo "setup $SECONDS s"
T() { r=$(timeout 60 .devcarry/$1 bench -m /tmp/llama1b_$2.gguf -p 0 -n 128 -r 3 --json 2>&1 | grep -o '"tg_tok_s":[0-9.]*' | cut -d: -f2); printf '%-10s %-8s %s\n' "$1" "$2" "${r:-FAIL}" | tee -a $OUT/tg.txt; }
for m in Lq6_K Lq4_K_M Lq5_K_M; do .devcarry/wgpt-q6 verify -m /tmp/llama1b_$m.gguf -p "Hello world" -c 64 2>&1 | tail -n 1 | sed "s/^/$m /" | tee -a $OUT/verify.txt; done
for i in 1 2; do for b in wgpt wgpt-q6; do for m in Lq6_K Lq4_K_M Lq5_K_M; do T $b $m; done; done; done
for b in wgpt wgpt-q6; do timeout 60 .devcarry/$b bench -m /tmp/llama1b_Lq6_K.gguf -p 512 -n 0 -r 3 --json 2>&1 | grep -o '"pp_tok_s":[0-9.]*' | sed "s/^/$b Lq6_K /" | tee -a $OUT/pp.txt; done
echo "t $SECONDS s"
