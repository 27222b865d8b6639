-- The dataset's records stored as JSON (customers, partners, subscriptions, license
-- reports) carry snake_case keys, the JSON tags of their Go types, instead of the Go field
-- names: SQL reads the stored names, which no longer change when a Go field is renamed.
-- Each stored document's keys are renamed (nested values are kept as they are), and the
-- index of the license reports by subscription is built on the new key.
create or replace function pg_temp.renamed(doc jsonb, names jsonb) returns jsonb language sql immutable as $$
    select coalesce(jsonb_object_agg(coalesce(names ->> key, key), value), '{}'::jsonb) from jsonb_each(doc)
$$;
update dataset_records set doc = pg_temp.renamed(doc, '{
    "ID": "id", "Name": "name", "VATID": "vat_id", "Email": "email",
    "Language": "language", "PaymentMethod": "payment_method", "MandateReference": "mandate_reference", "DebtorIBAN": "debtor_iban",
    "TenantID": "tenant_id", "TenantName": "tenant_name", "DNSName": "dns_name", "Line": "line",
    "MicrosoftPartnerID": "microsoft_partner_id", "CustomerID": "customer_id", "PlanID": "plan_id", "Channel": "channel",
    "PartnerID": "partner_id", "TrialStart": "trial_start", "TrialExtensions": "trial_extensions", "ActivatedOn": "activated_on",
    "CancelledOn": "cancelled_on", "BilledAsOf": "billed_as_of", "SpendingLimits": "spending_limits", "SubscriptionID": "subscription_id",
    "ReportedOn": "reported_on", "LicensedUsers": "licensed_users", "LicensableUsers": "licensable_users", "Companies": "companies",
    "EvaluationCompanies": "evaluation_companies"
}')
where kind in ('customer', 'partner', 'subscription', 'license_report');
drop function pg_temp.renamed(jsonb, jsonb);
drop index dataset_license_reports;
create index dataset_license_reports on dataset_records ((doc->>'subscription_id'))
    where kind = 'license_report';

---- create above / drop below ----

create or replace function pg_temp.renamed(doc jsonb, names jsonb) returns jsonb language sql immutable as $$
    select coalesce(jsonb_object_agg(coalesce(names ->> key, key), value), '{}'::jsonb) from jsonb_each(doc)
$$;
update dataset_records set doc = pg_temp.renamed(doc, '{
    "id": "ID", "name": "Name", "vat_id": "VATID", "email": "Email",
    "language": "Language", "payment_method": "PaymentMethod", "mandate_reference": "MandateReference", "debtor_iban": "DebtorIBAN",
    "tenant_id": "TenantID", "tenant_name": "TenantName", "dns_name": "DNSName", "line": "Line",
    "microsoft_partner_id": "MicrosoftPartnerID", "customer_id": "CustomerID", "plan_id": "PlanID", "channel": "Channel",
    "partner_id": "PartnerID", "trial_start": "TrialStart", "trial_extensions": "TrialExtensions", "activated_on": "ActivatedOn",
    "cancelled_on": "CancelledOn", "billed_as_of": "BilledAsOf", "spending_limits": "SpendingLimits", "subscription_id": "SubscriptionID",
    "reported_on": "ReportedOn", "licensed_users": "LicensedUsers", "licensable_users": "LicensableUsers", "companies": "Companies",
    "evaluation_companies": "EvaluationCompanies"
}')
where kind in ('customer', 'partner', 'subscription', 'license_report');
drop function pg_temp.renamed(jsonb, jsonb);
drop index dataset_license_reports;
create index dataset_license_reports on dataset_records ((doc->>'SubscriptionID'))
    where kind = 'license_report';
