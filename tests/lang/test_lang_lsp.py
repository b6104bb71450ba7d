"""`tl lsp` driven over its protocol (a pygls client talking to `python -m tensorlogic.lang lsp` on
stdio): on every example program, diagnostics equal `tl check`'s, hover shows what the source
declares and what a run computes, go to definition finds the declaration of every name at every
occurrence, completion and document symbols list the program's names."""
import asyncio
import contextlib
import io
import re
import sys
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

import pytest
from lsprotocol import types as T
from pygls.lsp.client import LanguageClient

import tensorlogic as tl
from tensorlogic.lang import cli
from tensorlogic.lang.check.catalog import BUILTINS
from tensorlogic.lang.outline import is_index_variable, local_definition, outline

ROOT = Path(__file__).resolve().parents[2]
PROGRAMS = sorted(ROOT.glob("examples/*.tl")) + sorted((ROOT / "tests" / "lang" / "programs").glob("*.tl"))
# Appended to each program to make a located error (an unknown name) that `tl check` reports.
BROKEN = "\nBroken[i] = NoSuchTensor[i] + 1\n"
DECLARATION = re.compile(r"^(?:\s*(?:domain|entity|relation|tensor|fn|struct|load|embedding)|let)\s+((?!\d)\w+'*)",
                         re.M)
DOMAIN_SET = re.compile(r"^\s*(?:(?:domain|entity)\s+\w+\s*=|entities:)\s*\{([^}]*)\}", re.M)
EMBEDDING = re.compile(r"^\s*embedding\s+(\w+)", re.M)     # declares NAME and its domain NAME_entities there
COMMENT = re.compile(r"//[^\n]*|/\*(?:.|\n)*?\*/")


def _uri(path):
    return path.resolve().as_uri()


async def _session(programs):
    """Opens every program (and a broken copy), asks hover/definition at every word, completion
    and document symbols; returns {path: answers}."""
    client = LanguageClient("test", "1")
    diagnostics = {}
    client.feature(T.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)(
        lambda params: diagnostics.__setitem__(params.uri, params.diagnostics))
    await client.start_io(sys.executable, "-m", "tensorlogic.lang", "lsp")
    await client.initialize_async(T.InitializeParams(capabilities=T.ClientCapabilities()))
    client.initialized(T.InitializedParams())
    out = {}
    for path in programs:
        text = path.read_text(encoding="utf-8")
        uri = _uri(path)
        client.text_document_did_open(T.DidOpenTextDocumentParams(
            T.TextDocumentItem(uri=uri, language_id="tensorlogic", version=1, text=text)))
        doc = T.TextDocumentIdentifier(uri)
        plain = COMMENT.sub(lambda m: " " * len(m.group()), text)
        keys = [(lineno, m.start(), m.group()) for lineno, line in enumerate(plain.splitlines())
                for m in re.finditer(r"(?<![\w\"])(?!\d)\w+'*", line)]
        first = {}      # hover at the first occurrence of each word, definition at every one
        for lineno, col, word in keys:
            first.setdefault(word, T.Position(lineno, col + 1))
        hovers = asyncio.gather(*(client.text_document_hover_async(T.HoverParams(doc, pos))
                                  for pos in first.values()))
        definitions = asyncio.gather(*(client.text_document_definition_async(
            T.DefinitionParams(doc, T.Position(lineno, col + 1))) for lineno, col, _ in keys))
        hover = dict(zip(first, await hovers))
        words = {key: (hover[key[2]], d) for key, d in zip(keys, await definitions)}
        completion = await client.text_document_completion_async(T.CompletionParams(doc, T.Position(0, 0)))
        symbols = await client.text_document_document_symbol_async(T.DocumentSymbolParams(doc))
        client.text_document_did_change(T.DidChangeTextDocumentParams(
            T.VersionedTextDocumentIdentifier(uri=uri, version=2),
            [T.TextDocumentContentChangeWholeDocument(text=text + BROKEN)]))
        await client.text_document_document_symbol_async(T.DocumentSymbolParams(doc))  # a round trip
        broken = diagnostics.get(uri)
        out[path] = dict(clean=None, broken=broken, words=words, completion=completion, symbols=symbols)
        client.text_document_did_change(T.DidChangeTextDocumentParams(
            T.VersionedTextDocumentIdentifier(uri=uri, version=3),
            [T.TextDocumentContentChangeWholeDocument(text=text)]))
        await client.text_document_document_symbol_async(T.DocumentSymbolParams(doc))
        out[path]["clean"] = diagnostics.get(uri)
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return out


@pytest.fixture(scope="module")
def answers():
    # A guard against a hung server, not a timing: one session opens every program (about 50 s on a
    # loaded 2-core machine).
    return asyncio.run(asyncio.wait_for(_session(PROGRAMS), 150))


