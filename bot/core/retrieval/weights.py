"""Every quality knob of retrieval in one frozen object: the weights and cut-offs of the score.

An engine reads the `Weights` it is built with (`RetrievalEngine(..., weights=...)`), so a
fitting script can try other values without touching module state. Pure speed settings (how
many candidates are re-scored, when an index uses bitsets) are not here: they change how fast
an answer comes, never which answer; they stay beside the code that uses them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class Weights:
    """The tunable numbers of the scoring formula (see `bot.core.retrieval.scoring.Formula`).

    score = coverage_weight * coverage + (1 - coverage_weight) * fit of the best phrasing,
    then times each penalty factor that applies. Values and where they came from are in
    `DEFAULT_WEIGHTS`; `dataclasses.replace(DEFAULT_WEIGHTS, ..., provenance=...)` makes another
    set (say where its values came from: `replace` keeps the old provenance otherwise).
    """

    # ---- the score ------------------------------------------------------------------------
    #: Share of the score that is coverage: the IDF-weighted share of the question's terms
    #: found in the document. The rest is how well its best phrasing fits the question.
    coverage_weight: float
    #: Within a phrasing's fit: share of rapidfuzz similarity; the rest is term precision (the
    #: IDF-weighted share of the phrasing's terms that the question contains).
    phrase_sim_weight: float
    #: Within that similarity: share of token_set_ratio, which forgives extra words; the rest is
    #: plain ratio, which punishes them.
    set_ratio_share: float
    # ---- where a term stands in a document ------------------------------------------------
    #: Weight of a term (or entity) found in a phrasing of the document.
    phrasing_field: float
    #: Weight of a term found only in its answer or excerpts (or an entity named in passing).
    body_field: float
    # ---- how much each word of the question counts (times its IDF) -------------------------
    #: A person or thing the question names (entities carry more information than words).
    entity_boost: float
    #: A question word ("when", "who"): it steers which fact is wanted, but says less than topic words.
    question_word_scale: float
    #: A word read through the curated synonym list ("members" -> "ministers").
    synonym_scale: float
    # ---- penalties: the score is multiplied by these when they apply ------------------------
    #: The question names people or things and the document is about none of them.
    entity_miss_factor: float
    #: The question asks what someone said and the document quotes someone else.
    other_speaker_factor: float
    # ---- cut-offs ---------------------------------------------------------------------------
    #: A name the source does not mention makes the bot decline, so its fuzzy match (0..1) must
    #: be at least this close.
    unknown_entity_min_score: float
    #: An unknown word is read as its closest known word when their fuzz.ratio (0..100) is at
    #: least this.
    typo_cutoff: float
    #: An unknown non-word that no known word is that close to is read as an English word one
    #: edit away that the entries use (or a synonym gives) when their fuzz.ratio is at least
    #: this: a dictionary word is better evidence than closeness alone ("agensy" -> "agency").
    dictionary_typo_cutoff: float
    #: Words shorter than this are never typo-corrected.
    typo_min_chars: int
    #: A correction differs from the typed word's length by at most this many letters.
    typo_length_band: int
    # ---- autocomplete -----------------------------------------------------------------------
    #: A suggested phrasing ranks by this share of its document's score; the rest is how well
    #: it continues what was typed (fuzz.WRatio).
    autocomplete_score_share: float
    # ---- answering (read by the answer service, not by retrieval) ---------------------------
    #: A question is answered from an entry scoring at least this; below it the bot declines.
    answer_threshold: float
    #: ... and covering at least this share of the question's weighted terms.
    min_coverage: float
    #: An entry that does not state the kind of fact asked for ("where" against an entry on when)
    #: has its score multiplied by this before the threshold and the margin are applied.
    facet_miss_factor: float
    #: A declined question suggests entries scoring at least this.
    suggestion_threshold: float
    #: An entry ranked below the best may answer (when the best does not state the fact asked
    #: for) only within this score of the best.
    fallthrough_margin: float
    #: An article sentence answers a question no entry answers from this score ...
    fallback_threshold: float
    #: ... at this share of its score as the confidence.
    fallback_confidence: float
    #: Where these values came from (hand-set, or which fit on which data).
    provenance: str

    def __post_init__(self) -> None:
        # The engine's shortcuts (upper bounds of a score) are exact only inside these ranges.
        shares = {
            "phrase_sim_weight": self.phrase_sim_weight,
            "set_ratio_share": self.set_ratio_share,
            "entity_miss_factor": self.entity_miss_factor,
            "other_speaker_factor": self.other_speaker_factor,
            "unknown_entity_min_score": self.unknown_entity_min_score,
            "answer_threshold": self.answer_threshold,
            "min_coverage": self.min_coverage,
            "facet_miss_factor": self.facet_miss_factor,
            "suggestion_threshold": self.suggestion_threshold,
            "fallthrough_margin": self.fallthrough_margin,
            "fallback_confidence": self.fallback_confidence,
        }
        below_one = {
            "coverage_weight": self.coverage_weight,
            "autocomplete_score_share": self.autocomplete_score_share,
        }
        positive = {
            "phrasing_field": self.phrasing_field,
            "body_field": self.body_field,
            "entity_boost": self.entity_boost,
            "question_word_scale": self.question_word_scale,
            "synonym_scale": self.synonym_scale,
        }
        problems = [f"{name} must be in [0, 1], not {v}" for name, v in shares.items() if not 0.0 <= v <= 1.0]
        problems += [
            f"{name} must be in [0, 1), not {v}" for name, v in below_one.items() if not 0.0 <= v < 1.0
        ]
        problems += [f"{name} must be above 0, not {v}" for name, v in positive.items() if not v > 0.0]
        if not 0.0 <= self.typo_cutoff <= 100.0:
            problems.append(f"typo_cutoff must be in [0, 100], not {self.typo_cutoff}")
        if not 0.0 <= self.dictionary_typo_cutoff <= 100.0:
            problems.append(f"dictionary_typo_cutoff must be in [0, 100], not {self.dictionary_typo_cutoff}")
        if self.typo_min_chars < 1 or self.typo_length_band < 0:
            problems.append("typo_min_chars must be at least 1 and typo_length_band at least 0")
        if problems:
            raise ValueError("invalid retrieval weights: " + "; ".join(problems))

    # ---- derived values (the engine reads them once, when it is built) ----------------------
    @property
    def fit_weight(self) -> float:
        """Share of the score that is the best phrasing's fit."""
        return 1.0 - self.coverage_weight

    @property
    def precision_weight(self) -> float:
        """Share of a phrasing's fit that is term precision."""
        return 1.0 - self.phrase_sim_weight

    @property
    def ratio_share(self) -> float:
        """Share of plain ratio in a phrasing's similarity."""
        return 1.0 - self.set_ratio_share

    @property
    def max_field(self) -> float:
        """The most one term can add to a document's coverage per unit of query weight."""
        return max(self.phrasing_field, self.body_field)


