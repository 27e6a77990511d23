"""Tests for flowql.endpoints: endpoints as values, their URLs (checked against the examples of
Conviva's guides), percent-encoding, the URL budget (FQ501/FQ502) and the longest flow
endpoint."""

from __future__ import annotations

import urllib.parse

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flowql import parse
from flowql.ast import Comparison, Expr, In, Key, Op, String
from flowql.diagnostics import Severity
from flowql.endpoints import (
    DEFAULT_URL_LIMIT,
    Endpoint,
    longest_flow_endpoint,
    percent_encode,
    request_url,
    url_budget,
    url_length,
)
from flowql.errors import UnsupportedError
from flowql.model import DataModel, Dimension, FlowModel, demo_model
from flowql.urls import encode_query, encoded_length, query_length

# --- URLs against the guides' examples ----------------------------------------------------


@pytest.mark.parametrize(
    ("endpoint", "filter_text", "documented"),
    [
        # conviva-dpi-flow-api.txt
        (
            Endpoint.flow_real_time(825, "PT5M", granularity="PT1M"),
            None,
            "https://api.conviva.com/flow-data/real-time-metrics/825/PT5M?granularity=PT1M",
        ),
        (
            Endpoint.flow_real_time("142", "PT1M", group_by="geo_country"),
            None,
            "https://api.conviva.com/flow-data/real-time-metrics/142/PT1M/group-by/geo_country",
        ),
        (
            # The guide's example shows the real-time path here, a typo: the URL template above
            # it is /flow-data/metrics/.
            Endpoint.flow_historical(142, 1751994600000, 1751996400000),
            None,
            "https://api.conviva.com/flow-data/metrics/142/1751994600000_to_1751996400000",
        ),
        (
            Endpoint.flow_historical(142, "1751994600000", "1751996400000", group_by="geo_country"),
            None,
            "https://api.conviva.com/flow-data/metrics/142/1751994600000_to_1751996400000"
            "/group-by/geo_country",
        ),
        (
            # The guide puts a "/" before the "?"; flowql does not.
            Endpoint.flow_real_time(825, "PT5M", group_by="geo_country"),
            "device_operating_system == 'Android'",
            "https://api.conviva.com/flow-data/real-time-metrics/825/PT5M/group-by/geo_country"
            "?filter=device_operating_system == 'Android'",
        ),
        (
            # The guide's example lacks the "/" between flow id and start: 1421751994600000.
            Endpoint.flow_historical(142, 1751994600000, 1751996400000, group_by="geo_country"),
            "device_operating_system != 'Android'",
            "https://api.conviva.com/flow-data/metrics/142/1751994600000_to_1751996400000"
            "/group-by/geo_country?filter=device_operating_system != 'Android'",
        ),
        (
            Endpoint.flow_real_time(825, "PT5M"),
            "(device_operating_system == 'Android' AND geo_country == 'Spain')",
            "https://api.conviva.com/flow-data/real-time-metrics/825/PT5M"
            "?filter=device_operating_system == 'Android' AND geo_country == 'Spain'",
        ),
        # conviva-sessions-v3-api.txt
        (
            Endpoint.sessions(start_date="2022-01-01T04:00:00Z", end_date="2022-01-02T04:00:00Z"),
            None,
            "https://api.conviva.com/insights/3.0/sessions/content"
            "?start_date=2022-01-01T04:00:00Z&end_date=2022-01-02T04:00:00Z",
        ),
        (
            Endpoint.sessions("ad", start_epoch=1641009600, end_epoch=1641096000),
            None,
            "https://api.conviva.com/insights/3.0/sessions/ad"
            "?start_epoch=1641009600&end_epoch=1641096000",
        ),
        (
            Endpoint.sessions(),
            None,
            "https://api.conviva.com/insights/3.0/sessions/content",
        ),
        (
            Endpoint.sessions(limit=10),
            None,
            "https://api.conviva.com/insights/3.0/sessions/content?limit=10",
        ),
        (
            Endpoint.sessions(),
            "geo_city_name == 'Los Angeles, California, United States' AND device_os == 'Android'",
            "https://api.conviva.com/insights/3.0/sessions/content"
            "?geo_city_name=Los Angeles, California, United States&device_os=Android",
        ),
        (
            Endpoint.sessions(),
            "tag_specialContentId == '1A2B3C4D5E'",
            "https://api.conviva.com/insights/3.0/sessions/content?tag_specialContentId=1A2B3C4D5E",
        ),
        (
            Endpoint.sessions(),
            "filter_id == 9876543210",
            "https://api.conviva.com/insights/3.0/sessions/content?filter_id=9876543210",
        ),
        (
            Endpoint.sessions(),
            "is_video_start_failure_tech == true AND device_os_version IN ('Android 9', "
            "'Android 10') AND browser_name == 'Native App'",
            "https://api.conviva.com/insights/3.0/sessions/content"
            "?is_video_start_failure_tech=true&device_os_version=Android 9"
            "&device_os_version=Android 10&browser_name=Native App",
        ),
        (
            Endpoint.sessions("viewer", viewer_ip="11.22.33.44", days=20),
            None,
            "https://api.conviva.com/insights/3.0/sessions/content/viewer"
            "?viewer_ip=11.22.33.44&days=20",
        ),
        (
            Endpoint.sessions(
                "viewer-summary", viewer_id="47a28f72-6ad8-4a3b-813e-bd04eecda689", days=1
            ),
            None,
            "https://api.conviva.com/insights/3.0/sessions/content/viewer/summary"
            "?viewer_id=47a28f72-6ad8-4a3b-813e-bd04eecda689&days=1",
        ),
    ],
)
def test_urls_match_the_guides(
    endpoint: Endpoint, filter_text: str | None, documented: str
) -> None:
    expr = parse(filter_text) if filter_text is not None else None
    url = request_url(endpoint, expr)
    assert url.isascii()
    assert " " not in url
    assert urllib.parse.unquote(url) == documented


