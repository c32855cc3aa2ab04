"""Lesson 01 (mlp limits): its checks, its mistake catalogue and its own operations."""
