"""Rules over a report's fields: `level1 + level2 = total`, `a <= b <= c`, `x <= 1.1 * y`.

A rule is one expression written in the set-up file (`[[rules]] expr = "…"`), with a severity:
`error` refuses the report, `confirm` holds it for /xacnhan, `warning` stores it and says so.

The language, and nothing more: whole or decimal numbers written with a dot (`1.1`; a comma is
refused with a hint, since `1,1` and `1,100` cannot be told apart), field codes, `+ - *`, unary
minus, parentheses, and comparisons `= == != <= >= < >` (also `≤ ≥ ≠`), chained as in
`a <= b <= c` (each link is checked on its own). No division: rates belong to indicators, and a
share is written the other way round (`issued <= 1.1 * population`).

Why a hand-written tokenizer and recursive-descent parser rather than Python's `ast` with a
whitelist: the grammar is a dozen lines, `=` (how the letters write a sum) is not Python, a
comma must be refused rather than read as a tuple, and the administrator's text is never handed
to Python's compiler, whose own limits (recursion, memory) would then be ours to police. Length
and nesting are bounded here, every refusal is one Vietnamese sentence with the position, and
evaluation is exact `Decimal` arithmetic over the report's counts. Nothing is ever `eval`ed.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from decimal import Decimal, localcontext
from enum import StrEnum

from core import messages as msg
from core.numbers import format_decimal, format_int

MAX_RULE_CHARS = 500
MAX_DEPTH = 20
# A count has at most 10 digits, so a rule of MAX_RULE_CHARS never needs more than this.
EXACT_DIGITS = 10 * MAX_RULE_CHARS

_TOKEN = re.compile(
    r"\s*(?:(?P<number>[0-9]+(?:\.[0-9]+)?)|(?P<name>[a-z][a-z0-9_]*)"
    r"|(?P<op><=|>=|==|!=|[≤≥≠<>=+\-*×()]))"
)
_SYMBOL = {"≤": "<=", "≥": ">=", "≠": "!=", "==": "=", "×": "*"}
COMPARISONS = ("=", "!=", "<=", ">=", "<", ">")


class Severity(StrEnum):
    ERROR = "error"  # the report is refused
    CONFIRM = "confirm"  # the report is held for /xacnhan
    WARNING = "warning"  # the report is stored; the reply and the digest say it


class RuleSyntaxError(ValueError):
    """The rule cannot be read; `reason` is the Vietnamese explanation."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- the expression tree ----------------------------------------------------------------------


@dataclass(frozen=True)
class Number:
    value: Decimal


@dataclass(frozen=True)
class FieldRef:
    code: str


@dataclass(frozen=True)
class Negative:
    operand: Expr


@dataclass(frozen=True)
class BinOp:
    op: str  # "+", "-" or "*"
    left: Expr
    right: Expr


Expr = Number | FieldRef | Negative | BinOp


@dataclass(frozen=True)
class Comparison:
    """`terms[0] ops[0] terms[1] ops[1] terms[2] …`: each link is one check."""

    terms: tuple[Expr, ...]
    ops: tuple[str, ...]


def fields_of(expr: Expr) -> tuple[str, ...]:
    """The field codes an expression names, in order of first appearance."""
    match expr:
        case FieldRef(code):
            return (code,)
        case Negative(operand):
            return fields_of(operand)
        case BinOp(_, left, right):
            return tuple(dict.fromkeys(fields_of(left) + fields_of(right)))
    return ()


def evaluate(expr: Expr, values: Mapping[str, int]) -> Decimal:
    """The exact value of an expression; every field it names must be in `values`."""
    match expr:
        case Number(value):
            return value
        case FieldRef(code):
            return Decimal(values[code])
        case Negative(operand):
            return -evaluate(operand, values)
        case BinOp(op, left, right):
            a, b = evaluate(left, values), evaluate(right, values)
            return a + b if op == "+" else a - b if op == "-" else a * b
    raise TypeError(expr)  # pragma: no cover - the union is exhausted above


