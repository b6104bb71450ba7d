"""An attacker's fuzzer over tl.nn's module classes: each one constructed with hostile arguments (negative, zero and
huge sizes, NaN and infinite hyperparameters, arguments of the wrong kind), then shown (repr), called on tensors of
plausible and implausible shapes, differentiated, and its state_dict loaded back.

A constructor may refuse its arguments, and a call its input, but only with a typed error (fuzz_ops.classify): a
crash, a hang, an untyped exception or leaked internals is a failure. A module built with sizes no memory holds
must say so (MemoryError or a typed error) without first wrapping a size product. Calls come from (seed, index)
alone, so any one can be replayed:

    python tests/fuzz_modules.py --seed S --calls N          # a batch; prints a JSON summary
    python tests/fuzz_modules.py --seed S --replay I         # prints and runs call I of that batch"""
import inspect
import sys
import warnings

import numpy as np

import tensorlogic as tl
import tensorlogic.nn as nn
from fuzz_ops import EXTREME, Maker, SPECIAL_FLOATS, fuzzer_main, reported, tally

# Module classes that wrap other modules or processes (containers, DataParallel, the abstract bases) are built by
# other tests; every other public nn.Module subclass is fuzzed.
WRAPPERS = {"Module", "ModuleDict", "ModuleList", "ParameterDict", "ParameterList", "Sequential", "DataParallel",
            "RNNBase", "RNNCellBase", "SyncBatchNorm"}
MODULES = sorted(n for n, v in vars(nn).items() if isinstance(v, type) and issubclass(v, nn.Module)
                 and n not in WRAPPERS and not n.startswith("_"))

# Constructor parameters by the kind of value they take (the rest get a hostile value or their default).
SIZES = {"in_features", "out_features", "in1_features", "in2_features", "num_features", "num_channels",
         "num_groups", "in_channels", "out_channels", "hidden_size", "input_size", "embed_dim", "num_heads",
         "embedding_dim", "num_embeddings", "d_model", "nhead", "dim_feedforward", "num_layers", "proj_size",
         "num_parameters", "n_classes", "kdim", "vdim", "num_encoder_layers", "num_decoder_layers", "groups",
         "upscale_factor", "downscale_factor", "size", "k", "head_bias_size"}
TUPLE_SIZES = {"kernel_size", "stride", "padding", "dilation", "output_padding", "output_size", "normalized_shape",
               "unflattened_size"}
FLOATS = {"eps", "momentum", "p", "alpha", "beta", "lambd", "margin", "delta", "value", "threshold", "min_val",
          "max_val", "negative_slope", "init", "lower", "upper", "label_smoothing", "div_value", "max_norm",
          "norm_type", "dropout", "layer_norm_eps", "output_ratio", "scale_factor", "beta_", "blank",
          "ignore_index", "start_dim", "end_dim", "dim", "padding_idx", "cutoffs"}
STRINGS = {"reduction": ["mean", "sum", "none", "batchmean", "x"], "mode": ["nearest", "bilinear", "sum", "max",
           "mean", "x", ""], "padding_mode": ["zeros", "reflect", "replicate", "circular", "x"],
           "nonlinearity": ["tanh", "relu", "x"], "activation": ["relu", "gelu", "x"],
           "approximate": ["none", "tanh", "x"]}
BOOLS = {"bias", "affine", "track_running_stats", "batch_first", "bidirectional", "ceil_mode", "count_include_pad",
         "return_indices", "inplace", "elementwise_affine", "log_input", "full", "log_target", "sparse",
         "scale_grad_by_freq", "include_last_offset", "add_bias_kv", "add_zero_attn", "zero_infinity", "norm_first",
         "align_corners", "keepdim", "swap", "head_bias", "enable_nested_tensor", "mask_check", "size_average",
         "reduce"}
SKIPPED = {"self", "device", "dtype", "args", "kwargs", "_weight", "_freeze", "_random_samples", "process_group",
           "device_ids", "output_device", "custom_encoder", "custom_decoder", "encoder_layer", "decoder_layer",
           "distance_function", "weight", "pos_weight"}


