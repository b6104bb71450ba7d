"""Base tracking of views (after PyTorch's), so that an in-place op through a view rewrites the history of the memory
it writes. A view that a view op returns while grad mode is on remembers its root (the tensor whose memory it views,
itself no such view) and the steps that make it from the root; the root keeps weak references to its views. After an
in-place op on any of them (autograd/inplace.py) the root holds the new history, and every live view whose elements
the op wrote takes its history from the root again, as PyTorch regenerates a view's grad_fn once its base's version
moved. (A view the op did not write keeps its history: its values are the same in the root's old and new value.)

t._view, on a view: [root, steps, extent]; each step is (view Function, its arguments after the input, the output's
index for a multi_output Function or None), replayed in order from a tensor of the root's shape; extent is the first
and last storage offsets of the view's elements ((): none), None until first needed. root._views: a _Views. Each view
Function names itself in messages as PyTorch names the op (`view_name(args, index)`), and a multi-output one says
whether PyTorch refuses in-place ops on its outputs (`multi_output_views`: autograd/multi_output_views.py)."""
import weakref

from ..tensor import _wrap
from .function import take_history
from .multi_output_views import invalidate, is_multi_output


class _Views:
    """A root's views, as weak references (some dead, or since moved to another root: `belongs` tells): those noted
    since its last in-place op in `new` (noting one is an append), the others in `known` with their extents, and
    `span`, an interval of storage offsets holding every known extent. An in-place op finds the views it wrote by
    their extents; one that writes outside `span` (a buffer filled part by part while the parts before are read back)
    checks none of them. `multi`: whether a multi-output view was ever noted (those are invalidated by any in-place
    op, wherever it writes)."""

    __slots__ = ("new", "known", "span", "limit", "multi")

    def __init__(self):
        self.new, self.known, self.span, self.limit, self.multi = [], [], (), 16, False


def note_view(x, out, step):
    """Records `out`, which the view Function application `step` made of x (sharing x's memory), as a view of x's
    root. The view Functions call this while grad mode is on (views made under no_grad stay untracked, as roots)."""
    views = getattr(x, "_views", None)  # (first: a root that has views, the usual x, reads one slot that is set)
    parent = None if views is not None else getattr(x, "_view", None)
    multi = step[2] is not None and step[0].multi_output_views  # (a view of one: its root has multi set already)
    if parent is None:
        out._view = [x, (step,), None]
        _register(x, out, views, multi)
    else:
        root = parent[0]
        out._view = [root, parent[1] + (step,), None]
        _register(root, out, getattr(root, "_views", None), multi)


def root_of(x):
    """The tensor whose memory x views (x itself where it is no tracked view)."""
    parent = getattr(x, "_view", None)
    return x if parent is None else parent[0]


def note_storage_view(x, out, step):
    """Records `out`, a view of x's memory placed relative to its storage (as_strided), as the view that `step` alone
    makes of x's root (the step's position counted from the root's first element)."""
    root = root_of(x)
    out._view = [root, (step,), None]
    _register(root, out, getattr(root, "_views", None))


def _register(root, view, views, multi=False):
    """Adds view to root's _Views `views` (None: root has none yet); `multi`: it is a multi-output view."""
    if views is None:
        views = root._views = _Views()
    if multi:
        views.multi = True
    new = views.new
    new.append(weakref.ref(view))
    n = len(new)
    if n >= 16 and not n & (n - 1):  # pruned at each power of two: O(1) per view, the list within twice the live ones
        new[:] = [ref for ref in new if belongs(ref(), root)]


def _learn(root, views):
    """Moves root's new views into `known` with their extents (each view once) and widens `span` to hold them; the
    dead are dropped from `known` each time it doubles, and `span` fitted again."""
    known = views.known
    for ref in views.new:
        view = ref()
        if belongs(view, root):
            record = view._view
            if record[2] is None:
                record[2] = _extent(view._a)
            known.append((ref, record[2]))
            views.span = _union(views.span, record[2])
    views.new = []
    if len(known) > views.limit:
        known[:] = [entry for entry in known if belongs(entry[0](), root)]
        views.limit = max(16, 2 * len(known))
        views.span = ()
        for _, extent in known:
            views.span = _union(views.span, extent)


