"""nbgrader's Execute step, with the submission's kernel in the sandbox and the verdicts here.

`cnn-course grade` puts `SandboxedExecute` where nbgrader's autograde pipeline has `Execute`.
It differs in five ways:

- the kernel runs in the grading sandbox (`autograder.sandbox`), with the memory, process and
  notebook-time caps of its configuration;
- test cells are not sent to the kernel: the grader parses their `checks.check_*(...)` calls
  and runs the checks on its own side, on fresh cases, against `Ref`s to the notebook's
  objects (`test_cells`), and writes the cells' outputs itself;
- before anything runs, the cells the student wrote are read for constructs graded code may
  not contain (`scan`); with any finding, every test cell is withheld for review;
- what the kernel's witness reports outside the checks (in a cell that ran before) makes
  every later check fail, with the report as the reason;
- code cells after the last test cell (the experiments that train networks and draw) are not
  run: no verdict can depend on them, since every check has run before them. Each says so in
  its output, and the feedback shows it. `run_after_tests = True` runs them as nbgrader does.

It records what it found in the notebook's metadata (`cnn_course`), where `cnn-course grade`
reads it into the grading summary, the CSV and the gradebook's "needs manual grading" flags,
and the catalogued mistake each failed check named (`mistakes`: grade id -> id and title), which
`cnn-course report` counts.
"""

import copy
import json
import re
import secrets
import time
from pathlib import Path

import nbformat
import zmq
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbgrader.preprocessors import Execute
from traitlets import Bool, Integer, List, Unicode

from ..harness import cases
from ..sandbox.manager import SandboxKernelManager
from ..sandbox.policy import Limits
from ..sandbox.session import SILENCED, KernelGone, KernelSession, describe_event, is_harmless
from .outcomes import is_test_cell
from .test_cells import (
    NotChecks,
    Verdict,
    checks_module_name,
    course_imports,
    grader_error,
    import_checks,
    parse,
    run_calls,
    write_outputs,
)

METADATA_KEY = "cnn_course"
CELL_SYNC_WAIT = 5.0
MAX_MESSAGE_BYTES = 100 * 2**20  # a kernel that sends more in one message is cut off
# Output kinds a submission may leave in the autograded notebook: what formgrader and the
# feedback page show. HTML, SVG and JavaScript could run in the instructor's Jupyter page.
NOT_RERUN = (
    "Not re-run when graded: this cell comes after the last test cell, so no score depends on it.\n"
)
SAFE_OUTPUT_TYPES = frozenset({"text/plain", "image/png", "image/jpeg", "image/gif"})


HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS\n?", re.S)


