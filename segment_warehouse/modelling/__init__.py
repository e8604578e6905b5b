"""The math of the predictive models and of the segment evaluation: no I/O beyond DuckDB reads."""
