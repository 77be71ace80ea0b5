bash scripts/device_bench.sh q4_K_M q6_K q4_0 > /tmp/db.log 2>&1; cp /tmp/db.log $OUT/  # wgpt = fcc8317, no wgpt-base
