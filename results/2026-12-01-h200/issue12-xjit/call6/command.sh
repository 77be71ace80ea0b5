timeout 300 scripts/device_bench.sh q4_0
echo "t $SECONDS s"
. scripts/device_env.sh
timeout 30 $W bench -m /tmp/llama1b_q4_0.gguf -p 0 -n 128 -r 1 --profile | grep -A16 "GPU time" > $OUT/profile_q4_0.txt 2>&1
echo "t $SECONDS s"
