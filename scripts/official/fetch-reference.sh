#!/usr/bin/env bash
# Copies the few source files of the official TRM code (SamsungSAILMontreal/TinyRecursiveModels) that
# make-fixtures.py imports, at one pinned commit, from a local git clone into the ignored folder .ref/.
# The reference code is never committed here; .ref/REFERENCE.json records the commit and a SHA-256 per file so
# that make-fixtures.py can refuse a copy that is incomplete, edited or from another commit.
#
# Usage: bash scripts/official/fetch-reference.sh [GIT_DIR]
#   GIT_DIR: the git directory of a clone of the official repository (a bare mirror or a clone's .git).
#            Default: $TRM_REF_GIT_DIR, else the first of the known local mirror paths below that exists.
set -euo pipefail
cd "$(dirname "$0")/../.."

# e7b6871 (2025-10-08) is the newest commit of the official main branch and the one TRM-SPEC.md describes.
COMMIT=e7b68717f0a6c4cbb4ce6fbef787b14f42083bd9
REPO=SamsungSAILMontreal/TinyRecursiveModels
FILES=(
  models/recursive_reasoning/trm.py
  models/layers.py
  models/common.py
  models/sparse_embedding.py
  models/losses.py
  models/ema.py
  pretrain.py
)

git_dir=${1:-${TRM_REF_GIT_DIR:-}}
if [ -z "$git_dir" ]; then
  for candidate in \
    /work/.mirror/SamsungSAILMontreal+TinyRecursiveModels/repo \
    ../TinyRecursiveModels/.git \
    ../TinyRecursiveModels; do
    if [ -d "$candidate" ]; then git_dir=$candidate; break; fi
  done
fi
if [ -z "$git_dir" ] || ! git --git-dir="$git_dir" rev-parse --git-dir >/dev/null 2>&1; then
  echo "fetch-reference: no git directory of $REPO found (got '${git_dir:-nothing}');" \
    "pass one as the first argument or set TRM_REF_GIT_DIR" >&2
  exit 1
fi
if ! git --git-dir="$git_dir" cat-file -e "$COMMIT^{commit}" 2>/dev/null; then
  echo "fetch-reference: commit $COMMIT is not in $git_dir (expected a clone of $REPO)" >&2
  exit 1
fi

# Start from an empty .ref/ so that no stale or hand-edited file survives.
rm -rf .ref
mkdir -p .ref
entries=()
for path in "${FILES[@]}"; do
  mkdir -p ".ref/$(dirname "$path")"
  git --git-dir="$git_dir" show "$COMMIT:$path" > ".ref/$path"
  sum=$(sha256sum ".ref/$path" | cut -d' ' -f1)
  entries+=("    \"$path\": \"$sum\"")
  printf '  %-40s %s\n' "$path" "$sum"
done

# Package markers, so that a `models` package installed elsewhere cannot shadow these files when imported.
touch .ref/models/__init__.py .ref/models/recursive_reasoning/__init__.py

{
  echo '{'
  echo "  \"repository\": \"$REPO\","
  echo "  \"commit\": \"$COMMIT\","
  echo "  \"commit_date\": \"$(git --git-dir="$git_dir" log -1 --format=%cI "$COMMIT")\","
  echo '  "files": {'
  last=$((${#entries[@]} - 1))
  for i in "${!entries[@]}"; do
    if [ "$i" -lt "$last" ]; then echo "${entries[$i]},"; else echo "${entries[$i]}"; fi
  done
  echo '  }'
  echo '}'
} > .ref/REFERENCE.json
echo "fetch-reference: ${#FILES[@]} files of $REPO@${COMMIT:0:7} in .ref/ (see .ref/REFERENCE.json)"
