"""Lesson 02 (convolution): its checks, its mistake catalogue and its own operations."""
