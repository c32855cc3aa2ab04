import pytest

from autograder.grading import demo
from autograder.grading.errors import CourseError


def test_demo_grades_the_samples_and_checks_expectations(fixture_repo, tmp_path):
    lines = []
    ok = demo.run_demo(fixture_repo.notebooks, tmp_path, jobs=2, broken=True, say=lines.append)
    text = "\n".join(lines)
    assert ok, text
    assert "every submission got the expected score" in text
    table = text[text.index("\nstudent ") + 1 :]
    header = table.splitlines()[0].split()
    assert header == ["student", "add", "scale", "counter", "total", "expected", "verdict"]
    rows = {line.split()[0]: line.split() for line in table.splitlines()[2:] if line.strip()}
    assert rows["perfect"][-3:] == ["4/4", "4", "ok"]
    assert rows["untouched"][-3:] == ["0/4", "0", "ok"]
    assert rows["broken-invalid-json"][-3:] == ["0/4", "0", "ok"]


def test_demo_reports_a_wrong_expectation(fixture_repo, tmp_path, monkeypatch):
    from autograder.grading import submissions

    real = submissions.Sample.expected_score
    monkeypatch.setattr(
        submissions.Sample,
        "expected_score",
        lambda self, points: 1.0 if self.student == "perfect" else real(self, points),
    )
    lines = []
    assert not demo.run_demo(fixture_repo.notebooks, tmp_path, jobs=1, say=lines.append)
    assert "1 submissions did not get the expected score" in lines
    table = "\n".join(lines).splitlines()
    assert any(line.split()[:1] == ["perfect"] and "WRONG" in line for line in table)


def test_demo_needs_the_solutions_package(monkeypatch, tmp_path):
    real = demo.importlib.util.find_spec
    monkeypatch.setattr(
        demo.importlib.util, "find_spec", lambda name: None if name == "solutions" else real(name)
    )
    with pytest.raises(CourseError) as error:
        demo.run_demo(tmp_path, tmp_path)
    assert str(error.value) == "the demo needs the solutions package: pip install -e ./solutions"
