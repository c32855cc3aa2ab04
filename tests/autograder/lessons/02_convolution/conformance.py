"""Lesson 02's settings for test_conformance.py."""

# An im2col that reads patches column by column makes the reference Conv2D compute with a
# transposed kernel: its cell names "kernel rows and columns swapped", which is what Conv2D
# then does. Only the first failing cell must name the im2col mistake.
ONLY_ITS_MISTAKE_NAMED = False
