"""Evaluation: score the answer service on question sets (tests/data/eval) by the same rules as
the shared scorer, and fit the answering weights on the train split (`fit`).

Nothing here is imported by the bot at run time.
"""
