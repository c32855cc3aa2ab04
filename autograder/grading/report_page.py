"""`cnn-course report`: the class report as one self-contained HTML page, plus CSV files.

The page needs nothing but itself: its plots are inline PNG images (matplotlib, Agg), its
style is inline, it holds no script, and its Content-Security-Policy allows no script and no
request (images only from `data:`). Every text in it that came from the gradebook or a
submission (student ids, reasons, mistake titles) is HTML-escaped; every CSV cell goes through
`report.spreadsheet_cell`.
"""

import base64
import csv
import html
import io
from datetime import datetime
from pathlib import Path

from .course_dir import CourseDir
from .errors import CourseError
from .report import spreadsheet_cell
from .report_canvas import write_canvas_csv
from .report_class import LessonReport, class_report

POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
FILES = ("report.html", "scores.csv", "checks.csv", "mistakes.csv", "canvas-grades.csv")
STYLE = """
body { font-family: sans-serif; margin: 2em auto; padding: 0 1em; max-width: 70em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.bar { display: inline-block; height: 0.8em; background: #4a8; margin-right: 0.4em; }
section { border-top: 2px solid #444; margin-top: 2em; }
figure { margin: 0; }
.none { color: #666; font-style: italic; }
td ul { margin: 0; padding-left: 1.2em; }
"""


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def _number(value, digits: int = 2) -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)


def _png(figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _plain(text: str) -> str:
    """`text` as matplotlib shows it literally (no mathtext)."""
    return str(text).replace("$", r"\$")


def score_histogram(lesson: LessonReport) -> str:
    """The distribution of total scores, as a data: URL of a PNG."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(5.5, 2.6))
    axes = figure.subplots()
    top = max(lesson.max_score, max(lesson.scores, default=0.0), 1.0)
    if top <= 40:  # one bar per whole point: 3.5 falls in the bar of 4
        bins = [edge - 0.5 for edge in range(int(top) + 2)]
    else:
        bins = [top * i / 20 for i in range(21)]
    axes.hist(lesson.scores, bins=bins, color="#4a8", edgecolor="#264")
    axes.set_xlabel(f"score (of {top:g} points)")
    axes.set_ylabel("submissions")
    axes.yaxis.get_major_locator().set_params(integer=True)
    return _png(figure)


def check_chart(lesson: LessonReport) -> str:
    """Full / partial / zero points per check as stacked bars, as a data: URL of a PNG."""
    from matplotlib.figure import Figure

    checks = lesson.checks
    figure = Figure(figsize=(5.5, 0.35 * len(checks) + 1.0))
    axes = figure.subplots()
    names = [_plain(c.grade_id) for c in checks]
    left = [0] * len(checks)
    for label, counts, colour in (
        ("full", [c.full for c in checks], "#4a8"),
        ("partial", [c.partial for c in checks], "#db3"),
        ("zero", [c.zero for c in checks], "#c54"),
        ("not scored", [c.unscored for c in checks], "#aaa"),
    ):
        axes.barh(names, counts, left=left, color=colour, label=label)
        left = [a + b for a, b in zip(left, counts, strict=True)]
    axes.invert_yaxis()
    axes.set_xlabel("submissions")
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    return _png(figure)


def _table(header, rows, empty: str) -> str:
    if not rows:
        return f'<p class="none">{_e(empty)}</p>'
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _td(value, numeric: bool = False) -> str:
    return f'<td class="n">{_e(value)}</td>' if numeric else f"<td>{_e(value)}</td>"


def _list(items) -> str:
    return "<td><ul>" + "".join(f"<li>{_e(item)}</li>" for item in items) + "</ul></td>"


def lesson_section(lesson: LessonReport) -> str:
    """One lesson's part of the page."""
    name = _e(lesson.assignment)
    parts = [f'<section id="lesson-{name}"><h2>{name}</h2>']
    parts.append(
        _table(
            ["submissions", "mean", "median", "points", "held for review", "not graded/run"],
            [
                [
                    _td(len(lesson.submissions), True),
                    _td(_number(lesson.mean), True),
                    _td(_number(lesson.median), True),
                    _td(_number(lesson.max_score), True),
                    _td(len(lesson.held), True),
                    _td(len(lesson.failed), True),
                ]
            ],
            "",
        )
    )
    if lesson.submissions:
        parts.append(
            f'<figure><img class="plot" alt="score distribution of {name}" '
            f'src="{score_histogram(lesson)}"><figcaption>Score distribution</figcaption></figure>'
        )
    parts.append("<h3>Checks</h3>")
    parts.append(
        "<p>Submissions by the points each check gave them (full points: the share of "
        "scored submissions that got all of the check's points).</p>"
    )
    rows = []
    for check in lesson.checks:
        rate = check.pass_rate
        bar = "" if rate is None else f'<span class="bar" style="width:{rate * 8:.2f}em"></span>'
        shown = "-" if rate is None else f"{rate:.0%}"
        rows.append(
            [
                _td(check.grade_id),
                _td(_number(check.points), True),
                _td(check.full, True),
                _td(check.partial, True),
                _td(check.zero, True),
                _td(check.unscored, True),
                f"<td>{bar}{_e(shown)}</td>",
            ]
        )
    parts.append(
        _table(
            ["check", "points", "full", "partial", "zero", "not scored", "full points"],
            rows,
            "no checks",
        )
    )
    if lesson.checks and lesson.submissions:
        parts.append(
            f'<figure><img class="plot" alt="points per check of {name}" '
            f'src="{check_chart(lesson)}"><figcaption>Points per check</figcaption></figure>'
        )
    parts.append("<h3>Catalogued mistakes</h3>")
    rows = [
        [
            _td(m.title),
            _td(", ".join(m.checks)),
            _td(len(m.students), True),
            _td(", ".join(m.students)),
        ]
        for m in lesson.mistakes
    ]
    parts.append(
        _table(["mistake", "check", "students", "who"], rows, "no catalogued mistake was named")
    )
    parts.append("<h3>Held for review</h3>")
    rows = [[_td(s.student), _list(s.review)] for s in lesson.held]
    parts.append(_table(["student", "why"], rows, "none"))
    parts.append("<h3>Not graded, or not run to the end</h3>")
    rows = [[_td(s.student), _td(s.status), _td(s.reason)] for s in lesson.failed]
    parts.append(_table(["student", "status", "why"], rows, "none"))
    parts.append("<h3>Slowest to grade</h3>")
    rows = [
        [
            _td(s.student),
            _td(f"{s.seconds:.1f}", True),
            _td(f"{_number(s.score)}/{_number(s.max_score)}", True),
        ]
        for s in lesson.slowest()
    ]
    parts.append(_table(["student", "seconds", "score"], rows, "no grading times recorded"))
    parts.append("</section>")
    return "\n".join(parts)


def report_html(lessons: list[LessonReport], title: str) -> str:
    """The whole page."""
    links = " · ".join(
        f'<a href="#lesson-{_e(lesson.assignment)}">{_e(lesson.assignment)}</a>'
        for lesson in lessons
    )
    stamp = datetime.now().strftime("%Y-%m-%d %H:%M")
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>\n"
        f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">\n'
        f"<title>{_e(title)}</title><style>{STYLE}</style></head><body>\n"
        f"<h1>{_e(title)}</h1>\n<p>Written {stamp}. Lessons: {links}</p>\n"
        + "\n".join(lesson_section(lesson) for lesson in lessons)
        + "\n</body></html>\n"
    )


