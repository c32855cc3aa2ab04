"""A student's and an instructor's day in JupyterLab, in headless Chromium, offline.

The student (a `pip install .` environment without the solutions) opens the released lesson
02, runs all cells (no traceback anywhere), reads a failing check with its picture of the
mismatch, validates the notebook (the picture is in Validate's dialog too, after a scratch cell
that grading would hold for review) and reads a passing check; then, in one JupyterLab, every
other lesson: Run All on each untouched notebook (one-line notes where a demonstration needs an
unfinished exercise), one wrong exercise and its check's message, and Validate of a solved copy
("Success", in the per-cell time the student install configures). The instructor (the test
environment: cnn-course and cnn-course-solutions) grades a few submissions with `cnn-course
grade` (in the bubblewrap sandbox), imports a roster and reads formgrader and a feedback page.
Neither browser can reach anything but this machine.

Screenshots of each step are kept under the pytest temp folder (`browser-artifacts/`).
"""

import csv
import json
import re
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest

from autograder import lessons
from autograder.grading.course_dir import CourseDir

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENT, NOTEBOOK = "02_convolution", "convolution"
INSTRUCTOR_TOOLS = ("Formgrader", "Course List", "Create Assignment")
MINUTE = 60_000
# what a student should never see under a cell: tracebacks and the grader's frames
NOISE = ("Traceback", "traceback_utils", 'File "', "site-packages", "autograder/")

FLIPPED = """def cross_correlate2d(x, kernel):
    x = np.asarray(x, dtype=float)
    kernel = np.asarray(kernel, dtype=float)[::-1, ::-1]
    kh, kw = kernel.shape
    out = np.zeros((x.shape[0] - kh + 1, x.shape[1] - kw + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(x[i:i + kh, j:j + kw] * kernel)
    return out
"""
CORRECT = FLIPPED.replace("[::-1, ::-1]", "")
SCRATCH = "# trying things out\nimport os"  # grading holds a notebook with this for review
ROSTER = {
    "ada": ("Ada", "Lovelace"),
    "alan": ("Alan", "Turing"),
    "grace": ("Grace", "Hopper"),
}


def _cli(*args, cwd, timeout=900):
    run = subprocess.run(
        [sys.executable, "-m", "autograder.cli", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return run.stdout


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """Lesson 02 released into a course directory by `cnn-course release`."""
    tmp = tmp_path_factory.mktemp("course")
    _cli("release", "--dir", tmp / "course", "--assignment", ASSIGNMENT, cwd=tmp)
    return tmp / "course"


def _hostile(released, base):
    """The blank notebook with every HTML payload of `html_payloads` in it: markdown, raw and
    attachment cells, and a code cell that displays the output payloads when graded."""
    from autograder.grading.html_payloads import display_code, hostile_notebook

    nb = nbformat.reads(nbformat.writes(released), as_version=4)
    extra = [
        cell
        for cell in hostile_notebook(base).cells
        if cell.cell_type != "code" and "nbgrader" not in cell.metadata
    ]
    nb.cells[1:1] = [*extra, nbformat.v4.new_code_cell(display_code(base))]
    return nb


@pytest.fixture(scope="module")
def graded(course, loopback, tmp_path_factory):
    """Four submissions graded by `cnn-course grade`, and a roster imported: ada solved
    exercises 1 and 2, grace flipped the kernel in exercise 1, alan handed in the blank
    notebook, mallory the blank notebook full of hostile HTML. (Nobody finished Conv2D, so no
    submission trains the experiment's networks and grading takes about a minute.)"""
    from autograder.grading.submissions import perfect, with_replacements

    tmp = tmp_path_factory.mktemp("grading")
    released = nbformat.read(course / "release" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)
    source = nbformat.read(course / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)
    solved = perfect(source, released)
    ada = _only_solved(solved, released, {"cross_correlate2d", "im2col"})
    notebooks = {
        "ada": ada,
        "grace": with_replacements(ada, {"cross_correlate2d": FLIPPED}),
        "alan": released,
        "mallory": _hostile(released, loopback.base),
    }
    for student, nb in notebooks.items():
        target = tmp / "submissions" / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
        target.parent.mkdir(parents=True)
        nbformat.write(nb, target)
    graded_out = _cli("grade", tmp / "submissions", "--dir", course, "--jobs", 2, cwd=tmp)
    roster = tmp / "roster.csv"
    with roster.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "first_name", "last_name", "email"])
        for student, (first, last) in ROSTER.items():
            writer.writerow([student, first, last, f"{first.lower()}@example.org"])
    roster_out = _cli("roster", roster, "--dir", course, cwd=tmp)
    return SimpleNamespace(course=course, grading=graded_out, roster=roster_out)


