"""Lesson 11's settings for test_conformance.py.

Its network cell trains a network (about 15 to 30 s under the grader's guard): the reference
trains it once in process and once across, on the grading seed only (no extra seed). Every
wrong version makes a mistake in the block, and the network cell refuses to train a network
whose block fails the block's own cases, so a wrong version never trains: running all of its
cells costs a few seconds. Each cell a wrong version breaks names its mistake.
"""

EXTRA_SEEDS = ()
EVERY_BROKEN_CELL_NAMED = True
