"""kl_divergence(p, q) and register_kl, as torch.distributions.kl: KL(p || q) from a table of closed forms
keyed by the two distributions' classes (the most specific registered pair wins). The closed forms are registered
by kl_same (pairs of one family) and kl_cross (pairs of two)."""
from .distribution import Distribution

_KL = {}


def register_kl(type_p, type_q):
    """A decorator registering fn(p, q) as KL(p || q) for instances of type_p and type_q (or subclasses). Both must
    be Distribution classes: checked here, as PyTorch does, since a bad key in the table broke every later
    kl_divergence."""
    for t in (type_p, type_q):
        if not (isinstance(t, type) and issubclass(t, Distribution)):
            raise TypeError(f"register_kl: expected subclasses of Distribution, got {t!r}")

    def decorator(fn):
        _KL[type_p, type_q] = fn
        return fn

    return decorator


def kl_divergence(p, q):
    """KL(p || q) per distribution of the batch; NotImplementedError for a pair with no registered form."""
    matches = [(tp, tq) for tp, tq in _KL if isinstance(p, tp) and isinstance(q, tq)]
    if not matches:
        raise NotImplementedError(f"No KL(p || q) is implemented for p type {type(p).__name__} and q type "
                                  f"{type(q).__name__}")
    # the pair nearest to the classes of p and q in their method resolution orders
    best = min(matches, key=lambda pair: (type(p).__mro__.index(pair[0]), type(q).__mro__.index(pair[1])))
    return _KL[best](p, q)
