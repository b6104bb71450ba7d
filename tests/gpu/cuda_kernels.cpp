// Checks the CUDA backend's reduce, row, norm, gemm, tri and im2col/col2im kernels against
// double-precision host references (the Python suite covers the rest through the device fixture), and
// times the ones with performance bars (`cuda_kernels bench` prints one JSON object per line).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>
#include <string>

#include "reference.h"
#include "tensorlogic/tensorlogic.h"

using namespace tensorlogic;
using ref::Vec;

namespace {

const Device kCuda{DeviceType::cuda, 0};
std::mt19937_64 rng;
int failures = 0;

Backend& gpu() { return backend_for(kCuda); }

struct Host {
  std::vector<uint16_t> bits;
  Vec val;
};

Host random_f16(int64_t n, double lo, double hi) {
  std::uniform_real_distribution<float> dist(static_cast<float>(lo), static_cast<float>(hi));
  Host h{std::vector<uint16_t>(n), Vec(n)};
  for (int64_t i = 0; i < n; ++i) {
    h.bits[i] = f32_to_f16_bits(dist(rng));
    h.val[i] = f16_bits_to_f32(h.bits[i]);
  }
  return h;
}

Array upload(const Host& h, const Shape& shape) { return from_host(h.bits.data(), shape, Dtype::float16, kCuda); }

Array upload_i32(const std::vector<int32_t>& v, const Shape& shape) {
  return from_host(v.data(), shape, Dtype::int32, kCuda);
}

Vec download(const Array& a) {
  Vec out(a.numel());
  if (a.dtype() == Dtype::float16) {
    std::vector<uint16_t> bits(a.numel());
    to_host(a, bits.data());
    for (size_t i = 0; i < bits.size(); ++i) out[i] = f16_bits_to_f32(bits[i]);
  } else {
    std::vector<int32_t> v(a.numel());
    to_host(a, v.data());
    for (size_t i = 0; i < v.size(); ++i) out[i] = v[i];
  }
  return out;
}

// |got - want| <= atol + rtol |want| everywhere (NaN only where the reference is NaN); the reference is
// first rounded to f16 like the result (so values beyond ±65504 are inf on both sides).
void expect(const std::string& what, const Vec& got, const Vec& exact, double rtol, double atol, bool f16 = true) {
  Vec want = exact;
  if (f16) {
    for (double& v : want) v = f16_bits_to_f32(f32_to_f16_bits(static_cast<float>(v)));
  }
  int64_t bad = 0;
  std::string first;
  for (size_t i = 0; i < want.size(); ++i) {
    const bool ok = std::isnan(want[i]) ? std::isnan(got[i])
                                        : (got[i] == want[i] || std::fabs(got[i] - want[i]) <= atol + rtol * std::fabs(want[i]));
    if (!ok && bad++ < 3) first += " [" + std::to_string(i) + "] got " + std::to_string(got[i]) + " want " + std::to_string(want[i]);
  }
  if (got.size() != want.size()) bad = 1, first = " size mismatch";
  if (bad) {
    ++failures;
    std::printf("FAIL %s: %lld of %zu differ:%s\n", what.c_str(), static_cast<long long>(bad), want.size(), first.c_str());
  } else {
    std::printf("ok   %s\n", what.c_str());
  }
}

double max_abs(const Vec& v) {
  double m = 0.0;
  for (double x : v) m = std::max(m, std::fabs(x));
  return m;
}

std::string dims(std::initializer_list<int64_t> d) {
  std::string s;
  for (int64_t v : d) s += (s.empty() ? "" : "x") + std::to_string(v);
  return s;
}

void test_reduce() {
  const struct { int64_t outer, n, inner; } shapes[] = {
      {1, 1, 1}, {5, 333, 1}, {37, 4096, 1}, {1, 1 << 20, 1}, {1, 1000003, 1}, {3, 1000, 17}, {2, 100000, 3}, {4, 7, 1}};
  const struct { ReduceOp op; double p; const char* name; double rtol; } ops[] = {
      {ReduceOp::sum, 2, "sum", 2e-3},        {ReduceOp::mean, 2, "mean", 2e-3},     {ReduceOp::max, 2, "max", 0},
      {ReduceOp::min, 2, "min", 0},           {ReduceOp::argmax, 2, "argmax", 0},   {ReduceOp::argmin, 2, "argmin", 0},
      {ReduceOp::var, 2, "var", 4e-3},        {ReduceOp::logsumexp, 2, "logsumexp", 2e-3},
      {ReduceOp::norm, 2, "norm2", 2e-3},     {ReduceOp::norm, 1, "norm1", 2e-3},   {ReduceOp::norm, INFINITY, "norminf", 0},
      {ReduceOp::norm, 3, "norm3", 3e-3},     {ReduceOp::prod, 2, "prod", 4e-3}};
  for (const auto& s : shapes) {
    const Host x = random_f16(s.outer * s.n * s.inner, -2.0, 2.0);
    const Host near_one = random_f16(s.outer * s.n * s.inner, 0.999, 1.001);
    for (const auto& o : ops) {
      if (o.op == ReduceOp::prod && s.n > 5000) continue;
      const Host& data = o.op == ReduceOp::prod ? near_one : x;
      const Array in = upload(data, {s.outer, s.n, s.inner});
      const bool arg = o.op == ReduceOp::argmax || o.op == ReduceOp::argmin;
      const Array out = Array::empty({s.outer, s.inner}, arg ? Dtype::int32 : Dtype::float16, kCuda);
      ReduceParams params;
      params.p = o.p;
      gpu().reduce(o.op, in, s.outer, s.n, s.inner, out, params);
      const Vec want = ref::reduce(o.op, data.val, s.outer, s.n, s.inner, o.p, 1.0);
      const double atol = o.op == ReduceOp::mean ? 1e-4 : (o.op == ReduceOp::sum ? 1e-3 : 1e-5);
      expect(std::string("reduce ") + o.name + " " + dims({s.outer, s.n, s.inner}), download(out), want, o.rtol, atol, !arg);
    }
  }
}

void test_rows() {
  const struct { int64_t outer, n, inner; } shapes[] = {{4, 1, 1},    {3, 7, 1},     {64, 64, 1},   {5, 1000, 1},
                                                        {16, 4096, 1}, {2, 8200, 1}, {2, 70000, 1}, {3, 4097, 1},
                                                        {3, 50, 7}};
  for (const auto& s : shapes) {
    const Host x = random_f16(s.outer * s.n * s.inner, -6.0, 6.0);
    const Array in = upload(x, {s.outer, s.n, s.inner});
    for (bool log : {false, true}) {
      const Array out = Array::empty({s.outer, s.n, s.inner}, Dtype::float16, kCuda);
      gpu().rows(log ? RowOp::log_softmax : RowOp::softmax, in, s.outer, s.n, s.inner, out);
      expect(std::string(log ? "log_softmax " : "softmax ") + dims({s.outer, s.n, s.inner}), download(out),
             ref::softmax(x.val, s.outer, s.n, s.inner, log), 3e-3, log ? 3e-3 : 1e-6);
    }
  }
  const struct { int64_t rows, n; } norms[] = {{3, 8}, {7, 100}, {16, 4096}, {2, 70000}, {5, 1001}, {1, 1}};
  for (const auto& s : norms) {
    const Host x = random_f16(s.rows * s.n, -3.0, 5.0), w = random_f16(s.n, -2.0, 2.0), b = random_f16(s.n, -1.0, 1.0);
    const Array in = upload(x, {s.rows, s.n}), wa = upload(w, {s.n}), ba = upload(b, {s.n});
    for (int form = 0; form < 4; ++form) {
      const bool rms = form >= 2, affine = form % 2 == 1;
      const Array out = Array::empty({s.rows, s.n}, Dtype::float16, kCuda);
      gpu().norm(rms, in, s.rows, s.n, affine ? &wa : nullptr, affine ? &ba : nullptr, 1e-5, out);
      expect(std::string(rms ? "rms_norm" : "layer_norm") + (affine ? "+affine " : " ") + dims({s.rows, s.n}),
             download(out), ref::norm(rms, x.val, s.rows, s.n, affine ? &w.val : nullptr, affine ? &b.val : nullptr, 1e-5),
             3e-3, 3e-3);
    }
  }
}

// a [B, M, K] / b [B, K, N], optionally stored transposed or broadcast over the batch, with an epilogue.
void gemm_case(int64_t batch, int64_t m, int64_t n, int64_t k, bool ta, bool tb, bool bcast_b, int bias_form,
               int residual_form, Activation act) {
  const Host a = random_f16(batch * m * k, -1.0, 1.0);
  const Host b = random_f16((bcast_b ? 1 : batch) * k * n, -1.0, 1.0);
  auto transposed = [](const Host& h, int64_t bt, int64_t r, int64_t c) {  // [bt, r, c] stored as [bt, c, r]
    Host t = h;
    for (int64_t z = 0; z < bt; ++z)
      for (int64_t i = 0; i < r; ++i)
        for (int64_t j = 0; j < c; ++j) t.bits[(z * c + j) * r + i] = h.bits[(z * r + i) * c + j];
    return t;
  };
  const int64_t bb = bcast_b ? 1 : batch;
  Array da = ta ? transpose(upload(transposed(a, batch, m, k), {batch, k, m}), 1, 2) : upload(a, {batch, m, k});
  Array db = tb ? transpose(upload(transposed(b, bb, k, n), {bb, n, k}), 1, 2) : upload(b, {bb, k, n});
  if (bcast_b) db = expand(db, {batch, k, n});
  Vec b_full(batch * k * n);
  for (int64_t z = 0; z < batch; ++z)
    for (int64_t i = 0; i < k * n; ++i) b_full[z * k * n + i] = b.val[(bcast_b ? 0 : z) * k * n + i];

  const Host bias = random_f16(n, -1.0, 1.0);
  const Host res = random_f16(batch * m * n, -1.0, 1.0);
  Array bias_arr, res_arr;
  GemmEpilogue e;
  e.activation = act;
  if (bias_form == 1) bias_arr = upload(bias, {n});                                  // [N] vector (fused)
  if (bias_form == 2) bias_arr = expand(upload(bias, {1, 1, n}), {batch, m, n});     // expanded view
  if (bias_form) e.bias = &bias_arr;
  if (residual_form == 1) res_arr = upload(res, {batch, m, n});                      // contiguous (fused as C)
  if (residual_form == 2) res_arr = transpose(upload(transposed(res, batch, m, n), {batch, n, m}), 1, 2);
  if (residual_form) e.residual = &res_arr;
  const Array out = Array::empty({batch, m, n}, Dtype::float16, kCuda);
  gpu().gemm(da, db, out, e);
  const Vec want = ref::gemm(a.val, b_full, batch, m, n, k, bias_form ? &bias.val : nullptr,
                             residual_form ? &res.val : nullptr, act);
  const char* acts[] = {"none", "relu", "gelu", "gelu_tanh", "silu"};
  const std::string name = "gemm " + dims({batch, m, n, k}) + (ta ? " aT" : "") + (tb ? " bT" : "") +
                           (bcast_b ? " b-bcast" : "") + " bias" + std::to_string(bias_form) + " res" +
                           std::to_string(residual_form) + " " + acts[static_cast<int>(act)];
  expect(name, download(out), want, 3e-3, 2e-3 * std::max(1.0, max_abs(want)));
}

void test_gemm() {
  gemm_case(1, 64, 48, 32, false, false, false, 0, 0, Activation::none);
  gemm_case(1, 256, 384, 512, false, false, false, 0, 0, Activation::none);
  gemm_case(1, 256, 384, 512, true, false, false, 0, 0, Activation::none);
  gemm_case(1, 256, 384, 512, false, true, false, 0, 0, Activation::none);
  gemm_case(1, 256, 384, 512, true, true, false, 0, 0, Activation::none);
  gemm_case(3, 65, 33, 129, false, false, false, 0, 0, Activation::none);
  gemm_case(3, 65, 33, 129, true, true, false, 0, 0, Activation::none);
  gemm_case(4, 64, 40, 24, false, false, true, 0, 0, Activation::none);
  gemm_case(1, 1, 1, 1, false, false, false, 0, 0, Activation::none);
  gemm_case(1, 7, 1, 300, false, false, false, 0, 0, Activation::none);
  gemm_case(1, 128, 64, 96, false, false, false, 1, 0, Activation::none);
  gemm_case(1, 128, 64, 96, false, true, false, 1, 0, Activation::relu);
  gemm_case(2, 128, 64, 96, false, false, false, 1, 0, Activation::gelu_tanh);
  gemm_case(1, 128, 64, 96, false, false, false, 0, 0, Activation::relu);
  gemm_case(1, 128, 64, 96, false, false, false, 1, 1, Activation::relu);
  gemm_case(2, 33, 17, 40, false, false, false, 2, 2, Activation::gelu);
  gemm_case(1, 128, 64, 96, false, false, false, 1, 0, Activation::silu);
  gemm_case(1, 128, 64, 96, false, false, false, 0, 2, Activation::none);
  gemm_case(2, 5, 6, 0, false, false, false, 1, 0, Activation::none);
}

void test_tri_and_conv() {
  {  // tri over a transposed view
    const int64_t b = 2, r = 5, c = 7;
    const Host x = random_f16(b * r * c, -4, 4);
    const Array stored = upload(x, {b, c, r});
    const Array in = transpose(stored, 1, 2);  // logical [b, r, c]: element (z, i, j) = stored[z, j, i]
    for (int64_t k : {-1, 0, 2}) {
      for (bool upper : {false, true}) {
        const Array out = Array::empty({b, r, c}, Dtype::float16, kCuda);
        gpu().tri(in, k, upper, out);
        Vec want(b * r * c);
        for (int64_t z = 0; z < b; ++z)
          for (int64_t i = 0; i < r; ++i)
            for (int64_t j = 0; j < c; ++j) {
              const bool keep = upper ? (j - i) >= k : (j - i) <= k;
              want[(z * r + i) * c + j] = keep ? x.val[(z * c + j) * r + i] : 0.0;
            }
        expect(std::string(upper ? "triu" : "tril") + " k=" + std::to_string(k), download(out), want, 0, 0);
      }
    }
  }
  {  // im2col / col2im
    const int64_t n = 2, ch = 3, h = 9, w = 8, kernel[2] = {3, 2};
    Conv2dArgs args;
    args.stride[0] = 2, args.padding[0] = 1, args.dilation[1] = 2;
    const int64_t oh = (h + 2 * args.padding[0] - args.dilation[0] * (kernel[0] - 1) - 1) / args.stride[0] + 1;
    const int64_t ow = (w + 2 * args.padding[1] - args.dilation[1] * (kernel[1] - 1) - 1) / args.stride[1] + 1;
    const int64_t rows = ch * kernel[0] * kernel[1], l = oh * ow;
    const Host x = random_f16(n * ch * h * w, -4, 4);
    const Array cols = Array::empty({n, rows, l}, Dtype::float16, kCuda);
    gpu().im2col(upload(x, {n, ch, h, w}), kernel, args, oh, ow, cols);
    Vec want(n * rows * l, 0.0);
    const Host cg = random_f16(n * rows * l, -4, 4);
    Vec img(n * ch * h * w, 0.0);
    for (int64_t z = 0; z < n; ++z)
      for (int64_t c = 0; c < ch; ++c)
        for (int64_t i = 0; i < kernel[0]; ++i)
          for (int64_t j = 0; j < kernel[1]; ++j)
            for (int64_t y = 0; y < oh; ++y)
              for (int64_t q = 0; q < ow; ++q) {
                const int64_t row = (c * kernel[0] + i) * kernel[1] + j;
                const int64_t iy = y * args.stride[0] - args.padding[0] + i * args.dilation[0];
                const int64_t ix = q * args.stride[1] - args.padding[1] + j * args.dilation[1];
                const int64_t t = (z * rows + row) * l + y * ow + q;
                if (iy >= 0 && iy < h && ix >= 0 && ix < w) {
                  want[t] = x.val[((z * ch + c) * h + iy) * w + ix];
                  img[((z * ch + c) * h + iy) * w + ix] += cg.val[t];
                }
              }
    expect("im2col", download(cols), want, 0, 0);
    const Array out = zeros({n, ch, h, w}, Dtype::float16, kCuda);
    gpu().col2im(upload(cg, {n, rows, l}), kernel, args, oh, ow, out);
    expect("col2im", download(out), img, 2e-3, 2e-3);
  }
}

// Milliseconds per call of fn, from a host clock around `iters` queued calls after a warm-up.
double time_ms(const std::function<void()>& fn, int iters) {
  for (int i = 0; i < 3; ++i) fn();
  synchronize(kCuda);
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < iters; ++i) fn();
  synchronize(kCuda);
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / iters;
}

