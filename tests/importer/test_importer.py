from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.api.remote import remote_job_from_api
from reconciler.errors import ConfigError
from reconciler.importer import build_import, write_import
from reconciler.model import RemoteJob
from reconciler.specs.validate import load_specs


def job(name: str, job_type: str | None = "mirror", **fields: object) -> RemoteJob:
    return remote_job_from_api(
        {"id": f"id-{name}", "job_name": name, "job_type": job_type, **fields}
    )


def test_only_jobs_that_validate_are_written(tmp_path: Path) -> None:
    result = build_import(
        [
            job(
                "good",
                properties_json='{"a": {"b": [1, "yes"]}, "_managed_by": "me"}',
                schedule="30 1 * * MON",
            ),
            job("typed", job_type="spark.batch"),
            job("nulltype", job_type=None),
            job("  padded  "),
            job("badprops", properties_json="[1, 2]"),
            job("badcron", schedule="61 * * * *"),
            job("theirs", properties_json='{"_managed_by": "someone-else"}'),
            job("twice"),
            job("twice"),
        ],
        owner="me",
        modeline_url="schema.json",
    )
    assert result.jobs == 1
    assert list(result.files) == ["mirror.yaml"]
    reasons = "\n".join(result.skipped)
    for name in ("typed", "nulltype", "  padded  ", "badprops", "badcron", "theirs", "twice"):
        assert name in reasons
    assert "owned by 'someone-else'" in reasons
    written = write_import(result, tmp_path, force=False)
    specs = load_specs([str(p) for p in written], {})
    assert [(s.job_name, s.properties) for s in specs] == [("good", {"a": {"b": [1, "yes"]}})]


def test_existing_files_are_kept_unless_forced(tmp_path: Path) -> None:
    result = build_import([job("a")], modeline_url="schema.json")
    write_import(result, tmp_path, force=False)
    with pytest.raises(ConfigError, match="refusing to overwrite"):
        write_import(result, tmp_path, force=False)
    assert write_import(result, tmp_path, force=True)


def test_import_writes_references_never_values(tmp_path: Path) -> None:
    result = build_import(
        [
            job(
                "sales-load",
                source="s3://b/${NX1_API_KEY}/",
                properties_json='{"db_password": "hunter2", "tokenizer": "bpe", "n": 1, '
                '"_managed_by": "me", "_sensitive": [["properties", "note"]], "note": "n0te"}',
            ),
            job("pinned", properties_json='{"api_key": 12345}'),
        ],
        owner="me",
        modeline_url="schema.json",
    )
    text = "".join(result.files.values())
    for secret in ("hunter2", "n0te", "12345"):
        assert secret not in text
    assert "s3://b/$${NX1_API_KEY}/" in text
    assert set(result.variables) == {
        "SALES_LOAD_DB_PASSWORD",
        "SALES_LOAD_NOTE",
        "PINNED_PROPERTIES_JSON",
    }
    assert "SALES_LOAD_DB_PASSWORD=\n" in result.files["import-variables.env"]
    written = write_import(result, tmp_path, force=False)
    env = {
        "SALES_LOAD_DB_PASSWORD": "hunter2",
        "SALES_LOAD_NOTE": "n0te",
        "PINNED_PROPERTIES_JSON": '{"api_key": 12345}',
    }
    specs = {
        s.job_name: s for s in load_specs([str(p) for p in written if p.suffix == ".yaml"], env)
    }
    assert specs["sales-load"].source == "s3://b/${NX1_API_KEY}/"
    assert specs["sales-load"].properties == {
        "db_password": "hunter2",
        "tokenizer": "bpe",
        "n": 1,
        "note": "n0te",
    }
    assert specs["pinned"].properties == {"api_key": 12345}


def test_an_environments_import_strips_its_prefix_and_writes_its_vars() -> None:
    vars = {"bucket": "s3://dev-raw", "lake": "s3://dev-raw/lake", "region": "eu"}
    result = build_import(
        [
            job("dev-a", source="s3://dev-raw/lake/x", destination="s3://dev-rawish"),
            job("dev-b", source="eu", properties_json='{"where": "s3://dev-raw", "n": "${x}"}'),
            job("prod-c", source="s3://dev-raw"),
            job("dev-", source="s3://dev-raw"),
        ],
        strip_prefix="dev-",
        vars=vars,
    )
    text = result.files["mirror.yaml"]
    assert result.jobs == 2
    assert "job_name: a\n" in text and "job_name: b\n" in text and "prod-c" not in text
    assert "source: ${var.lake}/x\n" in text  # the longest var that fits
    assert "destination: s3://dev-rawish\n" in text  # a var ends at a /
    assert "source: ${var.region}\n" in text
    assert "where: ${var.bucket}\n" in text and "n: $${x}\n" in text


def test_a_protected_job_is_imported_with_protect_true(tmp_path: Path) -> None:
    marker = '{"_managed_by": "me", "_protected": true, "n": 1}'
    result = build_import([job("keep", properties_json=marker)], owner="me")
    written = write_import(result, tmp_path, force=False)
    (spec,) = load_specs([str(p) for p in written if p.suffix == ".yaml"], {})
    assert (spec.protect, spec.properties) == (True, {"n": 1})
