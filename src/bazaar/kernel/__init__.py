"""Small, dependency-free building blocks shared by every bounded context."""
