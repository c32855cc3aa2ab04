"""Students get nbgrader's Validate (with the pictures of the mismatch: course.validate_pictures)
and Assignment List; instructors get every nbgrader tool.

The two packages install Jupyter configuration files (pyproject's data-files) into
`<prefix>/etc/jupyter`, next to nbgrader's own `nbgrader.json`. Jupyter reads the files of a
`.d` folder in sorted order, the later winning: this reads them as Jupyter does, for a student
install (cnn-course) and an instructor install (cnn-course and cnn-course-solutions). The
browser tests (tests/browser/) show the same in JupyterLab.
"""

import json
import shutil
import tomllib
from pathlib import Path

import pytest
from jupyter_server.config_manager import BaseJSONConfigManager

ROOT = Path(__file__).resolve().parents[1]
NBGRADER = {
    "ServerApp": {
        "jpserver_extensions": {
            f"nbgrader.server_extensions.{name}": True
            for name in ("formgrader", "validate_assignment", "assignment_list", "course_list")
        }
    }
}
INSTRUCTOR_ONLY_PLUGINS = {
    "@jupyter/nbgrader:formgrader",
    "@jupyter/nbgrader:course-list",
    "@jupyter/nbgrader:create-assignment",
}


def _data_files(project: Path) -> dict[str, list[Path]]:
    config = tomllib.loads((project / "pyproject.toml").read_text())
    files = config["tool"]["setuptools"]["data-files"]
    return {target: [project / source for source in sources] for target, sources in files.items()}


def _prefix(tmp_path: Path, *projects: Path) -> Path:
    """An environment prefix's etc/jupyter as nbgrader and the given projects install it."""
    prefix = tmp_path / "prefix"
    server = prefix / "etc/jupyter/jupyter_server_config.d"
    server.mkdir(parents=True)
    (server / "nbgrader.json").write_text(json.dumps(NBGRADER))
    for project in projects:
        for target, sources in _data_files(project).items():
            (prefix / target).mkdir(parents=True, exist_ok=True)
            for source in sources:
                shutil.copy(source, prefix / target / source.name)
    return prefix / "etc/jupyter"


def _server_extensions(config_dir: Path) -> dict[str, bool]:
    manager = BaseJSONConfigManager(config_dir=str(config_dir), read_directory=True)
    return manager.get("jupyter_server_config")["ServerApp"]["jpserver_extensions"]


def _disabled_plugins(config_dir: Path) -> set[str]:
    manager = BaseJSONConfigManager(config_dir=str(config_dir / "labconfig"), read_directory=True)
    disabled = manager.get("page_config").get("disabledExtensions", {})
    return {name for name, off in disabled.items() if off}


def test_a_student_install_has_validate_and_the_assignment_list_only(tmp_path):
    config = _prefix(tmp_path, ROOT)
    extensions = _server_extensions(config)
    assert extensions["nbgrader.server_extensions.validate_assignment"] is True
    # Validate with the pictures of the mismatch: served before nbgrader's route (sorted names)
    assert extensions["course.validate_pictures"] is True
    assert "course.validate_pictures" < "nbgrader.server_extensions.validate_assignment"
    assert extensions["nbgrader.server_extensions.assignment_list"] is True
    assert extensions["nbgrader.server_extensions.formgrader"] is False
    assert extensions["nbgrader.server_extensions.course_list"] is False
    assert _disabled_plugins(config) == INSTRUCTOR_ONLY_PLUGINS


def test_an_instructor_install_has_every_nbgrader_tool(tmp_path):
    config = _prefix(tmp_path, ROOT, ROOT / "solutions")
    assert all(_server_extensions(config).values())
    assert _disabled_plugins(config) == set()


@pytest.mark.parametrize("project", [ROOT, ROOT / "solutions"], ids=["student", "instructor"])
def test_the_files_sort_after_nbgraders_own(project):
    names = [source.name for sources in _data_files(project).values() for source in sources]
    assert names and all(name > "nbgrader.json" for name in names)
    if project != ROOT:
        student = [s.name for sources in _data_files(ROOT).values() for s in sources]
        assert min(names) > max(student)


@pytest.mark.parametrize(
    "projects", [(ROOT,), (ROOT, ROOT / "solutions")], ids=["student", "instructor"]
)
def test_validate_gives_a_cell_time_for_the_experiments(projects, tmp_path, monkeypatch):
    """nbgrader's Validate reads nbgrader_config.* from the Jupyter config path (its handler
    builds an `NbGrader` app and loads its config files): the installed file must lift the
    30 s per cell, and turn a timeout into a cell's error, not a traceback of nbclient's."""
    import jupyter_core.application
    from nbgrader.apps import NbGrader
    from nbgrader.preprocessors import Execute

    config_dir = _prefix(tmp_path, *projects)
    monkeypatch.setattr(jupyter_core.application, "jupyter_config_path", lambda: [str(config_dir)])
    monkeypatch.chdir(tmp_path)
    app = NbGrader()
    app.load_config_file()
    execute = Execute(config=app.config)
    assert execute.timeout >= 300
    assert execute.interrupt_on_timeout and not execute.raise_on_iopub_timeout
    assert f"{execute.timeout} s" in execute.error_on_timeout["traceback"][0]

    # a course directory's own configuration (cnn-course release writes one) still wins
    (tmp_path / "nbgrader_config.py").write_text("c.Execute.timeout = 120\n")
    app = NbGrader()
    app.load_config_file()
    assert Execute(config=app.config).timeout == 120
