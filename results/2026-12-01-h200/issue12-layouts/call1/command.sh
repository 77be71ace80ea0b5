. scripts/device_env.sh
f=/tmp/llama1b_f16.gguf
python3 scripts/make_llama1b.py --out $f --type f16 --threads 16 >/dev/null 2>&1 &
python3 scripts/make_llama1b.py --out /tmp/llama1b_q4_0.gguf --type q4_0 --threads 16 >/dev/null 2>&1 &
python3 -c "import sys, tarfile; tarfile.open(sys.argv[1]).extractall('/tmp/lcvq-x')" .devcarry/llamacpp-vulkan.tar.xz && mv /tmp/lcvq-x/lcv /tmp/lcvq
wait
for t in q4_K_M q6_K q5_K_M; do /tmp/lcvq/bin/llamacpp_quantize $f /tmp/llama1b_$t.gguf $t -t 16 >/dev/null 2>&1 & done; wait
echo "setup $SECONDS s"
B() { r=$(timeout 60 .devcarry/$1 bench -m /tmp/llama1b_$2.gguf -p 0 -n 128 -r 3 --json 2>&1 | grep -o '"tg_tok_s":[0-9.]*' | cut -d: -f2); echo "$1 $2 ${r:-FAIL}" | tee -a $OUT/x.txt; }
P() { r=$(timeout 60 .devcarry/$1 bench -m /tmp/llama1b_$2.gguf -p 512 -n 0 -r 3 --json 2>&1 | grep -o '"pp_tok_s":[0-9.]*' | cut -d: -f2); echo "pp $1 $2 ${r:-FAIL}" | tee -a $OUT/x.txt; }
for i in 1 2; do for b in wgpt-base wgpt-new wgpt-q4b; do for t in q4_0 q4_K_M q6_K; do B $b $t; done; done; done
for b in wgpt-base wgpt-new; do B $b q5_K_M; P $b q4_K_M; P $b q6_K; done
echo "t $SECONDS s"
for t in q4_K_M q6_K q5_K_M; do echo "== $t"; .devcarry/wgpt-new verify -m /tmp/llama1b_$t.gguf -p "Hello world" -c 64 | tail -n 2; done 2>&1 | tee $OUT/verify.txt
echo "== q4_0 q4b"; .devcarry/wgpt-q4b verify -m /tmp/llama1b_q4_0.gguf -p "Hello world" -c 64 2>&1 | tail -n 2 | tee -a $OUT/verify.txt
for b in wgpt-new wgpt-q4b; do for t in q4_0 q4_K_M; do echo "== $b $t"; timeout 30 .devcarry/$b bench -m /tmp/llama1b_$t.gguf -p 0 -n 128 -r 1 --profile | grep -A14 "GPU time"; done; done > $OUT/profiles.txt 2>&1
echo "t $SECONDS s"
