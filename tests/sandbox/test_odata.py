"""The sandbox org's in-memory OData engine: Dataverse Web API reads, answers, errors and paging, without a server."""

from __future__ import annotations

import re
import uuid
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import pytest

from cifcheck.sandbox.odata import Answer, Relation, Store, Table

BASE = "http://org.example/api/data/v9.2/"
PROVIDERS = "msdyn_channelproviders"
PROFILES = "msdyn_appconfigurations"
EXTENSIONS = "msdyn_applicationextensions"
PROFILE_PROVIDERS = "msdyn_appconfig_msdyn_channelprovider"
PROFILE_EXTENSIONS = "msdyn_appconfiguration_applicationextension"
ETAG = re.compile(r'W/"\d+"')


def key(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"odata-test/{name}"))


def provider(name: str, order: int, state: int, label: str | None, weight: float | None, **more: object) -> dict:
    return {
        "msdyn_channelproviderid": key(name),
        "msdyn_name": name,
        "msdyn_sortorder": order,
        "statecode": state,
        "msdyn_label": label,
        "msdyn_weight": weight,
        "msdyn_enabled": more.get("enabled", True),
        "_msdyn_appprofileid_value": more.get("profile"),
    }


def small_store(**options: bool) -> Store:
    providers = Table(
        PROVIDERS,
        "msdyn_channelprovider",
        "msdyn_channelproviderid",
        [
            provider("Contoso Phone", 1, 0, "O'Brien line", 1.5, profile=key("sales")),
            provider("Fabrikam Chat", 2, 0, None, 2.25, enabled=False),
            provider("contoso Email", 3, 1, "Email", None, profile=key("service")),
            provider("Litware SMS", 2, 1, "sms", 0.5, enabled=None),
        ],
        lookups=("_msdyn_appprofileid_value",),
    )
    profiles = Table(
        PROFILES,
        "msdyn_appconfiguration",
        "msdyn_appconfigurationid",
        [
            {"msdyn_appconfigurationid": key(name), "msdyn_uniquename": f"{name}_profile"}
            for name in ("sales", "service", "empty")
        ],
    )
    extensions = Table(
        EXTENSIONS,
        "msdyn_applicationextension",
        "msdyn_applicationextensionid",
        [{"msdyn_applicationextensionid": key(name), "msdyn_name": name} for name in ("Widget", "Panel")],
    )
    relations = [
        Relation(
            PROFILE_PROVIDERS,
            PROFILES,
            PROVIDERS,
            {
                (key("sales"), key("Contoso Phone")),
                (key("sales"), key("Fabrikam Chat")),
                (key("service"), key("contoso Email")),
            },
        ),
        Relation(
            PROFILE_EXTENSIONS,
            PROFILES,
            EXTENSIONS,
            {(key("sales"), key("Widget")), (key("service"), key("Widget")), (key("service"), key("Panel"))},
        ),
    ]
    return Store([providers, profiles, extensions], relations, **options)


def big_store(rows: int = 5001) -> Store:
    table = Table(
        PROVIDERS,
        "msdyn_channelprovider",
        "msdyn_channelproviderid",
        [provider(f"Provider {n:05}", n % 7, n % 2, f"label {n}", n / 4) for n in range(rows)],
    )
    return Store([table], [])


STORE = small_store()


def get(path: str, *query: tuple[str, str], prefer: str = "", store: Store = STORE) -> Answer:
    return store.get(path, list(query), prefer, BASE)


def follow(store: Store, link: str, prefer: str = "") -> Answer:
    """A GET of a link exactly as given, decoded as a web server decodes it before calling the engine."""
    assert link.startswith(BASE)
    parts = urlsplit(link)
    path = unquote(parts.path.removeprefix(urlsplit(BASE).path))
    return store.get(path, parse_qsl(parts.query, keep_blank_values=True), prefer, BASE)


def names(answer: Answer) -> list[str]:
    assert answer.status == 200, answer.body
    return [record["msdyn_name"] for record in answer.body["value"]]


def filtered(expression: str, store: Store = STORE) -> list[str]:
    return names(get(PROVIDERS, ("$select", "msdyn_name"), ("$filter", expression), store=store))


def error(answer: Answer, status: int = 400) -> str:
    assert answer.status == status, answer.body
    assert answer.body["error"]["code"] == "0x80060888"
    return answer.body["error"]["message"]


