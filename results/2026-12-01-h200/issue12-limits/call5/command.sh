bash scripts/device_bench.sh q5_K_M > /tmp/db.log 2>&1; cp /tmp/db.log $OUT/  # wgpt-base = 509c1f9, wgpt = it with mmi8_q5_K.wgsl
