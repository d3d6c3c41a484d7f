"""Article fallback: a sentence of the article itself, when no curated entry answers.

Curated entries cover what people usually ask; the article says more. When no entry states what
was asked but one sentence of the article clearly does (it matches well, and it states the kind
of fact asked for), that sentence is the answer, quoted verbatim, at a lower confidence. Such
answers have no entry id, so `/qa gaps` lists them for moderators to turn into entries.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.core.documents import Cited, Document
from bot.core.entities import EntityLexicon
from bot.core.models import Source
from bot.core.retrieval import DEFAULT_WEIGHTS, Match, RetrievalEngine, Weights
from bot.core.sources import SourceText
from bot.core.text import split_paragraphs
from bot.core.understanding.focus import stated_facets

#: Where a sentence ends inside a paragraph: after . ? ! (and a closing quote), before a capital
#: or an opening quote. Abbreviations ("U.S.", "D.C.", "J.") are followed by more of the name.
_SENTENCE_END = re.compile(r"(?<=[.?!])[\"'\u201d\u2019]?\s+(?=[\"\u201c\u2018]?[A-Z])")
_ABBREVIATION = re.compile(r"(?:\b[A-Z]\.|\b(?:Mr|Mrs|Ms|Dr|St|vs)\.)[\"'\u201d\u2019]?$")
#: The fallback's answer text; the passage itself is the citation.
ANSWER_TEXT = "No curated answer covers this, but the article says:"


def split_sentences(paragraph: str) -> list[str]:
    """The sentences of a paragraph, each a verbatim substring of it."""
    out: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(paragraph):
        head = paragraph[start : match.start()].rstrip()
        if _ABBREVIATION.search(head):
            continue
        end = match.start() + len(match.group(0).rstrip())
        out.append(paragraph[start:end].strip())
        start = match.end()
    tail = paragraph[start:].strip()
    if tail:
        out.append(tail)
    return [s for s in out if len(s.split()) >= 4]


def passages(source: Source, text: SourceText, lexicon: EntityLexicon) -> Iterable[Document]:
    """One document per sentence of the source's body (not its headline or dateline)."""
    # The source's own wording (typographic quotes kept), whitespace folded; labels as SourceText's.
    raw = [" ".join(p.split()) for p in split_paragraphs(source.text)]
    for at in range(source.header_paragraphs, len(raw)):
        label = text.labels[at]
        for n, sentence in enumerate(split_sentences(raw[at]), start=1):
            kinds = {
                e.kind for m in lexicon.recognize(sentence) if (e := lexicon.get(m.entity_id)) is not None
            }
            entities = frozenset(m.entity_id for m in lexicon.recognize(sentence))
            yield Document(
                key=f"passage:{source.id}:{label}:{n}",
                scope=None,
                kind="passage",
                questions=(sentence,),
                answer=ANSWER_TEXT,
                citations=(Cited(source.id, sentence, None, label),),
                body="",
                entities=entities,
                answers=stated_facets(
                    sentence, people="person" in kinds, places=bool(kinds & {"place", "country"})
                ),
            )


class ArticleFallback:
    """A search over the article's sentences, with its own index."""

    def __init__(
        self,
        sources: dict[str, Source],
        texts: dict[str, SourceText],
        lexicon: EntityLexicon,
        weights: Weights = DEFAULT_WEIGHTS,
    ) -> None:
        self.engine = RetrievalEngine(lexicon, weights=weights)
        for source_id, source in sources.items():
            for doc in passages(source, texts[source_id], lexicon):
                self.engine.index_document(doc)

    def search(self, question: str, limit: int = 3) -> list[Match]:
        return self.engine.search(question, None, limit=limit)[1]
