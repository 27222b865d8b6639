-- The ledger (what runs billed: the Prior of the next run) is one row per subscription
-- instead of one per billed period: a subscription kontor bills for the first time
-- carries its whole billing history (the opening state), which was 5 million rows for
-- 100,000 customers and is now 100,000. A run writes the row of every subscription whose
-- ledger it changed, and only if the row is still the version it read (run_id: the run
-- that wrote it), so that a run that read the ledger before another stored it fails.
create table ledger (
    subscription_id    text primary key,
    first_run          bigint not null references runs (id),
    run_id             bigint not null,
    -- advance charges billed: period start and quantity, aligned, in period order
    advance_starts     date[] not null,
    advance_quantities bigint[] not null,
    -- usage billed: usage type, period start and units, aligned, by type and period
    usage_types        text[] not null,
    usage_starts       date[] not null,
    usage_units        numeric[] not null
);
insert into ledger (subscription_id, first_run, run_id, advance_starts, advance_quantities, usage_types, usage_starts, usage_units)
    select s.subscription_id, s.first_run, s.first_run,
        coalesce(a.starts, '{}'), coalesce(a.quantities, '{}'),
        coalesce(u.types, '{}'), coalesce(u.starts, '{}'), coalesce(u.units, '{}')
    from ledger_subscriptions s
    left join (select subscription_id, array_agg(period_start order by period_start) as starts,
            array_agg(quantity order by period_start) as quantities
        from ledger_advance group by subscription_id) a using (subscription_id)
    left join (select subscription_id, array_agg(usage_type order by usage_type, period_start) as types,
            array_agg(period_start order by usage_type, period_start) as starts,
            array_agg(units order by usage_type, period_start) as units
        from ledger_usage group by subscription_id) u using (subscription_id);
drop table ledger_advance, ledger_usage, ledger_subscriptions;

---- create above / drop below ----

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
create table ledger_subscriptions (
    subscription_id text primary key,
    first_run       bigint not null references runs (id)
);
insert into ledger_subscriptions (subscription_id, first_run) select subscription_id, first_run from ledger;
insert into ledger_advance (subscription_id, period_start, quantity)
    select l.subscription_id, a.start, a.quantity from ledger l, unnest(l.advance_starts, l.advance_quantities) as a(start, quantity);
insert into ledger_usage (subscription_id, usage_type, period_start, units)
    select l.subscription_id, u.type, u.start, u.units from ledger l, unnest(l.usage_types, l.usage_starts, l.usage_units) as u(type, start, units);
drop table ledger;
