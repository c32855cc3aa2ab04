"""Keras's own layer tests, run on `solutions.layers`: the library is a drop-in for `keras.layers`.

Each Keras test module in `KERAS_TESTS` is loaded from the installed `keras` wheel while
`keras.src.layers` is, for the time the module takes to load, a namespace in which every layer
that `solutions.layers` exports stands for its namesake (all else stays Keras's). Its test
classes are then collected here, so pytest runs them in this process with Keras's own
parameters and marks (`pytest tests/solutions/test_keras_suite.py -rsx` lists the reasons).

- Only 2-D cases run. A test whose parameters hold layer classes runs if one of them is ours;
  any other runs if its code names one of ours (`layers.Conv2D`). The rest (`Conv1D`,
  `MaxPooling3D`, ...) are skipped, saying so.
- Proof of the substitution: every test that runs must construct one of our classes and none
  of Keras's namesakes, whatever its outcome, or it fails with `SubstitutionNotProven`.
- A test of a feature the library does not offer (`UNSUPPORTED`: named by the test's module
  and name, as in `conv_test.test_name`, or by its parameters) is an expected failure only
  when it fails because our layer refused that feature, with the refusal's exception type and
  message; it then reports which feature. If it passes, it passes; if it fails in any other
  way, it fails.
"""

import functools
import importlib.util
import inspect
import re
import sys
import types
import unittest
import warnings
from dataclasses import dataclass
from pathlib import Path

import keras
import pytest

import solutions.layers

# The library's drop-ins for keras.layers namesakes (BackpropConv2D, lesson 06's Conv2D with a
# hand-written gradient, has no namesake: it is Conv2D's, tested as such in tests/solutions).
OURS = {
    name: getattr(solutions.layers, name)
    for name in solutions.layers.__all__
    if hasattr(keras.layers, name)
}

# Keras test module (file name under keras/src/layers) -> the namesakes of ours it tests, from
# what each lesson gives the library (`LIBRARY` in its solutions module).
KERAS_TESTS: dict[str, tuple[str, ...]] = {}
for _name, _test in solutions.layers.KERAS_TESTS.items():
    if _test is not None:
        KERAS_TESTS[_test] = (*KERAS_TESTS.get(_test, ()), _name)


@dataclass(frozen=True)
class Unsupported:
    """A feature the library refuses: which tests use it, and how our layers refuse it."""

    reason: str
    uses: str  # pattern searched in "module_test.test_name" and the test's parameters
    raises: tuple[type[BaseException], ...]
    message: str  # pattern the refusal's message matches

    def refused(self, error: BaseException) -> bool:
        return isinstance(error, self.raises) and bool(re.search(self.message, str(error)))


UNSUPPORTED = (
    Unsupported(
        "data_format='channels_first' is not supported (channels_last only)",
        r"channels_first",
        (ValueError,),
        r"data_format='channels_last' (only|is supported)",
    ),
    Unsupported(
        "groups > 1 (grouped convolution) is not supported",
        r"\bgroups=([2-9]|\d\d)",
        (ValueError,),
        r"supports groups=1 only",
    ),
    Unsupported(
        "LoRA (lora_rank, enable_lora) is not supported",
        r"lora",
        (ValueError, TypeError, AttributeError),
        r"Unrecognized keyword arguments .*'lora_rank'|has no attribute 'enable_lora'",
    ),
    Unsupported(
        # Keras keeps its kernel in a private `_kernel` behind a `kernel` property because
        # quantization (and LoRA) replace it; `test_legacy_load_own_variables` loads quantized
        # variable stores and reads that private attribute.
        "quantization (quantize, int8/int4/float8/GPTQ/AWQ policies) is not supported",
        r"quantiz|int4|int8|float8|gptq|awq|legacy_load_own_variables",
        (NotImplementedError, AttributeError, AssertionError),
        r"does not have a `\w+` method implemented|has no attribute '(_kernel|enable_lora)'",
    ),
    Unsupported(
        "BatchNormalization: axis other than -1 is not supported (channels last only)",
        r"\baxis=(?!-1\b)-?\d",
        (ValueError,),
        r"supports axis=-1 only",
    ),
    Unsupported(
        # batch_normalization_test's test_serialization round-trips a renorm layer's config;
        # test_renorm_invalid_clipping_keys expects Keras's messages about renorm_clipping in
        # assertRaisesRegex, which quotes our refusal in its AssertionError.
        "BatchNormalization: batch renormalization (renorm=True) is not supported",
        r"renorm|batch_normalization_test\.test_serialization\b",
        (ValueError, AssertionError),
        r"supports renorm=False only",
    ),
    Unsupported(
        # Keras 3.15's test_input_fully_masked means to run synchronized=True on TensorFlow
        # but compares the function `backend.backend` with "tensorflow", so it never does.
        "BatchNormalization: synchronized=True (statistics across devices) is not supported",
        r"synchronized=True",
        (ValueError,),
        r"supports synchronized=False only",
    ),
    Unsupported(
        "RandomFlip: bounding boxes (bounding_box_format, dict inputs) are not supported",
        r"bounding_box",
        (ValueError,),
        r"Unrecognized keyword arguments passed to RandomFlip: \{'bounding_box_format'",
    ),
)


