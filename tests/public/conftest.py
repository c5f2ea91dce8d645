"""The registration fixtures are shared with the in-school service's tests."""
from tests.inscription.conftest import (  # noqa: F401
    CONTACT,
    IDENTITE,
    _fresh_limiter,
    publish,
)
