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
T() { r=$(WGPT_MV_TUNE="$3" timeout 60 .devcarry/wgpt$1 bench -m /tmp/llama1b_$2.gguf -p 0 -n 128 -r 3 --json 2>&1 | grep -o '"tg_tok_s":[0-9.]*' | cut -d: -f2); printf '%-6s %-8s %-8s %s\n' "${1:-base}" "$2" "${r:-FAIL}" "${3:-(built-in)}" | tee -a $OUT/tune.txt; }
for m in Lq6_K Lq4_K_M Lq5_K_M; do .devcarry/wgpt-sh verify -m /tmp/llama1b_$m.gguf -p "Hello world" -c 64 2>&1 | tail -n 1 | sed "s/^/sh $m: /" | tee -a $OUT/tune.txt; done
for i in 1 2; do
  for b in "" -sh -noh -nodm -nox; do T "$b" Lq6_K; T "$b" Lq4_K_M; done
  T "" q4_0; T -nox q4_0; T "" Pq4_K; T -sh Pq4_K
  T "" Lq5_K_M; T "" Lq5_K_M "glu.q5_K=g4k4u1"; T "" Lq5_K_M "mv.q5_K.0=g4k4u1"
done
echo "t $SECONDS s" | tee -a $OUT/tune.txt
for b in "" -nox; do for m in q4_0 Lq6_K Lq4_K_M; do timeout 60 .devcarry/wgpt$b bench -m /tmp/llama1b_$m.gguf -p 0 -n 16 --profile > $OUT/prof${b}_$m.txt 2>&1; done; done
echo "t $SECONDS s" | tee -a $OUT/tune.txt
