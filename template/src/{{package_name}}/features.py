"""From raw data to the train/test split the model sees."""

from __future__ import annotations

from typing import Any

import pandas as pd

from .data import TARGET


def prepare(raw: pd.DataFrame, params: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Clean the raw table and split it into (train, test) frames, both keeping `target`.

    `params` is the `prepare` section of params.yaml.
    """
    from sklearn.model_selection import train_test_split

    # Replace with your own features: derived columns, filters, joins. Whatever you add here is
    # what the model trains on and what the service expects in each request.
    frame = raw.dropna().drop_duplicates().reset_index(drop=True)
    train, test = train_test_split(
        frame,
        test_size=params.get("test_size", 0.2),
        random_state=params.get("random_state", 42),
        stratify=frame[TARGET] if params.get("stratify", False) else None,
    )
    return train.reset_index(drop=True), test.reset_index(drop=True)


def split_xy(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """Features and label of a prepared frame."""
    return frame.drop(columns=[TARGET]), frame[TARGET]
