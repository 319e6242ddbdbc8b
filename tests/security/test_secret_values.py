"""A secret is a property of its value: it stays masked whatever a later spec or config says."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.model import FieldPath, JobSpec
from reconciler.sensitive import Sensitivity
from tests.acceptance.conftest import Runner, write_jobs

NOTE = "note-Secret-5f1e2d"


@pytest.mark.parametrize(
    ("key", "secret"),
    [
        ("db_password", True),
        ("dbPassword", True),
        ("API-TOKEN", True),
        ("api_key", True),
        ("apiKey", True),
        ("accesstoken", True),
        ("client_secret", True),
        ("credentials", True),
        ("key", True),
        ("tokenizer", False),
        ("monkey_patch", False),
        ("keyboard", False),
        ("secretary", False),
        ("retries", False),
    ],
)
def test_patterns_match_whole_words_of_a_key(key: str, secret: bool) -> None:
    assert Sensitivity().key_is_sensitive(key) is secret


def test_config_patterns_only_add() -> None:
    mine = Sensitivity(("nothing", "*dsn"))
    assert mine.key_is_sensitive("db_password") and mine.key_is_sensitive("primary_dsn")


def test_a_secret_in_a_list_masks_the_whole_list() -> None:
    spec = JobSpec(
        "a",
        "mirror",
        properties={"hosts": ["a", "b"]},
        sensitive=frozenset({("properties", "hosts", 1)}),
    )
    assert ("properties", "hosts") in Sensitivity().mark(spec).sensitive


def test_a_key_named_secret_inside_a_list_names_its_value_secret_everywhere() -> None:
    """A password inside a list makes the whole list secret (items move between runs),
    and its own value stays one that every output masks wherever it stands, as a
    password outside a list does; the list's other values do not."""
    from reconciler.masks import secret_values

    sensitivity = Sensitivity()
    props = {"creds": [{"user": "admin-user", "password": "pw-in-a-list"}], "db_password": "pw-2"}
    spec = sensitivity.mark(JobSpec("a", "mirror", properties=props))
    assert ("properties", "creds") in spec.sensitive
    named = secret_values([spec], sensitivity=sensitivity, named=True)
    assert sorted(named) == ["pw-2", "pw-in-a-list"]
    assert "admin-user" in secret_values([spec], sensitivity=sensitivity)


def test_a_secret_stays_masked_after_the_spec_stops_naming_it(api: Runner, tmp_path: Path) -> None:
    spec = tmp_path / "jobs" / "a.yaml"
    write_jobs(
        spec, "jobs:\n  - job_name: a\n    job_type: mirror\n    properties:\n      note: ${NOTE}\n"
    )
    assert api("apply", env_extra={"NOTE": NOTE}).code == 0
    write_jobs(
        spec, "jobs:\n  - job_name: a\n    job_type: mirror\n    properties:\n      note: plain\n"
    )
    for fmt in ("text", "markdown", "json"):
        shown = api("plan", "--format", fmt).out
        assert NOTE not in shown
        assert "(sensitive" in shown
    # A pull request cannot unmask a live secret through its own config either.
    (tmp_path / "reconciler.yaml").write_text("sensitive_patterns: [nothing]\n")
    assert NOTE not in api("plan", "--format", "json").out


def test_a_live_password_the_spec_never_had_stays_masked(api: Runner, tmp_path: Path) -> None:
    spec = tmp_path / "jobs" / "a.yaml"
    write_jobs(
        spec,
        "jobs:\n  - job_name: a\n    job_type: mirror\n    properties:\n      db_password: hunter2-xyz\n",
    )
    assert api("apply").code == 0
    write_jobs(spec, "jobs:\n  - job_name: a\n    job_type: mirror\n")
    (tmp_path / "reconciler.yaml").write_text("sensitive_patterns: [nothing]\n")
    out = api("plan", "--format", "json").out
    assert "hunter2-xyz" not in out and "(sensitive" in out


