"""Debian's wapiti 3.0.4 with two adjustments the DAST suite needs.

Run by the system interpreter, where ``wapitiCore`` is installed:
``/usr/bin/python3 wapiti_guarded.py [--refuse-post P]... [--allow-post P]... <wapiti options>``.

1. ``-x`` patterns: wapiti 3.0.4 compiles them to ``...\\Z(?ms)``, which Python 3.11 rejects
   ("global flags not at the start of the expression"): any ``-x`` would crash the scan.
   The translation is replaced by the same one with the flags in front.
2. ``--refuse-post P`` / ``--allow-post P`` (wildcards as in ``-x``): a crawl submits every
   form it finds, with default values, and the attack modules then replay them. For a
   logged-in visitor that would log out, lock the database or change the campaign under
   the other scans. A POST whose URL matches a refused pattern and no allowed one is not
   sent (the crawler skips it as an unreachable resource, so it is never attacked either).
   GET requests are untouched: the portal changes nothing on GET.
"""
from __future__ import annotations

import re
import sys


def wildcard_translate(pattern: str) -> re.Pattern:
    return re.compile("(?ms)" + ".*".join(re.escape(part) for part in pattern.split("*")) + r"\Z")


def _split_args(argv: list[str]) -> tuple[list[re.Pattern], list[re.Pattern], list[str]]:
    refused, allowed, rest = [], [], []
    args = iter(argv)
    for arg in args:
        if arg == "--refuse-post":
            refused.append(wildcard_translate(next(args)))
        elif arg == "--allow-post":
            allowed.append(wildcard_translate(next(args)))
        else:
            rest.append(arg)
    return refused, allowed, rest


def _guard_posts(crawler_module, refused: list[re.Pattern], allowed: list[re.Pattern]) -> None:
    from requests.exceptions import RequestException

    original = crawler_module.Crawler.post

    def post(self, form, *args, **kwargs):
        url = form.url
        if any(p.match(url) for p in refused) and not any(p.match(url) for p in allowed):
            print(f"[refused POST] {url}", flush=True)
            raise RequestException(f"POST refused by the scan policy: {url}")
        return original(self, form, *args, **kwargs)

    crawler_module.Crawler.post = post


def main(argv: list[str]) -> int:
    from wapitiCore.net import crawler

    refused, allowed, rest = _split_args(argv)
    crawler.wildcard_translate = wildcard_translate
    _guard_posts(crawler, refused, allowed)
    sys.argv = ["wapiti", *rest]
    from wapitiCore.main.wapiti import wapiti_main

    return wapiti_main() or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
