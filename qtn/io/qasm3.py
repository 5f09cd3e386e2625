"""An OpenQASM 3 reader: the OpenQASM project's reference parser (``openqasm3``), with
qtn interpreting its syntax tree into a ``cirq.Circuit``.

OpenQASM 3 is a large language with a maintained grammar, so qtn does not write its
own parser here; it interprets what circuits use: ``stdgates.inc`` (Qiskit's matrices,
:mod:`qtn.io.gates`), ``U`` and ``gphase``, ``gate`` definitions, the ``ctrl`` /
``negctrl`` / ``inv`` / ``pow`` modifiers, ``for`` loops over ranges and sets,
``const`` and classical variables as parameters, ``measure``, ``reset``, ``barrier``,
``if``/``else`` on measured bits, and Qiskit's physical qubits ``$n``. Anything else
is a :class:`CircuitFileError` naming file and line.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Callable

import cirq
import sympy

from . import qasm_common as qc
from .errors import CircuitFileError
from .gates import STDGATES, StandardGate, u_matrix
from .layout import with_declared_qubits

_FUNCTIONS: dict[str, Callable[..., float]] = {
    "sin": math.sin, "cos": math.cos, "tan": math.tan, "exp": math.exp, "ln": math.log, "log": math.log,
    "sqrt": math.sqrt, "arcsin": math.asin, "arccos": math.acos, "arctan": math.atan,
    "floor": math.floor, "ceiling": math.ceil, "mod": math.fmod,
}
_CONSTANTS = {"pi": math.pi, "π": math.pi, "tau": 2 * math.pi, "τ": 2 * math.pi, "euler": math.e, "ℇ": math.e}


def _import_parser():
    try:
        import openqasm3
        from openqasm3 import ast
    except ImportError as err:  # pragma: no cover - a dependency of qtn
        raise CircuitFileError(f"reading OpenQASM 3 needs the openqasm3[parser] package ({err})") from None
    return openqasm3, ast


@dataclass
class _Definition:
    params: list[str]
    qubits: list[str]
    body: list[Any]


class _Interpreter:
    def __init__(self, source: str, ast: Any):
        self.source, self.ast = source, ast
        self.qregs: dict[str, list[cirq.Qid]] = {}
        self.physical: dict[int, cirq.Qid] = {}
        self.cregs: dict[str, list[str]] = {}
        self.values: dict[str, Any] = {}
        self.gates: dict[str, StandardGate] = {"U": StandardGate(1, 3, lambda t, p, lam: cirq.MatrixGate(
            u_matrix(t, p, lam), name="U"))}
        self.definitions: dict[str, _Definition] = {}
        self.measured: set[str] = set()

    def fail(self, node: Any, message: str) -> CircuitFileError:
        line = getattr(getattr(node, "span", None), "start_line", None)
        return CircuitFileError(f"{self.source}:{line}: {message}" if line else f"{self.source}: {message}")

    # --- statements -----------------------------------------------------------------------
    def block(self, statements: list[Any], env: dict[str, Any]) -> list[cirq.Operation]:
        ops: list[cirq.Operation] = []
        for st in statements:
            ops.extend(self.statement(st, env))
        return ops

    def statement(self, st: Any, env: dict[str, Any]) -> list[cirq.Operation]:
        a = self.ast
        if isinstance(st, a.Include):
            if st.filename != "stdgates.inc":
                raise self.fail(st, f"include {st.filename!r}: qtn knows only stdgates.inc")
            self.gates.update(STDGATES)
            return []
        if isinstance(st, a.QubitDeclaration):
            name = st.qubit.name
            self.check_new(st, name)
            if st.size is None:
                self.qregs[name] = [cirq.NamedQubit(name)]
            else:
                self.qregs[name] = [qc.qubit(name, i) for i in range(self.integer(st.size, env))]
            return []
        if isinstance(st, a.ClassicalDeclaration) and isinstance(st.type, a.BitType):
            name = st.identifier.name
            self.check_new(st, name)
            size = 1 if st.type.size is None else self.integer(st.type.size, env)
            self.cregs[name] = [qc.bit_key(name, i) for i in range(size)]
            if st.init_expression is None:
                return []
            if not isinstance(st.init_expression, a.QuantumMeasurement):
                raise self.fail(st, "bits can be initialised only by 'measure'")
            return self.measure(self.qubits(st.init_expression.qubit, env), self.cregs[name], st)
        if isinstance(st, (a.ClassicalDeclaration, a.ConstantDeclaration)):
            name = st.identifier.name
            self.check_new(st, name)
            init = st.init_expression
            if init is None:
                raise self.fail(st, f"{name!r} has no value (an 'input' or uninitialised variable); "
                                "give it one in the file")
            self.values[name] = self.value(init, env)
            return []
        if isinstance(st, a.IODeclaration):
            raise self.fail(st, f"input/output variable {st.identifier.name!r}: qtn needs every value in the file")
        if isinstance(st, a.ClassicalAssignment) and isinstance(st.lvalue, a.Identifier) \
                and st.lvalue.name in self.values:
            op = st.op.name.rstrip("=") if st.op.name != "=" else None
            rhs = self.value(st.rvalue, env)
            old = self.values[st.lvalue.name]
            self.values[st.lvalue.name] = rhs if op is None else self.binary(st, op, old, rhs)
            return []
        if isinstance(st, a.QuantumGateDefinition):
            self.definitions[st.name.name] = _Definition([p.name for p in st.arguments],
                                                         [q.name for q in st.qubits], st.body)
            return []
        if isinstance(st, a.QuantumGate):
            return self.gate_call(st, env)
        if isinstance(st, a.QuantumPhase):
            return self.modified(st, [cirq.GlobalPhaseGate(complex(sympy.exp(1j * self.value(st.argument, env))))
                                      .on()], env, st.qubits)
        if isinstance(st, a.QuantumBarrier):
            for q in st.qubits:
                self.qubits(q, env)
            return []
        if isinstance(st, a.QuantumReset):
            return qc.reset(self.qubits(st.qubits, env))
        if isinstance(st, a.QuantumMeasurementStatement):
            qubits = self.qubits(st.measure.qubit, env)
            if st.target is None:
                raise self.fail(st, "a measurement must store its result in a bit ('c[0] = measure q[0];')")
            return self.measure(qubits, self.bits(st.target, env), st)
        if isinstance(st, a.ForInLoop):
            ops = []
            for v in self.loop_values(st.set_declaration, env):
                ops.extend(self.block(st.block, {**env, st.identifier.name: v}))
            return ops
        if isinstance(st, a.BranchingStatement):
            return self.branch(st, env)
        if isinstance(st, a.Pragma):
            return []
        raise self.fail(st, f"{type(st).__name__} is not supported by qtn's OpenQASM 3 reader")

    def where(self, node: Any) -> str:
        return f"{self.source}:{node.span.start_line}"

    def check_new(self, node: Any, name: str) -> None:
        if name in self.qregs or name in self.cregs or name in self.values:
            raise self.fail(node, f"{name!r} is declared twice")

    def loop_values(self, spec: Any, env: dict[str, Any]) -> list[Any]:
        a = self.ast
        if isinstance(spec, a.RangeDefinition):
            start = self.integer(spec.start, env)
            step = 1 if spec.step is None else self.integer(spec.step, env)
            end = self.integer(spec.end, env)  # OpenQASM ranges include their end
            return list(range(start, end + (1 if step > 0 else -1), step))
        if isinstance(spec, a.DiscreteSet):
            return [self.value(v, env) for v in spec.values]
        raise self.fail(spec, "a for loop must run over a range [a:b] or a set {a, b}")

    def measure(self, qubits: list[cirq.Qid], keys: list[str], st: Any) -> list[cirq.Operation]:
        self.measured.update(keys)
        return qc.measure(qubits, keys, self.where(st))

    def branch(self, st: Any, env: dict[str, Any]) -> list[cirq.Operation]:
        condition = sympy.And(*self.condition(st.condition, env))
        ops = qc.controlled_on(self.block(st.if_block, env), condition, self.measured)
        if st.else_block:
            ops += qc.controlled_on(self.block(st.else_block, env), sympy.Not(condition), self.measured)
        return ops

    def condition(self, cond: Any, env: dict[str, Any]) -> list[Any]:
        a = self.ast
        if isinstance(cond, a.BinaryExpression) and cond.op.name == "==":
            keys = self.bits(cond.lhs, env)
            value = int(self.value(cond.rhs, env))
            if value < 0 or value >= 2 ** len(keys):
                raise self.fail(cond, f"compares {len(keys)} bit(s) with {value}, which never matches")
            return [sympy.Eq(sympy.Symbol(k), (value >> i) & 1) for i, k in enumerate(keys)]
        if isinstance(cond, (a.Identifier, a.IndexExpression, a.IndexedIdentifier)):
            keys = self.bits(cond, env)
            if len(keys) != 1:
                raise self.fail(cond, "a condition on a register needs '== value'")
            return [sympy.Eq(sympy.Symbol(keys[0]), 1)]
        if isinstance(cond, a.UnaryExpression) and cond.op.name == "!":
            return [sympy.Not(sympy.And(*self.condition(cond.expression, env)))]
        raise self.fail(cond, "qtn supports conditions 'c == n', 'c[i]' and '!c[i]' on measured bits")

    # --- gates ----------------------------------------------------------------------------
    def gate_call(self, st: Any, env: dict[str, Any]) -> list[cirq.Operation]:
        name = st.name.name
        values = [self.value(e, env) for e in st.arguments]
        n_controls = sum(self.modifier_count(m, env) for m in st.modifiers
                         if m.modifier.name in ("ctrl", "negctrl"))
        args = [self.qubits(q, env) for q in st.qubits]
        ops: list[cirq.Operation] = []
        for qubits in qc.broadcast(args, self.where(st), f"gate {name}"):
            controls, targets = list(qubits[:n_controls]), list(qubits[n_controls:])
            body = self.expand(st, name, values, targets, 0)
            ops.extend(self.modified(st, body, env, None, controls))
        return ops

    def modifier_count(self, m: Any, env: dict[str, Any]) -> int:
        return 1 if m.argument is None else self.integer(m.argument, env)

    def modified(self, st: Any, ops: list[cirq.Operation], env: dict[str, Any], phase_qubits: Any = None,
                 controls: list[cirq.Qid] | None = None) -> list[cirq.Operation]:
        """Apply ``st``'s modifiers, innermost (rightmost) first."""
        if phase_qubits:  # gphase with qubits: controlled on them
            controls = [q for arg in phase_qubits for q in self.qubits(arg, env)]
        controls = list(controls or [])
        for m in reversed(st.modifiers):
            kind = m.modifier.name
            if kind == "inv":
                ops = [cirq.inverse(op) for op in reversed(ops)]
            elif kind == "pow":
                k = self.value(m.argument, env)
                if float(k).is_integer():
                    base = ops if k >= 0 else [cirq.inverse(op) for op in reversed(ops)]
                    ops = base * int(abs(k))
                elif len(ops) == 1:
                    ops = [ops[0] ** k]
                else:
                    raise self.fail(st, "pow(k) with a non-integer k of a multi-gate definition is not supported")
            else:
                n = self.modifier_count(m, env)
                if n > len(controls):
                    raise self.fail(st, f"{kind}({n}) needs {n} more qubit(s) before the targets")
                mine, controls = controls[-n:], controls[:-n]
                values = (1 if kind == "ctrl" else 0,) * n
                ops = [op.controlled_by(*mine, control_values=values) for op in ops]
        return ops

    def expand(self, node: Any, name: str, values: list[float], qubits: list[cirq.Qid], depth: int
               ) -> list[cirq.Operation]:
        if depth > 100:
            raise self.fail(node, f"gate {name} is defined in terms of itself")
        d = self.definitions.get(name)
        where = self.where(node)
        if d is not None:
            self.check_call(node, name, len(d.qubits), len(d.params), values, qubits)
            env = {**dict(zip(d.params, values)), **{f"\0q:{q}": [v] for q, v in zip(d.qubits, qubits)}}
            return self.block(d.body, env)
        std = self.gates.get(name)
        if std is None:
            hint = " (is 'include \"stdgates.inc\";' missing?)" if name in STDGATES else ""
            raise self.fail(node, f"unknown gate {name!r}{hint}")
        self.check_call(node, name, std.n_qubits, std.n_params, values, qubits)
        return [qc.gate_op(std.make(*values), qubits, where, name)]

    def check_call(self, node: Any, name: str, n_qubits: int, n_params: int, values: list, qubits: list) -> None:
        if len(values) != n_params:
            raise self.fail(node, f"gate {name} takes {n_params} parameter(s), got {len(values)}")
        if len(qubits) != n_qubits:
            raise self.fail(node, f"gate {name} takes {n_qubits} qubit(s), got {len(qubits)}")

    # --- operands -------------------------------------------------------------------------
    def qubits(self, node: Any, env: dict[str, Any]) -> list[cirq.Qid]:
        return self.operand(node, env, quantum=True)

    def bits(self, node: Any, env: dict[str, Any]) -> list[str]:
        return self.operand(node, env, quantum=False)

    def operand(self, node: Any, env: dict[str, Any], quantum: bool) -> list:
        a = self.ast
        if isinstance(node, a.Identifier):
            name, indices = node.name, []
        elif isinstance(node, a.IndexedIdentifier):
            name, indices = node.name.name, node.indices
        elif isinstance(node, a.IndexExpression) and isinstance(node.collection, a.Identifier):
            name, indices = node.collection.name, [node.index]
        else:
            raise self.fail(node, f"expected a {'qubit' if quantum else 'bit'} or register")
        if quantum and f"\0q:{name}" in env:
            reg = env[f"\0q:{name}"]
        elif quantum and re.fullmatch(r"\$\d+", name):
            reg = [self.physical.setdefault(int(name[1:]), cirq.NamedQubit(name))]
        else:
            regs = self.qregs if quantum else self.cregs
            if name not in regs:
                raise self.fail(node, f"{name!r} is not a declared {'qubit' if quantum else 'bit'} register")
            reg = regs[name]
        for index in indices:
            reg = self.select(node, reg, index, env, name)
        return list(reg)

    def select(self, node: Any, reg: list, index: Any, env: dict[str, Any], name: str) -> list:
        a = self.ast
        if isinstance(index, a.DiscreteSet):
            index = index.values
        out = []
        for element in index:
            if isinstance(element, a.RangeDefinition):
                start = 0 if element.start is None else self.integer(element.start, env)
                end = len(reg) - 1 if element.end is None else self.integer(element.end, env)
                step = 1 if element.step is None else self.integer(element.step, env)
                picks = range(start, end + (1 if step > 0 else -1), step)
            else:
                picks = [self.integer(element, env)]
            for i in picks:
                if not -len(reg) <= i < len(reg):
                    raise self.fail(node, f"index {i} is out of range for {name}[{len(reg)}]")
                out.append(reg[i])
        return out

    # --- expressions ----------------------------------------------------------------------
    def integer(self, node: Any, env: dict[str, Any]) -> int:
        v = self.value(node, env)
        if isinstance(v, bool) or not float(v).is_integer():
            raise self.fail(node, f"expected an integer, got {v!r}")
        return int(v)

    def value(self, node: Any, env: dict[str, Any]) -> Any:
        a = self.ast
        if isinstance(node, (a.IntegerLiteral, a.FloatLiteral, a.BooleanLiteral)):
            return node.value
        if isinstance(node, a.ImaginaryLiteral):
            raise self.fail(node, "imaginary numbers are not gate parameters")
        if isinstance(node, a.Identifier):
            if node.name in env:
                return env[node.name]
            if node.name in self.values:
                return self.values[node.name]
            if node.name in _CONSTANTS:
                return _CONSTANTS[node.name]
            raise self.fail(node, f"{node.name!r} has no value here")
        if isinstance(node, a.UnaryExpression):
            v = self.value(node.expression, env)
            return {"-": lambda: -v, "!": lambda: not v, "~": lambda: ~int(v)}[node.op.name]()
        if isinstance(node, a.BinaryExpression):
            return self.binary(node, node.op.name, self.value(node.lhs, env), self.value(node.rhs, env))
        if isinstance(node, a.FunctionCall) and node.name.name in _FUNCTIONS:
            args = [self.value(x, env) for x in node.arguments]
            try:
                return _FUNCTIONS[node.name.name](*args)
            except (TypeError, ValueError, OverflowError) as err:
                raise self.fail(node, f"{node.name.name}: {err}") from None
        if isinstance(node, a.Cast):
            v = self.value(node.argument, env)
            return int(v) if isinstance(node.type, (a.IntType, a.UintType)) else v
        raise self.fail(node, f"{type(node).__name__} is not supported in a parameter expression")

    def binary(self, node: Any, op: str, x: Any, y: Any) -> Any:
        ops: dict[str, Callable[[Any, Any], Any]] = {
            "+": lambda: x + y, "-": lambda: x - y, "*": lambda: x * y, "/": lambda: x / y,
            "**": lambda: x ** y, "%": lambda: x % y, "==": lambda: x == y, "!=": lambda: x != y,
            "<": lambda: x < y, "<=": lambda: x <= y, ">": lambda: x > y, ">=": lambda: x >= y,
            "&&": lambda: x and y, "||": lambda: x or y,
        }
        if op not in ops:
            raise self.fail(node, f"operator {op!r} is not supported in a parameter expression")
        try:
            v = ops[op]()
        except (ZeroDivisionError, OverflowError, TypeError) as err:
            raise self.fail(node, f"{err} in a parameter expression") from None
        # integer division stays exact, as OpenQASM's int / int does
        return int(v) if op == "/" and isinstance(x, int) and isinstance(y, int) and x % y == 0 else v


