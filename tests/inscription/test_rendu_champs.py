"""Fields of the registration steps: an empty field's markup is kept per process, an
answered or erroneous one is always drawn afresh (no pupil's answer is ever kept)."""
from __future__ import annotations

from werkzeug.datastructures import MultiDict

from portal import ui
from portal.etapes import IdentiteForm
from portal.models import LIBELLES


def identite(formdata=None, *, ine_requis=False) -> IdentiteForm:
    return IdentiteForm(formdata=formdata, statuts=["scolaire", "apprenti"], libelles=LIBELLES["statut_candidat"],
                        ine_requis=ine_requis, meta={"csrf": False})


def test_an_answer_is_shown_to_its_pupil_and_never_kept_for_the_next(app):
    with app.test_request_context("/inscription/etape/identite"):
        empty = str(ui.input(identite().nom_naissance, maxlength=60))
        answered = identite(MultiDict({"nom_naissance": "Lefèvre", "sexe": "F", "statut": "apprenti"}))
        assert 'value="Lefèvre"' in str(ui.input(answered.nom_naissance, maxlength=60))
        assert "checked" in str(ui.radios(answered.sexe, inline=True))
        assert 'value="apprenti"' in str(ui.radios(answered.statut))
        # The next pupil's empty page: the same markup as before, nothing of the answer.
        again = identite()
        assert str(ui.input(again.nom_naissance, maxlength=60)) == empty
        assert "checked" not in str(ui.radios(again.sexe, inline=True))
        assert "checked" not in str(ui.radios(again.statut))


def test_errors_are_drawn_for_their_form_only(app):
    with app.test_request_context("/inscription/etape/identite", method="POST"):
        refused = identite(MultiDict({"nom_naissance": ""}))
        assert not refused.validate()
        assert "fr-input-group--error" in str(ui.input(refused.nom_naissance, maxlength=60))
        assert "fr-fieldset--error" in str(ui.radios(refused.sexe, inline=True))
        fresh = identite()
        assert "error" not in str(ui.input(fresh.nom_naissance, maxlength=60))
        assert "error" not in str(ui.radios(fresh.sexe, inline=True))


def test_kept_markup_follows_what_the_field_is_made_of(app):
    with app.test_request_context("/inscription/etape/identite"):
        optional = str(ui.input(identite().ine, optional=True, maxlength=11))
        required = str(ui.input(identite(ine_requis=True).ine, optional=False, maxlength=11))
        assert "(facultatif)" in optional and " required" not in optional
        assert "(facultatif)" not in required and " required" in required
        assert 'maxlength="11"' in optional
        # Same call, other validators: the control's own "required" follows the form.
        assert " required" not in str(ui.input(identite().ine, maxlength=11))
        assert " required" in str(ui.input(identite(ine_requis=True).ine, maxlength=11))
        assert 'maxlength="12"' in str(ui.input(identite().ine, optional=True, maxlength=12))
        # Other status choices (another kind of school) give other options.
        other = IdentiteForm(formdata=None, statuts=["individuel"], libelles=LIBELLES["statut_candidat"],
                             meta={"csrf": False})
        assert "Candidat individuel" in str(ui.radios(other.statut))
        assert "Candidat individuel" not in str(ui.radios(identite().statut))