# --- paths -------------------------------------------------------------------------------------------------------


def test_an_entity_set_lists_every_record_in_the_tables_order() -> None:
    answer = get(PROVIDERS)
    assert names(answer) == ["Contoso Phone", "Fabrikam Chat", "contoso Email", "Litware SMS"]
    assert answer.body["@odata.context"] == f"{BASE}$metadata#{PROVIDERS}"
    assert "@odata.nextLink" not in answer.body


def test_one_record_by_its_key_has_an_entity_context_and_its_fields_at_the_top() -> None:
    answer = get(f"{PROFILES}({key('sales')})", ("$select", "msdyn_uniquename"))
    assert answer.status == 200
    assert answer.body["@odata.context"] == f"{BASE}$metadata#{PROFILES}(msdyn_uniquename)/$entity"
    assert answer.body["msdyn_uniquename"] == "sales_profile"
    assert answer.body["msdyn_appconfigurationid"] == key("sales")
    assert ETAG.fullmatch(answer.body["@odata.etag"])


def test_a_record_key_matches_in_any_case() -> None:
    answer = get(f"{PROFILES}({key('sales').upper()})")
    assert answer.status == 200
    assert answer.body["msdyn_uniquename"] == "sales_profile"


def test_a_missing_record_is_404_with_dataverse_does_not_exist() -> None:
    missing = key("nobody")
    answer = get(f"{PROFILES}({missing})")
    assert answer.status == 404
    assert answer.body["error"] == {
        "code": "0x80040217",
        "message": f"msdyn_appconfiguration With Id = {missing} Does Not Exist",
    }


def test_a_key_that_is_not_a_guid_is_400() -> None:
    error(get(f"{PROFILES}(sales)"))


def test_an_unknown_entity_set_is_404_resource_not_found_for_the_segment() -> None:
    for path in ("msdyn_nothings", f"msdyn_nothings({key('sales')})"):
        answer = get(path)
        assert answer.status == 404
        assert answer.body == {
            "error": {"code": "0x80060888", "message": "Resource not found for the segment 'msdyn_nothings'."}
        }


def test_a_navigation_path_lists_a_records_related_records_as_a_collection() -> None:
    answer = get(f"{PROFILES}({key('sales')})/{PROFILE_PROVIDERS}", ("$select", "msdyn_name"))
    assert names(answer) == ["Contoso Phone", "Fabrikam Chat"]
    assert answer.body["@odata.context"] == f"{BASE}$metadata#{PROVIDERS}(msdyn_name)"


def test_a_navigation_path_of_a_record_without_related_records_is_an_empty_collection() -> None:
    assert names(get(f"{PROFILES}({key('empty')})/{PROFILE_PROVIDERS}")) == []


def test_the_navigation_property_has_the_same_name_on_both_sides() -> None:
    answer = get(f"{PROVIDERS}({key('contoso Email')})/{PROFILE_PROVIDERS}")
    assert [record["msdyn_uniquename"] for record in answer.body["value"]] == ["service_profile"]


@pytest.mark.parametrize(
    ("path", "segment"),
    [
        (f"{PROFILES}({key('sales')})/msdyn_nothing", "msdyn_nothing"),
        (f"{PROFILES}({key('sales')})/msdyn_uniquename", "msdyn_uniquename"),
        (f"{PROFILES}/{PROFILE_PROVIDERS}", PROFILE_PROVIDERS),
        (f"{PROFILES}({key('sales')})/{PROFILE_PROVIDERS}/more", "more"),
    ],
)
def test_an_unknown_navigation_segment_is_404_resource_not_found(path: str, segment: str) -> None:
    assert error(get(path), 404) == f"Resource not found for the segment '{segment}'."


# --- $select -----------------------------------------------------------------------------------------------------


def test_select_answers_only_those_columns_plus_the_key_and_an_etag() -> None:
    answer = get(PROVIDERS, ("$select", "msdyn_name,statecode"))
    for record in answer.body["value"]:
        assert set(record) == {"@odata.etag", "msdyn_channelproviderid", "msdyn_name", "statecode"}
        assert ETAG.fullmatch(record["@odata.etag"])
    assert answer.body["@odata.context"] == f"{BASE}$metadata#{PROVIDERS}(msdyn_name,statecode)"


