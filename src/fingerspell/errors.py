"""The one exception type a user can meet."""


class FingerspellError(Exception):
    """A problem the user can fix: the message names the thing and the fix.

    The command line prints it on one line, without a traceback, and exits non-zero.
    """
