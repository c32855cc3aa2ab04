"""Text from submissions made safe to print: on the terminal, in the grading log, in CSV cells.

Student ids, file names, error messages of student code and review reasons can carry terminal
control sequences (ESC [ ... to recolour or move the cursor, OSC 52 to write the clipboard, BEL,
a CR that overwrites the line) and bidirectional overrides that reorder what is shown. `shown`
writes every such character as a visible escape (`\\x1b`, `\\u202e`), so the text reads the
same everywhere and commands nothing. In a log (`lines=True`) the colour codes of tracebacks
(ESC [ ... m) are dropped instead.
"""

import re

# SGR (colour) sequences: harmless formatting that IPython puts in every traceback
COLOUR = re.compile(r"\x1b\[[0-9;]*m")
# C0 controls but TAB and LF, DEL, C1 controls, bidi embeddings/overrides/isolates, LRM/RLM/ALM,
# line and paragraph separators
UNSAFE = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def shown(text, lines: bool = False) -> str:
    """`text` with every control or bidi character written as an escape; newlines too unless
    `lines` (a log of many lines), so a one-line message stays one line."""
    text = str(text)
    if lines:
        return UNSAFE.sub(_escape, COLOUR.sub("", text))
    return UNSAFE.sub(_escape, text).replace("\n", "\\n")
