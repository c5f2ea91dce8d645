"""Failure counters behind every login: keys, windows, and a disabled limiter."""
from __future__ import annotations

import pytest

from portal.services import ServiceError, throttle


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


def test_every_login_service_refuses_past_its_throttle_with_the_one_exception(app, make_etablissement,
                                                                              make_gestionnaire):
    """The four logins (tracking, school computer, manager, candidate) go through services
    that raise throttle.TropDeTentatives, even for the right password: the views answer 429."""
    from datetime import date

    from portal.extensions import limiter
    from portal.services import candidatures, etablissements, gestionnaires, postes

    limiter.reset()
    etab = make_etablissement()
    compte = make_gestionnaire()
    ip = "10.0.0.7"
    tries = [
        (lambda: etablissements.authenticate(etab.code, "mauvais", ip)),
        (lambda: postes.authenticate(etab.code, "mauvais", ip)),
        (lambda: gestionnaires.authenticate(compte.email, "mauvais", ip=ip)),
        (lambda: candidatures.authenticate(None, 12, date(2008, 1, 1), "mauvais", ip)),
    ]
    with app.test_request_context("/"):
        for attempt in tries:
            for _ in range(5):
                with pytest.raises(ServiceError) as refused:
                    attempt()
                assert not isinstance(refused.value, throttle.TropDeTentatives)
            with pytest.raises(throttle.TropDeTentatives) as blocked:
                attempt()
            assert "réessayez dans" in blocked.value.message and blocked.value.wait.total_seconds() > 0
    limiter.reset()
