"""The wheel, as a user installs it: built from the repository, into a fresh virtual environment.

One module-scoped fixture builds the wheel (``pip wheel --no-deps --no-build-isolation``, so no
network) and installs it with ``--no-index --no-deps`` into a new venv. That venv has none of
flowql's runtime dependencies (h11, httpx, prompt_toolkit, pygments, platformdirs: the client
and the REPL), which shows that parsing, formatting, checking and compiling need none of them.
Everything then runs from a directory outside the repository, so that nothing is imported from the
source tree by accident.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("lark", "h11", "httpx", "prompt_toolkit", "pygments")
FILTER = "geo_country == 'Spain' and not (device_os in (\"iOS\", 'tvOS') or bitrate != 3.5)"
CANONICAL = "geo_country == 'Spain' AND NOT (device_os IN ('iOS', 'tvOS') OR bitrate != 3.5)"


class Installed:
    """The built wheel and the venv it is installed in."""

    def __init__(self, wheel: Path, env: Path, outside: Path) -> None:
        self.wheel = wheel
        self.env = env
        self.outside = outside
        bin_dir = "Scripts" if os.name == "nt" else "bin"
        self.python = env / bin_dir / ("python.exe" if os.name == "nt" else "python")
        self.flowql = env / bin_dir / ("flowql.exe" if os.name == "nt" else "flowql")

    def run(self, *argv: str | Path) -> subprocess.CompletedProcess[str]:
        return _run([*argv], cwd=self.outside)


def _clean_env() -> dict[str, str]:
    # Nothing that would let the new venv see the development environment.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["PYTHONNOUSERSITE"] = "1"
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def _run(argv: list[str | Path], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in argv],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=cwd,
        env=_clean_env(),
        check=False,
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    base = tmp_path_factory.mktemp("wheel")
    dist = base / "dist"
    build = _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            ROOT,
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--quiet",
            "-w",
            dist,
        ],
        cwd=base,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    wheels = list(dist.glob("flowql-*.whl"))
    assert len(wheels) == 1, wheels
    env = base / "venv"
    venv.EnvBuilder(with_pip=True, clear=True).create(env)
    outside = base / "elsewhere"
    outside.mkdir()
    result = Installed(wheels[0], env, outside)
    install = result.run(
        *(result.python, "-m", "pip", "install", "--no-index", "--no-deps", "--quiet"),
        *("--no-cache-dir", wheels[0]),
    )
    assert install.returncode == 0, install.stdout + install.stderr
    return result


def test_wheel_contents(installed: Installed) -> None:
    names = zipfile.ZipFile(installed.wheel).namelist()
    assert "flowql/__init__.py" in names
    assert "flowql/_tables.py" in names
    assert "flowql/py.typed" in names
    # The rules' texts, for `flowql rules CODE` and the language server's hover on a code.
    assert "flowql/_rule_texts.py" in names
    assert not [n for n in names if n.startswith(("tests/", "benchmarks/", "grammar/", "docs/"))]
    assert not [n for n in names if "/test_" in n or n.endswith((".pyc", ".lark"))]
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(installed.wheel).read(metadata).decode("utf-8")
    # No third-party dependency but tomli on Python 3.10 (3.11 has tomllib): a lint-only job
    # installs flowql alone. The client and the REPL are extras.
    requires = [
        line for line in text.split("Provides-Extra")[0].splitlines() if "Requires-Dist" in line
    ]
    assert requires == ["Requires-Dist: tomli>=1.1; python_version < '3.11'"]
    client = ["h11<1,>=0.16", "httpx<1,>=0.27", "sniffio>=1.3", "wcwidth>=0.2.6"]
    repl = [*client, "platformdirs>=4", "prompt-toolkit<4,>=3.0.43", "pygments>=2.17"]
    server = ["pygls<3,>=2.0"]
    for extra, wanted in (("client", client), ("repl", repl), ("server", server)):
        assert f"Provides-Extra: {extra}" in text
        found = sorted(
            line.split(": ", 1)[1].split(";")[0]
            for line in text.splitlines()
            if line.endswith(f"; extra == '{extra}'")
        )
        assert found == sorted(wanted), extra
    everything = {
        line.split(": ", 1)[1].split(";")[0]
        for line in text.splitlines()
        if line.endswith("; extra == 'all'")
    }
    others = {
        line.split(": ", 1)[1].split(";")[0]
        for line in text.splitlines()
        if "; extra == '" in line and not line.endswith(("'all'", "'dev'"))
    }
    assert everything == others  # `all` is every extra but dev
    # Pictures as PNG or SVG are an extra: matplotlib only with `pip install 'flowql[plot]'`.
    assert "Provides-Extra: plot" in text
    assert "Requires-Dist: matplotlib>=3.6; extra == 'plot'" in text
    # DataFrames and Parquet are extras too: pyarrow, and pandas or polars beside it.
    for extra in ("arrow", "parquet", "pandas", "polars"):
        assert f"Provides-Extra: {extra}" in text
        assert f"Requires-Dist: pyarrow>=14; extra == '{extra}'" in text
    assert "Requires-Dist: pandas>=2.0; extra == 'pandas'" in text
    assert "Requires-Dist: polars>=1.0; extra == 'polars'" in text
    # So is the sql target: sqlglot only with `pip install 'flowql[sql]'`.
    assert "Provides-Extra: sql" in text
    assert "Requires-Dist: sqlglot>=30; extra == 'sql'" in text
    # And flowql filter's default engine: duckdb (with sqlglot) with `pip install 'flowql[duckdb]'`.
    assert "Provides-Extra: duckdb" in text
    assert "Requires-Dist: duckdb>=1.1; extra == 'duckdb'" in text
    assert "Requires-Dist: sqlglot>=30; extra == 'duckdb'" in text
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    scripts = zipfile.ZipFile(installed.wheel).read(entry_points).decode("utf-8")
    assert "flowql = flowql.cli:main" in scripts
    assert "flowql = flowql.highlight:FlowQLLexer" in scripts


def test_pictures_without_the_plot_extra(installed: Installed) -> None:
    # This venv has no matplotlib: a PNG is FQ806 with the command that installs it, and an
    # HTML page (which needs no library) is written.
    probe = (
        "import datetime as dt\n"
        "from flowql.plot import PlotError, chart_of, render, save\n"
        "from flowql.results import Point, TimeSeries\n"
        "t = dt.datetime(2026, 11, 22, tzinfo=dt.timezone.utc)\n"
        "points = (Point(t, {'m_825_1': 1}), Point(t + dt.timedelta(minutes=1), {'m_825_1': 2}))\n"
        "chart = chart_of(TimeSeries(api='conviva-flow', endpoint='historical', points=points))\n"
        "try:\n"
        "    render(chart, 'png')\n"
        "except PlotError as exc:\n"
        "    print(exc.code, exc.message, '|', exc.hint)\n"
        "print(save(chart, 'chart.html'))\n"
    )
    result = installed.run(installed.python, "-c", probe)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "FQ806 PNG pictures need matplotlib, which is not installed | pip install "
        "'flowql[plot]' (or write .html, which needs nothing more)",
        "wrote a line chart of 2 values to chart.html (html)",
    ]
    assert "<svg" in (installed.outside / "chart.html").read_text("utf-8")


def test_frames_without_the_extras(installed: Installed) -> None:
    # This venv has no pyarrow: a frame or a Parquet export is FQ806 with the extra to install.
    probe = (
        "from flowql.errors import FlowQLError\n"
        "from flowql.exports import render\n"
        "from flowql.results import Rows\n"
        "rows = Rows(api='x', endpoint='y', rows=({'a': 1},))\n"
        "for make in (rows.to_pandas, lambda: render(rows, 'parquet')):\n"
        "    try:\n"
        "        make()\n"
        "    except FlowQLError as exc:\n"
        "        print(exc.code, exc.message, '|', exc.hint)\n"
        "print(render(rows, 'ndjson'), end='')\n"
    )
    result = installed.run(installed.python, "-c", probe)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "FQ806 pandas DataFrames need pandas, which is not installed | "
        "pip install 'flowql[pandas]'",
        "FQ806 Parquet files need pyarrow, which is not installed | pip install 'flowql[parquet]'",
        '{"a": 1}',
    ]


def test_sql_without_the_sql_extra(installed: Installed) -> None:
    # This venv has no sqlglot: the sql target says what to install; the others still compile.
    probe = (
        "import flowql\n"
        "try:\n"
        "    flowql.compile(\"a == 'x'\", 'sql')\n"
        "except flowql.TargetError as exc:\n"
        "    print(exc.code, exc.hint)\n"
        "print(flowql.compile(\"a == 'x'\", 'klaviyo').filter)\n"
    )
    result = installed.run(installed.python, "-c", probe)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["FQ806 pip install 'flowql[sql]'", 'equals(a,"x")']


def test_pandas_target_without_the_pandas_extra(installed: Installed) -> None:
    # This venv has no pandas: the pandas target says what to install.
    probe = (
        "import flowql\n"
        "try:\n"
        "    flowql.compile(\"a == 'x'\", 'pandas')\n"
        "except flowql.TargetError as exc:\n"
        "    print(exc.code, exc.message, '|', exc.hint)\n"
    )
    result = installed.run(installed.python, "-c", probe)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "FQ806 pandas masks need pandas, which is not installed | pip install 'flowql[pandas]'"
    ]


def test_filter_without_its_extras(installed: Installed) -> None:
    # This venv has no duckdb, sqlglot or polars: those engines are FQ806 with the extra to
    # install (exit 2), and the python engine filters a CSV file with nothing more.
    data = installed.outside / "rows.csv"
    data.write_text("name,n\nSpain,1\n50%_off,2\n", encoding="utf-8")
    argv = (installed.flowql, "filter", data.name, "--filter", "name ~~ '%'")
    for engine, extra in (("duckdb", "duckdb"), ("polars", "polars")):
        result = installed.run(*argv, "--engine", engine)
        assert result.returncode == 2, result.stderr
        assert "error[FQ806]" in result.stderr
        assert f"pip install 'flowql[{extra}]'" in result.stderr
        assert "Traceback" not in result.stderr
    result = installed.run(*argv, "--engine", "python", "--format", "csv")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "name,n\n50%_off,2\n"


def test_the_wheel_installs_with_no_third_party_package(installed: Installed) -> None:
    # Without --no-deps, from no index: pip fails if the wheel requires anything on 3.11+.
    install = installed.run(
        installed.python,
        "-m",
        "pip",
        "install",
        "--no-index",
        "--force-reinstall",
        installed.wheel,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    listing = installed.run(installed.python, "-m", "pip", "list", "--format", "json")
    names = {p["name"].lower() for p in json.loads(listing.stdout)}
    assert names - {"pip", "setuptools"} == {"flowql"}


def test_commands_without_their_extras_say_which_to_install(installed: Installed) -> None:
    # A lint-only install has no client and no REPL: those commands exit 2 with the extra.
    for argv, extra in (
        (("repl",), "repl"),
        (("server",), "server"),
        (("query", "--dry-run"), "client"),
        (("model", "pull"), "client"),
    ):
        result = installed.run(installed.flowql, *argv)
        assert result.returncode == 2, (argv, result.stdout, result.stderr)
        assert "error[FQ806]" in result.stderr, argv
        assert f"pip install 'flowql[{extra}]'" in result.stderr, argv
        assert "Traceback" not in result.stderr, argv
        assert " --> " not in result.stderr, argv  # about no file
    # The library's clients say the same, as flowql's own error.
    probe = (
        "import flowql\n"
        "try:\n"
        "    flowql.ConvivaFlowClient\n"
        "except flowql.FlowQLError as exc:\n"
        "    print(exc.code, exc.hint)\n"
    )
    result = installed.run(installed.python, "-c", probe)
    assert result.stdout == "FQ806 pip install 'flowql[client]'\n", result.stderr
    # ... and check, fmt and model show (a table) work with the standard library alone.
    (installed.outside / "a.flowql").write_text("geo_country == 'España'\n", encoding="utf-8")
    for words in (["check", "a.flowql"], ["fmt", "--check", "a.flowql"], ["model", "show"]):
        result = installed.run(installed.flowql, *words)
        assert result.returncode == 0, (words, result.stdout, result.stderr)


def test_installed_package_is_the_wheel(installed: Installed) -> None:
    result = installed.run(
        installed.python, "-c", "import flowql, sys; print(flowql.__file__); print(sys.prefix)"
    )
    assert result.returncode == 0, result.stderr
    location, prefix = result.stdout.splitlines()
    assert Path(location).resolve().is_relative_to(installed.env.resolve())
    assert not Path(location).resolve().is_relative_to(ROOT)
    assert Path(prefix).resolve() == installed.env.resolve()


def test_parse_and_format(installed: Installed) -> None:
    code = "import flowql, sys; print(flowql.format(flowql.parse(sys.argv[1])))"
    result = installed.run(installed.python, "-c", code, FILTER)
    assert result.returncode == 0, result.stderr
    assert result.stdout == CANONICAL + "\n"


def test_parse_error_in_installed_package(installed: Installed) -> None:
    code = (
        "import flowql\n"
        "try:\n"
        "    flowql.parse(\"geo_country = 'Spain'\")\n"
        "except flowql.ParseError as err:\n"
        "    print(err.code, err.line, err.column)\n"
    )
    result = installed.run(installed.python, "-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "FQ006 1 13\n"


IMPORTS = """
import sys
import flowql
import flowql.cli
flowql.format(flowql.parse("a == 1 or b in ('x', 'y')"))
flowql.tokenize("a == 1")
try:
    flowql.parse("a = 1")
