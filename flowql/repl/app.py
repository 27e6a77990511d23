"""The interactive REPL: a prompt_toolkit application over the session.

What it adds to the plain-Python parts (:mod:`~flowql.repl.session`,
:mod:`~flowql.repl.completion`, :mod:`~flowql.repl.commands`):

- highlighting as you type, with :class:`flowql.highlight.FlowQLLexer`, and the first error of
  the live check underlined on a red background (:mod:`~flowql.repl.marks`);
- completion at the cursor, computed in a background thread (``ThreadedCompleter``) and shown
  while typing;
- a live check: each change of the text is checked in a background thread (only the latest text
  is ever checked, so a fast typist never queues work), and the bottom toolbar shows the result
  (the first finding with its hint, :mod:`~flowql.repl.toolbar`) with the target, flow, time
  range and the request URL's length against the limit;
- Enter submits a whole filter; on an unfinished one (an open group or string) it starts a new
  line; on a filter with an error it moves the cursor to the error instead (the validator).
  Alt-Enter always starts a new line;
- history in a file, with Ctrl-R search and suggestions from it; Ctrl-C clears the line, Ctrl-D
  quits;
- ``:run`` prints its table as wide as the terminal, and while it fetches (in the clients'
  background thread) Ctrl-C cancels the run, not the REPL.

The first prompt needs none of Pygments, the sandbox or the clients: once it is shown, a
background thread loads the FlowQL lexer and the sandbox's values for completion (when the
sandbox is the source), so that neither holds up the start.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import stat
import sys
import threading

from prompt_toolkit import PromptSession
from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
from prompt_toolkit.completion import Completer, Completion, ThreadedCompleter
from prompt_toolkit.enums import DEFAULT_BUFFER
from prompt_toolkit.filters import completion_is_selected, has_focus
from prompt_toolkit.formatted_text import FormattedText
from prompt_toolkit.history import FileHistory, History, InMemoryHistory
from prompt_toolkit.key_binding import KeyBindings
from prompt_toolkit.lexers import Lexer, PygmentsLexer
from prompt_toolkit.shortcuts import print_formatted_text
from prompt_toolkit.styles import Style
from prompt_toolkit.validation import ValidationError, Validator

from flowql.diagnostics import Severity, render
from flowql.errors import FlowQLError
from flowql.lookahead import unfinished
from flowql.repl.commands import COMMANDS, Completions, execute, submit
from flowql.repl.completion import complete
from flowql.repl.marks import ErrorMark
from flowql.repl.prompt import PROMPT
from flowql.repl.toolbar import finding, status_line, url_part

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence

    from prompt_toolkit.application import Application
    from prompt_toolkit.completion import CompleteEvent
    from prompt_toolkit.document import Document
    from prompt_toolkit.formatted_text import StyleAndTextTuples
    from prompt_toolkit.input import Input
    from prompt_toolkit.key_binding import KeyPressEvent
    from prompt_toolkit.output import Output

    from flowql.diagnostics import Diagnostic
    from flowql.repl.run import SandboxValues
    from flowql.repl.session import Check, Session

__all__ = ["STYLE", "FilterValidator", "FlowQLCompleter", "LiveCheck", "Repl", "run_interactive"]

STYLE = Style.from_dict(
    {
        "prompt": "bold",
        "command": "bold ansiblue",
        "error-span": "underline bg:#5f0000",
        "bottom-toolbar": "noreverse bg:#262626 #bcbcbc",
        "toolbar.target": "bold #ffffff",
        "toolbar.ok": "#87d787",
        "toolbar.error": "bold #ff5f5f",
        "toolbar.warning": "#ffaf00",
        "toolbar.pending": "#8a8a8a",
        "diagnostic.error": "#ff5f5f",
        "diagnostic.warning": "#ffaf00",
        "banner": "#8a8a8a",
    }
)
"""The REPL's colours; the FlowQL tokens use Pygments' default style."""

_INPUT_NAME = "<input>"  # how typed text is named in code frames


def _is_command(text: str) -> bool:
    return text.lstrip().startswith(":")


def _wrap(text: str, width: int | None) -> str:
    if width is None or len(text) <= width:
        return text
    import textwrap

    return "\n".join(textwrap.wrap(text, width, subsequent_indent="  ", break_long_words=False))


def _command_name(text: str) -> str:
    return text.strip()[1:].split(" ")[0].lower()


@contextlib.contextmanager
def _interruptible() -> Iterator[None]:
    """While the body runs, Ctrl-C (SIGINT) raises KeyboardInterrupt where it is, as Python's
    default handler does, rather than cancelling the REPL's event loop (asyncio.run's). The
    previous handler comes back after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None else signal.SIG_DFL)


