timeout 590 scripts/device_bench.sh q4_K_M q6_K q4_0 > /tmp/o.txt 2>&1; cp /tmp/o.txt $OUT/device_bench.txt
