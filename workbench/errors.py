"""The one exception type for problems a user can cause and fix.

Its message is a plain sentence that says what is wrong and how to fix it; pages show it as it is, never as a
traceback.
"""


class UserError(Exception):
    """A problem the user caused and can fix; ``str(error)`` is the sentence to show them."""
