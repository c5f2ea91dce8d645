"""The audit trail (SECURITY items 8 and 34).

A full scenario through the routes: logins (failed, locked out, successful), first-login
password change, registration-password change and reset, an access refused, loads
(start, end, row count), exports, lock and unlock, registrations created, modified and
cancelled. Each event is one structured row (UTC time, actor, establishment, address,
action, object, outcome); no password, secret or token appears anywhere in the trail;
control characters typed by a visitor are escaped; no route edits or deletes the trail.
"""
from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from portal.extensions import db, limiter
from portal.models import AuditEvent, Etablissement, Inscription, utcnow
from tests.conftest import STRONG_PASSWORD
from tests.gestionnaire.chargements_support import exemple, upload
from tests.inscription.conftest import publish  # noqa: F401
from tests.public.test_public_flow import SECRET, register as register_public

ROOT = Path(__file__).resolve().parents[2]
IP = "192.0.2.77"
NEW_HEAD_PASSWORD = "Nouveau mot de passe du chef 2027"
POSTE_PASSWORD = "Mot de passe des postes du lycée 2027"


@pytest.fixture
def app_overrides(tmp_path):
    return {"CHARGEMENTS_DIR": str(tmp_path / "chargements")}


def _client(app):
    http = app.test_client()
    http.environ_base["REMOTE_ADDR"] = IP
    return http


def _events(action: str, **where) -> list[AuditEvent]:
    stmt = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    for name, value in where.items():
        stmt = stmt.where(getattr(AuditEvent, name) == value)
    return list(db.session.scalars(stmt))


@pytest.fixture
def scenario(app, session_examen, make_specialite, make_etablissement, make_gestionnaire, publish,  # noqa: F811
             open_service):
    limiter.reset()
    cap = make_specialite("CAP", libelle="Cuisine")
    publish(session_examen, cap)
    open_service(session_examen, "etablissement")
    open_service(session_examen, "public")
    etab = make_etablissement(specialites=[cap])  # default passwords: the code
    admin = make_gestionnaire(role="admin")
    secrets = {STRONG_PASSWORD, NEW_HEAD_PASSWORD, POSTE_PASSWORD, SECRET, etab.code + "-faux"}

    head = _client(app)
    for _ in range(5):
        head.post("/etablissement/connexion", data={"code": etab.code, "password": etab.code + "-faux"})
    assert head.post("/etablissement/connexion", data={"code": etab.code, "password": etab.code}).status_code == 429
    limiter.reset()
    assert head.post("/etablissement/connexion", data={"code": etab.code, "password": etab.code}).status_code == 302
    assert head.post("/etablissement/mot-de-passe", data={
        "current_password": etab.code, "new_password": NEW_HEAD_PASSWORD,
        "confirmation": NEW_HEAD_PASSWORD}).status_code == 302
    assert head.post("/etablissement/mot-de-passe-inscription", data={
        "current_password": NEW_HEAD_PASSWORD,
        "new_password": POSTE_PASSWORD, "confirmation": POSTE_PASSWORD}).status_code == 302
    assert head.post("/etablissement/service/ouvrir").status_code == 302
    assert head.get("/gestionnaire/comptes").status_code == 302  # refused: not a manager

    poste = _client(app)
    assert poste.post("/inscription/", data={"code": etab.code, "password": POSTE_PASSWORD}).status_code == 302
    from tests.inscription.conftest import CONTACT, IDENTITE

    for step, data in (("identite", IDENTITE), ("contact", CONTACT), ("specialite", {"specialite": str(cap.id)})):
        assert poste.post(f"/inscription/etape/{step}", data=data).status_code == 302
    assert poste.post("/inscription/recapitulatif").status_code == 302
    pupil = db.session.scalar(select(Inscription).where(Inscription.etablissement_id == etab.id))

    assert head.get("/etablissement/listes/alphabetique/csv").status_code == 200
    assert head.post("/etablissement/validation", data={"ids": [pupil.id], "annulee": [pupil.id]}).status_code == 302

    candidate = _client(app)
    assert register_public(candidate, cap).status_code == 302
    public = db.session.scalar(select(Inscription).where(Inscription.source == "public"))
    start = candidate.post(f"/public/inscriptions/{public.id}/modifier")
    assert start.status_code == 302
    changed = {**_public_steps(cap), "contact": {**_public_steps(cap)["contact"], "commune": "Villeurbanne",
                                                 "code_postal": "69100"}}
    for step, data in changed.items():
        assert candidate.post(f"/public/inscriptions/{public.id}/modifier/{step}", data=data).status_code == 302
    assert candidate.post(f"/public/inscriptions/{public.id}/modifier/recapitulatif").status_code == 302

    manager = _client(app)
    assert manager.post("/gestionnaire/connexion", data={"email": "evil\nINJECTED: admin ok",
                                                         "password": "mauvais"}).status_code == 200
    assert manager.post("/gestionnaire/connexion", data={"email": admin.email,
                                                         "password": STRONG_PASSWORD}).status_code == 302
    assert manager.post("/gestionnaire/verrou", data={"motif": "chargement\r\nfaux: oui"}).status_code == 302
    response = upload(manager, exemple("specialites.csv"), "specialites")
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert manager.post(response.headers["Location"] + "/appliquer").status_code == 302
    assert manager.post("/gestionnaire/verrou/lever").status_code == 302
    export = manager.post("/gestionnaire/dechargements/complet")
    assert export.status_code == 200 and export.get_data()  # read whole: the unload then counts as sent
    export.close()
    assert manager.post(f"/gestionnaire/etablissements/{etab.code}/mots-de-passe",
                        data={"confirmation": "oui"}).status_code == 302
    token_page = manager.post("/gestionnaire/jetons-api", data={"nom": "aval"}).get_data(as_text=True)
    secrets.add(re.search(r'id="jeton-clair">([^<]+)<', token_page).group(1))

    db.session.expire_all()
    etab = db.session.get(Etablissement, etab.id)
    for http in (head, poste, candidate, manager):
        with http.session_transaction() as sess:
            secrets.update(v for v in (sess.get("csrf_token"),) if v)
    secrets.update({etab.suivi_token, etab.inscription_token, public.session_token,
                    db.session.get(type(admin), admin.id).session_token})
    return {"etab": etab, "admin": admin, "pupil": pupil, "public": public, "secrets": secrets}


