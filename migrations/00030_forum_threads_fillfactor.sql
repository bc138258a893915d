-- +goose NO TRANSACTION
-- +goose Up
-- Thread lists and pages show the author's name and handle: keep them on the thread (as
-- 00031 does on posts) so a list is one index walk of forum_threads, not one users probe
-- per row. Triggers (00031) keep the copies equal to users at every insert and rename.
ALTER TABLE forum_threads ADD COLUMN author_name text NOT NULL DEFAULT '',
                          ADD COLUMN author_handle text NOT NULL DEFAULT '';
UPDATE forum_threads t SET author_name = u.display_name, author_handle = u.handle
  FROM users u WHERE u.id = t.author_id;
-- forum_threads' counters (views every second, replies, scores) change all day, and with
-- the table packed full a third of those updates found no room on their page: each such
-- update wrote a new entry into every one of the table's ten indexes instead of staying a
-- heap-only (HOT) update. Leave a quarter of each page free, and rewrite the table so the
-- rows already there get the room too (100,000 threads: a few seconds).
-- (Numbered 00030 so it cannot collide with the migrations other branches add meanwhile.)
ALTER TABLE forum_threads SET (fillfactor = 75);
VACUUM FULL forum_threads;

-- +goose Down
ALTER TABLE forum_threads RESET (fillfactor);
ALTER TABLE forum_threads DROP COLUMN author_name, DROP COLUMN author_handle;
VACUUM FULL forum_threads;
