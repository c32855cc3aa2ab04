"""The `cnn-course` command: keep notebooks in sync with `solutions/`, release, grade, report,
demo.

Errors in what the user gave (a missing folder, an unknown assignment, ...) are printed as
one line, "cnn-course <command>: error: <what is wrong>; <what to do>", with exit status 2.
"""

import argparse
import filecmp
import sys
import tempfile
from pathlib import Path

from .grading.display import shown
from .grading.errors import CourseError
from .grading.intake import CAPS

DEFAULT_DIR = "course-dir"
DEFAULT_NOTEBOOKS = "notebooks"
CHECKOUT_NOTEBOOKS = Path(__file__).resolve().parents[1] / DEFAULT_NOTEBOOKS


def default_notebooks() -> Path:
    """./notebooks when there is one, else the notebooks of the checkout this package runs
    from, else those the instructor's package (cnn-course-solutions) installed."""
    here = Path(DEFAULT_NOTEBOOKS)
    if here.is_dir():
        return here
    if CHECKOUT_NOTEBOOKS.is_dir():
        return CHECKOUT_NOTEBOOKS
    installed = _installed_lessons()
    return installed if installed is not None else here


def _installed_lessons() -> Path | None:
    import importlib.util

    try:
        spec = importlib.util.find_spec("solutions.lessons")
    except ImportError:
        return None
    folders = list(spec.submodule_search_locations or ()) if spec else []
    return Path(folders[0]) if folders else None


INSTRUCTOR_PACKAGE = (
    "this command needs the instructor's package with the reference solutions: "
    "pip install cnn-course-solutions (or pip install -e ./solutions in a checkout)"
)


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, like every other error of the command."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}; see `{self.prog} --help`\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, got {value}")
    return value


def _add_dir(parser, help_text="the nbgrader course directory"):
    parser.add_argument(
        "--dir",
        "--course",
        dest="dir",
        type=Path,
        default=Path(DEFAULT_DIR),
        help=f"{help_text} (default: %(default)s)",
    )


