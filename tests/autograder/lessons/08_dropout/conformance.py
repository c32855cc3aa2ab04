"""Lesson 08's settings for test_conformance.py."""

# Every cell a wrong dropout breaks names its mistake, not only the first.
EVERY_BROKEN_CELL_NAMED = True

# Known defect, to fix in solutions/mistakes/: two wrong versions are named
# rate_as_keep_probability-Dropout.call and two drops_at_inference-Dropout.call, so the demo
# gives each pair one student id.
UNIQUE_VERSION_NAMES = False

# Its cells draw many masks and train: one more seed across (not two) keeps CI time as it was.
EXTRA_SEEDS = (11,)
