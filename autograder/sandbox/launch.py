"""Start one sandbox: `python -m autograder.sandbox.launch CONFIG`.

The grader's kernel manager runs this as the kernel's command. It joins the sandbox's control
groups, sets its resource limits, hands the contents of the sandbox's data files (`/etc/passwd`,
the notebook's copy) to bubblewrap through memory-backed file descriptors, and then becomes
bubblewrap, whose child becomes the kernel. CONFIG is a JSON file written by
`autograder.sandbox.manager`; this process deletes it once read.
"""

import base64
import json
import os
import sys

from .limits import apply


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    path = argv[0]
    with open(path) as handle:
        config = json.load(handle)
    os.unlink(path)
    os.dup2(2, 1)  # the kernel's own console output goes to the grader's log, not its screen
    apply(config["confinement"])
    data_args = []
    for dest, encoded in config["data"].items():
        fd = os.memfd_create(os.path.basename(dest) or "data")
        os.write(fd, base64.b64decode(encoded))
        os.lseek(fd, 0, os.SEEK_SET)
        os.set_inheritable(fd, True)
        data_args += ["--perms", "0644", "--ro-bind-data", str(fd), dest]
    if config.get("info"):  # bubblewrap writes the sandbox's pid there, for the grader
        info = os.open(config["info"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.set_inheritable(info, True)
        data_args += ["--info-fd", str(info)]
    command = [config["bwrap"][0], *config["bwrap"][1:], *data_args, "--", *config["command"]]
    os.execv(command[0], command)


if __name__ == "__main__":
    main()
