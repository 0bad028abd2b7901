#!/usr/bin/env bash
# Packs what the ONNX Runtime training run on a GPU host needs besides `.gpu` (Node, onnxruntime-node), `.gl` and
# the CUDA provider parts (all from prepare.sh): the command bundles it runs, the sudoku data, the official
# PyTorch anchor script and the official model files it imports (.ref/, from scripts/official/fetch-reference.sh),
# into one archive .gpu-run/payload.tar.xz (ignored by git) that ort-train-remote.sh unpacks. See README.md here.
#
#   bash scripts/gpu/pack-ort-train.sh [SHARED_DIR]     # SHARED_DIR: the folder with data/ and tools/ (../shared)
set -euo pipefail
cd "$(dirname "$0")/../.."
shared=${1:-../shared}
[ -f "$shared/tools/official-train-anchor.py" ] || { echo "no $shared/tools/official-train-anchor.py" >&2; exit 1; }
[ -f .ref/models/ema.py ] || { echo "run scripts/official/fetch-reference.sh first (.ref/models/ema.py missing)" >&2; exit 1; }
bundles=(packages/trainer/dist/train.mjs packages/trainer/dist/eval.mjs packages/trainer/dist/ort-train-speed.mjs
  packages/trainer/dist/ort-io.mjs packages/trainer/dist/ort-train-open.mjs
  packages/trainer/dist/forward-backward.mjs packages/core/dist/build-dataset.mjs packages/exporter/dist/ship.mjs)
for b in "${bundles[@]}"; do [ -f "$b" ] || { echo "missing $b: run pnpm build" >&2; exit 1; }; done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/payload/dist" "$work/payload/data/sudoku" "$work/payload/ref"
cp "${bundles[@]}" "$work/payload/dist/"
cp "$shared/data/sudoku/train.csv" "$shared/data/sudoku/test.csv" "$work/payload/data/sudoku/"
cp "$shared/tools/official-train-anchor.py" "$work/payload/"
cp -r .ref/models "$work/payload/ref/"
mkdir -p .gpu-run
tar cf - -C "$work" payload | xz -6 -T2 > .gpu-run/payload.tar.xz
du -h .gpu-run/payload.tar.xz
