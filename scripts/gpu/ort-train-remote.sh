#!/usr/bin/env bash
# The ONNX Runtime training run on an offline GPU host, in phases, one per call of the copy tool (see README.md
# here, "Training on ONNX Runtime"). Long work runs in the background (setsid) between calls, so that the GPU stays
# busy while the next call's copy arrives; every phase copies what exists so far under $OUT.
#
#   setup   unpack Node, onnxruntime-node and .gpu-run/payload.tar.xz; in the background: build the sudoku
#           dataset (1,000 puzzles x 1,000 augmentations), then the official PyTorch code's speed (bench mode),
#           then one step of the tfjs webgpu backend (forward-backward bench), one after the other on the GPU
#   part    keep the CUDA provider part of this copy (installed once all parts are there)
#   bench   wait for those, run ort-train-speed on the CUDA provider: sudoku-mlp at batch 768 in fp32 and fp16
#           (whole and in micro-batches), then the other cases in the faster form; start training run 1 in it
#           (in the background: this phase and the next `train` calls wait for it)
#   train   wait for the training run in flight; start the next one (--resume) until TRM_RUNS runs are done
#   profile (after the parts; no training in flight) op forms of the training graph against the default
#           (ort-train-speed --no-grad-form, --swiglu, --mlp-t, --norm, --silu, --pad; TRM_FORMS lists them), then
#           ONNX Runtime's profile with CUDA_LAUNCH_BLOCKING=1 (each op type's and shape's time on the GPU) of the
#           fastest form and of the default one; TRM_PROFILE_CASE (default sudoku-mlp:768), TRM_PRECISION (fp16)
#   io      (after the parts) the host transfers apart from the graph (ort-io), and the training step with fresh
#           against reused output buffers and a float32 against a float16 carry (--outputs new,reused --carry)
#   lanes   (after the parts) the training step on 1 or 2 sessions per device and 8 or 16 optimiser threads
#   multi   (after the parts) the training step with k optimiser steps per graph run (TRM_MULTI_K)
#   official the official code's training speed alone, in the foreground (TRM_OFFICIAL_CONFIGS)
#   forms-train  (after profile and a setup that built the dataset) the default forms against the fastest in
#           training, TRM_FORM_SECONDS (90) each from the same seed: their loss curves, to show they agree
#
# Environment: TRM_RUN_SECONDS (length of each training run, default 400), TRM_RUNS (runs, default 3),
# TRM_WAIT_SECONDS (most a phase waits, default 540), TRM_MLP_CASES (sudoku-mlp forms timed in fp32 and fp16),
# TRM_BENCH_CASES (after sudoku-mlp, in the faster precision; none: skip), TRM_OFFICIAL_CONFIGS,
# TRM_EVAL_EVERY (steps between evaluations, default 250), TRM_TRAIN_ARGS (flags of a new run, default
# --warmup 200), TRM_TFJS_WEBGPU=0 skips the tfjs webgpu step, TRM_BACKEND/TRM_PRESET/TRM_OPTIM_CASE/
# TRM_BENCH_STEPS (a dry run of the phases on a CPU: ort-cpu and a small preset); TRM_NO_TRAIN=1 stops after the benches; TRM_BENCH_ONLY=1 runs neither the official bench nor
# training (ort-train-speed alone); TRM_SKIP_SPEED=1 (on setup and bench) skips every speed measurement and starts
# training run 1 as soon as the provider is in, in TRM_PRECISION (fp16) with TRM_MICRO_BATCH (768) rows per run
# (with TRM_TFJS_WEBGPU=1 the tfjs webgpu step still runs during setup, before training starts).
set -uo pipefail
cd "$(dirname "$0")/../.."
phase=${1:?phase: setup | part | bench | train | profile | forms-train | io | lanes | multi | official}
W=/opt/trm/work
O=/opt/trm/out
OUT=${OUT:-/tmp/trm-out}
mkdir -p "$W" "$O" "$OUT"
# shellcheck disable=SC1091
source scripts/gpu/remote-setup.sh >/dev/null
RUN_SECONDS=${TRM_RUN_SECONDS:-400}
WAIT_SECONDS=${TRM_WAIT_SECONDS:-540}
# The official code's recorded short runs use a 200-step warm-up (../shared/tools/README.md): the same here, so
# that the curves compare at equal steps. Flags for a new run only (a resumed one keeps its own).
TRAIN_ARGS=${TRM_TRAIN_ARGS:---warmup 200}
RUNS=${TRM_RUNS:-3}
EVAL_EVERY=${TRM_EVAL_EVERY:-250}
BACKEND=${TRM_BACKEND:-ort-cuda}
PRESET=${TRM_PRESET:-sudoku-mlp}
RUN_DIR=$W/runs/$PRESET-ort
DATA=$W/data/sudoku-1k-aug1k

