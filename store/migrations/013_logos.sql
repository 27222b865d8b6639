-- The sellers' logos, by the SHA-256 of their bytes (hex), as the invoices name them
-- (invoice.Letterhead.Logo). Kept when a new dataset brings another logo: an invoice
-- rendered again, after a run stopped, must show the logo it was issued with.
create table logos (
    id   text primary key check (id ~ '^[0-9a-f]{64}$'),
    data bytea not null
);

---- create above / drop below ----

drop table logos;
