"""The pipeline end to end: load -> validate -> fetch -> plan; and apply on top.

Each stage lives in its own module; this one only wires them together for the CLI,
in the order that makes bad input cost nothing: specs and settings are checked
before the first request to the API.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler.api.fetch import Fetch
from reconciler.api.settings import ApiSettings
from reconciler.errors import ConfigError
from reconciler.masks import secret_values, shown_secrets
from reconciler.model import JobSpec
from reconciler.plan.diff import Plan, make_plan
from reconciler.plan.select import Selection
from reconciler.render.common import RenderOptions
from reconciler.sensitive import Sensitivity, marked_as_live
from reconciler.settings import Policy

if TYPE_CHECKING:
    from reconciler.api.answers import Answer
    from reconciler.api.throttle import AimdLimiter
    from reconciler.apply import ActionResult, ApplyResult
    from reconciler.plan.saved import SavedPlan
    from reconciler.plan.split import Loading
    from reconciler.specs.interpolate import Target


@dataclass(frozen=True, slots=True)
class PlanRequest:
    paths: tuple[str, ...]
    policy: Policy
    api: ApiSettings
    sensitivity: Sensitivity = field(default_factory=Sensitivity)
    # None: adaptive, from DEFAULT_PARALLELISM up to MAX_PARALLELISM while the API keeps
    # up; a number: a fixed cap (still lowered for a while when the API pushes back).
    parallelism: int | None = None
    # Signs saved plans and keys the fingerprints in them (plan.saved.plan_key).
    plan_key: bytes = field(default=b"", repr=False)
    # The chosen environment (its vars, overrides, prefix); None without environments.
    target: Target | None = None
    selection: Selection = field(default_factory=Selection)
    # The spec paths of reconciler.yaml (or the default): a prune of other paths must
    # be confined with a selection. None: not checked (a caller that chose its paths).
    configured_paths: tuple[str, ...] | None = None
    # Seconds apply waits for a running job before deleting it (0: skip it at once).
    wait_running: float = 0.0
    # The plan is only shown, as text or markdown: quiet unchanged jobs may be counted
    # rather than kept, and the plan made in shares where each was loaded (plan/split.py).
    compact: bool = False
    # The spec files already being loaded for a compact plan (plan.split.start_loading).
    loading: Loading | None = field(default=None, compare=False, repr=False)


DEFAULT_PARALLELISM = 8
# As high as --parallelism goes: on a kept connection (api/wire.py) a create costs the
# client so little CPU that one core keeps 64 in flight against an API that answers in
# tens of milliseconds; the limiter halves it as soon as the server pushes back.
MAX_PARALLELISM = 64


def limiter_for(parallelism: int | None) -> AimdLimiter:
    from reconciler.api.throttle import AimdLimiter

    if parallelism is None:
        return AimdLimiter(MAX_PARALLELISM, initial=DEFAULT_PARALLELISM)
    return AimdLimiter(parallelism, initial=parallelism)


@dataclass(frozen=True, slots=True)
class PlanOutcome:
    plan: Plan
    # Every spec, for apply; empty for a compact plan (PlanRequest.compact).
    specs: tuple[JobSpec, ...]
    render: RenderOptions


def render_options(
    request: PlanRequest, now: datetime, named: Sequence[str], env: Mapping[str, str]
) -> RenderOptions:
    """How a plan is shown. Every output masks the ``named`` secret values of the specs
    (``secret_values(named=True)``), and those of the environment and the credential,
    wherever a server put them (``masks.shown_secrets``)."""
    credential = request.api.credential.secrets()
    values = shown_secrets(named, env, request.sensitivity, credential)
    return RenderOptions(
        sensitivity=replace(request.sensitivity, values=values),
        api_url=request.api.base_url,
        now=now,
        environment=request.target.name if request.target else None,
    )


def masked_names_noted(plan: Plan, options: RenderOptions) -> Plan:
    """The plan with a warning when job names hold a secret value: they show masked, and
    a reviewer must know that a "(sensitive)" name stands for a job (a pull request
    could name a secret after a job to hide it)."""
    scrub = options.sensitivity.scrub
    names = [c.job_name for c in plan.changes] + [i.job_name for i in plan.ignored]
    masked = sum(1 for name in names if scrub(name) != name)
    if not masked:
        return plan
    warning = (
        f"{masked} job name(s) hold a secret value and show as (sensitive): find them "
        "by their file and line or their id, and check that no spec declares a job's "
        "name (or part of one) as a secret"
    )
    return replace(plan, warnings=(*plan.warnings, warning))


def build_plan(request: PlanRequest, env: Mapping[str, str]) -> PlanOutcome:
    """Specs and the live jobs (one list request) into a Plan."""
    try:
        return _build_plan(request, env)
    finally:
        if request.loading is not None:
            request.loading.close()


def _build_plan(request: PlanRequest, env: Mapping[str, str]) -> PlanOutcome:
    from reconciler.plan.select import check_patterns, confined

    check_patterns(request.selection)
    configured = request.configured_paths
    scoped = configured is not None and not confined(request.paths, configured)
    if request.policy.prune and not request.selection and scoped:
        raise ConfigError(
            f"--prune with the paths {' '.join(request.paths)} (not the configured "
            f"{' '.join(configured or ())}) would delete the jobs of every spec file left "
            "out: confine it with --select (a job_name glob or type:GLOB; prune deletes only "
            "the jobs of ours it matches), or plan the configured paths"
        )
    if request.compact:
        from reconciler.plan.split import split_plan

        outcome = split_plan(request, env, lambda answer: _plan_here(request, env, answer))
        if outcome is not None:
            return outcome
    return _plan_here(request, env)


def _plan_here(
    request: PlanRequest, env: Mapping[str, str], answer: Answer | None = None
) -> PlanOutcome:
    """The whole plan made in this process; ``answer``: the list answer already read."""
    from reconciler.plan.crowding import crowded_minutes
    from reconciler.specs.parallel import untraced_from_now
    from reconciler.specs.validate import load_specs

    fetch = Fetch(request.api, answer)
    try:
        specs = load_specs(
            list(request.paths),
            env,
            allow_empty=request.policy.allow_empty,
            target=request.target,
            sensitivity=request.sensitivity,
        )
        # Each spec carries every path that is secret by its origin or a pattern
        # (sensitive.py), and no message about the list request shows those values ...
        specs = [request.sensitivity.mark(spec) for spec in specs]
        untraced_from_now()
        secrets = secret_values(specs)
        fetch.start(secrets)  # only now: bad input never costs a request
        now = datetime.now(UTC)
        remote = fetch.result()
    finally:
        fetch.close()
    # ... and every path its live job's marker records as secret: from here on every
    # output reads one answer from the spec.
    specs = marked_as_live(specs, remote)
    warnings = tuple(crowded_minutes(specs, now))
    plan = make_plan(specs, remote, request.policy, request.selection)
    plan = replace(plan, warnings=warnings)
    named = secret_values(specs, sensitivity=request.sensitivity, named=True)
    options = render_options(request, now, named, env)
    return PlanOutcome(masked_names_noted(plan, options), tuple(specs), options)


def save_plan(outcome: PlanOutcome, paths: Sequence[str], out: Path, key: bytes) -> None:
    from reconciler.plan.saved import saved_document, write_saved

    write_saved(out, saved_document(outcome.plan, outcome.render, list(paths), key))


def plan_from_saved(saved: SavedPlan, request: PlanRequest, env: Mapping[str, str]) -> PlanOutcome:
    """Plan again from the saved paths and policy; keep only what was reviewed."""
    from reconciler.plan.saved import reviewed_plan

    check_environment(saved.environment, request)
    if saved.api_url != request.api.base_url:
        raise ConfigError(
            f"the saved plan was made against {saved.api_url}, not {request.api.base_url}"
        )
    if request.selection and request.selection != saved.selection:
        raise ConfigError(
            "--select/--exclude differ from the saved plan's selection "
            f"({_shown(saved.selection)}): a saved plan applies the jobs it selected; make "
            "a new plan instead"
        )
    fresh = build_plan(
        replace(
            request,
            paths=tuple(saved.paths),
            policy=saved.policy,
            selection=saved.selection,
            configured_paths=None,  # judged when the plan was made
        ),
        env,
    )
    reviewed = reviewed_plan(saved, fresh.plan, fresh.render, request.plan_key)
    return PlanOutcome(reviewed, fresh.specs, fresh.render)


def check_environment(saved: str | None, request: PlanRequest) -> None:
    """A saved plan is applied only to the environment it was planned for. Also called
    before its signature is checked (the key may be the other environment's credential,
    and a wrong --env is the likelier mistake than a changed file)."""
    environment = request.target.name if request.target else None
    if saved != environment:
        raise ConfigError(
            f"the saved plan was made for {_env_words(saved)}, not for "
            f"{_env_words(environment)}: apply it with the --env it was planned with"
        )


def _env_words(name: str | None) -> str:
    return f"environment {name}" if name else "no environment"


def _shown(selection: Selection) -> str:
    parts = [f"--select {p}" for p in selection.select]
    parts += [f"--exclude {p}" for p in selection.exclude]
    return " ".join(parts) or "everything"


def run_apply(
    outcome: PlanOutcome,
    request: PlanRequest,
    *,
    fail_fast: bool = False,
    on_result: Callable[[ActionResult], None] | None = None,
) -> ApplyResult:
    """Carry out a plan; refuses before any write when the plan breaks a safety rule."""
    from reconciler.api.client import NX1Client
    from reconciler.apply import apply_plan, check_allowed
    from reconciler.apply.settle import settle
    from reconciler.specs.parallel import untraced_from_now

    check_allowed(outcome.plan)
    limiter = limiter_for(request.parallelism)
    from reconciler.masks import secret_values

    live = [job for change in outcome.plan.changes for job in change.remote]
    secrets = secret_values(outcome.specs, live, request.sensitivity)
    untraced_from_now()  # the plan, as shown; the specs are already
    with NX1Client(request.api, limiter=limiter, secrets=secrets) as client:
        applied = apply_plan(
            outcome.plan,
            client,
            parallelism=limiter.max_limit,
            fail_fast=fail_fast,
            wait_running=request.wait_running,
            on_result=on_result,
        )
        # Runs started at the same moment may have created the same jobs: list again and
        # keep the earliest copy of each (apply/settle.py).
        return settle(
            outcome.plan,
            outcome.specs,
            applied,
            client,
            parallelism=limiter.max_limit,
            on_result=on_result,
        )
