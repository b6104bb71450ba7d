"""Runs metal/*.metal kernels on the CPU (SPEC §8): each kernel file is compiled as C++17 against
metal/compat/metal_cpu.h into a shared library, with one generated launcher per kernel that binds its
[[buffer(i)]] arguments and [[thread_position_...]] attributes the way Metal's dispatcher does."""
import ctypes
import fcntl
import hashlib
import os
import re
import subprocess
import tempfile
import threading

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
METAL_DIR = os.path.join(ROOT, "metal")
SHARED_DIR = os.path.join(ROOT, "cpp", "core")  # philox.h: the one RNG header of every backend
KERNELS_DIR = os.path.join(ROOT, "cpp", "kernels")  # the scalar math every backend shares
INCLUDE_DIR = os.path.join(ROOT, "cpp", "include")  # tensorlogic/: the f16 conversions, the op enums
CXX = os.environ.get("CXX", "g++")

# Thread-position attributes and the ThreadCtx field that supplies each.
_POSITIONS = {
    "thread_position_in_grid": "c.gid",
    "thread_position_in_threadgroup": "c.lid",
    "threadgroup_position_in_grid": "c.tgid",
    "threads_per_threadgroup": "c.tg_size",
    "threadgroups_per_grid": "c.grid_groups",
    "thread_index_in_threadgroup": "uint3(c.flat_lid, 0, 0)",
    "thread_index_in_simdgroup": "uint3(c.simd_lane, 0, 0)",
    "simdgroup_index_in_threadgroup": "uint3(c.simd_group, 0, 0)",
}
_KERNEL_RE = re.compile(r"\bkernel\s+void\s+(\w+)\s*\(([^{]*?)\)\s*\{", re.S)
_CONSTANT_RE = re.compile(r"constant\s+(\w+)\s+(\w+)\s*\[\[function_constant\((\d+)\)\]\]\s*;")
_ATTR_RE = re.compile(r"\[\[\s*(\w+)(?:\((\d+)\))?\s*\]\]")


def _split_params(text):
    depth, start, out = 0, 0, []
    for i, ch in enumerate(text):
        if ch in "([<":
            depth += 1
        elif ch in ")]>":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append(text[start:i])
            start = i + 1
    out.append(text[start:])
    return [p.strip() for p in out if p.strip()]


def parse_kernels(source):
    """[(name, [(role, index_or_field, c_type)])] for each kernel in an MSL source."""
    kernels = []
    for match in _KERNEL_RE.finditer(source):
        params = []
        for param in _split_params(match.group(2)):
            attr = _ATTR_RE.search(param)
            if attr is None:
                raise ValueError(f"kernel {match.group(1)}: argument without an attribute: {param}")
            decl = _ATTR_RE.sub("", param).strip()
            c_type = re.sub(r"\b(device|constant|thread|threadgroup)\b", "", decl.rsplit(None, 1)[0]).strip()
            if "&" in decl:
                c_type = re.sub(r"\b(device|constant|thread|threadgroup)\b", "", decl.split("&")[0]).strip() + "&"
            name, index = attr.group(1), attr.group(2)
            if name == "buffer":
                params.append(("buffer", int(index), c_type))
            elif name in _POSITIONS:
                params.append(("position", _POSITIONS[name], c_type))
            else:
                raise ValueError(f"kernel {match.group(1)}: unsupported attribute [[{name}]]")
        kernels.append((match.group(1), params))
    return kernels


def _launcher(name, params):
    args = []
    for role, what, c_type in params:
        if role == "buffer":
            if c_type.endswith("&"):
                args.append(f"*reinterpret_cast<{c_type[:-1]}*>(buffers[{what}])")
            else:
                args.append(f"reinterpret_cast<{c_type}>(buffers[{what}])")
        else:
            args.append(f"tlcpu::position<{c_type}>({what})")
    call = ", ".join(args)
    return (f'extern "C" void tl_launch_{name}(void** buffers, const uint32_t* groups, const uint32_t* tg) {{\n'
            f"  tlcpu::dispatch(groups, tg, [&](const tlcpu::ThreadCtx& c) {{ {name}({call}); }});\n}}\n")


