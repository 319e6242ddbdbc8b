"""load_specs / check_paths: the public API that plan and apply call."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.errors import SpecError
from reconciler.marker import MARKER_KEYS
from reconciler.model import JOB_TYPES, JobSpec, Location
from reconciler.specs.build import check_data
from reconciler.specs.validate import check_paths, load_specs

Write = Callable[[str, str], Path]
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "jobs"

SPEC = """\
jobs:
  - job_name: sales-daily
    job_type: airflow.dataeng
    source: s3://${BUCKET:-raw}/sales/
    destination: lakehouse.sales.daily
    schedule: "0 2 * * *"
    properties:
      retries: 3
      db:
        host: db.internal
        password: ${DB_PASSWORD}
  - job_name: mirror-raw
    job_type: mirror
    properties_json: '{"token": "${TOKEN}"}'
---
jobs: []
"""


def test_load_specs_gives_jobspecs_with_places(write: Write) -> None:
    path = write("a.yaml", SPEC)
    specs = load_specs([path], {"DB_PASSWORD": "pw", "TOKEN": "t", "BUCKET": "lake"})
    first, second = specs
    assert first.job_name == "sales-daily"
    assert first.source == "s3://lake/sales/"
    assert first.schedule == "0 2 * * *"
    assert first.properties == {"retries": 3, "db": {"host": "db.internal", "password": "pw"}}
    assert first.location == Location(str(path), 2, 5)
    assert first.json_path == "$.jobs[0]"
    assert first.where(("schedule",)) == Location(str(path), 6, 15)
    assert first.where(("properties", "db", "password")) == Location(str(path), 11, 19)
    assert first.where(("properties", "nope")) == Location(str(path), 8, 7)
    assert first.sensitive == frozenset({("source",), ("properties", "db", "password")})
    assert second.properties == {"token": "t"}
    assert second.sensitive == frozenset({("properties_json",), ("properties",)})
    assert second.where(("properties",)) == Location(str(path), 14, 22)


def test_default_not_from_env_is_not_sensitive(write: Write) -> None:
    path = write("a.yaml", "jobs:\n  - {job_name: a, job_type: mirror, source: '${B:-raw}'}\n")
    (spec,) = load_specs([path], {})
    assert spec.source == "raw" and spec.sensitive == frozenset()


def test_all_problems_of_all_files_sorted(write: Write, tmp_path: Path) -> None:
    write("b.yaml", "jobs:\n  - job_name: dup\n    job_type: nope\n")
    write("a.yaml", "jobs:\n  - job_name: dup\n    job_type: mirror\n    schedule: '@dayly'\n")
    with pytest.raises(SpecError) as info:
        load_specs([tmp_path], {})
    lines = [str(p).replace(str(tmp_path) + os.sep, "") for p in info.value.problems]
    assert lines == [
        "a.yaml:2:15: $.jobs[0].job_name: job_name 'dup' is also used at b.yaml:2",
        "a.yaml:4:15: $.jobs[0].schedule: unknown preset @dayly; did you mean @daily?",
        "b.yaml:2:15: $.jobs[0].job_name: duplicate job_name 'dup': first used at a.yaml:2",
        "b.yaml:3:15: $.jobs[0].job_type: 'nope' is not a known job type (one of: "
        + ", ".join(JOB_TYPES)
        + ")",
    ]


def test_examples_are_valid() -> None:
    report = check_paths([EXAMPLES], {})
    assert report.ok, report.problems
    assert report.files >= 3 and report.jobs >= 8
    specs = load_specs([EXAMPLES], {})
    assert {s.job_type for s in specs} == set(JOB_TYPES)


def _many(tmp_path: Path, files: int, bad: bool) -> None:
    for f in range(files):
        jobs = "".join(
            f"  - job_name: j{f}-{j}\n    job_type: mirror\n    properties: {{n: {j}, deep: {{x: [1, 2]}}}}\n"
            for j in range(50)
        )
        if bad and f == 7:
            jobs += "  - job_name: j0-0\n    job_type: mirrr\n"
        (tmp_path / f"f{f:02d}.yaml").write_text("jobs:\n" + jobs)


@pytest.mark.parametrize("bad", [False, True])
def test_parallel_and_serial_agree(tmp_path: Path, bad: bool) -> None:
    _many(tmp_path, 12, bad)
    one = check_paths([tmp_path], {}, workers=1)
    two = check_paths([tmp_path], {}, workers=2)
    built = check_paths([tmp_path], {}, build=True)
    assert one.problems == two.problems == built.problems
    assert one.jobs == two.jobs == built.jobs == 600 + bad
    assert not one.specs and not two.specs
    if bad:
        assert len(one.problems) == 3 and not built.specs
    else:
        assert [s.job_name for s in built.specs] == [
            f"j{f}-{j}" for f in range(12) for j in range(50)
        ]


def test_lazy_places_equal_precise_places(tmp_path: Path) -> None:
    _many(tmp_path, 2, False)
    name = str(tmp_path / "f00.yaml")
    data = (tmp_path / "f00.yaml").read_bytes()
    fast = check_data(name, data, {}, True).specs
    precise = check_data(name, data, {}, True, precise=True).specs
    assert fast == precise
    assert dict(fast[3].locations) == dict(precise[3].locations)
    assert fast[3].where(("properties", "deep", "x", 1)) == Location(name, 13, 38)


def test_places_of_a_file_changed_since_it_was_loaded_are_the_jobs_own(tmp_path: Path) -> None:
    """The file's bytes are not kept: a file changed (or gone) before its places are
    read shows every field at its job's place, never at a place of other text."""
    _many(tmp_path, 2, False)
    path = tmp_path / "f00.yaml"
    fast = check_data(str(path), path.read_bytes(), {}, True).specs
    path.write_text("jobs: []\n")
    assert dict(fast[3].locations) == {}
    assert fast[3].where(("properties", "deep", "x", 1)) == fast[3].location
    gone = check_data(str(path), b"jobs:\n  - job_name: a\n    job_type: mirror\n", {}, True)
    path.unlink()
    assert gone.specs[0].where(("job_type",)) == gone.specs[0].location