except flowql.ParseError as err:
    err.render()
print(",".join(sorted({name.split(".")[0] for name in sys.modules})))
"""


def _imported(python: Path | str, cwd: Path) -> set[str]:
    result = _run([python, "-c", IMPORTS], cwd=cwd)
    assert result.returncode == 0, result.stderr
    return set(result.stdout.strip().split(","))


def test_import_is_light_in_the_installed_package(installed: Installed) -> None:
    imported = _imported(installed.python, installed.outside)
    assert "flowql" in imported
    assert imported.isdisjoint(HEAVY)


def test_import_is_light_next_to_the_development_tools(installed: Installed) -> None:
    # In the development venv every heavy package is installed, so an import would succeed
    # (and show) rather than fail.
    imported = _imported(sys.executable, installed.outside)
    assert "flowql" in imported
    assert imported.isdisjoint(HEAVY)


def test_console_script_parse(installed: Installed) -> None:
    assert installed.flowql.exists()
    result = installed.run(installed.flowql, "parse", "--expr", FILTER)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("And ")
    assert "Key geo_country" in result.stdout
    assert "String 'Spain'" in result.stdout
    assert "Number 3.5" in result.stdout


def test_console_script_parse_json(installed: Installed) -> None:
    result = installed.run(installed.flowql, "parse", "--expr", FILTER, "--format", "json")
    assert result.returncode == 0, result.stderr
    tree = json.loads(result.stdout)
    assert tree["type"] == "and"
    first = tree["operands"][0]
    assert first["key"]["name"] == "geo_country"
    assert first["value"] == {"type": "string", "value": "Spain", "span": first["value"]["span"]}


def test_console_script_reports_errors(installed: Installed) -> None:
    result = installed.run(installed.flowql, "parse", "--expr", "geo_country = 'Spain'")
    assert result.returncode == 1
    assert result.stdout == ""
    assert "FQ006" in result.stderr


def test_rules_code_explains_from_the_wheel(installed: Installed) -> None:
    # docs/ is not in the wheel: the rule texts are in the package.
    names = zipfile.ZipFile(installed.wheel).namelist()
    assert not any(n.startswith("docs/") for n in names)
    result = installed.run(installed.flowql, "rules", "FQ301")
    assert result.returncode == 0, result.stderr
    expected = (ROOT / "tests" / "snapshots" / "rules.FQ301.txt").read_text(encoding="utf-8")
    assert result.stdout == expected
    sarif = installed.run(
        installed.flowql,
        "check",
        "--format",
        "sarif",
        "--expr",
        "geo_country == 'Spain' AND geo_country == 'France'",
    )
    assert sarif.returncode == 1
    (rule,) = json.loads(sarif.stdout)["runs"][0]["tool"]["driver"]["rules"]
    assert rule["helpUri"].endswith("/docs/rules/logic.md#fq301-contradiction")


def test_python_dash_m(installed: Installed) -> None:
    result = installed.run(installed.python, "-m", "flowql", "parse", "--expr", "a == 1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Comparison ")
