"""Configuration: discovery, keys, merging with flags, errors and exclude patterns."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from flowql.checker.config import (
    DEFAULT_INCLUDE,
    Config,
    ConfigError,
    describe,
    find_config,
    load_config,
    resolve_config,
)
from flowql.errors import FlowQLError


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# --- discovery ----------------------------------------------------------------------------------


def test_no_configuration_gives_the_defaults(tmp_path: Path) -> None:
    config = find_config(str(tmp_path))
    if config.path is not None:  # pragma: no cover - a flowql configuration above tmp
        assert not config.path.startswith(str(tmp_path))
        return
    assert config == Config()
    assert (config.url_limit, config.line_length, config.strict) == (4096, 88, False)
    assert (config.select, config.ignore, config.exclude) == ((), (), ())
    assert config.model is config.target is config.flow is config.endpoint is None


def test_the_nearest_file_wins(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool.flowql]\nflow = 'outer'\n")
    write(tmp_path / "a" / "flowql.toml", "flow = 'middle'\n")
    write(tmp_path / "a" / "b" / "pyproject.toml", "[tool.flowql]\nflow = 'inner'\n")
    (tmp_path / "a" / "b" / "c").mkdir()
    assert find_config(str(tmp_path / "a" / "b" / "c")).flow == "inner"
    assert find_config(str(tmp_path / "a")).flow == "middle"
    assert find_config(str(tmp_path)).flow == "outer"
    found = find_config(str(tmp_path / "a" / "b" / "c"))
    assert found.path == str(tmp_path / "a" / "b" / "pyproject.toml")


def test_flowql_toml_beats_pyproject_in_the_same_directory(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool.flowql]\nflow = 'pyproject'\n")
    write(tmp_path / "flowql.toml", "flow = 'flowql'\n")
    assert find_config(str(tmp_path)).flow == "flowql"


def test_pyproject_without_the_table_is_skipped(tmp_path: Path) -> None:
    write(tmp_path / "flowql.toml", "target = 'conviva-flow'\n")
    write(tmp_path / "x" / "pyproject.toml", "[project]\nname = 'x'\n")
    write(tmp_path / "y" / "pyproject.toml", "[project]\nname = 'flowql-queries'\n")
    write(tmp_path / "z" / "pyproject.toml", "[tool.other]\nflowql = 1\n")
    for sub in ("x", "y", "z"):
        assert find_config(str(tmp_path / sub)).path == str(tmp_path / "flowql.toml")


def test_start_may_be_a_file(tmp_path: Path) -> None:
    write(tmp_path / "flowql.toml", "flow = '825'\n")
    file = write(tmp_path / "f" / "a.flowql", "a == 'x'\n")
    assert find_config(str(file)).flow == "825"


def test_load_config_reads_one_file(tmp_path: Path) -> None:
    path = write(tmp_path / "custom.toml", "flow = '142'\n")
    assert load_config(str(path)).flow == "142"
    empty = write(tmp_path / "pyproject.toml", "[project]\nname = 'x'\n")
    assert load_config(str(empty)) == Config(path=str(empty))
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(str(tmp_path / "missing.toml"))


# --- keys ---------------------------------------------------------------------------------------


def test_every_key_in_kebab_case(tmp_path: Path) -> None:
    path = write(
        tmp_path / "pyproject.toml",
        """
[project]
name = "analytics"

