from portal.models import Inscription
from portal.extensions import db
from sqlalchemy import select


def test_smoke(client, poste, register):
    r = client.get("/inscription/etape/identite")
    assert r.status_code == 200, r.get_data(as_text=True)
    r = register(poste.specialites["BCP"], forme="progressive", europe="oui")
    assert r.status_code == 302, r.get_data(as_text=True)
    r = client.get(r.headers["Location"])
    ins = db.session.scalar(select(Inscription))
    assert ins.numero_version == "1-0"
