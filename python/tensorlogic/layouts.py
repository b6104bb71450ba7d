"""PyTorch's tensor layouts: every TensorLogic tensor is dense, laid out by strides (tl.strided, every tensor's
.layout). The sparse layouts (sparse_coo, sparse_csr, ...) are absent: there are no sparse tensors."""


class layout:  # noqa: N801 (PyTorch's name)
    """A tensor layout: tl.strided, the only one."""
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"tensorlogic.{self.name}"

    def __reduce__(self):  # pickles as the module-level name, so unpickling gives the one instance
        return self.name


strided = layout("strided")
