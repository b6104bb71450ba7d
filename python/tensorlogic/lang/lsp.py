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
        doc = self.workspace.get_text_document(uri)
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


def _word(ls, params):
    doc = ls.workspace.get_text_document(params.text_document.uri)
    found = word_at(doc.source, params.position.line, params.position.character)
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
    doc = ls.workspace.get_text_document(uri)
    found = word_at(doc.source, params.position.line, params.position.character)
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


def main() -> int:
    server.start_io()
    return 0


if __name__ == "__main__":
    sys.exit(main())