class SubstitutionNotProven(Exception):
    """A Keras test ran without constructing one of our classes, or constructed Keras's own."""


KERAS_LAYERS = Path(keras.src.layers.__file__).parent


def keras_test_file(name: str) -> Path | None:
    found = sorted(KERAS_LAYERS.rglob(name))
    return found[0] if found else None


class SubstitutedLayers(types.ModuleType):
    """`keras.src.layers`, with our classes in place of their namesakes."""

    def __init__(self, real):
        super().__init__(real.__name__, real.__doc__)
        self.__dict__.update(OURS)
        self._real = real

    def __getattr__(self, name):
        return getattr(self._real, name)


def substitute_imports(module: types.ModuleType) -> dict[str, str]:
    """In a loaded Keras test module, put ours in place of what it imported other than by
    `from keras.src import layers`: a layer's own module (`from keras.src.layers.activations
    import leaky_relu`, used as `leaky_relu.LeakyReLU`) becomes a `SubstitutedLayers` of it,
    a namesake class imported by name becomes ours. Returns how its code now names ours
    ({"leaky_relu.LeakyReLU": "LeakyReLU", "Dense": "Dense"})."""
    reached = {}
    for name, value in list(vars(module).items()):
        if isinstance(value, type) and value in keras_namesakes():
            setattr(module, name, OURS[value.__name__])
            reached[name] = value.__name__
        elif isinstance(value, types.ModuleType) and value.__name__.startswith("keras.src.layers."):
            held = [n for n in OURS if getattr(value, n, None) is getattr(keras.layers, n)]
            if held:
                setattr(module, name, SubstitutedLayers(value))
                reached.update({f"{name}.{n}": n for n in held})
    return reached


def load_substituted(path: Path) -> types.ModuleType:
    """Execute the Keras test module at `path`; its `from keras.src import layers` gives
    `SubstitutedLayers`, and so does a layer's module it imports (`substitute_imports`)."""
    import keras.src

    name = f"_keras_suite.{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    real = keras.src.layers
    keras.src.layers = SubstitutedLayers(real)
    sys.modules[name] = module
    try:
        with warnings.catch_warnings():
            # Keras's own markers (requires_trainable_backend) are registered by its conftest.
            warnings.simplefilter("ignore", pytest.PytestUnknownMarkWarning)
            spec.loader.exec_module(module)
    finally:
        keras.src.layers = real
    module._reached = substitute_imports(module)
    if not isinstance(getattr(module, "layers", None), SubstitutedLayers) and not module._reached:
        raise RuntimeError(
            f"{path} imports neither `keras.src.layers` nor the module of a layer of ours: "
            "name another Keras test module in the lesson's LIBRARY, or None for no namesake"
        )
    return module


@functools.cache
def keras_namesakes() -> tuple[type, ...]:
    return tuple(getattr(keras.layers, name) for name in OURS)


