// Semi-naive fixpoints of linear recursion (logic.h). Each round reads only the last round's new tuples:
// a new tuple looks its join key up in its rule's join table (a counting-sorted CSR over the key, or a
// sorted key array when the key space is sparse) and each head tuple it yields is kept when a set of
// packed keys (a bitmap, or an open-addressing hash set) has not seen it. A round costs what changed.
#include <algorithm>
#include <chrono>
#include <string>

#include "tensorlogic/errors.h"
#include "tensorlogic/logic.h"

namespace tensorlogic::logic {
namespace {

constexpr int64_t kPackLimit = int64_t{1} << 62;
constexpr int64_t kBitmapKeys = int64_t{1} << 27;  // key spaces up to 16 MiB of bits use a bitmap

void require(bool ok, const std::string& what) {
  if (!ok) throw ArgumentError("linear_fixpoint: " + what);
}

// Mixed-radix packing of a relation's tuples into one non-negative key.
struct Radix {
  std::vector<int64_t> lows, sizes, strides;
  int64_t space = 1;

  Radix(const std::vector<int64_t>& l, const std::vector<int64_t>& s) : lows(l), sizes(s), strides(s.size()) {
    require(l.size() == s.size(), "lows and sizes differ in length");
    for (size_t p = s.size(); p-- > 0;) {
      require(s[p] >= 0, "negative domain size");
      int64_t end = 0;  // lows + sizes in range, so that pack's and unpack's differences and sums cannot overflow
      require(!__builtin_add_overflow(l[p], s[p], &end), "a range past the int64 values");
      strides[p] = space;
      require(s[p] == 0 || space < kPackLimit / s[p], "key space of 2^62 tuples or more");
      space *= std::max<int64_t>(s[p], 1);
    }
  }

  // -1 when a value lies outside its position's range.
  int64_t pack(const int64_t* row) const {
    int64_t key = 0;
    for (size_t p = 0; p < sizes.size(); ++p) {
      int64_t v = 0;
      if (__builtin_sub_overflow(row[p], lows[p], &v) || v < 0 || v >= sizes[p]) return -1;
      key += v * strides[p];
    }
    return key;
  }

  void unpack(int64_t key, int64_t* row) const {
    for (size_t p = 0; p < sizes.size(); ++p) row[p] = (key / strides[p]) % sizes[p] + lows[p];
  }
};

// A hash set of keys that turns into a bitmap once that is the smaller of the two (a dense closure's
// hundreds of millions of tuples take one bit each, a sparse relation's few keys no key space).
class KeySet {
 public:
  explicit KeySet(int64_t space) : space_(space) {
    if (space <= kBitmapKeys) {
      to_bitmap();
    } else {
      slots_.assign(1024, -1);
    }
  }

  // True when the key was not in the set (it is now).
  bool insert(int64_t key) {
    if (bitmap_) {
      uint64_t& word = bits_[static_cast<size_t>(key >> 6)];
      const uint64_t bit = uint64_t{1} << (key & 63);
      if (word & bit) return false;
      word |= bit;
      return true;
    }
    if (2 * (count_ + 1) > slots_.size()) {
      // The table would double to 2 * slots_.size() words; a bitmap needs space / 64 words.
      if (static_cast<int64_t>(slots_.size()) * 2 >= space_ / 64) {
        to_bitmap();
        return insert(key);
      }
      grow();
    }
    if (!place(slots_, key)) return false;
    ++count_;
    return true;
  }

 private:
  static size_t hash(int64_t key) {
    uint64_t x = static_cast<uint64_t>(key);
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return static_cast<size_t>(x);
  }

  static bool place(std::vector<int64_t>& slots, int64_t key) {
    const size_t mask = slots.size() - 1;
    for (size_t i = hash(key) & mask;; i = (i + 1) & mask) {
      if (slots[i] == key) return false;
      if (slots[i] < 0) {
        slots[i] = key;
        return true;
      }
    }
  }

  void grow() {
    std::vector<int64_t> bigger(slots_.size() * 2, -1);
    for (int64_t k : slots_)
      if (k >= 0) place(bigger, k);
    slots_.swap(bigger);
  }

  void to_bitmap() {
    bitmap_ = true;
    bits_.assign(static_cast<size_t>((space_ + 63) / 64), 0);
    for (int64_t k : slots_)
      if (k >= 0) bits_[static_cast<size_t>(k >> 6)] |= uint64_t{1} << (k & 63);
    std::vector<int64_t>().swap(slots_);
  }

