"""`tl generate`: the streamed text is the prompt and the greedy continuation; speeds go to stderr."""
import secrets

import pytest

import tiny
from tokenizers import Tokenizer, decoders, models as tok_models, pre_tokenizers, trainers

from tensorlogic import models
from tensorlogic.lang.cli import main


def test_tl_generate_streams_the_greedy_continuation(tmp_path, capsys):
    tiny.build("llama", secrets.randbits(31), tmp_path)
    tok = Tokenizer(tok_models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(["a cat sat on the mat"], trainers.BpeTrainer(vocab_size=96,
                            initial_alphabet=[chr(c) for c in range(ord("a"), ord("z") + 1)] + [" ", "Ġ"]))
    tok.save(str(tmp_path / "tokenizer.json"))
    model, tokenizer = models.load(tmp_path, "cpu")
    expected = models.generate(model, [tokenizer.encode("the cat")], 6, stop_tokens=model.config.eos_token_ids).tokens[0]
    assert main(["generate", str(tmp_path), "--prompt", "the cat", "--max-tokens", "6", "--device", "cpu"]) == 0
    out, err = capsys.readouterr()
    assert out == "the cat" + tokenizer.decode(expected) + "\n"
    assert "prefill: 2 tokens" in err and "tokens/s" in err
    for flag in ("--keep-quantized", "--dequantize"):  # a checkpoint folder holds nothing quantised: same text
        assert main(["generate", str(tmp_path), "--prompt", "the cat", "--max-tokens", "6", "--device", "cpu", flag]) == 0
        assert capsys.readouterr().out == out
    assert main(["generate", str(tmp_path / "absent"), "--prompt", "x"]) == 2
    assert "absent: no such file or folder" in capsys.readouterr().err


def test_a_tokenizer_larger_than_the_model_is_a_message(tmp_path, capsys):
    """Found by attack round 4: a tokenizer.json with ids past the model's vocabulary ended `tl generate` in an
    IndexError traceback from the embedding; generate now names the token and the vocabulary."""
    tiny.build("llama", secrets.randbits(31), tmp_path)  # 96 tokens
    tok = Tokenizer(tok_models.WordLevel({f"w{i}": i for i in range(300)}, unk_token="w0"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.save(str(tmp_path / "tokenizer.json"))
    assert main(["generate", str(tmp_path), "--prompt", "w250 w1", "--max-tokens", "2", "--device", "cpu"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "token 250 of prompt 0 is not an id of the model's 96 tokens" in err
    model = models.load_model(tmp_path, "cpu")
    for prompt in ([-1], [1.5], [2**70]):
        with pytest.raises(ValueError, match="is not an id"):
            models.generate(model, [prompt], 2)