class Recorder:
    """Records the class of every layer constructed while it is installed."""

    def __init__(self):
        self.classes = []

    def __enter__(self):
        layer = keras.layers.Layer
        self._own = layer.__dict__.get("__new__")
        original = layer.__new__

        def recording_new(cls, *args, **kwargs):
            self.classes.append(cls)
            return original(cls, *args, **kwargs)

        layer.__new__ = staticmethod(recording_new)
        return self

    def __exit__(self, *exc):
        if self._own is None:
            del keras.layers.Layer.__new__
        else:
            keras.layers.Layer.__new__ = self._own

    def ours(self):
        return sorted({c.__name__ for c in self.classes if issubclass(c, tuple(OURS.values()))})

    def theirs(self):
        return sorted({c.__name__ for c in self.classes if issubclass(c, keras_namesakes())})


def keras_config():
    return (
        keras.config.floatx(),
        keras.config.image_data_format(),
        keras.config.epsilon(),
        keras.config.dtype_policy().name,
    )


def restore_keras_config(saved):
    floatx, data_format, epsilon, policy = saved
    keras.config.set_floatx(floatx)
    keras.config.set_image_data_format(data_format)
    keras.config.set_epsilon(epsilon)
    keras.config.set_dtype_policy(policy)


def proving(test, unsupported=()):
    """`test`, run with the substitution proved and refusals of `unsupported` features
    reported as expected failures."""

    @functools.wraps(test)
    def proved(self, *args, **kwargs):
        saved = keras_config()
        error = None
        try:
            with Recorder() as recorder:
                test(self, *args, **kwargs)
        except unittest.SkipTest:
            raise
        except Exception as raised:
            error = raised
        finally:
            restore_keras_config(saved)
        problem = None
        if not recorder.ours():
            problem = "constructed none of our classes"
        elif recorder.theirs():
            problem = f"constructed Keras's own {', '.join(recorder.theirs())}"
        if problem:
            raise SubstitutionNotProven(f"{self.id()} {problem}") from error
        if error is None:
            return
        for feature in unsupported:
            if feature.refused(error):
                pytest.xfail(f"{feature.reason}: {type(error).__name__}: {error}"[:300])
        raise error

    return proved


def parameters(test) -> dict[str, object]:
    """The absl parameters of a generated test, by name (or position); empty if none."""
    found = {}
    for value in inspect.getclosurevars(test).nonlocals.values():
        if isinstance(value, dict):
            found.update(value)
        elif isinstance(value, tuple | list):
            found.update({str(i): v for i, v in enumerate(value)})
    return found


def layer_classes_in_parameters(test) -> set[type]:
    values = parameters(test).values()
    return {v for v in values if isinstance(v, type) and issubclass(v, keras.layers.Layer)}


def runs_on_ours(test, names, reached=None) -> bool:
    """Whether `test` is a 2-D case: it tests one of our classes `names`, named as
    `layers.Conv2D` or as the test module reaches ours otherwise (`reached`, from
    `substitute_imports`: `leaky_relu.LeakyReLU`)."""
    classes = layer_classes_in_parameters(test)
    if classes:
        return bool(classes & {OURS[n] for n in names})
    source = inspect.getsource(inspect.unwrap(test))
    spellings = [f"layers.{n}" for n in names]
    spellings += [spelling for spelling, n in (reached or {}).items() if n in names]
    return any(re.search(rf"\b{re.escape(s)}\b", source) for s in spellings)


def features_used(module_stem, test_name, test) -> tuple[Unsupported, ...]:
    named = f"{module_stem}.{test_name}"
    text = " ".join([named, *(f"{k}={v!r}" for k, v in parameters(test).items())])
    return tuple(f for f in UNSUPPORTED if re.search(f.uses, text, re.IGNORECASE))


def collect(file_name, names):
    """The test classes of a Keras test module, prepared to run on our classes."""
    path = keras_test_file(file_name)
    stem = Path(file_name).stem
    if path is None:
        reason = (
            f"keras {keras.__version__} does not ship {file_name} (only some Keras wheels "
            "include their tests)"
        )

        def test_module_is_shipped():
            pytest.skip(reason)

        return {f"test_{stem}": test_module_is_shipped}
    module = load_substituted(path)
    classes = {}
    for attr, cls in vars(module).items():
        if not (isinstance(cls, type) and issubclass(cls, unittest.TestCase)):
            continue
        if cls.__module__ != module.__name__:
            continue
        for test_name in unittest.TestLoader().getTestCaseNames(cls):
            test = getattr(cls, test_name)
            if runs_on_ours(test, names, module._reached):
                prepared = proving(test, features_used(stem, test_name, test))
            else:
                prepared = pytest.mark.skip(reason=f"not a case of {', '.join(names)}")(test)
            setattr(cls, test_name, prepared)
        classes[f"{stem}__{attr}"] = cls
    if not classes:
        raise RuntimeError(f"{path} holds no test classes")
    return classes


