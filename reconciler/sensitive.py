"""Which values are secret, and how a secret is shown: never itself.

A value is sensitive from its origin on: it came from the environment (``${NAME}`` in a
spec), a word of a key on its path matches a sensitive pattern (password, secret,
token, key, credential by default; ``sensitive_patterns`` only add to these), or the
owner marker of the live job recorded its path as sensitive when we wrote it. After
loading, every ``JobSpec.sensitive`` holds all its sensitive paths
(:meth:`Sensitivity.mark`), and ``marker.create_body`` records them on the job, so a
later run masks the live side of those paths whatever the spec or config say then.

Patterns match whole words of a key: ``db_password``, ``apiKey`` and ``API-TOKEN`` are
sensitive, ``tokenizer`` and ``monkey_patch`` are not.

How a secret is shown: with a key (``RECONCILER_FINGERPRINT_KEY``, a CI secret), as
``(sensitive, hmac:1a2b3c4d)``, an HMAC-SHA256 that only the key's holder can test
guesses against; without one, as ``(sensitive)``, and a diff line says it changed.

A secret is also known by its value (``Sensitivity.values``, ``masks.shown_secrets``: the
spec values under a key that names a secret, the environment's secret-named variables
and the credential; ``reconciler.masks`` finds them): a server that puts one into
another field of a live job, a name or an id gets it masked there too, in every output.
Other ``${ENV}`` values, and the values a server holds at secret paths, are masked by
their paths only: else a common word (``prod``) would blank every heading, and a server
could blank any text of a plan by holding it as a password.
"""

from __future__ import annotations

import fnmatch
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from reconciler.masks import Finder, text_of
from reconciler.masks import finder as finder_of
from reconciler.model import MAY_BE_SECRET, FieldPath, JobSpec, RemoteJob

# Matched against whole words of a key and runs of them (see key_words): the first also
# takes compounds such as ``dbpassword`` or ``accesstoken``; ``key`` stands alone or
# after a word that makes it a secret, so ``monkey`` and ``keyboard`` are no secrets.
DEFAULT_PATTERNS = (
    r"\w*(password|passwd|secret|token|credential)s?",
    r"(api|access|secret|private|signing|encryption|auth)?_?keys?",
)
MASK = "(sensitive)"
CHANGED = "(sensitive, changed)"
KEY_ENV = "RECONCILER_FINGERPRINT_KEY"

# Words of a key: runs of letters or digits, split again where camelCase turns upper.
_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


class Masked(str):
    """A secret as shown: outputs print it as it is, never quoted like a value."""

    __slots__ = ()


def key_words(key: str) -> list[str]:
    """``dbPassword`` -> [db, password]; ``API_KEY`` -> [api, key]."""
    return [w.lower() for w in _WORDS.findall(key)]


