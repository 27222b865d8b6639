-- A run loads the dataset part by part: the license reports of a part's subscriptions
-- are found by this index rather than by reading every license report for each part.
create index dataset_license_reports on dataset_records ((doc->>'SubscriptionID'))
    where kind = 'license_report';

---- create above / drop below ----

drop index dataset_license_reports;
