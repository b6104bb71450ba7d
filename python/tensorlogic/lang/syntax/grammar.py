"""The Lark LALR(1) grammar of the `.tl` language (LANGUAGE.md §1-§8).

Keywords and brackets are named terminals so that the parser can give every node the exact span of
its tokens.  Separators are normalised by `parser.Layout` before the parser sees them: one `_SEP` between
statements, none inside `( )`, `[ ]` or a domain's `{ }`, none after a token that cannot end a
statement (so a line ending in `+` or `,` continues), none before `else` or `}`.

Two shift/reduce choices are intended and resolved by shift: `f(x)` is a call (not `f` juxtaposed
with `(x)`), and `X[i]` indexes `X` (not `X` juxtaposed with a list literal).

`parser.Layout` also makes two tokens the lexer cannot: `GENERICS` (`<T, U>` after a type name, so
`Box<T>` is not two comparisons) and `SLBRACE` (the `{` of a struct declaration or literal, so
`Point { x: 1 }` is not `Point` followed by a block).
"""
import re

GRAMMAR = r"""
start: (_item (_SEP _item)*)?

_item: domain_decl | relation_decl | fn_decl | main_block | test_block | import_stmt
     | struct_decl | impl_block | load_stmt | _stmt

// ---- declarations -------------------------------------------------------------------------
domain_decl: (DOMAIN | ENTITY) NAME (ASSIGN _domain_body)?
_domain_body: domain_set | domain_range
domain_set: LBRACE (const (COMMA const)* COMMA?)? RBRACE
domain_range: int_lit DOTDOT int_lit
int_lit: MINUS? NUMBER
?const: NAME | STRING | int_lit

relation_decl: RELATION NAME LPAR (rel_param (COMMA rel_param)*)? RPAR (EMBED type_spec)?
rel_param: NAME (COLON (NAME | ENTITY))?

tensor_decl: TENSOR NAME COLON type_spec (LEARNABLE | FROZEN)? (ASSIGN expr)?
type_spec: NAME GENERICS? (LSQB (dim (COMMA dim)*)? RSQB)?
dim: NUMBER | NAME | QMARK

fn_decl: FN NAME GENERICS? LPAR (param (COMMA param)*)? RPAR (RARROW type_spec)? block
param: NAME (COLON type_spec)?

main_block: MAIN block
test_block: TEST (NAME | STRING) block
import_stmt: IMPORT STRING
load_stmt: LOAD NAME NAME STRING

struct_decl: STRUCT NAME GENERICS? SLBRACE (field_decl (COMMA field_decl)* COMMA?)? RBRACE
field_decl: NAME COLON type_spec LEARNABLE?
impl_block: IMPL GENERICS? NAME GENERICS? (FOR NAME)? LBRACE (fn_decl (_SEP fn_decl)*)? RBRACE

learn_block: LEARN LBRACE (_learn_item (_lsep _learn_item)* COMMA?)? RBRACE
_lsep: _SEP | COMMA
_learn_item: setting | let_stmt | learn_stmt | if_stmt | for_stmt | while_stmt
setting: NAME COLON expr
learn_stmt: expr                      -> expr_stmt
          | expr _assign_op expr      -> assign
          | expr UPDATE expr          -> update
          | expr QMARK                -> expr_query

// ---- statements ---------------------------------------------------------------------------
block: LBRACE (_stmt (_SEP _stmt)*)? RBRACE
_stmt: let_stmt | if_stmt | for_stmt | while_stmt | return_stmt | break_stmt | continue_stmt
     | block_stmt | tensor_decl | learn_block | simple_stmt
break_stmt: BREAK
continue_stmt: CONTINUE
block_stmt: block
let_stmt: LET NAME (COLON type_spec)? ASSIGN expr
if_stmt: IF expr block (ELSE (block | if_stmt))?
for_stmt: FOR NAME IN expr (DOTDOT expr)? block
while_stmt: WHILE expr block
return_stmt: RETURN expr?
?simple_stmt: expr                    -> expr_stmt
            | expr _assign_op expr    -> assign
            | expr UPDATE expr        -> update
            | expr ARROW body         -> rule
            | literal (COMMA _body_literal)* QMARK -> query
_assign_op: ASSIGN | PROJ | COLONEQ
body: _body_literal (COMMA _body_literal)*
_body_literal: literal | equal_literal
equal_literal: arith ASSIGN arith
literal: NOT? expr

// ---- expressions --------------------------------------------------------------------------
?expr: or_expr
?or_expr: and_expr (OROR and_expr)*
?and_expr: cmp_expr (ANDAND cmp_expr)*
?cmp_expr: arith (CMP arith)?
?arith: term ((PLUS | MINUS) term)*
?term: juxt ((STAR | SLASH | PERCENT | AT) juxt)*
?juxt: unary power*
?unary: power | prefix
prefix: (MINUS | PLUS | BANG)+ power
?power: postfix (POW pow_arg)*
?pow_arg: postfix | neg_arg
neg_arg: MINUS postfix
?postfix: primary
        | postfix LSQB index_list RSQB                  -> indexed
        | postfix FIELDDOT NAME                         -> member
        | postfix FIELDDOT NAME LPAR _args? RPAR        -> method_call
index_list: index_item (COMMA index_item)* COMMA?
?index_item: expr             -> index
           | expr DOT         -> marked_index
           | expr? COLON expr? (COLON expr?)? -> slice
           | expr? PATHSEP expr?              -> slice

?primary: NAME                -> name
        | NUMBER              -> number
        | STRING              -> string
        | TRUE                -> true
        | FALSE               -> false
        | call
        | LPAR expr RPAR      -> paren
        | LPAR RPAR           -> tuple
        | LPAR expr COMMA (expr (COMMA expr)* COMMA?)? RPAR -> tuple
        | LSQB (expr (COMMA expr)* COMMA?)? RSQB          -> list
        | struct_lit
        | path_call
call: NAME LPAR _args? RPAR
path_call: NAME GENERICS? PATHSEP NAME LPAR _args? RPAR
struct_lit: NAME GENERICS? SLBRACE (field_init (COMMA field_init)* COMMA?)? RBRACE
field_init: NAME COLON expr
_args: _arg (COMMA _arg)* COMMA?
_arg: expr | kwarg
kwarg: NAME (COLON | ASSIGN) expr

// ---- tokens -------------------------------------------------------------------------------
DOMAIN: "domain"
RELATION: "relation"
TENSOR: "tensor"
FN: "fn"
MAIN: "main"
TEST: "test"
IMPORT: "import"
LOAD: "load"
EMBED: "embed"
STRUCT: "struct"
IMPL: "impl"
BREAK: "break"
CONTINUE: "continue"
LEARN: "learn"
LET: "let"
IF: "if"
ELSE: "else"
FOR: "for"
IN: "in"
WHILE: "while"
ENTITY: "entity"
LEARNABLE: "learnable"
FROZEN: "frozen"
RETURN: "return"
NOT: "not"
TRUE: "true"
FALSE: "false"
PROJ.3: /(max|min|avg)=(?!=)/
UPDATE.2: /[-+*\/]=(?!=)/
ARROW: /<-|\u2190/
RARROW: "->"
CMP: /==|!=|<=|>=|<(?!-)|>/
ASSIGN: /=(?!=)/
OROR: "||"
ANDAND: "&&"
BANG: /!(?!=)/
POW: /\^|\*\*/
PLUS: "+"
MINUS: /-(?!>)/
STAR: /\*(?!\*)/
SLASH: "/"
PERCENT: "%"
AT: "@"
DOTDOT: ".."
FIELDDOT.2: /\.(?=[A-Za-z_])/
DOT: /\.(?!\.)/
PATHSEP: "::"
COLONEQ: ":="
COLON: ":"
QMARK: "?"
LPAR: "("
RPAR: ")"
LSQB: "["
RSQB: "]"
LBRACE: "{"
RBRACE: "}"
COMMA: ","
NAME: /(?!\d)\w+'*/
NUMBER: /\d+(\.\d+)?([eE][+-]?\d+)?/
STRING: /"([^"\\\n]|\\.)*"/

%declare GENERICS SLBRACE

_SEP: /(\r?\n[ \t\f\r]*)+|;/
COMMENT: /\/\/[^\n]*/
BLOCK_COMMENT: /\/\*(.|\n)*?\*\//
WS: /[ \t\f\r]+/
%ignore COMMENT
%ignore BLOCK_COMMENT
%ignore WS
"""

# The reserved words: every terminal whose pattern is a quoted word (`DOMAIN: "domain"` -> domain).
KEYWORDS = sorted(set(re.findall(r'^[A-Z_]+(?:\.\d+)?:\s*"([a-z_]+)"\s*$', GRAMMAR, re.M)))

_NAME = re.compile(r"(?!\d)\w+'*")      # the NAME terminal above
_RESERVED = frozenset(KEYWORDS)


def spells_name(text: str) -> bool:
    """Whether a program can write the text as a name (else only as a string: `"New York"`)."""
    return text not in _RESERVED and _NAME.fullmatch(text) is not None
