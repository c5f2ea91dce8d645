"""The draft of a registration stays on the server: the session cookie carries no personal data."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from portal.extensions import db
from portal.models import Brouillon, utcnow
from tests.inscription.conftest import CONTACT, IDENTITE


def _session_cookie_payload(app, client) -> str:
    serializer = app.session_interface.get_signing_serializer(app)
    return repr(serializer.loads(client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value))


def _drafts() -> int:
    return db.session.scalar(select(func.count()).select_from(Brouillon))


def test_pupil_answers_are_kept_on_the_server_not_in_the_cookie(app, client, poste):
    client.post("/inscription/etape/identite", data=IDENTITE)
    client.post("/inscription/etape/contact", data=CONTACT)
    payload = _session_cookie_payload(app, client)
    for secret in ("Lefèvre", "Léa", "2008-05-17", "lea@example.org", "06 12 34 56 78"):
        assert secret not in payload
    assert _drafts() == 1
    page = client.get("/inscription/etape/identite").get_data(as_text=True)
    assert "Lefèvre" in page


def test_new_registration_deletes_the_previous_pupils_draft(client, poste):
    client.post("/inscription/etape/identite", data=IDENTITE)
    assert _drafts() == 1
    client.post("/inscription/nouvelle")
    assert _drafts() == 0
    assert "Lefèvre" not in client.get("/inscription/etape/identite").get_data(as_text=True)


def test_confirmed_registration_leaves_no_answer_in_the_draft(client, poste, register):
    # Issue 15 (double submission): the draft becomes the record of what was saved, so that a
    # second submission answers with the same registration; none of the answers remain.
    response = register(poste.specialites["CAP"])
    assert response.status_code == 302
    assert _drafts() == 1
    (donnees,) = db.session.scalars(select(Brouillon.donnees)).all()
    assert set(donnees) == {"soumis"} and donnees["soumis"]["numero_version"] == "1-0"
    for secret in ("Lefèvre", "Léa", "2008-05-17", "lea@example.org", "06 12 34 56 78"):
        assert secret not in repr(donnees)
    client.post("/inscription/nouvelle")
    assert _drafts() == 0


def test_a_draft_left_six_hours_is_forgotten_and_purged(client, poste):
    client.post("/inscription/etape/identite", data=IDENTITE)
    client.post("/inscription/etape/contact", data=CONTACT)
    db.session.execute(update(Brouillon).values(updated_at=utcnow() - timedelta(hours=7)))
    db.session.add(Brouillon(id="abandonne", donnees={"identite": {"nom_naissance": "ANCIEN"}},
                             updated_at=utcnow() - timedelta(hours=7)))
    db.session.commit()
    assert "Lefèvre" not in client.get("/inscription/etape/identite").get_data(as_text=True)
    # Answering again starts from nothing: the stale contact answers are not carried over.
    client.post("/inscription/etape/identite", data=IDENTITE)
    assert "lea@example.org" not in client.get("/inscription/etape/contact").get_data(as_text=True)
    # A new draft purges the abandoned ones of other computers.
    client.post("/inscription/nouvelle")
    client.post("/inscription/etape/identite", data=IDENTITE)
    db.session.expire_all()
    assert db.session.get(Brouillon, "abandonne") is None
    assert _drafts() == 1


def test_later_steps_keep_the_draft_without_a_new_cookie(client, poste):
    first = client.post("/inscription/etape/identite", data=IDENTITE)
    assert "Set-Cookie" in first.headers  # the draft's id enters the session
    response = client.post("/inscription/etape/contact", data=CONTACT)
    assert response.status_code == 302
    # Same draft, same session: no cookie signed and sent again for nothing.
    assert "Set-Cookie" not in response.headers
    assert "lea@example.org" in client.get("/inscription/etape/contact").get_data(as_text=True)
    assert _drafts() == 1
