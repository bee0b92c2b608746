"""What the fuzz tests share: example counts, the runner, hostile values, a database snapshot."""

import string
from urllib.parse import urlencode, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from malls.makeshop.models import MakeShopConnection, NotificationEvent, OrderRefreshRequest
from malls.models import ChangeRecord, Mall, MallShop, Membership, Store

# Every fuzz test runs once per count: 200 examples in `make test` (a quick sweep that
# still meets every kind of hostile value), 1,000 and 10,000 in the slow run
# (`pytest -m slow tests/fuzz`), which is where the rare combinations turn up.
EXAMPLE_COUNTS = [
    pytest.param(200, id="200"),
    pytest.param(1_000, id="1k", marks=pytest.mark.slow),
    pytest.param(10_000, id="10k", marks=pytest.mark.slow),
]


def fuzz(strategy, check, *, examples: int) -> None:
    """Call ``check`` on ``examples`` values drawn from ``strategy``.

    Built per call because the example count is a test parameter. ``check`` closes
    over the test's fixtures, so Hypothesis never sees a function-scoped fixture; the
    database is shared by all examples, which is why each check compares snapshots
    taken around its own request rather than against a fresh database.
    """

    @settings(
        max_examples=examples,
        # A request's duration depends on the machine; time is not the property here.
        deadline=None,
        # No .hypothesis/ folder in the work tree: a failure prints its example and a
        # @reproduce_failure blob instead.
        database=None,
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(strategy)
    def run(value):
        check(value)

    run()


def weighted(*choices: tuple[int, st.SearchStrategy]) -> st.SearchStrategy:
    """One of the strategies, picked in proportion to its weight."""
    pool = [strategy for weight, strategy in choices for _ in range(weight)]
    return st.sampled_from(pool).flatmap(lambda strategy: strategy)


# Values that trip web code up: blank and NUL, line breaks (header and log injection),
# terminal escapes, bidi and zero-width characters, characters whose case mapping
# changes their length, full-width and non-ASCII digits, astral characters, markup,
# SQL, paths, placeholders, format strings, numbers at and past every limit.
TROUBLE = (
    "", " ", "\x00", "a\x00b", "\r\n", "x\r\nSet-Cookie: a=b", "\t", "\x1b[31m", "\x7f",
    "\u0085", "\u2028", "\u202e", "\u200b", "\ufeff", "\ufffd", "İ" * 100, "ß", "ﬁ", "ǅ",
    "１２３", "٣", "𠮷", "🇯🇵", "e\u0301", "<script>alert(1)</script>", "' OR '1'='1",
    "%00", "%", "%zz", "../../etc/passwd", "//evil.example", "https://evil.example/",
    "/\\evil.example", "javascript:alert(1)", "null", "None", "NaN", "-Infinity", "1e309",
    "-1", "0", "1.5", "0x10", "1_000", "9" * 20, "9" * 5000, "[SHOPID]", "[ORDERNUM]",
    "{{ 7*7 }}", "%(x)s", "{0}", "x" * 64, "x" * 65, "x" * 128, "x" * 129, "x" * 201,
)


def huge_text() -> st.SearchStrategy[str]:
    """Values far past every field's limit; several together pass Django's upload limit."""
    return st.builds(
        lambda piece, count: piece * count,
        st.sampled_from(["a", "あ", "𠮷", "\x00", " ", "9", "\r\n"]),
        st.integers(1_000, 300_000),
    )


def hostile_text(max_size: int = 200) -> st.SearchStrategy[str]:
    """Any text a browser could send: arbitrary Unicode, known troublemakers, huge values.

    Lone surrogates are left out: no client can encode them into a request.
    """
    return weighted(
        (8, st.text(max_size=max_size)),
        (3, st.text(alphabet=string.printable, max_size=max_size)),
        (4, st.sampled_from(TROUBLE)),
        (1, huge_text()),
    )


def form_value(likely: st.SearchStrategy[str] | None = None) -> st.SearchStrategy:
    """A form field's value: mostly one string, sometimes the field repeated."""
    single = hostile_text() if likely is None else weighted((1, likely), (1, hostile_text()))
    return weighted((9, single), (1, st.lists(single, max_size=3)))


def extra_fields() -> st.SearchStrategy[dict]:
    """Fields a form does not expect, under any name."""
    return st.dictionaries(hostile_text(max_size=30), form_value(), max_size=3)


ENCODINGS = st.sampled_from(["multipart", "urlencoded"])


@st.composite
def form_posts(draw, fields: dict[str, st.SearchStrategy]):
    """(data, encoding) for a form with ``fields`` (name -> strategy of likely values).

    Half the posts are plausible (nearly every field likely, so the paths behind
    validation run too); the rest are hostile (every field a coin toss between likely
    and hostile, some left out, unexpected fields added).
    """
    plausible = draw(st.booleans())
    data = {} if plausible else draw(extra_fields())
    for name, likely in fields.items():
        if plausible:
            data[name] = draw(weighted((9, likely), (1, form_value())))
        elif draw(st.integers(0, 9)):  # a field left out now and then
            data[name] = draw(form_value(likely))
    return data, draw(ENCODINGS)


def send_form(client, path, data: dict, encoding: str):
    """POST ``data`` as a browser would, in either of the two form encodings."""
    if encoding == "multipart":
        return client.post(path, data)
    return client.post(
        path, urlencode(data, doseq=True), content_type="application/x-www-form-urlencoded"
    )


def assert_no_server_error(response) -> None:
    assert response.status_code < 500, response.status_code


def assert_local_redirect(response) -> None:
    """A redirect never leads off the site, whatever ``next`` said."""
    location = response["Location"]
    # Browsers read a backslash as a slash: "/\\evil.example" is "//evil.example".
    parts = urlsplit(location.replace("\\", "/"))
    assert not parts.scheme and not parts.netloc, location


def watched_models():
    return (
        get_user_model(), Store, Membership, Mall, MallShop, MakeShopConnection, ChangeRecord,
        NotificationEvent, OrderRefreshRequest,
    )


def database_state() -> dict[str, list[tuple]]:
    """Every row of the tables a refused input must not touch, as stored.

    Read with SQL rather than the ORM so that secrets are compared as their stored
    ciphertext and every column (``version``, timestamps) counts. Sessions, rate
    counters and call slots are left out: refusing an input may rightly change them.
    """
    quote = connection.ops.quote_name
    state = {}
    with connection.cursor() as cursor:
        for model in watched_models():
            meta = model._meta
            # Table and column names come from the models' metadata only.
            cursor.execute(
                f"SELECT * FROM {quote(meta.db_table)} ORDER BY {quote(meta.pk.column)}"  # noqa: S608
            )
            state[meta.label] = [
                tuple(bytes(value) if isinstance(value, memoryview) else value for value in row)
                for row in cursor.fetchall()
            ]
    return state


def assert_unchanged(before: dict, after: dict, what: str) -> None:
    changed = [label for label in before if before[label] != after[label]]
    assert not changed, f"{what}, yet it changed {', '.join(changed)}"