def _generated_source(path, source):
    lines = [f'#include "{path}"', "#include <cstdint>"]
    for name, params in parse_kernels(source):
        lines.append(_launcher(name, params))
    constants = _CONSTANT_RE.findall(source)
    lines.append('extern "C" void tl_set_constant(int index, double value) {\n  switch (index) {')
    for c_type, name, index in constants:
        lines.append(f"    case {index}: {name} = static_cast<{c_type}>(value); break;")
    lines.append("  }\n}")
    return "\n".join(lines) + "\n"


class KernelLibrary:
    """One compiled kernel file: `run(name, buffers, groups, threads, constants)`."""

    def __init__(self, lib, kernels, constants):
        self._lib = lib
        self.kernels = {name: params for name, params in kernels}
        self.constants = {name: int(index) for _, name, index in constants}
        self._lock = threading.Lock()

    def run(self, name, buffers, groups, threads, constants=None):
        """buffers: {index: numpy array (its first element; strides go in the params) or ctypes structure};
        groups/threads: up to 3 sizes (dispatchThreadgroups)."""
        if name not in self.kernels:
            raise KeyError(f"no kernel {name}")
        used = [what for role, what, _ in self.kernels[name] if role == "buffer"]
        table = (ctypes.c_void_p * (max(used) + 1 if used else 1))()
        keep = []
        for index in used:
            obj = buffers[index]
            if isinstance(obj, np.ndarray):
                table[index] = obj.ctypes.data
            else:
                table[index] = ctypes.addressof(obj)
            keep.append(obj)
        g = (ctypes.c_uint32 * 3)(*(list(groups) + [1, 1, 1])[:3])
        t = (ctypes.c_uint32 * 3)(*(list(threads) + [1, 1, 1])[:3])
        with self._lock:  # function constants are globals of the library
            for cname, value in (constants or {}).items():
                self._lib.tl_set_constant(self.constants[cname], ctypes.c_double(float(value)))
            getattr(self._lib, f"tl_launch_{name}")(table, g, t)


_cache = {}
_cache_lock = threading.Lock()


def _build_dir():
    path = os.path.join(tempfile.gettempdir(), f"tl_metal_cpu_{os.getuid()}")
    os.makedirs(path, exist_ok=True)
    return path


def compile_file(filename):
    """Compiles metal/<filename> (cached by the hash of the sources and the compat header)."""
    path = os.path.join(METAL_DIR, filename)
    with open(path) as f:
        source = f.read()
    generated = _generated_source(path, source)
    digest = hashlib.sha256()
    for dep in (os.path.join(METAL_DIR, "compat", "metal_cpu.h"), os.path.join(METAL_DIR, "common.h"),
                os.path.join(METAL_DIR, "params.h"), os.path.join(SHARED_DIR, "philox.h"),
                os.path.join(INCLUDE_DIR, "tensorlogic", "dtype.h"), os.path.join(INCLUDE_DIR, "tensorlogic", "op_enums.h"),
                os.path.join(INCLUDE_DIR, "tensorlogic", "op_table.def"),
                *sorted(os.path.join(KERNELS_DIR, f) for f in os.listdir(KERNELS_DIR))):
        with open(dep, "rb") as f:
            digest.update(f.read())
    digest.update(generated.encode() + source.encode() + CXX.encode())
    stem = f"{filename.replace('.', '_')}_{digest.hexdigest()[:16]}"
    so = os.path.join(_build_dir(), stem + ".so")
    if not os.path.exists(so):
        with open(so + ".lock", "w") as lock:
            # Parallel pytest workers each compile every file at start-up: the second to ask waits for
            # the first's library instead of compiling it again.
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not os.path.exists(so):
                _compile(filename, generated, stem, so)
    lib = ctypes.CDLL(so)
    lib.tl_set_constant.argtypes = [ctypes.c_int, ctypes.c_double]
    return KernelLibrary(lib, parse_kernels(source), _CONSTANT_RE.findall(source))


