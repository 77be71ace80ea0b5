# Sourced by the scripts that run on the GPU machine (scripts/device_*.sh),
# from the repository root: the Vulkan loader from .gl/*.deb, the NVIDIA
# driver's ICD, Dawn's library and the wgpt build carried in .devcarry/
# ($W), and $OUT for what comes back.
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
export VK_DRIVER_FILES=${VK_DRIVER_FILES:-/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json}
export WGPT_WEBGPU_LIB=$PWD/.devcarry/libwebgpu_wrapper.so
W=.devcarry/wgpt
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
