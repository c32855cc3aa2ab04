"""One submission never costs another: a worker killed mid-grading, or `cnn-course grade`
itself killed, affects only the submissions being graded, and a rerun resumes."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from autograder.grading.grade import grade

ASSIGNMENT = "01_fixture"


def children(pid: int) -> set[int]:
    """Every living descendant of process `pid`."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def scores(course) -> dict[str, float]:
    with course.gradebook() as gb:
        return {s.student.id: s.score for s in gb.find_assignment(ASSIGNMENT).submissions}


def test_a_killed_worker_costs_only_its_own_submission(course, samples, tmp_path):
    samples.write(tmp_path / "subs")
    result = {}
    run = threading.Thread(
        target=lambda: result.update(run=grade(course, tmp_path / "subs", jobs=2, say=print))
    )
    run.start()
    victim = None
    deadline = time.monotonic() + 60
    while victim is None and time.monotonic() < deadline:
        workers = [p for p in children(os.getpid()) if b"spawn_main" in _cmdline(p)]
        busy = [p for p in workers if any(b"sandbox" in _cmdline(c) for c in children(p))]
        victim = busy[0] if busy else None
        time.sleep(0.2)
    assert victim is not None, "no worker started grading"
    os.kill(victim, signal.SIGKILL)
    run.join(timeout=600)
    outcomes = result["run"].outcomes
    assert {o.student: o.score for o in outcomes} == samples.expected()
    assert scores(course) == samples.expected()


def test_killing_cnn_course_kills_its_workers_and_a_rerun_resumes(
    course, samples, tmp_path, cli_env
):
    samples.write(tmp_path / "subs")
    command = [sys.executable, "-m", "autograder.cli", "grade", str(tmp_path / "subs")]
    command += ["--dir", str(course.root), "--jobs", "2"]
    process = subprocess.Popen(command, env=cli_env, stdout=subprocess.PIPE, text=True)
    started = False  # unreadable submissions are recorded before the workers start
    for line in process.stdout:
        started = started or line.startswith("grading ")
        if started and line.startswith("["):
            break
    descendants = children(process.pid)
    assert descendants, "cnn-course had no workers"
    process.kill()
    process.wait()
    deadline = time.monotonic() + 20
    while any(alive(p) for p in descendants) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [p for p in descendants if alive(p)], "workers or kernels outlived cnn-course"

    lines = []
    rerun = grade(course, tmp_path / "subs", jobs=2, say=lines.append)
    assert rerun.outcomes, "the rerun graded nothing"
    assert scores(course) == samples.expected()
    skipped = [line for line in lines if "already graded" in line]
    assert len(skipped) + len(rerun.outcomes) == len(samples.samples)


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""
