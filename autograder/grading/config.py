"""The course directory's `nbgrader_config.py`: one file that `cnn-course grade` and nbgrader's
own commands (`nbgrader autograde`, `generate_feedback`, `export`, formgrader) all read, so that
they grade identically.
"""

import copy
import os
from dataclasses import dataclass, fields
from pathlib import Path

from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from ..sandbox.policy import Limits, require_positive

CONFIG_NAME = "nbgrader_config.py"
COURSE_ID = "cnn-course"
CODE_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
BLOCK_SOLUTIONS = "--IPKernelApp.exec_lines=__import__('sys').modules['solutions'] = None"

# nbgrader's autograde preprocessors, with LimitOutput swapped for TruncateOutput (a subclass
# that also caps characters: LimitOutput only counts lines, so one 10 MB line passes it), and
# IgnoreLogLines added (TensorFlow's C++ log lines on stderr would fail a correct test cell),
# and SanitizeNotebook last (grades are saved; the autograded notebook formgrader shows is clean).
SANITIZE = "autograder.grading.safe_html.SanitizeNotebook"
AUTOGRADE_PREPROCESSORS = (
    "nbgrader.preprocessors.Execute",
    "autograder.grading.preprocessors.IgnoreLogLines",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "autograder.grading.preprocessors.TruncateOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
    SANITIZE,
)

# nbgrader's feedback steps, plus the course's LatexToMathML (math that renders offline) and
# SanitizeNotebook (whatever notebook the page comes from, it carries nothing active).
FEEDBACK_PREPROCESSORS = (
    "nbgrader.preprocessors.GetGrades",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
    "autograder.grading.preprocessors.LatexToMathML",
    SANITIZE,
)
FEEDBACK_TEMPLATE = "cnn_course_feedback"


@dataclass(frozen=True)
class Settings:
    """The limits a grading run applies to every submission.

    Attributes:
        cell_timeout: seconds one cell may run before its kernel is interrupted.
        max_output_lines: lines of printed output kept per cell.
        max_output_chars: characters of printed output kept per cell.
        max_traceback: lines of a traceback kept per error.
        memory_mb, max_processes, notebook_timeout, tmp_mb: the caps of a submission's
            sandbox in `cnn-course grade` (see `autograder.sandbox.policy.Limits`).
    """

    cell_timeout: int = 120
    max_output_lines: int = 1000
    max_output_chars: int = 20_000
    max_traceback: int = 100
    memory_mb: int = Limits.memory_mb
    max_processes: int = Limits.processes
    notebook_timeout: int = Limits.notebook_seconds
    tmp_mb: int = Limits.tmp_mb

    def __post_init__(self):
        require_positive(self, [field.name for field in fields(self)])


TEMPLATE = '''\
"""nbgrader configuration of the {course_id} course directory, written by `cnn-course release`.

`cnn-course grade` reads this file as is, and so does any nbgrader command run in this
folder (`nbgrader autograde`, `nbgrader generate_feedback`, `nbgrader export`, formgrader):
both grade a submission identically. Change limits with `cnn-course release` or
`cnn-course grade --cell-timeout`, which rewrite this file.
"""

import importlib.util
import os

c = get_config()  # noqa: F821


def _folder(package, *parts):
    """A folder inside an installed package."""
    return os.path.join(os.path.dirname(importlib.util.find_spec(package).origin), *parts)


c.CourseDirectory.course_id = {course_id!r}
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))

# A local exchange folder, so that formgrader sees released assignments as released (the
# course hands out release/<assignment>/ itself; the exchange serves JupyterHub courses).
c.Exchange.root = os.path.join(c.CourseDirectory.root, "exchange")

# Release: solution regions become this stub; hidden tests are removed.
c.ClearSolutions.code_stub = {{"python": {code_stub!r}}}

# Autograde: a deleted test cell is put back and graded; an edited locked cell is restored
# (nbgrader does that always).
c.OverwriteCells.add_missing_cells = True

# Per-cell time limit: a cell running longer is interrupted, marked with this error, and
# grading goes on with the next cell.
c.Execute.timeout = {cell_timeout}
c.Execute.interrupt_on_timeout = True
c.Execute.startup_timeout = 120
c.Execute.error_on_timeout = {{
    "ename": "CellTimeoutError",
    "evalue": "this cell ran longer than {cell_timeout} s and was stopped",
    "traceback": [
        "CellTimeoutError: this cell ran longer than the per-cell time limit of {cell_timeout} s "
        "and was stopped. Look for a loop that never ends, or for work far larger than the "
        "exercise needs.",
    ],
}}

# Submissions run without the reference solutions, as on a student's computer, even where the
# grader has the `solutions` package installed: importing it fails in a grading kernel.
c.Execute.extra_arguments = [{block_solutions!r}]

# nbgrader's autograde steps, plus three of the course's: IgnoreLogLines drops TensorFlow's C++
# log lines from stderr (nbgrader fails a test cell that writes to stderr), TruncateOutput
# cuts megabytes of print before they reach the gradebook and the feedback, and
# SanitizeNotebook (last) leaves no script, no event handler and no remote load in the
# autograded notebook, which formgrader shows inside your Jupyter server.
c.Autograde.autograde_preprocessors = {preprocessors}
c.LimitOutput.max_lines = {max_output_lines}
c.LimitOutput.max_traceback = {max_traceback}
c.TruncateOutput.max_chars = {max_output_chars}
c.ClearMetadataPreprocessor.preserve_nb_metadata_mask = {{("language_info", "name"), "cnn_course"}}

# Feedback: the math of markdown cells becomes MathML as the feedback is written, the notebook
# is sanitized again, and the page (nbgrader's feedback template, less its MathJax script,
# with a Content-Security-Policy that allows no script) loads nothing from the network, so a
# student reads formulas offline.
c.GenerateFeedback.preprocessors = {feedback_preprocessors}
c.GenerateFeedback.HTMLExporter.template_name = {feedback_template!r}
c.GenerateFeedback.HTMLExporter.extra_template_basedirs = [
    _folder("autograder", "grading", "templates"),
    _folder("nbgrader", "server_extensions", "formgrader", "templates"),
]

# The grading sandbox of `cnn-course grade` (not used by nbgrader's own commands, which run
# submissions with your rights): caps of each submission's kernel.
c.SandboxedExecute.memory_mb = {memory_mb}
c.SandboxedExecute.processes = {max_processes}
c.SandboxedExecute.notebook_timeout = {notebook_timeout}
c.SandboxedExecute.tmp_mb = {tmp_mb}
# The code cells after a notebook's last test cell (experiments that train and draw) affect no
# score: `cnn-course grade` does not re-run them, and says so in each. True runs them too.
c.SandboxedExecute.run_after_tests = False
'''