def _tl_check(path, text):
    """`tl check`'s first line for `text` saved at `path`: (line, column, message)."""
    tmp = path.with_name(f".lsp-test-{path.name}")
    tmp.write_text(text, encoding="utf-8")
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            cli.main(["check", str(tmp)])
    finally:
        tmp.unlink()
    head = err.getvalue().splitlines()[0]
    m = re.match(re.escape(str(tmp)) + r":(\d+):(\d+): (.*)$", head)
    return int(m.group(1)), int(m.group(2)), m.group(3)


@pytest.mark.parametrize("path", PROGRAMS, ids=lambda p: p.name)
def test_diagnostics_match_tl_check(answers, path):
    a = answers[path]
    assert list(a["clean"]) == []
    line, column, message = _tl_check(path, path.read_text(encoding="utf-8") + BROKEN)
    (d,) = a["broken"]
    assert (d.range.start.line + 1, d.range.start.character + 1, d.message) == (line, column, message)
    assert d.severity == T.DiagnosticSeverity.Error


def _declarations(text):
    """name -> (0-based line, column) of its declaration in the source, by a regex."""
    out = {}

    def at(name, offset):
        out.setdefault(name, (text.count("\n", 0, offset), offset - text.rfind("\n", 0, offset) - 1))

    for m in DECLARATION.finditer(text):
        at(m.group(1), m.start(1))
    for m in EMBEDDING.finditer(text):
        at(m.group(1) + "_entities", m.start(1))
    for m in DOMAIN_SET.finditer(text):  # a domain's constants are defined where it lists them
        for c in re.finditer(r"(?!\d)\w+'*", _unquoted(m.group(1))):
            at(c.group(), m.start(1) + c.start())
    return out


def _unquoted(members):
    """A domain's member list with its quoted constants ("New York") blanked, offsets kept: their
    words are not names."""
    return re.sub(r'"[^"]*"', lambda q: " " * len(q.group()), members)


def _first_statement(text, name):
    """Where an undeclared tensor or relation first appears: the first line that starts with it (after
    the seed's `rule`)."""
    for lineno, line in enumerate(text.splitlines()):
        m = re.match(r"\s*(?:rule\s+)?" + re.escape(name) + r"\s*(?:[\[(=]|(?:max|min|avg)=)", line)
        if m:
            return lineno, line.index(name)
    return None


@pytest.mark.parametrize("path", PROGRAMS, ids=lambda p: p.name)
def test_definition_of_every_occurrence(answers, path):
    text = path.read_text(encoding="utf-8")
    declared = _declarations(text)
    items = outline(text, str(path)).items
    found = 0
    for (lineno, col, word), (_, location) in answers[path]["words"].items():
        if is_index_variable(items, lineno + 1, col + 1, str(path)):
            assert location is None, (word, lineno, col)   # an index of an equation, rule or query
            continue
        if location is not None and location.uri != _uri(path):      # defined in an imported file
            other = Path(url2pathname(urlparse(location.uri).path)).read_text(encoding="utf-8").splitlines()
            assert other[location.range.start.line][location.range.start.character:].startswith(word), word
            continue
        if location is not None and _binds(text, location) and \
                (location.range.start.line, location.range.start.character) != declared.get(word):
            _assert_binding_site(text, word, location, (lineno, col))   # a local name (maybe shadowing)
            continue
        expected = declared.get(word) or (_first_statement(text, word) if location is not None else None)
        # Declared names, and names defined by a top-level statement (not calls of built-ins)
        top = _first_statement(text, word)
        if word in declared or (top is not None and top[1] == 0 and word not in BUILTINS):
            assert location is not None, (word, lineno)
        if location is None:
            continue
        assert location.uri == _uri(path)
        assert (location.range.start.line, location.range.start.character) == expected, (word, lineno, col)
        # (an embedding's domain is named after the block, where its definition points)
        named = word[:-len("_entities")] if word.endswith("_entities") and EMBEDDING.search(text) else word
        assert location.range.end.character - location.range.start.character == len(named)
        found += 1
    assert found >= len(declared)


def _binds(text, location):
    """Whether a location is where a local name is bound: `let NAME`, `for NAME in`, or a function's
    parameter list."""
    before = text.splitlines()[location.range.start.line][:location.range.start.character]
    return bool(re.search(r"\blet\s+$|\bfor\s+$", before) or re.search(r"\bfn\s+\w+\s*\([^)]*$", before))


def _assert_binding_site(text, word, location, use):
    """A local name's definition: the same word, bound before the use."""
    start = location.range.start
    line = text.splitlines()[start.line]
    assert line[start.character:].startswith(word) and (start.line, start.character) <= use, (word, use)


@pytest.mark.parametrize("use, bound", [((20, 23), (19, 17)), ((22, 19), (17, 13)), ((24, 15), (15, 9)),
                                        ((25, 37), (25, 9)), ((26, 15), (15, 9)), ((7, 16), (2, 13)),
                                        ((11, 12), (3, 9))])
