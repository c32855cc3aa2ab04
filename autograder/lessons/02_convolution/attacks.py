"""Hostile submissions of lesson 02: students who want points without the work, and code that
wants to do harm. `cnn-course demo --hostile` grades them beside the honest samples, and the
test suite proves what each one gets.

Cheats start from the untouched release, so without their cheat lines they score 0 and must
score 0 with them. Attacks start from the perfect solution with one cell added right after
the imports; they know the real paths of the course directory (the strongest attacker) and
must change nothing outside their own sandbox. What each recipe expects is its `breaks`: None
for a notebook that must score 0, or the test cells it loses. (Writes the sandbox stops and
network attempts cost nothing: they are only reported for review.)
"""

import copy
import json
from pathlib import Path

import nbformat

from ...grading.submissions import Sample, perfect, student_id, with_cell, with_replacements

ASSIGNMENT = "02_convolution"
ALL = None  # every test cell fails: the notebook scores 0


# --- cheats: a stub notebook plus cheat lines -------------------------------------------------

FAKE_CHECKS = """\
class _Always:
    def __getattr__(self, name):
        return lambda *args, **kwargs: print("OK: all good")

checks = _Always()
"""

PATCH_CHECKS = """\
checks.compare = lambda *args, **kwargs: None
checks.first_match = lambda *args, **kwargs: None
setattr(checks, "check_cross_correlate2d", lambda *args, **kwargs: None)
"""

PATCH_NUMPY = """\
import numpy as np
np.abs = lambda values: values * 0.0
np.allclose = lambda *args, **kwargs: True
"""

SETPROFILE = {
    "cross_correlate2d": """\
def cross_correlate2d(x, kernel):
    import sys
    from scipy.signal import correlate2d
    sys.setprofile(None)
    return correlate2d(x, kernel, mode="valid")
""",
    "Conv2D.call": """\
def call(self, inputs):
    import sys
    sys.setprofile(None)
    out = ops.conv(inputs, self.kernel, padding="valid")
    return self.activation(out + self.bias if self.use_bias else out)
""",
}

THREAD = {
    "cross_correlate2d": """\
def cross_correlate2d(x, kernel):
    import threading
    from scipy.signal import correlate2d
    box = []
    worker = threading.Thread(target=lambda: box.append(correlate2d(x, kernel, mode="valid")))
    worker.start()
    worker.join()
    return box[0]
""",
}

RAW_ENTRY_POINTS = {
    "cross_correlate2d": """\
def cross_correlate2d(x, kernel):
    import scipy.signal
    x, kernel = np.asarray(x, float), np.asarray(kernel, float)
    return scipy.signal._sigtools._convolve2d(x, kernel[::-1, ::-1], 1, 0, 0, 0)
""",
    "im2col": """\
def im2col(x, kernel_size):
    import tensorflow as tf
    kh, kw = kernel_size
    return tf.raw_ops.ExtractImagePatches(
        images=x, ksizes=[1, kh, kw, 1], strides=[1, 1, 1, 1], rates=[1, 1, 1, 1],
        padding="VALID")
""",
    "Conv2D.call": """\
def call(self, inputs):
    import tensorflow as tf
    out = tf.raw_ops.Conv2D(input=inputs, filter=self.kernel, strides=[1, 1, 1, 1],
                            padding="VALID")
    return self.activation(out + self.bias if self.use_bias else out)
""",
}

LAZY = {
    "cross_correlate2d": """\
def cross_correlate2d(x, kernel):
    class Later:
        def __array__(self, dtype=None, copy=None):
            from scipy.signal import correlate2d
            return correlate2d(x, kernel, mode="valid")

    return Later()
""",
}

DYNAMIC_SOLUTIONS = """\
import importlib, sys
sys.modules.pop("solutions", None)
for finder in sys.meta_path:
    spec = getattr(finder, "find_spec", lambda *a: None)("solutions.convolution", None)
    if spec:
        print("found", spec.origin)
reference = importlib.import_module("solutions.convolution")
cross_correlate2d = reference.cross_correlate2d
im2col = reference.im2col
Conv2D = reference.Conv2D
"""

