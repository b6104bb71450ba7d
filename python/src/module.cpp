// tensorlogic._core: the pybind11 module. Native errors become the typed Python exceptions of
// tensorlogic.errors (SPEC §6).
#include "bindings.h"

namespace tensorlogic::python {

Dtype parse_dtype(const std::string& name) {
  if (name == "float16") return Dtype::float16;
  if (name == "int32") return Dtype::int32;
  if (name == "int64") return Dtype::int64;
  if (name == "bool") return Dtype::bool_;
  throw DtypeError("unsupported dtype '" + name + "': TensorLogic has float16, int32, int64 and bool");
}

}  // namespace tensorlogic::python

PYBIND11_MODULE(_core, m) {
  using namespace tensorlogic;
  using namespace tensorlogic::python;
  m.doc() = "TensorLogic native core";

  py::module_ errors = py::module_::import("tensorlogic.errors");
  static py::object shape_error = errors.attr("ShapeMismatchError");
  static py::object einsum_error = errors.attr("EinsumError");
  static py::object overflow_error = errors.attr("PrecisionOverflowError");
  static py::object device_error = errors.attr("DeviceError");
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const ShapeMismatchError& e) {
      PyErr_SetString(shape_error.ptr(), e.what());
    } catch (const EinsumError& e) {
      PyErr_SetString(einsum_error.ptr(), e.what());
    } catch (const PrecisionOverflowError& e) {
      PyErr_SetString(overflow_error.ptr(), e.what());
    } catch (const DeviceError& e) {
      PyErr_SetString(device_error.ptr(), e.what());
    } catch (const OutOfMemoryError& e) {
      PyErr_SetString(PyExc_MemoryError, e.what());
    } catch (const DtypeError& e) {
      PyErr_SetString(PyExc_TypeError, e.what());
    } catch (const ArgumentError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const IndexOutOfRange& e) {
      PyErr_SetString(PyExc_IndexError, e.what());
    }
  });

  bind_array(m);
  bind_device(m);
  bind_views(m);
  bind_elementwise(m);
  bind_memory(m);
  bind_reduce(m);
  bind_linalg(m);
  bind_indexing(m);
  bind_dlpack(m);
  bind_tensor_base(m);
  bind_optim(m);
  bind_apple(m);
}