def test_no_select_answers_every_column() -> None:
    record = get(PROVIDERS).body["value"][0]
    assert set(record) == {"@odata.etag", *provider("x", 0, 0, None, None)}


def test_select_of_an_unknown_column_is_400_naming_the_entity_type() -> None:
    message = error(get(PROVIDERS, ("$select", "msdyn_name,msdyn_nothing")))
    assert (
        message
        == "Could not find a property named 'msdyn_nothing' on type 'Microsoft.Dynamics.CRM.msdyn_channelprovider'."
    )


def test_a_lookup_is_selected_by_its_value_form_not_by_its_name() -> None:
    answer = get(PROVIDERS, ("$select", "_msdyn_appprofileid_value"))
    assert answer.body["value"][0]["_msdyn_appprofileid_value"] == key("sales")
    assert "msdyn_appprofileid" in error(get(PROVIDERS, ("$select", "msdyn_appprofileid")))


def test_each_record_has_the_same_etag_every_time_and_its_own() -> None:
    first, again = (get(PROVIDERS, ("$select", "msdyn_name")).body["value"] for _ in range(2))
    etags = [record["@odata.etag"] for record in first]
    assert etags == [record["@odata.etag"] for record in again]
    assert len(set(etags)) == len(etags)


# --- $filter -----------------------------------------------------------------------------------------------------


def test_string_eq_is_case_insensitive() -> None:
    assert filtered("msdyn_name eq 'CONTOSO PHONE'") == ["Contoso Phone"]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("msdyn_sortorder eq 2", ["Fabrikam Chat", "Litware SMS"]),
        ("msdyn_sortorder ne 2", ["Contoso Phone", "contoso Email"]),
        ("msdyn_sortorder gt 2", ["contoso Email"]),
        ("msdyn_sortorder ge 2", ["Fabrikam Chat", "contoso Email", "Litware SMS"]),
        ("msdyn_sortorder lt 2", ["Contoso Phone"]),
        ("msdyn_sortorder le 2", ["Contoso Phone", "Fabrikam Chat", "Litware SMS"]),
    ],
)
def test_comparison_operators_on_numbers(expression: str, expected: list[str]) -> None:
    assert filtered(expression) == expected


def test_ordering_comparison_of_strings_is_case_insensitive() -> None:
    assert filtered("msdyn_name lt 'd'") == ["Contoso Phone", "contoso Email"]


def test_decimal_literals_compare_with_float_columns() -> None:
    assert filtered("msdyn_weight gt 1.25") == ["Contoso Phone", "Fabrikam Chat"]


def test_boolean_literals_and_a_boolean_column_alone() -> None:
    assert filtered("msdyn_enabled eq false") == ["Fabrikam Chat"]
    # Litware's is null: neither it nor its negation holds.
    assert filtered("msdyn_enabled") == ["Contoso Phone", "contoso Email"]
    assert filtered("not msdyn_enabled") == ["Fabrikam Chat"]


def test_eq_null_finds_nulls_and_ne_a_value_keeps_them() -> None:
    assert filtered("msdyn_label eq null") == ["Fabrikam Chat"]
    assert filtered("msdyn_label ne null") == ["Contoso Phone", "contoso Email", "Litware SMS"]
    assert filtered("msdyn_label ne 'sms'") == ["Contoso Phone", "Fabrikam Chat", "contoso Email"]


def test_an_ordering_comparison_or_function_over_null_holds_neither_way() -> None:
    assert "contoso Email" not in filtered("msdyn_weight lt 1")
    assert "contoso Email" not in filtered("not (msdyn_weight lt 1)")
    assert "Fabrikam Chat" not in filtered("not contains(msdyn_label,'x')")


def test_a_doubled_quote_in_a_string_literal_is_one_quote() -> None:
    assert filtered("msdyn_label eq 'O''Brien line'") == ["Contoso Phone"]
    assert filtered("contains(msdyn_label,'''')") == ["Contoso Phone"]


def test_an_unquoted_guid_matches_the_key_and_lookups_in_any_case() -> None:
    assert filtered(f"msdyn_channelproviderid eq {key('Litware SMS').upper()}") == ["Litware SMS"]
    assert filtered(f"_msdyn_appprofileid_value eq {key('service').upper()}") == ["contoso Email"]
    assert filtered(f"_msdyn_appprofileid_value ne {key('service')}") == [
        "Contoso Phone",
        "Fabrikam Chat",
        "Litware SMS",
    ]


