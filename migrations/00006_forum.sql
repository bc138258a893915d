-- +goose Up
-- Member handles for @mentions and profile URLs: unique whatever the case.
ALTER TABLE users ADD COLUMN handle text;
UPDATE users SET handle = 'member' || id;
ALTER TABLE users ALTER COLUMN handle SET NOT NULL;
CREATE UNIQUE INDEX users_handle_key ON users (lower(handle));

-- Threads. "Visible" means deleted_at IS NULL AND NOT hidden; every member-facing list
-- filters on it, and the list indexes below are partial on it so they stay small.
CREATE TABLE forum_threads (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    category_id       bigint NOT NULL REFERENCES forum_categories (id),
    author_id         bigint NOT NULL REFERENCES users (id),
    kind              text NOT NULL CHECK (kind IN ('discussion', 'question', 'announcement')),
    title             text NOT NULL,
    slug              text NOT NULL,
    tags              text[] NOT NULL DEFAULT '{}',
    pinned            boolean NOT NULL DEFAULT false,
    locked            boolean NOT NULL DEFAULT false,
    hidden            boolean NOT NULL DEFAULT false,
    deleted_at        timestamptz,
    view_count        bigint NOT NULL DEFAULT 0,
    -- visible replies (posts after the first); kept by the service in the same transaction
    reply_count       integer NOT NULL DEFAULT 0,
    -- reactions on all visible posts + replies: the "top" ranking
    score             integer NOT NULL DEFAULT 0,
    accepted_post_id  bigint,
    last_post_number  integer NOT NULL DEFAULT 1,
    last_poster_id    bigint REFERENCES users (id),
    last_activity_at  timestamptz NOT NULL DEFAULT now(),
    created_at        timestamptz NOT NULL DEFAULT now(),
    edited_at         timestamptz,
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX forum_threads_latest ON forum_threads (last_activity_at DESC, id DESC)
    WHERE deleted_at IS NULL AND NOT hidden;
CREATE INDEX forum_threads_category ON forum_threads (category_id, last_activity_at DESC, id DESC)
    WHERE deleted_at IS NULL AND NOT hidden;
CREATE INDEX forum_threads_unanswered ON forum_threads (created_at DESC, id DESC)
    WHERE kind = 'question' AND reply_count = 0 AND deleted_at IS NULL AND NOT hidden;
CREATE INDEX forum_threads_top ON forum_threads (score DESC, id DESC)
    WHERE deleted_at IS NULL AND NOT hidden;
CREATE INDEX forum_threads_created ON forum_threads (created_at DESC, id DESC)
    WHERE deleted_at IS NULL AND NOT hidden;
CREATE INDEX forum_threads_author ON forum_threads (author_id, created_at DESC);
-- tag lists use tags @> ARRAY[…], which this index serves
CREATE INDEX forum_threads_tags ON forum_threads USING gin (tags);

-- Posts: number 1 is the thread's opening post, replies follow in order.
CREATE TABLE forum_posts (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    thread_id         bigint NOT NULL REFERENCES forum_threads (id),
    number            integer NOT NULL,
    author_id         bigint NOT NULL REFERENCES users (id),
    reply_to_post_id  bigint REFERENCES forum_posts (id),
    body              text NOT NULL,
    -- sanitized HTML rendered from body at write time, so reads never render Markdown
    body_html         text NOT NULL,
    reactions         jsonb NOT NULL DEFAULT '{}',
    hidden            boolean NOT NULL DEFAULT false,
    deleted_at        timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    edited_at         timestamptz,
    updated_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (thread_id, number)
);
CREATE INDEX forum_posts_author ON forum_posts (author_id, created_at DESC);
ALTER TABLE forum_threads ADD CONSTRAINT forum_threads_accepted
    FOREIGN KEY (accepted_post_id) REFERENCES forum_posts (id);

-- Every edit keeps the previous text.
CREATE TABLE forum_post_revisions (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    post_id     bigint NOT NULL REFERENCES forum_posts (id),
    revision    integer NOT NULL,
    editor_id   bigint NOT NULL REFERENCES users (id),
    title       text,
    body        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (post_id, revision)
);

-- One reaction of each kind per member per post.
CREATE TABLE forum_reactions (
    post_id     bigint NOT NULL REFERENCES forum_posts (id),
    member_id   bigint NOT NULL REFERENCES users (id),
    kind        text NOT NULL CHECK (kind IN ('like', 'heart', 'laugh', 'wow', 'thanks', 'celebrate')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (post_id, member_id, kind)
);

-- How far each member has read each thread.
CREATE TABLE forum_read_state (
    member_id    bigint NOT NULL REFERENCES users (id),
    thread_id    bigint NOT NULL REFERENCES forum_threads (id),
    last_read    integer NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (member_id, thread_id)
);

-- Reputation and activity counters per member.
CREATE TABLE forum_member_stats (
    member_id       bigint PRIMARY KEY REFERENCES users (id),
    reputation      integer NOT NULL DEFAULT 0,
    threads         integer NOT NULL DEFAULT 0,
    replies         integer NOT NULL DEFAULT 0,
    accepted        integer NOT NULL DEFAULT 0
);

-- Idempotency keys: a retried create with the same key returns the first result.
CREATE TABLE forum_idempotency (
    member_id    bigint NOT NULL REFERENCES users (id),
    key          text NOT NULL,
    result_kind  text NOT NULL,
    result_id    bigint NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (member_id, key)
);

-- +goose Down
DROP TABLE forum_idempotency;
DROP TABLE forum_member_stats;
DROP TABLE forum_read_state;
DROP TABLE forum_reactions;
DROP TABLE forum_post_revisions;
ALTER TABLE forum_threads DROP CONSTRAINT forum_threads_accepted;
DROP TABLE forum_posts;
DROP TABLE forum_threads;
DROP INDEX users_handle_key;
ALTER TABLE users DROP COLUMN handle;
