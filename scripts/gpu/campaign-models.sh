# The recipe of each model that a training campaign produces (scripts/gpu/campaign.sh trains it, pack-campaign.sh
# packs its data); sourced by both, so that a model's preset, batch and data are written down once.
#
#   campaign_recipe MODEL    sets: preset, batch, micro_batch (the rows per graph run on one GPU), task
#                            (build-dataset --task), raw (files and folders under the shared data folder that the
#                            build reads), generate (for data made by `generate` instead: one argument string per
#                            file, run at pack time with --out under the payload's data/), input (build-dataset
#                            --input, relative to the payload's data/), build (the other build-dataset flags);
#                            returns 1 for an unknown model.
#
# TRM_PRESET, TRM_BATCH, TRM_MICRO_BATCH, TRM_SUBSAMPLE, TRM_AUGMENT and TRM_GEN_TRAIN replace the recipe's values (a smaller run
# on this machine, another GPU's memory); a run continued with --resume must keep its preset and batch.
# shellcheck shell=bash
# shellcheck disable=SC2034  # the variables are read by the scripts that source this file

CAMPAIGN_MODELS="sudoku-hard-mlp sudoku-newspaper-mlp maze-att arc1"

campaign_recipe() {
  raw=() generate=()
  # Rows per graph run, as measured in fp16 on an 80 GB H100 (BENCHMARKS.md): sudoku-mlp runs batch 768 whole (1,205
  # samples/s, against 886 in halves of 384), maze-att 64 rows per run (109 samples/s, against 87 at 32). arc1-att's
  # sequences are maze-att's length plus the puzzle prefix: 32 until 64 is measured for it.
  case $1 in
  sudoku-hard-mlp)
    # The paper's Sudoku-Extreme run: the MLP-mixer on 1,000 hard puzzles with 1,000 shuffles each.
    preset=sudoku-mlp batch=768 micro_batch=0 task=sudoku
    raw=(sudoku/train.csv sudoku/test.csv sudoku/SOURCE.md)
    input=sudoku
    build=(--subsample "${TRM_SUBSAMPLE:-1000}" --augment "${TRM_AUGMENT:-1000}")
    ;;
  sudoku-newspaper-mlp)
    # The puzzles people usually bring: newspaper difficulty, 25-35 givens with one solution each, from the
    # generator (seeded, so the same files on every machine). Many puzzles with a few shuffles each rather than the
    # hard run's 1,000 x 1,000; the test split is 4,000 puzzles of another seed.
    preset=sudoku-mlp batch=768 micro_batch=0 task=sudoku
    generate=("--task sudoku --count ${TRM_GEN_TRAIN:-100000} --givens 25..35 --seed 31 --out newspaper/train.csv"
      "--task sudoku --count 4000 --givens 25..35 --seed 32 --out newspaper/test.csv")
    input=newspaper
    build=(--augment "${TRM_AUGMENT:-10}")
    ;;
  maze-att)
    # The paper's Maze-Hard run: attention on 1,000 train mazes, each with its 8 dihedral transforms.
    preset=maze-att batch=768 micro_batch=64 task=maze
    raw=(maze-hard-like/train.csv maze-hard-like/test.csv maze-hard-like/SOURCE.md)
    input=maze-hard-like
    build=(--subsample "${TRM_SUBSAMPLE:-1000}" --augment "${TRM_AUGMENT:-8}")
    ;;
  arc1)
    # ARC-AGI-1 with the paper's model, on the data of arc1-run.sh: ARC-AGI-1 training + evaluation + ConceptARC,
    # the evaluation tasks' test pairs held out; no augmentation by default, so that the puzzle table (a row per
    # task and variant) stays small (--augment 1000, the paper's, is 960k rows and a 7 GB dataset).
    preset=arc1-att batch=768 micro_batch=32 task=arc1
    raw=(arc-agi-1/training arc-agi-1/evaluation arc-agi-1/SOURCE.md conceptarc/corpus conceptarc/SOURCE.md)
    input=.
    build=(--augment "${TRM_AUGMENT:-0}")
    ;;
  *)
    return 1
    ;;
  esac
  preset=${TRM_PRESET:-$preset}
  batch=${TRM_BATCH:-$batch}
  micro_batch=${TRM_MICRO_BATCH:-$micro_batch}
}
