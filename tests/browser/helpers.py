"""What a person does in the browser (fill a labelled field, pick a radio, press a button)
and what is checked on every page they see."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field as dc_field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Playwright is imported lazily: without it the journeys are skipped, not broken
    from playwright.sync_api import Page

AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
               "resultTypes": ["violations"]}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"  # ignored by git
WIDE, NARROW = {"width": 1280, "height": 900}, {"width": 360, "height": 740}


def expect(target):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def slug(text: str) -> str:
    """File-name form of a journey or page name."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def _pattern(text: str) -> str:
    return re.sub(r"([.*+?^${}()|\[\]\\/])", r"\\\1", text)


def field(page: Page, label: str):
    """The control whose label is ``label`` (exactly, or followed by its hint text)."""
    exact = page.get_by_label(label, exact=True)
    if exact.count() == 1:
        return exact
    return page.get_by_label(re.compile(r"^\s*" + _pattern(label) + r"(?=\s|$)"))


def choose(page: Page, group: str, option: str) -> None:
    """Click the label of ``option`` in the radio group (fieldset) named ``group``."""
    fieldset = page.get_by_role("group", name=group, exact=True)
    fieldset.locator("label").filter(has_text=re.compile(r"^\s*" + _pattern(option) + r"(?=\s|$)")).first.click()


def tick(checkbox, state: bool) -> None:
    """Tick or untick a DSFR checkbox by clicking its label (the box itself is drawn by the label)."""
    if checkbox.is_checked() != state:
        checkbox.page.locator(f"label[for='{checkbox.get_attribute('id')}']").click()
    expect(checkbox).to_be_checked(checked=state)


def press(page: Page, name: str, role: str = "button", *, within=None) -> None:
    """Click a button or link and wait for the page it leads to."""
    scope = within if within is not None else page
    with page.expect_navigation():
        scope.get_by_role(role, name=name, exact=True).click()


def dsfr_ready(page: Page) -> None:
    """Wait until DSFR's script has set up the page (the menu gets its copy of the header
    tools then): a person does not click within the first milliseconds either."""
    page.locator("html[data-fr-js='true']").wait_for(state="attached")
    if page.locator(".fr-header__tools-links").count():
        page.locator(".fr-header__tools-links[data-fr-js-header-links='true']").wait_for(state="attached")


def open_menu(page: Page) -> None:
    """On a narrow screen the navigation and the account tools sit behind the "Menu" button."""
    button = page.get_by_role("button", name="Menu", exact=True)
    if button.is_visible():
        dsfr_ready(page)
        button.click()
        expect(page.get_by_role("button", name="Fermer", exact=True)).to_be_visible()


def nav(page: Page, name: str) -> None:
    """Follow an item of the main navigation."""
    open_menu(page)
    press(page, name, "link", within=page.get_by_role("navigation", name="Menu principal"))


def logout(page: Page) -> None:
    """The "Se déconnecter" button of the header (in the menu on a narrow screen)."""
    open_menu(page)
    press(page, "Se déconnecter")


def main_text(page: Page) -> str:
    return page.locator("main").inner_text()


@dataclass
class Visits:
    """Checks every page a journey shows and keeps its server HTML for the Nu checker."""
    html_dir: Path
    screenshots: Path
    pages: list[Path] = dc_field(default_factory=list)
    _responses: dict = dc_field(default_factory=dict)

    def watch(self, page: Page, journey: str) -> Page:
        self._responses[id(page)] = {"journey": slug(journey), "response": None, "count": 0}

        def record(response) -> None:
            if (response.request.is_navigation_request() and response.frame == page.main_frame
                    and response.headers.get("content-type", "").startswith("text/html")):
                self._responses[id(page)]["response"] = response

        page.on("response", record)
        return page

    def check(self, page: Page, name: str) -> None:
        """axe (WCAG 2.1 A and AA), no horizontal scroll at 360 px, screenshots at 360 and
        1280 px, server HTML saved for validation."""
        page.wait_for_load_state("load")
        state = self._responses[id(page)]
        state["count"] += 1
        stem = f"{state['journey']}-{state['count']:02d}-{slug(name)}"
        self._save_html(page, state, stem)
        self._axe(page, stem)
        self._capture(page, stem)

    def _save_html(self, page: Page, state: dict, stem: str) -> None:
        response = state["response"]
        if response is not None and response.url.split("#")[0] == page.url.split("#")[0]:
            html = response.text()
        else:  # e.g. the page came from the back/forward cache: fetch it again with its cookies
            html = page.request.get(page.url).text()
        target = self.html_dir / f"{len(self.pages):03d}-{stem}.html"
        target.write_text(html, encoding="utf-8")
        self.pages.append(target)

    @staticmethod
    def _axe(page: Page, stem: str) -> None:
        from axe_playwright_python.sync_playwright import Axe

        violations = Axe().run(page, options=AXE_OPTIONS).response["violations"]
        details = [f"{v['id']} ({v['impact']}): {v['help']} -> "
                   + ", ".join(str(node["target"]) for node in v["nodes"][:5]) for v in violations]
        assert not violations, f"axe sur {stem} ({page.url}) :\n" + "\n".join(details)

    def _capture(self, page: Page, stem: str) -> None:
        """The journeys run at 360 px, as on a phone, where the page is laid out at that width
        from the start; it is then widened to 1280 px for its second capture."""
        self.screenshots.mkdir(parents=True, exist_ok=True)
        widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        page.screenshot(path=str(self.screenshots / f"{stem}-360.png"), full_page=True)
        assert widths[0] <= widths[1], f"{stem} ({page.url}) défile horizontalement à 360 px : {widths}"
        page.set_viewport_size(WIDE)
        try:
            page.screenshot(path=str(self.screenshots / f"{stem}-1280.png"), full_page=True)
        finally:
            page.set_viewport_size(NARROW)


def expect_heading(page: Page, text: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_contain_text(text)