class ModuleMaker(Maker):
    """fuzz_ops' Maker, with constructor arguments chosen by parameter name and inputs sized to the module."""

    def size(self):
        # (never a size a machine could allocate and fill, such as 2^31 rows of an Embedding: fuzz_ops' EXTREME)
        return self.pick([1, 2, 2, 3, 4, 4, 0, -1]) if self.chance(0.85) else self.pick(EXTREME + [2**40])

    def argument(self, name):
        if self.chance(0.1):
            return self.hostile()
        if name in SIZES:
            return self.size()
        if name in TUPLE_SIZES:
            if self.chance(0.5):
                return self.size()
            return tuple(self.size() for _ in range(int(self.rng.integers(0, 4))))
        if name in FLOATS:
            if name == "cutoffs":
                return self.pick([[1], [2, 3], [3, 2], [], [0], [1, 99], [1.5]])
            return self.pick(SPECIAL_FLOATS + [0.1, 0.5, 2, -1, 1, 3, None]) if self.chance(0.5) else \
                self.pick([0, 1, -1, 0.5, 0.1, 2])
        if name in STRINGS:
            return self.pick(STRINGS[name])
        if name in BOOLS:
            return self.pick([True, False, True, False, "x", None])
        return self.hostile()

    def input(self, sizes):
        """A float16 tensor of 0 to 5 dims, each a small size or one of the module's own sizes (so calls get past
        the shape checks often)."""
        pool = [1, 2, 3, 4] + [s for s in sizes if isinstance(s, int) and 0 <= s <= 8]
        shape = tuple(self.pick(pool) for _ in range(int(self.rng.integers(0, 6))))
        if self.chance(0.1):
            shape = shape + (0,)
        values = self.rng.standard_normal(shape) * self.pick([1.0, 3.0])
        if self.chance(0.2):
            return tl.tensor(self.rng.integers(0, 4, shape), dtype=tl.int64)
        t = tl.tensor(values.astype(np.float16))
        return self.view(t)


def _sizes(kwargs):
    out = []
    for v in kwargs.values():
        out.extend(v if isinstance(v, tuple) else [v])
    return out


def module_call(maker, name):
    """(shown call, thunk): builds nn.<name> with hostile arguments, then reprs it, calls it, backpropagates and
    round-trips its state_dict."""
    cls = getattr(nn, name)
    kwargs = {}
    for p in list(inspect.signature(cls.__init__).parameters.values()):
        if p.name in SKIPPED or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        if p.default is inspect.Parameter.empty or maker.chance(0.4):
            kwargs[p.name] = maker.argument(p.name)
    forward = inspect.signature(cls.forward)
    count = sum(1 for p in forward.parameters.values() if p.name != "self" and p.default is inspect.Parameter.empty
                and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)) or 1
    shown = f"nn.{name}({', '.join(f'{k}={v!r:.60}' for k, v in kwargs.items())}) on {count} input(s)"

    def run():
        module = cls(**kwargs)
        repr(module)
        if maker.chance(0.3):
            module.eval()
        inputs = [maker.input(_sizes(kwargs)) if maker.chance(0.9) else maker.hostile() for _ in range(count)]
        out = module(*inputs)
        outs = out if isinstance(out, (tuple, list)) else [out]
        for o in outs:
            if isinstance(o, tl.Tensor) and o.requires_grad and o.dtype == tl.float16:
                o.float().sum().backward()
                break
        state = module.state_dict()
        module.load_state_dict(state)

    return shown, run


# The functions that act on modules and their parameters (nn.init, nn.utils and its prune, parametrize,
# parametrizations and stateless), each defined there (not a helper it imports): none is in fuzz_ops' namespaces.
UTIL_MODULES = {"nn.init.": nn.init, "nn.utils.": nn.utils, "nn.utils.prune.": nn.utils.prune,
                "nn.utils.parametrize.": nn.utils.parametrize, "nn.utils.parametrizations.": nn.utils.parametrizations,
                "nn.utils.stateless.": nn.utils.stateless}
UTILS = sorted((prefix + name, value) for prefix, module in UTIL_MODULES.items() for name, value in vars(module).items()
               if not name.startswith("_") and inspect.isfunction(getattr(value, "__wrapped__", value))
               and value.__module__.startswith(module.__name__))
SMALL_MODULES = [lambda: nn.Linear(3, 2), lambda: nn.Conv2d(2, 4, 3), lambda: nn.BatchNorm2d(4), lambda: nn.LSTM(3, 2),
                 lambda: nn.Embedding(5, 3), lambda: nn.BatchNorm1d(2), lambda: nn.ConvTranspose2d(4, 2, 3)]
NAMES = ["weight", "bias", "weight", "x", "", "weight_ih_l0", "running_mean", None]


