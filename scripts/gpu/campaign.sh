#!/usr/bin/env bash
# A training campaign of one shipped model on an offline GPU host (ONNX Runtime's CUDA provider), in phases, one per
# call of the copy tool (see README.md here, "Training campaigns"). Long work runs detached (setsid) between calls,
# so the GPU stays busy while the next call's copy arrives; every phase packs what exists so far (logs, exit codes,
# metrics.jsonl, curves.svg, evaluations) into $OUT/campaign-MODEL.tar.gz, and the latest shipped weights into
# $OUT/ship/, so that a call cut short still brings something back.
#
#   bash scripts/gpu/campaign.sh MODEL PHASE       MODEL: sudoku-hard-mlp | maze-att | arc1 (campaign-models.sh)
#
#   setup   unpack .gpu-run/campaign-MODEL.tar.xz (pack-campaign.sh); build the dataset in the background
#   part    keep the CUDA provider part of this copy (remote-setup.sh installs the provider once all are there)
#   train   wait (at most TRM_WAIT_SECONDS) for the training run in flight; then start the next one in the
#           background, stopped by SIGINT after TRM_RUN_SECONDS (the trainer saves): the first run of a host starts
#           from models/MODEL (train --init) when that folder exists, else fresh; later runs --resume. The run that
#           just ended is shipped (float16 weights) in the background meanwhile.
#   wait    wait (at most TRM_WAIT_SECONDS) for the run in flight, returning as soon as it ends (how it ended is
#           reported: a run that failed, say out of memory, is seen at once instead of after the whole wait); keeps
#           the host busy between train calls without starting anything
#   finish  wait for the run in flight (at most TRM_FINISH_WAIT_SECONDS, then stop it with SIGINT), eval it on the
#           whole test split, ship it, eval the shipped form (not for ARC: its table is cut to one row)
#   views   eval through views (eval --views TRM_VIEWS [8], --steps TRM_VIEWS_STEPS [the model's], the first
#           TRM_VIEWS_LIMIT [1024; 0 = all] test examples) of the start model (TRM_INIT) and of the last shipped run,
#           one after the other in the background; waits like `wait` (sudoku and maze only). Each setting runs once
#           per host (views-<tag>-K.json, tag v<views>-s<steps>-n<limit>); another setting starts after it
#
# Environment (defaults in brackets): TRM_RUN_SECONDS [480] length of each run; TRM_WAIT_SECONDS [540] most a train
# call waits; TRM_FINISH_WAIT_SECONDS [300]; TRM_PRECISION [fp16]; TRM_MICRO_BATCH [the recipe's; 0 = the whole
# batch]; TRM_EVAL_EVERY [250] steps between evaluations of TRM_EVAL_EXAMPLES [1000] test examples during training;
# TRM_INIT [models/MODEL; none = fresh]; TRM_TRAIN_ARGS (more train flags, split at spaces, on every run);
# TRM_PRESET, TRM_BATCH, TRM_SUBSAMPLE, TRM_AUGMENT (campaign-models.sh); TRM_BACKEND [ort-cuda];
# TRM_HOST_DIR [/opt/trm/campaign/MODEL] where the host keeps the campaign between calls.
# TRM_LOCAL=1 runs on this machine without remote-setup.sh, e.g. on the CPU:
#   TRM_LOCAL=1 TRM_BACKEND=ort-cpu TRM_PRESET=sudoku-tiny-mlp TRM_BATCH=32 TRM_MICRO_BATCH=16 TRM_PRECISION=fp32 \
#     TRM_SUBSAMPLE=200 TRM_AUGMENT=20 TRM_RUN_SECONDS=20 bash scripts/gpu/campaign.sh sudoku-hard-mlp setup
# (host folder /tmp/trm-campaign/MODEL, OUT out/campaign-MODEL).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=scripts/gpu/campaign-models.sh
source scripts/gpu/campaign-models.sh
MODEL=${1:?MODEL: one of $CAMPAIGN_MODELS}
PHASE=${2:?PHASE: setup | part | train | wait | finish | views}
campaign_recipe "$MODEL" || { echo "unknown model $MODEL (expected one of $CAMPAIGN_MODELS)" >&2; exit 2; }
LOCAL=${TRM_LOCAL:-}
BACKEND=${TRM_BACKEND:-ort-cuda}
RUN_SECONDS=${TRM_RUN_SECONDS:-480}
WAIT_SECONDS=${TRM_WAIT_SECONDS:-540}
FINISH_WAIT_SECONDS=${TRM_FINISH_WAIT_SECONDS:-300}
PRECISION=${TRM_PRECISION:-fp16}
EVAL_EVERY=${TRM_EVAL_EVERY:-250}
EVAL_EXAMPLES=${TRM_EVAL_EXAMPLES:-1000}
INIT=${TRM_INIT:-models/$MODEL}
read -ra EXTRA_ARGS <<< "${TRM_TRAIN_ARGS:-}"
if [ -n "$LOCAL" ]; then
  HOST=${TRM_HOST_DIR:-/tmp/trm-campaign/$MODEL}
  OUT=${OUT:-out/campaign-$MODEL}
  modules=$PWD/packages/exporter/node_modules # where this checkout's onnxruntime-node is
