"""flowql: write, check, translate and run filter expressions for flow and session APIs.

FlowQL is the Conviva DPI Flow API filter syntax (``geo_country == 'Spain' AND (...)``, operators
``==`` ``!=`` ``~~`` ``!~``) plus a few extensions (``NOT``, ``IN``, typed values) that always
lower to plain Flow syntax.

>>> import flowql
>>> expr = flowql.parse("geo_country == 'Spain' and not device_os in ('iOS', 'tvOS')")
>>> flowql.format(expr)
"geo_country == 'Spain' AND NOT device_os IN ('iOS', 'tvOS')"

The public API is what this module exports; everything else is internal. The clients, queries
and the sandbox (``flowql.ConvivaFlowClient``, ``flowql.FlowQuery``, ``flowql.Sandbox``...)
are imported on first use, so ``import flowql`` needs none of httpx.
"""

from __future__ import annotations

from flowql import ast
from flowql._lazy import lazy_exports
from flowql.ast import (
    And,
    Boolean,
    Comparison,
    Expr,
    In,
    Key,
    Node,
    Not,
    Number,
    Op,
    Or,
    Span,
    String,
    Value,
    find,
    find_all,
    transform,
    walk,
)
from flowql.diagnostics import Diagnostic, Severity
from flowql.errors import FlowQLError, LimitError, NodeError, ParseError, UnsupportedError
from flowql.formatter import format
from flowql.model import (
    DataModel,
    Dimension,
    FlowModel,
    ModelError,
    demo_model,
    klaviyo_model,
    load_model,
    model_from_data,
)
from flowql.syntax import MAX_DEPTH, MAX_SOURCE_LENGTH, Token, parse, tokenize
from flowql.targets import CompileResult, Target, TargetError, compile, targets
from flowql.validate import validate

__version__ = "0.1.0"

# Running queries needs httpx (and the sandbox a server): these names are imported on first use,
# so that `import flowql` and `flowql check` stay light.
_LAZY = {
    # Reading a table's schema is for the table targets; its module costs start-up.
    "table_schema": "flowql.targets.table_schemas",
    "AsyncConvivaFlowClient": "flowql.client",
    "AsyncConvivaSessionsClient": "flowql.client",
    "AsyncFlowXOClient": "flowql.client",
    "AsyncKlaviyoClient": "flowql.client",
    "ConvivaFlowClient": "flowql.client",
    "ConvivaSessionsClient": "flowql.client",
    "FlowXOClient": "flowql.client",
    "KlaviyoClient": "flowql.client",
    "ClientError": "flowql.client",
    "APIError": "flowql.client",
    "PartialResultError": "flowql.client",
    "RetryPolicy": "flowql.client",
    "FlowQuery": "flowql.query",
    "SessionsQuery": "flowql.query",
    "KlaviyoReportQuery": "flowql.query",
    "KlaviyoMetricsQuery": "flowql.query",
    "FlowXOQuery": "flowql.query",
    "QueryError": "flowql.query",
    "Sandbox": "flowql.sandbox",
    # Fixes are made only when asked for (flowql check --fix): not on check's start-up path.
    "Applicability": "flowql.fixes",
    "Edit": "flowql.fixes",
    "Fix": "flowql.fixes",
}

TYPE_CHECKING = False
if TYPE_CHECKING:
    from flowql.client import (
        APIError,
        AsyncConvivaFlowClient,
        AsyncConvivaSessionsClient,
        AsyncFlowXOClient,
        AsyncKlaviyoClient,
        ClientError,
        ConvivaFlowClient,
        ConvivaSessionsClient,
        FlowXOClient,
        KlaviyoClient,
        PartialResultError,
        RetryPolicy,
    )
    from flowql.fixes import Applicability, Edit, Fix
    from flowql.query import (
        FlowQuery,
        FlowXOQuery,
        KlaviyoMetricsQuery,
        KlaviyoReportQuery,
        QueryError,
        SessionsQuery,
    )
    from flowql.sandbox import Sandbox
    from flowql.targets.table_schemas import table_schema


__getattr__, __dir__ = lazy_exports(__name__, _LAZY)


__all__ = [
    "MAX_DEPTH",
    "MAX_SOURCE_LENGTH",
    "APIError",
    "AsyncConvivaFlowClient",
    "AsyncConvivaSessionsClient",
    "AsyncFlowXOClient",
    "AsyncKlaviyoClient",
    "ClientError",
    "ConvivaFlowClient",
    "ConvivaSessionsClient",
    "FlowQuery",
    "FlowXOClient",
    "FlowXOQuery",
    "KlaviyoClient",
    "KlaviyoMetricsQuery",
    "KlaviyoReportQuery",
    "PartialResultError",
    "QueryError",
    "RetryPolicy",
    "Sandbox",
    "SessionsQuery",
    "And",
    "Applicability",
    "Boolean",
    "Comparison",
    "CompileResult",
    "DataModel",
    "Diagnostic",
    "Dimension",
    "Edit",
    "Expr",
    "Fix",
    "FlowModel",
    "FlowQLError",
    "In",
    "Key",
    "LimitError",
    "NodeError",
    "ModelError",
    "Node",
    "Not",
    "Number",
    "Op",
    "Or",
    "ParseError",
    "Severity",
    "Span",
    "String",
    "Target",
    "TargetError",
    "Token",
    "UnsupportedError",
    "Value",
    "__version__",
    "ast",
    "compile",
    "demo_model",
    "find",
    "find_all",
    "format",
    "klaviyo_model",
    "load_model",
    "model_from_data",
    "parse",
    "table_schema",
    "targets",
    "tokenize",
    "transform",
    "validate",
    "walk",
]
