// Hostile calls through the public C++ API, each of which must throw its typed error (errors.h) instead of
// crashing, hanging or reading memory outside an array: found by attack round 4, where every one of them
// segfaulted, looped forever or read out of bounds. Prints "ok NAME" per case, "WRONG NAME: ..." otherwise.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include <tensorlogic/tensorlogic.h>
#include <tensorlogic/logic.h>
#include <tensorlogic/memory.h>
#include <tensorlogic/optim.h>

namespace tl = tensorlogic;
using tl::Array;

namespace {

const tl::Device cpu{tl::DeviceType::cpu, 0};
int wrong = 0;

Array f16(const tl::Shape& shape) { return tl::ones(shape, tl::Dtype::float16, cpu); }

// Runs `call`, which must throw E (or a subclass).
template <typename E>
void expect_throw(const char* name, const std::function<void()>& call) {
  try {
    call();
    std::printf("WRONG %s: returned\n", name);
    ++wrong;
  } catch (const E&) {
    std::printf("ok %s\n", name);
  } catch (const std::exception& e) {
    std::printf("WRONG %s: %s\n", name, e.what());
    ++wrong;
  }
}

}  // namespace

int main() {
  using Arg = std::invalid_argument;  // ArgumentError, or the ShapeMismatchError or DtypeError an op raises first
  const Array undefined;
  std::vector<tl::half> out(16);
  // An undefined (default-constructed) Array given to an op.
  expect_throw<Arg>("sum undefined", [&] { tl::sum(undefined); });
  expect_throw<Arg>("add undefined", [&] { tl::add(undefined, f16({2})); });
  expect_throw<Arg>("matmul undefined", [&] { tl::matmul(undefined, undefined); });
  expect_throw<Arg>("to_host undefined", [&] { tl::to_host(undefined, out.data()); });
  expect_throw<Arg>("cat undefined", [&] { tl::cat({undefined, f16({2})}, 0); });
  expect_throw<Arg>("linear undefined bias", [&] { tl::linear(f16({2, 2}), f16({2, 2}), undefined); });
  expect_throw<Arg>("where undefined", [&] { tl::where(undefined, f16({2}), f16({2})); });
  expect_throw<Arg>("layer_norm undefined weight", [&] { tl::layer_norm(f16({2, 2}), {2}, undefined, std::nullopt); });
  expect_throw<Arg>("attention undefined mask", [&] {
    tl::scaled_dot_product_attention(f16({1, 2, 2}), f16({1, 2, 2}), f16({1, 2, 2}), undefined, false, std::nullopt);
  });
  expect_throw<Arg>("check_finite undefined", [&] { tl::check_finite_and_unscale({undefined}, 0.5); });
  expect_throw<Arg>("set_loss_scale undefined", [&] { tl::set_loss_scale({}, 2.0); });
  expect_throw<Arg>("set_loss_scale of a large array", [&] {
    tl::LossScale s = tl::make_loss_scale(1.0, 0, cpu);
    s.scale = tl::zeros({1 << 20}, tl::Dtype::int32, cpu);
    tl::set_loss_scale(s, 2.0);
  });
  // Views and arrays whose elements lie outside their storage.
  const Array two = f16({2});
  expect_throw<Arg>("view_as past the storage", [&] { tl::to_host(two.view_as({1000000}, {1}, 0), out.data()); });
  expect_throw<Arg>("view_as negative offset", [&] { two.view_as({2}, {1}, -100); });
  expect_throw<Arg>("view_as negative stride", [&] { two.view_as({2}, {-1}, 1); });
  expect_throw<Arg>("view_as huge stride", [&] { two.view_as({2}, {std::numeric_limits<int64_t>::max()}, 0); });
  expect_throw<Arg>("view_as strides of another rank", [&] { two.view_as({2, 2}, {1}, 0); });
  expect_throw<Arg>("a wider dtype over the storage", [&] {  // 128 bytes of f16 (a 64-byte bucket would hold 2 int64s)
    Array(f16({64}).storage(), {64}, {1}, 0, tl::Dtype::int64);
  });
  expect_throw<Arg>("no storage", [&] { Array(nullptr, {2}, {1}, 0, tl::Dtype::float16); });
  expect_throw<tl::DtypeError>("unknown dtype", [&] { Array(two.storage(), {1}, {1}, 0, static_cast<tl::Dtype>(9)); });
  expect_throw<tl::DtypeError>("empty of an unknown dtype", [&] { tl::zeros({2}, static_cast<tl::Dtype>(7), cpu); });
  expect_throw<Arg>("from_memory null", [&] {
    Array::from_memory(nullptr, {4}, {1}, tl::Dtype::float16, cpu, nullptr);
  });
  expect_throw<Arg>("from_host null", [&] { tl::from_host(nullptr, {4}, tl::Dtype::float16, cpu); });
  expect_throw<Arg>("move_to null", [&] { f16({2}).storage()->move_to(nullptr, nullptr); });
  // Op enums outside their tables.
  expect_throw<Arg>("unknown unary op", [&] { tl::unary(static_cast<tl::UnaryOp>(250), two); });
  expect_throw<Arg>("unknown binary op", [&] { tl::binary(static_cast<tl::BinaryOp>(250), two, two); });
  expect_throw<Arg>("unknown reduction", [&] { tl::reduce(static_cast<tl::ReduceOp>(250), two, {}, false); });
  expect_throw<Arg>("unknown ternary op", [&] { tl::ternary(static_cast<tl::TernaryOp>(250), two, two, two); });
  expect_throw<Arg>("unknown scan", [&] { tl::scan(static_cast<tl::ScanOp>(9), two, 0); });
  expect_throw<Arg>("unknown activation", [&] {
    tl::linear(f16({2, 3}), f16({4, 3}), std::nullopt, static_cast<tl::Activation>(99));
  });
  expect_throw<Arg>("unknown optimizer", [&] {
    tl::optimizer_step(static_cast<tl::OptimizerKind>(99), {}, f16({2}), f16({2}), {f16({2})});
  });
  expect_throw<Arg>("unknown cell", [&] {
    tl::recurrent_cell(static_cast<tl::CellKind>(9), f16({2, 6}), f16({2, 6}), f16({2, 2}), std::nullopt);
  });
  expect_throw<Arg>("unknown quantisation", [&] {
    const std::vector<int32_t> words(9, 0);
    tl::quantized_linear(f16({1, 32}), tl::from_host(words.data(), {1, 9}, tl::Dtype::int32, cpu),
                         static_cast<tl::QuantType>(40), 32, std::nullopt);
  });
  // Sizes past what a machine holds, and counts that hung.
  expect_throw<tl::OutOfMemoryError>("bucket of SIZE_MAX bytes", [&] { tl::BufferCache::bucket_size(SIZE_MAX); });
  expect_throw<tl::OutOfMemoryError>("cat past int64", [&] {
    const int64_t half = std::numeric_limits<int64_t>::max() / 2 + 1;
    tl::cat({tl::expand(f16({1}), {half}), tl::expand(f16({1}), {half})}, 0);
  });
  expect_throw<Arg>("2^30 threads", [&] { tl::set_cpu_num_threads(1 << 30); });
  expect_throw<Arg>("0 threads", [&] { tl::set_cpu_num_threads(0); });
  expect_throw<Arg>("a relation of -5 tuples", [&] {
    tl::logic::Relation r;
    r.lows = {0};
    r.sizes = {3};
    r.count = -5;
    tl::logic::linear_fixpoint({r}, {}, 10, 1.0);
  });
  // Numbers an integer array cannot hold (their conversion is undefined: x86 gave INT64_MIN).
  expect_throw<Arg>("full int64 with NaN", [&] { tl::full({2}, NAN, tl::Dtype::int64, cpu); });
  expect_throw<Arg>("fill_ int32 with 2^40", [&] { tl::fill_(tl::zeros({2}, tl::Dtype::int32, cpu), 0x1p40); });
  expect_throw<Arg>("pad int64 with inf", [&] {
    tl::pad(tl::zeros({2}, tl::Dtype::int64, cpu), {1, 1}, "constant", INFINITY);
  });
  // Attention statistics of the wrong dtype (float16 stats were read as int32 words, past their bytes).
  expect_throw<Arg>("attention backward with float16 stats", [&] {
    tl::scaled_dot_product_attention_backward(f16({1, 2, 4}), f16({1, 3, 4}), f16({1, 3, 4}), std::nullopt,
                                              f16({1, 2, 4}), false, std::nullopt, f16({1, 2, 4}), f16({1, 2}));
  });
  expect_throw<Arg>("a relation's range past int64", [&] {
    tl::logic::Relation r;
    r.lows = {std::numeric_limits<int64_t>::max()};
    r.sizes = {3};
    tl::logic::linear_fixpoint({r}, {}, 10, 1.0);
  });
  // A NaN clamp bound gives NaN (fmax and fmin ignored it: the vector kernel gave inf, the scalar one x).
  for (int64_t n : {int64_t{3}, int64_t{1000}}) {
    std::vector<tl::half> bits(static_cast<size_t>(n));
    tl::to_host(tl::clamp(f16({n}), tl::Scalar(NAN), std::nullopt), bits.data());
    bool nan = true;
    for (const tl::half& h : bits) nan = nan && std::isnan(tl::to_float(h));
    std::printf("%s clamp by NaN of %lld elements\n", nan ? "ok" : "WRONG", static_cast<long long>(n));
    wrong += !nan;
  }
  return wrong == 0 ? 0 : 1;
}