else
  HOST=${TRM_HOST_DIR:-/opt/trm/campaign/$MODEL}
  OUT=${OUT:-/tmp/trm-out}
  modules=$PWD/node_modules # remote-setup.sh unpacks onnxruntime-node (and the CUDA provider) here
fi
CUDA_LIB=$modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so
W=$HOST/work # payload, dataset, run folder, snapshots and shipped folders
O=$HOST/out  # small text only (logs, exit codes, timeline, evaluations): packed by every phase
RUN=$W/run
DATA=$W/data/$MODEL
mkdir -p "$W" "$O" "$OUT"
OUT=$(cd "$OUT" && pwd)
if [ -z "$LOCAL" ]; then
  # shellcheck source=scripts/gpu/remote-setup.sh
  source scripts/gpu/remote-setup.sh >>"$O/remote-setup.log" 2>&1
fi
t0=$SECONDS

stamp() { echo "$(date -u +%FT%TZ) [$PHASE] $*" | tee -a "$O/timeline.txt"; }

wait_for() { # file, seconds: true once the file exists; packs what exists every minute meanwhile
  local end=$((SECONDS + $2)) packed=$SECONDS
  while [ ! -f "$1" ] && [ "$SECONDS" -lt "$end" ]; do
    sleep 2
    if [ $((SECONDS - packed)) -ge 60 ]; then collect quiet; packed=$SECONDS; fi
  done
  [ -f "$1" ]
}

# Runs a command detached from this call (its own session), output into a log, exit code into a file.
in_background() { # done-file log-file command...
  local done=$1 log=$2
  shift 2
  setsid nohup bash -c "$(printf '%q ' "$@") >$(printf '%q' "$log") 2>&1; echo \$? >$(printf '%q' "$done")" \
    >/dev/null 2>&1 </dev/null &
}

# The body of one training run, detached: timeout's pid is kept so that finish can stop the run early; a model
# folder that --init refuses (another shape, or an ARC model shipped with one puzzle row) gives a fresh run instead.
run_training() { # k seconds run-dir out-dir trainer-bundle trainer-flags...
  local k=$1 seconds=$2 run=$3 o=$4 bundle=$5 code start=$SECONDS
  shift 5
  timeout -s INT "$seconds" node "$bundle" "$@" >"$o/train-$k.log" 2>&1 &
  echo $! >"$o/train-$k.pid"
  wait $!
  code=$?
  if [ "$code" -ne 0 ] && [ ! -f "$run/train-state.json" ] && grep -q -- '--init ' "$o/train-$k.log"; then
    local flags=() skip=""
    for a in "$@"; do
      if [ -n "$skip" ]; then skip=""; elif [ "$a" = --init ]; then skip=1; else flags+=("$a"); fi
    done
    local left=$((seconds - (SECONDS - start)))
    echo "campaign: --init refused (above); a fresh run instead ($left s)" >>"$o/train-$k.log"
    [ "$left" -gt 10 ] || { echo "$code" >"$o/train-$k.done"; return; }
    timeout -s INT "$left" node "$bundle" "${flags[@]}" >>"$o/train-$k.log" 2>&1 &
    echo $! >"$o/train-$k.pid"
    wait $!
    code=$?
  fi
  echo "$code" >"$o/train-$k.done"
}

runs_started() { local k=0; while [ -f "$O/train-$((k + 1)).started" ]; do k=$((k + 1)); done; echo "$k"; }

log_tail() { # log file, lines: the log without progress-bar redraws
  tr '\r' '\n' <"$1" | grep -v -e '^train [a-z0-9-]* \[' -e '^eval ' -e '^ship: ' -e '^$' | tail -n "$2"
}

