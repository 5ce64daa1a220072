"""The data layer: SQLAlchemy models and sessions; the schema is managed by Alembic."""

from db import golive_models as golive_models  # its tables join Base.metadata
from db.models import Base, CreditEntry, Event, Job, Purchase, User, utcnow
from db.session import dispose_engines, get_engine, init_db, session_scope

__all__ = [
    "Base",
    "CreditEntry",
    "Event",
    "Job",
    "Purchase",
    "User",
    "dispose_engines",
    "get_engine",
    "init_db",
    "session_scope",
    "utcnow",
]
