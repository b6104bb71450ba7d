// What the headers of cpp/kernels/ need to compile unchanged as C++ (the CPU backend), CUDA (device
// code) and the Metal Shading Language (metal/common.h includes them; MSL 3.0 is C++14 without the
// standard library): the function qualifier, the address space of pointers to locals, and the f32 math
// functions under their unqualified names. TL_METAL_COMPAT marks the C++ stand-in for MSL of tests/apple.
#pragma once

#if defined(__METAL_VERSION__) || defined(TL_METAL_COMPAT)
#define TL_MSL 1
#define TL_THREAD thread  // MSL pointers name their address space (the compat header defines it away)
#else
#define TL_MSL 0
#define TL_THREAD
#include <cmath>
#include <cstdint>
#include <cstring>  // memcpy, the bit casts of optimizer.h
#endif

// Always inlined, so that an op passed as a constant selects its case at compile time.
#if defined(__METAL_VERSION__)
#define TL_FN inline
#elif defined(__CUDACC__)
#define TL_FN __host__ __device__ __forceinline__
#else
#define TL_FN inline __attribute__((always_inline))
#endif

namespace tensorlogic {
namespace kernels {

#if !TL_MSL
using std::acos;
using std::acosh;
using std::asin;
using std::asinh;
using std::atan;
using std::atan2;
using std::atanh;
using std::ceil;
using std::copysign;
using std::cos;
using std::cosh;
using std::exp2;
using std::exp;
using std::fabs;
using std::floor;
using std::fmax;
using std::fmin;
using std::fmod;
using std::isfinite;
using std::isinf;
using std::log;
using std::pow;
using std::rint;
using std::sin;
using std::sinh;
using std::sqrt;
using std::tan;
using std::tanh;
#endif

}  // namespace kernels
}  // namespace tensorlogic
