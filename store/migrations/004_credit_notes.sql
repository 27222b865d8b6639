-- Credit notes are issued outside runs.
alter table invoices alter column run_id drop not null;

-- Which lines of an invoice a credit note credited: a line is credited at most once.
create table credited_lines (
    invoice_number text not null references invoices (number),
    line_id        text not null,
    credit_note_id bigint not null references invoices (id),
    primary key (invoice_number, line_id)
);

---- create above / drop below ----

drop table credited_lines;
alter table invoices alter column run_id set not null;