progress() { # the run's last step and evaluation, from metrics.jsonl
  [ -f "$RUN/metrics.jsonl" ] || return 0
  local step ev
  step=$(grep -o '"step":[0-9]*' "$RUN/metrics.jsonl" | tail -n 1 | cut -d: -f2)
  ev=$(grep '"kind":"eval"' "$RUN/metrics.jsonl" | tail -n 1)
  echo "metrics.jsonl: step ${step:-?}; last evaluation: ${ev:-none yet}"
}

start_training() { # k
  local k=$1 mode flags rows=all
  flags=(--preset "$preset" --data "$DATA" --out "$RUN" --backend "$BACKEND" --batch "$batch"
    --precision "$PRECISION" --eval-every "$EVAL_EVERY" --eval-examples "$EVAL_EXAMPLES" --log-every 10)
  if [ "${micro_batch:-0}" -gt 0 ]; then rows=$micro_batch && flags+=(--micro-batch "$micro_batch"); fi
  if [ -f "$RUN/train-state.json" ]; then
    mode=resumed
    flags+=(--resume)
  elif [ "$INIT" != none ] && [ -f "$INIT/config.json" ]; then
    # a copy on the host: the next call's copy of the tree may replace models/ while the trainer starts
    mode="from $INIT"
    rm -rf "$W/init" && mkdir -p "$W/init" && cp -r "$INIT" "$W/init/$MODEL"
    flags+=(--init "$W/init/$MODEL")
  else
    mode=fresh
  fi
  flags+=("${EXTRA_ARGS[@]}")
  touch "$O/train-$k.started"
  setsid nohup bash -c "$(declare -f run_training); run_training $(printf '%q ' "$k" "$RUN_SECONDS" "$RUN" "$O" \
    "$W/payload/dist/train.mjs" "${flags[@]}")" >/dev/null 2>&1 </dev/null &
  stamp "run $k started ($mode): $preset, batch $batch, micro-batch $rows, $PRECISION, $BACKEND," \
    "$RUN_SECONDS s"
}

report_run() { # k: how run k ended
  local code
  code=$(cat "$O/train-$1.done")
  stamp "run $1 ended (exit $code: $(case $code in 0) echo "all steps done" ;; 124 | 130) echo "stopped and saved" ;;
    *) echo "failed" ;; esac))"
  grep -h '^campaign: ' "$O/train-$1.log"
  log_tail "$O/train-$1.log" 3
}

run_succeeded() { # k: true when run k ended with all its steps or stopped and saved
  case $(cat "$O/train-$1.done") in 0 | 124 | 130) return 0 ;; *) return 1 ;; esac
}

# Waits up to WAIT_SECONDS for run k to end; while it still goes on, says so, packs what exists and ends the call.
wait_or_leave() { # k
  [ -f "$O/train-$1.done" ] && return 0
  stamp "waiting for run $1 (at most $WAIT_SECONDS s)"
  wait_for "$O/train-$1.done" "$WAIT_SECONDS" && return 0
  echo "run $1 still going"
  log_tail "$O/train-$1.log" 2
  progress
  collect
  exit 0
}

ship_run() { # k source-folder: its shipped form in $W/ship-k (float16 weights, one puzzle row, model.onnx)
  node "$W/payload/dist/ship.mjs" --model "$2" --out "$W/ship-$1" --force --quiet >"$O/ship-$1.log" 2>&1
  echo $? >"$O/ship-$1.done"
}

# Everything small so far as one archive, and the newest shipped form without model.onnx (a copy back carries at
# most 8 files of at most 16 MiB: weights over 15 MiB travel in parts, `cat weights.safetensors.part-*` joins them).
collect() { # [quiet]
  mkdir -p "$O/run"
  local f k best=0
  for f in metrics.jsonl curves.svg README.md config.json; do [ -f "$RUN/$f" ] && cp "$RUN/$f" "$O/run/"; done
  tar czf "$OUT/campaign-$MODEL.tar.gz" --warning=no-file-changed -C "$O" . # logs may grow meanwhile
  for f in "$O"/ship-*.done; do
    [ "$(cat "$f" 2>/dev/null)" = 0 ] || continue
    k=${f##*/ship-}
    k=${k%.done}
    [ "$k" -gt "$best" ] && best=$k
  done
  [ "$best" -gt 0 ] || return 0
  mkdir -p "$OUT/ship"
  for f in "$W/ship-$best"/*; do
    case ${f##*/} in
    model.onnx) ;;
    weights.safetensors)
      if [ "$(stat -c %s "$f")" -gt $((15 * 1024 * 1024)) ]; then
        split -b 15M "$f" "$OUT/ship/weights.safetensors.part-"
      else
        cp "$f" "$OUT/ship/"
      fi
      ;;
    *) cp "$f" "$OUT/ship/" ;;
    esac
  done
  echo "$best" >"$O/shipped-run.txt"
  for f in "$W"/ship-* "$W"/snapshot-*; do
    k=${f##*-}
    case $k in '' | *[!0-9]*) continue ;; esac
    [ "$k" -lt "$best" ] && rm -rf "$f"
  done
  [ -n "${1:-}" ] || echo "shipped form of run $best in \$OUT/ship: $(cd "$OUT/ship" && echo *)"
}

