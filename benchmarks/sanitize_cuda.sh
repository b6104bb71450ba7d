#!/usr/bin/env bash
# Runs compute-sanitizer's memcheck and racecheck over the CUDA tests of the kernels changed lately: the
# fused backward kernels (layer/RMS norm, cross-entropy), the multi-tensor optimizer step (and the loss
# scaler's device flags, check and scale update), the
# cross-entropy forward and its device-side target check, attention's forward and backward, the strided copies
# of whole words, the column reductions. One log per tool; the summary lines are printed.
# Usage: benchmarks/sanitize_cuda.sh [log-dir] [tool ...]   (tools: memcheck racecheck, the default both;
# from the repository root on an NVIDIA machine, with TensorLogic's CUDA build installed, e.g. after
# benchmarks/gpu.sh). Exit status 0 when every tool ran clean.
# memcheck sees accesses outside cudaMalloc'd blocks: the buffer cache rounds sizes up to its buckets, so an
# overrun that stays inside a bucket goes unseen (the kernel tests' odd sizes make most overruns leave it).
set -uo pipefail
LOG=${1:-/tmp/tl-sanitize}
shift || true
TOOLS=(memcheck racecheck)
[ $# -eq 0 ] || TOOLS=("$@")
mkdir -p "$LOG"
LOG=$(cd "$LOG" && pwd)
ROOT=$(pwd)
SANITIZER=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
[ -x "$SANITIZER" ] || { echo "compute-sanitizer not found (looked on PATH and in /usr/local/cuda/bin)"; exit 2; }
# From /tmp so that the installed package is imported, not the source tree.
(cd /tmp && python3 -c "import tensorlogic as tl, sys; sys.exit(0 if tl.cuda.is_available() else 1)") ||
  { echo "no TensorLogic with a usable CUDA device: build and install it first (benchmarks/gpu.sh)"; exit 2; }

# The CUDA cases only (-k matches the device fixture's id and the module and test names), plus the test of
# parameters on two devices; the CPU runs of the same files add nothing for the sanitizer.
TESTS=("$ROOT/tests/test_fused_backward.py" "$ROOT/tests/test_optim_multi.py" "$ROOT/tests/test_optim.py"
       "$ROOT/tests/test_fused.py" "$ROOT/tests/test_attention.py" "$ROOT/tests/test_tensor.py"
       "$ROOT/tests/test_reduce.py" "$ROOT/tests/test_amp.py")
SELECT="test_fused_backward or test_optim or test_amp or cross_entropy or target or errors or test_sdpa or strided_copy"
SELECT="cuda and ($SELECT or column_kernels) or two_devices"

status=0
for tool in "${TOOLS[@]}"; do
  echo "== $tool"
  (cd /tmp && "$SANITIZER" --tool "$tool" --error-exitcode 99 --print-limit 100 \
      --log-file "$LOG/$tool.sanitizer.log" \
      python3 -m pytest -q -p no:cacheprovider -x "${TESTS[@]}" -k "$SELECT" > "$LOG/$tool.pytest.log" 2>&1)
  rc=$?
  tail -3 "$LOG/$tool.pytest.log"
  grep -E "ERROR SUMMARY|RACECHECK SUMMARY" "$LOG/$tool.sanitizer.log" | tail -2
  echo "exit status $rc (99: the sanitizer found errors; see $LOG/$tool.sanitizer.log)"
  [ "$rc" -eq 0 ] || status=1
done
exit $status
