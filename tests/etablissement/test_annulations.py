"""Validation / cancellation page: one submit applies every change in one transaction."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEvent, Inscription



def statuts(*inscriptions) -> list[str]:
    db.session.expire_all()
    return [db.session.get(Inscription, i.id).statut for i in inscriptions]


def audit_count(action: str) -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action))


@pytest.fixture
def trois(etab, cap, session_examen, make_inscription):
    return [make_inscription(session_examen, cap, etab, candidat={"nom_naissance": name})
            for name in ("AUBRY", "BLANC", "CARON")]


def test_page_shows_rows_with_their_cancelled_flag(logged, trois):
    from portal.services.inscriptions import set_cancelled

    set_cancelled(trois[1], True, par="test")
    db.session.commit()
    page = logged.get("/etablissement/validation")
    assert page.status_code == 200
    assert f'name="annulee" value="{trois[1].id}" id="annulee-{trois[1].id}" checked' in page.text
    assert f'id="annulee-{trois[0].id}" checked' not in page.text
    assert "01/03/2008" in page.text


def test_ticking_cancels_and_unticking_reactivates_in_one_submit(logged, trois, etab):
    from portal.services.inscriptions import set_cancelled

    set_cancelled(trois[2], True, par="test")
    db.session.commit()
    ids = [str(i.id) for i in trois]
    response = logged.post("/etablissement/validation", data={"ids": ids, "annulee": [str(trois[0].id)]})
    assert response.status_code == 302
    assert statuts(*trois) == ["annulee", "active", "active"]
    assert audit_count("inscription.annulee") == 2  # the fixture's cancellation and this one
    assert audit_count("inscription.reactivee") == 1
    cancelled = db.session.get(Inscription, trois[0].id)
    assert cancelled.annulee_par == etab.code and cancelled.annulee_at is not None


def test_cancelled_candidate_can_be_reactivated(logged, trois):
    ids = [str(i.id) for i in trois]
    logged.post("/etablissement/validation", data={"ids": ids, "annulee": ids})
    assert statuts(*trois) == ["annulee"] * 3
    logged.post("/etablissement/validation", data={"ids": ids})
    assert statuts(*trois) == ["active"] * 3


def test_rows_not_shown_are_left_alone(logged, trois):
    logged.post("/etablissement/validation", data={"ids": [str(trois[0].id)], "annulee": [str(trois[0].id)]})
    logged.post("/etablissement/validation", data={"ids": [str(trois[1].id)]})
    assert statuts(*trois) == ["annulee", "active", "active"]


def test_failed_reactivation_applies_nothing(logged, trois, etab, cap, session_examen, make_inscription):
    ids = [str(i.id) for i in trois]
    logged.post("/etablissement/validation", data={"ids": ids, "annulee": [str(trois[0].id)]})
    # The same person registers again: the old registration can no longer be reactivated.
    make_inscription(session_examen, cap, etab, candidat={"nom_naissance": "AUBRY"})
    before = audit_count("inscription.annulee")
    response = logged.post("/etablissement/validation", data={"ids": ids, "annulee": [str(trois[1].id)]},
                           follow_redirects=True)
    assert "Aucune modification n&#39;a été enregistrée" in response.text
    assert "ne peut pas être réactivée" in response.text
    assert statuts(*trois) == ["annulee", "active", "active"]
    assert audit_count("inscription.annulee") == before


def test_validation_filtered_by_specialty(logged, trois, etab, bcp, session_examen, make_inscription):
    autre = make_inscription(session_examen, bcp, etab, candidat={"nom_naissance": "DUVAL"})
    page = logged.get(f"/etablissement/validation?specialite={bcp.id}")
    assert "DUVAL" in page.text and "AUBRY" not in page.text
    assert f'name="ids" value="{autre.id}"' in page.text


@pytest.mark.parametrize("data", [{"ids": ["abc"]}, {"ids": ["-1"]}])
def test_malformed_ids_are_rejected(logged, trois, data):
    assert logged.post("/etablissement/validation", data=data).status_code == 400


def test_cancelled_id_must_be_a_shown_row(logged, trois):
    response = logged.post("/etablissement/validation", data={"ids": [str(trois[0].id)],
                                                              "annulee": [str(trois[1].id)]})
    assert response.status_code == 404
    assert statuts(*trois) == ["active"] * 3


@pytest.mark.parametrize("bad", ["²", "99999999999999999999", "-3", "abc"])
def test_malformed_id_is_400_and_changes_nothing(logged, trois, bad):
    response = logged.post("/etablissement/validation", data={"ids": [str(trois[0].id), bad],
                                                              "annulee": [str(trois[0].id)]})
    assert response.status_code == 400
    assert statuts(*trois) == ["active"] * 3


def test_locked_database_refuses_cancellation(logged, trois):
    from portal.services import verrou

    verrou.acquire(acteur="gestionnaire", gestionnaire_id=None, motif="chargement")
    db.session.commit()
    ids = [str(i.id) for i in trois]
    response = logged.post("/etablissement/validation", data={"ids": ids, "annulee": ids})
    assert response.status_code == 503
    assert statuts(*trois) == ["active"] * 3
