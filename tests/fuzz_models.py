"""An attacker's fuzzer over tensorlogic.models' loaders and `tl generate`: each case builds a tiny valid model
(a Hugging Face folder of config.json, model.safetensors and tokenizer.json, or a GGUF file written with gguf's
writer, of a random family: llama, mistral, qwen2, gpt2), mutates it (missing or mistyped config and metadata
values, negative and huge sizes, tensors of the wrong shape, dtype or type, zero-size tensors, NaN weights, a
vocabulary unlike the embedding, broken tokenizer.json, safetensors headers and index files, GGUF bytes flipped,
cut or overwritten in its header and metadata), then loads it and generates a few tokens, through the Python API or
the `tl generate` command line.

Every case must load and generate (tokens that are ids of the model's vocabulary) or end in a typed error: a
TensorLogicError (ModelLoadError and its kinds), an OSError naming a file, or generate's own ValueError; `tl
generate` must exit 0, 1 or 2 with no traceback. A crash, a hang, any other exception or a message that leaks
internals is a failure. Cases come from (seed, index) alone, so any one can be replayed:

    python tests/fuzz_models.py --seed S --calls N          # a batch; prints a JSON summary
    python tests/fuzz_models.py --seed S --replay I         # prints and runs case I of that batch"""
import contextlib
import io
import logging
import os
import shutil
import struct
import sys
import tempfile
import warnings

import numpy as np

from fuzz_model_files import Case, build_gguf, build_hf
from fuzz_ops import LEAKS, Maker, fuzzer_main, reported
from tensorlogic import models
from tensorlogic.errors import TensorLogicError
from tensorlogic.lang.cli import main as tl_main

# what an exception from loading or generating may be: the typed errors, an OSError naming a file, and generate's and
# the decoder's own checks of prompts and lengths (ValueErrors whose text starts with their names)
OWN_VALUE_ERRORS = ("generate: ", "DecoderLM: ")
MORE_LEAKS = ("Traceback", "tensorlogic/", "site-packages", "numpy", "struct.error", "pybind11")


def _generate(case, path, prompt):
    """Loads and generates through the API or `tl generate`; an AssertionError when the result is wrong."""
    maker = case.maker
    keep = maker.pick([None, True, False])
    sampling = maker.pick([(0.0, 0, 1.0), (0.8, 5, 0.9), (1.5, 0, 1.0)])
    prompts = [prompt] if maker.chance(0.7) else [prompt, prompt[:2]]  # a left-padded batch of two
    if maker.chance(0.3):
        flags = {None: [], True: ["--keep-quantized"], False: ["--dequantize"]}[keep]
        # hostile options too: a length the cache cannot hold, sampling settings out of range
        tokens = maker.pick(["3"] * 8 + ["0", "-2", str(3 * 10**8), str(2**40), str(2**62)])
        temperature, top_p = (maker.pick(["nan", "-1", "inf", "1e-30"]), maker.pick(["0", "2", "nan"])) \
            if maker.chance(0.1) else (str(sampling[0]), str(sampling[2]))
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = tl_main(["generate", path, *(a for p in prompts for a in ("--prompt", p)), "--max-tokens", tokens,
                            "--device", "cpu", "--temperature", temperature, "--top-k", str(sampling[1]),
                            "--top-p", top_p, "--seed", "1", *flags])
        assert code in (0, 1, 2), f"tl generate exited {code}"
        leak = _leak(err.getvalue())
        assert leak is None, f"tl generate's message leaks internals ({leak!r}): {err.getvalue()[-300:]}"
        return
    model, tokenizer = models.load(path, "cpu", keep_quantized=keep)
    try:  # a model that loaded must generate: only the tokenizer's and generate's own checks may refuse
        ids = [tokenizer.encode(p) for p in prompts] if tokenizer is not None else [[1, 3, 4], [1]][:len(prompts)]
        result = models.generate(model, ids, 3, models.Sampler(*sampling, seed=1), model.config.eos_token_ids)
    except Exception as error:  # noqa: BLE001
        if not isinstance(error, models.ModelLoadError) and not _own_value_error(error):
            raise AssertionError(f"the loaded model failed to generate: {type(error).__name__}: {error}") from None
        raise
    for tokens in result.tokens:
        assert 1 <= len(tokens) <= 3 and all(0 <= t < model.config.vocab_size for t in tokens), \
            f"generated {tokens} from a vocabulary of {model.config.vocab_size}"
        if tokenizer is not None:
            stream = tokenizer.stream()
            assert isinstance(tokenizer.decode(tokens), str) and isinstance("".join(map(stream, tokens)), str)


def _leak(text):
    return next((marker for marker in LEAKS + MORE_LEAKS if marker in text), None)


def _own_value_error(error):
    return type(error) is ValueError and str(error).startswith(OWN_VALUE_ERRORS)


def classify(error):
    """None for an error a user can act on; else why it is not one."""
    if isinstance(error, AssertionError):
        return "wrong result"
    typed = isinstance(error, (TensorLogicError, OSError)) or _own_value_error(error)
    if not typed:
        return f"untyped {type(error).__name__}"
    leak = _leak(str(error))
    return f"leaks internals ({leak!r})" if leak else None


def make_case(seed, index):
    """(Case, build, run) of case `index` of batch `seed`: build(folder) writes the model's files and returns (path,
    prompt); run(path, prompt) loads and generates."""
    case = Case(Maker(np.random.default_rng([seed, index])))

    def build(folder):
        return (build_gguf if case.maker.chance(0.5) else build_hf)(case, folder)

    return case, build, lambda path, prompt: _generate(case, path, prompt)


def run_batch(seed, calls, progress_fd=None):
    counts = {"calls": 0, "returned": 0, "typed": 0, "unwritten": 0}
    problems = []
    with tempfile.TemporaryDirectory() as root:
        for index in reported(calls, progress_fd):
            folder = os.path.join(root, str(index))
            os.mkdir(folder)
            case, build, run = make_case(seed, index)
            counts["calls"] += 1
            try:
                made = build(folder)
            except (ValueError, TypeError, OverflowError, struct.error):  # gguf's writer refuses a mixed array
                counts["unwritten"] += 1
                continue
            try:
                run(*made)
                counts["returned"] += 1
            except BaseException as error:  # noqa: B902 (a PanicException of tokenizers is a BaseException)
                if isinstance(error, KeyboardInterrupt):
                    raise
                why = classify(error)
                if why is None:
                    counts["typed"] += 1
                else:
                    problems.append({"index": index, "case": "; ".join(case.done), "why": why,
                                     "error": f"{type(error).__name__}: {str(error)[:300]}"})
            finally:
                shutil.rmtree(folder)
    counts["problems"] = problems
    return counts


def _replay(args):
    case, build, run = make_case(args.seed, args.replay)
    folder = tempfile.mkdtemp()
    print(f"files in {folder}", flush=True)
    try:
        run(*build(folder))
    finally:
        print("; ".join(case.done), flush=True)


def _quiet():
    """gguf's writer logs duplicated keys and the loaders warn: noise in a batch's JSON output."""
    logging.disable(logging.WARNING)
    warnings.simplefilter("ignore")
    np.seterr(all="ignore")


if __name__ == "__main__":
    _quiet()
    sys.exit(fuzzer_main(__doc__, lambda a: run_batch(a.seed, a.calls, a.progress), _replay, calls=200, unit="case"))
