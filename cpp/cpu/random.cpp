// CPU random kernel: the Philox stream of core/philox.h, in parallel over blocks of counters, built for
// AVX-512, AVX2+FMA and the baseline (chosen at run time); all give identical bits.
#include <algorithm>
#include <cstdlib>
#include <string>

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

// Fills elements [4 * c0, min(n, 4 * c1)) of the output. Words are generated first and transformed in a
// second, branch-free loop that the compiler vectorises; every step is an exactly rounded IEEE operation
// (or fmaf), so vector and scalar builds give the same bits.
__attribute__((always_inline)) inline void fill_counters(const Job& job, int64_t c0, int64_t c1) {
  unsigned int words[kCounters * 4];
  float block[kCounters * 4];
  int32_t* ints = static_cast<int32_t*>(job.out);
  half* halves = static_cast<half*>(job.out);
  for (int64_t c = c0; c < c1; c += kCounters) {
    const int64_t count = std::min(kCounters, c1 - c);
    const int64_t first = c * 4, last = std::min(job.n, (c + count) * 4);
    for (int64_t j = 0; j < count; ++j) {
      const PhiloxWords w = philox4x32_10(job.offset + static_cast<uint64_t>(c + j), job.seed);
      for (int l = 0; l < 4; ++l) words[j * 4 + l] = w.x[l];
    }
    const int64_t values = count * 4;
    if (job.kind == RandomKind::uniform) {
      for (int64_t k = 0; k < values; ++k) block[k] = tl_philox_uniform(words[k]);
    } else if (job.kind == RandomKind::normal) {
      for (int64_t k = 0; k < values; k += 2) {
        const PhiloxNormals v = tl_philox_normal2(words[k], words[k + 1]);
        block[k] = v.first;
        block[k + 1] = v.second;
      }
    } else {
      for (int64_t k = 0; k < last - first; ++k) ints[first + k] = tl_philox_integer(words[k], job.low, job.high);
      continue;
    }
    f32_to_f16(block, halves + first, last - first);
  }
}

#if defined(__x86_64__)
__attribute__((target("avx512f,avx512dq,avx512vl,avx512bw,avx2,fma,f16c"))) void fill_avx512(const Job& job, int64_t c0,
                                                                                           int64_t c1) {
  fill_counters(job, c0, c1);
}
__attribute__((target("avx2,fma,f16c"))) void fill_avx2(const Job& job, int64_t c0, int64_t c1) { fill_counters(job, c0, c1); }
#endif
void fill_plain(const Job& job, int64_t c0, int64_t c1) { fill_counters(job, c0, c1); }

using Fill = void (*)(const Job&, int64_t, int64_t);
// TL_CPU_SIMD=avx2 or =none caps the instruction set, as for the elementwise kernels.
Fill best_fill() {
  const char* cap = std::getenv("TL_CPU_SIMD");
  const std::string limit = cap ? cap : "";
  if (limit == "none") return &fill_plain;
#if defined(__x86_64__)
  if (limit != "avx2" && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c")) {
    return &fill_avx512;
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c")) return &fill_avx2;
#endif
  return &fill_plain;
}

}  // namespace

void CpuBackend::random(RandomKind kind, uint64_t seed, uint64_t offset, double low, double high, const Array& out) {
  const Job job{kind, seed, offset, static_cast<long long>(low), static_cast<long long>(high), out.numel(), out.data()};
  const int64_t counters = (job.n + 3) / 4;
  static const Fill fill = best_fill();
  parallel_for(counters, 4 * kCounters, [&](int64_t c0, int64_t c1) { fill(job, c0, c1); });
}

}  // namespace tensorlogic::cpu
