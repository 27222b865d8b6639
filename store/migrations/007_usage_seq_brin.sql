-- Events are numbered in import order and stored in that order, so a block range index
-- (BRIN: a few pages for millions of rows, nearly free to maintain) finds the events
-- above the usage cursor as well as a B-tree did, and an import no longer maintains a
-- B-tree entry per event. The highest number handed out is read from the identity
-- sequence: under the run lock, which imports hold while numbering, every number below
-- it is committed or never will be.
drop index usage_events_seq;
create index usage_events_seq on usage_events using brin (seq);

---- create above / drop below ----

drop index usage_events_seq;
create index usage_events_seq on usage_events (seq);
