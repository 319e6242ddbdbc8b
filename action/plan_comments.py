"""The one plan comment per pull request, environment and path set (``action/run.py``).

Each comment starts with a hidden marker naming what it plans: ``<!-- reconciler-plan -->``
for the default, ``<!-- reconciler-plan env=prod paths=jobs -->`` for an environment or a
path set of their own, so two plans on one pull request keep two comments. A comment is
ours to update only when it was written by the token's own identity and starts with our
marker: a reviewer who quotes the marker in a comment of their own never has it
overwritten.

Who the token is: ``GET /user`` names the user of a personal or fine-grained token. An
app installation token (the workflow's ``GITHUB_TOKEN``, or one made for a GitHub App)
gets 403 "Resource not accessible by integration" there; its comments are written by
``<app>[bot]`` (``github-actions[bot]`` for ``GITHUB_TOKEN``), and which app it is cannot
be asked. Then a comment by any bot account (no person's login ends in ``[bot]``) that
starts with our marker is a candidate, and the first one this token may edit is ours;
when it may edit none, a new comment is made.

``post_comment`` does all of that with the run's token; a failure is a warning in the
log, never the step's failure.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx

# The renderer's budget sits below GitHub's hard limit of 65,536 characters a comment;
# cutting every report at the same budget keeps any comment within GitHub's limit, so
# the action needs no limit of its own.
from reconciler.render.markdown import LIMIT as COMMENT_LIMIT
from reconciler.render.markdown import MARKER

if TYPE_CHECKING:
    from step import Context, Inputs

# The author of every comment made with a workflow's GITHUB_TOKEN.
ACTIONS_BOT = "github-actions[bot]"
# token_login() of an app installation token: some bot, which one is not known.
SOME_APP = "[bot]"


def comment_marker(environment: str = "", paths: Sequence[str] = ()) -> str:
    """The hidden marker of the comment for one environment and path set.

    Paths are compared as sets of normalised paths (``./jobs/`` is ``jobs``), so the
    order or spelling of the input does not start a second comment.
    """
    parts = []
    if environment:
        parts.append(f"env={quote(environment, safe='')}")
    normal = sorted({posixpath.normpath(p.replace("\\", "/")) for p in paths})
    if normal:
        parts.append("paths=" + ",".join(quote(p, safe="/") for p in normal))
    if not parts:
        return MARKER
    return MARKER.removesuffix(" -->") + " " + " ".join(parts) + " -->"


def with_marker(report: str, marker: str) -> str:
    """The report with ``marker`` as its first line (replacing the plain one)."""
    first, sep, rest = report.partition("\n")
    if first.strip() == MARKER:
        return f"{marker}\n{rest}" if sep else marker
    return f"{marker}\n{report}"


def comment_body(report: str, marker: str = MARKER) -> str:
    """The report with the marker first, within the comment size budget."""
    body = with_marker(report, marker)
    if len(body) > COMMENT_LIMIT:
        note = "\n\n[cut: the plan is longer than a comment may be; see the job summary]\n"
        body = body[: COMMENT_LIMIT - len(note)] + note
    return body


def token_login(client: httpx.Client) -> str:
    """The login of the token's own identity (see the module docstring)."""
    response = client.get("/user")
    if response.status_code == 403:
        return SOME_APP
    response.raise_for_status()
    login = response.json().get("login")
    if not isinstance(login, str) or not login:
        raise httpx.HTTPStatusError(
            "GET /user named no login", request=response.request, response=response
        )
    return login


def is_ours(comment: dict[str, Any], login: str, marker: str) -> bool:
    """Written by us for this marker: our identity, and the marker as its first line."""
    user = comment.get("user") or {}
    body = comment.get("body") or ""
    author = user.get("login")
    if login == SOME_APP:
        by_us = isinstance(author, str) and author.endswith(SOME_APP) and user.get("type") == "Bot"
    else:
        by_us = author == login
    return by_us and body.partition("\n")[0].strip() == marker


class CommentsApi:
    """The issue-comments endpoints of the GitHub REST API, for one repository."""

    def __init__(self, client: httpx.Client, repository: str) -> None:
        self._client = client
        self._repo = repository

    def find(self, number: int, login: str, marker: str) -> list[int]:
        """The ids of the comments on the pull request that are ours for ``marker``,
        oldest first (for an app token: every bot's, see the module docstring)."""
        url: str | None = f"/repos/{self._repo}/issues/{number}/comments"
        params: dict[str, Any] | None = {"per_page": 100}
        found = []
        while url:
            response = self._client.get(url, params=params)
            response.raise_for_status()
            found += [int(c["id"]) for c in response.json() if is_ours(c, login, marker)]
            url = response.links.get("next", {}).get("url")
            params = None  # the next link carries its own query
        return found

    def upsert(self, number: int, body: str, marker: str) -> tuple[str, int]:
        """Update our comment for ``marker``, or create it; ("updated"|"created", id)."""
        login = token_login(self._client)
        for existing in self.find(number, login, marker):
            response = self._client.patch(
                f"/repos/{self._repo}/issues/comments/{existing}", json={"body": body}
            )
            if login == SOME_APP and response.status_code == 403:
                continue  # another app's comment: not ours to edit
            response.raise_for_status()
            return "updated", existing
        response = self._client.post(
            f"/repos/{self._repo}/issues/{number}/comments", json={"body": body}
        )
        response.raise_for_status()
        return "created", int(response.json()["id"])


def github_client(ctx: Context, token: str) -> httpx.Client:
    """An httpx client for the GitHub REST API with the run's token."""
    return httpx.Client(
        base_url=ctx.api_url,
        headers={
            "Authorization": f"Bearer {token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": "reconciler-action",
        },
        timeout=30.0,
    )


def post_comment(inputs: Inputs, ctx: Context, report: str) -> None:
    """Create or update the one plan comment; a failure is a warning, not an error."""
    if ctx.pr_number is None or not ctx.repository:
        return
    if not inputs.token:
        print("::warning::no github-token, so no pull request comment", flush=True)
        return
    try:
        with github_client(ctx, inputs.token) as client:
            marker = inputs.marker
            how, comment_id = CommentsApi(client, ctx.repository).upsert(
                ctx.pr_number, comment_body(report, marker), marker
            )
    except httpx.HTTPStatusError as exc:
        status = exc.response.status_code
        hint = ""
        if status in (403, 404):
            hint = (
                " (a fork's token is read-only)"
                if ctx.is_fork
                else " (give the job `permissions: pull-requests: write`)"
            )
        print(f"::warning::could not comment on the pull request: HTTP {status}{hint}")
        return
    except httpx.HTTPError as exc:
        print(f"::warning::could not comment on the pull request: {type(exc).__name__}")
        return
    print(f"{how.capitalize()} the plan comment {comment_id} on #{ctx.pr_number}.", flush=True)
