"""Feedback pages under a time limit (generate_with_limit) and the plain page in their place."""

import os
import re
import time
from pathlib import Path

from autograder.grading.course_dir import CourseDir
from autograder.grading.feedback import CSP, generate_with_limit, write_plain_feedback


def test_a_result_comes_back_from_the_child():
    result = generate_with_limit(lambda: {"success": True, "text": str(os.getpid())}, 60)
    assert result["success"] and not result["timed_out"]
    assert result["text"] != str(os.getpid())  # it ran in another process


def test_a_step_that_never_ends_is_stopped(tmp_path):
    marker = tmp_path / "still-running"

    def forever():
        while True:
            marker.write_text(str(time.monotonic()))
            time.sleep(0.05)

    result = generate_with_limit(forever, 0.5)
    assert result["timed_out"] and not result["success"]
    assert "0.5 s" in result["text"]
    before = marker.read_text()
    time.sleep(0.3)
    assert marker.read_text() == before  # the child is gone


def test_an_exception_in_the_child_is_reported():
    def crash():
        raise RuntimeError("template broke")

    result = generate_with_limit(crash, 60)
    assert not result["success"] and not result["timed_out"]
    assert "RuntimeError: template broke" in result["text"]


def test_a_child_that_dies_is_reported():
    result = generate_with_limit(lambda: os._exit(3), 60)
    assert not result["success"] and "exit code 3" in result["text"]


def test_the_plain_page_is_escaped_and_runs_nothing(tmp_path):
    course = CourseDir(tmp_path)
    pages = write_plain_feedback(
        course, "ada", "02_convolution", ["conv"], "5 / 12 points", "<script>x</script> took long"
    )
    text = pages[0].read_text()
    assert pages[0] == tmp_path / "feedback" / "ada" / "02_convolution" / "conv.html"
    assert "<script>" not in text and "&lt;script&gt;x&lt;/script&gt; took long" in text
    assert f'<meta http-equiv="Content-Security-Policy" content="{CSP}">' in text
    assert "5 / 12 points" in text


def test_a_worker_whose_feedback_times_out_writes_a_plain_page_and_goes_on(tmp_path, monkeypatch):
    from autograder.grading import worker
    from autograder.grading.outcomes import CellScore, Outcome

    class Course(CourseDir):
        def notebook_names(self, assignment):
            return ["conv"]

    course = Course(tmp_path)
    outcome = Outcome("ada", "02_convolution", cells=[CellScore("a", 2.0, 3.0)])
    monkeypatch.setitem(worker._STATE, "course", course)
    monkeypatch.setitem(worker._STATE, "coursedir", None)
    monkeypatch.setattr(worker, "autograde", lambda *args: {"success": True, "text": ""})
    monkeypatch.setattr(worker, "read_outcome", lambda *args: outcome)
    monkeypatch.setattr(
        worker,
        "generate_feedback",
        lambda *args: {"success": False, "timed_out": True, "text": "not within 300 s"},
    )
    result = worker.grade("02_convolution", "ada")
    assert result.score == 2.0 and result.status == "graded"
    assert any("feedback took over" in note for note in result.notes), result.notes
    page = (tmp_path / "feedback" / "ada" / "02_convolution" / "conv.html").read_text()
    assert "2 / 3 points" in page and "could not be written" in page
    assert worker.is_complete(course, "02_convolution", "ada")


def test_a_feedback_page_shows_the_message_then_the_picture_then_the_fold(tmp_path):
    """The outputs the grader writes for a failed map check, through the course's feedback
    template and SanitizeNotebook: the message, the picture inline, the mistake's explanation
    and the hint behind a <details>, escaped."""
    import nbgrader
    import numpy as np
    from nbconvert import HTMLExporter
    from nbformat.v4 import new_code_cell, new_notebook, new_output
    from traitlets.config import Config

    from autograder.compare import Tolerance, compare
    from autograder.diagnosis import Mistake
    from autograder.grading.config import Settings, feedback_config, load_config, write_config
    from autograder.grading.safe_html import SanitizeNotebook
    from autograder.grading.test_cells import parse, run_calls, write_outputs

    expected = np.zeros((1, 5, 5, 1))
    mistake = Mistake("m", "padding with ones", "Yours pads with <ones>.")

    class Module:
        @staticmethod
        def check_map(obj):
            from autograder.feedback import fail

            mismatch = compare(obj, expected, Tolerance(0, 0))
            fail("The map is wrong.", mismatch, mistake, "pad with zeros", case="a border")

    wrong = expected.copy()
    wrong[0, 0] = 1.0
    cell = new_code_cell("checks.check_map(x)")
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": "t", "points": 1, "score": 0}
    write_outputs(cell, run_calls(parse(cell.source), Module, lambda name: wrong), 1)
    plain = new_code_cell("print_it()")
    plain.outputs = [new_output("display_data", data={"text/plain": "plain words"})]
    nb, _ = SanitizeNotebook().preprocess(new_notebook(cells=[cell, plain]), {})
    write_config(tmp_path, Settings())
    config = Config()
    config.HTMLExporter.merge(feedback_config(load_config(tmp_path)).GenerateFeedback.HTMLExporter)
    static = Path(nbgrader.__file__).parent / "server_extensions" / "formgrader" / "static"
    css = static / "node_modules" / "bootstrap" / "dist" / "css"  # as nbgrader's feedback adds
    config.HTMLExporter.extra_template_paths = [str(css)]
    resources = {"nbgrader": {"notebook": "n", "score": 0, "max_score": 1, "late_penalty": 0}}
    page, _ = HTMLExporter(config=config).from_notebook_node(nb, resources=resources)
    message = page.index("The map is wrong.")
    title = page.index("Likely mistake: padding with ones.")
    image = re.search(r'<img [^>]*src="data:image/png;base64,', page).start()
    fold = re.search(
        r'<details class="cnn-course-fold"><summary[^>]*>Why this mistake, and a hint', page
    ).start()
    assert message < title < image < fold
    assert "Yours pads with &lt;ones&gt;." in page[fold:] and "Hint: pad with zeros" in page[fold:]
    assert "Yours pads with" not in page[:fold] and "Hint:" not in page[:fold]
    assert f'content="{CSP}"' in page
    assert page.count("<details") == 1 and "<pre>plain words</pre>" in page  # other text as ever