def _public_steps(cap) -> dict:
    from tests.public.test_public_flow import PUBLIC_CONTACT, PUBLIC_IDENTITE

    return {"identite": PUBLIC_IDENTITE, "contact": PUBLIC_CONTACT, "specialite": {"specialite": str(cap.id)}}


EXPECTED = [
    # action, outcome, actor type, with the establishment code
    ("etablissement.connexion", "echec", "anonyme", False),
    ("etablissement.connexion", "refus", "anonyme", False),
    ("etablissement.connexion", "succes", "etablissement", True),
    ("etablissement.mot_de_passe_suivi", "succes", "etablissement", True),
    ("etablissement.mot_de_passe_inscription", "succes", "etablissement", True),
    ("etablissement.service_ouvert", "succes", "etablissement", True),
    ("acces.refuse", "refus", "etablissement", True),
    ("poste.ouvert", "succes", "poste_inscription", True),
    ("inscription.creee", "succes", "poste_inscription", True),
    ("etablissement.telechargement", "succes", "etablissement", True),
    ("inscription.annulee", "succes", "etablissement", True),
    ("inscription.creee", "succes", "anonyme", False),
    ("inscription.modifiee", "succes", "candidat", False),
    ("gestionnaire.connexion", "echec", "anonyme", False),
    ("gestionnaire.connexion", "succes", "gestionnaire", False),
    ("verrou.pose", "succes", "gestionnaire", False),
    ("echange.debute", "succes", "gestionnaire", False),
    ("echange.termine", "succes", "gestionnaire", False),
    ("verrou.leve", "succes", "gestionnaire", False),
    ("dechargement.csv", "succes", "gestionnaire", False),
    ("etablissement.mots_de_passe_reinitialises", "succes", "gestionnaire", True),
    ("api_token.cree", "succes", "gestionnaire", False),
]


def test_each_event_is_one_structured_row(scenario):
    problems = []
    for action, outcome, actor_type, with_etab in EXPECTED:
        rows = [e for e in _events(action, outcome=outcome) if e.actor_type == actor_type]
        if not rows:
            problems.append(f"no {action}/{outcome} event by {actor_type}")
            continue
        event = rows[-1]
        if abs(event.at - utcnow()) > timedelta(minutes=5):  # naive UTC, not Paris time
            problems.append(f"{action}: time {event.at} is not UTC")
        if event.ip != IP or not event.actor_label or not (event.objet_type or event.objet_id or event.details):
            problems.append(f"{action}: incomplete row {event.ip!r} {event.actor_label!r} {event.objet_type!r}")
        if with_etab and event.etablissement_code != scenario["etab"].code:
            problems.append(f"{action}: establishment {event.etablissement_code!r}")
    assert problems == []


def test_a_load_records_its_start_its_end_and_its_row_count(scenario):
    end = _events("echange.termine")[-1]
    assert end.details["type"] == "specialites" and end.details["lignes"] > 0
    assert end.objet_type == "Echange" and end.objet_id == _events("echange.debute")[-1].objet_id


def test_registration_events_name_the_registration_and_its_establishment(scenario):
    created = _events("inscription.creee", objet_id=str(scenario["pupil"].id))
    assert len(created) == 1 and created[0].etablissement_code == scenario["etab"].code
    cancelled = _events("inscription.annulee", objet_id=str(scenario["pupil"].id))
    assert len(cancelled) == 1
    modified = _events("inscription.modifiee", objet_id=str(scenario["public"].id))
    assert modified[0].details["avant"]["commune"] == "Lyon"
    assert modified[0].details["apres"]["commune"] == "Villeurbanne"


def _all_rows_text() -> str:
    rows = db.session.scalars(select(AuditEvent)).all()
    return "\n".join(json.dumps({c.key: getattr(r, c.key) for c in AuditEvent.__table__.columns},
                                default=str, ensure_ascii=False) for r in rows)


def test_no_password_secret_or_token_is_ever_written(scenario):
    trail = _all_rows_text()
    assert len(scenario["secrets"]) >= 10
    for secret in scenario["secrets"]:
        assert secret not in trail, f"secret found in the audit trail: {secret[:6]}…"


def test_control_characters_typed_by_visitors_are_escaped(scenario):
    for event in db.session.scalars(select(AuditEvent)):
        for column in AuditEvent.__table__.columns:
            value = getattr(event, column.key)
            text = json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else str(value)
            assert not re.search(r"[\x00-\x1f\x7f]", text), (event.action, column.key, text[:200])
    failed = [e for e in _events("gestionnaire.connexion", outcome="echec")
              if "injected" in json.dumps(e.details).lower()]
    assert failed and "\\x0a" in failed[0].details["email"]
    motif = _events("verrou.pose")[-1].details["motif"]
    assert motif == "chargement\\x0d\\x0afaux: oui"


def test_no_route_edits_or_deletes_the_trail(app):
    for rule in app.url_map.iter_rules():
        if "journal" in rule.rule or "audit" in rule.rule or "audit" in rule.endpoint:
            assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "portal").rglob("*.py"))
    assert not re.search(r"(delete|update)\(\s*AuditEvent", source)

