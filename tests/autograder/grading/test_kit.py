"""The kit a grading task carries: the assignment, its configuration, nothing of the class."""

import io
import tarfile

import pytest

from autograder.grading.config import load_config
from autograder.grading.kit import GRADEBOOK, make_kit, place_submission, unpack_kit

ASSIGNMENT = "01_fixture"


@pytest.mark.filterwarnings("ignore:Object of type")
def test_a_kit_holds_the_assignment_and_no_student(course, tmp_path):
    with course.gradebook() as gb:
        gb.add_student("secret-student", first_name="Grace", email="grace@example.org")
        gb.add_submission(ASSIGNMENT, "secret-student")
    kit = make_kit(course, ASSIGNMENT)
    with tarfile.open(fileobj=io.BytesIO(kit)) as tar:
        names = set(tar.getnames())
        db = tar.extractfile(GRADEBOOK).read()
    assert {"nbgrader_config.py", GRADEBOOK, f"release/{ASSIGNMENT}/arith.ipynb"} <= names
    assert f"source/{ASSIGNMENT}/arith.ipynb" in names
    assert not any(name.startswith(("submitted", "autograded", "feedback")) for name in names)
    assert b"secret-student" not in db and b"grace@example.org" not in db  # vacuumed

    unpacked = unpack_kit(kit, tmp_path / "kit")
    with unpacked.gradebook() as gb:
        assert [s.id for s in gb.students] == []
        assert [a.name for a in gb.assignments] == [ASSIGNMENT]
        points = {
            c.name: c.max_score for c in gb.find_assignment(ASSIGNMENT).notebooks[0].grade_cells
        }
    assert points == {"test_add": 1.0, "test_scale": 2.0, "test_counter": 1.0}
    assert load_config(unpacked.root).Execute.timeout == load_config(course.root).Execute.timeout
    with course.gradebook() as gb:  # the course's own gradebook is untouched
        assert [s.id for s in gb.students] == ["secret-student"]


def test_a_kit_with_a_path_out_of_its_folder_is_refused(tmp_path):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        data = b"x"
        info = tarfile.TarInfo("../escaped.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    with pytest.raises(tarfile.TarError):
        unpack_kit(buffer.getvalue(), tmp_path / "kit")
    assert not (tmp_path / "escaped.txt").exists()


def test_a_submission_is_placed_with_intakes_checks(course):
    folder = place_submission(course, ASSIGNMENT, "ann", {"arith.ipynb": b"{}", "d/x.txt": b"1"})
    assert folder == course.submitted_dir("ann", ASSIGNMENT)
    assert (folder / "d" / "x.txt").read_bytes() == b"1"
    with pytest.raises(ValueError, match="not a safe file name"):
        place_submission(course, ASSIGNMENT, "bob", {"../x.ipynb": b"{}"})
    with pytest.raises(ValueError, match="not safe ids"):
        place_submission(course, ASSIGNMENT, "../bob", {"arith.ipynb": b"{}"})