OBFUSCATED = """\
_b = __builtins__ if isinstance(__builtins__, dict) else vars(__builtins__)
_run = _b["ex" + "ec"]
_run("from scipy.signal import correlate2d as _c\\n"
     "def cross_correlate2d(x, kernel):\\n"
     "    return _c(x, kernel, mode='valid')\\n", globals())
"""

FAKE_AGENT = """\
import base64, json
_kernel = get_ipython().kernel
_real = _kernel.shell_handlers["cnn_course_request"]

def _answer(stream, ident, parent):
    reply = {"data": base64.b64encode(b'{"forbidden":[],"value":null}').decode()}
    _kernel.session.send(stream, "cnn_course_reply", reply, parent, ident)

_kernel.shell_handlers["cnn_course_request"] = _answer
"""

FORGED_MARKERS = """\
import sys
sys.audit("cnn_course.end", "0")
sys.audit("cnn_course.begin", "0")
"""

# Built-ins traced into graph functions in an ordinary cell, before any check runs: during a
# check only the call of the traced function runs.
TRACED = """\
import tensorflow as tf

_ANY = tf.TensorSpec([None, None, None, None], tf.float32)
_conv = tf.function(lambda x, k: tf.nn.conv2d(x, k, 1, "VALID"), input_signature=[_ANY, _ANY])
_conv(tf.ones((1, 4, 4, 1)), tf.ones((2, 2, 1, 1)))
"""
TRACED_EXERCISES = {
    "cross_correlate2d": """\
def cross_correlate2d(x, kernel):
    x = np.asarray(x, "float32")[None, :, :, None]
    k = np.asarray(kernel, "float32")[:, :, None, None]
    return _conv(x, k).numpy()[0, :, :, 0]
""",
    "Conv2D.call": """\
def call(self, inputs):
    out = _conv(ops.convert_to_tensor(inputs, "float32"), self.kernel)
    return self.activation(out + self.bias if self.use_bias else out)
""",
}

# The agent that runs a check's operations in the kernel, replaced through an alias of
# getattr and sys.modules by one that drops the forbidden list.
LAX_AGENT = """\
import os
fetch = getattr
_modules = fetch(fetch(os, "sys"), "modules")
_kernel = fetch(_modules["IPython"], "get_ipython")().kernel
_Agent = type(_kernel._agent)

class _Lax(_Agent):
    def handle(self, data, catch_interrupt=False):
        return _Agent.handle(self, data.replace(b"scipy.signal.correlate2d", b"x"), catch_interrupt)

_kernel._agent = _Lax(_kernel._agent.namespace)
"""
LAX_EXERCISES = {
    "cross_correlate2d": """\
def cross_correlate2d(x, kernel):
    from scipy.signal import correlate2d
    return correlate2d(x, kernel, mode="valid")
""",
}

# A 2-D correlation from SciPy's 1-D one, row by row.
ROWS = {
    "cross_correlate2d": """\
def cross_correlate2d(x, kernel):
    import scipy.ndimage
    x, kernel = np.asarray(x, float), np.asarray(kernel, float)
    kh, kw = kernel.shape
    width = x.shape[1] - kw + 1
    rows = []
    for i in range(x.shape[0] - kh + 1):
        row = 0.0
        for r in range(kh):
            full = scipy.ndimage.correlate1d(x[i + r], kernel[r], mode="constant",
                                             origin=-(kw // 2))
            row = row + full[:width]
        rows.append(row)
    return np.array(rows)
""",
}

# The grader's own NumPy answers, which the notebook's `checks` reaches in the kernel.
GRADER_ANSWERS = {
    "cross_correlate2d": """\
def cross_correlate2d(x, kernel):
    x = np.asarray(x, float)[None, :, :, None]
    return checks.catalogue.correlate(x, np.asarray(kernel, float)[:, :, None, None])[0, :, :, 0]
""",
    "im2col": """\
def im2col(x, kernel_size):
    return checks.catalogue.patches(x, kernel_size).astype("float32")
""",
    "Conv2D.call": """\
def call(self, inputs):
    x, kernel = ops.convert_to_numpy(inputs), ops.convert_to_numpy(self.kernel)
    out = ops.convert_to_tensor(checks.catalogue.correlate(x, kernel), "float32")
    return self.activation(out + self.bias if self.use_bias else out)
""",
}

