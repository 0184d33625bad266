-- Refunds are resources (issue #15): each keeps the metadata it was asked
-- with (a JSON object, like a collection's).
ALTER TABLE card_refunds ADD COLUMN metadata TEXT NOT NULL DEFAULT '{}';
