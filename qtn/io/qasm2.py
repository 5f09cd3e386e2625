"""An OpenQASM 2 reader for files as Qiskit and people write them.

qtn's own recursive-descent parser rather than ``cirq.contrib.qasm_import``: Cirq's
importer rejects ``barrier`` and Qiskit's 4-parameter ``cu``, wraps ``cu3``'s θ at 2π
(a wrong relative sign), drops idle qubits and words several errors misleadingly. The
language is small and frozen; this parser knows Qiskit's ``qelib1.inc`` gates with
Qiskit's matrices (see :mod:`qtn.io.gates`), ``gate`` definitions (a file's definition
wins over ``qelib1.inc``, as in Qiskit), ``barrier``, ``measure``, ``reset`` and
``if (c == n)``; anything else is a :class:`CircuitFileError` naming file and line.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import cirq

from . import qasm_common as qc
from .errors import CircuitFileError
from .gates import QELIB1, StandardGate
from .layout import with_declared_qubits

_TOKEN = re.compile(r"""
    (?P<space>[ \t\r\f\v]+) | (?P<newline>\n) | (?P<comment>//[^\n]*) | (?P<block>/\*.*?\*/)
  | (?P<real>(?:\d+\.\d*|\.\d+)(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+) | (?P<int>\d+)
  | (?P<string>"[^"\n]*") | (?P<id>[A-Za-z_][A-Za-z0-9_]*) | (?P<op>->|==|[;,()\[\]{}+\-*/^])
""", re.VERBOSE | re.DOTALL)

_FUNCTIONS: dict[str, Callable[[float], float]] = {
    "sin": math.sin, "cos": math.cos, "tan": math.tan, "exp": math.exp, "ln": math.log, "sqrt": math.sqrt,
    "asin": math.asin, "acos": math.acos, "atan": math.atan,
}


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    line: int


def tokenize(text: str, source: str) -> list[Token]:
    """The tokens of ``text``; comments and white space dropped.

    Raises:
        CircuitFileError: a character that starts no token.
    """
    out, line, pos = [], 1, 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise CircuitFileError(f"{source}:{line}: unexpected character {text[pos]!r}")
        kind = m.lastgroup
        if kind in ("real", "int", "string", "id", "op"):
            out.append(Token(kind, m.group(), line))
        line += m.group().count("\n")
        pos = m.end()
    out.append(Token("eof", "", line))
    return out


Expr = Callable[[dict[str, float]], float]


@dataclass
class GateDefinition:
    """A ``gate`` statement: parameter names, qubit names and the body's calls."""

    params: list[str]
    qubits: list[str]
    body: list[tuple[str, list[Expr], list[str], int]]  # (gate, parameters, qubit names, line)


@dataclass
class _Program:
    source: str
    qregs: dict[str, list[cirq.NamedQubit]] = field(default_factory=dict)
    cregs: dict[str, list[str]] = field(default_factory=dict)
    definitions: dict[str, GateDefinition] = field(default_factory=dict)
    builtins: dict[str, StandardGate] = field(default_factory=lambda: {k: QELIB1[k] for k in ("U", "CX")})
    ops: list[cirq.Operation] = field(default_factory=list)


class _Parser:
    def __init__(self, tokens: list[Token], program: _Program, source: str):
        self.toks, self.i, self.prog, self.source = tokens, 0, program, source

    # --- tokens ---------------------------------------------------------------------------
    def peek(self) -> Token:
        return self.toks[self.i]

    def next(self) -> Token:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def where(self, tok: Token | None = None) -> str:
        return f"{self.source}:{(tok or self.peek()).line}"

    def fail(self, message: str, tok: Token | None = None) -> CircuitFileError:
        return CircuitFileError(f"{self.where(tok)}: {message}")

    def expect(self, text: str) -> Token:
        tok = self.next()
        if tok.text != text:
            got = "the end of the file" if tok.kind == "eof" else repr(tok.text)
            raise self.fail(f"expected {text!r}, got {got}", tok)
        return tok

    def ident(self, what: str) -> Token:
        tok = self.next()
        if tok.kind != "id":
            raise self.fail(f"expected {what}, got {tok.text or 'the end of the file'!r}", tok)
        return tok

    def integer(self, what: str) -> int:
        tok = self.next()
        if tok.kind != "int":
            raise self.fail(f"expected {what} (a non-negative integer), got {tok.text!r}", tok)
        return int(tok.text)

    def accept(self, text: str) -> bool:
        if self.peek().text == text:
            self.i += 1
            return True
        return False

    # --- statements -----------------------------------------------------------------------
    def header(self) -> None:
        tok = self.next()
        if tok.text != "OPENQASM":
            raise self.fail("the file must start with 'OPENQASM 2.0;'", tok)
        version = self.next()
        if not version.text.startswith("2"):
            raise self.fail(f"OpenQASM {version.text} is not OpenQASM 2", version)
        self.expect(";")

    def statements(self) -> None:
        while self.peek().kind != "eof":
            self.statement()

    def statement(self) -> None:
        tok = self.peek()
        word = tok.text
        if word == "include":
            self.next()
            self.include(self.next())
        elif word in ("qreg", "creg"):
            self.next()
            self.register(word)
        elif word == "gate":
            self.next()
            self.gate_definition()
            return
        elif word == "opaque":
            self.next()
            name = self.ident("a gate name")
            raise self.fail(f"opaque gate {name.text!r} has no definition, so qtn cannot simulate it", tok)
        elif word == "if":
            self.next()
            self.if_statement()
            return
        elif word == "OPENQASM":
            raise self.fail("a second OPENQASM header")
        else:
            self.prog.ops.extend(self.quantum_op())
            return
        self.expect(";")

    def include(self, tok: Token) -> None:
        if tok.kind != "string":
            raise self.fail(f"include needs a file name in double quotes, got {tok.text!r}", tok)
        name = tok.text[1:-1]
        if name == "qelib1.inc":
            self.prog.builtins.update(QELIB1)
            return
        path = Path(self.prog.source).parent / name
        if not path.is_file():
            raise self.fail(f"include file {name!r} not found (qtn knows qelib1.inc; others are read "
                            f"next to {self.prog.source})", tok)
        sub = _Parser(tokenize(read_text(path), str(path)), self.prog, str(path))
        sub.statements()

    def register(self, kind: str) -> None:
        name = self.ident("a register name").text
        self.expect("[")
        size = self.integer("the register size")
        self.expect("]")
        if name in self.prog.qregs or name in self.prog.cregs:
            raise self.fail(f"register {name!r} is declared twice")
        if kind == "qreg":
            self.prog.qregs[name] = [qc.qubit(name, i) for i in range(size)]
        else:
            self.prog.cregs[name] = [qc.bit_key(name, i) for i in range(size)]

    def gate_definition(self) -> None:
        name = self.ident("a gate name")
        params = self.name_list(")") if self.accept("(") else []
        qubits = self.name_list("{")
        body = []
        while not self.accept("}"):
            tok = self.ident("a gate call or '}'")
            if tok.text == "barrier":
                self.name_list(";")
                continue
            if tok.text in ("measure", "reset", "if", "opaque", "gate"):
                raise self.fail(f"{tok.text!r} is not allowed inside a gate definition", tok)
            exprs = self.expressions() if self.accept("(") else []
            args = self.name_list(";")
            unknown = [a for a in args if a not in qubits]
            if unknown:
                raise self.fail(f"gate {name.text}: {unknown[0]!r} is not one of its qubits {qubits}", tok)
            body.append((tok.text, exprs, args, tok.line))
        self.prog.definitions[name.text] = GateDefinition(params, qubits, body)

    def name_list(self, end: str) -> list[str]:
        names = []
        if self.accept(end):
            return names
        while True:
            names.append(self.ident("a name").text)
            if self.accept(end):
                return names
            self.expect(",")

    def if_statement(self) -> None:
        self.expect("(")
        reg = self.ident("a classical register")
        if reg.text not in self.prog.cregs:
            raise self.fail(f"if tests {reg.text!r}, which is not a classical register", reg)
        self.expect("==")
        value = self.integer("the value compared with")
        self.expect(")")
        where = self.where(reg)
        ops = self.quantum_op()
        measured = qc.measured_keys(self.prog.ops)
        self.prog.ops.extend(qc.classically_controlled(ops, self.prog.cregs[reg.text], value, where, measured))

    def quantum_op(self) -> list[cirq.Operation]:
        tok = self.ident("a statement")
        where = self.where(tok)
        if tok.text == "measure":
            qubits = self.argument(self.prog.qregs, "quantum")
            self.expect("->")
            bits = self.argument(self.prog.cregs, "classical")
            self.expect(";")
            return qc.measure(qubits, bits, where)
        if tok.text == "reset":
            qubits = self.argument(self.prog.qregs, "quantum")
            self.expect(";")
            return qc.reset(qubits)
        if tok.text == "barrier":
            self.arguments()
            return []
        exprs = self.expressions() if self.accept("(") else []
        args = self.arguments()
        values = [e({}) for e in exprs]
        ops = []
        for qubits in qc.broadcast(args, where, f"gate {tok.text}"):
            ops.extend(self.call(tok.text, values, list(qubits), tok.line, 0))
        return ops

    def arguments(self) -> list[list[cirq.NamedQubit]]:
        args = [self.argument(self.prog.qregs, "quantum")]
        while self.accept(","):
            args.append(self.argument(self.prog.qregs, "quantum"))
        self.expect(";")
        return args

    def argument(self, registers: dict[str, list], kind: str) -> list:
        tok = self.ident(f"a {kind} register or bit")
        if tok.text not in registers:
            raise self.fail(f"{tok.text!r} is not a declared {kind} register", tok)
        reg = registers[tok.text]
        if not self.accept("["):
            return list(reg)
        index = self.integer("an index")
        self.expect("]")
        if index >= len(reg):
            raise self.fail(f"index {index} is out of range for {tok.text}[{len(reg)}]", tok)
        return [reg[index]]

    # --- gates ----------------------------------------------------------------------------
    def call(self, name: str, values: list[float], qubits: list[cirq.Qid], line: int, depth: int
             ) -> Iterator[cirq.Operation]:
        where = f"{self.source}:{line}"
        if depth > 100:
            raise CircuitFileError(f"{where}: gate {name} is defined in terms of itself")
        d = self.prog.definitions.get(name)
        if d is not None:
            self.check_call(name, len(d.qubits), len(d.params), values, qubits, where)
            env = dict(zip(d.params, values))
            bind = dict(zip(d.qubits, qubits))
            for sub, exprs, args, sub_line in d.body:
                yield from self.call(sub, [e(env) for e in exprs], [bind[a] for a in args], sub_line, depth + 1)
            return
        std = self.prog.builtins.get(name)
        if std is None:
            hint = " (is 'include \"qelib1.inc\";' missing?)" if name in QELIB1 else ""
            raise CircuitFileError(f"{where}: unknown gate {name!r}{hint}")
        self.check_call(name, std.n_qubits, std.n_params, values, qubits, where)
        yield qc.gate_op(std.make(*values), qubits, where, name)

    @staticmethod
    def check_call(name: str, n_qubits: int, n_params: int, values: list, qubits: list, where: str) -> None:
        if len(values) != n_params:
            raise CircuitFileError(f"{where}: gate {name} takes {n_params} parameter(s), got {len(values)}")
        if len(qubits) != n_qubits:
            raise CircuitFileError(f"{where}: gate {name} takes {n_qubits} qubit(s), got {len(qubits)}")

    # --- expressions ----------------------------------------------------------------------
    def expressions(self) -> list[Expr]:
        exprs = []
        if self.accept(")"):
            return exprs
        while True:
            exprs.append(self.expression(0))
            if self.accept(")"):
                return exprs
            self.expect(",")

    _BINARY = {"+": (1, lambda a, b: a + b), "-": (1, lambda a, b: a - b), "*": (2, lambda a, b: a * b),
               "/": (2, lambda a, b: a / b), "^": (4, lambda a, b: a ** b)}

    def expression(self, min_prec: int) -> Expr:
        left = self.unary()
        while self.peek().text in self._BINARY and self._BINARY[self.peek().text][0] >= min_prec:
            tok = self.next()
            prec, fn = self._BINARY[tok.text]
            right = self.expression(prec if tok.text == "^" else prec + 1)  # ^ is right-associative
            left = self._binary(fn, left, right, tok)
        return left

    def _binary(self, fn, left: Expr, right: Expr, tok: Token) -> Expr:
        where = self.where(tok)

        def value(env: dict[str, float]) -> float:
            try:
                return fn(left(env), right(env))
            except (ZeroDivisionError, OverflowError, ValueError) as err:
                raise CircuitFileError(f"{where}: {err} in a parameter expression") from None
        return value

    def unary(self) -> Expr:
        if self.accept("-"):
            inner = self.expression(3)
            return lambda env: -inner(env)
        if self.accept("+"):
            return self.expression(3)
        return self.primary()

    def primary(self) -> Expr:
        tok = self.next()
        if tok.kind in ("int", "real"):
            v = float(tok.text)
            return lambda env: v
        if tok.text == "(":
            inner = self.expression(0)
            self.expect(")")
            return inner
        if tok.kind == "id":
            if tok.text == "pi":
                return lambda env: math.pi
            if tok.text in _FUNCTIONS:
                fn, where = _FUNCTIONS[tok.text], self.where(tok)
                self.expect("(")
                arg = self.expression(0)
                self.expect(")")

                def call(env: dict[str, float]) -> float:
                    try:
                        return fn(arg(env))
                    except (ValueError, OverflowError) as err:
                        raise CircuitFileError(f"{where}: {tok.text}: {err}") from None
                return call
            name, where = tok.text, self.where(tok)

            def param(env: dict[str, float]) -> float:
                if name not in env:
                    raise CircuitFileError(f"{where}: {name!r} is not a parameter here")
                return env[name]
            return param
        raise self.fail(f"expected a number, 'pi', a parameter or '(', got {tok.text or 'the end of the file'!r}", tok)


def read_text(path: Path) -> str:
    """A file's text as UTF-8.

    Raises:
        CircuitFileError: the file is not UTF-8 (naming the file and the byte).
    """
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise CircuitFileError(f"{path}:{line}: not UTF-8 text (byte 0x{data[err.start]:02x})") from None


def parse_qasm2(text: str, source: str = "<string>") -> cirq.Circuit:
    """Parse an OpenQASM 2 program.

    Qubit ``i`` of register ``q`` is ``cirq.NamedQubit("q_i")`` and bit ``i`` of ``c``
    the measurement key ``"c_i"``, as Cirq's importer names them. Every declared qubit
    is in the circuit, idle or not, and qtn's entry points order the qubits as declared
    (see :mod:`qtn.io.layout`).

    Raises:
        CircuitFileError: naming file and line, on anything malformed or unsupported.
    """
    prog = _Program(source)
    parser = _Parser(tokenize(text, source), prog, source)
    parser.header()
    parser.statements()
    declared = [q for reg in prog.qregs.values() for q in reg]
    return with_declared_qubits(cirq.Circuit(prog.ops), declared)
