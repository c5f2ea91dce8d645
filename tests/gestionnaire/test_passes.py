"""Passes for pupils with decision D, and late registration authorisations."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent, AutorisationTardive, LaissezPasser
from portal.services import identite

AUTORISATION = {"nom": "Lefèvre-d’Orçay", "prenom": "Zoé", "date_naissance": "2007-04-03", "examen": "CAP",
                "service": "etablissement", "etablissement": "", "motif": "Dossier arrivé en retard"}


def _actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


@pytest.fixture
def eleve_d(session_examen, examens, make_etablissement, make_eleve):
    etab = make_etablissement("0130001A")
    return make_eleve(etab, session_examen, examens["CAP"], nom="REFUSE", decision="D", note="Stage manquant")


def test_pupils_with_decision_d_are_listed_by_establishment(gestionnaire_client, session_examen, examens,
                                                            make_etablissement, make_eleve, eleve_d):
    other = make_etablissement("0690002B")
    make_eleve(other, session_examen, examens["CAP"], nom="AUTREETAB", decision="D")
    make_eleve(eleve_d.etablissement, session_examen, examens["CAP"], nom="FAVORABLE", decision="F")
    page = gestionnaire_client.get("/gestionnaire/laissez-passer").get_data(as_text=True)
    assert "REFUSE" in page and "AUTREETAB" in page and "FAVORABLE" not in page
    filtered = gestionnaire_client.get("/gestionnaire/laissez-passer?etablissement=0130001a").get_data(as_text=True)
    assert "REFUSE" in filtered and "AUTREETAB" not in filtered
    unknown = gestionnaire_client.get("/gestionnaire/laissez-passer?etablissement=XXXX").get_data(as_text=True)
    assert "Aucun établissement ne porte le code XXXX" in unknown


def test_pass_is_granted_then_revoked_and_audited(gestionnaire_client, eleve_d):
    response = gestionnaire_client.post(f"/gestionnaire/eleves/{eleve_d.id}/laissez-passer",
                                        data={"motif": "Décision du jury revue"})
    assert response.status_code == 302
    db.session.expire_all()
    passe = eleve_d.laissez_passer_actif
    assert passe.motif == "Décision du jury revue" and passe.granted_by == gestionnaire_client.compte.email
    again = gestionnaire_client.post(f"/gestionnaire/eleves/{eleve_d.id}/laissez-passer",
                                     data={"motif": "Encore"}, follow_redirects=True)
    assert "déjà un laissez-passer" in again.get_data(as_text=True)
    gestionnaire_client.post(f"/gestionnaire/eleves/{eleve_d.id}/laissez-passer/revoquer")
    db.session.expire_all()
    assert eleve_d.laissez_passer_actif is None
    assert len(db.session.scalars(select(LaissezPasser)).all()) == 1
    assert _actions()[-2:] == ["laissez_passer.accorde", "laissez_passer.revoque"]


def test_pass_needs_a_reason_and_a_pupil_with_decision_d(gestionnaire_client, session_examen, examens,
                                                         make_eleve, eleve_d):
    gestionnaire_client.post(f"/gestionnaire/eleves/{eleve_d.id}/laissez-passer", data={"motif": ""})
    favorable = make_eleve(eleve_d.etablissement, session_examen, examens["CAP"], decision="F")
    page = gestionnaire_client.post(f"/gestionnaire/eleves/{favorable.id}/laissez-passer",
                                    data={"motif": "Pourquoi pas"}, follow_redirects=True).get_data(as_text=True)
    assert "décision défavorable" in page
    assert db.session.scalars(select(LaissezPasser)).all() == []


def test_pass_for_an_unknown_pupil_gives_404(gestionnaire_client, session_examen):
    assert gestionnaire_client.post("/gestionnaire/eleves/999/laissez-passer", data={"motif": "x"}).status_code == 404
    assert gestionnaire_client.post("/gestionnaire/eleves/999/laissez-passer/revoquer").status_code == 404


# --- late authorisations -------------------------------------------------------------


def test_late_authorisation_is_granted_with_the_identity_key_and_revoked(gestionnaire_client, session_examen):
    response = gestionnaire_client.post("/gestionnaire/autorisations-tardives", data=AUTORISATION)
    assert response.status_code == 302
    autorisation = db.session.scalar(select(AutorisationTardive))
    assert autorisation.cle_identite == identite.cle_identite("Lefèvre-d’Orçay", "Zoé", date(2007, 4, 3))
    assert autorisation.cle_identite == "LEFEVRE D ORCAY|ZOE|2007-04-03"
    duplicate = gestionnaire_client.post("/gestionnaire/autorisations-tardives", data=AUTORISATION)
    assert "déjà une autorisation" in duplicate.get_data(as_text=True)
    gestionnaire_client.post(f"/gestionnaire/autorisations-tardives/{autorisation.id}/revoquer")
    db.session.refresh(autorisation)
    assert autorisation.revoked_at is not None
    assert {"autorisation_tardive.accordee", "autorisation_tardive.revoquee"} <= set(_actions())


@pytest.mark.parametrize("field, value, message", [
    ("date_naissance", "2007-02-30", "Date invalide"),
    ("examen", "XYZ", "Not a valid choice"),
    ("nom", "", "obligatoire"),
    ("etablissement", "9999999Z", "Aucun établissement"),
])
def test_late_authorisation_rejects_bad_input(gestionnaire_client, session_examen, field, value, message):
    response = gestionnaire_client.post("/gestionnaire/autorisations-tardives", data={**AUTORISATION, field: value})
    assert response.status_code == 200
    if message != "Not a valid choice":
        assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(AutorisationTardive)) is None


def test_revoking_an_unknown_authorisation_gives_404(gestionnaire_client, session_examen):
    assert gestionnaire_client.post("/gestionnaire/autorisations-tardives/42/revoquer").status_code == 404


# --- CSRF on ------------------------------------------------------------------------


class TestWithCsrf:
    @pytest.fixture
    def app_overrides(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_pass_form_without_token_is_refused(self, gestionnaire_client, eleve_d):
        response = gestionnaire_client.post(f"/gestionnaire/eleves/{eleve_d.id}/laissez-passer",
                                            data={"motif": "Sans jeton"})
        assert response.status_code == 400
        assert db.session.scalars(select(LaissezPasser)).all() == []

    def test_pass_form_with_the_page_token_works(self, gestionnaire_client, eleve_d):
        from tests.conftest import csrf_from

        token = csrf_from(gestionnaire_client.get("/gestionnaire/laissez-passer").get_data(as_text=True))
        response = gestionnaire_client.post(f"/gestionnaire/eleves/{eleve_d.id}/laissez-passer",
                                            data={"motif": "Avec jeton", "csrf_token": token})
        assert response.status_code == 302
        db.session.expire_all()
        assert eleve_d.laissez_passer_actif is not None

    def test_lock_without_token_is_refused(self, gestionnaire_client):
        from portal.services import verrou

        assert gestionnaire_client.post("/gestionnaire/verrou", data={}).status_code == 400
        assert verrou.current() is None
