"""The invariants of the paging loop, checked against the database and the webhook receiver after
every step of the state machine. Each check returns the violations it found, as sentences.

(a) A rule series whose state is breaching has a firing or acknowledged alert, unless a person
    resolved that alert after the rule's last evaluation of the series (by design it fires again
    at the next evaluation that sees data). Checked whatever the alert's muting or snooze.
(b) Every firing, unmuted alert is in an open (triggered or acknowledged) incident.
(c) Every triggered incident has an active escalation, or its latest escalation ended with a
    recorded `stop_reason`. Stronger, from the design: when paging is wanted
    (`alerts.selectors.paging_wanted`) there is an active escalation or the latest one is
    finished/unrouted (done until the next trigger); when it is not, no escalation is active.
(d) No notification of an escalation that was stopped (acknowledge, resolve) or paused (every
    firing alert muted) reaches the receiver after the service call that stopped or paused it
    returned, i.e. after its transaction committed (the state machine runs every call in
    order, so a send that began before that commit also finished before it; the share lock
    that makes this true under concurrency is covered by the threaded race step). In the
    database: no such notification has `sent_at` later than the escalation's `stopped_at`.
(e) The receiver accepts (2xx) at most one message per notification; a notification is `sent`
    exactly when the receiver accepted one message for it. Refused attempts (5xx, then a retry)
    are not deliveries.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import F, Q

from alerts.evaluation import OK
from alerts.models import Alert, Incident, RuleState
from paging.models import Escalation, Notification

ENDED_BY_A_PERSON_OR_MUTE = (Escalation.State.STOPPED, Escalation.State.PAUSED)
DONE_UNTIL_NEXT_TRIGGER = (Escalation.State.FINISHED, Escalation.State.UNROUTED)


@dataclass
class Ledger:
    """What the test saw happen, to compare with the database: when a person resolved each
    host's alert; escalations saved as stopped or paused during the current service call; and for
    each stopped or paused escalation, how many messages the receiver had got when the call that
    ended it returned (its transaction committed)."""

    resolved_by_hand: dict[str, datetime] = field(default_factory=dict)
    ended_in_call: set[int] = field(default_factory=set)
    stop_marks: dict[int, int] = field(default_factory=dict)
    escalation_of: dict[int, int | None] = field(default_factory=dict)
    checked_receipts: int = 0
    violations: list[str] = field(default_factory=list)


def marks_update(ledger: Ledger, *, receipts: int) -> None:
    """After a call returned: the escalations it stopped or paused get the receiver's count."""
    if not ledger.ended_in_call:
        return
    ended = Escalation.objects.filter(pk__in=ledger.ended_in_call, state__in=ENDED_BY_A_PERSON_OR_MUTE)
    for pk in ended.values_list("pk", flat=True):
        ledger.stop_marks.setdefault(pk, receipts)
    ledger.ended_in_call.clear()


def breaching_rules_have_alerts(ledger: Ledger, *, rule) -> list[str]:
    problems = []
    alerted = set(
        Alert.objects.filter(rule=rule, status__in=["firing", "acknowledged"]).values_list("series_id", flat=True)
    )
    for state in RuleState.objects.filter(rule=rule).exclude(level=OK).select_related("series"):
        host = state.series.labels.get("host", "")
        resolved = ledger.resolved_by_hand.get(host)
        if resolved is not None and state.evaluated_at <= resolved:
            continue  # resolved by hand since the last evaluation: fires again at the next one
        if state.series_id not in alerted:
            latest = Alert.objects.filter(rule=rule, series=state.series).order_by("-id").first()
            problems.append(
                f"(a) rule breaches for host {host} (evaluated {state.evaluated_at:%H:%M:%S}) but its alert is "
                f"{latest.status if latest else 'missing'}"
            )
    return problems


def firing_alerts_are_in_open_incidents(*, team_id: int) -> list[str]:
    stray = Alert.objects.filter(team_id=team_id, status="firing", muted="").filter(
        Q(incident=None) | Q(incident__status=Incident.Status.RESOLVED)
    )
    return [
        f"(b) firing unmuted alert {alert.pk} ({alert.labels.get('host')}) is in "
        f"{alert.incident.status if alert.incident else 'no'} incident"
        for alert in stray.select_related("incident")
    ]


