. scripts/device_env.sh
f=/tmp/llama1b_f16.gguf
python3 scripts/make_llama1b.py --out $f --type f16 --threads 16 >/dev/null 2>&1 &
python3 scripts/make_llama1b.py --out /tmp/llama1b_q4_0.gguf --type q4_0 --threads 16 >/dev/null 2>&1 &
python3 -c "import sys, tarfile; tarfile.open(sys.argv[1]).extractall('/tmp/lcvq-x')" .devcarry/llamacpp-vulkan.tar.xz && mv /tmp/lcvq-x/lcv /tmp/lcvq
wait
for t in q4_K_M q6_K; do /tmp/lcvq/bin/llamacpp_quantize $f /tmp/llama1b_$t.gguf $t -t 16 >/dev/null 2>&1 & done; wait
echo "setup $SECONDS s"
M() { scripts/device_mvtune.sh "$@"; }
M q4_0: q4_K_M: q6_K: q4_K_M::WGPT_KQ_EXP=1 q6_K::WGPT_KQ_EXP=1 q4_K_M::WGPT_KQ_EXP=2 q6_K::WGPT_KQ_EXP=2 q4_K_M::WGPT_KQ_EXP=3 q6_K::WGPT_KQ_EXP=3
echo "t $SECONDS s"
M q4_0:mv.q4_0.0=k4 q4_K_M:mv.q6_K.0=k4:WGPT_KQ_EXP=3 q4_K_M:mv.q6_K.0=k4u2:WGPT_KQ_EXP=3 q4_K_M:mv.q4_K.0=k4:WGPT_KQ_EXP=3 q4_K_M:glu.q4_K=k4:WGPT_KQ_EXP=3 q4_K_M:qkv.q4_K=k4:WGPT_KQ_EXP=3 q4_K_M:mv.q6_K.2=k4:WGPT_KQ_EXP=3
M q6_K:mv.q6_K.0=k4:WGPT_KQ_EXP=3 q6_K:glu.q6_K=k4:WGPT_KQ_EXP=3 q6_K:qkv.q6_K=k4:WGPT_KQ_EXP=3 q6_K:mv.q6_K.2=k4:WGPT_KQ_EXP=3 q6_K:mv.q6_K.0=u8:WGPT_KQ_EXP=3 q6_K:glu.q6_K=u8:WGPT_KQ_EXP=3
echo "t $SECONDS s"
M q4_0: q4_K_M::WGPT_KQ_EXP=3 q6_K::WGPT_KQ_EXP=3 q4_K_M: q6_K:
for e in 0 3; do echo "== KQ_EXP $e"; WGPT_KQ_EXP=$e $W bench -m /tmp/llama1b_q6_K.gguf -p 0 -n 128 -r 1 --profile | grep -A16 "GPU time"; done > $OUT/profiles.txt 2>&1
WGPT_KQ_EXP=3 $W verify -m /tmp/llama1b_q4_K_M.gguf -p "Hello world" -c 64 | tail -n 2
WGPT_KQ_EXP=3 $W verify -m /tmp/llama1b_q6_K.gguf -p "Hello world" -c 64 | tail -n 2
echo "t $SECONDS s"
