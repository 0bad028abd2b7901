#!/usr/bin/env bash
# Trains the two ARC models of BENCHMARKS.md ("ARC on the H200") side by side on one GPU with the WebGPU backend,
# from the bundles (`pnpm build`), and copies the runs to $OUT:
#   simple: arc-small on generated simple ARC tasks (scripts/gpu/arc-simple-tasks.sh makes the task folders),
#           evaluated during training on the test pairs of held tasks whose demonstrations it trains on;
#   arc1:   arc-small on ARC-AGI-1 training + evaluation + ConceptARC (the paper's arc1 build, evaluation test
#           pairs held out), --augment 7.
# Each training is stopped by SIGINT after TRM_TRAIN_SECONDS (the trainer saves on interrupt); --resume continues
# a run that was carried back in runs/.
#   on the GPU host:  source scripts/gpu/remote-setup.sh && bash scripts/gpu/arc-train.sh
#   carry: .gpu .gl .gpu-data packages/core/dist/{generate,build-dataset}.mjs packages/trainer/dist/train.mjs
# Environment: TRM_TRAIN_SECONDS (480), TRM_BACKEND (webgpu), TRM_BATCH (the preset's), TRM_ARC_DATA (.gpu-data,
# the folder holding arc-agi-1/ and conceptarc/), TRM_ONLY (simple|arc1|both), TRM_AUGMENT (7), OUT (out/arc-train).
set -euo pipefail
seconds=${TRM_TRAIN_SECONDS:-480}
backend=${TRM_BACKEND:-webgpu}
arc_data=${TRM_ARC_DATA:-.gpu-data}
only=${TRM_ONLY:-both}
augment=${TRM_AUGMENT:-7}
out=${OUT:-out/arc-train}
batch=()
[ -n "${TRM_BATCH:-}" ] && batch=(--batch "$TRM_BATCH")
mkdir -p "$out" data runs
core=packages/core/dist
t0=$(date +%s)

bash scripts/gpu/arc-simple-tasks.sh data/simple
node $core/build-dataset.mjs --task arc --input data/simple/train --test-tasks data/simple/held --augment "$augment" \
  --out data/simple-ds --force --quiet
[ "$only" = simple ] || node $core/build-dataset.mjs --task arc1 --input "$arc_data" --augment "$augment" \
  --out data/arc1-ds --force --quiet
echo "data ready in $(( $(date +%s) - t0 )) s"

train() { # name dataset extra-flags...
  local name=$1 data=$2; shift 2
  local resume=()
  [ -f "runs/$name/train-state.json" ] && resume=(--resume)
  timeout -s INT "$seconds" node packages/trainer/dist/train.mjs --preset arc-small --data "$data" --out "runs/$name" \
    --steps 100000 --backend "$backend" --log-every 10 "${batch[@]}" "${resume[@]}" "$@" \
    > "$out/$name-train.log" 2>&1 || echo "$name: train exited with $?" >> "$out/$name-train.log"
}
pids=()
if [ "$only" != arc1 ]; then train simple data/simple-ds --eval-every 100 --eval-examples 0 & pids+=($!); fi
if [ "$only" != simple ]; then train arc1 data/arc1-ds --eval-every 0 & pids+=($!); fi
wait "${pids[@]}"
echo "trained in $(( $(date +%s) - t0 )) s"
for name in simple arc1; do
  [ -d "runs/$name" ] || continue
  mkdir -p "$out/runs/$name"
  cp -r runs/$name/. "$out/runs/$name/"
  tail -c 2000 "$out/$name-train.log" | tr '\r' '\n' | tail -n 6
done
cp data/simple-ds/README.md "$out/simple-ds-README.md" 2>/dev/null || true
cp data/arc1-ds/README.md "$out/arc1-ds-README.md" 2>/dev/null || true
