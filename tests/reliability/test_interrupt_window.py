"""Ctrl-C at any moment of an apply, not only while it waits for a result.

The subprocess test (test_killed_runs) almost always lands its SIGINT while the main thread
waits; here a real SIGINT is raised while the main thread reports a result, the window
where a KeyboardInterrupt used to escape apply_plan: no summary, and what was done lost.
"""

from __future__ import annotations

import signal
import threading
import time
from typing import Any

import pytest

from reconciler.apply import ActionResult, ApplyResult, apply_plan
from reconciler.model import JobSpec, RemoteJob
from reconciler.plan.diff import make_plan
from reconciler.settings import Policy
from tests.plan.fakeapi import FakeApi

JOBS = 30
PARALLELISM = 3


class SlowApi(FakeApi):
    def create_job(self, payload: dict[str, Any], *, ignore_ids: Any = ()) -> RemoteJob:
        time.sleep(0.01)  # long enough for several creates to be in flight at once
        return super().create_job(payload)


def _apply_with_sigint_at(moment: int) -> tuple[ApplyResult, SlowApi, list[str]]:
    api = SlowApi()
    specs = [JobSpec(f"j{i:02d}", "mirror") for i in range(JOBS)]
    plan = make_plan(specs, [], Policy(owner="rel"))
    reported: list[str] = []

    def on_result(result: ActionResult) -> None:
        reported.append(result.job_name)
        if len(reported) == moment:
            signal.raise_signal(signal.SIGINT)  # Ctrl-C while the main thread reports

    try:
        result = apply_plan(plan, api, parallelism=PARALLELISM, on_result=on_result)
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C escaped apply_plan: no report of what was done")
    return result, api, reported


@pytest.mark.skipif(
    threading.current_thread() is not threading.main_thread(),
    reason="signals reach only the main thread",
)
@pytest.mark.parametrize("moment", [1, 10])
def test_ctrl_c_while_reporting_still_reports_and_starts_nothing_new(moment: int) -> None:
    previous = signal.getsignal(signal.SIGINT)
    result, api, reported = _apply_with_sigint_at(moment)
    assert signal.getsignal(signal.SIGINT) is previous  # the handler is put back
    assert result.interrupted
    # Every create that happened is reported; only those in flight finished after the signal.
    assert len(result.results) == api.writes == len(reported)
    assert moment <= api.writes <= moment + PARALLELISM
    assert len(result.not_started) == JOBS - api.writes
