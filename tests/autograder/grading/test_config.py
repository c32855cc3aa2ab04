import pytest

from autograder.grading.config import Settings, load_config, read_settings, write_config


def test_settings_round_trip_through_the_config_file(tmp_path):
    settings = Settings(cell_timeout=33, max_output_lines=50, max_output_chars=999, max_traceback=7)
    write_config(tmp_path, settings)
    assert read_settings(tmp_path) == settings


def test_config_sets_what_grading_relies_on(tmp_path):
    write_config(tmp_path, Settings(cell_timeout=45))
    config = load_config(tmp_path)
    assert config.CourseDirectory.course_id == "cnn-course"
    assert config.CourseDirectory.root == str(tmp_path)
    assert config.Execute.timeout == 45
    assert config.OverwriteCells.add_missing_cells is True
    assert config.ClearSolutions.code_stub == {
        "python": "# YOUR CODE HERE\nraise NotImplementedError()"
    }
    assert "45 s" in config.Execute.error_on_timeout["traceback"][0]
    assert config.Execute.extra_arguments == [
        "--IPKernelApp.exec_lines=__import__('sys').modules['solutions'] = None"
    ]
    assert "autograder.grading.preprocessors.TruncateOutput" in (
        config.Autograde.autograde_preprocessors
    )


def test_every_configured_preprocessor_imports(tmp_path):
    from traitlets.utils.importstring import import_item

    write_config(tmp_path, Settings())
    for name in load_config(tmp_path).Autograde.autograde_preprocessors:
        assert callable(import_item(name))


def test_config_root_follows_a_copied_directory(tmp_path):
    import shutil

    (tmp_path / "a").mkdir()
    write_config(tmp_path / "a", Settings())
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    assert load_config(tmp_path / "b").CourseDirectory.root == str(tmp_path / "b")


@pytest.mark.parametrize("name", ["cell_timeout", "max_output_chars"])
def test_settings_refuse_non_positive_limits(name):
    with pytest.raises(ValueError, match=name):
        Settings(**{name: 0})


def test_sanitizing_is_the_last_step_of_autograde_and_feedback(tmp_path):
    from autograder.grading.config import SANITIZE, feedback_config, grading_config

    write_config(tmp_path, Settings())
    config = load_config(tmp_path)
    assert config.Autograde.autograde_preprocessors[-1] == SANITIZE
    assert config.GenerateFeedback.preprocessors[-1] == SANITIZE
    # a course directory configured before SanitizeNotebook existed gets it all the same
    config.Autograde.autograde_preprocessors = config.Autograde.autograde_preprocessors[:-1]
    config.GenerateFeedback.preprocessors = config.GenerateFeedback.preprocessors[:-1]
    assert grading_config(config, tmp_path).Autograde.autograde_preprocessors[-1] == SANITIZE
    assert feedback_config(config).GenerateFeedback.preprocessors[-1] == SANITIZE
    assert SANITIZE not in config.GenerateFeedback.preprocessors  # the base is not changed
