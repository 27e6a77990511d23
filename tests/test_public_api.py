"""The public API: what flowql exports, and that every public name is documented."""

from __future__ import annotations

import inspect

import flowql


def test_every_exported_name_exists_and_is_documented() -> None:
    undocumented = []
    for name in flowql.__all__:
        obj = getattr(flowql, name)
        if name.startswith("__") or isinstance(obj, (str, int)):
            continue
        if not inspect.getdoc(obj):
            undocumented.append(name)
    assert undocumented == []


def test_public_methods_of_exported_classes_are_documented() -> None:
    undocumented = []
    for name in flowql.__all__:
        cls = getattr(flowql, name)
        if not inspect.isclass(cls) or cls.__module__ == "builtins":
            continue
        for attr, value in vars(cls).items():
            if attr.startswith("_") or not (callable(value) or isinstance(value, property)):
                continue
            if not inspect.getdoc(value):
                undocumented.append(f"{name}.{attr}")
    assert undocumented == []


def test_the_library_face_is_there() -> None:
    expr = flowql.parse("geo_contry == 'Spain'")
    found = flowql.validate(expr, model=flowql.demo_model(), flow="825")
    assert [d.code for d in found] == ["FQ101"]
    assert flowql.format(expr) == "geo_contry == 'Spain'"
    assert flowql.table_schema({"n": "Integer"}) == {"n": "integer"}


def test_the_client_names_are_imported_on_first_use() -> None:
    import subprocess
    import sys

    code = (
        "import sys, flowql\n"
        "assert 'httpx' not in sys.modules and 'flowql.sandbox' not in sys.modules\n"
        "from flowql.client import ConvivaFlowClient\n"
        "from flowql.query import FlowQuery\n"
        "from flowql.sandbox import Sandbox\n"
        "assert flowql.ConvivaFlowClient is ConvivaFlowClient\n"
        "assert flowql.FlowQuery is FlowQuery and flowql.Sandbox is Sandbox\n"
        "assert 'Sandbox' in dir(flowql)\n"
        "try:\n"
        "    flowql.NoSuchName\n"
        "except AttributeError as err:\n"
        "    assert 'NoSuchName' in str(err)\n"
        "else:\n"
        "    raise AssertionError('no AttributeError')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
