"""A pull request edits reconciler.yaml: it must never pair one environment's credential
with another environment's URL (RELIABILITY.md, threat model)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.api.settings import api_settings_from_env
from reconciler.errors import ConfigError, ReconcilerError
from reconciler.settings.configfile import load_config
from reconciler.settings.resolve import resolve

# What the operator set up: two groups, each a host with its own key, and the standard
# names for a third tenant.
SHELL = {
    "NX1_HOST": "https://aiapi.acme-qa.nx1cloud.com",
    "NX1_API_KEY": "psk-qa",
    "NX1_HOST_DEV": "https://aiapi.acme-dev.nx1cloud.com",
    "NX1_API_KEY_DEV": "psk-dev",
    "NX1_HOST_PROD": "https://aiapi.acme.nx1cloud.com",
    "NX1_API_KEY_PROD": "psk-prod",
}
GROUP_OF_KEY = {"psk-qa": "", "psk-dev": "_DEV", "psk-prod": "_PROD"}
URLS = [SHELL[k] for k in ("NX1_HOST", "NX1_HOST_DEV", "NX1_HOST_PROD")]
URLS += ["https://evil.example", "http://127.0.0.1:9"]
SUFFIXES = ["", "_DEV", "_PROD", "_OTHER"]


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    host_suffix=st.none() | st.sampled_from(SUFFIXES),
    key_suffix=st.none() | st.sampled_from(SUFFIXES),
    file_url=st.none() | st.sampled_from(URLS),
    top_url=st.none() | st.sampled_from(URLS),
    flag_url=st.none() | st.sampled_from(URLS),
    shell_host=st.sampled_from([None, *URLS]),
)
def test_a_credential_only_ever_goes_to_the_host_of_its_own_group(
    tmp_path: Path,
    host_suffix: str | None,
    key_suffix: str | None,
    file_url: str | None,
    top_url: str | None,
    flag_url: str | None,
    shell_host: str | None,
) -> None:
    lines = [f"api_url: {top_url}"] if top_url else []
    lines += ["environments:", "  dev:"]
    if host_suffix is not None:
        lines.append(f"    host_env: NX1_HOST{host_suffix}")
    if key_suffix is not None:
        lines.append(f"    api_key_env: NX1_API_KEY{key_suffix}")
    if file_url:
        lines.append(f"    api_url: {file_url}")
    lines.append("    owner: dev-team")
    (tmp_path / "reconciler.yaml").write_text("\n".join(lines) + "\n")
    env = dict(SHELL)
    if shell_host is None:
        del env["NX1_HOST"]
    else:
        env["NX1_HOST"] = shell_host
    try:
        config = load_config({"RECONCILER_CONFIG": str(tmp_path / "reconciler.yaml")})
        run = resolve({"env": "dev", "api_url": flag_url}, env, config)
        suffix = run.environment.suffix if run.environment else ""
        api = api_settings_from_env(env, run.api_url, suffix=suffix)
    except ReconcilerError:
        return  # refused, in one line: nothing was sent anywhere
    (key,) = api.credential.secrets()
    group = GROUP_OF_KEY[key]
    if group:
        # A key of an environment's own group goes to that group's host and nowhere else.
        assert api.base_url == SHELL["NX1_HOST" + group]
    else:
        # The standard key goes where the operator said (--api-url, NX1_HOST), or to a
        # loopback URL of the file when the operator said nothing.
        allowed = {flag_url, env.get("NX1_HOST")}
        if not flag_url and not env.get("NX1_HOST"):
            allowed.add("http://127.0.0.1:9")
        assert api.base_url in allowed


def test_a_config_naming_another_groups_key_beside_its_host_is_refused(tmp_path: Path) -> None:
    (tmp_path / "reconciler.yaml").write_text(
        "environments:\n  dev:\n    host_env: NX1_HOST_DEV\n    api_key_env: NX1_API_KEY_PROD\n"
    )
    config_env = {"RECONCILER_CONFIG": str(tmp_path / "reconciler.yaml")}
    with pytest.raises(ReconcilerError, match="different groups"):
        load_config(config_env)


def test_an_environment_cannot_name_a_variable_that_is_not_reconcilers(tmp_path: Path) -> None:
    for name in ("GITHUB_TOKEN", "NX1_API_KEYS", "NX1_API_KEY_prod", "NX1_API_KEY_"):
        (tmp_path / "reconciler.yaml").write_text(f"environments:\n  dev:\n    token_env: {name}\n")
        with pytest.raises(ReconcilerError, match="reads only its own variables"):
            load_config({"RECONCILER_CONFIG": str(tmp_path / "reconciler.yaml")})


def test_no_environment_settings_change_where_the_standard_key_goes(tmp_path: Path) -> None:
    (tmp_path / "reconciler.yaml").write_text(
        "environments:\n  dev:\n    api_url: https://evil.example\n    owner: d\n"
    )
    config = load_config({"RECONCILER_CONFIG": str(tmp_path / "reconciler.yaml")})
    with pytest.raises(ConfigError, match="never the wrong tenant"):
        resolve({"env": "dev"}, SHELL, config)
    without_host = {k: v for k, v in SHELL.items() if k != "NX1_HOST"}
    with pytest.raises(ConfigError, match="set NX1_HOST"):
        resolve({"env": "dev"}, without_host, config)
