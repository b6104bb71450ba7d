// Devices beyond their names: how many of a type, their properties, events in their queues of work, and graphs.
#include "bindings.h"

namespace tensorlogic::python {

using namespace pybind11::literals;

void bind_device(py::module_& m) {
  m.def("device_count", [](const std::string& type) { return device_count(parse_device(type).type); });
  m.def("device_properties", [](const std::string& name) {
    const DeviceProperties p = device_properties(parse_device(name));
    return py::dict("name"_a = p.name, "total_memory"_a = p.total_memory, "major"_a = p.major, "minor"_a = p.minor,
                    "multi_processor_count"_a = p.multiprocessors);
  });
  // Selects the device on this thread (CUDA's current device) and returns its stream (0 on the CPU).
  m.def("stream_handle", [](const std::string& name) { return stream_handle(parse_device(name)); });
  // Waits of the host for that device type's data so far (tests count a training step's with it).
  m.def("host_reads", [](const std::string& type) { return host_reads(parse_device(type).type); });
  m.def("num_threads", &cpu_num_threads);
  m.def("set_num_threads", &set_cpu_num_threads, py::call_guard<py::gil_scoped_release>());  // waits for a running job
  py::class_<Event>(m, "Event")
      .def(py::init([](const std::string& device, bool timing) { return new Event(parse_device(device), timing); }))
      .def("record", by_reference(&Event::record))
      .def("synchronize", by_reference(&Event::synchronize), py::call_guard<py::gil_scoped_release>())
      .def("query", by_reference(&Event::query))
      .def("elapsed_ms", by_reference(&Event::elapsed_ms), py::call_guard<py::gil_scoped_release>())
      .def_property_readonly("device", [](const Event& e) { return e.device().str(); })
      .def_property_readonly("timing", by_reference(&Event::timing));
  // tl.compile's CUDA-graph replay (see tensorlogic/device.h for the protocol).
  py::class_<Graph>(m, "Graph")
      .def(py::init([](const std::string& device) { return new Graph(parse_device(device)); }))
      .def("pool_begin", by_reference(&Graph::pool_begin))
      .def("pool_end", by_reference(&Graph::pool_end))
      .def("capture_begin", by_reference(&Graph::capture_begin))
      .def("capture_end", by_reference(&Graph::capture_end))
      .def("launch", by_reference(&Graph::launch))
      .def("share_pool", by_reference(&Graph::share_pool))
      .def_property_readonly("device", [](const Graph& g) { return g.device().str(); });
}

}  // namespace tensorlogic::python
