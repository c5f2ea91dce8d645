"""The candidate record is declared once (portal/dossier.py): the step forms, the draft of a
modification, the confirmation snapshot, the CSV and JSON exports and the OpenAPI document
all carry exactly its fields, with the model's lengths."""
from __future__ import annotations

import re
from datetime import date

from portal import dossier
from portal.api.openapi import CANDIDAT_SCHEMA
from portal.etapes import ContactForm, IdentiteForm
from portal.models import Candidat
from portal.services import exports
from portal.services.inscriptions import snapshot
from tests.inscription.conftest import text

# Columns of candidats that are not part of the record: the key, and the sort key derived from
# the names (models.CLES_TRI).
DERIVES = {"id", "cle_tri"}


def test_every_column_of_the_candidate_is_declared_once():
    colonnes = set(Candidat.__table__.c.keys()) - DERIVES
    assert set(dossier.NOMS) == colonnes
    assert len(dossier.NOMS) == len(set(dossier.NOMS))
    assert {c.etape for c in dossier.CHAMPS} == {"identite", "contact"}


def test_the_step_forms_ask_the_declared_fields_with_their_labels_and_lengths(app):
    with app.test_request_context():
        for etape, form in (("identite", IdentiteForm(meta={"csrf": False})),
                            ("contact", ContactForm(meta={"csrf": False}))):
            assert [f.name for f in form] == list(dossier.de_l_etape(etape))
            for field in form:
                champ = dossier.PAR_NOM[field.name]
                assert field.label.text == champ.libelle
                if champ.longueur and not champ.valeurs and field.name != "ine":  # INE: a fixed pattern
                    assert field.flags.maxlength == champ.longueur, field.name


def test_the_step_page_limits_each_field_to_the_length_of_its_column(client, poste):
    page = text(client.get("/inscription/etape/identite"))
    for nom in ("nom_naissance", "prenom1", "commune_naissance", "nationalite"):
        control = re.search(rf'<input [^>]*id="{nom}"[^>]*>', page).group(0)
        assert f'maxlength="{dossier.PAR_NOM[nom].longueur}"' in control, control


def test_snapshot_csv_json_and_openapi_carry_the_whole_record(app, session_examen, make_specialite, make_inscription):
    valeurs = {"nom_naissance": "DUPONT", "nom_usage": "MARTIN", "prenom1": "Léa", "prenom2": "Anne",
               "prenom3": "Marie", "sexe": "F", "date_naissance": date(2008, 5, 17), "commune_naissance": "Lyon",
               "pays_naissance": "France", "nationalite": "Française", "ine": "123456789AB",
               "statut": "individuel", "email": "lea@example.org", "telephone": "0612345678",
               "adresse1": "1 rue de la Paix", "adresse2": "Bâtiment B", "code_postal": "69001",
               "commune": "Lyon", "pays": "France"}
    assert set(valeurs) == set(dossier.NOMS)
    inscription = make_inscription(session_examen, make_specialite("BCP"), candidat=valeurs)
    attendu = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in valeurs.items()}

    assert snapshot(inscription)["candidat"] == attendu
    [item], _, _ = exports.page_since(session_examen, 0, 10)
    assert item["candidat"] == attendu
    assert set(CANDIDAT_SCHEMA["properties"]) == set(dossier.NOMS)
    assert all(CANDIDAT_SCHEMA["properties"][c.nom].get("maxLength") == c.longueur
               for c in dossier.CHAMPS if not (c.format or c.valeurs))
    for c in dossier.CHAMPS:
        assert c.colonne_csv in exports.ENTETE