def _python_list(items) -> str:
    return "[\n" + "".join(f"    {item!r},\n" for item in items) + "]"


def config_text(settings: Settings) -> str:
    """The text of `nbgrader_config.py` for `settings`."""
    preprocessors = _python_list(AUTOGRADE_PREPROCESSORS)
    return TEMPLATE.format(
        course_id=COURSE_ID,
        code_stub=CODE_STUB,
        cell_timeout=settings.cell_timeout,
        preprocessors=preprocessors,
        feedback_preprocessors=_python_list(FEEDBACK_PREPROCESSORS),
        feedback_template=FEEDBACK_TEMPLATE,
        max_output_lines=settings.max_output_lines,
        max_traceback=settings.max_traceback,
        max_output_chars=settings.max_output_chars,
        block_solutions=BLOCK_SOLUTIONS,
        memory_mb=settings.memory_mb,
        max_processes=settings.max_processes,
        notebook_timeout=settings.notebook_timeout,
        tmp_mb=settings.tmp_mb,
    )


def write_config(root: Path, settings: Settings) -> Path:
    """Write `root/nbgrader_config.py` for `settings`; return its path."""
    path = Path(root) / CONFIG_NAME
    path.write_text(config_text(settings))
    return path


def _user_config_dirs() -> list[str]:
    from jupyter_core.paths import jupyter_config_path

    return jupyter_config_path()


def load_config(root: Path) -> Config:
    """The configuration nbgrader itself would use in `root`.

    Like `nbgrader <command>` run in `root`: the instructor's own `nbgrader_config.py` files
    (Jupyter config folders, lowest priority first), then the course directory's.
    """
    config = Config()
    folders = [*reversed(_user_config_dirs()), os.fspath(root)]
    for folder in folders:
        path = Path(folder) / CONFIG_NAME
        if path.is_file():
            config.merge(PyFileConfigLoader(CONFIG_NAME, path=folder).load_config())
    return config


def read_settings(root: Path) -> Settings:
    """The limits the course directory's configuration sets (defaults where it sets none)."""
    config = load_config(root)
    defaults = Settings()

    def get(section, key, default):
        value = config[section].get(key, default) if section in config else default
        return int(value)

    return Settings(
        cell_timeout=get("Execute", "timeout", defaults.cell_timeout),
        max_output_lines=get("LimitOutput", "max_lines", defaults.max_output_lines),
        max_output_chars=get("TruncateOutput", "max_chars", defaults.max_output_chars),
        max_traceback=get("LimitOutput", "max_traceback", defaults.max_traceback),
        memory_mb=get("SandboxedExecute", "memory_mb", defaults.memory_mb),
        max_processes=get("SandboxedExecute", "processes", defaults.max_processes),
        notebook_timeout=get("SandboxedExecute", "notebook_timeout", defaults.notebook_timeout),
        tmp_mb=get("SandboxedExecute", "tmp_mb", defaults.tmp_mb),
    )


SANDBOXED_EXECUTE = "autograder.grading.sandboxed_execute.SandboxedExecute"
STOCK_EXECUTE = "nbgrader.preprocessors.Execute"


def grading_config(base: Config, course_root: Path, isolate: bool = True, cpus: int = 0) -> Config:
    """The configuration `cnn-course grade` runs nbgrader's Autograde with: the course's own,
    with nbgrader's Execute step replaced by the sandboxed one."""
    config = copy.deepcopy(base)
    steps = list(config.Autograde.get("autograde_preprocessors", AUTOGRADE_PREPROCESSORS))
    config.Autograde.autograde_preprocessors = [
        SANDBOXED_EXECUTE if step in (STOCK_EXECUTE, SANDBOXED_EXECUTE) else step for step in steps
    ]
    _sanitize_last(config.Autograde, "autograde_preprocessors")
    config.SandboxedExecute.course_root = os.fspath(course_root)
    config.SandboxedExecute.isolate = isolate
    config.SandboxedExecute.cpus = cpus
    return config


def _sanitize_last(section, key: str) -> None:
    """SanitizeNotebook as the last of a step list (a course directory configured before it
    existed, or by hand, gets it too)."""
    steps = [step for step in section[key] if step != SANITIZE]
    section[key] = [*steps, SANITIZE]


def feedback_config(base: Config) -> Config:
    """The configuration `cnn-course grade` writes feedback with: the course's own, with
    SanitizeNotebook as its last step."""
    config = copy.deepcopy(base)
    if "preprocessors" not in config.GenerateFeedback:
        config.GenerateFeedback.preprocessors = list(FEEDBACK_PREPROCESSORS)
    _sanitize_last(config.GenerateFeedback, "preprocessors")
    return config
