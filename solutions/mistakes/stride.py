"""Wrong versions of lesson 04's code, each making one catalogued mistake.

Written the way students write them (integer ceil, loops, index arithmetic), not as edits of
the reference.
"""

from keras import ops

from solutions.mistakes import WrongVersion


def conv_output_size_ceil(n, kernel_size, strides=1, padding="valid", dilation_rate=1):
    """Rounds the number of window positions up."""
    if n is None:
        return None
    if padding == "same":
        return (n + strides - 1) // strides
    effective = dilation_rate * (kernel_size - 1) + 1
    p = 0 if padding == "valid" else 2 * (effective - 1)
    return (n + p - effective + strides - 1) // strides + 1


def conv_output_size_stride_ignored(n, kernel_size, strides=1, padding="valid", dilation_rate=1):
    """The stride-1 size: windows are counted as if they started at every pixel."""
    if n is None:
        return None
    effective = dilation_rate * (kernel_size - 1) + 1
    if padding == "same":
        return n
    if padding == "full":
        return n + effective - 1
    return n - effective + 1


def padding_amounts_stride_one(n, kernel_size, strides=1, padding="valid", dilation_rate=1):
    """'same' pads d(k - 1) zeros in all, the stride-1 rule, whatever the stride and n."""
    effective = dilation_rate * (kernel_size - 1) + 1
    if padding == "valid":
        return (0, 0)
    if padding == "full":
        return (effective - 1, effective - 1)
    total = effective - 1
    return (total // 2, total - total // 2)


def im2col_stride_as_dilation(x, kernel_size, strides=(1, 1), dilation_rate=(1, 1)):
    """Spaces the kernel taps by the stride and moves the windows by the dilation."""
    (kh, kw), (sh, sw), (dh, dw) = kernel_size, strides, dilation_rate
    x = ops.convert_to_tensor(x)
    _, height, width, _ = x.shape
    out_h = (height - sh * (kh - 1) - 1) // dh + 1
    out_w = (width - sw * (kw - 1) - 1) // dw + 1
    taps = []
    for m in range(kh):
        for n in range(kw):
            taps.append(
                x[:, m * sh : m * sh + (out_h - 1) * dh + 1 : dh,
                  n * sw : n * sw + (out_w - 1) * dw + 1 : dw, :]
            )  # fmt: skip
    return ops.concatenate(taps, axis=-1)


def im2col_dilated_input(x, kernel_size, strides=(1, 1), dilation_rate=(1, 1)):
    """Inserts d - 1 zeros between the input pixels, then slides a compact kernel."""
    (kh, kw), (sh, sw), (dh, dw) = kernel_size, strides, dilation_rate
    x = ops.convert_to_tensor(x)
    _, height, width, channels = x.shape
    # each row followed by dh - 1 rows of zeros, then each column by dw - 1 columns of zeros
    x = ops.stack([x] + [ops.zeros_like(x)] * (dh - 1), axis=2)
    x = ops.reshape(x, (-1, height * dh, width, channels))[:, : (height - 1) * dh + 1]
    x = ops.stack([x] + [ops.zeros_like(x)] * (dw - 1), axis=3)
    x = ops.reshape(x, (-1, x.shape[1], width * dw, channels))[:, :, : (width - 1) * dw + 1]
    _, height, width, _ = x.shape
    out_h, out_w = (height - kh) // sh + 1, (width - kw) // sw + 1
    taps = [
        x[:, m : m + (out_h - 1) * sh + 1 : sh, n : n + (out_w - 1) * sw + 1 : sw, :]
        for m in range(kh)
        for n in range(kw)
    ]
    return ops.concatenate(taps, axis=-1)


def receptive_field_jump_ignored(layers):
    """Adds d (k - 1) per layer, forgetting that earlier strides spread the inputs apart."""
    field = 1
    for kernel_size, _, dilation in layers:
        field += dilation * (kernel_size - 1)
    return field


def receptive_field_own_stride(layers):
    """Multiplies the jump by a layer's stride before adding that layer's growth."""
    field, jump = 1, 1
    for kernel_size, stride, dilation in layers:
        jump *= stride
        field += dilation * (kernel_size - 1) * jump
    return field


M = "solutions.mistakes.stride"
RF = ("test_receptive_field",)

WRONG_VERSIONS = (
    WrongVersion(
        "ceil_not_floor",
        {"conv_output_size": f"{M}:conv_output_size_ceil"},
        ("test_conv_output_size", "test_conv2d_contract"),
    ),
    WrongVersion(
        "stride_ignored",
        {"conv_output_size": f"{M}:conv_output_size_stride_ignored"},
        ("test_conv_output_size", "test_conv2d_contract", "test_digit_network"),
    ),
    WrongVersion(
        "same_padding_stride_one",
        {"padding_amounts": f"{M}:padding_amounts_stride_one"},
        ("test_padding_amounts", "test_conv2d_strides", "test_conv2d_trains"),
    ),
    WrongVersion(
        "stride_as_dilation",
        {"im2col": f"{M}:im2col_stride_as_dilation"},
        ("test_im2col", "test_conv2d_strides", "test_conv2d_dilation", "test_conv2d_trains"),
    ),
    WrongVersion(
        "dilation_on_input",
        {"im2col": f"{M}:im2col_dilated_input"},
        ("test_im2col", "test_conv2d_dilation", "test_conv2d_trains"),
    ),
    WrongVersion("jump_ignored", {"receptive_field": f"{M}:receptive_field_jump_ignored"}, RF),
    WrongVersion("own_stride_counted", {"receptive_field": f"{M}:receptive_field_own_stride"}, RF),
)
