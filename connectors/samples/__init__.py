"""Sample sources for the demo, the tests and the benchmarks."""
