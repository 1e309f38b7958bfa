"""The one error of content/, in a module of its own: the `jamaah` command catches it
without loading the content's libraries (Jinja, YAML)."""


class ContentError(ValueError):
    """The content is missing or invalid; the message names the file."""