def test_url_is_fully_encoded() -> None:
    url = request_url(
        Endpoint.flow_historical(142, "2026-11-22T19:37:00.000Z", "2026-11-22T20:37:00.000Z"),
        parse("geo_city == 'a+b'"),
    )
    assert url == (
        "https://api.conviva.com/flow-data/metrics/142/"
        "2026-11-22T19%3A37%3A00.000Z_to_2026-11-22T20%3A37%3A00.000Z"
        "?filter=geo_city%20%3D%3D%20%27a%2Bb%27"
    )


def test_flow_url_keeps_the_warning_out_of_the_way() -> None:
    url = request_url(Endpoint.flow_real_time(825), parse("geo_city == 'it\\'s'"))
    assert url.endswith("?filter=geo_city%20%3D%3D%20%27it%5C%27s%27")


def test_refused_filter_raises() -> None:
    with pytest.raises(UnsupportedError):
        request_url(Endpoint.flow_real_time(825), parse("asn == 701"))
    with pytest.raises(UnsupportedError):
        request_url(Endpoint.sessions(), parse("a != 'x'"))
    with pytest.raises(UnsupportedError) as caught:
        request_url(Endpoint.sessions("viewer", viewer_id="v"), parse("a == 'x'"))
    assert caught.value.code == "FQ601"
    assert "viewer endpoint takes no dimension filter" in caught.value.message


# --- percent_encode ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "encoded"),
    [
        ("", ""),
        ("AZaz09-._~", "AZaz09-._~"),
        (" ", "%20"),
        ("'", "%27"),
        ("+", "%2B"),
        ("a=b&c#d%e/f?g", "a%3Db%26c%23d%25e%2Ff%3Fg"),
        ('\n\\"', "%0A%5C%22"),
        ("\u00e9", "%C3%A9"),
        ("\U0001f600", "%F0%9F%98%80"),
    ],
)
def test_percent_encode(text: str, encoded: str) -> None:
    assert percent_encode(text) == encoded
    assert urllib.parse.unquote(encoded) == text
    assert percent_encode(text) == urllib.parse.quote(text, safe="")


# --- Endpoint ---------------------------------------------------------------------------------


def test_endpoint_attributes() -> None:
    e = Endpoint.flow_real_time(825, "PT5M", group_by="geo_country", granularity="PT1M")
    assert (e.api, e.kind, e.flow_id, e.interval, e.granularity, e.group_by) == (
        "conviva-flow",
        "real-time",
        "825",
        "PT5M",
        "PT1M",
        "geo_country",
    )
    assert (e.start, e.end, e.limit, e.time_format) == (None, None, None, None)
    assert Endpoint.flow_real_time(825).interval == "PT15M"
    s = Endpoint.sessions("ad", start_epoch=1, end_epoch=2, limit=500)
    assert (s.api, s.kind, s.start, s.end, s.time_format, s.limit) == (
        "conviva-sessions",
        "ad",
        "1",
        "2",
        "epoch",
        500,
    )


