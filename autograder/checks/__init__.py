"""Checks that the lesson notebooks' test cells call, one module per lesson."""
