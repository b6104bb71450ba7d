// The subset of the Metal Shading Language that metal/*.metal uses, as C++17, so that every kernel is
// compiled by g++/clang and executed on the CPU by tests/apple (SPEC §8). Only what MSL itself has is
// provided here, so a kernel that builds against this header also builds as MSL.
//
// Execution model (see dispatch below): one dispatch runs its threadgroups one after another; the
// threads of a threadgroup are real std::threads, so threadgroup_barrier and the simdgroup collectives
// are real barriers. `threadgroup` maps to `static`: threadgroup arrays must be declared at kernel scope
// and passed to helpers as template/auto parameters (a local `threadgroup T* p = ...` would be static).
// simdgroup_matrix keeps a full 8x8 copy in every lane (all lanes load the same data; lane 0 stores).
#pragma once
#define TL_METAL_COMPAT 1  // cpp/kernels/portable.h: compile the shared math as MSL would see it
#include <math.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

#include "tensorlogic/dtype.h"

typedef unsigned char uchar;
typedef unsigned short ushort;
typedef unsigned int uint;
typedef unsigned long ulong;

// IEEE binary16 in memory; arithmetic goes through float (kernels compute in f32 and round once).
struct half {
  uint16_t bits;
  half() = default;
  half(float f) : bits(from_float(f)) {}
  operator float() const { return to_float(bits); }

  // The engine's own conversions (round to nearest even), so the harness rounds exactly as the backends.
  static uint16_t from_float(float f) { return tensorlogic::f32_to_f16_bits(f); }
  static float to_float(uint16_t h) { return tensorlogic::f16_bits_to_f32(h); }
};
static_assert(sizeof(half) == 2, "half must be 2 bytes");

// ---- vectors ---------------------------------------------------------------------------------------
template <class T, int N> struct tl_vec;
template <class T> struct tl_vec<T, 2> {
  T x, y;
  tl_vec() = default;
  explicit tl_vec(T v) : x(v), y(v) {}
  tl_vec(T a, T b) : x(a), y(b) {}
  T& operator[](int i) { return (&x)[i]; }
  T operator[](int i) const { return (&x)[i]; }
};
template <class T> struct tl_vec<T, 3> {
  T x, y, z;
  tl_vec() = default;
  explicit tl_vec(T v) : x(v), y(v), z(v) {}
  tl_vec(T a, T b, T c) : x(a), y(b), z(c) {}
  T& operator[](int i) { return (&x)[i]; }
  T operator[](int i) const { return (&x)[i]; }
};
template <class T> struct tl_vec<T, 4> {
  T x, y, z, w;
  tl_vec() = default;
  explicit tl_vec(T v) : x(v), y(v), z(v), w(v) {}
  tl_vec(T a, T b, T c, T d) : x(a), y(b), z(c), w(d) {}
  T& operator[](int i) { return (&x)[i]; }
  T operator[](int i) const { return (&x)[i]; }
};
#define TL_VEC_OP(op)                                                                  \
  template <class T, int N> tl_vec<T, N> operator op(tl_vec<T, N> a, tl_vec<T, N> b) { \
    for (int i = 0; i < N; ++i) a[i] = a[i] op b[i];                                    \
    return a;                                                                          \
  }                                                                                    \
  template <class T, int N> tl_vec<T, N> operator op(tl_vec<T, N> a, T b) {             \
    for (int i = 0; i < N; ++i) a[i] = a[i] op b;                                       \
    return a;                                                                          \
  }
TL_VEC_OP(+)
TL_VEC_OP(-)
TL_VEC_OP(*)
TL_VEC_OP(/)
#undef TL_VEC_OP

#define TL_VEC_TYPES(T)          \
  typedef tl_vec<T, 2> T##2;     \
  typedef tl_vec<T, 3> T##3;     \
  typedef tl_vec<T, 4> T##4;
TL_VEC_TYPES(float)
TL_VEC_TYPES(half)
TL_VEC_TYPES(int)
TL_VEC_TYPES(uint)
TL_VEC_TYPES(ushort)
TL_VEC_TYPES(ulong)
#undef TL_VEC_TYPES

