"""The interactive REPL, driven key by key through prompt_toolkit's pipe input."""

from __future__ import annotations

import asyncio
import datetime as dt
import signal
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from prompt_toolkit.application import set_app
from prompt_toolkit.document import Document
from prompt_toolkit.formatted_text import StyleAndTextTuples
from prompt_toolkit.history import History
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.layout.controls import BufferControl
from prompt_toolkit.output import DummyOutput

from flowql.repl import HISTORY_ENV, history_path
from flowql.repl.app import Repl, _history, _LaterHistory, _ReplLexer
from flowql.repl.run import Runner
from flowql.repl.session import Check, Session
from flowql.sandbox import Sandbox

LEFT = "\x1b[D"
UP = "\x1b[A"
HOME = "\x01"  # Ctrl-A
CTRL_C = "\x03"
CTRL_D = "\x04"
CTRL_R = "\x12"
ALT_ENTER = "\x1b\r"
ENTER = "\r"
TAB = "\t"


class Driver:
    """A running REPL, its input pipe, and what it printed."""

    def __init__(self, repl: Repl, send: Callable[[str], None], printed: list[str]) -> None:
        self.repl = repl
        self.send = send
        self.printed = printed

    @property
    def text(self) -> str:
        return self.repl.buffer.text

    async def until(self, condition: Callable[[], object], what: str) -> None:
        for _ in range(500):
            if condition():
                return
            await asyncio.sleep(0.01)
        pytest.fail(f"timed out waiting for {what}")

    async def type(self, keys: str) -> None:
        self.send(keys)
        await asyncio.sleep(0.05)

    async def completions(self) -> list[tuple[str, int, str]]:
        buffer = self.repl.buffer
        await self.until(
            lambda: buffer.complete_state is not None and buffer.complete_state.completions,
            "the completion menu",
        )
        assert buffer.complete_state is not None
        return [
            (c.text, c.start_position, c.display_meta_text)
            for c in buffer.complete_state.completions
        ]

    def drawn(self) -> StyleAndTextTuples:
        """The first line of the input as the screen gets it: the fragments the input's control
        gives the renderer (its lexer's, cached as prompt_toolkit caches them, and its
        processors')."""
        app = self.repl.prompt.app
        control = next(
            c
            for c in app.layout.find_all_controls()
            if isinstance(c, BufferControl) and c.buffer is self.repl.buffer
        )
        with set_app(app):
            return control.create_content(100, 10).get_line(0)

    def drawn_text(self) -> str:
        return "".join(text for _, text, *_ in self.drawn())

    def marked(self) -> str:
        """The characters drawn with the error mark."""
        return "".join(text for style, text, *_ in self.drawn() if "class:error-span" in style)

    async def toolbar(self) -> str:
        await self.until(lambda: self.repl.live.wait(0.01), "the live check")
        await asyncio.sleep(0)
        return "".join(text for _, text, *_ in self.repl.toolbar())


@asynccontextmanager
async def running(
    session: Session | None = None,
    history_file: Path | None = None,
    history: History | None = None,
) -> AsyncIterator[Driver]:
    if history_file is not None:
        history = _history(str(history_file))
    with create_pipe_input() as pipe:
        printed: list[str] = []
        repl = Repl(
            session or Session(),
            input=pipe,
            output=DummyOutput(),
            printer=lambda text, style: printed.append(text),
            history=history,
        )
        task = asyncio.create_task(repl.run_async())
        driver = Driver(repl, pipe.send_text, printed)
        await driver.until(lambda: repl.prompt.app.is_running, "the prompt")
        try:
            yield driver
        finally:
            if not task.done():
                pipe.send_text(CTRL_C + CTRL_D)
            assert await asyncio.wait_for(task, 5) == 0


def drive(test: Callable[[], object]) -> None:
    asyncio.run(test())  # type: ignore[arg-type]


# --- completion -------------------------------------------------------------------------------


def test_tab_lists_the_keys_that_start_with_the_word() -> None:
    async def test() -> None:
        async with running() as d:
            await d.type("geo_c")
            await d.completions()  # while typing
            await d.type(TAB)  # and the first is selected
            await d.until(lambda: d.text == "geo_city", "the first completion")
            assert await d.completions() == [
                ("geo_city", -5, "Cities"),
                ("geo_country", -5, "Countries"),
            ]

    drive(test)


