"""Tokenizers through the `tokenizers` package: a checkpoint's tokenizer.json, or one built from a GGUF
file's own vocabulary, for its two families: "gpt2" (byte-level BPE with a merge list; the split regex
chosen by tokenizer.ggml.pre) and "llama" (sentencepiece BPE: merges ranked by the merged piece's score,
byte fallback, "▁" for spaces), assembled as Hugging Face's converters assemble them."""
from tokenizers import AddedToken, Regex, decoders, normalizers, pre_tokenizers, processors
from tokenizers import Tokenizer as _HFTokenizer
from tokenizers.decoders import DecodeStream
from tokenizers.models import BPE

from .errors import ModelLoadError
from .files import regular_file

# tokenizer.ggml.pre -> the regex that splits text into words before byte-level BPE
_SPLITS = {
    "llama-bpe": r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|"
                 r"\s*[\r\n]+|\s+(?!\S)|\s+",
    "qwen2": r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|"
             r"\s*[\r\n]+|\s+(?!\S)|\s+",
}
_CONTROL, _USER_DEFINED = 3, 4  # tokenizer.ggml.token_type values of special tokens


class Tokenizer:
    """encode(text) -> ids (with the BOS the model expects), decode(ids) -> text, and stream() for
    incremental decoding of generated tokens."""

    def __init__(self, tokenizer, eos_token_ids=(), source="tokenizer"):
        """source: the file the tokenizer came from, named by its errors."""
        self.tokenizer = tokenizer
        self.eos_token_ids = tuple(eos_token_ids)
        self.source = str(source)

    @classmethod
    def from_file(cls, path, eos_token_ids=()):
        """A Tokenizer from a Hugging Face tokenizer.json file (read by the `tokenizers` library); ModelLoadError
        for a file it cannot read."""
        regular_file(path)
        try:
            return cls(_HFTokenizer.from_file(str(path)), eos_token_ids, path)
        except OSError:
            raise
        except Exception as err:  # noqa: BLE001 (the library raises a bare Exception for a malformed file)
            raise ModelLoadError(f"{path}: not a readable tokenizer.json ({err})") from None

    def encode(self, text, add_special_tokens=True):
        """The token ids of `text`, with the special tokens the tokenizer adds (such as BOS) unless
        add_special_tokens=False."""
        return self._run("encode", lambda: self.tokenizer.encode(text, add_special_tokens=add_special_tokens).ids)

    def decode(self, ids, skip_special_tokens=True):
        """The text of the token ids, without special tokens unless skip_special_tokens=False."""
        return self._run("decode", lambda: self.tokenizer.decode(list(ids), skip_special_tokens=skip_special_tokens))

    def stream(self):
        """A function token_id -> the text it completes ('' while a multi-byte character is unfinished)."""
        decoder = DecodeStream(skip_special_tokens=True)
        return lambda token: self._run("decode", lambda: decoder.step(self.tokenizer, int(token))) or ""

    def _run(self, what, call):
        """call(), with the failures of `tokenizers` where the file's tokenizer cannot work (_failed_inside) as a
        ModelLoadError naming the file."""
        try:
            return call()
        except BaseException as err:  # noqa: B902 (TypeErrors of wrong arguments, KeyboardInterrupt pass through)
            if not _failed_inside(err):
                raise
            raise ModelLoadError(f"{self.source}: the tokenizer cannot {what} ({err})") from None


def _failed_inside(err):
    """Whether `tokenizers` raised err for a tokenizer that cannot work: its bare Exception (a WordLevel model whose
    unknown token is not in its vocabulary) or a Rust panic (pyo3's PanicException, a BaseException: a template of
    tokenizer.json naming a special token it does not define). pyo3 makes no module to import the class from."""
    return type(err) is Exception or type(err).__name__ == "PanicException"


def _specials(tokens, types):
    return [AddedToken(tokens[i], special=t == _CONTROL, normalized=False)
            for i, t in enumerate(types) if t in (_CONTROL, _USER_DEFINED)]


def _spm_merges(tokens, scores):
    """sentencepiece BPE merges: every split of a piece into two pieces of the vocabulary, the merges whose
    result scores higher first (ties by the parts' ids). Only cuts into lengths that pieces have are tried: every
    cut of a hostile file's piece of a million characters took a quadratic time (a hang)."""
    ids = {t: i for i, t in enumerate(tokens)}
    lengths = sorted({len(t) for t in ids})
    found = []
    for piece, score in zip(tokens, scores):
        for cut in lengths:
            if cut >= len(piece):
                break
            left, right = piece[:cut], piece[cut:]
            if left in ids and right in ids:
                found.append((-score, ids[left], ids[right], left, right))
    found.sort()
    return [(left, right) for _, _, _, left, right in found]


