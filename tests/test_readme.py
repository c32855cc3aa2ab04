"""The README's copy-paste commands are the ones CI runs."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_commands():
    return re.findall(r"```bash\n(.*?)\n```", (ROOT / "README.md").read_text(), re.S)


def test_readme_opens_with_the_demo_and_the_test_command():
    demo, tests = readme_commands()[:2]
    assert demo.startswith("python3.11 -m venv .venv") and demo.endswith("cnn-course demo")
    assert "apt-get install -y -q bubblewrap chromium && python3.11 -m venv .venv" in tests
    assert tests.endswith("pytest")


def test_ci_runs_the_readme_test_command():
    tests = readme_commands()[1]
    after_activation = tests.split(". .venv/bin/activate && ", 1)[1]
    ci = (ROOT / ".ci" / "run").read_text()
    assert after_activation in ci