def test_completion_at_a_cursor_in_the_middle_of_the_text() -> None:
    async def test() -> None:
        async with running() as d:
            await d.type("geo_country == 'Spain' AND cdn == 'x'")
            await d.type(HOME + "\x06" * 5)  # Ctrl-F five times: after `geo_c`
            assert d.repl.buffer.cursor_position == 5
            await d.type(TAB)
            assert [c[0] for c in await d.completions()] == ["geo_city", "geo_country"]

    drive(test)


def test_operators_appear_while_typing_and_enter_takes_the_selected_one() -> None:
    async def test() -> None:
        async with running() as d:
            await d.type("geo_country ~")
            assert await d.completions() == [("~~", -1, "contains")]
            await d.type(TAB)  # select it
            await d.until(lambda: d.text == "geo_country ~~", "the completion")
            await d.type(ENTER)  # takes the completion; submits nothing
            await d.until(lambda: d.repl.buffer.complete_state is None, "the menu to close")
            assert d.text == "geo_country ~~"
            assert d.printed == [d.repl.banner()]

    drive(test)


def test_values_inside_an_open_string() -> None:
    async def test() -> None:
        session = Session()
        session.remember_values([{"geo_country": "Spain"}, {"geo_country": "Sweden"}])
        async with running(session) as d:
            await d.type("geo_country == 'S")
            assert await d.completions() == [
                ("'Spain'", -2, "last results"),
                ("'Sweden'", -2, "last results"),
            ]

    drive(test)


def test_commands_complete_after_a_colon() -> None:
    async def test() -> None:
        async with running() as d:
            await d.type(":ta")
            assert [c[0] for c in await d.completions()] == [":target"]
            await d.type(TAB)
            await d.until(lambda: d.text == ":target", "the command to be inserted")
            await d.type(" klaviyo-s")
            assert await d.completions() == [
                (
                    "klaviyo-segment-report",
                    -9,
                    "the filter of Klaviyo's segment values and series reports",
                ),
            ]

    drive(test)


# --- Enter, validation, multi-line input ------------------------------------------------------


def test_enter_submits_a_whole_filter_and_prints_the_compiled_form() -> None:
    async def test() -> None:
        session = Session()
        async with running(session) as d:
            await d.type("geo_country == 'Spain' and not cdn in ('a')" + ENTER)
            await d.until(lambda: len(d.printed) == 2, "the compiled filter")
            assert d.printed[1] == "geo_country == 'Spain' AND cdn != 'a'"
            assert session.filter == "geo_country == 'Spain' and not cdn in ('a')"
            assert d.text == ""

    drive(test)


def test_enter_on_an_error_moves_the_cursor_to_it() -> None:
    async def test() -> None:
        session = Session()
        async with running(session) as d:
            await d.type("geo_country == 'Spain' AND cdn = 'x'" + ENTER)
            buffer = d.repl.buffer
            await d.until(lambda: buffer.validation_error is not None, "the validation error")
            assert buffer.validation_error is not None
            assert buffer.validation_error.message.startswith(
                "FQ006: a single '=' is not a FlowQL operator"
            )
            assert buffer.cursor_position == 31
            assert d.text == "geo_country == 'Spain' AND cdn = 'x'"  # not submitted
            assert session.filter is None
            # Fixed where the cursor is, the filter goes through.
            await d.type("=")
            await d.type(ENTER)
            await d.until(lambda: len(d.printed) == 2, "the compiled filter")
            assert session.filter == "geo_country == 'Spain' AND cdn == 'x'"

    drive(test)


def test_an_unknown_key_is_an_error_too() -> None:
    async def test() -> None:
        session = Session()
        session.set_flow("825")
        async with running(session) as d:
            await d.type("geo_contry == 'Spain'")
            # The toolbar (80 columns here) says it as Enter will, the hint kept whole.
            toolbar = (await d.toolbar()).split("\n")[0]
            assert toolbar.startswith(" error FQ101 1:1: 'geo_contry' is not a")
            assert toolbar.endswith("... (did you mean 'geo_country'?)")
            assert len(toolbar) <= 80
            await d.type(ENTER)
            await d.until(lambda: d.repl.buffer.validation_error is not None, "the error")
            message = d.repl.buffer.validation_error.message  # type: ignore[union-attr]
            # Fitted to the terminal's 80 columns, as the toolbar is: the hint kept whole.
            assert message.startswith("FQ101: 'geo_contry' is not a dimension of flow")
            assert message.endswith("... (did you mean 'geo_country'?)")
            assert len(message) <= 80
            assert d.repl.buffer.cursor_position == 0

    drive(test)


