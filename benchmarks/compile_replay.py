"""Inference time of tl.compile's replay against the same module run eagerly, in the same run (timed
alternately, best of several): a small MLP (batch 8, per-op Python overhead dominates) and a GPT-style block.
The ratio is eager time / replay time (higher is better).

Run: python benchmarks/compile_replay.py [--device cpu|cuda]"""
import argparse
import sys

import tensorlogic as tl
from harness import measure_pair, write_results

sys.path.insert(0, __file__.rsplit("/", 2)[0] + "/tests")
from test_compile import Block  # noqa: E402  (the test suite's nanoGPT-style block)


def cases(device):
    mlp = tl.nn.Sequential(tl.nn.Linear(64, 128), tl.nn.ReLU(), tl.nn.Linear(128, 128), tl.nn.ReLU(),
                           tl.nn.Linear(128, 10))
    yield "MLP 64-128-128-10, batch 8", mlp, tl.randn(8, 64, device=device)
    yield "GPT block d=64, 4 heads, 1x32 tokens", Block(64, 4), tl.randn(1, 32, 64, device=device)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    sync = (lambda: tl.accelerator.synchronize()) if args.device != "cpu" else None
    rows = []
    for name, model, x in cases(args.device):
        model = model.to(args.device).eval()
        compiled = tl.compile(model)
        with tl.no_grad():
            compiled(x)  # capture
            ours, peer = measure_pair(lambda: compiled(x), lambda: model(x), repeat=7, number=200, sync=sync)
        assert compiled.eager_reasons == [], compiled.eager_reasons
        rows.append({"what": f"{name}, replay vs eager", "ours_s": ours, "peer_s": peer, "ratio": peer / ours})
        print(f"{rows[-1]['what']}: {ours * 1e6:.1f} us vs {peer * 1e6:.1f} us, ratio {peer / ours:.2f}")
    print("wrote", write_results(f"compile_{args.device.split(':')[0]}", rows))


if __name__ == "__main__":
    main()
