#!/usr/bin/env bash
# The generated simple ARC tasks of the learning demonstration (BENCHMARKS.md, "ARC on the H200"), with plain node
# and the core bundle: <dir>/train (210 tasks, trained on with all pairs), <dir>/held (35 tasks whose demonstration
# pairs are trained on and whose test pairs are evaluated during training), <dir>/new (35 tasks never trained on:
# solve-arc fits their rows with adapt). Every family (flip-h, flip-v, rotate-180, rotate-90, transpose,
# colour-map, gravity-down) is equally represented; grids 3..6 on a side; seeds 1, 3 and 2.
set -euo pipefail
dir=${1:-data/simple}
gen=packages/core/dist/generate.mjs
rm -rf "$dir"
mkdir -p "$dir"
node $gen --task arc-simple --count 210 --sizes 3..6 --seed 1 --out "$dir/train" --quiet
node $gen --task arc-simple --count 35 --sizes 3..6 --seed 3 --out "$dir/held" --quiet
node $gen --task arc-simple --count 35 --sizes 3..6 --seed 2 --out "$dir/new" --quiet
