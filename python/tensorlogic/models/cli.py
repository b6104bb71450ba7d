"""`tl generate MODEL --prompt TEXT [--max-tokens N] [--temperature T] [--top-k K] [--top-p P] [--seed S]
[--device D] [--keep-quantized | --dequantize]`: loads a checkpoint folder or GGUF file, prints the continuation as it is generated, then the
prefill and decode speeds. Several --prompt options are decoded together as one batch."""
import sys

from ..device import set_default_device
from .errors import ModelLoadError
from .generate import Sampler, generate
from .loading import load


def add_parser(subparsers):
    p = subparsers.add_parser("generate", help="generate text with a language model (checkpoint folder or GGUF)")
    p.add_argument("model", help="a Hugging Face checkpoint folder or a .gguf file")
    p.add_argument("--prompt", action="append", required=True, help="prompt text (repeat for a batch)")
    p.add_argument("--max-tokens", type=int, default=128, metavar="N", help="tokens to generate (default 128)")
    p.add_argument("--temperature", type=float, default=0.0, help="0 (the default) decodes greedily")
    p.add_argument("--top-k", type=int, default=0, metavar="K", help="sample among the K most likely (0: all)")
    p.add_argument("--top-p", type=float, default=1.0, metavar="P", help="nucleus sampling mass (default 1)")
    p.add_argument("--seed", type=int, default=None, help="seed of the sampler")
    p.add_argument("--device", choices=["cpu", "cuda", "metal"], help="device (default: the best available)")
    quant = p.add_mutually_exclusive_group()
    quant.add_argument("--keep-quantized", dest="keep_quantized", action="store_const", const=True, default=None,
                       help="keep a GGUF's Q8_0/Q4_0/Q4_K/Q6_K weights quantised (cpu and cuda; the default on the cpu "
                            "keeps Q8_0 and Q4_0)")
    quant.add_argument("--dequantize", dest="keep_quantized", action="store_const", const=False,
                       help="dequantise a GGUF's quantised weights to f16 on load")
    return p


def run(args):
    try:
        if args.device:
            set_default_device(args.device)
        model, tokenizer = load(args.model, keep_quantized=args.keep_quantized)
        if tokenizer is None:
            print(f"tl generate: {args.model} has no tokenizer.json", file=sys.stderr)
            return 2
        sampler = Sampler(args.temperature, args.top_k, args.top_p, args.seed)
        prompts = [tokenizer.encode(p) for p in args.prompt]
        stop = model.config.eos_token_ids
        if len(prompts) == 1:
            text = tokenizer.stream()
            print(args.prompt[0], end="", flush=True)
            try:
                result = generate(model, prompts, args.max_tokens, sampler, stop,
                                  lambda row, token: print(text(token), end="", flush=True))
            finally:  # the line ends before the speeds, or an error, on stderr
                print(flush=True)
        else:
            result = generate(model, prompts, args.max_tokens, sampler, stop)
            for prompt, tokens in zip(args.prompt, result.tokens):
                print(f"{prompt}{tokenizer.decode(tokens)}\n", flush=True)
    except (ModelLoadError, ValueError, RuntimeError) as err:
        print(f"tl generate: {err}", file=sys.stderr)
        return 1
    except MemoryError as err:  # numpy's, for the rotation tables of a --max-tokens of hundreds of millions
        print(f"tl generate: out of memory ({err})", file=sys.stderr)
        return 1
    except OSError as err:
        print(f"tl generate: {err.filename or ''}: {err.strerror or err}", file=sys.stderr)
        return 2
    print(f"prefill: {result.prompt_tokens} tokens, {result.prefill_tokens_per_second:.1f} tokens/s; decode: "
          f"{sum(len(t) for t in result.tokens) - len(result.tokens)} tokens, "
          f"{result.decode_tokens_per_second:.1f} tokens/s", file=sys.stderr)
    return 0
