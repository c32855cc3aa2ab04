"""Lesson 06 (backprop): its checks, its mistake catalogue and its own operations."""
