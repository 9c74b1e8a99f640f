#!/usr/bin/env bash
# Mutation testing with mutmut (requirements-dev.txt; not part of `make test`): each module is
# mutated in a scratch copy of the working tree and every mutant is run against the tests
# that guard the module (mutmut runs only those of them that reach the mutated function).
#
#   .venv/bin/pip install -r requirements-dev.txt
#   DLMIA_DATA=/path/to/data benchmarks/mutation.sh                  # every module below
#   DLMIA_DATA=/path/to/data benchmarks/mutation.sh workflow/report/stats.py
#
# Per module it prints "module killed/total (score)" and writes the survivors' diffs to
# $OUT/<module>.survivors.txt (OUT defaults to mutation-results/, ignored by git).
set -euo pipefail

declare -A TESTS=(
  [workflow/trust/calibration.py]="tests/test_trust_calibration.py"
  [workflow/trust/faithfulness.py]="tests/test_trust_saliency.py"
  [workflow/trust/saliency.py]="tests/test_trust_saliency.py"
  [workflow/trust/randomisation.py]="tests/test_trust_randomisation.py tests/test_trust_saliency.py"
  [workflow/trust/trained.py]="tests/test_trust_trained.py tests/test_trust_randomisation.py tests/test_trust_stage.py"
  [workflow/trust/stage.py]="tests/test_trust_stage_parts.py tests/test_trust_stage.py tests/test_trust_saliency.py"
  [workflow/trust/latency.py]="tests/test_trust_latency.py"
  [workflow/trust/robustness.py]="tests/test_trust_robustness.py"
  [workflow/train/segmentation_metrics.py]="tests/test_segmentation_metrics.py tests/test_segmentation_volumes.py::test_surface_dice_on_a_square_shifted_by_one_row tests/test_segmentation_volumes.py::test_surface_dice_matches_the_scipy_reference tests/test_segmentation_volumes.py::test_each_foreground_class_of_a_volume_is_scored tests/test_segmentation.py::test_class_scores_on_known_shapes tests/test_segmentation.py::test_an_empty_prediction_has_no_hd95_and_is_counted_not_averaged tests/test_segmentation.py::test_an_empty_ground_truth_is_scored_not_left_out"
  [workflow/report/stats.py]="tests/test_stats.py"
  [workflow/literature/reported_metrics.py]="tests/test_reported_metrics.py"
)
ORDER=(workflow/report/stats.py workflow/train/segmentation_metrics.py workflow/trust/calibration.py workflow/trust/faithfulness.py
       workflow/trust/randomisation.py workflow/trust/saliency.py workflow/trust/trained.py workflow/trust/stage.py
       workflow/trust/latency.py workflow/trust/robustness.py workflow/literature/reported_metrics.py)

repo=$(git rev-parse --show-toplevel)
python=${PYTHON:-$repo/.venv/bin/python}
out=$(realpath -m "${OUT:-$repo/mutation-results}")
mkdir -p "$out"
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1  # forked mutants with one thread each: OpenMP pools do not survive a fork

for module in "${@:-${ORDER[@]}}"; do
  tests=${TESTS[$module]:?"no tests named for $module"}
  work=$(mktemp -d)
  (cd "$repo" && git ls-files -z --cached --others --exclude-standard -- workflow tests config config.yaml pytest.ini README.md docs | xargs -0 tar -cf - 2>/dev/null) | tar -xf - -C "$work"
  {
    echo "[mutmut]"
    echo "source_paths=workflow"
    echo "only_mutate=$module"
    printf 'also_copy=\n    pytest.ini\n    config.yaml\n    config\n    README.md\n    docs\n'  # mutmut runs the tests from mutants/: pytest.ini puts it first on sys.path; some tests read the README and docs
    echo "pytest_add_cli_args_test_selection="
    for t in $tests; do echo "    $t"; done
    echo "pytest_add_cli_args=-p no:cacheprovider -q"
  } > "$work/setup.cfg"
  (cd "$work" && "$python" -m mutmut run > "$out/$(basename "$module" .py).log" 2>&1 || true)
  (cd "$work" && "$python" -m mutmut export-cicd-stats > /dev/null && "$python" - "$module" <<'EOF'
import json, sys
s = json.load(open("mutants/mutmut-cicd-stats.json"))
killed, total = s["killed"], s["total"] - s.get("skipped", 0) - s.get("not_checked", 0)
print(f"{sys.argv[1]} {killed}/{total} ({100 * killed / max(total, 1):.0f} %) " + ", ".join(f"{k} {v}" for k, v in s.items() if k not in ("killed", "total") and v))
EOF
  ) | tee -a "$out/scores.txt"
  (cd "$work" && "$python" -m mutmut results 2>/dev/null | tee "$out/$(basename "$module" .py).results.txt" | awk -F: '{print $1}' | while read -r name; do
     echo "### $name"; "$python" -m mutmut show "$name" < /dev/null 2>/dev/null || true; done) > "$out/$(basename "$module" .py).survivors.txt" || true
  rm -rf "$work"
done
