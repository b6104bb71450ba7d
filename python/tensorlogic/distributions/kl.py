"""kl_divergence(p, q) and register_kl, as torch.distributions.kl: KL(p || q) from a table of closed forms
keyed by the two distributions' classes (the most specific registered pair wins)."""
import math

from ..ops.elementwise import log
from .categorical import Categorical
from .normal import Normal

_KL = {}


def register_kl(type_p, type_q):
    """A decorator registering fn(p, q) as KL(p || q) for instances of type_p and type_q (or subclasses)."""

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


def _log(x):
    return math.log(x) if isinstance(x, (int, float)) else log(x)


@register_kl(Normal, Normal)
def _kl_normal_normal(p, q):
    var_ratio = (p.scale / q.scale) ** 2
    t1 = ((p.loc - q.loc) / q.scale) ** 2
    return 0.5 * (var_ratio + t1 - 1 - _log(var_ratio))


@register_kl(Categorical, Categorical)
def _kl_categorical_categorical(p, q):
    # terms where p is 0 count 0; where q is 0 and p is not the divergence is infinite (log(0) of q's clamp
    # in f16 gives a large finite value instead)
    t = p.probs * (p.logits - q.logits)
    return t.masked_fill(p.probs == 0, 0.0).sum(-1)
