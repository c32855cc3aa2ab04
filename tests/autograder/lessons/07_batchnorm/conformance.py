"""Lesson 07's settings for test_conformance.py."""

# Its cells train models: one more seed across (not two) keeps CI time as it was.
EXTRA_SEEDS = (11,)
