// The ane device's hooks into Python (Apple builds only): the placement planner, which is
// tensorlogic.planner.plan, and the record of its placements. Elsewhere this file binds nothing.
#include "bindings.h"

#ifdef TL_WITH_COREML
#include "../../objc/ane.h"
#endif

namespace tensorlogic::python {

void bind_apple(py::module_& m) {
#ifdef TL_WITH_COREML
  m.def("ane_set_planner", [](py::function plan) {
    // Leaked on purpose: the planner may be called until exit, after the interpreter drops its refs.
    auto* holder = new py::object(std::move(plan));
    ane::set_planner([holder](const std::string& op, const std::string& shape) -> ane::Plan {
      py::gil_scoped_acquire gil;
      try {
        auto [path, reason] = py::cast<std::pair<std::string, std::string>>((*holder)(op, shape));
        return {path, reason};
      } catch (py::error_already_set& e) {
        return {"", std::string("the planner raised: ") + e.what()};  // this shape runs on Metal
      }
    });
  });
  m.def("ane_stats", [] {
    const ane::PlannerStats s = ane::planner_stats();
    py::list decisions;
    for (const ane::Decision& d : s.decisions) {
      py::dict entry;
      entry["op"] = d.op;
      entry["shape"] = d.shape;
      entry["device"] = d.device;
      entry["reason"] = d.reason;
      entry["calls"] = d.calls;
      decisions.append(entry);
    }
    py::dict out;
    out["decisions"] = decisions;
    out["failed_models"] = s.failed_models;
    return out;
  });
#else
  (void)m;
#endif
}

}  // namespace tensorlogic::python
