"""Report Airflow DAGs, task runs and table lineage to OpenMetadata.

Importing this package is cheap on purpose: Airflow imports the backend class whenever it imports
BaseOperator, so nothing heavy (requests, boto3, auth libraries) is imported until the first report.
"""

__version__ = "0.1.0"
