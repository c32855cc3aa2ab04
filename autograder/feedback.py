"""The failure a check raises, and how its message is laid out for a student."""

import html
import sys
import textwrap

WIDTH = 96  # characters per line: JupyterLab's output area shows this much without wrapping


class CheckFailed(AssertionError):
    """A check found a problem; the message is the student's feedback.

    Subclasses AssertionError so that nbgrader and pytest count it as a failed test.
    """

    def __init__(
        self,
        headline: str,
        details: list[str] | tuple[str, ...] = (),
        hint: str = "",
        picture=None,
        mistake=None,
        folds: bool = False,
    ):
        self.headline = headline
        self.details = list(details)
        self.hint = hint
        self.picture = picture  # a `MapMismatch` to draw when the failure is shown, or None
        self.mistake = mistake  # the catalogued `Mistake` whose feedback is among the details
        # whether the mistake's explanation and the hint go behind a fold (`folded`): for a
        # wrong answer, where they would give the right one away; not for a stub or an error
        self.folds = folds or mistake is not None
        super().__init__(self.render())

    def figure(self) -> bytes | None:
        """The picture of the mismatch as PNG bytes (drawn now), or None when there is none."""
        if self.picture is None:
            return None
        from .mismatch_figure import draw

        return draw(self.picture)

    def render(self) -> str:
        """The headline, the details indented, then the hint, one line each (wrapped only for
        display, by `traceback_lines`)."""
        lines = [self.headline]
        lines += [f"  {line}" for line in self.details]
        if self.hint:
            lines.append(f"  Hint: {self.hint}")
        return "\n".join(lines)

    def folded(self) -> tuple[str, list[str]]:
        """The message without what a student should open on purpose (the catalogued
        mistake's explanation, its title kept, and the hint), and what was taken out; the
        whole message and nothing when the failure does not fold."""
        if not self.folds:
            return str(self), []
        shown, hidden = [self.headline], []
        for line in self.details:
            if self.mistake is not None and line == self.mistake.feedback():
                shown.append(f"  Likely mistake: {self.mistake.title}.")
                hidden.append(self.mistake.explanation)
            else:
                shown.append(f"  {line}")
        if self.hint:
            hidden.append(f"Hint: {self.hint}")
        return "\n".join(shown), hidden

    def _render_traceback_(self) -> list[str]:
        """What IPython shows for this exception instead of a traceback: only the feedback
        (Jupyter and nbgrader's Validate show this; the grader writes the same lines itself).

        IPython asks for it only for the failure that reaches the student, so this is where,
        in the student's kernel, the message gives way to what comes under it once the cell
        has run (`show_after_cell`): the picture of the mismatch, then the mistake's
        explanation and the hint behind a fold."""
        shell = _ipython()
        if shell is None:
            return traceback_lines(str(self))
        message, hidden = self.folded()
        message = with_settings_note(message, local_keras_settings())
        # IPython may ask more than once (ipykernel does): what comes under it is shown once
        if (self.picture is not None or hidden) and not getattr(self, "_shown", False):
            self._shown = True
            show_after_cell(shell, self, hidden)
        return traceback_lines(message)


# What the checks and the Keras layers they compare with assume of Keras's global settings.
KERAS_DEFAULTS = {
    "floatx": "float32",
    "dtype_policy": "float32",
    "image_data_format": "channels_last",
}


def local_keras_settings() -> dict | None:
    """Keras's global settings in this process, or None when Keras was never imported here."""
    if "keras" not in sys.modules:
        return None
    from .harness.ops.layers import keras_settings

    return keras_settings()


def with_settings_note(message: str, settings) -> str:
    """`message`, with a last line when `settings` (`keras_settings()` where the student's code
    ran) differ from Keras's defaults: a failure may then come from that change, not the code."""
    if not isinstance(settings, dict):
        return message
    changed = [
        f"keras.config.{name}() is {str(settings.get(name))[:40]!r}, not {value!r}"
        for name, value in KERAS_DEFAULTS.items()
        if settings.get(name) != value
    ]
    if not changed:
        return message
    return (
        f"{message}\n  Note: your notebook changed Keras's global settings ({'; '.join(changed)}): "
        "the checks expect the defaults. Remove the line that changes them (set_floatx, "
        "set_dtype_policy, set_image_data_format), restart the kernel and run the notebook again."
    )


