"""Failure counters for logins and secret look-ups, checked before any password hashing.

Built on Flask-Limiter's storage (memory in development, Redis when
``RATELIMIT_STORAGE_URI`` points to it) with a moving window. Several keys count each
failure: the account from one address, the account from anywhere, the address on any
account. A school behind one address cannot lock another school out, and someone who
knows a public code cannot keep its owner out for long: every window lifts by itself.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta

from limits import RateLimitItem, parse

from ..extensions import limiter


def _sanitize(value: str) -> str:
    # Keys are joined with "/" by the storage: user input must not forge another key.
    return (value or "").strip().lower().replace("/", "_")[:120]


@dataclass(frozen=True)
class Rule:
    limit: RateLimitItem
    by_account: bool
    by_ip: bool


class Throttle:
    def __init__(self, scope: str, *, account_ip: str, account: str, ip: str):
        self.scope = scope
        self.rules = (
            Rule(parse(account_ip), by_account=True, by_ip=True),
            Rule(parse(account), by_account=True, by_ip=False),
            Rule(parse(ip), by_account=False, by_ip=True),
        )

    def _keys(self, rule: Rule, account: str, ip: str) -> tuple[str, ...]:
        parts = [self.scope]
        if rule.by_account:
            parts.append("a:" + _sanitize(account))
        if rule.by_ip:
            parts.append("ip:" + _sanitize(ip))
        return tuple(parts)

    def blocked_for(self, account: str, ip: str) -> timedelta | None:
        """How long until the next attempt is allowed, or None when it is allowed now."""
        if not limiter.enabled:
            return None
        strategy = limiter.limiter
        waits = []
        for rule in self.rules:
            keys = self._keys(rule, account, ip)
            if not strategy.test(rule.limit, *keys):
                reset_at, _remaining = strategy.get_window_stats(rule.limit, *keys)
                waits.append(max(1, int(reset_at - time.time())))
        return timedelta(seconds=max(waits)) if waits else None

    def fail(self, account: str, ip: str) -> None:
        if not limiter.enabled:
            return
        for rule in self.rules:
            limiter.limiter.hit(rule.limit, *self._keys(rule, account, ip))

    def succeed(self, account: str, ip: str) -> None:
        """A success clears the account-from-this-address counter only."""
        if not limiter.enabled:
            return
        rule = self.rules[0]
        limiter.limiter.clear(rule.limit, *self._keys(rule, account, ip))


# 5 failures in 15 minutes for one account from one address; looser elsewhere.
ETABLISSEMENT_LOGIN = Throttle("etab-login", account_ip="5 per 15 minutes",
                               account="30 per hour", ip="100 per hour")
POSTE_LOGIN = Throttle("poste-login", account_ip="5 per 15 minutes",
                       account="30 per hour", ip="100 per hour")
GESTIONNAIRE_LOGIN = Throttle("gest-login", account_ip="5 per 15 minutes",
                              account="30 per hour", ip="100 per hour")
CANDIDAT_LOGIN = Throttle("candidat-login", account_ip="5 per 15 minutes",
                          account="20 per hour", ip="60 per hour")


def wait_message(wait: timedelta) -> str:
    minutes = max(1, round(wait.total_seconds() / 60))
    unite = "minute" if minutes == 1 else "minutes"
    return (
        "Trop de tentatives infructueuses. Par sécurité, la connexion est suspendue : "
        f"réessayez dans {minutes} {unite} environ."
    )
