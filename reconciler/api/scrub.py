"""Server text made fit for a message: secrets masked, control characters escaped, cut short.

Every piece of server text that reaches an error message goes through a ``Scrubber``
(``reconciler.api.answers``, the client's boundary); the command line masks its own
lines with one too. Nothing here reads an answer or sends a request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from reconciler.masks import Finder, finder

SHOWN_CHARS = 200  # of server text in one message
MASK = "***"


def escaped(text: str) -> str:
    """``text`` on one line, safe for a terminal or a log: runs of whitespace become one
    space; control, format and surrogate characters are written as escapes."""
    text = " ".join(text.split())
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)


def one_line(text: str, limit: int = SHOWN_CHARS) -> str:
    text = escaped(text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class Scrubber:
    """Masks every known secret value in text that came from a server.

    ``sources`` are asked each time (a token renewed meanwhile is masked too). A secret is
    also found as JSON and as a URL form would write it, for servers echo what they got
    (``reconciler.masks``). Values shorter than ``MIN_SECRET_CHARS`` are not masked.
    """

    def __init__(self, *sources: Callable[[], Iterable[str]]) -> None:
        self._sources = sources
        # What the sources gave last, and its Finder: asked per message (per request
        # under -v), the values are gathered again only when a source gives others.
        self._last: tuple[tuple[tuple[str, ...], ...], Finder | None] = ((), None)

    def __call__(self, text: str, limit: int = SHOWN_CHARS) -> str:
        """Server text ready for a message: masked, then escaped and cut to ``limit``."""
        return one_line(self.mask(text), limit)

    def mask(self, text: str) -> str:
        """``text`` with every form of every known secret replaced by ``***``."""
        given = tuple(tuple(source()) for source in self._sources)
        last, found = self._last
        if given != last:  # items compared by identity first: cheap when unchanged
            values = tuple(secret for part in given for secret in part)
            found = finder(values, urls=True) if values else None
            self._last = given, found
        return found.scrub(text, MASK) if found else text
