// A persistent worker pool: parallel_for splits [0, n) into chunks of at least `grain` items.
#pragma once
#include <cstdint>
#include <functional>

namespace tensorlogic::cpu {

int num_threads();
void set_num_threads(int threads);

// Runs fn(begin, end) over disjoint chunks covering [0, n); inline when n <= grain, with one thread,
// when nested in a chunk, or when the pool is running another thread's job. Safe to call from any thread.
void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

}  // namespace tensorlogic::cpu
