"""hypothesis beyond the loader (tests/spec fuzzes that): the differ fed whatever the API might
answer, the renderers fed whatever the differ makes, and the CLI fed any arguments.

- The job list, as raw JSON through the real client (an httpx MockTransport), then the
  plan, then every plan format and the saved plan: nothing raises but ReconcilerError,
  and the plan accounts for every spec exactly once.
- A sensitive property never shows in any rendering, whatever the remote side holds.
- Any argument vector of the CLI exits 0, 1 or 2 with no traceback and no internal error.
"""

from __future__ import annotations

import json
import string
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.api.auth import RetryPolicy, api_settings_from_env
from reconciler.api.client import NX1Client
from reconciler.errors import ReconcilerError
from reconciler.marker import OWNER_KEY, create_body
from reconciler.model import JOB_TYPES, JobSpec, RemoteJob
from reconciler.plan.diff import Action, Plan, make_plan
from reconciler.plan.saved import saved_document
from reconciler.render.common import RenderOptions
from reconciler.render.jsonplan import render_json
from reconciler.render.markdown import render_markdown
from reconciler.render.text import render_text
from reconciler.sensitive import Sensitivity
from reconciler.settings import Policy
from tests.reliability.conftest import OWNER, Cli, base_env

if TYPE_CHECKING:
    from reconciler.emulator.testing import EmulatorHandle

NAMES = st.sampled_from(["a", "b", "c", "sales-daily", "x" * 60, "ünï", " pad "])
TEXT = st.text(max_size=12)
SCALAR = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), TEXT)
JSONISH = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(10**6), 10**6), TEXT),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(TEXT, inner, max_size=3)),
    max_leaves=6,
)
SCHEDULES = st.sampled_from([None, "", "0 2 * * *", "0  2 * * *", "@daily", "*/5 * * * MON-FRI"])
PROPERTIES = st.one_of(st.none(), st.dictionaries(TEXT, JSONISH, max_size=4))


@st.composite
def job_specs(draw: st.DrawFn) -> JobSpec:
    props = draw(PROPERTIES)
    paths = [("source",), ("properties",), *(("properties", k) for k in (props or {}))]
    return JobSpec(
        job_name=draw(NAMES),
        job_type=draw(st.sampled_from(JOB_TYPES)),
        source=draw(st.one_of(st.none(), TEXT)),
        destination=draw(st.one_of(st.none(), TEXT)),
        schedule=draw(SCHEDULES),
        properties=props,
        sensitive=frozenset(draw(st.lists(st.sampled_from(paths), max_size=2))),
    )


def properties_json() -> st.SearchStrategy[Any]:
    owner = st.one_of(st.just(OWNER), st.just("someone-else"), JSONISH)
    obj = st.builds(
        lambda d, o, with_owner: {**d, OWNER_KEY: o} if with_owner else d,
        st.dictionaries(TEXT, JSONISH, max_size=3),
        owner,
        st.booleans(),
    )
    return st.one_of(
        st.none(),
        st.just(""),
        st.just("   "),
        obj.map(json.dumps),
        st.lists(JSONISH, max_size=3).map(json.dumps),  # a JSON list, not an object
        JSONISH.map(json.dumps),
        st.sampled_from(["{nope", "[1,", "NaN", "null", "\x00", '{"a": 1} trailing']),
        obj,  # an object where a string belongs
        st.integers(),
    )


@st.composite
def remote_objects(draw: st.DrawFn) -> Any:
    """One item of GET /api/jobs as an API might answer it, odd shapes included."""
    if draw(st.integers(0, 30)) == 0:
        return draw(st.one_of(st.none(), st.integers(), TEXT, st.lists(SCALAR, max_size=2)))
    obj: dict[str, Any] = {
        "id": draw(st.one_of(st.uuids().map(str), st.just(""), st.none(), st.integers())),
        "job_name": draw(st.one_of(NAMES, st.none(), st.integers())),
    }
    for key in ("job_type", "source", "destination", "schedule", "status", "created_at"):
        if draw(st.booleans()):
            obj[key] = draw(
                st.one_of(st.none(), TEXT, st.sampled_from(JOB_TYPES), SCHEDULES, SCALAR)
            )
    if draw(st.booleans()):
        obj["properties_json"] = draw(properties_json())
    if draw(st.booleans()):
        obj["is_deleted"] = draw(st.one_of(st.booleans(), st.none(), TEXT))
    obj.update(
        draw(st.dictionaries(st.sampled_from(["extra", "owner_id", "tags", "id2"]), JSONISH))
    )
    return obj


ANSWERS = st.one_of(
    st.lists(remote_objects(), max_size=8),
    st.lists(remote_objects(), max_size=8).map(lambda jobs: {"items": jobs}),
    JSONISH,
)
POLICIES = st.builds(
    Policy,
    owner=st.sampled_from([OWNER, "someone-else"]),
    allow_replace=st.booleans(),
    prune=st.booleans(),
    adopt=st.booleans(),
    allow_empty=st.booleans(),
    max_deletes=st.integers(0, 20),
    max_delete_share=st.floats(0, 1),
)
SETTINGS = api_settings_from_env(
    {"NX1_HOST": "https://api.example.test", "NX1_API_KEY": "k3y-fuzz"},
    retry=RetryPolicy(attempts=1, deadline_s=5),
)


