// What this core was built from and with, for tl.version (torch.version's fields). CMake defines these macros for
// this file alone, so a new commit recompiles only it.
#include "bindings.h"

namespace tensorlogic::python {

using namespace pybind11::literals;

void bind_build(py::module_& m) {
#ifdef TL_CUDA_VERSION
  py::object cuda = py::str(TL_CUDA_VERSION);
#else
  py::object cuda = py::none();
#endif
#ifdef NDEBUG
  constexpr bool debug = false;
#else
  constexpr bool debug = true;
#endif
  m.attr("build_info") = py::dict("cuda"_a = cuda, "git_version"_a = TL_GIT_VERSION, "debug"_a = debug);
}

}  // namespace tensorlogic::python