def test_a_quoted_guid_against_a_guid_column_is_400_incompatible_types() -> None:
    message = error(get(PROVIDERS, ("$filter", f"msdyn_channelproviderid eq '{key('Litware SMS')}'")))
    assert "'Edm.Guid' and 'Edm.String'" in message


def test_comparing_a_number_with_a_string_is_400_incompatible_types() -> None:
    message = error(get(PROVIDERS, ("$filter", "statecode eq '0'")))
    assert message.startswith("A binary operator with incompatible types was detected.")


def test_and_binds_tighter_than_or() -> None:
    # statecode eq 1 or (msdyn_sortorder eq 1 and msdyn_enabled eq false): the or's right side holds for none.
    assert filtered("statecode eq 1 or msdyn_sortorder eq 1 and msdyn_enabled eq false") == [
        "contoso Email",
        "Litware SMS",
    ]


def test_parentheses_group_before_and() -> None:
    assert filtered("(statecode eq 1 or msdyn_sortorder eq 1) and msdyn_enabled eq true") == [
        "Contoso Phone",
        "contoso Email",
    ]


def test_not_binds_tighter_than_and_and_or() -> None:
    assert filtered("not msdyn_enabled and statecode eq 0") == ["Fabrikam Chat"]
    # Litware: null and false is false, so its negation holds.
    assert filtered("not (msdyn_enabled and statecode eq 0)") == ["Fabrikam Chat", "contoso Email", "Litware SMS"]
    # (not msdyn_enabled) or ...: Litware's unknown or true is true.
    assert filtered("not msdyn_enabled or msdyn_name eq 'litware sms'") == ["Fabrikam Chat", "Litware SMS"]


def test_not_before_a_comparison_applies_to_its_operand_so_a_number_is_400() -> None:
    message = error(get(PROVIDERS, ("$filter", "not statecode eq 1")))
    assert "'Edm.Int32' for operator kind 'Not'" in message


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("contains(msdyn_name,'CONTOSO')", ["Contoso Phone", "contoso Email"]),
        ("startswith(msdyn_name,'FAB')", ["Fabrikam Chat"]),
        ("endswith(msdyn_name,'sms')", ["Litware SMS"]),
        ("not contains(msdyn_name,'contoso')", ["Fabrikam Chat", "Litware SMS"]),
    ],
)
def test_string_functions_are_case_insensitive(expression: str, expected: list[str]) -> None:
    assert filtered(expression) == expected


def test_whitespace_anywhere_between_tokens_is_tolerated() -> None:
    assert filtered("  ( msdyn_sortorder   eq 2 )and\tstartswith( msdyn_name , 'lit' )  ") == ["Litware SMS"]


def test_any_holds_when_a_related_record_meets_every_condition() -> None:
    expression = f"{PROFILE_PROVIDERS}/any(p: p/msdyn_name eq 'fabrikam chat' and p/statecode ne 1)"
    answer = get(PROFILES, ("$select", "msdyn_uniquename"), ("$filter", expression))
    assert [record["msdyn_uniquename"] for record in answer.body["value"]] == ["sales_profile"]


def test_any_holds_only_when_one_related_record_meets_both_conditions_at_once() -> None:
    # sales has an active Contoso Phone and an enabled=false Fabrikam Chat, never both in one record.
    expression = f"{PROFILE_PROVIDERS}/any(p: p/msdyn_name eq 'Contoso Phone' and p/msdyn_enabled eq false)"
    assert get(PROFILES, ("$filter", expression)).body["value"] == []


def test_any_without_a_lambda_means_has_related_records() -> None:
    answer = get(PROFILES, ("$filter", f"{PROFILE_PROVIDERS}/any()"))
    assert [record["msdyn_uniquename"] for record in answer.body["value"]] == ["sales_profile", "service_profile"]
    answer = get(PROFILES, ("$filter", f"not {PROFILE_PROVIDERS}/any()"))
    assert [record["msdyn_uniquename"] for record in answer.body["value"]] == ["empty_profile"]


def test_all_holds_when_every_related_record_meets_the_condition_and_for_none() -> None:
    answer = get(PROFILES, ("$filter", f"{PROFILE_PROVIDERS}/all(p: p/statecode eq 0)"))
    assert [record["msdyn_uniquename"] for record in answer.body["value"]] == ["sales_profile", "empty_profile"]


