"""Known secret values: which they are, and where they stand in text, in every form.

Which: ``secret_values`` (every value at a secret path of the specs or live jobs: what
messages mask), ``shown_secrets`` (what outputs mask wherever it stands: the values a key
names secret, the environment's secret-named variables, the credential).

One engine for every output: plan and apply output (``Sensitivity.scrub``, masked as
``(sensitive)``) and messages built from server text (``api.scrub.Scrubber``, masked as
``***``). A value is found as given, as JSON writes it (once, and inside a JSON string
such as properties_json), as Python's repr quotes it (reasons quote names and owners
so), and for messages also URL-encoded (a server echoes a token request's form).
Stretches that overlap or touch are masked as one, so no part of either value shows.

Up to ``ONE_BY_ONE`` forms each is searched for with ``str.find``; beyond it, all at once
with an Aho-Corasick automaton (pyahocorasick), one pass however many values there are
(BENCHMARKS.md, "secrets masked by value").
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, quote_plus

if TYPE_CHECKING:
    from reconciler.model import FieldPath, JobSpec, RemoteJob
    from reconciler.sensitive import Sensitivity

# Masking a shorter value would garble every output (a secret "22" in "-> 422") and
# show the value by where the masks fall: such a value cannot be kept secret this way.
MIN_SECRET_CHARS = 4
ONE_BY_ONE = 32


def json_forms(secret: str) -> set[str]:
    """``secret`` as a JSON string writes it (either way with non-ASCII), and as a JSON
    string inside a JSON string writes it (a value of properties_json)."""
    out = set()
    for ascii_only in (True, False):
        once = json.dumps(secret, ensure_ascii=ascii_only)[1:-1]
        out |= {once, json.dumps(once, ensure_ascii=ascii_only)[1:-1]}
    return out


def _url_forms(secret: str) -> set[str]:
    try:
        secret.encode("utf-8")
    except UnicodeEncodeError:  # no server could have echoed it so
        return set()
    return {quote_plus(secret), quote(secret, safe="")}


class Finder:
    """Finds every form of a set of secret values in a text, and masks them."""

    __slots__ = ("_all", "_automaton", "_json")

    def __init__(self, values: Iterable[str], *, urls: bool = False) -> None:
        kept = [v for v in values if len(v) >= MIN_SECRET_CHARS]
        given = {*kept, *(repr(v)[1:-1] for v in kept)}
        # JSON text holds each form as JSON writes it (a reason quoting a repr too).
        self._json = frozenset(f for form in given for f in json_forms(form))
        found = {*given, *self._json}
        if urls:
            found |= {f for v in kept for f in _url_forms(v)}
        self._all = frozenset(found)
        self._automaton: Any = None
        if len(self._all) > ONE_BY_ONE:
            import ahocorasick

            automaton = ahocorasick.Automaton()
            for form in self._all:
                automaton.add_word(form, len(form))
            automaton.make_automaton()
            self._automaton = automaton

    def is_form(self, text: str) -> bool:
        """True when ``text`` is a known value, or one of its forms, whole."""
        return text in self._all

    def holds(self, text: str) -> bool:
        """True when ``text`` holds any known form."""
        return bool(self._spans(text, self._all))

    def in_json(self, text: str) -> bool:
        """True when JSON text holds a known value as a JSON string writes it."""
        return bool(self._spans(text, self._json))

    def scrub(self, text: str, mask: str) -> str:
        """``text`` with every stretch that holds a known form replaced by ``mask``:
        overlapping or adjacent matches are masked together."""
        spans = sorted(self._spans(text, self._all))
        if not spans:
            return text
        out, done = [], 0
        start, end = spans[0]
        for first, last in spans[1:]:
            if first <= end:
                end = max(end, last)
                continue
            out += [text[done:start], mask]
            done, start, end = end, first, last
        out += [text[done:start], mask, text[end:]]
        return "".join(out)

    def _spans(self, text: str, forms: frozenset[str]) -> list[tuple[int, int]]:
        """Where the forms stand in ``text``: (start, end) of every match. Values that
        overlap themselves (``aaaa``, ``aaaaa``, ...) match many times at each place: past
        ``_most(text)`` matches the whole text is one span, so a pull request cannot make
        a plan take the square of its size."""
        most, spans = _most(text), []
        if self._automaton is not None:
            every = forms is self._all
            for end, size in self._automaton.iter(text):
                if every or text[end + 1 - size : end + 1] in forms:
                    spans.append((end + 1 - size, end + 1))
                    if len(spans) > most:
                        return [(0, len(text))]
            return spans
        for form in forms:
            at = text.find(form)
            while at >= 0:
                spans.append((at, at + len(form)))
                if len(spans) > most:
                    return [(0, len(text))]
                at = text.find(form, at + 1)
        return spans


def _most(text: str) -> int:
    # Far more than any ordinary text holds (two values starting at every character).
    return 2 * len(text) + 16


@functools.lru_cache(maxsize=8)
def finder(values: frozenset[str] | tuple[str, ...], urls: bool = False) -> Finder:
    """The Finder of these values, made once: options are copied (a saved plan adds a
    key) and messages ask for it per line, and an automaton of many values takes time
    to build."""
    return Finder(values, urls=urls)


def secret_values(
    specs: Iterable[JobSpec],
    live: Iterable[RemoteJob] = (),
    sensitivity: Sensitivity | None = None,
    *,
    named: bool = False,
) -> list[str]:
    """Every string (and number, as its text) held at a secret path of the specs and of
    the live jobs (by key pattern or marker), so a server that echoes one back in an
    error is masked too (``NX1Client(secrets=...)``). ``named``: only those a key on the
    path names secret (``db_password``), not those secret by their origin alone (any
    ``${ENV}`` value): what outputs mask wherever it stands (``shown_secrets``)."""
    from reconciler.sensitive import Sensitivity

    out: dict[str, None] = {}
    sensitivity = sensitivity or Sensitivity()
    jobs: list[tuple[Any, Iterable[FieldPath]]] = [
        (spec, _named_paths(spec, sensitivity) if named else spec.sensitive) for spec in specs
    ]
    for job in live:
        paths = sensitivity.paths_in(job.properties, ("properties",)) | set(job.sensitive)
        jobs.append((job, paths))
    for spec, secret_paths in jobs:
        for path in secret_paths:
            value = _value_at(spec, path)
            if value is not _ABSENT:
                for leaf in _strings(value):
                    out[leaf] = None
    return list(out)


_ABSENT = object()


def _value_at(job: Any, path: FieldPath) -> Any:
    """The value at ``path`` of a spec or live job; ``_ABSENT`` where there is none."""
    try:
        value = getattr(job, str(path[0]))
        for key in path[1:]:
            value = value[key]
    except (AttributeError, KeyError, IndexError, TypeError):
        return _ABSENT
    return value


def _named_paths(spec: JobSpec, sensitivity: Sensitivity) -> list[FieldPath]:
    """The secret paths of ``spec`` a key names secret: those with such a key on them,
    and inside a list made secret whole (``Sensitivity.mark``: items move between runs)
    the paths of the keys in it that name a secret (``creds: [{password: ...}]``)."""
    out = []
    for path in spec.sensitive:
        if sensitivity.path_is_sensitive(path):
            out.append(path)
            continue
        value = _value_at(spec, path)
        if type(value) is list or type(value) is dict:
            out.extend((*path, *inner) for inner in sensitivity.paths_in(value))
    return out


def shown_secrets(
    named: Iterable[str],
    env: Mapping[str, str],
    sensitivity: Sensitivity,
    credential: Iterable[str],
) -> frozenset[str]:
    """The values every output masks wherever they stand (``Sensitivity.values``): the
    values of the specs a key names secret (``secret_values(named=True)``), those of the
    environment variables a pattern names secret (``DB_PASSWORD``, also inside a longer
    value such as a connection string), and the credential's. Any other ``${ENV}`` value
    is masked where it was put (by its path) but not wherever else it stands: those are
    often short common words (``prod``), and masking them would blank every name, owner
    and heading that holds them."""
    return frozenset((*named, *environment_secrets(env, sensitivity), *credential))


def environment_secrets(
    env: Mapping[str, str], sensitivity: Sensitivity | None = None
) -> list[str]:
    """The values of the environment variables a pattern names secret (``DB_PASSWORD``,
    ``GITHUB_TOKEN``): masked in every output and every message, for a server learns
    them from the bodies it is sent (a connection string) and may echo them anywhere."""
    from reconciler.sensitive import Sensitivity

    sensitivity = sensitivity or Sensitivity()
    return [
        v
        for k, v in env.items()
        if v and sensitivity.key_is_sensitive(k) and v.lower() not in _NO_SECRETS
    ]


# What a switch such as USE_TOKEN=true holds: no secret, and in every JSON output.
_NO_SECRETS = frozenset({"true", "false", "null", "none", "yes"})


def text_of(value: Any) -> str:
    """How a leaf reads in a text output: a string as it is, a number as JSON writes it."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return int.__repr__(value)  # what json.dumps writes, without its set-up per call
    if isinstance(value, float):
        return json.dumps(value)
    return ""


def _strings(value: Any) -> Iterable[str]:
    """Every leaf of ``value`` as it reads in a text output (``text_of``)."""
    if isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif text := text_of(value):
        yield text
