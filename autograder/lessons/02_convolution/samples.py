"""Lesson 02's broken demo submissions: each breaks in a way a grading run must survive."""

from ...grading.submissions import (
    Broken,
    deleted_test_cell,
    edited_test_cell,
    imports_solutions,
    invalid_json,
    not_a_notebook,
    prints_megabytes,
    raises_at_import,
    replaced,
    wrong_file_name,
)

NAN_CROSS_CORRELATE2D = """\
def cross_correlate2d(x, kernel):
    x, kernel = np.asarray(x, float), np.asarray(kernel, float)
    out = np.zeros((x.shape[0] - kernel.shape[0] + 1, x.shape[1] - kernel.shape[1] + 1))
    return out / out  # 0 / 0: every entry is NaN
"""

# The row index stops moving after row 8: images with more than 8 output rows never finish
# (a hidden case of test_cross_correlate2d, and the 128x128 photo of the experiment).
LOOPING_CROSS_CORRELATE2D = """\
def cross_correlate2d(x, kernel):
    x, kernel = np.asarray(x, float), np.asarray(kernel, float)
    kh, kw = kernel.shape
    out = np.zeros((x.shape[0] - kh + 1, x.shape[1] - kw + 1))
    i = 0
    while i < out.shape[0]:
        for j in range(out.shape[1]):
            out[i, j] = np.sum(x[i : i + kh, j : j + kw] * kernel)
        if i < 8:
            i += 1
    return out
"""

FORBIDDEN_CALL = """\
def call(self, inputs):
    outputs = ops.conv(inputs, self.kernel, strides=1, padding="valid")
    if self.use_bias:
        outputs = outputs + self.bias
    return self.activation(outputs)
"""


def broken() -> tuple[Broken, ...]:
    """Submissions that break in every way a grading run must survive, with what each loses."""
    from solutions.mistakes import wrong_versions

    cc = ("test_hand_example", "test_cross_correlate2d")
    flipped = next(
        v
        for v in wrong_versions("02_convolution")
        if v.mistake == "flipped_kernel" and "cross_correlate2d" in v.replacements
    )
    return (
        raises_at_import("cross_correlate2d", cc),
        replaced(
            "infinite-loop",
            "cross_correlate2d",
            LOOPING_CROSS_CORRELATE2D,
            ("test_cross_correlate2d",),
            "cross_correlate2d never returns for images with more than 8 output rows",
        ),
        deleted_test_cell("test_im2col"),
        edited_test_cell("test_cross_correlate2d", flipped, cc),
        replaced("nan-output", "cross_correlate2d", NAN_CROSS_CORRELATE2D, cc, "returns NaN"),
        prints_megabytes("im2col"),
        imports_solutions("cross_correlate2d", "solutions.convolution"),
        replaced(
            "forbidden-op",
            "Conv2D.call",
            FORBIDDEN_CALL,
            ("test_conv2d_matches_keras", "test_conv2d_trains"),
            "Conv2D.call uses keras.ops.conv",
        ),
        invalid_json(),
        not_a_notebook(),
        wrong_file_name("convolution (1).ipynb"),
    )
