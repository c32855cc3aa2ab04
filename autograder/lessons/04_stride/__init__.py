"""Lesson 04 (stride): its checks, its mistake catalogue and its own operations."""