def _only_solved(solved, released, grade_ids):
    nb = nbformat.reads(nbformat.writes(released), as_version=4)
    answers = {
        c.metadata["nbgrader"]["grade_id"]: c.source
        for c in solved.cells
        if c.metadata.get("nbgrader", {}).get("grade_id") in grade_ids
    }
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    return nb


# --- driving JupyterLab ------------------------------------------------------------------------


def open_menu(page, title):
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{title}$")).click()
    menu = page.locator(".lm-Menu").last
    menu.wait_for()
    return menu


def menu_items(page, title, shot=None) -> list[str]:
    """The labels of a menu's visible items (a command that no plugin provides is hidden)."""
    menu = open_menu(page, title)
    items = menu.locator(".lm-Menu-item[data-type='command']")
    labels = [
        (items.nth(i).text_content() or "").strip()
        for i in range(items.count())
        if items.nth(i).is_visible()
    ]
    if shot:
        shot()
    page.keyboard.press("Escape")
    return labels


def code_cell(page, text):
    """The code cell whose source contains `text`."""
    editor = page.locator(".jp-InputArea-editor", has_text=text)
    return page.locator(".jp-Notebook .jp-CodeCell").filter(has=editor)


def output_text(cell) -> str:
    return cell.locator(".jp-OutputArea").text_content() or ""


def execution_count(cell) -> str:
    return (cell.locator(".jp-InputPrompt").text_content() or "").strip()


def wait_until_run(page, cell, timeout=3 * MINUTE):
    cell.scroll_into_view_if_needed()
    page.wait_for_function(
        "el => /\\[\\d+\\]/.test(el.textContent)",
        arg=cell.locator(".jp-InputPrompt").element_handle(),
        timeout=timeout,
    )