def test_a_lambda_can_compare_with_the_outer_record() -> None:
    expression = f"{PROFILE_EXTENSIONS}/any(e: e/msdyn_name eq 'panel') and msdyn_uniquename ne 'x'"
    answer = get(PROFILES, ("$filter", expression))
    assert [record["msdyn_uniquename"] for record in answer.body["value"]] == ["service_profile"]


@pytest.mark.parametrize(
    ("path", "expression", "missing"),
    [
        (PROVIDERS, "msdyn_nothing eq 1", "msdyn_nothing"),
        (PROVIDERS, "msdyn_appprofileid eq null", "msdyn_appprofileid"),
        (PROFILES, f"{PROFILE_PROVIDERS}/any(p: p/msdyn_nothing eq 1)", "msdyn_nothing"),
        (PROFILES, "msdyn_nothings/any(p: p/msdyn_name eq 'x')", "msdyn_nothings"),
    ],
)
def test_an_unknown_property_in_a_filter_is_400(path: str, expression: str, missing: str) -> None:
    assert f"Could not find a property named '{missing}'" in error(get(path, ("$filter", expression)))


def test_a_lambda_over_a_column_is_400() -> None:
    error(get(PROFILES, ("$filter", "msdyn_uniquename/any(p: p eq 'x')")))


@pytest.mark.parametrize(
    "expression",
    [
        "msdyn_name eq",
        "msdyn_name eq 'unterminated",
        "(msdyn_sortorder eq 1",
        "msdyn_sortorder eq 1)",
        "msdyn_sortorder eq 1 msdyn_name eq 'x'",
        "msdyn_sortorder eq 1 and",
        "msdyn_sortorder == 1",
        "msdyn_sortorder eq 1.",
        "and eq 1",
        f"{PROFILE_PROVIDERS}/all()",
        "",
    ],
)
def test_a_syntax_error_is_400_with_a_short_message(expression: str) -> None:
    message = error(get(PROVIDERS, ("$filter", expression)))
    assert message.startswith("Syntax error at position") and len(message) < 200


def test_an_unknown_function_is_400() -> None:
    assert "tolower" in error(get(PROVIDERS, ("$filter", "tolower(msdyn_name) eq 'x'")))


def test_a_string_function_with_wrong_arguments_is_400() -> None:
    error(get(PROVIDERS, ("$filter", "contains(msdyn_name)")))
    error(get(PROVIDERS, ("$filter", "contains(statecode,'1')")))


def test_a_filter_that_is_not_boolean_is_400() -> None:
    assert "boolean" in error(get(PROVIDERS, ("$filter", "msdyn_sortorder")))


# --- $orderby and $top --------------------------------------------------------------------------------------------


def test_orderby_sorts_descending_then_by_a_second_column() -> None:
    answer = get(PROVIDERS, ("$select", "msdyn_name"), ("$orderby", "msdyn_sortorder desc, msdyn_name"))
    assert names(answer) == ["contoso Email", "Fabrikam Chat", "Litware SMS", "Contoso Phone"]


def test_orderby_strings_case_insensitively_with_nulls_first() -> None:
    # Case-sensitively, "Contoso Phone" would come before "contoso Email".
    assert names(get(PROVIDERS, ("$orderby", "msdyn_name asc"))) == [
        "contoso Email",
        "Contoso Phone",
        "Fabrikam Chat",
        "Litware SMS",
    ]
    labels = [record["msdyn_label"] for record in get(PROVIDERS, ("$orderby", "msdyn_label")).body["value"]]
    assert labels == [None, "Email", "O'Brien line", "sms"]


def test_orderby_of_an_unknown_column_is_400() -> None:
    assert "msdyn_nothing" in error(get(PROVIDERS, ("$orderby", "msdyn_nothing desc")))


def test_top_limits_the_records() -> None:
    assert names(get(PROVIDERS, ("$orderby", "msdyn_weight desc"), ("$top", "2"))) == ["Fabrikam Chat", "Contoso Phone"]


@pytest.mark.parametrize("top", ["-1", "two", "1.5", ""])
def test_a_top_that_is_not_a_non_negative_integer_is_400(top: str) -> None:
    assert "$top" in error(get(PROVIDERS, ("$top", top)))


# --- $expand -----------------------------------------------------------------------------------------------------