[tool.flowql]
model = "models/conviva.json"
target = "conviva-flow"
flow = "825"
endpoint = "historical"
url-limit = 8192
select = ["FQ1", "fq301"]
ignore = ["FQ4"]
exclude = ["examples/broken/**", "*.tmp.flowql"]
line-length = 100
strict = true
""",
    )
    config = find_config(str(tmp_path))
    assert config == Config(
        model=str(tmp_path / "models" / "conviva.json"),
        target="conviva-flow",
        flow="825",
        endpoint="historical",
        url_limit=8192,
        select=("FQ1", "FQ301"),
        ignore=("FQ4",),
        exclude=("examples/broken/**", "*.tmp.flowql"),
        line_length=100,
        strict=True,
        path=str(path),
    )


def test_snake_case_and_dotted_keys(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool]\nflowql.url_limit = 2000\nflowql.line_length = 70\n")
    config = find_config(str(tmp_path))
    assert (config.url_limit, config.line_length) == (2000, 70)


def test_absolute_model_path_is_kept(tmp_path: Path) -> None:
    model = str(tmp_path / "elsewhere" / "m.json")
    write(tmp_path / "flowql.toml", f"model = '{model}'\n")
    assert find_config(str(tmp_path)).model == model


def test_config_is_immutable_and_has_a_useful_repr() -> None:
    config = Config(flow="825")
    with pytest.raises(AttributeError):
        config.flow = "142"
    assert repr(config) == "Config(flow='825')"
    assert hash(config) == hash(Config(flow="825"))


# --- merging with command-line flags ----------------------------------------------------------


def test_flags_win_and_none_means_not_given() -> None:
    config = Config(flow="825", url_limit=2000, ignore=("FQ4",), path="/p/pyproject.toml")
    merged = config.merged(flow="142", url_limit=None, select=("FQ1",), strict=None, model=None)
    assert merged.flow == "142"
    assert merged.url_limit == 2000
    assert merged.select == ("FQ1",)
    assert merged.ignore == ("FQ4",)
    assert merged.strict is False
    assert merged.path == "/p/pyproject.toml"
    assert config.flow == "825"
    assert config.merged() == config
    with pytest.raises(TypeError, match="no setting 'flwo'"):
        config.merged(flwo="1")


def test_selects() -> None:
    assert Config().selects("FQ101")
    config = Config(select=("FQ1", "FQ4"), ignore=("FQ402",))
    assert config.selects("FQ101")
    assert config.selects("fq401")
    assert not config.selects("FQ402")
    assert not config.selects("FQ301")


# --- errors -------------------------------------------------------------------------------------


def problems(tmp_path: Path, name: str, text: str) -> list[tuple[str, str | None, str]]:
    path = write(tmp_path / name, text)
    with pytest.raises(ConfigError) as info:
        load_config(str(path))
    error = info.value
    assert isinstance(error, FlowQLError)
    assert error.path == str(path)
    assert error.source == text
    out = []
    for d in error.diagnostics:
        assert d.code == "FQ803"
        found = text[d.span.start : d.span.end] if d.span else ""
        out.append((d.message, d.hint, found))
    return out


def test_unknown_keys_and_wrong_types_with_positions(tmp_path: Path) -> None:
    text = """[tool.flowql]