def _add_notebooks(parser):
    parser.add_argument(
        "--notebooks",
        type=Path,
        default=default_notebooks(),
        help="the source notebooks, <assignment>/<name>.ipynb (default: ./notebooks, or the "
        "course checkout's)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="cnn-course",
        description="Author, release and grade the Keras CNN course with nbgrader.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")

    sync = commands.add_parser("sync", help="write the generated notebook cells from solutions/")
    _add_notebooks(sync)
    sync.add_argument("--check", action="store_true", help="only report drift (exit 1 if any)")

    refs = commands.add_parser("references", help="regenerate the stored reference outputs")
    refs.add_argument("assignments", nargs="*", help="assignments (default: all)")
    _add_notebooks(refs)
    refs.add_argument(
        "--check", action="store_true", help="compare with the shipped files byte for byte"
    )

    release = commands.add_parser("release", help="build the course directory, release notebooks")
    _add_dir(release)
    _add_notebooks(release)
    release.add_argument("--assignment", action="append", help="release only this (repeatable)")
    release.add_argument(
        "--cell-timeout",
        type=_positive_int,
        default=120,
        help="seconds a cell may run when grading (default: %(default)s)",
    )

    grade = commands.add_parser("grade", help="autograde a folder of submissions")
    grade.add_argument(
        "submissions",
        type=Path,
        help="folder of <student>/<assignment>/<notebook>.ipynb (or <student>.ipynb files "
        "with --assignment); student and assignment folder names must be 1-64 letters, digits, "
        "'.', '_' or '-', starting with a letter or digit (others are refused, unread)",
    )
    _add_dir(grade)
    grade.add_argument("--assignment", help="grade only this assignment")
    grade.add_argument(
        "--jobs", type=_positive_int, default=None, help="worker processes (default: cores)"
    )
    grade.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        default=None,
        help="grade on a Dask cluster instead of this machine's processes: the address of its "
        "scheduler (tcp://host:8786, as `dask scheduler` prints it), or the JSON file of "
        "`dask scheduler --scheduler-file`, or 'local' to start one here with --jobs worker "
        "processes. Each worker (`dask worker ADDRESS --nthreads 1`) needs the course installed "
        "(pip install -e . -e ./solutions) and bubblewrap; this machine alone writes the course "
        "directory and gradebook (default: this machine's processes)",
    )
    grade.add_argument("--regrade", action="store_true", help="grade already graded students again")
    grade.add_argument(
        "--cell-timeout",
        type=_positive_int,
        default=None,
        help="seconds a cell may run (default: the course directory's setting)",
    )
    grade.add_argument("--csv", type=Path, default=None, help="write grades here (a new file)")
    grade.add_argument(
        "--kernel-threads",
        type=int,
        default=None,
        help="NumPy/TensorFlow threads per kernel (default: cores // jobs; 0: no limit)",
    )
    grade.add_argument(
        "--memory",
        type=_positive_int,
        default=None,
        metavar="MB",
        help="memory cap of a submission's kernel (default: the course directory's, 4096)",
    )
    grade.add_argument(
        "--max-processes",
        type=_positive_int,
        default=None,
        help="cap on a kernel's processes and threads (default: the course directory's, 256)",
    )
    grade.add_argument(
        "--notebook-timeout",
        type=_positive_int,
        default=None,
        metavar="SECONDS",
        help="time for a whole notebook (default: the course directory's, 900)",
    )
    grade.add_argument(
        "--max-file-mb",
        type=_positive_int,
        default=CAPS.file_mb,
        metavar="MB",
        help="skip, without reading it, any file of a submission larger than this (a notebook "
        "over it scores 0) (default: %(default)s)",
    )
    grade.add_argument(
        "--max-files",
        type=_positive_int,
        default=CAPS.files,
        help="take at most this many files of one submission (default: %(default)s)",
    )
    grade.add_argument(
        "--max-submission-mb",
        type=_positive_int,
        default=CAPS.total_mb,
        metavar="MB",
        help="take at most this many MB of one submission's files in all, notebooks first "
        "(default: %(default)s)",
    )
    grade.add_argument(
        "--no-sandbox",
        action="store_true",
        help="UNSAFE: run submissions with your own rights (only where bubblewrap cannot run, "
        "for submissions you trust)",
    )

    demo = commands.add_parser("demo", help="the whole loop on sample submissions, offline")
    demo.add_argument("--dir", type=Path, default=None, help="work here (default: a temp dir)")
    _add_notebooks(demo)
    demo.add_argument(
        "--jobs", type=_positive_int, default=None, help="worker processes (default: cores)"
    )
    demo.add_argument("--assignment", action="append", help="only this assignment (repeatable)")
    demo.add_argument(
        "--broken", action="store_true", help="also grade broken submissions (timeouts, ...)"
    )
    demo.add_argument(
        "--mistakes",
        type=_positive_int,
        default=3,
        help="wrong versions graded per lesson (default: %(default)s)",
    )
    demo.add_argument(
        "--all-mistakes", action="store_true", help="grade every wrong version of every lesson"
    )
    demo.add_argument(
        "--hostile",
        action="store_true",
        help="also grade lesson 02's cheating and attacking submissions (needs bubblewrap)",
    )
    demo.add_argument(
        "--cell-timeout",
        type=_positive_int,
        default=120,
        help="seconds a cell may run (default: %(default)s)",
    )

    mutants = commands.add_parser(
        "mutants", help="run a lesson's test cells on small wrong changes of its reference"
    )
    mutants.add_argument("lesson", help="the lesson, e.g. 02_convolution")
    mutants.add_argument(
        "--only",
        nargs="+",
        action="extend",
        metavar="NAME",
        help="only mutants of these objects (a class takes its methods; or Class.method), or "
        "these mutant ids (as --list shows them, after 'file:line: ')",
    )
    mutants.add_argument(
        "--limit", type=_positive_int, default=None, help="at most this many mutants, at random"
    )
    mutants.add_argument(
        "--seed", type=int, default=0, help="seed of the --limit draw (default: %(default)s)"
    )
    mutants.add_argument(
        "--timeout",
        type=_positive_int,
        default=None,
        metavar="SECONDS",
        help="a mutant running longer is killed (default: 10 times the reference's run + 10)",
    )
    mutants.add_argument("--list", action="store_true", help="list the mutants, run nothing")
    _add_notebooks(mutants)

    roster = commands.add_parser(
        "roster", help="add or update students' names from a CSV (nbgrader's import format)"
    )
    roster.add_argument("csv", type=Path, help="CSV with columns id,first_name,last_name,email")
    _add_dir(roster)

    export = commands.add_parser("export", help="export the gradebook to CSV (nbgrader export)")
    _add_dir(export)
    export.add_argument(
        "--to", type=Path, default=Path("grades.csv"), help="a new CSV file (default: %(default)s)"
    )
    export.add_argument(
        "--assignment", action="append", default=[], help="export only this one (repeatable)"
    )

    report = commands.add_parser(
        "report", help="the class report (HTML page with plots, CSV files, Canvas grades CSV)"
    )
    _add_dir(report)
    report.add_argument(
        "--assignment", action="append", default=[], help="only this assignment (repeatable)"
    )
    report.add_argument(
        "--out",
        type=Path,
        default=None,
        help="folder to write report.html and the CSV files to (default: <dir>/reports/<time>)",
    )
    return parser


