"""Failure counters behind every login: keys, windows, and a disabled limiter."""
from __future__ import annotations

import pytest

from portal.services import throttle


def test_fifth_failure_blocks_the_account_from_that_address_only(app):
    for _ in range(5):
        assert throttle.ETABLISSEMENT_LOGIN.blocked_for("0691234A", "10.0.0.1") is None
        throttle.ETABLISSEMENT_LOGIN.fail("0691234A", "10.0.0.1")
    wait = throttle.ETABLISSEMENT_LOGIN.blocked_for("0691234A", "10.0.0.1")
    assert wait is not None and 0 < wait.total_seconds() <= 15 * 60
    assert throttle.ETABLISSEMENT_LOGIN.blocked_for("0691234A", "10.0.0.2") is None
    assert "réessayez dans" in throttle.wait_message(wait)


def test_account_names_cannot_forge_another_key(app):
    for _ in range(5):
        throttle.ETABLISSEMENT_LOGIN.fail("a/ip:10.0.0.9", "10.0.0.1")
    assert throttle.ETABLISSEMENT_LOGIN.blocked_for("a", "10.0.0.9") is None


class TestDisabledLimiter:
    @pytest.fixture
    def app_overrides(self):
        return {"RATELIMIT_ENABLED": False}

    def test_a_disabled_limiter_never_blocks(self, app):
        for _ in range(10):
            throttle.ETABLISSEMENT_LOGIN.fail("0691234A", "10.0.0.1")
        assert throttle.ETABLISSEMENT_LOGIN.blocked_for("0691234A", "10.0.0.1") is None
