"""The failure a check raises, and how its message is laid out for a student."""

import textwrap

WIDTH = 96  # characters per line: JupyterLab's output area shows this much without wrapping


class CheckFailed(AssertionError):
    """A check found a problem; the message is the student's feedback.

    Subclasses AssertionError so that nbgrader and pytest count it as a failed test.
    `mistake` is the catalogued `Mistake` the output looks like, if any (set by `fail`), for
    the grader to record apart from the text.
    """

    mistake = None

    def __init__(self, headline: str, details: list[str] | tuple[str, ...] = (), hint: str = ""):
        self.headline = headline
        self.details = list(details)
        self.hint = hint
        super().__init__(self.render())

    def render(self) -> str:
        """The headline, the details indented, then the hint, one line each (wrapped only for
        display, by `traceback_lines`)."""
        lines = [self.headline]
        lines += [f"  {line}" for line in self.details]
        if self.hint:
            lines.append(f"  Hint: {self.hint}")
        return "\n".join(lines)

    def _render_traceback_(self) -> list[str]:
        """What IPython shows for this exception instead of a traceback: only the feedback
        (Jupyter, nbgrader's Validate, the feedback pages and formgrader all show this)."""
        return traceback_lines(str(self))


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


def fail(headline: str, lines=(), mistake=None, hint: str = "", *, case: str = ""):
    """Raise the failure every check raises: the headline; then the case, the lines that say
    what is off (a `Mismatch`'s, say) and the catalogued mistake the output looks like."""
    details = [f"case: {case}"] if case else []
    details += list(lines)
    if mistake is not None:
        details.append(mistake.feedback())
    failure = CheckFailed(headline, details, hint)
    failure.mistake = mistake
    raise failure
