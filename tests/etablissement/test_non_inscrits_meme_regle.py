"""The head's "élèves non inscrits" and the manager's page of the same establishment ask
the same questions of the same rows (issue 15, point 2): one implementation
(``listes.eleves_non_inscrits`` and ``listes.inscriptions_hors_base``) for both."""
from __future__ import annotations

from tests.conftest import STRONG_PASSWORD

NOMS = ("AINSCRIT", "BPARINE", "CATTENTE", "HORSACTIF", "HORSANNULE")


def _shown(html: str) -> set[str]:
    return {nom for nom in NOMS if nom in html}


def test_head_and_manager_pages_list_the_same_pupils_and_registrations(
        app, logged, etab, bcp, session_examen, examens, make_eleve, make_inscription, make_gestionnaire,
        login_gestionnaire):
    inscrit = make_eleve(etab, session_examen, examens["BCP"], nom="AINSCRIT")
    par_ine = make_eleve(etab, session_examen, examens["BCP"], nom="BPARINE")
    make_eleve(etab, session_examen, examens["BCP"], nom="CATTENTE")
    make_inscription(session_examen, bcp, etab, eleve=inscrit,
                     candidat={"nom_naissance": "AINSCRIT", "ine": inscrit.ine})
    # Registered without being matched to the pupil row (typed INE): registered all the same.
    make_inscription(session_examen, bcp, etab, candidat={"nom_naissance": "Bparine-Saisi", "ine": par_ine.ine})
    make_inscription(session_examen, bcp, etab, hors_base=True, candidat={"nom_naissance": "HORSACTIF"})
    make_inscription(session_examen, bcp, etab, hors_base=True, statut="annulee",
                     candidat={"nom_naissance": "HORSANNULE"})

    head = logged.get("/etablissement/eleves-non-inscrits")
    assert head.status_code == 200
    manager = app.test_client()
    login_gestionnaire(make_gestionnaire(password=STRONG_PASSWORD), http=manager)
    page = manager.get(f"/gestionnaire/etablissements/{etab.code}")
    assert page.status_code == 200

    assert _shown(head.get_data(as_text=True)) == {"CATTENTE", "HORSACTIF"}
    assert _shown(page.get_data(as_text=True)) == _shown(head.get_data(as_text=True))