def _syntax_error(err: Exception, source: str) -> str:
    """``file:line: message`` from the parser's error (a lexer message, or the token ANTLR stopped at)."""
    m = re.match(r"L(\d+):C(\d+): (.*)", str(err), re.DOTALL)
    if m:
        return f"{source}:{m.group(1)}: {m.group(3)}"
    cause = err.__cause__
    recognition = getattr(cause, "args", [None])[0] if cause is not None else None
    token = getattr(recognition, "offendingToken", None) or getattr(cause, "offendingToken", None)
    if token is None:
        return f"{source}: OpenQASM 3 syntax error"
    text = "the end of the file" if token.text == "<EOF>" else repr(token.text)
    return f"{source}:{token.line}: OpenQASM 3 syntax error at {text}"


def parse_qasm3(text: str, source: str = "<string>") -> cirq.Circuit:
    """Parse an OpenQASM 3 program into a ``cirq.Circuit``.

    Qubit ``i`` of ``qubit[n] q`` is ``cirq.NamedQubit("q_i")`` (as for OpenQASM 2), a
    single ``qubit a`` is ``NamedQubit("a")``, Qiskit's physical ``$n`` is
    ``NamedQubit("$n")``; bit ``i`` of ``c`` is the measurement key ``"c_i"``.

    Raises:
        CircuitFileError: naming file and line.
    """
    openqasm3, ast = _import_parser()
    try:
        program = openqasm3.parse(text)
    except openqasm3.parser.QASM3ParsingError as err:
        raise CircuitFileError(_syntax_error(err, source)) from None
    if program.version is None or not program.version.startswith("3"):
        raise CircuitFileError(f"{source}:1: expected 'OPENQASM 3.0;', got version {program.version}")
    interp = _Interpreter(source, ast)
    ops = interp.block(program.statements, {})
    declared = [q for reg in interp.qregs.values() for q in reg]
    declared += [interp.physical[k] for k in sorted(interp.physical)]
    return with_declared_qubits(cirq.Circuit(ops), declared)