def test_enter_on_an_unfinished_filter_starts_a_new_line() -> None:
    async def test() -> None:
        session = Session()
        async with running(session) as d:
            await d.type("(geo_country == 'Spain' OR" + ENTER)
            await d.until(lambda: d.text.endswith("\n"), "a new line")
            assert d.text == "(geo_country == 'Spain' OR\n"
            await d.type("geo_country == 'France')" + ENTER)
            await d.until(lambda: len(d.printed) == 2, "the compiled filter")
            assert d.printed[1] == "geo_country == 'Spain' OR geo_country == 'France'"
            assert session.filter == "(geo_country == 'Spain' OR\ngeo_country == 'France')"

    drive(test)


def test_alt_enter_always_starts_a_new_line() -> None:
    async def test() -> None:
        async with running() as d:
            await d.type("geo_country == 'Spain'" + ALT_ENTER)
            await d.until(lambda: d.text.endswith("\n"), "a new line")
            await d.type("AND cdn == 'x'" + ENTER)
            await d.until(lambda: len(d.printed) == 2, "the compiled filter")
            assert d.printed[1] == "geo_country == 'Spain' AND cdn == 'x'"

    drive(test)


# --- commands, keys ---------------------------------------------------------------------------


def test_commands_change_the_session() -> None:
    async def test() -> None:
        session = Session()
        async with running(session) as d:
            await d.type(":target klaviyo-flow-report" + ENTER)
            await d.until(lambda: session.target == "klaviyo-flow-report", "the target")
            await d.type(":tagret" + ENTER)
            await d.until(lambda: len(d.printed) == 3, "the error")
            assert d.printed[1] == "target klaviyo-flow-report (Klaviyo flow-report, 10 keys)"
            assert d.printed[2].startswith("error[FQ804]: unknown command ':tagret'")
            await d.type("send_channel == 'email'" + ENTER)
            await d.type(":show" + ENTER)
            await d.until(lambda: len(d.printed) == 5, ":show")
            assert d.printed[4].startswith("target   klaviyo-flow-report\n")
            assert "not sendable yet: FQ712" in d.printed[4]
            await d.type(":statistics opens" + ENTER)
            await d.type(":conversion RESQ6t" + ENTER)
            await d.type(":show" + ENTER)
            await d.until(lambda: len(d.printed) == 8, ":show")
            assert "  POST https://a.klaviyo.com/api/flow-values-reports" in d.printed[7]
            assert '"statistics": [' in d.printed[7]

    drive(test)


def test_quit_ends_the_repl() -> None:
    async def test() -> None:
        async with running() as d:
            await d.type(":quit" + ENTER)
            await d.until(lambda: not d.repl.prompt.app.is_running, "the end")

    drive(test)


def test_ctrl_c_clears_the_line_and_ctrl_d_quits() -> None:
    async def test() -> None:
        async with running() as d:
            await d.type("geo_country == 'Sp")
            await d.type(CTRL_C)
            await d.until(lambda: d.text == "" and d.repl.prompt.app.is_running, "a new prompt")
            await d.type(CTRL_D)
            await d.until(lambda: not d.repl.prompt.app.is_running, "the end")

    drive(test)


# --- :run ---------------------------------------------------------------------------------------

CREDENTIALS = ("CONVIVA_CLIENT_ID", "CONVIVA_CLIENT_SECRET", "KLAVIYO_API_KEY", "FLOWXO_API_KEY")


def test_run_says_where_results_come_from_and_prints_a_table_as_wide_as_the_terminal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in CREDENTIALS:
        monkeypatch.delenv(name, raising=False)

    async def test() -> None:
        # Real-time data is the sandbox's last 15 minutes: a fixed clock makes it the same rows.
        noon = dt.datetime(2026, 11, 22, 12, tzinfo=dt.timezone.utc)
        with Sandbox(seed=0, now=noon, rate_limits=False) as sandbox:
            session = Session(runner=Runner(sandbox=sandbox))
            session.set_flow("825")
            session.set_group_by("geo_country")
            session.expanded = "off"  # the table cut to the terminal (expanded: test_display)
            try:
                async with running(session) as d:
                    await d.type(":run geo_country == 'Spain'" + ENTER)
                    await d.until(lambda: len(d.printed) >= 3, "the table")
                    notice = " ".join(d.printed[1].split())  # wrapped to the terminal
                    assert "querying the built-in sandbox at http://127.0.0.1:" in notice
                    table = d.printed[2].splitlines()
                    assert table[0].split()[:2] == ["geo_country", "country_code"]
                    # DummyOutput is 80 columns wide: the table keeps to them.
                    assert max(len(line) for line in table) < 80
                    assert table[0].endswith("\u2026")  # the columns left out
                    assert any(line.startswith("1 row in ") for line in table)
                    # The rows' values complete now.
                    await d.type("geo_country == 'Sp")
                    assert ("'Spain'", -3, "last results") in await d.completions()
            finally:
                session.close()

    drive(test)