class FlowQLCompleter(Completer):
    """prompt_toolkit's view of :func:`flowql.repl.completion.complete`. Wrapped in a
    ``ThreadedCompleter`` by the REPL, so that it never holds up typing."""

    def __init__(self, session: Session) -> None:
        self.source = Completions(session)

    def get_completions(
        self, document: Document, complete_event: CompleteEvent
    ) -> Iterable[Completion]:
        """The candidates for the text before the cursor."""
        for candidate in complete(document.text_before_cursor, self.source):
            yield Completion(
                candidate.text,
                candidate.start,
                display=candidate.display,
                display_meta=candidate.meta,
            )


class FilterValidator(Validator):
    """Refuses to submit a filter with an error, moving the cursor to it (Enter's check)."""

    def __init__(self, session: Session, columns: Callable[[], int | None] = lambda: None) -> None:
        self.session = session
        self.columns = columns  # the terminal's width, which the message is fitted to

    def validate(self, document: Document) -> None:
        """Raise ValidationError at the first error of the filter, if any."""
        text = document.text
        if not text.strip() or _is_command(text):
            return
        errors = self.session.check(text).errors
        if not errors:
            return
        error = errors[0]
        where = error.span.start if error.span is not None else 0
        message = finding(error, f"{error.code}: ", width=self.columns())
        raise ValidationError(cursor_position=where, message=message)


class LiveCheck:
    """Checks the text being typed in a background thread and keeps the latest result.

    :meth:`request` asks for a text to be checked; one worker thread checks the most recent
    request, then calls ``on_done`` (which redraws the screen). Requests that arrive while it
    works replace each other, so only the latest text is checked next.
    """

    def __init__(self, session: Session, on_done: Callable[[], None]) -> None:
        self.session = session
        self.on_done = on_done
        self.result: Check | None = None
        self.error: str | None = None
        self._key: tuple[str, int] | None = None
        self._wanted: tuple[str, int] | None = None
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._stop = False
        self._thread: threading.Thread | None = None

    def request(self, text: str) -> None:
        """Check this text next (the session's current settings apply)."""
        wanted = (text, self.session.version)
        with self._lock:
            if wanted in (self._wanted, self._key):
                return
            self._wanted = wanted
            self._idle.clear()
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._work, name="flowql-live-check", daemon=True
                )
                self._thread.start()
        self._wake.set()

    def current(self, text: str) -> tuple[Check | None, bool]:
        """The latest result, and whether it is for this text and the current settings."""
        with self._lock:
            result, key = self.result, self._key
        return result, key == (text, self.session.version)

    def wait(self, timeout: float = 5.0) -> bool:
        """Wait until every request has been checked (for tests); False on timeout."""
        return self._idle.wait(timeout)

    def stop(self) -> None:
        """End the worker thread."""
        self._stop = True
        self._wake.set()

    def _work(self) -> None:
        while not self._stop:
            self._wake.wait()
            self._wake.clear()
            while not self._stop:
                with self._lock:
                    wanted = self._wanted
                    if wanted is None or wanted == self._key:
                        self._idle.set()
                        break
                try:
                    result: Check | None = self.session.check(wanted[0])
                    error = None
                except Exception as exc:  # keep the worker alive; say what broke
                    result, error = None, f"internal error: {type(exc).__name__}: {exc}"
                with self._lock:
                    self.result, self.error, self._key = result, error, wanted
                self.on_done()


