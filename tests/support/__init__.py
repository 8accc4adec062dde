"""Test factories and helpers shared by the test sizes."""
