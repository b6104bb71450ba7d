// tl.memory: statistics and control of each device's buffer cache.
#include "bindings.h"

namespace tensorlogic::python {

void bind_memory(py::module_& m) {
  m.def("memory_stats", [](const std::string& device) {
    const MemoryStats s = buffer_cache(parse_device(device)).stats();
    py::dict d;
    d["active_bytes"] = s.active_bytes;
    d["cached_bytes"] = s.cached_bytes;
    d["peak_active_bytes"] = s.peak_active_bytes;
    d["limit_bytes"] = s.limit_bytes;
    d["allocations"] = s.allocations;
    d["reuses"] = s.reuses;
    d["frees"] = s.frees;
    return d;
  });
  m.def("clear_cache", always_without_gil(+[](const std::string& device) { buffer_cache(parse_device(device)).clear(); }));
  m.def("set_limit", [](size_t bytes, const std::string& device) { buffer_cache(parse_device(device)).set_limit(bytes); });
  m.def("reset_peak", [](const std::string& device) { buffer_cache(parse_device(device)).reset_peak(); });
}

}  // namespace tensorlogic::python
