"""Lesson 10 (conv_variants): its checks, its mistake catalogue and its cases."""