def _empty_line(number: int) -> StyleAndTextTuples:
    return []


class _ReplLexer(Lexer):
    """FlowQL highlighting for filters, and the command name in bold for commands. What it
    draws depends on the text alone (prompt_toolkit keeps it while the text stays the same):
    the first error's mark is :class:`~flowql.repl.marks.ErrorMark`'s.

    The FlowQL lexer (Pygments) is made when there is first a filter to highlight: the empty
    first prompt does without it."""

    def __init__(self) -> None:
        self._flowql: PygmentsLexer | None = None

    @property
    def flowql(self) -> PygmentsLexer:
        """prompt_toolkit's view of :class:`flowql.highlight.FlowQLLexer`, made on first use."""
        if self._flowql is None:
            from flowql.highlight import FlowQLLexer

            self._flowql = PygmentsLexer(FlowQLLexer)
        return self._flowql

    def lex_document(self, document: Document) -> Callable[[int], StyleAndTextTuples]:
        """The styled fragments of each line."""
        if not document.text:
            return _empty_line
        if _is_command(document.text):
            lines = document.lines

            def command_line(number: int) -> StyleAndTextTuples:
                line = lines[number] if number < len(lines) else ""
                if number:
                    return [("", line)]
                head, space, rest = line.partition(" ")
                return [("class:command", head), ("", space + rest)]

            return command_line
        return self.flowql.lex_document(document)