def triggered_incidents_page_or_say_why(*, team_id: int) -> list[str]:
    """Paging is wanted, computed here from the alerts (not with the selector under test)."""
    problems = []
    incidents = (
        Incident.objects.filter(team_id=team_id)
        .exclude(status=Incident.Status.RESOLVED)
        .prefetch_related("alerts", "escalations")
    )
    for incident in incidents:
        escalations = sorted(incident.escalations.all(), key=lambda e: (e.started_at, e.pk), reverse=True)
        active = [e for e in escalations if e.state == Escalation.State.ACTIVE]
        latest = escalations[0] if escalations else None
        firing = [a for a in incident.alerts.all() if a.status == "firing"]
        wanted = incident.status == Incident.Status.TRIGGERED and any(not a.muted for a in firing)
        silent = not active and not (latest and latest.stop_reason)
        if incident.status == Incident.Status.TRIGGERED and silent:
            problems.append(f"(c) triggered incident {incident.pk} has no active escalation and no reason")
        if wanted and not active and not (latest and latest.state in DONE_UNTIL_NEXT_TRIGGER):
            state = f"{latest.state} ({latest.stop_reason})" if latest else "none"
            problems.append(f"(c) incident {incident.pk} should page but its latest escalation is {state}")
        if active and not wanted:
            mutes = sorted({a.muted for a in firing})
            problems.append(
                f"(c) incident {incident.pk} ({incident.status}) has an active escalation; firing alerts muted: {mutes}"
            )
    return problems


def nothing_sent_after_the_stop(ledger: Ledger, *, receipts: list) -> list[str]:
    problems = []
    new = receipts[ledger.checked_receipts :]
    unknown = {r.notification_id for r in new} - set(ledger.escalation_of)
    if unknown:
        ledger.escalation_of.update(Notification.objects.filter(pk__in=unknown).values_list("pk", "escalation_id"))
    for position, receipt in enumerate(new, start=ledger.checked_receipts):
        escalation_id = ledger.escalation_of.get(receipt.notification_id)
        mark = ledger.stop_marks.get(escalation_id)
        if mark is not None and position >= mark:
            escalation = Escalation.objects.get(pk=escalation_id)
            problems.append(
                f"(d) notification {receipt.notification_id} reached {receipt.path} (message {position + 1}) after "
                f"its escalation was {escalation.state} ({escalation.stop_reason}) when message {mark} had arrived"
            )
    late = Notification.objects.filter(
        escalation__state__in=ENDED_BY_A_PERSON_OR_MUTE, status="sent", sent_at__gt=F("escalation__stopped_at")
    )
    problems += [f"(d) notification {n.pk} has sent_at after its escalation stopped" for n in late]
    return problems


def sent_at_most_once(*, team_id: int, receipts: list) -> list[str]:
    problems = []
    accepted = Counter(r.notification_id for r in receipts if r.accepted)
    for notification_id, count in accepted.items():
        if count > 1:
            problems.append(f"(e) notification {notification_id} was delivered {count} times")
    sent = set(Notification.objects.filter(incident__team_id=team_id, status="sent").values_list("pk", flat=True))
    if sent != set(accepted):
        problems.append(
            f"(e) sent in the database {sorted(sent - set(accepted))} never arrived; arrived but not sent "
            f"{sorted(set(accepted) - sent)}"
        )
    return problems


def violations(ledger: Ledger, *, world) -> list[str]:
    with world.receiver.lock:
        receipts = list(world.receiver.receipts)
    team_id = world.team.id
    found = [
        *ledger.violations,
        *breaching_rules_have_alerts(ledger, rule=world.rule),
        *firing_alerts_are_in_open_incidents(team_id=team_id),
        *triggered_incidents_page_or_say_why(team_id=team_id),
        *nothing_sent_after_the_stop(ledger, receipts=receipts),
        *sent_at_most_once(team_id=team_id, receipts=receipts),
    ]
    ledger.checked_receipts = len(receipts)
    return found