// ---- the threadgroup emulation ---------------------------------------------------------------------
namespace tlcpu {

// A reusable barrier; a thread that waits 30 s means a kernel reached a barrier divergently (a bug on
// the GPU too): report it and stop rather than hang the test run.
class Barrier {
 public:
  explicit Barrier(int count) : count_(count) {}
  void wait() {
    std::unique_lock<std::mutex> lock(mutex_);
    const uint64_t gen = generation_;
    if (++arrived_ == count_) {
      arrived_ = 0;
      ++generation_;
      cv_.notify_all();
      return;
    }
    if (!cv_.wait_for(lock, std::chrono::seconds(30), [&] { return generation_ != gen; })) {
      std::fprintf(stderr, "metal_cpu: barrier timeout (divergent threadgroup_barrier or simdgroup call)\n");
      std::abort();
    }
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  int count_;
  int arrived_ = 0;
  uint64_t generation_ = 0;
};

constexpr int kSimdWidth = 32;

struct Simdgroup {
  explicit Simdgroup(int n) : lanes(n), barrier(n) {}
  int lanes;
  Barrier barrier;
  alignas(16) unsigned char slots[kSimdWidth][64];  // one value per lane for the collectives
};

struct Group {
  Barrier barrier;
  std::vector<std::unique_ptr<Simdgroup>> simdgroups;
  explicit Group(int threads) : barrier(threads) {
    for (int first = 0; first < threads; first += kSimdWidth) {
      simdgroups.emplace_back(new Simdgroup(threads - first < kSimdWidth ? threads - first : kSimdWidth));
    }
  }
};

struct ThreadCtx {
  uint3 gid, lid, tgid, tg_size, grid_groups;
  uint flat_lid, simd_lane, simd_group;
  Group* group;
};

inline thread_local ThreadCtx* current = nullptr;

template <class T> T position(uint3 v);
template <> inline uint position<uint>(uint3 v) { return v.x; }
template <> inline uint2 position<uint2>(uint3 v) { return uint2(v.x, v.y); }
template <> inline uint3 position<uint3>(uint3 v) { return v; }
template <> inline ushort position<ushort>(uint3 v) { return static_cast<ushort>(v.x); }

// dispatchThreadgroups: `groups` threadgroups of `tg` threads each.
inline void dispatch(const uint32_t groups[3], const uint32_t tg[3], const std::function<void(const ThreadCtx&)>& body) {
  const int threads = static_cast<int>(tg[0] * tg[1] * tg[2]);
  Group group(threads);
  std::vector<std::thread> workers;
  workers.reserve(threads);
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      ThreadCtx ctx{};
      ctx.group = &group;
      ctx.tg_size = uint3(tg[0], tg[1], tg[2]);
      ctx.grid_groups = uint3(groups[0], groups[1], groups[2]);
      ctx.lid = uint3(t % tg[0], (t / tg[0]) % tg[1], t / (tg[0] * tg[1]));
      ctx.flat_lid = static_cast<uint>(t);
      ctx.simd_lane = static_cast<uint>(t % kSimdWidth);
      ctx.simd_group = static_cast<uint>(t / kSimdWidth);
      current = &ctx;
      for (uint32_t gz = 0; gz < groups[2]; ++gz)
        for (uint32_t gy = 0; gy < groups[1]; ++gy)
          for (uint32_t gx = 0; gx < groups[0]; ++gx) {
            ctx.tgid = uint3(gx, gy, gz);
            ctx.gid = uint3(gx * tg[0] + ctx.lid.x, gy * tg[1] + ctx.lid.y, gz * tg[2] + ctx.lid.z);
            body(ctx);
            group.barrier.wait();  // the next threadgroup reuses the `static` threadgroup memory
          }
      current = nullptr;
    });
  }
  for (auto& w : workers) w.join();
}

// Every lane publishes `v`; returns after all lanes of the simdgroup did, with `f` applied to the lanes.
template <class T, class F> T collective(T v, F f) {
  static_assert(sizeof(T) <= 64, "simdgroup value too large");
  ThreadCtx& ctx = *current;
  Simdgroup& sg = *ctx.group->simdgroups[ctx.simd_group];
  std::memcpy(sg.slots[ctx.simd_lane], &v, sizeof(T));
  sg.barrier.wait();
  auto lane = [&](int i) {
    T x;
    std::memcpy(&x, sg.slots[i], sizeof(T));
    return x;
  };
  const T result = f(lane, sg.lanes, static_cast<int>(ctx.simd_lane));
  sg.barrier.wait();  // nobody overwrites a slot before every lane has read
  return result;
}

}  // namespace tlcpu

