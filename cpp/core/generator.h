// The process's one Philox generator (random.cpp), for ops outside random.cpp that draw from its stream.
#pragma once
#include <cstdint>
#include <utility>

namespace tensorlogic {

// Reserves `counters` consecutive counters of the stream and returns (seed, first counter); the generator's
// offset moves past them, so the next draw gets fresh ones.
std::pair<uint64_t, uint64_t> reserve_counters(uint64_t counters);

}  // namespace tensorlogic
