-- Collecting the money (issue 23).

-- Every movement of money on an invoice, whatever its source: Stripe charges and refunds,
-- transfers and direct-debit returns from bank statements, card results imported from a
-- file. A failed charge is a row of amount 0: it starts the license grace. A row is
-- recorded once: (source, reference, outcome) names it.
create table payments (
    id             bigserial primary key,
    invoice_number text not null references invoices (number),
    source         text not null check (source in ('stripe', 'bank', 'import')),
    reference      text not null,
    outcome        text not null check (outcome in ('paid', 'failed', 'refunded', 'returned')),
    amount         numeric not null,  -- received; negative when refunded or returned
    at             timestamptz not null,
    detail         text not null default '',
    created_at     timestamptz not null default now(),
    unique (source, reference, outcome)
);
create index payments_by_invoice on payments (invoice_number);

insert into payments (invoice_number, source, reference, outcome, amount, at, detail)
select p.invoice_number, 'import', p.invoice_number || ' ' || to_char(p.attempted_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
       case when p.paid then 'paid' else 'failed' end, case when p.paid then i.gross else 0 end, p.attempted_at, p.reference
from payment_results p join invoices i on i.number = p.invoice_number;
drop table payment_results;

-- One Stripe PaymentIntent per invoice payable by a stored method, by one idempotency key.
-- A row is written (pending) before Stripe is called, so that a run killed in between
-- calls again with the same key and Stripe answers with the same PaymentIntent.
create table stripe_charges (
    invoice_number  text primary key references invoices (number),
    idempotency_key text not null unique,
    stripe_customer text not null,
    payment_method  text not null,
    amount_minor    bigint not null,
    currency        text not null,
    status          text not null check (status in ('pending', 'processing', 'succeeded', 'failed', 'before_charging')),
    intent_id       text,
    failure         text not null default '',
    created_at      timestamptz not null default now(),
    updated_at      timestamptz not null default now()
);
-- Invoices issued before kontor charged are not charged now: they were collected otherwise.
insert into stripe_charges (invoice_number, idempotency_key, stripe_customer, payment_method, amount_minor, currency, status, failure)
select number, 'kontor-charge-' || number, '', '', 0, currency, 'before_charging', 'issued before kontor charged through Stripe'
from invoices where number is not null and type_code = '380';

-- Stripe events applied, by event ID: each is applied once, however often it arrives.
create table stripe_events (
    id          text primary key,
    type        text not null,
    received_at timestamptz not null default now(),
    applied     text not null default ''
);

-- The outbox: notices and invoice emails, each sent once over SMTP. The notifications
-- recorded before it existed are kept as sent: nobody is told today what happened then.
alter table notifications rename to outbox;
alter table outbox add column recipient text not null default '',
    add column subject text not null default '',
    add column attachments jsonb not null default '[]',
    add column state text not null default 'pending' check (state in ('pending', 'sending', 'sent', 'failed', 'in_doubt')),
    add column attempts integer not null default 0,
    add column last_error text not null default '',
    add column claimed_at timestamptz,
    add column sent_at timestamptz;
update outbox set state = 'sent', sent_at = created_at;
create index outbox_pending on outbox (id) where state in ('pending', 'failed');

-- Bank statement entries imported, by the bank's entry reference: importing a statement
-- again adds nothing.
create table bank_entries (
    ref            text primary key,
    account        text not null,
    booked_on      date not null,
    amount         numeric not null,  -- credit positive, debit negative
    currency       text not null,
    counterparty   text not null default '',
    remittance     text not null default '',
    invoice_number text references invoices (number),
    result         text not null check (result in ('full', 'partial', 'over', 'returned', 'unmatched')),
    reason         text not null default '',
    statement      text not null,
    imported_at    timestamptz not null default now()
);

-- Direct debits written to a pain.008 file for the seller's bank: each invoice once.
create table direct_debits (
    invoice_number  text primary key references invoices (number),
    message_id      text not null,
    mandate         text not null,
    collection_date date not null,
    sequence        text not null check (sequence in ('FRST', 'RCUR')),
    amount          numeric not null,
    created_at      timestamptz not null default now()
);

-- A credit note may credit part of a line by amount: a line is credited until nothing is
-- left of it (amount null: the whole line).
alter table credited_lines add column amount numeric;
alter table credited_lines drop constraint credited_lines_pkey;
alter table credited_lines add primary key (invoice_number, line_id, credit_note_id);

-- What collecting the money reads of every invoice, kept beside the model (written with
-- it, never changed): reading them out of 100,000 models (TOASTed JSON) took seconds.
alter table invoices add column payment_method text, add column due_date date, add column preceding_invoice text;
update invoices set payment_method = model->'payment'->>'method', due_date = (model->>'due_date')::date,
    preceding_invoice = model->>'preceding_invoice';
create index invoices_preceding on invoices (preceding_invoice) where type_code = '381';

-- What is open of each invoice: its gross, less what was paid (net of refunds and
-- returns) and what credit notes corrected.
create view invoice_balances as
select i.number, i.buyer_kind, i.buyer_id, i.currency, i.issue_date, i.due_date, i.payment_method as method, i.gross,
       coalesce((select sum(p.amount) from payments p where p.invoice_number = i.number), 0) as paid,
       coalesce((select sum(c.gross) from invoices c where c.type_code = '381' and c.number is not null
                 and c.preceding_invoice = i.number), 0) as credited
from invoices i
where i.type_code = '380' and i.number is not null;

---- create above / drop below ----

delete from credited_lines where amount is not null;
alter table credited_lines drop constraint credited_lines_pkey;
alter table credited_lines add primary key (invoice_number, line_id);
alter table credited_lines drop column amount;
drop view invoice_balances;
drop index invoices_preceding;
alter table invoices drop column payment_method, drop column due_date, drop column preceding_invoice;
drop table direct_debits, bank_entries, stripe_events, stripe_charges;
drop index outbox_pending;
alter table outbox drop column recipient, drop column subject, drop column attachments, drop column state,
    drop column attempts, drop column last_error, drop column claimed_at, drop column sent_at;
alter table outbox rename to notifications;
create table payment_results (
    invoice_number text not null references invoices (number),
    attempted_at   timestamptz not null,
    paid           boolean not null,
    reference      text not null default '',
    primary key (invoice_number, attempted_at)
);
insert into payment_results (invoice_number, attempted_at, paid, reference)
select invoice_number, at, outcome = 'paid', detail from payments where source = 'import' on conflict do nothing;
drop table payments;
