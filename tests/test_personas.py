"""Every API operation, three personas: alice (owner) may reach her team's objects; bob (an admin
of another team) and charlie (in no team) get 403/404 for them and never see them in a list.

The operations come from the live schema, so new endpoints are covered without touching this
test; path ids are filled with alice's real objects (tests/fuzz/data.py)."""

from __future__ import annotations

import json
import re

import pytest
from rest_framework.test import APIClient

from core.teams.services import membership_ensure, team_get_or_create
from metrics.models import Series
from tests.capacity.factories import resource
from tests.fuzz.data import team_data

PATH_PARAM = re.compile(r"\{([^}]+)\}")
COLLECTION = re.compile(r"/([^/{}]+)/\{[^}]+\}")
DENIED = {401, 403, 404}


def login(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def world(db, django_user_model, storage_clean):
    team = team_get_or_create(slug="owners", name="Owners")[0]
    alice = django_user_model.objects.create_user("alice")
    membership_ensure(team=team, user=alice)
    other = team_get_or_create(slug="others", name="Others")[0]
    bob = django_user_model.objects.create_user("bob")
    membership_ensure(team=other, user=bob)  # admin of his own team
    charlie = django_user_model.objects.create_user("charlie")
    ids = team_data(team, alice)
    series = Series.objects.filter(team=team).order_by("id").first()
    ids["capacity"] = [str(resource(team, series).uid)]  # the page's path segment
    ids["resources"] = ids["capacity"]  # the API's
    return alice, bob, charlie, ids


def operations(client) -> list[tuple[str, str]]:
    schema = client.get("/api/schema/?format=json").json()
    return [(path, method) for path, item in schema["paths"].items() for method in item if method != "parameters"]


def fill(path: str, ids: dict[str, list[str]]) -> str | None:
    """The path with alice's objects in it, or None when there is no object of that kind."""
    for collection in COLLECTION.findall(path):
        if not ids.get(collection):
            return None
    for collection, name in zip(COLLECTION.findall(path), PATH_PARAM.findall(path), strict=False):
        path = path.replace("{" + name + "}", ids[collection][0], 1)
    return None if PATH_PARAM.search(path) else path


def test_other_teams_and_outsiders_reach_none_of_the_owners_objects(world):
    alice, bob, charlie, ids = world
    secrets = {value for values in ids.values() for value in values if len(value) >= 8}  # uuids, not small ints
    checked = 0
    for path, method in operations(login(alice)):
        if path.startswith("/api/v1/integrations/") or path in ("/api/v1/ingest", "/api/v1/prom/write"):
            continue  # authenticated by integration keys and ingest tokens, not by people
        url = fill(path, ids)
        if url is None:
            continue
        for user in (bob, charlie):
            response = getattr(login(user), method)(url, {}, format="json") if method != "get" else login(user).get(url)
            # Streamed exports: their status is the check (the owners' series cannot be selected).
            body = "" if response.streaming else response.content.decode(errors="replace")
            where = f"{method.upper()} {url} as {user.username}"
            if PATH_PARAM.search(path):
                # A write whose empty body is refused before the lookup (400) reveals nothing either.
                allowed = DENIED if method == "get" else DENIED | {400}
                assert response.status_code in allowed, f"{where}: {response.status_code} {body[:200]}"
                assert not any(s in body for s in secrets if s not in url), f"{where} shows other objects"
            else:
                assert response.status_code < 500, f"{where}: {response.status_code} {body[:200]}"
                if response.status_code < 300 and method == "get":
                    leaked = [s for s in secrets if s in body]
                    assert not leaked, f"{where} shows the owners' objects {leaked[:3]}"
            checked += 1
    print(f"{checked} requests by other personas")
    assert checked >= 100


def test_the_owner_reaches_her_objects(world):
    alice, _, _, ids = world
    client = login(alice)
    reached = 0
    for path, method in operations(client):
        if method != "get" or not PATH_PARAM.search(path):
            continue
        url = fill(path, ids)
        if url is None:
            continue
        response = client.get(url)
        assert response.status_code not in DENIED | {500}, f"GET {url}: {response.status_code}"
        reached += 1
    assert reached >= 15


@pytest.mark.parametrize(
    "template",
    ["/incidents/{incidents}/", "/series/{series}/", "/slos/{slos}/", "/capacity/{capacity}/"],
)
def test_pages_of_an_object_are_the_owners_only(world, template):
    alice, bob, charlie, ids = world
    collection = template.split("{")[1].split("}")[0]
    if not ids.get(collection):
        pytest.skip(f"no {collection} objects in the fixture")
    url = template.replace("{" + collection + "}", ids[collection][0])
    assert login(alice).get(url).status_code == 200
    for user in (bob, charlie):
        assert login(user).get(url).status_code == 404, f"{url} as {user.username}"


def test_the_schema_lists_the_operations(world):
    alice, *_ = world
    names = json.dumps(operations(login(alice)))
    assert "/api/v1/alerts/{id}" in names
