// Element types and the f16 <-> f32 conversions every backend agrees on.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>

namespace tensorlogic {

// float16 is the only floating type. The integer and bool types are exact and exist for what f16 cannot
// count: bool for comparison results and masks (one byte, 0 or 1, as numpy and DLPack hold it), int32 and
// int64 for indices, targets, argmax results and counts (int64 is PyTorch's default integer type).
enum class Dtype : uint8_t { float16, int32, int64, bool_ };

inline size_t itemsize(Dtype dtype) {
  switch (dtype) {
    case Dtype::float16: return 2;
    case Dtype::int32: return 4;
    case Dtype::int64: return 8;
    case Dtype::bool_: return 1;
  }
  return 0;
}
inline const char* dtype_name(Dtype dtype) {
  switch (dtype) {
    case Dtype::float16: return "float16";
    case Dtype::int32: return "int32";
    case Dtype::int64: return "int64";
    case Dtype::bool_: return "bool";
  }
  return "?";
}
inline bool is_integer(Dtype dtype) { return dtype == Dtype::int32 || dtype == Dtype::int64; }

// PyTorch's type promotion between tensors: bool < int32 < int64 < float16 (every float is f16).
inline Dtype promote_types(Dtype a, Dtype b) {
  auto rank = [](Dtype d) {
    switch (d) {
      case Dtype::bool_: return 0;
      case Dtype::int32: return 1;
      case Dtype::int64: return 2;
      case Dtype::float16: break;
    }
    return 3;
  };
  return rank(a) >= rank(b) ? a : b;
}

// Whether a result of dtype `from` may be written into a tensor of dtype `to` (PyTorch's can_cast, which its
// in-place ops check): never a float into an integer or bool tensor, nor an integer into a bool tensor.
inline bool can_cast(Dtype from, Dtype to) {
  if (from == Dtype::float16) return to == Dtype::float16;
  return from == Dtype::bool_ || to != Dtype::bool_;
}

// IEEE binary16 stored as its bit pattern; arithmetic happens in f32.
struct half {
  uint16_t bits;
};

// Round-to-nearest-even f32 -> f16, with overflow to inf and NaN preserved (portable scalar form;
// the CPU backend uses F16C/NEON for bulk conversion, which gives identical results).
inline uint16_t f32_to_f16_bits(float value) {
  uint32_t x;
  std::memcpy(&x, &value, 4);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t abs = x & 0x7fffffffu;
  if (abs >= 0x7f800000u) return static_cast<uint16_t>(sign | 0x7c00u | (abs > 0x7f800000u ? 0x200u : 0u));
  if (abs >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // rounds to >= 65520: inf
  if (abs < 0x38800000u) {                                               // subnormal or zero in f16
    if (abs < 0x33000000u) return static_cast<uint16_t>(sign);           // below half the smallest subnormal
    const uint32_t mant = (abs & 0x7fffffu) | 0x800000u;
    const int shift = 126 - static_cast<int>(abs >> 23);  // 14..24
    uint32_t result = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1u);
    const uint32_t halfway = 1u << (shift - 1);
    if (rem > halfway || (rem == halfway && (result & 1u))) ++result;
    return static_cast<uint16_t>(sign | result);
  }
  uint32_t result = ((abs - 0x38000000u) >> 13);
  const uint32_t rem = abs & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (result & 1u))) ++result;
  return static_cast<uint16_t>(sign | result);
}

inline float f16_bits_to_f32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  const uint32_t mant = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else if (exp != 0) {
    bits = sign | ((exp + 112u) << 23) | (mant << 13);
  } else if (mant == 0) {
    bits = sign;
  } else {  // subnormal: renormalise
    uint32_t m = mant;
    int e = -1;
    do { ++e; m <<= 1; } while ((m & 0x400u) == 0);
    bits = sign | ((112u - e) << 23) | ((m & 0x3ffu) << 13);
  }
  float out;
  std::memcpy(&out, &bits, 4);
  return out;
}

inline half to_half(float value) { return half{f32_to_f16_bits(value)}; }
inline float to_float(half value) { return f16_bits_to_f32(value.bits); }

constexpr float kHalfMax = 65504.0f;

// Calls fn(T{}) with the element type that holds `dtype` (half, int32_t, int64_t, bool), so one template
// serves every dtype in a backend that needs per-type loops (copies, fills, sorts, integer reductions).
template <typename F>
decltype(auto) visit_dtype(Dtype dtype, F&& fn) {
  switch (dtype) {
    case Dtype::int32: return fn(int32_t{});
    case Dtype::int64: return fn(int64_t{});
    case Dtype::bool_: return fn(bool{});
    case Dtype::float16: break;
  }
  return fn(half{});
}

// Calls fn(T{}) with the element type of a sort key: Half (the backend's f16 type), int32_t or int64_t
// (the core sorts bool as int32).
template <typename Half, typename F>
void visit_sort_key(Dtype dtype, F&& fn) {
  switch (dtype) {
    case Dtype::float16: return fn(Half{});
    case Dtype::int32: return fn(int32_t{});
    default: return fn(int64_t{});
  }
}

// Calls fn(T{}) with the integer type of an int32 or int64 array.
template <typename F>
void visit_int(Dtype dtype, F&& fn) {
  if (dtype == Dtype::int64) {
    fn(int64_t{});
  } else {
    fn(int32_t{});
  }
}

}  // namespace tensorlogic
