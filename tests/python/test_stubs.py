"""The type stubs (_twin.pyi) match the built module: names, members and parameters."""

import ast
import inspect
import pathlib

import pytest

import twin
from twin import _twin

STUB = pathlib.Path(twin.__file__).with_name("_twin.pyi")


def stub_tree():
    return ast.parse(STUB.read_text())


def stub_classes():
    return {n.name: n for n in stub_tree().body if isinstance(n, ast.ClassDef)}


def stub_members(cls):
    out = {}
    for node in cls.body:
        if isinstance(node, ast.FunctionDef):
            out[node.name] = node
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            out[node.target.id] = node
    return out


def test_py_typed_and_stub_ship_with_the_package():
    assert STUB.exists()
    assert STUB.with_name("py.typed").exists()


def test_stub_names_are_the_module_names():
    tree = stub_tree()
    stubbed = set(stub_classes())
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            stubbed.add(node.target.id)
        elif isinstance(node, ast.FunctionDef):
            stubbed.add(node.name)
    runtime = {n for n in dir(_twin) if not n.startswith("_")} | {"__version__"}
    assert stubbed == runtime
    assert set(twin.__all__) == runtime


@pytest.mark.parametrize("name", sorted(stub_classes()))
def test_stub_classes_match(name):
    node = stub_classes()[name]
    cls = getattr(_twin, name)
    bases = [ast.unparse(b) for b in node.bases]
    assert bases == [b.__name__ for b in cls.__bases__ if b is not object]
    stubbed = {m for m in stub_members(node) if not m.startswith("_")}
    runtime = {m for m in vars(cls) if not m.startswith("_")}
    if issubclass(cls, BaseException):
        runtime -= {"kind"}
        stubbed -= {"kind"}
    assert stubbed == runtime


def params(fn_node):
    """(name, default) of each parameter but self (``*args`` and ``**kwargs`` included); default is `inspect.Parameter.empty` if none."""
    a = fn_node.args
    positional = a.posonlyargs + a.args
    defaults = [inspect.Parameter.empty] * (len(positional) - len(a.defaults)) + [
        ast.literal_eval(d) for d in a.defaults
    ]
    kw_defaults = [inspect.Parameter.empty if d is None else ast.literal_eval(d) for d in a.kw_defaults]
    pairs = list(zip((p.arg for p in positional), defaults))
    pairs += [(a.vararg.arg, inspect.Parameter.empty)] if a.vararg else []
    pairs += list(zip((p.arg for p in a.kwonlyargs), kw_defaults))
    pairs += [(a.kwarg.arg, inspect.Parameter.empty)] if a.kwarg else []
    return [(n, d) for n, d in pairs if n not in ("self", "cls")]


@pytest.mark.parametrize("name", sorted(n for n, c in stub_classes().items() if "Error" not in n))
def test_stub_signatures_match(name):
    cls = getattr(_twin, name)
    for member, node in stub_members(stub_classes()[name]).items():
        if not isinstance(node, ast.FunctionDef) or any(
            isinstance(d, ast.Name) and d.id == "property" for d in node.decorator_list
        ):
            continue
        # Native classes take their arguments in __new__ (stubbed as such for stubtest).
        if member.startswith("__") and member not in ("__init__", "__new__"):
            continue
        target = cls if member in ("__init__", "__new__") else getattr(cls, member)
        try:
            sig = inspect.signature(target)
        except (TypeError, ValueError):
            pytest.fail(f"{name}.{member} has no runtime signature")
        runtime = [(p.name, p.default) for p in sig.parameters.values() if p.name not in ("self", "cls")]
        assert runtime == params(node), f"{name}.{member}"


def stub_functions():
    return {n.name: n for n in stub_tree().body if isinstance(n, ast.FunctionDef)}


@pytest.mark.parametrize("name", sorted(stub_functions()))
def test_stub_function_signatures_match(name):
    sig = inspect.signature(getattr(_twin, name))
    runtime = [(p.name, p.default) for p in sig.parameters.values()]
    assert runtime == params(stub_functions()[name]), name
