"""Lesson 03 (padding): its checks, its mistake catalogue and its own operations."""
