"""Search: the faceted product index behind the catalogue listing (SQLite FTS5, PostgreSQL)."""
