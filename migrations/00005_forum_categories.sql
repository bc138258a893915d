-- +goose Up
-- Categories say who may read and who may start threads, by role. 'everyone' includes
-- visitors who are not logged in.
CREATE TABLE forum_categories (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug         text NOT NULL UNIQUE,
    name         text NOT NULL,
    name_zh      text NOT NULL DEFAULT '',
    description  text NOT NULL DEFAULT '',
    position     integer NOT NULL DEFAULT 0,
    read_roles   text[] NOT NULL DEFAULT '{everyone}',
    post_roles   text[] NOT NULL DEFAULT '{member,partner,moderator,marketer,admin}',
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE forum_categories;
