"""Micro-batching: requests waiting on the event loop together share one model call."""

from __future__ import annotations

import asyncio

import pytest

from mlops_common.serving.batching import MicroBatcher


class Model:
    """Predicts ten times the first value of each row; refuses a row whose value is negative."""

    def __init__(self, wrong_length: bool = False) -> None:
        self.calls: list[int] = []
        self.wrong_length = wrong_length

    def __call__(self, rows):
        self.calls.append(len(rows))
        if any(row[0] < 0 for row in rows):
            raise ValueError("negative value")
        predictions = [row[0] * 10 for row in rows]
        return predictions[:-1] if self.wrong_length and len(rows) > 1 else predictions


def _requests(*sizes: int, start: int = 0) -> list[list[tuple[int]]]:
    requests, value = [], start
    for size in sizes:
        requests.append([(value + index,) for index in range(size)])
        value += size
    return requests


def _predict_together(batcher: MicroBatcher, requests: list) -> list:
    async def main():
        return await asyncio.gather(
            *(batcher.predict(rows) for rows in requests), return_exceptions=True
        )

    return asyncio.run(main())


def test_requests_waiting_together_share_one_call_and_each_gets_its_own_slice():
    model = Model()
    batcher = MicroBatcher(model)
    requests = _requests(1, 3, 2, 1)
    results = _predict_together(batcher, requests)
    assert model.calls == [7]
    assert results == [[row[0] * 10 for row in rows] for rows in requests]
    assert (batcher.calls, batcher.requests) == (1, 4)


def test_a_lone_request_is_predicted_alone_at_once():
    model = Model()
    batcher = MicroBatcher(model)

    async def one_after_another():
        return [await batcher.predict(rows) for rows in _requests(2, 2)]

    assert asyncio.run(one_after_another()) == [[0, 10], [20, 30]]
    assert model.calls == [2, 2]


def test_a_failing_shared_call_predicts_each_request_alone_so_only_the_bad_one_fails():
    model = Model()
    batcher = MicroBatcher(model)
    requests = _requests(2, 1, 2, start=1)
    requests[1] = [(-5,)]
    results = _predict_together(batcher, requests)
    assert model.calls == [5, 2, 1, 2]
    assert results[0] == [10, 20] and results[2] == [40, 50]
    assert isinstance(results[1], ValueError) and "negative" in str(results[1])


def test_a_shared_call_with_the_wrong_number_of_predictions_is_not_sliced():
    model = Model(wrong_length=True)
    results = _predict_together(MicroBatcher(model), _requests(1, 1, 1))
    assert model.calls == [3, 1, 1, 1]
    assert results == [[0], [10], [20]]


def test_max_records_bounds_each_shared_call():
    model = Model()
    requests = _requests(3, 3, 3, 5, 1)
    results = _predict_together(MicroBatcher(model, max_records=6), requests)
    assert model.calls == [6, 3, 6]  # 3+3, then 3 (3+5 > 6), then 5+1
    assert results == [[row[0] * 10 for row in rows] for rows in requests]


def test_a_cancelled_request_leaves_the_others_answered():
    model = Model()
    batcher = MicroBatcher(model)

    async def main():
        first = asyncio.ensure_future(batcher.predict([(1,)]))
        second = asyncio.ensure_future(batcher.predict([(2,)]))
        await asyncio.sleep(0)  # both queued their rows
        first.cancel()
        return await second

    assert asyncio.run(main()) == [20]


def test_max_records_below_one_is_refused():
    with pytest.raises(ValueError, match="at least 1"):
        MicroBatcher(Model(), max_records=0)
