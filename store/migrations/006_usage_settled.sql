-- Settling usage no longer rewrites event rows (an UPDATE of millions of rows each run,
-- leaving as many dead ones behind). Events stay as imported, each numbered in import
-- order (seq). A run reads the events imported since the last run (seq above the
-- cursor) and those held back by earlier runs; it appends the events it settles to
-- usage_settled, holds back the rest it read, and moves the cursor, in one transaction.
-- Imports take the run lock while they add events, so the numbers a run reads below the
-- cursor are final.
alter table usage_events add column seq bigint generated always as identity;
create index usage_events_seq on usage_events (seq);

create table usage_settled (
    event_id text primary key,   -- a usage_events event; checked by the run, not per row
    run_id   bigint not null,
    fate     smallint not null
);
insert into usage_settled (event_id, run_id, fate)
    select event_id, settled_run, fate from usage_events where settled_run is not null order by event_id;

-- Events a run read and did not settle (a skipped buyer, not due yet): the next run reads them again.
create table usage_held (event_id text primary key);
insert into usage_held (event_id) select event_id from usage_events where settled_run is null;

-- The highest seq the last run read (one row).
create table usage_cursor (seq bigint not null);
insert into usage_cursor (seq) select coalesce(max(seq), 0) from usage_events;

drop index usage_events_unsettled;
alter table usage_events drop column settled_run, drop column fate;

---- create above / drop below ----

alter table usage_events add column settled_run bigint, add column fate smallint;
update usage_events u set settled_run = s.run_id, fate = s.fate from usage_settled s where s.event_id = u.event_id;
create index usage_events_unsettled on usage_events (subscription_id) where settled_run is null;
drop table usage_cursor, usage_held, usage_settled;
drop index usage_events_seq;
alter table usage_events drop column seq;
