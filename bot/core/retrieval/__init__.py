"""Retrieval: finds the document that answers a question, with a calibrated score.

Two stages keep it fast at any size: an inverted index over stemmed terms and entity ids picks
candidates, then only those candidates are re-scored with rapidfuzz against their phrasings.
Each scope (the curated base, each server) has its own index, so a question costs what its own
server's entries cost, not what all servers' entries together cost.

Score = coverage_weight * coverage + (1 - coverage_weight) * fit, where
- coverage: the share of the question's information (IDF-weighted terms and entities) that the
  document contains; an unknown word counts against it, which is what makes "best pizza
  topping" score near zero instead of matching the nearest thing;
- fit: how close the question is to the document's best phrasing (rapidfuzz), blended with the
  share of that phrasing's terms the question contains.
Every weight and cut-off of the formula is a field of one frozen `Weights` object.

Both stages skip work that cannot change the result, and tests/core/retrieval/ checks each
shortcut against the plain computation it replaces (`RetrievalEngine.rank(exhaustive=True)`):
- the candidate stage sums postings per document, except a large index's common terms ("who",
  "meeting"): those are ranked with per-term bitsets, so thousands of postings cost a few
  big-int operations;
- rescoring takes the most promising documents first and skips documents, and phrasings, whose
  best possible score is already beaten;
- ties at the re-scoring cut-off are broken by how well a document could fit, then by age,
  not by hash order, so answers do not change from one process to the next.

Modules, each with one job, each importing only those above it:
- `weights`: the tunable numbers (`Weights`, `DEFAULT_WEIGHTS`);
- `terms`: how text becomes terms and similarity keys;
- `vocabulary`: an index's known words: prefix lookup, typo correction;
- `index`: the per-document record, the per-scope inverted index, IDF;
- `query`: a question as weighted terms (entities, typos, synonyms, speaker);
- `scoring`: the formula, its bounds, and re-scoring candidates with it;
- `search`: `RetrievalEngine`: building, candidates, ranking, autocomplete.
"""

from bot.core.retrieval.index import IdfTable, Indexed, ScopeIndex
from bot.core.retrieval.query import QueryAnalysis, asks_for_words
from bot.core.retrieval.scoring import Formula, Match, PhrasingFit
from bot.core.retrieval.search import Ranking, RetrievalEngine
from bot.core.retrieval.terms import similarity_key
from bot.core.retrieval.vocabulary import Vocabulary
from bot.core.retrieval.weights import DEFAULT_WEIGHTS, Weights

__all__ = [
    "DEFAULT_WEIGHTS",
    "Formula",
    "IdfTable",
    "Indexed",
    "Match",
    "PhrasingFit",
    "QueryAnalysis",
    "Ranking",
    "RetrievalEngine",
    "ScopeIndex",
    "Vocabulary",
    "Weights",
    "asks_for_words",
    "similarity_key",
]
