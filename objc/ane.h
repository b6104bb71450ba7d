// The `ane` device from C++ (no Objective-C types here, so the Python bindings can include it): the
// placement planner it asks, and the record of every placement it made.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace tensorlogic::ane {

// The planner's answer for one op ("matmul", "linear" or "conv2d") and shape: the .mlpackage to run, or
// "" and the reason the work runs on Metal.
struct Plan {
  std::string model_path;
  std::string reason;
};
// Given the op and its shape as JSON (see tensorlogic/planner.py), called at most once per distinct op
// and shape; the Python layer installs it (tensorlogic.planner).
using Planner = std::function<Plan(const std::string& op, const std::string& shape_json)>;
void set_planner(Planner planner);

// One placement outcome and how many calls it covered.
struct Decision {
  std::string op;
  std::string shape;   // JSON, as given to the planner
  std::string device;  // "ane" or "metal"
  std::string reason;  // why not ane ("" on ane)
  uint64_t calls = 0;
};
struct PlannerStats {
  std::vector<Decision> decisions;
  std::map<std::string, std::string> failed_models;  // model path -> why it failed (never retried)
};
PlannerStats planner_stats();

}  // namespace tensorlogic::ane