# Everything small so far, as one archive (a copy back carries at most 8 files of 16 MiB).
collect() {
  mkdir -p "$O/run"
  cp "$RUN_DIR"/{metrics.jsonl,curves.svg,README.md,config.json} "$O/run/" 2>/dev/null
  # the shipped weights come back on their own ($OUT/ship); model.onnx stays (20 MB for sudoku-mlp)
  tar czf "$OUT/results.tar.gz" --exclude=./ship -C "$O" . 2>/dev/null
  true
}

# On the CUDA backend, stop unless the provider is in (remote-setup.sh installs it once every part has arrived).
need_provider() {
  local lib=node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so
  [ "$BACKEND" != ort-cuda ] || [ -f "$lib" ] ||
    { echo "the CUDA provider is not installed (parts missing?)"; ls -la /opt/trm/cuda; exit 1; }
}

wait_for() { # file, seconds
  local t=0
  while [ ! -f "$1" ] && [ "$t" -lt "$2" ]; do sleep 5; t=$((t + 5)); done
  [ -f "$1" ]
}

start_training() { # run number
  local k=$1 resume=""
  [ -f "$RUN_DIR/train-state.json" ] && resume="--resume"
  local micro precision
  micro=$(cat "$O/micro-batch.txt" 2>/dev/null || echo 384)
  precision=$(cat "$O/precision.txt" 2>/dev/null || echo fp32)
  local place
  place=$(cat "$O/optimizer-on.txt" 2>/dev/null || echo host)
  setsid nohup bash -c "timeout -s INT $RUN_SECONDS node $W/payload/dist/train.mjs --preset $PRESET \
    --data $DATA --backend $BACKEND --micro-batch $micro --precision $precision --optimizer-on $place --eval-every $EVAL_EVERY \
    --eval-examples 1000 --log-every 10 --out $RUN_DIR ${resume:-$TRAIN_ARGS} > $O/train-$k.log 2>&1; \
    echo \$? > $O/train-$k.done" \
    >/dev/null 2>&1 &
  echo "training run $k started ($precision, micro-batch $micro, optimiser on the $place, $RUN_SECONDS s${resume:+, resumed})"
}

case $phase in
setup)
  rm -rf "$W/payload" && xz -dc .gpu-run/payload.tar.xz | tar xf - -C "$W"
  # The bundles keep onnxruntime-node external: let them find the one remote-setup.sh unpacked here.
  ln -sfn "$PWD/node_modules" "$W/node_modules"
  if [ -n "${TRM_BENCH_ONLY:-}" ]; then echo 0 > "$O/official.done"; echo "setup done (bench only)"; exit 0; fi
  # TRM_SKIP_SPEED=1: no official bench, no tfjs step (the training run starts as soon as the provider is in)
  [ -z "${TRM_SKIP_SPEED:-}" ] || echo 0 > "$O/official.done"
  setsid nohup bash -c "node $W/payload/dist/build-dataset.mjs --task sudoku --input $W/payload/data/sudoku \
    --out $DATA --subsample 1000 --augment 1000 --seed 0 --force --quiet > $O/build-dataset.log 2>&1; \
    echo \$? > $O/dataset.done" >/dev/null 2>&1 &
  # Under TRM_SKIP_SPEED the tfjs webgpu step still runs when TRM_TFJS_WEBGPU=1 (while the CUDA parts arrive, the GPU
  # is idle; training waits for the parts).
  official=1 tfjs=${TRM_TFJS_WEBGPU:-1}
  [ -z "${TRM_SKIP_SPEED:-}" ] || { official=0; tfjs=${TRM_TFJS_WEBGPU:-0}; }
  [ "$official$tfjs" = 00 ] || setsid nohup bash -c "
    if [ $official = 1 ]; then
      cd $W/payload && PYTHONUNBUFFERED=1 timeout 600 python3 official-train-anchor.py --trm $W/payload/ref --mode bench \
        --data $W/payload/data/sudoku --out $O/official \
        --bench_configs ${TRM_OFFICIAL_CONFIGS:-sudoku-mlp:768:1,sudoku-mlp:768:0,sudoku-att:768:1,maze-att:64:1} \
        --bench_steps 10 --bench_warmup 3 > $O/official-bench.log 2>&1
      echo \$? > $O/official.exit
    fi
    # Once its result line is there the step is measured: stop it rather than wait for the process to end.
    if [ $tfjs = 1 ]; then
      timeout 240 node $W/payload/dist/forward-backward.mjs --preset sudoku-mlp --batch 128 \
        --backend webgpu --iters 3 > $O/tfjs-webgpu.log 2>&1 &
      p=\$!
      while kill -0 \$p 2>/dev/null && ! grep -q tensors_live $O/tfjs-webgpu.log; do sleep 2; done
      kill \$p 2>/dev/null
    fi
    echo 0 > $O/official.done" >/dev/null 2>&1 &
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$O/gpu.txt"
  echo "setup done; dataset build and official bench running in the background"
  ;;
