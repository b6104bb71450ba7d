// DLPack exchange (https://dmlc.github.io/dlpack/latest/): arrays leave as capsules that other
// libraries wrap without copying, and capsules from them become arrays over the same memory. The ABI
// structs are written out here from the spec (version 1.0, plus the legacy unversioned form).
#include <cstring>

#include "bindings.h"

namespace tensorlogic::python {
namespace {

enum DLDeviceType : int32_t { kDLCPU = 1, kDLCUDA = 2, kDLCUDAHost = 3 };
enum DLDataTypeCode : uint8_t { kDLInt = 0, kDLFloat = 2, kDLBool = 6 };

struct DLDevice {
  int32_t device_type;
  int32_t device_id;
};
struct DLDataType {
  uint8_t code;
  uint8_t bits;
  uint16_t lanes;
};
struct DLTensor {
  void* data;
  DLDevice device;
  int32_t ndim;
  DLDataType dtype;
  int64_t* shape;
  int64_t* strides;  // in elements; NULL means compact row-major
  uint64_t byte_offset;
};
struct DLManagedTensor {
  DLTensor dl_tensor;
  void* manager_ctx;
  void (*deleter)(DLManagedTensor* self);
};
struct DLPackVersion {
  uint32_t major;
  uint32_t minor;
};
struct DLManagedTensorVersioned {
  DLPackVersion version;
  void* manager_ctx;
  void (*deleter)(DLManagedTensorVersioned* self);
  uint64_t flags;
  DLTensor dl_tensor;
};
constexpr uint64_t kReadOnly = 1;

constexpr const char* kLegacyName = "dltensor";
constexpr const char* kVersionedName = "dltensor_versioned";
constexpr const char* kLegacyUsed = "used_dltensor";
constexpr const char* kVersionedUsed = "used_dltensor_versioned";

// What an exported tensor keeps alive: the array (hence its storage) and the shape/stride arrays.
template <typename Managed>
struct Export {
  Managed managed{};
  Array array;
  std::vector<int64_t> shape, strides;
};

DLDataType dl_type(Dtype dtype) {
  switch (dtype) {
    case Dtype::int32: return DLDataType{kDLInt, 32, 1};
    case Dtype::int64: return DLDataType{kDLInt, 64, 1};
    case Dtype::bool_: return DLDataType{kDLBool, 8, 1};
    case Dtype::float16: break;
  }
  return DLDataType{kDLFloat, 16, 1};
}

template <typename Managed>
Managed* make_managed(const Array& a) {
  auto* e = new Export<Managed>();
  e->array = a;
  e->shape.assign(a.shape().begin(), a.shape().end());
  e->strides.assign(a.strides().begin(), a.strides().end());
  DLTensor& t = e->managed.dl_tensor;
  t.data = a.data();
  const DeviceType type = a.device().type;
  if (type != DeviceType::cpu && type != DeviceType::cuda) {
    delete e;
    throw DeviceError("__dlpack__: DLPack export supports cpu and cuda tensors, not " + a.device().str());
  }
  t.device = DLDevice{type == DeviceType::cpu ? kDLCPU : kDLCUDA, a.device().index};
  t.ndim = a.ndim();
  t.dtype = dl_type(a.dtype());
  t.shape = e->shape.data();
  t.strides = e->strides.data();
  t.byte_offset = 0;
  e->managed.manager_ctx = e;
  e->managed.deleter = [](Managed* self) { delete static_cast<Export<Managed>*>(self->manager_ctx); };
  return &e->managed;
}

// A capsule nobody consumed still owns its tensor: its destructor calls the deleter.
template <typename Managed>
void capsule_destructor(PyObject* capsule) {
  const char* name = std::is_same_v<Managed, DLManagedTensor> ? kLegacyName : kVersionedName;
  if (!PyCapsule_IsValid(capsule, name)) return;  // renamed "used_...": the consumer owns it
  auto* managed = static_cast<Managed*>(PyCapsule_GetPointer(capsule, name));
  if (managed != nullptr && managed->deleter != nullptr) managed->deleter(managed);
}

py::object to_dlpack(const Array& a, bool versioned) {
  if (versioned) {
    DLManagedTensorVersioned* m = make_managed<DLManagedTensorVersioned>(a);
    m->version = DLPackVersion{1, 0};
    m->flags = 0;
    PyObject* capsule = PyCapsule_New(m, kVersionedName, capsule_destructor<DLManagedTensorVersioned>);
    if (capsule == nullptr) {
      m->deleter(m);
      throw py::error_already_set();
    }
    return py::reinterpret_steal<py::object>(capsule);
  }
  DLManagedTensor* m = make_managed<DLManagedTensor>(a);
  PyObject* capsule = PyCapsule_New(m, kLegacyName, capsule_destructor<DLManagedTensor>);
  if (capsule == nullptr) {
    m->deleter(m);
    throw py::error_already_set();
  }
  return py::reinterpret_steal<py::object>(capsule);
}

// Wraps the consumed tensor; `release` runs the producer's deleter exactly once, when the last view dies
// (or at once, if the tensor cannot be wrapped).
Array wrap_dltensor(const DLTensor& t, bool read_only, std::shared_ptr<void> release) {
  Dtype dtype = Dtype::float16;
  bool known = false;
  for (Dtype d : {Dtype::float16, Dtype::int32, Dtype::int64, Dtype::bool_}) {
    const DLDataType want = dl_type(d);
    if (t.dtype.code == want.code && t.dtype.bits == want.bits && t.dtype.lanes == 1) {
      dtype = d;
      known = true;
    }
  }
  if (!known) {
    throw DtypeError("from_dlpack: TensorLogic holds float16, int32, int64 and bool data, got DLPack type code " +
                     std::to_string(t.dtype.code) + " with " + std::to_string(t.dtype.bits) +
                     " bits (convert it first, e.g. .half() or .long())");
  }
  Device device;
  if (t.device.device_type == kDLCPU || t.device.device_type == kDLCUDAHost) {
    device = Device{DeviceType::cpu, 0};
  } else if (t.device.device_type == kDLCUDA) {
    device = Device{DeviceType::cuda, t.device.device_id};
    if (!is_available(DeviceType::cuda)) {
      throw DeviceError("from_dlpack: the tensor lives on a CUDA GPU but this build or machine has no cuda device");
    }
    if (device.index < 0 || device.index >= device_count(DeviceType::cuda)) {
      throw DeviceError("from_dlpack: the tensor lives on " + device.str() + " but this process sees " +
                        std::to_string(device_count(DeviceType::cuda)) + " GPU(s)");
    }
  } else {
    throw DeviceError("from_dlpack: unsupported DLPack device type " + std::to_string(t.device.device_type));
  }
  Shape shape(t.shape, t.shape + t.ndim);
  Strides strides = t.strides != nullptr ? Strides(t.strides, t.strides + t.ndim) : contiguous_strides(shape);
  for (int i = 0; i < t.ndim; ++i) {
    if (strides[i] < 0 && shape[i] > 1) throw ArgumentError("from_dlpack: negative strides are not supported");
    if (shape[i] <= 1) strides[i] = std::max<int64_t>(strides[i], 0);
  }
  void* data = static_cast<char*>(t.data) + t.byte_offset;
  Array a = Array::from_memory(data, shape, strides, dtype, device, std::move(release));
  return read_only ? clone(a) : a;  // a read-only producer must never see our writes
}

Array from_dlpack(py::capsule capsule) {
  PyObject* obj = capsule.ptr();
  if (PyCapsule_IsValid(obj, kVersionedName)) {
    auto* m = static_cast<DLManagedTensorVersioned*>(PyCapsule_GetPointer(obj, kVersionedName));
    if (m->version.major != 1) {
      throw ArgumentError("from_dlpack: unsupported DLPack major version " + std::to_string(m->version.major));
    }
    PyCapsule_SetName(obj, kVersionedUsed);
    std::shared_ptr<void> release(m, [](void* p) {
      auto* managed = static_cast<DLManagedTensorVersioned*>(p);
      if (managed->deleter != nullptr) managed->deleter(managed);
    });
    return wrap_dltensor(m->dl_tensor, (m->flags & kReadOnly) != 0, std::move(release));
  }
  if (PyCapsule_IsValid(obj, kLegacyName)) {
    auto* m = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(obj, kLegacyName));
    PyCapsule_SetName(obj, kLegacyUsed);
    std::shared_ptr<void> release(m, [](void* p) {
      auto* managed = static_cast<DLManagedTensor*>(p);
      if (managed->deleter != nullptr) managed->deleter(managed);
    });
    return wrap_dltensor(m->dl_tensor, false, std::move(release));
  }
  throw ArgumentError("from_dlpack: expected an unconsumed DLPack capsule ('dltensor' or 'dltensor_versioned')");
}

}  // namespace

void bind_dlpack(py::module_& m) {
  m.def("to_dlpack", &to_dlpack, py::arg("a"), py::arg("versioned") = true);
  m.def("from_dlpack", &from_dlpack, py::arg("capsule"));
  m.def("dlpack_device", [](const Array& a) {
    const DeviceType type = a.device().type;
    if (type != DeviceType::cpu && type != DeviceType::cuda) {
      throw DeviceError("__dlpack_device__: DLPack covers cpu and cuda tensors, not " + a.device().str());
    }
    return py::make_tuple(type == DeviceType::cpu ? 1 : 2, a.device().index);
  });
}

}  // namespace tensorlogic::python
