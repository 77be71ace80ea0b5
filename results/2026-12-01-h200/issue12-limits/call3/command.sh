bash scripts/device_bench.sh q5_K_M > /tmp/db.log 2>&1; cp /tmp/db.log $OUT/
