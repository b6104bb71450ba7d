"""How tensorlogic.multiprocessing's pickler sends tensors: each as its shared memory block (moved there first if it
was not, as PyTorch does), the block's descriptor duplicated by multiprocessing, and the tensor rebuilt over the same
memory on the other side. Registered with multiprocessing's ForkingPickler, which pickles Process arguments under the
spawn and forkserver start methods and everything sent through Queues, Pipes and Pools. Its dispatch table is read
before a class's own __reduce_ex__, so these reducers win over plain pickle's (a copy of the values: tensor_new.py)."""
from multiprocessing.heap import Arena
from multiprocessing.reduction import ForkingPickler

from ..nn.parameter import Parameter
from ..shared_memory import block_for, shared_block, wrap_shared
from ..tensor import Tensor


def rebuild_tensor(cls, arena, dtype, shape, strides, offset, requires_grad):
    if not isinstance(arena, Arena) or cls not in (Tensor, Parameter):  # (the message may come from anywhere)
        raise TypeError(f"a shared tensor's description is malformed: {type(arena).__name__} for its memory, "
                        f"{cls!r:.60} for its class")
    t = wrap_shared(block_for(arena), dtype, shape, strides, offset)
    if cls is Parameter:
        return Parameter(t, requires_grad=requires_grad)
    return t.requires_grad_(requires_grad) if requires_grad else t


def reduce_tensor(t):
    if t.requires_grad and not t.is_leaf:
        raise RuntimeError("Cowardly refusing to serialize non-leaf tensor which requires_grad, since autograd does "
                           "not support crossing process boundaries. If you just want to transfer the data, call "
                           "detach() on the tensor before serializing (e.g., putting it on the queue).")
    block = shared_block(t)
    return rebuild_tensor, (type(t), block.arena, t.dtype.numpy, t.shape, t.stride(), t.data_ptr() - block.address,
                            t.requires_grad)


def init_reductions():
    for cls in (Tensor, Parameter):  # ForkingPickler looks reducers up by exact type
        ForkingPickler.register(cls, reduce_tensor)
