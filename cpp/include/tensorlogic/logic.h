// The language's tuple engine in native code: semi-naive fixpoints of linear recursion over sparse
// relations (a round costs what changed, with no per-round interpreter overhead; issue 17).
#pragma once
#include <cstdint>
#include <utility>
#include <vector>

namespace tensorlogic::logic {

// A relation of the recursive component. A tuple is a row of int64 values, the value at position p in
// [lows[p], lows[p] + sizes[p]); tuples are packed into one key with these radixes (the product of the
// sizes must stay below 2^62).
struct Relation {
  std::vector<int64_t> lows, sizes;
  const int64_t* rows = nullptr;  // the tuples before the first round (distinct), row-major
  int64_t count = 0;
};

// A linear rule: a head tuple of `target` for every new tuple t of `source` and every row of the join
// table J (the rule's other literals joined once, as they do not change during the fixpoint) whose first
// key.size() columns equal t at the positions `key`.
struct LinearRule {
  int source = 0, target = 0;
  std::vector<std::pair<int, int64_t>> consts;  // t[p] == v
  std::vector<std::pair<int, int>> equal;       // t[p] == t[q]
  std::vector<int> key;
  const int64_t* join = nullptr;  // J, row-major [join_rows, join_width]
  int64_t join_rows = 0;
  int join_width = 0;
  // Per head position (kind, value): kind 0 copies t[value], 1 copies J's column value, 2 is the
  // constant value.
  std::vector<std::pair<int, int64_t>> head;
};

enum class FixpointStop { converged, round_limit, time_limit };

struct FixpointResult {
  // Per relation, the tuples derived (row-major), round after round; a round's tuples in the order of
  // their packed keys.
  std::vector<std::vector<int64_t>> added;
  int64_t rounds = 0;
  FixpointStop stop = FixpointStop::converged;
};

// Runs rounds until no relation gains a tuple, `max_rounds` rounds have run, or `seconds` have passed
// (negative: no time limit). Throws ArgumentError for rules that do not fit the relations.
FixpointResult linear_fixpoint(const std::vector<Relation>& relations, const std::vector<LinearRule>& rules,
                               int64_t max_rounds, double seconds);

}  // namespace tensorlogic::logic
