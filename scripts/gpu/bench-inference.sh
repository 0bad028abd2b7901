#!/usr/bin/env bash
# Inference benchmarks on the GPU host (after prepare.sh here and the CUDA provider parts there; README.md):
#   bash scripts/gpu/bench-inference.sh ops      op choices of the step graph on cuda, webgpu and cpu, every graph
#                                                variant loaded with full optimisation (exporter bench:ops)
#   bash scripts/gpu/bench-inference.sh engine   the server's engine on cuda and webgpu, paper-size sudoku-mlp and
#                                                maze-att, 16 steps fixed and with early halting (server bench:engine),
#                                                each with the fastest graph variant that `ops` measured
#   bash scripts/gpu/bench-inference.sh serve    the server against the official PyTorch code, back to back on this
#                                                GPU: paper-size sudoku-mlp and maze-att (random weights, fp16 graphs with the default op choices), 16
#                                                steps, the engine with 1 to 16 steps per run, a lone puzzle over
#                                                HTTP, the engine's answers against the reference loop, then the
#                                                official code eager and compiled (scripts/official/infer-bench.py,
#                                                needs .ref/ carried); everything packed into $OUT/serve-results.tgz
#   bash scripts/gpu/bench-inference.sh profile  the step graph's op types by their time on the GPU: ONNX Runtime's
#                                                profiler with CUDA_LAUNCH_BLOCKING=1 (each launch waits for its
#                                                kernel), sudoku-mlp fp16 at batch 1 and 256, maze-att at 64
# Results (JSON and logs) go to $OUT (or /tmp/trm-bench) and to /opt/trm/results, which later calls read.
# TRM_BENCH_ONLY=sudoku-mlp limits both phases to that preset; TRM_BENCH_WORKERS=2 runs the engine with 2 workers.
set -uo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=/dev/null
source scripts/gpu/remote-setup.sh
out=${OUT:-/tmp/trm-bench}
mkdir -p "$out" /opt/trm/results
X=packages/exporter/dist
S=packages/server/dist
step() { echo "== $*"; }

only=${TRM_BENCH_ONLY:-}
workers=${TRM_BENCH_WORKERS:-1}
if [ "${1:-}" = profile ]; then
  step "the step graph's time per op type on the GPU (blocking launches), sudoku-mlp and maze-att, fp16"
  CUDA_LAUNCH_BLOCKING=1 timeout 300 node $S/profile.mjs --preset sudoku-mlp --dtype fp16 --ep cuda --batch 1,256 \
    --runs 10 --top 30 --out "$out/profile-blocking-sudoku-mlp.json" 2>&1 | tee "$out/profile-blocking.log"
  [ "$only" = sudoku-mlp ] || CUDA_LAUNCH_BLOCKING=1 timeout 200 node $S/profile.mjs --preset maze-att --dtype fp16 \
    --ep cuda --batch 64 --runs 5 --top 30 --out "$out/profile-blocking-maze-att.json" 2>&1 |
    tee -a "$out/profile-blocking.log"
  exit 0
fi
if [ "${1:-}" = ops ] && [ "$only" = sudoku-mlp ]; then
  step "op choices, fp32 and fp16, sudoku-mlp"
  timeout 240 node $X/op-choice.mjs --ep cuda,webgpu --preset sudoku-mlp --dtype fp32,fp16 \
    --batch 1,64,256 --reps 5 --json "$out/ops-gpu-sudoku-mlp.json" 2>&1 | tee "$out/ops-gpu-sudoku-mlp.log"
  cp "$out/ops-gpu-sudoku-mlp.json" /opt/trm/results/ops-gpu-sudoku.json
  exit 0
