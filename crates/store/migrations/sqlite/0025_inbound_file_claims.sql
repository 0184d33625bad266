-- Inbound files claimed across nodes (#19).
--
-- Several nodes may watch one shared inbound folder. Before a node ingests
-- a file it claims it here (one conditional upsert, so exactly one node
-- wins); the others skip the file. The claim names its holder and expires
-- (wall clock, milliseconds), so a claim left by a node that died lapses
-- and another node takes the file. A claim is deleted once its file has
-- been moved out of the folder (or left for a retry).
--
-- file_key: the file's name, size and modification time.
CREATE TABLE inbound_file_claims (
    file_key TEXT NOT NULL PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