def test_module_level_constructors() -> None:
    from flowql import endpoints

    assert endpoints.flow_real_time(825, "PT5M") == Endpoint.flow_real_time(825, "PT5M")
    assert endpoints.flow_historical(1, 1, 2) == Endpoint.flow_historical(1, 1, 2)
    assert endpoints.sessions("ad", limit=3) == Endpoint.sessions("ad", limit=3)


def test_endpoint_is_an_immutable_value() -> None:
    e = Endpoint.flow_real_time(825)
    with pytest.raises(AttributeError):
        e.flow_id = "1"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        e.other = 1  # type: ignore[attr-defined]
    assert e == Endpoint.flow_real_time("825", "PT15M")
    assert hash(e) == hash(Endpoint.flow_real_time("825"))
    assert e != Endpoint.flow_real_time(825, "PT5M")
    assert repr(e) == (
        "Endpoint(api='conviva-flow', kind='real-time', flow_id='825', interval='PT15M')"
    )


@pytest.mark.parametrize("interval", ["PT0M", "PT16M", "PT05M", "PT1H", "5", "PTM", "PT1.5M"])
def test_bad_interval(interval: str) -> None:
    with pytest.raises(ValueError, match="PT1M to PT15M"):
        Endpoint.flow_real_time(825, interval)


def test_bad_flow_endpoints() -> None:
    with pytest.raises(ValueError, match="earlier"):
        Endpoint.flow_historical(142, 2000, 1000)
    with pytest.raises(ValueError, match="ISO 8601"):
        Endpoint.flow_historical(142, "yesterday", "today")
    with pytest.raises(ValueError, match="empty"):
        Endpoint.flow_real_time("")
    with pytest.raises(TypeError):
        Endpoint.flow_real_time(True)


def test_bad_sessions_endpoints() -> None:
    with pytest.raises(ValueError, match="one time format"):
        Endpoint.sessions(start_date="2022-01-01T04:00:00Z", end_epoch=1)
    with pytest.raises(ValueError, match="both"):
        Endpoint.sessions(start_date="2022-01-01T04:00:00Z")
    with pytest.raises(ValueError, match="at least 1"):
        Endpoint.sessions(limit=0)
    with pytest.raises(ValueError, match="not both"):
        Endpoint.sessions("viewer", viewer_id="a", viewer_ip="1.2.3.4")
    with pytest.raises(ValueError, match="viewer endpoints"):
        Endpoint.sessions("content", viewer_id="a")
    with pytest.raises(ValueError, match="kind"):
        Endpoint.sessions("metrics")
    with pytest.raises(ValueError, match="unknown API"):
        Endpoint("klaviyo", "flow-report")


# --- the URL budget ---------------------------------------------------------------------------

FLOW_ENDPOINT = Endpoint.flow_real_time(825, "PT5M")


def filter_of_length(endpoint: Endpoint, length: int) -> Expr:
    """``geo_city == 'xxx...'`` making the request URL exactly ``length`` characters long."""
    base = len(request_url(endpoint, Comparison(Key("geo_city"), Op.EQ, String(""))))
    expr = parse(f"geo_city == '{'x' * (length - base)}'")
    assert len(request_url(endpoint, expr)) == length
    return expr


def test_budget_at_the_limit_is_fine_but_not_quiet() -> None:
    # At the limit there is no error; it is above 90%, so there is the warning.
    (d,) = url_budget(FLOW_ENDPOINT, filter_of_length(FLOW_ENDPOINT, 4096))
    assert d.code == "FQ502"
    assert d.message == "the request URL is 4,096 characters, 100% of the limit of 4,096"


def test_budget_one_over_the_limit() -> None:
    (d,) = url_budget(FLOW_ENDPOINT, filter_of_length(FLOW_ENDPOINT, 4097))
    assert d.code == "FQ501"
    assert d.severity is Severity.ERROR
    assert d.message == "the request URL is 4,097 characters, 1 over the limit of 4,096"


