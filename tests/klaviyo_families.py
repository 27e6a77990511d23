"""What the tests of the Klaviyo endpoint family targets share."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from flowql import format, parse
from flowql.ast import Expr
from flowql.errors import UnsupportedError
from flowql.targets.klaviyo import read_filter


def refusals(compile: Callable[[Expr], str], target: str, source: str) -> list[tuple[str, str]]:
    """Each refusal's code and the source text its span covers, in order; every refusal names
    the target and has a hint."""
    with pytest.raises(UnsupportedError) as caught:
        compile(parse(source))
    out = []
    for d in caught.value.diagnostics:
        assert d.span is not None
        assert target in d.message
        assert d.hint
        out.append((d.code, source[d.span.start : d.span.end]))
    return out


def identity(compile: Callable[[Expr], str], text: str) -> str:
    """``text`` read by flowql's Klaviyo reader, written as FlowQL, parsed and compiled again."""
    return compile(parse(format(read_filter(text))))
