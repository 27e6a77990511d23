"""Pictures of results (flowql.plot): what a chart of each kind of result shows, the terminal
drawing, the PNG checked pixel by pixel, the SVG's text, the HTML page opened in a real headless
Chromium, ``flowql query --plot`` and ``--plot-file``, and the REPL's ``:plot``.

Chromium comes from Debian (``.ci/run`` installs it, as it does tmux); the test that needs it
fails, saying so, when it is missing.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from flowql.cli import main
from flowql.plot import Chart, PlotError, Series, chart_of, render, save, text_chart
from flowql.plot.chart import COLORS, y_range
from flowql.plot.image import AXES
from flowql.repl.commands import execute
from flowql.repl.session import Session
from flowql.results import (
    DimensionalRow,
    DimensionalRows,
    Point,
    ReportRow,
    ReportRows,
    Rows,
    Sessions,
    TimeSeries,
)

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
CHROMIUM = "/usr/bin/chromium"
CREDENTIALS = ("CONVIVA_CLIENT_ID", "CONVIVA_CLIENT_SECRET", "KLAVIYO_API_KEY", "FLOWXO_API_KEY")


@pytest.fixture(autouse=True)
def no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in CREDENTIALS:
        monkeypatch.delenv(name, raising=False)


def series_result(values: list[float], minutes: int = 10) -> TimeSeries:
    points = tuple(
        Point(
            T0 + dt.timedelta(minutes=minutes * i),
            {"m_825_1": v, "m_825_2": 0.5 + i / 10, "m_825_3": v + 5, "m_825_1_percentage": 50.0},
        )
        for i, v in enumerate(values)
    )
    return TimeSeries(api="conviva-flow", endpoint="historical", points=points)


def grouped(windows: int = 1) -> DimensionalRows:
    rows = []
    for w in range(windows):
        when = T0 + dt.timedelta(hours=w)
        for country, count in (("Spain", 115), ("United States", 78), ("France", 12)):
            rows.append(
                DimensionalRow(country, {"m_825_1": count + w, "m_825_2": 0.4}, timestamp=when)
            )
    return DimensionalRows(
        api="conviva-flow", endpoint="historical", dimension="geo_country", rows=tuple(rows)
    )


# --- what a chart shows ---------------------------------------------------------------------------


def test_a_time_series_is_lines_of_the_first_metrics_unit_with_labels() -> None:
    chart = chart_of(series_result([10, 50, 20]))
    assert chart.kind == "line"
    assert [s.key for s in chart.series] == ["m_825_1", "m_825_3"]  # both counts
    assert [s.label for s in chart.series] == [
        "Login Process Complete (count)",
        "Login Process Init (count)",
    ]
    assert chart.y_label == "count"
    assert chart.unit == "count"
    assert chart.x_label == "time (UTC)"
    assert chart.title == ("conviva-flow historical, 2026-11-22T10:00:00Z to 2026-11-22T10:20:00Z")
    assert chart.series[0].y == (10.0, 50.0, 20.0)
    assert chart.series[0].x[1] == T0 + dt.timedelta(minutes=10)
    # What was left out is said, with each metric's unit.
    assert chart.notes == (
        "not drawn: m_825_2 (sec), m_825_1_percentage (%) (name a metric to draw it)",
    )


def test_chosen_metrics_are_drawn_and_must_share_a_unit() -> None:
    chart = chart_of(series_result([1, 2]), metrics=["m_825_2"])
    assert [s.key for s in chart.series] == ["m_825_2"]
    assert chart.y_label == "Login Process Duration (sec)"
    assert chart.notes == ()
    with pytest.raises(PlotError) as caught:
        chart_of(series_result([1, 2]), metrics=["m_825_1", "m_825_2"])
    assert caught.value.code == "FQ805"
    assert caught.value.message == "one chart has one unit: m_825_1 is count, m_825_2 is sec"


def test_an_unknown_metric_or_kind_gets_a_did_you_mean() -> None:
    with pytest.raises(PlotError) as caught:
        chart_of(series_result([1, 2]), metrics=["m825_1"])
    assert caught.value.message == "'m825_1' is not a metric of this result"
    assert caught.value.hint == "did you mean 'm_825_1'?"
    with pytest.raises(PlotError) as caught:
        chart_of(series_result([1, 2]), kind="bars")
    assert caught.value.message == "'bars' is not a kind of plot"
    assert caught.value.hint == "did you mean 'bar'?"


def test_what_cannot_be_plotted_says_why() -> None:
    with pytest.raises(PlotError, match="sessions cannot be plotted: they are single records"):
        chart_of(Sessions(api="conviva-sessions", endpoint="content", sessions=({"a": 1},)))
    with pytest.raises(PlotError, match="a bar chart needs one value per group, and a time"):
        chart_of(series_result([1, 2]), kind="bar")
    with pytest.raises(PlotError, match=r"the result holds no numbers to plot \(it has no rows\)"):
        chart_of(TimeSeries(api="conviva-flow", endpoint="historical"))
    with pytest.raises(PlotError, match="each geo_country comes 2 times"):
        chart_of(grouped(windows=2), kind="bar")


def test_a_grouped_result_is_bars_largest_first_or_lines_over_windows() -> None:
    bars = chart_of(grouped())
    assert bars.kind == "bar"
    assert bars.categories == ("Spain", "United States", "France")
    assert bars.values == (115.0, 78.0, 12.0)
    assert bars.title == "Login Process Complete (count) by geo_country"
    assert bars.unit == "count"
    lines = chart_of(grouped(windows=3))
    assert lines.kind == "line"
    assert [s.key for s in lines.series] == ["Spain", "United States", "France"]
    assert lines.series[0].y == (115.0, 116.0, 117.0)
    assert lines.y_label == "Login Process Complete (count)"


def test_klaviyo_reports_and_plain_rows_are_bars() -> None:
    report = ReportRows(
        api="klaviyo",
        endpoint="flow-values",
        rows=(
            ReportRow({"flow_id": "A"}, {"opens": 3, "open_rate": 0.3}),
            ReportRow({"flow_id": "B"}, {"opens": 9, "open_rate": 0.5}),
        ),
    )
    chart = chart_of(report, metrics=["opens"])
    assert (chart.kind, chart.categories, chart.values) == ("bar", ("B", "A"), (9.0, 3.0))
    series = ReportRows(
        api="klaviyo",
        endpoint="flow-series",
        rows=(ReportRow({"flow_id": "A"}, {"opens": [1, 4]}),),
        date_times=("2026-11-01T00:00:00+00:00", "2026-11-02T00:00:00+00:00"),
    )
    line = chart_of(series)
    assert line.kind == "line"
    assert line.series[0].y == (1.0, 4.0)
    assert line.series[0].x[1] == dt.datetime(2026, 11, 2, tzinfo=UTC)
    rows = Rows(api="flowxo", endpoint="top-flows", rows=({"name": "x", "count": 2},))
    assert chart_of(rows).categories == ("x",)


# --- the terminal --------------------------------------------------------------------------------


def test_one_series_is_braille_dots_where_the_data_puts_them() -> None:
    values = [0.0, 100.0]  # from the bottom left to the top right
    chart = chart_of(series_result(values), metrics=["m_825_1"])
    text = text_chart(chart, width=60, height=10)
    lines = text.splitlines()
    assert " ".join(lines[:2]) == chart.title  # wrapped, not cut
    del lines[0]
    assert lines[1].strip() == "Login Process Complete (count)"
    plot = [line for line in lines if re.match(r"^\s*[\d.]*\s[┤│]", line)]
    assert len(plot) == 10
    _low, high = y_range(values)
    assert plot[0].split()[0] == f"{high:g}"
    assert plot[-1].split()[0] == "0"
    gutter = plot[0].index("┤") + 1
    top, bottom = plot[0][gutter:], plot[-1][gutter:]
    # The last point (the largest value) is in the top row near the right, the first in the
    # bottom row at the left: every cell is a Braille character.
    assert top.rstrip()[-1] != " "
    assert top.strip()
    assert top.index(top.strip()[0]) > 40
    assert bottom[0] != " "
    assert all(0x2800 <= ord(c) <= 0x28FF for line in plot for c in line[gutter:] if c != " ")
    assert "2026-11-22 10:00" in text
    assert "10:10" in text
    assert "time (UTC)" in text


def test_several_series_get_marks_and_a_legend() -> None:
    text = text_chart(chart_of(series_result([10, 50, 20])), width=70)
    assert "  * Login Process Complete (count)" in text
    assert "  + Login Process Init (count)" in text
    assert "note: not drawn: m_825_2 (sec)" in text
    assert all(len(line) <= 70 for line in text.splitlines())


def test_bars_are_as_long_as_their_values() -> None:
    text = text_chart(chart_of(grouped()), width=80)
    bars = {
        line.split("│")[0].strip(): line.split("│")[1] for line in text.splitlines() if "│" in line
    }
    assert list(bars) == ["Spain", "United States", "France"]
    full = bars["Spain"].count("█")
    assert bars["Spain"].rstrip().endswith("115 count")
    assert abs(bars["United States"].count("█") - full * 78 / 115) <= 1
    assert abs(bars["France"].count("█") - full * 12 / 115) <= 1


# --- files ---------------------------------------------------------------------------------------

KNOWN = [10.0, 50.0, 20.0, 80.0, 40.0, 100.0, 60.0]


def known_chart() -> Chart:
    x = tuple(T0 + dt.timedelta(minutes=10 * i) for i in range(len(KNOWN)))
    return Chart(
        "line",
        "Logins over an hour",
        "time (UTC)",
        "Logins (count)",
        "count",
        series=(Series("m", "Logins", x, tuple(KNOWN)),),
    )


def _near(image: Image.Image, x: float, y: float, color: str, radius: int = 2) -> bool:
    """Whether a pixel within ``radius`` of (x, y) has ``color`` (anti-aliasing aside)."""
    want = tuple(int(color[i : i + 2], 16) for i in (1, 3, 5))
    for dx in range(-radius, radius + 1):
        for dy in range(-radius, radius + 1):
            pixel = image.getpixel((round(x) + dx, round(y) + dy))
            assert isinstance(pixel, tuple)
            if all(abs(a - b) <= 40 for a, b in zip(pixel[:3], want, strict=True)):
                return True
    return False


def test_the_png_line_is_where_the_data_puts_it() -> None:
    width, height = 800, 400
    image = Image.open(io.BytesIO(render(known_chart(), "png", size=(width, height))))
    assert image.format == "PNG"
    assert image.size == (width, height)
    assert image.info["Title"] == "Logins over an hour"
    rgb = image.convert("RGB")
    left, bottom, box_w, box_h = AXES
    low, high = y_range(KNOWN)

    def place(i: float, value: float) -> tuple[float, float]:
        x = (left + i / (len(KNOWN) - 1) * box_w) * width
        y = height - (bottom + (value - low) / (high - low) * box_h) * height
        return x, y

    blue = COLORS[0]
    for i in range(1, len(KNOWN) - 1):  # the ends sit on the frame
        assert _near(rgb, *place(i, KNOWN[i]), blue), f"point {i} is not drawn where it should be"
        # Half-way to the next point, the line is at the mean of the two values.
        middle = (KNOWN[i] + KNOWN[i + 1]) / 2
        assert _near(rgb, *place(i + 0.5, middle), blue), f"the line after point {i} is off"
        # Far from the line, no blue.
        away = KNOWN[i] + 25 if KNOWN[i] + 25 < high else KNOWN[i] - 25
        assert not _near(rgb, *place(i, away), blue), f"blue where no value is, near point {i}"
    # The title above the plot area and the axis labels beside and under it are drawn (ink),
    # and the SVG of the same chart holds them as text.
    top_band = [rgb.getpixel((x, y)) for x in range(250, 550) for y in range(5, 40)]
    assert any(p != (255, 255, 255) for p in top_band)
    y_label_band = [rgb.getpixel((x, y)) for x in range(30) for y in range(150, 250)]
    assert any(p != (255, 255, 255) for p in y_label_band)
    x_label_band = [rgb.getpixel((x, y)) for x in range(300, 500) for y in range(370, 398)]
    assert any(p != (255, 255, 255) for p in x_label_band)
    svg = render(known_chart(), "svg", size=(width, height)).decode("utf-8")
    for text in ("Logins over an hour", "time (UTC)", "Logins (count)"):
        assert re.search(rf"<text[^>]*>{re.escape(text)}</text>", svg), text
    assert svg == render(known_chart(), "svg", size=(width, height)).decode("utf-8")


def test_bars_as_png_are_as_long_as_their_values() -> None:
    image = Image.open(io.BytesIO(render(chart_of(grouped()), "png", size=(800, 400))))
    rgb = image.convert("RGB")
    lengths = []
    for row in (108, 200, 292):  # the middle of each of the three bars, top to bottom
        blue = [x for x in range(800) if _near(rgb, x, row, COLORS[0], radius=0)]
        assert blue, f"no bar at row {row}"
        lengths.append(max(blue) - min(blue))
    assert lengths[0] > lengths[1] > lengths[2]
    assert abs(lengths[1] / lengths[0] - 78 / 115) < 0.03


def _chromium(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (.ci/run does)")
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            f"--user-data-dir={cwd / 'profile'}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=cwd,
    )


def test_the_html_page_opens_in_a_real_browser_with_every_point(tmp_path: Path) -> None:
    path = tmp_path / "chart.html"
    assert save(known_chart(), str(path)) == (f"wrote a line chart of 7 values to {path} (html)")
    page = path.read_text("utf-8")
    # Self-contained: nothing to fetch, and a policy that forbids fetching.
    assert "default-src 'none'" in page
    assert not re.search(r"<(script|link|img|iframe)\b|\b(src|href)=", page)
    dom = _chromium("--dump-dom", path.as_uri(), cwd=tmp_path)
    assert dom.returncode == 0, dom.stderr
    points = re.findall(r'<circle class="point"[^>]*data-x="([^"]+)" data-y="([^"]+)"', dom.stdout)
    assert points == [
        (f"2026-11-22T10:{10 * i:02d}:00Z" if i < 6 else "2026-11-22T11:00:00Z", repr(v))
        for i, v in enumerate(KNOWN)
    ]
    assert "<title>Logins over an hour</title>" in dom.stdout
    shot = tmp_path / "shot.png"
    done = _chromium(f"--screenshot={shot}", "--window-size=1000,600", path.as_uri(), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    image = Image.open(shot).convert("RGB")
    assert image.size == (1000, 600)
    data = image.tobytes()
    pixels = (tuple(data[i : i + 3]) for i in range(0, len(data), 3))
    assert sum(1 for p in pixels if _close(p, COLORS[0])) > 500  # the line, drawn


def _close(pixel: tuple[int, ...], color: str) -> bool:
    want = tuple(int(color[i : i + 2], 16) for i in (1, 3, 5))
    return all(abs(a - b) <= 40 for a, b in zip(pixel[:3], want, strict=True))


def test_a_file_is_never_overwritten_nor_left_half_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "chart.svg"
    path.write_text("mine")
    with pytest.raises(PlotError, match="exists: it was left as it is"):
        save(known_chart(), str(path))
    assert path.read_text() == "mine"
    save(known_chart(), str(path), force=True)
    assert path.read_text().startswith("<?xml")
    # A drawing that fails half-way leaves nothing behind.
    import flowql.plot.image

    def broken(*args: object, **kwargs: object) -> bytes:
        raise PlotError(flowql.plot.chart.plot_error("drawing failed").diagnostic)

    monkeypatch.setattr(flowql.plot.image, "draw", broken)
    with pytest.raises(PlotError):
        save(known_chart(), str(tmp_path / "new.png"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chart.svg"]


def test_an_unknown_file_type_gets_a_did_you_mean() -> None:
    with pytest.raises(PlotError) as caught:
        save(known_chart(), "chart.pgn")
    assert caught.value.message == "'.pgn' is not a kind of picture flowql writes"
    assert caught.value.hint == "did you mean 'png'? name it .png, .svg or .html"


def test_without_matplotlib_png_is_a_flowql_error_with_a_hint(tmp_path: Path) -> None:
    probe = (
        "import sys\n"
        "sys.modules['matplotlib'] = None  # as if it were not installed\n"
        "from flowql.cli import main\n"
        f"code = main(['query', 'conviva-flow', 'real-time', '--flow', '825', "
        f"'--plot-file', {str(tmp_path / 'c.png')!r}])\n"
        "print('exit', code)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in CREDENTIALS}
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=False
    )
    assert done.stdout.splitlines()[-1] == "exit 1", done.stderr
    assert "Traceback" not in done.stderr
    assert "error[FQ806]: PNG pictures need matplotlib, which is not installed" in done.stderr
    assert "pip install 'flowql[plot]'" in done.stderr
    assert not (tmp_path / "c.png").exists()


def test_check_never_imports_the_plotting_code(tmp_path: Path) -> None:
    probe = (
        "import sys\n"
        "from flowql.cli import main\n"
        "code = main(['check', '--flow', '825', '--expr', \"geo_country == 'Spain'\"])\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('matplotlib', 'PIL', "
        "'numpy') or m.startswith('flowql.plot')), code)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert done.stdout.splitlines()[-1] == "[] 0"


# --- the command line ----------------------------------------------------------------------------


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


QUERY = ("query", "conviva-flow", "historical", "--flow", "825", "--start=-1h", "--end=now")


def test_query_plot_draws_in_place_of_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, *QUERY, "--plot", "--plot-metric", "m_825_1")
    assert code == 0, err
    assert out.startswith("conviva-flow historical, ")
    assert "Login Process Complete (count)" in out
    assert "timestamp" not in out  # no table
    assert any(0x2800 < ord(c) <= 0x28FF for c in out)


def test_query_plot_file_writes_the_picture_beside_the_table(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "grouped.html"
    code, out, err = run(capsys, *QUERY, "--group-by", "geo_country", "--plot-file", str(path))
    assert code == 0, err
    assert out.startswith("geo_country")  # the table, as without --plot-file
    assert "flowql: wrote a bar chart of " in err
    assert '<rect class="bar"' in path.read_text("utf-8")
    # Written again: refused before anything is fetched, the file left as it is.
    before = path.read_bytes()
    code, out, err = run(capsys, *QUERY, "--plot-file", str(path))
    assert (code, out) == (2, "")
    assert "error[FQ805]: '" in err
    assert "' exists: it was left as it is" in err
    assert "sandbox" not in err
    assert path.read_bytes() == before
    code, out, err = run(capsys, *QUERY, "--plot-file", str(path), "--force")
    assert code == 0, err
    assert '<circle class="point"' in path.read_text("utf-8")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--plot", "--plot-kind", "bars"], "error[FQ805]: 'bars' is not a kind of plot"),
        (["--plot", "--plot-kind", "bars"], "help: did you mean 'bar'?"),
        (["--plot-file", "c.jpeg"], "error[FQ805]: '.jpeg' is not a kind of picture"),
        (["--plot", "--format", "json"], "--plot draws in place of the table"),
        (["--plot-metric", "m_825_1"], "--plot-metric goes with --plot or --plot-file"),
        (["--plot", "--dry-run"], "a picture is of a result, and --dry-run fetches none"),
    ],
)
def test_query_plot_usage_errors(
    capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    code, out, err = run(capsys, *QUERY, *extra)
    assert (code, out) == (2, "")
    assert message in err


def test_query_plot_of_sessions_says_why(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, "query", "conviva-sessions", "content", "--start=-1h", "--end=now", "--plot"
    )
    assert code == 1
    assert out == ""
    assert "error[FQ805]: sessions cannot be plotted: they are single records" in err


# --- the REPL ------------------------------------------------------------------------------------


def test_repl_plot_draws_the_last_result_and_writes_files(tmp_path: Path) -> None:
    session = Session()
    session.width = 72
    with pytest.raises(Exception, match="there is no result to plot yet"):
        execute(session, ":plot")
    session.last_result = series_result([10, 50, 20, 80])
    text = execute(session, ":plot m_825_1").text
    assert text.splitlines()[1].strip() == "Login Process Complete (count)"
    assert all(len(line) <= 72 for line in text.splitlines())
    path = tmp_path / "c.png"
    assert execute(session, f":plot line m_825_1 {path}").text == (
        f"wrote a line chart of 4 values to {path} (png)"
    )
    assert Image.open(path).size == (960, 540)
    with pytest.raises(PlotError, match="exists: it was left as it is"):
        execute(session, f":plot {path}")
    assert "wrote" in execute(session, f":plot {path} --force").text
    with pytest.raises(PlotError) as caught:
        execute(session, ":plot bars")
    assert caught.value.hint == "did you mean 'bar'?"
    with pytest.raises(PlotError) as caught:
        execute(session, ":plot m825_1")
    assert caught.value.hint == "did you mean 'm_825_1'?"
