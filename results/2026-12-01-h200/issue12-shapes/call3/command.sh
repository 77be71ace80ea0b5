OUT=$OUT bash scripts/device_bench.sh q4_K_M q6_K q4_0  # wgpt-base = a6cfe04, wgpt = the shapes and Q4_K vec4 reads
