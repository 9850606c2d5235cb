"""Storage: SQLAlchemy 2 models, the session scope and Alembic migrations."""
