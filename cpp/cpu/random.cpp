// CPU random kernel: the Philox stream of core/philox.h, in parallel over blocks of counters. The FMA
// build is used where the CPU has it; both builds give identical bits (fmaf is exactly rounded).
#include <algorithm>

#include "../core/philox.h"
#include "cpu_backend.h"
#include "f16_convert.h"
#include "parallel.h"

namespace tensorlogic::cpu {
namespace {

constexpr int64_t kCounters = 256;  // counters per block: 1024 elements

struct Job {
  RandomKind kind;
  uint64_t seed, offset;
  long long low, high;
  int64_t n;
  void* out;
};

// Fills elements [4 * c0, min(n, 4 * c1)) of the output.
__attribute__((always_inline)) inline void fill_counters(const Job& job, int64_t c0, int64_t c1) {
  float block[kCounters * 4];
  int32_t* ints = static_cast<int32_t*>(job.out);
  half* halves = static_cast<half*>(job.out);
  for (int64_t c = c0; c < c1; c += kCounters) {
    const int64_t count = std::min(kCounters, c1 - c);
    const int64_t first = c * 4, last = std::min(job.n, (c + count) * 4);
    for (int64_t j = 0; j < count; ++j) {
      const PhiloxWords w = philox4x32_10(job.offset + static_cast<uint64_t>(c + j), job.seed);
      float* v = block + j * 4;
      if (job.kind == RandomKind::uniform) {
        for (int l = 0; l < 4; ++l) v[l] = tl_philox_uniform(w.x[l]);
      } else if (job.kind == RandomKind::normal) {
        tl_philox_normal2(w.x[0], w.x[1], v);
        tl_philox_normal2(w.x[2], w.x[3], v + 2);
      } else {
        for (int l = 0; l < 4 && first + j * 4 + l < last; ++l) {
          ints[first + j * 4 + l] = tl_philox_integer(w.x[l], job.low, job.high);
        }
      }
    }
    if (job.kind != RandomKind::integer) f32_to_f16(block, halves + first, last - first);
  }
}

#if defined(__x86_64__)
__attribute__((target("fma"))) void fill_fma(const Job& job, int64_t c0, int64_t c1) { fill_counters(job, c0, c1); }
const bool has_fma = __builtin_cpu_supports("fma");
#endif
void fill_plain(const Job& job, int64_t c0, int64_t c1) { fill_counters(job, c0, c1); }

}  // namespace

void CpuBackend::random(RandomKind kind, uint64_t seed, uint64_t offset, double low, double high, const Array& out) {
  const Job job{kind, seed, offset, static_cast<long long>(low), static_cast<long long>(high), out.numel(), out.data()};
  const int64_t counters = (job.n + 3) / 4;
  parallel_for(counters, 4 * kCounters, [&](int64_t c0, int64_t c1) {
#if defined(__x86_64__)
    if (has_fma) return fill_fma(job, c0, c1);
#endif
    fill_plain(job, c0, c1);
  });
}

}  // namespace tensorlogic::cpu
