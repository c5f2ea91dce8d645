"""Publication statuses of the catalogue: rules with priority, freezes, history, pages."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent, HistoriqueStatut, Specialite, StatutPublication
from portal.services import catalogue

from .dechargements_fixtures import manager  # noqa: F401

FLAGS = ("validation_rectorat", "acces_direct_a_verifier", "habilitation_requise")


def _spec(**flags) -> Specialite:
    values = dict(integrable=True, actif=True, validation_rectorat=False, acces_direct_a_verifier=False,
                  habilitation_requise=False)
    values.update(flags)
    return Specialite(code="X", libelle="X", **values)


def test_rule_table_follows_the_fixed_priority_order():
    assert [r.statut for r in catalogue.REGLES] == [
        "a_publier", "a_publier_validation", "a_publier_acces_direct", "a_publier_habilitation", "non_integrable"]


@pytest.mark.parametrize("flags, expected", [
    ({}, "a_publier"),
    ({"validation_rectorat": True}, "a_publier_validation"),
    ({"acces_direct_a_verifier": True}, "a_publier_acces_direct"),
    ({"habilitation_requise": True}, "a_publier_habilitation"),
    # Each pair of conditions: the higher priority wins.
    ({"validation_rectorat": True, "acces_direct_a_verifier": True}, "a_publier_validation"),
    ({"validation_rectorat": True, "habilitation_requise": True}, "a_publier_validation"),
    ({"acces_direct_a_verifier": True, "habilitation_requise": True}, "a_publier_acces_direct"),
    ({f: True for f in FLAGS}, "a_publier_validation"),
    # Not eligible: whatever the flags, non intégrable.
    ({"integrable": False}, "non_integrable"),
    ({"integrable": False, "validation_rectorat": True}, "non_integrable"),
    ({"actif": False, "habilitation_requise": True}, "non_integrable"),
])
def test_automatic_status_takes_the_highest_priority_matching_rule(flags, expected):
    assert catalogue.automatic_status(_spec(**flags)) == expected


def test_first_matching_rule_wins_whatever_the_table():
    regles = (catalogue.Regle("a_publier_habilitation", lambda s: s.habilitation_requise, ""),
              catalogue.Regle("a_publier_validation", lambda s: s.validation_rectorat, ""),
              catalogue.Regle("non_integrable", lambda s: True, ""))
    both = _spec(habilitation_requise=True, validation_rectorat=True)
    assert catalogue.automatic_status(both, regles) == "a_publier_habilitation"


def _status(session_examen, specialite) -> StatutPublication:
    return catalogue.status_of(session_examen, specialite)


def _history(session_examen, specialite) -> list[tuple]:
    return [(h.ancien, h.nouveau) for h in reversed(catalogue.history(session_examen, specialite))]


def test_recompute_sets_statuses_and_records_history(session_examen, make_specialite):
    simple = make_specialite("CAP")
    habilitation = make_specialite("BTS", habilitation_requise=True)
    result = catalogue.recompute_statuses(session_examen)
    db.session.commit()
    assert _status(session_examen, simple).statut == "a_publier"
    assert result.par_statut == {"a_publier": 1, "a_publier_habilitation": 1}
    assert len(result.changements) == 2

    habilitation.habilitation_requise = False
    habilitation.validation_rectorat = True
    again = catalogue.recompute_statuses(session_examen)
    db.session.commit()
    assert again.changements == [(habilitation.code, "a_publier_habilitation", "a_publier_validation")]
    assert _history(session_examen, habilitation) == [(None, "a_publier_habilitation"),
                                                      ("a_publier_habilitation", "a_publier_validation")]
    # Unchanged specialties get no new history row.
    assert _history(session_examen, simple) == [(None, "a_publier")]
    assert db.session.scalar(select(db.func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "catalogue.statut_modifie")) == 3


def test_withdrawn_status_is_frozen(session_examen, make_specialite):
    specialite = make_specialite("BCP")
    catalogue.apply_action(session_examen, specialite, "retirer", auteur="gestionnaire@ac-test.fr")
    specialite.validation_rectorat = True
    catalogue.recompute_statuses(session_examen)
    db.session.commit()
    row = _status(session_examen, specialite)
    assert (row.statut, row.gele) == ("non_publie", True)


def test_ready_only_becomes_published_by_the_nightly_run(session_examen, make_specialite):
    specialite = make_specialite("BCP")
    catalogue.apply_action(session_examen, specialite, "marquer_pret", auteur="g@ac-test.fr")
    specialite.integrable = False
    catalogue.recompute_statuses(session_examen, publier=False)
    assert _status(session_examen, specialite).statut == "pret"
    catalogue.recompute_statuses(session_examen)
    db.session.commit()
    assert _status(session_examen, specialite).statut == "publie"
    catalogue.recompute_statuses(session_examen)
    assert _status(session_examen, specialite).statut == "publie"


@pytest.mark.parametrize("statut", ["a_publier", "a_publier_validation", "non_integrable", "non_publie", "publie"])
def test_only_a_ready_specialty_can_be_published(session_examen, make_specialite, statut):
    specialite = make_specialite("BCP")
    db.session.add(StatutPublication(session_id=session_examen.id, specialite_id=specialite.id, statut=statut,
                                     gele=statut in ("non_publie", "publie")))
    db.session.commit()
    with pytest.raises(catalogue.ServiceError):
        catalogue.apply_action(session_examen, specialite, "publier", auteur="g@ac-test.fr")


def test_non_integrable_cannot_be_marked_ready(session_examen, make_specialite):
    specialite = make_specialite("BCP", integrable=False)
    catalogue.recompute_statuses(session_examen)
    with pytest.raises(catalogue.ServiceError, match="à publier"):
        catalogue.apply_action(session_examen, specialite, "marquer_pret", auteur="g@ac-test.fr")


def test_back_to_automatic_unfreezes_and_recomputes(session_examen, make_specialite):
    specialite = make_specialite("BCP", acces_direct_a_verifier=True)
    catalogue.apply_action(session_examen, specialite, "retirer", auteur="g@ac-test.fr")
    row = catalogue.apply_action(session_examen, specialite, "remettre_auto", auteur="g@ac-test.fr")
    assert (row.statut, row.gele) == ("a_publier_acces_direct", False)
    assert _history(session_examen, specialite) == [
        (None, "a_publier_acces_direct"), ("a_publier_acces_direct", "non_publie"),
        ("non_publie", "a_publier_acces_direct")]


def test_only_published_specialties_are_offered(session_examen, make_specialite):
    publiee, prete, autre = make_specialite("BCP"), make_specialite("BCP"), make_specialite("CAP")
    for specialite in (publiee, prete):
        catalogue.apply_action(session_examen, specialite, "marquer_pret", auteur="g@ac-test.fr")
    catalogue.apply_action(session_examen, publiee, "publier", auteur="g@ac-test.fr")
    db.session.commit()
    offered = db.session.scalars(select(Specialite.id).where(
        Specialite.id.in_(catalogue.published_specialite_ids(session_examen)))).all()
    assert offered == [publiee.id]
    assert catalogue.is_published(session_examen, publiee) and not catalogue.is_published(session_examen, autre)


# --- pages ---------------------------------------------------------------------------


def test_manager_marks_ready_then_publishes_from_the_specialty_page(client, manager, session_examen,
                                                                   make_specialite):
    specialite = make_specialite("BCP")
    page = client.get(f"/gestionnaire/catalogue/{specialite.id}").get_data(as_text=True)
    assert "Marquer prêt pour publication" in page and "Non calculé" not in page

    response = client.post(f"/gestionnaire/catalogue/{specialite.id}/marquer_pret")
    assert response.status_code == 302
    client.post(f"/gestionnaire/catalogue/{specialite.id}/publier")
    page = client.get(f"/gestionnaire/catalogue/{specialite.id}").get_data(as_text=True)
    assert "Publié" in page and manager.email in page
    rows = db.session.scalars(select(HistoriqueStatut).where(HistoriqueStatut.specialite_id == specialite.id)
                              .order_by(HistoriqueStatut.id)).all()
    assert [(r.nouveau, r.auteur) for r in rows] == [
        ("a_publier", manager.email), ("pret", manager.email), ("publie", manager.email)]


def test_refused_action_is_explained_and_changes_nothing(client, manager, session_examen, make_specialite):
    specialite = make_specialite("BCP")
    response = client.post(f"/gestionnaire/catalogue/{specialite.id}/publier", follow_redirects=True)
    assert "Seule une spécialité prête pour publication peut être publiée" in response.get_data(as_text=True)
    assert _status(session_examen, specialite) is None
    assert client.post(f"/gestionnaire/catalogue/{specialite.id}/supprimer").status_code == 404
    assert client.post("/gestionnaire/catalogue/999999/publier").status_code == 404


def test_catalogue_list_filters_by_exam_and_status(client, manager, session_examen, make_specialite):
    bcp = make_specialite("BCP", libelle="Métiers du commerce")
    cap = make_specialite("CAP", libelle="Cuisine", habilitation_requise=True)
    catalogue.recompute_statuses(session_examen)
    db.session.commit()
    page = client.get("/gestionnaire/catalogue?examen=CAP").get_data(as_text=True)
    assert cap.libelle in page and bcp.libelle not in page
    page = client.get("/gestionnaire/catalogue?statut=a_publier").get_data(as_text=True)
    assert bcp.libelle in page and cap.libelle not in page
    assert client.get("/gestionnaire/catalogue?statut=inconnu").status_code == 400
    assert client.get("/gestionnaire/catalogue?examen=XYZ").status_code == 400


def test_catalogue_list_is_paginated(client, manager, session_examen, make_specialite):
    for n in range(55):
        make_specialite("BTS", libelle=f"Spécialité paginée {n:02d}")
    first = client.get("/gestionnaire/catalogue").get_data(as_text=True)
    second = client.get("/gestionnaire/catalogue?page=2").get_data(as_text=True)
    assert "page 1 sur 2" in first and "page 2 sur 2" in second
    assert "Spécialité paginée 00" in first and "Spécialité paginée 54" in second
