"""gradcheck with default arguments passes correct gradients and rejects wrong ones (a few fresh trials of
every case of tests/gradcheck_trials.py, which runs 1,000 of each as a script)."""
import time

import numpy as np

import tensorlogic as tl
from gradcheck_trials import run


def test_every_case_passes_and_every_wrong_gradient_is_rejected():
    failures = run(1, int(time.time()), log=lambda line: None)
    assert not failures, failures[:5]


def test_issue_example_passes_on_fresh_inputs():
    seed = int(time.time())
    for trial in range(20):
        rng = np.random.default_rng(seed + trial)
        x = tl.tensor(rng.standard_normal((3, 4)).astype(np.float16)).requires_grad_()
        assert tl.autograd.gradcheck(lambda t: (t.tanh() * t).sum(dim=1), (x,), raise_exception=False), seed + trial