class KeptAsPyTorch(Exception):
    """What a utility raised with PyTorch's own untyped kind, which the library keeps (see util_call)."""


def _util_argument(maker, name, param, modules):
    if name in ("module", "conv", "bn", "linear") or (name == "module_cls" and maker.chance(0.2)):
        module = maker.pick(SMALL_MODULES)() if maker.chance(0.9) else maker.hostile()
        modules.append(module)
        return module
    if name == "module_cls":
        return maker.pick([nn.Linear, nn.Conv2d, nn.BatchNorm1d, nn.Embedding])
    if name in ("name", "tensor_name"):
        return maker.pick(NAMES)
    if name in ("parameters", "tensors") and modules:
        return maker.pick([lambda: list(modules[-1].parameters()), lambda: modules[-1].parameters(),
                           lambda: next(iter(modules[-1].parameters())), lambda: []])()
    if name in ("parameters", "tensors", "tensor"):
        module = maker.pick(SMALL_MODULES)()
        modules.append(module)
        params = list(module.parameters())
        for p in params:
            p.grad = tl.tensor(maker.rng.standard_normal(p.shape).astype(np.float16)) if maker.chance(0.7) else None
        return params if name != "tensor" or maker.chance(0.3) else maker.pick(params)
    if name == "amount":
        return maker.pick([0, 1, 2, 0.5, 0.0, 1.0, 3, -1, 1.5, float("nan"), 2**70, "x"])
    if name in ("parametrization", "pruning_method", "orthogonal_map"):
        return maker.pick([nn.Identity(), nn.Tanh(), lambda x: x, "x", None, nn.utils.prune.L1Unstructured,
                           nn.utils.prune.RandomUnstructured, "matrix_exp", "cayley", "householder"])
    if name in ("parameters_and_buffers", "args"):
        return maker.pick([{}, {"weight": maker.tensor()}, (maker.tensor(),), "x", {"nope": tl.ones(1)}])
    return maker.value(name, param)


def util_call(maker, entry):
    """(shown call, thunk) of a module utility with hostile arguments, then the module(s) it got, called."""
    name, fn = entry
    modules, args = [], []
    for p in inspect.signature(fn).parameters.values():
        if p.kind is p.VAR_KEYWORD or (p.default is not inspect.Parameter.empty and maker.chance(0.5)):
            continue
        value = _util_argument(maker, p.name, p, modules)
        args.extend(value if p.kind is p.VAR_POSITIONAL and isinstance(value, tuple) else [value])
    shown = f"{name}({', '.join(repr(a)[:40] for a in args)})"

    def run():
        if name.endswith("_eval") and maker.chance(0.8):  # (fusing a training module: an AssertionError)
            for module in modules:
                getattr(module, "eval", lambda: None)()
        try:
            fn(*args)
        except (AttributeError, KeyError, AssertionError) as error:
            # kept as PyTorch has them, each with a message of the library's own: a name the module has no
            # parameter under (AttributeError; KeyError for spectral_norm), and fusion's AssertionErrors
            if "has no parameter" not in str(error) and not (isinstance(error, AssertionError) and "fuse" in name):
                raise
            raise KeptAsPyTorch(f"{type(error).__name__}: {error}") from None
        for module in modules:  # what a utility did to a module leaves it callable
            if isinstance(module, (nn.Linear, nn.LSTM)):
                module(tl.tensor(maker.rng.standard_normal((2, 3)).astype(np.float16)))

    return shown, run


def make_call(seed, index):
    rng = np.random.default_rng([seed, index])
    maker = ModuleMaker(rng)
    if rng.random() < 0.3:
        return util_call(maker, UTILS[int(rng.integers(0, len(UTILS)))])
    return module_call(maker, MODULES[int(rng.integers(0, len(MODULES)))])


def run_batch(seed, calls, progress_fd=None):
    counts = {"calls": 0, "returned": 0, "typed": 0, "modules": len(MODULES)}
    problems = []
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        for index in reported(calls, progress_fd):
            shown, thunk = make_call(seed, index)
            tally(counts, problems, index, thunk, lambda: shown)
    counts["problems"] = problems
    return counts


def _replay(args):
    shown, thunk = make_call(args.seed, args.replay)
    print(shown, flush=True)
    thunk()


if __name__ == "__main__":
    sys.exit(fuzzer_main(__doc__, lambda a: run_batch(a.seed, a.calls, a.progress), _replay))