// ---- the metal namespace ---------------------------------------------------------------------------
namespace metal {

enum class mem_flags { mem_none = 0, mem_device = 1, mem_threadgroup = 2, mem_texture = 4 };

inline void threadgroup_barrier(mem_flags) { tlcpu::current->group->barrier.wait(); }
inline void simdgroup_barrier(mem_flags) {
  tlcpu::ThreadCtx& c = *tlcpu::current;
  c.group->simdgroups[c.simd_group]->barrier.wait();
}

template <class T> T min(T a, T b) { return b < a ? b : a; }
template <class T> T max(T a, T b) { return a < b ? b : a; }
template <class T> T clamp(T x, T lo, T hi) { return min(max(x, lo), hi); }
template <class T> T select(T a, T b, bool c) { return c ? b : a; }
// exp, log, tanh, isnan, ... for float come from <math.h> (its float overloads are what MSL computes).
inline float rsqrt(float x) { return 1.0f / sqrtf(x); }
namespace precise {
inline float sqrt(float x) { return sqrtf(x); }  // IEEE, correctly rounded (what MSL's precise:: promises)
}  // namespace precise
inline float fract(float x) { return x - floorf(x); }
inline float saturate(float x) { return fminf(fmaxf(x, 0.0f), 1.0f); }
inline uint mulhi(uint a, uint b) { return static_cast<uint>((static_cast<uint64_t>(a) * b) >> 32); }
template <class To, class From> To as_type(From v) {
  static_assert(sizeof(To) == sizeof(From), "as_type needs equal sizes");
  To t;
  std::memcpy(&t, &v, sizeof(To));
  return t;
}

template <class T> T simd_sum(T v) {
  return tlcpu::collective(v, [](auto lane, int n, int) {
    T s = lane(0);
    for (int i = 1; i < n; ++i) s = s + lane(i);
    return s;
  });
}
template <class T> T simd_max(T v) {
  return tlcpu::collective(v, [](auto lane, int n, int) {
    T s = lane(0);
    for (int i = 1; i < n; ++i) s = fmax(s, lane(i));
    return s;
  });
}
template <class T> T simd_min(T v) {
  return tlcpu::collective(v, [](auto lane, int n, int) {
    T s = lane(0);
    for (int i = 1; i < n; ++i) s = fmin(s, lane(i));
    return s;
  });
}
template <class T> T simd_shuffle(T v, ushort from) {
  return tlcpu::collective(v, [from](auto lane, int n, int self) { return lane(from < n ? from : self); });
}
template <class T> T simd_broadcast(T v, ushort from) { return simd_shuffle(v, from); }
template <class T> T simd_shuffle_down(T v, ushort delta) {
  return tlcpu::collective(v, [delta](auto lane, int n, int self) { return lane(self + delta < n ? self + delta : self); });
}
template <class T> T simd_shuffle_xor(T v, ushort mask) {
  return tlcpu::collective(v, [mask](auto lane, int n, int self) { return lane((self ^ mask) < n ? (self ^ mask) : self); });
}

// simdgroup_matrix: every lane holds the whole matrix (all lanes of a simdgroup pass the same arguments).
template <class T, int R, int C> struct simdgroup_matrix {
  T e[R][C];
  simdgroup_matrix() = default;
  explicit simdgroup_matrix(T v) {
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < C; ++c) e[r][c] = v;
  }
};
typedef simdgroup_matrix<float, 8, 8> simdgroup_float8x8;
typedef simdgroup_matrix<half, 8, 8> simdgroup_half8x8;

template <class T, int R, int C> simdgroup_matrix<T, R, C> make_filled_simdgroup_matrix(T v) {
  return simdgroup_matrix<T, R, C>(v);
}

// MSL's origin is (x = column, y = row).
template <class T, int R, int C, class U>
void simdgroup_load(simdgroup_matrix<T, R, C>& d, const U* src, ulong elements_per_row = C,
                    ulong2 origin = ulong2(0, 0), bool transpose = false) {
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) {
      const ulong row = origin.y + (transpose ? c : r), col = origin.x + (transpose ? r : c);
      d.e[r][c] = T(float(src[row * elements_per_row + col]));
    }
}
template <class T, int R, int C, class U>
void simdgroup_store(const simdgroup_matrix<T, R, C>& a, U* dst, ulong elements_per_row = C,
                     ulong2 origin = ulong2(0, 0), bool transpose = false) {
  if (tlcpu::current->simd_lane != 0) return;
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) {
      const ulong row = origin.y + (transpose ? c : r), col = origin.x + (transpose ? r : c);
      dst[row * elements_per_row + col] = U(float(a.e[r][c]));
    }
}
template <class T, class A, class B, int M, int K, int N>
void simdgroup_multiply_accumulate(simdgroup_matrix<T, M, N>& d, const simdgroup_matrix<A, M, K>& a,
                                   const simdgroup_matrix<B, K, N>& b, const simdgroup_matrix<T, M, N>& c) {
  simdgroup_matrix<T, M, N> out;
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j) {
      float s = float(c.e[i][j]);
      for (int k = 0; k < K; ++k) s = fmaf(float(a.e[i][k]), float(b.e[k][j]), s);
      out.e[i][j] = T(s);
    }
  d = out;
}

// Atomics on device memory (MSL's atomic_uint / atomic_int over 32-bit words).
typedef std::atomic<uint> atomic_uint;
typedef std::atomic<int> atomic_int;
using std::memory_order_relaxed;
template <class A, class T> T atomic_fetch_or_explicit(volatile A* obj, T v, std::memory_order o) {
  return const_cast<A*>(obj)->fetch_or(v, o);
}
template <class A, class T> T atomic_fetch_add_explicit(volatile A* obj, T v, std::memory_order o) {
  return const_cast<A*>(obj)->fetch_add(v, o);
}
template <class A> auto atomic_load_explicit(volatile A* obj, std::memory_order o) {
  return const_cast<A*>(obj)->load(o);
}

}  // namespace metal

// Address spaces and function qualifiers (after every standard header: `thread` and `kernel` are names
// that those headers use).
#define device
#define constant
#define thread
#define threadgroup static
#define kernel
