"""The AIMD limiter on its own, and shared by a client under many threads."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.api.auth import RetryPolicy
from reconciler.api.client import NX1Client
from reconciler.api.throttle import AimdLimiter, Outcome
from tests.api.client_fakes import FakeApi, make_client, payload, psk_settings


def finish(limiter: AimdLimiter, outcome: Outcome, count: int = 1) -> None:
    for _ in range(count):
        slot = limiter.acquire()
        slot.outcome = outcome
        limiter.release(slot)


def test_starts_at_initial_capped_by_max() -> None:
    assert AimdLimiter(8).limit == 4
    assert AimdLimiter(2).limit == 2
    assert AimdLimiter(1).limit == 1
    with pytest.raises(ValueError):
        AimdLimiter(0)


def test_slow_start_adds_a_place_per_success_until_the_first_throttle() -> None:
    limiter = AimdLimiter(32, initial=4)
    finish(limiter, Outcome.SUCCESS, 10)
    assert limiter.limit == 14
    finish(limiter, Outcome.THROTTLED)
    assert limiter.limit == 7
    finish(limiter, Outcome.SUCCESS, 6)
    assert limiter.limit == 7  # additive from now on: one per window of 7
    finish(limiter, Outcome.SUCCESS)
    assert limiter.limit == 8


def test_grows_by_one_per_window_up_to_max() -> None:
    limiter = AimdLimiter(6, initial=4)
    finish(limiter, Outcome.THROTTLED)  # leave slow start: 4 -> 2
    finish(limiter, Outcome.SUCCESS, 2)
    assert limiter.limit == 3
    finish(limiter, Outcome.SUCCESS, 3)
    assert limiter.limit == 4
    finish(limiter, Outcome.SUCCESS, 3)
    assert limiter.limit == 4
    finish(limiter, Outcome.SUCCESS)
    assert limiter.limit == 5
    finish(limiter, Outcome.SUCCESS, 5)
    assert limiter.limit == 6
    finish(limiter, Outcome.SUCCESS, 100)
    assert limiter.limit == 6


def test_fixed_increase_step() -> None:
    limiter = AimdLimiter(10, initial=2, increase_after=1)
    finish(limiter, Outcome.SUCCESS, 3)
    assert limiter.limit == 5


def test_neutral_outcomes_change_nothing() -> None:
    limiter = AimdLimiter(8)
    finish(limiter, Outcome.NEUTRAL, 50)
    assert limiter.limit == 4


def test_halves_on_throttle_down_to_min() -> None:
    limiter = AimdLimiter(32, initial=16)
    finish(limiter, Outcome.THROTTLED)
    assert limiter.limit == 8
    finish(limiter, Outcome.THROTTLED, 10)
    assert limiter.limit == 1
    assert limiter.stats().decreases == 4  # 16 -> 8 -> 4 -> 2 -> 1


def test_a_burst_of_throttles_from_one_window_halves_once() -> None:
    limiter = AimdLimiter(16, initial=8)
    slots = [limiter.acquire() for _ in range(8)]
    for slot in slots:
        slot.outcome = Outcome.THROTTLED
        limiter.release(slot)
    assert limiter.limit == 4
    assert limiter.stats().in_flight == 0


def test_never_more_in_flight_than_the_limit() -> None:
    limiter = AimdLimiter(3, initial=3)
    current = 0
    peak = 0
    lock = threading.Lock()

    def work() -> None:
        nonlocal current, peak
        with limiter.slot():
            with lock:
                current += 1
                peak = max(peak, current)
            time.sleep(0.005)
            with lock:
                current -= 1

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda _: work(), range(60)))
    assert peak == 3
    assert limiter.stats().peak_in_flight == 3


def test_client_grows_concurrency_while_the_server_keeps_up() -> None:
    api = FakeApi()
    with make_client(api, parallelism=12) as client, ThreadPoolExecutor(12) as pool:
        list(pool.map(lambda i: client.create_job(payload(f"job-{i}")), range(150)))
    stats = client.limiter.stats()
    assert stats.limit == 12
    assert stats.decreases == 0
    assert len(api.live()) == 150


def run_against_a_server_taking_two(limiter: AimdLimiter) -> tuple[int, int]:
    """80 calls from 8 threads; returns (answers 429, answers 200)."""
    in_flight = 0
    counts = {429: 0, 200: 0}
    lock = threading.Lock()

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight
        with lock:
            in_flight += 1
            status = 429 if in_flight > 2 else 200
            counts[status] += 1
        try:
            time.sleep(0.005)
            if status == 429:
                return httpx.Response(429, headers={"Retry-After": "0"})
            return httpx.Response(200, json=[])
        finally:
            with lock:
                in_flight -= 1

    patient = RetryPolicy(attempts=200, deadline_s=30, wait_initial_s=0.001, wait_max_s=0.005)
    transport = httpx.MockTransport(handler)
    client = NX1Client(psk_settings(patient), limiter=limiter, transport=transport)
    with client, ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: client.list_jobs(), range(80)))
    return counts[429], counts[200]


def test_client_backs_off_on_429() -> None:
    adaptive = AimdLimiter(8, initial=8)
    throttled, answered = run_against_a_server_taking_two(adaptive)
    stats = adaptive.stats()
    assert answered == 80
    assert stats.decreases >= 1
    # Eight threads at a server taking two: without backing off most answers would be 429s.
    assert throttled < answered, (throttled, stats)


@given(
    max_limit=st.integers(1, 64),
    initial=st.integers(1, 64),
    outcomes=st.lists(st.sampled_from(list(Outcome)), max_size=200),
)
def test_limit_stays_within_bounds(max_limit: int, initial: int, outcomes: list[Outcome]) -> None:
    limiter = AimdLimiter(max_limit, initial=initial)
    for outcome in outcomes:
        finish(limiter, outcome)
        assert 1 <= limiter.limit <= max_limit
    assert limiter.stats().in_flight == 0
