-- One row per scheduler tick: the replica that inserts it executes the tick.
create table schedule_ticks (
    tick       timestamptz primary key,
    replica    text not null,
    run_id     bigint references runs (id),
    claimed_at timestamptz not null default now()
);

---- create above / drop below ----

drop table schedule_ticks;
