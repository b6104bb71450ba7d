"""The views PyTorch makes as outputs of a function that returns several views (split, chunk, unbind, iteration: its
CreationMeta MULTI_OUTPUT_NODE), and the views made from them: under autograd PyTorch refuses an in-place op on one,
and the use of one after its memory was written in place, because one output's CopySlices could not stand for the
others'. A view's steps (autograd/views.py) say whether it is such a view: a step with an output index of a view
Function whose `multi_output_views` is set. Each view Function's `view_name(args, index)` gives PyTorch's name of the
op that made it, for the messages."""
from .function import Function, Node

_TAIL = (" This view is the output of a function that returns multiple views. Such functions do not allow the output "
         "views to be modified inplace. You should replace the inplace operation by an out-of-place one.")


def is_multi_output(steps):
    """Whether the view that `steps` make is (or views) an output of a multi-output view function."""
    return any(index is not None and fn.multi_output_views for fn, _, index in steps)


def multi_output_error(view, steps, indirect=False, view_name=None):
    """PyTorch's RuntimeError for an in-place op on `view` (`indirect`: on its base or another view of it, found when
    the view is used), whose steps are `steps`; `view_name`: the op's own view of `view` where it writes one (x[0] =
    v: Select). A view with no history (its base required no grad when it was made) is described as PyTorch
    describes one without a grad_fn."""
    modified = "its base or another view of its base has been" if indirect else "is being"
    if view.grad_fn is None:
        head = f"A view was created in no_grad mode and {modified} modified inplace with grad mode enabled."
    else:
        fn, args, index = steps[-1]
        output, name = (0, view_name) if view_name else (0 if index is None else index, fn.view_name(args, index))
        head = f"Output {output} of {name} is a view and {modified} modified inplace."
    return RuntimeError(head + _TAIL)


class _WrittenMultiOutputView(Function):
    """The history of a multi-output view after its memory was written in place (through its base or a sibling):
    backward through a use of it raises PyTorch's error. (PyTorch raises at the use itself, when it reads the view's
    grad_fn; the use is recorded here without reading more than the node.)"""

    @staticmethod
    def name(ctx):
        return ctx.origin

    @staticmethod
    def backward(ctx, g):
        raise ctx.error


def invalidate(view):
    """Gives `view`, a live multi-output view whose memory an in-place op under autograd just wrote, the history that
    refuses backward with PyTorch's message."""
    error = multi_output_error(view, view._view[1], indirect=True)
    node = Node(_WrittenMultiOutputView)
    node.next, node.needs_input_grad, node.input_shapes = [], (), []
    node.origin = view.grad_fn.name if view.grad_fn is not None else "View"
    node.error = error
    view.requires_grad, view.grad_fn = True, node
