"""The same journeys with the keyboard alone: Tab and Shift+Tab to move, Enter and Space to
act, arrow keys in radio groups and lists. Every element the focus lands on must show it
(an outline or a box-shadow on the element, on its label, or around it)."""
from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from .helpers import dsfr_ready, field

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

# For the focused element: is ``target`` (an element or a container) reached, which way to
# go, and is the focus indicator drawn (outline or box-shadow, possibly on a pseudo-element
# of the element or of its label, or on an ancestor drawing the ring through :focus-within).
_STEP = """(target) => {
  const active = document.activeElement;
  const shown = (node) => [null, '::before', '::after'].some((pseudo) => {
    const s = getComputedStyle(node, pseudo);
    return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || (s.boxShadow && s.boxShadow !== 'none');
  });
  let visible = shown(active) || Array.from(active.labels || []).some(shown);
  for (let node = active.parentElement, depth = 0; !visible && node && depth < 4; node = node.parentElement, depth++) {
    visible = node.matches(':focus-within') && shown(node);
  }
  const reached = target === active || target.contains(active);
  const backwards = !reached && !!(active.compareDocumentPosition(target) & Node.DOCUMENT_POSITION_PRECEDING);
  const name = (active.tagName + ' ' + (active.id ? '#' + active.id + ' ' : '')
                + (active.innerText || active.value || active.getAttribute('aria-label') || '')).slice(0, 80);
  return {reached, backwards, visible: active === document.body || visible, name};
}"""


_DATE_ORDER: list[str] = []


def _date_order(page: Page) -> str:
    """The order of the day and month segments of this browser's date fields (its interface
    language decides: Debian's Chromium without its locale package shows mm/dd/yyyy), found
    once on a scratch page, as a person knows their own browser."""
    if not _DATE_ORDER:
        scratch = page.context.new_page()
        scratch.set_content('<input type="date" id="d">')
        scratch.focus("#d")
        scratch.keyboard.type("01022000")
        _DATE_ORDER.append("jjmm" if scratch.input_value("#d") == "2000-02-01" else "mmjj")
        scratch.close()
    return _DATE_ORDER[0]


class Keyboard:
    def __init__(self, page: Page):
        self.page = page

    def key(self, key: str) -> None:
        self.page.keyboard.press(key)

    def reach(self, target: Locator, limit: int = 150) -> None:
        """Tab (or Shift+Tab when the target is before the focus) until the focus is on or in
        ``target``, checking that each element on the way shows its focus."""
        state = target.evaluate(_STEP)
        for _ in range(limit):
            if state["reached"] and self.page.evaluate("() => document.activeElement !== document.body"):
                return
            self.key("Shift+Tab" if state["backwards"] else "Tab")
            state = target.evaluate(_STEP)
            assert state["visible"], f"focus invisible sur {state['name']!r} ({self.page.url})"
        raise AssertionError(f"{target} jamais atteint au clavier sur {self.page.url}")

    def type_in(self, label: str, text: str) -> None:
        control = field(self.page, label)
        self.reach(control)
        if control.input_value():
            self.key("Control+a")
        self.page.keyboard.type(text)

    def type_date(self, label: str, day: date) -> None:
        order = _date_order(self.page)
        digits = day.strftime("%d%m%Y" if order == "jjmm" else "%m%d%Y")
        self.type_in(label, digits)
        assert field(self.page, label).input_value() == day.isoformat()

    def choose(self, group: str, option: str) -> None:
        """Into the radio group, then arrow keys until ``option`` is checked (Space on the
        first radio when it is the one)."""
        fieldset = self.page.get_by_role("group", name=group, exact=True)
        radio = fieldset.get_by_label(option, exact=True)
        self.reach(fieldset)
        if self._is_active(radio):
            self.key("Space")
        for _ in range(10):
            if radio.is_checked():
                return
            self.key("ArrowDown")
        raise AssertionError(f"{option} jamais coché dans {group}")

    def select(self, label: str, option: str) -> None:
        """Focus the list, then arrow keys until ``option`` is the selected one."""
        control = field(self.page, label)
        self.reach(control)
        for _ in range(200):
            if control.evaluate("el => el.options[el.selectedIndex].text") == option:
                return
            self.key("ArrowDown")
        raise AssertionError(f"{option} introuvable dans {label}")

    def activate(self, name: str, role: str = "button", *, within=None, navigates: bool = True) -> None:
        """Reach a button or a link and press Enter."""
        target = (within or self.page).get_by_role(role, name=name, exact=True)
        self.reach(target)
        if navigates:
            with self.page.expect_navigation():
                self.key("Enter")
        else:
            self.key("Enter")

    def logout(self) -> None:
        """On a narrow screen, open the menu first (Enter on "Menu")."""
        menu = self.page.get_by_role("button", name="Menu", exact=True)
        if menu.is_visible():
            dsfr_ready(self.page)
            self.activate("Menu", navigates=False)
        self.activate("Se déconnecter")

    def toggle(self, checkbox: Locator, state: bool) -> None:
        self.reach(checkbox)
        if checkbox.is_checked() != state:
            self.key("Space")

    def _is_active(self, locator: Locator) -> bool:
        return locator.evaluate("el => el === document.activeElement")
