"""Dashboard charts drawn on the server with pygal, embedded as images.

The SVG is never inlined in the page (pygal adds a script to it): it becomes a
``data:image/svg+xml`` URL, which the CSP allows for images and in which no script runs.
Each chart is paired with its table in the page, which is its text alternative.
"""
from __future__ import annotations

import base64
from collections.abc import Sequence

import pygal
from pygal.style import Style

from ..services.suivi import Ligne

STYLE = Style(background="white", plot_background="white", foreground="#161616", foreground_strong="#161616",
              foreground_subtle="#666666", colors=("#000091", "#c9191e", "#18753c", "#b34000"),
              font_family="Marianne, Arial, sans-serif")
OPTIONS = dict(style=STYLE, js=[], disable_xml_declaration=True, show_legend=True, legend_at_bottom=True,
               print_values=False, width=800, height=400, truncate_label=40)


def _data_url(chart) -> str:
    svg = chart.render(is_unicode=True)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def barres(titre: str, lignes: Sequence[Ligne], *, horizontal: bool = False, annulees: bool = True) -> str:
    chart = (pygal.HorizontalBar if horizontal else pygal.Bar)(title=titre, **OPTIONS)
    chart.x_labels = [ligne.code or ligne.libelle for ligne in lignes]
    chart.add("Actives", [ligne.actives for ligne in lignes])
    if annulees:
        chart.add("Annulées", [ligne.annulees for ligne in lignes])
    return _data_url(chart)


def courbe(titre: str, lignes: Sequence[Ligne]) -> str:
    chart = pygal.Line(title=titre, x_label_rotation=45, show_legend=False, **{k: v for k, v in OPTIONS.items()
                                                                            if k != "show_legend"})
    chart.x_labels = [ligne.libelle for ligne in lignes]
    chart.add("Inscriptions créées", [ligne.actives for ligne in lignes])
    return _data_url(chart)


def camembert(titre: str, actives: int, annulees: int) -> str:
    chart = pygal.Pie(title=titre, **OPTIONS)
    chart.add("Actives", actives)
    chart.add("Annulées", annulees)
    return _data_url(chart)
