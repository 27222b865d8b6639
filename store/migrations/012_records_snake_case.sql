-- The dataset's records stored as JSON (customers, partners, subscriptions, license
-- reports) carry snake_case keys, the JSON tags of their Go types, instead of the Go field
-- names: SQL reads the stored names, which no longer change when a Go field is renamed.
-- Each stored document's top-level keys are renamed (values are kept as they are): a Go
-- name's words are joined by underscores and lower-cased (VATID: vat_id, DNSName:
-- dns_name, DebtorIBAN: debtor_iban); the address's keys were snake_case already. The
-- index of the license reports by subscription is built on the new key.
create or replace function pg_temp.snake(key text) returns text language sql immutable as $$
    select lower(regexp_replace(regexp_replace(regexp_replace(key,
        '([A-Z])ID$', '\1_ID'), '([A-Z]+)([A-Z][a-z])', '\1_\2', 'g'), '([a-z0-9])([A-Z])', '\1_\2', 'g'))
$$;
update dataset_records
set doc = (select jsonb_object_agg(pg_temp.snake(key), value) from jsonb_each(doc))
where kind in ('customer', 'partner', 'subscription', 'license_report');
drop function pg_temp.snake(text);
drop index dataset_license_reports;
create index dataset_license_reports on dataset_records ((doc->>'subscription_id'))
    where kind = 'license_report';

---- create above / drop below ----

-- Back to the Go field names: each word capitalized, the acronyms in capitals; the
-- address's keys stay as they are.
create or replace function pg_temp.go_name(key text) returns text language sql immutable as $$
    select case when key in ('street', 'street2', 'postcode', 'city', 'country') then key else
        (select string_agg(case w when 'id' then 'ID' when 'vat' then 'VAT' when 'iban' then 'IBAN'
            when 'dns' then 'DNS' else initcap(w) end, '' order by n)
         from unnest(string_to_array(key, '_')) with ordinality as t(w, n)) end
$$;
update dataset_records
set doc = (select jsonb_object_agg(pg_temp.go_name(key), value) from jsonb_each(doc))
where kind in ('customer', 'partner', 'subscription', 'license_report');
drop function pg_temp.go_name(text);
drop index dataset_license_reports;
create index dataset_license_reports on dataset_records ((doc->>'SubscriptionID'))
    where kind = 'license_report';