def test_definition_of_locals_follows_scopes(answers, use, bound):
    """Shadowing in tests/lang/programs/scopes.tl: nested blocks, a loop variable, a parameter
    (1-based line and column of a use and of the binding it must find)."""
    path = ROOT / "tests" / "lang" / "programs" / "scopes.tl"
    words = answers[path]["words"]
    ((_, location),) = [v for (ln, col, _), v in words.items() if (ln + 1, col + 1) == use]
    assert (location.range.start.line + 1, location.range.start.character + 1) == bound


def _hover(answers, path, name):
    for (_, _, word), (hover, _) in answers[path]["words"].items():
        if word == name and hover is not None:
            return hover.contents.value
    return None


@pytest.mark.parametrize("path", PROGRAMS, ids=lambda p: p.name)
def test_hover_shows_declared_types(answers, path):
    text = path.read_text(encoding="utf-8")
    for m in re.finditer(r"^\s*tensor\s+(\w+)\s*:\s*(\w+)(\[[^\]]*\])?", text, re.M):
        shown = _hover(answers, path, m.group(1))
        assert shown is not None and f"tensor {m.group(1)}:" in shown
        if m.group(3):
            assert f"declared {m.group(2)}{m.group(3)}" in shown.replace("  ", " "), shown
    for m in re.finditer(r"^\s*relation\s+(\w+)\s*\(([^)]*)\)", text, re.M):
        # `entity` is an open domain and `int`/`string` columns are inferred: the relation's own, named after it
        declared = [p.split(":")[1].strip() if ":" in p else None for p in m.group(2).split(",")]
        shown = _hover(answers, path, m.group(1))
        assert shown is not None and f"relation {m.group(1)}(" in shown
        got = [d.split(" (")[0] for d in shown.split("(", 1)[1].split(")\n")[0].split(", ")]
        for k, (want, have) in enumerate(zip(declared, got)):
            if want not in (None, "entity", "concept", "int", "string"):   # those positions' domains are inferred
                assert have == want, (m.group(1), k, got)


RUNNABLE = [p for p in PROGRAMS if p.parent.name == "examples" and "learn" not in p.read_text(encoding="utf-8")]


@pytest.mark.parametrize("path", RUNNABLE, ids=lambda p: p.name)
def test_hover_shapes_match_a_run(answers, path):
    prog = tl.lang.compile(path.read_text(encoding="utf-8"), str(path))
    with contextlib.redirect_stdout(io.StringIO()):
        prog.run()
    checked = 0
    for name in list(prog.model.tensors) + list(prog.model.relations):
        shown = _hover(answers, path, name)
        if shown is None:
            continue
        shape = list(prog[name].shape)
        if name in prog.model.tensors:
            shown_shape = re.search(r": \w+\[([^\]]*)\] ", shown).group(1).split(", ")
            assert len(shown_shape) == len(shape) or shown_shape == [""] and shape == [], (name, shape, shown)
            assert all(a in ("?", str(b)) for a, b in zip(shown_shape, shape)), (name, shape, shown)
        else:
            assert re.findall(r"\((\d+)\)", shown) == [str(s) for s in shape], (name, shape, shown)
        checked += 1
    assert checked > 0


def test_hover_on_a_builtin_shows_its_signature(answers):
    path = ROOT / "examples" / "attention.tl"
    shown = _hover(answers, path, "softmax")
    assert shown is not None and "softmax(" in shown


@pytest.mark.parametrize("path", PROGRAMS, ids=lambda p: p.name)
def test_completion_and_symbols_list_the_names(answers, path):
    text = path.read_text(encoding="utf-8")
    declared = set(_declarations(text))
    constants = {c.group() for m in DOMAIN_SET.finditer(text)
                 for c in re.finditer(r"(?!\d)\w+'*", _unquoted(m.group(1)))}
    labels = {item.label for item in answers[path]["completion"].items}
    assert declared <= labels and {"softmax", "relu", "domain", "relation"} <= labels
    symbols = {s.name for s in answers[path]["symbols"]}
    assert declared - constants <= symbols  # constants are listed under their domain


def test_local_definition_ignores_imported_files(tmp_path):
    """A local bound in an imported file at the same line and column is not this file's binding (the
    first item's file was taken for the program's: go to definition jumped into the library)."""
    (tmp_path / "lib.tl").write_text("fn area(n) {\n    let s = 0.0\n    return s + n\n}\n")
    main = tmp_path / "main.tl"
    text = 'import "lib.tl"\nGood(s) <- Grade(s, "a")\nGrade("x", "a")\nfn f(s) {\n    let s = 2\n    s\n}\n'
    main.write_text(text)
    result = outline(text, str(main))
    assert result.problem is None
    assert local_definition(result.items, "s", 2, 18, text, str(main)) is None
    assert local_definition(result.items, "s", 6, 5, text, str(main)).line == 5

