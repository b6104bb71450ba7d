// The generator: one (seed, offset) pair for the whole process; each draw reserves its counters, then a
// backend fills the output from the Philox stream described in philox.h.
#include <cstdint>
#include <mutex>
#include <string>

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>
#include <vector>

#include "backend.h"
#include "generator.h"
#include "philox.h"
#include "tensorlogic/errors.h"
#include "tensorlogic/ops.h"

namespace tensorlogic {
namespace {

struct Generator {
  std::mutex mutex;
  uint64_t seed = 67280421310721ull;  // PyTorch's default seed
  uint64_t offset = 0;
};

Generator& generator() {
  static Generator* instance = new Generator();
  return *instance;
}

// Reserves ceil(n / 4) counters and returns (seed, first counter).
std::pair<uint64_t, uint64_t> reserve(int64_t n) { return reserve_counters(static_cast<uint64_t>((n + 3) / 4)); }

Array draw(RandomKind kind, const Shape& shape, Device device, double low, double high, const char* op) {
  for (int64_t d : shape) {
    if (d < 0) throw ArgumentError(std::string(op) + ": negative dimension in shape " + shape_str(shape));
  }
  Backend& backend = backend_for(device);
  Array out = Array::empty(shape, kind == RandomKind::integer ? Dtype::int32 : Dtype::float16, device);
  if (out.numel() > 0) {
    const auto [seed, offset] = reserve(out.numel());
    backend.random(kind, seed, offset, low, high, out);
  }
  return kind == RandomKind::integer ? astype(out, Dtype::int64) : out;  // PyTorch's integer type
}

// The n words of the stream that a draw of n elements would use (element i: counter offset + i / 4, lane
// i % 4), computed on the host: the ops below run their sampling here, so every device gives the same.
std::vector<uint32_t> host_words(int64_t n) {
  const auto [seed, offset] = reserve(n);
  std::vector<uint32_t> words(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; i += 4) {
    const PhiloxWords w = philox4x32_10(offset + static_cast<uint64_t>(i / 4), seed);
    for (int64_t k = 0; k < 4 && i + k < n; ++k) words[i + k] = w.x[k];
  }
  return words;
}

// randperm's host bytes per element: two random words, a key and an index.
constexpr int64_t kRandpermHostBytes = 2 * sizeof(uint32_t) + sizeof(uint64_t) + sizeof(int64_t);
// multinomial's host bytes per sample: two random words and the index drawn.
constexpr int64_t kMultinomialHostBytes = 2 * sizeof(uint32_t) + sizeof(int64_t);

// A uniform double in [0, 1) from two words (53 bits).
double uniform53(uint32_t hi, uint32_t lo) {
  return static_cast<double>((static_cast<uint64_t>(hi >> 5) << 26) | (lo >> 6)) * (1.0 / 9007199254740992.0);
}

}  // namespace

std::pair<uint64_t, uint64_t> reserve_counters(uint64_t counters) {
  Generator& g = generator();
  std::lock_guard<std::mutex> lock(g.mutex);
  const uint64_t first = g.offset;
  g.offset += counters;
  return {g.seed, first};
}

std::array<uint32_t, 4> philox4x32_10_words(const std::array<uint32_t, 4>& counter, const std::array<uint32_t, 2>& key) {
  PhiloxWords c;
  for (int i = 0; i < 4; ++i) c.x[i] = counter[i];
  const PhiloxWords w = philox4x32_10_block(c, key[0], key[1]);
  return {w.x[0], w.x[1], w.x[2], w.x[3]};
}

Array randperm(int64_t n, Device device) {
  if (n < 0) throw ArgumentError("randperm: n must be non-negative, got " + std::to_string(n));
  if (n > kMaxBytes / kRandpermHostBytes) {
    throw OutOfMemoryError("randperm: n = " + std::to_string(n) + " exceeds the addressable memory");
  }
  // The order of n random 64-bit keys (ties, vanishingly rare, keep index order).
  const std::vector<uint32_t> words = host_words(2 * n);
  std::vector<uint64_t> keys(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) keys[i] = (static_cast<uint64_t>(words[2 * i]) << 32) | words[2 * i + 1];
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), int64_t{0});
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return keys[a] < keys[b]; });
  return from_host(order.data(), {n}, Dtype::int64, device);
}

