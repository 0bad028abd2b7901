#!/usr/bin/env bash
# Runs on the GPU host, from the repository root, before a command: unpacks what prepare.sh brought and exports
# the environment Dawn needs. Use as `source scripts/gpu/remote-setup.sh && node packages/<pkg>/dist/<cmd>.mjs ...`.
for f in .gl/*.deb; do dpkg -x "$f" /; done
ldconfig
export VK_DRIVER_FILES=${VK_DRIVER_FILES:-/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json}
export __EGL_VENDOR_LIBRARY_FILENAMES=${__EGL_VENDOR_LIBRARY_FILENAMES:-/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json}
mkdir -p /opt/trm/bin node_modules
[ -x /opt/trm/bin/node ] || { xz -dc .gpu/node.xz > /opt/trm/bin/node && chmod +x /opt/trm/bin/node; }
[ -d node_modules/webgpu ] || [ ! -f .gpu/webgpu.tar.xz ] || xz -dc .gpu/webgpu.tar.xz | tar xf - -C node_modules
[ -d node_modules/onnxruntime-node ] || xz -dc .gpu/ort.tar.xz | tar xf - -C .
# The CUDA provider arrives in parts over several copies (see README); each call keeps its parts in /opt/trm/cuda.
mkdir -p /opt/trm/cuda
for p in .gpu-cuda/part-*; do [ -f "$p" ] && cp -n "$p" /opt/trm/cuda/; done
ort_bin=node_modules/onnxruntime-node/bin/napi-v6/linux/x64
sums="$PWD/.gpu/cuda-parts.sha256"  # written by prepare.sh; all parts present = all sums match
if [ ! -f "$ort_bin/libonnxruntime_providers_cuda.so" ] && [ -f "$sums" ] && (cd /opt/trm/cuda && sha256sum -c --quiet "$sums"); then
  cat /opt/trm/cuda/part-* | xz -dc | tar xf - -C "$ort_bin" && echo "CUDA provider installed in $ort_bin"
fi
export PATH=/opt/trm/bin:$PATH
echo "node $(node --version), GPU: $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null)"
