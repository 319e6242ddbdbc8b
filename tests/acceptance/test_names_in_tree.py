"""`validate --names-in-tree` (the pre-commit hook's check) and spec suffixes in any case."""

from __future__ import annotations

from pathlib import Path

from tests.acceptance.conftest import Runner, write_jobs

A = "jobs:\n  - job_name: sales-daily\n    job_type: airflow.dataeng\n"
B = "jobs:\n  - job_name: other\n    job_type: mirror\n  - job_name: sales-daily\n    job_type: mirror\n"
BROKEN = "jobs:\n  - job_name: broken\n    job_type: nope\n"


def test_a_staged_file_reusing_a_name_of_the_tree_fails(reconcile: Runner, tmp_path: Path) -> None:
    write_jobs(tmp_path / "jobs" / "a.yaml", A)
    write_jobs(tmp_path / "jobs" / "b.yaml", B)

    alone = reconcile("validate", "jobs/b.yaml")
    in_tree = reconcile("validate", "--names-in-tree", "jobs/b.yaml")

    assert alone.code == 0  # what the hook used to see: b.yaml on its own is fine
    assert in_tree.code == 1
    assert in_tree.err == (
        "jobs/b.yaml:4:15: $.jobs[1].job_name: job_name 'sales-daily' is also used at jobs/a.yaml:2\n"
    )
    assert in_tree.out == "1 problem in 1 file (2 jobs in 1 file checked).\n"


def test_the_tree_is_read_for_names_only_and_follows_reconciler_yaml(
    reconcile: Runner, tmp_path: Path
) -> None:
    (tmp_path / "reconciler.yaml").write_text("paths: [specs]\n", encoding="utf-8")
    write_jobs(tmp_path / "specs" / "a.yaml", A)
    write_jobs(tmp_path / "specs" / "broken.yaml", BROKEN)  # not staged: not reported
    write_jobs(tmp_path / "specs" / "new.yaml", "jobs:\n  - job_name: new\n    job_type: mirror\n")

    clean = reconcile("validate", "--names-in-tree", "specs/new.yaml")
    clash = reconcile("validate", "--names-in-tree", "./specs/new.yaml", "specs/b.yaml")

    assert clean.code == 0, clean.err
    assert clean.out == "1 job in 1 file is valid.\n"
    assert clash.code == 1
    assert "specs/b.yaml" in clash.err  # the missing file is still a problem of PATHs
    assert "broken" not in clash.err


def test_spec_suffixes_match_in_any_case(reconcile: Runner, tmp_path: Path) -> None:
    write_jobs(tmp_path / "jobs" / "A.YAML", A)
    write_jobs(tmp_path / "jobs" / "b.Yml", B)

    done = reconcile("validate", "jobs")

    assert done.code == 1
    assert "jobs/A.YAML:2:15" in done.err and "jobs/b.Yml:4:15" in done.err


def test_a_tree_that_does_not_exist_is_an_error_not_a_pass(
    reconcile: Runner, tmp_path: Path
) -> None:
    """Nested jobs/ directories match the hook, but the tree defaults to ./jobs: a
    missing tree would check no names and pass what validate fails."""
    write_jobs(tmp_path / "platform" / "jobs" / "b.yaml", B)

    missing = reconcile("validate", "--names-in-tree", "platform/jobs/b.yaml")
    (tmp_path / "reconciler.yaml").write_text("paths: [nowhere]\n", encoding="utf-8")
    named = reconcile("validate", "--names-in-tree", "platform/jobs/b.yaml")

    assert missing.code == 1
    assert missing.err == (
        "error: --names-in-tree: the spec tree jobs does not exist; "
        "name the spec paths in reconciler.yaml (paths: [...])\n"
    )
    assert named.code == 1 and "the spec tree nowhere does not exist" in named.err
