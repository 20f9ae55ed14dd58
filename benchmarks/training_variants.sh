#!/usr/bin/env bash
# Training-side variants of the landmark MLP (finger-flex augmentation, label smoothing, mixup,
# width), each protocol x seed a separate job, run N at a time; results in OUTDIR/results/*.json,
# test probabilities in OUTDIR/probs (for feature_variants.py --ensemble). About 45 s per config,
# seed and all four protocols on one core.
#   bash benchmarks/training_variants.sh OUTDIR [JOBS] [SEEDS...]
#   python benchmarks/feature_variants.py --save-probs OUTDIR/probs --ensemble "base/merge_jz/nocw/e60/PROTOCOL/seed*"
# docs/accuracy_features.md ("Training variants") has the figures.
set -euo pipefail
out=${1:?OUTDIR}; jobs=${2:-2}; shift $(( $# >= 2 ? 2 : $# )); seeds=${*:-0 1 2}
py=${PYTHON:-python}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out/results" "$out/probs" "$out/logs"
configs=(
  "base|"
  "base|--flex 10"
  "base|--flex 20"
  "base|--flex 30"
  "base|--label-smoothing 0.1"
  "base|--mixup 0.4"
  "base|--hidden 512 256 --dropout 0.4"
  "base|--flex 20 --label-smoothing 0.1"
)
i=0
for seed in $seeds; do
  for c in "${configs[@]}"; do
    for p in to-mon95 massey-loso to-asl mon95-loso; do
      i=$((i+1))
      echo "$i|${c%%|*}|${c#*|}|$p|$seed"
    done
  done
done | xargs -P "$jobs" -I{} bash -c '
  IFS="|" read -r n variant extra protocol seed <<< "{}"
  OMP_NUM_THREADS=1 '"$py"' '"$here"'/feature_variants.py --variants "$variant" --labels merge_jz \
    --epochs 60 --protocols "$protocol" --seeds "$seed" $extra --save-probs '"$out"'/probs \
    --results '"$out"'/results/$n.json > '"$out"'/logs/$n.log 2>&1 || echo "job $n failed: $(tail -1 '"$out"'/logs/$n.log)"
  grep -h "seed" '"$out"'/logs/$n.log | grep static || true'
