// The ane device's hooks into Python (Apple builds only): the placement planner, which is
// tensorlogic.planner.plan, and the record of its placements. Elsewhere this file binds nothing.
#include "bindings.h"

#ifdef TL_WITH_COREML
#include "../../objc/ane.h"
#endif

namespace tensorlogic::python {

using namespace pybind11::literals;

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
      decisions.append(py::dict("op"_a = d.op, "shape"_a = d.shape, "device"_a = d.device, "reason"_a = d.reason,
                                "calls"_a = d.calls));
    }
    return py::dict("decisions"_a = decisions, "failed_models"_a = s.failed_models);
  });
#else
  (void)m;
#endif
}

}  // namespace tensorlogic::python
