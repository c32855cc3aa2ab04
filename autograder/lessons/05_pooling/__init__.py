"""Lesson 05 (pooling): its checks, its mistake catalogue and its own operations."""
