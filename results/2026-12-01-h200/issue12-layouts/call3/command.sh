timeout 590 scripts/device_bench.sh f16 q8_0 q5_K_M > /tmp/o.txt 2>&1; cp /tmp/o.txt $OUT/device_bench.txt
