"""The grading sandbox: where a submission's code runs when `cnn-course grade` grades it.

Each submission's kernel runs under bubblewrap (`bwrap`, the sandbox Flatpak is built on) as an
unprivileged user with no capabilities, in its own mount, PID, network, IPC and UTS namespaces.
Its filesystem view holds the read-only Python installation and installed packages it needs,
minus the `solutions` package and the stored reference outputs, plus a private writable copy
of its own notebook and a small `/tmp`; nothing of the course directory (gradebook, source,
release, other students' files, configuration) is visible. Memory, processes and time are
capped (`limits`), the network is a private empty namespace.

Across that boundary the grader sends operations to an agent in the kernel (`kernel`) and
gets data back (`session`); an audit hook in the kernel (`witness`) reports what the code did
that graded code must not (profiling hooks removed, frames and the garbage collector walked,
threads, processes, dynamic code, writes outside its folder) on a channel it cannot take back.
"""
