-- Card payment results, imported from the payment service provider.
create table payment_results (
    invoice_number text not null references invoices (number),
    attempted_at   timestamptz not null,
    paid           boolean not null,
    reference      text not null default '',
    primary key (invoice_number, attempted_at)
);

-- What customers were told, recorded once.
create table notifications (
    id          bigserial primary key,
    customer_id text not null,
    invoice_number text,
    kind        text not null,   -- card_failed, license_deactivated, license_reactivated
    on_date     date not null,
    message     text not null,
    created_at  timestamptz not null default now(),
    unique (customer_id, invoice_number, kind, on_date)
);

-- The license state the license service reads.
create table licenses (
    customer_id    text primary key,
    state          text not null,  -- active, grace, deactivated
    invoice_number text,
    failed_on      date,
    deactivated_on date,
    updated_run    bigint references runs (id),
    updated_at     timestamptz not null default now()
);

-- The usage rating of each closed bucket, for reports (included, overage, blocked).
create table usage_rated (
    run_id          bigint not null references runs (id),
    subscription_id text not null,
    usage_type      text not null,
    period_start    date not null,
    period_end      date not null,
    events          integer not null,
    units           numeric not null,
    overage         numeric not null,
    blocked         numeric not null,
    late            boolean not null
);
create index usage_rated_subscription on usage_rated (subscription_id);

---- create above / drop below ----

drop table usage_rated, licenses, notifications, payment_results;
