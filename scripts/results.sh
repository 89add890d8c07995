#!/usr/bin/env bash
# Re-runs the published `small` results (results/<family>/small): trains each family into
# runs/<family> (resuming a run that was interrupted; a finished run is kept), evaluates it,
# runs the family's study where it has one (diffusion: quality against sampler steps), and
# publishes its metrics, manifest, log, samples, study and curves — no checkpoints. Then it
# redraws the comparison of the six families from the published results
# (results/compare/small: table.md, table.html, table.json and charts; iagen compare).
#
#   scripts/results.sh [family ...]      (default: every family below, in order; `make results`)
#
# Each run takes both CPU cores: they run one after another. On 2 cores: classifier ~4 min,
# gan ~50 min, gpt ~20 min, lstm ~10 min, vae ~15 min, diffusion ~2 h 40 min with its study,
# flow ~1 h 45 min, the comparison ~1 h 30 min with its appetite runs (BENCH.md); the systems of
# notebook 09: text2img ~25 min and its latent variant ~5 min with their studies, bert ~15 min,
# superres ~5 min, the augmentation experiment (iagen augment, 3 seeds) ~15 min.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export GOMLX_NO_AUTO_INSTALL=1 GODEBUG=asyncpreemptoff=1

# The command of each published run, as its manifest.json records it.
declare -A TRAIN=(
  [classifier]="train classifier --profile small --out runs/classifier"
  [diffusion]="train diffusion --profile small --checkpoint-every 500 --out runs/diffusion"
  [flow]="train flow --profile small --checkpoint-every 500 --out runs/flow"
  [gan]="train gan --profile small --eval-every 5000 --out runs/gan"
  [gpt]="train gpt --profile small --eval-every 1000 --out runs/gpt"
  [lstm]="train lstm --profile small --eval-every 500 --out runs/lstm"
  [vae]="train vae --profile small --out runs/vae"
  [text2img]="train text2img --profile small --out runs/text2img"
  [text2img-latent]="train text2img --profile small --set space=latent --out runs/text2img-latent"
  [bert]="train bert --profile small --out runs/bert"
  [superres]="train superres --profile small --out runs/superres"
)
ORDER=(classifier gan gpt lstm vae diffusion flow text2img text2img-latent bert superres augment)
# The runs whose family is not their name, and where they are published (default results/<name>/small).
declare -A FAMILY=([text2img-latent]=text2img)
declare -A PUBLISH=([text2img-latent]=results/text2img/small-latent)
# The runs whose published results carry a study (iagen study).
STUDY=(diffusion text2img text2img-latent)

families=("$@")
[[ ${#families[@]} -gt 0 ]] || families=("${ORDER[@]}")
for f in "${families[@]}"; do
  [[ -n ${TRAIN[$f]:-} || $f == augment ]] || { echo "results.sh: no published run for $f (have: ${ORDER[*]})" >&2; exit 2; }
done

for run in "${families[@]}"; do
  if [[ $run == augment ]]; then # an experiment over seeds, not a run folder
    echo "==> augment: bin/iagen augment --profile small --seeds 3 --out results/augment/small"
    bin/iagen augment --profile small --seeds 3 --out results/augment/small
    continue
  fi
  f=${FAMILY[$run]:-$run}
  dir=runs/$run
  if [[ -f $dir/manifest.json ]]; then
    echo "==> $run: $dir is finished; re-evaluating it"
    bin/iagen eval "$f" --from "$dir"
  else
    resume=()
    [[ -d $dir/checkpoint ]] && resume=(--resume)
    echo "==> $run: bin/iagen ${TRAIN[$run]} ${resume[*]}"
    # shellcheck disable=SC2086 # the command is a list of words
    bin/iagen ${TRAIN[$run]} "${resume[@]}"
  fi
  if [[ " ${STUDY[*]} " == *" $run "* ]]; then
    echo "==> $run: bin/iagen study $f --from $dir"
    bin/iagen study "$f" --from "$dir"
  fi
  bin/iagen publish "$f" --from "$dir" --out "${PUBLISH[$run]:-results/$run/small}"
done

# The comparison's evidence trains GPT and the LSTM again on 10 % and 30 % of the corpus into
# runs/appetite (about an hour on 2 cores; finished runs there are reused).
echo "==> compare: bin/iagen compare --profile small --from results --runs runs/appetite --out results/compare/small"
bin/iagen compare --profile small --from results --runs runs/appetite --out results/compare/small
for run in runs/appetite/*/; do
  run=${run%/}
  bin/iagen publish "$(basename "$run" | cut -d- -f1)" --from "$run" --out "results/compare/small/appetite/$(basename "$run")"
done