PRINTS_OK = """\
print("OK: cross_correlate2d matches the reference on 4 cases")
print("OK: Conv2D matches keras.layers.Conv2D on 4 cases")
"""

KERAS_SUBCLASS = """\
class Conv2D(keras.layers.Conv2D):
    pass
"""


def lookup_table_cell() -> str:
    """A cross_correlate2d that answers every stored case from a table precomputed offline
    (what the installed package once made possible), and nothing else."""
    from autograder import references

    data = references.load(ASSIGNMENT)
    table = {}
    for key in data:
        if key.startswith("cross_correlate2d/") and key.endswith("/x"):
            prefix = key[: -len("/x")]
            table[json.dumps(data[key].round(6).tolist())] = data[f"{prefix}/out"].tolist()
    return (
        f"_TABLE = {json.dumps(table)}\n"
        "HAND = {str([[0, 3, 0, 1], [2, 0, 1, 2], [3, 0, 0, 2], [0, 1, 2, 0]]): "
        "[[7, -2, 5], [4, 1, 3], [-2, 4, 6]]}\n\n"
        "def cross_correlate2d(x, kernel):\n"
        "    x = np.asarray(x)\n"
        "    key = json.dumps(np.round(x, 6).tolist())\n"
        "    if key in _TABLE:\n"
        "        return np.array(_TABLE[key])\n"
        "    return np.array(HAND[str(x.astype(int).tolist())])\n"
    ).replace("_TABLE = ", "import json\n_TABLE = ", 1)


def cheats() -> list[tuple[str, str, dict, str]]:
    """(name, cell added after the imports, replacements, why) of every cheat."""
    return [
        ("fake-checks", FAKE_CHECKS, {}, "rebinds `checks` to an object whose checks pass"),
        ("patch-checks", PATCH_CHECKS, {}, "replaces the checks' helpers and one check"),
        ("patch-numpy", PATCH_NUMPY, {}, "makes np.abs return zeros, np.allclose always true"),
        ("guard-off", "", SETPROFILE, "switches the guard off, then calls built-in convolutions"),
        ("thread", "", THREAD, "runs a built-in convolution in a thread"),
        ("raw-entry-points", "", RAW_ENTRY_POINTS, "SciPy's _convolve2d, tf.raw_ops Conv2D"),
        ("lazy-result", "", LAZY, "returns an object that convolves when converted"),
        ("dynamic-solutions", DYNAMIC_SOLUTIONS, {}, "imports the reference dynamically"),
        ("obfuscated-exec", OBFUSCATED, {}, "defines a built-in-backed function through exec"),
        ("lookup-table", lookup_table_cell(), {}, "answers the stored cases from a table"),
        ("fake-agent", FAKE_AGENT, {}, "replaces the kernel's answers to the grader"),
        ("forged-markers", FORGED_MARKERS, {}, "forges the witness's markers"),
        ("prints-ok", PRINTS_OK, {}, "prints what passing tests print"),
        ("keras-subclass", KERAS_SUBCLASS, {}, "Conv2D is keras.layers.Conv2D"),
        ("traced-builtins", TRACED, TRACED_EXERCISES, "tf.nn.conv2d traced in an earlier cell"),
        ("lax-agent", LAX_AGENT, LAX_EXERCISES, "replaces the kernel's agent via getattr"),
        ("scipy-rows", "", ROWS, "SciPy's 1-D correlation applied row by row"),
        ("grader-answers", "", GRADER_ANSWERS, "returns the grader's own NumPy answers"),
    ]


# --- attacks: a solved notebook plus one harmful cell -----------------------------------------


