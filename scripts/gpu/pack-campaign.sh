#!/usr/bin/env bash
# Packs what a training campaign of one model (campaign.sh) needs on a GPU host besides `.gpu` (Node,
# onnxruntime-node) and the CUDA provider parts, all from prepare.sh: the command bundles it runs and the model's
# raw data from the shared folder (or, for a model of generated puzzles, the generator's files, made here), into one archive `.gpu-run/campaign-MODEL.tar.xz` (ignored by git). The dataset
# itself is built on the host (campaign.sh setup), from the same files with the same seed. See README.md here,
# "Training campaigns".
#
#   bash scripts/gpu/pack-campaign.sh MODEL [SHARED_DIR]   # MODEL: one of CAMPAIGN_MODELS (campaign-models.sh)
#                                                          # SHARED_DIR: the folder with data/ (default ../shared)
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/gpu/campaign-models.sh
source scripts/gpu/campaign-models.sh
model=${1:?MODEL: one of $CAMPAIGN_MODELS}
shared=${2:-../shared}
campaign_recipe "$model" || { echo "unknown model $model (expected one of $CAMPAIGN_MODELS)" >&2; exit 2; }
bundles=(packages/trainer/dist/train.mjs packages/trainer/dist/eval.mjs packages/core/dist/build-dataset.mjs
  packages/exporter/dist/ship.mjs)
for b in "${bundles[@]}"; do [ -f "$b" ] || { echo "missing $b: run pnpm build (or npx tsx scripts/build.ts)" >&2; exit 1; }; done
for r in "${raw[@]}"; do [ -e "$shared/data/$r" ] || { echo "missing $shared/data/$r" >&2; exit 1; }; done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/payload/dist" "$work/payload/data"
cp "${bundles[@]}" "$work/payload/dist/"
[ "${#raw[@]}" -eq 0 ] || (cd "$shared/data" && cp -r --parents "${raw[@]}" "$work/payload/data/")
for g in "${generate[@]}"; do
  read -ra args <<< "$g"
  # the last two arguments are --out FILE: relative to the payload's data/
  n=${#args[@]}
  file=$work/payload/data/${args[n - 1]}
  mkdir -p "$(dirname "$file")"
  node packages/core/dist/generate.mjs "${args[@]:0:n-1}" "$file" --quiet
done
# The copy of the shared folder is read-only; the archive's files need not be.
chmod -R u+w "$work/payload"
echo "$(git describe --always --dirty --abbrev=12) (packed $(date -u +%FT%TZ))" > "$work/payload/commit.txt"
mkdir -p .gpu-run
tar cf - -C "$work" payload | xz -6 -T2 > ".gpu-run/campaign-$model.tar.xz"
echo "packed .gpu-run/campaign-$model.tar.xz ($(du -h ".gpu-run/campaign-$model.tar.xz" | cut -f1)):" \
  "${bundles[*]##*/}; data: ${raw[*]}${generate[*]:+ generated: ${generate[*]}}"
