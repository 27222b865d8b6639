-- kontor's system of record. Money is numeric, never floating point.

-- The imported dataset: each record as validated JSON, keyed by kind and ID. Usage is in
-- usage_events (high volume).
create table dataset_records (
    kind   text not null,   -- manifest, seller, catalog, customer, partner, subscription, license_report
    id     text not null,
    doc    jsonb not null,
    primary key (kind, id)
);

create table usage_events (
    event_id        text primary key,
    subscription_id text not null,
    usage_type      text not null,
    quantity        bigint not null check (quantity > 0),
    occurred_at     timestamptz not null,
    received_at     timestamptz not null,
    via_psp         boolean not null default false,
    -- set when a run settled the event (rated it, or found it outside the subscription)
    settled_run     bigint,
    fate            smallint
);
create index usage_events_unsettled on usage_events (subscription_id) where settled_run is null;

create table runs (
    id          bigserial primary key,
    as_of       date not null,
    status      text not null default 'running',  -- running, done
    started_at  timestamptz not null default now(),
    finished_at timestamptz,
    summary     jsonb
);

-- The ledger: what runs billed, the Prior of the next run.
create table ledger_advance (
    subscription_id text not null,
    period_start    date not null,
    quantity        bigint not null,
    primary key (subscription_id, period_start)
);
create table ledger_usage (
    subscription_id text not null,
    usage_type      text not null,
    period_start    date not null,
    units           numeric not null,
    primary key (subscription_id, usage_type, period_start)
);
-- Subscriptions whose ledger exists (billed by kontor), even when it holds no rows yet.
create table ledger_subscriptions (
    subscription_id text primary key,
    first_run       bigint not null references runs (id)
);

-- Gapless document numbers: one row per series, locked by the transaction that finalizes.
create table number_series (
    series      text primary key,
    last_number bigint not null default 0
);

create table invoices (
    id           bigserial primary key,
    run_id       bigint not null references runs (id),
    buyer_kind   text not null,
    buyer_id     text not null,
    currency     text not null,
    type_code    text not null,
    status       text not null default 'draft',  -- draft, finalized, rendered, archived
    number       text unique,
    series       text,
    seq          bigint,
    issue_date   date not null,
    model        jsonb not null,                  -- invoice.Invoice
    net          numeric not null,
    vat          numeric not null,
    gross        numeric not null,
    created_at   timestamptz not null default now(),
    finalized_at timestamptz,
    unique (run_id, buyer_kind, buyer_id, currency),
    unique (series, seq)
);
create index invoices_status on invoices (status, id);

-- One row per charge: a charge key is billed once, ever.
create table charges (
    key             text primary key,
    run_id          bigint not null references runs (id),
    invoice_id      bigint not null references invoices (id),
    subscription_id text not null,
    kind            text not null,
    net             numeric not null,
    doc             jsonb not null
);

-- The rendered bytes of finalized invoices, kept until (and after) they are archived.
create table documents (
    invoice_id  bigint not null references invoices (id),
    kind        text not null,   -- pdf, xml
    sha256      text not null,
    bytes       bytea not null,
    archive_key text,
    archived_at timestamptz,
    primary key (invoice_id, kind)
);

create table skipped (
    run_id  bigint not null references runs (id),
    buyer_kind text not null,
    buyer_id   text not null,
    reason     text not null
);

---- create above / drop below ----

drop table skipped, documents, charges, invoices, number_series, ledger_subscriptions,
    ledger_usage, ledger_advance, runs, usage_events, dataset_records;
