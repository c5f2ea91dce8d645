"""Failure counters for logins and secret look-ups, checked before any password hashing,
and quotas on what an anonymous address may create.

Built on Flask-Limiter's storage (memory in development, Redis when
``RATELIMIT_STORAGE_URI`` points to it) with a moving window. Several keys count each
failure: the account from one address, the account from anywhere, the address on any
account. A school behind one address cannot lock another school out, and someone who
knows a public code cannot keep its owner out for long: every window lifts by itself.

Quotas (``Quota``) bound the public registrations and drafts created from one client
address, with limits read from the configuration (``PUBLIC_INSCRIPTIONS_PER_ADDRESS``,
``PUBLIC_DRAFTS_PER_ADDRESS``) that a family, a library or a training centre's computer
room behind one address does not meet on a normal day.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from limits import RateLimitItem, parse, parse_many

from ..extensions import limiter
from . import ServiceError


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


class QuotaExceeded(Exception):
    """An address created more than its quota allows; ``wait``: until the next is allowed."""

    def __init__(self, quota: Quota, wait: timedelta):
        super().__init__(quota.scope)
        self.quota = quota
        self.wait = wait
        self.message = quota.message(wait)


class Quota:
    """At most so many creations per client address in each window of the configured
    limits (``"40 per hour;120 per day"``), counted in the limiter's shared storage."""

    def __init__(self, scope: str, config_key: str, trop: str):
        self.scope = scope
        self.config_key = config_key
        self.trop = trop  # the start of the refusal, in French

    def limits(self) -> list[RateLimitItem]:
        return parse_many(current_app.config[self.config_key])

    def _keys(self, ip: str) -> tuple[str, ...]:
        return (self.scope, "ip:" + _sanitize(ip))

    def blocked_for(self, ip: str) -> timedelta | None:
        if not limiter.enabled:
            return None
        strategy, waits = limiter.limiter, []
        for limit in self.limits():
            if not strategy.test(limit, *self._keys(ip)):
                reset_at, _remaining = strategy.get_window_stats(limit, *self._keys(ip))
                waits.append(max(1, int(reset_at - time.time())))
        return timedelta(seconds=max(waits)) if waits else None

    def consume(self, ip: str) -> None:
        """Count one creation, or raise ``QuotaExceeded`` (nothing counted) past a limit."""
        wait = self.blocked_for(ip)
        if wait is not None:
            raise QuotaExceeded(self, wait)
        if limiter.enabled:
            for limit in self.limits():
                limiter.limiter.hit(limit, *self._keys(ip))

    def message(self, wait: timedelta) -> str:
        bornes = " et ".join(f"{item.amount} par {_periode(item)}"
                             for item in self.limits())
        return (f"{self.trop} depuis votre adresse réseau (au plus {bornes}). "
                f"Réessayez dans {_duree(wait)} environ. Si vous partagez une connexion (établissement, "
                "médiathèque, centre de formation), d'autres personnes l'utilisent peut-être en même temps.")


_PERIODES = {"second": "seconde", "minute": "minute", "hour": "heure", "day": "jour", "month": "mois",
             "year": "an"}


def _periode(item: RateLimitItem) -> str:
    return _PERIODES.get(item.GRANULARITY.name, item.GRANULARITY.name)


def _duree(wait: timedelta) -> str:
    minutes = max(1, round(wait.total_seconds() / 60))
    if minutes < 120:
        return f"{minutes} minute" + ("s" if minutes > 1 else "")
    return f"{round(minutes / 60)} heures"


PUBLIC_INSCRIPTIONS = Quota("public-inscriptions", "PUBLIC_INSCRIPTIONS_PER_ADDRESS",
                            "Trop d'inscriptions ont été enregistrées")
PUBLIC_DRAFTS = Quota("public-brouillons", "PUBLIC_DRAFTS_PER_ADDRESS",
                      "Trop d'inscriptions ont été commencées")


class TropDeTentatives(ServiceError):
    """Too many failed attempts for this account or from this address: refused before any
    password hashing, even with the right password (the views answer 429)."""

    def __init__(self, wait: timedelta):
        super().__init__(wait_message(wait))
        self.wait = wait


def wait_message(wait: timedelta) -> str:
    minutes = max(1, round(wait.total_seconds() / 60))
    unite = "minute" if minutes == 1 else "minutes"
    return (
        "Trop de tentatives infructueuses. Par sécurité, la connexion est suspendue : "
        f"réessayez dans {minutes} {unite} environ."
    )
