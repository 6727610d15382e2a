import pytest

from frontdesk.domain.contacts import FieldDefinition, check_field_values, normalise_tags
from frontdesk.domain.errors import InvalidInput
from frontdesk.domain.model import FieldType, Role

DEFS = {
    "email": FieldDefinition("email", "E-mail", FieldType.EMAIL),
    "age": FieldDefinition("age", "Age", FieldType.NUMBER),
    "plan": FieldDefinition("plan", "Plan", FieldType.CHOICE, ("free", "pro")),
    "born": FieldDefinition("born", "Born", FieldType.DATE),
    "vip": FieldDefinition("vip", "VIP", FieldType.BOOLEAN),
    "phone": FieldDefinition("phone", "Phone", FieldType.PHONE),
}


def test_valid_values_are_normalised() -> None:
    clean = check_field_values(
        {
            "email": " Ada@Example.org ",
            "age": 36,
            "plan": "pro",
            "born": "1815-12-10",
            "vip": True,
            "phone": None,
        },
        DEFS,
    )
    assert clean == {
        "email": "ada@example.org",
        "age": 36,
        "plan": "pro",
        "born": "1815-12-10",
        "vip": True,
        "phone": None,
    }


def test_every_problem_is_reported_with_its_field() -> None:
    with pytest.raises(InvalidInput) as caught:
        check_field_values(
            {"email": "not-an-email", "age": "12", "plan": "gold", "nope": 1, "vip": "yes", "born": "10/12"},
            DEFS,
        )
    message = caught.value.message
    for fragment in (
        "fields.email",
        "fields.age",
        "fields.plan",
        "fields.nope: no such contact field",
        "fields.vip",
        "fields.born",
    ):
        assert fragment in message


def test_booleans_are_not_numbers() -> None:
    with pytest.raises(InvalidInput):
        check_field_values({"age": True}, DEFS)


def test_tags_are_lowercased_trimmed_and_unique() -> None:
    assert normalise_tags([" VIP", "vip", "Lead:Web"]) == ["vip", "lead:web"]


@pytest.mark.parametrize("tag", ["", "   ", "a" * 65, "<script>"])
def test_bad_tags_are_refused(tag: str) -> None:
    with pytest.raises(InvalidInput):
        normalise_tags([tag])


def test_roles_are_nested() -> None:
    assert Role.ADMIN.includes(Role.MANAGER) and Role.MANAGER.includes(Role.AGENT)
    assert not Role.AGENT.includes(Role.MANAGER)
