"""The SQLAlchemy side of storage: engine, tables, repositories, unit of work."""
