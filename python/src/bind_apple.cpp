// The ane device's hooks into Python (Apple builds only): the Core ML model provider, which is
// tensorlogic.coreml.build, and the placement statistics. Elsewhere this file binds nothing.
#include "bindings.h"

#ifdef TL_WITH_COREML
#include "../../objc/ane.h"
#endif

namespace tensorlogic::python {

void bind_apple(py::module_& m) {
#ifdef TL_WITH_COREML
  m.def("ane_set_model_provider", [](py::function build) {
    // Leaked on purpose: the provider may be called until exit, after the interpreter drops its refs.
    auto* holder = new py::object(std::move(build));
    ane::set_model_provider([holder](const std::string& op, const std::string& attrs) -> std::string {
      py::gil_scoped_acquire gil;
      try {
        return py::cast<std::string>((*holder)(op, attrs));
      } catch (py::error_already_set& e) {
        return std::string();  // the model cannot be built: the GEMM runs on Metal
      }
    });
  });
  m.def("ane_stats", [] {
    const ane::PlannerStats s = ane::planner_stats();
    py::dict out;
    out["ane_calls"] = s.ane_calls;
    out["fallbacks"] = s.fallbacks;
    out["failed_models"] = s.failed_models;
    return out;
  });
#else
  (void)m;
#endif
}

}  // namespace tensorlogic::python
