import subprocess
import sys
import uuid

import pytest

from autograder.sandbox.limits import Confinement
from autograder.sandbox.policy import Limits, is_root

BUSY = """
import sys, time
for procs in sys.argv[1:]:
    open(procs, "w").write("0")  # this process joins the sandbox's groups
end = time.process_time() + 0.3
while time.process_time() < end:
    pass
"""


@pytest.mark.skipif(not is_root(), reason="control groups need root")
def test_a_released_sandbox_says_how_much_cpu_its_processes_used():
    confinement = Confinement(Limits(512, 64, 60, 16, 0), f"test-{uuid.uuid4().hex[:8]}")
    confinement.prepare()
    if confinement.kind == "rlimits" or (
        confinement.kind == "cgroup v1" and not confinement.accounting
    ):
        pytest.skip("no control group to measure with")
    subprocess.run(
        [sys.executable, "-c", BUSY, *confinement.launch_config()["cgroup_procs"]], check=True
    )
    confinement.release()
    assert 0.25 <= confinement.cpu_seconds < 5


def test_without_control_groups_the_cpu_time_is_unknown():
    confinement = Confinement(Limits(512, 64, 60, 16, 0), "never-prepared")
    confinement.release()
    assert confinement.cpu_seconds is None
