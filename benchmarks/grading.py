"""`cnn-course grade` vs stock `nbgrader autograde` on the same submissions, and the cost of
the grading sandbox.

Builds a course directory in a temporary folder, makes K sample submissions (perfect,
untouched, known mistakes), copies the course directory three times and grades the copies with
`cnn-course grade --jobs N` (sandboxed), `cnn-course grade --no-sandbox` (the same trusted
verdicts, kernels unconfined) and `nbgrader autograde` followed by
`nbgrader generate_feedback` (the same outputs: grades in the gradebook and HTML feedback).
It checks that the gradebooks hold identical scores and prints the wall times, their ratios,
the CPU time each used (the machine's busy time while it ran: run this on an idle machine) and
the sandbox's cost per submission.

    python benchmarks/grading.py [--count 8] [--jobs 2] [--kernel-threads N] [--keep DIR]
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from autograder.grading.config import Settings  # noqa: E402
from autograder.grading.course_dir import CourseDir  # noqa: E402
from autograder.grading.release import release  # noqa: E402
from autograder.grading.submissions import make_samples  # noqa: E402


def environment() -> dict:
    """This interpreter's environment, with the repository importable and its scripts on PATH."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def busy_seconds() -> float:
    """CPU seconds this machine has spent busy since boot (all cores, all processes: the
    sandboxed kernels are not all children a wait() accounts for, so rusage misses them)."""
    with open("/proc/stat") as handle:
        fields = [int(v) for v in handle.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def timed(command, cwd=None) -> tuple[float, float]:
    """(wall seconds, CPU seconds the machine spent meanwhile) of `command`: meaningful on an
    otherwise idle machine."""
    before = busy_seconds()
    start = time.perf_counter()
    subprocess.run(
        command,
        cwd=cwd,
        env=environment(),
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - start, busy_seconds() - before


def scores(course: CourseDir, assignment: str) -> dict:
    """{(student, grade id): score} of every submission in the gradebook."""
    with course.gradebook() as gb:
        return {
            (sub.student.id, grade.name): grade.score
            for sub in gb.find_assignment(assignment).submissions
            for notebook in sub.notebooks
            for grade in notebook.grades
        }


def build(folder: Path, count: int, assignment: str):
    """Release the course and write `count` samples; return (course, submissions folder)."""
    from solutions.mistakes import wrong_versions

    course = CourseDir(folder / "course")
    released = release(ROOT / "notebooks", course, [assignment], Settings(), say=lambda _: None)
    release_path = released[assignment][0]
    samples = make_samples(
        course.source / assignment / release_path.name,
        release_path,
        wrong_versions(assignment)[: max(0, count - 2)],
    )
    samples.samples = samples.samples[:count]
    samples.write(folder / "submissions")
    return course, folder / "submissions"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=8, help="submissions (at least 6)")
    parser.add_argument("--jobs", type=int, default=None, help="workers of cnn-course grade")
    parser.add_argument("--kernel-threads", type=int, default=None)
    parser.add_argument("--assignment", default="02_convolution")
    parser.add_argument("--keep", type=Path, default=None, help="work here and keep the files")
    parser.add_argument("--skip-stock", action="store_true", help="time cnn-course grade only")
    args = parser.parse_args(argv)
    if args.count < 6:
        parser.error("--count must be at least 6")

    tmp = None
    if args.keep is None:
        tmp = tempfile.TemporaryDirectory(prefix="grading-benchmark-")
        args.keep = Path(tmp.name)
    try:
        base, submissions = build(args.keep / "base", args.count, args.assignment)
        ours, open_, stock = (CourseDir(args.keep / n) for n in ("ours", "open", "stock"))
        for copy in (ours, open_, stock):
            shutil.copytree(base.root, copy.root)
        shutil.copytree(submissions, stock.submitted)

        def grade_command(course, *extra):
            command = [sys.executable, "-m", "autograder.cli", "grade", str(submissions)]
            command += ["--dir", str(course.root), *extra]
            if args.jobs:
                command += ["--jobs", str(args.jobs)]
            if args.kernel_threads is not None:
                command += ["--kernel-threads", str(args.kernel_threads)]
            return command

        ours_time, ours_cpu = timed(grade_command(ours))
        open_time, _ = timed(grade_command(open_, "--no-sandbox"))
        cost = (ours_time - open_time) / args.count
        print(f"cnn-course grade, sandboxed:   {ours_time:7.1f} s ({ours_cpu:.1f} s of CPU)")
        print(f"cnn-course grade --no-sandbox: {open_time:7.1f} s")
        print(
            f"sandbox cost: {ours_time / open_time:.2f}x, {cost:+.1f} s per submission "
            f"(with {args.jobs or 'all'} workers)"
        )
        if args.skip_stock:
            return 0

        nbgrader = [sys.executable, "-m", "nbgrader"]
        autograde = [*nbgrader, "autograde", args.assignment]
        feedback = [*nbgrader, "generate_feedback", args.assignment]
        autograde_time, autograde_cpu = timed(autograde, cwd=stock.root)
        feedback_time, feedback_cpu = timed(feedback, cwd=stock.root)
        stock_time = autograde_time + feedback_time
        stock_cpu = autograde_cpu + feedback_cpu

        ours_scores, stock_scores = scores(ours, args.assignment), scores(stock, args.assignment)
        same = ours_scores == stock_scores
        students = len({student for student, _ in ours_scores})
        print(f"submissions: {students} of {args.assignment}")
        print(f"cnn-course grade (autograde + feedback + CSV): {ours_time:7.1f} s")
        print(
            f"nbgrader autograde + generate_feedback:        {stock_time:7.1f} s "
            f"({autograde_time:.1f} + {feedback_time:.1f})"
        )
        print(
            f"speed-up: {stock_time / ours_time:.2f}x (autograde alone: "
            f"{autograde_time / ours_time:.2f}x)"
        )
        print(
            f"per submission: {ours_time / students:.1f} s ours, "
            f"{stock_time / students:.1f} s stock"
        )
        print(
            f"CPU per submission (the machine's busy time): {ours_cpu / students:.1f} s "
            f"ours, {stock_cpu / students:.1f} s stock ({stock_cpu / ours_cpu:.2f}x)"
        )
        print("scores identical" if same else "SCORES DIFFER")
        if not same:
            for key in sorted(set(ours_scores) | set(stock_scores)):
                if ours_scores.get(key) != stock_scores.get(key):
                    print(f"  {key}: ours {ours_scores.get(key)}, stock {stock_scores.get(key)}")
        return 0 if same else 1
    finally:
        if tmp is not None:
            tmp.cleanup()


if __name__ == "__main__":
    sys.exit(main())
