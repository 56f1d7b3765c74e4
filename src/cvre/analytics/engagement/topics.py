"""What customers write about: TF-IDF keywords over customer messages (scikit-learn)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

NOISE = re.compile(r"https?://\S+|@\w+|#|&amp;|\d+")


def _clean(text: str) -> str:
    return NOISE.sub(" ", text.lower())


def topic_keywords(texts: pd.Series, top: int = 15, min_messages: int = 3,
                   extra_stop_words: list[str] | None = None) -> pd.DataFrame:
    """The `top` keywords by mean TF-IDF weight, with how many messages (and what share) contain each."""
    texts = texts.dropna().astype(str)
    if texts.empty:
        return pd.DataFrame(columns=["keyword", "score", "messages", "share"])
    stop = sorted(ENGLISH_STOP_WORDS | set(extra_stop_words or ()))
    vectorizer = TfidfVectorizer(preprocessor=_clean, stop_words=stop, token_pattern=r"(?u)\b[a-z]{3,}\b",
                                 min_df=min(min_messages, len(texts)), sublinear_tf=True)
    matrix = vectorizer.fit_transform(texts)
    score = np.asarray(matrix.mean(axis=0)).ravel()
    present = np.asarray((matrix > 0).sum(axis=0)).ravel()
    order = np.argsort(-score)[:top]
    words = vectorizer.get_feature_names_out()
    return pd.DataFrame({"keyword": words[order], "score": score[order], "messages": present[order],
                         "share": present[order] / len(texts)})
