"""Fixtures of the tracking-service tests: two establishments with registrations."""
from __future__ import annotations

import pytest

from portal.extensions import db, limiter
from tests.conftest import STRONG_PASSWORD


@pytest.fixture(autouse=True)
def _fresh_limiter(app):
    limiter.reset()
    yield
    limiter.reset()


@pytest.fixture
def bcp(make_specialite):
    return make_specialite("BCP", code="BCP001", libelle="Métiers de l'électricité", forme_progressive=True)


@pytest.fixture
def cap(make_specialite):
    return make_specialite("CAP", code="CAP001", libelle="Cuisine")


@pytest.fixture
def etab(make_etablissement, bcp, cap):
    """An establishment whose tracking password was already changed."""
    return make_etablissement("0130001A", password=STRONG_PASSWORD, nom="Lycée Jean Moulin", specialites=[bcp, cap])


@pytest.fixture
def autre(make_etablissement, make_specialite):
    autre_specialite = make_specialite("BCP", code="BCP999", libelle="Spécialité de l'autre lycée")
    return make_etablissement("0690002B", password=STRONG_PASSWORD, nom="Lycée Voisin",
                              specialites=[autre_specialite])


@pytest.fixture
def logged(client, etab, login_etablissement):
    response = login_etablissement(etab, STRONG_PASSWORD)
    assert response.status_code == 302
    return client


def reload(model):
    db.session.expire_all()
    return db.session.get(type(model), model.id)
