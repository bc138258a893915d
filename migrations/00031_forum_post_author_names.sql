-- +goose Up
-- A thread page read each post's author from users (one index probe per post, the larger
-- part of the page's PostgreSQL work). Keep the author's name and handle on the post, as
-- 00030 does on threads.
ALTER TABLE forum_posts ADD COLUMN author_name text NOT NULL DEFAULT '',
                        ADD COLUMN author_handle text NOT NULL DEFAULT '';
UPDATE forum_posts p SET author_name = u.display_name, author_handle = u.handle
  FROM users u WHERE u.id = p.author_id;
-- The update leaves every row's old version behind: 00033 rewrites the table once this
-- transaction has committed (a CLUSTER in the same transaction would copy both versions).

-- The copies follow users: filled in on insert (whatever inserts: service, seed, tests),
-- rewritten when a member's name or handle changes (erasure makes them "Former member"),
-- in the same transaction.
-- +goose StatementBegin
CREATE FUNCTION forum_author_names() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT u.display_name, u.handle INTO NEW.author_name, NEW.author_handle FROM users u WHERE u.id = NEW.author_id;
    RETURN NEW;
END $$;
-- +goose StatementEnd
CREATE TRIGGER forum_threads_author_names BEFORE INSERT OR UPDATE OF author_id ON forum_threads
    FOR EACH ROW EXECUTE FUNCTION forum_author_names();
CREATE TRIGGER forum_posts_author_names BEFORE INSERT OR UPDATE OF author_id ON forum_posts
    FOR EACH ROW EXECUTE FUNCTION forum_author_names();

-- +goose StatementBegin
CREATE FUNCTION forum_author_renamed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE forum_threads SET author_name = NEW.display_name, author_handle = NEW.handle WHERE author_id = NEW.id;
    UPDATE forum_posts SET author_name = NEW.display_name, author_handle = NEW.handle WHERE author_id = NEW.id;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER users_forum_author_renamed AFTER UPDATE OF display_name, handle ON users
    FOR EACH ROW WHEN (OLD.display_name IS DISTINCT FROM NEW.display_name OR OLD.handle IS DISTINCT FROM NEW.handle)
    EXECUTE FUNCTION forum_author_renamed();

-- +goose Down
DROP TRIGGER users_forum_author_renamed ON users;
DROP FUNCTION forum_author_renamed();
DROP TRIGGER forum_posts_author_names ON forum_posts;
DROP TRIGGER forum_threads_author_names ON forum_threads;
DROP FUNCTION forum_author_names();
ALTER TABLE forum_posts DROP COLUMN author_name, DROP COLUMN author_handle;