def _checked_fields(fields, path):
    """The tokenizer.ggml.* values read below, each of the type and range it is used with: a hostile file's
    unknown-token id past the vocabulary, integer tokens or a merge that is not a string raised IndexError,
    TypeError and AttributeError from inside the reader, and `tokenizers` a bare Exception."""
    tokens = fields.get("tokenizer.ggml.tokens")
    if tokens is None:
        raise ModelLoadError(f"{path}: no vocabulary (tokenizer.ggml.tokens)")
    if not isinstance(tokens, list) or not tokens or not all(isinstance(t, str) for t in tokens):
        raise ModelLoadError(f"{path}: tokenizer.ggml.tokens must be a non-empty list of strings")
    n = len(tokens)

    def numbers(key, kind, what):
        values = fields.get(key)
        if values is not None and (not isinstance(values, list) or len(values) != n or
                                   not all(isinstance(v, kind) and not isinstance(v, bool) for v in values)):
            raise ModelLoadError(f"{path}: {key} must hold one {what} per token ({n})")

    numbers("tokenizer.ggml.token_type", int, "integer")
    numbers("tokenizer.ggml.scores", (int, float), "number")
    for key in ("tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id", "tokenizer.ggml.unknown_token_id"):
        value = fields.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < n):
            raise ModelLoadError(f"{path}: {key} must be a token id in [0, {n}), got {value!r}")
    merges = fields.get("tokenizer.ggml.merges")
    if merges is not None and (not isinstance(merges, list) or
                               not all(isinstance(m, str) and len(m.split(" ")) == 2 for m in merges)):
        raise ModelLoadError(f"{path}: tokenizer.ggml.merges must be a list of strings 'left right'")
    return tokens


def from_gguf_fields(fields, path):
    """A Tokenizer from the tokenizer.ggml.* values of a GGUF file (a dict of plain Python values)."""
    tokens = _checked_fields(fields, path)
    try:
        return _from_fields(fields, tokens, path)
    except ModelLoadError:
        raise
    except Exception as err:  # noqa: BLE001 (`tokenizers` raises a bare Exception: a merge of an unknown piece)
        raise ModelLoadError(f"{path}: the vocabulary cannot make a tokenizer ({err})") from None


def _from_fields(fields, tokens, path):
    kind = fields.get("tokenizer.ggml.model")
    types = fields.get("tokenizer.ggml.token_type") or [1] * len(tokens)
    vocab = {t: i for i, t in enumerate(tokens)}
    bos = fields.get("tokenizer.ggml.bos_token_id")
    if kind == "gpt2":
        merges = [tuple(m.split(" ", 1)) for m in fields.get("tokenizer.ggml.merges") or []]
        pre = fields.get("tokenizer.ggml.pre", "gpt-2")
        tok = _HFTokenizer(BPE(vocab, merges, ignore_merges=pre == "llama-bpe"))
        if pre in ("gpt-2", "default"):
            tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        elif pre in _SPLITS:
            tok.pre_tokenizer = pre_tokenizers.Sequence([
                pre_tokenizers.Split(Regex(_SPLITS[pre]), behavior="isolated"),
                pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
        else:
            raise ModelLoadError(f"{path}: byte-level BPE with tokenizer.ggml.pre={pre!r} is not supported "
                                 f"(gpt-2, {', '.join(_SPLITS)} are)")
        tok.decoder = decoders.ByteLevel()
        add_bos_default = False
    elif kind == "llama":
        scores = fields.get("tokenizer.ggml.scores") or [0.0] * len(tokens)
        unk = fields.get("tokenizer.ggml.unknown_token_id", 0)
        tok = _HFTokenizer(BPE(vocab, _spm_merges(tokens, scores), unk_token=tokens[unk], byte_fallback=True,
                               fuse_unk=True))
        tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
        tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                                         decoders.Strip(" ", 1, 0)])
        add_bos_default = True
    else:
        raise ModelLoadError(f"{path}: tokenizer model {kind!r} is not supported (gpt2 and llama are)")
    tok.add_special_tokens(_specials(tokens, types))
    if bos is not None and fields.get("tokenizer.ggml.add_bos_token", add_bos_default):
        # The template names the BOS "bos", not by its text: a text such as "$A" or "$B:1" read as a sequence
        # (every prompt twice, or a panic inside tokenizers), and one with a space as two tokens.
        tok.post_processor = processors.TemplateProcessing(
            single="bos $A", pair="bos $A $B", special_tokens=[{"id": "bos", "ids": [bos], "tokens": [tokens[bos]]}])
    eos = fields.get("tokenizer.ggml.eos_token_id")
    return Tokenizer(tok, () if eos is None else (eos,), path)
