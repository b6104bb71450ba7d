"""Tensor.untyped_storage() and Tensor.storage(): read-only descriptions of the memory a tensor views, as
PyTorch's UntypedStorage and TypedStorage present it to programs that compare storages (do two tensors share
memory?), size them or list their elements. They hold the memory alive while they exist. Building a storage
from nothing, resizing one or setting a tensor onto one is not offered: a tensor's memory is made by the
tensor's own constructors here."""
from .autograd import no_grad
from .ops.as_strided import as_strided
from .tensor import tensor_method


class UntypedStorage:
    """The bytes under a tensor: data_ptr() is the address of the storage's first byte (equal for every view
    of the same memory), nbytes() and size() its length in bytes."""

    def __init__(self, tensor):
        self._tensor = tensor

    def data_ptr(self):
        return self._tensor._a.storage_ptr()

    def nbytes(self):
        return self._tensor._a.storage_nbytes

    size = nbytes

    def __len__(self):
        return self.nbytes()

    def element_size(self):
        return 1

    @property
    def device(self):
        return self._tensor.device

    def __eq__(self, other):
        return isinstance(other, UntypedStorage) and (other.data_ptr(), other.device) == (self.data_ptr(), self.device)

    def __hash__(self):
        return hash((self.data_ptr(), str(self.device)))

    def __repr__(self):
        return f"<UntypedStorage of {self.nbytes()} bytes on {self.device}>"


class TypedStorage(UntypedStorage):
    """The storage as elements of the tensor's dtype: size() counts elements, tolist() and indexing read them
    (the whole storage, not just the tensor's view of it)."""

    @property
    def dtype(self):
        return self._tensor.dtype

    def element_size(self):
        return self._tensor.element_size()

    def size(self):
        return self.nbytes() // self.element_size()

    def __len__(self):
        return self.size()

    def untyped(self):
        return UntypedStorage(self._tensor)

    def _flat(self):
        with no_grad():  # a read of values, outside any graph
            return as_strided(self._tensor, (self.size(),), (1,), 0)

    def tolist(self):
        return self._flat().tolist()

    def __getitem__(self, index):
        return self._flat()[index].tolist()

    def __repr__(self):
        return f"<TypedStorage of {self.size()} {self.dtype} elements on {self.device}>"


@tensor_method()
def untyped_storage(self):
    """The bytes this tensor views (a tl UntypedStorage: data_ptr, nbytes, device)."""
    return UntypedStorage(self)


@tensor_method()
def storage(self):
    """The memory this tensor views as elements of its dtype (a tl TypedStorage: data_ptr, size, tolist)."""
    return TypedStorage(self)
