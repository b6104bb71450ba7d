// Fused optimizer kernels: per block, the parameter is widened to f32 and its Kahan compensation added,
// PyTorch's update (cpp/kernels/optimizer.h) runs in f32 registers, and the result is rounded to f16 once
// with the residual kept (in 16 bits: kernels::compensation_count).
#include <algorithm>
#include <cmath>

#include "../core/op_dispatch.h"
#include "../kernels/optimizer.h"
#include "cpu_backend.h"
#include "f16_convert.h"
#include "parallel.h"

namespace tensorlogic::cpu {
namespace {

constexpr int64_t kBlock = 256;
constexpr int64_t kGrain = 1 << 14;

// SLOTS is c.slots (dispatch_slots), so that the slot values live in registers and the element loop
// vectorises: with a run-time count it stayed scalar (measured in benchmarks/results/cpu_notes.md).
template <OptimizerKind K, int SLOTS>
void step_all(const kernels::OptimizerCoeffs& c, const Array& param, const Array& grad,
              const std::vector<Array>& state) {
  half* p = param.data_as<half>();
  const half* gp = grad.data_as<half>();
  short* comp = reinterpret_cast<short*>(state[0].data_as<half>());
  float* slots[3] = {nullptr, nullptr, nullptr};
  for (int k = 0; k < SLOTS; ++k) slots[k] = reinterpret_cast<float*>(state[k + 1].data_as<int32_t>());
  parallel_for(param.numel(), kGrain, [&](int64_t begin, int64_t end) {
    // A local copy: the stores below could alias `c` for all the compiler knows, which would keep its
    // fields' tests inside the loop (no unswitching, no vectors).
    const kernels::OptimizerCoeffs cc = c;
    float x[kBlock], g[kBlock], rounded[kBlock];
    for (int64_t b = begin; b < end; b += kBlock) {
      const int64_t n = std::min(kBlock, end - b);
      f16_to_f32(p + b, x, n);
      f16_to_f32(gp + b, g, n);
      short* cp = comp + b;
      float* s0 = SLOTS > 0 ? slots[0] + b : nullptr;
      float* s1 = SLOTS > 1 ? slots[1] + b : nullptr;
      float* s2 = SLOTS > 2 ? slots[2] + b : nullptr;
      for (int64_t i = 0; i < n; ++i) {
        float s[3] = {SLOTS > 0 ? s0[i] : 0.0f, SLOTS > 1 ? s1[i] : 0.0f, SLOTS > 2 ? s2[i] : 0.0f};
        x[i] = kernels::optimizer_update(K, cc, kernels::compensated(x[i], cp[i]), g[i], s);
        if (SLOTS > 0) s0[i] = s[0];
        if (SLOTS > 1) s1[i] = s[1];
        if (SLOTS > 2) s2[i] = s[2];
      }
      f32_to_f16(x, p + b, n);
      f16_to_f32(p + b, rounded, n);
      for (int64_t i = 0; i < n; ++i) cp[i] = kernels::compensation_count(x[i], rounded[i]);
    }
  });
}

}  // namespace

void CpuBackend::optimizer_step(OptimizerKind kind, const OptimizerParams& params, const Array& param,
                                const Array& grad, const std::vector<Array>& state) {
  const kernels::OptimizerCoeffs c = optimizer_coeffs(kind, params, param.numel());
  dispatch_optimizer(kind, [&](auto kind_tag) {
    constexpr OptimizerKind K = decltype(kind_tag)::value;
    dispatch_slots(c.slots, [&](auto slots) { step_all<K, decltype(slots)::value>(c, param, grad, state); });
  });
}

}  // namespace tensorlogic::cpu