def test_fingerprints_are_keyed_or_absent(api: Runner, tmp_path: Path) -> None:
    import hashlib
    import json

    write_jobs(
        tmp_path / "jobs" / "a.yaml",
        "jobs:\n  - job_name: a\n    job_type: mirror\n    properties:\n      db_password: hunter2\n",
    )
    plain = api("plan", "--format", "json").out
    weak = hashlib.sha256(json.dumps("hunter2").encode()).hexdigest()[:8]
    assert weak not in plain and "(sensitive)" in plain
    keyed = api("plan", "--format", "json", env_extra={"RECONCILER_FINGERPRINT_KEY": "k1"}).out
    other = api("plan", "--format", "json", env_extra={"RECONCILER_FINGERPRINT_KEY": "k2"}).out
    assert "(sensitive, hmac:" in keyed and weak not in keyed
    assert keyed != other


def test_import_then_plan_is_clean_with_the_variables_set(api: Runner, tmp_path: Path) -> None:
    spec = tmp_path / "seed" / "a.yaml"
    write_jobs(
        spec,
        "jobs:\n  - job_name: sales-load\n    job_type: mirror\n"
        "    source: s3://b/$${NX1_API_KEY}/\n"
        "    properties:\n      db_password: hunter2-abc\n      note: ${NOTE}\n",
    )
    assert api("apply", "seed", env_extra={"NOTE": NOTE}).code == 0
    done = api("import", "--out", "jobs")
    assert done.code == 0, done.err
    assert "SALES_LOAD_DB_PASSWORD" in done.err and "hunter2-abc" not in done.err
    files = "".join(p.read_text() for p in (tmp_path / "jobs").iterdir())
    assert "hunter2-abc" not in files and NOTE not in files
    assert "$${NX1_API_KEY}" in files
    env = {"SALES_LOAD_DB_PASSWORD": "hunter2-abc", "SALES_LOAD_NOTE": NOTE}
    clean = api("plan", "jobs", "--detailed-exitcode", env_extra=env)
    assert clean.code == 0, clean.out + clean.err


def test_a_pattern_makes_whole_fields_secret_but_never_the_type() -> None:
    from reconciler.model import JobSpec
    from reconciler.sensitive import Sensitivity

    spec = Sensitivity(("*",)).mark(JobSpec("a", "mirror", source="s3://b/", schedule="@daily"))
    assert {("source",), ("schedule",), ("destination",)} <= spec.sensitive
    assert ("job_type",) not in spec.sensitive
    assert Sensitivity().mark(JobSpec("a", "mirror", schedule="@daily")).sensitive == frozenset()


# Known by its value: wherever a server put it, in every output (Sensitivity.values).


@pytest.mark.parametrize("count", [1, 10, 40, 800])
def test_every_form_of_every_known_value_is_found_few_or_many(count: int) -> None:
    """Up to 32 forms are searched one by one, beyond that all at once (Aho-Corasick):
    both find the same."""
    values = [f"val-{i:04}-x" for i in range(count)] + ['quo"te\\back', "pässwörd-ü", "key-🔑-x"]
    sensitivity = Sensitivity(values=frozenset(values))
    last = values[count - 1]
    assert sensitivity.scrub(f"a {last} b") == "a (sensitive) b"
    assert sensitivity.scrub('id "quo\\"te\\\\back"') == 'id "(sensitive)"'  # as JSON writes it
    assert sensitivity.scrub("val-9999-x and val-00") == "val-9999-x and val-00"
    assert sensitivity.scrub("ä pässwörd-ü \\u00e4") == "ä (sensitive) \\u00e4"
    assert sensitivity.scrub("🔑 key-🔑-x") == "🔑 (sensitive)"  # beyond the BMP too
    assert sensitivity.scrub('"p\\u00e4ssw\\u00f6rd-\\u00fc"') == '"(sensitive)"'  # ASCII JSON
    assert sensitivity.mask({"type": last, "source": f"s3://{last}"}) == {
        "type": "(sensitive)",
        "source": f"s3://{last}",  # inside a longer text: scrub() finds it, as above
    }
    assert sensitivity.mask({"type": "plain"}) == {"type": "plain"}


