"""The typed escalation snapshot: the policy as it was when an episode was routed, so editing the
policy later does not disturb a running escalation. Stored as JSON on the escalation row."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class LevelSnapshot:
    position: int
    wait_s: int
    strategy: str = "all"
    users: list[int] = field(default_factory=list)
    teams: list[int] = field(default_factory=list)
    rotation: int | None = None
    channels: list[int] = field(default_factory=list)
    only_days: list[int] = field(default_factory=list)
    only_from: str | None = None
    only_until: str | None = None
    timezone: str = "UTC"
    min_alerts: int | None = None
    min_alerts_window_s: int | None = None


@dataclass
class PolicySnapshot:
    policy: str
    levels: list[LevelSnapshot]
    repeat: int = 0
    repeat_from: int = 0  # index of the level repeats start at
    round_robin: dict[str, str] = field(default_factory=dict)  # level index -> "u<id>" or "c<id>" chosen

    @classmethod
    def of(cls, policy) -> PolicySnapshot:
        levels = []
        for level in policy.levels.prefetch_related("users", "teams", "channels"):
            window = level.min_alerts_window
            levels.append(
                LevelSnapshot(
                    position=level.position,
                    wait_s=int(level.wait.total_seconds()),
                    strategy=level.strategy,
                    users=[u.pk for u in level.users.all()],
                    teams=[t.pk for t in level.teams.all()],
                    rotation=level.rotation_id,
                    channels=[c.pk for c in level.channels.all()],
                    only_days=list(level.only_days or []),
                    only_from=level.only_from.isoformat() if level.only_from else None,
                    only_until=level.only_until.isoformat() if level.only_until else None,
                    timezone=level.timezone,
                    min_alerts=level.min_alerts,
                    min_alerts_window_s=int(window.total_seconds()) if window else None,
                )
            )
        return cls(
            policy=policy.name, levels=levels, repeat=policy.repeat, repeat_from=max(policy.repeat_from_level, 1) - 1
        )

    @classmethod
    def load(cls, data: dict) -> PolicySnapshot:
        known = set(LevelSnapshot.__dataclass_fields__)
        levels = [LevelSnapshot(**{k: v for k, v in level.items() if k in known}) for level in data.get("levels", [])]
        return cls(
            policy=data.get("policy", ""),
            levels=levels,
            repeat=data.get("repeat", 0),
            repeat_from=data.get("repeat_from", 0),
            round_robin=dict(data.get("round_robin", {})),
        )

    def dump(self) -> dict:
        return asdict(self)