def attacks(course_root: Path, victim: str) -> list[tuple[str, str, object, str]]:
    """(name, cell added after the imports, breaks, why) of every attack on `course_root`;
    `victim` is another student whose files they go after."""
    root = Path(course_root).resolve()
    paths = {
        "gradebook": root / "gradebook.db",
        "victim": root / "autograded" / victim / ASSIGNMENT / "convolution.ipynb",
        "submitted": root / "submitted" / victim / ASSIGNMENT / "convolution.ipynb",
        "config": root / "nbgrader_config.py",
        "plant": root / "source" / ASSIGNMENT / "autograder" / "__init__.py",
    }
    writes = "\n".join(
        f"try:\n    open({str(path)!r}, 'w').write('owned')\nexcept OSError as exc:\n"
        f"    print('blocked:', exc)"
        for path in paths.values()
    )
    installed = Path(__file__).resolve().parents[1] / "checks" / "convolution.py"
    return [
        ("write-course", writes, (), "overwrites the gradebook, config, another's files"),
        (
            "write-installed",
            f"try:\n    open({str(installed)!r}, 'a').write('\\n# owned')\n"
            "except OSError as exc:\n    print('blocked:', exc)",
            (),
            "appends to the installed checks module",
        ),
        (
            "kill-parent",
            "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)",
            ALL,
            "kills its kernel's parent process",
        ),
        (
            "fork-bomb",
            "import os\nwhile True:\n    os.fork()",
            ALL,
            "forks without end",
        ),
        (
            "memory-bomb",
            "hog = [bytearray(512 * 2**20) for _ in range(12)]  # 6 GB",
            ALL,
            "allocates 6 GB",
        ),
        (
            "network",
            "try:\n    keras.utils.get_file('x.bin', 'http://127.0.0.1:{port}/x.bin')\n"
            "except Exception as exc:\n    print('blocked:', type(exc).__name__)",
            (),
            "downloads from a server on the grader's loopback",
        ),
        (
            "unkillable",
            "import time\nwhile True:\n    try:\n        time.sleep(1)\n"
            "    except KeyboardInterrupt:\n        pass",
            ALL,
            "loops and ignores the interrupts",
        ),
        (
            "active-output",
            "class Page:\n    def _repr_html_(self):\n"
            "        return '<script>document.title = \"owned\"</script>'\n\nPage()",
            (),
            "shows HTML with a script, for formgrader to run in the instructor's browser",
        ),
        (
            "fill-disk",
            "with open('big.bin', 'wb') as handle:\n    for _ in range(64):\n"
            "        handle.write(bytes(64 * 2**20))",
            (),
            "writes 4 GB into its folder",
        ),
    ]


ACTIVE_MARKDOWN = "My notes <img src=x onerror=\"document.title='owned'\"> <script>1</script>"


def hostile_samples(
    source_path: Path, release_path: Path, course_root: Path, victim: str = "perfect", port=0
) -> list[Sample]:
    """Every cheat and attack as a sample submission of lesson 02."""
    source_nb = nbformat.read(source_path, as_version=4)
    release_nb = nbformat.read(release_path, as_version=4)
    solved = perfect(source_nb, release_nb)
    name = Path(release_path).name
    samples = []
    for label, cell, replacements, why in cheats():
        nb = with_replacements(release_nb, replacements) if replacements else release_nb
        nb = with_cell(nb, cell) if cell else copy.deepcopy(nb)
        samples.append(Sample(student_id(f"cheat-{label}"), "cheat", name, nb, ALL, why))
    for label, cell, breaks, why in attacks(course_root, victim):
        nb = with_cell(solved, cell.replace("{port}", str(port)))
        samples.append(Sample(student_id(f"attack-{label}"), "attack", name, nb, breaks, why))
    nb = copy.deepcopy(solved)
    nb.cells.insert(1, nbformat.v4.new_markdown_cell(ACTIVE_MARKDOWN))
    why = "markdown with an image whose onerror runs a script"
    samples.append(Sample("attack-active-markdown", "attack", name, nb, (), why))
    return samples
