"""`autograder.authoring.sources.module_path`: a missing module is told apart from a missing
package, so that a lesson whose reference module is not written yet is not told to install."""

import pytest

from autograder.authoring.sources import module_path


def test_a_module_is_found_without_importing_it():
    assert module_path("solutions.convolution").name == "convolution.py"


def test_a_lesson_module_not_written_yet_is_named_with_its_path():
    with pytest.raises(LookupError) as missing:
        module_path("solutions.no_such_topic")
    message = str(missing.value)
    assert "no_such_topic.py" in message and "solutions/<topic>.py" in message
    assert "pip install" not in message


@pytest.mark.parametrize("module", ["no_such_package.topic", "no_such_package.deeper.topic"])
def test_a_missing_package_is_said_to_be_not_installed(module):
    with pytest.raises(LookupError, match="package 'no_such_package' is not installed"):
        module_path(module)


def test_the_solutions_package_missing_says_how_to_install_it(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name.split(".")[0] == "solutions" else real(name, *a),
    )
    with pytest.raises(LookupError, match=r"pip install -e \./solutions"):
        module_path("solutions.convolution")
