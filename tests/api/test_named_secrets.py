"""The named-secret store: admins write values, nobody reads them back; workflows name them."""

from __future__ import annotations

import pytest

from tests.databases import stored_bytes
from tests.factories import Api, make_token

VALUE = "crm-key-5f0c1e9b7a"


def test_an_admin_sets_a_secret_and_the_api_shows_its_name_and_dates_never_its_value(admin: Api) -> None:
    created = admin.put("/api/v1/secrets/CRM_KEY", {"value": VALUE})
    replaced = admin.put("/api/v1/secrets/CRM_KEY", {"value": VALUE + "-2"})
    listed = admin.get("/api/v1/secrets")

    assert (created.status_code, replaced.status_code) == (201, 200)
    assert listed.status_code == 200
    assert [s["name"] for s in listed.json()] == ["CRM_KEY"]
    assert set(listed.json()[0]) == {"name", "created_at", "updated_at"}
    for response in (created, replaced, listed):
        assert VALUE not in response.text
    events = admin.get("/api/v1/events", limit=200).text
    assert "CRM_KEY" in events and VALUE not in events


def test_a_secret_value_is_sealed_in_the_database_files(admin: Api, db_url: str) -> None:
    assert admin.put("/api/v1/secrets/CRM_KEY", {"value": VALUE}).status_code == 201

    assert VALUE.encode() not in stored_bytes(db_url)


def test_a_deleted_secret_is_gone_and_deleting_it_again_is_a_404(admin: Api) -> None:
    admin.put("/api/v1/secrets/CRM_KEY", {"value": VALUE})

    assert admin.delete("/api/v1/secrets/CRM_KEY").status_code == 204
    assert admin.get("/api/v1/secrets").json() == []
    again = admin.delete("/api/v1/secrets/CRM_KEY")
    assert again.status_code == 404
    assert again.json()["error"] == "secret_not_found"


@pytest.mark.parametrize("name", ["9LIVES", "crm-key", "_HIDDEN", "A" * 65])
def test_a_bad_secret_name_is_refused_naming_the_field(admin: Api, name: str) -> None:
    response = admin.put(f"/api/v1/secrets/{name}", {"value": VALUE})

    assert response.status_code in (400, 422), response.text  # 422: the domain's check; 400: the path's bound
    assert "name" in response.text
    assert admin.get("/api/v1/secrets").json() == []


def test_an_empty_value_or_an_unknown_key_is_refused(admin: Api) -> None:
    assert admin.put("/api/v1/secrets/CRM_KEY", {"value": ""}).status_code in (400, 422)
    assert admin.put("/api/v1/secrets/CRM_KEY", {"value": VALUE, "shown": True}).status_code == 400
    assert admin.get("/api/v1/secrets").json() == []


def test_a_manager_lists_the_names_but_only_an_admin_sets_or_deletes(admin: Api) -> None:
    admin.put("/api/v1/secrets/CRM_KEY", {"value": VALUE})
    manager = Api(admin.client, make_token(admin.db, "manager"))
    agent = Api(admin.client, make_token(admin.db, "agent"))

    assert manager.get("/api/v1/secrets").status_code == 200
    assert manager.put("/api/v1/secrets/CRM_KEY", {"value": "mine"}).status_code == 403
    assert manager.delete("/api/v1/secrets/CRM_KEY").status_code == 403
    assert agent.get("/api/v1/secrets").status_code == 403