part)
  ls /opt/trm/cuda
  tail -4 "$O/tfjs-webgpu.log" 2>/dev/null
  ;;
bench)
  need_provider
  # The benches outlast one call: they run in the background; this call and the next `train` ones wait.
  setsid nohup bash "$0" bench-work >"$O/bench-work.log" 2>&1 &
  wait_for "$O/bench.done" "$WAIT_SECONDS" || echo "benches still running after $WAIT_SECONDS s"
  cat "$O/bench-work.log"
  collect
  ;;
bench-work)
  if [ -n "${TRM_SKIP_SPEED:-}" ]; then
    # the forms measured on an H100 (BENCHMARKS.md): fp16, the whole batch of 768 per run, optimiser on the host
    echo "${TRM_PRECISION:-fp16}" >"$O/precision.txt"
    echo "${TRM_MICRO_BATCH:-768}" >"$O/micro-batch.txt"
    echo "${TRM_OPTIMIZER_ON:-host}" >"$O/optimizer-on.txt"
    wait_for "$O/dataset.done" 300 || echo "the dataset is still being built"
    start_training 1
    touch "$O/bench.done"
    exit 0
  fi
  wait_for "$O/official.done" 900 || echo "official bench still running after 900 s"
  tail -5 "$O/official-bench.log"
  tail -4 "$O/tfjs-webgpu.log" 2>/dev/null
  bench() { # json file, precisions, cases[, optimiser places]
    node "$W/payload/dist/ort-train-speed.mjs" --backend "$BACKEND" --steps "${TRM_BENCH_STEPS:-6}" --warmup 2 --json "$O/$1" \
      --precision "$2" --cases "$3" --optimizer-on "${4:-host}" 2>&1 | grep -v '^  ' | tee -a "$O/ort-bench.log"
  }
  bench ort-bench-mlp.json fp32,fp16 "${TRM_MLP_CASES:-sudoku-mlp:768/384,sudoku-mlp:768}"
  # the fastest sudoku-mlp form at batch 768 (precision, micro-batch) trains and runs the other cases
  node -e "
    const fs = require('fs');
    const r = require('$O/ort-bench-mlp.json').rows.filter((x) => x.ok);
    r.sort((a, b) => b.samples_per_s - a.samples_per_s);
    fs.writeFileSync('$O/micro-batch.txt', String(r.length ? (r[0].micro_batch ?? r[0].batch) : 256));
    fs.writeFileSync('$O/precision.txt', r.length ? r[0].precision : 'fp32');"
  # the optimiser as a graph on the GPU against the host optimiser, in the form that trains
  bench ort-bench-optim.json "$(cat "$O/precision.txt")" "${TRM_OPTIM_CASE:-sudoku-mlp:768}/$(cat "$O/micro-batch.txt")" device
  # the optimiser trains where it was faster
  node -e "
    const fs = require('fs');
    const best = (f) => Math.max(0, ...require(f).rows.filter((x) => x.ok).map((x) => x.samples_per_s));
    const device = fs.existsSync('$O/ort-bench-optim.json') ? best('$O/ort-bench-optim.json') : 0;
    fs.writeFileSync('$O/optimizer-on.txt', device > best('$O/ort-bench-mlp.json') ? 'device' : 'host');" || true
  rest=${TRM_BENCH_CASES:-sudoku-att:768/384,maze-att:64/32,maze-att:64}
  [ "$rest" = none ] || bench ort-bench-rest.json "$(cat "$O/precision.txt")" "$rest"
  if [ -z "${TRM_BENCH_ONLY:-}" ] && [ -z "${TRM_NO_TRAIN:-}" ]; then
    wait_for "$O/dataset.done" 120 || echo "the dataset is still being built"
    start_training 1
  fi
  touch "$O/bench.done"
  ;;