def fetch(answer: Any) -> list[RemoteJob]:
    """The real client reading ``answer`` as the body of GET /api/jobs."""
    body = json.dumps(answer, allow_nan=True).encode()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": "application/json"})

    with NX1Client(SETTINGS, transport=httpx.MockTransport(handler)) as client:
        return client.list_jobs()


def render_everything(plan: Plan, options: RenderOptions) -> str:
    saved = json.dumps(saved_document(plan, options, ["jobs"], b"fuzz-key"), ensure_ascii=False)
    return "\n".join(
        [
            render_text(plan, options),
            render_text(plan, RenderOptions(options.sensitivity, show_unchanged=True)),
            render_markdown(plan, options),
            render_json(plan, options),
            saved,
        ]
    )


OPTIONS = RenderOptions(
    Sensitivity(), api_url=SETTINGS.base_url, now=datetime(2026, 1, 1, tzinfo=UTC)
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(job_specs(), max_size=6, unique_by=lambda s: s.job_name),
    ANSWERS,
    POLICIES,
)
def test_differ_survives_any_api_answer(specs: list[JobSpec], answer: Any, policy: Policy) -> None:
    try:
        remote = fetch(answer)
        plan = make_plan(specs, remote, policy)
    except ReconcilerError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    # Every spec is accounted for exactly once; several live jobs of one name conflict.
    named = [c.job_name for c in plan.changes if c.desired is not None]
    assert sorted(named) == sorted(s.job_name for s in specs)
    for change in plan.changes:
        if change.desired is not None and len(change.remote) > 1:
            assert change.action is Action.CONFLICT
        if change.action in (Action.CREATE, Action.REPLACE):
            assert change.desired is not None
            json.dumps(create_body(change.desired, policy.owner))
    assert sum(plan.summary().values()) == len(plan.changes)
    assert render_everything(plan, OPTIONS)


SECRET = st.text(string.ascii_letters + string.digits, min_size=6, max_size=12).map(
    lambda s: f"S3CR3T{s}"
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(job_specs(), min_size=1, max_size=4, unique_by=lambda s: s.job_name),
    st.lists(remote_objects(), max_size=6),
    SECRET,
    SECRET,
    st.sampled_from(["password", "db_password", "apiKey", "TOKEN", "client_secret"]),
)
def test_a_sensitive_property_never_shows(
    specs: list[JobSpec], remote_raw: list[Any], mine: str, theirs: str, key: str
) -> None:
    # Our secret under a sensitive key in the specs, theirs under the same key remotely.
    specs = [
        JobSpec(s.job_name, s.job_type, s.source, s.destination, s.schedule,
                {**(s.properties or {}), key: mine}, sensitive=s.sensitive)
        for s in specs
    ]  # fmt: skip
    for obj in remote_raw:
        if isinstance(obj, dict):
            obj["properties_json"] = json.dumps({key: theirs, OWNER_KEY: OWNER, "n": 1})
    try:
        plan = make_plan(specs, fetch(remote_raw), Policy(owner=OWNER, prune=True))
    except ReconcilerError:
        return
    shown = render_everything(plan, OPTIONS)
    assert mine not in shown and theirs not in shown


COMMANDS = st.sampled_from(
    ["validate", "plan", "apply", "import", "schema", "plan", "apply", "schedule"]
)
TOKENS = st.lists(
    st.sampled_from(
        [
            "validate", "plan", "jobs", "jobs/a.yaml", "jobs/a.yaml", "nope",
            "--format", "json", "text", "markdown", "github", "xml", "--out", "p.json",
            "--plan", "--yes", "--detailed-exitcode", "--parallelism", "0", "3", "-1",
            "--max-delete-share", "2", "0.5", "--prune", "--allow-empty", "--api-url",
            "http://example.com", "--timeout", "--traceback", "-v", "--help", "--version",
            "--bogus", "", "--", "-", "--show-unchanged", "--fail-fast", "--force", "--top",
        ]
    ),
    max_size=6,
)  # fmt: skip
ARGV = st.builds(lambda command, rest: [command, *rest], COMMANDS, TOKENS)


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(argv=ARGV)
def test_any_argument_vector_exits_cleanly(
    argv: list[str], cli: Cli, emulator: EmulatorHandle, tmp_path: Path
) -> None:
    jobs = tmp_path / "jobs"
    if not jobs.exists():
        jobs.mkdir()
        (jobs / "a.yaml").write_text("jobs:\n  - job_name: fuzz-a\n    job_type: mirror\n")
    if argv and argv[0] == "import":
        argv = [*argv, "--out", "imported", "--force"]  # never into the specs directory
    result = cli(*argv, env=base_env(emulator))
    assert result.code in (0, 1, 2), (argv, result)
    if result.code == 2:
        assert argv[0] == "plan" and "--detailed-exitcode" in argv, (argv, result.err)
    assert "Traceback" not in result.err and "internal error" not in result.err, (argv, result.err)


@pytest.fixture(autouse=True)
def _clean_after(request: pytest.FixtureRequest) -> None:
    """The CLI fuzz creates jobs on the session emulator; leave it clean for the next test."""
    if "emulator" in request.fixturenames:
        request.addfinalizer(request.getfixturevalue("emulator").reset)
