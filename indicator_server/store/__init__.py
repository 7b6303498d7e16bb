"""Storage: SQLAlchemy 2 models and repositories (stored market data, signals)."""
