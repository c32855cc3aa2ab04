"""Memory, process and CPU caps of one sandbox: control groups where the grader may create
them, resource limits (rlimits) as the backstop everywhere.

With cgroups (v2, or v1's memory and pids controllers; available to root on most Linux
machines) the caps hold for all processes of the sandbox together and the kernel's death by
them can be told apart. Without them, the address-space limit stands in for memory (plus the
address space TensorFlow reserves without using it) and the process limit counts the processes
of the sandbox's own user id, which is unique to the sandbox when the grader runs as root.
"""

import os
import resource
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

from .policy import Limits, is_root

CGROUP_ROOT = Path("/sys/fs/cgroup")
GROUP = "cnn-course"
# TensorFlow reserves ~2.3 GB of address space it never touches; the address-space limit
# (used only without cgroups) allows that on top of the memory cap.
RESERVED_ADDRESS_SPACE_MB = 3072
PERIOD = 100_000  # microseconds of a CPU quota period


def _write(path: Path, text: str) -> bool:
    try:
        path.write_text(text)
        return True
    except OSError:
        return False


@dataclass
class Confinement:
    """The caps of one sandbox named `name`: `prepare()` before it starts, `launch_config()`
    for the launcher, `why_killed()` after it died, `release()` at the end."""

    limits: Limits
    name: str
    groups: list[Path] = field(default_factory=list)
    kind: str = "rlimits"
    accounting: Path | None = None  # cgroup v1: a cpuacct group, to measure the CPU time
    cpu_seconds: float | None = None  # the CPU time the sandbox used, once released

    def prepare(self) -> None:
        if not is_root():
            return
        if (CGROUP_ROOT / "cgroup.controllers").is_file():
            self._prepare_v2()
        elif (CGROUP_ROOT / "memory").is_dir() and (CGROUP_ROOT / "pids").is_dir():
            self._prepare_v1()

    def _prepare_v2(self) -> None:
        parent = CGROUP_ROOT / GROUP
        try:
            parent.mkdir(exist_ok=True)
        except OSError:
            return
        _write(CGROUP_ROOT / "cgroup.subtree_control", "+memory +pids")
        _write(parent / "cgroup.subtree_control", "+memory +pids")
        group = parent / self.name
        try:
            group.mkdir()
        except OSError:
            return
        memory = str(self.limits.memory_mb * 2**20)
        ok = _write(group / "memory.max", memory) and _write(
            group / "pids.max", str(self.limits.processes)
        )
        _write(group / "memory.swap.max", "0")
        if self.limits.cpus:
            _write(CGROUP_ROOT / "cgroup.subtree_control", "+cpu")
            _write(parent / "cgroup.subtree_control", "+cpu")
            _write(group / "cpu.max", f"{self.limits.cpus * PERIOD} {PERIOD}")
        self.groups = [group]
        if ok:
            self.kind = "cgroup v2"
        else:
            self.release()

    def _prepare_v1(self) -> None:
        groups = []
        controllers = ["memory", "pids"]
        if self.limits.cpus and (CGROUP_ROOT / "cpu").is_dir():
            controllers.append("cpu")
        for controller in controllers:
            group = CGROUP_ROOT / controller / GROUP / self.name
            try:
                group.mkdir(parents=True)
            except OSError:
                break
            groups.append(group)
        self.groups = groups
        if len(groups) < 2:
            self.release()
            return
        memory = str(self.limits.memory_mb * 2**20)
        ok = _write(groups[0] / "memory.limit_in_bytes", memory)
        _write(groups[0] / "memory.memsw.limit_in_bytes", memory)
        ok = ok and _write(groups[1] / "pids.max", str(self.limits.processes))
        if len(groups) > 2:  # best effort: a CPU share is a courtesy, not a safety cap
            _write(groups[2] / "cpu.cfs_period_us", str(PERIOD))
            _write(groups[2] / "cpu.cfs_quota_us", str(self.limits.cpus * PERIOD))
        if ok:
            self.kind = "cgroup v1"
            accounting = CGROUP_ROOT / "cpuacct" / GROUP / self.name
            try:
                accounting.mkdir(parents=True)
                self.accounting = accounting
            except OSError:  # only a measurement: the sandbox runs without it
                pass
        else:
            self.release()

    def launch_config(self) -> dict:
        """What the launcher applies to itself before it becomes bubblewrap."""
        limits = self.limits
        rlimits = {"RLIMIT_CORE": 0, "RLIMIT_CPU": limits.notebook_seconds * 2 + 120}
        if is_root():
            rlimits["RLIMIT_NPROC"] = limits.processes
        if not self.groups:
            rlimits["RLIMIT_AS"] = (limits.memory_mb + RESERVED_ADDRESS_SPACE_MB) * 2**20
        joined = [*self.groups, *([self.accounting] if self.accounting else [])]
        return {
            "cgroup_procs": [str(group / "cgroup.procs") for group in joined],
            "rlimits": rlimits,
        }

    def why_killed(self) -> str:
        """Which cap a dead kernel ran into, as the end of a sentence ("" when none is known)."""
        if self.kind == "cgroup v2" and self.groups:
            events = _read(self.groups[0] / "memory.events")
            if _count(events, "oom_kill") or _count(events, "oom"):
                return f"it used more than the memory limit of {self.limits.memory_mb} MB"
            if _count(_read(self.groups[0] / "pids.events"), "max"):
                return f"it started more than {self.limits.processes} processes or threads"
        if self.kind == "cgroup v1" and len(self.groups) >= 2:
            if _count(_read(self.groups[0] / "memory.oom_control"), "oom_kill"):
                return f"it used more than the memory limit of {self.limits.memory_mb} MB"
            if _read(self.groups[0] / "memory.failcnt").strip() not in ("", "0"):
                return f"it used more than the memory limit of {self.limits.memory_mb} MB"
            if _count(_read(self.groups[1] / "pids.events"), "max"):
                return f"it started more than {self.limits.processes} processes or threads"
        return ""

    def release(self) -> None:
        """Kill whatever is left in the control groups, note the CPU time they used (it stays
        readable when their processes are gone) and remove them."""
        for group in [*self.groups, *([self.accounting] if self.accounting else [])]:
            for _ in range(20):
                pids = [int(p) for p in _read(group / "cgroup.procs").split() if p.strip()]
                if not pids:
                    break
                for pid in pids:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except OSError:
                        pass
                time.sleep(0.05)
            if self.kind == "cgroup v2" and group == self.groups[0]:
                used = _count(_read(group / "cpu.stat"), "usage_usec") / 1e6
                self.cpu_seconds = used or None
            elif group == self.accounting and _read(group / "cpuacct.usage").strip().isdigit():
                self.cpu_seconds = int(_read(group / "cpuacct.usage")) / 1e9 or None
            try:
                group.rmdir()
            except OSError:
                pass
        self.groups, self.accounting = [], None


