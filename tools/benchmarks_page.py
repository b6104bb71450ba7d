"""MkDocs hook: the Benchmarks page, written at build time from benchmarks/results/*.json.

Each results file becomes a section (suite, date, machine, the rows as recorded) and a bar chart of
its ratios drawn by matplotlib; nothing is computed here beyond formatting what the benchmark wrote,
and a results file of a shape this hook does not know fails the build (so none is left out silently).
Configured in mkdocs.yml (`hooks:`); the page docs/benchmarks.md holds the prose and the marker."""
import io
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # before pyplot: no display at build time
import matplotlib.pyplot as plt  # noqa: E402
from mkdocs.structure.files import File  # noqa: E402

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results"
PAGE = "benchmarks.md"
MARKER = "<!-- benchmark results -->"
HIGHER = "higher is better for TensorLogic"


def _fmt(x):
    if isinstance(x, float):
        return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.3g}"
    return "" if x is None else str(x)


def _rows_ratio(doc):
    """The harness's format (benchmarks/harness.py): rows with name, tensorlogic, peer, unit, ratio (a row
    timed alone has no peer and no ratio)."""
    table = [(r["name"], r["tensorlogic"], r.get(r.get("peer")), r["unit"], r.get("peer"), r["ratio"],
              r.get("target")) for r in doc["results"]]
    return ["benchmark", "TensorLogic", "peer", "unit", "peer name", "ratio", "target"], table, \
        f"ratio against the peer ({HIGHER}; black tick: target)"


def _rows_cuda(doc):
    table = [(r["op"], r["tl_ms"], r["torch_ms"], "ms", "torch", r["speedup_vs_torch"], r.get("bar"))
             for r in doc["results"]]
    return ["op", "TensorLogic", "PyTorch", "unit", "peer name", "speed-up", "bar"], table, \
        f"speed-up against PyTorch CUDA ({HIGHER}; black tick: bar)"


def _rows_clingo(doc):
    """A workload clingo did not finish has its timeout as "error" and an upper bound of the ratio."""
    table = [(name if "time_ratio" in r else f"{name} (clingo {r['clingo']['error']}: the ratio is a bound)",
              r["ours"]["seconds"], r["clingo"].get("seconds", r["clingo"].get("error")), "s", "clingo",
              r.get("time_ratio", r.get("time_ratio_below")), None)
             for name, r in doc["results"].items()]
    return ["program", "TensorLogic", "clingo", "unit", "peer name", "time ratio", ""], table, \
        "time ratio, TensorLogic / clingo (lower is better for TensorLogic)"


def _rows_demand(doc):
    """benchmarks/datalog_demand.py: each workload answered on demand, against clingo and the full evaluation."""
    table = [(f"{r['name']} vs {peer}", r["demand_seconds"], r[f"{peer}_seconds"], "s", peer,
              r[f"{peer}_over_demand"], None) for r in doc["results"] for peer in ("clingo", "full")]
    return ["workload", "TensorLogic on demand", "peer", "unit", "peer name", "time ratio", ""], table, \
        f"time ratio, peer / TensorLogic on demand ({HIGHER})"


def _rows_llm(doc):
    table = []
    for r in doc["results"]:
        for peer in (k[len("ratio_vs_"):] for k in r if k.startswith("ratio_vs_")):
            for metric, ratio in r[f"ratio_vs_{peer}"].items():
                label = f"batch {r['batch']}, prompt {r['prompt_len']}: {metric.split('_')[0]} vs {peer}"
                table.append((label, r["tensorlogic"][metric], r[peer][metric], "tokens/s", peer, ratio, None))
    return ["run", "TensorLogic", "peer", "unit", "peer name", "ratio", ""], table, f"throughput ratio ({HIGHER})"


def _rows_quantized(doc):
    """benchmarks/llm_quant_bench.py: weights kept quantised (ours) against dequantised on load (the peer)."""
    table = []
    for r in doc["results"]:
        for key, ratios in r.items():
            if key.endswith("_kept_over_dequantised"):
                batch = key.split("_")[0]
                for metric, ratio in ratios.items():
                    table.append((f"{r['storage']}, {batch}: {metric.split('_')[0]}", r[f"{batch}_kept"][metric],
                                  r[f"{batch}_dequantised"][metric], "tokens/s", "dequantised", ratio, None))
    return ["run", "kept quantised", "dequantised", "unit", "peer name", "ratio", ""], table, \
        f"throughput ratio, kept / dequantised ({HIGHER})"


def _rows_wire(doc):
    """benchmarks/allreduce_f16_wire.py: float32 on the wire (ours) against float16 on the wire."""
    table = [(r["name"], r["f32_wire"], r[r["peer"]], r["unit"], r["peer"], r["ratio"], r.get("target"))
             for r in doc["results"]]
    return ["all-reduce", "f32 on the wire", "peer", "unit", "peer name", "ratio", "target"], table, \
        "time ratio, f16 wire / f32 wire (higher is better for the f32 wire)"


def _rows_step(doc):
    """benchmarks/gpt_step.py: TensorLogic's step time beside each PyTorch mode's."""
    ms = {r["mode"]: r["ms_per_step"] for r in doc["results"]}
    pairs = (key.split("_vs_") for key in doc["ratios_peer_time_over_ours"])  # "<our mode>_vs_<peer mode>"
    table = [(f"{ours} training step vs {peer}", ms[ours], ms[peer], "ms", peer, ms[peer] / ms[ours], None)
             for ours, peer in pairs]
    return ["run", "TensorLogic", "PyTorch", "unit", "peer name", "ratio", ""], table, \
        f"step-time ratio, PyTorch / TensorLogic ({HIGHER})"