def test_budget_message_as_documented() -> None:
    (d,) = url_budget(FLOW_ENDPOINT, filter_of_length(FLOW_ENDPOINT, 4310))
    assert d.message == "the request URL is 4,310 characters, 214 over the limit of 4,096"


def test_budget_90_percent_boundary() -> None:
    assert url_budget(FLOW_ENDPOINT, filter_of_length(FLOW_ENDPOINT, 900), limit=1000) == []
    (d,) = url_budget(FLOW_ENDPOINT, filter_of_length(FLOW_ENDPOINT, 901), limit=1000)
    assert d.code == "FQ502"
    assert d.severity is Severity.WARNING
    assert d.message == "the request URL is 901 characters, 90% of the limit of 1,000"
    (d,) = url_budget(FLOW_ENDPOINT, filter_of_length(FLOW_ENDPOINT, 920), limit=1000)
    assert d.message == "the request URL is 920 characters, 92% of the limit of 1,000"
    # With the default limit: 90% is 3,686.4 characters.
    assert url_budget(FLOW_ENDPOINT, filter_of_length(FLOW_ENDPOINT, 3686)) == []
    (d,) = url_budget(FLOW_ENDPOINT, filter_of_length(FLOW_ENDPOINT, 3687))
    assert d.code == "FQ502"
    assert DEFAULT_URL_LIMIT == 4096


def test_budget_of_sessions() -> None:
    endpoint = Endpoint.sessions(limit=500)
    (d,) = url_budget(endpoint, filter_of_length(endpoint, 4097))
    assert d.code == "FQ501"
    assert d.hint is not None
    assert "filter_id" in d.hint


def test_budget_without_a_filter() -> None:
    assert url_budget(FLOW_ENDPOINT, None) == []
    (d,) = url_budget(FLOW_ENDPOINT, None, limit=20)
    assert d.code == "FQ501"
    assert d.span is None
    assert d.hint is None
    with pytest.raises(ValueError, match="at least 1"):
        url_budget(FLOW_ENDPOINT, None, limit=0)


def test_budget_span_is_the_root() -> None:
    text = "geo_city IN ('a', 'b') AND isp == 'c'"
    (d,) = url_budget(FLOW_ENDPOINT, parse(text), limit=100)
    assert d.span is not None
    assert (d.span.start, d.span.end) == (0, len(text))


def test_budget_hint_lists_clauses_by_cost() -> None:
    cities = ", ".join(f"'City number {i}'" for i in range(150))
    text = (
        f"device_name ~~ 'phone' AND geo_city IN ({cities}) AND isp != 'y' "
        "AND (cdn == 'Akamai' OR cdn == 'Fastly')"
    )
    expr = parse(text)
    (d,) = url_budget(FLOW_ENDPOINT, expr)
    assert d.code == "FQ501"
    assert d.hint is not None
    city_cost = len(
        percent_encode(" OR ".join(f"geo_city == 'City number {i}'" for i in range(150)))
    )
    cdn_cost = len(percent_encode("cdn == 'Akamai' OR cdn == 'Fastly'"))
    phone_cost = len(percent_encode("device_name ~~ 'phone'"))
    assert d.hint == (
        f"costliest: geo_city IN (...) {city_cost:,} characters, "
        f"cdn == 'Akamai' OR cdn == 'Fastly' {cdn_cost} characters, "
        f"device_name ~~ 'phone' {phone_cost} characters, ...; "
        "shorten them, match a common part with ~~, or split the query"
    )
    assert city_cost > 1000


def test_budget_hint_clips_long_clauses() -> None:
    text = f"geo_city == '{'y' * 5000}' OR isp == 'x'"
    (d,) = url_budget(FLOW_ENDPOINT, parse(text))
    assert d.hint is not None
    assert d.hint.startswith(f"costliest: {text[:37]}... 5,")
    assert len(text[:37]) == 37
    assert "isp == 'x' " in d.hint


def test_budget_hint_for_a_single_clause() -> None:
    expr = In(Key("geo_city"), [String(f"c{i}") for i in range(1000)], negated=True)
    (d,) = url_budget(FLOW_ENDPOINT, expr)
    assert d.hint is not None
    assert d.hint.startswith("costliest: geo_city NOT IN (...) ")
    assert "..." in d.hint


