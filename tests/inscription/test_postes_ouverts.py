"""Issue 15 point 9: "Fermer le poste" ends that school computer's session on the server
(a copied cookie stops working) without closing the school's other computers."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from portal.extensions import db
from portal.models import AuditEvent, PosteOuvert, utcnow
from tests.conftest import STRONG_PASSWORD

STEP = "/inscription/etape/identite"


def copy_of(app, client):
    """Another browser holding a copy of this one's session cookie."""
    cookie = client.get_cookie("session")
    assert cookie is not None
    copy = app.test_client()
    copy.set_cookie("session", cookie.value)
    return copy


def opened() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(PosteOuvert))


def test_closing_a_computer_ends_a_copied_cookie_but_not_the_other_computers(app, client, poste, open_poste):
    other = app.test_client()
    assert open_poste(poste.etab, STRONG_PASSWORD, http=other).status_code == 302
    copy = copy_of(app, client)
    assert copy.get(STEP).status_code == 200 and opened() == 2

    closed = client.post("/inscription/fermer")

    assert closed.headers["Location"].endswith("/inscription/")
    assert copy.get(STEP).headers["Location"].endswith("/inscription/")
    assert client.get(STEP).headers["Location"].endswith("/inscription/")
    assert other.get(STEP).status_code == 200
    assert opened() == 1
    closings = select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "poste.ferme")
    assert db.session.scalar(closings) == 1


def test_the_button_says_what_it_does(client, poste):
    page = client.get(STEP).get_data(as_text=True)
    assert "Fermer le poste" in page and "Se déconnecter" not in page


def test_an_expired_computer_is_refused_and_purged_when_another_opens(app, client, poste, open_poste):
    old = app.config["SESSION_ABSOLUTE_LIFETIME"] + timedelta(minutes=1)
    db.session.execute(update(PosteOuvert).values(opened_at=utcnow() - old))
    db.session.commit()
    copy = copy_of(app, client)
    assert copy.get(STEP).headers["Location"].endswith("/inscription/")

    assert open_poste(poste.etab, STRONG_PASSWORD, http=app.test_client()).status_code == 302

    assert opened() == 1  # the expired row is gone, the new one kept


def test_a_session_without_a_computer_row_is_refused(app, client, poste):
    db.session.execute(PosteOuvert.__table__.delete())
    db.session.commit()
    assert client.get(STEP).headers["Location"].endswith("/inscription/")


def test_resetting_the_passwords_closes_every_computer_of_the_school(app, client, poste):
    from portal.services import etablissements

    with app.test_request_context():
        etab = db.session.get(type(poste.etab), poste.etab.id)
        etablissements.reset_passwords(etab)
        db.session.commit()
    assert opened() == 0
    assert client.get(STEP).headers["Location"].endswith("/inscription/")
