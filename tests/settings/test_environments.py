"""environments: in reconciler.yaml: one more layer of settings, and where credentials go."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reconciler.api.auth import credential_from_env, credential_secrets
from reconciler.errors import ConfigError, SpecError
from reconciler.settings import SETTINGS
from reconciler.settings.configfile import load_config
from reconciler.settings.resolve import resolve


def _config(tmp_path: Path, text: str) -> dict[str, Any]:
    path = tmp_path / "reconciler.yaml"
    path.write_text(text)
    return load_config({"RECONCILER_CONFIG": str(path)})


def _problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(SpecError) as info:
        _config(tmp_path, text)
    return [str(p).split("reconciler.yaml:", 1)[1] for p in info.value.problems]


LOOPBACK = "http://127.0.0.1:8080"


def test_flag_beats_env_var_beats_environment_beats_top_level(tmp_path: Path) -> None:
    config = _config(
        tmp_path,
        "owner: top\nmax_deletes: 7\nenvironments:\n  prod:\n    owner: env-owner\n"
        "    max_deletes: 3\n  dev: {}\n",
    )
    prod = resolve({"env": "prod"}, {}, config, offline=True)
    assert (prod.policy.owner, prod.policy.max_deletes) == ("env-owner", 3)
    assert resolve({"env": "dev"}, {}, config, offline=True).policy.owner == "top"
    by_var = resolve({"env": "prod"}, {"RECONCILER_OWNER": "from-env"}, config, offline=True)
    assert by_var.policy.owner == "from-env"
    by_flag = resolve({"env": "prod", "max_deletes": 1}, {}, config, offline=True)
    assert by_flag.policy.max_deletes == 1
    chosen = resolve({}, {"RECONCILER_ENV": "prod"}, config, offline=True)
    assert chosen.environment is not None and chosen.environment.name == "prod"


def test_every_setting_may_be_set_per_environment(tmp_path: Path) -> None:
    values = {
        "api_url": f'"{LOOPBACK}"',
        "owner": "o",
        "paths": "[specs]",
        "allow_replace": "true",
        "prune": "true",
        "adopt": "true",
        "allow_empty": "true",
        "max_deletes": "2",
        "max_delete_share": "0.5",
        "max_replaces": "3",
        "sensitive_patterns": "[dsn]",
        "name_prefix": "dev-",
        "pause_schedules": "true",
        "parallelism": "4",
    }
    assert set(values) == {s.name for s in SETTINGS}, "a new setting needs a line here"
    block = "".join(f"    {k}: {v}\n" for k, v in values.items())
    settings = resolve({"env": "e"}, {}, _config(tmp_path, f"environments:\n  e:\n{block}"))
    assert settings.api_url == LOOPBACK
    assert settings.paths == ("specs",)
    assert settings.policy.max_delete_share == 0.5 and settings.policy.max_replaces == 3
    assert settings.policy.prune and settings.pause_schedules
    assert (settings.name_prefix, settings.parallelism) == ("dev-", 4)


def test_patterns_of_an_environment_add_to_the_top_level_ones(tmp_path: Path) -> None:
    config = _config(
        tmp_path, "sensitive_patterns: [dsn]\nenvironments:\n  e:\n    sensitive_patterns: [conn]\n"
    )
    assert resolve({"env": "e"}, {}, config, offline=True).sensitive_patterns == ("dsn", "conn")


def test_bad_environment_blocks_are_problems_at_their_place(tmp_path: Path) -> None:
    problems = _problems(
        tmp_path,
        "environments:\n"
        "  prod:\n"
        "    ownr: x\n"
        "    max_deletes: many\n"
        "    vars:\n"
        "      retries: 3\n"
        "      1bad: x\n"
        "    api_key_env: GITHUB_TOKEN\n"
        "  bad name: {}\n"
        "  dev:\n"
        "    api_key_env: NX1_API_KEY_DEV\n"
        "    token_env: NX1_TOKEN_PROD\n",
    )
    assert problems == [
        "3:5: $.environments.prod.ownr: unknown key 'ownr' of an environment; did you mean 'owner'?",
        "4:18: $.environments.prod.max_deletes: must be a whole number from 0",
        "6:16: $.environments.prod.vars.retries: a var is text: quote it",
        "7:7: $.environments.prod.vars.1bad: a var name is letters, digits and _, not starting with a digit",
        "8:18: $.environments.prod.api_key_env: must be the name NX1_API_KEY or NX1_API_KEY_SUFFIX "
        "(capitals, digits, _): reconciler reads only its own variables",
        "9:3: $.environments.bad name: an environment name is letters, digits, - and _ (at most 64)",
        "12:16: $.environments.dev.token_env: token_env and api_key_env name variables of different "
        "groups (_PROD, _DEV): one environment's variables share one suffix, so its credential goes "
        "only to its own host",
    ]
    assert _problems(tmp_path, "environments: [dev]\n") == [
        "1:15: $.environments: want a mapping of environment names to their settings"
    ]
    assert _problems(tmp_path, "enviroments: {}\n")[0].endswith("did you mean 'environments'?")


def test_a_reference_in_reconciler_yaml_is_refused_as_not_expanded(tmp_path: Path) -> None:
    problems = _problems(
        tmp_path,
        "owner: ${OWNER:-team}\n"
        "environments:\n"
        "  prod:\n"
        "    vars:\n"
        '      bucket: "${MY_SECRET}"\n'
        '      path: "s3://${var.bucket}/x"\n'
        '      literal: "$${kept}"\n',
    )
    assert problems == [
        "1:8: $.owner: ${OWNER:-team} is not expanded in reconciler.yaml: its values are literal",
        "5:15: $.environments.prod.vars.bucket: var bucket of environment prod is a literal "
        "value: ${MY_SECRET} is not expanded in reconciler.yaml (write the reference in the "
        "spec instead)",
        "6:13: $.environments.prod.vars.path: var path of environment prod is a literal value: "
        "${var.bucket} is not expanded in reconciler.yaml (write the reference in the spec "
        "instead)",
    ]
    assert _config(tmp_path, 'environments:\n  prod:\n    vars:\n      v: "$${x}"\n')[
        "environments"
    ]["prod"].vars == {"v": "${x}"}


def test_choosing_an_environment(tmp_path: Path) -> None:
    config = _config(tmp_path, "environments:\n  dev: {}\n  prod: {}\n")
    with pytest.raises(ConfigError, match=r"defines environments \(dev, prod\): choose one"):
        resolve({}, {}, config, offline=True)
    with pytest.raises(ConfigError, match="unknown environment 'prd'; did you mean 'prod'"):
        resolve({"env": "prd"}, {}, config, offline=True)
    with pytest.raises(ConfigError, match="defines no environments"):
        resolve({"env": "prod"}, {}, {}, offline=True)


def test_an_environments_api_url_must_agree_with_where_the_credential_goes(tmp_path: Path) -> None:
    config = _config(
        tmp_path,
        "environments:\n  prod:\n    api_url: https://aiapi.acme.nx1cloud.com\n"
        f"  local:\n    api_url: {LOOPBACK}\n",
    )
    host = {"NX1_HOST": "https://aiapi.acme.nx1cloud.com/"}
    assert resolve({"env": "prod"}, host, config).api_url == "https://aiapi.acme.nx1cloud.com/"
    with pytest.raises(ConfigError, match=r"but NX1_HOST is https://aiapi\.acme-dev") as info:
        resolve({"env": "prod"}, {"NX1_HOST": "https://aiapi.acme-dev.nx1cloud.com"}, config)
    assert "https://aiapi.acme.nx1cloud.com" in str(info.value)
    assert "never the wrong tenant" in str(info.value)
    with pytest.raises(ConfigError, match="but --api-url is https://elsewhere"):
        resolve({"env": "prod", "api_url": "https://elsewhere.example"}, host, config)
    with pytest.raises(ConfigError, match="set NX1_HOST"):
        resolve({"env": "prod"}, {}, config)
    assert resolve({"env": "local"}, {}, config).api_url == LOOPBACK


def test_an_environments_own_variables_go_only_to_its_own_host(tmp_path: Path) -> None:
    config = _config(
        tmp_path,
        "environments:\n  prod:\n    api_key_env: NX1_API_KEY_PROD\n"
        "    api_url: https://prod.example\n",
    )
    env = {"NX1_HOST_PROD": "https://prod.example", "NX1_API_KEY_PROD": "psk-prod"}
    settings = resolve({"env": "prod"}, env, config)
    assert settings.api_url == "https://prod.example"
    assert settings.environment is not None and settings.environment.suffix == "_PROD"
    credential = credential_from_env(env, "_PROD")
    assert credential.secrets() == ("psk-prod",)
    with pytest.raises(ConfigError, match="NX1_HOST_PROD, which is not set"):
        resolve({"env": "prod"}, {"NX1_HOST": "https://prod.example"}, config)


def test_two_environments_on_one_api_need_their_own_owners(tmp_path: Path) -> None:
    text = f"environments:\n  dev:\n    api_url: {LOOPBACK}\n  prod:\n    api_url: {LOOPBACK}/\n"
    with pytest.raises(ConfigError, match=r"share the API .* and the owner 'reconciler'"):
        resolve({"env": "dev"}, {}, _config(tmp_path, text))
    apart = text.replace("  prod:\n", "  prod:\n    owner: prod-team\n")
    assert resolve({"env": "dev"}, {}, _config(tmp_path, apart)).policy.owner == "reconciler"
    with pytest.raises(ConfigError, match="share the API"):
        resolve({"env": "dev"}, {"RECONCILER_OWNER": "x"}, _config(tmp_path, apart))


def test_every_environments_credentials_are_scrubbed_and_token_urls_are_not() -> None:
    env = {
        "NX1_API_KEY": "k",
        "NX1_API_KEY_PROD": "k-prod",
        "NX1_CLIENT_SECRET_DEV": "cs-dev",
        "NX1_TOKEN_URL_DEV": "https://sso.example/token",
        "NX1_CLIENT_ID_DEV": "ci-bot",
        "NX1_HOST_PROD": "https://prod.example",
    }
    assert credential_secrets(env) == ["cs-dev", "k", "k-prod"]


@pytest.mark.parametrize("line", ["name_prefix: top-", "pause_schedules: true"])
def test_a_prefix_or_a_pause_without_environments_is_refused_not_ignored(
    tmp_path: Path, line: str
) -> None:
    with pytest.raises(ConfigError, match="takes effect in an environment"):
        resolve({}, {}, _config(tmp_path, line + "\n"))
    inherited = _config(tmp_path, f"{line}\nenvironments:\n  dev:\n    api_url: {LOOPBACK}\n")
    dev = resolve({"env": "dev"}, {}, inherited, offline=True)
    assert (dev.name_prefix, dev.pause_schedules) != ("", False)