def test_budget_skips_refused_filters() -> None:
    big = " OR ".join(f"asn == {i}" for i in range(1000))
    assert url_budget(FLOW_ENDPOINT, parse(big)) == []
    many = " OR ".join(f"a{i} == 'x'" for i in range(1000))
    assert url_budget(Endpoint.sessions(), parse(many)) == []


def test_budget_counts_a_flow_filter_that_warns() -> None:
    text = f"geo_city == 'it\\'s {'x' * 4000}'"
    (d,) = url_budget(FLOW_ENDPOINT, parse(text))
    assert d.code == "FQ501"


# --- longest_flow_endpoint --------------------------------------------------------------------


def test_longest_flow_endpoint() -> None:
    e = longest_flow_endpoint("142", demo_model())
    assert e.kind == "historical"
    assert e.flow_id == "142"
    assert e.start is not None
    assert e.end is not None
    assert len(e.start) == len(e.end) == 24
    assert e.start < e.end
    assert e.group_by == "device_operating_system_version"
    assert e.group_by == max(demo_model().dimensions("142"), key=len)


def test_longest_flow_endpoint_without_group_by() -> None:
    assert longest_flow_endpoint(999, demo_model()).group_by is None
    empty = DataModel("conviva-flow", flows=[FlowModel("7", "Empty", [])])
    assert longest_flow_endpoint(7, empty).group_by is None


def test_longest_flow_endpoint_ties_and_encoding() -> None:
    model = DataModel(
        "conviva-flow",
        flows=[
            FlowModel("1", "F", [Dimension("abcd"), Dimension("wxyz"), Dimension("\u00e9\u00e9")])
        ],
    )
    # "éé" is 2 characters, but 12 once encoded.
    assert longest_flow_endpoint(1, model).group_by == "\u00e9\u00e9"
    model = DataModel(
        "conviva-flow", flows=[FlowModel("1", "F", [Dimension("abcd"), Dimension("wxyz")])]
    )
    assert longest_flow_endpoint(1, model).group_by == "abcd"


def test_longest_flow_endpoint_is_the_longest() -> None:
    expr = parse("geo_country == 'Spain'")
    longest = len(request_url(longest_flow_endpoint(142, demo_model()), expr))
    for endpoint in (
        Endpoint.flow_real_time(142, "PT15M", group_by="geo_country", granularity="PT1M"),
        Endpoint.flow_historical(142, 1751994600000, 1751996400000, group_by="content_category"),
        Endpoint.flow_historical(
            142, "2025-07-08T17:10:00Z", "2025-07-08T17:40:00Z", group_by="player_name"
        ),
    ):
        assert len(request_url(endpoint, expr)) < longest


# --- lengths counted without writing the URL --------------------------------------------------

_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=40)


@given(_TEXT, st.sampled_from(["", ":", ":-", "/+="]))
def test_encoded_length_is_that_of_the_encoding(text: str, safe: str) -> None:
    assert encoded_length(text, safe) == len(percent_encode(text, safe))


@given(st.lists(st.tuples(_TEXT, _TEXT), max_size=4), st.booleans())
def test_query_length_is_that_of_the_query_string(
    params: list[tuple[str, str]], mark: bool
) -> None:
    safe = {k: ":" for k, _ in params[:1]}
    assert query_length(params, mark=mark, safe=safe) == len(
        encode_query(params, mark=mark, safe=safe)
    )


@pytest.mark.parametrize(
    "endpoint",
    [
        Endpoint.flow_historical("825", "2026-11-22T19:37:00.000Z", "2026-11-22T20:37:00.000Z"),
        Endpoint.flow_real_time("825", "PT5M", group_by="geo_country", granularity="PT1M"),
        Endpoint.sessions("content", start_date="2026-01-01", end_date="2026-01-02", limit=10),
        Endpoint.sessions("viewer-summary", viewer_id="v é", days=3),
    ],
)
def test_url_length_is_that_of_the_request_url(endpoint: Endpoint) -> None:
    expr = None if not endpoint.takes_filter else parse("geo_country IN ('Spain', 'Côte d\\'Or')")
    assert url_length(endpoint, expr) == len(request_url(endpoint, expr))
    assert endpoint.path == endpoint.path  # made once, then kept
