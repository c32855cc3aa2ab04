"""The error raised for problems an instructor can fix (bad input, missing setup)."""


class CourseError(Exception):
    """A problem with the user's input or setup, worded "what is wrong; what to do".

    The command line prints it as one line, without a traceback.
    """
