"""`tl lsp`: the language server (stdio, on pygls): diagnostics as you type (the parser's and
checker's first error, as `tl check` reports it), hover, go to definition, completion and document
symbols, all from `outline.py`.  pygls is the `lsp` extra; `tl lsp` runs this module as
`python -m tensorlogic.lang.lsp`, and nothing else imports it."""
from __future__ import annotations

import os
import sys
from urllib.parse import unquote, urlparse

from lsprotocol import types as T
from pygls.lsp.server import LanguageServer

from .outline import builtin_signature, completions, is_index_variable, local_definition, outline, word_at

MAX_MESSAGE_BYTES = 64 << 20  # one JSON-RPC message (a document of 64 MiB is far beyond any source file)
SYMBOL_KINDS = {"domain": T.SymbolKind.Enum, "relation": T.SymbolKind.Class, "tensor": T.SymbolKind.Variable,
                "function": T.SymbolKind.Function, "struct": T.SymbolKind.Struct,
                "variable": T.SymbolKind.Variable, "constant": T.SymbolKind.EnumMember}
COMPLETION_KINDS = {"domain": T.CompletionItemKind.Enum, "relation": T.CompletionItemKind.Class,
                    "tensor": T.CompletionItemKind.Variable, "function": T.CompletionItemKind.Function,
                    "struct": T.CompletionItemKind.Struct, "variable": T.CompletionItemKind.Variable,
                    "constant": T.CompletionItemKind.EnumMember, "builtin": T.CompletionItemKind.Function,
                    "keyword": T.CompletionItemKind.Keyword}


def _path(uri: str) -> str:
    parsed = urlparse(uri)
    return unquote(parsed.path) if parsed.scheme == "file" else uri


def _range(line, column, end_line, end_column) -> T.Range:
    """1-based, end-exclusive (the checker's spans) -> the protocol's 0-based range."""
    return T.Range(T.Position(line - 1, column - 1), T.Position(end_line - 1, end_column - 1))


def _span_range(span) -> T.Range:
    return _range(span.line, span.column, span.end_line or span.line,
                  span.end_column or span.column + 1)


class TensorLogicServer(LanguageServer):
    def __init__(self):
        super().__init__("tl-lsp", "0.1.0")
        self.symbols = {}   # uri -> the symbols of the last version that checked, kept while editing
        self.items = {}     # uri -> the checked items of that version

    def refresh(self, uri: str):
        doc = _open_document(self, uri)
        if doc is None:  # a change to a document the client did not open: nothing to check
            return
        result = outline(doc.source, _path(uri))
        if result.problem is None:
            self.symbols[uri], self.items[uri] = result.symbols, result.items
        p = result.problem
        diagnostics = [] if p is None else [T.Diagnostic(
            range=_range(p.line, p.column, p.end_line, p.end_column), message=p.message,
            severity=T.DiagnosticSeverity.Error, source="tl")]
        self.text_document_publish_diagnostics(
            T.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics, version=doc.version))


server = TensorLogicServer()


@server.feature(T.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: TensorLogicServer, params: T.DidOpenTextDocumentParams):
    ls.refresh(params.text_document.uri)


@server.feature(T.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: TensorLogicServer, params: T.DidChangeTextDocumentParams):
    ls.refresh(params.text_document.uri)


@server.feature(T.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: TensorLogicServer, params: T.DidCloseTextDocumentParams):
    ls.symbols.pop(params.text_document.uri, None)
    ls.items.pop(params.text_document.uri, None)


def _open_document(ls, uri):
    """The open document at uri, or None: pygls's get_text_document reads a URI the client never opened from disk
    (file:///dev/zero would never return, file:///etc/shadow would be read), so requests answer only for what
    the client opened."""
    return ls.workspace.text_documents.get(unquote(uri))


def _word(ls, params):
    doc = _open_document(ls, params.text_document.uri)
    found = None if doc is None else word_at(doc.source, params.position.line, params.position.character)
    return found[0] if found else None


@server.feature(T.TEXT_DOCUMENT_HOVER)
def hover(ls: TensorLogicServer, params: T.HoverParams):
    word = _word(ls, params)
    if word is None:
        return None
    symbol = ls.symbols.get(params.text_document.uri, {}).get(word)
    text = symbol.detail if symbol is not None else builtin_signature(word)
    if text is None:
        return None
    return T.Hover(contents=T.MarkupContent(kind=T.MarkupKind.Markdown, value=f"```tensorlogic\n{text}\n```"))


@server.feature(T.TEXT_DOCUMENT_DEFINITION)
def definition(ls: TensorLogicServer, params: T.DefinitionParams):
    uri = params.text_document.uri
    doc = _open_document(ls, uri)
    found = None if doc is None else word_at(doc.source, params.position.line, params.position.character)
    if found is None:
        return None
    if is_index_variable(ls.items.get(uri, []), params.position.line + 1, found[1] + 1, _path(uri)):
        return None
    local = local_definition(ls.items.get(uri, []), found[0], params.position.line + 1, found[1] + 1,
                             doc.source, _path(uri))
    if local is not None:
        return T.Location(uri=uri, range=_span_range(local))
    symbol = ls.symbols.get(uri, {}).get(found[0])
    if symbol is None:
        return None
    if symbol.span.file and symbol.span.file != _path(uri) and not symbol.span.file.startswith("<"):
        uri = "file://" + os.path.abspath(symbol.span.file)   # defined in an imported file
    return T.Location(uri=uri, range=_span_range(symbol.span))


@server.feature(T.TEXT_DOCUMENT_COMPLETION, T.CompletionOptions(trigger_characters=[]))
def completion(ls: TensorLogicServer, params: T.CompletionParams):
    items = completions(ls.symbols.get(params.text_document.uri, {}))
    return T.CompletionList(is_incomplete=False, items=[
        T.CompletionItem(label=w, kind=COMPLETION_KINDS[k], detail=k) for w, k in items])


@server.feature(T.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
def document_symbol(ls: TensorLogicServer, params: T.DocumentSymbolParams):
    path = _path(params.text_document.uri)
    return [T.DocumentSymbol(name=s.name, kind=SYMBOL_KINDS[s.kind], range=_span_range(s.span),
                             selection_range=_span_range(s.span), detail=s.detail.splitlines()[0])
            for s in ls.symbols.get(params.text_document.uri, {}).values()
            if s.kind != "constant" and (s.span.file in (None, path))]


class _BoundedInput:
    """stdin for the server: a frame whose Content-Length exceeds MAX_MESSAGE_BYTES reads as the end of input, so
    the server shuts down cleanly instead of dying in a MemoryError while allocating it (the stream cannot be
    resynchronised after such a header anyway)."""

    def __init__(self, stream):
        self.stream = stream

    def readline(self):
        return self.stream.readline(MAX_MESSAGE_BYTES)

    def read(self, n=-1):
        if n is None or n < 0 or n > MAX_MESSAGE_BYTES:
            print(f"tl lsp: a message of {n} bytes exceeds the limit of {MAX_MESSAGE_BYTES}; shutting down",
                  file=sys.stderr)
            return b""
        return self.stream.read(n)


def main() -> int:
    server.start_io(stdin=_BoundedInput(sys.stdin.buffer))
    return 0


if __name__ == "__main__":
    sys.exit(main())
