timeout 430 scripts/device_bench.sh q4_K_M q6_K q4_0
echo "t $SECONDS s"
. scripts/device_env.sh
B() { r=$(WGPT_MV_TUNE="$3" timeout 40 .devcarry/$1 bench -m /tmp/llama1b_$2.gguf -p 0 -n 128 -r 3 --json 2>&1 | grep -o '"tg_tok_s":[0-9.]*' | cut -d: -f2); echo "$1 $2 ${r:-FAIL} [$3]" | tee -a $OUT/x.txt; }
B wgpt q4_0 ""; B wgpt q4_0 "qkv.q4_0=k2"; B wgpt q4_0 "glu.q4_0=u2"; B wgpt q4_0 "qkv.q4_0=k2;glu.q4_0=u2"
for t in q4_0 q4_K_M q6_K; do echo "== $t"; timeout 30 $W bench -m /tmp/llama1b_$t.gguf -p 0 -n 128 -r 1 --profile | grep -A16 "GPU time"; done > $OUT/profiles.txt 2>&1
echo "t $SECONDS s"
