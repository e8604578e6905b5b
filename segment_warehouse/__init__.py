"""Python logic shared by the dbt project's scripts, Python models and tests."""

__version__ = "0.1.0"
