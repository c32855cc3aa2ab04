"""Lesson 11 (capstone): its checks, its mistake catalogue and its cases."""
