"""The OpenAPI 3.1 document of the JSON API, served at ``/api/v1/openapi.json``."""
from __future__ import annotations

from typing import Any

from .. import dossier
from ..models import FORMES, SOURCES, STATUTS_INSCRIPTION

LIMIT_DEFAULT = 500
LIMIT_MAX = 5000
# Requests per minute for one token (or, without a token, for one address), every API URL together.
RATE_PER_MINUTE = 120


def _string(description: str, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "description": description, **extra}


# The candidate record's schema comes from its declaration (portal/dossier.py).
CANDIDAT_SCHEMA: dict[str, Any] = dossier.schema_json()

INSCRIPTION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["numero", "version", "numero_version", "statut", "seq", "source", "examen", "specialite",
                 "forme", "section_europeenne", "candidat", "cree_le", "modifie_le"],
    "properties": {
        "numero": {"type": "integer", "description": "Numéro d'inscription N, unique dans la session."},
        "version": {"type": "integer", "minimum": 0, "description": "Version V, augmentée à chaque modification."},
        "numero_version": _string("Numéro imprimé sur la confirmation, « N-V »."),
        "statut": _string("État de l'inscription ; une annulation est un changement comme un autre.",
                          enum=list(STATUTS_INSCRIPTION)),
        "seq": {"type": "integer", "description": "Numéro de changement dans la session (curseur)."},
        "source": _string("Service d'inscription.", enum=list(SOURCES)),
        "etablissement": {"type": ["string", "null"], "description": "Code de l'établissement (null : candidat individuel)."},
        "examen": _string("Code de l'examen."),
        "specialite": _string("Code de la spécialité."),
        "specialite_libelle": _string("Libellé de la spécialité."),
        "forme": _string("Forme de passage.", enum=list(FORMES)),
        "section_europeenne": {"type": "boolean", "description": "Section européenne demandée."},
        "candidat": {"$ref": "#/components/schemas/Candidat"},
        "cree_le": _string("Date de création (UTC).", format="date-time"),
        "modifie_le": _string("Date du dernier changement (UTC).", format="date-time"),
        "annulee_le": {"type": ["string", "null"], "format": "date-time", "description": "Date d'annulation (UTC)."},
    },
}

PAGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["inscriptions", "next_cursor", "has_more"],
    "properties": {
        "inscriptions": {"type": "array", "items": {"$ref": "#/components/schemas/Inscription"}},
        "next_cursor": {"type": "integer", "description": "Valeur à renvoyer dans « since » à l'appel suivant."},
        "has_more": {"type": "boolean", "description": "D'autres changements suivent : rappeler immédiatement."},
    },
}

ERREUR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["erreur", "message"],
    "properties": {"erreur": _string("Intitulé de l'erreur."), "message": _string("Explication en français.")},
}


def _error(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response = {"description": description,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Erreur"}}}}
    if headers:
        response["headers"] = headers
    return response


WWW_AUTHENTICATE = {"WWW-Authenticate": {
    "description": "Défi RFC 6750 : « Bearer realm=\"portal\" », avec error=\"invalid_token\" quand un "
                   "jeton a été présenté mais n'est pas valide.",
    "schema": {"type": "string"}}}
RETRY_AFTER = {"Retry-After": {"description": "Secondes à attendre avant de rappeler.",
                               "schema": {"type": "integer", "minimum": 1}}}


def openapi_document(*, server_url: str, version: str = "1.0.0") -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Portail de préinscription : déchargement des inscriptions",
            "version": version,
            "description": (
                "Changements des inscriptions de la session en cours (créations, modifications, annulations, "
                "réactivations), dans l'ordre de leur validation. Chaque appel renvoie les inscriptions dont le "
                "numéro de changement est supérieur à « since », dans leur état actuel ; renvoyer « next_cursor » "
                "dans « since » à l'appel suivant. Chaque changement est ainsi transmis une seule fois. "
                f"Au plus {RATE_PER_MINUTE} requêtes par minute et par jeton (par adresse sans jeton) ; "
                "au-delà, réponse 429 avec l'en-tête « Retry-After »."
            ),
        },
        "servers": [{"url": server_url}],
        "security": [{"bearerAuth": []}],
        "paths": {
            "/inscriptions": {
                "get": {
                    "operationId": "listInscriptions",
                    "summary": "Changements des inscriptions depuis un curseur",
                    "parameters": [
                        {"name": "since", "in": "query", "required": False,
                         "description": "Curseur : dernier numéro de changement déjà reçu (0 au départ).",
                         "schema": {"type": "integer", "minimum": 0, "default": 0}},
                        {"name": "limit", "in": "query", "required": False,
                         "description": "Nombre maximal d'inscriptions renvoyées.",
                         "schema": {"type": "integer", "minimum": 1, "maximum": LIMIT_MAX,
                                    "default": LIMIT_DEFAULT}},
                    ],
                    "responses": {
                        "200": {"description": "Une page de changements.",
                                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Page"}}}},
                        "400": _error("Paramètre « since » ou « limit » invalide."),
                        "401": _error("Jeton absent, inconnu ou révoqué.", WWW_AUTHENTICATE),
                        "404": _error("Aucune session d'examen en cours."),
                        "429": _error(f"Plus de {RATE_PER_MINUTE} requêtes en une minute.", RETRY_AFTER),
                    },
                }
            }
        },
        "components": {
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer",
                               "description": "Jeton d'accès créé par un administrateur du rectorat."}
            },
            "schemas": {"Inscription": INSCRIPTION_SCHEMA, "Candidat": CANDIDAT_SCHEMA, "Page": PAGE_SCHEMA,
                        "Erreur": ERREUR_SCHEMA},
        },
    }
