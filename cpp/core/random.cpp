// The generator: one (seed, offset) pair for the whole process; each draw reserves its counters, then a
// backend fills the output from the Philox stream described in philox.h.
#include <cstdint>
#include <mutex>
#include <string>

#include "backend.h"
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
std::pair<uint64_t, uint64_t> reserve(int64_t n) {
  Generator& g = generator();
  std::lock_guard<std::mutex> lock(g.mutex);
  const uint64_t first = g.offset;
  g.offset += static_cast<uint64_t>((n + 3) / 4);
  return {g.seed, first};
}

Array draw(RandomKind kind, const Shape& shape, Device device, double low, double high, const char* op) {
  for (int64_t d : shape) {
    if (d < 0) throw ArgumentError(std::string(op) + ": negative dimension in shape " + shape_str(shape));
  }
  Backend& backend = backend_for(device);
  Array out = Array::empty(shape, kind == RandomKind::integer ? Dtype::int32 : Dtype::float16, device);
  if (out.numel() == 0) return out;
  const auto [seed, offset] = reserve(out.numel());
  backend.random(kind, seed, offset, low, high, out);
  return out;
}

}  // namespace

void manual_seed(uint64_t seed) {
  Generator& g = generator();
  std::lock_guard<std::mutex> lock(g.mutex);
  g.seed = seed;
  g.offset = 0;
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
