// The Array class, creation, host/numpy interop and device moves. Creation, copies and transfers of
// many elements run without the GIL (gil.h); wrapping numpy memory and the buffer protocol need it.
#include <pybind11/numpy.h>

#include "bindings.h"

namespace tensorlogic::python {
namespace {

// Keeps a Python object alive for as long as an Array views its memory; drops it under the GIL.
std::shared_ptr<void> hold(py::object obj) {
  return std::shared_ptr<void>(new py::object(std::move(obj)), [](void* p) {
    py::gil_scoped_acquire gil;
    delete static_cast<py::object*>(p);
  });
}

// The struct-module format of each dtype (what numpy reads from the buffer protocol).
const char* buffer_format(Dtype dtype) {
  switch (dtype) {
    case Dtype::int32: return "i";
    case Dtype::int64: return "q";
    case Dtype::bool_: return "?";
    case Dtype::float16: break;
  }
  return "e";
}

// Wraps a numpy array (float16, int32, int64 or bool, non-negative strides that are whole elements) without copying.
Array array_from_numpy(py::array source) {
  const py::dtype dt = source.dtype();
  Dtype dtype = Dtype::float16;
  bool known = false;
  // By kind and size, not identity: numpy has distinct dtype objects of one type (longlong and int64).
  for (Dtype d : {Dtype::float16, Dtype::int32, Dtype::int64, Dtype::bool_}) {
    const py::dtype want(dtype_name(d));
    if (dt.kind() == want.kind() && dt.itemsize() == want.itemsize() && dt.byteorder() != '>') {
      dtype = d;
      known = true;
    }
  }
  if (!known) {
    throw DtypeError("from_numpy expects float16, int32, int64 or bool data, got " + std::string(py::str(dt)));
  }
  const int64_t item = static_cast<int64_t>(itemsize(dtype));
  Shape shape(source.ndim());
  Strides strides(source.ndim());
  for (int i = 0; i < source.ndim(); ++i) {
    shape[i] = source.shape(i);
    const int64_t stride = source.strides(i);
    if (stride < 0 || stride % item != 0) {
      throw ArgumentError("from_numpy: strides must be non-negative whole elements (copy the array first)");
    }
    strides[i] = stride / item;
  }
  void* data = const_cast<void*>(source.data());
  return Array::from_memory(data, shape, strides, dtype, Device{DeviceType::cpu, 0}, hold(source));
}

}  // namespace

void bind_array(py::module_& m) {
  py::class_<Array> array(m, "Array", py::buffer_protocol());
  refuse_python_construction(array);
  array
      .def_property_readonly("shape", [](const Array& a) { return to_tuple(a.shape()); })
      .def_property_readonly("strides", [](const Array& a) { return to_tuple(a.strides()); })
      .def_property_readonly("offset", by_reference(&Array::offset))
      .def_property_readonly("dtype", [](const Array& a) { return dtype_name(a.dtype()); })
      .def_property_readonly("device", [](const Array& a) { return a.device().str(); })
      .def_property_readonly("ndim", by_reference(&Array::ndim))
      .def_property_readonly("nbytes", by_reference(&Array::nbytes))
      .def("numel", by_reference(&Array::numel))
      .def("is_contiguous", by_reference(&Array::is_contiguous))
      .def("data_ptr", [](const Array& a) { return reinterpret_cast<uintptr_t>(a.data()); })
      .def("storage_ptr", [](const Array& a) { return reinterpret_cast<uintptr_t>(a.storage()->data()); })
      // How many arrays (views included) share this memory: 1 lets autograd's engine add into a gradient in place.
      .def("storage_use_count", [](const Array& a) { return a.storage().use_count(); })
      .def_property_readonly("storage_nbytes", [](const Array& a) { return a.storage()->nbytes(); })
      .def_property("version", [](const Array& a) { return a.storage()->version(); },
                    [](const Array& a, uint64_t v) { a.storage()->set_version(v); })
      .def_property_readonly("is_inference", [](const Array& a) { return a.storage()->inference(); })
      .def_buffer([](const Array& a) -> py::buffer_info {
        if (a.device().type != DeviceType::cpu) {
          throw DeviceError("a " + a.device().str() + " tensor has no host buffer; call .cpu() first");
        }
        std::vector<py::ssize_t> shape(a.shape().begin(), a.shape().end());
        std::vector<py::ssize_t> strides;
        for (int64_t s : a.strides()) strides.push_back(s * static_cast<int64_t>(a.itemsize()));
        return py::buffer_info(a.data(), static_cast<py::ssize_t>(a.itemsize()),
                               buffer_format(a.dtype()), a.ndim(), shape, strides);
      });

  m.def("from_numpy", &array_from_numpy, py::arg("array"));
  m.def("set_inference_mode", &set_inference_mode, py::arg("on"));
  m.def("inference_mode", &inference_mode);
  // share_memory_: the whole storage under `a` moves into `buffer` (writable host memory of at least its size, kept
  // alive as long as the storage), so every view of it follows.
  m.def("move_storage", [](const Array& a, py::buffer buffer) {
    const py::buffer_info info = buffer.request(true);
    const auto nbytes = static_cast<size_t>(info.size * info.itemsize);
    if (nbytes < a.storage()->nbytes()) {
      throw ArgumentError("move_storage: the buffer holds " + std::to_string(nbytes) + " bytes, the storage " +
                          std::to_string(a.storage()->nbytes()));
    }
    a.storage()->move_to(info.ptr, hold(std::move(buffer)));
  });
  m.def("empty", [](const std::vector<int64_t>& shape, const std::string& dtype, const std::string& device) {
    return empty(to_shape(shape), parse_dtype(dtype), parse_device(device));
  });
  m.def("full", without_gil(+[](const std::vector<int64_t>& shape, double value, const std::string& dtype,
                               const std::string& device) {
    return full(to_shape(shape), value, parse_dtype(dtype), parse_device(device));
  }));
  m.def("arange", [](double start, double end, double step, const std::string& dtype, const std::string& device) {
    const bool large = step != 0 && (end - start) / step >= static_cast<double>(kReleaseGilElements);
    return release_gil_if(large, [&] { return arange(start, end, step, parse_dtype(dtype), parse_device(device)); });
  });
  m.def("linspace", [](double start, double end, int64_t steps, const std::string& device) {
    return release_gil_if(steps >= kReleaseGilElements, [&] { return linspace(start, end, steps, parse_device(device)); });
  });
  m.def("eye", [](int64_t n, int64_t mcols, const std::string& device) {
    int64_t work = 0;  // an overflowing product is large work; eye itself rejects the sizes
    const bool large = !checked_mul(n, mcols, &work) || work >= kReleaseGilElements;
    return release_gil_if(large, [&] { return eye(n, mcols, parse_device(device)); });
  });
  m.def("to_device", [](const Array& a, const std::string& name) {
    // A move off or onto an accelerator waits for its queued work, however small the array.
    const Device device = parse_device(name);
    const bool waits = a.device().type != DeviceType::cpu || device.type != DeviceType::cpu;
    return release_gil_if(waits || a.numel() >= kReleaseGilElements, [&] { return to_device(a, device); });
  });
  m.def("contiguous", without_gil(&contiguous));
  m.def("clone", without_gil(&clone));
  m.def("astype", without_gil(+[](const Array& a, const std::string& dtype) { return astype(a, parse_dtype(dtype)); }));
  m.def("copy_", without_gil(&copy_));
  m.def("fill_", without_gil(&fill_));

  m.def("available_devices", &available_devices);
  m.def("is_available", [](const std::string& name) { return is_available(parse_device(name).type); });
  m.def("default_device", [] { return default_device().str(); });
  m.def("set_default_device", [](const std::string& name) { set_default_device(parse_device(name)); });
  m.def("parse_device", [](const std::string& name) { return parse_device(name).str(); });
  m.def("synchronize", always_without_gil(+[](const std::string& name) { synchronize(parse_device(name)); }));
}

}  // namespace tensorlogic::python