def holds(op: str, left: Decimal, right: Decimal) -> bool:
    match op:
        case "=":
            return left == right
        case "!=":
            return left != right
        case "<=":
            return left <= right
        case ">=":
            return left >= right
        case "<":
            return left < right
    return left > right


# --- reading a rule ---------------------------------------------------------------------------


def _tokens(text: str) -> list[tuple[str, str, int]]:
    """(kind, text, position) of each token; kind is "number", "name" or "op"."""
    out: list[tuple[str, str, int]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if m is None or m.lastgroup is None:
            start = len(text) - len(text[pos:].lstrip())
            raise RuleSyntaxError(msg.rule_bad_char(text[start], start + 1))
        kind = m.lastgroup
        word = m[kind]
        if kind == "number" and text[m.end() : m.end() + 1] == ",":
            raise RuleSyntaxError(msg.rule_decimal_comma(m.start(kind) + 1))
        out.append((kind, _SYMBOL.get(word, word), m.start(kind) + 1))
        pos = m.end()
    return out


class _Parser:
    """rule := sum (cmp sum)+ ; sum := product (('+'|'-') product)* ;
    product := unary ('*' unary)* ; unary := '-' unary | atom ;
    atom := NUMBER | FIELD | '(' sum ')'"""

    def __init__(self, text: str, fields: Collection[str]) -> None:
        self.tokens = _tokens(text)
        self.at = 0
        self.fields = fields

    def peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> tuple[str, str, int]:
        token = self.peek()
        if token is None:
            raise RuleSyntaxError(msg.rule_ends_early())
        self.at += 1
        return token

    def rule(self) -> Comparison:
        terms = [self.sum(0)]
        ops: list[str] = []
        while (token := self.peek()) is not None and token[1] in COMPARISONS:
            self.take()
            ops.append(token[1])
            terms.append(self.sum(0))
        token = self.peek()
        if token is not None:
            raise RuleSyntaxError(msg.rule_unexpected(token[1], token[2]))
        if not ops:
            raise RuleSyntaxError(msg.RULE_NO_COMPARISON)
        found = Comparison(tuple(terms), tuple(ops))
        if not any(fields_of(t) for t in found.terms):
            raise RuleSyntaxError(msg.RULE_NO_FIELD)
        return found

    def sum(self, depth: int) -> Expr:
        expr = self.product(depth)
        while (token := self.peek()) is not None and token[1] in ("+", "-"):
            self.take()
            expr = BinOp(token[1], expr, self.product(depth))
        return expr

    def product(self, depth: int) -> Expr:
        expr = self.unary(depth)
        while (token := self.peek()) is not None and token[1] == "*":
            self.take()
            expr = BinOp("*", expr, self.unary(depth))
        return expr

    def unary(self, depth: int) -> Expr:
        if depth > MAX_DEPTH:
            raise RuleSyntaxError(msg.rule_too_deep(MAX_DEPTH))
        token = self.peek()
        if token is not None and token[1] == "-":
            self.take()
            return Negative(self.unary(depth + 1))
        return self.atom(depth)

    def atom(self, depth: int) -> Expr:
        kind, word, pos = self.take()
        if kind == "number":
            return Number(Decimal(word))
        if kind == "name":
            if word not in self.fields:
                raise RuleSyntaxError(msg.rule_unknown_field(word))
            return FieldRef(word)
        if word == "(":
            inner = self.sum(depth + 1)
            close = self.peek()
            if close is None or close[1] != ")":
                raise RuleSyntaxError(msg.rule_unclosed(pos))
            self.take()
            return inner
        raise RuleSyntaxError(msg.rule_unexpected(word, pos))


def parse(text: str, fields: Collection[str]) -> Comparison:
    """Read a rule naming only `fields`; raises RuleSyntaxError with the reason."""
    if len(text) > MAX_RULE_CHARS:
        raise RuleSyntaxError(msg.rule_too_long(MAX_RULE_CHARS))
    return _Parser(text, fields).rule()


# --- a rule and what it says about a report ---------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """One `[[rules]]` entry: a comparison over fields, its severity and optional message."""

    text: str  # as written (a `chain` is written `a <= b <= c`)
    comparison: Comparison
    severity: Severity = Severity.ERROR
    message: str | None = None

    @property
    def fields(self) -> tuple[str, ...]:
        found: tuple[str, ...] = ()
        for term in self.comparison.terms:
            found += fields_of(term)
        return tuple(dict.fromkeys(found))

    def breaches(self, values: Mapping[str, int]) -> list[Breach]:
        """Each link of the comparison that the values break. A link is checked only when the
        values give every field it names: a report without a group's fields is not judged on
        them (as a `chain` pair was only checked when both fields were given)."""
        out = []
        terms = self.comparison.terms
        with localcontext() as exact:
            # Enough digits that no sum or product of a rule's length is ever rounded.
            exact.prec = EXACT_DIGITS
            for n, op in enumerate(self.comparison.ops):
                left, right = terms[n], terms[n + 1]
                if not all(c in values for c in fields_of(left) + fields_of(right)):
                    continue
                a, b = evaluate(left, values), evaluate(right, values)
                if not holds(op, a, b):
                    out.append(Breach(self, left, op, right, a, b))
        return out


@dataclass(frozen=True)
class Breach:
    """One broken link of a rule, with the values of its two sides."""

    rule: Rule
    left: Expr
    op: str
    right: Expr
    left_value: Decimal
    right_value: Decimal

    @property
    def pair(self) -> tuple[str, str] | None:
        """(a, b) for a broken `a <= b` between two fields (what an indicator check would
        say again), else None."""
        left, right = self.left, self.right
        if self.op == "<=" and isinstance(left, FieldRef) and isinstance(right, FieldRef):
            return left.code, right.code
        return None

    def describe(self, labels: Mapping[str, str], values: Mapping[str, int]) -> str:
        """`Mức 1 (595) + Mức 2 (6.854) = 7.449, không bằng Tổng (7.494).`"""
        left = _side(self.left, self.left_value, labels, values)
        if not isinstance(self.left, FieldRef | Number):
            left += ","  # `… = 7.449, không bằng …`
        right = _side(self.right, self.right_value, labels, values)
        said = msg.rule_broken_text(left, msg.RULE_VERBS[self.op], right)
        return msg.rule_with_message(self.rule.message, said) if self.rule.message else said


def format_number(value: Decimal) -> str:
    """1100 -> `1.100`, Decimal('1101.1') -> `1.101,1` (as the letters print numbers)."""
    if value == value.to_integral_value():
        return format_int(int(value))
    places = min(-value.normalize().as_tuple().exponent, 4)  # type: ignore[operator]
    return format_decimal(value, places)


_PRECEDENCE = {"+": 1, "-": 1, "*": 2}


def _written(expr: Expr, labels: Mapping[str, str], values: Mapping[str, int]) -> str:
    match expr:
        case Number(value):
            return format_number(value)
        case FieldRef(code):
            return f"{labels.get(code, code)} ({format_int(values[code])})"
        case Negative(operand):
            inner = _written(operand, labels, values)
            return f"−({inner})" if isinstance(operand, BinOp) else f"−{inner}"
        case BinOp(op, left, right):
            a, b = _written(left, labels, values), _written(right, labels, values)
            if isinstance(left, BinOp) and _PRECEDENCE[left.op] < _PRECEDENCE[op]:
                a = f"({a})"
            if isinstance(right, BinOp) and _PRECEDENCE[right.op] <= _PRECEDENCE[op]:
                b = f"({b})"
            return f"{a} {'×' if op == '*' else '−' if op == '-' else '+'} {b}"
    raise TypeError(expr)  # pragma: no cover - the union is exhausted above


def _side(expr: Expr, value: Decimal, labels: Mapping[str, str], values: Mapping[str, int]) -> str:
    """A field as `Label (value)`; anything computed also with its result."""
    text = _written(expr, labels, values)
    if isinstance(expr, FieldRef | Number):
        return text
    return f"{text} = {format_number(value)}"


def chain_text(chain: Collection[str]) -> str:
    """`chain = ["a", "b", "c"]` as the rule it always meant: `a <= b <= c`."""
    return " <= ".join(chain)