def _union(a, b):
    if not a or not b:
        return a or b
    return min(a[0], b[0]), max(a[1], b[1])


def belongs(view, root):
    """Whether `view` (a tensor or None) is alive and still a view of root."""
    return view is not None and getattr(view, "_view", (None,))[0] is root


def live_views(root):
    """root's views that are alive and still view it."""
    views = getattr(root, "_views", None)
    if views is None:
        return []
    refs = views.new + [entry[0] for entry in views.known]
    return [view for view in (ref() for ref in refs) if belongs(view, root)]


def replay(steps, t):
    """The view that `steps` make of t (a tensor of the root's shape), through the view Functions (so recorded as they
    are)."""
    for fn, args, index in steps:
        t = fn.apply(t, *args)
        if index is not None:
            t = t[index]
    return t


def refresh(root, written=None):
    """After an in-place op gave root a new history: each live view of root whose elements it wrote (those of the
    array `written`, a view of root's memory; None: all of root) takes the history of its steps replayed on root's."""
    views = getattr(root, "_views", None)
    if views is None:
        return
    _learn(root, views)
    if views.multi:
        _invalidate_multi_output_views(root, views)
    area = None if written is None else _extent(written)
    if not views.span or (area is not None and not _overlap(area, views.span)):
        return
    # replayed on an alias, whose own _Views take the notes of the replays (root is no leaf that requires grad here:
    # in-place ops refuse those, so an edge to the alias is an edge to root's history)
    source = with_history(root._a, root)
    for ref, extent in list(views.known):
        view = ref()
        if belongs(view, root) and (area is None or _overlap(area, extent)) and not is_multi_output(view._view[1]):
            out = replay(view._view[1], source)
            take_history(view, out.requires_grad, out.grad_fn)


def _invalidate_multi_output_views(root, views):
    """PyTorch's version check of multi-output views: an in-place op anywhere in their memory makes each live one
    refuse its later use, as PyTorch's."""
    for ref, _ in views.known:
        view = ref()
        if belongs(view, root) and is_multi_output(view._view[1]):
            invalidate(view)


def _overlap(a, b):
    """Whether the intervals a and b (() for none) meet."""
    return bool(a) and bool(b) and a[0] <= b[1] and b[0] <= a[1]


def _extent(a):
    """The first and last storage offsets of array a's elements, () when it has none."""
    low = high = a.offset
    for size, stride in zip(a.shape, a.strides):
        if size == 0:
            return ()
        span = (size - 1) * stride
        if span > 0:
            high += span
        else:
            low += span
    return low, high


def refit(t, out, previous):
    """Keeps t among the views of its memory after its own view of it changed in place to `out`'s (t.t_(), resize_):
    out is the view op's result on t, noted as a view; `previous` is t's array before. A view takes out's steps; a
    root whose views are alive becomes a view of a new root over its previous array, with its history, which those
    views now view."""
    view = getattr(out, "_view", None)
    if view is None:
        return
    if view[0] is not t:  # t was a view itself: out is one step further from the same root
        t._view = view
        return
    old = _rehome(t, previous, exclude=out)
    if old is not None:
        t._view = [old, view[1], None]
        _register(old, t, old._views)


def leave(t, previous):
    """t now holds other memory (t.data = ...; `previous` is its array before): it views nothing, and its live views
    view a new root over the previous array, with t's history."""
    if getattr(t, "_view", None) is not None:
        del t._view
    _rehome(t, previous)


def _rehome(root, previous, exclude=None):
    """Moves root's live views (but `exclude`) to a new root over `previous` with root's history, their steps
    unchanged; the new root, or None where there were none."""
    views = [view for view in live_views(root) if view is not exclude]
    if not views:
        return None
    new_root = with_history(previous, root)
    new_root._views = _Views()
    new_root._views.multi = root._views.multi
    for view in views:
        view._view = [new_root, view._view[1], view._view[2]]
        new_root._views.new.append(weakref.ref(view))
    root._views = None
    return new_root


def with_history(array, t):
    """A tensor over `array` with t's history: an op on it is recorded as an op on t's value."""
    alias = _wrap(array)
    alias.requires_grad, alias.grad_fn = t.requires_grad, t.grad_fn
    return alias
