"""One precedence for every setting: flag > env var > reconciler.yaml > default."""

from __future__ import annotations

from dataclasses import fields

import pytest

from reconciler.errors import ConfigError
from reconciler.settings import POLICY_SETTINGS, SETTINGS, Policy
from reconciler.settings.resolve import resolve


def test_policy_fields_are_the_policy_rows_of_the_table() -> None:
    assert [f.name for f in fields(Policy)] == [s.name for s in POLICY_SETTINGS]
    defaults = Policy()
    for setting in POLICY_SETTINGS:
        assert getattr(defaults, setting.name) == setting.default


def test_flag_beats_env_beats_file_beats_default() -> None:
    env = {"RECONCILER_OWNER": "from-env"}
    config = {"owner": "from-file", "max_deletes": 3}
    assert resolve({"owner": "from-flag"}, env, config).policy.owner == "from-flag"
    assert resolve({}, env, config).policy.owner == "from-env"
    assert resolve({}, {}, config).policy.owner == "from-file"
    assert resolve({}, {}, {}).policy.owner == "reconciler"
    assert resolve({}, {}, config).policy.max_deletes == 3
    assert resolve({"max_deletes": 0}, {}, config).policy.max_deletes == 0


def test_patterns_only_add_to_the_defaults() -> None:
    got = resolve({}, {}, {"sensitive_patterns": ["dsn", "*pass*"]}).sensitive_patterns
    assert got == ("dsn", "*pass*")
    with pytest.raises(ConfigError, match="globs"):
        resolve({}, {}, {"sensitive_patterns": ["(a|a)+$"]})


def test_bad_values_name_their_source() -> None:
    with pytest.raises(ConfigError, match="RECONCILER_OWNER"):
        resolve({}, {"RECONCILER_OWNER": "  "}, {})
    with pytest.raises(ConfigError, match="--sensitive-pattern:"):
        resolve({"sensitive_patterns": ("(",)}, {}, {})


def test_the_files_api_url_cannot_send_the_credential_elsewhere() -> None:
    host = {"NX1_HOST": "https://api.example.com"}
    assert resolve({}, host, {"api_url": "https://api.example.com/"}).api_url is None
    with pytest.raises(ConfigError, match=r"but NX1_HOST is https://api\.example\.com"):
        resolve({}, host, {"api_url": "https://evil.example.com"})
    with pytest.raises(ConfigError, match="set NX1_HOST"):
        resolve({}, {}, {"api_url": "https://evil.example.com"})
    assert resolve({}, {}, {"api_url": "http://127.0.0.1:8080"}).api_url == "http://127.0.0.1:8080"
    assert (
        resolve({"api_url": "https://x.example.com"}, host, {}).api_url == "https://x.example.com"
    )


def test_policy_round_trips_and_refuses_wrong_types() -> None:
    policy = Policy(owner="o", prune=True, max_delete_share=0.5)
    assert Policy.from_dict(policy.as_dict()) == policy
    for bad in ({**policy.as_dict(), "prune": 1}, {**policy.as_dict(), "max_deletes": "9"}):
        with pytest.raises(ValueError):
            Policy.from_dict(bad)
    assert all(s.help for s in SETTINGS)


def test_a_setting_from_a_non_utf8_environment_is_one_error() -> None:
    bad = b"team-\xff".decode("utf-8", "surrogateescape")
    with pytest.raises(ConfigError, match="RECONCILER_OWNER"):
        resolve({}, {"RECONCILER_OWNER": bad}, {})
    with pytest.raises(ConfigError, match="owner"):
        resolve({}, {}, {"owner": "a\nb"})


@pytest.mark.parametrize("config", [{"api_url": "http://127.0.0.1:1"}, {"api_url": ""}])
def test_a_password_in_nx1_host_is_refused_before_any_comparison_shows_it(
    config: dict[str, str],
) -> None:
    host = {"NX1_HOST": "http://u:hunter2@127.0.0.1:45815"}
    with pytest.raises(ConfigError) as info:
        resolve({}, host, config)
    assert "hunter2" not in str(info.value)
