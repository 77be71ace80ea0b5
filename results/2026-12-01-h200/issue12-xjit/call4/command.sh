. scripts/device_env.sh
f=/tmp/llama1b_f16.gguf
python3 scripts/make_llama1b.py --out $f --type f16 --threads 16 >/dev/null 2>&1 &
python3 scripts/make_llama1b.py --out /tmp/llama1b_q4_0.gguf --type q4_0 --threads 16 >/dev/null 2>&1 &
python3 scripts/make_llama1b.py --out /tmp/llama1b_q8_0.gguf --type q8_0 --threads 16 >/dev/null 2>&1 &
python3 -c "import sys, tarfile; tarfile.open(sys.argv[1]).extractall('/tmp/lcvq-x')" .devcarry/llamacpp-vulkan.tar.xz && mv /tmp/lcvq-x/lcv /tmp/lcvq
wait
for t in q4_K_M q6_K; do /tmp/lcvq/bin/llamacpp_quantize $f /tmp/llama1b_$t.gguf $t -t 16 >/dev/null 2>&1 & done; wait
echo "setup $SECONDS s"
B() { r=$(WGPT_MV_TUNE="$3" timeout 60 .devcarry/$1 bench -m /tmp/llama1b_$2.gguf -p 0 -n 128 -r 3 --json 2>&1 | grep -o '"tg_tok_s":[0-9.]*' | cut -d: -f2); echo "$1 $2 ${r:-FAIL} [$3]" | tee -a $OUT/x.txt; }
for t in f16 q8_0 q4_0 q4_K_M q6_K; do B wgpt-base $t ""; B wgpt $t ""; done
for T in glu.q4_0=u2 glu.q4_0=k2 mv.q4_0.0=u2 qkv.q4_0=u2 qkv.q4_0=k2 mv.q4_0.2=u2 mv.q4_0.0=u8; do B wgpt q4_0 "$T"; done
for T in glu.q6_K=u3 qkv.q6_K=u2 mv.q6_K.2=u2 mv.q6_K.0=u2 mv.q6_K.0=u3 glu.q6_K=u2 qkv.q6_K=u3; do B wgpt q6_K "$T"; done
for T in qkv.q4_K=u2 mv.q4_K.0=u2 glu.q4_K=u3 mv.q6_K.2=u2 mv.q6_K.0=u2 qkv.q4_K=u3; do B wgpt q4_K_M "$T"; done
for t in q4_0 q4_K_M q6_K; do B wgpt $t ""; done
echo "t $SECONDS s"
