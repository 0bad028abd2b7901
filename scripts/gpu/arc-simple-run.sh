#!/usr/bin/env bash
# The learning demonstration of BENCHMARKS.md ("Simple ARC tasks: the pipeline learns"), in one call on the GPU
# host (or anywhere, with TRM_BACKEND=wasm TRM_EP=cpu): generate the simple ARC task folders
# (scripts/gpu/arc-simple-tasks.sh), build them on an 8x8 canvas with 7 augmented variants per task, train arc-mini
# with the WebGPU backend for TRM_TRAIN_SECONDS, export, then run solve-arc twice and score both:
#   held: tasks whose demonstration pairs were trained on, solved with the model's own rows (--no-adapt);
#   new:  tasks never seen, whose rows solve-arc fits from their demonstration pairs with the trainer's adapt.
# Everything that comes back is packed into $OUT/arc-simple-run.tar.gz.
#   carry: .gpu .gl packages/core/dist/{generate,build-dataset}.mjs packages/trainer/dist/{train,adapt}.mjs
#          packages/exporter/dist/export.mjs packages/server/dist/{solve-arc,engine-worker}.mjs
# Environment: TRM_TRAIN_SECONDS (400), TRM_BATCH (256), TRM_ADAPT_STEPS (200), TRM_SOLVE_SECONDS (170, the
# limit of the adapted solve; rerunning it resumes), TRM_BACKEND (webgpu), TRM_EP
# (webgpu), OUT (out/arc-simple-run).
set -uo pipefail
train_s=${TRM_TRAIN_SECONDS:-400}
batch=${TRM_BATCH:-256}
adapt_steps=${TRM_ADAPT_STEPS:-200}
backend=${TRM_BACKEND:-webgpu}
ep=${TRM_EP:-webgpu}
out=${OUT:-out/arc-simple-run}
run=runs/arc-simple
work=runs/arc-simple-work
mkdir -p "$out" data runs "$work"
t0=$(date +%s)
stamp() { echo "[$(( $(date +%s) - t0 )) s] $*" | tee -a "$work/timeline.txt"; }

bash scripts/gpu/arc-simple-tasks.sh data/simple > /dev/null
node packages/core/dist/build-dataset.mjs --task arc --input data/simple/train --test-tasks data/simple/held \
  --augment 7 --canvas 8 --out data/simple-c8 --force --quiet 2>&1 | tail -n 1
stamp "dataset built"
resume=()
[ -f "$run/train-state.json" ] && resume=(--resume)
timeout -s INT "$train_s" node packages/trainer/dist/train.mjs --preset arc-mini --data data/simple-c8 --out "$run" \
  --steps 100000 --batch "$batch" --eval-every 100 --eval-examples 0 --backend "$backend" "${resume[@]}" \
  > "$work/train.log" 2>&1
stamp "training stopped (exit $?)"
tr '\r' '\n' < "$work/train.log" | grep -v '^train arc-mini \[' | tail -n 12
node packages/exporter/dist/export.mjs --model "$run" --quiet 2>&1 | tail -n 1
stamp "exported"
node packages/server/dist/solve-arc.mjs --model "$run" --tasks data/simple/held --solutions data/simple/held \
  --out "$work/held/submission.json" --augment 7 --no-adapt --halt-threshold 1 --ep "$ep" --quiet > "$work/held.log" 2>&1
stamp "held tasks solved (exit $?)"
tail -n 3 "$work/held.log"
timeout -s INT "${TRM_SOLVE_SECONDS:-170}" node packages/server/dist/solve-arc.mjs --model "$run" --tasks data/simple/new --solutions data/simple/new \
  --out "$work/new/submission.json" --augment 7 --adapt-steps "$adapt_steps" --chunk 35 --halt-threshold 1 \
  --adapt-cmd "node packages/trainer/dist/adapt.mjs" --adapt-args="--backend $backend --lr 0.05" --ep "$ep" \
  --quiet > "$work/new.log" 2>&1
stamp "new tasks solved with adaptation (exit $?)"
tail -n 4 "$work/new.log"
tar czf "$out/arc-simple-run.tar.gz" "$run" "$work" data/simple-c8/README.md
stamp "packed $(du -h "$out/arc-simple-run.tar.gz" | cut -f1)"
