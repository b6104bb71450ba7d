"""What the checker knows about built-ins: names, argument counts, and the optimizers and
schedulers of `tl.optim` with PyTorch's argument names."""
from __future__ import annotations

from ..engine import public, tl

# Engine ops by their PyTorch names (SPEC §4), callable from `.tl` code.  These are reserved: a
# line `sum(a, b)` is a call, not a fact.  The engine's other functions are in ENGINE_MORE.
ENGINE_OPS = set("""
tensor zeros ones full empty arange linspace eye zeros_like ones_like rand randn randint manual_seed
add sub mul div pow maximum minimum eq ne lt le gt ge where neg abs exp log log1p sqrt rsqrt sin cos
tanh sigmoid relu gelu silu softplus clamp reciprocal square sign floor ceil round
sum mean max min argmax argmin var std prod logsumexp norm amax amin
softmax log_softmax layer_norm rms_norm cross_entropy mse_loss nll_loss
matmul einsum linear tril triu
reshape view transpose permute squeeze unsqueeze expand broadcast_to flatten contiguous
cat stack split chunk pad gather scatter_add index_select embedding
conv2d max_pool2d avg_pool2d scaled_dot_product_attention numel
""".split())

# The seed language's own functions (run/seed_ops.py).
SEED_OPS = {"positional_encoding", "rope", "tan", "transe_score", "relational_aggregate", "vec",
            "from_vec", "slice_last", "random_normal", "causal_mask", "apply_mask",
            "apply_attention_mask", "padding_mask", "combine_masks"}

# Language built-ins (LANGUAGE.md §4-§5).
LANGUAGE_BUILTINS = {"print", "assert", "assert_eq", "panic", "shape", "rank", "len", "range", "float", "int", "str",
                     "bool", "step", "sig", "lnorm", "concat", "item", "tolist"}

BUILTINS = ENGINE_OPS | LANGUAGE_BUILTINS | SEED_OPS

# Every other function of the engine's namespace and of tl.nn.functional (cumsum, topk, outer,
# leaky_relu, one_hot ...), by its PyTorch name.  Not reserved: a name a program uses for a relation
# (`dist(a, b)`, `mode(x) <- ...`) or a function stays that; elsewhere a call of it is the engine's.
# (Choosing the device is the command line's, `tl run --device`, not a program's.)
ENGINE_MORE = {n for n, v in (vars(tl) | public(tl.nn.functional)).items()
               if callable(v) and not isinstance(v, type) and not n.startswith("_")} - BUILTINS - \
    {"device", "available_devices", "get_default_device", "set_default_device"}


def callable_builtin(name: str) -> bool:
    """Whether a call of `name` (when no function, relation or variable has that name) is a built-in."""
    return name in BUILTINS or name in ENGINE_MORE

# Elementwise functions usable on indexed tensors in equations (they keep the indices).
ELEMENTWISE = {"step", "sig", "relu", "gelu", "silu", "tanh", "exp", "log", "sqrt", "sin", "cos",
               "sigmoid", "abs", "neg", "log1p", "rsqrt", "softplus", "reciprocal", "square",
               "sign", "floor", "ceil", "round", "clamp", "pow", "maximum", "minimum", "where",
               "tan",
               # the engine's other elementwise functions (one tensor, or two that broadcast)
               "sinh", "cosh", "asin", "acos", "atan", "asinh", "acosh", "atanh", "arcsin", "arccos",
               "arctan", "log2", "log10", "exp2", "expm1", "erf", "erfc", "erfinv", "logit", "sinc", "frac",
               "trunc", "sgn", "deg2rad", "rad2deg", "lgamma", "digamma", "nan_to_num", "clamp_min",
               "clamp_max", "leaky_relu", "elu", "selu", "celu", "mish", "hardtanh", "hardsigmoid",
               "hardswish", "relu6", "softsign", "tanhshrink", "logsigmoid", "softshrink", "hardshrink",
               "atan2", "hypot", "fmod", "remainder", "copysign", "fmax", "fmin", "logaddexp", "xlogy",
               "heaviside", "float_power"}
# Normalising functions: along the axis marked with `.` on the left side.
NORMALISING = {"softmax", "log_softmax", "lnorm"}

