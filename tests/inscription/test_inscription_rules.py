"""European-section rule, pupil base decisions and the late window, in school."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import AutorisationTardive, Inscription, LaissezPasser, utcnow
from portal.services.identite import cle_identite
from tests.conftest import STRONG_PASSWORD

from .conftest import IDENTITE, text


@pytest.mark.parametrize("examen", ["BCP", "CAP"])
@pytest.mark.parametrize("reponse", [True, False, None])
@pytest.mark.parametrize("statut", ["scolaire", "apprenti"])
@pytest.mark.parametrize("ccf", [True, False])
def test_european_question_is_asked_only_where_the_rule_holds(client, session_examen, make_specialite,
                                                               make_etablissement, publish, open_service,
                                                               open_poste, examen, reponse, statut, ccf):
    specialite = make_specialite(examen, forme_progressive=True, section_europeenne_possible=True)
    publish(session_examen, specialite)
    etab = make_etablissement(inscription_password=STRONG_PASSWORD, specialites=[specialite], type="CFA",
                              service_ouvert=True, section_europeenne=reponse, ccf_habilite=ccf)
    open_service(session_examen, "etablissement")
    open_poste(etab, STRONG_PASSWORD)
    client.post("/inscription/etape/identite", data={**IDENTITE, "statut": statut})
    client.post("/inscription/etape/contact", data={"pays": "France"})
    client.post("/inscription/etape/specialite", data={"specialite": str(specialite.id)})
    asked = examen == "BCP" and reponse is True and (statut == "scolaire" or ccf)
    page = text(client.get("/inscription/etape/forme"))
    assert ('name="section_europeenne"' in page) is asked
    if asked:
        missing = client.post("/inscription/etape/forme", data={"forme": "globale"})
        assert "Répondez par oui ou par non" in text(missing)
        client.post("/inscription/etape/forme", data={"forme": "globale", "section_europeenne": "oui"})
    else:
        forged = client.post("/inscription/etape/forme", data={"forme": "globale", "section_europeenne": "oui"})
        assert forged.status_code == 200
        assert "ne concerne pas cette inscription" in text(forged)
        client.post("/inscription/etape/forme", data={"forme": "globale"})
    assert client.post("/inscription/recapitulatif").status_code == 302
    # Issue 15: a candidate never asked the question has no answer recorded (None, not "non").
    assert db.session.scalar(select(Inscription.section_europeenne)) is (True if asked else None)


def test_apprentice_status_is_offered_only_by_training_centres(client, poste):
    page = text(client.get("/inscription/etape/identite"))
    assert 'value="scolaire"' in page and 'value="apprenti"' not in page


# --- pupil base ----------------------------------------------------------------------


@pytest.fixture
def base(poste, make_eleve, examens):
    """The establishment's pupil base: one pupil per decision for the CAP."""
    def eleve(decision, ine, note=""):
        return make_eleve(poste.etab, poste.session, examens["CAP"], ine=ine, nom="LEFEVRE", prenoms="Lea Marie",
                          date_naissance=date(2008, 5, 17), decision=decision, note=note)

    return {"F": eleve("F", "123456789AA"), "S": eleve("S", "123456789BB", "Sous réserve du stage"),
            "D": eleve("D", "123456789CC")}


def test_ine_is_required_where_the_school_has_a_pupil_base(client, poste, base):
    page = client.post("/inscription/etape/identite", data=IDENTITE)
    assert "Saisissez votre INE" in text(page)


@pytest.mark.parametrize("decision, condition", [("F", ""), ("S", "Sous réserve du stage")])
def test_favourable_decisions_let_the_pupil_register(client, poste, base, register, decision, condition):
    response = register(poste.specialites["CAP"], identite={"ine": base[decision].ine.lower()})
    assert response.status_code == 302, text(response)
    inscription = db.session.scalar(select(Inscription))
    assert inscription.eleve_id == base[decision].id and inscription.condition == condition


def test_unfavourable_decision_blocks_with_a_clear_message(client, poste, base):
    client.post("/inscription/etape/identite", data={**IDENTITE, "ine": base["D"].ine})
    client.post("/inscription/etape/contact", data={"pays": "France"})
    page = client.post("/inscription/etape/specialite", data={"specialite": str(poste.specialites["CAP"].id)})
    assert "décision d'orientation pour le CAP est défavorable" in text(page)
    assert db.session.scalar(select(Inscription)) is None


