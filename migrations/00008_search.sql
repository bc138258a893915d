-- +goose Up
-- Search keeps a small read model of its own beside the tables it indexes.

-- Meilisearch tasks enqueued by the search outbox handlers. The tracker polls them; a
-- task that fails reopens its outbox row (so the outbox retries, backs off and parks it),
-- and forgets the fan-out state in lock_key so the retry rewrites every dependent document.
CREATE TABLE search_tasks (
    task_uid     bigint PRIMARY KEY,
    outbox_id    bigint NOT NULL,
    lock_key     text NOT NULL DEFAULT '',
    enqueued_at  timestamptz NOT NULL DEFAULT now()
);

-- What a thread's replies were last indexed with (category, visibility, title, tags,
-- status): the thread handler rewrites the replies only when this changes, so a reply to
-- a long thread does not re-index all its siblings.
CREATE TABLE search_fanout (
    lock_key     text PRIMARY KEY,
    fingerprint  text NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- Category read roles as search last indexed them; a change re-indexes the category.
CREATE TABLE search_categories (
    category_id  bigint PRIMARY KEY,
    read_roles   text[] NOT NULL
);

-- Synonym groups managed by staff: every term of a group finds the others.
CREATE TABLE search_synonyms (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    terms       text[] NOT NULL CHECK (cardinality(terms) BETWEEN 2 AND 20),
    updated_by  bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- The PostgreSQL full-text fallback (HEARTH_SEARCH=postgres): the same documents, kept
-- by the same outbox handlers. Its GIN index has fastupdate off: with the default
-- pending list, a flush stalls the writer for seconds. Only search workers write here,
-- never the forum's own write path.
CREATE TABLE search_documents (
    id           text PRIMARY KEY,
    kind         text NOT NULL,
    category_id  bigint NOT NULL DEFAULT 0,
    read_roles   text[] NOT NULL,
    tags         text[] NOT NULL DEFAULT '{}',
    status       text NOT NULL DEFAULT '',
    author       text NOT NULL DEFAULT '',
    thread_id    bigint NOT NULL DEFAULT 0,
    score        integer NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL,
    title        text NOT NULL DEFAULT '',
    doc          jsonb NOT NULL,
    tsv          tsvector NOT NULL,
    -- a rebuild deletes what it did not rewrite since it started
    indexed_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX search_documents_tsv ON search_documents USING gin (tsv) WITH (fastupdate = off);
CREATE INDEX search_documents_created ON search_documents (created_at DESC);
CREATE INDEX search_documents_thread ON search_documents (thread_id);

-- +goose Down
DROP TABLE search_documents;
DROP TABLE search_synonyms;
DROP TABLE search_categories;
DROP TABLE search_fanout;
DROP TABLE search_tasks;
