-- +goose Up
-- A category's pinned threads (first page of every category list): without this the
-- query scanned every thread of the category to find the few pinned ones.
CREATE INDEX forum_threads_pinned ON forum_threads (category_id, last_activity_at DESC, id DESC)
    WHERE pinned AND deleted_at IS NULL AND NOT hidden;
-- Accepted answers on member profiles.
CREATE INDEX forum_threads_accepted_post ON forum_threads (accepted_post_id) WHERE accepted_post_id IS NOT NULL;
-- The opening post's plain-text excerpt, kept at write time for meta descriptions and
-- list previews, so reading a thread never renders Markdown.
ALTER TABLE forum_threads ADD COLUMN excerpt text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE forum_threads DROP COLUMN excerpt;
DROP INDEX forum_threads_accepted_post;
DROP INDEX forum_threads_pinned;
