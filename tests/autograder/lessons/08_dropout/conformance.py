"""Lesson 08's settings for test_conformance.py."""

# Every cell a wrong dropout breaks names its mistake, not only the first.
EVERY_BROKEN_CELL_NAMED = True

# Its cells draw many masks and train: one more seed across (not two) keeps CI time as it was.
EXTRA_SEEDS = (11,)
