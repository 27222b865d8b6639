-- The finance console: its users (passwords as argon2id hashes), their sessions (by the
-- SHA-256 of the session ID, so that the table does not hold what a cookie carries), an
-- audit log of who looked at, started and credited what, and who started each run.
create table users (
    name          text primary key check (name ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
    role          text not null check (role in ('viewer', 'finance', 'admin')),
    password_hash text not null,
    created_at    timestamptz not null default now()
);

create table sessions (
    id_hash    text primary key,
    user_name  text not null references users (name) on delete cascade,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null
);
create index sessions_by_user on sessions (user_name);

create table audit_log (
    id        bigserial primary key,
    at        timestamptz not null default now(),
    user_name text not null,
    action    text not null,
    object    text not null default ''
);

alter table runs add column started_by text;

---- create above / drop below ----

alter table runs drop column started_by;
drop table audit_log;
drop table sessions;
drop table users;