train)
  if [ ! -f "$O/bench.done" ]; then
    wait_for "$O/bench.done" "$WAIT_SECONDS" || { echo "benches still running"; tail -3 "$O/bench-work.log"; collect; exit 0; }
    cat "$O/bench-work.log"
  fi
  k=1
  while [ -f "$O/train-$k.done" ]; do k=$((k + 1)); done
  if [ "$k" -gt "$RUNS" ] || [ ! -f "$O/train-$k.log" ]; then echo "no run in flight ($((k - 1)) done)"; collect; exit 0; fi
  # one budget of TRM_WAIT_SECONDS for the whole phase (SECONDS counts from the script's start)
  wait_for "$O/train-$k.done" $((WAIT_SECONDS - SECONDS > 0 ? WAIT_SECONDS - SECONDS : 0)) || { echo "run $k still going"; tail -2 "$O/train-$k.log"; collect; exit 0; }
  tail -3 "$O/train-$k.log"
  # The weights come back as the shipped form (float16, 10 MB for sudoku-mlp; model.onnx is rebuilt from them),
  # so that a later host can go on with `train --init`.
  node "$W/payload/dist/ship.mjs" --model "$RUN_DIR" --out "$O/ship" --force --quiet >"$O/ship.log" 2>&1 &&
    mkdir -p "$OUT/ship" && cp "$O/ship"/{weights.safetensors,config.json,identifiers.json,README.md} "$OUT/ship/"
  if [ "$k" -lt "$RUNS" ]; then
    start_training $((k + 1))
  else
    echo "all $RUNS runs done"
  fi
  collect
  ;;
profile)
  need_provider
  speed() { # json file, extra flags...
    local json=$1
    shift
    node "$W/payload/dist/ort-train-speed.mjs" --backend "$BACKEND" --precision "${TRM_PRECISION:-fp16}" \
      --cases "${TRM_PROFILE_CASE:-sudoku-mlp:768}" --json "$O/$json" "$@" 2>&1 |
      grep -v '^  ' | tee -a "$O/profile.log"
  }
  # Op forms of the training graph (no-grad swiglu mlp_t norm silu pad), one per line: the former default, the
  # current one, then one change from it each.
  ladder=${TRM_FORMS:-"differentiable fused broadcast decomposed decomposed none
inference split broadcast decomposed op none
inference split broadcast decomposed op align8"}
  k=0
  while read -r form swiglu mlpt norm silu pad; do
    k=$((k + 1))
    speed "ort-form-$k.json" --steps "${TRM_BENCH_STEPS:-5}" --warmup 2 --no-grad-form "$form" --swiglu "$swiglu" \
      --mlp-t "$mlpt" --norm "$norm" --silu "$silu" --pad "$pad"
  done <<<"$ladder"
  # the fastest form, profiled beside the default one (per-op GPU time: launches wait for their kernels)
  best=$(node -e "
    const fs = require('fs');
    const r = fs.readdirSync('$O').filter((f) => /^ort-form-[0-9]+[.]json$/.test(f))
      .flatMap((f) => require('$O/' + f).rows).filter((x) => x.ok);
    r.sort((a, b) => b.samples_per_s - a.samples_per_s);
    const b = r[0];
    console.log(b.no_grad_form, b.ops.swiglu, b.ops.mlpT, b.ops.norm, b.ops.silu, b.ops.mlpTPad);")
  read -r form swiglu mlpt norm silu pad <<<"$best"
  echo "fastest form: no-grad=$form,swiglu=$swiglu,mlpT=$mlpt,norm=$norm,silu=$silu,mlpTPad=$pad" |
    tee "$O/best-form.txt" | tee -a "$O/profile.log"
  CUDA_LAUNCH_BLOCKING=1 speed ort-profile-best.json --profile --steps 2 --warmup 1 --top 25 \
    --no-grad-form "$form" --swiglu "$swiglu" --mlp-t "$mlpt" --norm "$norm" --silu "$silu" --pad "$pad"
  CUDA_LAUNCH_BLOCKING=1 speed ort-profile.json --profile --steps 2 --warmup 1 --top 25
  collect
  ;;
io)
  # The host transfers apart from the graph (ort-io: the carry and parameters passed through, fresh or reused
  # output buffers, float32 or float16 carry), then the training step with fresh and reused outputs and a float32
  # or float16 carry, in the default op forms (TRM_GRAPH_OPS_FLAGS adds ort-train-speed flags).
  need_provider
  node "$W/payload/dist/ort-io.mjs" --backend "$BACKEND" --preset "$PRESET" --batch "${TRM_IO_BATCH:-768}" 2>/dev/null |
    tee "$O/io.log"
  # shellcheck disable=SC2086
  node "$W/payload/dist/ort-train-speed.mjs" --backend "$BACKEND" --precision "${TRM_PRECISION:-fp16}" \
    --cases "${TRM_PROFILE_CASE:-sudoku-mlp:768}" --json "$O/ort-outputs.json" --steps "${TRM_BENCH_STEPS:-5}" \
    --warmup 2 --outputs new,reused --carry fp32,fp16 ${TRM_GRAPH_OPS_FLAGS:-} 2>&1 |
    grep -v '^  ' | tee -a "$O/io.log"
  collect
  ;;
lanes)
  # Sessions per device (lanes: one's transfers overlap another's kernels) and threads of the host optimiser, in
  # the default op forms: TRM_LANE_SPECS lists lanes:threads pairs.
  need_provider
  for spec in ${TRM_LANE_SPECS:-1:8 2:8 1:16 2:16}; do
    node "$W/payload/dist/ort-train-speed.mjs" --backend "$BACKEND" --precision "${TRM_PRECISION:-fp16}" \
      --cases "${TRM_PROFILE_CASE:-sudoku-mlp:768}" --json "$O/ort-lanes-${spec/:/-}.json" --steps "${TRM_BENCH_STEPS:-8}" \
      --warmup 2 --lanes "${spec%%:*}" --optimizer-threads "${spec##*:}" 2>&1 | grep -v '^  ' | tee -a "$O/lanes.log"
  done
  collect
  ;;
