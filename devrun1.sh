#!/usr/bin/env bash
# One device call: wheels, build, the GPU suite, then the GPT training-step benchmark.
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site || exit 1
export CXX=/usr/bin/g++ CUDAHOSTCXX=/usr/bin/g++ PYTHONUNBUFFERED=1 CMAKE_BUILD_PARALLEL_LEVEL=16
nvidia-smi --query-gpu=name --format=csv,noheader
start=$(date +%s)
python3 -m pip install --no-build-isolation --no-deps -q -C build-dir=/tmp/tl-build . > $OUT/build.log 2>&1 || { tail -30 $OUT/build.log; exit 1; }
echo "build: $(( $(date +%s) - start )) s"
repo=$PWD
cd /tmp && python3 -c "import tensorlogic as tl; print(tl.available_devices())"
timeout ${TEST_SECONDS:-300} python3 -m pytest -q -p no:cacheprovider -x --deselect $repo/tests/test_cpp_embed.py::test_cpp_embed_builds_and_runs $repo/tests ${TEST_ARGS:-} > $OUT/pytest.log 2>&1; echo "pytest rc=$?"
grep -E "^(FAILED|ERROR)|passed|failed" $OUT/pytest.log | tail -15
echo "tests done: $(( $(date +%s) - start )) s"
cd $repo/benchmarks && timeout ${BENCH_SECONDS:-200} python3 gpt_step.py --steps 10 --curve-steps 100 2>&1 | grep -v Warning | tail -12
cp results/gpt_step_*.json $OUT/ 2>/dev/null
echo "all done: $(( $(date +%s) - start )) s"
