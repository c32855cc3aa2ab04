"""The class report (`cnn-course report`) opened offline in headless Chromium: its plots and
tables render, and nothing in it runs or loads, though every student id, reason and mistake
title in it is a payload that calls home (`html_payloads`) when it runs or loads."""

import pytest

from autograder.grading.html_payloads import PWNED, markdown_payloads
from autograder.grading.report_class import CheckStats, LessonReport, MistakeStats, Submission
from autograder.grading.report_page import report_html

pytestmark = pytest.mark.browser


def hostile_lesson(base: str) -> LessonReport:
    """A lesson whose every text from submissions is a live payload."""
    payloads = list(markdown_payloads(base).values())
    submissions = [
        Submission(
            payload,
            score=float(n % 5),
            max_score=4.0,
            status="failed" if n % 3 == 0 else "graded",
            seconds=1.0 + n,
            reason=payload if n % 3 == 0 else "",
            review=[payload] if n % 2 else [],
        )
        for n, payload in enumerate(payloads)
    ]
    checks = [
        CheckStats("test_conv2d", 2.0, full=9, partial=3, zero=len(payloads) - 12),
        CheckStats("test_im2col", 1.0, full=len(payloads) - 2, zero=2),
    ]
    mistakes = [MistakeStats(p, "id", ["test_conv2d"], payloads[:3]) for p in payloads[:4]]
    return LessonReport("02_convolution", 4.0, submissions, checks, mistakes)


def test_the_report_renders_its_plots_and_tables_and_runs_nothing(
    loopback, person, tmp_path, find_active
):
    lesson = hostile_lesson(loopback.base)
    page_path = tmp_path / "report.html"
    page_path.write_text(report_html([lesson], "Class report"))
    # the control: the same payloads, unescaped, call home (so silence below means something)
    control = tmp_path / "control.html"
    control.write_text("<html><body>" + "".join(s.student for s in lesson.submissions))
    someone = person("control")
    someone.page.goto(control.as_uri(), wait_until="load")
    someone.page.wait_for_timeout(1500)
    assert len(loopback.names()) >= 3, loopback.hits
    loopback.hits.clear()

    someone = person("instructor")
    page = someone.page
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(page_path.as_uri(), wait_until="load")
    page.wait_for_timeout(1500)  # let timers, refreshes and late loads happen
    assert loopback.hits == [] and someone.blocked == []
    assert [u for u in requests if not u.startswith("data:")] == [page_path.as_uri()]
    assert PWNED not in page.title() and page.title() == "Class report"
    assert find_active(page) == []

    plots = page.locator("img.plot")
    assert plots.count() == 2
    for index in range(2):
        width, height = plots.nth(index).evaluate("img => [img.naturalWidth, img.naturalHeight]")
        assert width > 200 and height > 100
    tables = page.locator("section table")
    headers = [tables.nth(i).locator("th").first.inner_text() for i in range(tables.count())]
    assert headers == ["submissions", "check", "mistake", "student", "student", "student"]
    text = page.locator("body").inner_text()
    for payload in (lesson.submissions[0].student, lesson.mistakes[1].title):
        assert payload in text  # shown as text, whole
    rows = page.locator("section table").nth(1).locator("tbody tr")
    assert rows.count() == 2 and "test_conv2d" in rows.first.inner_text()