  int64_t space_;
  bool bitmap_ = false;
  std::vector<uint64_t> bits_;
  std::vector<int64_t> slots_;
  size_t count_ = 0;
};

// A rule's join table ordered by its key (the source's radix at the key positions): rows whose key
// values lie outside the source's ranges can match nothing and are dropped.
class JoinIndex {
 public:
  JoinIndex(const LinearRule& rule, const Radix& source) {
    std::vector<int64_t> lows, sizes;
    for (int p : rule.key) {
      lows.push_back(source.lows[static_cast<size_t>(p)]);
      sizes.push_back(source.sizes[static_cast<size_t>(p)]);
    }
    key_ = Radix(lows, sizes);
    const size_t width = static_cast<size_t>(rule.join_width);
    std::vector<int64_t> row_keys(static_cast<size_t>(rule.join_rows));
    int64_t kept = 0;
    for (int64_t r = 0; r < rule.join_rows; ++r) {
      row_keys[static_cast<size_t>(r)] = key_.pack(rule.join + static_cast<size_t>(r) * width);
      kept += row_keys[static_cast<size_t>(r)] >= 0;
    }
    order_.reserve(static_cast<size_t>(kept));
    dense_ = key_.space <= std::min<int64_t>(kBitmapKeys, 2 * kept + 1024);
    if (dense_) {  // counting sort: starts_[k] .. starts_[k + 1] are the rows of key k
      starts_.assign(static_cast<size_t>(key_.space) + 1, 0);
      for (int64_t k : row_keys)
        if (k >= 0) ++starts_[static_cast<size_t>(k) + 1];
      for (size_t k = 1; k < starts_.size(); ++k) starts_[k] += starts_[k - 1];
      order_.resize(static_cast<size_t>(kept));
      std::vector<int64_t> next(starts_.begin(), starts_.end() - 1);
      for (int64_t r = 0; r < rule.join_rows; ++r) {
        const int64_t k = row_keys[static_cast<size_t>(r)];
        if (k >= 0) order_[static_cast<size_t>(next[static_cast<size_t>(k)]++)] = r;
      }
    } else {
      for (int64_t r = 0; r < rule.join_rows; ++r)
        if (row_keys[static_cast<size_t>(r)] >= 0) order_.push_back(r);
      std::stable_sort(order_.begin(), order_.end(), [&](int64_t a, int64_t b) {
        return row_keys[static_cast<size_t>(a)] < row_keys[static_cast<size_t>(b)];
      });
      keys_.resize(order_.size());
      for (size_t i = 0; i < order_.size(); ++i) keys_[i] = row_keys[static_cast<size_t>(order_[i])];
    }
  }

  // [begin, end) of `order()` for the rows matching a key (of the source's values at the key positions).
  std::pair<size_t, size_t> range(const int64_t* values) const {
    const int64_t k = key_.pack(values);
    if (k < 0) return {0, 0};
    if (dense_) return {static_cast<size_t>(starts_[static_cast<size_t>(k)]), static_cast<size_t>(starts_[static_cast<size_t>(k) + 1])};
    auto [lo, hi] = std::equal_range(keys_.begin(), keys_.end(), k);
    return {static_cast<size_t>(lo - keys_.begin()), static_cast<size_t>(hi - keys_.begin())};
  }
  const std::vector<int64_t>& order() const { return order_; }