collect quiet # something comes back even if this call is cut short
case $PHASE in
setup)
  stamp "setup of $MODEL on $(uname -n)"
  [ -f ".gpu-run/campaign-$MODEL.tar.xz" ] ||
    { echo "no .gpu-run/campaign-$MODEL.tar.xz: run pack-campaign.sh and carry it" >&2; exit 1; }
  rm -rf "$W/payload" && xz -dc ".gpu-run/campaign-$MODEL.tar.xz" | tar xf - -C "$W"
  # The bundles keep onnxruntime-node external: let them find it from the payload.
  ln -sfn "$modules" "$W/node_modules"
  echo "payload of $(cat "$W/payload/commit.txt")"
  if [ "$(cat "$O/dataset.done" 2>/dev/null)" = 0 ]; then
    echo "dataset already built: $DATA"
  elif [ -f "$O/dataset.started" ] && [ ! -f "$O/dataset.done" ]; then
    echo "dataset still being built"
  else
    rm -f "$O/dataset.done"
    touch "$O/dataset.started"
    in_background "$O/dataset.done" "$O/build-dataset.log" node "$W/payload/dist/build-dataset.mjs" --task "$task" \
      --input "$W/payload/data/$input" --out "$DATA" "${build[@]}" --seed 0 --force --quiet
    stamp "dataset build started: --task $task ${build[*]} --seed 0"
  fi
  if [ -z "$LOCAL" ]; then
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$O/gpu.txt"
  else
    echo "local: $(node --version), $(nproc) cores" | tee "$O/gpu.txt"
  fi
  collect
  ;;