def working_copy(nb):
    """The notebook as the sandbox gets it: without its test cells' hidden parts."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if is_test_cell(cell):
            cell.source = HIDDEN.sub("", cell.source)
    return nb


def disarm(nb, release_nb) -> None:
    """Leave nothing in the autograded notebook that could run in a browser: outputs keep only
    text and bitmap images, and markdown the student wrote shows its HTML as text."""
    given = {cell.source for cell in release_nb.cells if cell.cell_type == "markdown"}
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.source not in given:
            cell.source = cell.source.replace("&", "&amp;").replace("<", "&lt;")
            cell.pop("attachments", None)
        elif cell.cell_type == "code":
            kept = []
            for output in cell.get("outputs", []):
                if "data" in output:
                    output["data"] = {
                        k: v for k, v in output["data"].items() if k in SAFE_OUTPUT_TYPES
                    }
                    if not output["data"]:
                        continue
                kept.append(output)
            cell.outputs = kept


def kernel_file_name(source: str) -> str:
    """The file name the kernel gives the code of a cell (ipykernel's hash of its source)."""
    from ipykernel.compiler import get_tmp_hash_seed, murmur2_x86

    return f"{murmur2_x86(source, get_tmp_hash_seed())}.py"


class SandboxedExecute(Execute):
    """See the module docstring."""

    course_root = Unicode("", help="the course directory (to read the released notebooks)").tag(
        config=True
    )
    isolate = Bool(
        True,
        help="run kernels in the bubblewrap sandbox; False runs them with the grader's own "
        "rights (verdicts are still decided here)",
    ).tag(config=True)
    memory_mb = Integer(Limits.memory_mb, help="memory cap of a kernel, in MB").tag(config=True)
    processes = Integer(Limits.processes, help="cap on a kernel's processes and threads").tag(
        config=True
    )
    notebook_timeout = Integer(
        Limits.notebook_seconds, help="seconds the whole notebook may take"
    ).tag(config=True)
    tmp_mb = Integer(Limits.tmp_mb, help="size of a kernel's writable folders, in MB").tag(
        config=True
    )
    cpus = Integer(0, help="CPU cap of a kernel, in cores (0: none)").tag(config=True)
    max_cell_output = Integer(
        2_000_000, help="characters of output a cell may send before the rest is dropped"
    ).tag(config=True)
    run_after_tests = Bool(
        False,
        help="also run the code cells after the last test cell (no score depends on them)",
    ).tag(config=True)
    extra_paths = List(
        Unicode(),
        help="more folders of Python modules the kernel may import (read-only, on PYTHONPATH)",
    ).tag(config=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.kernel_manager_class = SandboxKernelManager
        # A kernel capped to its share of the CPU may be slow to say it is idle; a late
        # message is no reason to give up on the whole notebook, as nbgrader's default does.
        self.iopub_timeout = max(self.iopub_timeout, 30)
        self.raise_on_iopub_timeout = False

    # --- the notebook --------------------------------------------------------------------------

    def preprocess(self, nb, resources=None, km=None):
        info = (resources or {}).get("nbgrader", {})
        folder = Path(self.course_root) / "release" / info.get("assignment", "")
        release_path = folder / f"{info.get('notebook', '')}.ipynb"
        release = nbformat.read(release_path, as_version=4)
        module = checks_module_name(release)
        self._checks = import_checks(module) if module else None
        self._preload = course_imports(release)
        from .scan import scan_notebook

        self._findings = [str(f) for f in scan_notebook(nb, release, is_test_cell)]
        self._cell_names = {
            kernel_file_name(cell.source): number
            for number, cell in enumerate(nb.cells, start=1)
            if cell.cell_type == "code"
        }
        self._source = nbformat.writes(working_copy(nb)).encode()
        self._name = release_path.name
        self._deadline = time.monotonic() + self.notebook_timeout
        self._stopped = ""  # why no more cells run
        self._taint = ""  # what the witness saw outside the checks
        self._integrity: list[str] = []
        self._unchecked: list[str] = []
        self._mistakes: dict[str, dict] = {}
        self._session = None
        self._seen = 0
        self._count = 0
        self._seed = secrets.randbits(63)
        tests = [i for i, cell in enumerate(nb.cells) if is_test_cell(cell)]
        self._last_test = tests[-1] if tests else -1
        self._not_rerun = 0
        self._clock = {"start": time.monotonic(), "kernel": 0.0, "cells": 0.0, "checks": 0.0}
        self._manager = None
        self._output_used: dict[int, int] = {}
        try:
            nb, resources = super().preprocess(nb, resources, km)
        finally:
            if self._session is not None:
                self._session.close()
        disarm(nb, release)
        nb.metadata[METADATA_KEY] = {
            "findings": self._findings,
            "integrity": self._integrity,
            "stopped": self._stopped,
            "unchecked": self._unchecked,
            "not_rerun": self._not_rerun,
            "seconds": self._seconds(),
            "mistakes": self._mistakes,
            "sandbox": "bubblewrap" if self.isolate else "none",
        }
        return nb, resources

    def _seconds(self) -> dict:
        """Where the notebook's grading time went: starting the kernel (TensorFlow imported
        included), running its cells in the kernel, running the checks here; and, where the
        sandbox has a cgroup v2, the CPU time its kernel used ("kernel_cpu")."""
        clock = self._clock
        total = time.monotonic() - clock.pop("start")
        confinement = getattr(self._manager, "confinement", None)
        cpu = getattr(confinement, "cpu_seconds", None)
        extra = {"kernel_cpu": cpu} if cpu is not None else {}
        return {key: round(value, 2) for key, value in {**clock, "total": total, **extra}.items()}

    def create_kernel_manager(self):
        km = super().create_kernel_manager()
        km.context.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)
        km.limits = Limits(
            self.memory_mb, self.processes, self.notebook_timeout, self.tmp_mb, self.cpus
        )
        km.notebook_bytes = self._source
        km.notebook_name = self._name
        km.isolate = self.isolate
        km.preload = self._preload
        km.extra_paths = list(self.extra_paths)
        self._manager = km  # nbclient forgets it when the kernel ends; its CPU time is read then
        return km

    def output(self, outs, msg, display_id, cell_index):
        """nbclient's output handling, with a cap on what one cell may send: printed text is
        kept up to the cap, the rest is dropped (before it fills the grader's memory)."""
        used = self._output_used.get(cell_index, 0)
        if used >= self.max_cell_output:
            return None
        content = msg.get("content", {})
        size = len(json.dumps(content, default=str))
        self._output_used[cell_index] = used + size
        if used + size <= self.max_cell_output:
            return super().output(outs, msg, display_id, cell_index)
        cap = f"{self.max_cell_output:,}"
        mark = f"\n... Output truncated: the cell sent more than {cap} characters ...\n"
        if msg.get("msg_type") == "stream":
            room = max(0, self.max_cell_output - used)
            msg = {**msg, "content": {**content, "text": content.get("text", "")[:room] + mark}}
            return super().output(outs, msg, display_id, cell_index)
        outs.append(nbformat.v4.new_output("stream", name="stdout", text=mark))
        return None

    def _get_timeout(self, cell):
        timeout = super()._get_timeout(cell)
        remaining = max(1, int(self._deadline - time.monotonic()))
        return remaining if timeout is None else min(timeout, remaining)

    # --- cells ---------------------------------------------------------------------------------

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        if not self._clock["kernel"]:  # nbclient starts the kernel before the first cell
            self._clock["kernel"] = time.monotonic() - self._clock["start"]
        began = time.monotonic()
        try:
            return self._cell(cell, resources, index)
        finally:
            self._clock["checks" if is_test_cell(cell) else "cells"] += time.monotonic() - began

    def _cell(self, cell, resources, index):
        if not self._stopped and time.monotonic() >= self._deadline:
            self._stopped = f"the notebook's time limit of {self.notebook_timeout} s was reached"
        if self._stopped:
            self._not_run(cell)
            return cell, resources
        if index > self._last_test and not self.run_after_tests:
            self._not_rerun += 1
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=NOT_RERUN)]
            return cell, resources
        if is_test_cell(cell):
            self._judge(cell, index)
            return cell, self.resources
        try:
            cell, resources = super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            self._kernel_died(cell)
            return cell, self.resources
        except CellTimeoutError as exc:  # nbclient's own time-outs, past the interrupt
            self._stopped = f"the kernel stopped answering ({str(exc).splitlines()[0]})"
            cell.outputs.append(
                nbformat.v4.new_output(
                    "error", ename="CellTimeoutError", evalue=self._stopped, traceback=[]
                )
            )
            return cell, self.resources
        self._after_cell(index)
        return cell, resources

    def _not_run(self, cell) -> None:
        self._count += 1
        text = f"This cell was not run: {self._stopped}."
        if is_test_cell(cell):
            write_outputs(cell, Verdict(failure=text, ename="NotRun"), self._count)
        else:
            cell.outputs = [nbformat.v4.new_output("stream", name="stderr", text=text + "\n")]

    def _kernel_died(self, cell) -> None:
        reason = self.km.why_died() if self.km is not None else ""
        self._stopped = f"the kernel died ({reason})" if reason else "the kernel died"
        cell.outputs.append(
            nbformat.v4.new_output(
                "error", ename="KernelDied", evalue=self._stopped, traceback=[self._stopped]
            )
        )

    def _session_for(self):
        if self._session is None:
            self._session = KernelSession(self.km, self._check_deadline, self._cell_names)
        return self._session

    def _check_deadline(self) -> float:
        return self._current_deadline

    def _after_cell(self, index: int) -> None:
        """Read what the witness reported while the cell ran; a serious report taints every
        later check, a harmless one (a write the sandbox stopped) is only reported."""
        session = self._session_for()
        if session.silenced:
            return
        self._current_deadline = time.monotonic() + CELL_SYNC_WAIT
        try:
            result = session.perform("value", (None,), {})  # its marker follows the reports
        except KernelGone as exc:
            self._stopped = f"the kernel died ({exc})"
            return
        witness = self.km.witness
        events = []
        for event in witness.since(self._seen):
            if event.get("event") == "cnn_course.begin":
                break
            events.append(event)
        self._seen = witness.count()
        session.take_reports()
        if SILENCED in result.integrity:
            events.append({"event": "silenced"})
        for event in events:
            if event.get("event") == "silenced":
                words = SILENCED
            else:
                words = describe_event(event, self._cell_names)
            note = f"cell {index + 1}: the code did {words}"
            self._integrity.append(note)
            if not is_harmless(event):
                self._taint = self._taint or note

    def _judge(self, cell, index: int) -> None:
        self._count += 1
        timeout = self.timeout if self.timeout and self.timeout > 0 else 120
        self._current_deadline = min(time.monotonic() + timeout, self._deadline)
        if self._findings:
            more = f" (and {len(self._findings) - 1} more)" if len(self._findings) > 1 else ""
            verdict = Verdict(
                failure=(
                    "Withheld for review: your notebook has code the grader does not run "
                    f"unchecked: {self._findings[0]}{more}.\n"
                    "  Your instructor reviews it and grades this cell by hand."
                ),
                ename="WithheldForReview",
            )
        elif self._taint:
            verdict = Verdict(
                failure=(
                    f"Not graded: earlier, {self._taint}.\n"
                    "  After that the grader cannot trust the notebook's results; your "
                    "instructor will review it."
                ),
                ename="NotGraded",
            )
        else:
            try:
                calls = parse(cell.source)
            except NotChecks as exc:
                self._unchecked.append(f"cell {index + 1} ({exc})")
                self._count -= 1
                try:
                    super().preprocess_cell(cell, self.resources, index)
                except DeadKernelError:
                    self._kernel_died(cell)
                return
            verdict = self._run_checks(calls, index)
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if verdict.mistake is not None and grade_id:
                self._mistakes[grade_id] = verdict.mistake
        write_outputs(cell, verdict, self._count)

    def _run_checks(self, calls, index: int) -> Verdict:
        if self._checks is None:
            return grader_error(LookupError("the released notebook does not import `checks`"))
        session = self._session_for()
        session.new_check()
        try:
            with cases.fresh(self._seed + index):
                verdict = run_calls(calls, self._checks, session.ref)
        except KernelGone as exc:
            self._stopped = f"the kernel stopped answering ({exc})"
            return Verdict(
                failure=f"This check could not finish: {self._stopped}.", ename="KernelDied"
            )
        except Exception as exc:  # the grader's own failure: never the student's points
            self.log.error("check of cell %d failed in the grader: %r", index + 1, exc)
            return grader_error(exc)
        finally:
            self._seen = self.km.witness.count()
            for note in session.take_reports():
                self._integrity.append(f"cell {index + 1}: while checked, the code did {note}")
        return verdict
