-- +goose Up
-- After 00031's backfill has committed: rewrite forum_posts without the old row versions,
-- each thread's posts together in number order (a thread page then reads one or two heap
-- pages). Run apart from 00031 on purpose: in the same transaction CLUSTER must keep the
-- rows that transaction itself replaced, which doubled the table (524 → 1,242 MB at scale 1).
CLUSTER forum_posts USING forum_posts_thread_id_number_key;

-- +goose Down
ALTER TABLE forum_posts SET WITHOUT CLUSTER;