multi)
  # Optimiser steps per graph run (the training graph of k steps: the carry, weights and optimiser state stay on
  # the device between them), TRM_MULTI_K lists k (default 1 2 4 8); each line's wall time includes opening the
  # session (its graph grows with k).
  need_provider
  # how long each k's run takes to open on this provider (graph built, session created; nothing trained)
  node "$W/payload/dist/ort-train-open.mjs" --backend "$BACKEND" --preset "${TRM_PRESET:-sudoku-mlp}" \
    --precision "${TRM_PRECISION:-fp16}" --forms loop --k "$(echo "${TRM_MULTI_K:-1 2 4 8}" | tr ' ' ',')" 2>/dev/null |
    tee -a "$O/multi.log"
  for k in ${TRM_MULTI_K:-1 2 4 8}; do
    t0=$(date +%s)
    node "$W/payload/dist/ort-train-speed.mjs" --backend "$BACKEND" --precision "${TRM_PRECISION:-fp16}" \
      --cases "${TRM_PROFILE_CASE:-sudoku-mlp:768}" --json "$O/ort-multi-$k.json" --steps "${TRM_MULTI_RUNS:-3}" \
      --warmup 1 --steps-per-run "$k" 2>&1 | grep -v '^  ' | tee -a "$O/multi.log"
    echo "k=$k: $(($(date +%s) - t0)) s in all" | tee -a "$O/multi.log"
  done
  collect
  ;;
official)
  # The official code's training speed alone (foreground), TRM_OFFICIAL_CONFIGS (default sudoku-mlp compiled)
  (cd "$W/payload" && PYTHONUNBUFFERED=1 timeout 560 python3 official-train-anchor.py --trm "$W/payload/ref" \
    --mode bench --data "$W/payload/data/sudoku" --out "$O/official" \
    --bench_configs "${TRM_OFFICIAL_CONFIGS:-sudoku-mlp:768:1}" --bench_steps 10 --bench_warmup 3 \
    >"$O/official-bench.log" 2>&1)
  echo "exit $?"
  tail -8 "$O/official-bench.log"
  collect
  ;;
forms-train)
  # The default op forms against TRM_GRAPH_OPS (default: the fastest of `profile`) in training: the same seed, data
  # and steps, TRM_FORM_SECONDS (90) each, stopped by SIGINT; their loss curves come back in results.tar.gz.
  need_provider
  wait_for "$O/dataset.done" 300 || { echo "the dataset is still being built"; exit 1; }
  ops=${TRM_GRAPH_OPS:-$(sed 's/^fastest form: //' "$O/best-form.txt")}
  for v in default "$ops"; do
    name=forms-${v//[=,]/-}
    extra=()
    [ "$v" = default ] || extra=(--graph-ops "$v")
    rm -rf "$W/runs/$name"
    timeout -s INT "${TRM_FORM_SECONDS:-90}" node "$W/payload/dist/train.mjs" --preset "$PRESET" --data "$DATA" \
      --backend "$BACKEND" --eval-every 0 --log-every 5 --warmup 200 --out "$W/runs/$name" "${extra[@]}" \
      >"$O/$name.log" 2>&1
    tail -1 "$O/$name.log"
    mkdir -p "$O/$name" && cp "$W/runs/$name/metrics.jsonl" "$O/$name/" 2>/dev/null
  done
  collect
  ;;
*)
  echo "unknown phase $phase" >&2
  exit 2
  ;;
esac
