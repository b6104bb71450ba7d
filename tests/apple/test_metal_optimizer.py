"""metal/optimizer.metal on the CPU harness against the CPU backend's fused optimizer steps
(_core.optimizer_step), over several steps of every kind and option, from the same f16 parameters."""
import math

import numpy as np
import pytest

from metal_harness import params
from oracle import assert_ulp
from tensorlogic import _core

CASES = [
    ("sgd", {}), ("sgd", {"momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ("sgd", {"momentum": 0.8, "dampening": 0.1, "maximize": True}),
    ("adam", {}), ("adam", {"amsgrad": True, "weight_decay": 0.1}), ("adamw", {"weight_decay": 0.05}),
    ("rmsprop", {}), ("rmsprop", {"momentum": 0.5, "centered": True}), ("rmsprop", {"centered": True}),
    ("lion", {"weight_decay": 0.1, "lr": 1e-4}),
]


def coeffs(kind, p, numel, slots):
    """The host-side coefficients (as optimizer_coeffs in cpp/core/optim.cpp derives them from OptimizerParams)."""
    bc1 = 1.0 - p.beta1 ** p.step
    bc2 = 1.0 - p.beta2 ** p.step
    return params("OptimizerCoeffs", numel=numel, lr=p.lr, wd=p.weight_decay, momentum=p.momentum,
                  dampening=p.dampening, beta1=p.beta1, beta2=p.beta2, eps=p.eps, alpha=p.alpha,
                  step_size=p.lr / bc1, bc2_sqrt=math.sqrt(bc2), decay=1.0 - p.lr * p.weight_decay,
                  scale=p.grad_scale, nesterov=int(p.nesterov), maximize=int(p.maximize), amsgrad=int(p.amsgrad),
                  centered=int(p.centered), first=int(p.step == 1), slots=slots - 1)


@pytest.mark.parametrize("kind,options", CASES, ids=[f"{k}-{'-'.join(o) or 'plain'}" for k, o in CASES])
def test_optimizer_steps_match_cpu_backend(metal_lib, rng, kind, options):
    lib = metal_lib("optimizer.metal")
    n = 300
    p = _core.OptimizerParams()
    for key, value in options.items():
        setattr(p, key, value)
    p.grad_scale = 0.5
    okind = _core.OptimizerKind.__members__[kind]
    slots = _core.optimizer_state_slots(okind, p)
    weight = rng.uniform(-1, 1, n).astype(np.float16)
    cpu_param = _core.from_numpy(weight.copy())
    # slot 0, the compensation: int16 counts (a float16-typed array on the host); the others f32 words
    cpu_state = [_core.from_numpy(np.zeros(n, np.float16 if k == 0 else np.int32)) for k in range(slots)]
    gpu_param, gpu_state = weight.copy(), [np.zeros(n, np.int16 if k == 0 else np.float32) for k in range(slots)]
    for step in range(1, 5):
        grad = (rng.standard_normal(n) * 10.0 ** rng.integers(-4, 1)).astype(np.float16)
        p.step = step
        _core.optimizer_step(okind, p, cpu_param, _core.from_numpy(grad), cpu_state)
        buffers = {0: gpu_param, 1: grad, 2: gpu_state[0], 6: coeffs(kind, p, n, slots)}
        for k in range(3):
            buffers[3 + k] = gpu_state[k + 1] if k + 1 < slots else gpu_state[0]
        lib.run("optimizer_step", buffers, [-(-n // 64)], [64],
                {"KIND": list(_core.OptimizerKind.__members__).index(kind)})
        assert_ulp(gpu_param, np.asarray(cpu_param))
        np.testing.assert_array_equal(gpu_state[0], np.asarray(cpu_state[0]).view(np.int16))
        for got, want in zip(gpu_state[1:], cpu_state[1:]):
            np.testing.assert_allclose(got, np.asarray(want).view(np.float32), rtol=1e-5, atol=1e-9)
