"""Live sockets lose access with their login: logout, removed memberships, deactivated users.

Publishing side: signal receivers send `{"type": "live.revoke", "users": [...], "sessions": [...]}`
to every hub of the installation (`CONTROL_GROUP` on the live layer, after the transaction
commits): on logout (with the ended session), on any change to a user's memberships, and when a
user is saved (deactivated, new password) or deleted. Best effort, like live events: the periodic
recheck of every hub (`HIVEOPS_LIVE_RECHECK_S`) catches what a lost message missed.

Receiving side: `recheck(subscribers, ended)` is the hubs' checker. It reads, in a few queries
for all the given sockets, each user's state, session and teams, then closes the sockets whose
session is over or no longer authenticates its user (logged out, expired, password changed, user
inactive or deleted), and moves the others to their current teams.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.auth.signals import user_logged_out
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from core.live_hub import CONTROL_GROUP, live_layer
from core.teams.models import Membership

logger = logging.getLogger(__name__)
DB_SESSION_ENGINES = ("django.contrib.sessions.backends.db", "django.contrib.sessions.backends.cached_db")


def publish_revoke(*, users: list[int], sessions: list[str] | None = None) -> None:
    """Tell every hub to re-check these users' sockets (and to close these sessions' sockets)."""

    layer = live_layer()
    if layer is None:
        return
    message = {"type": "live.revoke", "users": users, "sessions": sessions or []}
    try:
        async_to_sync(layer.group_send)(CONTROL_GROUP, message)
    except Exception:  # Redis down: the periodic recheck closes the sockets later
        logger.warning("live revocation for users %s not published", users, exc_info=True)


@receiver(user_logged_out, dispatch_uid="core.live_revoke.logged_out")
def _logged_out(sender, request, user, **kwargs) -> None:
    if user is None:
        return
    session = getattr(request, "session", None)
    key = getattr(session, "session_key", None)
    publish_revoke(users=[user.pk], sessions=[key] if key else [])


@receiver(post_save, sender=Membership, dispatch_uid="core.live_revoke.membership_saved")
@receiver(post_delete, sender=Membership, dispatch_uid="core.live_revoke.membership_deleted")
def _membership_changed(sender, instance: Membership, **kwargs) -> None:
    user_id = instance.user_id
    transaction.on_commit(lambda: publish_revoke(users=[user_id]))


@receiver(post_save, dispatch_uid="core.live_revoke.user_saved")
@receiver(post_delete, dispatch_uid="core.live_revoke.user_deleted")
def _user_changed(sender, instance: Any, update_fields=None, **kwargs) -> None:
    if sender is not get_user_model() or (update_fields is not None and set(update_fields) == {"last_login"}):
        return
    user_id = instance.pk
    transaction.on_commit(lambda: publish_revoke(users=[user_id]))


@dataclass
class States:
    users: dict[int, Any] = field(default_factory=dict)  # active users by id
    teams: dict[int, dict[int, str]] = field(default_factory=dict)  # user id -> {team id: slug}
    sessions: dict[str, dict] = field(default_factory=dict)  # live session key -> its data


def _session_data(keys: set[str]) -> dict[str, dict]:
    """The data of the sessions among `keys` that exist and have not expired."""
    engine = import_module(settings.SESSION_ENGINE)
    if settings.SESSION_ENGINE in DB_SESSION_ENGINES:
        from django.contrib.sessions.models import Session

        store = engine.SessionStore()
        rows = Session.objects.filter(session_key__in=keys, expire_date__gt=timezone.now())
        return {row.session_key: store.decode(row.session_data) for row in rows}
    found = {}
    for key in keys:
        store = engine.SessionStore(session_key=key)
        data = store.load()
        if store.session_key is not None:
            found[key] = data
    return found


def _states(user_ids: set[int], session_keys: set[str]) -> States:
    users = get_user_model().objects.filter(pk__in=user_ids, is_active=True)
    states = States(users={user.pk: user for user in users})
    for user_id, team_id, slug in Membership.objects.filter(user_id__in=user_ids).values_list(
        "user_id", "team_id", "team__slug"
    ):
        states.teams.setdefault(user_id, {})[team_id] = slug
    states.sessions = _session_data(session_keys) if session_keys else {}
    return states


def still_logged_in(states: States, user_id: int, session_key: str | None, ended: frozenset[str]) -> bool:
    user = states.users.get(user_id)
    if user is None:
        return False
    if session_key is None:  # a socket authenticated without a session (tests, other middleware)
        return True
    data = states.sessions.get(session_key)
    if session_key in ended or data is None or str(data.get(SESSION_KEY)) != str(user_id):
        return False
    stored_hash = data.get(HASH_SESSION_KEY)
    return stored_hash is None or constant_time_compare(stored_hash, user.get_session_auth_hash())


async def recheck(subscribers: list, ended: frozenset[str]) -> None:
    """The hubs' checker: close the sockets whose login is gone, retarget the others."""
    user_ids = {s.user_id for s in subscribers}
    session_keys = {s.session_key for s in subscribers if s.session_key}
    states = await database_sync_to_async(_states)(user_ids, session_keys)
    for subscriber in subscribers:
        if not still_logged_in(states, subscriber.user_id, subscriber.session_key, ended):
            await subscriber.revoke()
        elif states.teams.get(subscriber.user_id, {}) != subscriber.team_slugs and subscriber.hub is not None:
            await subscriber.hub.retarget(subscriber, states.teams.get(subscriber.user_id, {}))