Array multinomial(const Array& probs, int64_t num_samples, bool replacement) {
  if (probs.ndim() < 1 || probs.ndim() > 2) {
    throw ArgumentError("multinomial: expected a 1-d or 2-d tensor of probabilities, got shape " + shape_str(probs.shape()));
  }
  const int64_t n = probs.shape().back(), rows = probs.ndim() == 2 ? probs.shape()[0] : 1;
  if (num_samples <= 0) throw ArgumentError("multinomial: num_samples must be positive, got " + std::to_string(num_samples));
  if (!replacement && num_samples > n) {
    throw ArgumentError("multinomial: cannot draw " + std::to_string(num_samples) + " samples without replacement from " +
                        std::to_string(n) + " categories");
  }
  if (rows > 0 && num_samples > kMaxBytes / kMultinomialHostBytes / rows) {
    throw OutOfMemoryError("multinomial: " + std::to_string(num_samples) + " samples of " + std::to_string(rows) +
                           " rows exceed the addressable memory");
  }
  // Weights on the host in f32 (f16 holds them exactly); the draws use the Philox stream in f64.
  std::vector<uint16_t> bits(static_cast<size_t>(rows * n));
  if (!bits.empty()) to_host(contiguous(astype(probs, Dtype::float16)), bits.data());
  const std::vector<uint32_t> words = host_words(2 * rows * num_samples);
  std::vector<int64_t> out(static_cast<size_t>(rows * num_samples));
  std::vector<double> cdf(static_cast<size_t>(n));
  for (int64_t r = 0; r < rows; ++r) {
    std::vector<double> w(static_cast<size_t>(n));
    for (int64_t j = 0; j < n; ++j) {
      const double v = f16_bits_to_f32(bits[r * n + j]);
      if (!(v >= 0) || std::isinf(v)) throw ArgumentError("multinomial: probabilities must be finite and non-negative");
      w[j] = v;
    }
    for (int64_t k = 0; k < num_samples; ++k) {
      std::partial_sum(w.begin(), w.end(), cdf.begin());
      const double total = n > 0 ? cdf.back() : 0.0;
      if (!(total > 0)) {
        throw ArgumentError(replacement || k == 0 ? "multinomial: the probabilities of a row sum to zero"
                                                  : "multinomial: fewer non-zero probabilities than samples without replacement");
      }
      const size_t w0 = static_cast<size_t>(2 * (r * num_samples + k));
      const double u = uniform53(words[w0], words[w0 + 1]) * total;
      // The first category whose cumulative weight exceeds u (zero weights are never chosen).
      int64_t pick = std::upper_bound(cdf.begin(), cdf.end(), u) - cdf.begin();
      pick = std::min(pick, n - 1);
      while (w[pick] == 0) --pick;  // u at the very top of the range: step back to a category with weight
      out[r * num_samples + k] = pick;
      if (!replacement) w[pick] = 0;
    }
  }
  const Shape shape = probs.ndim() == 2 ? Shape{rows, num_samples} : Shape{num_samples};
  return from_host(out.data(), shape, Dtype::int64, probs.device());
}

void manual_seed(uint64_t seed) {
  Generator& g = generator();
  std::lock_guard<std::mutex> lock(g.mutex);
  g.seed = seed;
  g.offset = 0;
}

std::pair<uint64_t, uint64_t> random_state() {
  Generator& g = generator();
  std::lock_guard<std::mutex> lock(g.mutex);
  return {g.seed, g.offset};
}

void set_random_state(uint64_t seed, uint64_t offset) {
  Generator& g = generator();
  std::lock_guard<std::mutex> lock(g.mutex);
  g.seed = seed;
  g.offset = offset;
}

uint64_t random_offset() {
  Generator& g = generator();
  std::lock_guard<std::mutex> lock(g.mutex);
  return g.offset;
}

Array rand(const Shape& shape, Device device) { return draw(RandomKind::uniform, shape, device, 0.0, 1.0, "rand"); }

Array randn(const Shape& shape, Device device) { return draw(RandomKind::normal, shape, device, 0.0, 1.0, "randn"); }

Array randint(int64_t low, int64_t high, const Shape& shape, Device device) {
  if (high <= low) {
    throw ArgumentError("randint: expected low < high, got low=" + std::to_string(low) + " high=" + std::to_string(high));
  }
  if (low < INT32_MIN || high - 1 > INT32_MAX) {
    throw ArgumentError("randint: the range [" + std::to_string(low) + ", " + std::to_string(high) +
                        ") does not fit int32");
  }
  return draw(RandomKind::integer, shape, device, static_cast<double>(low), static_cast<double>(high), "randint");
}

}  // namespace tensorlogic