def test_once_the_first_prompt_is_shown_the_sandbox_values_are_made(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in CREDENTIALS:
        monkeypatch.delenv(name, raising=False)

    async def test() -> None:
        session = Session()
        session.runner().offer_sandbox_values(session)
        values = session.runner().values
        assert values is not None
        try:
            async with running(session) as d:
                # Nothing asked for them: the REPL starts making them after its first prompt.
                await d.until(lambda: values.wait("conviva-flow", 0), "the sandbox's values")
                await d.type("geo_country == 'Sp")
                assert ("'Spain'", -3, "sandbox") in await d.completions()
        finally:
            session.close()

    drive(test)


def test_ctrl_c_cancels_a_run_and_not_the_repl(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in CREDENTIALS:
        monkeypatch.delenv(name, raising=False)
    main = threading.main_thread().ident
    assert main is not None

    def interrupt() -> None:
        # Once the client's thread is up, the run is waiting on the fetch: interrupt it.
        deadline = time.monotonic() + 10
        while not any(t.name == "flowql-client" for t in threading.enumerate()):
            if time.monotonic() > deadline:
                return
            time.sleep(0.01)
        time.sleep(0.3)
        signal.pthread_kill(main, signal.SIGINT)

    async def test() -> None:
        # Every Conviva answer takes 20 s: the run can only end by being cancelled.
        with Sandbox(seed=0, latency={"conviva": 20.0}) as sandbox:
            session = Session(runner=Runner(sandbox=sandbox))
            session.set_flow("825")
            try:
                async with running(session) as d:
                    threading.Thread(target=interrupt, daemon=True).start()
                    await d.type(":run geo_country == 'Spain'" + ENTER)
                    await d.until(lambda: "cancelled" in d.printed, "the run to be cancelled")
                    assert session.last_result is None
                    await d.type(":flow" + ENTER)  # the REPL goes on
                    await d.until(lambda: d.printed[-1].startswith("flow 825"), ":flow's output")
            finally:
                session.close()

    drive(test)


# --- the live check, highlighting --------------------------------------------------------------


def test_the_toolbar_shows_the_live_check_and_the_url_budget() -> None:
    async def test() -> None:
        session = Session()
        session.set_flow("142")
        async with running(session) as d:
            assert "type a filter, or :help" in await d.toolbar()
            await d.type("geo_country == 'Spain'")
            toolbar = await d.toolbar()
            assert " ok: compiles for conviva-flow" in toolbar
            assert "| flow 142 Video Start | last 15m | URL 103/4,096 (2%)" in toolbar
            await d.type(" AND cdn = 'x'")
            toolbar = await d.toolbar()
            assert "error FQ006 1:32: a single '=' is not a FlowQL operator" in toolbar
            await d.type(CTRL_C + "cdn !")
            assert " unfinished: != (does not equal) or !~ (does not contain)\n" in (
                await d.toolbar()
            )
            await d.type(CTRL_C + "(cdn == 'x' OR")
            assert "unfinished 1:15: the filter ends after OR" in await d.toolbar()
            await d.type(CTRL_C + ":flow")
            assert ":flow [ID|none]: show the flow" in await d.toolbar()

    drive(test)


def test_the_url_budget_warns_in_the_toolbar() -> None:
    async def test() -> None:
        session = Session(url_limit=150)
        session.set_flow("142")
        async with running(session) as d:
            await d.type("geo_country IN ('Spain', 'France', 'Germany', 'Italy', 'Portugal')")
            toolbar = await d.toolbar()
            assert "error FQ501 1:1: the request URL is" in toolbar
            assert "URL 277/150 (184%)" in toolbar

    drive(test)


def test_highlighting_colours_tokens_and_commands() -> None:
    async def test() -> None:
        async with running() as d:
            lexer = d.repl.prompt.lexer
            assert isinstance(lexer, _ReplLexer)
            line = lexer.lex_document(Document("geo_country == 'Spain' AND cdn = 'x'"))(0)
            styles = {t: s for s, t, *_ in line if t.strip()}
            assert styles["geo_country"] == "class:pygments.name.attribute"
            assert styles["AND"] == "class:pygments.keyword"
            command = lexer.lex_document(Document(":target klaviyo"))(0)
            assert command[0] == ("class:command", ":target")

    drive(test)


def test_the_first_error_is_drawn_once_the_check_answers_and_goes_with_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The check waits for the test, so the text is drawn before it answers (as when typing),
    # and prompt_toolkit has lexed it then: the mark must still come when the check answers.
    answer = threading.Event()
    session = Session()
    check = session.check

    def held(text: str) -> Check:
        assert answer.wait(10), "the test never let the check answer"
        return check(text)

    monkeypatch.setattr(session, "check", held)

    async def test() -> None:
        async with running(session) as d:
            try:
                await d.type("geo_country == 'Spain' AND cdn = 'x'")
                await d.until(lambda: "cdn = 'x'" in d.drawn_text(), "the text drawn")
                assert d.marked() == ""  # no answer yet: nothing is marked
                answer.set()
                assert "error FQ006" in await d.toolbar()
                assert d.marked() == "="  # the text is the same: only the answer is new

                # Fixed: the mark goes at once (the answer is for the old text), and stays
                # gone once the check of the new text answers.
                answer.clear()
                await d.type(LEFT * 4 + "=")
                await d.until(lambda: "cdn == 'x'" in d.drawn_text(), "the fix drawn")
                assert d.marked() == ""
                answer.set()
                assert " ok: compiles for conviva-flow" in await d.toolbar()
                assert d.marked() == ""

                # A command is no filter: nothing of it is marked.
                await d.type(CTRL_C + ":flow 142 x")
                await d.until(lambda: ":flow 142 x" in d.drawn_text(), "the command drawn")
                await d.toolbar()
                assert d.marked() == ""
            finally:
                answer.set()

    drive(test)


# --- history ----------------------------------------------------------------------------------


def test_history_is_kept_in_a_file_searched_and_suggested(tmp_path: Path) -> None:
    history = tmp_path / "deep" / "dir" / "history"

    async def first() -> None:
        async with running(history_file=history) as d:
            await d.type("geo_country == 'Spain'" + ENTER)
            await d.type(":last 1h" + ENTER)
            await d.until(lambda: len(d.printed) == 3, "both lines")

    async def second() -> None:
        async with running(history_file=history) as d:
            await d.type(UP)
            await d.until(lambda: d.text == ":last 1h", "the last line")
            await d.type(CTRL_C)
            await d.until(lambda: d.text == "" and d.repl.prompt.app.is_running, "a new prompt")
            await d.type(CTRL_R + "Spa")
            await d.type(ENTER)  # ends the search
            await d.until(lambda: d.text == "geo_country == 'Spain'", "the search")
            await d.type(CTRL_C)
            await d.type("geo_co")
            await d.until(lambda: d.repl.buffer.suggestion is not None, "the suggestion")
            assert d.repl.buffer.suggestion.text == "untry == 'Spain'"  # type: ignore[union-attr]

    drive(first)
    assert "+geo_country == 'Spain'" in history.read_text(encoding="utf-8")
    drive(second)


def test_the_history_file_is_found_once_the_prompt_is_shown(tmp_path: Path) -> None:
    path = tmp_path / "data" / "history"
    path.parent.mkdir()
    path.write_text("\n+:flow 142\n", encoding="utf-8")
    asked: list[str] = []

    def locate() -> str:
        asked.append(str(path))
        return str(path)

    history = _LaterHistory(locate)
    assert asked == []  # not while the REPL is made

    async def test() -> None:
        async with running(history=history) as d:
            await d.type(UP)  # the file's lines are there
            await d.until(lambda: d.text == ":flow 142", "the file's line")
            await d.type(CTRL_C)
            await d.type(":last 1h" + ENTER)
            await d.until(lambda: len(d.printed) == 2, "the line's output")

    drive(test)
    assert asked == [str(path)]  # once
    assert "+:last 1h" in path.read_text(encoding="utf-8")


def test_the_history_file_is_configurable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(HISTORY_ENV, str(tmp_path / "mine"))
    assert history_path() == str(tmp_path / "mine")
    monkeypatch.delenv(HISTORY_ENV)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert history_path() == str(tmp_path / "data" / "flowql" / "history")


def test_an_unwritable_history_falls_back_to_memory(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert type(_history(str(blocker / "history"))).__name__ == "InMemoryHistory"