def _ipython():
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def show_after_cell(shell, failure: CheckFailed, hidden: list[str]) -> None:
    """Under the error of the running IPython cell (from the shell's post_run_cell event,
    which comes after the error output), display `failure`'s picture, then the `hidden` lines
    in a fold (HTML `<details>`; as plain text where HTML is not shown). A picture that cannot
    be drawn is left out: the message says all that it shows."""
    from IPython.display import Image, display

    def show(*_):
        shell.events.unregister("post_run_cell", show)
        try:
            png = failure.figure()
        except Exception:  # noqa: BLE001  the text feedback stands without its picture
            png = None
        if png:
            display(Image(data=png, format="png"))
        if hidden:
            display(fold(hidden), raw=True)

    shell.events.register("post_run_cell", show)


FOLD_MARK = "\u25b8 "  # how the first line of a fold's text begins ("▸ Why this mistake")


def fold_summary(hidden: list[str]) -> str:
    """What a fold of `hidden` holds, as its summary: "Why this mistake, and a hint"."""
    hint = any(line.startswith("Hint: ") for line in hidden)
    why = len(hidden) > hint
    names = {(True, True): "Why this mistake, and a hint", (True, False): "Why this mistake"}
    return names.get((why, hint), "A hint")


def fold_text(hidden: list[str]) -> str:
    """The fold as text: its summary, marked, then each hidden line (wrapped between words, as
    a message is: text outputs do not wrap)."""
    lines = [part for line in hidden for part in wrap(f"  {line}")]
    return "\n".join([f"{FOLD_MARK}{fold_summary(hidden)}", *lines])


def fold(hidden: list[str]) -> dict:
    """A display bundle: `hidden` behind a `<details>` the student opens; as text,
    `fold_text`."""
    paragraphs = "".join(f"<p>{html.escape(line)}</p>" for line in hidden)
    page = f"<details><summary>{fold_summary(hidden)}</summary>{paragraphs}</details>"
    return {"text/html": page, "text/plain": fold_text(hidden)}


RED, BOLD, RESET = "\x1b[31m", "\x1b[1m", "\x1b[0m"


def traceback_lines(message: str) -> list[str]:
    """A failed check's message as the lines of an error output, as a student reads them: long
    lines wrapped between words (a browser would break them anywhere, even inside a word), the
    headline (the lines up to the first indented one) in bold red."""
    lines = message.splitlines() or [""]
    end = next((i for i, line in enumerate(lines) if i and line.startswith(" ")), len(lines))
    headline = [part for line in lines[:end] for part in wrap(line, hang="")]
    rest = [part for line in lines[end:] for part in wrap(line)]
    return [f"{BOLD}{RED}{line}{RESET}" for line in headline] + rest


def wrap(text: str, indent: str = "", width: int = WIDTH, hang: str = "  ") -> list[str]:
    """`text` as lines of at most `width` characters, broken between words; every line starts
    with `indent`, and continuation lines with `hang` more. A line already short enough, or a
    word longer than the width (a path, a number), is kept whole."""
    lines = []
    for line in str(text).splitlines() or [""]:
        if len(indent) + len(line) <= width:
            lines.append(indent + line)
            continue
        lead = line[: len(line) - len(line.lstrip(" "))]
        lines += textwrap.wrap(
            line.strip(),
            width=width,
            initial_indent=indent + lead,
            subsequent_indent=indent + lead + hang,
            break_long_words=False,
            break_on_hyphens=False,
        )
    return lines


def passed(message: str) -> None:
    """Print a success note (shown in the notebook under the test cell), wrapped between words."""
    print("\n".join(wrap(f"OK: {message}", hang="    ")))


def fail(headline: str, lines=(), mistake=None, hint: str = "", *, case: str = "", picture=None):
    """Raise the failure every check raises: the headline; then the case, the lines that say
    what is off and the catalogued mistake the output looks like.

    `lines` may be a `Mismatch`: its lines, and its picture when it compared maps (or pass
    `picture`, a `MapMismatch`, with lines of your own). A failure with a `Mismatch`, a
    picture or a mistake is a wrong answer: its explanation and hint fold (`folded`)."""
    if picture is None:
        picture = getattr(lines, "picture", None)
    wrong_answer = hasattr(lines, "lines") or picture is not None or mistake is not None
    lines = getattr(lines, "lines", lines)
    details = [f"case: {case}"] if case else []
    details += list(lines)
    if mistake is not None:
        details.append(mistake.feedback())
    if picture is not None and case:
        picture = picture.with_case(case)
    raise CheckFailed(headline, details, hint, picture, mistake, folds=wrong_answer)
