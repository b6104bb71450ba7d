"""tl.utils.tensorboard.SummaryWriter as a training script uses torch.utils.tensorboard's: scalars (tensors, 0-d
and Python numbers), scalar groups, histograms, images and text reach the event file with the values given (read
back record by record with the format's own protobuf), flush/close and the `with` form, and add_graph's typed
error."""
import glob
import struct

import numpy as np
import pytest

import tensorlogic as tl
from tensorlogic.errors import TensorLogicRuntimeError

tensorboard = pytest.importorskip("tensorlogic.utils.tensorboard")
from tensorboardX.proto import event_pb2  # noqa: E402  (tensorboardX writes the files: its protobuf reads them)


def events(log_dir):
    """Every Event in the directory's event files: each record is a length (u64), its CRC, the bytes and their
    CRC."""
    found = []
    for path in sorted(glob.glob(f"{log_dir}/**/events.out.tfevents.*", recursive=True)):
        data = open(path, "rb").read()
        at = 0
        while at < len(data):
            (length,) = struct.unpack_from("<Q", data, at)
            event = event_pb2.Event()
            event.ParseFromString(data[at + 12:at + 12 + length])
            found.append((path, event))
            at += 12 + length + 4
    return found


def values(log_dir):
    return [(e.step, v) for _, e in events(log_dir) for v in e.summary.value]


def test_scalars_from_tensors_and_numbers(tmp_path, rng):
    losses = rng.uniform(0.5, 4.0, 5).astype(np.float16)
    with tensorboard.SummaryWriter(log_dir=str(tmp_path)) as writer:
        for step, loss in enumerate(losses):
            writer.add_scalar("Loss/train", tl.tensor(loss), step)  # a 0-d tensor, as loss.detach()
            writer.add_scalar("Loss/test", float(loss) * 2.0, step)
    got = values(tmp_path)
    train = [(s, v.simple_value) for s, v in got if v.tag == "Loss/train"]
    test = [(s, v.simple_value) for s, v in got if v.tag == "Loss/test"]
    assert [s for s, _ in train] == list(range(5)) == [s for s, _ in test]
    np.testing.assert_allclose([v for _, v in train], losses.astype(np.float32), rtol=1e-6)
    np.testing.assert_allclose([v for _, v in test], losses.astype(np.float64) * 2.0, rtol=1e-6)


def test_scalar_groups_histograms_images_and_text(tmp_path, rng):
    weights = rng.standard_normal((64, 8)).astype(np.float16)
    image = rng.uniform(0, 1, (3, 4, 5)).astype(np.float16)
    writer = tensorboard.SummaryWriter(str(tmp_path))
    writer.add_scalars("lr", {"group0": tl.tensor(np.float16(0.25)), "group1": 0.5}, 3)
    writer.add_histogram("fc.weight", tl.tensor(weights), 7)
    writer.add_image("sample", tl.tensor(image), 7)
    writer.add_text("config", "n_layer=2", 0)
    writer.flush()
    writer.close()
    got = values(tmp_path)
    by_tag = {v.tag: (s, v) for s, v in got}
    histogram = by_tag["fc.weight"][1].histo
    assert by_tag["fc.weight"][0] == 7 and histogram.num == weights.size
    np.testing.assert_allclose([histogram.min, histogram.max, histogram.sum],
                               [weights.min(), weights.max(), weights.astype(np.float64).sum()], rtol=1e-3)
    picture = by_tag["sample"][1].image
    assert (picture.height, picture.width, picture.colorspace) == (4, 5, 3)
    assert "config/text_summary" in by_tag
    # add_scalars writes each group to its own run, a subdirectory (tensorboardX's lr/group0, PyTorch's lr_group0)
    group_files = {path.split("/")[-2]: e.summary.value[0].simple_value for path, e in events(tmp_path)
                   if e.summary.value and e.summary.value[0].tag == "lr"}
    assert group_files == {"group0": 0.25, "group1": 0.5}


def test_add_graph_says_it_is_absent(tmp_path):
    writer = tensorboard.SummaryWriter(str(tmp_path))
    with pytest.raises(TensorLogicRuntimeError, match="add_graph is not available"):
        writer.add_graph(tl.nn.Linear(2, 2), tl.randn(1, 2))
    writer.close()


def test_default_directory_is_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with tensorboard.SummaryWriter(comment="_lr0.1") as writer:
        writer.add_scalar("x", 1.0, 0)
    (run,) = glob.glob("runs/*")
    assert run.endswith("_lr0.1")
