"""One way to run a check: in the student's kernel, or across the grading sandbox.

A check calls student code only through `autograder.student.run` and `perform`, which run an
operation of `ops` under the guard (`execution`) and hand back plain data (`values`). In the
student's kernel the objects are local; for grading they live in a sandboxed kernel and the
check holds `remote.Ref`s to them, served by a `remote.Agent` there. `cases` decides whether a
check uses its stored cases or, for grading, draws fresh ones.
"""
