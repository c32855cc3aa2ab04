"""Reading a submission for constructs graded code may not contain."""

import nbformat

from autograder.grading.scan import scan_cell, scan_notebook

MODULES = {"np", "keras", "ops", "tf", "sys", "os", "scipy"}


def found(source):
    return [f.what for f in scan_cell(source, 5, set(MODULES))]


def test_honest_lesson_code_has_no_findings():
    honest = '''
import numpy as np
from keras import ops
import math, itertools, functools

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
'''
    assert found(honest) == []


def test_each_door_is_found():
    cases = {
        "import ctypes": "imports ctypes",
        "from importlib import import_module": "imports importlib",
        "import threading": "imports threading",
        "import autograder.checks": "imports autograder.checks",
        "from solutions.convolution import Conv2D": "imports solutions.convolution",
        "import scipy.signal._sigtools": "imports the private module scipy.signal._sigtools",
        "from tensorflow.python.ops import gen_nn_ops": "imports TensorFlow's internals",
        "sys.setprofile(None)": "uses sys.setprofile",
        "sys.modules.pop('x')": "uses sys.modules",
        "os.system('ls')": "uses os.system",
        "tf.raw_ops.Conv2D()": "uses tf.raw_ops",
        "np._core.multiarray": "reaches the private internals of np",
        "exec('1')": "uses exec",
        "eval('1')": "uses eval",
        "__import__('os')": "uses __import__",
        "f.__globals__['x'] = 1": "reaches into Python's internals (.__globals__)",
        "object.__subclasses__()": "reaches into Python's internals (.__subclasses__)",
        "frame.f_back": "reaches into the interpreter's frames (.f_back)",
        "getattr(np, 'con' + 'volve')": "uses getattr with a computed name",
        "setattr(keras, 'x', 1)": "uses setattr with a computed name",
        "checks.compare = None": "uses `checks`, the grader's module",
        "get_ipython().kernel": "uses get_ipython",
        "!ls /": "runs a shell command",
        "%run other.py": "uses the magic %run",
    }
    for source, what in cases.items():
        assert any(f.startswith(what) for f in found(source)), (source, found(source))


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
    assert [str(f) for f in findings] == ["cell 2, line 2: imports gc"]
