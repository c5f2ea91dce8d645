"""Portail de préinscription aux examens professionnels."""
from __future__ import annotations

import logging
from importlib import import_module
from pathlib import Path

from flask import Flask, abort, g, request
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from .config import Config, config_for_env, secret_key_problem

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: type[Config] | None = None, **overrides) -> Flask:
    app = Flask(__name__, template_folder=str(ROOT / "templates"), instance_path=str(ROOT / "instance"))
    app.config.from_object(config or config_for_env())
    app.config.update(overrides)
    check_secret_key(app)
    app.url_map.converters["int"] = DatabaseId
    register_proxy(app)
    register_extensions(app)
    register_blueprints(app)
    register_request_hooks(app)
    register_templates(app)
    register_errors(app)
    register_commands(app)
    return app


class DatabaseId(IntegerConverter):
    """``<int:...>`` in every route: a number past the database's integer columns matches no
    page (404) instead of reaching a query that PostgreSQL refuses (500)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def check_secret_key(app: Flask) -> None:
    if app.config["ENV_NAME"] in {"development", "testing"}:
        return
    problem = secret_key_problem(app.config.get("SECRET_KEY"))
    if problem:
        raise RuntimeError(problem)


def register_proxy(app: Flask) -> None:
    hops = app.config.get("PROXY_FIX_HOPS", 0)
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def register_extensions(app: Flask) -> None:
    from flask_wtf import FlaskForm

    from .database import configure_engine
    from .extensions import csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    # Built-in WTForms messages in French (WTForms ships the catalogue; no Flask-Babel needed).
    app.config["WTF_I18N_ENABLED"] = False
    FlaskForm.Meta.locales = ("fr_FR", "fr")
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.session_protection = "basic"
    login_manager.login_message = "Veuillez vous connecter pour accéder à cette page."
    login_manager.login_message_category = "info"
    app.config.setdefault("USE_SESSION_FOR_NEXT", True)
    with app.app_context():
        configure_engine(db.engine)
    from . import auth, generation

    login_manager.user_loader(auth.load_user)
    generation.init_app(app)

    app.session_interface = auth.SessionCookie()


BLUEPRINTS = (
    ("accueil", None),
    ("gestionnaire", "/gestionnaire"),
    ("etablissement", "/etablissement"),
    ("inscription", "/inscription"),
    ("public", "/public"),
    ("api", "/api/v1"),
)


def register_blueprints(app: Flask) -> None:
    """Each service is a package holding ``bp`` and a ``views`` module declaring its routes."""
    for name, prefix in BLUEPRINTS:
        package = import_module(f".{name}", __name__)
        import_module(f".{name}.views", __name__)
        app.register_blueprint(package.bp, url_prefix=prefix)


def register_request_hooks(app: Flask) -> None:
    from . import access, auth
    from .headers import register_security_headers

    app.before_request(check_page_argument)
    app.before_request(auth.enforce_absolute_timeout)
    app.before_request(auth.set_actor)
    app.before_request(access.enforce_access)
    register_security_headers(app)


MAX_PAGE = 100_000


def check_page_argument() -> None:
    """A ``page`` number past any real list (or too large for the database's integers)
    is a page that does not exist, as ``db.paginate`` says of pages past the end."""
    raw = request.args.get("page")
    if raw is None:
        return
    try:
        number = int(raw)  # as ``request.args.get("page", type=int)`` reads it: "²" fails, "٣" is 3
    except ValueError:
        return
    if number > MAX_PAGE:
        abort(404)


def register_templates(app: Flask) -> None:
    from .services import campagne, verrou
    from .templating import register_templating

    register_templating(app)

    @app.context_processor
    def _common():
        values = {"academie": app.config["ACADEMIE"]}
        if request.blueprint in {"etablissement", "inscription", "public"}:
            if verrou.is_held():
                values["maintenance"] = {
                    "message": "La base est verrouillée pour une opération de chargement : "
                               "la consultation reste possible, les modifications sont "
                               "momentanément refusées."
                }
        session_courante = g.get("session_examen") or campagne.current_session()
        if session_courante is not None:
            values["session_examen"] = session_courante
            values["academie"] = session_courante.academie
        return values


def register_errors(app: Flask) -> None:
    from .errors import register_error_handlers

    register_error_handlers(app)
    if not app.debug and not app.testing:
        logging.basicConfig(level=logging.INFO)


def register_commands(app: Flask) -> None:
    from .commands import register_commands as register

    register(app)