def test_values_shorter_than_four_characters_are_not_masked() -> None:
    sensitivity = Sensitivity(values=frozenset({"abc"}))
    assert sensitivity.scrub("abc abcd") == "abc abcd"


def test_json_stays_json_when_a_form_matches_across_an_escape() -> None:
    """A secret written as JSON (``\\nabcd``) also matches inside an escaped backslash
    followed by ``nabcd``: the text is masked value by value then, never cut in an escape
    (a value holding the secret as JSON writes it is masked too: an echo of it)."""
    import json

    sensitivity = Sensitivity(values=frozenset({"\nabcd"}))
    document = {"a": "\\nabcd", "b": "x\nabcd"}
    text = sensitivity.json_text(document, json.dumps)
    assert json.loads(text) == {"a": "(sensitive)", "b": "x(sensitive)"}
    assert sensitivity.json_text({"a": "plain"}, json.dumps) == '{"a": "plain"}'


def test_a_known_value_in_the_apply_result_is_masked() -> None:
    import json

    from reconciler.apply import ActionResult, ApplyResult
    from reconciler.plan.diff import Action, Plan
    from reconciler.render.applyresult import render_result_json, render_result_text
    from reconciler.settings import Policy

    secret = "pw-Result-77aa"
    result = ApplyResult(
        (ActionResult("a", Action.CREATE, ok=True, created_id=f"id-{secret}", seconds=0.1),)
    )
    sensitivity = Sensitivity(values=frozenset({secret}))
    doc = json.loads(render_result_json(Plan((), Policy()), result, sensitivity))
    assert doc["created_ids"] == ["id-(sensitive)"]
    assert secret not in render_result_text(Plan((), Policy()), result, sensitivity)


def test_overlapping_known_values_are_masked_together() -> None:
    sensitivity = Sensitivity(values=frozenset({"abcdef", "defghi"}))
    assert sensitivity.scrub("x abcdefghi y abcdef") == "x (sensitive) y (sensitive)"


def test_a_value_is_found_as_python_quotes_it_too() -> None:
    """Reasons quote an owner with repr (``owned by 'x'``): that form is known too."""
    value = "pa'ss\"wd-1"
    sensitivity = Sensitivity(values=frozenset({value}))
    assert value not in sensitivity.scrub(f"owned by {value!r}")
    assert repr(value)[1:-1] not in sensitivity.scrub(f"owned by {value!r}")


def test_a_secret_number_is_known_by_its_text() -> None:
    from reconciler.masks import secret_values

    one = JobSpec(job_name="a", job_type="mirror", properties={"pin_password": 90817263})
    marked = Sensitivity().mark(one)
    assert "90817263" in secret_values([marked])


def test_a_saved_plan_keeps_its_settings_exact_whatever_secrets_hold(
    api: Runner, tmp_path: Path
) -> None:
    """Only what comes from the specs and the server is masked in a saved plan: a
    secret ("team") inside the owner (team-a) leaves the policy apply reads back as it
    was, and the job is created with its real owner."""
    import json

    write_jobs(
        tmp_path / "jobs" / "a.yaml",
        "jobs:\n  - job_name: a\n    job_type: mirror\n    properties:\n      db_password: team\n",
    )
    assert api("plan", "--out", "plan.json", "jobs").code == 0
    saved = json.loads((tmp_path / "plan.json").read_text())
    assert saved["policy"]["owner"] == "team-a", saved["policy"]
    done = api("apply", "--plan", "plan.json")
    assert done.code == 0, done.err
    again = api("plan", "--detailed-exitcode", "jobs")
    assert again.code == 0, again.out + again.err


def test_a_secret_of_digits_is_masked_whole_never_inside_text() -> None:
    """A PIN 1002 hides a value 1002, not line 1002 of a file nor a count."""
    sensitivity = Sensitivity(values=frozenset({"1002", "pw-long-1"}))
    assert sensitivity.scrub("jobs/a.yaml:1002 pw-long-1") == "jobs/a.yaml:1002 (sensitive)"
    assert sensitivity.mask({"pin": 1002, "n": "1002", "m": 10020}) == {
        "pin": "(sensitive)",
        "n": "(sensitive)",
        "m": 10020,
    }
    assert sensitivity.scrub_data({"line": 1002}) == {"line": 1002}


