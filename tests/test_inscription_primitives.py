"""Numbering, versions and the one-active-registration rule, at the service level."""
from __future__ import annotations

import pytest

from portal.extensions import db
from portal.services import ServiceError
from portal.services.inscriptions import set_cancelled


def test_numbers_follow_each_other_and_start_at_version_zero(session_examen, make_specialite, make_inscription):
    specialite = make_specialite("CAP")
    first = make_inscription(session_examen, specialite)
    second = make_inscription(session_examen, specialite)
    assert (first.numero, first.version) == (1, 0)
    assert second.numero == 2
    assert first.versions[0].code_verification != second.versions[0].code_verification


def test_same_person_cannot_hold_two_active_registrations_for_one_exam(session_examen, make_specialite,
                                                                         make_inscription):
    specialite = make_specialite("CAP")
    person = {"nom_naissance": "Dupont", "prenom1": "Léa"}
    make_inscription(session_examen, specialite, candidat=person)
    with pytest.raises(ServiceError, match="inscription active existe déjà"):
        make_inscription(session_examen, specialite, candidat={"nom_naissance": "DUPONT", "prenom1": "Lea"})
    db.session.rollback()
    # the refused attempt consumed no number
    third = make_inscription(session_examen, specialite)
    assert third.numero == 2


def test_cancelled_registration_frees_the_person_and_cannot_be_reactivated_twice(session_examen, make_specialite,
                                                                                   make_inscription):
    specialite = make_specialite("BCP")
    person = {"nom_naissance": "Martin", "prenom1": "Noé"}
    first = make_inscription(session_examen, specialite, candidat=person, statut="annulee")
    make_inscription(session_examen, specialite, candidat=person)
    with pytest.raises(ServiceError, match="ne peut pas être réactivée"):
        set_cancelled(first, False, par="test")
    db.session.rollback()
    assert db.session.get(type(first), first.id).statut == "annulee"


def test_each_change_takes_the_next_change_number(session_examen, make_specialite, make_inscription):
    specialite = make_specialite("CAP")
    inscription = make_inscription(session_examen, specialite)
    before = inscription.seq
    set_cancelled(inscription, True, par="test")
    db.session.commit()
    assert inscription.seq == before + 1
    assert session_examen.dernier_changement == inscription.seq
