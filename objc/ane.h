// The `ane` device from C++ (no Objective-C types here, so the Python bindings can include it): where
// its Core ML models come from, and what the placement of its matmuls looked like.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <string>

namespace tensorlogic::ane {

// Returns the path of an .mlpackage for `op` ("matmul" or "linear") with the attributes given as JSON
// (the arguments of tensorlogic.coreml.build), or "" when it cannot make one. Called at most once per
// distinct op and shape; the Python layer installs it (tensorlogic.coreml).
using ModelProvider = std::function<std::string(const std::string& op, const std::string& attrs_json)>;
void set_model_provider(ModelProvider provider);

struct PlannerStats {
  uint64_t ane_calls = 0;                      // GEMMs that ran through Core ML
  std::map<std::string, uint64_t> fallbacks;   // reason -> GEMMs that ran on Metal instead
  std::map<std::string, std::string> failed_models;  // model path -> why it failed (never retried)
};
PlannerStats planner_stats();

}  // namespace tensorlogic::ane
