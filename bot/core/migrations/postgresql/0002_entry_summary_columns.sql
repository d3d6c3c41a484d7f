-- 0002: an entry's phrasings and answer, extracted once when it is written rather than parsed
-- from its JSON on every autocomplete (500 large entries cost the server ~40 ms per read).

ALTER TABLE entries
    ADD COLUMN questions_json TEXT GENERATED ALWAYS AS ((data::jsonb -> 'questions')::text) STORED,
    ADD COLUMN answer_text    TEXT GENERATED ALWAYS AS (data::jsonb ->> 'answer') STORED;
