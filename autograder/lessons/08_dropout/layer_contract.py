"""The contract every dropout layer of lesson 08 keeps, as Keras's do: its arguments, config,
output shapes, a refusal of rates outside [0, 1], and the identity at inference."""

from ...compare import compare
from ...contract import Contract, check_config_roundtrip, describe_call
from ...feedback import CheckFailed, fail
from ...student import NOT_IMPLEMENTED_HINT, label
from . import cases, forbidden
from . import mistakes as catalogue


def _same_config_as_keras(keras_name, setups, keys):
    """The contract's step: for each setup, get_config() holds Keras's values of `keys` and
    round-trips; rates outside [0, 1] are refused."""
    import keras

    def step(cls):
        for args, kwargs in setups:
            call = describe_call(keras_name, args, kwargs)
            layer = forbidden.layer(cls, args, kwargs)
            theirs = getattr(keras.layers, keras_name)(*args, **kwargs).get_config()
            config = forbidden.run(f"{call}.get_config()", layer.get_config)
            if not isinstance(config, dict):
                fail(f"{call}.get_config() returned {type(config).__name__}; expected a dict.")
            for key in keys:
                ours, keras_value = config.get(key), theirs[key]
                if ours != keras_value:  # a list is no tuple: Keras stores noise_shape as one
                    fail(f"{call}.get_config() differs from keras.layers.{call}'s.",
                         [f"yours: {key}={ours!r}; Keras: {key}={keras_value!r}"],
                         hint="store every constructor argument as Keras does (a noise_shape "
                         "given as a list as a tuple)")  # fmt: skip
            check_config_roundtrip(layer, keys, forbidden=forbidden.DROPOUT)
        _check_refuses_invalid_rates(cls)
        if "data_format" in keys:
            _check_refuses_invalid_data_format(cls)

    return step


def _check_refuses_invalid_rates(cls):
    name = label(cls)
    for rate in cases.INVALID_RATES:
        call = f"{name}(rate={rate})"
        result = forbidden.perform(call, "outcome", cls, rate)
        if result["raised"] is None:
            fail(f"{call} is accepted; Keras refuses it with a ValueError.",
                 mistake=catalogue.RATE_NOT_VALIDATED)  # fmt: skip
        if result.get("stub"):
            raise CheckFailed(f"{name} is not implemented yet.", [], NOT_IMPLEMENTED_HINT)
        if result["raised"] != "ValueError":  # refused, but not as Keras does
            fail(f"{call} raises {result['raised']}: {result['message']}",
                 ["expected: ValueError whose message names the argument `rate`",
                  f"the rate is refused, but with the wrong exception type: {result['raised']} "
                  "is not a ValueError, so code that catches Keras's ValueError misses it"
                  + (", and python -O removes assert statements altogether"
                     if result["raised"] == "AssertionError" else "")],
                 hint="refuse it with raise ValueError(\"Invalid value received for argument "
                 "`rate`. ...\"), not with assert")  # fmt: skip
        if "rate" not in result["message"]:
            fail(f"{call} raises {result['raised']}: {result['message']}",
                 ["expected: ValueError whose message names the argument `rate`"],
                 mistake=catalogue.RATE_NOT_VALIDATED)  # fmt: skip


def _check_refuses_invalid_data_format(cls):
    """A data_format other than channels_last or channels_first is refused, as Keras does."""
    call = f"{label(cls)}(0.3, data_format={cases.INVALID_DATA_FORMAT!r})"
    result = forbidden.perform(call, "outcome", cls, 0.3, data_format=cases.INVALID_DATA_FORMAT)
    if result["raised"] != "ValueError" or "data_format" not in result["message"]:
        fail(f"{call} is accepted; Keras refuses it with a ValueError."
             if result["raised"] is None else f"{call} raises {result['raised']}: "
             f"{result['message']}",
             ["expected: ValueError whose message names the argument `data_format`"],
             hint="turn data_format into 'channels_last' or 'channels_first' with the given "
             "standardize_data_format(data_format), which refuses any other value")  # fmt: skip


def contract(name, arguments, setups, keys, shapes, input_shape, passed_line):
    """The contract of a dropout layer: `Contract` with the steps of `_same_config_as_keras`."""
    return Contract(
        name,
        name,
        arguments,
        forbidden.DROPOUT,
        extra=_same_config_as_keras(name, setups, keys),
        output_shapes=tuple((args, kwargs, shapes) for args, kwargs in setups),
        formula="dropout keeps the shape",
        symbolic=((0.5,), {}, input_shape),
        passed=passed_line,
    )


def check_identity(cls, x, rate, diagnosis):
    """At inference (training not given, False, or inside a tf.function) x comes back; also at
    rate=1, which drops everything only while training."""
    for each in (rate, 1.0):
        _check_identity_at(cls, x, each, diagnosis)


def _check_identity_at(cls, x, rate, diagnosis):
    layer = forbidden.layer(cls, (rate,), {"seed": cases.layer_seed(41)})
    call = describe_call(label(cls), (rate,))
    ways = ((f"{call}(x)", {}), (f"{call}(x, training=False)", {"training": False}))
    for how, kw in (*ways, (f"{call}(x) inside a tf.function", None)):
        if kw is None:
            out = forbidden.perform(how, "repeated_calls", layer, x, times=1, compiled=True)[0]
        else:
            out = forbidden.run(how, layer, x, case=f"inputs {x.shape}", **kw)
        mismatch = compare(out, x, cases.IDENTITY_TOL)
        if mismatch:
            fail(f"{how} changes its inputs: at inference dropout must return them unchanged.",
                 mismatch, case=f"inputs {x.shape}, training not true", mistake=diagnosis(cls),
                 hint="training=None (not given) and training=False both mean "
                 "inference" if rate != 1 else "test training first: at inference the inputs "
                 "come back at rate=1 too; zeros are for training only")  # fmt: skip