def test_every_message_masks_the_environments_secrets(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A server learns DB_PASSWORD from a connection string it is sent: any line the
    command says masks it, as given and URL-encoded."""
    from urllib.parse import quote

    from reconciler.cli import say
    from reconciler.masks import environment_secrets

    monkeypatch.setenv("DB_PASSWORD", "db pw/ENV%5555")
    monkeypatch.setenv("USE_TOKEN", "true")
    assert "true" not in environment_secrets({"USE_TOKEN": "true"})
    say(f"warning: job type 'db pw/ENV%5555' at /api/jobs/{quote('db pw/ENV%5555', safe='')}")
    err = capsys.readouterr().err
    assert "ENV%5555" not in err and "ENV%255555" not in err, err


@pytest.mark.parametrize("count", [20, 200])
def test_values_overlapping_themselves_mask_the_whole_text_past_a_bound(count: int) -> None:
    """A pull request declaring aaaa, aaaaa, ... as secrets cannot make masking take the
    square of a text's size: past a bound of matches the whole text is masked at once."""
    sensitivity = Sensitivity(values=frozenset("a" * n for n in range(4, 4 + count)))
    assert sensitivity.scrub("x" + "a" * 20_000 + "y") == "(sensitive)"
    assert sensitivity.scrub("x aaaa y") == "x (sensitive) y"


def _mask_by_definition(s: Sensitivity, value: Any, path: FieldPath, marked: Any) -> Any:
    """What ``Sensitivity.mask`` promises, written the plain way: every value whose path
    is sensitive (``path_is_sensitive``) or that is a known secret whole is shown masked;
    None stays None."""
    if value is None:
        return None
    if s.path_is_sensitive(path, marked) or s._known_whole(value):
        return s.show(value)
    if isinstance(value, dict):
        return {k: _mask_by_definition(s, v, (*path, k), marked) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_by_definition(s, v, (*path, i), marked) for i, v in enumerate(value)]
    return value


_KEYS = st.sampled_from(["a", "password", "db", "token", "x_key", "n", "api_key", "dsn", "7"])
_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-10, 10),
    st.floats(allow_nan=False),
    st.sampled_from(["s3cr3t-value", "plain", "", "1234567"]),
)
_VALUES = st.recursive(
    _LEAVES,
    lambda c: st.lists(c, max_size=4) | st.dictionaries(_KEYS, c, max_size=4),
    max_leaves=20,
)
_PATHS = st.lists(_KEYS | st.integers(0, 3), max_size=3).map(tuple)


def _paths_in(value: Any, path: FieldPath) -> list[FieldPath]:
    """Every path inside ``value`` (below ``path``), for marks that land in it."""
    out = [path]
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, child in items:
        out.extend(_paths_in(child, (*path, key)))
    return out


@settings(max_examples=400, deadline=None)
@given(
    _VALUES,
    _PATHS,
    st.data(),
    st.sampled_from([(), ("dsn",), ("*n*",)]),
    st.sampled_from([frozenset(), frozenset({"s3cr3t-value", "1234567"})]),
    st.sampled_from([None, b"fingerprint-key"]),
)
def test_mask_asks_each_key_once_and_masks_what_the_plain_definition_masks(
    value: Any,
    path: FieldPath,
    data: st.DataObject,
    globs: tuple[str, ...],
    values: frozenset[str],
    key: bytes | None,
) -> None:
    inside = st.sampled_from(_paths_in(value, path))
    marked = data.draw(st.frozensets(inside | _PATHS, max_size=3))
    s = Sensitivity(globs=globs, values=values, key=key)
    got, want = s.mask(value, path, marked), _mask_by_definition(s, value, path, marked)
    assert repr(got) == repr(want)
    assert type(got) is type(want)