fi
if [ "${1:-}" = ops ]; then
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/gpu.txt"
  step "op choices, fp32 and fp16, sudoku presets"
  timeout 240 node $X/op-choice.mjs --ep cuda,webgpu --preset sudoku-mlp,sudoku-att --dtype fp32,fp16 \
    --batch 1,64,256 --reps 5 --json "$out/ops-gpu-sudoku.json" 2>&1 | tee "$out/ops-gpu-sudoku.log"
  step "op choices, fp32 and fp16, maze-att"
  timeout 150 node $X/op-choice.mjs --ep cuda,webgpu --preset maze-att --dtype fp32,fp16 \
    --batch 1,16 --reps 3 --json "$out/ops-gpu-maze.json" 2>&1 | tee "$out/ops-gpu-maze.log"
  step "fp16-weights variants load and run"
  timeout 60 node $X/op-choice.mjs --ep cuda,webgpu --preset sudoku-mlp,sudoku-att --dtype fp16-weights \
    --batch 1 --reps 2 --json "$out/ops-gpu-fp16w.json" 2>&1 | tee "$out/ops-gpu-fp16w.log"
  step "op choices on the host's CPU"
  timeout 100 node $X/op-choice.mjs --ep cpu --preset sudoku-mlp,sudoku-att --dtype fp32 \
    --batch 1,16 --reps 3 --json "$out/ops-cpu.json" 2>&1 | tee "$out/ops-cpu.log"
  cp "$out"/ops-*.json /opt/trm/results/
  exit 0
fi

if [ "${1:-}" = engine ]; then
  # The fastest (dtype, ops) per provider and preset at the largest batch measured.
  best() {
    node -e '
      const [file, ep, preset] = process.argv.slice(1);
      const pts = require(file).points.filter((p) => p.ep === ep && p.preset === preset && !p.error);
      const maxB = Math.max(...pts.map((p) => p.batch));
      const b = pts.filter((p) => p.batch === maxB).sort((x, y) => x.msPerStep - y.msPerStep)[0];
      console.log(`--dtype ${b.dtype} --ops ${b.opsArg}`);
    ' "$1" "$2" "$3"
  }
  for ep in ${2:-cuda webgpu}; do
    args=$(best /opt/trm/results/ops-gpu-sudoku.json $ep sudoku-mlp)
    step "engine $ep sudoku-mlp $args"
    for bc in 1 64 256 1024; do
      [ "$ep" = webgpu ] && [ "$bc" = 1024 ] && continue
      # shellcheck disable=SC2086
      timeout 150 node $S/engine.mjs --preset sudoku-mlp --ep $ep $args --batch $bc --concurrency $((bc * workers)) \
        --workers "$workers" --requests $((bc < 32 ? 32 : 2 * bc * workers)) \
        --out "$out/engine-$ep-sudoku-mlp-b$bc-w$workers.json" 2>&1 |
        tee -a "$out/engine-$ep.log"
    done
    [ "$only" = sudoku-mlp ] && continue
    args=$(best /opt/trm/results/ops-gpu-maze.json $ep maze-att)
    step "engine $ep maze-att $args"
    for bc in 1 16 64; do
      # shellcheck disable=SC2086
      timeout 150 node $S/engine.mjs --preset maze-att --ep $ep $args --batch $bc --concurrency $bc \
        --requests $((bc < 16 ? 16 : 2 * bc)) --out "$out/engine-$ep-maze-att-b$bc.json" 2>&1 |
        tee -a "$out/engine-$ep.log"
    done
  done
  (cd "$out" && tar czf engine-results.tgz engine-*.json && rm -f engine-*.json)
  exit 0
fi
# serve outlasts one call of the copy tool (600 s): serve-bg starts it in the background (results under
# /opt/trm/serve-out) and waits up to TRM_WAIT_SECONDS (default 540); serve-wait waits again; both copy what is done
# to $OUT (serve-results.tgz once finished, the log so far otherwise).
# (graph-bg and graph-wait do the same for the graph phase.)
case "${1:-}" in serve-bg | serve-wait | graph-bg | graph-wait)
  phase=${1%-*}
  bg=/opt/trm/$phase-out
  if [ "${1#*-}" = bg ]; then
    rm -rf "$bg" && mkdir -p "$bg"
    OUT=$bg setsid nohup bash "$0" "$phase" >"$bg/$phase.log" 2>&1 &
  fi
  t=0
  while [ ! -f "$bg/$phase-results.tgz" ] && [ "$t" -lt "${TRM_WAIT_SECONDS:-540}" ]; do sleep 5; t=$((t + 5)); done
  cp "$bg/$phase.log" "$out/" 2>/dev/null
  if [ -f "$bg/$phase-results.tgz" ]; then sleep 2; cp "$bg/$phase-results.tgz" "$out/" && echo "$phase done"; else
    echo "$phase still running after $t s"; tar czf "$out/$phase-partial.tgz" -C "$bg" . 2>/dev/null; fi
  tail -40 "$bg/$phase.log"
  exit 0
  ;;
