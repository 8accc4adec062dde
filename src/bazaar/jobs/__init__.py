"""Background jobs: long operator tasks (bulk import and export) run by workers with leases."""
