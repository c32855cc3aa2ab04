"""Reference solutions of the Keras CNN course, usable as a library.

    from solutions.layers import Conv2D

Each lesson's module (`solutions.convolution`, ...) is the single source of the code that
the lesson notebook's exercise cells are generated from (`cnn-course sync`).
"""