def test_expand_inlines_related_records_with_only_their_selected_columns_key_and_etag() -> None:
    answer = get(
        PROFILES,
        ("$select", "msdyn_uniquename"),
        ("$expand", f"{PROFILE_PROVIDERS}($select=msdyn_name;$orderby=msdyn_name desc)"),
    )
    sales = answer.body["value"][0]
    assert [p["msdyn_name"] for p in sales[PROFILE_PROVIDERS]] == ["Fabrikam Chat", "Contoso Phone"]
    for record in sales[PROFILE_PROVIDERS]:
        assert set(record) == {"@odata.etag", "msdyn_channelproviderid", "msdyn_name"}
    assert answer.body["value"][2][PROFILE_PROVIDERS] == []
    assert (
        answer.body["@odata.context"] == f"{BASE}$metadata#{PROFILES}(msdyn_uniquename,{PROFILE_PROVIDERS}(msdyn_name))"
    )


def test_an_expands_filter_and_top_apply_to_each_records_related_records() -> None:
    expand = f"{PROFILE_PROVIDERS}($select=msdyn_name;$filter=msdyn_enabled eq true;$top=1)"
    answer = get(PROFILES, ("$expand", expand))
    assert [[p["msdyn_name"] for p in r[PROFILE_PROVIDERS]] for r in answer.body["value"]] == [
        ["Contoso Phone"],
        ["contoso Email"],
        [],
    ]


def test_an_expands_filter_may_hold_semicolons_commas_and_parentheses_in_strings() -> None:
    expand = (
        f"{PROFILE_PROVIDERS}($filter=msdyn_name ne 'a;b,(c)' and msdyn_label eq 'O''Brien line'),{PROFILE_EXTENSIONS}"
    )
    answer = get(PROFILES, ("$expand", expand))
    assert answer.status == 200, answer.body
    assert [p["msdyn_name"] for p in answer.body["value"][0][PROFILE_PROVIDERS]] == ["Contoso Phone"]


def test_two_expands_side_by_side() -> None:
    expand = f"{PROFILE_PROVIDERS}($select=msdyn_name),{PROFILE_EXTENSIONS}($select=msdyn_name)"
    service = get(f"{PROFILES}({key('service')})", ("$expand", expand)).body
    assert [p["msdyn_name"] for p in service[PROFILE_PROVIDERS]] == ["contoso Email"]
    assert [e["msdyn_name"] for e in service[PROFILE_EXTENSIONS]] == ["Widget", "Panel"]


def test_a_nested_expand_is_400() -> None:
    message = error(get(PROFILES, ("$expand", f"{PROFILE_PROVIDERS}($expand={PROFILE_PROVIDERS})")))
    assert "Nested $expand is not supported" in message


@pytest.mark.parametrize("name", ["_msdyn_appprofileid_value", "msdyn_appprofileid", "msdyn_nothing"])
def test_expanding_a_lookup_or_an_unknown_name_is_400_no_such_property(name: str) -> None:
    message = error(get(PROVIDERS, ("$expand", name)))
    assert (
        message == f"Could not find a property named '{name}' on type 'Microsoft.Dynamics.CRM.msdyn_channelprovider'."
    )


def test_expanding_a_column_is_400() -> None:
    assert "Only navigation properties can be expanded" in error(get(PROVIDERS, ("$expand", "msdyn_name")))


def test_an_unknown_or_bad_expand_option_is_400() -> None:
    error(get(PROFILES, ("$expand", f"{PROFILE_PROVIDERS}($skip=1)")))
    error(get(PROFILES, ("$expand", f"{PROFILE_PROVIDERS}($select=msdyn_nothing)")))
    error(get(PROFILES, ("$expand", f"{PROFILE_PROVIDERS}($select=msdyn_name")))


def test_deferred_expands_answer_an_empty_list_and_a_link_to_the_related_records() -> None:
    store = small_store(deferred_expands=True)
    expand = f"{PROFILE_PROVIDERS}($select=msdyn_name;$orderby=msdyn_name desc)"
    sales = get(PROFILES, ("$expand", expand), store=store).body["value"][0]
    assert sales[PROFILE_PROVIDERS] == []
    link = sales[f"{PROFILE_PROVIDERS}@odata.nextLink"]
    assert link == (
        f"{BASE}{PROFILES}({key('sales')})/{PROFILE_PROVIDERS}?$select=msdyn_name&$orderby=msdyn_name%20desc"
    )
    assert names(follow(store, link)) == ["Fabrikam Chat", "Contoso Phone"]


