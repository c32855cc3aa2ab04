"""Reading a submission for constructs graded code may not contain."""

import json

import nbformat

from autograder.grading.scan import Release, scan_cell, scan_notebook

MODULES = {
    "np": "numpy",
    "keras": "keras",
    "ops": "keras.ops",
    "tf": "tensorflow",
    "sys": "sys",
    "os": "os",
    "scipy": "scipy",
}


def found(source):
    return [f.what for f in scan_cell(source, 5, dict(MODULES))]


def test_honest_lesson_code_has_no_findings():
    honest = """
from __future__ import annotations
import numpy as np
from keras import ops
import math, itertools, functools, operator

size = functools.reduce(operator.mul, (3, 3, 8))

class Conv2D(keras.layers.Layer):
    def __init__(self, filters, **kwargs):
        super().__init__(**kwargs)
        self.filters = filters
    def get_config(self):
        config = super().get_config()
        return {**config, **{k: getattr(self, k) for k in ("filters",)}}
    def call(self, inputs):
        x = ops.convert_to_tensor(inputs)
        print(type(self).__name__, self.__class__.__name__, x.shape)
        return ops.matmul(x, self.kernel)
%matplotlib inline
%timeit np.ones(3)
ops.pad?
np.lib.stride_tricks.sliding_window_view??
help(ops.pad)
np.testing.assert_allclose(np.ones(3), np.ones(3))
from numpy.testing import assert_array_equal
from IPython import display
print(getattr(x, "dtype", None), getattr(keras.activations, "relu"))
%config InlineBackend.figure_format = "retina"
"""
    assert found(honest) == []
    assert found("%%capture output\nmodel.fit(x, y)") == []


def test_what_honest_habits_allow_is_still_read():
    cases = {
        'help("os")': "uses help",
        "%%capture out\nimport os": "imports os",
        'getattr(os, "system")': "uses os.system",
        'getattr(np, "_core")': "uses getattr on something other than its own object",
        "from numpy.testing import rundocs": "imports numpy.testing",
        "np.testing.rundocs()": "uses numpy.testing",
        "from IPython import get_ipython": "imports IPython",
        "%config IPCompleter.greedy = True": "uses the magic %config",
        # IPython executes a %config line: only a literal value is a plot setting
        "%config InlineBackend.figure_format = __import__('os').getcwd()": "uses the magic",
        "%config InlineBackend.figure_format = 'png'; import os": "uses the magic %config",
    }
    assert_each_found(cases)


def assert_each_found(cases):
    """Each source's findings include one that starts with its expected words."""
    for source, what in cases.items():
        assert any(f.startswith(what) for f in found(source)), (source, found(source))


def test_each_door_is_found():
    cases = {
        "import ctypes": "imports ctypes",
        "from importlib import import_module": "imports importlib",
        "import threading": "imports threading",
        "import operator\noperator.attrgetter('_x')(layer)": "uses operator.attrgetter",
        "from operator import methodcaller": "imports operator.methodcaller",
        "import autograder.checks": "imports autograder.checks",
        "from solutions.convolution import Conv2D": "imports solutions.convolution",
        "import scipy.signal._sigtools": "imports the private scipy.signal._sigtools",
        "from tensorflow.python.ops import gen_nn_ops": "imports tensorflow.python",
        "sys.setprofile(None)": "uses sys",
        "sys.modules.pop('x')": "uses sys",
        "os.system('ls')": "uses os",
        "tf.raw_ops.Conv2D()": "uses tensorflow.raw_ops",
        "tf.compat.v1.Session()": "uses tensorflow.compat",
        "keras.src.backend.tensorflow.nn.conv": "uses keras.src",
        "np.testing.rundocs": "uses numpy.testing",
        "np._core.multiarray": "reaches private internals (._core)",
        "np.lib.npyio.os": "reaches the module os through an attribute",
        "exec('1')": "uses exec",
        "eval('1')": "uses eval",
        "__import__('os')": "uses __import__",
        "__builtins__['getattr']": "uses __builtins__",
        "vars(np)": "uses vars",
        "f.__globals__['x'] = 1": "reaches into Python's internals (.__globals__)",
        "object.__subclasses__()": "reaches into Python's internals (.__subclasses__)",
        "().__class__.__base__": "reaches into Python's internals (.__base__)",
        "frame.f_back": "reaches into the interpreter's frames (.f_back)",
        "getattr(np, 'con' + 'volve')": "uses getattr on something other than its own object",
        "fetch = getattr": "uses getattr on something other than its own object",
        "f = [getattr][0]": "uses getattr on something other than its own object",
        "setattr(keras, 'x', 1)": "uses setattr on something other than its own object",
        "getattr(self, '__dict__')": "uses getattr on something other than its own object",
        "np.convolve = my_conv": "changes the module np",
        "ops.conv = None": "changes the module ops",
        "from builtins import getattr as g": "imports builtins",
        "checks.compare = None": "uses `checks`, the grader's module",
        "get_ipython().kernel": "uses get_ipython",
        "g = get_ipython": "uses get_ipython",
        "!ls /": "runs a shell command",
        "files = !ls /": "runs a shell command",
        "%run other.py": "uses the magic %run",
        "%%bash\nls": "uses the magic %bash",
        "%time import ctypes": "imports ctypes",
        "np.lib.npyio.os?": "reaches the module os through an attribute",
        "%pinfo np.pad; import os": "uses the magic %pinfo",
        "np.lib.stride_tricks.as_strided(x, (9,), (1,))": "uses as_strided",
        "from numpy.lib.stride_tricks import as_strided": "imports numpy.lib.stride_tricks.as",
        "x.ctypes.data": "reaches the module ctypes",
        "def f():\n    yield\nf().gi_frame": "reaches into the interpreter's frames",
    }
    assert_each_found(cases)