def keyed_digest(key: bytes, value: Any) -> str:
    """A short HMAC-SHA256 of a JSON value."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hmac.new(key, text.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class Sensitivity:
    """Decides which field paths hold secrets, and shows them masked."""

    # Globs (``dsn``, ``*pass*``) added to the defaults, matched against the words of a
    # key, lowercase. Not regular expressions: a pull request writes reconciler.yaml,
    # and a regex can be made to backtrack for ever.
    globs: tuple[str, ...] = ()
    key: bytes | None = field(default=None, repr=False)
    # The secret values themselves (``masks.shown_secrets``), masked wherever they stand.
    values: frozenset[str] = field(default=frozenset(), repr=False, compare=False)
    _regex: re.Pattern[str] | None = field(init=False, repr=False, compare=False)
    _known: dict[str, bool] = field(init=False, repr=False, compare=False, default_factory=dict)
    # The fields whose own name matches as a whole (``sensitive_patterns: [schedule]``).
    _fields: frozenset[FieldPath] = field(init=False, repr=False, compare=False)
    _finder: Finder | None = field(init=False, repr=False, compare=False)
    # Values of digits only: masked as whole values, not inside text (a secret 1002
    # would mask line 1002 of every file, and counts).
    _numbers: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "globs", tuple(g.lower() for g in self.globs))
        numbers = frozenset(v for v in self.values if v.isdigit())
        texts = self.values - numbers
        object.__setattr__(self, "_numbers", numbers)
        object.__setattr__(self, "_finder", finder_of(texts, urls=True) if texts else None)
        object.__setattr__(self, "_regex", _compile(DEFAULT_PATTERNS))
        fields = frozenset((name,) for name in MAY_BE_SECRET if self.key_is_sensitive(name))
        object.__setattr__(self, "_fields", fields)

    def key_is_sensitive(self, key: str | int) -> bool:
        if not isinstance(key, str) or self._regex is None:
            return False
        known = self._known.get(key)
        if known is None:
            # A word, or two or three in a row (``api_key``): linear in the key's length.
            words = key_words(key[:_LONGEST_KEY])
            runs = ["_".join(words[i : i + n]) for n in (1, 2, 3) for i in range(len(words))]
            known = any(self._regex.fullmatch(run) for run in runs) or any(
                fnmatch.fnmatchcase(run, glob) for glob in self.globs for run in runs
            )
            self._known[key] = known
        return known

    def path_is_sensitive(self, path: FieldPath, marked: Iterable[FieldPath] = ()) -> bool:
        """True when a key on ``path`` matches, or ``path`` lies in a marked subtree."""
        if any(self.key_is_sensitive(key) for key in path):
            return True
        return any(path[: len(m)] == m for m in marked)

    def show(self, value: Any) -> str:
        """How one secret value reads in any output."""
        if self.key is None:
            return Masked(MASK)
        return Masked(f"(sensitive, hmac:{keyed_digest(self.key, value)})")

    def mask(
        self, value: Any, path: FieldPath = (), marked: frozenset[FieldPath] = frozenset()
    ) -> Any:
        """A copy of ``value`` with every sensitive leaf or subtree shown masked."""
        if value is None:
            return None
        if self.path_is_sensitive(path, marked):
            return self.show(value)
        return self._masked_inside(value, path, marked)

    def _masked_inside(self, value: Any, path: FieldPath, marked: frozenset[FieldPath]) -> Any:
        """``mask`` of a value at a path that is not sensitive itself: a child's path is
        sensitive only by its own key or a mark, since the keys above it are not (each
        is asked once, not once per path below it). A string below is looked at here,
        without a call of its own: most leaves of a plan are strings."""
        out: Any
        if isinstance(value, Mapping):
            out = {}
            known = self._known
            for key, child in value.items():
                secret = known.get(key)
                if secret is None:
                    secret = self.key_is_sensitive(key)
                out[key] = self._child(child, path, key, marked, secret)
            return out
        if isinstance(value, list):
            return [self._child(child, path, i, marked, False) for i, child in enumerate(value)]
        return self.show(value) if self._known_whole(value) else value

    def _child(
        self, child: Any, path: FieldPath, key: Any, marked: frozenset[FieldPath], secret: bool
    ) -> Any:
        """``child``, at ``key`` below ``path``, as ``_masked_inside`` shows it."""
        if child is None:
            return None
        if marked and not secret:  # the path below is made only when a mark may be on it
            below = (*path, key)
            secret = any(below[: len(m)] == m for m in marked)
        if secret:
            return self.show(child)
        if type(child) is str:
            return self.show(child) if self._known_text(child) else child
        return self._masked_inside(child, (*path, key), marked)

    def scrub(self, text: str) -> str:
        """``text`` with every known secret value in it replaced by ``(sensitive)``. Text
        outputs ask before they escape a line, so each value is found as it was given."""
        if self._finder is None or isinstance(text, Masked):
            return text
        return self._finder.scrub(text, MASK)

    def scrub_lines(self, lines: list[str]) -> list[str]:
        """``scrub`` of each line, asked once for all of them when none holds a secret
        (most lines of a long plan): one search instead of one per line."""
        if self._finder is None or not self._finder.holds("\n".join(lines)):
            return lines
        return [self.scrub(line) for line in lines]

    def scrub_data(self, value: Any) -> Any:
        """JSON data with every known secret value masked in its strings (keys too)."""
        if self._finder is None:
            return value
        if isinstance(value, str):
            return self.scrub(value)
        if isinstance(value, Mapping):
            return {self.scrub_data(k): self.scrub_data(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.scrub_data(v) for v in value]
        return value

    def _known_whole(self, value: Any) -> bool:
        return self._known_text(text_of(value))

    def _known_text(self, text: str) -> bool:
        if text in self._numbers:
            return True
        return self._finder is not None and self._finder.is_form(text)

    def scrub_json_data(self, value: Any) -> Any:
        """``scrub_data``, asked only when the value's JSON text holds a known value (one
        search instead of one per string)."""
        if self._finder is None or not self._finder.in_json(json.dumps(value)):
            return value
        return self.scrub_data(value)

    def json_text(self, document: Any, dump: Callable[[Any], str]) -> str:
        """``dump(document)`` with every known secret value masked: the text is searched
        for the forms a JSON string writes, and only when one is there is the document
        masked value by value (a form may also match across an escape) and dumped again."""
        text = dump(document)
        if self._finder is None or not self._finder.in_json(text):
            return text
        return dump(self.scrub_data(document))

    def paths_in(self, value: Any, path: FieldPath = ()) -> set[FieldPath]:
        """The topmost paths inside ``value`` whose key makes them sensitive."""
        out: set[FieldPath] = set()
        # Spec values are plain dicts and lists (the YAML reader makes them).
        if type(value) is not dict and isinstance(value, Mapping):
            value = dict(value)
        todo: list[tuple[Any, FieldPath]] = [(value, path)]
        known = self._known  # by str key; any other key is never sensitive
        while todo:
            node, where = todo.pop()
            if type(node) is dict:
                for key, child in node.items():
                    secret = known.get(key)
                    if secret is None:
                        secret = self.key_is_sensitive(key)
                    if secret:
                        out.add((*where, key))
                    elif type(child) is dict or type(child) is list:
                        todo.append((child, (*where, key)))
            elif type(node) is list:
                todo.extend(
                    (child, (*where, i))
                    for i, child in enumerate(node)
                    if type(child) is dict or type(child) is list
                )
        return out

    def mark(self, spec: JobSpec) -> JobSpec:
        """The spec with every sensitive path in ``sensitive``: from the environment, from
        key patterns, and whole fields whose name a pattern matches (a schedule made
        secret is then neither shown nor told in words or counts anywhere). A secret
        inside a list taints the whole list, since items can move between runs."""
        found = self.paths_in(spec.properties, ("properties",)) if spec.properties else set()
        if not found and not spec.sensitive and not self._fields:
            return spec  # most specs: nothing secret
        found |= spec.sensitive | self._fields
        lists = {p[:i] for p in found for i, k in enumerate(p) if isinstance(k, int)}
        found = {p for p in found if not any(p[: len(x)] == x and p != x for x in lists)} | lists
        if found == spec.sensitive:
            return spec
        return replace(spec, sensitive=frozenset(found))


def marked_as_live(specs: Iterable[JobSpec], live: Iterable[RemoteJob]) -> list[JobSpec]:
    """The specs with the secret paths their live jobs' markers record added (the jobs of
    their name and of their previous names): a value made secret once stays secret in
    every output, whatever the spec or reconciler.yaml say now, and the next job made
    from the spec records it again."""
    recorded: dict[str, set[FieldPath]] = {}
    for job in live:
        if job.sensitive:
            recorded.setdefault(job.job_name, set()).update(job.sensitive)
    if not recorded:
        return list(specs)
    out = []
    for spec in specs:
        paths = set(spec.sensitive)
        for name in (spec.job_name, *spec.previous_names):
            paths |= recorded.get(name, set())
        out.append(spec if paths == spec.sensitive else replace(spec, sensitive=frozenset(paths)))
    return out


_LONGEST_KEY = 256  # characters of a key that are looked at


def _compile(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)