# (min, max) positional argument counts; None = unbounded.  Names not listed are not checked.
ARITY = {
    "print": (0, None), "assert": (1, 2), "assert_eq": (2, 3), "shape": (1, 1), "rank": (1, 1), "len": (1, 1),
    "range": (1, 3),
    "float": (1, 1), "int": (1, 1), "str": (1, 1), "bool": (1, 1), "item": (1, 1),
    "tolist": (1, 1), "step": (1, 1), "sig": (1, 2), "lnorm": (1, 1),
    "relu": (1, 1), "gelu": (1, 1), "silu": (1, 1), "tanh": (1, 1), "exp": (1, 1), "log": (1, 1),
    "sqrt": (1, 1), "sin": (1, 1), "cos": (1, 1), "sigmoid": (1, 1), "abs": (1, 1),
    "neg": (1, 1), "log1p": (1, 1), "rsqrt": (1, 1), "softplus": (1, 1), "reciprocal": (1, 1),
    "square": (1, 1), "sign": (1, 1), "floor": (1, 1), "ceil": (1, 1), "round": (1, 1),
    "matmul": (2, 2), "einsum": (2, None), "transpose": (1, 3), "where": (3, 3),
    "maximum": (2, 2), "minimum": (2, 2), "zeros_like": (1, 1), "ones_like": (1, 1),
    "numel": (1, 1), "softmax": (1, 2), "log_softmax": (1, 2),
    "positional_encoding": (2, 2), "rope": (1, 3), "tan": (1, 1), "transe_score": (3, 4),
    "relational_aggregate": (2, 3), "vec": (1, 1), "from_vec": (2, 2), "slice_last": (2, 2),
    "causal_mask": (1, 1), "apply_mask": (2, 3), "apply_attention_mask": (2, 2), "padding_mask": (2, 2),
    "combine_masks": (2, 2),
}

# Optimizers of tl.optim with PyTorch's arguments (besides the parameters).
OPTIMIZERS = {
    "SGD": ["lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize"],
    "Adam": ["lr", "betas", "eps", "weight_decay", "amsgrad", "maximize"],
    "AdamW": ["lr", "betas", "eps", "weight_decay", "amsgrad", "maximize"],
    "RMSprop": ["lr", "alpha", "eps", "weight_decay", "momentum", "centered", "maximize"],
    "Lion": ["lr", "betas", "weight_decay"],
}
SCHEDULERS = {
    "StepLR": ["step_size", "gamma"],
    "ExponentialLR": ["gamma"],
    "CosineAnnealingLR": ["T_max", "eta_min"],
    "LinearLR": ["start_factor", "end_factor", "total_iters"],
    "LambdaLR": ["lr_lambda"],
}
SCHEDULER_ALIASES = {"step": "StepLR", "exponential": "ExponentialLR", "cosine": "CosineAnnealingLR",
                     "linear": "LinearLR", "lambda": "LambdaLR"}

LEARN_SETTINGS = {"objective", "optimizer", "epochs", "scheduler", "clip_grad_norm", "progress"}


def optimizer_class(name: str) -> str | None:
    """`adam`, `Adam`, `ADAMW` ... -> the class name in tl.optim, or None."""
    for cls in OPTIMIZERS:
        if cls.lower() == name.lower():
            return cls
    return None


def scheduler_class(name: str) -> str | None:
    low = name.lower()
    if low in SCHEDULER_ALIASES:
        return SCHEDULER_ALIASES[low]
    for cls in SCHEDULERS:
        if cls.lower() == low:
            return cls
    return None


# The seed reference's names of Adam's arguments: `epsilon` is eps; `beta1` and `beta2` are the
# two parts of betas (run/learn.py joins them).
SEED_ARGUMENTS = {"epsilon": "eps", "beta1": "betas", "beta2": "betas"}


def match_argument(name: str, accepted) -> str | None:
    """`t_max` -> `T_max`: argument names match case-insensitively (and the seed's names, above)."""
    for word in (name, SEED_ARGUMENTS.get(name.lower())):
        for a in accepted:
            if word is not None and a.lower() == word.lower():
                return a
    return None
