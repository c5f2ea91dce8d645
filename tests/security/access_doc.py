"""Writes docs/access-matrix.md from the ``@allow`` declarations of the routes."""
from __future__ import annotations

from pathlib import Path

MATRIX_FILE = Path(__file__).resolve().parents[2] / "docs" / "access-matrix.md"
COLUMNS = ("tous", "poste", "candidat", "etablissement_mdp_defaut", "etablissement",
           "gestionnaire_mdp_initial", "gestionnaire", "admin", "api")


def render_matrix(app) -> str:
    lines = [
        "# Matrice d'accès",
        "",
        "Générée depuis les déclarations `@allow` des routes (`python -m tests.security.access_doc`).",
        "Le test `tests/security/test_access_matrix.py` vérifie qu'elle est à jour et que chaque",
        "route refuse tout visiteur qui n'y figure pas. « x » : autorisé.",
        "",
        "| Route | Méthodes | " + " | ".join(COLUMNS) + " |",
        "|---|---|" + "---|" * len(COLUMNS),
    ]
    rules = sorted((r for r in app.url_map.iter_rules() if r.endpoint != "static"), key=lambda r: (r.rule, r.endpoint))
    for rule in rules:
        declared = app.view_functions[rule.endpoint].access
        methods = ", ".join(sorted(rule.methods - {"HEAD", "OPTIONS"}))
        cells = ["x" if k in declared else "" for k in COLUMNS]
        lines.append(f"| `{rule.rule}` ({rule.endpoint}) | {methods} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    from portal import create_app
    from portal.config import TestingConfig

    app = create_app(TestingConfig)
    MATRIX_FILE.write_text(render_matrix(app), encoding="utf-8")
    print(f"wrote {MATRIX_FILE}")


if __name__ == "__main__":
    main()
