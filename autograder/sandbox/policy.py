"""How much a sandboxed submission may use, and whether a sandbox is available here."""

import os
import shutil
import subprocess
from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Caps on one submission's kernel (all processes of its sandbox together).

    Attributes:
        memory_mb: resident memory; the kernel is killed above it.
        processes: processes and threads.
        notebook_seconds: wall-clock time for the whole notebook; cells still to run when it
            is over are not run (their test cells score 0).
        tmp_mb: size of the writable `/tmp` and working folder (memory-backed).
        cpus: CPU time, in cores' worth (0: no cap), so that one kernel cannot starve the
            others graded beside it.
    """

    memory_mb: int = 4096
    processes: int = 256
    notebook_seconds: int = 900
    tmp_mb: int = 256
    cpus: int = 0

    def __post_init__(self):
        require_positive(self, ("memory_mb", "processes", "notebook_seconds", "tmp_mb"))
        if not isinstance(self.cpus, int) or self.cpus < 0:
            raise ValueError(f"`cpus` must be 0 or more. Received: cpus={self.cpus!r}")


def require_positive(settings, names) -> None:
    """Raise ValueError naming the first of `names` that is not a positive int on `settings`."""
    for name in names:
        value = getattr(settings, name)
        if not isinstance(value, int) or value <= 0:
            raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r}")


def bubblewrap() -> str | None:
    """The path of the `bwrap` command, or None."""
    return shutil.which("bwrap")


def unavailable_reason() -> str | None:
    """Why submissions cannot be sandboxed on this machine (None when they can).

    Runs bubblewrap once with the namespaces the sandbox uses, so a kernel that forbids them
    (user namespaces off, a container without privileges) is found before grading starts.
    """
    if os.name != "posix" or not os.path.exists("/proc/self/ns"):
        return "the grading sandbox needs Linux"
    command = bubblewrap()
    if command is None:
        return (
            "bubblewrap (the `bwrap` command) is not installed; install it with "
            "`apt-get install bubblewrap` (Debian, Ubuntu) or `dnf install bubblewrap` (Fedora)"
        )
    probe = [command, *namespace_flags(), "--ro-bind", "/", "/", "--proc", "/proc", "true"]
    try:
        done = subprocess.run(probe, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap could not run: {exc}"
    if done.returncode != 0:
        detail = (done.stderr.strip().splitlines() or ["no message"])[-1]
        return f"bubblewrap cannot create the sandbox's namespaces here ({detail})"
    return None


def is_root() -> bool:
    return os.geteuid() == 0


def namespace_flags() -> list[str]:
    """bwrap's namespace options: as root, no user namespace (the kernel then drops to an
    unprivileged uid of its own); otherwise a user namespace, as any unprivileged user."""
    common = ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts"]
    common += ["--unshare-cgroup-try", "--die-with-parent", "--new-session"]
    if is_root():
        return [*common, "--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    return ["--unshare-user", "--uid", "65534", "--gid", "65534", *common]