def _write_csv(path: Path, header, rows) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([spreadsheet_cell(h) for h in header])
        for row in rows:
            writer.writerow([spreadsheet_cell(value) for value in row])


def write_csvs(lessons: list[LessonReport], out: Path) -> None:
    """scores.csv, checks.csv and mistakes.csv: the page's tables, one row per item."""
    _write_csv(
        out / "scores.csv",
        ["assignment", "student", "score", "max", "status", "seconds", "why", "review"],
        [
            [
                lesson.assignment,
                s.student,
                s.score,
                s.max_score,
                s.status,
                "" if s.seconds is None else round(s.seconds, 2),
                s.reason,
                "; ".join(s.review),
            ]
            for lesson in lessons
            for s in lesson.submissions
        ],
    )
    _write_csv(
        out / "checks.csv",
        ["assignment", "check", "points", "full", "partial", "zero", "not scored"],
        [
            [lesson.assignment, c.grade_id, c.points, c.full, c.partial, c.zero, c.unscored]
            for lesson in lessons
            for c in lesson.checks
        ],
    )
    _write_csv(
        out / "mistakes.csv",
        ["assignment", "mistake id", "mistake", "checks", "students", "who"],
        [
            [
                lesson.assignment,
                m.mistake_id,
                m.title,
                " ".join(m.checks),
                len(m.students),
                " ".join(m.students),
            ]
            for lesson in lessons
            for m in lesson.mistakes
        ],
    )


def _prepare(out: Path) -> None:
    """Create `out`; CourseError if it cannot be written or already holds a report."""
    taken = [name for name in FILES if (out / name).exists()]
    if taken:
        raise CourseError(
            f"{out} already holds a report ({', '.join(taken)}); pass another --out folder or "
            "delete those files"
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".cnn-course-write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise CourseError(
            f"cannot write the report to {out} ({exc.strerror or exc}); pass --out with a "
            "folder you can write"
        ) from None


def default_out(course: CourseDir) -> Path:
    return course.root / "reports" / datetime.now().strftime("%Y-%m-%dT%H%M%S")


def write_report(course: CourseDir, assignments=(), out: Path | None = None) -> list[Path]:
    """Write the page and the CSV files of `assignments` (default: all) to `out`."""
    lessons = class_report(course, assignments)
    if not lessons:
        raise CourseError(
            f"the gradebook of {course.root} holds no assignment; release and grade first"
        )
    out = Path(out) if out is not None else default_out(course)
    _prepare(out)
    (out / "report.html").write_text(
        report_html(lessons, f"Class report: {course.root.name}"), encoding="utf-8"
    )
    write_csvs(lessons, out)
    write_canvas_csv(course, [lesson.assignment for lesson in lessons], out / "canvas-grades.csv")
    return [out / name for name in FILES]
