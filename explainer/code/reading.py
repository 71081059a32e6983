"""Reading a program's syntax tree in the order it is written, never running it: each statement's
value is followed as far as the code says it (an array read from MNIST, divided by 255, fit on; a
model built, compiled, fit), and what the code does not say stays unknown. The program's own
functions are read where they are called (at most MAX_DEPTH deep), and those never called once at
the end; loops and branches are read once. The reading stops after MAX_STEPS nodes."""

from __future__ import annotations

import ast

from explainer.code import makers
from explainer.code.built import Built, layers_of
from explainer.code.followed import (
    EYE,
    LOADED,
    MODEL,
    ONE_HOT,
    UNKNOWN,
    ClassRef,
    Const,
    DatasetRef,
    Encoder,
    Function,
    Generator,
    Many,
    Tensor,
)
from explainer.code.source import Source
from explainer.code.values import (
    PIXEL_DATASETS,
    Data,
    Layer,
    Model,
    Program,
)

MAX_STEPS = 100_000  # nodes read at most (0.16 s): a 2,000-line program of the usual kind takes about 30,000
MAX_DEPTH = 3  # the program's own functions followed inside each other, at most
BRANCHES = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.Try)


class _OutOfSteps(Exception):
    pass


def dotted(node: ast.AST) -> str:
    """`a.b.c` for a chain of names, the call's name for `f(...).g`, '' for anything else."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted(node.value)
        return f"{base}.{node.attr}" if base else node.attr
    if isinstance(node, ast.Call):
        return dotted(node.func)
    return ""


class Reader:
    """One reading of one program (see the module's docstring)."""

    def __init__(self, source: Source):
        self.source, self.steps, self.depth = source, 0, 0
        self.built = Built(source)
        self.backend: str | None = None
        self.called: set[int] = set()
        self.unread = list(source.unread)

    def read(self) -> Program:
        env: dict = {}
        try:
            self.block(self.source.tree.body, env)
            for function in [value for value in env.values() if isinstance(value, Function)]:
                if id(function.node) not in self.called:
                    self.call_function(function, [], {}, env)
        except _OutOfSteps:
            self.unread.append(f"the reading stopped after {MAX_STEPS:,} steps: the rest of the program was not read")
        return Program(self.built.trainings(), self.backend, tuple(self.unread))

    def tick(self) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise _OutOfSteps

    # statements
    def block(self, statements: list[ast.stmt], env: dict) -> object:
        """Read `statements` in order; what the last `return` among them returns."""
        returned = UNKNOWN
        for statement in statements:
            self.tick()
            if isinstance(statement, ast.Assign):
                value = self.value(statement.value, env)
                for target in statement.targets:
                    self.bind(target, value, env)
            elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
                self.bind(statement.target, self.value(statement.value, env), env)
            elif isinstance(statement, ast.AugAssign) and isinstance(statement.target, ast.Name):
                old = env.get(statement.target.id, UNKNOWN)
                env[statement.target.id] = makers.arithmetic(
                    old, statement.op, self.value(statement.value, env), statement.lineno
                )
            elif isinstance(statement, ast.Expr):
                self.value(statement.value, env)
            elif isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
                env[statement.name] = Function(statement)
            elif isinstance(statement, ast.ClassDef):
                env[statement.name] = ClassRef(any(dotted(base).endswith("Model") for base in statement.bases))
            elif isinstance(statement, ast.Import | ast.ImportFrom):
                self.imported(statement, env)
            elif isinstance(statement, ast.Return) and statement.value is not None:
                returned = self.value(statement.value, env)
            elif isinstance(statement, BRANCHES):
                if isinstance(statement, ast.For | ast.AsyncFor):
                    self.bind(statement.target, UNKNOWN, env)
                for item in getattr(statement, "items", []):  # with ... as name
                    if item.optional_vars is not None:
                        self.bind(item.optional_vars, self.value(item.context_expr, env), env)
                for part in ("body", "orelse", "finalbody"):
                    value = self.block(getattr(statement, part, []), env)
                    returned = returned if value is UNKNOWN else value
                for handler in getattr(statement, "handlers", []):
                    self.block(handler.body, env)
        return returned

    def bind(self, target: ast.AST, value: object, env: dict) -> None:
        if isinstance(target, ast.Name):
            env[target.id] = value
        elif isinstance(target, ast.Tuple | ast.List):
            items = value.items if isinstance(value, Many) and len(value.items) == len(target.elts) else None
            for index, element in enumerate(target.elts):
                self.bind(element, items[index] if items else UNKNOWN, env)
        elif isinstance(target, ast.Subscript) and dotted(target.value) == "os.environ":
            self.set_backend(target.slice, value)

    def set_backend(self, key: ast.AST, value: object) -> None:
        if isinstance(key, ast.Constant) and key.value == "KERAS_BACKEND" and isinstance(value, Const):
            self.backend = str(value.value)

    def imported(self, statement: ast.Import | ast.ImportFrom, env: dict) -> None:
        """`from keras.datasets import mnist` and its like: the data set, by the name it is given;
        `from keras.applications import ResNet50`: a model whose layers are not in the code."""
        module = statement.module if isinstance(statement, ast.ImportFrom) else ""
        for alias in statement.names:
            path = f"{module}.{alias.name}" if module else alias.name
            parts, name = path.split("."), alias.asname or (alias.name if module else path.split(".")[0])
            if parts[-1] in PIXEL_DATASETS and "datasets" in parts:
                env[name] = DatasetRef(parts[-1])
            elif "applications" in parts[:-1] and parts[-1][:1].isupper():
                env[name] = ClassRef(model=True)

    # expressions
    def value(self, node: ast.AST | None, env: dict) -> object:
        self.tick()
        if node is None:
            return UNKNOWN
        if isinstance(node, ast.Constant):
            return Const(node.value, node.lineno)
        if isinstance(node, ast.Name):
            return env.get(node.id, UNKNOWN)
        if isinstance(node, ast.Tuple | ast.List):
            return Many(tuple(self.value(element, env) for element in node.elts))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            operand = self.value(node.operand, env)
            return Const(-operand.value, node.lineno) if makers.number(operand) is not None else UNKNOWN
        if isinstance(node, ast.BinOp):
            return makers.arithmetic(self.value(node.left, env), node.op, self.value(node.right, env), node.lineno)
        if isinstance(node, ast.Call):
            return self.call(node, env)
        if isinstance(node, ast.Subscript):
            base = self.value(node.value, env)
            if isinstance(base, Many) and makers.number(index := self.value(node.slice, env)) is not None:
                return base.items[int(index.value)] if -len(base.items) <= index.value < len(base.items) else UNKNOWN
            if isinstance(base, Data):
                return base.changed(node.lineno)
            return ONE_HOT.changed(node.lineno) if base is EYE else UNKNOWN
        if isinstance(node, ast.Attribute):
            base = self.value(node.value, env)
            return base.changed(node.lineno) if isinstance(base, Data) else makers.reference(dotted(node), node.lineno)
        return UNKNOWN

    def call(self, node: ast.Call, env: dict) -> object:
        name, line = dotted(node.func), node.lineno
        args = [UNKNOWN if isinstance(arg, ast.Starred) else self.value(arg, env) for arg in node.args]
        kwargs = {keyword.arg: self.value(keyword.value, env) for keyword in node.keywords if keyword.arg}
        if isinstance(node.func, ast.Attribute):
            receiver = self.value(node.func.value, env)
            if isinstance(receiver, Model):
                return self.built.method(receiver, node, args, kwargs)
            if isinstance(receiver, Generator | DatasetRef | Data | Encoder):
                return makers.method(receiver, node.func.attr, args, kwargs, line)
            if name in ("os.environ.setdefault", "os.environ.update") and args:
                self.set_backend(node.args[0], args[1] if len(args) > 1 else UNKNOWN)
        called = env.get(node.func.id, UNKNOWN) if isinstance(node.func, ast.Name) else UNKNOWN
        if isinstance(node.func, ast.Call) or isinstance(called, Layer):
            layer = self.value(node.func, env) if isinstance(node.func, ast.Call) else called
            if isinstance(layer, Layer):  # a layer applied to a tensor
                previous = args[0] if args else UNKNOWN
                chain = previous.layers if isinstance(previous, Tensor) else None
                return Tensor(None if chain is None else (*chain, layer))
            return Tensor(None) if isinstance(layer, Model) else UNKNOWN
        if isinstance(called, Function):
            return self.call_function(called, args, kwargs, env)
        if isinstance(called, ClassRef):
            return self.built.model(None, line) if called.model else UNKNOWN
        made = makers.made(name, args, kwargs, line)
        if made is MODEL or made is LOADED:
            return self.built.model(layers_of(name, args, kwargs) if made is MODEL else None, line)
        return made

    def call_function(self, function: Function, args: list, kwargs: dict, env: dict) -> object:
        """The program's own function read with what it is given, as far as MAX_DEPTH."""
        self.called.add(id(function.node))
        if self.depth >= MAX_DEPTH:
            return UNKNOWN
        local = dict(env)
        parameters = function.node.args
        names = [argument.arg for argument in (*parameters.posonlyargs, *parameters.args)]
        defaults = dict(zip(names[len(names) - len(parameters.defaults) :], parameters.defaults))
        for index, parameter in enumerate(names):
            given = args[index] if index < len(args) else kwargs.get(parameter)
            local[parameter] = given if given is not None else self.value(defaults.get(parameter), env)
        self.depth += 1
        try:
            return self.block(function.node.body, local)
        finally:
            self.depth -= 1


def read(source: Source) -> Program:
    """What the program says (see Reader)."""
    return Reader(source).read()
