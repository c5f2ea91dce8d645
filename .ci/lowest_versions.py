"""Print, as pip constraints, the lowest version of each runtime dependency that setup.cfg
admits (``Name>=X`` gives ``Name==X``): ``make test-lowest`` installs them, so that a
lower bound is tested, not assumed. Standard library only (runs before any install)."""

import configparser
import re
import sys
from pathlib import Path

LOWER_BOUND = re.compile(r"^([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?\s*>=\s*([^,;\s]+)")


def constraints(setup_cfg: Path) -> list[str]:
    config = configparser.ConfigParser()
    config.read(setup_cfg, encoding="utf-8")
    pins = []
    for line in config["options"]["install_requires"].splitlines():
        match = LOWER_BOUND.match(line.strip())
        if line.strip() and not match:
            sys.exit(f"no lower bound (>=) in setup.cfg for: {line.strip()}")
        if match:
            pins.append(f"{match.group(1)}=={match.group(2)}")
    return pins


if __name__ == "__main__":
    print("\n".join(constraints(Path(__file__).resolve().parent.parent / "setup.cfg")))
