"""Shared benchmark machinery: integer options, timing, machine description, JSON results and PNG plots.

Every figure is measured in the same process as its peer (numpy, PyTorch) and reported as a ratio."""
import argparse
import datetime
import json
import os
import platform
import statistics
import time

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


def int_options(argv, doc, **defaults):
    """Parses argv for one integer option --NAME per keyword (its default); the help's first line is doc's."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    for name, default in defaults.items():
        ap.add_argument(f"--{name}", type=int, default=default)
    return ap.parse_args(argv)


def measure(fn, repeat=7, number=1, warmup=2, sync=None):
    """Median seconds per call of fn over `repeat` timings of `number` calls each (after warm-up)."""
    for _ in range(warmup):
        fn()
    if sync:
        sync()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        if sync:
            sync()
        times.append((time.perf_counter() - start) / number)
    return statistics.median(times)


def measure_pair(ours, peer, repeat=7, number=1, warmup=2, sync=None, clock=time.perf_counter):
    """Seconds per call of `ours` and of `peer`, timed alternately and each the best of `repeat` timings.

    Alternating spreads any drift of the machine (other tenants, a thread pool still spinning after the
    previous library's work) over both sides, and the best time is the least disturbed one. `clock` is
    wall time by default; time.process_time gives the CPU time of the process's threads instead."""
    for _ in range(warmup):
        ours()
        peer()
    if sync:
        sync()
    best = [float("inf"), float("inf")]
    for _ in range(repeat):
        for side, fn in enumerate((ours, peer)):
            start = clock()
            for _ in range(number):
                fn()
            if sync:
                sync()
            best[side] = min(best[side], (clock() - start) / number)
    return best[0], best[1]


def machine():
    info = {"platform": platform.platform(), "python": platform.python_version(), "processor": platform.processor()}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info["cores"] = os.cpu_count()
    return info


def write_results(name, rows, extra=None):
    """Writes benchmarks/results/<name>.json (rows plus machine and date) and returns its path."""
    os.makedirs(RESULTS, exist_ok=True)
    doc = {"suite": name, "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
           "machine": machine(), "results": rows}
    if extra:
        doc.update(extra)
    path = os.path.join(RESULTS, f"{name}.json")
    with open(path, "w") as f:
        json.dump(doc, f, indent=2)
    return path


def plot_ratios(name, rows, title):
    """A bar chart of each row's ratio against its peer, with the row's target drawn as a tick."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in rows if r.get("ratio") is not None]
    fig, ax = plt.subplots(figsize=(10, 0.45 * len(rows) + 1.5))
    labels = [r["name"] for r in rows]
    ratios = [r["ratio"] for r in rows]
    colors = ["tab:green" if r.get("meets_target", True) else "tab:red" for r in rows]
    ax.barh(labels, ratios, color=colors)
    for i, r in enumerate(rows):
        if r.get("target") is not None:
            ax.plot([r["target"]] * 2, [i - 0.4, i + 0.4], color="black")
    ax.axvline(1.0, color="grey", linestyle=":")
    ax.invert_yaxis()
    ax.set_xlabel("ratio (higher is better for TensorLogic; black tick: target)")
    ax.set_title(title)
    fig.tight_layout()
    path = os.path.join(RESULTS, f"{name}.png")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
