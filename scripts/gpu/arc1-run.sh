#!/usr/bin/env bash
# The recorded ARC-AGI-1 run of BENCHMARKS.md ("ARC-AGI-1 evaluation"), in one call on the GPU host: build the
# arc1 dataset (ARC-AGI-1 training + evaluation + ConceptARC; the evaluation tasks' demonstration pairs are trained
# on, their test pairs are held out, as the reference does), train arc-small with the WebGPU backend for
# TRM_TRAIN_SECONDS, export the EMA weights to ONNX, and run solve-arc over the 400 evaluation tasks with the
# model's own puzzle rows (no adaptation needed: every evaluation task has a row), scored against their solutions.
# Everything that comes back is packed into $OUT/arc1-run.tar.gz (the run folder without its optimiser state).
#   on the GPU host:  source scripts/gpu/remote-setup.sh && bash scripts/gpu/arc1-run.sh
#   carry: .gpu .gl .gpu-data packages/core/dist/build-dataset.mjs packages/trainer/dist/train.mjs
#          packages/exporter/dist/export.mjs packages/server/dist/{solve-arc,engine-worker}.mjs
# Environment: TRM_TRAIN_SECONDS (330), TRM_SOLVE_SECONDS (200), TRM_AUGMENT (0), TRM_EP (webgpu),
# TRM_ARC_DATA (.gpu-data, holding arc-agi-1/ and conceptarc/), TRM_BACKEND (webgpu), TRM_BATCH (the preset's), OUT (out/arc1-run).
set -uo pipefail
train_s=${TRM_TRAIN_SECONDS:-330}
solve_s=${TRM_SOLVE_SECONDS:-200}
augment=${TRM_AUGMENT:-0}
ep=${TRM_EP:-webgpu}
arc_data=${TRM_ARC_DATA:-.gpu-data}
backend=${TRM_BACKEND:-webgpu}
batch=()
[ -n "${TRM_BATCH:-}" ] && batch=(--batch "$TRM_BATCH")
out=${OUT:-out/arc1-run}
run=runs/arc1
work=runs/arc1-work
mkdir -p "$out" data runs "$work"
t0=$(date +%s)
stamp() { echo "[$(( $(date +%s) - t0 )) s] $*" | tee -a "$work"/timeline.txt; }

node packages/core/dist/build-dataset.mjs --task arc1 --input "$arc_data" --augment "$augment" --out data/arc1-ds \
  --force --quiet 2>&1 | tail -n 2
stamp "dataset built"
resume=()
[ -f "$run/train-state.json" ] && resume=(--resume)
timeout -s INT "$train_s" node packages/trainer/dist/train.mjs --preset arc-small --data data/arc1-ds --out "$run" \
  --steps 100000 --eval-every 0 --backend "$backend" "${batch[@]}" "${resume[@]}" > "$work"/train.log 2>&1
stamp "training stopped (exit $?)"
tr '\r' '\n' < "$work"/train.log | grep -v '^train arc-small \[' | tail -n 4
node packages/exporter/dist/export.mjs --model "$run" --quiet 2>&1 | tail -n 1
stamp "exported"
solve_until=$(( $(date +%s) + solve_s ))
solve() { # extra flags...; stops at the deadline (resumable: a rerun continues)
  timeout -s INT $(( solve_until - $(date +%s) )) node packages/server/dist/solve-arc.mjs --model "$run" \
    --tasks "$arc_data/arc-agi-1/evaluation" --solutions "$arc_data/arc-agi-1/evaluation" \
    --out "$work/submission.json" --augment "$augment" --no-adapt --halt-threshold 1 "$@" >> "$work/solve.log" 2>&1
}
solve --ep "$ep"
code=$?
if [ $code -ne 0 ] && [ $code -ne 124 ]; then
  stamp "solve-arc on $ep exited with $code; continuing on cpu"
  solve --ep cpu --workers 4
  code=$?
fi
stamp "solve-arc stopped (exit $code)"
tr '\r' '\n' < "$work"/solve.log | grep -v '^solve-arc \[' | tail -n 8
cp "$work"/train.log "$work"/solve.log "$run/" 2>/dev/null
tar czf "$out/arc1-run.tar.gz" --exclude='train-state*' "$run" "$work" data/arc1-ds/README.md
stamp "packed $(du -h "$out/arc1-run.tar.gz" | cut -f1)"
