"""The HTTP edge: app factory, middleware, problem+json errors, auth dependencies."""
