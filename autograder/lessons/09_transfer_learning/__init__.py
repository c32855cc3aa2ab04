"""Lesson 09 (transfer learning): its checks, its mistake catalogue and its own operations."""