part)
  if [ -f "$CUDA_LIB" ]; then echo "CUDA provider installed"; else echo "CUDA provider parts so far:" /opt/trm/cuda/*; fi
  collect
  ;;
train)
  n=$(runs_started)
  if [ "$n" -gt 0 ]; then
    wait_or_leave "$n"
    report_run "$n"
    if ! run_succeeded "$n" && [ ! -f "$O/train-$n.reported" ]; then
      # once: the next train call starts a new run (e.g. with another TRM_MICRO_BATCH)
      touch "$O/train-$n.reported"
      collect
      exit 1
    fi
    # The run's model folder as it is now, shipped below while the next run trains.
    rm -rf "$W/snapshot" && mkdir -p "$W/snapshot"
    find "$RUN" -maxdepth 1 -type f ! -name 'train-state*' -exec cp {} "$W/snapshot/" \;
  fi
  if ! wait_for "$O/dataset.done" $((WAIT_SECONDS - (SECONDS - t0))); then
    echo "the dataset is still being built"
    collect
    exit 0
  fi
  [ "$(cat "$O/dataset.done")" = 0 ] || { echo "the dataset build failed:"; tail -n 5 "$O/build-dataset.log"; collect; exit 1; }
  if [ "$BACKEND" = ort-cuda ]; then
    [ -f "$CUDA_LIB" ] || { echo "the CUDA provider is not installed (parts missing?)"; ls -la /opt/trm/cuda; collect; exit 1; }
  fi
  start_training $((n + 1))
  if [ "$n" -gt 0 ] && [ -f "$W/snapshot/weights.safetensors" ]; then
    rm -rf "$W/snapshot-$n" && mv "$W/snapshot" "$W/snapshot-$n"
    in_background "$O/ship-$n.done" "$O/ship-$n.log" node "$W/payload/dist/ship.mjs" --model "$W/snapshot-$n" \
      --out "$W/ship-$n" --force --quiet
  fi
  progress
  collect
  ;;
wait)
  n=$(runs_started)
  [ "$n" -gt 0 ] || { echo "no training run on this host"; collect; exit 1; }
  wait_or_leave "$n"
  report_run "$n"
  progress
  collect
  run_succeeded "$n"
  ;;
finish)
  n=$(runs_started)
  [ "$n" -gt 0 ] || { echo "no training run on this host"; collect; exit 1; }
  if [ ! -f "$O/train-$n.done" ]; then
    stamp "waiting for run $n (at most $FINISH_WAIT_SECONDS s)"
    if ! wait_for "$O/train-$n.done" "$FINISH_WAIT_SECONDS"; then
      stamp "stopping run $n (SIGINT: the trainer saves)"
      kill -INT "$(cat "$O/train-$n.pid")"
      wait_for "$O/train-$n.done" 180 || { echo "run $n did not stop"; collect; exit 1; }
    fi
  fi
  report_run "$n"
  [ -f "$RUN/weights.safetensors" ] || { echo "no weights in $RUN"; collect; exit 1; }
  progress
  stamp "eval of the run on the whole test split"
  node "$W/payload/dist/eval.mjs" --model "$RUN" --data "$DATA" --split test --limit 0 --backend "$BACKEND" \
    --json "$O/eval-run.json" >"$O/eval-run.log" 2>&1
  log_tail "$O/eval-run.log" 4
  stamp "ship"
  ship_run "$n" "$RUN"
  log_tail "$O/ship-$n.log" 2
  if [ "$(cat "$O/ship-$n.done")" = 0 ] && [ "$task" != arc1 ]; then
    stamp "eval of the shipped form on the whole test split"
    node "$W/payload/dist/eval.mjs" --model "$W/ship-$n" --data "$DATA" --split test --limit 0 --backend "$BACKEND" \
      --json "$O/eval-ship.json" >"$O/eval-ship.log" 2>&1
    log_tail "$O/eval-ship.log" 4
  fi
  stamp "finished"
  collect
  ;;
views)
  # One background job per setting (its tag: views, steps and limit) evaluates the models in turn; a later call with
  # the same setting only waits for it and reports, one with another setting starts the next once it is done.
  tag="v${TRM_VIEWS:-8}-s${TRM_VIEWS_STEPS:-model}-n${TRM_VIEWS_LIMIT:-1024}"
  if [ ! -f "$O/views-$tag.started" ]; then
    for f in "$O"/views-*.started; do
      [ -f "$f" ] || continue
      other=${f%.started}
      [ -f "$other.done" ] && continue
      stamp "waiting for ${other##*/} before $tag (at most $WAIT_SECONDS s)"
      wait_for "$other.done" "$WAIT_SECONDS" || { echo "${other##*/} still going"; collect; exit 0; }
    done
    models=()
    [ "$INIT" != none ] && [ -f "$INIT/config.json" ] && models+=("$INIT")
    k=$(cat "$O/shipped-run.txt" 2>/dev/null)
    [ -n "$k" ] && [ -f "$W/ship-$k/config.json" ] && models+=("$W/ship-$k")
    [ "${#models[@]}" -gt 0 ] || { echo "no model to evaluate (no TRM_INIT folder, no shipped run)"; collect; exit 1; }
    [ -d "$DATA/test" ] || { echo "no dataset at $DATA (run setup first)"; collect; exit 1; }
    vflags=(--data "$DATA" --split test --limit "${TRM_VIEWS_LIMIT:-1024}" --views "${TRM_VIEWS:-8}"
      --backend "$BACKEND" ${TRM_VIEWS_STEPS:+--steps "$TRM_VIEWS_STEPS"})
    script=""
    for i in "${!models[@]}"; do
      script+="node $(printf '%q ' "$W/payload/dist/eval.mjs" --model "${models[$i]}" "${vflags[@]}" \
        --json "$O/views-$tag-$i.json") >$O/views-$tag-$i.log 2>&1; "
      echo "${models[$i]}" >"$O/views-$tag-$i.model"
    done
    touch "$O/views-$tag.started"
    in_background "$O/views-$tag.done" "$O/views-$tag.txt" bash -c "$script"
    stamp "views $tag: ${models[*]} with ${vflags[*]}"
  fi
  stamp "waiting for views $tag (at most $WAIT_SECONDS s)"
  wait_for "$O/views-$tag.done" "$WAIT_SECONDS" || echo "views $tag still going"
  for f in "$O"/views-*-[0-9]*.log; do
    [ -f "$f" ] && echo "${f##*/}: $(cat "${f%.log}.model")" && log_tail "$f" 3
  done
  collect
  ;;
*)
  echo "unknown phase $PHASE (setup | part | train | wait | finish | views)" >&2
  exit 2
  ;;
esac