url-limt = 100
line_length = "88"
strict = "yes"
select = "FQ1"
ignore = ["FQ4", "unknown-key", "E501"]
flow = 825
model = ""
url-limit = 0
exclude = [1]
"""
    assert problems(tmp_path, "pyproject.toml", text) == [
        (
            "unknown setting 'url-limt' in [tool.flowql]",
            "did you mean 'url-limit'?",
            "url-limt",
        ),
        (
            "'line_length' in [tool.flowql] must be a positive whole number, not a string",
            "for example: line_length = 88",
            '"88"',
        ),
        (
            "'strict' in [tool.flowql] must be true or false, not a string",
            "for example: strict = true",
            '"yes"',
        ),
        (
            "'select' in [tool.flowql] must be an array of strings, not a string",
            'for example: select = ["FQ4"]',
            '"FQ1"',
        ),
        (
            "'unknown-key' in ignore is not a flowql code or code prefix",
            "'unknown-key' is the name of FQ101: write 'FQ101'",
            '"unknown-key"',
        ),
        (
            "'E501' in ignore is not a flowql code or code prefix",
            "codes look like FQ101; prefixes like FQ1 name a family",
            '"E501"',
        ),
        (
            "'flow' in [tool.flowql] must be a non-empty string, not an integer",
            'for example: flow = "825"',
            "825",
        ),
        (
            "'model' in [tool.flowql] must be a non-empty string, empty",
            'for example: model = "conviva-model.json"',
            '""',
        ),
        (
            "'url-limit' in [tool.flowql] must be a positive whole number, not an integer",
            "for example: url-limit = 4096",
            "0",
        ),
        (
            "'exclude' in [tool.flowql] must be an array of strings, not an array",
            'for example: exclude = ["examples/broken/**"]',
            "[1]",
        ),
    ]


def test_both_spellings_of_a_key(tmp_path: Path) -> None:
    assert problems(tmp_path, "flowql.toml", "url-limit = 1\nurl_limit = 2\n") == [
        ("'url_limit' repeats 'url-limit' in flowql.toml", "keep one of them", "url_limit"),
    ]


def test_unknown_code_did_you_mean(tmp_path: Path) -> None:
    assert problems(tmp_path, "flowql.toml", "select = ['FQ999']\n") == [
        (
            "'FQ999' in select is not a flowql code or code prefix",
            "did you mean 'FQ901'?",
            "'FQ999'",
        ),
    ]


def test_a_flowql_toml_takes_top_level_keys_only(tmp_path: Path) -> None:
    assert problems(tmp_path, "flowql.toml", "[tool.flowql]\nflow = '825'\n") == [
        (
            "unknown setting 'tool' in flowql.toml",
            "the settings are model, target, flow, endpoint, klaviyo-revision, url-limit, "
            "select, ignore, include, exclude, line-length, strict",
            "[tool.flowql]",
        ),
    ]


def test_invalid_toml(tmp_path: Path) -> None:
    path = write(tmp_path / "pyproject.toml", "[tool.flowql]\nflow = \n")
    with pytest.raises(ConfigError) as info:
        find_config(str(tmp_path))
    assert info.value.message == "pyproject.toml is not valid TOML: Invalid value"
    assert (info.value.line, info.value.column) == (2, 8)
    assert info.value.path == str(path)


def test_tool_flowql_must_be_a_table(tmp_path: Path) -> None:
    assert problems(tmp_path, "pyproject.toml", "[tool]\nflowql = 1\n") == [
        ("[tool.flowql] must be a table", None, "1"),
    ]


# --- exclude ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "path", "excluded"),
    [
        ("examples/broken/**", "examples/broken/a.flowql", True),
        ("examples/broken/**", "examples/broken/deep/b.flowql", True),
        ("examples/broken/**", "examples/ok/a.flowql", False),
        ("examples/broken/**", "other/examples/broken/a.flowql", False),
        ("examples/broken", "examples/broken/a.flowql", True),
        ("*.tmp.flowql", "a.tmp.flowql", True),
        ("*.tmp.flowql", "deep/down/a.tmp.flowql", True),
        ("*.tmp.flowql", "a.flowql", False),
        ("drafts", "x/drafts/y/a.flowql", True),
        ("drafts/", "x/drafts/y/a.flowql", True),
        ("drafts/", "x/drafts", False),
        ("**/generated/*.toml", "a/b/generated/q.toml", True),
        ("**/generated/*.toml", "generated/q.toml", True),
        ("**/generated/*.toml", "generated/sub/q.toml", False),
        ("/top.flowql", "top.flowql", True),
        ("/top.flowql", "sub/top.flowql", False),
        ("q?.toml", "q1.toml", True),
        ("q?.toml", "q12.toml", False),
        ("q[0-9].toml", "q7.toml", True),
        ("q[!0-9].toml", "q7.toml", False),
        ("q[!0-9].toml", "qa.toml", True),
        ("a*b", "a/b", False),
    ],
)
def test_exclude_patterns(tmp_path: Path, pattern: str, path: str, excluded: bool) -> None:
    config = Config(exclude=(pattern,), path=str(tmp_path / "pyproject.toml"))
    assert config.is_excluded(str(tmp_path / path)) is excluded


def test_exclude_is_relative_to_the_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "repo" / "flowql.toml", "exclude = ['examples/broken/**']\n")
    (tmp_path / "repo" / "examples").mkdir()
    config = find_config(str(tmp_path / "repo" / "examples"))
    monkeypatch.chdir(tmp_path / "repo" / "examples")
    assert config.root == str(tmp_path / "repo")
    assert config.is_excluded("broken/a.flowql")
    assert config.is_excluded(os.path.join("..", "examples", "broken", "a.flowql"))
    assert not config.is_excluded("a.flowql")


def test_exclude_without_a_file_is_relative_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    config = Config(exclude=("build/**",))
    assert config.is_excluded("build/x.flowql")
    assert not config.is_excluded("src/build.flowql")
    assert not Config().is_excluded("anything")


def test_directories_only_pattern_matches_an_existing_directory(tmp_path: Path) -> None:
    (tmp_path / "drafts").mkdir()
    config = Config(exclude=("drafts/",), path=str(tmp_path / "flowql.toml"))
    assert config.is_excluded(str(tmp_path / "drafts"))


# --- include patterns and walking a directory ---------------------------------------------------


def test_include_defaults_to_filters_and_manifests(tmp_path: Path) -> None:
    config = Config(path=str(tmp_path / "flowql.toml"))
    assert config.include == DEFAULT_INCLUDE == ("*.flowql", "*.toml")
    assert config.is_included(str(tmp_path / "deep" / "a.flowql"))
    assert config.is_included(str(tmp_path / "q.toml"))
    assert not config.is_included(str(tmp_path / "notes.txt"))
    assert not config.is_included(str(tmp_path / "a.flowql.bak"))


@pytest.mark.parametrize(
    ("pattern", "path", "included"),
    [
        ("*.fql", "a.fql", True),
        ("*.fql", "deep/down/a.fql", True),
        ("*.fql", "a.flowql", False),
        ("filters/*.fql", "filters/a.fql", True),
        ("filters/*.fql", "filters/deep/a.fql", False),
        ("filters/*.fql", "other/filters/a.fql", False),
        ("filters/**/*.fql", "filters/deep/a.fql", True),
        ("**/q[0-9].toml", "a/b/q1.toml", True),
        ("/top.flowql", "top.flowql", True),
        ("/top.flowql", "sub/top.flowql", False),
    ],
)
def test_include_patterns(tmp_path: Path, pattern: str, path: str, included: bool) -> None:
    config = Config(include=(pattern,), path=str(tmp_path / "flowql.toml"))
    assert config.is_included(str(tmp_path / path)) is included


def test_include_is_read_and_checked(tmp_path: Path) -> None:
    path = write(tmp_path / "flowql.toml", "include = ['*.fql', 'queries/**/*.toml']\n")
    assert load_config(str(path)).include == ("*.fql", "queries/**/*.toml")
    assert problems(tmp_path, "flowql.toml", "include = []\n") == [
        (
            "'include' in flowql.toml is empty: no file would be taken from a directory",
            """for example: include = ["*.flowql", "*.toml"], or leave it out for that default""",
            "[]",
        )
    ]
    assert problems(tmp_path, "flowql.toml", "include = ['*.fql', 'filters/', '']\n") == [
        (
            "'filters/' in include names directories, but include takes files",
            "to take every filter below it, write 'filters/**/*.flowql'",
            "'filters/'",
        ),
        (
            "'' in include is empty",
            """for example: include = ["*.flowql", "*.toml"]""",
            "''",
        ),
    ]
    assert problems(tmp_path, "flowql.toml", "include = '*.fql'\n")[0][0] == (
        "'include' in flowql.toml must be an array of strings, not a string"
    )


def test_files_under_applies_include_exclude_and_skips_what_is_never_a_filter(
    tmp_path: Path,
) -> None:
    for name in (
        "a.flowql",
        "q.toml",
        "pyproject.toml",
        "flowql.toml",
        "notes.txt",
        "sub/b.flowql",
        "sub/drafts/c.flowql",
        ".hidden/d.flowql",
        "sub/e.fql",
    ):
        write(tmp_path / name, "a == 1\n")
    config = Config(exclude=("drafts",), path=str(tmp_path / "flowql.toml"))
    found = [os.path.relpath(p, tmp_path) for p in config.files_under(str(tmp_path))]
    assert found == ["a.flowql", "q.toml", os.path.join("sub", "b.flowql")]
    # fmt does not take manifests: a TOML file is never a filter.
    found = config.files_under(str(tmp_path), manifests=False)
    assert [os.path.relpath(p, tmp_path) for p in found] == [
        "a.flowql",
        os.path.join("sub", "b.flowql"),
    ]
    other = Config(include=("*.fql", "*.toml"), path=str(tmp_path / "flowql.toml"))
    found = other.files_under(str(tmp_path), manifests=False)
    assert [os.path.relpath(p, tmp_path) for p in found] == [os.path.join("sub", "e.fql")]


def test_resolve_config_reads_the_given_file_or_searches(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool.flowql]\nline-length = 70\n")
    other = write(tmp_path / "ci" / "settings.toml", "line-length = 30\n")
    (tmp_path / "sub").mkdir()
    assert resolve_config(None, str(tmp_path / "sub")).line_length == 70
    assert resolve_config(str(other), str(tmp_path / "sub")).line_length == 30
    with pytest.raises(ConfigError):
        resolve_config(str(tmp_path / "missing.toml"), str(tmp_path))


def test_describe_lists_every_setting_in_order(tmp_path: Path) -> None:
    config = Config(
        target="klaviyo-flow-report",
        select=("FQ1",),
        exclude=('we"ird',),
        strict=True,
        path=str(tmp_path / "flowql.toml"),
    )
    assert describe(config).splitlines() == [
        f"config file: {tmp_path / 'flowql.toml'}",
        f"patterns relative to: {tmp_path}",
        "model = none (the built-in demo model)",
        'target = "klaviyo-flow-report"',
        "flow = none (keys of any flow)",
        "endpoint = none",
        "klaviyo-revision = none (the newest revision flowql holds the spec of)",
        "url-limit = 4096",
        'select = ["FQ1"]',
        "ignore = []",
        'include = ["*.flowql", "*.toml"]',
        'exclude = ["we\\"ird"]',
        "line-length = 88",
        "strict = true",
    ]
    assert describe(Config()).startswith("config file: none found; the defaults apply\n")
