"""The names a submission brings with it, checked before anything uses them.

Student ids and assignment folder names must match `SAFE_ID`: a letter or digit, then up to 63
letters, digits, dots, underscores or dashes (so no leading dot or dash, never `.` or `..`, no
glob characters `*?[]`, no path separators, no spaces, no control characters). File names in a
submission must match `SAFE_FILE`, which also allows spaces and parentheses ("lesson (1).ipynb").
Anything else is refused, never expanded, shortened or guessed at.
"""

import re

SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
SAFE_FILE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._()-]{0,127}")
ID_RULE = "1 to 64 letters, digits, '.', '_' or '-', the first a letter or digit"
FILE_RULE = "1 to 128 letters, digits, spaces, '.', '_', '-', '(' or ')', a letter or digit first"


def is_safe_id(name: str) -> bool:
    """Whether `name` may be a student id or an assignment folder's name."""
    return SAFE_ID.fullmatch(name) is not None


def is_safe_file_name(name: str) -> bool:
    """Whether `name` (one path component) may be a file name in a submission."""
    return SAFE_FILE.fullmatch(name) is not None and not name.endswith((" ", "."))
