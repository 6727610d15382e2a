"""Contacts: fields, tags, owner and search, each change on the event log."""

from __future__ import annotations

from tests.factories import Api, make_agent


def _declare(admin: Api) -> None:
    for body in (
        {"key": "email", "label": "E-mail", "type": "email"},
        {"key": "plan", "label": "Plan", "type": "choice", "options": ["free", "enterprise"]},
    ):
        assert admin.post("/api/v1/contact-fields", body).status_code == 201


def test_inbound_contact_fields_are_saved_and_announced(admin: Api) -> None:
    _declare(admin)
    channel = admin.channel()
    receipt = admin.inbound(channel["id"], "ada", name="Ada", fields={"email": "Ada@Example.org"}).json()

    contact = admin.get(f"/api/v1/contacts/{receipt['contact_id']}").json()

    assert contact["name"] == "Ada"
    assert contact["fields"] == {"email": "ada@example.org"}
    assert contact["identities"] == [{"channel_id": channel["id"], "external_id": "ada"}]
    updates = admin.events(type="contact.field_updated")
    assert updates[0]["payload"]["field"] == "email"
    assert updates[0]["payload"]["new"] == "ada@example.org"


def test_patch_sets_and_clears_fields_and_tags(admin: Api) -> None:
    _declare(admin)
    contact_id = admin.inbound(admin.channel()["id"], "ada").json()["contact_id"]
    path = f"/api/v1/contacts/{contact_id}"

    first = admin.patch(path, {"fields": {"plan": "enterprise"}, "add_tags": ["VIP", "lead"]}).json()
    assert first["fields"] == {"plan": "enterprise"}
    assert first["tags"] == ["vip", "lead"]

    second = admin.patch(path, {"fields": {"plan": None}, "remove_tags": ["lead"]}).json()
    assert second["fields"] == {}
    assert second["tags"] == ["vip"]
    types = [e["type"] for e in admin.events(type=["contact.tag_added", "contact.tag_removed"])]
    assert types == ["contact.tag_added", "contact.tag_added", "contact.tag_removed"]


def test_patch_that_changes_nothing_emits_nothing(admin: Api) -> None:
    contact_id = admin.inbound(admin.channel()["id"], "ada", name="Ada").json()["contact_id"]
    before = len(admin.events())

    assert admin.patch(f"/api/v1/contacts/{contact_id}", {"name": "Ada"}).status_code == 200

    assert len(admin.events()) == before


def test_owner_agent_is_set_and_checked(admin: Api) -> None:
    contact_id = admin.inbound(admin.channel()["id"], "ada").json()["contact_id"]
    agent_id = make_agent(admin.db)

    assert admin.patch(f"/api/v1/contacts/{contact_id}", {"owner_agent_id": agent_id}).json()["owner_agent_id"] == (
        agent_id
    )
    missing = admin.patch(f"/api/v1/contacts/{contact_id}", {"owner_agent_id": 9999})
    assert missing.status_code == 404
    assert "agent 9999" in missing.json()["detail"]


def test_channel_name_fills_an_empty_name_but_never_overwrites(admin: Api) -> None:
    channel_id = admin.channel()["id"]
    contact_id = admin.inbound(channel_id, "ada").json()["contact_id"]
    admin.inbound(channel_id, "ada", name="Ada from WhatsApp")
    assert admin.get(f"/api/v1/contacts/{contact_id}").json()["name"] == "Ada from WhatsApp"

    admin.patch(f"/api/v1/contacts/{contact_id}", {"name": "Ada Lovelace"})
    admin.inbound(channel_id, "ada", name="ada")
    assert admin.get(f"/api/v1/contacts/{contact_id}").json()["name"] == "Ada Lovelace"


def test_search_finds_contacts_by_name_field_or_external_id(admin: Api) -> None:
    _declare(admin)
    channel_id = admin.channel()["id"]
    ada = admin.inbound(channel_id, "wa-3361", name="Ada", fields={"email": "ada@lovelace.org"}).json()
    admin.inbound(channel_id, "wa-4242", name="Bob")

    for query in ("ada", "LOVELACE", "3361"):
        found = admin.get("/api/v1/contacts", q=query).json()
        assert [c["id"] for c in found] == [ada["contact_id"]], query