def test_unfavourable_decision_with_a_pass_lets_the_pupil_register(client, poste, base, register):
    db.session.add(LaissezPasser(eleve_id=base["D"].id, granted_by="gestionnaire@test"))
    db.session.commit()
    assert register(poste.specialites["CAP"], identite={"ine": base["D"].ine}).status_code == 302
    assert db.session.scalar(select(Inscription.eleve_id)) == base["D"].id


def test_revoked_pass_no_longer_lets_the_pupil_register(client, poste, base, register):
    db.session.add(LaissezPasser(eleve_id=base["D"].id, granted_by="g", revoked_at=utcnow(), revoked_by="g"))
    db.session.commit()
    client.post("/inscription/etape/identite", data={**IDENTITE, "ine": base["D"].ine})
    client.post("/inscription/etape/contact", data={"pays": "France"})
    page = client.post("/inscription/etape/specialite", data={"specialite": str(poste.specialites["CAP"].id)})
    assert "défavorable" in text(page)


@pytest.mark.parametrize("change", [{"ine": "999999999ZZ"}, {"date_naissance": "2008-05-18"},
                                    {"nom_naissance": "Martin"}])
def test_pupil_not_found_in_the_base_is_refused(client, poste, base, register, change):
    page = register(poste.specialites["CAP"], identite={"ine": base["F"].ine, **change})
    assert "Vous ne figurez pas dans la base élèves" in text(page)
    assert db.session.scalar(select(Inscription)) is None


def test_pupil_purged_from_the_base_can_no_longer_register(client, poste, base, register):
    base["F"].present = False
    db.session.commit()
    assert "Vous ne figurez pas" in text(register(poste.specialites["CAP"], identite={"ine": base["F"].ine}))


# --- late window ---------------------------------------------------------------------


@pytest.fixture
def tardif(session_examen, make_specialite, make_etablissement, publish, open_service, open_poste):
    cap = make_specialite("CAP")
    publish(session_examen, cap)
    etab = make_etablissement(inscription_password=STRONG_PASSWORD, specialites=[cap], service_ouvert=True)
    open_service(session_examen, "etablissement", debut=utcnow() - timedelta(days=20),
                 fin=utcnow() - timedelta(days=1), fin_tardive=utcnow() + timedelta(days=5))
    assert open_poste(etab, STRONG_PASSWORD).status_code == 302
    return cap


def test_late_window_refuses_candidates_without_authorisation(client, tardif, register):
    page = register(tardif)
    assert "seuls les candidats autorisés par le rectorat" in text(page)
    assert db.session.scalar(select(Inscription)) is None


def test_late_window_accepts_an_authorised_candidate_and_flags_it(client, tardif, register, session_examen):
    db.session.add(AutorisationTardive(
        session_id=session_examen.id, service="etablissement", examen_id=tardif.examen_id, nom="Lefèvre",
        prenom="Léa", date_naissance=date(2008, 5, 17), granted_by="gestionnaire@test",
        cle_identite=cle_identite("Lefèvre", "Léa", date(2008, 5, 17))))
    db.session.commit()
    assert register(tardif).status_code == 302
    assert db.session.scalar(select(Inscription.tardive)) is True


@pytest.mark.parametrize("naissance, message", [
    (date.today() + timedelta(days=1), "ne peut pas être dans le futur"),
    (date(date.today().year - 81, 12, 31), "plus de 80 ans"),
    (date(date.today().year - 5, 1, 1), "moins de 12 ans"),
])
def test_final_check_refuses_a_birth_date_in_the_future_or_implausible(app, session_examen, naissance, message):
    """The rule of the form, checked again on the server (identite.probleme_date_naissance)."""
    from portal.services import ServiceError, candidatures

    ctx = candidatures.Contexte(session_examen, "public")
    candidat = {"nom_naissance": "MARTIN", "prenom1": "Léa", "sexe": "F", "date_naissance": naissance,
                "statut": "individuel"}
    with pytest.raises(ServiceError, match=message) as raised:
        candidatures.check_candidat(ctx, candidat)
    assert raised.value.field == "date_naissance"
    candidatures.check_candidat(ctx, {**candidat, "date_naissance": date(2000, 1, 1)})