# --- commands ------------------------------------------------------------------------------------


def _echo(message: str) -> None:
    """Print at once, so progress shows live in a pipe or a CI log."""
    print(message, flush=True)


def _notebook_paths(notebooks: Path) -> list[Path]:
    from .authoring.sync import lesson_notebooks

    if not notebooks.is_dir():
        raise CourseError(
            f"notebooks folder {notebooks} does not exist; pass --notebooks PATH, or install "
            "the instructor's package, which ships the lessons (pip install cnn-course-solutions)"
        )
    return lesson_notebooks(notebooks)


def cmd_sync(args) -> int:
    from .authoring.sync import sync_notebook

    drifts = []
    for path in _notebook_paths(args.notebooks):
        try:
            drifts += sync_notebook(path, write=not args.check)
        except LookupError as exc:
            raise CourseError(f"{path}: {exc}") from exc
    if args.check:
        for drift in drifts:
            print(f"{drift}; run `cnn-course sync`")
        if not drifts:
            print("all generated cells match solutions/")
        return 1 if drifts else 0
    for drift in drifts:
        print(f"rewrote {drift.notebook}: cell {drift.cell_index} ({', '.join(drift.objects)})")
    if not drifts:
        print("all generated cells already match solutions/")
    return 0


def cmd_references(args) -> int:
    from . import lessons
    from .authoring import references
    from .references import path as shipped_path

    known = references.generators(args.notebooks) if args.notebooks.is_dir() else {}
    assignments = args.assignments or sorted(known)
    without = [a for a in assignments if a not in known and a in lessons.names()]
    for assignment in without:  # a lesson need not store outputs: nothing to do for it
        print(f"{assignment} stores no reference outputs (no reference_outputs in its cases.py)")
    assignments = [a for a in assignments if a not in without]
    if not assignments and without:
        return 0
    unknown = [a for a in assignments if a not in known]
    if unknown:
        raise CourseError(
            f"no stored references for {unknown[0]!r} (lessons with references: "
            f"{', '.join(sorted(known)) or 'none'}); check the name and --notebooks"
        )
    try:
        if not args.check:
            for path in references.write_references(assignments):
                print(f"wrote {path}")
            return 0
        with tempfile.TemporaryDirectory() as tmp:
            written = references.write_references(assignments, Path(tmp))
            stale = [
                p.name
                for p in written
                if not shipped_path(p.stem).is_file()
                or not filecmp.cmp(p, shipped_path(p.stem), shallow=False)
            ]
    except ModuleNotFoundError as exc:
        raise CourseError(
            f"{exc}; the references are computed from the solutions package: "
            "pip install -e ./solutions"
        ) from exc
    for name in stale:
        print(f"{name} differs from what solutions/ gives; run `cnn-course references`")
    if not stale:
        print(f"stored references match ({', '.join(p.name for p in written)})")
    return 1 if stale else 0