def _compile(filename, generated, stem, so):
    cpp = os.path.join(_build_dir(), stem + ".cpp")
    with open(cpp, "w") as f:
        f.write(generated)
    tmp = so + f".{os.getpid()}.tmp"
    cmd = [CXX, "-std=c++17", "-O1", "-fPIC", "-shared", "-pthread", "-Wall", "-Wno-attributes",
           "-Wno-unknown-attributes", "-Wno-unknown-warning-option", "-Wno-unused-variable",
           "-I", os.path.join(METAL_DIR, "compat"), "-I", METAL_DIR, "-I", SHARED_DIR, "-I", INCLUDE_DIR, "-I", os.path.dirname(KERNELS_DIR), cpp,
           "-o", tmp]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"compiling {filename} as C++ failed:\n{result.stderr[-6000:]}")
    os.replace(tmp, so)


def load(filename):
    with _cache_lock:
        if filename not in _cache:
            _cache[filename] = compile_file(filename)
        return _cache[filename]


def compile_all():
    """Compiles every kernel file, as many at once as there are cores (the first test run is then short)."""
    from concurrent.futures import ThreadPoolExecutor

    missing = [f for f in kernel_files() if f not in _cache]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        for filename, lib in zip(missing, pool.map(compile_file, missing)):
            with _cache_lock:
                _cache.setdefault(filename, lib)


def kernel_files():
    return sorted(f for f in os.listdir(METAL_DIR) if f.endswith(".metal"))


# ---- params.h as ctypes structures ----------------------------------------------------------------
_CTYPES = {"long": ctypes.c_int64, "int": ctypes.c_int32, "float": ctypes.c_float, "unsigned int": ctypes.c_uint32}


def _parse_params():
    text = ""
    for path in (os.path.join(METAL_DIR, "params.h"), os.path.join(KERNELS_DIR, "optimizer.h")):  # OptimizerCoeffs
        with open(path) as f:
            text += f.read()
    max_dims = int(re.search(r"#define TL_MAX_DIMS (\d+)", text).group(1))
    text = re.sub(r"//[^\n]*", "", text).replace("TL_MAX_DIMS", str(max_dims))
    structs = {}
    for name, body in re.findall(r"struct (\w+) \{(.*?)\};", text, re.S):
        fields = []
        for decl in body.split(";"):
            decl = decl.strip()
            if not decl:
                continue
            m = re.match(r"(unsigned int|long|int|float) (.*)", decl)
            base = _CTYPES[m.group(1)]
            for item in m.group(2).split(","):
                item = item.strip()
                dims = [int(d) for d in re.findall(r"\[(\d+)\]", item)]
                ctype = base
                for d in reversed(dims):
                    ctype = ctype * d
                fields.append((item.split("[")[0], ctype))
        structs[name] = type(name, (ctypes.Structure,), {"_fields_": fields})
    return structs


PARAMS = _parse_params()


def params(struct_name, **values):
    """A params.h structure with the given fields (lists fill arrays, nested lists 2-D arrays)."""
    s = PARAMS[struct_name]()
    for key, value in values.items():
        field = getattr(s, key)
        if isinstance(field, ctypes.Array):
            for i, v in enumerate(value):
                if isinstance(v, (list, tuple)):
                    for j, w in enumerate(v):
                        field[i][j] = w
                else:
                    field[i] = v
        else:
            setattr(s, key, value)
    return s


# ---- helpers shared by the kernel tests -----------------------------------------------------------
def elementwise_params(shape, operand_strides, **extra):
    """ElementwiseParams for `shape`; operand_strides: {slot (0..2 inputs, 3 output): strides in elements}."""
    max_dims = len(PARAMS["ElementwiseParams"]().shape)
    strides = [[0] * max_dims for _ in range(4)]
    for slot, st in operand_strides.items():
        strides[slot][: len(st)] = list(st)
    return params("ElementwiseParams", numel=int(np.prod(shape)), ndim=len(shape),
                  shape=list(shape) + [1] * (max_dims - len(shape)), strides=strides, **extra)