def _rows_real_models(doc):
    table = [(f"{r['name']} ({run['threads']} threads)", r["tensorlogic_ms"], r["torch_f32_ms"], "ms", "torch f32",
              r["ratio"], None) for run in doc["runs"] for r in run["rows"]]
    return ["model", "TensorLogic", "PyTorch", "unit", "peer name", "ratio", ""], table, \
        f"training-step time ratio, PyTorch / TensorLogic ({HIGHER})"


def _rows_compile(doc):
    """benchmarks/compile_replay.py: a replay (or graph replay) against eager (or the plain replay) per row."""
    table = [(r["what"], r["ours_s"] * 1e6, r["peer_s"] * 1e6, "us", r["what"].split(" vs ")[-1], r["ratio"], None)
             for r in doc["results"]]
    return ["run", "compiled", "peer", "unit", "peer name", "ratio", ""], table, f"time ratio, peer / compiled ({HIGHER})"


def _rows_torch_over_tl(doc):
    """benchmarks/attention_gpt.py and gpt_kernels.py: one case per row, both times in ms."""
    table = [(r.get("case", r.get("kernel")), r["tl_ms"], r["torch_ms"], "ms", "torch", r["torch_over_tl"], None)
             for r in doc["results"]]
    return ["case", "TensorLogic", "PyTorch", "unit", "peer name", "ratio", ""], table, \
        f"time ratio, PyTorch / TensorLogic ({HIGHER})"


def _adapter(doc):
    if "gpu" in doc:
        return _rows_cuda
    if "runs" in doc:
        return _rows_real_models
    if "ratios_peer_time_over_ours" in doc:
        return _rows_step
    if isinstance(doc.get("results"), dict):
        return _rows_clingo
    if doc["results"] and "demand_seconds" in doc["results"][0]:
        return _rows_demand
    if doc["results"] and "ratio_vs_transformers" in doc["results"][0]:
        return _rows_llm
    if doc["results"] and "storage" in doc["results"][0]:
        return _rows_quantized
    if doc["results"] and "ours_s" in doc["results"][0]:
        return _rows_compile
    if doc["results"] and "f32_wire" in doc["results"][0]:
        return _rows_wire
    if doc["results"] and "torch_over_tl" in doc["results"][0]:
        return _rows_torch_over_tl
    if doc["results"] and "ratio" in doc["results"][0]:
        return _rows_ratio
    raise ValueError(f"benchmarks page: results file of an unknown shape (suite {doc.get('suite')!r})")


def _chart(table, xlabel, title):
    """PNG bytes: one bar per row with a ratio, drawn from 1 (parity) on a log axis (so 0.01 and 100 fit
    side by side), green on TensorLogic's better side and red on the other."""
    table = [r for r in table if r[5] is not None]
    lower_better = "lower is better" in xlabel
    fig, ax = plt.subplots(figsize=(9, 0.32 * len(table) + 1.3))
    ratios = [r[5] for r in table]
    colors = ["tab:green" if (x < 1) == lower_better else "tab:red" for x in ratios]
    ax.barh([r[0] for r in table], [x - 1 for x in ratios], left=1, color=colors)
    for i, r in enumerate(table):
        if r[6] is not None:
            ax.plot([r[6]] * 2, [i - 0.4, i + 0.4], color="black")
    ax.set_xscale("log")
    ax.axvline(1.0, color="grey", linestyle=":")
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=80)
    plt.close(fig)
    return out.getvalue()


def _machine(doc):
    if "gpu" in doc:
        return f"{doc['gpu']}, PyTorch {doc['torch']}; method: {doc['method']}"
    m = doc["machine"]
    text = f"{m['cpu']}, {m['cores']} cores, {m['platform']}, Python {m['python']}"
    if "device" in doc:
        text = f"{doc['device']} on {text}"
    if "torch" in doc:
        text += f", PyTorch {doc['torch']}"
    load = doc.get("load_average", doc.get("load_average_after"))
    if load is not None:
        text += "; load average " + ", ".join(f"{float(x):.1f}" for x in (load if isinstance(load, list) else [load]))
    return text


def _sections():
    """[(markdown, png name, png bytes)] for every results file, in name order."""
    out = []
    for path in sorted(RESULTS.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        header, table, xlabel = _adapter(doc)(doc)
        png = f"benchmarks/{path.stem}.png"
        lines = [f"## {path.stem}", "",
                 f"`benchmarks/results/{path.name}`, recorded {doc['date']}; {_machine(doc)}.", ""]
        notes = doc.get("notes", []) + ([doc["note"]] if "note" in doc else [])
        lines += [f"> {note}" for note in notes] + ([""] if notes else [])
        if all(row[6] is None for row in table):  # no targets: drop the column
            header, table = header[:6], [row[:6] + (None,) for row in table]
        lines += [f"![{path.stem}: {xlabel}]({png})", "",
                  "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(_fmt(x) for x in row[:len(header)]) + " |" for row in table]
        out.append(("\n".join(lines) + "\n", png, _chart(table, xlabel, f"{path.stem} ({doc['date'][:10]})")))
    return out


_built = []


def on_files(files, config):
    _built[:] = _sections()
    for _, name, data in _built:
        files.append(File.generated(config, name, content=data))
    return files


def on_page_markdown(markdown, page, config, files):
    if page.file.src_uri != PAGE:
        return markdown
    return markdown.replace(MARKER, "\n".join(text for text, _, _ in _built))
