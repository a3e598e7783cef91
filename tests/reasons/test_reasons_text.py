"""Comment themes (TF-IDF + NMF) and keyword mapping on a small realistic fixture."""

from __future__ import annotations

import pandas as pd
import pytest

from churnlab.exceptions import ConfigError, DataValidationError
from churnlab.reasons import UNKNOWN_REASON, comment_themes, map_comments_to_categories

KEYWORDS = {
    "Price": ["price", "expensive", "afford"],
    "Network": ["network", "coverage", "dropped", "outage"],
    "Support": ["support", "rude", "on hold"],
    "Moved": ["moving", "relocat"],
}


def test_themes_recover_the_four_topics(comments):
    result = comment_themes(comments, n_themes=4, random_state=0)
    themes = result.themes
    assert len(themes) == 4
    assert themes["comments"].sum() == 29  # the empty comment is skipped
    assert themes["share"].sum() == pytest.approx(1.0)
    tops = {frozenset(t[:4]) for t in themes["top_terms"]}
    for word in ("price", "network", "support", "moving"):
        assert any(word in t for t in tops), word
    # every theme's examples are its own comments, most typical first
    for k, row in themes.iterrows():
        assert 1 <= len(row["examples"]) <= 3
        assigned = result.assignments[result.assignments == k].index
        assert set(row["examples"]) <= set(comments.loc[assigned])
    assert result.weights.shape == (29, 4)


def test_themes_are_reproducible(comments):
    a = comment_themes(comments, n_themes=3, random_state=1)
    b = comment_themes(comments, n_themes=3, random_state=1)
    pd.testing.assert_series_equal(a.assignments, b.assignments)


def test_themes_errors(comments):
    with pytest.raises(DataValidationError, match="needs at least n_themes=4 non-empty"):
        comment_themes(["too expensive", "", None], n_themes=4)
    with pytest.raises(ConfigError, match="n_themes must be at least 1"):
        comment_themes(comments, n_themes=0)
    with pytest.raises(DataValidationError, match="found no usable words"):
        comment_themes(["the a", "an the"], n_themes=1, min_df=1)


def test_keyword_mapping(comments):
    mapped = map_comments_to_categories(comments, KEYWORDS)
    assert (mapped.iloc[:8] == "Price").all()
    assert (mapped.iloc[8:15] == "Network").all()
    assert (mapped.iloc[15:22] == "Support").all()
    # "Moving house to an area without coverage" names both: a tie goes to the first listed
    assert mapped.iloc[24] == "Network"
    assert (mapped.iloc[22:29].drop(24) == "Moved").all()
    assert mapped.iloc[29] == UNKNOWN_REASON
    ties = map_comments_to_categories(["price and network"], KEYWORDS)
    assert ties.iloc[0] == "Price"  # tie -> first listed category


def test_keyword_mapping_needs_keywords():
    with pytest.raises(ConfigError, match="non-empty keyword list for every category"):
        map_comments_to_categories(["x"], {"Price": []})
