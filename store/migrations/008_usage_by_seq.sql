-- Settled and held events are kept by their import number (usage_events.seq) instead of
-- their text event ID: a run no longer reads 10 million event IDs to write most of them
-- back. What a run settled is one row per subscription (the numbers of the events and
-- their fates, as arrays) instead of one row per event: 100,000 rows instead of 8.6
-- million for a month of 100,000 customers. An event is settled once because a run
-- settles only events it read (those numbered since the last run's cursor, and the held
-- ones, which leave usage_held when settled), and the run checks that. The events a run
-- holds back are kept whole in usage_held, so that the next run reads them without
-- looking them up in usage_events (which has no B-tree on seq: imports do not maintain
-- one).
create table usage_settled_by_seq (
    subscription_id text not null,
    run_id          bigint not null,
    seqs            bigint[] not null,   -- usage_events events, ascending; checked by the run
    fates           smallint[] not null, -- aligned with seqs
    primary key (subscription_id, run_id)
);
insert into usage_settled_by_seq (subscription_id, run_id, seqs, fates)
    select u.subscription_id, s.run_id, array_agg(u.seq order by u.seq), array_agg(s.fate order by u.seq)
    from usage_settled s join usage_events u using (event_id) group by u.subscription_id, s.run_id;
drop table usage_settled;
alter table usage_settled_by_seq rename to usage_settled;
alter index usage_settled_by_seq_pkey rename to usage_settled_pkey;

create table usage_held_whole (
    seq             bigint primary key,
    subscription_id text not null,
    usage_type      text not null,
    quantity        bigint not null,
    occurred_at     timestamptz not null,
    received_at     timestamptz not null,
    via_psp         boolean not null
);
insert into usage_held_whole (seq, subscription_id, usage_type, quantity, occurred_at, received_at, via_psp)
    select u.seq, u.subscription_id, u.usage_type, u.quantity, u.occurred_at, u.received_at, u.via_psp
    from usage_held h join usage_events u using (event_id);
drop table usage_held;
alter table usage_held_whole rename to usage_held;
alter index usage_held_whole_pkey rename to usage_held_pkey;

---- create above / drop below ----

create table usage_settled_by_id (
    event_id text primary key,
    run_id   bigint not null,
    fate     smallint not null
);
insert into usage_settled_by_id (event_id, run_id, fate)
    select u.event_id, s.run_id, s.fate
    from (select run_id, unnest(seqs) as seq, unnest(fates) as fate from usage_settled) s join usage_events u using (seq)
    order by u.event_id;
drop table usage_settled;
alter table usage_settled_by_id rename to usage_settled;
alter index usage_settled_by_id_pkey rename to usage_settled_pkey;

create table usage_held_by_id (event_id text primary key);
insert into usage_held_by_id (event_id) select u.event_id from usage_held h join usage_events u using (seq);
drop table usage_held;
alter table usage_held_by_id rename to usage_held;
alter index usage_held_by_id_pkey rename to usage_held_pkey;
