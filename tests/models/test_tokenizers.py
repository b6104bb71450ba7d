"""Tokenizers: a checkpoint's tokenizer.json, and ones rebuilt from a GGUF vocabulary (byte-level BPE with
merges; sentencepiece-style BPE with scores), which must encode as the tokenizer they were written from."""
import json

import gguf
import pytest
from tokenizers import Tokenizer, decoders, models as tok_models, normalizers, pre_tokenizers, processors, trainers

from tensorlogic import models

TEXT = ["The quick brown fox jumps over the lazy dog.", "Tensors, logic and learning: all in one engine!",
        "numbers 12345 and 67890; punctuation -- (brackets) [and] {braces}.", "naïve café déjà vu",
        "  leading spaces and\nnew lines\n\nagain", "the theory of the thing that thinks"] * 3
SAMPLES = ["The lazy fox thinks about tensors.", "café 123 (again)\nnew", "  spaced  out  "]


def _byte_level():
    tok = Tokenizer(tok_models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(TEXT, trainers.BpeTrainer(vocab_size=300, special_tokens=["<|endoftext|>"],
                                                      initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    return tok


def _sentencepiece_style():
    tok = Tokenizer(tok_models.BPE(unk_token="<unk>", byte_fallback=True))
    tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                                     decoders.Strip(" ", 1, 0)])
    tok.train_from_iterator(TEXT, trainers.BpeTrainer(vocab_size=200, special_tokens=["<unk>", "<s>", "</s>"]))
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", 1)])
    return tok


def _write(path, kind, tok, scores=None, merges=None):
    vocab = sorted(tok.get_vocab().items(), key=lambda kv: kv[1])
    tokens = [t for t, _ in vocab]
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_tokenizer_model(kind)
    w.add_token_list(tokens)
    special = {t.content for t in tok.get_added_tokens_decoder().values()}
    w.add_token_types([gguf.TokenType.CONTROL if t in special else gguf.TokenType.NORMAL for t in tokens])
    if merges is not None:
        w.add_token_merges(merges)
    if scores is not None:
        w.add_token_scores(scores)
        w.add_bos_token_id(1)
        w.add_eos_token_id(2)
        w.add_unk_token_id(0)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def test_tokenizer_json_of_a_checkpoint(tmp_path):
    tok = _byte_level()
    tok.save(str(tmp_path / "tokenizer.json"))
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "gpt2", "n_embd": 8, "n_head": 2, "n_layer": 1,
                                                      "n_positions": 8, "vocab_size": 300, "eos_token_id": 0}))
    ours = models.load_tokenizer(tmp_path)
    assert ours.eos_token_ids == (0,)
    for text in SAMPLES:
        ids = ours.encode(text)
        assert ids == tok.encode(text).ids
        assert ours.decode(ids) == text
        step = ours.stream()
        assert "".join(step(i) for i in ids) == text


def test_gguf_byte_level_bpe_encodes_as_its_source(tmp_path):
    tok = _byte_level()
    merges = [" ".join(m) if isinstance(m, list) else m for m in json.loads(tok.to_str())["model"]["merges"]]
    _write(tmp_path / "bpe.gguf", "gpt2", tok, merges=merges)
    ours = models.load_tokenizer(tmp_path / "bpe.gguf")
    for text in SAMPLES + TEXT[:6]:
        assert ours.encode(text) == tok.encode(text).ids
        assert ours.decode(ours.encode(text)) == text


def test_gguf_sentencepiece_vocab_encodes_as_its_source(tmp_path):
    tok = _sentencepiece_style()
    scores = [-float(i) for i in range(tok.get_vocab_size())]  # sentencepiece BPE: earlier pieces score higher
    _write(tmp_path / "spm.gguf", "llama", tok, scores=scores)
    ours = models.load_tokenizer(tmp_path / "spm.gguf")
    assert ours.eos_token_ids == (2,)
    for text in ["The lazy fox thinks", "the theory of tensors", "logic and learning"]:
        assert ours.encode(text) == tok.encode(text).ids
        assert ours.encode(text)[0] == 1  # BOS
        assert ours.decode(ours.encode(text)) == text


def test_unsupported_gguf_tokenizer(tmp_path):
    tok = _byte_level()
    _write(tmp_path / "x.gguf", "rwkv", tok)
    with pytest.raises(models.ModelLoadError, match="rwkv"):
        models.load_tokenizer(tmp_path / "x.gguf")


VOCAB = {"tokenizer.ggml.model": "llama", "tokenizer.ggml.tokens": ["<unk>", "<s>", "</s>", "a", "b", "ab", "▁"],
         "tokenizer.ggml.scores": [0.0] * 7, "tokenizer.ggml.bos_token_id": 1}


@pytest.mark.parametrize("key, value, says", [
    ("tokenizer.ggml.unknown_token_id", 99, "unknown_token_id must be a token id"),
    ("tokenizer.ggml.bos_token_id", -1, "bos_token_id must be a token id"),
    ("tokenizer.ggml.tokens", [1, 2, 3], "list of strings"), ("tokenizer.ggml.tokens", [], "list of strings"),
    ("tokenizer.ggml.token_type", [3] * 20, "one integer per token"),
    ("tokenizer.ggml.scores", [1.0], "one number per token"),
    ("tokenizer.ggml.merges", ["nospace", 5], "'left right'")])
def test_hostile_gguf_vocabularies_are_typed_errors(key, value, says):
    """Found by attack round 4: IndexError ('list index out of range'), TypeError and AttributeError from inside the
    reader, which `tl generate` does not catch."""
    fields = dict(VOCAB, **{key: value})
    if key == "tokenizer.ggml.merges":
        fields["tokenizer.ggml.model"] = "gpt2"
    with pytest.raises(models.ModelLoadError, match=says):
        models.tokenizer.from_gguf_fields(fields, "x.gguf")
    fields = dict(VOCAB, **{"tokenizer.ggml.model": "gpt2", "tokenizer.ggml.merges": ["q r"]})
    with pytest.raises(models.ModelLoadError, match="cannot make a tokenizer"):  # the library's bare Exception
        models.tokenizer.from_gguf_fields(fields, "x.gguf")


@pytest.mark.parametrize("text", ["{not json", "", json.dumps({"model": {"type": "Nope"}})])
def test_a_malformed_tokenizer_json_is_a_typed_error(tmp_path, text):
    """`tokenizers` raised a bare Exception, which `tl generate` does not catch."""
    (tmp_path / "tokenizer.json").write_text(text)
    with pytest.raises(models.ModelLoadError, match="not a readable tokenizer.json"):
        models.Tokenizer.from_file(tmp_path / "tokenizer.json")
