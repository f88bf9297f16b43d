"""Errors that end a dream because of what the model answered."""


class NoUsableAnswerError(RuntimeError):
    """The model answered, but never usably, where the dream cannot go on without an answer
    (the Customer Job's expansion). The message names the endpoint, the model and the problem."""
