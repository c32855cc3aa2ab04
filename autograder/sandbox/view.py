"""The filesystem a sandboxed kernel sees, as bubblewrap options.

Read-only: the operating system's programs and libraries (`/usr`), a few files of `/etc`, this
Python installation and its virtual environment, and the course packages the notebooks import
(`autograder`, `course`). Hidden even there: the `solutions` package and the stored reference
outputs. Writable and private, in memory, each with a size cap: `/tmp`, the student's home
(which holds a copy of the notebook being graded) and the folder where the kernel makes its
sockets. Nothing of the host is writable: the grader's own folder (connection file, witness
socket) is bound read-only, and the kernel's sockets live on a tiny tmpfs inside it, which the
grader reaches through `/proc/<pid>/root` (`manager.SandboxKernelManager`).
"""

import importlib.util
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

HOME = "/home/student"
WORK = f"{HOME}/work"
# Package data that must not reach a submission.
HIDDEN_DATA = ("autograder/references/stored",)
# Packages the notebooks import that may live outside the environment (editable installs).
COURSE_PACKAGES = ("autograder", "course")
SECRET_PACKAGES = ("solutions",)
ETC_FILES = (
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
    "/etc/alternatives",
    "/etc/fonts",
)
MERGED_USR = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
SOCKETS = "s"  # the kernel's socket folder, inside the grader's folder
SOCKET_BYTES = 2**20  # its cap: socket files take no space, nothing else belongs there


@dataclass
class View:
    """bwrap options for the view (`args`) and files whose content bwrap reads from a file
    descriptor (`data`: destination -> bytes)."""

    args: list[str] = field(default_factory=list)
    data: dict[str, bytes] = field(default_factory=dict)
    made: set[str] = field(default_factory=set)

    def directory(self, path: str) -> None:
        """Make `path` and its parents, readable by everyone (bwrap makes them 0700)."""
        parts = Path(path).parts
        for depth in range(2, len(parts) + 1):
            folder = os.path.join(*parts[:depth])
            if folder not in self.made:
                self.made.add(folder)
                self.args += ["--perms", "0755", "--dir", folder]

    def ro_bind(self, source: str, dest: str | None = None) -> None:
        dest = dest or source
        self.directory(os.path.dirname(dest))
        self.args += ["--ro-bind", source, dest]
        self.made.add(dest)

    def hide(self, path: str) -> None:
        """An empty, read-only folder over `path`."""
        self.args += ["--perms", "0555", "--tmpfs", path, "--remount-ro", path]


def package_folders(names) -> list[str]:
    """The folders of the packages `names` (real paths), where they can be found."""
    folders = []
    for name in names:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        for folder in (spec and spec.submodule_search_locations) or ():
            folders.append(os.path.realpath(folder))
    return folders


def python_folders() -> list[str]:
    """This interpreter's installation and environment, real paths, outermost first."""
    folders = {os.path.realpath(p) for p in (sys.base_prefix, sys.prefix, sys.exec_prefix)}
    folders |= {os.path.realpath(os.path.dirname(sys.executable))}
    ordered = sorted(folders, key=len)
    return [f for f in ordered if not any(f.startswith(o + os.sep) for o in ordered if o != f)]


def _inside(path: str, folders) -> bool:
    return any(path == f or path.startswith(f + os.sep) for f in folders)


def build(
    socket_dir: str,
    notebook: bytes,
    notebook_name: str,
    uid: int,
    gid: int,
    tmp_bytes: int,
) -> View:
    """The view of one sandbox (see the module docstring)."""
    view = View()
    view.ro_bind("/usr")
    view.made.add("/usr")
    for link in MERGED_USR:
        if os.path.islink(link):
            view.args += ["--symlink", os.readlink(link), link]
        elif os.path.isdir(link):
            view.ro_bind(link)
    view.directory("/etc")
    for path in ETC_FILES:
        if os.path.exists(path):
            view.ro_bind(path)
    view.data["/etc/passwd"] = (
        f"root:x:0:0:root:/root:/usr/sbin/nologin\nstudent:x:{uid}:{gid}:student:{HOME}:"
        "/usr/sbin/nologin\n"
    ).encode()
    view.data["/etc/group"] = f"root:x:0:\nstudent:x:{gid}:\n".encode()
    view.args += ["--proc", "/proc", "--dev", "/dev"]
    view.args += ["--size", str(tmp_bytes), "--perms", "01777", "--tmpfs", "/tmp"]
    view.made.add("/tmp")

    pythons = python_folders()
    for folder in pythons:
        view.ro_bind(folder)
    for folder in package_folders(COURSE_PACKAGES):
        if not _inside(folder, pythons):
            view.ro_bind(folder)
    for folder in package_folders(COURSE_PACKAGES):
        for hidden in HIDDEN_DATA:
            package, _, sub = hidden.partition("/")
            if os.path.basename(folder) == package and os.path.isdir(os.path.join(folder, sub)):
                view.hide(os.path.join(folder, sub))

    for folder in package_folders(SECRET_PACKAGES):
        if _inside(folder, pythons):
            view.hide(folder)

    view.directory(os.path.dirname(HOME))
    view.args += ["--size", str(tmp_bytes), "--perms", "01777", "--tmpfs", HOME]
    view.args += ["--perms", "01777", "--dir", WORK]
    view.made |= {HOME, WORK}
    view.ro_bind(socket_dir)
    sockets = os.path.join(socket_dir, SOCKETS)
    view.args += ["--size", str(SOCKET_BYTES), "--perms", "01777", "--tmpfs", sockets]
    view.data[f"{WORK}/{notebook_name}"] = notebook
    return view
