"""Lesson 07 (batchnorm): its checks, its mistake catalogue and its own operations."""
