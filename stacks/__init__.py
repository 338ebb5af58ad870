"""ZenML stacks of the project: stack set-up scripts (``stacks/airflow-local/``), the settings a
pipeline needs on the active stack (``stacks.runtime``) and the Airflow DAG generator that keeps
credentials out of DAG files (``stacks.airflow_dag``)."""
