"""The soak, small: 3 replicas deliver 300 posts, thread replies and edits while 10 % of posts end
ambiguously, lookups fail at random, one replica's clock runs 150 s ahead and one channel answers
an unknown error. Nothing lost, nothing doubled, the poisoned parked and the admins told once.
(`python -m bench.soak` is the full run, with its figures.)"""

from __future__ import annotations

from datetime import timedelta

from bench.soak import describe, soak


def test_three_replicas_deliver_through_faults_exactly_once(database_url: str) -> None:
    result = soak(database_url, messages=300, backoff=timedelta(seconds=1), spread=2.0, timeout=240)

    print("\n".join(describe(result)))
    assert result.finished
    assert (
        result.injected["ambiguous 5xx"]
        + result.injected["ambiguous timeout"]
        + result.injected["ambiguous drop"]
        > 10
    )
    assert result.lost == [] and result.doubled == [] and result.other_parked == []
    assert result.poisoned_parked == result.poisoned == 3
    (notice,) = result.notices
    assert "service_degraded" in notice