NAMES = st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True)
TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")), max_size=12
)
JSONISH = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(10**6), 10**6), TEXT),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(TEXT, inner, max_size=3)),
    max_leaves=8,
)
JOBS = st.fixed_dictionaries(
    {"job_name": NAMES, "job_type": st.sampled_from(JOB_TYPES)},
    optional={
        "source": st.one_of(st.none(), TEXT.filter(lambda s: "$" not in s)),
        "destination": TEXT.filter(lambda s: "$" not in s),
        "schedule": st.sampled_from(["0 2 * * *", "@daily", "*/5 * * * MON-FRI", None]),
        "properties": st.dictionaries(
            TEXT.filter(lambda k: k not in MARKER_KEYS), JSONISH, max_size=4
        ),
    },
)


def _no_dollar(value: Any) -> bool:
    if isinstance(value, str):
        return "$" not in value
    if isinstance(value, dict):
        return all(_no_dollar(k) and _no_dollar(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_no_dollar(v) for v in value)
    return True


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(JOBS, max_size=6, unique_by=lambda j: j["job_name"]), st.booleans())
def test_round_trip(jobs: list[dict[str, Any]], flow: bool) -> None:
    """Specs dumped as YAML load back as equal JobSpecs."""
    jobs = [j for j in jobs if _no_dollar(j)]
    text = yaml.safe_dump(
        {"jobs": jobs}, default_flow_style=flow, allow_unicode=True, sort_keys=False
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "jobs.yaml")
        path.write_text(text, encoding="utf-8")
        specs = load_specs([path], {})
    assert [s.job_name for s in specs] == [j["job_name"] for j in jobs]
    assert yaml.safe_load(text)["jobs"] == jobs  # the reference agrees the text says this
    for spec, job in zip(specs, jobs, strict=True):
        assert isinstance(spec, JobSpec)
        assert spec.job_type == job["job_type"]
        for key in ("source", "destination", "schedule", "properties"):
            assert getattr(spec, key) == job.get(key), key


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=300),
        st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")),
    )
)
def test_no_uncaught_exception_on_any_input(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "x.yaml")
        path.write_bytes(data)
        try:
            specs = load_specs([path], {"A": "1"})
        except SpecError as exc:
            assert exc.problems
        else:
            assert all(isinstance(s, JobSpec) for s in specs)


YAMLISH = st.lists(
    st.sampled_from(
        [
            "jobs:",
            "\n",
            "  - ",
            "job_name: ",
            "job_type: ",
            "mirror",
            "a",
            "&x ",
            "*x",
            "<<: ",
            "{",
            "}",
            "[",
            "]",
            ", ",
            "!!str ",
            "!!python/object ",
            "'",
            '"',
            "${A}",
            "${B",
            "---\n",
            "? ",
            ": ",
            "#",
            "|\n  ",
            "yes",
            "0x1F",
            "2024-01-01",
            "properties: ",
            "properties_json: ",
            "schedule: ",
            "\t",
            "    ",
        ]
    ),
    max_size=40,
).map(lambda parts: "".join(parts).encode())


@settings(max_examples=400, deadline=None)
@given(YAMLISH)
def test_no_uncaught_exception_on_yaml_like_input(data: bytes) -> None:
    for precise in (False, True):
        report = check_data("x.yaml", data, {"A": "1"}, True, precise=precise)
        assert report.problems or all(isinstance(s, JobSpec) for s in report.specs)


def test_problems_never_repeat_values_from_the_environment(write: Write) -> None:
    path = write("a.yaml", "jobs:\n  - job_name: a\n    job_type: ${JT}\n    schedule: ${CRON}\n")
    with pytest.raises(SpecError) as info:
        load_specs([path], {"JT": "hunter2-type", "CRON": "hunter2"})
    text = "\n".join(map(str, info.value.problems))
    assert "hunter2" not in text
    assert "$.jobs[0].job_type: a value from the environment does not pass this check" in text


@pytest.mark.parametrize(
    "props",
    ["    properties: {_managed_by: x}\n", '    properties_json: \'{"_managed_by": "x"}\'\n'],
)
def test_the_owner_key_is_reserved_already_in_validate(write: Write, props: str) -> None:
    path = write("a.yaml", "jobs:\n  - job_name: j\n    job_type: mirror\n" + props)
    (problem,) = check_paths([path], {}).problems
    assert "'_managed_by' is reserved" in problem.message
    assert problem.line == 4