class Repl:
    """The interactive REPL for a session.

    ``history`` is where submitted lines are kept (in memory when None); ``input`` and
    ``output`` default to the terminal (tests pass a pipe and a dummy output); ``printer``
    receives what the REPL prints, as (text, style) pairs (by default it is printed above the
    prompt).
    """

    def __init__(
        self,
        session: Session,
        *,
        history: History | None = None,
        input: Input | None = None,
        output: Output | None = None,
        printer: Callable[[str, str], None] | None = None,
        prompt_drawn: bool = False,
    ) -> None:
        self.session = session
        self._prompt_drawn = prompt_drawn
        self.live = LiveCheck(session, self._redraw)
        self.prompt: PromptSession[str] = PromptSession(
            message=[("class:prompt", PROMPT)],
            prompt_continuation=lambda width, line, soft: "." * (width - 2) + "> ",
            multiline=True,
            lexer=_ReplLexer(),
            input_processors=[ErrorMark(self._checked)],
            completer=ThreadedCompleter(FlowQLCompleter(session)),
            complete_while_typing=True,
            validator=FilterValidator(session, self._columns),
            validate_while_typing=False,
            bottom_toolbar=self.toolbar,
            history=history if history is not None else InMemoryHistory(),
            auto_suggest=AutoSuggestFromHistory(),
            key_bindings=self._bindings(),
            style=STYLE,
            include_default_pygments_style=True,
            input=input,
            output=output,
        )
        self.buffer = self.prompt.default_buffer
        self.buffer.on_text_changed += lambda buffer: self.live.request(buffer.text)
        self.printer = printer or self._print
        self._status_shown = False
        self._warmed = False
        self.prompt.app.after_render += self._shown
        session.runner().progress = self._progress

    # --- running -------------------------------------------------------------------------------

    def banner(self) -> str:
        """The line printed when the REPL starts."""
        from flowql.repl.prompt import banner

        return banner(self.session)

    def _shown(self, app: Application[str]) -> None:
        """After a render: the first time, warm up in the background what typing needs and the
        first prompt did not."""
        if self._warmed:
            return
        self._warmed = True
        values = self.session.runner().values
        threading.Thread(
            target=_warm_up, args=(values,), name="flowql-warm-up", daemon=True
        ).start()

    def run(self) -> int:
        """Read and handle input until :quit or Ctrl-D; return the exit code (0)."""
        return asyncio.run(self.run_async())

    async def run_async(self) -> int:
        """:meth:`run`, in a running event loop."""
        if self._prompt_drawn:
            # The instant prompt's line: the editor draws its own prompt over it, with what
            # was typed meanwhile (still in the terminal's input) in its buffer.
            self.prompt.app.output.write_raw("\r\x1b[K")
        else:
            self.printer(self.banner(), "class:banner")
        try:
            while True:
                try:
                    text = await self.prompt.prompt_async()
                except KeyboardInterrupt:
                    continue  # Ctrl-C: the line is cleared
                except EOFError:
                    break
                if self.handle(text):
                    break
        finally:
            self.live.stop()
        return 0

    def handle(self, text: str) -> bool:
        """Run a submitted line (a command or a filter); True when the REPL should end.
        Ctrl-C while it runs (a :run fetching) cancels it and the REPL goes on."""
        if not text.strip():
            return False
        running = _is_command(text) and _command_name(text) == "run"
        try:
            with _interruptible():
                if running:
                    self._status("running... (Ctrl-C cancels)")
                return self._handle(text)
        except KeyboardInterrupt:
            self._status(None)
            self.printer("cancelled", "class:diagnostic.warning")
            return False
        finally:
            if running:
                self._status(None)

    def _handle(self, text: str) -> bool:
        if _is_command(text):
            self.session.width = self._width()
            try:
                outcome = execute(self.session, text)
            except FlowQLError as exc:
                self._status(None)
                self._diagnostics(exc.diagnostics, exc.source)
                return False
            except Exception as exc:  # a bug, or a failure nobody foresaw: the REPL goes on
                self._status(None)
                self.printer(
                    f"internal error: {type(exc).__name__}: {exc}", "class:diagnostic.error"
                )
                return False
            self._status(None)
            for note in outcome.notes:
                self.printer(_wrap(note, self.session.width), "class:banner")
            errors = [d for d in outcome.warnings if d.severity is Severity.ERROR]
            self._diagnostics([d for d in outcome.warnings if d not in errors], outcome.source)
            if outcome.text:
                self._show(outcome.text)
            self._diagnostics(errors, outcome.source)
            return outcome.quit
        check, compiled = submit(self.session, text)
        self._diagnostics(check.diagnostics, text)
        if compiled is not None:
            self.printer(compiled.text, "")
        return False

    def _show(self, text: str) -> None:
        """A command's output: through the pager when it is longer than the terminal."""
        from flowql.terminal import page, wants_pager

        if self.printer == self._print and wants_pager(
            text, sys.stdout, enabled=self.session.pager
        ):
            page(text if text.endswith("\n") else text + "\n", sys.stdout)
            return
        self.printer(text.rstrip("\n"), "")

    def _columns(self) -> int | None:
        try:
            return self.prompt.app.output.get_size().columns
        except Exception:  # no terminal to ask: no limit
            return None

    def _width(self) -> int | None:
        try:
            return max(self.prompt.app.output.get_size().columns - 1, 20)
        except Exception:  # no terminal to ask: no limit
            return None

    def _status(self, text: str | None) -> None:
        """Show a line of status under the prompt while a command runs (None: clear it); the
        windows fetched replace it as they arrive."""
        if text is None and not self._status_shown:
            return
        self._status_shown = text is not None
        with contextlib.suppress(Exception):  # a status line is a nicety
            output = self.prompt.app.output
            output.write_raw("\r\x1b[K" + (text or ""))
            output.flush()

    def _progress(self, done: int, total: int) -> None:
        self._status(f"{done} of {total} windows fetched (Ctrl-C cancels)")

    def _diagnostics(self, diagnostics: Sequence[Diagnostic], source: str | None) -> None:
        for d in diagnostics:
            style = (
                "class:diagnostic.error"
                if d.severity is Severity.ERROR
                else ("class:diagnostic.warning")
            )
            self.printer(render(d, source, _INPUT_NAME), style)

    def _print(self, text: str, style: str) -> None:
        print_formatted_text(
            FormattedText([(style, text)]), style=STYLE, output=self.prompt.app.output
        )

    def _checked(self, text: str) -> Check | None:
        """The live check of this filter as it is now, if it has answered (for the mark)."""
        if _is_command(text):
            return None
        check, fresh = self.live.current(text)
        return check if fresh else None

    def _redraw(self) -> None:
        with contextlib.suppress(Exception):  # the application may be between prompts
            self.prompt.app.invalidate()

    # --- keys ----------------------------------------------------------------------------------

    def _bindings(self) -> KeyBindings:
        bindings = KeyBindings()
        # Only in the input itself: in the search field, Enter ends the search as usual.
        typing = has_focus(DEFAULT_BUFFER)

        @bindings.add("enter", filter=typing & completion_is_selected, eager=True)
        def _take_completion(event: KeyPressEvent) -> None:
            # Enter on a highlighted completion takes it, and submits nothing.
            event.current_buffer.complete_state = None

        @bindings.add("enter", filter=typing & ~completion_is_selected, eager=True)
        def _enter(event: KeyPressEvent) -> None:
            buffer = event.current_buffer
            text = buffer.text
            if not _is_command(text) and unfinished(text):
                buffer.insert_text("\n")
            else:
                buffer.validate_and_handle()

        @bindings.add("escape", "enter", filter=typing, eager=True)
        def _newline(event: KeyPressEvent) -> None:
            event.current_buffer.insert_text("\n")

        return bindings

    # --- the toolbar ---------------------------------------------------------------------------

    def toolbar(self) -> StyleAndTextTuples:
        """The bottom toolbar: on the first line what the live check found in the text (or
        what a command takes); on the second the target, flow, time range and the request
        URL's length against the limit."""
        session = self.session
        text = self.buffer.text
        check: Check | None = None
        if _is_command(text):
            name = text.strip()[1:].split(" ")[0].lower()
            command = COMMANDS.get(name)
            usage = f":{name} {command.usage}: {command.summary}" if command else ":help"
            status: StyleAndTextTuples = [("class:toolbar.pending", f" {usage}")]
        elif not text.strip():
            status = [("class:toolbar.pending", " type a filter, or :help for the commands")]
        else:
            check, fresh = self.live.current(text)
            if not fresh:
                self.live.request(text)
            status = status_line(check, fresh, self.live.error, self._columns())
        context: StyleAndTextTuples = [("class:toolbar.target", f" {session.target} ")]
        flow = session.active_flow()
        if flow is not None:
            found = session.model().flow(flow)
            label = f" {found.label}" if found is not None else ""
            context.append(("", f"| flow {flow}{label} "))
        elif session.model().flows:
            context.append(("", "| every flow "))
        context.append(("", f"| {session.time_range} "))
        if check is not None:
            context.extend(url_part(check))
        return [*status, ("", "\n"), *context]