// A large random f16 array: 2^20 random values tiled.
Array big_random(const Shape& shape, double lo, double hi) {
  const int64_t n = numel_of(shape);
  const Host tile = random_f16(std::min<int64_t>(n, 1 << 20), lo, hi);
  std::vector<uint16_t> bits(n);
  for (int64_t i = 0; i < n; i += static_cast<int64_t>(tile.bits.size())) {
    std::memcpy(bits.data() + i, tile.bits.data(), sizeof(uint16_t) * std::min<int64_t>(tile.bits.size(), n - i));
  }
  return from_host(bits.data(), shape, Dtype::float16, kCuda);
}

void report(const char* op, const std::string& size, double ms, double bytes, double flops) {
  std::printf("{\"op\": \"%s\", \"size\": \"%s\", \"ms\": %.5f, \"GBps\": %.1f, \"TFLOPs\": %.2f}\n", op, size.c_str(), ms,
              bytes / ms / 1e6, flops / ms / 1e9);
  std::fflush(stdout);
}

void bench() {
  const int64_t rows = 8192, cols = 4096;
  {
    const Array x = big_random({rows, cols}, -4, 4), y = Array::empty({rows, cols}, Dtype::float16, kCuda);
    const Array w = big_random({cols}, -1, 1), b = big_random({cols}, -1, 1);
    const double bytes = 2.0 * 2 * rows * cols;
    report("softmax", "8192x4096", time_ms([&] { gpu().rows(RowOp::softmax, x, rows, cols, 1, y); }, 200), bytes, 0);
    report("log_softmax", "8192x4096", time_ms([&] { gpu().rows(RowOp::log_softmax, x, rows, cols, 1, y); }, 200), bytes, 0);
    report("layer_norm", "8192x4096", time_ms([&] { gpu().norm(false, x, rows, cols, &w, &b, 1e-5, y); }, 200), bytes, 0);
    report("rms_norm", "8192x4096", time_ms([&] { gpu().norm(true, x, rows, cols, &w, nullptr, 1e-5, y); }, 200), bytes, 0);
    const Array s = Array::empty({rows}, Dtype::float16, kCuda);
    report("sum_rows", "8192x4096", time_ms([&] { gpu().reduce(ReduceOp::sum, x, rows, cols, 1, s, {}); }, 200),
           2.0 * rows * cols, 0);
  }
  {
    const int64_t n = int64_t{1} << 28;
    const Array a = big_random({n}, -4, 4), b = big_random({n}, -4, 4), out = Array::empty({n}, Dtype::float16, kCuda);
    report("add", "2^28", time_ms([&] { gpu().binary(BinaryOp::add, Operand{&a, 0}, Operand{&b, 0}, out); }, 50), 6.0 * n, 0);
    report("relu", "2^28", time_ms([&] { gpu().unary(UnaryOp::relu, a, out, {}); }, 50), 4.0 * n, 0);
    const Array s = Array::empty({1}, Dtype::float16, kCuda);
    report("sum", "2^28", time_ms([&] { gpu().reduce(ReduceOp::sum, a, 1, n, 1, s, {}); }, 50), 2.0 * n, 0);
  }
  for (int64_t n : {1024, 4096, 8192}) {
    const Array a = big_random({1, n, n}, -1, 1), b = big_random({1, n, n}, -1, 1);
    const Array out = Array::empty({1, n, n}, Dtype::float16, kCuda);
    const int iters = n == 8192 ? 20 : (n == 4096 ? 50 : 200);
    report("matmul", std::to_string(n), time_ms([&] { gpu().gemm(a, b, out, {}); }, iters), 0, 2.0 * n * n * n);
  }
  {  // linear: x [4096, 4096] @ w.T + bias, relu (fused epilogue)
    const int64_t n = 4096;
    const Array x = big_random({1, n, n}, -1, 1), w = big_random({1, n, n}, -1, 1), bias = big_random({n}, -1, 1);
    const Array out = Array::empty({1, n, n}, Dtype::float16, kCuda);
    const Array wt = transpose(w, 1, 2);
    GemmEpilogue e;
    e.bias = &bias;
    e.activation = Activation::relu;
    report("linear_bias_relu", "4096", time_ms([&] { gpu().gemm(x, wt, out, e); }, 50), 0, 2.0 * n * n * n);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (!is_available(DeviceType::cuda)) {
    std::printf("no cuda device\n");
    return 2;
  }
  const uint64_t seed = std::chrono::steady_clock::now().time_since_epoch().count();
  rng.seed(seed);
  if (argc > 1 && std::string(argv[1]) == "bench") {
    bench();
    return 0;
  }
  std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
  test_reduce();
  test_rows();
  test_gemm();
  test_tri_and_conv();
  synchronize(kCuda);
  std::printf("%s: %d failure(s)\n", failures ? "FAILED" : "PASSED", failures);
  return failures ? 1 : 0;
}