esac
if [ "${1:-}" = serve ]; then
  # TRM_SERVE_K: steps per run to compare (TRM_SERVE_FORMS=loop,unrolled with TRM_SERVE_K=1,4 compares the graph forms: unrolled loads in k^2); TRM_SERVE_BATCHES / TRM_SERVE_MAZE_BATCHES: engine batches; TRM_SERVE_QUEUED_BATCHES (default 256; empty: none): batches also run with --steps-when-queued 1;
  # TRM_SERVE_PAD=0 skips the padded token mix (TRM_SERVE_PAD_BATCHES, default "1 1024"); TRM_SERVE_HARD_CSV=<file>
  # (e.g. .gpu-run/hard-test.csv from `head -n 257 ../shared/data/sudoku/test.csv`, carried) adds hard sudoku over
  # HTTP through views, TRM_SERVE_HARD_LIMIT puzzles (64); TRM_SERVE_OFFICIAL=0 skips PyTorch; TRM_SERVE_EP=cpu TRM_SERVE_DTYPE=fp32 (with small batches;
  # TRM_SERVE_MAZE_BATCHES= skips maze) is a dry run on a CPU machine.
  ks=${TRM_SERVE_K:-1,4,16}
  ep=${TRM_SERVE_EP:-cuda}
  dtype=${TRM_SERVE_DTYPE:-fp16}
  mkdir -p "$out/serve"
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 | tee "$out/serve/gpu.txt"
  step "engine $ep sudoku-mlp, steps per run $ks"
  for bc in ${TRM_SERVE_BATCHES:-1 256 1024}; do
    timeout 240 node $S/engine.mjs --preset sudoku-mlp --dtype $dtype --ep $ep --batch $bc --concurrency $((bc * workers)) \
      --steps-form "${TRM_SERVE_FORMS:-loop}" \
      --workers "$workers" --requests $((bc < 32 ? 32 : 2 * bc * workers)) --steps-per-run "$ks" \
      --out "$out/serve/engine-sudoku-mlp-b$bc-w$workers.json" 2>&1 | grep -v '^  ' | tee -a "$out/serve/engine.log"
  done
  # k > 1 with runs cut to one step while puzzles wait for a row (--steps-when-queued 1)
  for bc in ${TRM_SERVE_QUEUED_BATCHES-256}; do
    timeout 240 node $S/engine.mjs --preset sudoku-mlp --dtype $dtype --ep $ep --batch $bc --concurrency $((bc * workers)) \
      --workers "$workers" --requests $((2 * bc * workers)) --steps-per-run 4,16 --steps-when-queued 1 \
      --out "$out/serve/engine-sudoku-mlp-b$bc-w$workers-q1.json" 2>&1 | grep -v '^  ' | tee -a "$out/serve/engine.log"
  done
  step "engine $ep sudoku-mlp, --workers auto (a share of the free GPU memory)"
  timeout 240 node $S/engine.mjs --preset sudoku-mlp --dtype $dtype --ep $ep --batch 256 --concurrency 512 --workers auto \
    --requests 1024 --halting fixed --out "$out/serve/engine-sudoku-mlp-b256-auto.json" 2>&1 | grep -v '^  ' |
    tee -a "$out/serve/engine.log"
  if [ -f packages/core/dist/generate.mjs ]; then
    step "early halting on a trained model: models/sudoku-small-mlp on 1,024 generated puzzles of its training difficulty"
    node packages/core/dist/generate.mjs --task sudoku --count 1024 --givens 61..71 --seed 12 --out "$out/serve/easy.csv" --quiet
    timeout 240 node $S/engine.mjs --model models/sudoku-small-mlp --ep $ep --batch 1,256 --concurrency 1,256 --steps 8 \
      --threshold 0.5 --puzzles "$out/serve/easy.csv" --requests 1024 --steps-per-run "$ks" \
      --out "$out/serve/engine-sudoku-small-mlp-trained.json" 2>&1 | grep -v '^  ' | tee -a "$out/serve/engine.log"
    rm -f "$out/serve/easy.csv"
  fi
  step "engine $ep maze-att, steps per run $ks"
  for bc in ${TRM_SERVE_MAZE_BATCHES-1 64}; do
    timeout 240 node $S/engine.mjs --preset maze-att --dtype $dtype --ep $ep --batch $bc --concurrency $bc \
      --requests $((bc < 16 ? 16 : 2 * bc)) --steps-per-run "$ks" --out "$out/serve/engine-maze-att-b$bc.json" 2>&1 |
      grep -v '^  ' | tee -a "$out/serve/engine.log"
  done
  if [ "${TRM_SERVE_PAD:-1}" != 0 ]; then
    # The training graph's token mix ran 2.4x faster padded to 104 positions (BENCHMARKS.md); the serving graph's
    # default is unpadded until this says otherwise.
    step "engine $ep sudoku-mlp with the token mix padded to a multiple of 8 (--ops mlpTPad=align8)"
    for bc in ${TRM_SERVE_PAD_BATCHES:-1 1024}; do
      timeout 240 node $S/engine.mjs --preset sudoku-mlp --dtype $dtype --ep $ep --ops mlpTPad=align8 --batch $bc \
        --concurrency $((bc * workers)) --workers "$workers" --requests $((bc < 32 ? 32 : 2 * bc * workers)) \
        --steps-per-run "$ks" --halting fixed --out "$out/serve/engine-sudoku-mlp-pad8-b$bc-w$workers.json" 2>&1 |
        grep -v '^  ' | tee -a "$out/serve/engine.log"
    done
  fi
  if [ -f "${TRM_SERVE_HARD_CSV:-}" ] && [ -f models/sudoku-newspaper-mlp/config.json ]; then
    # Served accuracy and latency on hard sudoku, the puzzle alone against 16 views (views in the server README).
    step "hard sudoku over HTTP: models/sudoku-newspaper-mlp, views 1 and 16, lone puzzles"
    timeout 420 node $S/solve-csv.mjs --model models/sudoku-newspaper-mlp --ep $ep --csv "$TRM_SERVE_HARD_CSV" \
      --limit "${TRM_SERVE_HARD_LIMIT:-64}" --views 1,16 --clients 1 --out "$out/serve/solve-hard.json" 2>&1 |
      tee -a "$out/serve/solve.log"
  fi
  step "where a run's time goes (ONNX Runtime's profiler): sudoku-mlp batch 1 and 256, maze-att batch 1 and 64"
  timeout 240 node $S/profile.mjs --preset sudoku-mlp --dtype $dtype --ep $ep --batch 1,256 --steps-per-run 1,16 \
    --runs 20 --out "$out/serve/profile-sudoku-mlp.json" 2>&1 | tee "$out/serve/profile.log" | grep '^batch'
  timeout 240 node $S/profile.mjs --preset maze-att --dtype $dtype --ep $ep --batch 1,64 --runs 10 \
    --out "$out/serve/profile-maze-att.json" 2>&1 | tee -a "$out/serve/profile.log" | grep '^batch'
  step "a lone sudoku-mlp puzzle over HTTP, 16 steps"
  for k in ${ks//,/ }; do
    timeout 120 node $S/http-overhead.mjs --preset sudoku-mlp --dtype $dtype --ep $ep --concurrency 1 --requests 64 --rounds 2 \
      --steps 16 --halt-threshold 1 --batch 1 --steps-per-run "$k" --out "$out/serve/http-sudoku-mlp-k$k.json" 2>&1 |
      tail -3 | tee -a "$out/serve/http.log"
  done
  step "the engine's answers against the reference loop, with steps per run"
  forms=${TRM_SERVE_FORMS:-loop}
  for form in ${forms//,/ }; do
    for k in ${ks//,/ }; do
      [ "$k" = 1 ] && [ "$form" != "${forms%%,*}" ] && continue # one step per run has no form
      timeout 120 node $S/engine-check.mjs --ep $ep --puzzles 512 --batch 32 --concurrency 96 --steps-per-run "$k" \
        --steps-form "$form" --json "$out/serve/engine-check-$form-k$k.json" 2>&1 | tail -2 |
        tee -a "$out/serve/engine-check.log"
    done
  done
  if [ "${TRM_SERVE_OFFICIAL:-1}" != 0 ]; then
    step "the official PyTorch code, eager and compiled"
    # TRM_SERVE_OFFICIAL_CONFIGS: the script's --configs (default: its own list, 1 to 2048 for sudoku-mlp)
    timeout 420 python3 scripts/official/infer-bench.py --trm .ref --json "$out/serve/official-infer.json" \
      ${TRM_SERVE_OFFICIAL_CONFIGS:+--configs "$TRM_SERVE_OFFICIAL_CONFIGS"} 2>&1 |
      tee "$out/serve/official-infer.log" | tail -30
  fi
  (cd "$out" && tar czf serve-results.tgz serve && rm -rf serve)
  exit 0
fi
if [ "${1:-}" = graph ]; then
  # The float16 graph the server builds for a GPU (FP16_GRAPH_OPS): op choices timed side by side, the engine with
  # the old defaults against the fastest, the shipped newspaper model served from model.onnx (fp32) against the
  # graph built from its weights (fp16), the engine check of the built graph, then the official code, one after the
  # other on this card. TRM_GRAPH_HARD_CSV=<carried csv with answers> adds hard sudoku to the trained-model rows.
  g="$out/graph"
  mkdir -p "$g"
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 | tee "$g/gpu.txt"
  sudoku_ops=${TRM_GRAPH_SUDOKU_OPS:-"default;silu=op;silu=op,mlpTPad=align8;silu=op,mlpTPad=align8,seqNorm=l2;norm=skip,silu=op,mlpTPad=align8,seqNorm=l2;swiglu=fused,silu=op,mlpTPad=align8,seqNorm=l2;norm=skip,silu=op,mlpT=transpose"}
  maze_ops=${TRM_GRAPH_MAZE_OPS:-"default;silu=op;norm=skip,silu=op;norm=skip,silu=op,rope=op"}
  step "op choices of the float16 graph: sudoku-mlp at batch 1, 256, 1024"
  timeout 300 node $X/op-choice.mjs --ep cuda --preset sudoku-mlp --dtype fp16 --batch 1,256,1024 --reps 5 \
    --ops "$sudoku_ops" --json "$g/ops-sudoku-mlp.json" 2>&1 | tee "$g/ops.log"
  step "op choices of the float16 graph: maze-att at batch 1 and 64"
  timeout 200 node $X/op-choice.mjs --ep cuda --preset maze-att --dtype fp16 --batch 1,64 --reps 3 \
    --ops "$maze_ops" --json "$g/ops-maze-att.json" 2>&1 | tee -a "$g/ops.log"
  # the fastest choice at the largest batch (its --ops argument, or nothing for the defaults)
  fastest() {
    node -e '
      const pts = require(process.argv[1]).points.filter((p) => !p.error);
      const maxB = Math.max(...pts.map((p) => p.batch));
      const b = pts.filter((p) => p.batch === maxB).sort((x, y) => x.msPerStep - y.msPerStep)[0];
      console.log(b.ops === "default" ? "" : b.ops);
    ' "$1"
  }
  best_s=$(fastest "$g/ops-sudoku-mlp.json")
  best_m=$(fastest "$g/ops-maze-att.json")
  echo "fastest: sudoku-mlp '${best_s:-default}', maze-att '${best_m:-default}'" | tee "$g/fastest.txt"
  step "engine sudoku-mlp fp16, 16 steps: the defaults against '${best_s:-default}' (2 workers x 1024; 1 x 1)"
  for ops in default "${best_s:-default}"; do
    a=(); [ "$ops" = default ] || a=(--ops "$ops")
    tag=${ops//[=,]/-}
    timeout 200 node $S/engine.mjs --preset sudoku-mlp --dtype fp16 --ep cuda "${a[@]}" --batch 1024 --concurrency 2048 \
      --workers 2 --requests 4096 --steps-per-run 16 --halting fixed --out "$g/engine-sudoku-b1024-$tag.json" 2>&1 |
      grep -v '^  ' | tee -a "$g/engine.log"
    timeout 100 node $S/engine.mjs --preset sudoku-mlp --dtype fp16 --ep cuda "${a[@]}" --batch 1 --concurrency 1 \
      --requests 32 --steps-per-run 16 --halting fixed --out "$g/engine-sudoku-b1-$tag.json" 2>&1 |
      grep -v '^  ' | tee -a "$g/engine.log"
  done
  step "engine maze-att fp16, 16 steps: the defaults against '${best_m:-default}' (1 x 64)"
  for ops in default "${best_m:-default}"; do
    a=(); [ "$ops" = default ] || a=(--ops "$ops")
    timeout 150 node $S/engine.mjs --preset maze-att --dtype fp16 --ep cuda "${a[@]}" --batch 64 --concurrency 64 \
      --requests 256 --steps-per-run 16 --halting fixed --out "$g/engine-maze-b64-${ops//[=,]/-}.json" 2>&1 |
      grep -v '^  ' | tee -a "$g/engine.log"
  done
  step "a lone sudoku-mlp puzzle over HTTP, 16 steps, '${best_s:-default}'"
  a=(); [ -z "$best_s" ] || a=(--ops "$best_s")
  timeout 120 node $S/http-overhead.mjs --preset sudoku-mlp --dtype fp16 --ep cuda "${a[@]}" --concurrency 1 \
    --requests 64 --rounds 2 --steps 16 --halt-threshold 1 --batch 1 --steps-per-run 16 \
    --out "$g/http-sudoku-mlp.json" 2>&1 | tail -3 | tee -a "$g/http.log"
  step "models/sudoku-newspaper-mlp served from model.onnx (fp32) and from the graph built from its weights (fp16)"
  node packages/core/dist/generate.mjs --task sudoku --count 1024 --givens 25..35 --seed 32 --out "$g/newspaper.csv" --quiet
  for csv in "$g/newspaper.csv" ${TRM_GRAPH_HARD_CSV:+"$TRM_GRAPH_HARD_CSV"}; do
    for graph in file auto; do
      name=$(basename "$csv" .csv)
      timeout 200 node $S/engine.mjs --model models/sudoku-newspaper-mlp --graph $graph --ep cuda --batch 256 \
        --concurrency 256 --steps 16 --threshold 0.5 --puzzles "$csv" --requests 1024 --steps-per-run 4 \
        --out "$g/engine-newspaper-mlp-$name-$graph-b256.json" 2>&1 | grep -v '^  ' | tee -a "$g/trained.log"
      timeout 100 node $S/engine.mjs --model models/sudoku-newspaper-mlp --graph $graph --ep cuda --batch 1 \
        --concurrency 1 --steps 16 --threshold 0.5 --puzzles "$csv" --requests 32 --steps-per-run 4 \
        --out "$g/engine-newspaper-mlp-$name-$graph-b1.json" 2>&1 | grep -v '^  ' | tee -a "$g/trained.log"
    done
  done
  rm -f "$g/newspaper.csv"
  if [ -f "${TRM_GRAPH_HARD_CSV:-}" ]; then
    step "hard sudoku over HTTP on the built float16 graph: the puzzle alone against 16 views, lone puzzles"
    timeout 300 node $S/solve-csv.mjs --model models/sudoku-newspaper-mlp --ep cuda --csv "$TRM_GRAPH_HARD_CSV" \
      --limit "${TRM_GRAPH_HARD_LIMIT:-64}" --views 1,16 --clients 1 --out "$g/solve-hard.json" 2>&1 | tee -a "$g/solve.log"
  fi
  step "the engine's answers with the built float16 graph against the reference loop running it on the CPU"
  for k in 1 4 16; do
    timeout 120 node $S/engine-check.mjs --ep cuda --graph auto --puzzles 512 --batch 32 --concurrency 96 \
      --steps-per-run $k --json "$g/engine-check-k$k.json" 2>&1 | tail -2 | tee -a "$g/engine-check.log"
  done
  step "where a run of the fastest sudoku graph spends its time (profiler): batch 1 and 256, 16 steps per run"
  timeout 150 node $S/profile.mjs --preset sudoku-mlp --dtype fp16 --ep cuda "${a[@]}" --batch 1,256 --steps-per-run 16 \
    --runs 10 --out "$g/profile-sudoku-mlp.json" 2>&1 | tee "$g/profile.log" | grep '^batch'
  if [ "${TRM_SERVE_OFFICIAL:-1}" != 0 ]; then
    step "the official PyTorch code, eager and compiled (sudoku-mlp 1024, maze-att 64; CUDA graphs at batch 1)"
    timeout 480 python3 scripts/official/infer-bench.py --trm .ref --json "$g/official-infer.json" --configs \
      "${TRM_GRAPH_OFFICIAL_CONFIGS:-sudoku-mlp:1:cudagraphs;sudoku-mlp:1024:eager,compiled;maze-att:1:cudagraphs;maze-att:64:eager,compiled}" \
      2>&1 | tee "$g/official-infer.log" | tail -20
  fi
  (cd "$out" && tar czf graph-results.tgz graph && rm -rf graph)
  exit 0
fi
echo "usage: bash scripts/gpu/bench-inference.sh ops|engine|serve|serve-bg|serve-wait|graph|profile" >&2
exit 2