def test_deferred_expands_still_inline_the_related_records_of_one_record() -> None:
    store = small_store(deferred_expands=True)
    sales = get(f"{PROFILES}({key('sales')})", ("$expand", PROFILE_PROVIDERS), store=store).body
    assert [p["msdyn_name"] for p in sales[PROFILE_PROVIDERS]] == ["Contoso Phone", "Fabrikam Chat"]
    assert f"{PROFILE_PROVIDERS}@odata.nextLink" not in sales


# --- paging ------------------------------------------------------------------------------------------------------


def test_the_page_size_comes_from_prefer_and_is_applied() -> None:
    answer = get(PROVIDERS, ("$select", "msdyn_name"), prefer="odata.maxpagesize=3")
    assert len(answer.body["value"]) == 3
    assert answer.headers["Preference-Applied"] == "odata.maxpagesize=3"
    assert answer.body["@odata.nextLink"].startswith(f"{BASE}{PROVIDERS}?$select=msdyn_name&$skiptoken=")


def test_maxpagesize_is_found_among_several_preferences() -> None:
    prefer = 'odata.include-annotations="OData.Community.Display.V1.FormattedValue,*", odata.maxpagesize=2'
    answer = get(PROVIDERS, prefer=prefer)
    assert len(answer.body["value"]) == 2
    assert answer.headers["Preference-Applied"] == "odata.maxpagesize=2"


def test_without_the_preference_the_page_is_the_default_size_and_nothing_is_applied() -> None:
    answer = get(PROVIDERS)
    assert len(answer.body["value"]) == 4
    assert "Preference-Applied" not in answer.headers


def test_the_page_size_is_capped_at_the_stores_maximum() -> None:
    store = small_store(max_page_size=2)
    answer = get(PROVIDERS, prefer="odata.maxpagesize=100", store=store)
    assert len(answer.body["value"]) == 2
    assert answer.headers["Preference-Applied"] == "odata.maxpagesize=2"
    assert len(get(PROVIDERS, store=store).body["value"]) == 2


def test_a_next_link_keeps_the_query_and_carries_a_dataverse_paging_cookie() -> None:
    query = [("$select", "msdyn_name"), ("$filter", "msdyn_sortorder ge 1"), ("$orderby", "msdyn_name")]
    link = STORE.get(PROVIDERS, query, "odata.maxpagesize=1", BASE).body["@odata.nextLink"]
    pairs = parse_qsl(urlsplit(link).query)
    assert pairs[:-1] == query
    name, cookie = pairs[-1]
    assert name == "$skiptoken"
    assert re.fullmatch(r'<cookie pagenumber="2" pagingcookie="%[^"]+" istracking="False" />', cookie)


def test_paging_across_5001_rows_gives_every_key_exactly_once_following_the_links_as_given() -> None:
    store = big_store()
    prefer = 'odata.include-annotations="*",odata.maxpagesize=100'
    answer = get(PROVIDERS, ("$select", "msdyn_name"), prefer=prefer, store=store)
    keys: list[str] = []
    pages = 0
    while True:
        assert answer.status == 200, answer.body
        pages += 1
        keys += [record["msdyn_channelproviderid"] for record in answer.body["value"]]
        if "@odata.nextLink" not in answer.body:
            break
        answer = follow(store, answer.body["@odata.nextLink"], prefer)
    assert pages == 51
    assert len(keys) == len(set(keys)) == 5001
    assert set(keys) == {key(f"Provider {n:05}") for n in range(5001)}


def test_paging_a_filtered_ordered_listing_keeps_its_filter_and_order() -> None:
    store = big_store()
    query = [("$select", "msdyn_name"), ("$filter", "msdyn_sortorder eq 3"), ("$orderby", "msdyn_name desc")]
    answer = store.get(PROVIDERS, query, "odata.maxpagesize=100", BASE)
    collected = names(answer)
    while "@odata.nextLink" in answer.body:
        answer = follow(store, answer.body["@odata.nextLink"], "odata.maxpagesize=100")
        collected += names(answer)
    assert collected == sorted((f"Provider {n:05}" for n in range(5001) if n % 7 == 3), reverse=True)