# A control group is made a moment before its sandbox's process joins it; until then it is
# empty. Only empty groups older than this are leftovers of killed runs.
STALE_SECONDS = 600


def sweep() -> None:
    """Remove the empty control groups that sandboxes of killed runs left behind (not the
    groups that another grading run, on the same machine, has just made for a sandbox)."""
    for controller in ("", "memory", "pids", "cpu", "cpuacct"):
        parent = CGROUP_ROOT / controller / GROUP if controller else CGROUP_ROOT / GROUP
        if not parent.is_dir():
            continue
        for group in parent.iterdir():
            try:
                young = time.time() - group.stat().st_mtime < STALE_SECONDS
            except OSError:
                continue
            if group.is_dir() and not young and not _read(group / "cgroup.procs").strip():
                try:
                    group.rmdir()
                except OSError:
                    pass


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _count(text: str, key: str) -> int:
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name == key and value.strip().isdigit():
            return int(value)
    return 0


def apply(config: dict) -> None:
    """Join the control groups and set the resource limits of `launch_config()` (in the
    launcher, before it becomes bubblewrap; the sandbox inherits both)."""
    for procs in config.get("cgroup_procs", []):
        Path(procs).write_text(str(os.getpid()))
    for name, value in config.get("rlimits", {}).items():
        resource.setrlimit(getattr(resource, name), (value, value))
