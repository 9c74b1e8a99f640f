"""Errors a user can act on: the message says what is wrong and what to do.

A job stopped by one of these logs its message alone, without a traceback
(``workflow.logs.log_to``): the cause is the input, not the code.
"""


class DataError(RuntimeError):
    """Input data is missing, corrupt, unreadable or could not be downloaded."""
