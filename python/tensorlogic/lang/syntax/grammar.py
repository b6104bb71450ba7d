"""The Lark LALR(1) grammar of the `.tl` language (LANGUAGE.md §1-§8).

Keywords and brackets are named terminals so that the parser can give every node the exact span of
its tokens.  Separators are normalised by `parser.Layout` before the parser sees them: one `_SEP` between
statements, none inside `( )`, `[ ]` or a domain's `{ }`, none after a token that cannot end a
statement (so a line ending in `+` or `,` continues), none before `else` or `}`.

Two shift/reduce choices are intended and resolved by shift: `f(x)` is a call (not `f` juxtaposed
with `(x)`), and `X[i]` indexes `X` (not `X` juxtaposed with a list literal).
"""

GRAMMAR = r"""
start: (_item (_SEP _item)*)?

_item: domain_decl | relation_decl | tensor_decl | fn_decl | main_block | test_block
     | import_stmt | learn_block | _stmt

// ---- declarations -------------------------------------------------------------------------
domain_decl: (DOMAIN | ENTITY) NAME (ASSIGN _domain_body)?
_domain_body: domain_set | domain_range
domain_set: LBRACE (const (COMMA const)* COMMA?)? RBRACE
domain_range: int_lit DOTDOT int_lit
int_lit: MINUS? NUMBER
?const: NAME | STRING | int_lit

relation_decl: RELATION NAME LPAR (rel_param (COMMA rel_param)*)? RPAR
rel_param: NAME (COLON NAME)?

tensor_decl: TENSOR NAME COLON type_spec (LEARNABLE | FROZEN)? (ASSIGN expr)?
type_spec: NAME (LSQB (dim (COMMA dim)*)? RSQB)?
dim: NUMBER | NAME | QMARK

fn_decl: FN NAME LPAR (param (COMMA param)*)? RPAR (RARROW type_spec)? block
param: NAME (COLON type_spec)?

main_block: MAIN block
test_block: TEST (NAME | STRING) block
import_stmt: IMPORT STRING

learn_block: LEARN LBRACE (_learn_item (_lsep _learn_item)* COMMA?)? RBRACE
_lsep: _SEP | COMMA
_learn_item: setting | let_stmt | learn_stmt
setting: NAME COLON expr
learn_stmt: expr                      -> expr_stmt
          | expr _assign_op expr      -> assign
          | expr QMARK                -> expr_query

// ---- statements ---------------------------------------------------------------------------
block: LBRACE (_stmt (_SEP _stmt)*)? RBRACE
_stmt: let_stmt | if_stmt | for_stmt | while_stmt | return_stmt | simple_stmt
let_stmt: LET NAME (COLON type_spec)? ASSIGN expr
if_stmt: IF expr block (ELSE (block | if_stmt))?
for_stmt: FOR NAME IN expr block
while_stmt: WHILE expr block
return_stmt: RETURN expr?
?simple_stmt: expr                    -> expr_stmt
            | expr _assign_op expr    -> assign
            | expr ARROW body         -> rule
            | literal (COMMA literal)* QMARK -> query
_assign_op: ASSIGN | PROJ
body: literal (COMMA literal)*
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
?postfix: primary | indexed
indexed: primary (LSQB index_list RSQB)+
index_list: index_item (COMMA index_item)* COMMA?
?index_item: expr             -> index
           | expr DOT         -> marked_index
           | expr? COLON expr? (COLON expr?)? -> slice

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
call: NAME LPAR (_arg (COMMA _arg)* COMMA?)? RPAR
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
DOT: /\.(?!\.)/
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

_SEP: /\r?\n|;/
COMMENT: /\/\/[^\n]*/
BLOCK_COMMENT: /\/\*(.|\n)*?\*\//
WS: /[ \t\f\r]+/
%ignore COMMENT
%ignore BLOCK_COMMENT
%ignore WS
"""