def type_into(page, cell, code):
    cell.scroll_into_view_if_needed()
    cell.locator(".cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(code)
    page.keyboard.press("Escape")


def run_cell(page, cell):
    cell.scroll_into_view_if_needed()
    cell.locator(".jp-InputPrompt").click()
    page.keyboard.press("Shift+Enter")


def open_notebook(page, lab, path, reset=False):
    """Open a notebook; with `reset`, as the only tab (the workspace forgets the others)."""
    page.goto(lab.url(f"/lab/tree/{path}{'?reset' if reset else ''}"))
    page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").first.wait_for(timeout=2 * MINUTE)
    idle = page.locator(".jp-StatusBar-Widget", has_text=re.compile(r"\| Idle"))
    idle.first.wait_for(timeout=2 * MINUTE)


def step(person, artifacts, label):
    return person.shot(artifacts, label)


# --- the student -------------------------------------------------------------------------------


def test_a_student_runs_lesson_02_reads_the_checks_and_validates(
    course, student_env, lab_server, person, artifacts, tmp_path
):
    home = tmp_path / "student"
    (home / ASSIGNMENT).mkdir(parents=True)
    notebook = nbformat.read(course / "release" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", 4)
    notebook.cells.append(nbformat.v4.new_code_cell(SCRATCH))  # left in by the student
    nbformat.write(notebook, home / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    lab = lab_server(student_env, home)
    student = person("student")
    page = student.page

    # the assignment tools a student uses, not the instructor's
    open_notebook(page, lab, f"{ASSIGNMENT}/{NOTEBOOK}.ipynb")
    step(student, artifacts, "1-opened")
    items = menu_items(page, "Nbgrader", lambda: step(student, artifacts, "1-nbgrader-menu"))
    assert items == ["Assignment List"], items
    assert page.get_by_text("Create Assignment").count() == 0
    assert page.locator(".jp-NotebookPanel-toolbar").get_by_text("Validate").is_visible()
    assert lab.status("/formgrader") == 404

    # Run All goes through the whole notebook although nothing is implemented yet
    open_menu(page, "Run").get_by_role("menuitem", name="Run All Cells", exact=True).click()
    cells = page.locator(".jp-Notebook .jp-CodeCell")
    wait_until_run(page, cells.last, timeout=4 * MINUTE)
    step(student, artifacts, "2-run-all")
    unrun = [i for i in range(cells.count()) if not re.search(r"\d", execution_count(cells.nth(i)))]
    assert unrun == [], f"code cells not run by Run All: {unrun}"
    for i in range(cells.count()):  # checks give their messages, demonstrations one line
        text = output_text(cells.nth(i))
        assert not any(noise in text for noise in NOISE), f"cell {i}:\n{text[:2000]}"

    # no TensorFlow start-up lines under the imports
    imports = code_cell(page, "from autograder.checks import convolution as checks")
    assert output_text(imports).strip() == "", output_text(imports)

    # a failing check shows its message only: no traceback, no grader frames
    hand = code_cell(page, "checks.check_hand_example(cross_correlate2d)")
    hand.scroll_into_view_if_needed()
    text = output_text(hand)
    assert "cross_correlate2d" in text and "not implemented" in text, text
    for noise in ("Traceback", "autograder/", 'File "', "site-packages"):
        assert noise not in text, text
    step(student, artifacts, "3-failing-check")

    # the student writes exercise 1 with the kernel flipped: the check names the mistake
    exercise = code_cell(page, "def cross_correlate2d(x, kernel):")
    type_into(page, exercise, FLIPPED)
    run_cell(page, exercise)
    run_cell(page, hand)
    page.wait_for_function(
        "el => el.textContent.includes('Likely mistake')",
        arg=hand.locator(".jp-OutputArea").element_handle(),
        timeout=MINUTE,
    )
    text = output_text(hand)
    assert "true convolution (kernel flipped)" in text, text
    assert "Traceback" not in text and "autograder/" not in text, text
    # under the message: a picture of the mismatch, then the why and the hint, folded
    area = hand.locator(".jp-OutputArea")
    area.locator("img").first.wait_for(timeout=MINUTE)
    picture, fold = area.locator("img"), area.locator("details")
    assert picture.count() == 1 and picture.evaluate("img => img.naturalWidth") > 300
    assert fold.count() == 1 and fold.get_attribute("open") is None
    error = area.locator("[data-mime-type='application/vnd.jupyter.stderr']").first
    places = [
        box["y"] for box in (error.bounding_box(), picture.bounding_box(), fold.bounding_box())
    ]
    assert places == sorted(places), places
    assert "Do not flip the kernel" not in area.inner_text()  # closed: the student opens it
    step(student, artifacts, "4-named-mistake")
    fold.locator("summary").click()
    assert "Do not flip the kernel" in area.inner_text()
    step(student, artifacts, "4b-opened-fold")

    # nbgrader's Validate (the kernel still flipped) shows the checks' feedback, not pages of
    # tracebacks, and under the failing check's message its picture (course.validate_pictures,
    # which the student install turns on in place of nbgrader's own route)
    assert "course.validate_pictures | extension was successfully loaded" in lab.log()
    page.keyboard.press("Control+s")
    page.locator(".jp-NotebookPanel-toolbar").get_by_text("Validate").click()
    dialog = page.locator(".jp-Dialog")
    dialog.wait_for(timeout=5 * MINUTE)
    dialog.get_by_text(re.compile("im2col|failed|passed", re.I)).first.wait_for(timeout=5 * MINUTE)
    step(student, artifacts, "6-validate")
    text = dialog.locator(".jp-Dialog-body").text_content()
    assert "im2col is not implemented yet" in text or "im2col" in text, text
    assert "Traceback" not in text and "autograder/" not in text, text
    assert len(text) < 4000, f"{len(text)} characters in Validate's dialog:\n{text[:3000]}"
    # first, the scratch cell that grading would hold for review (the scan, run by Validate)
    assert text.index("Held for review") < text.index("im2col"), text[:3000]
    assert "line 2: imports os" in text, text[:3000]
    flipped = dialog.locator("pre", has_text="true convolution (kernel flipped)").first
    picture = flipped.locator("img").first
    picture.wait_for()
    assert picture.get_attribute("src").startswith("data:image/png;base64,")
    assert picture.evaluate("img => img.complete && img.naturalWidth") > 300
    html = flipped.inner_html()
    assert html.index("Likely mistake") < html.index("<img") < html.index("<details"), html[:3000]
    picture.scroll_into_view_if_needed()
    step(student, artifacts, "6b-validate-picture")
    # under the picture, the mistake's explanation and the hint, closed as in the notebook
    why = flipped.locator("details").first
    assert why.evaluate("d => !d.open")
    why.locator("summary").click()
    assert "Do not flip the kernel" in " ".join(why.inner_text().split())  # wrapped as text
    why.scroll_into_view_if_needed()
    step(student, artifacts, "6c-validate-fold")
    dialog.locator(".jp-Dialog-button.jp-mod-accept").click()
    dialog.wait_for(state="detached")

    # ... fixes it: both checks of exercise 1 pass
    type_into(page, exercise, CORRECT)
    run_cell(page, exercise)
    general = code_cell(page, "checks.check_cross_correlate2d(cross_correlate2d)")
    for cell in (hand, general):
        run_cell(page, cell)
        page.wait_for_function(
            "el => el.textContent.includes('OK:')",
            arg=cell.locator(".jp-OutputArea").element_handle(),
            timeout=MINUTE,
        )
    assert output_text(hand).startswith("OK: cross_correlate2d reproduces the worked")
    step(student, artifacts, "5-passing-checks")
    assert student.blocked == [], student.blocked


# --- the instructor ----------------------------------------------------------------------------


def test_an_instructor_grades_and_reads_formgrader_and_feedback(
    graded, lab_server, person, artifacts
):
    course = graded.course
    assert "graded 4 of 4 submissions" in graded.grading, graded.grading
    assert "tampering" not in graded.grading, graded.grading
    assert "3 students" in graded.roster or "3 " in graded.roster, graded.roster
    lab = lab_server(Path(sys.executable), course)
    instructor = person("instructor")
    page = instructor.page
    page.goto(lab.url("/lab"))
    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").wait_for(timeout=2 * MINUTE)
    items = menu_items(page, "Nbgrader", lambda: step(instructor, artifacts, "0-nbgrader-menu"))
    for tool in ("Assignment List", *INSTRUCTOR_TOOLS):
        assert tool.lower() in [item.lower() for item in items], items
    assert page.get_by_text("Create Assignment").count() == 1  # the right sidebar's tab

    # formgrader: the assignment is released and has three submissions
    page.goto(lab.url("/formgrader"))
    row = page.locator("tr", has_text=ASSIGNMENT)
    row.first.wait_for(timeout=MINUTE)
    step(instructor, artifacts, "1-formgrader-assignments")
    assert "released" in row.first.text_content().lower(), row.first.text_content()

    # the submissions, with the roster's names and their scores
    page.goto(lab.url(f"/formgrader/manage_submissions/{ASSIGNMENT}"))
    page.locator("tr", has_text="Lovelace").first.wait_for(timeout=MINUTE)
    step(instructor, artifacts, "2-formgrader-submissions")
    rows = {
        last: page.locator("tr", has_text=last).first.text_content() for _, last in ROSTER.values()
    }
    assert "None" not in " ".join(rows.values()), rows
    for student, (first, last) in ROSTER.items():
        assert rows[last].startswith(f"{last}, {first}{student}"), rows
    assert re.search(r"UTC\s*graded\s*5 / 12$", rows["Lovelace"].strip()), rows
    assert re.search(r"UTC\s*graded\s*2 / 12$", rows["Hopper"].strip()), rows
    assert re.search(r"UTC\s*graded\s*0 / 12$", rows["Turing"].strip()), rows

    # a feedback page, opened as a file, offline: formulas are rendered, failures are messages
    feedback = course / "feedback" / "grace" / ASSIGNMENT / f"{NOTEBOOK}.html"
    page.goto(feedback.as_uri())
    formula = page.locator("math[display='block']").first
    formula.scroll_into_view_if_needed()
    box = formula.bounding_box()
    assert box and box["height"] > 20 and box["width"] > 100, box
    body = page.locator("body").inner_text()
    assert "$$" not in body and "\\sum" not in body
    step(instructor, artifacts, "3-feedback-math")
    test_cells = page.locator("div.code_cell").filter(
        has=page.locator(".input_area", has_text=re.compile(r"checks\.check_"))
    )
    outputs = [test_cells.nth(i).inner_text() for i in range(test_cells.count())]
    assert len(outputs) == 6, outputs
    assert "true convolution (kernel flipped)" in outputs[0], outputs[0]
    for text in outputs:
        assert "Traceback" not in text and "autograder/" not in text, text
    # grace's failed check: the message, the grader's picture, the why and the hint folded
    picture = test_cells.first.locator("img")
    assert picture.count() == 1 and picture.evaluate("img => img.naturalWidth") > 300
    assert test_cells.first.locator("details.cnn-course-fold").count() == 1
    assert "Do not flip the kernel" not in outputs[0]
    test_cells.first.scroll_into_view_if_needed()
    step(instructor, artifacts, "4-feedback-check")
    assert instructor.blocked == [], instructor.blocked

    # formgrader shows grace's notebook with the same picture under the failed check (the
    # page asks for nothing but formgrader's own MathJax, which the network refuses)
    with CourseDir(course).gradebook() as gb:
        notebook_id = gb.find_submission_notebook(NOTEBOOK, ASSIGNMENT, "grace").id
    page.goto(lab.url(f"/formgrader/submissions/{notebook_id}/"))
    hand = page.locator("div.code_cell").filter(
        has=page.locator(".input_area", has_text="checks.check_hand_example")
    )
    picture = hand.locator(".output_png img")
    picture.first.wait_for(timeout=MINUTE)
    assert picture.count() == 1 and picture.evaluate("img => img.naturalWidth") > 300
    picture.scroll_into_view_if_needed()
    step(instructor, artifacts, "5-formgrader-picture")
    assert all(MATHJAX_CDN.match(url) for url in instructor.blocked), instructor.blocked


# --- every other lesson as a student meets it -------------------------------------------------

# per lesson: the exercise a student gets wrong first, and the catalogued mistake they make
# (its wrong version from solutions/mistakes/, or the code given here); lesson 02 is the
# walk-through above. A lesson not chosen here (a new one) is met with its first wrong
# version that replaces a single object (`first_wrong_answer`).
CHOSEN = {
    "01_mlp_limits": ("mlp_limits", "dense_params", "bias_not_counted"),
    "03_padding": ("padding", "padding_amounts", "symmetric_same"),
    "04_stride": ("stride", "conv_output_size", "ceil_not_floor"),
    "05_pooling": ("pooling", "pool_output_size", "valid_ceil"),
    "06_backprop": ("backprop", "numerical_gradient", "one_sided"),
    "07_batchnorm": ("batchnorm", "batch_statistics", "unbiased_variance"),
    "08_dropout": ("dropout", "mask_shape", "noise_shape_ignored"),
    "09_transfer_learning": ("transfer_learning", "freeze", "weights_frozen_layers_not"),
    "10_conv_variants": ("conv_variants", "depthwise_conv", "channel_order"),
    "11_capstone": ("capstone", "ResidualBlock.call", "skip_after_relu"),
}


def first_wrong_answer(assignment):
    """(notebook, exercise, mistake) of the lesson's first wrong version with one replacement."""
    from solutions.mistakes import wrong_versions

    single = [v for v in wrong_versions(assignment) if len(v.replacements) == 1]
    if not single:
        raise LookupError(
            f"{assignment} has no wrong version that replaces a single object: choose its "
            "exercise and mistake in CHOSEN"
        )
    (exercise,) = single[0].replacements
    return lessons.topic(assignment), exercise, single[0].mistake


LESSONS = {
    lesson: CHOSEN.get(lesson) or first_wrong_answer(lesson)
    for lesson in lessons.names()
    if lesson != "02_convolution"
}
WRITTEN = {
    "noise_shape_ignored": (
        "def mask_shape(input_shape, noise_shape):\n    return tuple(input_shape)\n",
        "test_mask_shape",
    )
}


@pytest.fixture(scope="module")
def lessons_released(tmp_path_factory):
    """The lessons of LESSONS released, each next to a solved copy (solved.ipynb) for Validate."""
    from autograder.grading.submissions import perfect

    tmp = tmp_path_factory.mktemp("lessons")
    args = [a for assignment in LESSONS for a in ("--assignment", assignment)]
    _cli("release", "--dir", tmp / "course", *args, cwd=tmp)
    home = tmp / "student"
    for assignment, (notebook, *_) in LESSONS.items():
        released = tmp / "course" / "release" / assignment / f"{notebook}.ipynb"
        source = tmp / "course" / "source" / assignment / f"{notebook}.ipynb"
        (home / assignment).mkdir(parents=True)
        shutil.copy(released, home / assignment)
        solved = perfect(nbformat.read(source, as_version=4), nbformat.read(released, 4))
        nbformat.write(solved, home / assignment / "solved.ipynb")
    return home


def _wrong_answer(notebook, exercise, mistake):
    """Wrong code for `exercise` that makes `mistake`, named as the notebook names it, the test
    cell it fails first, and the mistake's title."""
    import importlib
    import inspect

    title = next(
        m.title
        for m in lessons.module(lessons.by_topic(notebook), "mistakes").CATALOGUE
        if m.id == mistake
    )
    if mistake in WRITTEN:
        return (*WRITTEN[mistake], title)
    versions = importlib.import_module(f"solutions.mistakes.{notebook}").WRONG_VERSIONS
    version = next(
        v for v in versions if list(v.replacements) == [exercise] and v.mistake == mistake
    )
    module, name = version.replacements[exercise].split(":")
    code = inspect.getsource(getattr(importlib.import_module(module), name))
    owner, _, method = exercise.partition(".")
    if method:  # a method: the whole class as the reference has it, with that method wrong
        from autograder.authoring.sources import object_source, replace_definition

        whole = object_source(f"solutions.{notebook}:{owner}")
        return replace_definition(whole, exercise, code), version.breaks[0], title
    return code.replace(f"def {name}(", f"def {exercise}(", 1), version.breaks[0], title


def demonstrations(notebook) -> int:
    """How many code cells of the notebook start by asking for an exercise (`ready.require`)."""
    return sum(
        cell.cell_type == "code" and cell.source.lstrip().startswith("ready.require(")
        for cell in notebook.cells
    )


def _definition_line(exercise):
    """How the exercise's cell starts its definition: `def name(`, or `class Name(` for a
    method (the student rewrites the class's cell)."""
    owner, _, method = exercise.partition(".")
    return f"class {owner}(" if method else f"def {exercise}("


def _shut_down_kernels(lab):
    with urllib.request.urlopen(lab.url("/api/kernels"), timeout=30) as response:
        kernels = json.load(response)
    for kernel in kernels:
        request = urllib.request.Request(lab.url(f"/api/kernels/{kernel['id']}"), method="DELETE")
        urllib.request.urlopen(request, timeout=60).close()


def test_a_student_meets_every_lesson(lessons_released, student_env, lab_server, person, artifacts):
    """For each lesson: Run All on the untouched notebook gives one-line notes, not tracebacks
    or empty figures; a wrong exercise shows its check's message; a solved copy validates."""
    lab = lab_server(student_env, lessons_released)
    student = person("student")
    page = student.page
    for assignment, (notebook, exercise, mistake) in LESSONS.items():
        open_notebook(page, lab, f"{assignment}/{notebook}.ipynb", reset=True)
        open_menu(page, "Run").get_by_role("menuitem", name="Run All Cells", exact=True).click()
        cells = page.locator(".jp-Notebook .jp-CodeCell")
        wait_until_run(page, cells.last, timeout=5 * MINUTE)
        step(student, artifacts, f"{assignment}-1-run-all")
        notes = 0
        for i in range(cells.count()):
            cell = cells.nth(i)
            if not re.search(r"\d", execution_count(cell)):  # Run All may still be busy here
                wait_until_run(page, cell, timeout=2 * MINUTE)
            assert re.search(r"\d", execution_count(cell)), f"{assignment}: cell {i} not run"
            text = output_text(cell)
            for noise in NOISE:
                assert noise not in text, f"{assignment}, cell {i}:\n{text[:2000]}"
            if re.match(r"Finish Exercise \d first: ", text.strip()):
                notes += 1
                assert text.strip().count("\n") == 0, text  # one line
                assert cell.locator(".jp-OutputArea img").count() == 0, "a figure was drawn"
        released = nbformat.read(lessons_released / assignment / f"{notebook}.ipynb", 4)
        asking = demonstrations(released)  # a short lesson may have fewer than 3
        assert notes >= min(3, asking) > 0, (
            f"{assignment}: only {notes} of {asking} demonstrations said what to finish"
        )

        # one wrong exercise and its test cell: the check names the mistake
        code, grade_id, title = _wrong_answer(notebook, exercise, mistake)
        test_source = next(
            c.source.splitlines()[0]
            for c in released.cells
            if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id
        )
        cell = code_cell(page, _definition_line(exercise))
        type_into(page, cell, code)
        run_cell(page, cell)
        test = code_cell(page, test_source)
        run_cell(page, test)
        page.wait_for_function(
            "el => el.textContent.includes('Likely mistake')",
            arg=test.locator(".jp-OutputArea").element_handle(),
            timeout=2 * MINUTE,
        )
        text = output_text(test)
        assert f"Likely mistake: {title}" in " ".join(text.split()), text
        assert all(noise not in text for noise in NOISE), text
        step(student, artifacts, f"{assignment}-2-wrong")
        page.keyboard.press("Control+s")

        # the solved copy validates: Success, within the per-cell time the install configures
        _shut_down_kernels(lab)  # a TensorFlow kernel per lesson would crowd a small machine
        open_notebook(page, lab, f"{assignment}/solved.ipynb", reset=True)
        page.locator(".jp-NotebookPanel-toolbar").get_by_text("Validate").click()
        dialog = page.locator(".jp-Dialog")
        dialog.get_by_text(re.compile("Success|failed|error", re.I)).first.wait_for(
            timeout=15 * MINUTE
        )
        step(student, artifacts, f"{assignment}-3-validate")
        text = dialog.locator(".jp-Dialog-body").text_content()
        assert "Success! Your notebook passes all the tests." in text, text[:3000]
        dialog.locator(".jp-Dialog-button.jp-mod-accept").click()
    assert student.blocked == [], student.blocked


def test_every_lesson_but_02_is_met_with_a_catalogued_wrong_answer():
    """LESSONS covers every lesson found (02 has its walk-through), each with wrong code for
    one exercise whose test cell is in the notebook, and demonstrations that ask for it."""
    assert set(LESSONS) == set(lessons.names()) - {"02_convolution"}
    for assignment, (notebook, exercise, mistake) in LESSONS.items():
        code, grade_id, title = _wrong_answer(notebook, exercise, mistake)
        source = ROOT / "notebooks" / assignment / f"{notebook}.ipynb"
        nb = nbformat.read(source, 4)
        grade_ids = {c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells}
        assert grade_id in grade_ids and _definition_line(exercise) in code, assignment
        assert title and demonstrations(nb) > 0, assignment


# --- hostile HTML in formgrader and in a feedback page -----------------------------------------

MATHJAX_CDN = re.compile(r"^https://cdn(js)?\.")


def test_hostile_html_is_inert_in_formgrader_and_in_its_feedback(
    graded, loopback, lab_server, person, find_active
):
    """mallory's payloads call home if they ever run or load: the loopback server hears
    nothing from formgrader's view of her autograded notebook or from her feedback page."""
    from nbgrader.api import Gradebook

    from autograder.grading.html_payloads import PWNED

    course = graded.course
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        submission = gb.find_submission_notebook(NOTEBOOK, ASSIGNMENT, "mallory").id
    lab = lab_server(Path(sys.executable), course)
    reader = person("reader")
    page = reader.page
    requests, stopped = [], []  # asked for; stopped by a Content-Security-Policy
    page.on("request", lambda request: requests.append(request.url))
    page.on("requestfailed", lambda r: r.failure == "csp" and stopped.append(r.url))
    loopback.hits.clear()
    page.goto(lab.url(f"/formgrader/submissions/{submission}/"))
    page.locator(".cell").first.wait_for(timeout=MINUTE)
    page.wait_for_timeout(1500)  # let late loads, timers and refreshes happen
    assert loopback.hits == [], loopback.hits
    assert PWNED not in page.title(), page.title()
    assert find_active(page, ".cell *", ("meta", "style")) == []
    strangers = [u for u in requests if not u.startswith((lab.base, "data:"))]
    assert all(MATHJAX_CDN.match(url) for url in strangers), strangers  # formgrader's own

    requests.clear()
    feedback = course / "feedback" / "mallory" / ASSIGNMENT / f"{NOTEBOOK}.html"
    page.goto(feedback.as_uri())
    page.wait_for_timeout(1500)
    assert loopback.hits == [], loopback.hits
    assert PWNED not in page.title()
    assert find_active(page, ".cell *", ("meta", "style")) == []
    assert [url for url in requests if url not in stopped] == [feedback.as_uri()], requests
