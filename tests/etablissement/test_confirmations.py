"""Confirmations of one specialty: one PDF, one confirmation per active candidate, stored once."""
from __future__ import annotations

import io
from datetime import date

from pypdf import PdfReader
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEvent, ConfirmationPdf
from portal.services import confirmations, inscriptions


def pdf_pages(content: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(content)).pages]


def stored_count() -> int:
    return db.session.scalar(select(func.count()).select_from(ConfirmationPdf))


def test_one_confirmation_per_active_candidate(logged, etab, bcp, cap, session_examen, make_inscription):
    a = make_inscription(session_examen, bcp, etab, section_europeenne=True,
                         candidat={"nom_naissance": "ARNAUD", "prenom1": "Jules", "ine": "123456789AB"})
    make_inscription(session_examen, bcp, etab, candidat={"nom_naissance": "BARRE"})
    make_inscription(session_examen, bcp, etab, statut="annulee", candidat={"nom_naissance": "CANCEL"})
    make_inscription(session_examen, cap, etab, candidat={"nom_naissance": "AUTRESPE"})
    response = logged.get(f"/etablissement/confirmations/pdf?specialite={bcp.id}")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    text = "\n".join(pdf_pages(response.data))
    assert "ARNAUD" in text and "BARRE" in text
    assert "CANCEL" not in text and "AUTRESPE" not in text
    assert a.numero_version in text
    assert inscriptions.format_verification_code(a.versions[-1].code_verification) in text
    assert "/public/verifier" in text
    assert etab.nom in text and "BCP001" in text
    assert "Section européenne" in text
    assert "Conservez cette confirmation." in text
    assert stored_count() == 2
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "etablissement.telechargement"))
    assert audit.details["document"] == "confirmations"


def test_confirmation_is_stored_once_and_reused(app, etab, bcp, session_examen, make_inscription, monkeypatch):
    inscription = make_inscription(session_examen, bcp, etab, candidat={"nom_naissance": "STABLE"})
    with app.test_request_context():
        first = confirmations.confirmation_pdf(inscription)
        db.session.commit()
        calls = []
        monkeypatch.setattr(confirmations, "render_pages", lambda i: calls.append(i) or (b"rendered again", 1))
        second = confirmations.confirmation_pdf(inscription)
        batch = confirmations.confirmations_batch([inscription])
    assert second == first
    assert calls == []
    assert stored_count() == 1
    assert "STABLE" in pdf_pages(batch)[0]


def test_new_version_gets_a_new_confirmation(app, etab, bcp, session_examen, make_inscription):
    inscription = make_inscription(session_examen, bcp, etab)
    with app.test_request_context():
        confirmations.confirmation_pdf(inscription)
        inscription.version += 1
        inscriptions.add_version(inscription, auteur="test")
        db.session.flush()
        text = pdf_pages(confirmations.confirmation_pdf(inscription))[0]
        db.session.commit()
    assert f"{inscription.numero}-1" in text
    assert stored_count() == 2


def test_signature_boxes_depend_on_age_and_establishment(app, etab, bcp, session_examen, make_inscription):
    mineur = make_inscription(session_examen, bcp, etab, candidat={"date_naissance": date(2010, 1, 1)})
    majeur = make_inscription(session_examen, bcp, etab, candidat={"date_naissance": date(2000, 1, 1)})
    individuel = make_inscription(session_examen, bcp, None, candidat={"date_naissance": date(2000, 1, 1)})
    with app.test_request_context():
        texts = [pdf_pages(confirmations.render(i))[0] for i in (mineur, majeur, individuel)]
    assert "représentant légal" in texts[0] and "représentant légal" not in texts[1]
    assert "chef d'établissement" in texts[1]
    assert "chef d'établissement" not in texts[2] and "Candidat individuel" in texts[2]


def test_specialty_without_active_candidate_prints_nothing(logged, cap, session_examen):
    response = logged.get(f"/etablissement/confirmations/pdf?specialite={cap.id}", follow_redirects=True)
    assert "aucune confirmation à imprimer" in response.text
    assert stored_count() == 0


def test_choice_page_lists_the_establishment_specialties(logged, bcp, cap):
    page = logged.get("/etablissement/confirmations")
    assert "BCP001" in page.text and "CAP001" in page.text


def test_confirmation_fits_on_one_page_with_every_field(app, etab, bcp, session_examen, make_inscription):
    session_examen.texte_confirmation = (
        "Conservez cette confirmation. Vérifiez les informations ci-dessus : toute erreur doit être "
        "signalée à votre établissement avant la clôture des inscriptions.\n"
        "Les convocations seront envoyées au printemps.\n"
        "La signature du candidat vaut engagement sur l'exactitude des informations.")
    inscription = make_inscription(
        session_examen, bcp, etab, section_europeenne=True,
        condition="Sous réserve du justificatif de diplôme antérieur, à produire avant le 15 janvier.",
        candidat={"nom_naissance": "DE LA FONTAINE-MONTGOLFIER", "nom_usage": "DU PLESSIS-BELLIÈRE",
                  "prenom1": "Marie-Antoinette", "prenom2": "Éléonore", "prenom3": "Joséphine",
                  "date_naissance": date(2010, 1, 1), "commune_naissance": "Saint-Rémy-de-Provence",
                  "ine": "123456789AB", "adresse1": "12 rue des Écoles", "code_postal": "13210",
                  "adresse2": "Bâtiment C, escalier 4, appartement 1203, résidence des Grands Champs",
                  "commune": "Saint-Rémy-de-Provence", "pays": "France", "telephone": "0601020304"})
    with app.test_request_context():
        pages = pdf_pages(confirmations.confirmation_pdf(inscription))
    assert len(pages) == 1
    text = " ".join(pages[0].split())
    code = inscriptions.format_verification_code(inscription.versions[-1].code_verification)
    for expected in (session_examen.libelle, session_examen.academie, etab.nom, inscription.numero_version,
                     "DE LA FONTAINE-MONTGOLFIER", "DU PLESSIS-BELLIÈRE",
                     "Marie-Antoinette Éléonore Joséphine",
                     "123456789AB", "résidence des Grands Champs", "BCP001", "Métiers de l'électricité",
                     "Forme de passage Globale", "Section européenne Oui", "Sous réserve du justificatif",
                     "heure de Paris", code, "Signature du candidat", "représentant légal",
                     "Visa du chef d'établissement", "exactitude des informations", "Page 1 / 1"):
        assert expected in text


def test_batch_merges_one_page_per_candidate_at_its_current_version(app, etab, bcp, session_examen,
                                                                    make_inscription):
    first = make_inscription(session_examen, bcp, etab, candidat={"nom_naissance": "PREMIER"})
    second = make_inscription(session_examen, bcp, etab, candidat={"nom_naissance": "SECOND"})
    with app.test_request_context():
        confirmations.confirmations_batch([first, second])
        db.session.commit()
        second.version += 1
        inscriptions.add_version(second, auteur="test")
        db.session.commit()
        pages = pdf_pages(confirmations.confirmations_batch([first, second]))
        db.session.commit()
    assert len(pages) == 2
    assert "PREMIER" in pages[0] and f"{first.numero}-0" in pages[0]
    assert "SECOND" in pages[1] and f"{second.numero}-1" in pages[1] and f"{second.numero}-0" not in pages[1]
    assert stored_count() == 3
