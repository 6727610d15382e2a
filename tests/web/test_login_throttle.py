"""Web logins are throttled per client address and per account with growing delays, a clear
message and Retry-After; an attacker cannot keep the owner out of a browser they logged in with."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from frontdesk.actions.login_throttle import KNOWN_COOKIE
from frontdesk.actions.sessions import set_password
from frontdesk.server import create_app
from frontdesk.settings import Settings
from tests.clients import AddressedClient, FakeClock
from tests.factories import make_agent
from tests.web.support import PASSWORD, csrf_of

EMAIL = "owner@example.test"
HOME = "10.0.0.1"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def browser(settings: Settings, clock: FakeClock) -> Iterator[AddressedClient]:
    with AddressedClient(create_app(settings, clock=clock)) as client:
        agent_id = make_agent(client.app.state.db, "agent", email=EMAIL)
        client.app.state.db.write_sync(lambda c: set_password(c, agent_id, PASSWORD))
        yield client


def log_in(client: AddressedClient, address: str, password: str, email: str = EMAIL) -> httpx.Response:
    token = csrf_of(client.get("/login", headers=client.at(address)).text)
    return client.post(
        "/login",
        data={"email": email, "password": password, "_csrf_token": token},
        headers=client.at(address),
        follow_redirects=False,
    )


def fail(client: AddressedClient, address: str, times: int) -> None:
    for _ in range(times):
        assert log_in(client, address, "wrong password").status_code == 401


def test_after_five_failures_the_next_attempt_must_wait_even_with_the_right_password(
    browser: AddressedClient, clock: FakeClock
) -> None:
    fail(browser, HOME, 5)

    refused = log_in(browser, HOME, PASSWORD)

    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "1"
    assert "Too many failed attempts; try again in 1 s." in refused.text
    clock.advance(1)
    assert log_in(browser, HOME, PASSWORD).status_code == 302


def test_each_further_failure_doubles_the_wait_up_to_five_minutes(browser: AddressedClient, clock: FakeClock) -> None:
    fail(browser, HOME, 5)
    waits = []
    for _ in range(11):
        refused = log_in(browser, HOME, "wrong password")
        assert refused.status_code == 429
        waits.append(int(refused.headers["Retry-After"]))
        clock.advance(waits[-1])
        assert log_in(browser, HOME, "wrong password").status_code == 401

    assert waits == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]


def test_a_refused_attempt_does_not_make_the_wait_longer(browser: AddressedClient, clock: FakeClock) -> None:
    fail(browser, HOME, 5)
    for _ in range(20):
        assert log_in(browser, HOME, "wrong password").status_code == 429

    clock.advance(1)
    assert log_in(browser, HOME, PASSWORD).status_code == 302


def test_a_success_from_an_address_starts_it_afresh(browser: AddressedClient, clock: FakeClock) -> None:
    fail(browser, HOME, 4)
    assert log_in(browser, HOME, PASSWORD).status_code == 302
    browser.cookies.clear()

    fail(browser, HOME, 4)  # would be the 9th failure in a row without the reset
    assert log_in(browser, HOME, PASSWORD).status_code == 302


def test_failures_are_forgotten_after_fifteen_minutes(browser: AddressedClient, clock: FakeClock) -> None:
    fail(browser, HOME, 4)
    clock.advance(15 * 60 + 1)

    fail(browser, HOME, 4)
    assert log_in(browser, HOME, PASSWORD).status_code == 302


def test_other_addresses_are_not_slowed_by_one_addresss_failures(browser: AddressedClient) -> None:
    fail(browser, "10.6.6.6", 5)
    assert log_in(browser, "10.6.6.6", PASSWORD).status_code == 429

    assert log_in(browser, HOME, PASSWORD).status_code == 302


def test_a_spray_from_many_addresses_throttles_the_account_for_a_new_browser(
    browser: AddressedClient, clock: FakeClock
) -> None:
    for n in range(10):
        fail(browser, f"10.9.0.{n}", 1)

    refused = log_in(browser, HOME, PASSWORD)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "1"
    clock.advance(1)
    assert log_in(browser, HOME, PASSWORD).status_code == 302


def test_a_spray_never_locks_the_owner_out_of_a_browser_they_logged_in_with(
    browser: AddressedClient, clock: FakeClock
) -> None:
    assert log_in(browser, HOME, PASSWORD).status_code == 302
    known = browser.cookies[KNOWN_COOKIE]
    browser.cookies.clear()
    for n in range(40):  # the attacker's browsers carry no known-browser cookie
        log_in(browser, f"10.9.{n}.1", "wrong password")
    assert log_in(browser, "10.7.7.7", PASSWORD).status_code == 429  # the account is throttled

    browser.cookies.clear()
    browser.cookies.set(KNOWN_COOKIE, known)
    assert log_in(browser, HOME, PASSWORD).status_code == 302


def test_the_account_wait_never_exceeds_five_minutes(browser: AddressedClient, clock: FakeClock) -> None:
    waits = []
    for n in range(44):
        answer = log_in(browser, f"10.9.{n}.1", "wrong password")
        if answer.status_code == 429:
            waits.append(int(answer.headers["Retry-After"]))
            clock.advance(waits[-1])

    assert max(waits) == 300
    refused = log_in(browser, HOME, PASSWORD)
    assert refused.status_code == 429
    clock.advance(int(refused.headers["Retry-After"]))
    assert log_in(browser, HOME, PASSWORD).status_code == 302


def test_a_known_browser_cookie_of_another_account_does_not_exempt(browser: AddressedClient) -> None:
    other = make_agent(browser.app.state.db, "agent", email="other@example.test")
    browser.app.state.db.write_sync(lambda c: set_password(c, other, PASSWORD))
    assert log_in(browser, HOME, PASSWORD, email="other@example.test").status_code == 302
    assert re.fullmatch(r"[0-9a-f]{64}", browser.cookies[KNOWN_COOKIE])
    for n in range(10):
        log_in(browser, f"10.9.{n}.1", "wrong password")

    assert log_in(browser, HOME, PASSWORD).status_code == 429
