"""The project's own code: data source, features, model and metrics.

The pipeline (`dvc repro`) runs `stages.py`, which calls these modules and leaves tracking,
validation, promotion and serving to mlops-common.
"""
