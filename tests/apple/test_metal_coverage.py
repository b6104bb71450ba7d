"""Keeps the harness honest: every kernel in metal/ is launched by some test here, the op codes of
metal/common.h follow the enums of ops.h, and the compat header's half conversions are exact."""
import os
import re

import numpy as np

import metal_harness
from tensorlogic import _core
from metal_harness import elementwise_params

HERE = os.path.dirname(__file__)


def test_every_kernel_is_exercised():
    sources = "".join(open(os.path.join(HERE, f)).read() for f in os.listdir(HERE) if f.startswith("test_"))
    missing = []
    for filename in metal_harness.kernel_files():
        with open(os.path.join(metal_harness.METAL_DIR, filename)) as f:
            for name, _ in metal_harness.parse_kernels(f.read()):
                if f'"{name}"' not in sources:
                    missing.append(f"{filename}:{name}")
    assert not missing, f"kernels no test launches: {missing}"


def test_op_codes_follow_ops_h():
    with open(os.path.join(metal_harness.METAL_DIR, "common.h")) as f:
        text = f.read()
    enums = re.findall(r"enum : uint \{([^}]*)\}", text)
    unary = [n.strip() for n in enums[0].split(",")]
    binary = [n.strip() for n in enums[1].split(",")]
    assert [n[2:].lower() for n in unary] == [
        {"pow": "pow_scalar", "rpow": "rpow_scalar"}.get(n, n) for n in _core.UnaryOp.__members__]
    assert [n[2:].lower() for n in binary] == list(_core.BinaryOp.__members__)
    for name, code in _core.UnaryOp.__members__.items():
        assert int(code) == list(_core.UnaryOp.__members__).index(name)
    with open(os.path.join(metal_harness.METAL_DIR, "reduce.metal")) as f:
        reduce_codes = re.search(r"enum : uint \{([^}]*)\}", f.read()).group(1)
    assert [n.strip()[2:].lower() for n in reduce_codes.split(",")] == list(_core.ReduceOp.__members__)


def test_half_round_trip_of_every_bit_pattern(metal_lib):
    lib = metal_lib("elementwise.metal")
    bits = np.arange(65536, dtype=np.uint32).astype(np.uint16)
    x = bits.view(np.float16)
    out = np.zeros_like(x)
    p = elementwise_params(x.shape, {0: [1], 3: [1]})
    lib.run("unary_f16", {0: x, 1: out, 2: p}, [64], [1024],
            {"OP": int(_core.UnaryOp.neg), "CONTIGUOUS": 1, "A_SCALAR": 0, "B_SCALAR": 0})
    want = -x
    nan = np.isnan(want)
    np.testing.assert_array_equal(out.view(np.uint16)[~nan], want.view(np.uint16)[~nan])
    assert np.isnan(out[nan]).all()