def _warm_up(values: SandboxValues | None) -> None:
    """Load what the first prompt did without (in a background thread, once it is shown): the
    FlowQL lexer, which the first keystroke of a filter needs, and the sandbox's values for the
    target, when the sandbox is the source, so that the first completion of a value finds them
    made. Either, failing, is loaded again when it is needed."""
    with contextlib.suppress(Exception):
        import flowql.highlight  # noqa: F401 - imported now, not in the first keystroke
    if values is not None:
        values.prefetch()


HISTORY_READ_LIMIT = 4 * 1024 * 1024
"""The most of a history file read at start (its end): a huge file must not fill memory."""


def _warn(message: str) -> None:
    sys.stderr.write(f"flowql: warning: {message}\n")


def _history(path: str) -> History:
    """The history file at ``path`` (its directory made if needed), or an in-memory history
    when the file cannot be written (a read-only home) or ``path`` is not a regular file (a
    device such as /dev/zero would be read forever): the REPL works either way."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            _warn(f"{path} is not a regular file: the history is kept in memory only")
            return InMemoryHistory()
    except FileNotFoundError:
        pass  # made below
    except (OSError, ValueError):
        return InMemoryHistory()
    try:
        directory = os.path.dirname(os.path.abspath(path))
        os.makedirs(directory, exist_ok=True)
        # Made private (0600): the lines typed may name flows, accounts and ids.
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
    except OSError:
        return InMemoryHistory()
    return _PrivateHistory(path)


class _PrivateHistory(FileHistory):
    """prompt_toolkit's history file, read up to :data:`HISTORY_READ_LIMIT` bytes from its end,
    without the lines that hold a secret's value (in any spelling: the detector ``:export``
    uses), and written so that a failed write (a full disk) warns once and the REPL goes on."""

    _warned = False

    def load_history_strings(self) -> Iterable[str]:
        """The lines of the file (of its last part when it is huge), the most recent first."""
        try:
            with open(self.filename, "rb") as handle:
                if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                    return []
                size = os.fstat(handle.fileno()).st_size
                if size > HISTORY_READ_LIMIT:
                    handle.seek(size - HISTORY_READ_LIMIT)
                data = handle.read(HISTORY_READ_LIMIT)
        except OSError:
            return []
        if size > HISTORY_READ_LIMIT:
            # Start at an entry's "# date" line, not inside a cut one.
            data = data[data.find(b"\n#") + 1 :] if b"\n#" in data else b""
        strings: list[str] = []
        lines: list[str] = []
        for line_bytes in data.splitlines(keepends=True):
            line = line_bytes.decode("utf-8", errors="replace")
            if line.startswith("+"):
                lines.append(line[1:])
            else:
                if lines:
                    strings.append("".join(lines)[:-1])
                lines = []
        if lines:
            strings.append("".join(lines)[:-1])
        return list(reversed(strings))

    def store_string(self, string: str) -> None:
        """Add a line to the file, unless it holds a secret; a write that fails is said once,
        and not again."""
        from flowql.repl.secrets import secret_in

        if secret_in(string) is not None:
            return
        with contextlib.suppress(OSError):  # made again, private, if it was removed
            os.close(os.open(self.filename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
        try:
            super().store_string(string)
        except OSError as exc:
            if not self._warned:
                self._warned = True
                _warn(f"cannot write the history to {os.fsdecode(self.filename)} ({exc.strerror})")


class _LaterHistory(History):
    """The history file, found (:func:`flowql.repl.history_path`: platformdirs) and opened when
    prompt_toolkit first loads or stores a line: it loads the history in a task of its event
    loop that the first render starts, so finding the file is not part of the start."""

    def __init__(self, locate: Callable[[], str]) -> None:
        super().__init__()
        self._locate = locate
        self._file: History | None = None

    def _history(self) -> History:
        if self._file is None:
            self._file = _history(self._locate())
        return self._file

    def load_history_strings(self) -> Iterable[str]:
        """The lines of the file, the most recent first."""
        return self._history().load_history_strings()

    def store_string(self, string: str) -> None:
        """Add a line to the file."""
        self._history().store_string(string)


def run_interactive(
    session: Session, history_path: str | Callable[[], str], *, prompt_drawn: bool = False
) -> int:
    """Run the REPL on the terminal, with its history in ``history_path`` (or in the file a
    function gives, asked for once the first prompt is shown). ``prompt_drawn``: the banner and
    a first prompt are on the screen already (the instant prompt), for the editor to draw over."""
    history = (
        _history(history_path) if isinstance(history_path, str) else _LaterHistory(history_path)
    )
    return Repl(session, history=history, prompt_drawn=prompt_drawn).run()
