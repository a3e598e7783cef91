"""Free-text churn comments: themes (TF-IDF + NMF) and keyword mapping to categories."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd
from sklearn.decomposition import NMF
from sklearn.feature_extraction.text import TfidfVectorizer

from churnlab.exceptions import ConfigError, DataValidationError
from churnlab.reasons.records import UNKNOWN_REASON

__all__ = ["CommentThemes", "comment_themes", "map_comments_to_categories"]


class CommentThemes(NamedTuple):
    """What :func:`comment_themes` returns.

    Attributes
    ----------
    themes : pandas.DataFrame
        Index theme (0..k-1); columns label (top three terms), top_terms (list),
        comments, share and examples (list of the most typical comments).
    assignments : pandas.Series
        Theme of each non-empty comment (index as the input); -1 when the comment
        has no word in the vocabulary.
    weights : pandas.DataFrame
        Comment x theme weights from NMF.
    """

    themes: pd.DataFrame
    assignments: pd.Series
    weights: pd.DataFrame


def comment_themes(
    comments: pd.Series | Sequence[str],
    *,
    n_themes: int = 4,
    n_terms: int = 8,
    n_examples: int = 3,
    min_df: int | float = 2,
    max_features: int = 2000,
    stop_words: str | list[str] | None = "english",
    random_state: int | None = 0,
) -> CommentThemes:
    """Find themes in free-text churn comments with TF-IDF and NMF.

    Parameters
    ----------
    comments : Series or sequence of str
        One comment per churned customer; empty and missing comments are skipped.
    n_themes : int, default 4
        Number of themes (NMF components).
    n_terms : int, default 8
        Top terms listed per theme.
    n_examples : int, default 3
        Example comments per theme (the ones weighted highest on it).
    min_df : int or float, default 2
        Ignore terms in fewer comments than this (see ``TfidfVectorizer``).
    max_features : int, default 2000
        Vocabulary size limit.
    stop_words : str, list or None, default "english"
        Stop words passed to ``TfidfVectorizer``.
    random_state : int or None, default 0
        Seed of the NMF initialisation.

    Returns
    -------
    CommentThemes
        Themes table, per-comment assignment and weights.

    Raises
    ------
    DataValidationError
        When fewer non-empty comments than themes are given, or no term is left.
    """
    series = pd.Series(comments, dtype=object) if not isinstance(comments, pd.Series) else comments
    text = series.dropna().astype(str).str.strip()
    text = text[text != ""]
    if n_themes < 1:
        raise ConfigError(f"n_themes must be at least 1, got {n_themes!r}.")
    if len(text) < n_themes:
        raise DataValidationError(
            f"comment_themes needs at least n_themes={n_themes} non-empty comments, got "
            f"{len(text)}. Lower n_themes or collect more comments."
        )
    vectorizer = TfidfVectorizer(
        stop_words=stop_words,
        min_df=min_df,
        max_features=max_features,
        ngram_range=(1, 2),
        sublinear_tf=True,
    )
    try:
        matrix = vectorizer.fit_transform(text.to_list())
    except ValueError as err:
        raise DataValidationError(
            f"comment_themes found no usable words in {len(text)} comments ({err}). "
            "Lower min_df or pass stop_words=None."
        ) from err
    model = NMF(n_components=n_themes, init="nndsvda", random_state=random_state, max_iter=500)
    weights = model.fit_transform(matrix)
    terms = np.asarray(vectorizer.get_feature_names_out())
    has_words = np.asarray(matrix.sum(axis=1)).ravel() > 0
    assigned = np.where(has_words & (weights.max(axis=1) > 0), weights.argmax(axis=1), -1)
    rows = []
    for k, component in enumerate(model.components_):
        top = terms[np.argsort(component)[::-1][:n_terms]].tolist()
        members = np.flatnonzero(assigned == k)
        best = members[np.argsort(weights[members, k])[::-1][:n_examples]]
        rows.append(
            {
                "label": ", ".join(top[:3]),
                "top_terms": top,
                "comments": len(members),
                "share": len(members) / len(text),
                "examples": text.iloc[best].to_list(),
            }
        )
    themes = pd.DataFrame(rows).rename_axis("theme")
    assignments = pd.Series(assigned, index=text.index, name="theme")
    frame = pd.DataFrame(weights, index=text.index, columns=range(n_themes))
    return CommentThemes(themes, assignments, frame)


def map_comments_to_categories(
    comments: pd.Series | Sequence[str],
    keywords: Mapping[str, Sequence[str]],
    *,
    default: str = UNKNOWN_REASON,
) -> pd.Series:
    """Map each comment to the category whose keywords it mentions most.

    Parameters
    ----------
    comments : Series or sequence of str
        Free-text comments.
    keywords : mapping of str to sequence of str
        Category -> keywords or phrases (case-insensitive, matched at word
        starts, so "price" also matches "prices" and "pricey"), e.g.
        ``{"Price": ["price", "expensive"], "Competitor": ["competitor", "switched"]}``.
    default : str, default "Unknown reason"
        Category of comments that match no keyword (and of missing comments).

    Returns
    -------
    pandas.Series
        One category per comment; ties go to the category listed first.
    """
    if not keywords or any(not words for words in keywords.values()):
        raise ConfigError(
            "map_comments_to_categories needs a non-empty keyword list for every category, "
            "e.g. {'Price': ['price', 'expensive'], 'Competitor': ['competitor']}."
        )
    series = pd.Series(comments, dtype=object) if not isinstance(comments, pd.Series) else comments
    text = series.fillna("").astype(str).str.lower()
    hits = pd.DataFrame(
        {
            category: sum(text.str.count(r"\b" + re.escape(str(word).lower())) for word in words)
            for category, words in keywords.items()
        },
        index=series.index,
    )
    best = hits.idxmax(axis=1)
    return best.where(hits.max(axis=1) > 0, default).rename("category")
