"""A class graded on a local Dask cluster with one worker killed, against one machine's run.

Releases a few lessons (default 01, 03 and 05, the cheapest to grade), makes a class of
`--students` students who each hand in every lesson (a perfect, untouched or known-wrong
sample, in turn), copies the course directory twice and grades the class:

- on one machine: `cnn-course grade --jobs N` (this machine's worker processes);
- on a Dask `LocalCluster` of N worker processes (`--scheduler local --jobs N`), killing one
  worker process (SIGKILL, while it grades) after the first `--kill-after` results.

It checks that nothing was lost (every submission graded exactly once) and that the two
gradebooks are identical (every grade's auto score, max score and manual-grading flag, every
comment, late penalty and time stamp), and prints both wall times.

    python benchmarks/cluster.py [--students 14] [--jobs 2] [--lessons 01_mlp_limits ...]

Not run in CI: on a 2-core machine a class of 42 submissions takes minutes per run.
"""

import argparse
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from autograder.grading.config import Settings  # noqa: E402
from autograder.grading.course_dir import CourseDir  # noqa: E402
from autograder.grading.grade import grade  # noqa: E402
from autograder.grading.release import release  # noqa: E402
from autograder.grading.submissions import make_samples  # noqa: E402

LESSONS = ("01_mlp_limits", "03_padding", "05_pooling")


def build(folder: Path, lessons, students: int):
    """Release `lessons` and write the class's submissions; return (course, submissions)."""
    from solutions.mistakes import wrong_versions

    course = CourseDir(folder / "course")
    released = release(ROOT / "notebooks", course, list(lessons), Settings(), say=lambda _: None)
    submissions = folder / "submissions"
    for lesson in lessons:
        release_path = released[lesson][0]
        samples = make_samples(
            course.source / lesson / release_path.name,
            release_path,
            wrong_versions(lesson)[:4],
        )
        samples.write(folder / "samples" / lesson)
        kinds = sorted(p.name for p in (folder / "samples" / lesson).iterdir())
        for number in range(students):
            kind = kinds[number % len(kinds)]
            shutil.copytree(
                folder / "samples" / lesson / kind / lesson,
                submissions / f"student-{number + 1:03d}" / lesson,
            )
    return course, submissions


def gradebook_rows(course: CourseDir) -> dict:
    """Every grade, comment, late penalty and time stamp of every submission."""
    rows = {}
    with course.gradebook() as gb:
        for assignment in gb.assignments:
            for sub in assignment.submissions:
                key = (assignment.name, sub.student.id)
                rows[(*key, "timestamp")] = sub.timestamp
                for nb in sub.notebooks:
                    rows[(*key, nb.name, "late")] = nb.late_submission_penalty
                    for g in nb.grades:
                        rows[(*key, nb.name, g.name)] = (
                            g.auto_score,
                            g.max_score,
                            g.needs_manual_grade,
                        )
                    for c in nb.comments:
                        rows[(*key, nb.name, "comment", c.name)] = c.auto_comment
    return rows


def scores(course: CourseDir) -> dict:
    """{(assignment, student): total score} in the gradebook."""
    with course.gradebook() as gb:
        return {
            (a.name, sub.student.id): sub.score for a in gb.assignments for sub in a.submissions
        }


def busy_worker() -> int | None:
    """The pid of a Dask worker process of this run that is grading (has a kernel)."""
    import psutil

    for child in psutil.Process().children(recursive=True):
        try:
            if "spawn_main" in " ".join(child.cmdline()) and child.children(recursive=True):
                return child.pid
        except psutil.Error:
            continue
    return None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=14, help="students (each: every lesson)")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes of both runs")
    parser.add_argument("--lessons", nargs="+", default=list(LESSONS))
    parser.add_argument("--kill-after", type=int, default=3, help="results before the kill")
    parser.add_argument("--keep", type=Path, default=None, help="work here and keep the files")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="with --keep: take the class and the one-machine run of an earlier run there",
    )
    args = parser.parse_args(argv)

    tmp = None
    if args.keep is None:
        tmp = tempfile.TemporaryDirectory(prefix="cluster-benchmark-")
        args.keep = Path(tmp.name)
    try:
        one, spread = CourseDir(args.keep / "one"), CourseDir(args.keep / "cluster")
        base, submissions = (
            CourseDir(args.keep / "base" / "course"),
            args.keep / "base" / "submissions",
        )
        reuse = args.reuse and (one.root / "grades").is_dir()
        if not reuse:
            base, submissions = build(args.keep / "base", args.lessons, args.students)
            shutil.copytree(base.root, one.root)
        shutil.rmtree(spread.root, ignore_errors=True)
        shutil.copytree(base.root, spread.root)
        total = args.students * len(args.lessons)
        print(f"class: {args.students} students x {len(args.lessons)} lessons = {total}")

        if reuse:
            print("one machine: the earlier run's (--reuse)", flush=True)
            one_time = float("nan")
        else:
            start = time.perf_counter()
            grade(one, submissions, jobs=args.jobs, say=lambda _: None)
            one_time = time.perf_counter() - start
            print(f"one machine, {args.jobs} worker processes:   {one_time:7.1f} s", flush=True)

        results, killed = [], []

        def say(line: str) -> None:
            if line.startswith("["):
                results.append(line)
            if len(results) >= args.kill_after and not killed:
                victim = busy_worker()
                if victim is not None:
                    os.kill(victim, signal.SIGKILL)
                    killed.append((victim, len(results)))

        start = time.perf_counter()
        run = grade(spread, submissions, jobs=args.jobs, say=say, scheduler="local")
        spread_time = time.perf_counter() - start
        print(f"LocalCluster, {args.jobs} worker processes: {spread_time:7.1f} s")
        for pid, after in killed:
            print(f"killed worker process {pid} (SIGKILL, while grading) after {after} results")

        graded = sorted((o.assignment, o.student) for o in run.outcomes)
        once = graded == sorted(set(graded)) and len(graded) == total
        same = gradebook_rows(spread) == gradebook_rows(one)
        scores_same = scores(spread) == scores(one)
        print(
            f"per submission: {one_time / total:.1f} s one machine, "
            f"{spread_time / total:.1f} s cluster"
        )
        print(f"each submission graded once, none lost: {once} ({len(graded)} of {total})")
        print(f"gradebooks identical: {same}; scores identical: {scores_same}")
        ok = bool(killed) and once and same and scores_same
        if not killed:
            print("NO WORKER WAS KILLED (none was found grading)")
        return 0 if ok else 1
    finally:
        if tmp is not None:
            tmp.cleanup()


if __name__ == "__main__":
    sys.exit(main())
