"""The auth integration tests: the providers run in this (driver) venv against the identity emulator
(omlineage_devkit.emulators.identity); the OpenMetadata emulator verifies every bearer token against the
realms' JWKS. Airflow runs go through omlineage_devkit.airflow_runner in .venvs/airflow2. The fixtures
(`identity_servers`, `idp`, `om_sso`) come from the kit's pytest plugin.
"""
