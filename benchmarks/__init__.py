"""Benchmarks of the portal against its physical limits (issue 7): `make bench`."""
