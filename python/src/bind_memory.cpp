// tl.memory: statistics and control of each device's buffer cache.
#include "bindings.h"

namespace tensorlogic::python {

using namespace pybind11::literals;

void bind_memory(py::module_& m) {
  m.def("memory_stats", [](const std::string& device) {
    const MemoryStats s = buffer_cache(parse_device(device)).stats();
    return py::dict("active_bytes"_a = s.active_bytes, "cached_bytes"_a = s.cached_bytes,
                    "peak_active_bytes"_a = s.peak_active_bytes, "limit_bytes"_a = s.limit_bytes,
                    "allocations"_a = s.allocations, "reuses"_a = s.reuses, "frees"_a = s.frees);
  });
  m.def("clear_cache", always_without_gil(+[](const std::string& device) { buffer_cache(parse_device(device)).clear(); }));
  m.def("set_limit", [](size_t bytes, const std::string& device) { buffer_cache(parse_device(device)).set_limit(bytes); });
  m.def("reset_peak", [](const std::string& device) { buffer_cache(parse_device(device)).reset_peak(); });
}

}  // namespace tensorlogic::python
