"""Running the warehouse: dbt invocations, the scheduled job, publishing, progress, checks."""
