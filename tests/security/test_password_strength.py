"""Issue 15 point 8: trivial passwords are refused for every account (strength estimate),
with a French message that says why and how to choose; candidates' secrets keep their rules."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Gestionnaire
from portal.services import passwords
from tests.conftest import STRONG_PASSWORD

CODE = "0750001A"
NAMES = ("Lycée Jacquard", "Lyon")

TRIVIAL = [
    ("123456789012", "suite de chiffres"),
    ("000000000000", "répétition"),
    ("aaaaaaaaaaaa", "répétition"),
    ("azertyuiop12", "mot courant"),
    (CODE + CODE, "répétition"),
    ("lycee" + CODE, "code de l'établissement"),
]


def reload(obj):
    db.session.expire_all()
    return db.session.get(type(obj), obj.id)


@pytest.mark.parametrize("password, why", TRIVIAL)
def test_trivial_passwords_are_refused_with_the_reason_and_the_advice(app, password, why):
    with app.app_context():
        problem = passwords.password_problem(password, forbidden=(CODE,), user_inputs=NAMES)
    assert problem is not None, password
    assert "trop facile à deviner" in problem and why in problem
    assert "phrase de passe" in problem


@pytest.mark.parametrize("password", [
    STRONG_PASSWORD, "Trois pommes vertes sous la pluie", "Mot de passe des postes 2027",
    "Demo-Suivi-2027!", "Demo-Poste-2027!", "Demo-Admin-Rectorat-2027!", "Demo-Gestion-Rectorat-2027!",
])
def test_passphrases_and_the_demo_passwords_pass(app, password):
    with app.app_context():
        assert passwords.password_problem(password, forbidden=(CODE,), user_inputs=NAMES) is None


def test_the_account_names_count_as_guessable(app):
    with app.app_context():
        assert passwords.password_problem("Jacquard2027", user_inputs=("Lycée Jacquard",)) is not None
        problem = passwords.password_problem("dupont.martin1", forbidden=("dupont.martin@ac-test.fr",))
    assert problem is not None


@pytest.fixture
def head(make_etablissement, login_etablissement, client):
    etab = make_etablissement(CODE, password=STRONG_PASSWORD)
    login_etablissement(etab, STRONG_PASSWORD)
    return etab


@pytest.mark.parametrize("password, why", TRIVIAL)
def test_the_tracking_password_refuses_trivial_ones(client, head, password, why):
    before = head.suivi_password_hash
    response = client.post("/etablissement/mot-de-passe", data={
        "current_password": STRONG_PASSWORD, "new_password": password, "confirmation": password})
    assert response.status_code == 200
    assert "trop facile à deviner" in response.text and "phrase de passe" in response.text
    assert reload(head).suivi_password_hash == before


@pytest.mark.parametrize("password, why", TRIVIAL)
def test_the_registration_service_password_refuses_trivial_ones(client, head, password, why):
    before = head.inscription_password_hash
    response = client.post("/etablissement/mot-de-passe-inscription", data={
        "current_password": STRONG_PASSWORD, "new_password": password, "confirmation": password})
    assert response.status_code == 200
    assert "trop facile à deviner" in response.text
    assert reload(head).inscription_password_hash == before


def test_a_manager_cannot_choose_a_trivial_password(client, make_gestionnaire, login_gestionnaire):
    compte = make_gestionnaire()
    login_gestionnaire(compte)
    response = client.post("/gestionnaire/mot-de-passe", data={
        "current_password": STRONG_PASSWORD, "new_password": "azertyuiop12", "confirmation": "azertyuiop12"})
    assert response.status_code == 200
    assert "trop facile à deviner" in response.text
    assert reload(compte).password_hash == compte.password_hash


def test_an_admin_cannot_give_a_trivial_initial_password(client, make_gestionnaire, login_gestionnaire):
    admin, compte = make_gestionnaire(role="admin"), make_gestionnaire()
    login_gestionnaire(admin)
    before = compte.password_hash
    response = client.post(f"/gestionnaire/comptes/{compte.id}/mot-de-passe",
                           data={"password": "000000000000"})
    assert response.status_code == 200
    assert "trop facile à deviner" in response.text
    assert reload(compte).password_hash == before


def test_the_command_line_refuses_a_trivial_password(runner):
    result = runner.invoke(args=["create-gestionnaire", "chef@ac-test.fr", "--nom", "Cheffe",
                                 "--mot-de-passe", "123456789012"])
    assert result.exit_code != 0
    assert "trop facile à deviner" in result.output
    assert db.session.scalar(select(Gestionnaire).where(Gestionnaire.email == "chef@ac-test.fr")) is None


def test_candidate_secrets_keep_their_rules(app):
    """Candidates' secrets are left as they are (replaced by server codes elsewhere)."""
    with app.app_context():
        assert passwords.password_problem("123456789012", estimate=False) is None
        assert passwords.password_problem("azerty123456", estimate=False) is not None
