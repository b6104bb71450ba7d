"""The on-disk cache of generated .mlpackage files, keyed by op and shapes (and the coremltools version,
since a different converter may write a different program)."""
import hashlib
import json
import os
import shutil
import tempfile


def cache_dir():
    """$TL_COREML_CACHE, else ~/.cache/tensorlogic/coreml."""
    path = os.environ.get("TL_COREML_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "tensorlogic", "coreml")
    os.makedirs(path, exist_ok=True)
    return path


def model_key(op, attrs, version):
    text = json.dumps({"op": op, "attrs": attrs, "coremltools": version}, sort_keys=True)
    return f"{op}-{hashlib.sha256(text.encode()).hexdigest()[:20]}"


def cached_package(key, build):
    """The path of <key>.mlpackage, calling build() -> MLModel and saving it only when it is missing.
    The package is written to a temporary folder and renamed, so readers never see half a model."""
    path = os.path.join(cache_dir(), key + ".mlpackage")
    if os.path.isdir(path):
        return path
    model = build()
    tmp = tempfile.mkdtemp(prefix=key + ".", dir=cache_dir())
    try:
        staged = os.path.join(tmp, key + ".mlpackage")
        model.save(staged)
        try:
            os.replace(staged, path)
        except OSError:
            if not os.path.isdir(path):  # a concurrent writer finished first otherwise
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return path
