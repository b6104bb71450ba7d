"""tl.nn.modules mirrors torch.nn.modules: each submodule PyTorch has (batchnorm, conv, loss, ...) gives the classes
PyTorch defines there, private bases included, and the classes relate as PyTorch's do (isinstance checks that real
programs make, such as `isinstance(m, _BatchNorm)` to freeze batch norms, answer as they do under PyTorch)."""
import inspect
import types

import torch
import torch.nn.modules as torch_modules

import tensorlogic as tl


def _pairs():
    """(name, PyTorch's class, ours) for every module class of every submodule both have."""
    found = []
    for name, ours in vars(tl.nn.modules).items():
        if not isinstance(ours, types.ModuleType) or name == "utils":
            continue
        for cls_name, theirs in vars(getattr(torch_modules, name)).items():
            if inspect.isclass(theirs) and issubclass(theirs, torch.nn.Module) and hasattr(ours, cls_name):
                found.append((f"{name}.{cls_name}", theirs, getattr(ours, cls_name)))
    return found


def test_every_submodule_holds_the_public_classes_and_the_bases_programs_use():
    for name, ours in vars(tl.nn.modules).items():
        if isinstance(ours, types.ModuleType) and name not in ("utils", "module"):
            theirs = getattr(torch_modules, name)
            wanted = {n for n, v in vars(theirs).items() if inspect.isclass(v) and v.__module__ == theirs.__name__
                      and issubclass(v, torch.nn.Module) and not n.startswith("_") and hasattr(tl.nn, n)}
            assert wanted <= set(vars(ours)), (name, wanted - set(vars(ours)))
    for path in ("batchnorm._BatchNorm", "batchnorm._NormBase", "conv._ConvNd", "conv._ConvTransposeNd",
                 "loss._Loss", "loss._WeightedLoss", "module.Module", "dropout._DropoutNd", "instancenorm._InstanceNorm",
                 "pooling._MaxPoolNd", "pooling._AvgPoolNd", "pooling._AdaptiveAvgPoolNd"):
        module, _, cls = path.partition(".")
        assert inspect.isclass(getattr(getattr(tl.nn.modules, module), cls)), path


def test_classes_relate_as_pytorchs_do():
    pairs = _pairs()
    assert len(pairs) > 150
    wrong = [(a, b) for a, ta, oa in pairs for b, tb, ob in pairs if issubclass(ta, tb) != issubclass(oa, ob)]
    assert wrong == []


def test_isinstance_checks_on_real_layers():
    m = tl.nn.modules
    assert isinstance(tl.nn.BatchNorm2d(3), m.batchnorm._BatchNorm)
    assert not isinstance(tl.nn.InstanceNorm2d(3), m.batchnorm._BatchNorm)
    assert isinstance(tl.nn.InstanceNorm2d(3), m.batchnorm._NormBase)
    assert isinstance(tl.nn.ConvTranspose2d(2, 2, 3), m.conv._ConvNd) and isinstance(tl.nn.Conv1d(2, 2, 3), m.conv._ConvNd)
    assert isinstance(tl.nn.CrossEntropyLoss(), m.loss._WeightedLoss) and isinstance(tl.nn.CTCLoss(), m.loss._Loss)
    assert isinstance(tl.nn.Dropout2d(), m.dropout._DropoutNd) and not isinstance(tl.nn.Dropout2d(), tl.nn.Dropout)
    assert isinstance(tl.nn.ZeroPad2d(1), tl.nn.ConstantPad2d) and m.module.Module is tl.nn.Module


def test_the_argument_helpers_and_prefix_stripping_match_pytorch():
    from torch.nn.modules import utils as theirs
    ours = tl.nn.modules.utils
    for name in ("_single", "_pair", "_triple", "_quadruple"):
        for arg in (3, (1, 2), [4, 5, 6]):
            assert getattr(ours, name)(arg) == getattr(theirs, name)(arg)
    assert ours._reverse_repeat_tuple((1, 2, 3), 2) == theirs._reverse_repeat_tuple((1, 2, 3), 2)
    assert ours._ntuple(5, "p")(7) == (7,) * 5
    for fn in (ours.consume_prefix_in_state_dict_if_present, theirs.consume_prefix_in_state_dict_if_present):
        sd = {"module.a": 1, "module.b.c": 2, "other": 3}
        fn(sd, "module.")
        assert sd == {"a": 1, "b.c": 2, "other": 3}
