#!/usr/bin/env bash
# Builds TensorLogic with its CUDA backend, runs the CUDA tests and the side-by-side benchmark against
# PyTorch. Usage: benchmarks/gpu.sh [log-dir]   (run from the repository root on an NVIDIA machine)
set -euo pipefail
LOG=${1:-/tmp/tl-gpu}
mkdir -p "$LOG"
export PYTHONUNBUFFERED=1
# The system compiler: the CUDA image's default (/opt/gcc) embeds libstdc++ code in the library, which
# crashed at the first ostringstream use in a process that also loads PyTorch (2026-11-22).
if [ -x /usr/bin/g++ ]; then export CXX=${CXX_OVERRIDE:-/usr/bin/g++} CUDAHOSTCXX=${CXX_OVERRIDE:-/usr/bin/g++}; fi
python3 -m pip install --no-build-isolation --no-deps -q -C build-dir=/tmp/tl-build-$(basename "$CXX" 2>/dev/null || echo cc) . 2>&1 | tee "$LOG/build.log"
SITE=$(cd /tmp && python3 -c "import tensorlogic, os; print(os.path.dirname(tensorlogic.__file__))")
cmake -S tests/gpu -B build/gpu-tests -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DTL_PACKAGE_DIR="$SITE" > "$LOG/native-build.log"
cmake --build build/gpu-tests >> "$LOG/native-build.log"
# test failures are reported, and the benchmark still runs
(./build/gpu-tests/cuda_kernels 2>&1 || true) | tee "$LOG/native-tests.log" | grep -v '^ok ' || true
(cd /tmp && python3 -m pytest -q -p no:cacheprovider "$OLDPWD/tests" 2>&1 || true) | tee "$LOG/pytest.log" | tail -25
python3 benchmarks/cuda_bench.py --native ./build/gpu-tests/cuda_kernels 2>&1 | tee "$LOG/bench.log"
