"""Instructor-side tools that write notebook cells from the `solutions` package."""
