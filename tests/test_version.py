"""tl.version, against torch.version: the same fields, of the same forms, describing this build."""
import re

import torch

import tensorlogic as tl
import tensorlogic.version


def test_fields_have_torchs_forms():
    assert tensorlogic.version is tl.version and tl.version.__version__ == tl.__version__
    for ours, theirs in ((tl.version.__version__, torch.version.__version__),
                         (tl.version.git_version, torch.version.git_version)):
        assert type(ours) is type(theirs) is str
    assert re.fullmatch(r"\d+\.\d+\.\d+", tl.__version__)
    assert tl.version.git_version == "Unknown" or re.fullmatch(r"[0-9a-f]{40}", tl.version.git_version)
    assert type(tl.version.debug) is type(torch.version.debug) is bool
    assert tl.version.hip is None  # no ROCm backend, as a CUDA or CPU build of torch
    assert tl.version.cuda is None or re.fullmatch(r"\d+\.\d+", tl.version.cuda)
    if tl.cuda.is_available():  # a device needs the backend, so the build has CUDA
        assert tl.version.cuda is not None
