. scripts/device_env.sh
python3 scripts/make_llama1b.py --out /tmp/llama1b_f16.gguf --type f16 --threads 16 >/dev/null 2>&1 &
python3 scripts/make_llama1b.py --out /tmp/llama1b_q8_0.gguf --type q8_0 --threads 16 >/dev/null 2>&1 &
wait; echo "setup $SECONDS s"
B() { r=$(WGPT_MV_TUNE="$2" timeout 40 .devcarry/wgpt bench -m /tmp/llama1b_$1.gguf -p 0 -n 128 -r 3 --json 2>&1 | grep -o '"tg_tok_s":[0-9.]*' | cut -d: -f2); echo "$1 ${r:-FAIL} [$2]" | tee -a $OUT/x.txt; }
for t in f16 q8_0; do
  B $t ""; B $t "mv.$t=x2;glu.$t=x2;qkv.$t=x2"; B $t "mv.$t=x2u4;glu.$t=x2;qkv.$t=x2"; B $t "mv.$t=x2u2;glu.$t=x2u2;qkv.$t=x2u2"
done
echo "t $SECONDS s"
