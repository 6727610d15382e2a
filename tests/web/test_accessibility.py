"""Accessible basics in real Chromium: every form control is named, keyboard focus shows, text is
readable against its background, and the inbox works in a wide and in a phone-sized window."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from tests.conftest import LiveServer
from tests.databases import PAGE_ONLY
from tests.web.support import login, say, team_id

pytestmark = PAGE_ONLY

# Each visible element's text colour against the first opaque background behind it (WCAG 2 ratio).
LOW_CONTRAST_JS = """() => {
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (let node = el; node; node = node.parentElement) {
      const c = rgb(getComputedStyle(node).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] === 1)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const low = [];
  for (const el of document.querySelectorAll("body *")) {
    const text = [...el.childNodes].filter((n) => n.nodeType === 3).map((n) => n.textContent).join("").trim();
    if (!text || !el.checkVisibility() || el.closest("svg")) continue;
    const style = getComputedStyle(el);
    const [a, b] = [lum(rgb(style.color).slice(0, 3)), lum(background(el))];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const size = parseFloat(style.fontSize), bold = Number(style.fontWeight) >= 700;
    const needed = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    if (ratio < needed) low.push(`${el.tagName} "${text.slice(0, 30)}" ${ratio.toFixed(2)}`);
  }
  return low;
}"""


def _pages(server: LiveServer) -> dict[str, str]:
    conversation = say(server, "ada", "a11y-1", "Hello, I need help", name="Ada")
    return {
        "the inbox": "/inbox",
        "a conversation": f"/inbox?c={conversation}",
        "the workflows": "/workflows",
        "the builder": "/workflows/1",
        "the admin overview": "/admin",
        "the agents": "/admin/agents",
        "an agent": "/admin/agents/3",
        "the teams": "/admin/teams",
        "a team": f"/admin/teams/{team_id(server, 'Sales')}",
        "the channels": "/admin/channels",
        "a channel": "/admin/channels/2",
        "the demo's Telegram channel (check and register buttons)": "/admin/channels/4",
        "the API tokens": "/admin/tokens",
    }


def _controls_are_named(page: Page, where: str) -> int:
    controls = page.locator("input:visible, select:visible, textarea:visible")
    for index in range(controls.count()):
        expect(controls.nth(index), f"a control on {where}").to_have_accessible_name(re.compile(r"\S"))
    return controls.count()


def test_every_form_control_on_the_main_pages_has_a_name(page: Page, live_server: LiveServer) -> None:
    page.goto(f"{live_server.base_url}/login")
    checked = _controls_are_named(page, "the login page")
    login(page, live_server, live_server.email, live_server.password)

    for where, path in _pages(live_server).items():
        response = page.goto(f"{live_server.base_url}{path}")
        assert response is not None and response.ok, where
        checked += _controls_are_named(page, where)

    assert checked > 50  # the pages' forms were there to check


def test_text_on_the_main_pages_is_readable_against_its_background(page: Page, live_server: LiveServer) -> None:
    login(page, live_server, live_server.email, live_server.password)

    for where, path in _pages(live_server).items():
        page.goto(f"{live_server.base_url}{path}")
        assert page.evaluate(LOW_CONTRAST_JS) == [], f"text below the WCAG AA contrast on {where}"


def test_keyboard_focus_is_always_visible_in_the_inbox(page: Page, live_server: LiveServer) -> None:
    conversation = say(live_server, "ada", "a11y-2", "Hello", name="Ada")
    login(page, live_server, live_server.email, live_server.password, target=f"/inbox?c={conversation}")
    seen = set()

    for _ in range(60):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            """() => { const el = document.activeElement, s = getComputedStyle(el);
                return [el === document.body, el.tagName + (el.id ? "#" + el.id : "") + " "
                        + (el.textContent || "").trim().slice(0, 20), s.outlineStyle, parseFloat(s.outlineWidth)]; }"""
        )
        back_at_the_start, name, style, width = focused
        if back_at_the_start:
            break
        assert style != "none" and width >= 2, f"no visible focus on {name}"
        seen.add(name)

    assert len(seen) > 10
    assert any("reply-text" in name for name in seen)  # the reply box is reached by keyboard


def test_the_inbox_has_no_sideways_scroll_at_1280_by_800_and_shows_list_and_thread(
    page: Page, live_server: LiveServer
) -> None:
    conversation = say(live_server, "ada", "wide-1", "Hello from a wide screen", name="Ada")
    login(page, live_server, live_server.email, live_server.password, target=f"/inbox?c={conversation}")

    expect(page.locator("#list li", has_text="Ada")).to_be_visible()
    expect(page.locator("#reply-text")).to_be_visible()
    assert page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth")


def test_on_a_phone_sized_window_the_list_and_a_conversation_are_reachable_without_sideways_scroll(
    browser: Browser, live_server: LiveServer
) -> None:
    say(live_server, "ada", "narrow-1", "Hello from my phone, with a long message " + "x" * 80, name="Ada Lovelace")
    context = browser.new_context(viewport={"width": 390, "height": 800})
    page = context.new_page()
    no_sideways_scroll = "document.scrollingElement.scrollWidth <= window.innerWidth"
    try:
        login(page, live_server, live_server.email, live_server.password)
        assert page.evaluate(no_sideways_scroll), "the inbox scrolls sideways"

        page.locator("#list li", has_text="Ada Lovelace").click()
        expect(page.locator("#messages")).to_contain_text("Hello from my phone")
        expect(page.get_by_label("Reply", exact=True)).to_be_visible()
        assert page.evaluate(no_sideways_scroll), "the conversation scrolls sideways"

        page.get_by_role("link", name="All conversations").click()
        expect(page.locator("#list li", has_text="Ada Lovelace")).to_be_visible()
    finally:
        context.close()