#: The weights the bot answers with.
DEFAULT_WEIGHTS: Final = Weights(
    coverage_weight=0.55,  # fitted on tests/data/eval/train.jsonl (python -m bot.evaluation.fit)
    phrase_sim_weight=0.5,  # fitted on tests/data/eval/train.jsonl (python -m bot.evaluation.fit)
    set_ratio_share=0.35,  # fitted on tests/data/eval/train.jsonl (python -m bot.evaluation.fit)
    phrasing_field=1.0,  # hand-set in round 1
    body_field=0.55,  # fitted on tests/data/eval/train.jsonl (python -m bot.evaluation.fit)
    entity_boost=1.6,  # fitted on tests/data/eval/train.jsonl (python -m bot.evaluation.fit)
    question_word_scale=0.7,  # fitted on tests/data/eval/train.jsonl (python -m bot.evaluation.fit)
    synonym_scale=0.6,  # fitted on tests/data/eval/train.jsonl (python -m bot.evaluation.fit)
    entity_miss_factor=0.85,  # fitted on tests/data/eval/train.jsonl (python -m bot.evaluation.fit)
    other_speaker_factor=0.3,  # hand-set in round 1
    unknown_entity_min_score=0.9,  # hand-set in round 1
    typo_cutoff=85.0,  # hand-set in round 1
    dictionary_typo_cutoff=80.0,  # hand-set (round 3): one letter wrong in a six-letter word (83) passes
    typo_min_chars=4,  # hand-set in round 1
    typo_length_band=2,  # hand-set in round 1
    autocomplete_score_share=0.5,  # hand-set in round 1
    answer_threshold=0.36,  # fitted on tests/data/eval/train.jsonl (python -m bot.evaluation.fit)
    min_coverage=0.35,  # fitted on tests/data/eval/train.jsonl (python -m bot.evaluation.fit)
    facet_miss_factor=1.0,  # fitted on tests/data/eval/train.jsonl (python -m bot.evaluation.fit)
    suggestion_threshold=0.2,  # hand-set in round 1
    fallthrough_margin=0.05,  # fitted on tests/data/eval/train.jsonl (python -m bot.evaluation.fit)
    fallback_threshold=0.6,  # fitted on tests/data/eval/train.jsonl (python -m bot.evaluation.fit)
    fallback_confidence=0.8,  # hand-set (round 2): an article sentence is a weaker answer than an entry
    provenance=(
        "the fields marked 'fitted' by coordinate descent on tests/data/eval/train.jsonl "
        "(python -m bot.evaluation.fit, 2 rounds, objective: in-scope and decline rates, "
        "wrong facts count double); the others hand-set"
    ),
)