def cmd_release(args) -> int:
    from .grading.config import Settings
    from .grading.course_dir import CourseDir
    from .grading.release import release

    course = CourseDir(args.dir)
    release(
        args.notebooks,
        course,
        args.assignment,
        Settings(cell_timeout=args.cell_timeout),
        say=_echo,
    )
    print(
        f"course directory {course.root}: hand out release/<assignment>/, then grade with "
        f"`cnn-course grade <submissions> --dir {args.dir}`"
    )
    return 0


def cmd_grade(args) -> int:
    from .grading.course_dir import CourseDir
    from .grading.grade import grade, refused
    from .grading.intake import Caps
    from .grading.progress import TerminalStatus

    terminal = TerminalStatus()  # progress lines, and a bar below them on a terminal
    try:
        run = grade(
            CourseDir(args.dir),
            args.submissions,
            assignment=args.assignment,
            jobs=args.jobs,
            regrade=args.regrade,
            cell_timeout=args.cell_timeout,
            csv_path=args.csv,
            kernel_threads=args.kernel_threads,
            say=terminal.echo,
            isolate=not args.no_sandbox,
            memory_mb=args.memory,
            max_processes=args.max_processes,
            notebook_timeout=args.notebook_timeout,
            caps=Caps(args.max_file_mb, args.max_files, args.max_submission_mb),
            status=terminal.status,
            scheduler=args.scheduler,
        )
    finally:
        terminal.close()
    return 1 if not run.outcomes and refused(run) else 0


def cmd_demo(args) -> int:
    from .grading.demo import run_demo

    ok = run_demo(
        args.notebooks,
        args.dir,
        jobs=args.jobs,
        assignments=args.assignment,
        broken=args.broken,
        cell_timeout=args.cell_timeout,
        say=_echo,
        hostile=args.hostile,
        mistakes=None if args.all_mistakes else args.mistakes,
    )
    return 0 if ok else 1


def cmd_mutants(args) -> int:
    from . import lessons
    from .authoring.mutants import lesson_mutants, run_lesson

    if args.list:
        _, found = lesson_mutants(args.lesson, args.only, args.limit, args.seed)
        for mutant in found:
            print(mutant.description)
        print(f"{len(found)} mutants")
        return 0
    notebook = args.notebooks / args.lesson / f"{lessons.topic(args.lesson)}.ipynb"
    summary = run_lesson(
        args.lesson,
        notebook,
        only=args.only,
        limit=args.limit,
        seed=args.seed,
        timeout=args.timeout,
        say=_echo,
    )
    return 1 if summary.count("survived") else 0


def cmd_roster(args) -> int:
    from .grading.course_dir import CourseDir
    from .grading.roster import import_roster

    added, updated = import_roster(CourseDir(args.dir), args.csv)
    print(f"roster: {added} students added, {updated} updated in the gradebook")
    return 0


def cmd_export(args) -> int:
    from .grading.course_dir import CourseDir
    from .grading.report import export_csv

    course = CourseDir(args.dir)
    course.require_built()
    path = export_csv(course, args.to, assignments=args.assignment)
    print(f"exported the gradebook to {path}")
    return 0


def cmd_report(args) -> int:
    from .grading.course_dir import CourseDir
    from .grading.report_page import write_report

    paths = write_report(CourseDir(args.dir), args.assignment, args.out)
    print(f"class report: {paths[0]}")
    print(f"CSV files: {', '.join(p.name for p in paths[1:])} (canvas-grades.csv: Canvas's import)")
    return 0


COMMANDS = {
    "sync": cmd_sync,
    "references": cmd_references,
    "release": cmd_release,
    "grade": cmd_grade,
    "demo": cmd_demo,
    "mutants": cmd_mutants,
    "roster": cmd_roster,
    "export": cmd_export,
    "report": cmd_report,
}


def main(argv=None) -> int:
    """Run `cnn-course`; return the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except CourseError as exc:
        print(f"cnn-course {args.command}: error: {shown(exc)}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] != "solutions":
            raise
        print(f"cnn-course {args.command}: error: {INSTRUCTOR_PACKAGE}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"cnn-course {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