 private:
  Radix key_{{}, {}};
  bool dense_ = false;
  std::vector<int64_t> order_, starts_, keys_;
};

void check(const std::vector<Relation>& relations, const LinearRule& rule) {
  const auto n = static_cast<int>(relations.size());
  require(rule.source >= 0 && rule.source < n && rule.target >= 0 && rule.target < n, "relation out of range");
  const auto arity = static_cast<int>(relations[static_cast<size_t>(rule.source)].sizes.size());
  for (auto [p, v] : rule.consts) require(p >= 0 && p < arity, "constant position out of range");
  for (auto [p, q] : rule.equal) require(p >= 0 && p < arity && q >= 0 && q < arity, "equality position out of range");
  for (int p : rule.key) require(p >= 0 && p < arity, "key position out of range");
  require(rule.join_rows >= 0 && rule.join_width >= static_cast<int>(rule.key.size()) && (rule.join || !rule.join_rows),
          "join table narrower than its key");
  require(rule.head.size() == relations[static_cast<size_t>(rule.target)].sizes.size(), "head arity");
  for (auto [kind, v] : rule.head)
    require(kind == 2 || (kind == 0 && v >= 0 && v < arity) || (kind == 1 && v >= 0 && v < rule.join_width),
            "head column out of range");
}

}  // namespace

FixpointResult linear_fixpoint(const std::vector<Relation>& relations, const std::vector<LinearRule>& rules,
                               int64_t max_rounds, double seconds) {
  const auto start = std::chrono::steady_clock::now();
  std::vector<Radix> radix;
  std::vector<KeySet> seen;
  std::vector<std::vector<int64_t>> delta(relations.size());
  FixpointResult out;
  out.added.resize(relations.size());
  for (size_t i = 0; i < relations.size(); ++i) {
    const Relation& rel = relations[i];
    radix.emplace_back(rel.lows, rel.sizes);
    seen.emplace_back(radix[i].space);
    const size_t arity = rel.sizes.size();
    require(arity > 0, "relations of arity 0 have no rows to hold");
    require(rel.count >= 0 && (rel.count == 0 || rel.rows != nullptr), "a relation needs rows for its count");
    for (int64_t r = 0; r < rel.count; ++r) {
      const int64_t key = radix[i].pack(rel.rows + static_cast<size_t>(r) * arity);
      require(key >= 0, "a tuple lies outside its relation's ranges");
      seen[i].insert(key);
    }
    delta[i].assign(rel.rows, rel.rows + static_cast<size_t>(rel.count) * arity);
  }
  std::vector<JoinIndex> indexes;
  for (const LinearRule& rule : rules) {
    check(relations, rule);
    indexes.emplace_back(rule, radix[static_cast<size_t>(rule.source)]);
  }
  std::vector<std::vector<int64_t>> fresh(relations.size());
  std::vector<int64_t> values, head;
  for (;;) {
    bool any = false;
    for (const auto& d : delta) any = any || !d.empty();
    if (!any) break;
    if (out.rounds >= max_rounds) {
      out.stop = FixpointStop::round_limit;
      break;
    }
    if (seconds >= 0 && out.rounds % 64 == 0 &&
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() > seconds) {
      out.stop = FixpointStop::time_limit;
      break;
    }
    ++out.rounds;
    for (size_t r = 0; r < rules.size(); ++r) {
      const LinearRule& rule = rules[r];
      const auto src = static_cast<size_t>(rule.source), dst = static_cast<size_t>(rule.target);
      const size_t arity = relations[src].sizes.size(), width = static_cast<size_t>(rule.join_width);
      const std::vector<int64_t>& order = indexes[r].order();
      values.resize(rule.key.size());
      head.resize(rule.head.size());
      for (size_t at = 0; at < delta[src].size(); at += arity) {
        const int64_t* t = delta[src].data() + at;
        bool ok = true;
        for (auto [p, v] : rule.consts) ok = ok && t[p] == v;
        for (auto [p, q] : rule.equal) ok = ok && t[p] == t[q];
        if (!ok) continue;
        for (size_t k = 0; k < rule.key.size(); ++k) values[k] = t[rule.key[k]];
        const auto [lo, hi] = indexes[r].range(values.data());
        for (size_t j = lo; j < hi; ++j) {
          const int64_t* row = rule.join + static_cast<size_t>(order[j]) * width;
          for (size_t h = 0; h < rule.head.size(); ++h) {
            const auto [kind, v] = rule.head[h];
            head[h] = kind == 0 ? t[v] : kind == 1 ? row[v] : v;
          }
          const int64_t key = radix[dst].pack(head.data());
          require(key >= 0, "a derived tuple lies outside its relation's ranges");
          if (seen[dst].insert(key)) fresh[dst].push_back(key);
        }
      }
    }
    for (size_t i = 0; i < relations.size(); ++i) {
      const size_t arity = relations[i].sizes.size();
      std::sort(fresh[i].begin(), fresh[i].end());
      delta[i].resize(fresh[i].size() * arity);
      for (size_t k = 0; k < fresh[i].size(); ++k) radix[i].unpack(fresh[i][k], delta[i].data() + k * arity);
      out.added[i].insert(out.added[i].end(), delta[i].begin(), delta[i].end());
      fresh[i].clear();
    }
  }
  return out;
}

}  // namespace tensorlogic::logic
