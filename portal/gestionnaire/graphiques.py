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

from ..services.suivi import CampagneExamen, Ligne, PartBase

STYLE = Style(background="white", plot_background="white", foreground="#161616", foreground_strong="#161616",
              foreground_subtle="#666666", colors=("#000091", "#c9191e", "#18753c", "#b34000"),
              font_family="Marianne, Arial, sans-serif")
A_JOUR, RETARD = "#000091", "#c9191e"
OPTIONS = dict(style=STYLE, js=[], disable_xml_declaration=True, show_legend=True, legend_at_bottom=True,
               print_values=False, width=800, height=400, truncate_label=40)


def _data_url(chart) -> str:
    svg = chart.render(is_unicode=True)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def _hauteur(n: int) -> int:
    """A horizontal bar chart grows with its bars, so that every name stays legible."""
    return max(240, 90 + 28 * n)


def barres(titre: str, lignes: Sequence[Ligne], *, horizontal: bool = False, annulees: bool = True) -> str:
    """Bars labelled with names (not codes), in the order of ``lignes`` (largest first):
    a horizontal chart draws its first bar at the bottom, so it gets them reversed."""
    ordered = list(reversed(lignes)) if horizontal else list(lignes)
    options = dict(OPTIONS, height=_hauteur(len(ordered))) if horizontal else OPTIONS
    chart = (pygal.HorizontalBar if horizontal else pygal.Bar)(title=titre, **options)
    chart.x_labels = [ligne.libelle for ligne in ordered]
    chart.add("Actives", [ligne.actives for ligne in ordered])
    if annulees:
        chart.add("Annulées", [ligne.annulees for ligne in ordered])
    return _data_url(chart)


def courbe_campagne(titre: str, campagnes: Sequence[CampagneExamen]) -> str:
    """Running total of active registrations per exam across the campaign days (one line per
    exam; nothing drawn for days still to come or outside an exam's campaign)."""
    days = sorted({jour.jour for campagne in campagnes for jour in campagne.jours})
    chart = pygal.Line(title=titre, x_label_rotation=45, show_minor_x_labels=False,
                       x_labels_major_every=max(1, len(days) // 12), **OPTIONS)
    chart.x_labels = [d.strftime("%d/%m") for d in days]
    for campagne in campagnes:
        by_day = {jour.jour: jour.cumul for jour in campagne.jours if jour.passe}
        chart.add(campagne.code, [by_day.get(d) for d in days])
    return _data_url(chart)


def barres_parts(titre: str, parts: Sequence[PartBase]) -> str:
    """Share of each establishment's pupil base already registered, in percent, largest
    first (at the top); the late establishments' bars in red."""
    ordered = list(reversed(parts))
    chart = pygal.HorizontalBar(title=titre, range=(0, 100),
                                **dict(OPTIONS, height=_hauteur(len(ordered)), show_legend=False))
    chart.x_labels = [f"{part.nom} ({part.code})" for part in ordered]
    chart.add("Part de la base inscrite (%)", [
        {"value": round(100 * part.part, 1), "color": RETARD if part.en_retard else A_JOUR}
        for part in ordered])
    return _data_url(chart)
