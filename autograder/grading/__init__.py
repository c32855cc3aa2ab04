"""Release, grade and demo the course through nbgrader.

- `config`: the course directory's `nbgrader_config.py` (time limits, output limits).
- `preprocessors`: nbgrader preprocessors the configuration adds to nbgrader's own.
- `course_dir`: the layout of an nbgrader course directory and access to its gradebook.
- `release`: build the course directory from `notebooks/` and generate the student versions.
- `intake`: copy a folder of submissions into the course directory's `submitted/`.
- `worker`: autograde submissions in worker processes with nbgrader's own converters.
- `outcomes`: scores per test cell and the reasons points were lost, read after grading.
- `grade`: the `cnn-course grade` run (intake, parallel autograding, feedback, CSV, summary).
- `report`: grade tables and CSV files.
- `backups`: timestamped copies kept before anything is overwritten.
- `errors`: `CourseError`, a problem the user can fix, shown as one line.
- `submissions`: sample submissions (perfect, untouched, known mistakes, broken ones).
- `demo`: the whole loop on sample submissions, checked against expectations.
"""
