"""Lesson 08 (dropout): its checks, its mistake catalogue and its own operations."""
