from __future__ import annotations

import pytest

from tasks.domain.feed_spec import FeedSpec, load_feed_spec


@pytest.fixture(scope="session")
def lcl_spec() -> FeedSpec:
    return load_feed_spec("lcl_halfhourly")


@pytest.fixture(scope="session")
def wide_spec() -> FeedSpec:
    return load_feed_spec("gentrack_wide")