def test_top_applies_first_then_the_pages() -> None:
    store = big_store(50)
    answer = get(PROVIDERS, ("$top", "25"), prefer="odata.maxpagesize=10", store=store)
    sizes = [len(answer.body["value"])]
    while "@odata.nextLink" in answer.body:
        answer = follow(store, answer.body["@odata.nextLink"], "odata.maxpagesize=10")
        sizes.append(len(answer.body["value"]))
    assert sizes == [10, 10, 5]


def first_page_link() -> tuple[Store, str, list[tuple[str, str]]]:
    store = big_store(300)
    link = get(PROVIDERS, ("$select", "msdyn_name"), prefer="odata.maxpagesize=100", store=store).body[
        "@odata.nextLink"
    ]
    return store, link, parse_qsl(urlsplit(link).query)


def with_skiptoken(pairs: list[tuple[str, str]], token: str) -> list[tuple[str, str]]:
    return [(name, token if name == "$skiptoken" else value) for name, value in pairs]


def test_a_skiptoken_with_a_changed_page_number_is_400() -> None:
    store, _, pairs = first_page_link()
    token = dict(pairs)["$skiptoken"].replace('pagenumber="2"', 'pagenumber="3"')
    assert "$skiptoken" in error(store.get(PROVIDERS, with_skiptoken(pairs, token), "odata.maxpagesize=100", BASE))


def test_a_skiptoken_with_a_changed_row_offset_is_400() -> None:
    store, _, pairs = first_page_link()
    token = dict(pairs)["$skiptoken"]
    inner = unquote(re.search(r'pagingcookie="([^"]*)"', token)[1])
    changed = token.replace(quote(inner, safe=""), quote(inner.replace('offset="100"', 'offset="200"'), safe=""))
    assert changed != token
    error(store.get(PROVIDERS, with_skiptoken(pairs, changed), "odata.maxpagesize=100", BASE))


def test_an_invented_skiptoken_is_400() -> None:
    store, _, pairs = first_page_link()
    invented = '<cookie pagenumber="2" pagingcookie="%3ccookie%20page%3d%221%22%3e" istracking="False" />'
    error(store.get(PROVIDERS, with_skiptoken(pairs, invented), "odata.maxpagesize=100", BASE))
    error(store.get(PROVIDERS, [("$skiptoken", "2")], "odata.maxpagesize=100", BASE))


def test_a_skiptoken_is_refused_for_another_query() -> None:
    store, _, pairs = first_page_link()
    other = [("$select", "msdyn_name,statecode"), ("$skiptoken", dict(pairs)["$skiptoken"])]
    error(store.get(PROVIDERS, other, "odata.maxpagesize=100", BASE))


# --- the rest ----------------------------------------------------------------------------------------------------


def test_the_same_query_gets_the_same_answer() -> None:
    query = [("$select", "msdyn_uniquename"), ("$expand", PROFILE_PROVIDERS), ("$filter", f"{PROFILE_PROVIDERS}/any()")]
    answers = [small_store().get(PROFILES, query, "odata.maxpagesize=1", BASE) for _ in range(2)]
    assert answers[0] == answers[1]


def test_an_unsupported_query_option_is_400_and_a_custom_one_is_ignored() -> None:
    assert "$skip" in error(get(PROVIDERS, ("$skip", "1")))
    assert "fetchXml" in error(get(PROVIDERS, ("fetchXml", "<fetch/>")))
    assert len(get(PROVIDERS, ("sandbox_note", "x")).body["value"]) == 4


def test_an_option_given_twice_is_400() -> None:
    assert "more than once" in error(get(PROVIDERS, ("$select", "msdyn_name"), ("$select", "statecode")))


def test_filter_orderby_top_on_one_record_are_400() -> None:
    for option in ("$filter", "$orderby", "$top"):
        error(get(f"{PROFILES}({key('sales')})", (option, "1")))


def test_a_table_with_no_rows_knows_its_columns() -> None:
    table = Table(
        EXTENSIONS,
        "msdyn_applicationextension",
        "msdyn_applicationextensionid",
        [],
        columns=("msdyn_applicationextensionid", "msdyn_name"),
    )
    store = Store([table], [])
    assert get(EXTENSIONS, ("$select", "msdyn_name"), ("$filter", "msdyn_name eq 'x'"), store=store).body["value"] == []
    error(get(EXTENSIONS, ("$select", "msdyn_nothing"), store=store))
