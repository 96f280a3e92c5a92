"""Shared test helpers: the OpenMetadata emulator process and its admin client, the Airflow DAG runner."""
