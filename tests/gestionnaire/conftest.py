"""Fixtures of the manager service tests: clients logged in as a manager or an admin."""
from __future__ import annotations

import pytest

from tests.conftest import STRONG_PASSWORD, csrf_from


def _logged_in(app, compte):
    http = app.test_client()
    data = {"email": compte.email, "password": STRONG_PASSWORD}
    if app.config.get("WTF_CSRF_ENABLED", True):
        data["csrf_token"] = csrf_from(http.get("/gestionnaire/connexion").get_data(as_text=True))
    response = http.post("/gestionnaire/connexion", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    http.compte = compte
    return http


@pytest.fixture
def gestionnaire_client(app, make_gestionnaire):
    """A client logged in as a plain manager (``.compte`` is the account)."""
    return _logged_in(app, make_gestionnaire(role="gestionnaire"))


@pytest.fixture
def admin_client(app, make_gestionnaire):
    """A client logged in as an admin (``.compte`` is the account)."""
    return _logged_in(app, make_gestionnaire(role="admin"))


def make_stale(http, minutes: int = 20) -> None:
    """Pretend the login of this client happened ``minutes`` ago."""
    with http.session_transaction() as sess:
        sess["login_at"] = float(sess["login_at"]) - minutes * 60
