-- +goose Up
-- A generation number for what visitors see in thread lists. Every committed change to
-- forum_threads or forum_categories moves it on, in the same transaction, so a rendered
-- list cached by any `hearth serve` instance is valid exactly while the number it was
-- rendered under is still the current one (forum/anon_cache.go checks it on every hit).
CREATE TABLE forum_list_version (
    id int PRIMARY KEY CHECK (id = 1),
    n  bigint NOT NULL
);
INSERT INTO forum_list_version (id, n) VALUES (1, 1);

-- The bump runs at commit (a deferred constraint trigger), once per transaction: the row
-- is locked only for the instant before commit, which is also the last lock a writing
-- transaction takes, so concurrent writers queue briefly but cannot deadlock on it.
-- +goose StatementBegin
CREATE FUNCTION forum_bump_list_version() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    tx text := txid_current()::text;
BEGIN
    IF current_setting('hearth.list_version_tx', true) IS DISTINCT FROM tx THEN
        UPDATE forum_list_version SET n = n + 1 WHERE id = 1;
        PERFORM set_config('hearth.list_version_tx', tx, true);
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE CONSTRAINT TRIGGER forum_threads_list_version AFTER INSERT OR UPDATE OR DELETE ON forum_threads
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION forum_bump_list_version();
CREATE CONSTRAINT TRIGGER forum_categories_list_version AFTER INSERT OR UPDATE OR DELETE ON forum_categories
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION forum_bump_list_version();

-- +goose Down
DROP TRIGGER forum_categories_list_version ON forum_categories;
DROP TRIGGER forum_threads_list_version ON forum_threads;
DROP FUNCTION forum_bump_list_version();
DROP TABLE forum_list_version;
