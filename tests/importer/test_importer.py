from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.api.remote import RemoteJob, remote_job_from_api
from reconciler.errors import ConfigError
from reconciler.importer import build_import, write_import
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
