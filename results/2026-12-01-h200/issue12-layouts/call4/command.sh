. scripts/device_env.sh
f=/tmp/llama1b_f16.gguf
python3 scripts/make_llama1b.py --out $f --type f16 --threads 16 >/dev/null 2>&1 &
python3 scripts/make_llama1b.py --out /tmp/llama1b_q4_0.gguf --type q4_0 --threads 16 >/dev/null 2>&1 &
python3 -c "import sys, tarfile; tarfile.open(sys.argv[1]).extractall('/tmp/lcvq-x')" .devcarry/llamacpp-vulkan.tar.xz && mv /tmp/lcvq-x/lcv /tmp/lcvq
wait
for t in q4_K_M q6_K; do /tmp/lcvq/bin/llamacpp_quantize $f /tmp/llama1b_$t.gguf $t -t 16 >/dev/null 2>&1 & done; wait
echo "setup $SECONDS s"
C() { nvidia-smi --query-gpu=clocks.sm,clocks.mem,power.draw,temperature.gpu --format=csv,noheader | tr -d '\n'; }
P() { r=$(timeout 60 $W bench -m /tmp/llama1b_$1.gguf -p 512 -n 0 -r $2 --json 2>&1 | grep -o '"pp_tok_s":[0-9.]*' | cut -d: -f2); echo "$1 r$2 ${r:-FAIL} [$(C)]" | tee -a $OUT/pp.txt; }
for i in 1 2 3 4; do for t in q4_K_M q6_K q4_0; do P $t 3; done; done
for t in q4_K_M q6_K; do P $t 12; done
echo "t $SECONDS s"
for i in 1 2 3; do for t in q4_K_M q6_K; do timeout 60 $W bench -m /tmp/llama1b_$t.gguf -p 512 -n 0 -r 1 --profile > $OUT/prof_${t}_$i.txt 2>&1; echo "$t $i $(grep -o '"pp_tok_s":[0-9.]*\|pp512.*' $OUT/prof_${t}_$i.txt | head -1)"; done; done
timeout 60 $W bench -m /tmp/llama1b_q4_0.gguf -p 512 -n 0 -r 1 --profile > $OUT/prof_q4_0.txt 2>&1
echo "t $SECONDS s"