for _file_name, _names in KERAS_TESTS.items():
    globals().update(collect(_file_name, _names))


def test_every_layer_of_the_library_has_its_keras_tests():
    covered = {name for names in KERAS_TESTS.values() for name in names}
    assert covered == set(OURS), "name the Keras test module of each new layer in its LIBRARY"


class _Probe(unittest.TestCase):
    def test_builds_ours(self):
        OURS["Dense"](2)

    def test_builds_keras_namesake(self):
        OURS["Dense"](2)
        keras.layers.Dense(2)

    def test_builds_nothing_of_ours(self):
        keras.layers.Flatten()

    def test_fails_after_building_ours(self):
        OURS["Conv2D"](2, 3)
        raise ValueError("something else")

    def test_refused_groups(self):
        OURS["Conv2D"](4, 3, groups=2)


_Probe.__test__ = False  # run only through the tests below


def _run_probe(name, unsupported=()):
    new = keras.layers.Layer.__dict__.get("__new__")
    try:
        proving(getattr(_Probe, name), unsupported)(_Probe(name))
    finally:
        assert keras.layers.Layer.__dict__.get("__new__") is new, "Layer.__new__ not restored"


def test_the_proof_passes_a_test_that_builds_our_class():
    _run_probe("test_builds_ours")


@pytest.mark.parametrize("name", ["test_builds_keras_namesake", "test_builds_nothing_of_ours"])
def test_the_proof_fails_a_test_that_does_not_only_build_ours(name):
    with pytest.raises(SubstitutionNotProven):
        _run_probe(name)


def test_only_the_refusal_of_a_flagged_feature_is_an_expected_failure():
    with pytest.raises(pytest.xfail.Exception, match="groups > 1"):
        _run_probe("test_refused_groups", UNSUPPORTED)
    with pytest.raises(ValueError, match="groups=1 only"):
        _run_probe("test_refused_groups", ())
    with pytest.raises(ValueError, match="something else"):
        _run_probe("test_fails_after_building_ours", UNSUPPORTED)


def test_a_keras_wheel_without_a_test_module_skips_it_and_says_why():
    (skipped,) = collect("no_such_test.py", ("Dense",)).values()
    with pytest.raises(pytest.skip.Exception, match=f"keras {keras.__version__} does not ship"):
        skipped()


# --- Keras test modules that import a layer's own module or class --------------------------------

IMPORTS_THE_MODULE = """\
from keras.src.layers.core import dense


def make():
    return dense.Dense(2)
"""
IMPORTS_THE_CLASS = """\
from keras.src.layers.core.dense import Dense


def make():
    return Dense(2)
"""
IMPORTS_NEITHER = "import keras\n"


@pytest.mark.parametrize("source", [IMPORTS_THE_MODULE, IMPORTS_THE_CLASS], ids=["module", "class"])
def test_a_test_module_that_imports_the_layer_s_module_or_class_gets_ours(source, tmp_path):
    path = tmp_path / "imports_test.py"
    path.write_text(source)
    module = load_substituted(path)
    assert type(module.make()) is OURS["Dense"]
    assert keras.src.layers.core.dense.Dense is keras.layers.Dense  # Keras itself untouched


def test_a_test_reaching_ours_through_a_substituted_module_runs():
    def test_through_the_module(self):
        self.layer = dense.Dense(2)  # noqa: F821  (only read as source here)

    assert runs_on_ours(test_through_the_module, ("Dense",), {"dense.Dense": "Dense"})
    assert not runs_on_ours(test_through_the_module, ("Dense",))
    assert not runs_on_ours(test_through_the_module, ("Conv2D",), {"dense.Dense": "Dense"})


def test_a_test_module_that_reaches_none_of_ours_says_what_to_do(tmp_path):
    path = tmp_path / "unrelated_test.py"
    path.write_text(IMPORTS_NEITHER)
    with pytest.raises(
        RuntimeError, match="name another Keras test module in the lesson's LIBRARY"
    ):
        load_substituted(path)
