# Source this to run wgpt on a machine without a GPU: points the Vulkan
# loader at SwiftShader from .deps/ unless a driver was chosen already.
_wgpt_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ -z "${VK_ICD_FILENAMES:-}${VK_DRIVER_FILES:-}" ] && [ -f "$_wgpt_root/.deps/swiftshader/icd.json" ]; then
  export VK_ICD_FILENAMES="$_wgpt_root/.deps/swiftshader/icd.json"
fi
# Debian's libvulkan1 is preferred; SwiftShader's folder has a loader too.
if ! ldconfig -p 2>/dev/null | grep -q libvulkan.so.1; then
  export LD_LIBRARY_PATH="$_wgpt_root/.deps/swiftshader${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
unset _wgpt_root
