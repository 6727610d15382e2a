"""Where http_request steps may connect: private addresses in every disguise are refused, and a
call goes to the address that was checked, not to a second DNS answer."""

from __future__ import annotations

import asyncio
import ipaddress

import pytest

from frontdesk import destinations
from frontdesk.engine.http import perform

DISGUISED_PRIVATE = [
    "http://127.0.0.1/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",  # IPv4-mapped
    "http://[::ffff:10.0.0.1]/",
    "http://[::127.0.0.1]/",  # IPv4-compatible (deprecated)
    "http://[64:ff9b::7f00:1]/",  # NAT64 of 127.0.0.1
    "http://[64:ff9b::a9fe:a9fe]/",  # NAT64 of 169.254.169.254, the cloud metadata address
    "http://[64:ff9b:1::808:808]/",  # local-use NAT64
    "http://[2002:7f00:1::]/",  # 6to4 of 127.0.0.1
    "http://[2002:c0a8:101::1]/",  # 6to4 of 192.168.1.1
    "http://[fe80::1]/",
    "http://[ff02::1]/",
]


def _call(url: str) -> dict[str, object]:
    return {"request": {"method": "GET", "url": url, "timeout": 2}, "key": "run-1-lookup-1"}


@pytest.mark.parametrize("url", DISGUISED_PRIVATE)
def test_a_private_address_in_any_form_is_refused_before_any_connection(url: str) -> None:
    result = asyncio.run(perform(_call(url), allow_private=False))

    assert result.status is None
    assert result.error is not None and result.error.startswith("refused"), result.error


@pytest.mark.parametrize("address", ["8.8.8.8", "2001:4860:4860::8888", "64:ff9b::808:808", "2002:808:808::1"])
def test_public_addresses_pass_the_guard_even_inside_nat64_or_6to4(address: str) -> None:
    assert destinations.refusal(ipaddress.ip_address(address)) is None


class Rebinding:
    """A DNS that answers a public address first and a loopback one after, as a rebinding attack does."""

    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.asked = 0

    async def __call__(self, host: str, port: int) -> list[str]:
        self.asked += 1
        return [self.answers[min(self.asked, len(self.answers)) - 1]]


def test_a_call_connects_to_the_address_that_was_checked_keeping_the_host_name() -> None:
    dns = Rebinding("93.184.215.14", "127.0.0.1")

    destination = asyncio.run(destinations.pin("https://crm.example:8443/api?x=1", False, dns))

    assert dns.asked == 1  # resolved once: nothing can answer differently at connect time
    assert str(destination.url) == "https://93.184.215.14:8443/api?x=1"
    assert destination.headers == {"host": "crm.example:8443"}
    assert destination.extensions == {"sni_hostname": "crm.example"}  # TLS checks the name's certificate


def test_a_host_with_one_private_answer_among_public_ones_is_refused() -> None:
    async def split(host: str, port: int) -> list[str]:
        return ["93.184.215.14", "10.1.2.3"]

    with pytest.raises(destinations.Refused, match=r"10\.1\.2\.3"):
        asyncio.run(destinations.pin("http://crm.example/", False, split))
