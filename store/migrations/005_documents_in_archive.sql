-- The rendered bytes of documents live in the archive only: the database records each
-- file's SHA-256 and archive key. Rendering is deterministic, so an invoice rendered but
-- not archived yet is rendered again and checked against the recorded hash. Bytes stored
-- by earlier versions are kept.
alter table documents alter column bytes drop not null;

---- create above / drop below ----

-- The bytes of documents rendered since are in the archive only.
update documents set bytes = '' where bytes is null;
alter table documents alter column bytes set not null;
