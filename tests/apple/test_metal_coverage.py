"""Keeps the harness honest: every kernel in metal/ is launched by some test here, the op codes of
metal/ come from the one op table, and the compat header's half conversions are exact."""
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


def test_op_codes_come_from_the_op_table():
    """The kernels name ops by the enums of op_enums.h (generated from op_table.def), never by a list of
    their own that would have to follow the table by position."""
    with open(os.path.join(metal_harness.METAL_DIR, "common.h")) as f:
        assert '#include "kernels/elementwise.h"' in f.read()
    with open(os.path.join(metal_harness.KERNELS_DIR, "elementwise.h")) as f:
        assert '#include "tensorlogic/op_enums.h"' in f.read()
    for filename in os.listdir(metal_harness.METAL_DIR):
        if filename.endswith((".metal", ".h")):
            with open(os.path.join(metal_harness.METAL_DIR, filename)) as f:
                text = f.read()
            for body in re.findall(r"enum\b[^{;]*\{([^}]*)\}", text):
                names = {n.strip().lower() for n in body.split(",")}
                assert not names & {"u_neg", "b_add", "r_sum", "t_where", "act_relu"}, filename
    for enum in (_core.UnaryOp, _core.BinaryOp, _core.ReduceOp):
        for name, code in enum.__members__.items():
            assert int(code) == list(enum.__members__).index(name)


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
