"""The GraphQL sandbox's answers to queries (``sandbox.GraphQLSandbox`` checks the headers).

Known: ``searchOrder(input: {startOrderDate, endOrderDate, page, limit})`` with
``searchedCount``, ``page``, ``orders{displayOrderNumber, orderDate}``; a query naming
a field the schema does not have is a validation error answered 422 with ``errors``
(one public report). INVENTED: ``getShop { shopId shopName }``, the shop the token
belongs to (public clients call ``getShop`` as their connection check; its fields are
not published), and every error code and message.
"""

import json
import re
from datetime import datetime, timedelta
from typing import NamedTuple

from malls.makeshop import api

MAKESHOP_TZ = api.MAKESHOP_TZ
_JSON = "application/json; charset=UTF-8"

# The fields each query offers (the sandbox's schema); anything else is a 422.
SEARCH_ORDER_FIELDS = frozenset({"searchedCount", "page", "orders", "displayOrderNumber",
                                 "orderDate"})
GET_SHOP_FIELDS = frozenset({"shopId", "shopName"})
_ROOT_FIELDS = ("searchOrder", "getShop")


class Answer(NamedTuple):
    """An HTTP answer; same field order as the legacy sandbox's ``Answer``."""

    status: int
    body: bytes
    content_type: str
    headers: tuple[tuple[str, str], ...] = ()


def json_answer(status: int, data) -> Answer:
    """An ``Answer`` carrying ``data`` as JSON."""
    return Answer(status, json.dumps(data, ensure_ascii=False).encode(), _JSON)


def error_answer(status: int, code: str, message: str) -> Answer:
    """INVENTED: MakeShop's error codes and messages are not published."""
    return json_answer(status, {"data": None, "errors": [
        {"message": message, "extensions": {"code": code}}
    ]})


_SEARCH_ORDER = re.compile(r"\bsearchOrder\s*\(\s*input\s*:\s*(\{[^}]*\}|\$\w+)\s*\)\s*\{",
                           re.S)
_ARGUMENT = re.compile(r"(\w+)\s*:\s*(\"[^\"]*\"|\d+)")


def answer_query(body: bytes, now: datetime, *, shop_id: str):
    """Answer a query for the token's shop ``shop_id``: searchOrder and/or getShop."""
    try:
        request = json.loads(body)
        query = request["query"]
        if not isinstance(query, str):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        return error_answer(400, "BAD_REQUEST", "Body must be JSON with a query")
    data: dict = {}
    unknown = _unknown_fields(query)
    if unknown:
        return error_answer(422, "GRAPHQL_VALIDATION_FAILED",
                            f'Cannot query field "{unknown[0]}"')
    if re.search(r"\bgetShop\b", query):
        selection = _selection_after(query, "getShop")
        shop = {"shopId": shop_id, "shopName": f"{shop_id} (sandbox)"}
        data["getShop"] = {name: value for name, value in shop.items()
                           if re.search(rf"\b{name}\b", selection)}
    match = _SEARCH_ORDER.search(query)
    if match is not None:
        answer = _search_order(request, match, now)
        if isinstance(answer, dict):
            data["searchOrder"] = answer
        else:
            return answer
    if not data:
        return error_answer(422, "GRAPHQL_VALIDATION_FAILED",
                            "Cannot query field (the sandbox answers searchOrder and getShop)")
    return json_answer(200, {"data": data})


def _unknown_fields(query: str) -> list[str]:
    """Field names in the selections that the sandbox's schema does not have."""
    known = SEARCH_ORDER_FIELDS | GET_SHOP_FIELDS | set(_ROOT_FIELDS)
    body = re.sub(r"\([^)]*\)", "", query)  # arguments are not fields
    body = re.sub(r"^\s*(query|mutation)\s*\w*", "", body.strip())
    names = re.findall(r"[A-Za-z_]\w*", body)
    return [name for name in names if name not in known]


def _selection_after(query: str, field: str) -> str:
    """The braces after ``field`` (after its arguments, if any)."""
    at = query.find(field) + len(field)
    rest = query[at:].lstrip()
    if rest.startswith("("):
        at = query.find(")", at) + 1
    return _selection_at(query, query.find("{", at))


def _selection_at(query: str, start: int) -> str:
    depth, end = 0, start
    for end in range(start, len(query)):
        depth += {"{": 1, "}": -1}.get(query[end], 0)
        if depth == 0:
            break
    return query[start:end + 1] if start >= 0 else ""


def _search_order(request, match, now):
    arguments = match.group(1)
    selection = _selection_at(request["query"], match.end() - 1)
    if arguments.startswith("$"):
        variables = request.get("variables") or {}
        given = variables.get(arguments[1:]) if isinstance(variables, dict) else None
        given = given if isinstance(given, dict) else {}
    else:
        given = {name: value.strip('"') for name, value in _ARGUMENT.findall(arguments)}
    try:
        since = _moment(str(given.get("startOrderDate", "")))
        until = _moment(str(given.get("endOrderDate", "")))
        page = max(int(given.get("page", 1)), 1)
        limit = min(max(int(given.get("limit", 20)), 1), 100)
    except ValueError:
        return error_answer(200, "BAD_USER_INPUT",
                            "startOrderDate and endOrderDate must be yyyymmddhhmmss")
    found = [order for order in _demo_orders(now) if since <= order[1] <= until]
    result: dict = {}
    if re.search(r"\bsearchedCount\b", selection):
        result["searchedCount"] = len(found)
    if re.search(r"\bpage\b", selection):
        result["page"] = page
    if re.search(r"\borders\b", selection):
        result["orders"] = [
            {"displayOrderNumber": number, "orderDate": placed.strftime("%Y-%m-%d %H:%M:%S")}
            for number, placed in found[(page - 1) * limit: page * limit]
        ]
    return result


def _demo_orders(now: datetime) -> list[tuple[str, datetime]]:
    """A day or more old: a recent period finds nothing, as most verifications do."""
    return [("D000000102", now - timedelta(days=1)), ("D000000103", now - timedelta(days=2))]


def now_jst(unix: float) -> datetime:
    return datetime.fromtimestamp(unix, MAKESHOP_TZ).replace(microsecond=0, tzinfo=None)


def _moment(value: str) -> datetime:
    if not re.fullmatch(r"\d{14}", value):
        raise ValueError(value)
    return datetime.strptime(value, "%Y%m%d%H%M%S")
