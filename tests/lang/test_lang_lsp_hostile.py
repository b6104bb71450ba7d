"""`tl lsp` given hostile JSON-RPC (attack round 4): requests about documents the client never opened must not
make the server read them from disk (file:///dev/zero never returned, so the server hung; any other path was
read), and a frame announcing more bytes than any message may hold ends the session cleanly instead of
killing the server with a MemoryError traceback."""
import json
import subprocess
import sys

import pytest

pytest.importorskip("pygls")


def _frame(message):
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def _replies(stdout):
    """The JSON bodies of the server's frames, in order."""
    out, rest = [], stdout
    while b"\r\n\r\n" in rest:
        header, rest = rest.split(b"\r\n\r\n", 1)
        length = int(next(line for line in header.split(b"\r\n") if line.startswith(b"Content-Length")).split()[1])
        out.append(json.loads(rest[:length]))
        rest = rest[length:]
    return out


def _request(id_, method, uri, line=0, character=0):
    return {"jsonrpc": "2.0", "id": id_, "method": method,
            "params": {"textDocument": {"uri": uri}, "position": {"line": line, "character": character}}}


def test_unopened_documents_are_not_read_and_oversized_frames_end_the_session(tmp_path):
    secret = tmp_path / "secret.tl"
    secret.write_text("tensor Secret: float16[2] = [1, 2]\n")
    opened = (tmp_path / "open.tl").as_uri()
    messages = [
        {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"capabilities": {}}},
        {"jsonrpc": "2.0", "method": "initialized", "params": {}},
        _request(1, "textDocument/hover", "file:///dev/zero"),
        _request(2, "textDocument/definition", secret.as_uri(), 0, 8),
        _request(3, "textDocument/hover", secret.as_uri(), 0, 8),
        {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
            "uri": opened, "languageId": "tensorlogic", "version": 1, "text": "tensor W: float16[2] = [1, 2]\n"}}},
        _request(4, "textDocument/hover", opened, 0, 7),
    ]
    stream = b"".join(map(_frame, messages)) + b"Content-Length: 99999999999999\r\n\r\n{}"
    done = subprocess.run([sys.executable, "-m", "tensorlogic.lang", "lsp"], input=stream, capture_output=True,
                          timeout=120)
    assert done.returncode == 0 and b"Traceback" not in done.stderr, done.stderr.decode()[-2000:]
    assert b"exceeds the limit" in done.stderr
    answers = {r["id"]: r for r in _replies(done.stdout) if "id" in r}
    assert answers[1]["result"] is None and answers[2]["result"] is None and answers[3]["result"] is None
    assert "float16[2]" in answers[4]["result"]["contents"]["value"]  # the open document is served
