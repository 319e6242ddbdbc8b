"""JobSpecs across the process boundary: what arrives equals what left."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from reconciler.model import JobSpec, Location
from reconciler.specs import wire as specwire
from reconciler.specs.build import check_data
from reconciler.specs.locations import LazyLocations

Write = Callable[[str, str], Path]

SPEC = """\
jobs:
  - job_name: a
    job_type: mirror
    schedule: "0 2 * * *"
    properties: {retries: 3, flag: true, ratio: 1.0, deep: {x: [1, null, "s"]}}
  - job_name: b
    job_type: airflow.nlp
    properties_json: '{"token": "${TOKEN}"}'
"""


def _specs(precise: bool, text: str = SPEC) -> list[JobSpec]:
    report = check_data("f.yaml", text.encode(), {"TOKEN": "t"}, True, precise=precise)
    assert not report.problems
    return report.specs


def test_lazy_places_survive_the_trip() -> None:
    specs = _specs(precise=False, text=SPEC.replace("${TOKEN}", "t"))
    assert isinstance(specs[0].locations, LazyLocations)
    ((name, back),) = specwire.unpack(specwire.pack([("f.yaml", specs)]))
    assert name == "f.yaml"
    assert back == specs
    assert isinstance(back[0].locations, LazyLocations)
    assert (
        back[0].where(("schedule",)) == specs[0].where(("schedule",)) == Location("f.yaml", 4, 15)
    )
    flag, ratio = back[0].properties["flag"], back[0].properties["ratio"]  # type: ignore[index]
    assert flag is True and type(ratio) is float


def test_precise_places_survive_the_trip() -> None:
    specs = _specs(precise=True)
    assert isinstance(specs[0].locations, dict)
    ((_, back),) = specwire.unpack(specwire.pack([("f.yaml", specs)]))
    assert back == specs
    assert dict(back[0].locations) == dict(specs[0].locations)
    assert back[1].sensitive == specs[1].sensitive and back[1].sensitive