def test_a_statement_is_the_courses_only_when_all_of_it_is():
    # A multi-line expression that starts on a line copied from the release is the student's.
    release = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import numpy as np")])
    submitted = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("import numpy as np"),
            nbformat.v4.new_code_cell("import numpy as np; import ctypes"),
            nbformat.v4.new_code_cell("x = (np.ones(3),\n     np.testing)"),
        ]
    )
    findings = [str(f) for f in scan_notebook(submitted, release, lambda cell: False)]
    assert findings == ["cell 2, line 1: imports ctypes", "cell 3, line 2: uses numpy.testing"]


def test_only_cells_the_student_wrote_or_changed_are_read():
    release = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("from autograder.checks import convolution as checks"),
            nbformat.v4.new_code_cell("def f():\n    raise NotImplementedError()"),
        ]
    )
    submitted = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                "from autograder.checks import convolution as checks\nimport keras"
            ),
            nbformat.v4.new_code_cell("def f():\n    import gc\n    return gc.get_objects()"),
        ]
    )
    findings = scan_notebook(submitted, release, lambda cell: False)
    assert [str(f) for f in findings] == [
        "cell 2, line 2: imports gc",
        "cell 2, line 3: uses gc.get_objects",
    ]


def test_the_release_stored_in_metadata_finds_what_the_release_finds():
    """Validate scans with the `Release` a released notebook carries (JSON, maybe tampered
    with): the same findings as grading's scan against the release itself."""
    release = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("import numpy as np\nfrom keras import ops as K"),
            nbformat.v4.new_code_cell("def f(x):\n    y = x.__index__()\n    return y"),
        ]
    )
    submitted = nbformat.v4.new_notebook(
        cells=[
            *release.cells,
            nbformat.v4.new_code_cell("def f(x):\n    y = x.__index__()\n    return y.__dict__"),
            nbformat.v4.new_code_cell("np.lib.npyio.os; K.convert_to_numpy(np.ctypeslib)"),
        ]
    )
    stored = Release.from_metadata(
        {Release.KEY: json.loads(json.dumps(Release.of(release).metadata()))}
    )
    found = [str(f) for f in scan_notebook(submitted, stored, lambda cell: False)]
    assert found == [str(f) for f in scan_notebook(submitted, release, lambda cell: False)]
    assert found == [
        "cell 3, line 3: reaches into Python's internals (.__dict__)",
        "cell 4, line 1: reaches the module os through an attribute (.os)",
        "cell 4, line 1: uses numpy.ctypeslib",
    ]
    for tampered in (
        None,
        [],
        {"modules": [], "cells": [], "statements": []},
        {"modules": {"np": 1}, "cells": [], "statements": []},
        {"modules": {}, "cells": ["a", 2], "statements": []},
        "x",
    ):
        assert Release.from_metadata({Release.KEY: tampered}) is None
    assert Release.from_metadata([]) is None
